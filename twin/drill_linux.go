package twin

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/webtier/webtier/twin/autoscale"
	"github.com/webtier/webtier/twin/compiler"
	"github.com/webtier/webtier/twin/probe"

	"github.com/webtier/webtier/check"
	seed "github.com/webtier/webtier/drill"
	"github.com/webtier/webtier/rules"
	"github.com/webtier/webtier/site"
	"github.com/webtier/webtier/twin/standin"
	"github.com/webtier/webtier/verify"
)

// The seed's own tests (package drill, written once for the twin and AWS) run on the twin:
// the twin is their environment (drill.Stack: here, drillenv_linux.go, drillscale_linux.go,
// efs_linux.go). A test whose stand-in this machine lacks (the database without MariaDB) says
// NOT BUILT.

// webAZs are the AZs the web servers run in.
func webAZs(webs []*compiler.Host) []string {
	var out []string
	for _, w := range webs {
		if !slices.Contains(out, w.AZ) {
			out = append(out, w.AZ)
		}
	}
	return out
}

// drill is the twin as the tests' environment: the plan and a thread in each namespace they
// use.
type drill struct {
	p       *compiler.Plan
	threads probe.Threads
	// primary is the database's primary, once Standby found it.
	primary *compiler.Host
}

// row is a row that passed when ok.
func row(req int, test, expected, observed, evidence string, ok bool) check.Result {
	return newRow(req, test, expected, observed, evidence, check.Verdict(ok))
}

// Drill runs the seed's tests of the requirements reqs (all when empty) on a running twin and
// returns one row per test. A test that cannot run is a row that says why; the error is nil.
func Drill(ctx context.Context, p *compiler.Plan, reqs ...int) ([]check.Result, error) {
	d := &drill{p: p}
	defer d.threads.Stop()
	var rows []check.Result
	for req := 1; req <= 6; req++ {
		switch {
		case len(reqs) > 0 && !slices.Contains(reqs, req):
		case req == 1:
			rows = append(rows, d.access(ctx)...)
		default:
			rows = append(rows, seed.Test(ctx, d, req)...)
		}
	}
	return rows, nil
}

// UnhealthyAlarm: with a web server out of service, the stack's alarm on the ALB's
// UnHealthyHostCount goes to ALARM and its notification reaches its topic (the twin's
// CloudWatch and SNS stand-ins, package autoscale).
func (d *drill) UnhealthyAlarm(ctx context.Context, since time.Time) check.Result {
	const test = "the unhealthy-host alarm notifies its topic"
	var alarm *verify.MetricAlarm
	for i, a := range d.p.Alarms {
		if a.Namespace == "AWS/ApplicationELB" && a.Metric == "UnHealthyHostCount" && len(a.AlarmTopics) > 0 {
			alarm = &d.p.Alarms[i]
			break
		}
	}
	switch {
	case alarm == nil && d.p.Live:
		return newRow(2, test, "ALARM to its topic", "-",
			"the alarms of a deployed stack are not read back yet (verify --live says not read)", check.NotBuilt)
	case alarm == nil:
		return row(2, test, "ALARM to its topic", "no alarm", "the stack has no alarm on AWS/ApplicationELB UnHealthyHostCount that notifies a topic", false)
	}
	want := "ALARM to " + strings.Join(alarm.AlarmTopics, ", ")
	limit := time.Duration(alarm.EvaluationPeriods+3) * autoscale.Datapoint()
	for deadline := time.Now().Add(limit); time.Now().Before(deadline); sleep(ctx, 200) {
		sent, err := standin.ReadNotifications(compiler.StateDir(d.p.Prefix))
		if err != nil {
			return row(2, test+" ("+alarm.Name+")", want, "-", err.Error(), false)
		}
		for _, n := range sent {
			if n.At.After(since) && n.Alarm == alarm.Name && n.State == "ALARM" {
				return row(2, test+" ("+alarm.Name+")", want, fmt.Sprintf("ALARM to %s after %.1fs", n.Topic, n.At.Sub(since).Seconds()),
					n.Reason+"; recorded in "+standin.SNSLog, true)
			}
		}
	}
	return row(2, test+" ("+alarm.Name+")", want, "no notification in "+limit.String(),
		fmt.Sprintf("%d of %d datapoints of %s must breach; the ALB nodes' counts are in %s", alarm.DatapointsToAlarm, alarm.EvaluationPeriods, autoscale.Datapoint(), "*.targets.json"), false)
}

// albHealth is the web servers' health check, read from the model, timed as the twin runs it
// (standin.TimeScale).
func albHealth(p *compiler.Plan) seed.Health {
	h, _ := seed.WebHealth(p.Network(), standin.TimeScale)
	return h
}

// lastLogLine is the last line starting with prefix in the logs of the hosts of a role (as
// PHP-FPM's error log on the instances), or "".
func (d *drill) lastLogLine(role rules.Role, prefix string) string {
	last := ""
	for _, h := range d.p.HostsOfRole(role) {
		data, _ := os.ReadFile(filepath.Join(compiler.StateDir(d.p.Prefix), h.Name+".log"))
		for _, line := range strings.Split(string(data), "\n") {
			if strings.HasPrefix(line, prefix) {
				last = line
			}
		}
	}
	return last
}

