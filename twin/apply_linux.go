package twin

import (
	"bytes"
	"context"
	"encoding/json"
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

// The imperative shell: Up applies a plan with `ip` and `nft -f`, Down removes every
// namespace (and so every link, address, route and ruleset) whose name carries the prefix,
// and every process in them. Down is also what Up runs first, so a twin left by a crash is
// removed by the same code path as a normal teardown.

// netnsDir is where `ip netns` keeps its named namespaces.
const netnsDir = "/run/netns"

// CanRun reports in one sentence why this machine cannot run a twin, or "".
func CanRun() string {
	if os.Geteuid() != 0 {
		return "the twin needs root (network namespaces and nftables); run it as root"
	}
	for _, tool := range []string{"ip", "nft", "sysctl"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Sprintf("the twin needs `%s` (Debian packages iproute2, nftables, procps); `make setup` installs nftables as root", tool)
		}
	}
	return ""
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

// Up builds the plan's namespaces, links, addresses, routes and rulesets, after removing
// any leftovers of a twin with the same prefix, and writes the plan and each ruleset to the
// state directory; with exe (this program's executable), it starts each host's stand-in
// listener. On failure it removes what it made.
func Up(ctx context.Context, p *Plan, exe string) (err error) {
	if _, err := Down(ctx, p.Prefix); err != nil {
		return err
	}
	defer func() {
		if err != nil {
			Down(context.Background(), p.Prefix)
		}
	}()
	dir := StateDir(p.Prefix)
	if err := os.MkdirAll(filepath.Join(dir, "nft"), 0o755); err != nil {
		return err
	}
	for _, ns := range p.Namespaces {
		if err := run(ctx, "", "ip", "netns", "add", ns.Name); err != nil {
			return err
		}
	}
	for _, ns := range p.Namespaces {
		if len(ns.Links) > 0 {
			if err := run(ctx, strings.Join(ns.Links, "\n")+"\n", "ip", "-n", ns.Name, "-batch", "-"); err != nil {
				return err
			}
		}
	}
	for _, ns := range p.Namespaces {
		if err := run(ctx, strings.Join(ns.IP, "\n")+"\n", "ip", "-n", ns.Name, "-batch", "-"); err != nil {
			return err
		}
		args := append([]string{"netns", "exec", ns.Name, "sysctl", "-q", "-e", "-w"}, ns.Sysctl...)
		if err := run(ctx, "", "ip", args...); err != nil {
			return err
		}
		if ns.NFT == "" {
			continue
		}
		file := filepath.Join(dir, "nft", ns.Name+".nft")
		if err := os.WriteFile(file, []byte(ns.NFT), 0o644); err != nil {
			return err
		}
		if err := run(ctx, "", "ip", "netns", "exec", ns.Name, "nft", "-f", file); err != nil {
			return err
		}
	}
	if exe != "" {
		if err := startListeners(ctx, p, exe); err != nil {
			return err
		}
	}
	return savePlan(p)
}

// savePlan writes the plan of a twin to its state directory.
func savePlan(p *Plan) error { return writeJSON(filepath.Join(StateDir(p.Prefix), "plan.json"), p) }

// Namespaces lists the namespaces whose names start with prefix.
func Namespaces(prefix string) ([]string, error) {
	entries, err := os.ReadDir(netnsDir)
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

// Down stops every process in the twin's namespaces and removes the namespaces and the
// state directory. It succeeds on a twin that is half made or not there at all, and returns
// what it removed.
func Down(ctx context.Context, prefix string) ([]string, error) {
	if prefix == "" {
		return nil, errors.New("twin: an empty prefix would name every namespace")
	}
	// The controller first: it makes and removes namespaces.
	stopScaler(prefix)
	stopForward(prefix)
	names, err := Namespaces(prefix)
	if err != nil {
		return nil, err
	}
	var errs []error
	killAll(ctx, names)
	for _, name := range names {
		if err := run(ctx, "", "ip", "netns", "del", name); err != nil {
			// Gone already (another down, at the same time) is what down wants.
			if _, statErr := os.Stat(filepath.Join(netnsDir, name)); statErr == nil {
				errs = append(errs, err)
			}
		}
	}
	if err := os.RemoveAll(StateDir(prefix)); err != nil {
		errs = append(errs, err)
	}
	return names, errors.Join(errs...)
}

// killAll stops the processes inside the namespaces and waits (a bounded time) for them to
// go. It kills again whatever it finds while it waits: a process killed in the same round as
// its parent may have started another (the standby's MariaDB, as it sees the primary go).
func killAll(ctx context.Context, namespaces []string) {
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

// LoadPlan reads the plan of a running twin from its state directory.
func LoadPlan(prefix string) (*Plan, error) {
	data, err := os.ReadFile(filepath.Join(StateDir(prefix), "plan.json"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("no twin is up (no %s); run `webtier twin up` first", filepath.Join(StateDir(prefix), "plan.json"))
	}
	if err != nil {
		return nil, err
	}
	var p Plan
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, fmt.Errorf("%s: %v", filepath.Join(StateDir(prefix), "plan.json"), err)
	}
	return &p, nil
}

// Exec runs a command inside a host's namespace, with this process's standard streams.
func Exec(ctx context.Context, h *Host, argv []string) error {
	return Run(ctx, append([]string{"ip", "netns", "exec", h.Namespace}, argv...))
}
