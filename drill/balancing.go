package drill

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/webtier/webtier/check"
	"github.com/webtier/webtier/site"
)

// Spreader is an Env that can say why its web servers are all in one AZ when that is the
// emulator's doing (moto places every instance of a group in its first subnet): the test of
// both AZs is then a limitation, not a failure.
type Spreader interface {
	OneAZ() *NotShown
}

// page asks the site for the index page and reads it.
func page(ctx context.Context, env Env, try int) (site.IndexPage, error) {
	code, body, err := env.Get(ctx, site.Index.URL, try)
	if err != nil {
		return site.IndexPage{}, err
	}
	p, ok := site.ParseIndex(body)
	switch {
	case code != http.StatusOK:
		return site.IndexPage{}, fmt.Errorf("%d %s", code, http.StatusText(code))
	case !ok:
		return site.IndexPage{}, fmt.Errorf("no instance ID in the page")
	}
	return p, nil
}

// describeHealth says how the health check runs, for the rows' evidence.
func describeHealth(h Health) string {
	clock := ""
	if h.Scale > 1 {
		clock = fmt.Sprintf(" (AWS: %ds, time / %d)", h.Interval, h.Scale)
	}
	return fmt.Sprintf("health check %s every %s%s, %s timeout, out after %d failed, in after %d passed",
		h.Path, h.Every(), clock, h.seconds(h.Timeout), h.Unhealthy, h.Healthy)
}

// Balancing is requirement 2: 30 requests from the internet through the load balancer reach
// every web server in service (in both AZs); a web server whose web service stops leaves the
// rotation within the health check's window (Health.Leave), and returns within Health.Return
// once started again.
func Balancing(ctx context.Context, env Env) []check.Result {
	r := &rows{}
	webs, health := env.Webs(), env.Health()
	test := "30 requests from the internet to " + env.Site()
	if len(webs) == 0 {
		r.add(2, test, "every web server answers", "-", "no web server in service", false)
		return r.out
	}
	victim := webs[0]
	stopTest := "stop " + victim.Name + "'s web server: it leaves the rotation"
	startTest := "start it again: it returns to the rotation"
	var want []string
	var azs []string
	for _, w := range webs {
		want = append(want, w.ID+" ("+w.AZ+")")
		if !slices.Contains(azs, w.AZ) {
			azs = append(azs, w.AZ)
		}
	}
	// Wait (bounded: the health checks' window from now) until every web server has answered
	// once and the balancer has every one in service, so that the 30 requests find every
	// target in service.
	answered := map[string]bool{}
	for i, end := 0, time.Now().Add(health.Settle()); time.Now().Before(end); i++ {
		p, err := page(ctx, env, i)
		if ns := notShown(err); ns != nil {
			r.limit(2, test, strings.Join(want, ", "), ns.Why)
			r.limit(2, stopTest, "within "+health.Leave().String(), "as above: "+ns.Why+"; "+describeHealth(health))
			r.limit(2, startTest, "within "+health.Return().String(), "as above: nothing to start")
			return r.out
		}
		if err != nil {
			sleep(ctx, 200)
			continue
		}
		answered[p.Instance] = true
		if len(answered) >= len(webs) && allHealthy(ctx, env, webs) {
			break
		}
		sleep(ctx, 100)
	}
	seen := map[string]int{}
	var failures []string
	for i := range 30 {
		p, err := page(ctx, env, i)
		if err != nil {
			failures = append(failures, err.Error())
			continue
		}
		seen[p.Instance]++
	}
	allIn := len(failures) == 0
	for _, w := range webs {
		allIn = allIn && seen[w.ID] > 0
	}
	var got []string
	for id, n := range seen {
		got = append(got, fmt.Sprintf("%s x%d", id, n))
	}
	sort.Strings(got)
	evidence := strings.Join(got, ", ")
	if len(failures) > 0 {
		evidence += fmt.Sprintf("; %d failed: %s", len(failures), failures[0])
	}
	r.add(2, test, strings.Join(want, ", "), fmt.Sprintf("%d instances answered", len(seen)), evidence, allIn)
	if len(azs) < 2 {
		const azTest = "the answers come from both AZs"
		if s, ok := env.(Spreader); ok && s.OneAZ() != nil {
			r.limit(2, azTest, "both AZs", s.OneAZ().Why)
		} else {
			r.add(2, azTest, "both AZs", strings.Join(azs, ", "), "every web server in service is in "+azs[0], false)
		}
	}
	if !allIn {
		for _, t := range []string{stopTest, startTest} {
			r.add(2, t, "within the health check's window", "-", "not run: the requests above did not all succeed", false)
		}
		return r.out
	}

	// Stop one web server's web service, then start it again. It is started again whatever
	// happens in between: the drill leaves the fleet as it found it.
	leave, back := health.Leave(), health.Return()
	how, err := env.StopWeb(ctx, victim)
	if err != nil {
		r.add(2, stopTest, "within "+leave.String(), "-", "not stopped: "+err.Error(), false)
		env.StartWeb(context.WithoutCancel(ctx), victim)
		return r.out
	}
	start := time.Now()
	out := rotation(ctx, env, victim, false, 3*leave)
	r.add(2, stopTest, "within "+leave.String(), out.describe(start), how+"; "+describeHealth(health)+"; "+out.evidence,
		out.ok && out.at.Sub(start) <= leave)
	if w, ok := env.(AlarmWatcher); ok {
		r.out = append(r.out, w.UnhealthyAlarm(ctx, start))
	}
	how, err = env.StartWeb(ctx, victim)
	if err != nil {
		r.add(2, startTest, "within "+back.String(), "-", "not started: "+err.Error(), false)
		return r.out
	}
	start = time.Now()
	in := rotation(ctx, env, victim, true, 3*back)
	r.add(2, startTest, "within "+back.String(), in.describe(start), how+"; "+in.evidence, in.ok && in.at.Sub(start) <= back)
	return r.out
}

