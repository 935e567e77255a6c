package twin

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/webtier/webtier/verify"
)

// SSH on the twin: OpenSSH's sshd (Debian's openssh-server) on every bastion and web server,
// as ec2-user, with the hostname of the host; the admin host holds the only private key,
// made for each twin. ec2-user exists only inside sshd's own mount namespace (a copy of
// /etc/passwd with one more line is mounted over it there), and the hostname only inside
// its UTS namespace: nothing of this machine changes.

// sshUser is the login user, as on Amazon Linux.
const sshUser = "ec2-user"

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

// sshHosts are the hosts that run sshd: the EC2 instances.
func (p *Plan) sshHosts() []*Host {
	var out []*Host
	for _, h := range p.Hosts {
		if h.Inside() && (h.ep.Kind == verify.Instance || h.ep.Kind == verify.ASGInstance) && containsInt(h.Listen, 22) {
			out = append(out, h)
		}
	}
	return out
}

func containsInt(list []int, x int) bool {
	for _, v := range list {
		if v == x {
			return true
		}
	}
	return false
}

// sshDir is where a twin keeps its keys and sshd configs.
func sshDir(prefix string) string { return filepath.Join(StateDir(prefix), "ssh") }

// SSHArgs is the command that logs in to h from the admin host, as the seed did: a bastion
// at its public address, a web server through the bastion of its AZ (`ssh -J`), then runs
// cmd (an interactive shell when empty).
func (p *Plan) SSHArgs(h *Host, cmd []string) ([]string, error) {
	admin, bastion := p.firstOf("admin"), (*Host)(nil)
	for _, b := range p.sshHosts() {
		if b.Role == "bastion" && b.Public.IsValid() && (bastion == nil || b.AZ == h.AZ && bastion.AZ != h.AZ) {
			bastion = b
		}
	}
	if !containsInt(h.Listen, 22) || !h.Inside() {
		return nil, fmt.Errorf("%s runs no sshd: the flows let SSH into bastions and web servers only", h.Name)
	}
	if admin == nil || bastion == nil {
		return nil, fmt.Errorf("the twin has no admin host or no bastion with a public address")
	}
	args := []string{"ip", "netns", "exec", admin.Namespace, "ssh", "-F", filepath.Join(sshDir(p.Prefix), "config")}
	target := sshUser + "@" + h.Private.String()
	switch {
	case h.Role == "bastion" && h.Public.IsValid():
		target = sshUser + "@" + h.Public.String()
	default:
		args = append(args, "-J", sshUser+"@"+bastion.Public.String())
	}
	return append(append(args, target), cmd...), nil
}

// Run runs argv with this process's standard streams.
func Run(ctx context.Context, argv []string) error {
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	return cmd.Run()
}

// sshVia is the command that logs in to h through the bastion via.
func (p *Plan) sshVia(h, via *Host, cmd []string) ([]string, error) {
	admin := p.firstOf("admin")
	if admin == nil || !via.Public.IsValid() {
		return nil, fmt.Errorf("the twin has no admin host, or %s no public address", via.Name)
	}
	return append([]string{"ip", "netns", "exec", admin.Namespace, "ssh", "-F", filepath.Join(sshDir(p.Prefix), "config"),
		"-J", sshUser + "@" + via.Public.String(), sshUser + "@" + h.Private.String()}, cmd...), nil
}

// firstOf is the first host of a role, or nil.
func (p *Plan) firstOf(role string) *Host {
	for _, h := range p.Hosts {
		if string(h.Role) == role {
			return h
		}
	}
	return nil
}
