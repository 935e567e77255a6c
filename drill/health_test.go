package drill

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/webtier/webtier/verify"
)

// TestWebHealth: the example stack's health check, read from its model, and the windows the
// drill allows a stopped server to leave the rotation and a started one to return, on AWS's
// clock and on the twin's (time / 5).
func TestWebHealth(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "testdata", "webtier.tf.json"))
	if err != nil {
		t.Fatal(err)
	}
	n, err := verify.Load(data)
	if err != nil {
		t.Fatal(err)
	}
	h, ok := WebHealth(n, 1)
	want := verify.HealthCheck{Path: "/healthz.php", Interval: 15, Timeout: 5, Healthy: 2, Unhealthy: 3, Matcher: "200"}
	if !ok || h.HealthCheck != want {
		t.Fatalf("WebHealth: got %+v, %v; want %+v", h.HealthCheck, ok, want)
	}
	for _, c := range []struct {
		scale               int
		leave, back, settle time.Duration
	}{
		// (3+1) x 15 + 5, (2+1) x 15 + 5, (2+2) x 15
		{1, 65 * time.Second, 50 * time.Second, 60 * time.Second},
		{5, 13 * time.Second, 10 * time.Second, 12 * time.Second},
	} {
		h.Scale = c.scale
		if h.Leave() != c.leave || h.Return() != c.back || h.Settle() != c.settle {
			t.Errorf("scale %d: leave %s, return %s, settle %s; want %s, %s, %s", c.scale, h.Leave(), h.Return(), h.Settle(), c.leave, c.back, c.settle)
		}
	}
	if _, ok := WebHealth(&verify.Network{}, 1); ok {
		t.Error("WebHealth found a health check in a network without a load balancer")
	}
}
