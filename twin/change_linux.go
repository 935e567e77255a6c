package twin

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/webtier/webtier/config"
	"github.com/webtier/webtier/verify"
)

// Change takes a running twin to another stack while visitors keep asking for its site: the
// new stack compiled at the sizes the Auto Scaling controller set, the difference applied to
// the running twin (applyDifference: new and removed hosts, changed routes and addresses, each
// changed ruleset in one transaction), and the controller started again on the new stack.
// Meanwhile a prober GETs / through every ALB node every 100 ms from the internet client; the
// report says how many requests failed and the longest run of failures per node.
//
// The whole difference is applied as one step: the order a terraform apply would take (and
// the states it passes through) is not replayed yet. A host whose services would change (its
// pages, its mount) keeps the ones it runs: the report names them.
func Change(ctx context.Context, prefix string, stack []byte, cfg config.Config, exe string) (*ChangeReport, error) {
	cur, _, _, err := Load(prefix)
	if err != nil {
		return nil, err
	}
	n, err := verify.Load(stack)
	if err != nil {
		return nil, err
	}
	if cur.Live {
		return nil, fmt.Errorf("the twin runs a deployed stack (twin up --live): change it with a synthesized one")
	}
	in, err := verify.IntentOf(cfg)
	if err != nil {
		return nil, err
	}
	next, err := CompileDesired(n, in, prefix, cur.Desired)
	if err != nil {
		return nil, err
	}
	r := &ChangeReport{Services: changedServices(cur, next)}
	probe, err := startProbe(ctx, cur)
	if err != nil {
		return nil, err
	}
	// Let the prober see the twin as it was for a moment.
	sleep(ctx, 1000)
	start := time.Now()
	stopScaler(prefix)
	r.Launched, r.Ended, err = applyDifference(ctx, cur, next, exe)
	if err == nil {
		err = SaveSource(prefix, stack, cfg)
	}
	if err == nil {
		err = savePlan(next)
	}
	if err == nil {
		err = StartScaler(ctx, next, exe)
	}
	r.Applied = time.Since(start)
	// The health checks of any new target, then the prober's view of the new twin.
	health := next.albHealth()
	sleep(ctx, int((time.Duration(health.Healthy+1)*scaled(health.Interval, TimeScale))/time.Millisecond))
	r.Flows = probe.stop()
	return r, err
}

// prober asks for / through each ALB node every 100 ms.
type prober struct {
	d      *drill
	cancel context.CancelFunc
	wg     sync.WaitGroup
	mu     sync.Mutex
	flows  map[string]*FlowFigures
}

func startProbe(ctx context.Context, p *Plan) (*prober, error) {
	d := &drill{p: p, threads: map[string]*nsThread{}}
	client, err := d.httpClient(p.firstOf("internet"))
	if err != nil {
		return nil, err
	}
	client.Timeout = time.Second
	ctx, cancel := context.WithCancel(ctx)
	pr := &prober{d: d, cancel: cancel, flows: map[string]*FlowFigures{}}
	for _, node := range p.ALBAddrs(80) {
		f := &FlowFigures{Flow: "GET http://" + node + "/ every 100 ms"}
		pr.flows[node] = f
		pr.wg.Add(1)
		go func() {
			defer pr.wg.Done()
			var failingSince time.Time
			tick := time.NewTicker(100 * time.Millisecond)
			defer tick.Stop()
			for ctx.Err() == nil {
				err := get(ctx, client, "http://"+node+"/")
				pr.mu.Lock()
				f.Sent++
				now := time.Now()
				if err != nil {
					f.Failed++
					if f.FirstError == "" {
						f.FirstError = err.Error()
					}
					if failingSince.IsZero() {
						failingSince = now
					}
					f.LongestGap = max(f.LongestGap, now.Sub(failingSince))
				} else {
					failingSince = time.Time{}
				}
				pr.mu.Unlock()
				select {
				case <-ctx.Done():
				case <-tick.C:
				}
			}
		}()
	}
	return pr, nil
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

// stop ends the prober and returns its figures.
func (pr *prober) stop() []FlowFigures {
	pr.cancel()
	pr.wg.Wait()
	for _, t := range pr.d.threads {
		t.stop()
	}
	var out []FlowFigures
	for _, f := range pr.flows {
		out = append(out, *f)
	}
	slices.SortFunc(out, func(a, b FlowFigures) int { return strings.Compare(a.Flow, b.Flow) })
	return out
}
