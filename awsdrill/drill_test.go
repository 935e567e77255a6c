package awsdrill

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"

	"github.com/webtier/webtier/check"
	"github.com/webtier/webtier/config"
	"github.com/webtier/webtier/drill"
	"github.com/webtier/webtier/live"
	"github.com/webtier/webtier/rules"
)

// recorded is the example stack as moto 5.2.1 described it after `webtier deploy` (package
// live records it: go test ./live -run TestRecord -record URL).
const recorded = "../live/testdata/moto-example.json"

func loadRecorded(t *testing.T) *live.Described {
	t.Helper()
	data, err := os.ReadFile(recorded)
	if err != nil {
		t.Fatal(err)
	}
	var s live.Described
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatalf("%s: %v", recorded, err)
	}
	return &s
}

func exampleConfig(t *testing.T) config.Config {
	t.Helper()
	cfg, err := config.Load(filepath.Join("..", "webtier.example.json"))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// fakeDB answers the failover's two RDS calls as moto does: the reboot is accepted, and the
// instance is described as it was, unless after says otherwise.
type fakeDB struct {
	db       rdstypes.DBInstance
	after    func(*rdstypes.DBInstance)
	rebooted *rds.RebootDBInstanceInput
}

func (f *fakeDB) RebootDBInstance(_ context.Context, in *rds.RebootDBInstanceInput, _ ...func(*rds.Options)) (*rds.RebootDBInstanceOutput, error) {
	f.rebooted = in
	return &rds.RebootDBInstanceOutput{DBInstance: &f.db}, nil
}

func (f *fakeDB) DescribeDBInstances(context.Context, *rds.DescribeDBInstancesInput, ...func(*rds.Options)) (*rds.DescribeDBInstancesOutput, error) {
	db := f.db
	if f.after != nil && f.rebooted != nil {
		f.after(&db)
	}
	return &rds.DescribeDBInstancesOutput{DBInstances: []rdstypes.DBInstance{db}}, nil
}

// emulatorOptions are the options of a drill on the emulator whose Shell and Fetch fail the
// test when called: on the emulator nothing may be dialed.
func emulatorOptions(t *testing.T) Options {
	return Options{AWS: aws.Config{Region: "ap-northeast-2"}, Config: exampleConfig(t), Emulator: true,
		Shell: func(_ context.Context, via, host, cmd string) (string, error) {
			t.Errorf("the emulator drill ran %q on %s via %q: nothing may be dialed on the emulator", cmd, host, via)
			return "", nil
		},
		Fetch: func(_ context.Context, url string) (int, string, error) {
			t.Errorf("the emulator drill fetched %s: nothing may be dialed on the emulator", url)
			return 0, "", nil
		},
		Dial: func(_ context.Context, _, addr string) (net.Conn, error) {
			t.Errorf("the emulator drill dialed %s: nothing may be dialed on the emulator", addr)
			return nil, errors.New("not dialed")
		}}
}

// apiRow says whether a row reports an API's answer (a shape check, the sizes, the NAT
// addresses, the reboot): those the emulator can answer for real.
func apiRow(r check.Result) bool {
	return strings.HasPrefix(r.Check, "API: ") || strings.HasPrefix(r.Check, "RebootDBInstance(")
}

// knownLimits are the shape checks moto cannot answer as AWS would (live says why).
var knownLimits = []string{"web servers healthy", "web servers spread", "Multi-AZ with a standby"}

// TestEmulatorRows drills the recorded moto stack: nothing is dialed; the reboot is asked with
// ForceFailover; what the API answers passes, every traffic test and moto's known gaps are
// limitations that say what was not shown, what the live reader does not read is NOT BUILT;
// and each requirement has at least one row that passed on what the API said.
func TestEmulatorRows(t *testing.T) {
	s := loadRecorded(t)
	db := &fakeDB{db: s.DBInstances[0]}
	rows, err := run(context.Background(), emulatorOptions(t), s, db)
	if err != nil {
		t.Fatal(err)
	}
	if db.rebooted == nil || !aws.ToBool(db.rebooted.ForceFailover) || aws.ToString(db.rebooted.DBInstanceIdentifier) != "webtier-db" {
		t.Errorf("RebootDBInstance: got %+v, want webtier-db with ForceFailover=true", db.rebooted)
	}
	passed := map[int]int{}
	for _, r := range rows {
		want := check.Limitation
		if apiRow(r) {
			want = check.Pass
			for _, k := range knownLimits {
				if strings.Contains(r.Check, k) {
					want = check.Limitation
				}
			}
			// What the live reader does not read (alarms, controls) is not judged: not a pass.
			if strings.HasPrefix(r.Observed, "not read: ") {
				want = check.NotBuilt
			}
		}
		if r.Status != want {
			t.Errorf("req %d %q: got %s, want %s (observed %q, evidence %q)", r.Req, r.Check, r.Status, want, r.Observed, r.Evidence)
		}
		if r.Status == check.Limitation && !strings.Contains(r.Evidence+r.Observed, "moto") && r.Evidence != "as above: nothing to start" && r.Evidence != "as above: nothing scaled out" {
			t.Errorf("req %d %q: a limitation that does not say what moto did not show: %q", r.Req, r.Check, r.Evidence)
		}
		if r.Status == check.Pass {
			passed[r.Req]++
		}
	}
	for req := 1; req <= 6; req++ {
		if passed[req] == 0 {
			t.Errorf("req %d: no row passed on what the emulator's API answered", req)
		}
	}
	// The rows name what the API gave: the bastions' public IPs, the ALB's DNS name, the
	// web servers, the database's AZ.
	var all strings.Builder
	drill.Write(&all, "the emulator", rows, time.Second)
	for _, want := range []string{"ssh -J ec2-user@54.214.108.16 ec2-user@10.16.4.6 hostname", "http://webtier-alb-1.ap-northeast-2.elb.amazonaws.com/",
		"moto keeps the instance in ap-northeast-2a", "127.163.160.147", "(22 not shown: EMULATOR LIMITATION; 24 not judged: NOT BUILT)"} {
		if !strings.Contains(all.String(), want) {
			t.Errorf("the table does not say %q:\n%s", want, all.String())
		}
	}
	if drill.Write(&strings.Builder{}, "the emulator", rows, time.Second) {
		t.Error("drill.Write says the drill passed: limitations are not passes")
	}
}

// TestEmulatorFailsWhatTheAPIShows: what the emulator's API does answer can fail the drill.
func TestEmulatorFailsWhatTheAPIShows(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(*live.Described, *fakeDB)
		test   string // the row that must fail
	}{
		{"a mount target missing", func(s *live.Described, _ *fakeDB) { s.MountTargets = s.MountTargets[:1] }, "EFS mount target per web AZ"},
		{"the endpoint moves on reboot", func(_ *live.Described, db *fakeDB) {
			db.after = func(in *rdstypes.DBInstance) { in.Endpoint = &rdstypes.Endpoint{Address: aws.String("other.example")} }
		}, "RebootDBInstance("},
		{"max 3", func(s *live.Described, _ *fakeDB) { s.AutoScalingGroups[0].MaxSize = aws.Int32(3) }, "sizes and CPU target"},
		{"no CPU policy", func(s *live.Described, _ *fakeDB) { s.ScalingPolicies = nil }, "sizes and CPU target"},
		{"a NAT without an address", func(s *live.Described, _ *fakeDB) { s.NATGateways[1].NatGatewayAddresses = nil }, "Elastic IPs"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := loadRecorded(t)
			db := &fakeDB{db: s.DBInstances[0]}
			tc.change(s, db)
			rows, err := run(context.Background(), emulatorOptions(t), s, db)
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, r := range rows {
				if strings.Contains(r.Check, tc.test) {
					found = true
					if r.Status != check.Fail {
						t.Errorf("%q: got %s (%s), want FAIL", r.Check, r.Status, r.Observed)
					}
				}
			}
			if !found {
				t.Errorf("no row %q", tc.test)
			}
		})
	}
}

