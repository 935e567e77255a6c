package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/webtier/webtier/check"
	"github.com/webtier/webtier/config"
	"github.com/webtier/webtier/deploy"
	"github.com/webtier/webtier/live"
	"github.com/webtier/webtier/stacks"
	"github.com/webtier/webtier/twin"
	"github.com/webtier/webtier/verify"
)

var (
	soak      = flag.Int("soak", 0, "TestSoak: the number of deploy cycles to run back to back on one emulator (make soak)")
	soakTFLog = flag.String("soak-tf-log", "", "TestSoak: a file for terraform's and the provider's debug log (every request, every retry and why)")
	soakDrill = flag.Bool("soak-drill", true, "TestSoak: run the drills on each deployment (false: apply, live verify, plan again, destroy only)")
	// accessCycle runs the deploy cycle of `access: ssm` too (make test-access): six minutes
	// more than make test's budget allows.
	accessCycle = flag.Bool("access-cycle", false, "TestLocalDeployCycleSSM: deploy `access: ssm` onto the emulator too (make test-access)")
)

// cycleSession synthesizes the example stack and opens a local deploy session on a fresh
// emulator, which the test stops at its end. terraform's output goes to the returned log.
func cycleSession(t *testing.T, debugLog string) (s *deploy.Session, plan stacks.Input, stack, logPath string) {
	t.Helper()
	return cycleSessionOf(t, examplePlan(t), debugLog)
}

// cycleSessionOf is cycleSession for the stack of plan.
func cycleSessionOf(t *testing.T, plan stacks.Input, debugLog string) (s *deploy.Session, _ stacks.Input, stack, logPath string) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "cdktf.out")
	if err := Synth(plan, out); err != nil {
		t.Fatal(err)
	}
	stack = filepath.Join(out, "stacks", stacks.Name, "cdk.tf.json")
	dir := t.TempDir()
	logPath = filepath.Join(dir, "terraform.log")
	log, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { log.Close() })
	s, err = deploy.Open(deploy.Options{
		Target: deploy.Local, Dir: filepath.Join(dir, "local"), Region: plan.Config.Region, S3Ranges: plan.Config.RepoCIDRs,
		Stack: stack, Log: log, EmulatorEndsWithMe: true, DebugLog: debugLog,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.StopEmulator() })
	if err := s.Init(context.Background()); err != nil {
		t.Fatalf("init: %v\nlast lines of %s:\n%s", err, logPath, tail(logPath, 30))
	}
	return s, plan, stack, logPath
}

// TestLocalDeployCycle deploys the example stack onto a real moto server twice in a row:
// apply, the deployed network read back and verified like the synthesized one, a second plan
// that is empty, destroy, and nothing of the stack left in the emulator. The second cycle
// also renders the plan reviews of an added flow and of the S3 gateway endpoint against the
// deployed stack.
// It takes a few minutes: the provider's waiters hold the ALB and the database for ~1.5 min.
func TestLocalDeployCycle(t *testing.T) {
	if testing.Short() {
		t.Skip("the deploy cycle takes minutes; run without -short")
	}
	t.Setenv("WEBTIER_TWIN_PREFIX", testPrefix("wtd"))
	s, plan, stack, logPath := cycleSession(t, "")
	ctx := context.Background()
	for cycle := 1; cycle <= 2; cycle++ {
		var review func()
		if cycle == 2 {
			review = func() {
				checkReviewOfAddedFlow(t, ctx, s, plan, stack)
				checkReviewOfS3Endpoint(t, ctx, s, plan, stack)
			}
		}
		r := deployCycle(ctx, s, plan, true, review)
		for _, line := range r.log {
			t.Logf("cycle %d: %s", cycle, line)
		}
		var steps []string
		for _, st := range r.steps {
			steps = append(steps, fmt.Sprintf("%s %.1fs", st.Name, st.Duration.Seconds()))
		}
		t.Logf("cycle %d steps: %s", cycle, strings.Join(steps, ", "))
		for _, p := range r.problems {
			t.Errorf("cycle %d: %s", cycle, p)
		}
		if r.stopped {
			t.Fatalf("cycle %d stopped; last lines of %s:\n%s\nthe emulator's last trace lines:\n%s",
				cycle, logPath, tail(logPath, 60), s.Emulator.Trace(40))
		}
	}
}

