package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/webtier/webtier/change"
	"github.com/webtier/webtier/internal/changecases"
	"github.com/webtier/webtier/review"
	"github.com/webtier/webtier/stacks"
	"github.com/webtier/webtier/verify"
)

// TestGoldenChangeReviews renders the review of every change of changecases, with the plan
// terraform would make of it, and compares each with testdata/reviews/NAME.md. The summary
// (what comes before the first collapsed block) must say what a reviewer relies on.
func TestGoldenChangeReviews(t *testing.T) {
	leads := map[string][]string{
		"NACL entry renumbered": {
			"**interrupted during the apply** bastion -> web tcp/22 (bastion-to-web-ssh): `aws_network_acl_rule.web-nacl-ingress-400` replaced destroy-first (rule_number cannot be updated)",
			"avoid: give the new entry a free rule number",
			"**interrupts** `aws_network_acl_rule.web-nacl-ingress-400` (forced by rule_number): renumbered",
		},
		"security group replaced": {
			"> **This plan destroys or replaces",
			"**interrupted during the apply** bastion -> web tcp/22 (bastion-to-web-ssh), alb -> web tcp/80 (alb-to-web-http)",
			"web -> db tcp/3306 (web-to-db-mysql)",
			"(web-to-repos-https): `aws_security_group.web-sg` replaced destroy-first (name cannot be updated)",
			"**interrupts** `aws_security_group.web-sg` (forced by name): its rules are gone",
		},
		"new flow":               {"**opened** bastion -> db tcp/3306 (bastion-to-db-mysql)"},
		"port widened":           {"**FAIL** **opened** alb -> web tcp/81 (no flow)"},
		"database class changed": {"**interrupts** `aws_db_instance.db` (changes instance_class): the class change restarts the database"},
		"web NACL replaced":      {"**FAIL** **opened during the apply** web -> efs tcp/2049 (no flow)"},
		"secret read no longer allowed": {
			"**FAIL** **authorization** the web servers read the database secret through the endpoint (`secretsmanager:GetSecretValue`): allowed -> denied, expected allowed",
		},
	}
	for _, c := range changecases.Cases {
		t.Run(c.Name, func(t *testing.T) {
			md := reviewOf(t, c)
			lead, _, _ := strings.Cut(md, "<details>")
			for _, want := range leads[c.Name] {
				if !strings.Contains(lead, want) {
					t.Errorf("the review's summary lacks %q:\n%s", want, lead)
				}
			}
			golden(t, filepath.Join("reviews", slug(c.Name)+".md"), []byte(md))
		})
	}
}

// slug is a case's name as a file name: "flows-rules-removed-flow-kept".
func slug(name string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == ' ' || r == '-':
			b.WriteByte('-')
		}
	}
	return b.String()
}

// TestReviewOfNoChange: a plan with no changes is one line.
func TestReviewOfNoChange(t *testing.T) {
	md := reviewOf(t, changecases.Case{Name: "none"})
	if strings.Count(md, "\n") != 1 || !strings.Contains(md, "no changes") {
		t.Fatalf("the review of no change: want one line saying so, got:\n%s", md)
	}
}

// reviewOf renders the review of a change with its plan and the apply's states.
func reviewOf(t *testing.T, c changecases.Case) string {
	t.Helper()
	p, err := c.Pair()
	if err != nil {
		t.Fatal(err)
	}
	tfplan, err := c.Plan(p)
	if err != nil {
		t.Fatal(err)
	}
	steps, err := change.FromPlan(tfplan)
	if err != nil {
		t.Fatal(err)
	}
	states, notes, err := change.States(steps, p.Base, p.Head)
	if err != nil || len(notes) > 0 {
		t.Fatalf("states: %v %v", err, notes)
	}
	base, head, err := p.Sides()
	if err != nil {
		t.Fatal(err)
	}
	diff := verify.Diff(base, head, states...)
	_, planned, err := p.Sides()
	if err != nil {
		t.Fatal(err)
	}
	plan, err := stacks.NewInputFlows(p.HeadCfg, p.HeadFlows)
	if err != nil {
		t.Fatal(err)
	}
	return review.Markdown(review.Input{Plan: tfplan, Policy: plan.Policy, Verify: verify.Verify(planned.Network, planned.Intent), Change: diff})
}
