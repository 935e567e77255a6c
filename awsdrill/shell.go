package awsdrill

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// CheckKey says whether the SSH key at path can be used: it exists and is readable. The
// error names the flag, so the user knows what to fix.
func CheckKey(path string) error {
	if path == "" {
		return fmt.Errorf("--ssh-key FILE is required for --target aws: the private key of the EC2 key pair (ssh_key_name) the instances were launched with")
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("--ssh-key %s: %w", path, err)
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.IsDir() {
		return fmt.Errorf("--ssh-key %s: a directory, not a private key file", path)
	}
	if _, err := f.Read(make([]byte, 1)); err != nil {
		return fmt.Errorf("--ssh-key %s: %w", path, err)
	}
	return nil
}

// SSH is the Shell of a real account: OpenSSH's client with the user's key, as ec2-user.
// Host keys are trusted on first use in a known_hosts file under dir that lives as long as
// the drill, not in the user's: Auto Scaling reuses private addresses for new instances, whose
// new host keys would otherwise be refused as a changed identity on the next drill. The jump
// is a ProxyCommand (what -J does) so the bastion leg uses the same key: ssh -J passes no -i
// to the jump connection.
func SSH(key, dir string) Shell {
	known := filepath.Join(dir, "known_hosts")
	opts := []string{"-i", key, "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes", "-o", "ConnectTimeout=10",
		"-o", "StrictHostKeyChecking=accept-new", "-o", "UserKnownHostsFile=" + known}
	return func(ctx context.Context, via, host, command string) (string, error) {
		args := append([]string(nil), opts...)
		if via != "" {
			jump := "ssh " + strings.Join(quoteAll(opts), " ") + " -W %h:%p ec2-user@" + via
			args = append(args, "-o", "ProxyCommand="+jump)
		}
		args = append(args, "ec2-user@"+host, command)
		ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		defer cancel()
		var out bytes.Buffer
		cmd := exec.CommandContext(ctx, "ssh", args...)
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		return out.String(), err
	}
}

// quoteAll quotes each argument for the shell that runs a ProxyCommand.
func quoteAll(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return out
}

// HTTPFetch is the Fetch of a real account: one GET, 10 seconds at most, a fresh connection
// each time (a kept-alive connection would stay on one ALB node and one target).
func HTTPFetch(ctx context.Context, url string) (int, string, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, "", err
	}
	req.Close = true
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, string(body), err
}
