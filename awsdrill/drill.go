package awsdrill

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	asgtypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/rds"

	"github.com/webtier/webtier/check"
	"github.com/webtier/webtier/config"
	"github.com/webtier/webtier/drill"
	"github.com/webtier/webtier/live"
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
	// and what only traffic could show is a check.Limitation row. default: false
	Emulator bool
	// Shell reaches the instances. default: none (required unless Emulator)
	Shell Shell
	// Fetch reaches the load balancer. default: HTTPFetch
	Fetch Fetch
	// Dial opens the connections that must fail from this machine (SSH straight to a web
	// server's private address). default: a net.Dialer
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
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
	if o.Dial == nil {
		o.Dial = (&net.Dialer{}).DialContext
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
type awsEnv struct {
	o    Options
	f    *facts
	asg  *autoscaling.Client
	elb  *elbv2.Client
	rds  dbAPI
	rows []check.Result
}

// dbAPI is the part of RDS the failover test calls, the one API it calls on the emulator
// too: an interface, so that tests can stand in for it.
type dbAPI interface {
	RebootDBInstance(context.Context, *rds.RebootDBInstanceInput, ...func(*rds.Options)) (*rds.RebootDBInstanceOutput, error)
	DescribeDBInstances(context.Context, *rds.DescribeDBInstancesInput, ...func(*rds.Options)) (*rds.DescribeDBInstancesOutput, error)
}

// Drill describes the stack behind o.AWS and runs the six tests on it, in the seed's order.
// An error means the stack could not be read (nothing to drill); a test that cannot be done
// is a row.
func Drill(ctx context.Context, o Options) ([]check.Result, error) {
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
func run(ctx context.Context, o Options, s *live.Described, db dbAPI) ([]check.Result, error) {
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
	d := &awsEnv{o: o, f: f, asg: autoscaling.NewFromConfig(o.AWS), elb: elbv2.NewFromConfig(o.AWS), rds: db}
	shapes := shapeRows(verify.Shapes(n, in), s.Shapes(o.Emulator))
	apiRows := map[int]func(){3: d.natAddresses, 4: d.groupSizes}
	for req := 1; req <= 6; req++ {
		d.rows = append(d.rows, shapes[req]...)
		if api := apiRows[req]; api != nil {
			api()
		}
		if req == 1 {
			d.rows = append(d.rows, d.access(ctx)...)
			continue
		}
		d.rows = append(d.rows, drill.Test(ctx, d, req)...)
	}
	return d.rows, nil
}

// shapeRows files the shape checks of the deployed stack (the model's, then live's of what
// exists only once deployed, both read from the APIs) as drill rows under the requirement
// each names, with their status, but a check of what the live reader does not read yet,
// NOT READ, is NOT BUILT in the drill (not judged, not a pass). The drill repeats them rather
// than judge the same facts twice.
func shapeRows(model, shapes []check.Result) map[int][]check.Result {
	out := map[int][]check.Result{}
	file := func(list []check.Result, evidence string) {
		for _, r := range list {
			if r.Status == check.NotRead {
				r.Status = check.NotBuilt
			}
			r.Check, r.Expected, r.Evidence = "API: "+r.Check, "as configured", evidence
			out[r.Req] = append(out[r.Req], r)
		}
	}
	file(model, "shape check of the model read from the APIs")
	file(shapes, "live shape check")
	return out
}

func (d *awsEnv) add(req int, test, expected, observed, evidence string, ok bool) {
	d.rows = append(d.rows, check.Result{Req: req, Check: test, Expected: expected, Observed: observed, Evidence: evidence, Status: check.Verdict(ok)})
}

// limit records a test the emulator cannot show: what was not shown and what the API said.
func (d *awsEnv) limit(req int, test, expected, evidence string) {
	d.rows = append(d.rows, check.Result{Req: req, Check: test, Expected: expected, Observed: "-", Evidence: evidence, Status: check.Limitation})
}

// Progressf writes a line of a long wait to the progress writer.
func (d *awsEnv) Progressf(format string, args ...any) {
	fmt.Fprintf(d.o.Progress, "drill: "+format+"\n", args...)
}

// sshUser is the instances' user (Amazon Linux's).
const sshUser = "ec2-user"

// notDialed is the evidence of a traffic test on the emulator.
const notDialed = "moto runs no instances: nothing listens at the addresses DescribeInstances gave; not dialed"

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

// repoURL is a file every AL2023 instance of the region downloads first: the repository's
// mirror list, in the region's repository bucket, at S3's regional address.
func repoURL(region string) string {
	return fmt.Sprintf("https://al2023-repos-%s-de612dc2.s3.%s.amazonaws.com/core/mirrors/latest/x86_64/mirror.list", region, region)
}

// natAddresses is requirement 3's row of the API: the NAT gateways' Elastic IPs.
func (d *awsEnv) natAddresses() {
	var parts []string
	ok := len(d.f.NATs) > 0
	for _, n := range d.f.NATs {
		parts = append(parts, fmt.Sprintf("%s %s %s", n.AZ, n.Name, n.EIP))
		ok = ok && n.EIP != ""
	}
	d.add(3, "API: the NAT gateways' Elastic IPs (DescribeNatGateways)", "an Elastic IP on each", strings.Join(parts, "; "), "", ok)
}

// groupSizes is requirement 4's row of the API: the group's sizes and CPU target as
// configured.
func (d *awsEnv) groupSizes() {
	g, fl, target := d.f.Group, d.o.Config.Fleet, d.cpuTarget()
	d.add(4, "API: "+aws.ToString(g.AutoScalingGroupName)+" sizes and CPU target (DescribeAutoScalingGroups, DescribePolicies)",
		fmt.Sprintf("min %d, max %d, desired %d, CPU %d%%", fl.Min, fl.Max, fl.Desired, fl.CPUTarget),
		fmt.Sprintf("min %d, max %d, desired %d, CPU %.0f%%", aws.ToInt32(g.MinSize), aws.ToInt32(g.MaxSize), aws.ToInt32(g.DesiredCapacity), target), "",
		int(aws.ToInt32(g.MinSize)) == fl.Min && int(aws.ToInt32(g.MaxSize)) == fl.Max &&
			int(aws.ToInt32(g.DesiredCapacity)) == fl.Desired && target == float64(fl.CPUTarget))
}

// cpuTarget is the average CPU the group's target-tracking policy holds, 0 when it has none.
func (d *awsEnv) cpuTarget() float64 {
	target := 0.0
	for _, p := range d.f.Policies {
		if c := p.TargetTrackingConfiguration; c != nil && c.PredefinedMetricSpecification != nil &&
			c.PredefinedMetricSpecification.PredefinedMetricType == asgtypes.MetricTypeASGAverageCPUUtilization {
			target = aws.ToFloat64(c.TargetValue)
		}
	}
	return target
}

// Group is DescribeAutoScalingGroups' answer for the web servers' group, with its policy's
// CPU target. On the emulator, which scales nothing, it is the group as the drill found it.
func (d *awsEnv) Group(ctx context.Context) (drill.Group, error) {
	g := d.f.Group
	if !d.o.Emulator {
		var err error
		if g, err = d.group(ctx); err != nil {
			return drill.Group{}, err
		}
	}
	out := drill.Group{Name: aws.ToString(g.AutoScalingGroupName), Min: int(aws.ToInt32(g.MinSize)), Max: int(aws.ToInt32(g.MaxSize)),
		Desired: int(aws.ToInt32(g.DesiredCapacity)), CPUTarget: d.cpuTarget()}
	for _, in := range g.Instances {
		id := aws.ToString(in.InstanceId)
		out.Instances = append(out.Instances, drill.Host{Name: id, ID: id, AZ: aws.ToString(in.AvailabilityZone)})
	}
	return out, nil
}

// Load starts busy loops, one per vCPU, on each server over SSH, each bounded by timeout so
// that a drill that dies leaves no load behind, detached (setsid, no terminal, no stdin) so
// that the SSH session returns; stop kills them.
func (d *awsEnv) Load(ctx context.Context, servers []drill.Host) (func(), string, error) {
	if d.o.Emulator {
		return nil, "", &drill.NotShown{Why: fmt.Sprintf("moto publishes no CloudWatch CPU metric and runs no scaling policy, and runs no instance to load: desired stays %d",
			aws.ToInt32(d.f.Group.DesiredCapacity))}
	}
	const load = "for i in $(seq $(nproc)); do setsid timeout 1800 sh -c 'while :; do :; done' </dev/null >/dev/null 2>&1 & echo $!; done > /tmp/webtier-drill-load.pids"
	const unload = "kill $(cat /tmp/webtier-drill-load.pids) 2>/dev/null; rm -f /tmp/webtier-drill-load.pids"
	var loaded []host
	stop := func() {
		for _, w := range loaded {
			d.o.Shell(context.WithoutCancel(ctx), d.f.bastionFor(w).PublicIP, w.PrivateIP, unload)
		}
	}
	for _, h := range servers {
		w, err := d.web(h)
		if err != nil {
			continue // not InService when the drill began: not reachable by the drill's facts
		}
		if _, err := d.o.Shell(ctx, d.f.bastionFor(w).PublicIP, w.PrivateIP, load); err != nil {
			stop()
			return nil, "", fmt.Errorf("%s: %w", h.ID, err)
		}
		loaded = append(loaded, w)
	}
	if len(loaded) == 0 {
		return nil, "", fmt.Errorf("no InService web server to load")
	}
	return stop, fmt.Sprintf("every vCPU busy on %d servers since %s (over SSH, timeout 1800)", len(loaded), time.Now().UTC().Format(time.TimeOnly)), nil
}

// ScaleWithin: target tracking adds capacity after 3 minutes above target and removes it
// after 15 below; the options bound the waits.
func (d *awsEnv) ScaleWithin() (out, in, every time.Duration) {
	return d.o.ScaleOut, d.o.ScaleIn, 15 * time.Second
}

// Gone reports whether the group no longer has the server.
func (d *awsEnv) Gone(ctx context.Context, h drill.Host) bool {
	g, err := d.Group(ctx)
	return err == nil && !slices.ContainsFunc(g.Instances, func(i drill.Host) bool { return i.ID == h.ID })
}

// poll calls check every interval until it reports done or limit passes.
func (d *awsEnv) poll(ctx context.Context, limit, interval time.Duration, check func() (bool, string)) wait {
	start := time.Now()
	w := wait{}
	for {
		done, last := check()
		w.last, w.after = last, time.Since(start)
		d.Progressf("%s after %.0fs", last, w.after.Seconds())
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

func (d *awsEnv) group(ctx context.Context) (asgtypes.AutoScalingGroup, error) {
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

// sortedKeys is the map's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
