package twin

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/webtier/webtier/twin/autoscale"
	"github.com/webtier/webtier/twin/compiler"
	"github.com/webtier/webtier/twin/kernel"

	"github.com/webtier/webtier/twin/standin"
	"github.com/webtier/webtier/twin/supervise"

	"github.com/webtier/webtier/verify"
)

// Auto Scaling in the twin is package autoscale's: its controller decides, and resizes the
// running twin with Resize; an instance refresh applies its steps with an Applier. What
// changes the running twin is here: the group compiled again at a new size, and the
// difference of two plans applied (the kernel's ops, the stand-ins started, the ALB nodes'
// targets reloaded and drained).

// Resize sets the size of the Auto Scaling group res of a running twin and applies the
// difference; it returns the new plan and the hosts it launched and ended.
func Resize(ctx context.Context, cur *compiler.Plan, n *verify.Network, in verify.Intent, res string, size int, exe string) (next *compiler.Plan, launched, ended []string, err error) {
	groups := cur.Kept.Clone()
	groups.Desired[res] = size
	next, err = compiler.CompileDesired(n, in, cur.Prefix, groups)
	if err != nil {
		return nil, nil, nil, err
	}
	next.Live = cur.Live
	launched, ended, err = applyDifference(ctx, cur, next, exe)
	if err != nil {
		return nil, nil, nil, err
	}
	return next, launched, ended, savePlan(next)
}

// applyDifference takes a running twin from plan cur to plan next: the hosts only next has
// (their namespaces, links, addresses, sysctls, rulesets and services), the changed `ip` lines
// and rulesets of the others (each ruleset in one transaction), the ALB nodes' targets, and
// the hosts only cur has removed (deregistered first). It returns the hosts it launched and
// ended.
func applyDifference(ctx context.Context, cur, next *compiler.Plan, exe string) (launched, ended []string, err error) {
	dir := compiler.StateDir(cur.Prefix)
	d, err := compiler.Diff(cur, next)
	if err != nil {
		return nil, nil, err
	}
	with := compiler.StandIns{SSH: HasSSH(), DB: standin.HasMariaDB()}
	specs := next.Specs(with)
	// Deregister the ended servers first and let them drain, so that no request goes to a
	// server being ended and none in flight is cut.
	if len(d.Ended) > 0 {
		if err := reloadALBs(dir, specs); err != nil {
			return nil, nil, err
		}
		if err := waitDrained(ctx, dir, specs, d.Ended); err != nil {
			return nil, nil, err
		}
	}
	if err := kernel.Apply(ctx, theKernel(cur.Prefix), d.Ops); err != nil {
		return nil, nil, err
	}
	for _, name := range d.Gone {
		for _, suffix := range []string{".pid", ".sshd.pid", ".spec.json"} {
			os.Remove(filepath.Join(dir, strings.TrimPrefix(name, cur.Prefix)+suffix))
		}
	}
	launched, ended = d.Launched, d.Ended
	if len(launched) > 0 {
		var started []*standin.Spec
		for _, s := range specs {
			if slices.Contains(launched, s.Host) {
				if err := startSpec(dir, s, exe); err != nil {
					return nil, nil, err
				}
				started = append(started, s)
			}
		}
		if with.SSH {
			for _, h := range next.SSHHosts() {
				if slices.Contains(launched, h.Name) {
					if err := startSSHD(next, h); err != nil {
						return nil, nil, err
					}
				}
			}
		}
		if err := waitListening(ctx, next, started); err != nil {
			return nil, nil, err
		}
	}
	// Registered once they listen; each node's health checks take them in. A node whose
	// targets did not change keeps their state.
	if err := reloadALBs(dir, specs); err != nil {
		return nil, nil, err
	}
	return launched, ended, nil
}

// waitDrained waits until no ALB node of specs has any of hosts registered or draining: each
// node has read its new spec and deregistered them, and their requests in flight have
// answered or the deregistration delay has passed (with a second's room for the node).
func waitDrained(ctx context.Context, dir string, specs []*standin.Spec, hosts []string) error {
	limit := time.Second
	for _, s := range specs {
		if s.ALB != nil {
			for _, l := range s.ALB.Listeners {
				limit = max(limit, standin.Scaled(l.Deregistration, s.ALB.Scale)+time.Second)
			}
		}
	}
	var left []string
	for end := time.Now().Add(limit); ; sleep(ctx, 20) {
		left = nil
		for _, s := range specs {
			if s.ALB == nil {
				continue
			}
			var c standin.TargetCounts
			data, err := os.ReadFile(standin.CountsFile(dir, s.Host))
			if err == nil {
				err = json.Unmarshal(data, &c)
			}
			if err != nil {
				left = append(left, s.Host+": "+err.Error())
				continue
			}
			for _, h := range hosts {
				if slices.Contains(c.Registered, h) || slices.Contains(c.Draining, h) {
					left = append(left, s.Host+" still has "+h)
				}
			}
		}
		if len(left) == 0 || ctx.Err() != nil {
			return ctx.Err()
		}
		if time.Now().After(end) {
			return fmt.Errorf("deregistering %s: %s after %s", strings.Join(hosts, ", "), strings.Join(left, "; "), limit)
		}
	}
}

// reloadALBs writes the ALB nodes' specs and has each node read its own again (SIGHUP).
func reloadALBs(dir string, specs []*standin.Spec) error {
	for _, s := range specs {
		if s.ALB == nil {
			continue
		}
		if _, err := standin.WriteSpec(dir, s); err != nil {
			return err
		}
		if err := supervise.Signal(filepath.Join(dir, s.Host+".pid"), syscall.SIGHUP); err != nil {
			return fmt.Errorf("%s: %w", s.Host, err)
		}
	}
	return nil
}

// StartScaler starts the Auto Scaling controller of a running twin (SaveSource first):
// exe (this program) with `--scale PREFIX` in the twin's serve mode (ServeMain), and waits for
// its first status (autoscale.Start). A twin without an Auto Scaling group gets none.
func StartScaler(ctx context.Context, p *compiler.Plan, exe string) error {
	cmd := exec.Command(exe, "--scale", p.Prefix)
	cmd.Env = append(os.Environ(), ServeEnv+"=1")
	return autoscale.Start(ctx, p, cmd)
}

// runScaler is the controller of the twin with prefix (`--scale PREFIX`): the twin read back
// from its state directory, resized with Resize (exe starts the new servers' services).
func runScaler(ctx context.Context, prefix, exe string, log io.Writer) error {
	p, n, in, err := Running(prefix)
	if err != nil {
		return err
	}
	resize := func(ctx context.Context, cur *compiler.Plan, res string, size int) (*compiler.Plan, []string, []string, error) {
		return Resize(ctx, cur, n, in, res, size, exe)
	}
	return autoscale.Run(ctx, p, resize, log)
}
