package drill

import (
	"context"
	"testing"
	"time"

	"github.com/webtier/webtier/check"
)

// fakeScaler grows the fake site's group by one server 100 ms after the load starts (the new
// server answering unless silent), and shrinks it back 100 ms after the load stops.
type fakeScaler struct {
	f                *fakeSite
	target           float64
	grows, silent    bool
	notShown         bool
	loaded, unloaded time.Time
	min              int
	stays            bool // the launched server's instance is still there after it left the group
}

var webN = Host{Name: "web-a-2", ID: "i-n", AZ: "az-a"}

func (s *fakeScaler) Group(context.Context) (Group, error) {
	s.f.mu.Lock()
	defer s.f.mu.Unlock()
	g := Group{Name: "web", Min: s.min, Max: 4, Desired: s.min, CPUTarget: s.target, Instances: append([]Host(nil), s.f.webs...)}
	if s.grows && !s.loaded.IsZero() && time.Since(s.loaded) > 100*time.Millisecond && (s.unloaded.IsZero() || time.Since(s.unloaded) < 100*time.Millisecond) {
		g.Desired++
		if len(s.f.webs) == s.min {
			s.f.webs = append(s.f.webs, webN)
			if s.silent {
				s.f.dead = webN.ID
			}
		}
		g.Instances = append([]Host(nil), s.f.webs...)
	} else if len(s.f.webs) > s.min {
		s.f.webs = s.f.webs[:s.min]
		g.Instances = append([]Host(nil), s.f.webs...)
	}
	return g, nil
}

func (s *fakeScaler) Load(context.Context, []Host) (func(), string, error) {
	if s.notShown {
		return nil, "", &NotShown{Why: "the fake emulator publishes no CPU metric"}
	}
	s.loaded = time.Now()
	return func() {
		if s.unloaded.IsZero() {
			s.unloaded = time.Now()
		}
	}, "loaded by the test", nil
}

func (s *fakeScaler) ScaleWithin() (time.Duration, time.Duration, time.Duration) {
	return time.Second, time.Second, 20 * time.Millisecond
}

func (s *fakeScaler) Gone(context.Context, Host) bool { return !s.stays }

// TestScaling: requirement 4's rows on a fake group: growing under load with the new server
// answering, then shrinking back with it gone, passes; no CPU policy, no growth, a new server
// that never answers, one left behind and an env that cannot show it each give the row that
// says so.
func TestScaling(t *testing.T) {
	for _, c := range []struct {
		name string
		edit func(*fakeScaler)
		want []check.Status
		says string
	}{
		{"as designed", func(*fakeScaler) {}, []check.Status{check.Pass, check.Pass}, "web-a-2 answered through the load balancer"},
		{"no CPU policy", func(s *fakeScaler) { s.target = 0 }, []check.Status{check.Fail}, "web has no target-tracking policy on average CPU"},
		{"no growth", func(s *fakeScaler) { s.grows = false }, []check.Status{check.Fail}, "desired 2 after 1s"},
		{"the new server never answers", func(s *fakeScaler) { s.silent = true }, []check.Status{check.Fail}, "no new server answered"},
		{"the new server left behind", func(s *fakeScaler) { s.stays = true }, []check.Status{check.Pass, check.Fail}, "still there: web-a-2"},
		{"the emulator", func(s *fakeScaler) { s.notShown = true }, []check.Status{check.Limitation, check.Limitation}, "the fake emulator publishes no CPU metric"},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFakeSite(webA, webC)
			s := &fakeScaler{f: f, target: 50, grows: true, min: 2}
			c.edit(s)
			checkRows(t, Scaling(context.Background(), f, s), c.want, c.says)
		})
	}
}
