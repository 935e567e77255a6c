package compiler

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/webtier/webtier/internal/changecases"
	"github.com/webtier/webtier/twin/kernel"
	"github.com/webtier/webtier/verify"
)

// strict is a fake kernel that also keeps the errors of the lines it ran on namespaces that
// existed (Apply lets those pass, as `ip -force` does).
type strict struct {
	*kernel.Fake
	errs []error
}

func (s *strict) IP(ctx context.Context, ns string, lines []string, existing bool) error {
	err := s.Fake.IP(ctx, ns, lines, existing)
	if err != nil {
		s.errs = append(s.errs, err)
	}
	return err
}

// applyDiff applies the difference of two plans on k.
func applyDiff(t *testing.T, k *strict, cur, next *Plan) *Delta {
	t.Helper()
	d, err := Diff(cur, next)
	if err != nil {
		t.Fatal(err)
	}
	if err := kernel.Apply(t.Context(), k, d.Ops); err != nil {
		t.Fatal(err)
	}
	for _, err := range k.errs {
		t.Errorf("a line failed: %v", err)
	}
	k.errs = nil
	return d
}

// upOn is the kernel of a twin just up with plan p.
func upOn(t *testing.T, p *Plan) *strict {
	t.Helper()
	k := &strict{Fake: &kernel.Fake{}}
	applyDiff(t, k, &Plan{Prefix: p.Prefix}, p)
	return k
}

// checkGolden compares got with a golden file of testdata/, rewritten with -update.
func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	golden := repoFile(t, "testdata", name)
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run `go test ./twin/compiler -run Golden -update`)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs; if the change is intended, run `go test ./twin/compiler -run Golden -update`\n%s", golden, lineDiff(string(want), got))
	}
}

// TestGoldenOps pins what `twin up` and a scale-out do to the kernel, op by op: the
// namespaces, every `ip` line, the sysctls and which rulesets load.
func TestGoldenOps(t *testing.T) {
	n, in := changecases.Example(t)
	p, err := Compile(n, in, DefaultPrefix)
	if err != nil {
		t.Fatal(err)
	}
	up, err := Diff(&Plan{Prefix: p.Prefix}, p)
	if err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "twin-up.ops", kernel.Text(up.Ops, p.Prefix))
	res, _, _ := p.Fleet()
	out := resized(t, p, n, in, res, 3)
	d, err := Diff(p, out)
	if err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "twin-scale-out.ops", kernel.Text(d.Ops, p.Prefix))
}

// resized is the plan of a group's new size.
func resized(t *testing.T, p *Plan, n *verify.Network, in verify.Intent, res string, size int) *Plan {
	t.Helper()
	groups := p.Kept.Clone()
	groups.Desired[res] = size
	next, err := CompileDesired(n, in, p.Prefix, groups)
	if err != nil {
		t.Fatal(err)
	}
	return next
}

// TestDiffReachesThePlan applies each change of a running twin on a fake kernel, and finds
// it in the state `twin up` of the new plan makes: nothing the old plan set is left, nothing
// the new one sets is missing, and no line fails. The changes: the web group grown to 4 and
// shrunk back to 1, and the 21 changes of the change review, each through the states
// terraform's plan of it passes, and back.
func TestDiffReachesThePlan(t *testing.T) {
	n, in := changecases.Example(t)
	base, err := Compile(n, in, DefaultPrefix)
	if err != nil {
		t.Fatal(err)
	}
	same := func(t *testing.T, k *strict, p *Plan, what string) {
		t.Helper()
		if got, want := k.State(p.Prefix), upOn(t, p).State(p.Prefix); got != want {
			t.Errorf("%s: the kernel is not as `twin up` of the plan makes it:\n%s", what, lineDiff(want, got))
		}
	}
	t.Run("resize", func(t *testing.T) {
		res, _, _ := base.Fleet()
		k := upOn(t, base)
		cur := base
		for _, size := range []int{4, 1, 2} {
			next := resized(t, cur, n, in, res, size)
			applyDiff(t, k, cur, next)
			same(t, k, next, "size "+string(rune('0'+size)))
			cur = next
		}
	})
	for _, c := range changecases.Cases {
		t.Run(c.Name, func(t *testing.T) {
			k := upOn(t, base)
			cur := base
			for _, st := range casePlans(t, c, base, in, true) {
				applyDiff(t, k, cur, st.plan)
				same(t, k, st.plan, st.name)
				cur = st.plan
			}
		})
	}
}