// TestNothingToDrill: a stack without its parts is an error that names them, not rows.
func TestNothingToDrill(t *testing.T) {
	s := loadRecorded(t)
	s.AutoScalingGroups, s.DBInstances = nil, nil
	_, err := run(context.Background(), emulatorOptions(t), s, &fakeDB{})
	want := "the deployed stack has no an Auto Scaling group tagged webtier:role=web"
	if err == nil || !strings.Contains(err.Error(), "Auto Scaling group tagged webtier:role=web") || !strings.Contains(err.Error(), "DB instance") {
		t.Errorf("got %v, want an error naming what is missing (%s, a DB instance)", err, want)
	}
}

// awsDrill is a drill of the recorded stack as if it were AWS, for the tests that need no
// API call: SSH (1) and the repository through NAT (3).
func awsDrill(t *testing.T, shell Shell, dial func(context.Context, string, string) (net.Conn, error)) *awsEnv {
	s := loadRecorded(t)
	n, _, err := s.Model()
	if err != nil {
		t.Fatal(err)
	}
	f, err := factsOf(s, n, true)
	if err != nil {
		t.Fatal(err)
	}
	o := Options{Config: exampleConfig(t), Shell: shell, Dial: dial}
	if dial == nil {
		o.Dial = func(_ context.Context, _, addr string) (net.Conn, error) {
			t.Errorf("the test dialed %s", addr)
			return nil, errors.New("not dialed")
		}
	}
	return &awsEnv{o: o.withDefaults(), f: f}
}

