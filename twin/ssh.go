package twin

import (
	"context"
	"os"
	"os/exec"
)

// SSH on the twin: OpenSSH's sshd (Debian's openssh-server) on every bastion and web server,
// as ec2-user, with the hostname of the host; the admin host holds the only private key,
// made for each twin. ec2-user exists only inside sshd's own mount namespace (a copy of
// /etc/passwd with one more line is mounted over it there), and the hostname only inside
// its UTS namespace: nothing of this machine changes.

// sshd is where Debian installs the server.
const sshd = "/usr/sbin/sshd"

// HasSSH reports whether this machine has OpenSSH's server and client.
func HasSSH() bool {
	for _, tool := range []string{sshd, "ssh", "ssh-keygen", "unshare"} {
		if _, err := exec.LookPath(tool); err != nil {
			return false
		}
	}
	return true
}

// Attach runs argv with this process's standard streams (`twin ssh`, `twin exec`).
func Attach(ctx context.Context, argv []string) error {
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	return cmd.Run()
}
