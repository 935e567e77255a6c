package awsdrill

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"

	"github.com/webtier/webtier/check"
	"github.com/webtier/webtier/drill"
	"github.com/webtier/webtier/site"
)

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

// Standby is the endpoint's address and the standby's AZ (DescribeDBInstances: RDS does not
// say the standby's address).
func (d *awsEnv) Standby(context.Context) (string, drill.Host, error) {
	before := stateOf(d.f.DB)
	name := "the standby"
	if before.Secondary != "" {
		name += " in " + before.Secondary
	}
	return before.Address, drill.Host{Name: name, AZ: before.Secondary}, nil
}

// FailOver is RebootDBInstance with ForceFailover, on the emulator too (it answers the call).
func (d *awsEnv) FailOver(ctx context.Context) (string, error) {
	id := aws.ToString(d.f.DB.DBInstanceIdentifier)
	how := fmt.Sprintf("RebootDBInstance(%s, ForceFailover=true)", id)
	_, err := d.rds.RebootDBInstance(ctx, &rds.RebootDBInstanceInput{DBInstanceIdentifier: aws.String(id), ForceFailover: aws.Bool(true)})
	return how, err
}

// Within is how long the drill waits for the failover: RDS documents 60-120 s.
func (d *awsEnv) Within() time.Duration { return 15 * time.Minute }

// ErrorLog: the web servers' PHP-FPM error log is not read over SSH.
func (d *awsEnv) ErrorLog() string { return "" }

// AfterFailover is what DescribeDBInstances says once the site answers from the standby (on
// AWS, once the instance is available again in the other AZ): the endpoint's address stays,
// the primary and standby AZs swap.
func (d *awsEnv) AfterFailover(ctx context.Context, _ time.Time) []check.Result {
	r := &awsEnv{} // records the rows (add, limit)
	id := aws.ToString(d.f.DB.DBInstanceIdentifier)
	before := stateOf(d.f.DB)
	rebootTest := fmt.Sprintf("RebootDBInstance(%s, ForceFailover=true): the endpoint stays", id)
	swapTest := "the primary moves to the standby's AZ"
	after, err := d.describeDB(ctx, id)
	if !d.o.Emulator {
		// A failover takes RDS 60-120 s; the instance says "rebooting" meanwhile.
		w := d.poll(ctx, d.Within(), 5*time.Second, func() (bool, string) {
			after, err = d.describeDB(ctx, id)
			if err != nil {
				return false, err.Error()
			}
			return after.Status == "available" && after.AZ != before.AZ, fmt.Sprintf("%s in %s", after.Status, after.AZ)
		})
		d.Progressf("failover: %s", w.observed())
	}
	if err != nil {
		r.add(5, rebootTest, "accepted", "-", "DescribeDBInstances: "+err.Error(), false)
		return r.rows
	}
	r.add(5, rebootTest, "accepted; Endpoint.Address "+before.Address, "accepted; Endpoint.Address "+after.Address,
		"DescribeDBInstances before and after", after.Address == before.Address && after.Address != "")
	expected := fmt.Sprintf("primary %s -> %s, standby %s -> %s", before.AZ, before.Secondary, before.Secondary, before.AZ)
	if before.Secondary == "" {
		expected = "the primary leaves " + before.AZ + " for the standby's AZ (none reported before the reboot)"
	}
	if d.o.Emulator {
		r.limit(5, swapTest, expected, fmt.Sprintf("RebootDBInstance(ForceFailover) accepted; moto keeps the instance in %s (secondary AZ %q): a failover is not emulated",
			after.AZ, after.Secondary))
		return r.rows
	}
	r.add(5, swapTest, expected, fmt.Sprintf("primary %s, standby %s, %s", after.AZ, after.Secondary, after.Status), "DescribeDBInstances",
		before.Secondary != "" && after.AZ == before.Secondary && after.Secondary == before.AZ)
	return r.rows
}

var _ drill.Database = (*awsEnv)(nil)

// WriteShared writes name into the shared directory on a web server over SSH (its mount:
// amazon-efs-utils, TLS, signed with the instance's role) and reads it back; undo removes it.
func (d *awsEnv) WriteShared(ctx context.Context, h drill.Host, name string) (observed, evidence string, undo func(), err error) {
	path := site.SharedDir + "/" + name
	if d.o.Emulator {
		var mts []string
		for _, az := range sortedKeys(d.f.MountTargetAZ) {
			mts = append(mts, az+" "+strings.Join(d.f.MountTargetAZ[az], ", "))
		}
		return "", "", nil, &drill.NotShown{Why: notDialed + "; moto serves no NFS; " + d.f.FileSystem + " mount targets (DescribeMountTargets): " + strings.Join(mts, "; ")}
	}
	w, err := d.web(h)
	if err != nil {
		return "", "", nil, err
	}
	via := d.f.bastionFor(w)
	const content = "webtier drill"
	out, err := d.o.Shell(ctx, via.PublicIP, w.PrivateIP, "echo '"+content+"' | sudo tee "+path+" >/dev/null && cat "+path)
	evidence = "sudo tee " + path + " through " + via.Name + "; the mount of " + d.f.FileSystem
	if err != nil {
		return drill.FirstLine(out, err), evidence, nil, fmt.Errorf("%s", drill.FirstLine(out, err))
	}
	if got := strings.TrimSpace(out); got != content {
		return got, evidence, nil, fmt.Errorf("read back %q, wrote %q", got, content)
	}
	undo = func() { d.o.Shell(context.WithoutCancel(ctx), via.PublicIP, w.PrivateIP, "sudo rm -f "+path) }
	return "written and read back as " + path, evidence, undo, nil
}
