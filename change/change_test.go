package change_test

import (
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/webtier/webtier/change"
	"github.com/webtier/webtier/internal/changecases"
	"github.com/webtier/webtier/verify"
)

// TestApplyStates judges every change of changecases with its plan: the diff with the
// apply's states must list what the case expects, the end state's classes and what the
// apply interrupts or opens in between; the interruption table must name what it expects.
func TestApplyStates(t *testing.T) {
	for _, c := range changecases.Cases {
		t.Run(c.Name, func(t *testing.T) {
			got, table := judge(t, c)
			want := slices.Sorted(slices.Values(append(slices.Clip(c.Want), c.Apply...)))
			if lines := changecases.Lines(got); !slices.Equal(lines, want) {
				t.Fatalf("diff of %q with its apply:\nwant:\n  %s\ngot:\n  %s", c.Name, strings.Join(want, "\n  "), strings.Join(lines, "\n  "))
			}
			for _, x := range got.Interrupted {
				if !slices.ContainsFunc(x.Causes, func(k verify.Cause) bool { return k.Effect == "missing" && k.Avoid != "" }) {
					t.Errorf("interrupted %s -> %s: no missing resource with what would avoid it:\n%v", x.FromClass, x.ToClass, x.Causes)
				}
			}
			var listed []string
			for _, r := range table {
				listed = append(listed, r.Resource)
				if r.Effect == "" || !strings.HasPrefix(r.Doc, "https://docs.aws.amazon.com/") {
					t.Errorf("%s: effect %q, page %q: want both", r.Resource, r.Effect, r.Doc)
				}
			}
			for _, res := range c.Interrupts {
				if !slices.Contains(listed, res) {
					t.Errorf("the interruption table lacks %s; it lists %v", res, listed)
				}
			}
			if len(c.Interrupts) == 0 && len(table) > 0 {
				t.Errorf("the interruption table lists %v; want nothing", listed)
			}
		})
	}
}

// judge runs a case's diff with the states of its plan, and its interruption table.
func judge(t testing.TB, c changecases.Case) (*verify.Change, []change.Interruption) {
	t.Helper()
	p, err := c.Pair()
	if err != nil {
		t.Fatal(err)
	}
	tfplan, err := c.Plan(p)
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(tfplan)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := change.Read(data)
	if err != nil {
		t.Fatal(err)
	}
	states, notes, err := change.States(plan, p.Base, p.Head)
	if err != nil {
		t.Fatal(err)
	}
	if len(notes) > 0 {
		t.Fatalf("states left out: %v", notes)
	}
	base, head, err := p.Sides()
	if err != nil {
		t.Fatal(err)
	}
	return verify.Diff(base, head, states...), change.Interruptions(plan)
}

// TestInterruptionDetails pins what the table says of the changes the review leads with.
func TestInterruptionDetails(t *testing.T) {
	for _, c := range []struct{ change, resource, says string }{
		{"NACL entry renumbered", "aws_network_acl_rule.web-nacl-ingress-400", "renumbered: a rule number cannot be changed"},
		{"security group replaced", "aws_security_group.web-sg", "its rules are gone between its destruction and its replacement's creation"},
		{"database class changed", "aws_db_instance.db", "Multi-AZ fails over"},
		{"bastion replaced", "aws_instance.bastion-c", "new SSH host key"},
		{"nat single", "aws_nat_gateway.nat-public-c", "a new Elastic IP means a new egress address"},
	} {
		_, table := judge(t, changecases.Find(c.change))
		i := slices.IndexFunc(table, func(r change.Interruption) bool { return r.Resource == c.resource })
		if i < 0 || !strings.Contains(table[i].Effect, c.says) {
			t.Errorf("%s: the row of %s does not say %q: %+v", c.change, c.resource, c.says, table)
		}
	}
}

// TestReadRecordedPlan reads a plan terraform wrote (the migrations flow added to the deployed
// example): creations only.
func TestReadRecordedPlan(t *testing.T) {
	data, err := os.ReadFile("../testdata/plan-added-flow.json")
	if err != nil {
		t.Fatal(err)
	}
	p, err := change.Read(data)
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Summary(); got != "10 to add, 0 to change, 0 to replace, 0 to destroy" {
		t.Errorf("summary: got %q", got)
	}
	if len(p.Destroyed()) != 0 || len(change.Interruptions(p)) != 0 {
		t.Errorf("a plan of creations only: destroyed %v, interruptions %v", p.Destroyed(), change.Interruptions(p))
	}
}

func TestReadRefusesOtherDocuments(t *testing.T) {
	for _, c := range []struct{ data, says string }{
		{`[1, 2]`, "not a terraform plan"},
		{`{"resource": {}}`, "format version is missing"},
		{`{"format_version": "1.2", "resource_changes": [{"address": "aws_x.y", "mode": "managed", "change": {"actions": ["create", "update"]}}]}`, "resource_changes[0] (aws_x.y): change.actions"},
	} {
		_, err := change.Read([]byte(c.data))
		if err == nil || !strings.Contains(err.Error(), c.says) {
			t.Errorf("Read(%s): got %v, want an error saying %q", c.data, err, c.says)
		}
	}
}

// BenchmarkDiffWithApply is what `plan --markdown --base` adds to a plan, for the largest
// change of changecases (a security group replaced: 20 replacements): the plan read, the
// apply's states built and loaded, and the diff with them. The goal is well under 1 s.
func BenchmarkDiffWithApply(b *testing.B) {
	c := changecases.Find("security group replaced")
	p, err := c.Pair()
	if err != nil {
		b.Fatal(err)
	}
	tfplan, err := c.Plan(p)
	if err != nil {
		b.Fatal(err)
	}
	data, err := json.Marshal(tfplan)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		plan, err := change.Read(data)
		if err != nil {
			b.Fatal(err)
		}
		states, _, err := change.States(plan, p.Base, p.Head)
		if err != nil {
			b.Fatal(err)
		}
		base, head, err := p.Sides()
		if err != nil {
			b.Fatal(err)
		}
		verify.Diff(base, head, states...)
		change.Interruptions(plan)
	}
}
