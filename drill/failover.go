package drill

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/webtier/webtier/check"
	"github.com/webtier/webtier/site"
)

// Unbuilt is what an env does not run (the twin's database without MariaDB): a check.NotBuilt row
// that says so, never a pass.
type Unbuilt struct {
	Why string
}

func (e *Unbuilt) Error() string { return e.Why }

// Database is an Env whose stack has a Multi-AZ database.
type Database interface {
	// Standby is the database's endpoint name and its standby (its address "" where the env
	// does not know it); an error (an *Unbuilt when the env cannot run it) when the stack has
	// no standby.
	Standby(ctx context.Context) (endpoint string, standby Host, err error)
	// FailOver fails the primary over to the standby as the env can (the twin: the primary's
	// host fails; AWS: RebootDBInstance with ForceFailover) and says how.
	FailOver(ctx context.Context) (how string, err error)
	// Within bounds the failover: RDS documents 60-120 s.
	Within() time.Duration
	// AfterFailover is the env's own rows of the failover that began at since, once the site
	// answers from the standby (AWS: the API's endpoint and AZs; the twin: the failover's
	// event notification).
	AfterFailover(ctx context.Context, since time.Time) []check.Result
	// ErrorLog is the last line the web servers' database page wrote to its error log ("" when
	// the env cannot read it).
	ErrorLog() string
}

// Visitors is how many visitors ask for the database page at once during the failover: twice
// the workers of the site's pools on the group at its largest (4 servers of 5 workers).
const Visitors = 40

// sample is one read of the database page, at the time it was asked (a read that waits for
// its timeout fails from when it was sent).
type sample struct {
	at   time.Time
	ok   bool
	page site.DBPage
}

// outage is what the reads of the database page saw: the longest run of failed reads (from
// the first failure to the next good read), whether the page answered again at the end, and
// the first and last good pages.
type outage struct {
	longest     time.Duration
	failed      int
	recovered   bool
	first, last site.DBPage
}

func measure(samples []sample) outage {
	var o outage
	var down time.Time
	seenOK := false
	for _, s := range samples {
		switch {
		case !s.ok:
			o.failed++
			if down.IsZero() {
				down = s.at
			}
		default:
			if !down.IsZero() {
				o.longest = max(o.longest, s.at.Sub(down))
				down = time.Time{}
			}
			if !seenOK {
				o.first, seenOK = s.page, true
			}
			o.last = s.page
		}
	}
	o.recovered = seenOK && down.IsZero()
	if !down.IsZero() && len(samples) > 0 {
		o.longest = max(o.longest, samples[len(samples)-1].at.Sub(down))
	}
	return o
}

// readDB asks the site for the database page and reads it.
func readDB(ctx context.Context, env Env, try int) (site.DBPage, error) {
	code, body, err := env.Get(ctx, site.DB.URL, try)
	if err != nil {
		return site.DBPage{}, err
	}
	if code != http.StatusOK {
		return site.DBPage{}, fmt.Errorf("%d %s", code, http.StatusText(code))
	}
	p, ok := site.ParseDB(body)
	if !ok {
		return site.DBPage{}, fmt.Errorf("no endpoint on the page")
	}
	return p, nil
}

