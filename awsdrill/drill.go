package awsdrill

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	asgtypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/aws-sdk-go-v2/service/rds"

	"github.com/webtier/webtier/config"
	"github.com/webtier/webtier/live"
	"github.com/webtier/webtier/twin"
	"github.com/webtier/webtier/verify"
)

// Shell runs command on host as ec2-user over SSH, through the bastion via (straight from
// this machine when via is "") and returns its output.
type Shell func(ctx context.Context, via, host, command string) (string, error)

// Fetch GETs url and returns the status and the body.
type Fetch func(ctx context.Context, url string) (status int, body string, err error)

// Options say which stack to drill and how to reach it.
type Options struct {
	// AWS is the SDK configuration of the target (live.Connect). default: none (required)
	AWS aws.Config
	// Config is the stack's config: the fleet's sizes and CPU target, the NAT placement.
	Config config.Config
	// Emulator is true for the local emulator (moto): every API call runs, nothing is dialed,
	// and what only traffic could show is a twin.Limitation row. default: false
	Emulator bool
	// Shell reaches the instances. default: none (required unless Emulator)
	Shell Shell
	// Fetch reaches the load balancer. default: HTTPFetch
	Fetch Fetch
	// Progress gets a line per step of the long tests (they take minutes on AWS). default: discarded
	Progress io.Writer
	// ScaleOut and ScaleIn bound the waits of the scaling test: target tracking adds
	// capacity after 3 minutes above target and removes it after 15 below.
	// default: 15 minutes, 30 minutes
	ScaleOut, ScaleIn time.Duration
}

func (o Options) withDefaults() Options {
	if o.Fetch == nil {
		o.Fetch = HTTPFetch
	}
	if o.Progress == nil {
		o.Progress = io.Discard
	}
	if o.ScaleOut == 0 {
		o.ScaleOut = 15 * time.Minute
	}
	if o.ScaleIn == 0 {
		o.ScaleIn = 30 * time.Minute
	}
	return o
}

// ErrNoShell is returned when a real account is drilled without a way to SSH.
var ErrNoShell = errors.New("awsdrill: no SSH shell: the tests on AWS log in to the instances")

// drill is one run: the options, the clients, the facts and the rows so far.
type drill struct {
	o    Options
	f    *facts
	asg  *autoscaling.Client
	elb  *elbv2.Client
	rds  dbAPI
	rows []twin.DrillRow
}

// dbAPI is the part of RDS the failover test calls, the one API it calls on the emulator
// too: an interface, so that tests can stand in for it.
type dbAPI interface {
	RebootDBInstance(context.Context, *rds.RebootDBInstanceInput, ...func(*rds.Options)) (*rds.RebootDBInstanceOutput, error)
	DescribeDBInstances(context.Context, *rds.DescribeDBInstancesInput, ...func(*rds.Options)) (*rds.DescribeDBInstancesOutput, error)
}

// Run describes the stack behind o.AWS and runs the six tests on it, in the seed's order.
// An error means the stack could not be read (nothing to drill); a test that cannot be done
// is a row.
func Run(ctx context.Context, o Options) ([]twin.DrillRow, error) {
	if !o.Emulator && o.Shell == nil {
		return nil, ErrNoShell
	}
	if o.Emulator {
		// The addresses moto hands out are not ours (54.x bastions, ALB names under
		// amazonaws.com): whatever a test would send there stays on this machine.
		o.Shell = func(_ context.Context, _, host, _ string) (string, error) {
			return "", fmt.Errorf("awsdrill: %s is the emulator's: not dialed", host)
		}
		o.Fetch = func(_ context.Context, url string) (int, string, error) {
			return 0, "", fmt.Errorf("awsdrill: %s is the emulator's: not dialed", url)
		}
	}
	s, err := live.Describe(ctx, o.AWS)
	if err != nil {
		return nil, err
	}
	return run(ctx, o, s, rds.NewFromConfig(o.AWS))
}