// configPath is the config file of a cycle's plan: the commands the cycle runs read it.
func configPath(plan stacks.Input) string {
	if plan.Config.Access == config.AccessSSM {
		return ssmConfig
	}
	return exampleConfig
}

// TestLocalDeployCycleSSM deploys `access: ssm` (examples/webtier.ssm.json) onto moto once:
// apply (the three Systems Manager interface endpoints, the managed policy, no bastion), the
// deployed network verified (requirement 1 as no inbound SSH path), the twin's drill of it
// (Session Manager's stand-in), a second plan that is empty, destroy, nothing left.
func TestLocalDeployCycleSSM(t *testing.T) {
	if testing.Short() || !*accessCycle {
		t.Skip("the access ssm deploy cycle takes six minutes: it runs with -access-cycle (make test-access)")
	}
	t.Setenv("WEBTIER_TWIN_PREFIX", testPrefix("wts"))
	s, plan, _, logPath := cycleSessionOf(t, planOf(t, ssmConfig), "")
	r := deployCycle(context.Background(), s, plan, true, nil)
	for _, line := range r.log {
		t.Logf("%s", line)
	}
	var steps []string
	for _, st := range r.steps {
		steps = append(steps, fmt.Sprintf("%s %.1fs", st.Name, st.Duration.Seconds()))
	}
	t.Logf("steps: %s", strings.Join(steps, ", "))
	for _, p := range r.problems {
		t.Errorf("%s", p)
	}
	if len(r.problems) > 0 && !r.stopped {
		t.Logf("last lines of %s:\n%s", logPath, tail(logPath, 150))
	}
	if r.stopped {
		t.Fatalf("the cycle stopped; last lines of %s:\n%s\nthe emulator's last trace lines:\n%s", logPath, tail(logPath, 60), s.Emulator.Trace(40))
	}
}

// TestSoak runs deploy cycles back to back on one emulator and prints, per cycle, each
// step's time and the result, then "N passed, M failed". It runs only when asked:
// `make soak N=8`, or go test -run '^TestSoak$' -soak 8 -timeout 0 .
func TestSoak(t *testing.T) {
	if *soak <= 0 {
		t.Skip("a soak runs only with -soak N (make soak N=8)")
	}
	t.Setenv("WEBTIER_TWIN_PREFIX", testPrefix("wtd"))
	s, plan, _, logPath := cycleSession(t, *soakTFLog)
	ctx := context.Background()
	passed, failed := 0, 0
	for cycle := 1; cycle <= *soak; cycle++ {
		r := deployCycle(ctx, s, plan, *soakDrill, nil)
		var steps []string
		for _, st := range r.steps {
			steps = append(steps, fmt.Sprintf("%s %.1fs", st.Name, st.Duration.Seconds()))
		}
		result := "PASS"
		if len(r.problems) > 0 {
			result = "FAIL"
			failed++
		} else {
			passed++
		}
		fmt.Printf("cycle %d/%d %s: %s\n", cycle, *soak, result, strings.Join(steps, ", "))
		for _, p := range r.problems {
			fmt.Printf("    %s\n", p)
		}
		if r.stopped {
			fmt.Printf("    the cycle stopped; last lines of %s:\n%s\n    the emulator's last trace lines:\n%s\n",
				logPath, tail(logPath, 40), s.Emulator.Trace(40))
			// Whatever the failed step left behind goes before the next cycle starts.
			if err := s.Destroy(ctx); err != nil {
				fmt.Printf("    destroy after the failure: %v\n", err)
				break
			}
		}
	}
	fmt.Printf("soak: %d passed, %d failed\n", passed, failed)
	if failed > 0 || passed != *soak {
		t.Fail()
	}
}

// cycle is what one deploy cycle did: the time of each step, what went wrong, and whether
// it stopped before its end.
type cycle struct {
	steps    []deploy.Step
	problems []string
	log      []string
	stopped  bool
}

