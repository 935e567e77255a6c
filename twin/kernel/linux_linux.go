package kernel

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// NetnsDir is where `ip netns` keeps its named namespaces.
const NetnsDir = "/run/netns"

// Linux is the kernel of this machine, through the `ip`, `sysctl` and `nft` commands (as
// root). Each ruleset it loads is also written to RulesetDir, when set, for a user to read.
type Linux struct {
	RulesetDir string
}

// run runs a command, with stdin when given, and returns its error with its output.
func run(ctx context.Context, stdin string, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, strings.TrimSpace(out.String()))
	}
	return nil
}

func (Linux) Namespaces(prefix string) ([]string, error) {
	entries, err := os.ReadDir(NetnsDir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), prefix) {
			out = append(out, e.Name())
		}
	}
	return out, nil
}

// Kill kills again whatever it finds while it waits: a process killed in the same round as
// its parent may have started another (the standby's MariaDB, as it sees the primary go).
func (Linux) Kill(ctx context.Context, namespaces []string) {
	pids := func() []int {
		var list []int
		for _, ns := range namespaces {
			out, _ := exec.CommandContext(ctx, "ip", "netns", "pids", ns).Output()
			for _, f := range strings.Fields(string(out)) {
				if pid, err := strconv.Atoi(f); err == nil && pid != os.Getpid() {
					list = append(list, pid)
				}
			}
		}
		return list
	}
	for deadline, list := time.Now().Add(3*time.Second), pids(); len(list) > 0 && time.Now().Before(deadline); list = pids() {
		for _, pid := range list {
			syscall.Kill(pid, syscall.SIGKILL)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (Linux) AddNamespace(ctx context.Context, name string) error {
	return run(ctx, "", "ip", "netns", "add", name)
}

// DeleteNamespace succeeds on a namespace gone already (another `twin down`, at the same
// time), which is what its caller wants.
func (Linux) DeleteNamespace(ctx context.Context, name string) error {
	err := run(ctx, "", "ip", "netns", "del", name)
	if _, statErr := os.Stat(filepath.Join(NetnsDir, name)); err != nil && statErr != nil {
		return nil
	}
	return err
}

func (Linux) DeleteLink(ctx context.Context, ns, link string) error {
	return run(ctx, "", "ip", "-n", ns, "link", "del", link)
}

func (Linux) IP(ctx context.Context, ns string, lines []string, existing bool) error {
	if len(lines) == 0 {
		return nil
	}
	args := []string{"-n", ns, "-batch", "-"}
	if existing {
		args = append([]string{"-force"}, args...)
	}
	return run(ctx, strings.Join(lines, "\n")+"\n", "ip", args...)
}

func (Linux) Sysctl(ctx context.Context, ns string, settings []string) error {
	return run(ctx, "", "ip", append([]string{"netns", "exec", ns, "sysctl", "-q", "-e", "-w"}, settings...)...)
}

func (l Linux) LoadRuleset(ctx context.Context, ns, ruleset string) error {
	if l.RulesetDir == "" {
		return run(ctx, ruleset, "ip", "netns", "exec", ns, "nft", "-f", "-")
	}
	file := filepath.Join(l.RulesetDir, ns+".nft")
	if err := os.WriteFile(file, []byte(ruleset), 0o644); err != nil {
		return err
	}
	return run(ctx, "", "ip", "netns", "exec", ns, "nft", "-f", file)
}
