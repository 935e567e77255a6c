package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/webtier/webtier/deploy"
	"github.com/webtier/webtier/live"
	"github.com/webtier/webtier/review"
	"github.com/webtier/webtier/stacks"
	"github.com/webtier/webtier/verify"
)

// deployFlags are the flags plan, deploy and destroy share.
type deployFlags struct {
	target  string
	dir     string
	out     string
	backend backendFlag
}

// backendFlag collects --backend-config key=value pairs for the S3 backend.
type backendFlag map[string]string

func (b backendFlag) String() string { return fmt.Sprint(map[string]string(b)) }

func (b backendFlag) Set(v string) error {
	k, val, ok := strings.Cut(v, "=")
	if !ok || k == "" {
		return fmt.Errorf("%q is not key=value (e.g. bucket=my-state)", v)
	}
	b[k] = val
	return nil
}

func (f *deployFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.target, "target", string(deploy.Local), "local (moto on 127.0.0.1) or aws")
	fs.StringVar(&f.dir, "dir", "", "working directory for state, plan and emulator (default .webtier/<target>)")
	fs.StringVar(&f.out, "out", outdirDefault(), "directory to synthesize into")
	f.backend = backendFlag{}
	fs.Var(f.backend, "backend-config", "S3 backend setting key=value (aws target; repeatable); none keeps local state")
}

// openSession synthesizes the stack and prepares terraform for the target.
func openSession(name string, args []string, stdout, stderr io.Writer, extra func(*flag.FlagSet)) (*deploy.Session, stacks.Plan, int) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var f deployFlags
	f.register(fs)
	if extra != nil {
		extra(fs)
	}
	plan, err := loadPlan(fs, args)
	if err != nil {
		return nil, plan, report(stderr, err)
	}
	target, err := deploy.ParseTarget(f.target)
	if err != nil {
		return nil, plan, report(stderr, usageError{err})
	}
	if len(f.backend) > 0 && target != deploy.AWS {
		return nil, plan, report(stderr, usageError{fmt.Errorf("--backend-config: the S3 backend is for --target aws; the local target keeps its state in %s", filepath.Join(".webtier", "local"))})
	}
	start := time.Now()
	fmt.Fprintln(stdout, "==> synth")
	if err := Synth(plan, f.out); err != nil {
		return nil, plan, report(stderr, err)
	}
	fmt.Fprintf(stdout, "<== synth done in %.1fs\n", time.Since(start).Seconds())
	s, err := deploy.Open(deploy.Options{
		Target:  target,
		Dir:     f.dir,
		Stack:   filepath.Join(f.out, "stacks", stacks.Name, "cdk.tf.json"),
		Region:  plan.Config.Region,
		Backend: f.backend,
		Log:     stdout,
	})
	if err != nil {
		return nil, plan, report(stderr, err)
	}
	return s, plan, exitOK
}

// interruptible is a context that Ctrl-C cancels: terraform-exec then interrupts terraform,
// which stops cleanly and writes its state for the next deploy or destroy.
func interruptible() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

func planCmd(args []string, stdout, stderr io.Writer) int {
	var markdown string
	s, plan, code := openSession("plan", args, stdout, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&markdown, "markdown", "", "also write a review of the plan for a pull request to `file`")
	})
	if s == nil {
		return code
	}
	ctx, stop := interruptible()
	defer stop()
	if err := s.Init(ctx); err != nil {
		return report(stderr, err)
	}
	changes, err := s.Plan(ctx, false)
	if err != nil {
		return report(stderr, err)
	}
	if !changes {
		fmt.Fprintln(stdout, "webtier: no changes: the target matches the stack")
	}
	verified := true
	if markdown != "" {
		if verified, err = writeReview(ctx, s, plan, markdown); err != nil {
			return report(stderr, err)
		}
		fmt.Fprintf(stdout, "webtier: wrote the plan review to %s\n", markdown)
	}
	printSteps(stdout, s)
	if !verified {
		fmt.Fprintln(stderr, "webtier: the planned network does not verify: see the review")
		return exitFailed
	}
	return exitOK
}

// writeReview writes the markdown review of the session's plan, with the verification of the
// planned network (the synthesized stack), and says whether that verification passed.
func writeReview(ctx context.Context, s *deploy.Session, plan stacks.Plan, path string) (bool, error) {
	tfplan, err := s.Show(ctx)
	if err != nil {
		return false, err
	}
	table, ok, err := verifyTable(plan, s.StackFile())
	if err != nil {
		return false, err
	}
	md := review.Markdown(review.Input{Plan: tfplan, Policy: plan.Policy, Verify: table, VerifyOK: ok})
	return ok, writeFileAtomic(path, []byte(md))
}