// deployCycle runs one cycle on the session's emulator: plan (it must have changes), apply,
// the outputs, the live verification, the drill on the twin of the deployment (where the
// twin can run), a second plan (it must be empty), review (when not nil), destroy, and no
// leftovers in the emulator.
func deployCycle(ctx context.Context, s *deploy.Session, plan stacks.Input, drills bool, review func()) (c cycle) {
	step := func(name string, fn func() error) bool {
		start := time.Now()
		err := fn()
		c.steps = append(c.steps, deploy.Step{Name: name, Duration: time.Since(start)})
		if err != nil {
			c.problems = append(c.problems, fmt.Sprintf("%s: %v", name, err))
			c.stopped = true
		}
		return err == nil
	}
	ok := step("deploy", func() error {
		changes, err := s.Plan(ctx, false)
		if err == nil && !changes {
			return errors.New("the first plan is empty: the emulator still holds the stack")
		}
		if err != nil {
			return err
		}
		if err := s.Apply(ctx); err != nil {
			return err
		}
		outputs, err := s.Outputs(ctx)
		if err != nil {
			return err
		}
		want := []string{"alb_dns_name", "db_endpoint", "efs_id"}
		if plan.Config.Bastions() {
			want = append(want, "bastion_public_ips", "ssh_command")
		}
		if plan.Config.SessionManager() {
			want = append(want, "session_command")
		}
		for _, k := range want {
			if outputs[k] == "" {
				c.problems = append(c.problems, "output "+k+" is empty")
			}
		}
		return nil
	}) && step("live verify", func() error {
		problems, log := checkLive(ctx, s, plan, configPath(plan))
		c.problems, c.log = append(c.problems, problems...), append(c.log, log...)
		return nil
	}) && (!drills || step("twin drill", func() error {
		problems, log := drillTheDeployment(ctx, s, plan)
		c.problems, c.log = append(c.problems, problems...), append(c.log, log...)
		return nil
	}) && step("aws drill", func() error {
		problems, log := drillAWSOnEmulator(s, configPath(plan))
		c.problems, c.log = append(c.problems, problems...), append(c.log, log...)
		return nil
	})) && step("plan again", func() error {
		changes, err := s.Plan(ctx, false)
		if err == nil && changes {
			c.problems = append(c.problems, "the second plan is not empty (drift): see terraform's log")
		}
		return err
	})
	if !ok {
		return c
	}
	if review != nil {
		review()
	}
	if !step("destroy", func() error { return s.Destroy(ctx) }) {
		return c
	}
	step("leftovers", func() error {
		left, err := live.Leftovers(ctx, live.Emulator(s.Emulator.Endpoint(), plan.Config.Region))
		if len(left) > 0 {
			c.problems = append(c.problems, fmt.Sprintf("after destroy the emulator still holds %d resources of the stack:\n  %s", len(left), strings.Join(left, "\n  ")))
		}
		return err
	})
	return c
}

