package autoscale

import (
	"slices"
	"strings"
	"testing"

	"github.com/webtier/webtier/verify"
)

// TestTargetTracking: the controller grows the group once OutPoints datapoints in a row are
// above the target, to the size that brings the average to the target, at most Max; it
// shrinks it once InPoints in a row are below 90% of the target, at least to Min; nothing
// before the meter is warm, between the two alarms, or without a target.
func TestTargetTracking(t *testing.T) {
	sc := verify.Scaling{Min: 2, Max: 4, CPUTarget: 50}
	repeat := func(v float64, k int) []float64 { return slices.Repeat([]float64{v}, k) }
	for _, c := range []struct {
		name    string
		sc      verify.Scaling
		desired int
		history []float64
		warm    bool
		want    int
		why     string
	}{
		{"3 above", sc, 2, repeat(80, OutPoints), true, 4, "above the target 50% for 3 datapoints"},
		{"2 above", sc, 2, repeat(80, OutPoints-1), true, 2, ""},
		{"a dip among them", sc, 2, []float64{80, 40, 80}, true, 2, ""},
		{"3 above, a little", sc, 2, repeat(60, OutPoints), true, 3, "above"},
		{"3 above, at most max", sc, 3, repeat(100, OutPoints), true, 4, "above"},
		{"not warm", sc, 2, repeat(80, OutPoints), false, 2, ""},
		{"at max", sc, 4, repeat(100, OutPoints), true, 4, ""},
		{"15 below", sc, 4, repeat(10, InPoints), true, 2, "below 45% (90% of the target) for 15 datapoints"},
		{"14 below", sc, 4, repeat(10, InPoints-1), true, 4, ""},
		{"15 at 90% of the target", sc, 4, repeat(45, InPoints), true, 4, ""},
		{"15 below, a little", sc, 4, repeat(30, InPoints), true, 3, "below"},
		{"no target", verify.Scaling{Min: 2, Max: 4}, 2, repeat(80, OutPoints), true, 2, ""},
	} {
		size, why := track(c.sc, c.desired, c.history, c.warm)
		if size != c.want || !strings.Contains(why, c.why) || (c.why == "") != (why == "") {
			t.Errorf("%s: %d servers, datapoints %v: size %d (%q); want %d (%q)", c.name, c.desired, c.history, size, why, c.want, c.why)
		}
	}
}
