package twin

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

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
// and the longest run of failures. Each step is held for the health checks' window before the
// next, so that what a state cuts shows.
//
// A host whose services would change (its pages, its mount) keeps the ones it runs: the report
// names them.
func Change(ctx context.Context, prefix string, steps []ChangeStep, cfg config.Config, exe string) (*ChangeReport, error) {
	cur, _, _, err := Load(prefix)
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
	plans := make([]*Plan, len(steps))
	for i, st := range steps {
		n, err := verify.Load(st.Stack)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", st.Name, err)
		}
		if plans[i], err = CompileDesired(n, in, prefix, cur.Desired); err != nil {
			return nil, fmt.Errorf("%s: %w", st.Name, err)
		}
	}
	last := plans[len(plans)-1]
	r := &ChangeReport{Services: changedServices(cur, last)}
	probe, err := startProbe(ctx, cur)
	if err != nil {
		return nil, err
	}
	// Let the prober see the twin as it was for a moment.
	sleep(ctx, 1000)
	stopScaler(prefix)
	health := last.albHealth()
	hold := time.Duration(health.Unhealthy+1)*scaled(health.Interval, TimeScale) + scaled(health.Timeout, TimeScale)
	from := cur
	for i, st := range steps {
		// A request sent while the difference is applied meets a twin partly in the old
		// state: it is the apply's, not the state's.
		probe.step("applying: " + st.Name)
		start := time.Now()
		launched, ended, err := applyDifference(ctx, from, plans[i], exe)
		probe.step(st.Name)
		r.Steps = append(r.Steps, StepReport{Name: st.Name, Applied: time.Since(start), Launched: launched, Ended: ended})
		if err != nil {
			r.Flows = probe.stop()
			return r, fmt.Errorf("%s: %w", st.Name, err)
		}
		from = plans[i]
		if i < len(steps)-1 {
			sleep(ctx, int(hold/time.Millisecond))
		}
	}
	err = SaveSource(prefix, steps[len(steps)-1].Stack, cfg)
	if err == nil {
		err = savePlan(last)
	}
	if err == nil {
		err = StartScaler(ctx, last, exe)
	}
	// The health checks of any new target, then the prober's view of the new twin.
	sleep(ctx, int((time.Duration(health.Healthy+1)*scaled(health.Interval, TimeScale))/time.Millisecond))
	r.Flows = probe.stop()
	return r, err
}

// prober keeps the seed's traffic going while a change is applied, each request on its own
// (a slow answer does not hold the next): GET / through every ALB node every 100 ms, /db.php
// through the first every 500 ms, and the repository from every web server every second
// (through NAT or the S3 gateway endpoint). It keeps every request's step, time and outcome.
type prober struct {
	d       *drill
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	mu      sync.Mutex
	cur     string
	steps   []string
	flows   []string
	samples []sample
}

// sample is one request of the prober.
type sample struct {
	step, flow string
	sent       time.Time
	err        error
}

func startProbe(ctx context.Context, p *Plan) (*prober, error) {
	d := &drill{p: p, threads: map[string]*nsThread{}}
	ctx, cancel := context.WithCancel(ctx)
	pr := &prober{d: d, cancel: cancel, cur: "before", steps: []string{"before"}}
	client := func(h *Host) (*http.Client, error) {
		c, err := d.httpClient(h)
		if err == nil {
			c.Timeout = time.Second
		}
		return c, err
	}
	internet, err := client(p.firstOf("internet"))
	if err != nil {
		cancel()
		return nil, err
	}
	nodes := p.ALBAddrs(80)
	for _, node := range nodes {
		pr.run(ctx, "GET http://"+node+"/ every 100 ms", 100*time.Millisecond, internet, "http://"+node+"/")
	}
	if len(nodes) > 0 && HasMariaDB() && slices.ContainsFunc(p.Hosts, func(h *Host) bool { return h.Role == rules.DB }) {
		pr.run(ctx, "GET http://"+nodes[0]+"/db.php every 500 ms", 500*time.Millisecond, internet, "http://"+nodes[0]+"/db.php")
	}
	if repo := p.firstOf(string(rules.Repos)); repo != nil {
		for _, w := range p.hostsOfRole(rules.Web) {
			c, err := client(w)
			if err != nil {
				cancel()
				return nil, err
			}
			url := "https://" + repo.Private.String() + "/" + rules.RepoMirrorList
			pr.run(ctx, w.Name+" GET the repository's mirror list every 1 s", time.Second, c, url)
		}
	}
	return pr, nil
}

// run sends a GET of url every interval until the prober stops.
func (pr *prober) run(ctx context.Context, flow string, interval time.Duration, client *http.Client, url string) {
	pr.flows = append(pr.flows, flow)
	pr.wg.Add(1)
	go func() {
		defer pr.wg.Done()
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for ctx.Err() == nil {
			pr.mu.Lock()
			step := pr.cur
			pr.mu.Unlock()
			sent := time.Now()
			pr.wg.Add(1)
			go func() {
				defer pr.wg.Done()
				err := get(ctx, client, url)
				if ctx.Err() != nil {
					return // stopped, not an answer
				}
				pr.mu.Lock()
				pr.samples = append(pr.samples, sample{step, flow, sent, err})
				pr.mu.Unlock()
			}()
			select {
			case <-ctx.Done():
			case <-tick.C:
			}
		}
	}()
}

// step starts counting for the next step: requests sent from now on are its.
func (pr *prober) step(name string) {
	pr.mu.Lock()
	pr.cur = name
	pr.steps = append(pr.steps, name)
	pr.mu.Unlock()
}

// get asks for url and requires a 200.
func get(ctx context.Context, client *http.Client, url string) error {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s", resp.Status)
	}
	return nil
}

// stop ends the prober and returns its figures, step by step and flow by flow: the requests
// sent in the step, those that failed, and the longest run of failed requests (from the first
// one's sending to the sending of the next that got an answer).
func (pr *prober) stop() []FlowFigures {
	// The requests in flight answer within the client's timeout.
	time.Sleep(1100 * time.Millisecond)
	pr.cancel()
	pr.wg.Wait()
	for _, t := range pr.d.threads {
		t.stop()
	}
	slices.SortFunc(pr.samples, func(a, b sample) int { return a.sent.Compare(b.sent) })
	var out []FlowFigures
	for _, step := range pr.steps {
		for _, flow := range pr.flows {
			f := FlowFigures{Step: step, Flow: flow}
			var failingSince time.Time
			for _, s := range pr.samples {
				if s.flow != flow || s.step != step {
					continue
				}
				f.Sent++
				switch {
				case s.err != nil:
					f.Failed++
					if f.FirstError == "" {
						f.FirstError = s.err.Error()
					}
					if failingSince.IsZero() {
						failingSince = s.sent
					}
					f.LongestGap = max(f.LongestGap, s.sent.Sub(failingSince)+100*time.Millisecond)
				default:
					failingSince = time.Time{}
				}
			}
			out = append(out, f)
		}
	}
	return out
}
