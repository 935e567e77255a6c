package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/webtier/webtier/config"
	"github.com/webtier/webtier/rules"
	"github.com/webtier/webtier/ruletable"
	"github.com/webtier/webtier/stacks"
	"github.com/webtier/webtier/tfcli"
	"github.com/webtier/webtier/verify"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

const exampleConfig = "webtier.example.json"

// examplePlan is the plan of the shipped example config, which `make synth` uses.
func examplePlan(t testing.TB) stacks.Input {
	t.Helper()
	cfg, err := config.Load(exampleConfig)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := stacks.NewInput(cfg)
	if err != nil {
		t.Fatalf("the example config does not plan: %v", err)
	}
	return plan
}

// synthTo synthesizes plan into a fresh directory and returns the stack's JSON.
func synthTo(t testing.TB, plan stacks.Input) []byte {
	t.Helper()
	out := filepath.Join(t.TempDir(), "cdktf.out")
	if err := Synth(plan, out); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(out, "stacks", stacks.Name, "cdk.tf.json"))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

var (
	exampleOnce  sync.Once
	exampleStack []byte
)

// exampleJSON is the example config's stack, synthesized once per test run.
func exampleJSON(t *testing.T) []byte {
	exampleOnce.Do(func() { exampleStack = synthTo(t, examplePlan(t)) })
	if exampleStack == nil {
		t.Fatal("synthesis of the example stack failed earlier")
	}
	return exampleStack
}

func TestGoldenRuleTables(t *testing.T) {
	plan := examplePlan(t)
	tables, err := ruletable.Read(exampleJSON(t), plan.Policy)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "security-groups.txt", []byte(tables.SGText()))
	if len(tables.NACLs) != 3 {
		t.Fatalf("got %d network ACLs, want one per tier (3)", len(tables.NACLs))
	}
	for _, acl := range tables.NACLs {
		golden(t, acl.Name+".txt", []byte(acl.NACLText()))
		for _, r := range acl.Rows {
			if r.Why == ruletable.NotInTable {
				t.Errorf("%s: %s %s %s is in the stack but no flow asked for it", acl.Name, r.Direction, r.Ports, r.Peer)
			}
		}
	}
}

func TestGoldenStackJSON(t *testing.T) {
	golden(t, "webtier.tf.json", stripMetadata(t, exampleJSON(t)))
}

// TestGoldenVerifyInputs keeps the verifier's test stacks (variants the verify package cannot
// synthesize itself, having no cdktf import) equal to what synth writes today.
func TestGoldenVerifyInputs(t *testing.T) {
	for name, change := range map[string]func(*config.Config){
		"single-nat.tf.json": func(c *config.Config) { c.NAT = config.NATSingle },
		"https.tf.json": func(c *config.Config) {
			c.CertificateARN = "arn:aws:acm:ap-northeast-2:123456789012:certificate/abc"
		},
		"s3-endpoint.tf.json": func(c *config.Config) { c.S3GatewayEndpoint = true },
		"access-ssm.tf.json": func(c *config.Config) {
			c.Access, c.AdminCIDRs = config.AccessSSM, nil
		},
		"access-both.tf.json": func(c *config.Config) {
			c.Access, c.Quotas.NACLRulesPerDirection = config.AccessBoth, 22
		},
	} {
		cfg := examplePlan(t).Config
		change(&cfg)
		plan, err := stacks.NewInput(cfg)
		if err != nil {
			t.Fatal(err)
		}
		goldenFile(t, filepath.Join("verify", "testdata", name), stripMetadata(t, synthTo(t, plan)))
	}
}

func TestSynthIsDeterministic(t *testing.T) {
	again := synthTo(t, examplePlan(t))
	if !bytes.Equal(exampleJSON(t), again) {
		t.Fatal("two syntheses of the same config gave different bytes")
	}
}

// TestTerraformValidate checks the stack against the real AWS provider schema.
func TestTerraformValidate(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "cdk.tf.json"), exampleJSON(t), 0o644); err != nil {
		t.Fatal(err)
	}
	env, err := tfcli.Env(".")
	if err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"init", "-backend=false", "-input=false", "-no-color"}, {"validate", "-no-color"}} {
		cmd := exec.Command("terraform", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), env...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("terraform %s failed: %v\n%s", args[0], err, out)
		}
		if args[0] == "validate" && !strings.Contains(string(out), "The configuration is valid") {
			t.Fatalf("terraform validate did not say the configuration is valid:\n%s", out)
		}
	}
}

