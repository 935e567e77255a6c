package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/webtier/webtier/change"
	"github.com/webtier/webtier/config"
	"github.com/webtier/webtier/deploy"
	"github.com/webtier/webtier/live"
	"github.com/webtier/webtier/stacks"
	"github.com/webtier/webtier/verify"
)

// diffCmd is the diff command:
//
//	webtier diff --base OLD --head NEW [--plan plan.json] [--json]
//	webtier diff --base-live [--target local|aws] [--dir DIR] --head NEW [--json]
//
// OLD and NEW are synthesized stacks (a cdk.tf.json, or a cdktf.out directory), each with the
// webtier.config.json synth writes beside it; with --base-live the base is the deployed stack,
// read back as `verify --live` reads it and judged with NEW's intent. It prints every connection class the change
// opens, closes and reroutes; with --plan (terraform show -json of the plan from OLD to NEW),
// also what the apply interrupts and opens in between (package change) and what each changed
// resource interrupts. exitFailed when it opens something no flow explains, closes a
// connection a flow of NEW needs, or its apply opens in between what neither side allows;
// exitBadArgs on bad input.
func diffCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("diff", flag.ContinueOnError)
	fs.SetOutput(stderr)
	base := fs.String("base", "", "the stack before the change: a synthesized cdk.tf.json (or its cdktf.out `dir`), with webtier.config.json beside it")
	head := fs.String("head", "", "the stack after the change, likewise")
	baseLive := fs.Bool("base-live", false, "read the base from the deployed stack, as `verify --live` does (its intent: the head's config)")
	target := fs.String("target", string(deploy.Local), "with --base-live: local (the moto emulator of `make deploy`) or aws")
	dir := fs.String("dir", "", "with --base-live: the deploy directory (default .webtier/<target>)")
	planFile := fs.String("plan", "", "terraform show -json of the plan from --base to --head: judge the states its apply passes through")
	asJSON := fs.Bool("json", false, "write the change as JSON (keys opened, closed, interrupted, ...)")
	if err := fs.Parse(args); err != nil {
		return exitBadArgs
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	switch {
	case fs.NArg() > 0:
		return badInput(stderr, fmt.Errorf("diff: unexpected argument %q", fs.Arg(0)))
	case *head == "" || *base == "" && !*baseLive:
		return badInput(stderr, errors.New("diff: --head and --base (or --base-live) are required: the stacks before and after the change"))
	case *baseLive && *base != "":
		return badInput(stderr, errors.New("diff: --base and --base-live exclude each other: --base names a synthesized stack, --base-live reads the deployed one"))
	case *baseLive && *planFile != "":
		return badInput(stderr, errors.New("diff: --plan goes with --base, not --base-live: the plan's states are built from the synthesized stack its addresses name (synthesize the deployed commit)"))
	case !*baseLive && (set["target"] || set["dir"]):
		return badInput(stderr, errors.New("diff: --target and --dir go with --base-live"))
	}
	h, err := readSide(*head)
	if err != nil {
		return badInput(stderr, fmt.Errorf("diff: --head: %w", err))
	}
	var b stackSide
	if *baseLive {
		kind, err := deploy.ParseTarget(*target)
		if err != nil {
			return badInput(stderr, fmt.Errorf("diff: %w", err))
		}
		b, err = liveSide(context.Background(), live.Target{Kind: kind, Dir: *dir, Region: h.cfg.Region}, h)
		if err != nil {
			return badInput(stderr, fmt.Errorf("diff: --base-live: %w", err))
		}
	} else if b, err = readSide(*base); err != nil {
		return badInput(stderr, fmt.Errorf("diff: --base: %w", err))
	}
	c, table, err := judgeChange(b, h, *planFile)
	if table == nil {
		table = []change.Interruption{}
	}
	if err != nil {
		return badInput(stderr, fmt.Errorf("diff: --plan: %w", err))
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		err = enc.Encode(struct {
			*verify.Change
			Interruptions []change.Interruption `json:"interruptions"`
		}{c, table})
	} else if err = c.WriteText(stdout, b.file, h.file); err == nil && *planFile != "" {
		err = writeInterruptions(stdout, table)
	}
	if err != nil {
		return badInput(stderr, err)
	}
	if c.Failed() {
		return exitFailed
	}
	return exitOK
}

