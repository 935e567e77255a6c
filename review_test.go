package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	tfjson "github.com/hashicorp/terraform-json"

	"github.com/webtier/webtier/deploy"
	"github.com/webtier/webtier/internal/changecases"
	"github.com/webtier/webtier/review"
	"github.com/webtier/webtier/rules"
	"github.com/webtier/webtier/stacks"
	"github.com/webtier/webtier/verify"
)

// migrationsFlow is the fixed change the review's golden file shows: one flow added.
var migrationsFlow = rules.Flow{Slot: 10, ID: "bastion-to-db-mysql", From: rules.Bastion, To: rules.DB,
	Port: rules.MySQL, Why: "operators run schema migrations from a bastion"}

// checkReviewOfAddedFlow plans the deployed example stack with one flow added, renders the
// review and compares it with testdata/plan-review.md; then it puts the deployed stack back.
func checkReviewOfAddedFlow(t *testing.T, ctx context.Context, s *deploy.Session, deployed stacks.Input, deployedStack string) {
	t.Helper()
	plan, err := stacks.NewInputFlows(deployed.Config, append(append([]rules.Flow{}, rules.Flows...), migrationsFlow))
	if err != nil {
		t.Fatal(err)
	}
	path := planReview(t, ctx, s, plan, deployedStack, "the migrations flow")
	if *update {
		// The plan as terraform showed it: TestGoldenPlanReview renders it without a deployment.
		tfplan, err := s.Show(ctx)
		if err != nil {
			t.Fatal(err)
		}
		data, err := json.Marshal(tfplan)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join("testdata", planFixture), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	checkReview(t, readFile(t, path))
}

// planReview plans plan against the deployed stack, renders the review to a file and returns
// its path; then it puts the deployed stack back. change names the change, for messages.
func planReview(t *testing.T, ctx context.Context, s *deploy.Session, plan stacks.Input, deployedStack, change string) string {
	t.Helper()
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
	ok, err := writeReview(ctx, s, plan, reviewOptions{markdown: path})
	if err != nil {
		t.Fatal(err)
	}
	if !ok {
		t.Errorf("the planned network with %s does not verify", change)
	}
	return path
}

// checkReviewOfS3Endpoint plans `s3_gateway_endpoint: true` against the deployed example stack:
// the review shows the endpoint with its route tables and its policy, the web-sg rule that
// names S3's prefix list replacing the rules to the repository CIDRs, and the public ACL
// entries of the NAT path going.
func checkReviewOfS3Endpoint(t *testing.T, ctx context.Context, s *deploy.Session, deployed stacks.Input, deployedStack string) {
	t.Helper()
	cfg := deployed.Config
	cfg.S3GatewayEndpoint = true
	plan, err := stacks.NewInput(cfg)
	if err != nil {
		t.Fatal(err)
	}
	md := readFile(t, planReview(t, ctx, s, plan, deployedStack, "the S3 gateway endpoint"))
	for _, want := range []string{
		"| + add | aws_vpc_endpoint.s3 | Gateway | com.amazonaws.ap-northeast-2.s3 | web-a, web-c | s3:GetObject on arn:aws:s3:::al2023-repos-ap-northeast-2-de612dc2/* |",
		"| + add | web-sg | egress | tcp | 443 | s3 prefix list | web-to-repos-https-endpoint | package installs from the regional repositories through the S3 gateway endpoint |",
		"| - remove | web-sg | egress | tcp | 443 | 3.5.140.0/22 | web-to-repos-https |",
		"| - remove | public-nacl | 1200 | ingress |",
		"every requirement holds",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("the review of s3_gateway_endpoint lacks %q; got:\n%s", want, md)
		}
	}
}

// rawPlanBlock opens the review's last block, the plan as `terraform show` prints it.
const rawPlanBlock = "<details><summary>The plan as terraform printed it</summary>"