// run is Run on a described stack.
func run(ctx context.Context, o Options, s *live.Stack, db dbAPI) ([]twin.DrillRow, error) {
	o = o.withDefaults()
	n, _, err := s.Model()
	if err != nil {
		return nil, fmt.Errorf("awsdrill: the deployed stack cannot be modelled:\n%w", err)
	}
	f, err := factsOf(s, n, o.Config.Bastions())
	if err != nil {
		return nil, err
	}
	in, err := verify.IntentOf(o.Config)
	if err != nil {
		return nil, err
	}
	if !o.Config.Bastions() && !o.Emulator {
		o.Shell = noBastionShell
	}
	d := &drill{o: o, f: f, asg: autoscaling.NewFromConfig(o.AWS), elb: elbv2.NewFromConfig(o.AWS), rds: db}
	shapes := shapeRows(verify.Shapes(n, in), s.Shapes(o.Emulator))
	for _, req := range []struct {
		n   int
		run func(context.Context)
	}{{1, d.access}, {2, d.balancing}, {3, d.nat}, {4, d.scaling}, {5, d.failover}, {6, d.efs}} {
		d.rows = append(d.rows, shapes[req.n]...)
		req.run(ctx)
	}
	return d.rows, nil
}

// shapeRows turns the shape checks of the deployed stack (the model's, then live's of what
// exists only once deployed, both read from the APIs) into drill rows under the requirement
// each names: OK is a pass, a limitation stays a limitation. The drill repeats them rather
// than judge the same facts twice.
func shapeRows(model []verify.ShapeResult, shapes []live.Shape) map[int][]twin.DrillRow {
	out := map[int][]twin.DrillRow{}
	for _, sh := range model {
		result := twin.Fail
		if sh.OK {
			result = twin.Pass
		}
		out[sh.Req] = append(out[sh.Req], twin.DrillRow{Req: sh.Req, Test: "API: " + sh.Check, Expected: "as configured",
			Observed: sh.Detail, Evidence: "shape check of the model read from the APIs", Result: result})
	}
	for _, sh := range shapes {
		result := twin.Fail
		switch sh.Status {
		case live.OK:
			result = twin.Pass
		case live.Limitation:
			result = twin.Limitation
		}
		out[sh.Req] = append(out[sh.Req], twin.DrillRow{Req: sh.Req, Test: "API: " + sh.Check, Expected: "as configured",
			Observed: sh.Observed, Evidence: "live shape check", Result: result})
	}
	return out
}

func (d *drill) add(req int, test, expected, observed, evidence string, ok bool) {
	result := twin.Fail
	if ok {
		result = twin.Pass
	}
	d.rows = append(d.rows, twin.DrillRow{Req: req, Test: test, Expected: expected, Observed: observed, Evidence: evidence, Result: result})
}

// limit records a test the emulator cannot show: what was not shown and what the API said.
func (d *drill) limit(req int, test, expected, evidence string) {
	d.rows = append(d.rows, twin.DrillRow{Req: req, Test: test, Expected: expected, Observed: "-", Evidence: evidence, Result: twin.Limitation})
}

func (d *drill) progress(format string, args ...any) {
	fmt.Fprintf(d.o.Progress, "drill: "+format+"\n", args...)
}

// sshCommand is the command line a user types for the row's test.
func sshCommand(via, target host) string {
	return fmt.Sprintf("ssh -J ec2-user@%s ec2-user@%s", via.PublicIP, target.PrivateIP)
}

// notDialed is the evidence of a traffic test on the emulator.
const notDialed = "moto runs no instances: nothing listens at the addresses DescribeInstances gave; not dialed"

