package drill

import (
	"context"
	"testing"
	"time"

	"github.com/webtier/webtier/check"
	"github.com/webtier/webtier/site"
)

// TestMeasure: the interruption runs from the first failed read to the next good one.
func TestMeasure(t *testing.T) {
	t0 := time.Unix(0, 0)
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	a, b := site.DBPage{Endpoint: "db.example", Addr: "10.16.5.10", Rows: "<tr>1</tr>"}, site.DBPage{Endpoint: "db.example", Addr: "10.16.6.10", Rows: "<tr>1</tr>"}
	o := measure([]sample{{at(0), true, a}, {at(0.5), false, site.DBPage{}}, {at(1), false, site.DBPage{}}, {at(3.5), true, b}, {at(4), false, site.DBPage{}}, {at(4.5), true, b}})
	if o.longest != 3*time.Second || o.failed != 3 || !o.recovered || o.first != a || o.last != b {
		t.Errorf("got %+v; want longest 3s, 3 failed, recovered, first %v, last %v", o, a, b)
	}
	o = measure([]sample{{at(0), true, a}, {at(1), false, site.DBPage{}}, {at(5), false, site.DBPage{}}})
	if o.recovered || o.longest != 4*time.Second {
		t.Errorf("never answering again: got %+v; want not recovered, longest 4s", o)
	}
}

// fakeDB fails the fake site's database over: the page fails for down, then answers from the
// standby's address.
type fakeDB struct {
	f       *fakeSite
	down    time.Duration
	unbuilt bool
	after   []check.Result
}

func (d *fakeDB) Standby(context.Context) (string, Host, error) {
	if d.unbuilt {
		return "", Host{}, &Unbuilt{Why: "no database here"}
	}
	return "db.example", Host{Name: "db-c", Private: "10.16.6.10"}, nil
}

func (d *fakeDB) FailOver(context.Context) (string, error) {
	d.f.mu.Lock()
	defer d.f.mu.Unlock()
	d.f.failedOver = time.Now()
	d.f.dbDownUntil = time.Now().Add(d.down)
	d.f.dbAddr = "10.16.6.10"
	return "the fake primary fails", nil
}

func (d *fakeDB) Within() time.Duration { return 2 * time.Second }
func (d *fakeDB) AfterFailover(context.Context, time.Time) []check.Result {
	return append(d.after, check.Result{Req: 5, Check: "the env's own row", Status: check.Pass})
}
func (d *fakeDB) ErrorLog() string { return "" }

// TestFailover: requirement 5's rows on a fake site: the standby answering under the same
// endpoint after an interruption passes, with the env's own rows after; the standby never
// answering, a web server taken out of service, a database the env does not run and an env
// that cannot show traffic each give the row that says so.
func TestFailover(t *testing.T) {
	for _, c := range []struct {
		name string
		edit func(*fakeSite, *fakeDB)
		want []check.Status
		says string
	}{
		{"as designed", func(*fakeSite, *fakeDB) {}, []check.Status{check.Pass, check.Pass, check.Pass}, "10.16.5.10 -> 10.16.6.10, interrupted "},
		{"the standby never answers", func(_ *fakeSite, d *fakeDB) { d.down = time.Hour }, []check.Status{check.Fail, check.Pass, check.Pass}, "no answer from it in 2s"},
		{"a web server taken out", func(f *fakeSite, _ *fakeDB) { f.outAfter = "i-c" }, []check.Status{check.Pass, check.Fail, check.Pass}, "web-c-1 unhealthy after"},
		{"no database here", func(_ *fakeSite, d *fakeDB) { d.unbuilt = true }, []check.Status{check.NotBuilt}, "no database here"},
		{"the emulator", func(f *fakeSite, _ *fakeDB) { f.notShown = true }, []check.Status{check.Limitation, check.Limitation, check.Pass}, "as above: the fake emulator serves nothing"},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFakeSite(webA, webC)
			f.dbAddr = "10.16.5.10"
			d := &fakeDB{f: f, down: 300 * time.Millisecond}
			c.edit(f, d)
			checkRows(t, Failover(context.Background(), f, d), c.want, c.says)
		})
	}
}
