package twin

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/webtier/webtier/twin/autoscale"
	"github.com/webtier/webtier/twin/compiler"
	"github.com/webtier/webtier/twin/probe"
	"github.com/webtier/webtier/twin/standin"
	"github.com/webtier/webtier/twin/supervise"

	"github.com/webtier/webtier/config"
	"github.com/webtier/webtier/rules"
	"github.com/webtier/webtier/verify"
)

// Change takes a running twin to another stack, through the given steps, while visitors keep
// asking for its site: each step's stack compiled at the sizes the Auto Scaling controller
// set and the difference applied to the running twin (applyDifference: new and removed hosts,
// changed routes and addresses, each changed ruleset in one transaction), then the
// controller started again on the last. Meanwhile a prober GETs / through every ALB node every
// 100 ms from the internet client; the report says, per step and node, how many requests failed
// and the longest run of failures. Each step is held for hold (0: the health checks' window,
// so that what a state cuts shows in them too) before the next, and the last as long, or
// until the new targets' health checks have passed.
//
// A host whose services would change (its pages, its mount) keeps the ones it runs: the report
// names them.
func Change(ctx context.Context, prefix string, steps []ChangeStep, cfg config.Config, exe string, hold time.Duration) (*probe.ChangeReport, error) {
	cur, _, _, err := Running(prefix)
	if err != nil {
		return nil, err
	}
	if cur.Live {
		return nil, fmt.Errorf("the twin runs a deployed stack (twin up --live): change it with a synthesized one")
	}
	if len(steps) == 0 {
		return nil, fmt.Errorf("no step to apply")
	}
	in, err := verify.IntentOf(cfg)
	if err != nil {
		return nil, err
	}
	plans := make([]*compiler.Plan, len(steps))
	var n *verify.Network
	for i, st := range steps {
		if n, err = verify.Load(st.Stack); err != nil {
			return nil, fmt.Errorf("%s: %w", st.Name, err)
		}
		if plans[i], err = compiler.CompileDesired(n, in, prefix, cur.Kept); err != nil {
			return nil, fmt.Errorf("%s: %w", st.Name, err)
		}
	}
	last := plans[len(plans)-1]
	r := &probe.ChangeReport{Expected: probe.Expectations(cur, "before")}
	// The twin as it runs, every target in service (a twin just up passes its first checks).
	health := albHealth(last)
	if out := autoscale.WaitInService(ctx, cur, nil, health.Settle()); len(out) > 0 {
		return nil, fmt.Errorf("the twin's targets are not in service before the change: %s", strings.Join(out, ", "))
	}
	traffic, err := probe.Start(ctx, cur, HasSSH())
	if err != nil {
		return nil, err
	}
	if hold <= 0 {
		hold = health.Leave()
	}
	// Let the prober see the twin as it was for a moment.
	sleep(ctx, int(min(hold, time.Second)/time.Millisecond))
	autoscale.Stop(prefix)
	from := cur
	for i, st := range steps {
		// A request sent while the difference is applied meets a twin partly in the old
		// state: it is the apply's, not the state's.
		traffic.Step("applying: " + st.Name)
		start := time.Now()
		traffic.Leave(from, plans[i])
		launched, ended, err := applyDifference(ctx, from, plans[i], exe)
		if err == nil {
			err = errors.Join(traffic.Join(plans[i], launched), traffic.Follow(plans[i], launched), restartManaged(ctx, from, plans[i], exe))
		}
		traffic.Step(st.Name)
		r.Steps = append(r.Steps, probe.StepReport{Name: st.Name, Applied: time.Since(start), Launched: launched, Ended: ended})
		r.Expected = append(r.Expected, probe.Expectations(plans[i], st.Name)...)
		if err != nil {
			r.Flows, r.InService, r.Sessions = traffic.Stop()
			return r, fmt.Errorf("%s: %w", st.Name, err)
		}
		from = plans[i]
		if i < len(steps)-1 {
			sleep(ctx, int(hold/time.Millisecond))
		}
	}
	// A new launch template: terraform starts the group's instance refresh with the update.
	if last, err = autoscale.Refresh(ctx, reportedSteps{exe, traffic, r}, n, in, cur, last, health.Settle()); err != nil {
		r.Flows, r.InService, r.Sessions = traffic.Stop()
		return r, err
	}
	// The instances that kept their services: those still there.
	for _, h := range changedServices(cur, last) {
		if host, err := last.Host(h); err == nil && !managed(host) {
			r.Services = append(r.Services, h)
		}
	}
	err = SaveSource(prefix, steps[len(steps)-1].Stack, cfg)
	if err == nil {
		err = savePlan(last)
	}
	if err == nil {
		err = StartScaler(ctx, last, exe)
	}
	// The prober's view of the new twin, and the health checks of any new web server.
	wait := hold
	target := func(name string) bool { h, err := last.Host(name); return err == nil && h.Role == rules.Web }
	if slices.ContainsFunc(r.Steps, func(st probe.StepReport) bool { return slices.ContainsFunc(st.Launched, target) }) {
		wait = max(wait, health.Return())
	}
	sleep(ctx, int(wait/time.Millisecond))
	r.Flows, r.InService, r.Sessions = traffic.Stop()
	return r, err
}

// Managed reports whether h stands in for a service AWS runs and reconfigures in place (an
// endpoint, the file system, the repository, the resolver), as opposed to an instance whose
// configuration is its own (a web server, a bastion) or a database, whose modifications have
// their own timing.
func managed(h *compiler.Host) bool {
	switch h.Role {
	case rules.Web, rules.Bastion, rules.DB, rules.ALB:
		return false
	}
	return true
}

// restartManaged starts again, with their new specs, the managed stand-ins whose services the
// step changes: a new endpoint or file-system policy applies at once, as on AWS.
func restartManaged(ctx context.Context, from, next *compiler.Plan, exe string) error {
	dir := compiler.StateDir(next.Prefix)
	var started []*standin.Spec
	changed := changedServices(from, next)
	listeners := map[string]string{}
	for _, s := range from.Specs(compiler.StandIns{}) {
		listeners[s.Host] = listenersOf(s)
	}
	for _, s := range next.Specs(compiler.StandIns{SSH: HasSSH(), DB: standin.HasMariaDB()}) {
		h, err := next.Host(s.Host)
		if err != nil {
			continue
		}
		// An ALB node whose listeners change (a new port, an action) starts again; one whose
		// targets change only has read them already.
		alb := s.ALB != nil && listeners[s.Host] != "" && listeners[s.Host] != listenersOf(s)
		if !alb && (!managed(h) || !slices.Contains(changed, s.Host)) {
			continue
		}
		if err := supervise.Signal(filepath.Join(dir, s.Host+".pid"), syscall.SIGKILL); err != nil {
			return fmt.Errorf("%s: %w", s.Host, err)
		}
		theKernel(next.Prefix).Kill(ctx, []string{h.Namespace})
		if err := startSpec(dir, s, exe); err != nil {
			return err
		}
		started = append(started, s)
	}
	return waitListening(ctx, next, started)
}

// listenersOf describes an ALB node's listeners without their targets, "" for another host.
func listenersOf(s *standin.Spec) string {
	if s.ALB == nil {
		return ""
	}
	var b strings.Builder
	for _, l := range s.ALB.Listeners {
		fmt.Fprintf(&b, "%d %s %v %+v %d;", l.Port, l.Group, l.Redirect, l.Health, l.Deregistration)
	}
	return b.String()
}
