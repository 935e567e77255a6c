package probe

import (
	"strings"
	"testing"

	"github.com/webtier/webtier/internal/changecases"
	"github.com/webtier/webtier/twin/compiler"
	"github.com/webtier/webtier/verify"
)

// compiled is the twin of the example stack with edits applied to its resources, its network
// and intent.
func compiled(t *testing.T, edits ...func(res map[string]any)) (*compiler.Plan, *verify.Network, verify.Intent) {
	t.Helper()
	_, in := changecases.Example(t)
	n, err := verify.Load(changecases.Edited(t, changecases.ExampleFile, edits...))
	if err != nil {
		t.Fatal(err)
	}
	p, err := compiler.Compile(n, in, "wt-")
	if err != nil {
		t.Fatal(err)
	}
	return p, n, in
}

// TestAttempts: `twin test` tries every probe of verify between the twin's hosts, never the
// same connection twice seen from its two ends (a stateful filter would take the second for
// the first's reply), never from or to a NAT gateway, which only forwards, and from outside
// the VPC at a host's public address when it has one.
func TestAttempts(t *testing.T) {
	p, n, in := compiled(t)
	out := attempts(p, n, in)
	if len(out) < 10000 {
		t.Fatalf("%d attempts; want the cross-check's (over 10000 on the example)", len(out))
	}
	ends := map[string]*Outcome{}
	labels := map[string]bool{}
	for _, o := range out {
		if !tested(p, o.From) || !tested(p, o.To) {
			t.Errorf("%s: a NAT gateway sends or receives in the tests", o.Attempt)
		}
		if o.Proto != verify.ICMP {
			key := pairKey(o.Proto, o.From, o.SPort, o.To, o.DPort)
			if prev := ends[key]; prev != nil {
				t.Errorf("%s and %s are the same connection", prev.Attempt, o.Attempt)
			}
			ends[key] = o
		}
		want := o.To.Private
		if !o.From.Inside() && o.To.Inside() && o.To.Public.IsValid() {
			want = o.To.Public
		}
		if o.Addr != want {
			t.Errorf("%s: sent to %s; want %s", o.Attempt, o.Addr, want)
		}
		for _, l := range o.Probes {
			labels[l] = true
		}
	}
	for _, pr := range verify.Probes(n, in) {
		if pr.Proto != verify.TCP && pr.Proto != verify.UDP && pr.Proto != verify.ICMP {
			continue
		}
		if len(hostsFor(p, pr.From)) == 0 || len(hostsFor(p, pr.To)) == 0 {
			continue
		}
		found := false
		for l := range labels {
			if strings.HasPrefix(l, "req ") && strings.Contains(l, pr.From.Name+" -> "+pr.To.Name+" ") {
				found = true
				break
			}
		}
		if !found {
			t.Errorf("probe req %d %s -> %s %s: no attempt runs it", pr.Req, pr.From.Name, pr.To.Name, pr.Proto)
		}
	}
}

// TestExpectations: on the example stack verify says none of the prober's requests fail; with
// the web servers' rule for the ALB removed, every request through an ALB node fails, and why,
// while the web servers' downloads still go.
func TestExpectations(t *testing.T) {
	p, _, _ := compiled(t)
	es := Expectations(p, "before")
	site, repo := 0, 0
	for _, e := range es {
		if e.Step != "before" || e.Fail != FailNone {
			t.Errorf("example stack: %+v; want step before, fail none", e)
		}
		switch {
		case strings.HasPrefix(e.Flow, "GET http://"):
			site++
		case strings.Contains(e.Flow, "repository"):
			repo++
		}
	}
	if site < 2 || repo < 2 {
		t.Fatalf("example stack: %d flows through the ALB nodes and %d downloads; want every node's and every web server's: %+v", site, repo, es)
	}
	cut, _, _ := compiled(t, func(res map[string]any) {
		delete(res["aws_vpc_security_group_ingress_rule"].(map[string]any), "web-sg-ingress-alb-to-web-http")
		changecases.Stack{"resource": res}.Prune()
	})
	for _, e := range Expectations(cut, "rule removed") {
		switch {
		case strings.HasPrefix(e.Flow, "GET http://"):
			if e.Fail != FailAll || !strings.Contains(e.Why, "cannot reach it on 80") {
				t.Errorf("no rule for the ALB: %s: fail %s (%s); want all, the node cannot reach its targets on 80", e.Flow, e.Fail, e.Why)
			}
		default:
			if e.Fail != FailNone {
				t.Errorf("no rule for the ALB: %s: fail %s (%s); want none", e.Flow, e.Fail, e.Why)
			}
		}
	}
}

// TestDisagreements: a flow disagrees when its failures in a state are not what verify says
// of it there; a flow that sent nothing in a state is left out.
func TestDisagreements(t *testing.T) {
	r := &ChangeReport{
		Expected: []Expectation{
			{Step: "s", Flow: "none-ok", Fail: FailNone}, {Step: "s", Flow: "none-bad", Fail: FailNone},
			{Step: "s", Flow: "some-ok", Fail: FailSome}, {Step: "s", Flow: "some-bad", Fail: FailSome},
			{Step: "s", Flow: "all-ok", Fail: FailAll}, {Step: "s", Flow: "all-bad", Fail: FailAll, Why: "cut"},
			{Step: "s", Flow: "silent", Fail: FailAll},
		},
		Flows: []FlowFigures{
			{Step: "s", Flow: "none-ok", Sent: 5}, {Step: "s", Flow: "none-bad", Sent: 5, Failed: 1, FirstError: "timeout"},
			{Step: "s", Flow: "some-ok", Sent: 5, Failed: 2}, {Step: "s", Flow: "some-bad", Sent: 5},
			{Step: "s", Flow: "all-ok", Sent: 5, Failed: 5}, {Step: "s", Flow: "all-bad", Sent: 5, Failed: 4},
			{Step: "s", Flow: "silent"},
		},
	}
	got := r.Disagreements()
	want := []string{
		"s: none-bad: verify says none fail; 1 of 5 failed (first: timeout)",
		"s: some-bad: verify says some fail; 0 of 5 failed (first: -)",
		"s: all-bad: verify says all fail (cut); 4 of 5 failed (first: -)",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("disagreements:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
