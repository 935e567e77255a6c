package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The whole synthesized example stack, golden (see TestGolden).
const stackFile = "testdata/webtier.tf.json"

func TestMainExitCodes(t *testing.T) {
	data, err := os.ReadFile(stackFile)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	broken := filepath.Join(dir, "broken.json")
	os.WriteFile(broken, bytes.Replace(data, []byte("${aws_nat_gateway.nat-public-a.id}"), []byte("${aws_nat_gateway.nope.id}"), -1), 0o644)
	var m map[string]any
	json.Unmarshal(data, &m)
	lb := m["resource"].(map[string]any)["aws_lb"].(map[string]any)["alb"].(map[string]any)
	lb["internal"] = true
	failing := filepath.Join(dir, "internal.json")
	out, _ := json.Marshal(m)
	os.WriteFile(failing, out, 0o644)
	// One entry more in web-nacl's inbound direction (a deny that changes no connection):
	// 20 of the stack's and the default deny, past AWS's default quota.
	json.Unmarshal(data, &m)
	m["resource"].(map[string]any)["aws_network_acl_rule"].(map[string]any)["web-nacl-ingress-30000"] = map[string]any{
		"network_acl_id": "${aws_network_acl.web-nacl.id}", "rule_number": 30000, "egress": false, "protocol": "tcp",
		"rule_action": "deny", "cidr_block": "0.0.0.0/0", "from_port": 23, "to_port": 23}
	overQuota := filepath.Join(dir, "over-quota.json")
	out, _ = json.Marshal(m)
	os.WriteFile(overQuota, out, 0o644)

	cases := []struct {
		name   string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{"clean", []string{"--in", stackFile, "--config", exampleConfig}, exitOK, "verify OK", ""},
		{"json", []string{"--in", stackFile, "--config", exampleConfig, "--json"}, exitOK, `"ok": true`, ""},
		{"failing stack", []string{"--in", failing, "--config", exampleConfig}, exitFailed, "IGW_PRIVATE_IP_ASSOCIATION_FOR_INGRESS aws_lb.alb", ""},
		{"over a quota", []string{"--in", overQuota, "--config", exampleConfig}, exitFailed,
			"OVER web-nacl: 20 ingress entries + the default deny = 21 > 20 (L-2AEEBF1A, Inbound or outbound rules per network ACL)", ""},
		{"over the default quota, within the account's", []string{"--in", overQuota, "--config", exampleConfig, "--quota-nacl-rules-per-direction", "21"},
			exitOK, "verify OK", ""},
		{"missing file", []string{"--in", filepath.Join(dir, "none.json"), "--config", exampleConfig}, exitBadArgs, "", "no such file"},
		{"unresolvable reference", []string{"--in", broken, "--config", exampleConfig}, exitBadArgs, "",
			"webtier: aws_route.web-a-default: nat_gateway_id: refers to aws_nat_gateway.nope, which is not in the stack"},
		{"bad config", []string{"--in", stackFile, "--config", exampleConfig, "--admin-cidrs", "0.0.0.0/0"}, exitBadArgs, "",
			"webtier: admin_cidrs[0]: 0.0.0.0/0 opens SSH to the whole internet"},
		{"stray argument", []string{"--in", stackFile, "--config", exampleConfig, "extra"}, exitBadArgs, "", `unexpected argument "extra"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(append([]string{"verify"}, c.args...), &stdout, &stderr)
			if code != c.code {
				t.Errorf("exit status: expected %d, got %d\nstderr: %s\nstdout tail: %s", c.code, code, stderr.String(), lastChars(stdout.String()))
			}
			if !strings.Contains(stdout.String(), c.stdout) {
				t.Errorf("stdout: expected %q in it, got:\n%s", c.stdout, lastChars(stdout.String()))
			}
			if !strings.Contains(stderr.String(), c.stderr) {
				t.Errorf("stderr: expected %q in it, got:\n%s", c.stderr, stderr.String())
			}
		})
	}
}

// TestLiveWithoutDeployment: `webtier verify --live` with no emulator recorded says what to
// do and exits 2.
func TestLiveWithoutDeployment(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run([]string{"verify", "--live", "--config", exampleConfig, "--dir", t.TempDir()}, &stdout, &stderr)
	if code != exitBadArgs || !strings.Contains(stderr.String(), "no local deployment: run `make deploy` first") {
		t.Errorf("got exit %d, stderr %q; want %d and the advice to deploy", code, stderr.String(), exitBadArgs)
	}
	for _, args := range [][]string{{"--live", "--in", "x.json"}, {"--target", "aws"}, {"--live", "--target", "gcp"}} {
		stderr.Reset()
		code := run(append(append([]string{"verify"}, args...), "--config", exampleConfig), &stdout, &stderr)
		if code != exitBadArgs || stderr.Len() == 0 {
			t.Errorf("verify %s: got exit %d, stderr %q; want %d with a message", strings.Join(args, " "), code, stderr.String(), exitBadArgs)
		}
	}
}

// lastChars is the end of a long output, for failure messages.
func lastChars(s string) string {
	if len(s) > 2000 {
		return "..." + s[len(s)-2000:]
	}
	return s
}
