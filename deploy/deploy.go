// Package deploy drives terraform through terraform-exec over a synthesized stack: init with
// the project's CLI config, validate, plan to a file, apply that plan, destroy. The local
// target points every AWS service at a moto emulator on loopback; the aws target uses the
// standard credential chain. Nothing else differs between them. Plain Go.
package deploy

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/terraform-exec/tfexec"
	tfjson "github.com/hashicorp/terraform-json"

	"github.com/webtier/webtier/emulator"
	"github.com/webtier/webtier/tfcli"
)

// Target is where the stack goes.
type Target string

// Targets.
const (
	Local Target = "local"
	AWS   Target = "aws"
)

// ParseTarget checks a --target value.
func ParseTarget(s string) (Target, error) {
	switch t := Target(s); t {
	case Local, AWS:
		return t, nil
	}
	return "", fmt.Errorf("--target: %q is not one of local, aws", s)
}

// Options says what to deploy where.
type Options struct {
	// Target is local (moto on loopback) or aws. default: local
	Target Target
	// Repo is the project root, holding terraform/*.tfrc. default: "."
	Repo string
	// Dir keeps the working copy, the state, the plan and (local) the emulator.
	// default: .webtier/<target>
	Dir string
	// Stack is the synthesized cdk.tf.json. default: none (required)
	Stack string
	// Region is the stack's region, for the emulator's endpoints. default: none (required)
	Region string
	// S3Ranges are Region's S3 ranges (repo_cidrs), which the local emulator's S3 prefix list
	// holds, as AWS's does. default: none (moto's own, three ranges of no particular region)
	S3Ranges []string
	// Backend holds S3 backend settings (bucket, key, region, ...) for the aws target; empty
	// keeps the local state file in Dir. default: none
	Backend map[string]string
	// Log receives terraform's progress and the step timings. default: os.Stdout
	Log io.Writer
	// EmulatorEndsWithMe makes the local target's emulator stop when this process ends, however
	// it ends (tests). default: false, the emulator outlives the command for a later destroy
	EmulatorEndsWithMe bool
	// StepLimits bound terraform's steps by name ("terraform apply", ...): a step that takes
	// longer is stopped and fails, with terraform's last lines and the emulator's trace.
	// default: DefaultStepLimits(Target)
	StepLimits map[string]time.Duration
	// DebugLog is a file that receives terraform's and the provider's debug log (TF_LOG=DEBUG:
	// every API request, the SDK's retries and why). default: none
	DebugLog string
}

// DefaultStepLimits are the time bounds of terraform's steps, well above their normal time:
// on the emulator a plan takes seconds and an apply about two minutes (the provider's waiters
// hold the ALB and the database); on AWS a Multi-AZ database alone takes 20-40 minutes to
// create or delete.
func DefaultStepLimits(t Target) map[string]time.Duration {
	if t == AWS {
		return map[string]time.Duration{"terraform init": 15 * time.Minute, "terraform validate": 5 * time.Minute,
			"terraform plan": 30 * time.Minute, "terraform show": 5 * time.Minute, "terraform apply": 150 * time.Minute}
	}
	return map[string]time.Duration{"terraform init": 10 * time.Minute, "terraform validate": 2 * time.Minute,
		"terraform plan": 5 * time.Minute, "terraform show": 2 * time.Minute, "terraform apply": 12 * time.Minute}
}

// Files in Dir.
const (
	StackFile    = "cdk.tf.json"
	overrideFile = "webtier_override.tf.json"
	planFile     = "tfplan"
	// StateFile is the local backend's state, as the stack names it.
	StateFile = "terraform.webtier.tfstate"
)

// Session is one working directory with terraform ready to run in it.
type Session struct {
	opts Options
	tf   *tfexec.Terraform
	// out keeps terraform's last lines for a step that fails.
	out *lastLines
	// Emulator is the moto server of the local target, else nil.
	Emulator *emulator.Emulator
	// Steps are the timed steps run so far, in order.
	Steps []Step
	// planText is what the last Plan printed.
	planText strings.Builder
}

// Step is one timed part of a command.
type Step struct {
	Name     string
	Duration time.Duration
}

