package twin

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/webtier/webtier/check"
	"github.com/webtier/webtier/config"
	seed "github.com/webtier/webtier/drill"
	"github.com/webtier/webtier/internal/changecases"
	"github.com/webtier/webtier/rules"
	"github.com/webtier/webtier/twin/autoscale"
	"github.com/webtier/webtier/twin/compiler"
	"github.com/webtier/webtier/twin/probe"
	"github.com/webtier/webtier/twin/standin"
	"github.com/webtier/webtier/twin/supervise"
	"github.com/webtier/webtier/verify"
)

// The twin on this machine: up, test and down on the example stack and on broken stacks,
// with real packets. They need Linux, root and nftables; elsewhere they skip, saying why.

// testPrefix keeps the tests' namespaces apart from a user's twin, the command tests' and
// another run's (a developer's beside CI's).
var testPrefix = fmt.Sprintf("wtt%d-", os.Getpid())

// TestMain makes the test binary a stand-in listener when the twin starts it as one.
func TestMain(m *testing.M) {
	if os.Getenv(ServeEnv) != "" {
		os.Exit(ServeMain(os.Args[1:], os.Stderr))
	}
	os.Exit(m.Run())
}

func needTwin(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("the twin's traffic tests take seconds each; -short skips them")
	}
	if why := CanRun(); why != "" {
		t.Skip("this machine cannot run the twin: " + why)
	}
}

// rootNetwork is what the machine's own network looks like: interfaces, addresses, rules,
// routes and nftables ruleset of the root namespace.
func rootNetwork(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	for _, args := range [][]string{
		{"ip", "-o", "link", "show"}, {"ip", "-o", "addr", "show"}, {"ip", "rule", "show"},
		{"ip", "route", "show", "table", "all"}, {"nft", "list", "ruleset"},
	} {
		out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v: %s", strings.Join(args, " "), err, out)
		}
		fmt.Fprintf(&b, "$ %s\n%s", strings.Join(args, " "), out)
	}
	return b.String()
}

// up builds the twin of a stack (the example, edited by breaks) with stand-in listeners.
func up(t *testing.T, breaks ...func(m map[string]any)) (*compiler.Plan, *verify.Network, verify.Intent) {
	t.Helper()
	data := changecases.Edited(t, changecases.ExampleFile, breaks...)
	n, err := verify.Load(data)
	if err != nil {
		t.Fatal(err)
	}
	_, in := changecases.Example(t)
	p := upNetwork(t, n, in)
	// The Auto Scaling controller, as `webtier twin up` starts it.
	cfg, exe := exampleSource(t)
	if err := SaveSource(testPrefix, data, cfg); err != nil {
		t.Fatal(err)
	}
	if err := StartScaler(t.Context(), p, exe); err != nil {
		t.Fatal(err)
	}
	return p, n, in
}

// runTest runs `twin test` and returns the report with its text, for failure messages.
func runTest(t *testing.T, p *compiler.Plan, n *verify.Network, in verify.Intent) (*probe.Report, string) {
	t.Helper()
	r, err := probe.Test(t.Context(), p, n, in, probe.DefaultLimit)
	if err != nil {
		t.Fatal(err)
	}
	var text strings.Builder
	r.WriteText(&text, false)
	return r, text.String()
}

