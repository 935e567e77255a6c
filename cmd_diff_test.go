package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/webtier/webtier/config"
	"github.com/webtier/webtier/internal/changecases"
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