// Open prepares Dir (the stack, the provider settings, the emulator for local) and terraform.
func Open(opts Options) (*Session, error) {
	if opts.Target == "" {
		opts.Target = Local
	}
	if opts.Repo == "" {
		opts.Repo = "."
	}
	if opts.Dir == "" {
		opts.Dir = filepath.Join(opts.Repo, ".webtier", string(opts.Target))
	}
	if opts.Log == nil {
		opts.Log = os.Stdout
	}
	if opts.StepLimits == nil {
		opts.StepLimits = DefaultStepLimits(opts.Target)
	}
	s := &Session{opts: opts, out: &lastLines{w: opts.Log, keep: 40}}
	exe, err := exec.LookPath("terraform")
	if err != nil {
		return nil, errors.New("terraform is not on the PATH: install Terraform 1.5 or later (webtier is tested with 1.11)")
	}
	env, err := tfcli.Env(opts.Repo)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(tfcli.MirrorDir); err != nil {
		fmt.Fprintf(opts.Log, "webtier: no provider mirror at %s: terraform will download the AWS provider from its registry\n", tfcli.MirrorDir)
	}
	if err := os.MkdirAll(opts.Dir, 0o755); err != nil {
		return nil, err
	}
	if err := s.Step("emulator", s.startEmulator); err != nil {
		return nil, err
	}
	if err := s.UseStack(opts.Stack); err != nil {
		return nil, err
	}
	override, err := json.MarshalIndent(s.overrides(), "", "  ")
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(opts.Dir, overrideFile), override, 0o644); err != nil {
		return nil, err
	}
	s.tf, err = tfexec.NewTerraform(opts.Dir, exe)
	if err != nil {
		return nil, err
	}
	vars := map[string]string{}
	for _, kv := range append(os.Environ(), env...) {
		if k, v, ok := strings.Cut(kv, "="); ok {
			vars[k] = v
		}
	}
	delete(vars, "TF_LOG") // terraform-exec refuses to run with TF_LOG in the environment
	if err := s.tf.SetEnv(vars); err != nil {
		return nil, err
	}
	s.tf.SetStdout(s.out)
	s.tf.SetStderr(s.out)
	if opts.DebugLog != "" {
		if err := s.tf.SetLog("DEBUG"); err != nil {
			return nil, err
		}
		if err := s.tf.SetLogPath(opts.DebugLog); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func (s *Session) startEmulator() error {
	if s.opts.Target != Local {
		return nil
	}
	var ranges map[string][]string
	if len(s.opts.S3Ranges) > 0 {
		ranges = map[string][]string{s.opts.Region: s.opts.S3Ranges}
	}
	emu, started, err := emulator.Ensure(s.opts.Dir, emulator.Options{S3Ranges: ranges, EndWithOwner: s.opts.EmulatorEndsWithMe})
	if err != nil {
		return err
	}
	s.Emulator = emu
	verb := "reusing"
	if started {
		verb = "started"
	}
	fmt.Fprintf(s.opts.Log, "webtier: %s moto on %s (state in %s)\n", verb, emu.Endpoint(), s.opts.Dir)
	return nil
}

// Services are every AWS API the stack and the live verifier use.
var Services = []string{"ec2", "elbv2", "autoscaling", "rds", "efs", "iam", "sts", "ssm",
	"secretsmanager", "cloudwatch", "kms", "logs", "sns", "events", "s3", "wafv2"}

// overrides is the Terraform override file: the provider settings of the target, and the
// S3 backend when one is configured.
func (s *Session) overrides() map[string]any {
	doc := map[string]any{}
	if s.Emulator != nil {
		endpoints := map[string]string{}
		for _, svc := range Services {
			endpoints[svc] = s.Emulator.Endpoint()
		}
		doc["provider"] = map[string]any{"aws": map[string]any{
			"access_key":                  "test",
			"secret_key":                  "test",
			"skip_credentials_validation": true,
			"skip_metadata_api_check":     true,
			"s3_use_path_style":           true,
			"endpoints":                   []any{endpoints},
			// The SDK retries a failed call 25 times by default, minutes of backoff; the
			// emulator on loopback needs few (a 500 fails the step at once anyway).
			"max_retries": emulatorRetries,
		}}
	}
	if len(s.opts.Backend) > 0 {
		doc["terraform"] = map[string]any{"backend": map[string]any{"s3": s.opts.Backend}}
	}
	return doc
}

// Step runs fn, saying what it does and how long it took.
func (s *Session) Step(name string, fn func() error) error {
	fmt.Fprintf(s.opts.Log, "==> %s\n", name)
	start := time.Now()
	err := fn()
	d := time.Since(start)
	s.Steps = append(s.Steps, Step{name, d})
	status := "done"
	if err != nil {
		status = "failed"
	}
	fmt.Fprintf(s.opts.Log, "<== %s %s in %.1fs\n", name, status, d.Seconds())
	return err
}

// emulatorRetries is the provider's max_retries against the emulator.
const emulatorRetries = 3

// terraform runs one terraform step within its limit (Options.StepLimits). Against the
// emulator it also watches moto.log and stops terraform at the first HTTP 500: moto failing
// is never an answer to retry, and a 500 the SDK retried past still fails the step. A stopped
// step fails with why, terraform's last lines and the emulator's trace.
func (s *Session) terraform(ctx context.Context, name string, fn func(ctx context.Context) error) error {
	return s.Step(name, func() error {
		ctx, cancel := context.WithCancelCause(ctx)
		defer cancel(nil)
		if limit, ok := s.opts.StepLimits[name]; ok {
			var stop context.CancelFunc
			ctx, stop = context.WithTimeoutCause(ctx, limit, fmt.Errorf("it did not finish within %s", limit))
			defer stop()
		}
		if s.Emulator == nil {
			if err := fn(ctx); err != nil {
				return s.stoppedOr(ctx, name, err)
			}
			return nil
		}
		from := s.Emulator.LogSize()
		watched := make(chan struct{})
		go s.watchEmulator(ctx, from, cancel, watched)
		err := fn(ctx)
		cancel(nil)
		<-watched
		if failures, _, _ := s.Emulator.FailuresSince(from); len(failures) > 0 {
			return s.stopped(name, failures[0])
		}
		if err != nil {
			return s.stoppedOr(ctx, name, err)
		}
		return nil
	})
}

// watchEmulator cancels ctx with the first HTTP 500 the emulator traces after offset from,
// while ctx lasts.
func (s *Session) watchEmulator(ctx context.Context, from int64, cancel context.CancelCauseFunc, done chan<- struct{}) {
	defer close(done)
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		failures, next, _ := s.Emulator.FailuresSince(from)
		if len(failures) > 0 {
			cancel(failures[0])
			return
		}
		from = next
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// stoppedOr is err, or the report of a step stopped by its time limit.
func (s *Session) stoppedOr(ctx context.Context, name string, err error) error {
	if cause := context.Cause(ctx); ctx.Err() != nil && !errors.Is(cause, context.Canceled) {
		return s.stopped(name, cause)
	}
	return err
}

// stopped is the error of a step stopped for cause: why, terraform's last lines and, against
// the emulator, its trace.
func (s *Session) stopped(name string, cause error) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s stopped: %v\nterraform's last lines:\n%s", name, cause, indent(s.out.String()))
	if s.Emulator != nil {
		fmt.Fprintf(&b, "\nthe emulator's last trace lines (%s):\n%s", s.Emulator.LogFile(), indent(s.Emulator.Trace(20)))
	}
	return errors.New(b.String())
}

func indent(text string) string {
	if text == "" {
		return "    (none)"
	}
	return "    " + strings.ReplaceAll(strings.TrimRight(text, "\n"), "\n", "\n    ")
}

// Init runs terraform init and validate.
func (s *Session) Init(ctx context.Context) error {
	if err := s.terraform(ctx, "terraform init", func(ctx context.Context) error { return s.tf.Init(ctx, tfexec.Upgrade(false)) }); err != nil {
		return err
	}
	return s.terraform(ctx, "terraform validate", func(ctx context.Context) error {
		v, err := s.tf.Validate(ctx)
		if err != nil {
			return err
		}
		if !v.Valid {
			return fmt.Errorf("terraform validate: %d errors: %s", v.ErrorCount, diagnostics(v.Diagnostics))
		}
		return nil
	})
}

func diagnostics(ds []tfjson.Diagnostic) string {
	out := ""
	for _, d := range ds {
		out += "\n  " + d.Summary + ": " + d.Detail
	}
	return out
}

// Plan writes the plan file; changes is false for an empty plan. What terraform prints is
// kept too (PlanText).
func (s *Session) Plan(ctx context.Context, destroy bool) (changes bool, err error) {
	s.planText.Reset()
	s.tf.SetStdout(io.MultiWriter(s.out, &s.planText))
	defer s.tf.SetStdout(s.out)
	err = s.terraform(ctx, "terraform plan", func(ctx context.Context) error {
		changes, err = s.tf.Plan(ctx, tfexec.Out(planFile), tfexec.Destroy(destroy))
		return err
	})
	return changes, err
}

// PlanText is what the last Plan printed: the plan as terraform shows it (no second
// `terraform show`, which takes seconds).
func (s *Session) PlanText() string { return s.planText.String() }

// Show returns the JSON of the plan file written by Plan.
func (s *Session) Show(ctx context.Context) (plan *tfjson.Plan, err error) {
	err = s.terraform(ctx, "terraform show", func(ctx context.Context) error {
		return s.quiet(func() error {
			plan, err = s.tf.ShowPlanFile(ctx, planFile)
			return err
		})
	})
	return plan, err
}

// quiet runs a terraform command whose standard output is data, not progress.
func (s *Session) quiet(fn func() error) error {
	s.tf.SetStdout(io.Discard)
	defer s.tf.SetStdout(s.out)
	return fn()
}

// Apply applies the plan file written by Plan.
func (s *Session) Apply(ctx context.Context) error {
	return s.terraform(ctx, "terraform apply", func(ctx context.Context) error { return s.tf.Apply(ctx, tfexec.DirOrPlan(planFile)) })
}

// Outputs returns the stack's outputs after an apply: strings as they are, anything else as
// compact JSON.
func (s *Session) Outputs(ctx context.Context) (map[string]string, error) {
	var raw map[string]tfexec.OutputMeta
	err := s.quiet(func() (err error) {
		raw, err = s.tf.Output(ctx)
		return err
	})
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for k, v := range raw {
		var str string
		if json.Unmarshal(v.Value, &str) == nil {
			out[k] = str
		} else {
			var b bytes.Buffer
			json.Compact(&b, v.Value)
			out[k] = b.String()
		}
	}
	return out, nil
}

// Destroy plans a destroy and applies it.
func (s *Session) Destroy(ctx context.Context) error {
	if _, err := s.Plan(ctx, true); err != nil {
		return err
	}
	return s.Apply(ctx)
}

// StopEmulator stops the local target's emulator, which forgets everything it held.
func (s *Session) StopEmulator() error {
	if s.Emulator == nil {
		return nil
	}
	return s.Step("stop emulator", s.Emulator.Stop)
}

// UseStack makes the synthesized stack at path the one the next plan works on.
func (s *Session) UseStack(path string) error {
	stack, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("synthesized stack: %w", err)
	}
	return os.WriteFile(s.StackFile(), stack, 0o644)
}

// StackFile is the working copy of the synthesized stack.
func (s *Session) StackFile() string { return filepath.Join(s.opts.Dir, StackFile) }

// Dir is the session's working directory.
func (s *Session) Dir() string { return s.opts.Dir }

// lastLines passes what is written on to w and keeps the last keep lines.
type lastLines struct {
	w     io.Writer
	keep  int
	mu    sync.Mutex
	lines []string
	part  string
}

func (l *lastLines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	text := l.part + string(p)
	lines := strings.Split(text, "\n")
	l.part = lines[len(lines)-1]
	l.lines = append(l.lines, lines[:len(lines)-1]...)
	if len(l.lines) > l.keep {
		l.lines = l.lines[len(l.lines)-l.keep:]
	}
	return l.w.Write(p)
}

func (l *lastLines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(append(append([]string(nil), l.lines...), l.part), "\n")
}
