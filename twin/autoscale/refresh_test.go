package autoscale

import (
	"testing"

	"github.com/webtier/webtier/verify"
)

// TestRefreshBatches: an instance refresh launches replacements first when the preferences
// allow more than the desired capacity (or keep all of it), as many at a time as they allow,
// and otherwise terminates as many at a time as the minimum healthy percentage leaves,
// rounded up, at least one.
func TestRefreshBatches(t *testing.T) {
	for _, c := range []struct {
		desired, min, max int
		room, batch       int
	}{
		{2, 100, 150, 1, 1}, // the example stack's: one replacement first
		{2, 50, 100, 0, 1},  // the example's before: one terminated at a time
		{4, 50, 100, 0, 2},
		{2, 90, 100, 0, 1}, // AWS's defaults: 90% of 2 is 2 in service, still one at a time
		{4, 100, 100, 1, 1},
		{4, 90, 200, 4, 1},
		{3, 0, 100, 0, 3},
	} {
		room, batch := batches(c.desired, verify.Refresh{MinHealthy: c.min, MaxHealthy: c.max})
		if room != c.room || (room == 0 && batch != c.batch) {
			t.Errorf("%d servers, min %d%%, max %d%%: %d launched first, %d terminated at a time; want %d and %d",
				c.desired, c.min, c.max, room, batch, c.room, c.batch)
		}
	}
}