// allHealthy reports whether the balancer has every web server's target healthy.
func allHealthy(ctx context.Context, env Env, webs []Host) bool {
	for _, w := range webs {
		if env.TargetHealth(ctx, w) != Healthy {
			return false
		}
	}
	return true
}

// waited is how a wait for a change of the rotation ended.
type waited struct {
	ok       bool
	at       time.Time
	evidence string
}

func (w waited) describe(start time.Time) string {
	if !w.ok {
		return "not seen in " + w.at.Sub(start).Round(time.Second).String()
	}
	return "after " + w.at.Sub(start).Round(100*time.Millisecond).String()
}

// roundOf is how many requests a round of rotation asks: enough for every target behind every
// address of the balancer to answer.
const roundOf = 10

// rotation polls the site every 0.5 s (half an interval when the checks run faster) until h is in the rotation (in: its target healthy and
// it answered a request of the round) or out of it (its target not healthy, and a round
// answered without it, by another server), or limit passes.
func rotation(ctx context.Context, env Env, h Host, in bool, limit time.Duration) waited {
	failed := 0
	state := ""
	every := int(min(500*time.Millisecond, env.Health().Every()/2) / time.Millisecond)
	for end := time.Now().Add(limit); time.Now().Before(end) && ctx.Err() == nil; sleep(ctx, every) {
		answered, others := false, 0
		for i := range roundOf {
			p, err := page(ctx, env, i)
			switch {
			case err != nil:
				failed++
			case p.Instance == h.ID:
				answered = true
			default:
				others++
			}
			if in && answered {
				break
			}
		}
		state = env.TargetHealth(ctx, h)
		switch {
		case in && answered && state == Healthy:
			return waited{true, time.Now(), fmt.Sprintf("%s answered, its target %s", h.ID, state)}
		case !in && !answered && others > 0 && state != Healthy:
			return waited{true, time.Now(), fmt.Sprintf("every request answered by another instance, its target %s; %d requests failed meanwhile", orUnknown(state), failed)}
		}
	}
	return waited{false, time.Now(), fmt.Sprintf("its target %s; %d requests failed", orUnknown(state), failed)}
}

func orUnknown(state string) string {
	if state == "" {
		return "in no agreed state"
	}
	return state
}