// ssh is requirement 1: through each bastion to each web server `hostname` answers; straight
// from this machine to a web server's private address nothing does.
func (d *drill) ssh(ctx context.Context) {
	for _, b := range d.f.Bastions {
		for _, w := range d.f.Webs {
			test := sshCommand(b, w) + " hostname  [" + b.Name + " -> " + w.ID + "]"
			if d.o.Emulator {
				d.limit(1, test, "the web server's hostname", notDialed)
				continue
			}
			out, err := d.o.Shell(ctx, b.PublicIP, w.PrivateIP, "hostname")
			out = strings.TrimSpace(out)
			// EC2 names a host after its private address (ip-10-16-3-12..., the default of the
			// subnets here) or, with resource-name hostnames, after its instance ID.
			want := "ip-" + strings.ReplaceAll(w.PrivateIP, ".", "-")
			d.add(1, test, want+"... or "+w.ID, firstLine(out, err), "",
				err == nil && (strings.HasPrefix(out, want+".") || out == want || strings.HasPrefix(out, w.ID)))
		}
	}
	w := d.f.Webs[0]
	test := fmt.Sprintf("ssh ec2-user@%s straight from this machine (%s)", w.PrivateIP, w.ID)
	if d.o.Emulator {
		d.limit(1, test, "no connection", notDialed)
		return
	}
	out, err := d.o.Shell(ctx, "", w.PrivateIP, "hostname")
	d.add(1, test, "no connection", firstLine(out, err), "a private address: no route from outside the VPC", err != nil)
}

// balancing is requirement 2: 30 GETs of the site reach every InService web server, in both
// AZs; a server whose httpd stops leaves the rotation within the health check's window and
// returns when started.
func (d *drill) balancing(ctx context.Context) {
	url := "http://" + d.f.ALB + "/"
	var want []string
	for _, w := range d.f.Webs {
		want = append(want, w.ID+" ("+w.AZ+")")
	}
	test := "30 GETs of " + url
	want = append(want, "both AZs")
	stopTest := fmt.Sprintf("sudo systemctl stop httpd on %s: it leaves the rotation", d.f.Webs[0].ID)
	startTest := fmt.Sprintf("sudo systemctl start httpd on %s: it returns", d.f.Webs[0].ID)
	hc := fmt.Sprintf("health check %s every %ds, %ds timeout, unhealthy after %d, healthy after %d (DescribeTargetGroups)",
		d.f.Check.Path, d.f.Check.Interval, d.f.Check.Timeout, d.f.Check.Unhealthy, d.f.Check.Healthy)
	if d.o.Emulator {
		d.limit(2, test, strings.Join(want, ", "), "moto does not serve the load balancer's DNS name "+d.f.ALB+": not dialed")
		d.limit(2, stopTest, fmt.Sprintf("unhealthy and not answering within %ds", d.f.Check.leaveWithin()),
			hc+"; moto runs no health checks (DescribeTargetHealth says healthy whatever runs) and no instance to stop")
		d.limit(2, startTest, fmt.Sprintf("healthy and answering within %ds", d.f.Check.returnWithin()), "as above: nothing to start")
		return
	}
	seen := map[string]string{}
	failures := 0
	for i := 0; i < 30; i++ {
		p, err := d.page(ctx, url)
		if err != nil {
			failures++
			continue
		}
		seen[p.Instance] = p.AZ
	}
	var got []string
	for id, az := range seen {
		got = append(got, id+" ("+az+")")
	}
	sort.Strings(got)
	all := failures == 0
	for _, w := range d.f.Webs {
		all = all && seen[w.ID] == w.AZ
	}
	azs := map[string]bool{}
	for _, az := range seen {
		azs[az] = true
	}
	all = all && len(azs) == len(d.f.webAZs()) && len(azs) >= 2
	d.add(2, test, strings.Join(want, ", "), strings.Join(got, ", "), fmt.Sprintf("%d of 30 failed", failures), all)

	w := d.f.Webs[0]
	via := d.f.bastionFor(w)
	if _, err := d.o.Shell(ctx, via.PublicIP, w.PrivateIP, "sudo systemctl stop httpd"); err != nil {
		d.add(2, stopTest, "stopped", "-", err.Error(), false)
		return
	}
	// httpd is started again whatever happens next: the drill leaves the fleet as it found it.
	defer d.o.Shell(context.WithoutCancel(ctx), via.PublicIP, w.PrivateIP, "sudo systemctl start httpd")
	left := d.rotation(ctx, url, w.ID, false, time.Duration(d.f.Check.leaveWithin()+30)*time.Second)
	d.add(2, stopTest, fmt.Sprintf("unhealthy and not answering within %ds", d.f.Check.leaveWithin()), left.observed(),
		hc, left.ok && left.after <= time.Duration(d.f.Check.leaveWithin())*time.Second)
	if _, err := d.o.Shell(ctx, via.PublicIP, w.PrivateIP, "sudo systemctl start httpd"); err != nil {
		d.add(2, startTest, "started", "-", err.Error(), false)
		return
	}
	back := d.rotation(ctx, url, w.ID, true, time.Duration(d.f.Check.returnWithin()+30)*time.Second)
	d.add(2, startTest, fmt.Sprintf("healthy and answering within %ds", d.f.Check.returnWithin()), back.observed(),
		hc, back.ok && back.after <= time.Duration(d.f.Check.returnWithin())*time.Second)
}