// drillTheDeployment builds the twin of the deployed stack as `webtier deploy` does (the
// site on 127.0.0.1:8080 included), runs the whole drill on it (each
// must pass, or be an emulator limitation, never a silent pass), fetches the site through the
// forwarder, and takes the twin down. Where the twin cannot run, it says so in the log.
// (With the database stand-in missing, test 5 says NOT BUILT and fails the cycle: `make
// setup` installs it as root.)
func drillTheDeployment(ctx context.Context, s *deploy.Session, plan stacks.Input) (problems, log []string) {
	var out bytes.Buffer
	// A port of its own, not webtier deploy's 8080: another cycle (a soak) may run beside it.
	site, err := freeLoopbackAddr()
	if err != nil {
		return []string{err.Error()}, nil
	}
	tw, err := twinAfterDeploy(ctx, s, plan, site, &out)
	if err != nil {
		return []string{fmt.Sprintf("twin of the deployment: %v\n%s", err, out.String())}, nil
	}
	if tw == nil {
		return nil, []string{strings.TrimSpace(out.String())}
	}
	defer twin.Down(ctx, tw.Prefix)
	if !strings.Contains(out.String(), "site: http://"+site+"/") {
		problems = append(problems, "webtier deploy's twin step does not print the site:\n"+out.String())
	}
	rows, err := twin.Drill(ctx, tw)
	if err != nil {
		return append(problems, fmt.Sprintf("drill: %v", err)), nil
	}
	for _, r := range rows {
		log = append(log, fmt.Sprintf("drill %d %-70s %s", r.Req, r.Check, r.Status))
		// The alarms and event subscriptions of a deployment are not read back yet: the twin
		// says so, NOT BUILT.
		notRead := r.Status == check.NotBuilt && (strings.Contains(r.Evidence, "alarms of a deployed stack are not read back") ||
			strings.Contains(r.Evidence, "event subscriptions of a deployed stack are not read back"))
		if r.Status != check.Pass && r.Status != check.Limitation && !notRead {
			problems = append(problems, fmt.Sprintf("drill on the deployment: req %d %q: %s (expected %s, observed %s: %s)", r.Req, r.Check, r.Status, r.Expected, r.Observed, r.Evidence))
		}
	}
	resp, err := http.Get("http://" + site + "/")
	if err != nil {
		return append(problems, fmt.Sprintf("the site on %s: %v", site, err)), log
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "<td>Instance ID</td><td>i-") {
		problems = append(problems, fmt.Sprintf("the site on %s answers %s without an instance ID:\n%s", site, resp.Status, body))
	}
	return problems, log
}