// Standby is the database's endpoint name and its standby, from the stand-ins' specs.
func (d *drill) Standby(context.Context) (string, seed.Host, error) {
	var primary, standby *compiler.Host
	for _, s := range d.p.Specs(compiler.StandIns{DB: standin.HasMariaDB()}) {
		if s.DB != nil {
			h, _ := d.p.Host(s.Host)
			if s.DB.Primary {
				primary = h
			} else if standby == nil {
				standby = h
			}
		}
	}
	switch {
	case !standin.HasMariaDB():
		return "", seed.Host{}, &seed.Unbuilt{Why: "MariaDB (mariadb-server) is not installed; `make setup` installs it as root"}
	case primary == nil:
		return "", seed.Host{}, fmt.Errorf("the stack has no database")
	case standby == nil:
		return "", seed.Host{}, fmt.Errorf("the database has one subnet (%s): Multi-AZ needs a DB subnet group over two AZs", primary.Subnet)
	}
	d.primary = primary
	return d.p.DBEndpoint(), seedHost(standby), nil
}

// FailOver fails the primary's host: its link goes down (a connection to it waits for its
// timeout, as to a failed host on AWS) and its database process ends at once. The standby
// takes over as the twin's RDS stand-in does.
func (d *drill) FailOver(ctx context.Context) (string, error) {
	data, err := os.ReadFile(standin.DBPidFile(compiler.StateDir(d.p.Prefix)))
	pid, perr := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || perr != nil || d.primary == nil {
		return "", fmt.Errorf("no primary process to stop")
	}
	if err := theKernel(d.p.Prefix).IP(ctx, d.primary.Namespace, []string{"link set eth0 down"}, false); err != nil {
		return "", err
	}
	syscall.Kill(pid, syscall.SIGKILL)
	return d.primary.Name + "'s host fails", nil
}

// Within bounds the twin's failover: RDS's 60 s divided by 5 takes 12 s.
func (d *drill) Within() time.Duration { return 60 * time.Second }

// AfterFailover is the row of the failover's event notification.
func (d *drill) AfterFailover(ctx context.Context, since time.Time) []check.Result {
	return []check.Result{d.failoverEvent(ctx, since)}
}

// ErrorLog is the last line /db.php wrote to the web servers' error log.
func (d *drill) ErrorLog() string { return d.lastLogLine(rules.Web, site.ErrorLogPrefix) }

// failoverEvent: the failover's RDS event reaches the topic of the stack's event subscription
// (the twin's stand-in for RDS's event notifications, alarms.go).
func (d *drill) failoverEvent(ctx context.Context, since time.Time) check.Result {
	const test = "the failover's event notifies its topic"
	var sub *verify.EventSubscription
	for i, s := range d.p.DBEvents {
		if s.Topic != "" && (len(s.Categories) == 0 || slices.Contains(s.Categories, "failover")) {
			sub = &d.p.DBEvents[i]
			break
		}
	}
	switch {
	case sub == nil && d.p.Live:
		return newRow(5, test, "a failover event to its topic", "-",
			"the event subscriptions of a deployed stack are not read back yet", check.NotBuilt)
	case sub == nil:
		return row(5, test, "a failover event to its topic", "no subscription", "the stack has no RDS event subscription of its database's failover category that sends to a topic", false)
	}
	want := "failover to " + sub.Topic
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); sleep(ctx, 200) {
		sent, err := standin.ReadNotifications(compiler.StateDir(d.p.Prefix))
		if err != nil {
			return row(5, test+" ("+sub.Name+")", want, "-", err.Error(), false)
		}
		for _, n := range sent {
			if n.At.After(since) && n.Subscription == sub.Name && n.Category == "failover" {
				return row(5, test+" ("+sub.Name+")", want, fmt.Sprintf("failover to %s after %.1fs", n.Topic, n.At.Sub(since).Seconds()),
					n.Reason+"; recorded in "+standin.SNSLog, true)
			}
		}
	}
	return row(5, test+" ("+sub.Name+")", want, "no notification in 5s after the standby answered", "nothing in "+standin.SNSLog, false)
}

// throughGateway reports whether h's route table sends addr to a gateway endpoint (longest
// prefix among its routes, as AWS picks).
func throughGateway(h *compiler.Host, addr netip.Addr) bool {
	best, gateway := -1, false
	for _, r := range h.Endpoint().Subnet.Routes.Routes {
		cidrs := []netip.Prefix{r.Dest}
		if r.List != "" {
			cidrs = r.ListCIDRs
		}
		for _, c := range cidrs {
			if c.IsValid() && c.Contains(addr) && c.Bits() > best {
				best, gateway = c.Bits(), r.Kind == verify.TargetGateway
			}
		}
	}
	return gateway
}

// newRow is a row of the drill.
func newRow(req int, test, expected, observed, evidence string, result check.Status) check.Result {
	return check.Result{Req: req, Check: test, Expected: expected, Observed: observed, Evidence: evidence, Status: result}
}
