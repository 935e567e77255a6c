package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/webtier/webtier/config"
	"github.com/webtier/webtier/internal/changecases"
	"github.com/webtier/webtier/live"
	"github.com/webtier/webtier/verify"
)

// stackDir writes a stack and its config into a directory as synth lays them out.
func stackDir(t *testing.T, stack []byte, change func(*config.Config)) string {
	t.Helper()
	cfg, err := config.Load(exampleConfig)
	if err != nil {
		t.Fatal(err)
	}
	if change != nil {
		change(&cfg)
	}
	data, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "cdktf.out")
	out := filepath.Join(dir, "stacks", "webtier")
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{"cdk.tf.json": stack, StackConfigFile: data} {
		if err := os.WriteFile(filepath.Join(out, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestDiffCommand(t *testing.T) {
	base := stackDir(t, []byte(readFile(t, "testdata/webtier.tf.json")), nil)
	https := stackDir(t, []byte(readFile(t, "verify/testdata/https.tf.json")), func(c *config.Config) {
		c.CertificateARN = "arn:aws:acm:ap-northeast-2:123456789012:certificate/abc"
	})
	var stdout, stderr bytes.Buffer
	if code := run([]string{"diff", "--base", base, "--head", https}, &stdout, &stderr); code != exitOK {
		t.Fatalf("diff to the HTTPS listener: exit %d, want 0; stderr:\n%s\nstdout:\n%s", code, &stderr, &stdout)
	}
	for _, want := range []string{"internet -> alb tcp/443: opened for internet-to-alb-https", "head allows: aws_lb_listener.https", "diff OK: 3 opened"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("the diff lacks %q:\n%s", want, &stdout)
		}
	}

	// The ALB's rule on 80 moved to web-sg: the public site closes while its flow needs it.
	var m map[string]any
	if err := json.Unmarshal([]byte(readFile(t, "testdata/webtier.tf.json")), &m); err != nil {
		t.Fatal(err)
	}
	rules := m["resource"].(map[string]any)["aws_vpc_security_group_ingress_rule"].(map[string]any)
	rules["alb-sg-ingress-internet-to-alb-http-0-0-0-0-0"].(map[string]any)["security_group_id"] = "${aws_security_group.web-sg.id}"
	moved, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	stdout.Reset()
	if code := run([]string{"diff", "--base", base, "--head", stackDir(t, moved, nil), "--json"}, &stdout, &stderr); code != exitFailed {
		t.Fatalf("diff with the ALB's rule moved: exit %d, want 1; stderr:\n%s", code, &stderr)
	}
	var got map[string]json.RawMessage
	if err := json.Unmarshal(stdout.Bytes(), &got); err != nil {
		t.Fatalf("--json: %v\n%s", err, &stdout)
	}
	for _, key := range []string{"opened", "closed", "interrupted"} {
		if _, ok := got[key]; !ok {
			t.Errorf("--json lacks the key %q", key)
		}
	}
	if !strings.Contains(string(got["closed"]), `"internet-to-alb-http"`) {
		t.Errorf("closed does not name internet-to-alb-http: %s", got["closed"])
	}

	// Bad input: a stack without its config beside it.
	bare := filepath.Join(t.TempDir(), "cdk.tf.json")
	if err := os.WriteFile(bare, []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	stderr.Reset()
	if code := run([]string{"diff", "--base", base, "--head", bare}, &stdout, &stderr); code != exitBadArgs {
		t.Fatalf("diff of a stack without its config: exit %d, want 2", code)
	}
	if !strings.Contains(stderr.String(), "--head") || !strings.Contains(stderr.String(), StackConfigFile) {
		t.Errorf("the error does not name --head and %s: %s", StackConfigFile, &stderr)
	}
}

// TestDiffCommandPlan runs `diff --plan` on two changes of changecases with the plan
// terraform would make: a renumbered ACL entry interrupts SSH to the web servers (reported,
// exit 0), a replaced web ACL opens cross-AZ NFS in between (exit 1).
func TestDiffCommandPlan(t *testing.T) {
	for _, c := range []struct {
		name string
		code int
		says []string
	}{
		{"NACL entry renumbered", exitOK, []string{
			"INTERRUPTED during the apply (1)",
			"INTR bastion -> web tcp/22: both sides allow it; the apply's state \"every destroy done, no create yet\" does not",
			"missing: aws_network_acl_rule.web-nacl-ingress-400 (replaced destroy-first (rule_number cannot be updated)",
			"avoid: give the new entry a free rule number",
			"aws_network_acl_rule.web-nacl-ingress-400 (replace (destroy first), forced by rule_number): renumbered",
		}},
		{"web NACL replaced", exitFailed, []string{
			"OPENED IN BETWEEN during the apply (1)",
			"FAIL web -> efs tcp/2049: neither side allows it",
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			cc := changecases.Find(c.name)
			p, err := cc.Pair()
			if err != nil {
				t.Fatal(err)
			}
			plan, err := cc.Plan(p)
			if err != nil {
				t.Fatal(err)
			}
			data, err := json.Marshal(plan)
			if err != nil {
				t.Fatal(err)
			}
			planFile := filepath.Join(t.TempDir(), "plan.json")
			if err := os.WriteFile(planFile, data, 0o644); err != nil {
				t.Fatal(err)
			}
			var stdout, stderr bytes.Buffer
			code := run([]string{"diff", "--base", stackDir(t, p.Base, nil), "--head", stackDir(t, p.Head, cc.Config), "--plan", planFile}, &stdout, &stderr)
			if code != c.code {
				t.Fatalf("exit %d, want %d; stderr:\n%s\nstdout:\n%s", code, c.code, &stderr, &stdout)
			}
			for _, want := range c.says {
				if !strings.Contains(stdout.String(), want) {
					t.Errorf("the output lacks %q:\n%s", want, &stdout)
				}
			}
		})
	}
}

// TestDiffOfDeployedStack diffs the example as deployed on moto and read back (the recorded
// deployment package live's tests use) with its synthesis: nothing changes, although every
// resource of the deployed document is named otherwise (ENIs match by name, routes compare by
// what they reach, authorizations by check and action). Against the HTTPS variant it shows
// exactly what the synthesized base does.
func TestDiffOfDeployedStack(t *testing.T) {
	var s live.Described
	if err := json.Unmarshal([]byte(readFile(t, "live/testdata/moto-example.json")), &s); err != nil {
		t.Fatal(err)
	}
	dep, _ := s.Deployed()
	deployed := func(t *testing.T) verify.Side {
		n, err := verify.LoadDeployed(dep)
		if err != nil {
			t.Fatal(err)
		}
		in, err := verify.IntentOf(examplePlan(t).Config)
		if err != nil {
			t.Fatal(err)
		}
		return verify.Side{Network: n, Intent: in}
	}
	for _, c := range []changecases.Case{{Name: "no change"}, changecases.Find("second ALB listener")} {
		t.Run(c.Name, func(t *testing.T) {
			p, err := c.Pair()
			if err != nil {
				t.Fatal(err)
			}
			synthesized, head, err := p.Sides()
			if err != nil {
				t.Fatal(err)
			}
			want := changecases.Lines(verify.Diff(synthesized, head))
			_, head, err = p.Sides()
			if err != nil {
				t.Fatal(err)
			}
			got := changecases.Lines(verify.Diff(deployed(t), head))
			if !slices.Equal(got, want) {
				t.Fatalf("from the deployed stack:\n  %s\nfrom its synthesis:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
			}
		})
	}
}

func TestDiffCommandBadInput(t *testing.T) {
	head := stackDir(t, []byte(readFile(t, "testdata/webtier.tf.json")), nil)
	for _, c := range []struct {
		args []string
		says string
	}{
		{[]string{"--head", head}, "--head and --base (or --base-live) are required"},
		{[]string{"--base", head, "--base-live", "--head", head}, "--base and --base-live exclude each other"},
		{[]string{"--base-live", "--head", head, "--plan", "plan.json"}, "--plan goes with --base, not --base-live"},
		{[]string{"--base", head, "--head", head, "--target", "aws"}, "--target and --dir go with --base-live"},
		{[]string{"--base", head, "--head", head, "--plan", filepath.Join(t.TempDir(), "none.json")}, "diff: --plan:"},
	} {
		var stdout, stderr bytes.Buffer
		if code := run(append([]string{"diff"}, c.args...), &stdout, &stderr); code != exitBadArgs || !strings.Contains(stderr.String(), c.says) {
			t.Errorf("diff %v: exit %d, stderr %q; want exit 2 saying %q", c.args, code, &stderr, c.says)
		}
	}
}

// TestDiffCommandAuthorization: the web servers' role losing the secret's read fails the diff,
// which names the check, both decisions and why (here no statement allows the call).
func TestDiffCommandAuthorization(t *testing.T) {
	c := changecases.Find("secret read no longer allowed")
	p, err := c.Pair()
	if err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if code := run([]string{"diff", "--base", stackDir(t, p.Base, nil), "--head", stackDir(t, p.Head, nil)}, &stdout, &stderr); code != exitFailed {
		t.Fatalf("exit %d, want 1; stderr:\n%s", code, &stderr)
	}
	for _, want := range []string{
		"AUTHORIZATIONS decided otherwise (2)",
		"FAIL req 5 the web servers read the database secret through the endpoint: secretsmanager:GetSecretValue on",
		": allowed -> denied (expected allowed)",
		"implicitly denied: no statement of identity aws_iam_role_policy.web-mount-shared-fs, identity aws_iam_role_policy.web-read-db-secret allows secretsmanager:GetSecretValue",
	} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("the output lacks %q:\n%s", want, &stdout)
		}
	}
}