// page GETs the index page and reads it.
func (d *drill) page(ctx context.Context, url string) (twin.Page, error) {
	code, body, err := d.o.Fetch(ctx, url)
	if err != nil {
		return twin.Page{}, err
	}
	p, ok := twin.ParsePage(body)
	if code != http.StatusOK || !ok {
		return twin.Page{}, fmt.Errorf("GET %s: %d without an instance ID", url, code)
	}
	return p, nil
}

// wait is the outcome of a bounded wait.
type wait struct {
	ok    bool
	after time.Duration
	last  string
}

func (w wait) observed() string {
	if !w.ok {
		return "not after " + w.after.Round(time.Second).String() + ": " + w.last
	}
	return fmt.Sprintf("after %.0fs", w.after.Seconds())
}

// rotation waits until the target id is out of the rotation (DescribeTargetHealth not
// healthy and 10 GETs without it) or, with in, back in (healthy and among 20 GETs).
func (d *drill) rotation(ctx context.Context, url, id string, in bool, limit time.Duration) wait {
	start := time.Now()
	w := wait{}
	for time.Since(start) < limit {
		state := d.targetState(ctx, id)
		answered := false
		for i := 0; i < 20 && !answered; i++ {
			if p, err := d.page(ctx, url); err == nil && p.Instance == id {
				answered = true
			}
		}
		w.last = fmt.Sprintf("target %s, answering %v", state, answered)
		if in == (state == elbtypes.TargetHealthStateEnumHealthy) && in == answered {
			w.ok, w.after = true, time.Since(start)
			return w
		}
		time.Sleep(2 * time.Second)
	}
	w.after = time.Since(start)
	return w
}

// targetState is DescribeTargetHealth's state of one target ("" when unknown).
func (d *drill) targetState(ctx context.Context, id string) elbtypes.TargetHealthStateEnum {
	out, err := d.elb.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(d.f.TargetGroup)})
	if err != nil {
		return ""
	}
	for _, t := range out.TargetHealthDescriptions {
		if t.Target != nil && aws.ToString(t.Target.Id) == id && t.TargetHealth != nil {
			return t.TargetHealth.State
		}
	}
	return ""
}

// repoURL is a file every AL2023 instance of the region downloads first: the repository's
// mirror list, in the region's repository bucket, at S3's regional address.
func repoURL(region string) string {
	return fmt.Sprintf("https://al2023-repos-%s-de612dc2.s3.%s.amazonaws.com/core/mirrors/latest/x86_64/mirror.list", region, region)
}

