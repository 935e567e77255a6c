package main

import (
	"context"
	"encoding/json"
	"errors"
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

	"github.com/webtier/webtier/twin/compiler"

	tfjson "github.com/hashicorp/terraform-json"

	"github.com/webtier/webtier/change"
	"github.com/webtier/webtier/deploy"
	"github.com/webtier/webtier/live"
	"github.com/webtier/webtier/review"
	"github.com/webtier/webtier/stacks"
	"github.com/webtier/webtier/twin"
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
func openSession(name string, args []string, stdout, stderr io.Writer, extra func(*flag.FlagSet)) (*deploy.Session, stacks.Input, int) {
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
	synthesized := time.Since(start)
	fmt.Fprintf(stdout, "<== synth done in %.1fs\n", synthesized.Seconds())
	s, err := deploy.Open(deploy.Options{
		Target:   target,
		Dir:      f.dir,
		Stack:    filepath.Join(f.out, "stacks", stacks.Name, "cdk.tf.json"),
		Region:   plan.Config.Region,
		S3Ranges: plan.Config.RepoCIDRs,
		Backend:  f.backend,
		Log:      stdout,
	})
	if err != nil {
		return nil, plan, report(stderr, err)
	}
	s.Steps = append([]deploy.Step{{Name: "synth", Duration: synthesized}}, s.Steps...)
	return s, plan, exitOK
}

// interruptible is a context that Ctrl-C cancels: terraform-exec then interrupts terraform,
// which stops cleanly and writes its state for the next deploy or destroy.
func interruptible() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

// reviewOptions are plan --markdown's: where the review goes, the synthesized stack of what
// is deployed to diff the planned one against (with the apply's states), and where to write
// the plan as JSON for `webtier diff --plan`.
type reviewOptions struct {
	markdown, base, planJSON string
}

// writeReview writes the markdown review of the session's plan, with the verification of the
// planned network and, given a base, what the change and its apply do to the connections. ok
// is false when the planned network does not verify.
func writeReview(ctx context.Context, s *deploy.Session, plan stacks.Input, o reviewOptions) (bool, error) {
	tfplan, err := s.Show(ctx)
	if err != nil {
		return false, err
	}
	if o.planJSON != "" {
		data, err := json.Marshal(tfplan)
		if err != nil {
			return false, err
		}
		if err := writeFileAtomic(o.planJSON, data); err != nil {
			return false, err
		}
	}
	r, err := verifyStack(plan, s.StackFile())
	if err != nil {
		return false, err
	}
	in := review.Input{Plan: tfplan, Policy: plan.Policy, Verify: r, PlanText: s.PlanText()}
	if o.base != "" {
		if in.Change, err = planChange(plan, s.StackFile(), o.base, tfplan); err != nil {
			return false, err
		}
	}
	return r.OK(), writeFileAtomic(o.markdown, []byte(review.Markdown(in)))
}

// planChange diffs the synthesized stack of what is deployed (base) and the planned one,
// with the states of the plan's apply.
func planChange(plan stacks.Input, stackFile, base string, tfplan *tfjson.Plan) (*verify.Change, error) {
	b, err := readSide(base)
	if err != nil {
		return nil, fmt.Errorf("--base: %w", err)
	}
	planned, data, err := plannedSide(plan, stackFile)
	if err != nil {
		return nil, err
	}
	steps, err := change.FromPlan(tfplan)
	if err != nil {
		return nil, err
	}
	states, notes, err := change.States(steps, b.data, data)
	if err != nil {
		return nil, err
	}
	c := verify.Diff(b.side, planned, states...)
	c.Notes = append(c.Notes, notes...)
	return c, nil
}

// verifyStack verifies a synthesized stack against the plan's intent.
func verifyStack(plan stacks.Input, stackFile string) (*verify.Report, error) {
	side, _, err := plannedSide(plan, stackFile)
	if err != nil {
		return nil, err
	}
	return verify.Verify(side.Network, side.Intent), nil
}

// plannedSide loads a synthesized stack with the plan's intent, and returns its JSON too.
func plannedSide(plan stacks.Input, stackFile string) (verify.Side, []byte, error) {
	data, err := os.ReadFile(stackFile)
	if err != nil {
		return verify.Side{}, nil, err
	}
	n, err := verify.Load(data)
	if err != nil {
		return verify.Side{}, nil, err
	}
	intent, err := verify.IntentOfFlows(plan.Config, plan.Policy.Flows)
	if err != nil {
		return verify.Side{}, nil, err
	}
	return verify.Side{Network: n, Intent: intent}, data, nil
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

// sessionCmd runs plan, deploy or destroy: synthesize, open the target's session, init, then
// body; the step timings close the output whatever happened.
func sessionCmd(name string, args []string, stdout, stderr io.Writer, extra func(*flag.FlagSet),
	body func(ctx context.Context, s *deploy.Session, plan stacks.Input) error) int {
	s, plan, code := openSession(name, args, stdout, stderr, extra)
	if s == nil {
		return code
	}
	ctx, stop := interruptible()
	defer stop()
	err := s.Init(ctx)
	if err == nil {
		err = body(ctx, s, plan)
	}
	printSteps(stdout, s)
	if err != nil {
		return report(stderr, err)
	}
	return exitOK
}

// notVerified is a verification that failed; its report is already printed (exit 1).
type notVerified struct{ what string }

func (e notVerified) Error() string { return e.what + " does not verify: see the report above" }

func planCmd(args []string, stdout, stderr io.Writer) int {
	var o reviewOptions
	return sessionCmd("plan", args, stdout, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&o.markdown, "markdown", "", "also write a review of the plan for a pull request to `file`")
		fs.StringVar(&o.base, "base", "", "with --markdown: the synthesized stack of what is deployed (cdk.tf.json or its cdktf.out `dir`, with webtier.config.json beside it): the review says what the change and its apply open, close and interrupt")
		fs.StringVar(&o.planJSON, "plan-json", "", "with --markdown: also write the plan as JSON (terraform show -json) to `file`, for `webtier diff --plan`")
	}, func(ctx context.Context, s *deploy.Session, plan stacks.Input) error {
		markdown := o.markdown
		if markdown == "" && (o.base != "" || o.planJSON != "") {
			return usageError{errors.New("plan: --base and --plan-json go with --markdown")}
		}
		changes, err := s.Plan(ctx, false)
		if err != nil {
			return err
		}
		if !changes {
			fmt.Fprintln(stdout, "webtier: no changes: the target matches the stack")
		}
		if markdown == "" {
			return nil
		}
		ok, err := writeReview(ctx, s, plan, o)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "webtier: wrote the plan review to %s\n", markdown)
		if !ok {
			return notVerified{"the planned network (see the review)"}
		}
		return nil
	})
}