// TestSSHRows: `hostname` answering each bastion's and, through each bastion, each web
// server's name passes; a connection from this machine straight to a web server's private
// address that succeeds fails the drill, as does another host answering.
func TestSSHRows(t *testing.T) {
	// EC2's names of the recorded instances, by the address the drill logs in to.
	names := map[string]string{}
	d := awsDrill(t, nil, nil)
	for _, h := range d.f.Bastions {
		names[h.PublicIP] = "ip-" + strings.ReplaceAll(h.PrivateIP, ".", "-") + ".ap-northeast-2.compute.internal\n"
	}
	for _, h := range d.f.Webs {
		names[h.PrivateIP] = "ip-" + strings.ReplaceAll(h.PrivateIP, ".", "-") + ".ap-northeast-2.compute.internal\n"
	}
	refused := func(context.Context, string, string) (net.Conn, error) { return nil, errors.New("i/o timeout") }
	connected := func(context.Context, string, string) (net.Conn, error) { c, _ := net.Pipe(); return c, nil }
	for _, tc := range []struct {
		name         string
		dial         func(context.Context, string, string) (net.Conn, error)
		hostname     func(host string) string
		pass, failed int
	}{
		{"as designed", refused, func(h string) string { return names[h] }, 8, 0},
		{"a web server reachable from outside", connected, func(h string) string { return names[h] }, 6, 2},
		// bastion-a is 10.16.1.4: its own row passes.
		{"another host answers", refused, func(string) string { return "ip-10-16-1-4.ap-northeast-2.compute.internal" }, 3, 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var calls []string
			d := awsDrill(t, func(_ context.Context, via, host, cmd string) (string, error) {
				calls = append(calls, via+">"+host+":"+cmd)
				return tc.hostname(host), nil
			}, tc.dial)
			rows := drill.Test(context.Background(), d, 1)
			pass, failed := 0, 0
			for _, r := range rows {
				if r.Status == check.Pass {
					pass++
				} else {
					failed++
				}
			}
			if pass != tc.pass || failed != tc.failed {
				t.Errorf("got %d passed, %d failed; want %d, %d\ncalls: %v\nrows: %+v", pass, failed, tc.pass, tc.failed, calls, rows)
			}
			if want := "54.214.49.144>10.16.4.5:hostname"; !slices.Contains(calls, want) {
				t.Errorf("calls %v: want %s (bastion-c to a web server)", calls, want)
			}
		})
	}
}

// TestRepoRows: 200 through the route to the AZ's NAT passes; no answer fails.
func TestRepoRows(t *testing.T) {
	for _, tc := range []struct {
		code string
		err  error
		want check.Status
	}{{"200", nil, check.Pass}, {"000", errors.New("exit status 28"), check.Fail}, {"403", nil, check.Fail}} {
		d := awsDrill(t, func(_ context.Context, via, host, cmd string) (string, error) {
			if !strings.Contains(cmd, "https://al2023-repos-ap-northeast-2-de612dc2.s3.ap-northeast-2.amazonaws.com/") {
				t.Errorf("command %q does not ask the region's repository", cmd)
			}
			return tc.code, tc.err
		}, nil)
		rows := drill.Test(context.Background(), d, 3)
		if len(rows) != len(d.f.Webs) {
			t.Errorf("curl answers %s: %d rows, want one per web server: %+v", tc.code, len(rows), rows)
		}
		for _, r := range rows {
			if r.Status != tc.want || !strings.Contains(r.Expected, "nat-public-c's EIP 127.163.160.147") {
				t.Errorf("curl answers %s: got %s (expected %q), want %s through nat-public-c", tc.code, r.Status, r.Expected, tc.want)
			}
		}
	}
}

