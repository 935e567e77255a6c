package twin

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/webtier/webtier/twin/compiler"
	"github.com/webtier/webtier/twin/probe"
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

// refreshing is an instance refresh under way on a running twin.
type refreshing struct {
	n     *verify.Network
	in    verify.Intent
	res   string
	pref  verify.Refresh
	warm  time.Duration
	exe   string
	probe *probe.Traffic
	r     *probe.ChangeReport
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

// run replaces every member of from's group, step by step, and returns the last plan.
func (rf *refreshing) run(ctx context.Context, from *compiler.Plan) (*compiler.Plan, error) {
	old := slices.Clone(from.MembersOf(rf.res))
	desired := len(old)
	minIn := (desired*rf.pref.MinHealthy + 99) / 100
	room := desired*rf.pref.MaxHealthy/100 - desired
	if rf.pref.MinHealthy >= 100 {
		room = max(room, 1)
	}
	for batch := 1; len(old) > 0; batch++ {
		members := from.MembersOf(rf.res)
		if room > 0 {
			// The replacements first, in the AZs of the members they replace.
			k := min(room, len(old))
			var gone []string
			for _, m := range old[:k] {
				gone = append(gone, m.Name)
			}
			old = old[k:]
			next, launched, err := rf.apply(ctx, from, fmt.Sprintf("instance refresh %d: launch %d", batch, k), desired+k, members, gone)
			if err != nil {
				return from, err
			}
			from = next
			if err := rf.ready(ctx, from, launched); err != nil {
				return from, err
			}
			kept := slices.DeleteFunc(from.MembersOf(rf.res), func(m compiler.Member) bool { return slices.Contains(gone, m.Name) })
			if from, _, err = rf.apply(ctx, from, fmt.Sprintf("instance refresh %d: terminate %s", batch, strings.Join(gone, ", ")), desired, kept, nil); err != nil {
				return from, err
			}
			continue
		}
		k := min(max(desired-minIn, 1), len(old))
		var gone []string
		for _, m := range old[:k] {
			gone = append(gone, m.Name)
		}
		old = old[k:]
		kept := slices.DeleteFunc(members, func(m compiler.Member) bool { return slices.Contains(gone, m.Name) })
		next, launched, err := rf.apply(ctx, from, fmt.Sprintf("instance refresh %d: terminate %s, launch %d", batch, strings.Join(gone, ", "), k), desired, kept, nil)
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
// and its size set, applies the difference as one reported step, and returns the plan and the
// hosts it launched.
func (rf *refreshing) apply(ctx context.Context, from *compiler.Plan, step string, size int, kept []compiler.Member, leaving []string) (*compiler.Plan, []string, error) {
	groups := from.Groups.Clone()
	groups.Desired[rf.res] = size
	groups.Members[rf.res] = kept
	groups.Leaving = map[string][]string{rf.res: leaving}
	groups.Count(from.MembersOf(rf.res))
	next, err := compiler.CompileDesired(rf.n, rf.in, from.Prefix, groups)
	if err != nil {
		return from, nil, err
	}
	rf.probe.Step(step)
	start := time.Now()
	rf.probe.Leave(from, next)
	launched, ended, err := applyDifference(ctx, from, next, rf.exe)
	if err == nil {
		err = rf.probe.Join(next, launched)
	}
	rf.r.Steps = append(rf.r.Steps, probe.StepReport{Name: step, Applied: time.Since(start), Launched: launched, Ended: ended})
	rf.r.Expected = append(rf.r.Expected, probe.Expectations(next, step)...)
	if err != nil {
		return from, nil, fmt.Errorf("%s: %w", step, err)
	}
	return next, launched, savePlan(next)
}

// ready waits until every ALB node that has the launched hosts registered has them in service
// and the warm-up since their launch has passed, as the refresh does before it goes on. It
// fails when they are not in service within the warm-up and the health checks' window.
func (rf *refreshing) ready(ctx context.Context, p *compiler.Plan, launched []string) error {
	start := time.Now()
	health := albHealth(p)
	limit := rf.warm + health.Settle()
	if out := waitInService(ctx, p, launched, limit); len(out) > 0 {
		return fmt.Errorf("instance refresh failed: not in service after %s: %s", limit.Round(time.Second), strings.Join(out, ", "))
	}
	sleep(ctx, int((rf.warm-time.Since(start))/time.Millisecond))
	return nil
}

// waitInService waits at most limit until every ALB node has in service each of its targets
// among hosts (nil: all of them), and returns those that are not ("HOST at NODE").
func waitInService(ctx context.Context, p *compiler.Plan, hosts []string, limit time.Duration) []string {
	specs := p.Specs(compiler.StandIns{})
	for end := time.Now().Add(limit); ; sleep(ctx, 50) {
		var out []string
		counts := readCounts(compiler.StateDir(p.Prefix), specs)
		for _, s := range specs {
			if s.ALB == nil {
				continue
			}
			for _, l := range s.ALB.Listeners {
				for _, t := range l.Targets {
					if (hosts == nil || slices.Contains(hosts, t.Host)) && !slices.Contains(counts[s.Host].InService, t.Host) {
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

// readCounts reads what each ALB node of specs last wrote of its targets.
func readCounts(dir string, specs []*standin.Spec) map[string]standin.TargetCounts {
	out := map[string]standin.TargetCounts{}
	for _, s := range specs {
		if s.ALB == nil {
			continue
		}
		var c standin.TargetCounts
		data, err := os.ReadFile(standin.CountsFile(dir, s.Host))
		if err == nil && json.Unmarshal(data, &c) == nil {
			out[s.Host] = c
		}
	}
	return out
}
