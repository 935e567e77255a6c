package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/webtier/webtier/deploy"
	"github.com/webtier/webtier/stacks"
)

// TestLocalDeployCycle deploys the example stack onto a real moto server twice in a row:
// apply, a second plan that is empty, destroy, and nothing of the stack left in the emulator.
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
		changes, err = s.Plan(ctx, false)
		must("second plan", err)
		if changes {
			t.Errorf("cycle %d: the second plan is not empty (drift); see %s:\n%s", cycle, logPath, tail(logPath, 60))
		}
		must("destroy", s.Destroy(ctx))
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