// nat is requirement 3: each web server downloads from the repository over HTTPS, and its
// traffic leaves through its AZ's NAT gateway. The web servers may reach only the
// repository's ranges (flow 6), and S3 does not echo a caller's address: the source is shown
// by the web subnet's route and the NAT gateway's Elastic IP, both read from the APIs.
func (d *drill) nat(ctx context.Context) {
	var parts []string
	ok := len(d.f.NATs) > 0
	for _, n := range d.f.NATs {
		parts = append(parts, fmt.Sprintf("%s %s %s", n.AZ, n.Name, n.EIP))
		ok = ok && n.EIP != ""
	}
	d.add(3, "API: the NAT gateways' Elastic IPs (DescribeNatGateways)", "an Elastic IP on each", strings.Join(parts, "; "), "", ok)
	url := repoURL(d.o.Config.Region)
	for _, w := range d.f.Webs {
		n := d.f.natOf(w)
		source := "no NAT route"
		if n != nil {
			source = n.Name + "'s EIP " + n.EIP
		}
		test := fmt.Sprintf("%s: curl %s", w.ID, url)
		if d.o.Emulator {
			d.limit(3, test, "200 from S3, leaving from "+source, notDialed+"; "+w.Subnet+" routes 0.0.0.0/0 through "+d.f.WebNAT[w.Subnet]+" (DescribeRouteTables)")
			continue
		}
		out, err := d.o.Shell(ctx, d.f.bastionFor(w).PublicIP, w.PrivateIP,
			"curl -sS -m 20 -o /dev/null -w '%{http_code}' "+url)
		code := strings.TrimSpace(out)
		sameAZ := n != nil && (n.AZ == w.AZ || d.o.Config.NAT == config.NATSingle)
		d.add(3, test, "200, leaving from "+source, firstLine(code, err),
			"source by the route of "+w.Subnet+" (the server may reach only the repository ranges, which do not echo it)",
			err == nil && code == "200" && sameAZ)
	}
}

// scaling is requirement 4: the group's sizes and CPU target as configured; loaded CPUs make
// the group grow and a new server healthy; unloaded, it shrinks back to min.
func (d *drill) scaling(ctx context.Context) {
	g, fl := d.f.Group, d.o.Config.Fleet
	target := 0.0
	for _, p := range d.f.Policies {
		if c := p.TargetTrackingConfiguration; c != nil && c.PredefinedMetricSpecification != nil &&
			c.PredefinedMetricSpecification.PredefinedMetricType == asgtypes.MetricTypeASGAverageCPUUtilization {
			target = aws.ToFloat64(c.TargetValue)
		}
	}
	d.add(4, "API: "+aws.ToString(g.AutoScalingGroupName)+" sizes and CPU target (DescribeAutoScalingGroups, DescribePolicies)",
		fmt.Sprintf("min %d, max %d, desired %d, CPU %d%%", fl.Min, fl.Max, fl.Desired, fl.CPUTarget),
		fmt.Sprintf("min %d, max %d, desired %d, CPU %.0f%%", aws.ToInt32(g.MinSize), aws.ToInt32(g.MaxSize), aws.ToInt32(g.DesiredCapacity), target), "",
		int(aws.ToInt32(g.MinSize)) == fl.Min && int(aws.ToInt32(g.MaxSize)) == fl.Max &&
			int(aws.ToInt32(g.DesiredCapacity)) == fl.Desired && target == float64(fl.CPUTarget))
	outTest := "load every vCPU of the web servers: the group grows, a new server is healthy"
	inTest := "stop the load: the group shrinks to min"
	if d.o.Emulator {
		d.limit(4, outTest, fmt.Sprintf("desired > %d within %s", aws.ToInt32(g.DesiredCapacity), d.o.ScaleOut),
			"moto publishes no CloudWatch CPU metric and runs no scaling policy, and runs no instance to load: desired stays "+
				fmt.Sprint(aws.ToInt32(g.DesiredCapacity)))
		d.limit(4, inTest, fmt.Sprintf("desired %d within %s", aws.ToInt32(g.MinSize), d.o.ScaleIn), "as above: nothing scaled out")
		return
	}
	before := map[string]bool{}
	for _, w := range d.f.Webs {
		before[w.ID] = true
	}
	// Busy loops, one per vCPU, each bounded by timeout so that a drill that dies leaves no
	// load behind; detached (setsid, no terminal, no stdin) so that the SSH session returns.
	const load = "for i in $(seq $(nproc)); do setsid timeout 1800 sh -c 'while :; do :; done' </dev/null >/dev/null 2>&1 & echo $!; done > /tmp/webtier-drill-load.pids"
	const unload = "kill $(cat /tmp/webtier-drill-load.pids) 2>/dev/null; rm -f /tmp/webtier-drill-load.pids"
	for _, w := range d.f.Webs {
		if _, err := d.o.Shell(ctx, d.f.bastionFor(w).PublicIP, w.PrivateIP, load); err != nil {
			d.add(4, outTest, "load started", "-", w.ID+": "+err.Error(), false)
			return
		}
	}
	stopLoad := func() {
		for _, w := range d.f.Webs {
			d.o.Shell(context.WithoutCancel(ctx), d.f.bastionFor(w).PublicIP, w.PrivateIP, unload)
		}
	}
	defer stopLoad()
	start := time.Now()
	desired0 := aws.ToInt32(g.DesiredCapacity)
	out := d.poll(ctx, d.o.ScaleOut, 15*time.Second, func() (bool, string) {
		grp, err := d.group(ctx)
		if err != nil {
			return false, err.Error()
		}
		healthy := d.healthyTargets(ctx)
		for _, in := range grp.Instances {
			if id := aws.ToString(in.InstanceId); !before[id] && healthy[id] {
				return aws.ToInt32(grp.DesiredCapacity) > desired0, fmt.Sprintf("desired %d, %s new and healthy", aws.ToInt32(grp.DesiredCapacity), id)
			}
		}
		return false, fmt.Sprintf("desired %d", aws.ToInt32(grp.DesiredCapacity))
	})
	d.add(4, outTest, fmt.Sprintf("desired > %d within %s", desired0, d.o.ScaleOut), out.observed()+"; "+out.last,
		fmt.Sprintf("load on %d servers since %s", len(d.f.Webs), start.UTC().Format(time.TimeOnly)), out.ok)
	stopLoad()
	in := d.poll(ctx, d.o.ScaleIn, 30*time.Second, func() (bool, string) {
		grp, err := d.group(ctx)
		if err != nil {
			return false, err.Error()
		}
		return aws.ToInt32(grp.DesiredCapacity) == aws.ToInt32(grp.MinSize), fmt.Sprintf("desired %d", aws.ToInt32(grp.DesiredCapacity))
	})
	d.add(4, inTest, fmt.Sprintf("desired %d within %s", aws.ToInt32(g.MinSize), d.o.ScaleIn), in.observed()+"; "+in.last,
		"target tracking removes capacity after 15 minutes below target", in.ok)
}

