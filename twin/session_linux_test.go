package twin

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/webtier/webtier/internal/changecases"

	"github.com/webtier/webtier/check"
	"github.com/webtier/webtier/config"
	seed "github.com/webtier/webtier/drill"
	"github.com/webtier/webtier/twin/compiler"
	"github.com/webtier/webtier/verify"
)

// ssmTwin builds the twin of `access: ssm` (verify's snapshot of the synthesized stack),
// edited by breaks.
func ssmTwin(t *testing.T, breaks ...func(res map[string]any)) (*compiler.Plan, *verify.Network, verify.Intent) {
	t.Helper()
	return accessTwin(t, "access-ssm.tf.json", func(c *config.Config) { c.Access, c.AdminCIDRs = config.AccessSSM, nil }, breaks...)
}

// accessTwin builds the twin of one of verify's snapshots of an access mode's stack.
func accessTwin(t *testing.T, name string, edit func(*config.Config), breaks ...func(res map[string]any)) (*compiler.Plan, *verify.Network, verify.Intent) {
	t.Helper()
	file := filepath.Join("verify", "testdata", name)
	_, in := changecases.Load(t, file, edit)
	n, err := verify.Load(changecases.Edited(t, file, breaks...))
	if err != nil {
		t.Fatal(err)
	}
	return upNetwork(t, n, in), n, in
}

// TestAccessSSMTwin: with `access: ssm` the twin agrees with verify on every connection, and
// the drill's test 1 runs `hostname` on each web server through Session Manager's stand-in
// (its agent dialed out to the ssmmessages endpoint) and finds port 22 refused on each from
// the internet, the public subnet and the other web server.
func TestAccessSSMTwin(t *testing.T) {
	needTwin(t)
	defer down(t)
	p, n, in := ssmTwin(t)
	if r, text := runTest(t, p, n, in); !r.OK() {
		t.Fatalf("twin test failed with access ssm:\n%s", text)
	}
	rows, err := Drill(t.Context(), p, 1)
	if err != nil {
		t.Fatal(err)
	}
	var text strings.Builder
	seed.Write(&text, "the twin", rows, 0)
	sessions, refused := 0, 0
	for _, r := range rows {
		if r.Status != check.Pass {
			t.Errorf("%s: %s (expected %s, observed %s: %s)", r.Check, r.Status, r.Expected, r.Observed, r.Evidence)
		}
		switch {
		case strings.HasPrefix(r.Check, "session (stand-in for aws ssm start-session)"):
			sessions++
			if !strings.Contains(r.Evidence, "holds a channel to ssmmessages-") || !strings.Contains(r.Evidence, ":443) from 10.16.") {
				t.Errorf("%s: evidence %q, want the agent's channel out to the ssmmessages endpoint", r.Check, r.Evidence)
			}
		case strings.HasSuffix(r.Check, "tcp/22"):
			refused++
		case strings.HasPrefix(r.Check, "ssh"):
			t.Errorf("%s: an SSH test with access ssm", r.Check)
		}
	}
	// Two web servers; each refused from the internet, an ALB node and the other server.
	if sessions != 2 || refused != 6 {
		t.Errorf("test 1: got %d sessions and %d refusals of tcp/22, want 2 and 6:\n%s", sessions, refused, text.String())
	}
	t.Log("\n" + text.String())
}

// TestAccessSSMTwinBroken: the endpoints' group admitting nothing from the web servers, the
// agents cannot open their channel and the drill's sessions fail.
func TestAccessSSMTwinBroken(t *testing.T) {
	needTwin(t)
	defer down(t)
	p, _, _ := ssmTwin(t, func(res map[string]any) {
		prune(res, "aws_vpc_security_group_ingress_rule", "ssm-endpoint-sg-ingress-web-to-ssm-https")
	})
	rows, err := Drill(t.Context(), p, 1)
	if err != nil {
		t.Fatal(err)
	}
	failed := 0
	for _, r := range rows {
		if strings.HasPrefix(r.Check, "session (") {
			if r.Status != check.Fail || !strings.Contains(r.Evidence, "no agent of") {
				t.Errorf("%s: %s (%s), want FAIL: no agent connected", r.Check, r.Status, r.Evidence)
			}
			failed++
		}
	}
	if failed != 2 {
		t.Errorf("got %d session rows, want 2", failed)
	}
}

// TestAccessBothTwin: with `access: both` the twin agrees with verify on every connection, and
// the drill's test 1 keeps the seed's SSH through each
// bastion and adds a session on each web server and each bastion through Session Manager's
// stand-in.
func TestAccessBothTwin(t *testing.T) {
	needTwin(t)
	defer down(t)
	p, n, in := accessTwin(t, "access-both.tf.json", func(c *config.Config) {
		c.Access, c.Quotas.NACLRulesPerDirection = config.AccessBoth, 22
	})
	if r, text := runTest(t, p, n, in); !r.OK() {
		t.Fatalf("twin test failed with access both:\n%s", text)
	}
	rows, err := Drill(t.Context(), p, 1)
	if err != nil {
		t.Fatal(err)
	}
	var text strings.Builder
	seed.Write(&text, "the twin", rows, 0)
	ssh, sessions := 0, 0
	for _, r := range rows {
		if r.Status != check.Pass {
			t.Errorf("%s: %s (expected %s, observed %s: %s)", r.Check, r.Status, r.Expected, r.Observed, r.Evidence)
		}
		switch {
		case strings.HasPrefix(r.Check, "ssh"):
			ssh++
		case strings.HasPrefix(r.Check, "session ("):
			sessions++
		}
	}
	// The seed's six SSH tests (each bastion, each bastion to each web server), and a session
	// on the two web servers and the two bastions.
	if ssh != 6 || sessions != 4 {
		t.Errorf("test 1: got %d SSH tests and %d sessions, want 6 and 4:\n%s", ssh, sessions, text.String())
	}
	t.Log("\n" + text.String())
}