// TestPlanChangeOfRecordedPlan judges the recorded plan's change against the example stack:
// the migrations flow opens bastion -> db 3306 and, creating only, the apply interrupts
// nothing.
func TestPlanChangeOfRecordedPlan(t *testing.T) {
	var tfplan tfjson.Plan
	if err := json.Unmarshal([]byte(readFile(t, filepath.Join("testdata", planFixture))), &tfplan); err != nil {
		t.Fatal(err)
	}
	plan, err := stacks.NewInputFlows(examplePlan(t).Config, append(append([]rules.Flow{}, rules.Flows...), migrationsFlow))
	if err != nil {
		t.Fatal(err)
	}
	head := filepath.Join(t.TempDir(), "cdk.tf.json")
	if err := os.WriteFile(head, synthTo(t, plan), 0o644); err != nil {
		t.Fatal(err)
	}
	base := stackDir(t, []byte(readFile(t, "testdata/webtier.tf.json")), nil)
	c, err := planChange(plan, head, base, &tfplan)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Opened) != 1 || c.Opened[0].FromClass != "bastion" || c.Opened[0].ToClass != "db" ||
		!slices.Equal(c.Opened[0].Flows, []string{"bastion-to-db-mysql"}) || len(c.Closed)+len(c.Interrupted)+len(c.Exposed) != 0 {
		t.Fatalf("the recorded plan's change: want bastion -> db opened for bastion-to-db-mysql and nothing else, got:\n%s", changecases.Lines(c))
	}
	md := review.Markdown(review.Input{Plan: &tfplan, Policy: plan.Policy, Verify: &verify.Report{}, Change: c, PlanText: "Terraform will perform the following actions: ..."})
	if !strings.Contains(md, "**opened** bastion -> db tcp/3306 (bastion-to-db-mysql)") || !strings.HasSuffix(strings.TrimSpace(md), "</details>") || !strings.Contains(md, rawPlanBlock) {
		t.Errorf("the review with the change and the raw plan lacks the opened class or the raw plan:\n%s", md)
	}
}

// planFixture is a terraform plan (show -json) of the deployed example stack with the
// migrations flow added, recorded by the deploy cycle test with -update.
const planFixture = "plan-added-flow.json"

// TestGoldenPlanReview renders the review of the recorded plan: the renderer's golden test,
// without a deployment (the deploy cycle test renders a live plan against the same file).
func TestGoldenPlanReview(t *testing.T) {
	var tfplan tfjson.Plan
	if err := json.Unmarshal([]byte(readFile(t, filepath.Join("testdata", planFixture))), &tfplan); err != nil {
		t.Fatal(err)
	}
	plan := examplePlan(t)
	plan, err := stacks.NewInputFlows(plan.Config, append(append([]rules.Flow{}, rules.Flows...), migrationsFlow))
	if err != nil {
		t.Fatal(err)
	}
	r := verify.Verify(mustLoad(t, synthTo(t, plan)), mustIntent(t, plan))
	checkReview(t, review.Markdown(review.Input{Plan: &tfplan, Policy: plan.Policy, Verify: r}))
}

func mustLoad(t *testing.T, stack []byte) *verify.Network {
	t.Helper()
	n, err := verify.Load(stack)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func mustIntent(t *testing.T, plan stacks.Input) verify.Intent {
	t.Helper()
	intent, err := verify.IntentOfFlows(plan.Config, plan.Policy.Flows)
	if err != nil {
		t.Fatal(err)
	}
	return intent
}

// checkReview asserts what a reviewer relies on, then compares with the golden file.
func checkReview(t *testing.T, md string) {
	t.Helper()
	for _, want := range []string{"| + add | bastion-sg | egress | tcp | 3306 | db-sg | bastion-to-db-mysql |",
		"| + add | db-sg | ingress | tcp | 3306 | bastion-sg | bastion-to-db-mysql |"} {
		if !strings.Contains(md, want) {
			t.Errorf("the review does not show the added rule %q", want)
		}
	}
	if !strings.Contains(md, "every requirement holds") {
		t.Error("the review does not say that the planned network verifies")
	}
	// The plan as terraform prints it comes only from a live plan: the golden file holds the
	// rest, which the recorded plan renders the same.
	if i := strings.Index(md, rawPlanBlock); i >= 0 {
		md = md[:i]
	}
	golden(t, "plan-review.md", []byte(md))
}
