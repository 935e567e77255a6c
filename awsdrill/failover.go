package awsdrill

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"

	"github.com/webtier/webtier/site"
)

// sample is one read of /db.php during the failover.
type sample struct {
	At   time.Time
	OK   bool
	Page site.DBPage
}

// outage is what the reads of /db.php saw: the longest run of failed reads (from the first
// failure to the next good read), whether the page answered again at the end, and the first
// and last good pages.
type outage struct {
	Longest     time.Duration
	Failed      int
	Recovered   bool
	First, Last site.DBPage
}

func measure(samples []sample) outage {
	var o outage
	var down time.Time
	seenOK := false
	for _, s := range samples {
		switch {
		case !s.OK:
			o.Failed++
			if down.IsZero() {
				down = s.At
			}
		default:
			if !down.IsZero() {
				o.Longest = max(o.Longest, s.At.Sub(down))
				down = time.Time{}
			}
			if !seenOK {
				o.First, seenOK = s.Page, true
			}
			o.Last = s.Page
		}
	}
	o.Recovered = seenOK && down.IsZero()
	if !down.IsZero() && len(samples) > 0 {
		o.Longest = max(o.Longest, samples[len(samples)-1].At.Sub(down))
	}
	return o
}

// poller reads a URL every 0.5 s until stopped.
type poller struct {
	mu      sync.Mutex
	samples []sample
	stop    chan struct{}
	done    chan struct{}
}

func (d *awsEnv) startPoller(ctx context.Context, url string) *poller {
	p := &poller{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(p.done)
		tick := time.NewTicker(500 * time.Millisecond)
		defer tick.Stop()
		for {
			rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			code, body, err := d.o.Fetch(rctx, url)
			cancel()
			s := sample{At: time.Now()}
			if pg, ok := site.ParseDB(body); err == nil && code == http.StatusOK && ok {
				s.OK, s.Page = true, pg
			}
			p.mu.Lock()
			p.samples = append(p.samples, s)
			p.mu.Unlock()
			select {
			case <-p.stop:
				return
			case <-tick.C:
			}
		}
	}()
	return p
}

// lastOK reports whether the latest read succeeded.
func (p *poller) lastOK() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.samples) > 0 && p.samples[len(p.samples)-1].OK
}

func (p *poller) finish() []sample {
	close(p.stop)
	<-p.done
	return p.samples
}

// dbState is what DescribeDBInstances says of the database.
type dbState struct {
	Address, AZ, Secondary, Status string
}

func stateOf(db rdstypes.DBInstance) dbState {
	s := dbState{AZ: aws.ToString(db.AvailabilityZone), Secondary: aws.ToString(db.SecondaryAvailabilityZone), Status: aws.ToString(db.DBInstanceStatus)}
	if db.Endpoint != nil {
		s.Address = aws.ToString(db.Endpoint.Address)
	}
	return s
}

func (d *awsEnv) describeDB(ctx context.Context, id string) (dbState, error) {
	out, err := d.rds.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String(id)})
	if err != nil {
		return dbState{}, err
	}
	if len(out.DBInstances) == 0 {
		return dbState{}, fmt.Errorf("%s is gone", id)
	}
	return stateOf(out.DBInstances[0]), nil
}

