package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/webtier/webtier/deploy"
	"github.com/webtier/webtier/live"
	"github.com/webtier/webtier/stacks"
	"github.com/webtier/webtier/verify"
)

// TestLocalDeployCycle deploys the example stack onto a real moto server twice in a row:
// apply, the deployed network read back and verified like the synthesized one, a second plan
// that is empty, destroy, and nothing of the stack left in the emulator.
// It takes a few minutes: the provider's waiters hold the ALB and the database for ~1.5 min.
func TestLocalDeployCycle(t *testing.T) {
	if testing.Short() {
		t.Skip("the deploy cycle takes minutes; run without -short")
	}
	plan := examplePlan(t)
	out := filepath.Join(t.TempDir(), "cdktf.out")
	if err := Synth(plan, out); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	logPath := filepath.Join(dir, "terraform.log")
	log, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	s, err := deploy.Open(deploy.Options{
		Target: deploy.Local, Dir: filepath.Join(dir, "local"), Region: plan.Config.Region,
		Stack: filepath.Join(out, "stacks", stacks.Name, "cdk.tf.json"), Log: log,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.StopEmulator()
	ctx := context.Background()
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v\nlast lines of %s:\n%s", what, err, logPath, tail(logPath, 30))
		}
	}
	must("init", s.Init(ctx))
	for cycle := 1; cycle <= 2; cycle++ {
		changes, err := s.Plan(ctx, false)
		must("plan", err)
		if !changes {
			t.Fatalf("cycle %d: the first plan is empty: the emulator still holds the stack", cycle)
		}
		must("apply", s.Apply(ctx))
		outputs, err := s.Outputs(ctx)
		must("outputs", err)
		for _, k := range []string{"alb_dns_name", "bastion_public_ips", "db_endpoint", "efs_id", "ssh_command"} {
			if outputs[k] == "" {
				t.Errorf("cycle %d: output %s is empty", cycle, k)
			}
		}
		checkLive(t, ctx, s, plan, cycle)
		changes, err = s.Plan(ctx, false)
		must("second plan", err)
		if changes {
			t.Errorf("cycle %d: the second plan is not empty (drift); see %s:\n%s", cycle, logPath, tail(logPath, 60))
		}
		if cycle == 2 {
			checkReviewOfAddedFlow(t, ctx, s, plan, filepath.Join(out, "stacks", stacks.Name, "cdk.tf.json"))
		}
		must("destroy", s.Destroy(ctx))
		left, err := live.Leftovers(ctx, live.Emulator(s.Emulator.Endpoint(), plan.Config.Region))
		must("leftovers", err)
		if len(left) > 0 {
			t.Errorf("cycle %d: after destroy the emulator still holds %d resources of the stack:\n  %s", cycle, len(left), strings.Join(left, "\n  "))
		}
	}
}

// checkLive reads the deployed network back from the emulator and checks that (a) it
// verifies, through `webtier verify --live` as a user runs it, (b) it gets the very verdicts
// of the synthesized stack: every probe, every finding, the shape checks' outcomes (by probe,
// pair and ports; paths are not compared, their resource addresses differ: aws_autoscaling_group.web
// there, aws_autoscaling_group.webtier-web here, since the live loader names resources by
// their Name tag), and (c) no check of what was deployed fails (moto's known differences
// are limitations, not failures).
func checkLive(t *testing.T, ctx context.Context, s *deploy.Session, plan stacks.Plan, cycle int) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if code := run([]string{"verify", "--live", "--config", exampleConfig, "--dir", s.Dir()}, &stdout, &stderr); code != exitOK {
		t.Errorf("cycle %d: webtier verify --live: exit %d, want %d; stderr: %s\n%s", cycle, code, exitOK, stderr.String(), stdout.String())
	}
	res, err := live.Read(ctx, live.Target{Kind: deploy.Local, Dir: s.Dir(), Region: plan.Config.Region}, plan.Config, nil)
	if err != nil {
		t.Fatalf("cycle %d: reading the deployed stack: %v", cycle, err)
	}
	intent, err := verify.IntentOfFlows(plan.Config, plan.Policy.Flows)
	if err != nil {
		t.Fatal(err)
	}
	report := func(what string, doc []byte) *verify.Report {
		n, err := verify.Load(doc)
		if err != nil {
			t.Fatalf("cycle %d: %s does not load: %v", cycle, what, err)
		}
		return verify.Verify(n, intent)
	}
	got := report("the live document", res.Document)
	if !got.OK() {
		var b strings.Builder
		got.WriteTable(&b, "the deployed stack")
		t.Errorf("cycle %d: the deployed stack does not verify:\n%s", cycle, b.String())
	}
	synth, err := os.ReadFile(s.StackFile())
	if err != nil {
		t.Fatal(err)
	}
	if diff := verify.Differences(report("the synthesized stack", synth), got); len(diff) > 0 {
		t.Errorf("cycle %d: synthesized (first) and deployed (second) verdicts differ in %d places:\n  %s", cycle, len(diff), strings.Join(diff, "\n  "))
	}
	if len(got.Probes) == 0 || len(got.Accepted) == 0 {
		t.Errorf("cycle %d: the live verification judged nothing: %d probes, %d accepted findings", cycle, len(got.Probes), len(got.Accepted))
	}
	for _, sh := range res.Shapes {
		if sh.Status == live.Fail {
			t.Errorf("cycle %d: shape check failed: %s: %s", cycle, sh.Check, sh.Observed)
		}
		t.Logf("cycle %d: %-62s %-19s %s", cycle, sh.Check, sh.Status, sh.Observed)
	}
	for _, n := range res.Notes {
		t.Errorf("cycle %d: the live loader left something out: %s", cycle, n)
	}
}

// TestBrokenConfigDeploysNothing: bad input stops deploy before the emulator or terraform
// start, and no working directory appears.
func TestBrokenConfigDeploysNothing(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	var stdout, stderr bytes.Buffer
	code := run([]string{"deploy", "--config", exampleConfig, "--dir", dir, "--out", filepath.Join(t.TempDir(), "out"),
		"--min", "9"}, &stdout, &stderr)
	if code != exitBadArgs {
		t.Errorf("exit status: got %d, want %d; stderr: %s", code, exitBadArgs, stderr.String())
	}
	if want := "fleet.min: 9 is greater than fleet.max 4"; !strings.Contains(stderr.String(), want) {
		t.Errorf("stderr: got %q, want it to name the field: %q", stderr.String(), want)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("a broken config left %s behind (stat: %v)", dir, err)
	}
	if strings.Contains(stdout.String(), "emulator") {
		t.Errorf("a broken config started the emulator:\n%s", stdout.String())
	}
}

// tail returns the last n lines of a file.
func tail(path string, n int) string {
	data, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