// drillAWSOnEmulator runs `webtier drill --target aws --emulator` on the session's emulator
// as a user would, and checks that it exits 1 (limitations are not passes), that every row
// of what moto's API answers passes (but for moto's known gaps: health, spread, standby AZ,
// and what the live reader does not read, NOT BUILT), that each requirement has such a row, and that every test of traffic is an EMULATOR
// LIMITATION that says what moto did not show. (The "Second plan" step after it also shows
// that RebootDBInstance left nothing for terraform to change.)
func drillAWSOnEmulator(s *deploy.Session, cfgPath string) (problems, log []string) {
	var stdout, stderr bytes.Buffer
	code := run([]string{"drill", "--target", "aws", "--emulator", "--dir", s.Dir(), "--config", cfgPath, "--json"}, &stdout, &stderr)
	if code != exitFailed {
		problems = append(problems, fmt.Sprintf("drill --target aws --emulator: exit %d, want %d (limitations are not passes); stderr: %s", code, exitFailed, stderr.String()))
	}
	var out struct {
		Where string         `json:"where"`
		OK    bool           `json:"ok"`
		Rows  []check.Result `json:"rows"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		return append(problems, fmt.Sprintf("drill --target aws --emulator --json: %v\n%s", err, stdout.String())), nil
	}
	if !strings.Contains(out.Where, "the emulator (moto at http://127.0.0.1:") || out.OK {
		problems = append(problems, fmt.Sprintf("drill --target aws --emulator: where %q, ok %v; want the emulator, not ok", out.Where, out.OK))
	}
	passed := map[int]int{}
	for _, r := range out.Rows {
		log = append(log, fmt.Sprintf("aws drill %d %-70.70s %s", r.Req, r.Check, r.Status))
		api := strings.HasPrefix(r.Check, "API: ") || strings.HasPrefix(r.Check, "RebootDBInstance(")
		want := check.Limitation
		if api && !strings.Contains(r.Check, "web servers healthy") && !strings.Contains(r.Check, "web servers spread") && !strings.Contains(r.Check, "Multi-AZ with a standby") {
			want = check.Pass
		}
		// What the live reader does not read (alarms, controls) is not judged: not a pass.
		if api && strings.HasPrefix(r.Observed, "not read: ") {
			want = check.NotBuilt
		}
		if strings.HasPrefix(r.Check, "aws ssm start-session") {
			want = check.NotBuilt // a session through Systems Manager is not drilled (awsdrill/access.go)
		}
		if r.Status != want {
			problems = append(problems, fmt.Sprintf("aws drill on the emulator: req %d %q: %s, want %s (observed %q: %s)", r.Req, r.Check, r.Status, want, r.Observed, r.Evidence))
		}
		if r.Status == check.Limitation && !strings.Contains(r.Evidence+r.Observed, "moto") && !strings.HasPrefix(r.Evidence, "as above") {
			problems = append(problems, fmt.Sprintf("aws drill on the emulator: req %d %q: a limitation that does not say what moto did not show: %q", r.Req, r.Check, r.Evidence))
		}
		if r.Status == check.Pass {
			passed[r.Req]++
		}
	}
	for req := 1; req <= 6; req++ {
		if passed[req] == 0 {
			problems = append(problems, fmt.Sprintf("aws drill on the emulator: no row of req %d passed on what moto's API answered", req))
		}
	}
	return problems, log
}

// checkLive reads the deployed network back from the emulator and checks that (a) it
// verifies, through `webtier verify --live` as a user runs it, (b) it gets the very verdicts
// of the synthesized stack: every probe, every finding, the shape checks' outcomes (by probe,
// pair and ports; paths are not compared, their resource addresses differ: aws_autoscaling_group.web
// there, aws_autoscaling_group.webtier-web here, since the live loader names resources by
// their Name tag), and (c) no check of what was deployed fails (moto's known differences
// are limitations, not failures). It returns the problems, and a line per live shape check.
func checkLive(ctx context.Context, s *deploy.Session, plan stacks.Input, cfgPath string) (problems, log []string) {
	fail := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	var stdout, stderr bytes.Buffer
	if code := run([]string{"verify", "--live", "--config", cfgPath, "--dir", s.Dir()}, &stdout, &stderr); code != exitOK {
		fail("webtier verify --live: exit %d, want %d; stderr: %s\n%s", code, exitOK, stderr.String(), stdout.String())
	}
	res, err := live.Read(ctx, live.Target{Kind: deploy.Local, Dir: s.Dir(), Region: plan.Config.Region}, plan.Config, nil)
	if err != nil {
		fail("reading the deployed stack: %v", err)
		return problems, log
	}
	intent, err := verify.IntentOfFlows(plan.Config, plan.Policy.Flows)
	if err != nil {
		fail("intent: %v", err)
		return problems, log
	}
	report := func(what string, load func([]byte) (*verify.Network, error), doc []byte) *verify.Report {
		n, err := load(doc)
		if err != nil {
			fail("%s does not load: %v", what, err)
			return nil
		}
		return verify.Verify(n, intent)
	}
	synth, err := os.ReadFile(s.StackFile())
	if err != nil {
		fail("%v", err)
		return problems, log
	}
	saved, err := res.JSON() // as the twin keeps it
	if err != nil {
		fail("%v", err)
		return problems, log
	}
	got, want := report("the deployed stack", verify.LoadDeployedJSON, saved), report("the synthesized stack", verify.Load, synth)
	if got == nil || want == nil {
		return problems, log
	}
	if !got.OK() {
		var b strings.Builder
		got.WriteTable(&b, "the deployed stack")
		fail("the deployed stack does not verify:\n%s", b.String())
	}
	if diff := verify.Differences(want, got); len(diff) > 0 {
		fail("synthesized (first) and deployed (second) verdicts differ in %d places:\n  %s", len(diff), strings.Join(diff, "\n  "))
	}
	if len(got.Probes) == 0 || len(got.Accepted) == 0 {
		fail("the live verification judged nothing: %d probes, %d accepted findings", len(got.Probes), len(got.Accepted))
	}
	for _, sh := range res.Shapes {
		if sh.Failed() {
			fail("shape check failed: %s: %s", sh.Check, sh.Observed)
		}
		log = append(log, fmt.Sprintf("%-62s %-19s %s", sh.Check, sh.Status, sh.Observed))
	}
	for _, n := range res.Notes {
		fail("the live loader left something out: %s", n)
	}
	return problems, log
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

// freeLoopbackAddr is a loopback address with a port nothing listens on now.
func freeLoopbackAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}
