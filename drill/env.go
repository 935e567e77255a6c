package drill

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/webtier/webtier/check"
)

// Host is a server the drill reaches.
type Host struct {
	// Name is how the rows name it: the twin's host name, a bastion's Name tag, a web
	// server's instance ID on AWS (its Name tag is the group's).
	Name string
	// ID is its instance ID, as the index page shows it.
	ID string
	AZ string
	// Private and Public are its addresses (Public "" when it has none).
	Private, Public string
	// Hostnames are what `hostname` may answer on it (the name itself, or the name and a
	// domain): the twin's host name; on AWS ip-A-B-C-D after its private address, or its
	// instance ID with resource-name hostnames.
	Hostnames []string
}

// IsHostname reports whether out is what `hostname` answers on h.
func (h Host) IsHostname(out string) bool {
	for _, n := range h.Hostnames {
		if out == n || strings.HasPrefix(out, n+".") {
			return true
		}
	}
	return false
}

// Target health states, as the load balancer reports a target.
const (
	Healthy   = "healthy"
	Unhealthy = "unhealthy"
)

// Env is where the seed's tests run: the twin on this machine (package twin) or a deployed
// stack (package awsdrill). Each method acts as an operator or a visitor would; what the env
// cannot show (an emulator runs no instance) is an error wrapping a *NotShown, which the
// tests report as a check.Limitation, never as a pass.
type Env interface {
	// Webs are the web servers in service, by AZ then name.
	Webs() []Host
	// Health is the web servers' health check, read from the stack's model, timed as the env
	// runs it.
	Health() Health
	// Site names where Get sends its requests, for the rows: "the ALB nodes A, B" or
	// "http://DNS-NAME".
	Site() string
	// Get asks the site for path through the load balancer, as a visitor on the internet;
	// try picks which of the balancer's addresses (each in turn). An answer the balancer
	// gives without a healthy target (failing open) is an error.
	Get(ctx context.Context, path string, try int) (status int, body string, err error)
	// StopWeb and StartWeb stop and start a web server's web service; the string says how.
	StopWeb(ctx context.Context, h Host) (string, error)
	StartWeb(ctx context.Context, h Host) (string, error)
	// TargetHealth is the load balancer's state of h's target: Healthy, Unhealthy, or "" while
	// unknown (or while its nodes disagree).
	TargetHealth(ctx context.Context, h Host) string
}

// Progresser is an Env that shows the long waits as they go (on AWS a scaling test takes
// many minutes).
type Progresser interface {
	Progressf(format string, args ...any)
}

// progress reports a step of a long wait where the env shows them.
func progress(env Env, format string, args ...any) {
	if p, ok := env.(Progresser); ok {
		p.Progressf(format, args...)
	}
}

// AlarmWatcher is an Env that sees the notifications of the stack's alarms (the twin's
// CloudWatch and SNS stand-ins): after a web server stopped at since, the row of the
// unhealthy-host alarm's notification.
type AlarmWatcher interface {
	UnhealthyAlarm(ctx context.Context, since time.Time) check.Result
}

// NotShown is what an env cannot show: the emulator behind a deployed stack runs no
// instance, serves no load balancer, moves no database.
type NotShown struct {
	// Why says what was not shown and what the API answered instead.
	Why string
}

func (e *NotShown) Error() string { return e.Why }

// notShown is the *NotShown err wraps, or nil.
func notShown(err error) *NotShown {
	var ns *NotShown
	if errors.As(err, &ns) {
		return ns
	}
	return nil
}

// rows records a test's rows.
type rows struct {
	out []check.Result
}

func (r *rows) add(req int, test, expected, observed, evidence string, ok bool) {
	r.out = append(r.out, check.Result{Req: req, Check: test, Expected: expected, Observed: observed, Evidence: evidence, Status: check.Verdict(ok)})
}

// limit records a test the env could not show, and why.
func (r *rows) limit(req int, test, expected, why string) {
	r.out = append(r.out, check.Result{Req: req, Check: test, Expected: expected, Observed: "-", Evidence: why, Status: check.Limitation})
}

// sleep waits ms milliseconds or until ctx ends.
func sleep(ctx context.Context, ms int) {
	t := time.NewTimer(time.Duration(ms) * time.Millisecond)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