// TestBadConfigWritesNothing runs the command as a user would: bad input exits 2 with the
// field named, and no output directory appears.
func TestBadConfigWritesNothing(t *testing.T) {
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"no admin CIDR", []string{}, "admin_cidrs: empty"},
		{"subnet outside the VPC", []string{"--config", exampleConfig, "--web-subnets", "10.16.3.0/24,10.17.4.0/24"},
			"subnets.web[1]: 10.17.4.0/24 is outside the VPC 10.16.0.0/16"},
		{"min above max", []string{"--config", exampleConfig, "--min", "5"}, "fleet.min: 5 is greater than fleet.max 4"},
		{"unknown flag", []string{"--config", exampleConfig, "--colour", "red"}, "flag provided but not defined: -colour"},
		{"the default repo CIDRs in another region", []string{"--config", exampleConfig, "--region", "eu-west-1"},
			"repo_cidrs: the default list holds the S3 ranges of ap-northeast-2, not of eu-west-1; run `webtier repo-ranges --region eu-west-1"},
		// The example's public ACL holds 16 inbound entries besides the admin ranges': with 4,
		// 20 and the default deny pass AWS's quota of 20.
		{"too many NACL entries", []string{"--config", exampleConfig, "--admin-cidrs", manyCIDRs(4)},
			"public-nacl: 20 ingress entries + the default deny = 21 > 20 (L-2AEEBF1A, Inbound or outbound rules per network ACL); " +
				"raise it in Service Quotas (https://console.aws.amazon.com/servicequotas/home/services/vpc/quotas/L-2AEEBF1A) and set quotas.nacl_rules_per_direction"},
		{"a quota raised past AWS's maximum", []string{"--config", exampleConfig, "--quota-nacl-rules-per-direction", "41"},
			"quotas.nacl_rules_per_direction: 41 is above 40, the most AWS allows for L-2AEEBF1A (Inbound or outbound rules per network ACL)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Setenv("WEBTIER_CONFIG", "")
			out := filepath.Join(t.TempDir(), "cdktf.out")
			var stdout, stderr bytes.Buffer
			code := run(append([]string{"synth", "--out", out}, c.args...), &stdout, &stderr)
			if code != exitBadArgs {
				t.Errorf("exit status: got %d, want %d (stderr: %s)", code, exitBadArgs, stderr.String())
			}
			if !strings.Contains(stderr.String(), c.want) {
				t.Errorf("stderr: got %q, want it to contain %q", stderr.String(), c.want)
			}
			if entries, _ := os.ReadDir(filepath.Dir(out)); len(entries) != 0 {
				t.Errorf("bad input left %d files behind in the output's folder", len(entries))
			}
		})
	}
}

// manyCIDRs lists n admin ranges 198.51.100.0/28, .16/28, ...
// TestRaisedQuotaPlans: admin ranges that take the public ACL past AWS's default quota plan
// once the config says the account has raised it, and the example fits the default.
func TestRaisedQuotaPlans(t *testing.T) {
	cfg := examplePlan(t).Config
	cfg.AdminCIDRs = strings.Split(manyCIDRs(4), ",")
	if _, err := stacks.NewInput(cfg); err == nil {
		t.Fatal("4 admin ranges at AWS's default quota: got a plan, want the public ACL refused")
	}
	cfg.Quotas.NACLRulesPerDirection = 21
	plan, err := stacks.NewInput(cfg)
	if err != nil {
		t.Fatalf("4 admin ranges with quotas.nacl_rules_per_direction 21: got %v, want a plan", err)
	}
	n := 0
	for _, e := range plan.Policy.NACL[rules.Public] {
		if e.Direction == rules.Ingress {
			n++
		}
	}
	if n != 20 {
		t.Errorf("public-nacl ingress entries: got %d, want 20 (the quota of 21 less the default deny)", n)
	}
}

func manyCIDRs(n int) string {
	var list []string
	for i := 0; i < n; i++ {
		list = append(list, "198.51.100."+strconv.Itoa(i*16)+"/28")
	}
	return strings.Join(list, ",")
}

// stripMetadata drops cdktf's "//" blocks (construct paths, the cdktf version) and renders
// the rest with sorted keys, so the golden file changes only when the infrastructure does.
func stripMetadata(t *testing.T, stack []byte) []byte {
	t.Helper()
	var doc any
	if err := json.Unmarshal(stack, &doc); err != nil {
		t.Fatal(err)
	}
	var strip func(any) any
	strip = func(v any) any {
		switch x := v.(type) {
		case map[string]any:
			delete(x, "//")
			for k, e := range x {
				x[k] = strip(e)
			}
		case []any:
			for i, e := range x {
				x[i] = strip(e)
			}
		}
		return v
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(strip(doc)); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// golden compares got with testdata/name; -update rewrites the file when they differ.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	goldenFile(t, filepath.Join("testdata", name), got)
}

// goldenFile compares got with the file at path; -update rewrites the file when they differ.
func goldenFile(t *testing.T, path string, got []byte) {
	t.Helper()
	want, err := os.ReadFile(path)
	if bytes.Equal(want, got) {
		return
	}
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("rewrote %s", path)
		return
	}
	if err != nil {
		t.Fatalf("%s: %v\nrun: go test -run Golden -update", path, err)
	}
	t.Errorf("%s differs from the synthesized stack:\n%s\nIf the change is intended, run: go test -run Golden -update", path, diff(t, want, got))
}

