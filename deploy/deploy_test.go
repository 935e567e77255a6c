package deploy

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/webtier/webtier/emulator"
)

// openLocal opens a local session on stack (a file in testdata) with a fresh emulator that
// ends with the test, and runs terraform init.
func openLocal(t *testing.T, stack string, limits map[string]time.Duration) (*Session, *strings.Builder) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts moto and terraform; run without -short")
	}
	if _, err := exec.LookPath("terraform"); err != nil {
		t.Skip("terraform is not on the PATH")
	}
	if err := emulator.Check(); err != nil {
		t.Skip(err)
	}
	repo, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	log := &strings.Builder{}
	s, err := Open(Options{Target: Local, Repo: repo, Dir: t.TempDir(), Stack: filepath.Join("testdata", stack),
		Region: "ap-northeast-2", Log: log, EmulatorEndsWithMe: true, StepLimits: limits})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.StopEmulator() })
	if err := s.Init(context.Background()); err != nil {
		t.Fatalf("init: %v\n%s", err, log)
	}
	return s, log
}

// TestEmulator500StopsTheStep: moto answering HTTP 500 fails the step with the action and
// moto's exception, instead of the provider's SDK retrying it for minutes.
func TestEmulator500StopsTheStep(t *testing.T) {
	s, log := openLocal(t, "moto-500.tf.json", nil)
	ctx := context.Background()
	if _, err := s.Plan(ctx, false); err != nil {
		t.Fatalf("plan: %v\n%s", err, log)
	}
	err := s.Apply(ctx)
	if err == nil {
		t.Fatalf("apply of a resource moto answers with HTTP 500 succeeded:\n%s", log)
	}
	for _, want := range []string{
		"terraform apply stopped: the emulator answered HTTP 500 to ec2 EnableSerialConsoleAccess (attempt 1",
		"NotImplementedError",
		"terraform's last lines:",
		"the emulator's last trace lines",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not say %q:\n%v", want, err)
		}
	}
	if s.Steps[len(s.Steps)-1].Name != "terraform apply" {
		t.Errorf("last step: %+v", s.Steps)
	}
}

// TestStepLimitStopsTerraform: a step that outlasts its limit is stopped and fails, saying
// which limit and what terraform was doing, and terraform is gone afterwards.
func TestStepLimitStopsTerraform(t *testing.T) {
	s, log := openLocal(t, "slow-apply.tf.json", map[string]time.Duration{"terraform apply": 8 * time.Second})
	ctx := context.Background()
	if _, err := s.Plan(ctx, false); err != nil {
		t.Fatalf("plan: %v\n%s", err, log)
	}
	err := s.Apply(ctx)
	if err == nil {
		t.Fatalf("an apply limited to 8 s finished, though the database waiter holds it longer:\n%s", log)
	}
	// terraform's last lines: the plan, or the create under way (how far it got depends on
	// the machine's load), but something.
	if !strings.Contains(err.Error(), "terraform apply stopped: it did not finish within 8s\nterraform's last lines:\n") ||
		strings.Contains(err.Error(), "terraform's last lines:\n    (none)") {
		t.Errorf("the error does not say which limit stopped terraform and what it was doing:\n%v", err)
	}
	// terraform is killed; its provider plugin exits when it loses terraform (a moment later).
	left := processesIn(s.Dir())
	for deadline := time.Now().Add(10 * time.Second); len(left) > 0 && time.Now().Before(deadline); left = processesIn(s.Dir()) {
		time.Sleep(100 * time.Millisecond)
	}
	if len(left) > 0 {
		t.Errorf("terraform or its provider still runs in %s 10 s after the step was stopped: %s", s.Dir(), strings.Join(left, "; "))
	}
}

// processesIn lists the processes whose working directory is dir (Linux's /proc; elsewhere
// nothing).
func processesIn(dir string) []string {
	procs, _ := filepath.Glob("/proc/[0-9]*")
	var found []string
	for _, p := range procs {
		if cwd, err := os.Readlink(filepath.Join(p, "cwd")); err == nil && cwd == dir {
			cmd, _ := os.ReadFile(filepath.Join(p, "cmdline"))
			found = append(found, filepath.Base(p)+" "+strings.ReplaceAll(string(cmd), "\x00", " "))
		}
	}
	return found
}