// TestCheckKey: a missing or unusable key is refused with the flag's name.
func TestCheckKey(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(dir, "id")
	os.WriteFile(key, []byte("-----BEGIN OPENSSH PRIVATE KEY-----\n"), 0o600)
	for _, tc := range []struct{ path, want string }{
		{"", "--ssh-key FILE is required for --target aws"},
		{filepath.Join(dir, "none"), "--ssh-key " + filepath.Join(dir, "none") + ": open"},
		{dir, "a directory, not a private key file"},
		{key, ""},
	} {
		err := CheckKey(tc.path)
		if (err == nil) != (tc.want == "") || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("CheckKey(%q): got %v, want %q", tc.path, err, tc.want)
		}
	}
}

// TestFactsFromTheModel: the drill's configuration facts are the model's, read from the same
// answers: the target group's health check as configured, the file system and one mount
// target in each web AZ, each named by its AWS ID.
func TestFactsFromTheModel(t *testing.T) {
	f := awsDrill(t, nil, nil).f
	if f.Check.Path != "/healthz.php" || f.Check.Interval <= 0 || f.Check.Timeout <= 0 || f.Check.Healthy <= 0 || f.Check.Unhealthy <= 0 {
		t.Errorf("health check %+v, want the target group's: /healthz.php with its interval, timeout and thresholds", f.Check)
	}
	if !strings.HasPrefix(f.FileSystem, "fs-") {
		t.Errorf("file system %q, want the deployed one's ID", f.FileSystem)
	}
	s := loadRecorded(t)
	want := map[string][]string{}
	for _, mt := range s.MountTargets {
		for _, sn := range s.Subnets {
			if aws.ToString(sn.SubnetId) == aws.ToString(mt.SubnetId) {
				az := aws.ToString(sn.AvailabilityZone)
				want[az] = append(want[az], aws.ToString(mt.MountTargetId))
			}
		}
	}
	if len(want) != 2 || !reflect.DeepEqual(f.MountTargetAZ, want) {
		t.Errorf("mount targets by AZ %v, want %v (one in each of two AZs)", f.MountTargetAZ, want)
	}
}

// TestAccessSSMRows drills the recorded stack without its bastions as `access: ssm` does: no
// bastion is required, no SSH test runs, and each web server's session is a NOT BUILT row
// that says why (never a pass); on a real account the shell refuses, naming the mode.
func TestAccessSSMRows(t *testing.T) {
	s := loadRecorded(t)
	var kept []ec2types.Instance
	for _, in := range s.Instances {
		bastion := false
		for _, tag := range in.Tags {
			if aws.ToString(tag.Key) == rules.RoleTag && aws.ToString(tag.Value) == string(rules.Bastion) {
				bastion = true
			}
		}
		if !bastion {
			kept = append(kept, in)
		}
	}
	if len(kept) == len(s.Instances) {
		t.Fatal("the recorded stack has no bastion to take away")
	}
	s.Instances = kept
	o := emulatorOptions(t)
	o.Config.Access, o.Config.AdminCIDRs = config.AccessSSM, nil
	rows, err := run(context.Background(), o, s, &fakeDB{db: s.DBInstances[0]})
	if err != nil {
		t.Fatal(err)
	}
	sessions := 0
	for _, r := range rows {
		if r.Req != 1 || apiRow(r) {
			continue
		}
		if strings.HasPrefix(r.Check, "ssh") {
			t.Errorf("%q: an SSH test with access ssm", r.Check)
		}
		if strings.HasPrefix(r.Check, "aws ssm start-session --target i-") {
			sessions++
			if r.Status != check.NotBuilt || !strings.Contains(r.Evidence, "SendCommand") {
				t.Errorf("%q: %s (%s), want NOT BUILT saying why", r.Check, r.Status, r.Evidence)
			}
		}
	}
	if sessions == 0 {
		t.Errorf("test 1 has no session row:\n%+v", rowsOf(rows, 1))
	}
	if _, err := noBastionShell(context.Background(), "", "10.16.3.5", "hostname"); err == nil || !strings.Contains(err.Error(), "access ssm: no bastion") {
		t.Errorf("the shell with access ssm: got %v, want it to refuse naming the mode", err)
	}
}

func rowsOf(rows []check.Result, req int) []check.Result {
	var out []check.Result
	for _, r := range rows {
		if r.Req == req {
			out = append(out, r)
		}
	}
	return out
}