// diff is `diff -u` of want and got.
func diff(t *testing.T, want, got []byte) string {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "want"), filepath.Join(dir, "got")
	os.WriteFile(a, want, 0o644)
	os.WriteFile(b, got, 0o644)
	out, _ := exec.Command("diff", "-u", a, b).CombinedOutput()
	return string(out)
}

// synthResources synthesizes cfg and returns the stack's resources: type, name, attributes.
func synthResources(t *testing.T, cfg config.Config) map[string]map[string]map[string]any {
	t.Helper()
	plan, err := stacks.NewInput(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Resource map[string]map[string]map[string]any `json:"resource"`
	}
	if err := json.Unmarshal(synthTo(t, plan), &doc); err != nil {
		t.Fatal(err)
	}
	return doc.Resource
}

// TestHTTPSAndSingleNAT synthesizes the two switches away from the defaults: an HTTPS listener
// (so :80 redirects and the 443 flow appears in both layers) and one NAT for both AZs.
func TestHTTPSAndSingleNAT(t *testing.T) {
	plan := examplePlan(t)
	cfg := plan.Config
	cfg.CertificateARN = "arn:aws:acm:ap-northeast-2:111122223333:certificate/0b1c2d3e-aaaa-bbbb-cccc-123456789012"
	cfg.NAT = config.NATSingle
	res := synthResources(t, cfg)
	if n := len(res["aws_nat_gateway"]); n != 1 {
		t.Errorf("single NAT: got %d NAT gateways, want 1", n)
	}
	for _, rt := range []string{"web-a-default", "web-c-default"} {
		if got := res["aws_route"][rt]["nat_gateway_id"]; got != "${aws_nat_gateway.nat-public-a.id}" {
			t.Errorf("%s: nat_gateway_id %v, want the NAT in public-a", rt, got)
		}
	}
	https := res["aws_lb_listener"]["https"]
	if https == nil || https["port"] != 443.0 || https["certificate_arn"] != cfg.CertificateARN {
		t.Errorf("HTTPS listener: got %v, want :443 with the certificate", https)
	}
	action, _ := res["aws_lb_listener"]["http"]["default_action"].([]any)
	if len(action) != 1 || action[0].(map[string]any)["type"] != "redirect" {
		t.Errorf("HTTP listener default action: got %v, want a redirect to HTTPS", action)
	}
	if _, ok := res["aws_vpc_security_group_ingress_rule"]["alb-sg-ingress-internet-to-alb-https-0-0-0-0-0"]; !ok {
		t.Error("alb-sg has no ingress rule for the internet-to-alb-https flow")
	}
	found := false
	for _, r := range res["aws_network_acl_rule"] {
		if r["network_acl_id"] == "${aws_network_acl.public-nacl.id}" && r["egress"] == false && r["from_port"] == 443.0 && r["cidr_block"] == "0.0.0.0/0" {
			found = true
		}
	}
	if !found {
		t.Error("public-nacl lets no HTTPS in from the internet")
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// TestExampleStackVerifies proves the seven requirements on the stack `make synth` writes.
func TestExampleStackVerifies(t *testing.T) {
	plan := examplePlan(t)
	n, err := verify.Load(exampleJSON(t))
	if err != nil {
		t.Fatal(err)
	}
	intent, err := verify.IntentOfFlows(plan.Config, plan.Policy.Flows)
	if err != nil {
		t.Fatal(err)
	}
	if r := verify.Verify(n, intent); !r.OK() {
		var b strings.Builder
		r.WriteTable(&b, "the example stack")
		t.Fatalf("the example stack does not verify:\n%s", b.String())
	}
}

// TestS3GatewayEndpoint synthesizes `s3_gateway_endpoint: true`: a gateway endpoint of the
// region's S3 on both web route tables whose policy reads the Amazon Linux 2023 repository
// bucket only, the web servers' rule for the repositories naming its prefix list, the web
// ACL still holding the repository ranges both ways, the public ACL none, and the group
// created after the endpoint (its routes).
func TestS3GatewayEndpoint(t *testing.T) {
	cfg := examplePlan(t).Config
	cfg.S3GatewayEndpoint = true
	res := synthResources(t, cfg)
	ep := res["aws_vpc_endpoint"]["s3"]
	if ep == nil {
		t.Fatal("no aws_vpc_endpoint.s3")
	}
	if ep["vpc_endpoint_type"] != "Gateway" || ep["service_name"] != "com.amazonaws.ap-northeast-2.s3" {
		t.Errorf("endpoint: got type %v service %v, want a Gateway for com.amazonaws.ap-northeast-2.s3", ep["vpc_endpoint_type"], ep["service_name"])
	}
	if got := fmt.Sprint(ep["route_table_ids"]); got != "[${aws_route_table.web-a.id} ${aws_route_table.web-c.id}]" {
		t.Errorf("endpoint route tables: got %s, want both web route tables", got)
	}
	var policy struct {
		Statement []struct{ Effect, Action, Resource string }
	}
	if err := json.Unmarshal([]byte(ep["policy"].(string)), &policy); err != nil {
		t.Fatalf("endpoint policy: %v", err)
	}
	if len(policy.Statement) != 1 || policy.Statement[0].Effect != "Allow" || policy.Statement[0].Action != "s3:GetObject" ||
		policy.Statement[0].Resource != "arn:aws:s3:::al2023-repos-ap-northeast-2-de612dc2/*" {
		t.Errorf("endpoint policy: got %+v, want one Allow of s3:GetObject on arn:aws:s3:::al2023-repos-ap-northeast-2-de612dc2/*", policy.Statement)
	}
	var repoRules []string
	for name, r := range res["aws_vpc_security_group_egress_rule"] {
		if strings.Contains(name, "web-to-repos") {
			repoRules = append(repoRules, fmt.Sprintf("%s %v %v", name, r["prefix_list_id"], r["cidr_ipv4"]))
		}
	}
	if want := "web-sg-egress-web-to-repos-https-endpoint-s3-prefix-list ${aws_vpc_endpoint.s3.prefix_list_id} <nil>"; len(repoRules) != 1 || repoRules[0] != want {
		t.Errorf("web-sg repository rules: got %q, want [%q]", repoRules, want)
	}
	entries := map[string]int{}
	for _, r := range res["aws_network_acl_rule"] {
		for _, c := range cfg.RepoCIDRs {
			if r["cidr_block"] == c {
				entries[fmt.Sprint(r["network_acl_id"], " egress=", r["egress"])]++
			}
		}
	}
	want := map[string]int{"${aws_network_acl.web-nacl.id} egress=true": len(cfg.RepoCIDRs), "${aws_network_acl.web-nacl.id} egress=false": len(cfg.RepoCIDRs)}
	if fmt.Sprint(entries) != fmt.Sprint(want) {
		t.Errorf("ACL entries naming the repository ranges: got %v, want %v (web-nacl both ways, none in public-nacl)", entries, want)
	}
	deps := fmt.Sprint(res["aws_autoscaling_group"]["web"]["depends_on"])
	if !strings.Contains(deps, "aws_vpc_endpoint.s3") {
		t.Errorf("the web group does not wait for the endpoint: depends_on %s", deps)
	}
}

// TestFlowLogRoleIsReadyAndScoped: the flow log is created after its role's policy (a flow
// log made before it cannot deliver: terraform-provider-aws issue 29323), and the flow-logs
// service may assume the role only for this account's flow logs (the confused deputy).
func TestFlowLogRoleIsReadyAndScoped(t *testing.T) {
	res := synthResources(t, examplePlan(t).Config)
	flowLog := res["aws_flow_log"]["vpc"]
	deps, _ := flowLog["depends_on"].([]any)
	if !slices.Contains(deps, any("aws_iam_role_policy.flow-logs-write")) {
		t.Errorf("aws_flow_log.vpc depends_on %v; want aws_iam_role_policy.flow-logs-write, its role's permissions", deps)
	}
	var trust struct {
		Statement []struct {
			Effect    string
			Action    string
			Principal map[string]string
			Condition map[string]map[string]string
		}
	}
	text, _ := res["aws_iam_role"]["flow-logs"]["assume_role_policy"].(string)
	if err := json.Unmarshal([]byte(text), &trust); err != nil {
		t.Fatalf("aws_iam_role.flow-logs: assume_role_policy is not a JSON policy: %v\n%s", err, text)
	}
	if len(trust.Statement) != 1 {
		t.Fatalf("the trust policy has %d statements, want 1:\n%s", len(trust.Statement), text)
	}
	st := trust.Statement[0]
	account := "${data.aws_caller_identity.current.account_id}"
	for _, c := range []struct{ got, want string }{
		{st.Effect + " " + st.Action + " " + st.Principal["Service"], "Allow sts:AssumeRole vpc-flow-logs.amazonaws.com"},
		{st.Condition["StringEquals"]["aws:SourceAccount"], account},
		{st.Condition["ArnLike"]["aws:SourceArn"], "arn:aws:ec2:ap-northeast-2:" + account + ":vpc-flow-log/*"},
	} {
		if c.got != c.want {
			t.Errorf("the flow-logs role's trust: got %q, want %q\n%s", c.got, c.want, text)
		}
	}
}
