package autoscale

import (
	"context"
	"fmt"
	"math"
	"slices"

	"github.com/webtier/webtier/twin/compiler"
	"github.com/webtier/webtier/verify"
)

// The alarms AWS makes for a target-tracking policy: out when OutPoints datapoints in a row
// are above the target, in when InPoints in a row are below 90% of it. A caller waiting for
// the controller to act allows that many datapoints (Datapoint).
const (
	OutPoints, InPoints = 3, 15
	inShare             = 0.9
)

// Resizer sets the desired size of the group res of the running twin at plan cur and applies
// the difference; it returns the new plan, saved as the twin's, and the hosts it launched and
// ended. Package twin's Resize is the one the controller runs with.
type Resizer func(ctx context.Context, cur *compiler.Plan, res string, size int) (next *compiler.Plan, launched, ended []string, err error)

// track is the size a target-tracking policy sc sets a group of desired servers to, with
// history the group's average CPU, one per datapoint since its last change, and why; desired
// when it does not change it. The size is the one that brings the average to the target, in
// the group's bounds, once an alarm has enough datapoints; warm is false while the first
// datapoint has nothing to measure from.
func track(sc verify.Scaling, desired int, history []float64, warm bool) (size int, why string) {
	size = desired
	if len(history) == 0 {
		return size, ""
	}
	average := history[len(history)-1]
	want := int(math.Ceil(float64(desired) * average / sc.CPUTarget))
	switch {
	case sc.CPUTarget <= 0:
	case warm && above(history, OutPoints, sc.CPUTarget) && want > size:
		size = min(want, sc.Max)
	case warm && below(history, InPoints, inShare*sc.CPUTarget) && want < size:
		size = max(want, sc.Min)
	}
	switch {
	case size > desired:
		why = fmt.Sprintf("average CPU %.0f%% above the target %.0f%% for %d datapoints", average, sc.CPUTarget, OutPoints)
	case size < desired:
		why = fmt.Sprintf("average CPU %.0f%% below %.0f%% (90%% of the target) for %d datapoints", average, inShare*sc.CPUTarget, InPoints)
	}
	return size, why
}

// above reports whether the last k datapoints are all above v; below, all below it.
func above(h []float64, k int, v float64) bool {
	return len(h) >= k && !slices.ContainsFunc(h[len(h)-k:], func(x float64) bool { return x <= v })
}

func below(h []float64, k int, v float64) bool {
	return len(h) >= k && !slices.ContainsFunc(h[len(h)-k:], func(x float64) bool { return x >= v })
}
