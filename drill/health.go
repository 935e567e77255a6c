package drill

import (
	"time"

	"github.com/webtier/webtier/rules"
	"github.com/webtier/webtier/verify"
)

// Health is the web servers' health check as the drill times it: the check of the stack's
// model, its seconds divided by Scale (1 on AWS; the twin runs its clocks faster).
type Health struct {
	verify.HealthCheck
	// Scale divides every time of the check. default: 1
	Scale int
}

// WebHealth is the health check of the first target group the web servers are registered in,
// read from the model, timed at scale; false when no listener forwards to a web server.
func WebHealth(n *verify.Network, scale int) (Health, bool) {
	for _, lb := range n.LBs {
		for _, l := range lb.Listeners {
			for _, g := range l.Groups {
				for _, t := range g.Targets {
					if t.ENI != nil && t.ENI.Role == rules.Web {
						return Health{HealthCheck: g.Health, Scale: scale}, true
					}
				}
			}
		}
	}
	return Health{Scale: scale}, false
}

func (h Health) seconds(n int) time.Duration {
	return time.Duration(n) * time.Second / time.Duration(max(h.Scale, 1))
}

// Every is the check's interval.
func (h Health) Every() time.Duration { return h.seconds(h.Interval) }

// Leave is the longest a target whose web server stopped may stay in rotation: the first
// check starts within an interval, then Unhealthy checks fail in a row, the last after its
// timeout.
func (h Health) Leave() time.Duration {
	return h.seconds((h.Unhealthy+1)*h.Interval + h.Timeout)
}

// Return is the longest a target whose web server started again may stay out: the first
// check starts within an interval, then Healthy checks pass in a row, the last within its
// timeout. (The twin's drill allowed (Healthy+1) intervals and AWS's that plus the timeout:
// one bound, the same slack as Leave's.)
func (h Health) Return() time.Duration {
	return h.seconds((h.Healthy+1)*h.Interval + h.Timeout)
}

// Settle bounds the waits that prepare a test and judge nothing: a server that just started
// or just launched passes its health checks and answers within Healthy+2 intervals.
func (h Health) Settle() time.Duration { return h.seconds((h.Healthy + 2) * h.Interval) }