// statePlan is the plan of one state a change passes through.
type statePlan struct {
	name string
	plan *Plan
}

// casePlans are the plans of the states a change case's apply passes through, then of the
// new stack (then of the example again, with back), each compiled with what the plan before
// kept, from base (the example's, with intent in).
func casePlans(t *testing.T, c changecases.Case, base *Plan, in verify.Intent, back bool) []statePlan {
	t.Helper()
	pair, err := c.Pair()
	if err != nil {
		t.Fatal(err)
	}
	steps, err := c.Steps(pair)
	if err != nil {
		t.Fatal(err)
	}
	headIn, err := verify.IntentOf(pair.HeadCfg)
	if err != nil {
		t.Fatal(err)
	}
	if back {
		steps = append(steps, changecases.Step{Name: "back", Stack: pair.Base})
	}
	var out []statePlan
	cur := base
	for _, st := range steps {
		n, err := verify.Load(st.Stack)
		if err != nil {
			t.Fatal(err)
		}
		stIn := headIn
		if st.Name == "back" {
			stIn = in
		}
		next, err := CompileDesired(n, stIn, base.Prefix, cur.Kept)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, statePlan{st.Name, next})
		cur = next
	}
	return out
}

// TestChangedLines: taking a namespace from one stack's lines to another's removes the
// routes, rules, addresses and neighbour entries the new one no longer sets, before the new
// lines; a route the new one sets differently is replaced (a blackhole default the old one
// had replaced by a route of 0.0.0.0/0 comes back); what was on a link that went is left to
// go with it.
func TestChangedLines(t *testing.T) {
	old := []string{
		"addr add 10.16.3.1/24 dev s2",
		"route replace 1.178.91.0/24 via 169.254.1.2 dev igw table 102",
		"route replace 3.2.75.0/24 via 169.254.1.2 dev igw table 102",
		"route add blackhole 10.99.0.0/16 table 103",
		"route add blackhole default table 104",
		"route replace 0.0.0.0/0 via 10.16.2.12 dev s3 table 104",
		"rule add from 10.16.3.0/24 lookup 102 pref 100",
		"neigh replace 10.16.3.10 lladdr 02:77:74:00:00:0c dev s2 nud permanent",
		"addr add 169.254.0.1/32 dev o0a",
		"route add 198.18.0.10/32 dev o0a",
	}
	new := []string{
		"addr add 10.16.3.1/24 dev s2",
		"route replace 3.2.75.0/24 via 169.254.1.3 dev nat table 102",
		"route add blackhole default table 104",
	}
	want := []string{
		"rule del from 10.16.3.0/24 lookup 102 pref 100",
		"neigh del 10.16.3.10 dev s2",
		"route del 1.178.91.0/24 table 102",
		"route del 10.99.0.0/16 table 103",
		"route replace 3.2.75.0/24 via 169.254.1.3 dev nat table 102",
		"route replace blackhole default table 104",
	}
	if got := changedLines(old, new, map[string]bool{"o0a": true}); !slices.Equal(got, want) {
		t.Errorf("changedLines:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestHostsKeepTheirAddresses: through each change of the change review, a host of the VPC in two
// consecutive states keeps its private and public address and is neither ended nor made
// again, however many hosts the change adds or removes beside it (a replaced bastion does
// not move the ALB node and the NAT gateway of its subnet, as it does not in AWS).
func TestHostsKeepTheirAddresses(t *testing.T) {
	n, in := changecases.Example(t)
	base, err := Compile(n, in, DefaultPrefix)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range changecases.Cases {
		t.Run(c.Name, func(t *testing.T) {
			cur := base
			for _, st := range casePlans(t, c, base, in, false) {
				next := st.plan
				d, err := Diff(cur, next)
				if err != nil {
					t.Fatal(err)
				}
				for _, h := range cur.Hosts {
					after, err := next.Host(h.Name)
					if err != nil || after.Resource != h.Resource || !h.Inside() {
						continue
					}
					if after.Private != h.Private || after.Public != h.Public {
						t.Errorf("%s: %s moved from %s (%v) to %s (%v)", st.name, h.Name, h.Private, h.Public, after.Private, after.Public)
					}
					if slices.Contains(d.Ended, h.Name) {
						t.Errorf("%s: %s is ended", st.name, h.Name)
					}
				}
				cur = next
			}
		})
	}
}
