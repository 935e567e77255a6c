package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/webtier/webtier/deploy"
	"github.com/webtier/webtier/rules"
	"github.com/webtier/webtier/stacks"
)

// migrationsFlow is the fixed change the review's golden file shows: one flow added.
var migrationsFlow = rules.Flow{Slot: 10, ID: "bastion-to-db-mysql", From: rules.Bastion, To: rules.DB,
	Port: rules.MySQL, Why: "operators run schema migrations from a bastion"}

// checkReviewOfAddedFlow plans the deployed example stack with one flow added, renders the
// review and compares it with testdata/plan-review.md; then it puts the deployed stack back.
func checkReviewOfAddedFlow(t *testing.T, ctx context.Context, s *deploy.Session, deployed stacks.Plan, deployedStack string) {
	t.Helper()
	plan, err := stacks.NewPlanFlows(deployed.Config, append(append([]rules.Flow{}, rules.Flows...), migrationsFlow))
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "cdktf.out")
	if err := Synth(plan, out); err != nil {
		t.Fatal(err)
	}
	if err := s.UseStack(filepath.Join(out, "stacks", stacks.Name, "cdk.tf.json")); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := s.UseStack(deployedStack); err != nil {
			t.Error(err)
		}
	}()
	if _, err := s.Plan(ctx, false); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "review.md")
	ok, err := writeReview(ctx, s, plan, path)
	if err != nil {
		t.Fatal(err)
	}
	if !ok {
		t.Error("the planned network with the migrations flow does not verify")
	}
	md := readFile(t, path)
	for _, want := range []string{"| + add | bastion-sg | egress | tcp | 3306 | db-sg | bastion-to-db-mysql |",
		"| + add | db-sg | ingress | tcp | 3306 | bastion-sg | bastion-to-db-mysql |"} {
		if !strings.Contains(md, want) {
			t.Errorf("the review does not show the added rule %q", want)
		}
	}
	golden(t, "plan-review.md", []byte(md))
}
