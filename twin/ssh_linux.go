package twin

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/webtier/webtier/twin/compiler"

	"github.com/webtier/webtier/twin/supervise"
)

// startSSH makes the twin's keys and starts sshd on every SSH host.
func startSSH(ctx context.Context, p *compiler.Plan) error {
	dir := compiler.SSHDir(p.Prefix)
	// Readable by ec2-user (for authorized_keys); the private keys are the owner's only.
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	// The server needs its privilege separation directory (an empty root-owned folder).
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
		return err
	}
	for _, key := range []string{"host_ed25519", "admin_ed25519"} {
		out, err := exec.CommandContext(ctx, "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "webtier twin "+key, "-f", filepath.Join(dir, key)).CombinedOutput()
		if err != nil {
			return fmt.Errorf("ssh-keygen %s: %v: %s", key, err, strings.TrimSpace(string(out)))
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
	passwd = fmt.Appendf(passwd, "%s:x:%d:%d:webtier twin:%s:/bin/sh\n", compiler.SSHUser, 64000, 64000, home)
	if err := os.WriteFile(filepath.Join(dir, "passwd"), passwd, 0o644); err != nil {
		return err
	}
	client := strings.Join([]string{
		"Host *",
		"  User " + compiler.SSHUser,
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
	for _, h := range p.SSHHosts() {
		if err := startSSHD(p, h); err != nil {
			return err
		}
	}
	return nil
}

// startSSHD starts sshd on one host with the twin's keys, as ec2-user's only door.
func startSSHD(p *compiler.Plan, h *compiler.Host) error {
	dir := compiler.SSHDir(p.Prefix)
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
		"AllowUsers " + compiler.SSHUser,
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
	state := compiler.StateDir(p.Prefix)
	if err := supervise.Start(cmd, filepath.Join(state, h.Name+".sshd.log"), filepath.Join(state, h.Name+".sshd.pid")); err != nil {
		return fmt.Errorf("%s: starting sshd: %w", h.Name, err)
	}
	return nil
}
