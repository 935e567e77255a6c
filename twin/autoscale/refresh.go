package autoscale

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/webtier/webtier/twin/compiler"
	"github.com/webtier/webtier/twin/standin"
	"github.com/webtier/webtier/verify"
)

// An instance refresh in the twin, as EC2 Auto Scaling runs one when terraform changes a
// group's launch template: the old members are replaced in batches sized by the group's
// preferences. With a maximum healthy percentage above 100 (or a minimum of 100) the new
// instances launch first and the old ones are terminated once the new are in service and
// warmed up; otherwise old ones are terminated (deregistered and drained first) and their
// replacements launched at once, keeping the minimum healthy percentage of the desired
// capacity. A replacement launches in the AZ with the fewest members, so the group stays
// balanced.

// Applier changes the running twin; package twin implements it on the kernel and the
// stand-ins.
type Applier interface {
	// Apply takes the running twin from plan cur to plan next (the hosts only next has
	// launched with their services, the changed routes and rulesets of the others applied,
	// the ALB nodes' targets set, the hosts only cur has deregistered, drained and ended) and
	// saves next as the twin's plan. It returns the hosts it launched and ended. step names
	// the change for the caller's report ("instance refresh 1: launch 1").
	Apply(ctx context.Context, step string, cur, next *compiler.Plan) (launched, ended []string, err error)
}

// Refresh runs, through a, the instance refresh a change of the running twin from plan cur
// to plan next starts (the twin is at next; n and in are next's network and intent): when
// next's group has refresh preferences and another launch template than cur's, every member
// is replaced, batch by batch, and each batch's new servers must be in service at every ALB
// node within the warm-up and settle (the bound of the health checks' first passes), then
// warm up, before the refresh goes on. It returns the twin's last plan: next when no refresh
// starts, the plan it had reached when a step failed.
func Refresh(ctx context.Context, a Applier, n *verify.Network, in verify.Intent, cur, next *compiler.Plan, settle time.Duration) (*compiler.Plan, error) {
	res, pref, warmup := refreshOf(cur, next)
	if pref == nil {
		return next, nil
	}
	rf := &refreshing{n: n, in: in, res: res, pref: *pref, warm: standin.Scaled(warmup, standin.TimeScale), settle: settle, a: a}
	return rf.run(ctx, next)
}

// refreshing is an instance refresh under way on a running twin.
type refreshing struct {
	n      *verify.Network
	in     verify.Intent
	res    string
	pref   verify.Refresh
	warm   time.Duration
	settle time.Duration
	a      Applier
}

// refreshOf is the instance refresh a change from cur to next starts: the group whose
// template digest changes, when it has a refresh; "" when none.
func refreshOf(cur, next *compiler.Plan) (res string, pref *verify.Refresh, warmup int) {
	res, was, _ := cur.Fleet()
	_, now, _ := next.Fleet()
	if was == nil || now == nil || now.Refresh == nil || was.Template == now.Template {
		return "", nil, 0
	}
	warmup = now.Warmup
	if now.Refresh.Warmup > 0 {
		warmup = now.Refresh.Warmup
	}
	return res, now.Refresh, warmup
}

// batches is how a refresh of a group of desired servers with preferences pref goes: room
// replacements at a time launch before the servers they replace end (when above 0: a maximum
// healthy percentage above 100, or a minimum of 100, which allows at least one), or else
// batch servers at a time are terminated and replaced together, keeping the minimum healthy
// percentage of the desired capacity (rounded up) in service, at least one at a time.
func batches(desired int, pref verify.Refresh) (room, batch int) {
	minIn := (desired*pref.MinHealthy + 99) / 100
	room = desired*pref.MaxHealthy/100 - desired
	if pref.MinHealthy >= 100 {
		room = max(room, 1)
	}
	return room, max(desired-minIn, 1)
}