// exampleSource is the example config and this test binary, which the twin runs as its
// services' program.
func exampleSource(t *testing.T) (config.Config, string) {
	t.Helper()
	cfg, err := config.Load(filepath.Join("..", "webtier.example.json"))
	if err != nil {
		t.Fatal(err)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return cfg, exe
}

// upNetwork builds the twin of a loaded network with stand-in services.
func upNetwork(t *testing.T, n *verify.Network, in verify.Intent) *compiler.Plan {
	t.Helper()
	p, err := compiler.Compile(n, in, testPrefix)
	if err != nil {
		t.Fatal(err)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if err := Up(t.Context(), p, exe); err != nil {
		t.Fatal(err)
	}
	return p
}

// down takes the twin down and checks that nothing of it is left: no namespace, no
// listener process, no state directory.
func down(t *testing.T) {
	t.Helper()
	var pids []int
	files, _ := filepath.Glob(filepath.Join(compiler.StateDir(testPrefix), "*.pid"))
	for _, f := range files {
		data, _ := os.ReadFile(f)
		if pid, err := strconv.Atoi(strings.TrimSpace(string(data))); err == nil {
			pids = append(pids, pid)
		}
	}
	if _, err := Down(t.Context(), testPrefix); err != nil {
		t.Fatal(err)
	}
	if left, _ := Namespaces(testPrefix); len(left) > 0 {
		t.Errorf("namespaces left after down: %v", left)
	}
	for _, pid := range pids {
		if supervise.Running(pid) {
			t.Errorf("listener process %d still runs after down", pid)
		}
	}
	if _, err := os.Stat(compiler.StateDir(testPrefix)); !os.IsNotExist(err) {
		t.Errorf("%s is still there after down", compiler.StateDir(testPrefix))
	}
}

// prune removes a resource and every depends_on entry that names it.
func prune(res map[string]any, typ, name string) {
	delete(res[typ].(map[string]any), name)
	ref := typ + "." + name
	for _, group := range res {
		for _, r := range group.(map[string]any) {
			attrs := r.(map[string]any)
			deps, _ := attrs["depends_on"].([]any)
			kept := deps[:0]
			for _, d := range deps {
				if d != ref {
					kept = append(kept, d)
				}
			}
			if deps != nil {
				attrs["depends_on"] = kept
			}
		}
	}
}

// TestExampleTwin runs the example stack as real packets: every probe as the flow table
// expects, no difference from verify on any connection, the machine's own network the same
// before, during and after, and nothing left after down.
func TestExampleTwin(t *testing.T) {
	needTwin(t)
	before := rootNetwork(t)
	p, n, in := up(t)
	defer down(t)
	if during := rootNetwork(t); during != before {
		t.Errorf("the twin changed the machine's own network:\nbefore:\n%s\nduring:\n%s", before, during)
	}
	r, text := runTest(t, p, n, in)
	if !r.OK() {
		t.Fatalf("twin test failed on the example stack:\n%s", text)
	}
	probes := 0
	for _, o := range r.Outcomes {
		if len(o.Probes) > 0 {
			probes++
		}
	}
	if probes < 100 || len(r.Outcomes) < 10000 {
		t.Errorf("only %d probe attempts and %d attempts in all: the test did not try what verify judges", probes, len(r.Outcomes))
	}
	t.Logf("%d attempts, %d of them probes, in %s", len(r.Outcomes), probes, r.Elapsed)
	// The bastion's sshd (or its stand-in) answers through the path: admin -> its public address.
	bastion, _ := p.Host("bastion-a")
	out, err := exec.Command("ip", "netns", "exec", testPrefix+"admin", "bash", "-c",
		"exec 3<>/dev/tcp/"+bastion.Public.String()+"/22 && head -1 <&3").CombinedOutput()
	want := "bastion-a (instance) tcp/22: a stand-in listener"
	if HasSSH() {
		want = "SSH-2.0-OpenSSH"
	}
	if err != nil || !strings.Contains(string(out), want) {
		t.Errorf("admin -> bastion-a's public address on 22: %v: %s", err, out)
	}
	down(t)
	if after := rootNetwork(t); after != before {
		t.Errorf("the machine's own network differs after down:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}

// nacl returns the entry of a network ACL with the given attributes.
func naclEntry(t *testing.T, res map[string]any, acl string, egress bool, cidr string, from int) map[string]any {
	t.Helper()
	for _, r := range res["aws_network_acl_rule"].(map[string]any) {
		e := r.(map[string]any)
		if e["network_acl_id"] == "${aws_network_acl."+acl+".id}" && e["egress"] == egress && e["cidr_block"] == cidr && e["from_port"] == float64(from) {
			return e
		}
	}
	t.Fatalf("no entry of %s (egress %t) for %s from port %d", acl, egress, cidr, from)
	return nil
}

// TestBrokenStacks: each stack is broken one way; the packets show it (a probe misses what
// the flow table expects, for the expected connection) and still agree with verify.
func TestBrokenStacks(t *testing.T) {
	needTwin(t)
	defer down(t)
	for _, c := range []struct {
		name   string
		break_ func(t *testing.T, res map[string]any)
		// miss describes the probe connections that must miss: every miss matches it.
		miss func(o *probe.Outcome) bool
	}{
		{"the seed's return range 32768-60999 towards the ALB nodes", func(t *testing.T, res map[string]any) {
			for _, cidr := range []string{"10.16.1.0/24", "10.16.2.0/24"} {
				e := naclEntry(t, res, "web-nacl", true, cidr, 1024)
				e["from_port"], e["to_port"] = 32768, 60999
			}
		}, func(o *probe.Outcome) bool {
			return o.From.Role == "alb" && o.To.Role == "web" && o.DPort == 80 && (o.SPort < 32768 || o.SPort > 60999)
		}},
		{"the seed's return range 49152-65535 towards internet clients", func(t *testing.T, res map[string]any) {
			e := naclEntry(t, res, "public-nacl", true, "0.0.0.0/0", 1024)
			e["from_port"] = 49152
		}, func(o *probe.Outcome) bool {
			return o.From.Name == "internet" && o.To.Role == "alb" && o.DPort == 80 && o.SPort < 49152
		}},
		{"bastion SSH open to the world", func(t *testing.T, res map[string]any) {
			rules := res["aws_vpc_security_group_ingress_rule"].(map[string]any)
			rules["bastion-sg-ingress-admin-to-bastion-ssh-203-0-113-0-24"].(map[string]any)["cidr_ipv4"] = "0.0.0.0/0"
			naclEntry(t, res, "public-nacl", false, "203.0.113.0/24", 22)["cidr_block"] = "0.0.0.0/0"
		}, func(o *probe.Outcome) bool {
			return o.From.Role == "internet" && o.To.Role == "bastion" && o.DPort == 22
		}},
		{"no NAT route from web-a", func(t *testing.T, res map[string]any) {
			prune(res, "aws_route", "web-a-default")
		}, func(o *probe.Outcome) bool {
			return o.From.Name == "web-a-1" && o.To.Role == "repos"
		}},
		{"web-a routed straight to the internet gateway", func(t *testing.T, res map[string]any) {
			route := res["aws_route"].(map[string]any)["web-a-default"].(map[string]any)
			delete(route, "nat_gateway_id")
			route["gateway_id"] = "${aws_internet_gateway.igw.id}"
		}, func(o *probe.Outcome) bool {
			return o.From.Name == "web-a-1" && o.To.Role == "repos"
		}},
		{"the database ACL forgets the replies to web-c", func(t *testing.T, res map[string]any) {
			e := naclEntry(t, res, "db-nacl", true, "10.16.4.0/24", 32768)
			e["rule_action"] = "deny"
		}, func(o *probe.Outcome) bool {
			return o.From.Name == "web-c-1" && o.To.Role == "db" && o.DPort == 3306
		}},
		{"the web servers' group lets no ALB in", func(t *testing.T, res map[string]any) {
			prune(res, "aws_vpc_security_group_ingress_rule", "web-sg-ingress-alb-to-web-http")
		}, func(o *probe.Outcome) bool {
			return o.From.Role == "alb" && o.To.Role == "web" && o.DPort == 80
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			p, n, in := up(t, func(res map[string]any) { c.break_(t, res) })
			r, text := runTest(t, p, n, in)
			misses := r.Misses()
			switch {
			case r.OK() || len(misses) == 0:
				t.Fatalf("twin test passed a broken stack:\n%s", text)
			case len(r.Differences()) > 0:
				t.Errorf("the kernel and verify disagree:\n%s", text)
			}
			for _, o := range misses {
				if !c.miss(o) {
					t.Errorf("unexpected miss (not the breakage's):\n%s", o.Explain())
				}
			}
		})
	}
}

// rowsOf are the rows of one requirement.
func rowsOf(rows []check.Result, req int) []check.Result {
	var out []check.Result
	for _, r := range rows {
		if r.Req == req {
			out = append(out, r)
		}
	}
	return out
}

// TestDrill runs the seed's tests on the twin of the example stack: everything the twin
// runs passes, and what it does not run yet says so instead of passing.
func TestDrill(t *testing.T) {
	needTwin(t)
	defer down(t)
	p, _, _ := up(t)
	rows, err := Drill(t.Context(), p)
	if err != nil {
		t.Fatal(err)
	}
	var text strings.Builder
	seed.Write(&text, compiler.Where, rows, 0)
	built := map[int]bool{1: true, 2: true, 3: true, 4: true, 5: standin.HasMariaDB(), 6: true}
	for _, r := range rows {
		switch {
		case built[r.Req] && r.Status != check.Pass:
			t.Errorf("req %d %q: %s (expected %s, observed %s: %s)", r.Req, r.Check, r.Status, r.Expected, r.Observed, r.Evidence)
		case !built[r.Req] && r.Status != check.NotBuilt:
			t.Errorf("req %d %q: %s, but the twin runs nothing for it", r.Req, r.Check, r.Status)
		}
	}
	if len(rowsOf(rows, 1)) < 10 || len(rowsOf(rows, 2)) != 4 || len(rowsOf(rows, 3)) != 6 || len(rowsOf(rows, 4)) != 2 || len(rowsOf(rows, 5)) != 3 || len(rowsOf(rows, 6)) != 2 {
		t.Errorf("the drill ran fewer tests than the seed's:\n%s", text.String())
	}
	t.Log("\n" + text.String())
}

// TestDrillBrokenStacks: the drill fails the test of the requirement a stack breaks.
func TestDrillBrokenStacks(t *testing.T) {
	needTwin(t)
	defer down(t)
	for _, c := range []struct {
		name   string
		req    int
		break_ func(t *testing.T, res map[string]any)
		// failing is the test that must fail, and why what it observed or its evidence
		// (when set) says.
		failing, why string
	}{
		{"the seed's return range 32768-60999 towards the ALB nodes", 2, func(t *testing.T, res map[string]any) {
			for _, cidr := range []string{"10.16.1.0/24", "10.16.2.0/24"} {
				e := naclEntry(t, res, "web-nacl", true, cidr, 1024)
				e["from_port"], e["to_port"] = 32768, 60999
			}
		}, "30 requests from the internet", ""},
		{"no NAT route from web-a", 3, func(t *testing.T, res map[string]any) {
			prune(res, "aws_route", "web-a-default")
		}, "web-a-1 -> https://", ""},
		{"a DB subnet group in one AZ", 5, func(t *testing.T, res map[string]any) {
			if !standin.HasMariaDB() {
				t.Skip("MariaDB is not installed: the twin runs no database here")
			}
			group := res["aws_db_subnet_group"].(map[string]any)
			for _, g := range group {
				ids := g.(map[string]any)["subnet_ids"].([]any)
				g.(map[string]any)["subnet_ids"] = ids[:1]
			}
		}, "fail the database over", ""},
		{"a health check path the servers do not serve", 2, func(t *testing.T, res map[string]any) {
			hc := res["aws_lb_target_group"].(map[string]any)["web"].(map[string]any)["health_check"].(map[string]any)
			hc["path"] = "/nothing-here"
		}, "30 requests from the internet", ""},
		{"no target-tracking policy on the web servers' group", 4, func(t *testing.T, res map[string]any) {
			prune(res, "aws_autoscaling_policy", "web-cpu")
		}, "load the web servers' CPU", "has no target-tracking policy on average CPU"},
		{"an EFS mount target missing in ap-northeast-2c", 6, func(t *testing.T, res map[string]any) {
			prune(res, "aws_efs_mount_target", "shared-c")
		}, "webtier-drill-", "the EFS mount failed: resolving fs-twin.efs.ap-northeast-2.amazonaws.com"},
		// Issue 17's first defect, as the stack had it: the file-system policy holds one Deny,
		// so an anonymous mount (no iam option) is allowed nothing.
		{"the web servers mount without the iam option", 6, func(t *testing.T, res map[string]any) {
			lt := res["aws_launch_template"].(map[string]any)["web"].(map[string]any)
			data, _ := json.Marshal(lt["user_data"])
			if !strings.Contains(string(data), "tls,iam,") {
				t.Fatal("the web servers' user data no longer mounts with tls,iam: update this break")
			}
			var edited any
			json.Unmarshal([]byte(strings.ReplaceAll(string(data), "tls,iam,", "tls,")), &edited)
			lt["user_data"] = edited
		}, "write webtier-drill-", "access denied by the mount target (stands in for EFS's authorization): User: anonymous is not authorized"},
		{"the web role without its mount policy", 6, func(t *testing.T, res map[string]any) {
			prune(res, "aws_iam_role_policy", "web-mount-shared-fs")
		}, "write webtier-drill-", "is not authorized to perform: elasticfilesystem:ClientMount"},
		{"the unhealthy-host alarm without an action", 2, func(t *testing.T, res map[string]any) {
			delete(res["aws_cloudwatch_metric_alarm"].(map[string]any)["alb-unhealthy-hosts"].(map[string]any), "alarm_actions")
		}, "the unhealthy-host alarm notifies its topic", "the stack has no alarm on AWS/ApplicationELB UnHealthyHostCount that notifies a topic"},
		{"the database's event subscription without failover", 5, func(t *testing.T, res map[string]any) {
			if !standin.HasMariaDB() {
				t.Skip("MariaDB is not installed: the twin runs no database here")
			}
			sub := res["aws_db_event_subscription"].(map[string]any)["db-events"].(map[string]any)
			sub["event_categories"] = []any{"failure", "low storage"}
		}, "the failover's event notifies its topic", "no RDS event subscription of its database's failover category"},
		// Issue 17's fourth defect, as the stack had it: the health page in the site's PHP-FPM
		// pool and /db.php waiting PHP's 60 s for a connection.
		{"the health page in the site's pool, no connect timeout", 5, func(t *testing.T, res map[string]any) {
			if !standin.HasMariaDB() {
				t.Skip("MariaDB is not installed: the twin runs no database here")
			}
			lt := res["aws_launch_template"].(map[string]any)["web"].(map[string]any)
			text := lt["user_data"].(string)
			edited := strings.Replace(strings.Replace(text, "SetHandler", "# SetHandler", 1), "$db->options(MYSQLI_OPT_CONNECT_TIMEOUT, 3);", "", 1)
			if len(edited) != len(text)+2-len("$db->options(MYSQLI_OPT_CONNECT_TIMEOUT, 3);") {
				t.Fatal("the user data no longer has the health pool's handler or the connect timeout: update this break")
			}
			lt["user_data"] = edited
		}, "no web server leaves service during the failover", "unhealthy after"},
		{"a Secrets Manager endpoint policy naming another role", 5, func(t *testing.T, res map[string]any) {
			if !standin.HasMariaDB() {
				t.Skip("MariaDB is not installed: the twin runs no database here")
			}
			ep := res["aws_vpc_endpoint"].(map[string]any)["secretsmanager"].(map[string]any)
			text := ep["policy"].(string)
			if !strings.Contains(text, "role/webtier-web") {
				t.Fatal("the endpoint policy no longer names role/webtier-web: update this break")
			}
			ep["policy"] = strings.ReplaceAll(text, "role/webtier-web", "role/webtier-other")
		}, "fail the database over", "AccessDeniedException"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p, _, _ := up(t, func(res map[string]any) { c.break_(t, res) })
			rows, err := Drill(t.Context(), p, c.req)
			if err != nil {
				t.Fatal(err)
			}
			var text strings.Builder
			seed.Write(&text, compiler.Where, rows, 0)
			found := false
			for _, r := range rows {
				if strings.HasPrefix(r.Check, c.failing) {
					found = true
					if r.Status != check.Fail {
						t.Errorf("%q passed on a broken stack:\n%s", r.Check, text.String())
					}
					if r.Status == check.Fail && !strings.Contains(r.Observed+" "+r.Evidence, c.why) {
						t.Errorf("%q failed, but its evidence does not say %q:\n%s", r.Check, c.why, text.String())
					}
				}
			}
			if !found {
				t.Errorf("no test %q ran:\n%s", c.failing, text.String())
			}
		})
	}
}

// TestGatewayEndpointTwin: with the S3 gateway endpoint on, the web servers reach the
// repositories through the endpoint's route (no NAT, no public address), as verify says.
func TestGatewayEndpointTwin(t *testing.T) {
	needTwin(t)
	defer down(t)
	n, in := changecases.Load(t, filepath.Join("verify", "testdata", "s3-endpoint.tf.json"),
		func(c *config.Config) { c.S3GatewayEndpoint = true })
	p := upNetwork(t, n, in)
	r, text := runTest(t, p, n, in)
	if !r.OK() {
		t.Fatalf("twin test failed with the gateway endpoint:\n%s", text)
	}
	// The repository saw the web server's own private address: no NAT on the way.
	rows, err := Drill(t.Context(), p, 3)
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range rows {
		if row.Status != check.Pass {
			t.Errorf("%s: %s (expected %s, observed %s)", row.Check, row.Status, row.Expected, row.Observed)
		}
		if strings.Contains(row.Check, "mirror.list") && !strings.Contains(row.Observed, "seen from 10.16.") {
			t.Errorf("%s: observed %s, want the web server's private address (the endpoint keeps it)", row.Check, row.Observed)
		}
	}
}

// TestChange: changes applied to a running twin while the prober asks for the site: a rule
// that does not touch the site's path (the bastions' SSH from a second admin range) loses no
// request; the web servers' rule for the ALB replaced destroy-first, replayed as the apply's
// two states, loses requests in the state between and none once the new rule is in; the rule
// removed loses requests until the end.
func TestChange(t *testing.T) {
	needTwin(t)
	defer down(t)
	up(t)
	cfg, exe := exampleSource(t)
	edited := func(edit func(res map[string]any)) []byte {
		return changecases.Edited(t, changecases.ExampleFile, edit)
	}
	const sgIn = "aws_vpc_security_group_ingress_rule"
	secondAdmin := func(res map[string]any) {
		rules := res[sgIn].(map[string]any)
		r := map[string]any{}
		for k, v := range rules["bastion-sg-ingress-admin-to-bastion-ssh-203-0-113-0-24"].(map[string]any) {
			r[k] = v
		}
		r["cidr_ipv4"] = "198.51.100.0/24"
		rules["bastion-sg-ingress-admin-to-bastion-ssh-198-51-100-0-24"] = r
	}
	noALBRule := func(res map[string]any) { prune(res, sgIn, "web-sg-ingress-alb-to-web-http") }
	type step struct {
		name  string
		edit  func(res map[string]any)
		loses bool
	}
	for _, c := range []struct {
		name  string
		steps []step
	}{
		{"the bastions' SSH from a second admin range", []step{{"second admin range", secondAdmin, false}}},
		{"the web servers' rule for the ALB replaced destroy-first", []step{
			{"every destroy done, no create yet", noALBRule, true},
			{"the new rule in", func(map[string]any) {}, false}}},
		{"the web servers' rule for the ALB removed", []step{{"rule removed", noALBRule, true}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var steps []ChangeStep
			for _, st := range c.steps {
				steps = append(steps, ChangeStep{Name: st.name, Stack: edited(st.edit)})
			}
			was, err := SavedPlan(testPrefix)
			if err != nil {
				t.Fatal(err)
			}
			r, err := Change(t.Context(), testPrefix, steps, cfg, exe, 0)
			if err != nil {
				t.Fatal(err)
			}
			for _, st := range c.steps {
				var site, others []probe.FlowFigures
				for _, f := range r.Flows {
					switch {
					case f.Step != st.name:
					case strings.HasSuffix(f.Flow, "/ every 100 ms"):
						site = append(site, f)
					default:
						others = append(others, f)
					}
				}
				if len(site) != 2 {
					t.Fatalf("%s: the prober watched %d ALB nodes; want 2: %+v", st.name, len(site), r.Flows)
				}
				for _, f := range site {
					t.Logf("%s: %s: %d sent, %d failed, longest gap %s %s", st.name, f.Flow, f.Sent, f.Failed, f.LongestGap, f.FirstError)
					if f.Sent < 10 {
						t.Errorf("%s: %s: %d requests sent; the prober did not run", st.name, f.Flow, f.Sent)
					}
					if lost := f.Failed > 0; lost != st.loses {
						t.Errorf("%s: %s: %d of %d requests failed (first: %s); want loses=%v", st.name, f.Flow, f.Failed, f.Sent, f.FirstError, st.loses)
					}
				}
				// The repository through NAT is not on the ALB's path: no change here cuts it.
				// /db.php is (it is asked through the ALB).
				for _, f := range others {
					t.Logf("%s: %s: %d sent, %d failed, longest gap %s %s", st.name, f.Flow, f.Sent, f.Failed, f.LongestGap, f.FirstError)
					if f.Sent == 0 {
						t.Errorf("%s: %s: no request sent", st.name, f.Flow)
					}
					if strings.Contains(f.Flow, "repository") && f.Failed > 0 {
						t.Errorf("%s: %s: %d of %d failed (first: %s); the change does not touch that path", st.name, f.Flow, f.Failed, f.Sent, f.FirstError)
					}
				}
				if len(others) < 2 {
					t.Errorf("%s: the prober watched %d flows besides the site; want the repository from each web server: %+v", st.name, len(others), r.Flows)
				}
			}
			// A rule change leaves an operator's session open (conntrack keeps it).
			for _, s := range r.Sessions {
				if !s.Survived {
					t.Errorf("the session %s ended in %q: %s", s.Session, s.EndedIn, s.Why)
				}
			}
			if len(r.Sessions) != 1 {
				t.Errorf("sessions held: %+v; want one", r.Sessions)
			}
			// A rule change ends no host of the VPC. (One outside is made again when a rule
			// names the range it was in: the internet client, by a second admin range.)
			for _, st := range r.Steps {
				for _, name := range st.Ended {
					if h, err := was.Host(name); err != nil || h.Subnet != "" {
						t.Errorf("a rule change ended %s: %+v", name, st)
					}
				}
			}
		})
	}
}

// TestInstanceRefresh: a new launch template (another instance type) replaces every web server
// through the group's instance refresh, with the stack's preferences: the replacements launch
// first, so both ALB nodes keep the whole desired capacity in service and no request through
// them fails; the old servers are drained and gone, and the new ones serve.
func TestInstanceRefresh(t *testing.T) {
	needTwin(t)
	defer down(t)
	p, _, _ := up(t)
	cfg, exe := exampleSource(t)
	newType := changecases.Edited(t, changecases.ExampleFile, func(res map[string]any) {
		res["aws_launch_template"].(map[string]any)["web"].(map[string]any)["instance_type"] = "t3.small"
	})
	var before []string
	for _, h := range p.HostsOfRole(rules.Web) {
		before = append(before, h.Name)
	}
	r, err := Change(t.Context(), testPrefix, []ChangeStep{{Name: "the new stack", Stack: newType}}, cfg, exe, 0)
	if err != nil {
		t.Fatal(err)
	}
	var launched, ended []string
	for _, st := range r.Steps {
		t.Logf("%s: applied in %s, launched %v, ended %v", st.Name, st.Applied, st.Launched, st.Ended)
		launched, ended = append(launched, st.Launched...), append(ended, st.Ended...)
	}
	slices.Sort(ended)
	if !slices.Equal(ended, before) || len(launched) != len(before) {
		t.Errorf("the refresh launched %v and ended %v; want %d new servers and %v ended", launched, ended, len(before), before)
	}
	sent := 0
	for _, f := range r.Flows {
		if strings.HasSuffix(f.Flow, "/ every 100 ms") {
			sent += f.Sent
			if f.Failed > 0 {
				t.Errorf("%s: %s: %d of %d requests failed (first: %s), longest gap %s", f.Step, f.Flow, f.Failed, f.Sent, f.FirstError, f.LongestGap)
			}
		}
	}
	t.Logf("%d requests through the ALB nodes", sent)
	if sent < 200 {
		t.Errorf("%d requests through the ALB nodes during the change; the prober did not run", sent)
	}
	for _, f := range r.InService {
		t.Logf("%s: %d - %d targets in service", f.Step, f.Fewest, f.Most)
		if f.Fewest < len(before) {
			t.Errorf("%s: an ALB node had %d targets in service; the refresh should keep %d", f.Step, f.Fewest, len(before))
		}
	}
	if len(r.Services) > 0 {
		t.Errorf("servers left on the old template: %v", r.Services)
	}
	// An operator's session on a replaced server ends with it, and only then.
	if len(r.Sessions) != 1 {
		t.Fatalf("sessions held: %+v; want one through a bastion", r.Sessions)
	}
	s := r.Sessions[0]
	t.Logf("session %s: survived %v, %d commands, ended in %q: %s", s.Session, s.Survived, s.Commands, s.EndedIn, s.Why)
	replaced := slices.IndexFunc(r.Steps, func(st probe.StepReport) bool { return slices.Contains(st.Ended, before[0]) })
	at := func(step string) int {
		return slices.IndexFunc(r.Steps, func(st probe.StepReport) bool { return st.Name == step })
	}
	if s.Survived || replaced < 0 || at(s.LastAnswered) != replaced-1 && at(s.LastAnswered) != replaced || at(s.EndedIn) < replaced {
		t.Errorf("the session to %s: %+v; want it answered until %s is terminated (%q), then ended", before[0], s, before[0], r.Steps[max(replaced, 0)].Name)
	}
	after, _, _, err := Running(testPrefix)
	if err != nil {
		t.Fatal(err)
	}
	var now []string
	for _, h := range after.HostsOfRole(rules.Web) {
		now = append(now, h.Name)
	}
	slices.Sort(now)
	slices.Sort(launched)
	if !slices.Equal(now, launched) {
		t.Errorf("the twin's web servers are %v after the refresh; want the launched %v", now, launched)
	}
	if out := autoscale.WaitInService(t.Context(), after, nil, time.Second); len(out) > 0 {
		t.Errorf("after the refresh, not in service: %v", out)
	}
}

// TestChangesAgreeWithVerify replays each change of the change review (internal/changecases)
// on the twin in the states terraform's plan of it passes through, then returns to the
// example: in every state, the prober's requests fail as verify says of that state (none,
// some or all), and a flow verify says is cut loses requests there.
func TestChangesAgreeWithVerify(t *testing.T) {
	needTwin(t)
	defer down(t)
	up(t)
	_, exe := exampleSource(t)
	for _, c := range changecases.Cases {
		t.Run(c.Name, func(t *testing.T) {
			pair, err := c.Pair()
			if err != nil {
				t.Fatal(err)
			}
			states, err := c.Steps(pair)
			if err != nil {
				t.Fatal(err)
			}
			var steps []ChangeStep
			for _, st := range states {
				steps = append(steps, ChangeStep{Name: st.Name, Stack: st.Stack})
			}
			// Each state held 2 s: a cut shows in the requests at once.
			r, err := Change(t.Context(), testPrefix, steps, pair.HeadCfg, exe, 2*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			lost := 0
			for _, e := range r.Expected {
				if e.Fail != probe.FailNone {
					t.Logf("verify: %s: %s: %s fail (%s)", e.Step, e.Flow, e.Fail, e.Why)
				}
			}
			for _, f := range r.Flows {
				lost += f.Failed
			}
			for _, d := range r.Disagreements() {
				t.Error(d)
			}
			if len(r.Disagreements()) > 0 {
				// What the web servers said of their pages, for the cause.
				logs, _ := filepath.Glob(filepath.Join(compiler.StateDir(testPrefix), "web-*.log"))
				for _, f := range logs {
					data, _ := os.ReadFile(f)
					for _, line := range strings.Split(string(data), "\n") {
						if strings.Contains(line, "db.php:") {
							t.Logf("%s: %s", filepath.Base(f), line)
						}
					}
				}
			}
			t.Logf("%d steps, %d requests failed", len(r.Steps), lost)
			// Back to the example for the next change.
			if _, err := Change(t.Context(), testPrefix, []ChangeStep{{Name: "back", Stack: pair.Base}}, pair.BaseCfg, exe, 100*time.Millisecond); err != nil {
				t.Fatal(err)
			}
		})
	}
}