// failover is requirement 5: with /db.php read every 0.5 s, RebootDBInstance with
// ForceFailover: the endpoint's address stays, the primary and standby AZs swap, the page
// shows the same rows, and the interruption is measured.
func (d *awsEnv) failover(ctx context.Context) {
	id := aws.ToString(d.f.DB.DBInstanceIdentifier)
	before := stateOf(d.f.DB)
	url := "http://" + d.f.ALB + "/db.php"
	rebootTest := fmt.Sprintf("RebootDBInstance(%s, ForceFailover=true): the endpoint stays", id)
	swapTest := "the primary moves to the standby's AZ"
	pollTest := "GET " + url + " every 0.5s across the failover"
	var p *poller
	if !d.o.Emulator {
		p = d.startPoller(ctx, url)
	}
	finish := func() []sample {
		if p == nil {
			return nil
		}
		s := p.finish()
		p = nil
		return s
	}
	defer finish()
	if _, err := d.rds.RebootDBInstance(ctx, &rds.RebootDBInstanceInput{DBInstanceIdentifier: aws.String(id), ForceFailover: aws.Bool(true)}); err != nil {
		d.add(5, rebootTest, "accepted", "-", err.Error(), false)
		return
	}
	after, err := d.describeDB(ctx, id)
	if !d.o.Emulator {
		// A failover takes RDS 60-120 s; the instance says "rebooting" meanwhile.
		w := d.poll(ctx, 15*time.Minute, 5*time.Second, func() (bool, string) {
			after, err = d.describeDB(ctx, id)
			if err != nil {
				return false, err.Error()
			}
			return after.Status == "available" && after.AZ != before.AZ && p.lastOK(), fmt.Sprintf("%s in %s", after.Status, after.AZ)
		})
		d.progress("failover: %s", w.observed())
	}
	if err != nil {
		d.add(5, rebootTest, "accepted", "-", "DescribeDBInstances: "+err.Error(), false)
		return
	}
	d.add(5, rebootTest, "accepted; Endpoint.Address "+before.Address, "accepted; Endpoint.Address "+after.Address,
		"DescribeDBInstances before and after", after.Address == before.Address && after.Address != "")
	expected := fmt.Sprintf("primary %s -> %s, standby %s -> %s", before.AZ, before.Secondary, before.Secondary, before.AZ)
	if before.Secondary == "" {
		expected = "the primary leaves " + before.AZ + " for the standby's AZ (none reported before the reboot)"
	}
	if d.o.Emulator {
		d.limit(5, swapTest, expected, fmt.Sprintf("RebootDBInstance(ForceFailover) accepted; moto keeps the instance in %s (secondary AZ %q): a failover is not emulated",
			after.AZ, after.Secondary))
		d.limit(5, pollTest, "same endpoint name and rows; the interruption measured",
			"moto does not serve the load balancer's DNS name "+d.f.ALB+" and runs no database: not dialed")
		return
	}
	d.add(5, swapTest, expected, fmt.Sprintf("primary %s, standby %s, %s", after.AZ, after.Secondary, after.Status), "DescribeDBInstances",
		before.Secondary != "" && after.AZ == before.Secondary && after.Secondary == before.AZ)
	o := measure(finish())
	same := o.First.Endpoint == o.Last.Endpoint && o.First.Rows == o.Last.Rows && o.First.Rows != ""
	d.add(5, pollTest, "same endpoint name and rows; answering again",
		fmt.Sprintf("interrupted %.1fs (%d failed reads), %s -> %s", o.Longest.Seconds(), o.Failed, o.First.Addr, o.Last.Addr),
		fmt.Sprintf("endpoint %s, same rows: %v; RDS documents 60-120s", o.Last.Endpoint, same), same && o.Recovered)
}

// efs is requirement 6: a file written through one web server's mount is listed by a web
// server of another AZ, and the file system has one mount target per AZ (a shape row).
func (d *awsEnv) efs(ctx context.Context) {
	w := d.f.Webs[0]
	var others []string
	for _, o := range d.f.Webs {
		if o.AZ != w.AZ && !slices.Contains(others, o.AZ) {
			others = append(others, o.AZ)
		}
	}
	name := fmt.Sprintf("webtier-drill-%d.txt", time.Now().Unix())
	test := fmt.Sprintf("write /var/www/html/efs/%s on %s; a server of another AZ lists it", name, w.label())
	expected := "listed by a server in " + strings.Join(others, ", ")
	if d.o.Emulator {
		var mts []string
		for _, az := range sortedKeys(d.f.MountTargetAZ) {
			mts = append(mts, az+" "+strings.Join(d.f.MountTargetAZ[az], ", "))
		}
		d.limit(6, test, "listed by a server of another AZ", notDialed+"; moto serves no NFS; "+d.f.FileSystem+" mount targets (DescribeMountTargets): "+strings.Join(mts, "; "))
		return
	}
	if len(others) == 0 {
		d.add(6, test, "a web server in another AZ", "every InService server is in "+w.AZ, "", false)
		return
	}
	via := d.f.bastionFor(w)
	path := "/var/www/html/efs/" + name
	if out, err := d.o.Shell(ctx, via.PublicIP, w.PrivateIP, "echo webtier drill | sudo tee "+path+" >/dev/null"); err != nil {
		d.add(6, test, expected, firstLine(out, err), "", false)
		return
	}
	defer d.o.Shell(context.WithoutCancel(ctx), via.PublicIP, w.PrivateIP, "sudo rm -f "+path)
	url := "http://" + d.f.ALB + "/"
	res := d.poll(ctx, time.Minute, time.Second, func() (bool, string) {
		p, err := d.page(ctx, url)
		if err != nil {
			return false, err.Error()
		}
		return p.AZ != w.AZ && slices.Contains(p.Shared, name), fmt.Sprintf("%s (%s) lists %d files", p.Instance, p.AZ, len(p.Shared))
	})
	d.add(6, test, expected, res.observed()+": "+res.last, "", res.ok)
}