// run replaces every member of from's group, step by step, and returns the last plan.
func (rf *refreshing) run(ctx context.Context, from *compiler.Plan) (*compiler.Plan, error) {
	old := slices.Clone(from.MembersOf(rf.res))
	desired := len(old)
	room, batch := batches(desired, rf.pref)
	for n := 1; len(old) > 0; n++ {
		members := from.MembersOf(rf.res)
		if room > 0 {
			// The replacements first, in the AZs of the members they replace.
			k := min(room, len(old))
			var gone []string
			for _, m := range old[:k] {
				gone = append(gone, m.Name)
			}
			old = old[k:]
			next, launched, err := rf.apply(ctx, from, fmt.Sprintf("instance refresh %d: launch %d", n, k), desired+k, members, gone)
			if err != nil {
				return from, err
			}
			from = next
			if err := rf.ready(ctx, from, launched); err != nil {
				return from, err
			}
			kept := slices.DeleteFunc(from.MembersOf(rf.res), func(m compiler.Member) bool { return slices.Contains(gone, m.Name) })
			if from, _, err = rf.apply(ctx, from, fmt.Sprintf("instance refresh %d: terminate %s", n, strings.Join(gone, ", ")), desired, kept, nil); err != nil {
				return from, err
			}
			continue
		}
		k := min(batch, len(old))
		var gone []string
		for _, m := range old[:k] {
			gone = append(gone, m.Name)
		}
		old = old[k:]
		kept := slices.DeleteFunc(members, func(m compiler.Member) bool { return slices.Contains(gone, m.Name) })
		next, launched, err := rf.apply(ctx, from, fmt.Sprintf("instance refresh %d: terminate %s, launch %d", n, strings.Join(gone, ", "), k), desired, kept, nil)
		if err != nil {
			return from, err
		}
		from = next
		if err := rf.ready(ctx, from, launched); err != nil {
			return from, err
		}
	}
	return from, nil
}

// apply compiles the new stack with the group's members kept (leaving: those to be replaced)
// and its size set, applies the difference as one step, and returns the plan and the hosts it
// launched.
func (rf *refreshing) apply(ctx context.Context, from *compiler.Plan, step string, size int, kept []compiler.Member, leaving []string) (*compiler.Plan, []string, error) {
	groups := from.Kept.Clone()
	groups.Desired[rf.res] = size
	groups.Members[rf.res] = kept
	groups.Leaving = map[string][]string{rf.res: leaving}
	groups.Count(from.MembersOf(rf.res))
	next, err := compiler.CompileDesired(rf.n, rf.in, from.Prefix, groups)
	if err != nil {
		return from, nil, err
	}
	launched, _, err := rf.a.Apply(ctx, step, from, next)
	if err != nil {
		return from, nil, fmt.Errorf("%s: %w", step, err)
	}
	return next, launched, nil
}

// ready waits until every ALB node that has the launched hosts registered has them in service
// and the warm-up since their launch has passed, as the refresh does before it goes on. It
// fails when they are not in service within the warm-up and the health checks' window.
func (rf *refreshing) ready(ctx context.Context, p *compiler.Plan, launched []string) error {
	start := time.Now()
	limit := rf.warm + rf.settle
	if out := WaitInService(ctx, p, launched, limit); len(out) > 0 {
		return fmt.Errorf("instance refresh failed: not in service after %s: %s", limit.Round(time.Second), strings.Join(out, ", "))
	}
	sleep(ctx, int((rf.warm-time.Since(start))/time.Millisecond))
	return nil
}

// WaitInService waits at most limit until every ALB node of the running twin p has in
// service each of its targets among hosts (nil: all of them), and returns those that are not
// ("HOST at NODE", sorted): none once they all are, those still out when the limit passes or
// ctx ends.
func WaitInService(ctx context.Context, p *compiler.Plan, hosts []string, limit time.Duration) []string {
	specs := p.Specs(compiler.StandIns{})
	dir := compiler.StateDir(p.Prefix)
	for end := time.Now().Add(limit); ; sleep(ctx, 50) {
		var out []string
		for _, s := range specs {
			if s.ALB == nil {
				continue
			}
			counts, _ := readCounts(dir, s.Host)
			for _, l := range s.ALB.Listeners {
				for _, t := range l.Targets {
					if (hosts == nil || slices.Contains(hosts, t.Host)) && !slices.Contains(counts.InService, t.Host) {
						out = append(out, t.Host+" at "+s.Host)
					}
				}
			}
		}
		if len(out) == 0 || ctx.Err() != nil || time.Now().After(end) {
			slices.Sort(out)
			return slices.Compact(out)
		}
	}
}