// deployCmd proves the synthesized stack first, applies it, prints the outputs and verifies
// what was deployed, read back from the target's APIs.
func deployCmd(args []string, stdout, stderr io.Writer) int {
	return sessionCmd("deploy", args, stdout, stderr, nil, func(ctx context.Context, s *deploy.Session, plan stacks.Input) error {
		if err := s.Step("verify", func() error { return verifyBeforeDeploy(plan, s.StackFile(), stdout) }); err != nil {
			return err
		}
		if _, err := s.Plan(ctx, false); err != nil {
			return err
		}
		if err := s.Apply(ctx); err != nil {
			return err
		}
		outputs, err := s.Outputs(ctx)
		if err != nil {
			return err
		}
		printOutputs(stdout, outputs)
		if err := s.Step("live verify", func() error { return liveVerify(ctx, s, plan, stdout) }); err != nil {
			return err
		}
		if s.Emulator == nil {
			return nil
		}
		return s.Step("twin", func() error {
			_, err := twinAfterDeploy(ctx, s, plan, siteAddr, stdout)
			return err
		})
	})
}

// siteAddr is where a local deploy serves the site, through the twin.
const siteAddr = "127.0.0.1:8080"

// twinAfterDeploy runs the deployed stack (read back from the emulator) as the twin, with the
// site on site (siteAddr for `webtier deploy`), and returns its plan. Where the twin cannot run, it says why, returns no
// plan, and the deploy goes on.
func twinAfterDeploy(ctx context.Context, s *deploy.Session, plan stacks.Input, site string, stdout io.Writer) (*compiler.Plan, error) {
	if why := twin.CanRun(); why != "" {
		fmt.Fprintf(stdout, "webtier: no twin of the deployment: %s\n", why)
		return nil, nil
	}
	intent, err := verify.IntentOfFlows(plan.Config, plan.Policy.Flows)
	if err != nil {
		return nil, err
	}
	res, err := live.Read(ctx, live.Target{Kind: deploy.Local, Dir: s.Dir(), Region: plan.Config.Region}, plan.Config, nil)
	if err != nil {
		return nil, err
	}
	n, err := res.Model()
	if err != nil {
		return nil, err
	}
	tw, err := compiler.Compile(n, intent, twinPrefix())
	if err != nil {
		return nil, err
	}
	tw.Live = true
	stack, err := res.JSON()
	if err != nil {
		return nil, err
	}
	return tw, startTwin(ctx, tw, stack, plan.Config, "the deployed stack ("+res.Where+")", site, stdout)
}

func destroyCmd(args []string, stdout, stderr io.Writer) int {
	return sessionCmd("destroy", args, stdout, stderr, nil, func(ctx context.Context, s *deploy.Session, _ stacks.Input) error {
		if s.Emulator != nil && twin.CanRun() == "" {
			if removed, err := twin.Down(ctx, twinPrefix()); err != nil {
				return err
			} else if len(removed) > 0 {
				fmt.Fprintf(stdout, "webtier: the twin of the deployment is down (%d namespaces removed)\n", len(removed))
			}
		}
		if err := s.Destroy(ctx); err != nil {
			return err
		}
		return s.StopEmulator()
	})
}

// verifyBeforeDeploy refuses a stack that does not prove the requirements: nothing is created.
func verifyBeforeDeploy(plan stacks.Input, stackFile string, stdout io.Writer) error {
	r, err := verifyStack(plan, stackFile)
	if err != nil {
		return err
	}
	if !r.OK() {
		r.WriteTable(stdout, stackFile)
		return notVerified{"the synthesized stack"}
	}
	fmt.Fprintf(stdout, "webtier: %s proves the seven requirements (%d probes, %d unexplained connections)\n",
		stackFile, len(r.Probes), len(r.Unexplained))
	return nil
}

// liveVerify reads the deployed network back from the target's APIs and verifies it; on AWS it
// first waits for the load balancer's first health checks.
func liveVerify(ctx context.Context, s *deploy.Session, plan stacks.Input, stdout io.Writer) error {
	intent, err := verify.IntentOfFlows(plan.Config, plan.Policy.Flows)
	if err != nil {
		return err
	}
	target := live.Target{Kind: deploy.AWS, Dir: s.Dir(), Region: plan.Config.Region}
	if s.Emulator != nil {
		target.Kind = deploy.Local
	}
	if !target.Local() {
		if err := live.Settle(ctx, target, settleTimeout, stdout); err != nil {
			return err
		}
	}
	ok, err := verifyLive(ctx, stdout, target, plan.Config, intent, false)
	if err != nil {
		return err
	}
	if !ok {
		return notVerified{"the deployed stack"}
	}
	return nil
}