// judgeChange diffs two stacks and, given a plan file, judges its apply's states and lists
// what each changed resource interrupts.
func judgeChange(b, h stackSide, planFile string) (*verify.Change, []change.Interruption, error) {
	if planFile == "" {
		return verify.Diff(b.side, h.side), nil, nil
	}
	data, err := os.ReadFile(planFile)
	if err != nil {
		return nil, nil, err
	}
	plan, err := change.Read(data)
	if err != nil {
		return nil, nil, err
	}
	states, notes, err := change.States(plan, b.data, h.data)
	if err != nil {
		return nil, nil, err
	}
	c := verify.Diff(b.side, h.side, states...)
	c.Notes = append(c.Notes, notes...)
	return c, change.Interruptions(plan), nil
}

// writeInterruptions writes the interruption table: what each changed resource does to the
// running service, and the AWS page that says so.
func writeInterruptions(w io.Writer, table []change.Interruption) error {
	if _, err := fmt.Fprintf(w, "\nINTERRUPTIONS BY RESOURCE (%d)\n", len(table)); err != nil {
		return err
	}
	for _, r := range table {
		why := string(r.Action)
		if len(r.ReplacePaths) > 0 {
			why += ", forced by " + strings.Join(r.ReplacePaths, ", ")
		}
		if _, err := fmt.Fprintf(w, "  %s (%s): %s\n    %s\n", r.Resource, why, r.Effect, r.Doc); err != nil {
			return err
		}
	}
	return nil
}

// stackSide is a stack read for a diff: its file, its bytes (a synthesized stack's Terraform
// JSON, which a plan's states are built from; none for the deployed stack) and its side.
type stackSide struct {
	file string
	data []byte
	cfg  config.Config
	side verify.Side
}

// liveSide reads the deployed stack back from the target's APIs (package live, as `verify
// --live` does), judged with the head's intent.
func liveSide(ctx context.Context, target live.Target, head stackSide) (stackSide, error) {
	res, err := live.Read(ctx, target, head.cfg, nil)
	if err != nil {
		return stackSide{}, err
	}
	n, err := res.Model()
	if err != nil {
		return stackSide{}, fmt.Errorf("the deployed stack (%s) cannot be loaded:\n%w", res.Where, err)
	}
	return stackSide{file: "the deployed stack (" + res.Where + ")", cfg: head.cfg,
		side: verify.Side{Network: n, Intent: head.side.Intent}}, nil
}

// readSide reads a synthesized stack and the config synth wrote beside it.
func readSide(path string) (stackSide, error) {
	file := path
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		file = filepath.Join(path, "stacks", stacks.Name, "cdk.tf.json")
		if _, err := os.Stat(file); err != nil {
			file = filepath.Join(path, "cdk.tf.json")
		}
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return stackSide{}, err
	}
	cfgFile := filepath.Join(filepath.Dir(file), StackConfigFile)
	cfg, err := config.Load(cfgFile)
	if err != nil {
		return stackSide{}, fmt.Errorf("%w (synth writes %s beside the stack: the config it was made from)", err, StackConfigFile)
	}
	if err := cfg.Validate(); err != nil {
		return stackSide{}, err
	}
	in, err := verify.IntentOf(cfg)
	if err != nil {
		return stackSide{}, err
	}
	n, err := verify.Load(data)
	if err != nil {
		return stackSide{}, fmt.Errorf("%s cannot be loaded:\n%w", file, err)
	}
	return stackSide{file: file, data: data, cfg: cfg, side: verify.Side{Network: n, Intent: in}}, nil
}
