package twin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/webtier/webtier/twin/autoscale"
	"github.com/webtier/webtier/twin/compiler"
	"github.com/webtier/webtier/twin/kernel"
	"github.com/webtier/webtier/twin/standin"
)

// The imperative shell: Up applies a plan (the change from an empty plan) on the kernel, and
// Down removes every namespace (and so every link, address, route and ruleset) whose name
// carries the prefix, and every process in them. Down is also what Up runs first, so a twin
// left by a crash is removed by the same code path as a normal teardown.

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

// theKernel is this machine's kernel, writing each ruleset it loads to the twin's state
// directory.
func theKernel(prefix string) kernel.Linux {
	return kernel.Linux{RulesetDir: filepath.Join(compiler.StateDir(prefix), "nft")}
}

// Up builds the plan's namespaces, links, addresses, routes and rulesets, after removing
// any leftovers of a twin with the same prefix, and writes the plan and each ruleset to the
// state directory; with exe (this program's executable), it starts each host's stand-in
// listener. On failure it removes what it made.
func Up(ctx context.Context, p *compiler.Plan, exe string) (err error) {
	if _, err := Down(ctx, p.Prefix); err != nil {
		return err
	}
	defer func() {
		if err != nil {
			Down(context.Background(), p.Prefix)
		}
	}()
	if err := os.MkdirAll(filepath.Join(compiler.StateDir(p.Prefix), "nft"), 0o755); err != nil {
		return err
	}
	c, err := compiler.Diff(&compiler.Plan{Prefix: p.Prefix}, p)
	if err != nil {
		return err
	}
	if err := kernel.Apply(ctx, theKernel(p.Prefix), c.Ops); err != nil {
		return err
	}
	if exe != "" {
		if err := startListeners(ctx, p, exe); err != nil {
			return err
		}
	}
	return savePlan(p)
}

// savePlan writes the plan of a twin to its state directory.
func savePlan(p *compiler.Plan) error {
	return standin.WriteJSON(filepath.Join(compiler.StateDir(p.Prefix), "plan.json"), p)
}

// Namespaces lists the namespaces whose names start with prefix.
func Namespaces(prefix string) ([]string, error) { return kernel.Linux{}.Namespaces(prefix) }

// Down stops every process in the twin's namespaces and removes the namespaces and the
// state directory. It succeeds on a twin that is half made or not there at all, and returns
// what it removed.
func Down(ctx context.Context, prefix string) ([]string, error) {
	if prefix == "" {
		return nil, errors.New("twin: an empty prefix would name every namespace")
	}
	// The controller first: it makes and removes namespaces.
	autoscale.Stop(prefix)
	stopForward(prefix)
	k := theKernel(prefix)
	names, err := k.Namespaces(prefix)
	if err != nil {
		return nil, err
	}
	var errs []error
	k.Kill(ctx, names)
	for _, name := range names {
		if err := k.DeleteNamespace(ctx, name); err != nil {
			errs = append(errs, err)
		}
	}
	if err := os.RemoveAll(compiler.StateDir(prefix)); err != nil {
		errs = append(errs, err)
	}
	return names, errors.Join(errs...)
}

// SavedPlan is the plan a running twin saved in its state directory (as applied, without
// compiling it again: see Running).
func SavedPlan(prefix string) (*compiler.Plan, error) {
	data, err := os.ReadFile(filepath.Join(compiler.StateDir(prefix), "plan.json"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("no twin is up (no %s); run `webtier twin up` first", filepath.Join(compiler.StateDir(prefix), "plan.json"))
	}
	if err != nil {
		return nil, err
	}
	var p compiler.Plan
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, fmt.Errorf("%s: %v", filepath.Join(compiler.StateDir(prefix), "plan.json"), err)
	}
	return &p, nil
}

// Exec runs a command inside a host's namespace, with this process's standard streams.
func Exec(ctx context.Context, h *compiler.Host, argv []string) error {
	return Attach(ctx, append([]string{"ip", "netns", "exec", h.Namespace}, argv...))
}
