package twin

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

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

// startSSH makes the twin's keys and starts sshd on every SSH host.
func startSSH(ctx context.Context, p *Plan) error {
	dir := sshDir(p.Prefix)
	// Readable by ec2-user (for authorized_keys); the private keys are the owner's only.
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	// The server needs its privilege separation directory (an empty root-owned folder).
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
		return err
	}
	for _, key := range []string{"host_ed25519", "admin_ed25519"} {
		if err := run(ctx, "", "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "webtier twin "+key, "-f", filepath.Join(dir, key)); err != nil {
			return err
		}
	}
	pub, err := os.ReadFile(filepath.Join(dir, "admin_ed25519.pub"))
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "authorized_keys"), pub, 0o644); err != nil {
		return err
	}
	passwd, err := os.ReadFile("/etc/passwd")
	if err != nil {
		return err
	}
	home := filepath.Join(dir, "home")
	os.MkdirAll(home, 0o755)
	passwd = fmt.Appendf(passwd, "%s:x:%d:%d:webtier twin:%s:/bin/sh\n", sshUser, 64000, 64000, home)
	if err := os.WriteFile(filepath.Join(dir, "passwd"), passwd, 0o644); err != nil {
		return err
	}
	client := strings.Join([]string{
		"Host *",
		"  User " + sshUser,
		"  IdentityFile " + filepath.Join(dir, "admin_ed25519"),
		"  IdentitiesOnly yes",
		"  UserKnownHostsFile " + filepath.Join(dir, "known_hosts"),
		"  StrictHostKeyChecking accept-new",
		"  ConnectTimeout 5",
		"  LogLevel ERROR",
	}, "\n") + "\n"
	if err := os.WriteFile(filepath.Join(dir, "config"), []byte(client), 0o644); err != nil {
		return err
	}
	for _, h := range p.sshHosts() {
		if err := startSSHD(p, h); err != nil {
			return err
		}
	}
	return nil
}

// startSSHD starts sshd on one host with the twin's keys, as ec2-user's only door.
func startSSHD(p *Plan, h *Host) error {
	dir := sshDir(p.Prefix)
	cfg := strings.Join([]string{
		"ListenAddress " + h.Private.String() + ":22",
		"HostKey " + filepath.Join(dir, "host_ed25519"),
		"PidFile none",
		"UsePAM no",
		"PasswordAuthentication no",
		"KbdInteractiveAuthentication no",
		"PubkeyAuthentication yes",
		"AuthorizedKeysFile " + filepath.Join(dir, "authorized_keys"),
		"StrictModes no",
		"AllowUsers " + sshUser,
		"AllowTcpForwarding yes",
		"PrintMotd no",
	}, "\n") + "\n"
	file := filepath.Join(dir, h.Name+".sshd_config")
	if err := os.WriteFile(file, []byte(cfg), 0o644); err != nil {
		return err
	}
	script := fmt.Sprintf("mount --bind %s /etc/passwd && hostname %s && exec %s -D -e -f %s",
		filepath.Join(dir, "passwd"), h.Name, sshd, file)
	cmd := exec.Command("ip", "netns", "exec", h.Namespace, "unshare", "--mount", "--uts", "sh", "-c", script)
	state := StateDir(p.Prefix)
	if err := startBackground(cmd, filepath.Join(state, h.Name+".sshd.log"), filepath.Join(state, h.Name+".sshd.pid")); err != nil {
		return fmt.Errorf("%s: starting sshd: %w", h.Name, err)
	}
	return nil
}

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