// poll calls check every interval until it reports done or limit passes.
func (d *drill) poll(ctx context.Context, limit, interval time.Duration, check func() (bool, string)) wait {
	start := time.Now()
	w := wait{}
	for {
		done, last := check()
		w.last, w.after = last, time.Since(start)
		d.progress("%s after %.0fs", last, w.after.Seconds())
		if done {
			w.ok = true
			return w
		}
		if w.after > limit || ctx.Err() != nil {
			return w
		}
		time.Sleep(interval)
	}
}

func (d *drill) group(ctx context.Context) (asgtypes.AutoScalingGroup, error) {
	out, err := d.asg.DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{
		AutoScalingGroupNames: []string{aws.ToString(d.f.Group.AutoScalingGroupName)}})
	if err != nil {
		return asgtypes.AutoScalingGroup{}, err
	}
	if len(out.AutoScalingGroups) == 0 {
		return asgtypes.AutoScalingGroup{}, errors.New("the group is gone")
	}
	return out.AutoScalingGroups[0], nil
}

func (d *drill) healthyTargets(ctx context.Context) map[string]bool {
	out := map[string]bool{}
	th, err := d.elb.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(d.f.TargetGroup)})
	if err != nil {
		return out
	}
	for _, t := range th.TargetHealthDescriptions {
		if t.Target != nil && t.TargetHealth != nil && t.TargetHealth.State == elbtypes.TargetHealthStateEnumHealthy {
			out[aws.ToString(t.Target.Id)] = true
		}
	}
	return out
}

// firstLine is a command's first line of output, or its error.
func firstLine(out string, err error) string {
	if err != nil {
		return "error: " + strings.SplitN(strings.TrimSpace(err.Error()+" "+out), "\n", 2)[0]
	}
	line, _, _ := strings.Cut(strings.TrimSpace(out), "\n")
	return line
}

// sortedKeys is the map's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