// verifyTable verifies a synthesized stack against the plan's intent and renders the table.
func verifyTable(plan stacks.Plan, stackFile string) (string, bool, error) {
	data, err := os.ReadFile(stackFile)
	if err != nil {
		return "", false, err
	}
	n, err := verify.Load(data)
	if err != nil {
		return "", false, err
	}
	intent, err := verify.IntentOfFlows(plan.Config, plan.Policy.Flows)
	if err != nil {
		return "", false, err
	}
	r := verify.Verify(n, intent)
	var b strings.Builder
	if err := r.WriteTable(&b, "the planned stack"); err != nil {
		return "", false, err
	}
	return b.String(), r.OK(), nil
}

// writeFileAtomic writes through a temporary file, so a failure leaves nothing half-written.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// settleTimeout bounds the wait for the load balancer's first health checks on AWS.
const settleTimeout = 10 * time.Minute

// deployCmd applies the stack, prints the outputs, then verifies the deployed network (read
// back from the target's APIs) with the same probes as the synthesized one, plus the checks
// of what was deployed; it exits 1 when that verification fails.
func deployCmd(args []string, stdout, stderr io.Writer) int {
	s, plan, code := openSession("deploy", args, stdout, stderr, nil)
	if s == nil {
		return code
	}
	ctx, stop := interruptible()
	defer stop()
	if err := s.Init(ctx); err != nil {
		return report(stderr, err)
	}
	if _, err := s.Plan(ctx, false); err != nil {
		return report(stderr, err)
	}
	if err := s.Apply(ctx); err != nil {
		return report(stderr, err)
	}
	outputs, err := s.Outputs(ctx)
	if err != nil {
		return report(stderr, err)
	}
	printOutputs(stdout, outputs)
	ok, err := liveVerify(ctx, s, plan, stdout)
	printSteps(stdout, s)
	if err != nil {
		return report(stderr, err)
	}
	if !ok {
		fmt.Fprintln(stderr, "webtier: the deployed stack does not verify: see the live verification above")
		return exitFailed
	}
	return exitOK
}

// liveVerify reads the deployed network back and verifies it (verify.Live), as one timed
// step; on AWS it first waits for the load balancer's first health checks.
func liveVerify(ctx context.Context, s *deploy.Session, plan stacks.Plan, stdout io.Writer) (bool, error) {
	intent, err := verify.IntentOfFlows(plan.Config, plan.Policy.Flows)
	if err != nil {
		return false, err
	}
	target := live.Target{Kind: deploy.AWS, Dir: s.Dir(), Region: plan.Config.Region}
	if s.Emulator != nil {
		target.Kind = deploy.Local
	}
	fmt.Fprintln(stdout, "\n==> live verify")
	start := time.Now()
	if !target.Local() {
		if err := live.Settle(ctx, target, settleTimeout, stdout); err != nil {
			return false, err
		}
	}
	ok, err := verify.Live(ctx, stdout, target, plan.Config, intent, false)
	d := time.Since(start)
	s.Steps = append(s.Steps, deploy.Step{Name: "live verify", Duration: d})
	status := "done"
	if err != nil || !ok {
		status = "failed"
	}
	fmt.Fprintf(stdout, "<== live verify %s in %.1fs\n", status, d.Seconds())
	return ok, err
}

func destroyCmd(args []string, stdout, stderr io.Writer) int {
	s, _, code := openSession("destroy", args, stdout, stderr, nil)
	if s == nil {
		return code
	}
	ctx, stop := interruptible()
	defer stop()
	if err := s.Init(ctx); err != nil {
		return report(stderr, err)
	}
	if err := s.Destroy(ctx); err != nil {
		return report(stderr, err)
	}
	if err := s.StopEmulator(); err != nil {
		return report(stderr, err)
	}
	printSteps(stdout, s)
	return exitOK
}

func printOutputs(w io.Writer, outputs map[string]string) {
	names := make([]string, 0, len(outputs))
	for k := range outputs {
		names = append(names, k)
	}
	sort.Strings(names)
	fmt.Fprintln(w, "\nOutputs:")
	for _, k := range names {
		fmt.Fprintf(w, "  %-20s %s\n", k, outputs[k])
	}
}

func printSteps(w io.Writer, s *deploy.Session) {
	fmt.Fprintln(w, "\nSteps:")
	var total time.Duration
	for _, st := range s.Steps {
		fmt.Fprintf(w, "  %-20s %7.1fs\n", st.Name, st.Duration.Seconds())
		total += st.Duration
	}
	fmt.Fprintf(w, "  %-20s %7.1fs\n", "total", total.Seconds())
}
