package drill

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/webtier/webtier/check"
	"github.com/webtier/webtier/site"
	"github.com/webtier/webtier/verify"
)

// fakeSite is a load balancer in front of web servers, on a fast clock: a stopped server's
// target turns unhealthy (and leaves the rotation) after leave, a started one healthy after
// back; a server that never answers is never in rotation.
type fakeSite struct {
	mu          sync.Mutex
	webs        []Host
	leave, back time.Duration
	stopped     map[string]time.Time
	started     map[string]time.Time
	dead        string // a server that never answers
	next        int
	notShown    bool
	files       []string // on the shared file system
	unmounted   string   // a server whose page lists no file
	writeErr    error
	dbAddr      string    // where the database endpoint resolves ("" : no database page)
	dbDownUntil time.Time // the database does not answer until then
	outAfter    string    // a server the failover takes out of service
	failedOver  time.Time
}

// quick is a health check whose windows are 200 ms: every 50 ms.
var quick = Health{HealthCheck: verify.HealthCheck{Path: "/healthz.php", Interval: 1, Timeout: 1, Healthy: 2, Unhealthy: 2}, Scale: 20}

func newFakeSite(webs ...Host) *fakeSite {
	return &fakeSite{webs: webs, leave: 80 * time.Millisecond, back: 80 * time.Millisecond, stopped: map[string]time.Time{}, started: map[string]time.Time{}}
}

func (f *fakeSite) Webs() []Host   { return f.webs }
func (f *fakeSite) Health() Health { return quick }
func (f *fakeSite) Site() string   { return "the fake balancer" }

// healthy says whether the balancer has h in service now.
func (f *fakeSite) healthy(id string) bool {
	if id == f.dead {
		return false
	}
	if at, ok := f.stopped[id]; ok {
		return time.Since(at) < f.leave
	}
	if at, ok := f.started[id]; ok {
		return time.Since(at) >= f.back
	}
	return true
}

func (f *fakeSite) Get(_ context.Context, path string, _ int) (int, string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.notShown {
		return 0, "", &NotShown{Why: "the fake emulator serves nothing"}
	}
	if path == site.DB.URL && f.dbAddr != "" {
		if time.Now().Before(f.dbDownUntil) {
			return 503, site.Unavailable, nil
		}
		return 200, site.DBHTML("db.example", f.dbAddr, [][3]string{{"1", "KIM", "SEOUL"}}, ""), nil
	}
	if path != site.Index.URL {
		return 404, "", nil
	}
	var in []Host
	for _, w := range f.webs {
		if f.healthy(w.ID) {
			in = append(in, w)
		}
	}
	if len(in) == 0 {
		return 503, "", nil
	}
	w := in[f.next%len(in)]
	f.next++
	if _, stopped := f.stopped[w.ID]; stopped {
		return 502, "", nil // in rotation still, but its httpd refuses
	}
	shared := f.files
	if w.ID == f.unmounted {
		shared = nil
	}
	return 200, site.IndexHTML([][2]string{{site.InstanceID, w.ID}, {site.AZ, w.AZ}}, shared, "fake "+w.ID), nil
}

func (f *fakeSite) StopWeb(_ context.Context, h Host) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.stopped[h.ID] = time.Now()
	return "stopped by the test", nil
}

func (f *fakeSite) StartWeb(_ context.Context, h Host) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.stopped, h.ID)
	f.started[h.ID] = time.Now()
	return "started by the test", nil
}

func (f *fakeSite) TargetHealth(_ context.Context, h Host) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.healthy(h.ID) && !(h.ID == f.outAfter && !f.failedOver.IsZero()) {
		return Healthy
	}
	return Unhealthy
}

var (
	webA = Host{Name: "web-a-1", ID: "i-a", AZ: "az-a"}
	webC = Host{Name: "web-c-1", ID: "i-c", AZ: "az-c"}
)

// TestBalancing: requirement 2's rows on a fake balancer: every server answering, leaving
// and returning within the windows passes; a server that stays in rotation, a server that
// returns late, a server that never answers, one AZ only, and an env that cannot show
// traffic each give the row that says so.
func TestBalancing(t *testing.T) {
	for _, c := range []struct {
		name string
		edit func(*fakeSite)
		want []check.Status // the results of the rows, in order
		says string         // a row's observed or evidence says this
	}{
		{"as designed", func(*fakeSite) {}, []check.Status{check.Pass, check.Pass, check.Pass}, "2 instances answered"},
		{"a stopped server stays in rotation", func(f *fakeSite) { f.leave = time.Hour }, []check.Status{check.Pass, check.Fail, check.Pass}, "not seen in"},
		{"a started server returns late", func(f *fakeSite) { f.back = 400 * time.Millisecond }, []check.Status{check.Pass, check.Pass, check.Fail}, "after"},
		{"a server never answers", func(f *fakeSite) { f.dead = "i-c" }, []check.Status{check.Fail, check.Fail, check.Fail}, "not run: the requests above did not all succeed"},
		{"one AZ", func(f *fakeSite) { f.webs[1].AZ = "az-a" }, []check.Status{check.Pass, check.Fail, check.Pass, check.Pass}, "every web server in service is in az-a"},
		{"the emulator", func(f *fakeSite) { f.notShown = true }, []check.Status{check.Limitation, check.Limitation, check.Limitation}, "as above: the fake emulator serves nothing"},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFakeSite(webA, webC)
			c.edit(f)
			rows := Balancing(context.Background(), f)
			checkRows(t, rows, c.want, c.says)
		})
	}
}

// checkRows checks the rows' results, in order, and that one of them says says (in its test,
// expected, observed or evidence).
func checkRows(t *testing.T, rows []check.Result, want []check.Status, says string) {
	t.Helper()
	var got []check.Status
	var text strings.Builder
	for _, r := range rows {
		got = append(got, r.Status)
		fmt.Fprintf(&text, "%s | %s | %s | %s | %s\n", r.Check, r.Expected, r.Observed, r.Status, r.Evidence)
	}
	if !slices.Equal(got, want) || !strings.Contains(text.String(), says) {
		t.Errorf("got %v, want %v and a row that says %q:\n%s", got, want, says, text.String())
	}
}