// Failover is requirement 5: with the database page read through the load balancer every
// 0.5 s and Visitors more asking for it at once, the primary fails over: the standby answers
// under the same endpoint name with the same rows, the interruption is measured, and no web
// server leaves service on the health checks meanwhile (the health page does not wait on
// the database).
func Failover(ctx context.Context, env Env, db Database) []check.Result {
	r := &rows{}
	const test = "fail the database over while " + "/db.php" + " is polled every 0.5s"
	takenOut := fmt.Sprintf("no web server leaves service during the failover (%d visitors on %s)", Visitors, site.DB.URL)
	endpoint, standby, err := db.Standby(ctx)
	var nb *Unbuilt
	switch {
	case errors.As(err, &nb):
		r.out = append(r.out, check.Result{Req: 5, Check: test, Expected: "the standby takes over, same endpoint", Observed: "-", Evidence: nb.Why, Status: check.NotBuilt})
		return r.out
	case err != nil:
		r.add(5, test, "the standby takes over, same endpoint", "no standby", err.Error(), false)
		return r.out
	}
	expected := fmt.Sprintf("%s answers under %s, same rows", standby.Name, endpoint)
	// The page answers before, and every web server is in service, as on a site that has been
	// running.
	var before site.DBPage
	shown := true
	for end := time.Now().Add(60 * time.Second); time.Now().Before(end); sleep(ctx, 500) {
		if before, err = readDB(ctx, env, 0); err == nil || notShown(err) != nil {
			break
		}
	}
	if ns := notShown(err); ns != nil {
		shown = false
		r.limit(5, test, expected, ns.Why)
		r.limit(5, takenOut, "0 taken out of service", "as above: "+ns.Why)
	} else if err != nil {
		why := site.DB.URL + " never answered before the failover: " + err.Error()
		if line := db.ErrorLog(); line != "" {
			why += "; the web servers' error log: " + line
		}
		r.add(5, test, expected, "-", why, false)
		return r.out
	}
	webs := env.Webs()
	for end := time.Now().Add(60 * time.Second); shown && !allHealthy(ctx, env, webs) && time.Now().Before(end); {
		sleep(ctx, 500)
	}
	// While it fails over, visitors keep asking for the page, each asking again as soon as it
	// has an answer, and the balancer's view of every web server is watched.
	load, stopLoad := context.WithCancel(ctx)
	var wg sync.WaitGroup
	var mu sync.Mutex
	out := map[string]time.Duration{}
	start := time.Now()
	if shown {
		for i := range Visitors {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for j := i; load.Err() == nil; j++ {
					readDB(load, env, j)
				}
			}()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ; load.Err() == nil; sleep(load, 500) {
				for _, w := range webs {
					if state := env.TargetHealth(load, w); state == Unhealthy && load.Err() == nil {
						mu.Lock()
						if _, seen := out[w.Name]; !seen {
							out[w.Name] = time.Since(start)
						}
						mu.Unlock()
					}
				}
			}
		}()
	}
	finish := func() {
		stopLoad()
		wg.Wait()
	}
	defer finish()
	how, err := db.FailOver(ctx)
	if err != nil {
		r.add(5, test, expected, "-", "not failed over: "+err.Error(), false)
		return r.out
	}
	failed := time.Now()
	if shown {
		// Read every 0.5 s until the standby answers; then a few intervals more, for health
		// checks that were failing when it took over to report.
		var samples []sample
		back := false
		for i := 0; !back && time.Since(failed) < db.Within() && ctx.Err() == nil; i++ {
			asked := time.Now()
			p, err := readDB(ctx, env, i)
			samples = append(samples, sample{asked, err == nil, p})
			back = err == nil && p.Addr != before.Addr
			if !back {
				sleep(ctx, 500)
			}
		}
		sleep(ctx, int(env.Health().Leave()/time.Millisecond))
		finish()
		o := measure(append([]sample{{failed, true, before}}, samples...))
		if !back {
			r.add(5, test+" ("+how+")", expected, fmt.Sprintf("no answer from it in %s", db.Within()), fmt.Sprintf("%d reads failed", o.failed), false)
		} else {
			same := o.last.Endpoint == before.Endpoint && o.last.Rows == before.Rows
			r.add(5, test+" ("+how+")", expected, fmt.Sprintf("%s -> %s, interrupted %.1fs", before.Addr, o.last.Addr, o.longest.Seconds()),
				fmt.Sprintf("%d reads failed; endpoint %s, rows %s", o.failed, o.last.Endpoint, map[bool]string{true: "the same", false: "differ"}[same]),
				same && (standby.Private == "" || o.last.Addr == standby.Private))
		}
		var names []string
		for name, at := range out {
			names = append(names, fmt.Sprintf("%s unhealthy after %.1fs", name, at.Seconds()))
		}
		sort.Strings(names)
		evidence := "the load balancer kept every server in service"
		if len(names) > 0 {
			evidence = strings.Join(names, "; ")
		}
		r.add(5, takenOut, "0 taken out of service", fmt.Sprintf("%d taken out of service", len(names)), evidence, len(names) == 0)
	}
	r.out = append(r.out, db.AfterFailover(ctx, failed)...)
	return r.out
}
