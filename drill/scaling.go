package drill

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/webtier/webtier/check"
)

// Group is the web servers' Auto Scaling group as the env reads it.
type Group struct {
	Name              string
	Min, Max, Desired int
	// CPUTarget is the target-tracking policy's average CPU, 0 when it has none.
	CPUTarget float64
	// Instances are the group's servers (in service or launching).
	Instances []Host
	// Why is the last scaling decision's reason, when the env says it.
	Why string
}

// Scaler is an Env whose web servers scale on their average CPU.
type Scaler interface {
	// Group reads the web servers' group.
	Group(ctx context.Context) (Group, error)
	// Load keeps every vCPU of the servers busy until stop is called (or the drill ends); how
	// says what runs.
	Load(ctx context.Context, servers []Host) (stop func(), how string, err error)
	// ScaleWithin bounds the group's growth (from the load to a new server answering) and
	// its shrinking back to min (from the load's end); Every is how often to read the group.
	ScaleWithin() (out, in, every time.Duration)
	// Gone reports whether a server the group removed is gone (its instance, its namespace).
	Gone(ctx context.Context, h Host) bool
}

// ScaleNoter is an Env that must say something of the scaling it shows: on the twin of a
// deployed stack, that the twin's controller scales the twin's copy, not the deployed group.
type ScaleNoter interface {
	ScaleNote() *NotShown
}

// Scaling is requirement 4: the web servers' CPU loaded above the policy's target, the group
// grows and a new server answers through the load balancer; the load removed, the group
// shrinks back to its minimum and the servers it launched are gone.
func Scaling(ctx context.Context, env Env, sc Scaler) []check.Result {
	r := &rows{}
	const grows, shrinks = "load the web servers' CPU above the target: the group grows, a new server enters the rotation",
		"remove the load: the group shrinks back to min"
	g, err := sc.Group(ctx)
	switch {
	case err != nil:
		r.add(4, grows, "scale out", "-", err.Error(), false)
		return r.out
	case g.CPUTarget <= 0:
		r.add(4, grows, "scale out", "-", g.Name+" has no target-tracking policy on average CPU", false)
		return r.out
	}
	if n, ok := sc.(ScaleNoter); ok && n.ScaleNote() != nil {
		r.limit(4, "the deployed group scales", "scale out, then in", n.ScaleNote().Why)
	}
	out, in, every := sc.ScaleWithin()
	initial := g.Desired
	grew := fmt.Sprintf("desired above %d, a new server answers", initial)
	start := time.Now()
	stop, how, err := sc.Load(ctx, g.Instances)
	if ns := notShown(err); ns != nil {
		r.limit(4, grows, grew+" within "+out.String(), ns.Why)
		r.limit(4, shrinks, fmt.Sprintf("desired %d (min) within %s", g.Min, in), "as above: nothing scaled out")
		return r.out
	}
	if err != nil {
		r.add(4, grows, grew, "-", "not loaded: "+err.Error(), false)
		return r.out
	}
	defer stop()
	before := map[string]bool{}
	for _, h := range g.Instances {
		before[h.ID] = true
	}
	// Out: the group grows, then one of its new servers answers through the load balancer.
	var scaledOut, answered time.Duration
	var launched []Host
	var answeredBy string
	deadline := start.Add(out)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if cur, err := sc.Group(ctx); err == nil {
			if g = cur; g.Desired > initial {
				scaledOut = time.Since(start)
				break
			}
			progress(env, "desired %d after %.0fs under load", g.Desired, time.Since(start).Seconds())
		}
		sleep(ctx, int(every/time.Millisecond))
	}
	// Any server that answers and was not in the group before is one it launched.
	for i := 0; scaledOut > 0 && answeredBy == "" && time.Now().Before(deadline) && ctx.Err() == nil; i++ {
		p, err := page(ctx, env, i)
		if err == nil && !before[p.Instance] {
			answeredBy, answered = p.Instance, time.Since(start)
			break
		}
		sleep(ctx, 100)
	}
	if cur, err := sc.Group(ctx); err == nil && scaledOut > 0 {
		g = cur
	}
	for _, h := range g.Instances {
		if !before[h.ID] {
			launched = append(launched, h)
			if h.ID == answeredBy {
				answeredBy = h.Name
			}
		}
	}
	evidence := how
	if g.Why != "" {
		evidence += "; " + g.Why
	}
	if scaledOut == 0 {
		r.add(4, grows, grew, fmt.Sprintf("desired %d after %s", g.Desired, out), evidence, false)
		return r.out
	}
	observed := fmt.Sprintf("desired %d -> %d after %.1fs (%s)", initial, g.Desired, scaledOut.Seconds(), names(launched))
	if answeredBy != "" {
		observed += fmt.Sprintf("; %s answered through the load balancer after %.1fs", answeredBy, answered.Seconds())
	} else {
		observed += "; no new server answered through the load balancer"
	}
	r.add(4, grows, grew, observed, evidence, answeredBy != "")
	if answeredBy == "" {
		return r.out
	}
	// In: remove the load; the group shrinks to its minimum and what it launched is gone.
	stop()
	unloaded := time.Now()
	high := g.Desired
	shrunk := false
	for end := unloaded.Add(in); time.Now().Before(end) && ctx.Err() == nil; {
		if cur, err := sc.Group(ctx); err == nil {
			if g = cur; g.Desired == g.Min && len(g.Instances) == g.Min {
				shrunk = true
				break
			}
			progress(env, "desired %d, %d instances after %.0fs unloaded", g.Desired, len(g.Instances), time.Since(unloaded).Seconds())
		}
		sleep(ctx, int(every/time.Millisecond))
	}
	if !shrunk {
		r.add(4, shrinks, fmt.Sprintf("desired %d (min)", g.Min), fmt.Sprintf("desired %d after %s", g.Desired, in), "load removed", false)
		return r.out
	}
	var ended, left []Host
	for _, h := range launched {
		if !slices.ContainsFunc(g.Instances, func(i Host) bool { return i.ID == h.ID }) {
			ended = append(ended, h)
		}
		if !sc.Gone(ctx, h) {
			left = append(left, h)
		}
	}
	observed = fmt.Sprintf("desired %d -> %d after %.1fs (%s ended)", high, g.Desired, time.Since(unloaded).Seconds(), names(ended))
	evidence = g.Why
	if len(left) > 0 {
		evidence += "; still there: " + names(left)
	}
	r.add(4, shrinks, fmt.Sprintf("desired %d (min), the new servers gone", g.Min), observed, evidence, len(left) == 0)
	return r.out
}

// names are the hosts' names, joined.
func names(hs []Host) string {
	var out []string
	for _, h := range hs {
		out = append(out, h.Name)
	}
	return strings.Join(out, ", ")
}
