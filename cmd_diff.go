package main

import (
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
	"github.com/webtier/webtier/stacks"
	"github.com/webtier/webtier/verify"
)

// diffCmd is the diff command:
//
//	webtier diff --base OLD --head NEW [--plan plan.json] [--json]
//
// OLD and NEW are synthesized stacks (a cdk.tf.json, or a cdktf.out directory), each with the
// webtier.config.json synth writes beside it. It prints every connection class the change
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
	planFile := fs.String("plan", "", "terraform show -json of the plan from --base to --head: judge the states its apply passes through")
	asJSON := fs.Bool("json", false, "write the change as JSON (keys opened, closed, interrupted, ...)")
	if err := fs.Parse(args); err != nil {
		return exitBadArgs
	}
	switch {
	case fs.NArg() > 0:
		return badInput(stderr, fmt.Errorf("diff: unexpected argument %q", fs.Arg(0)))
	case *base == "" || *head == "":
		return badInput(stderr, errors.New("diff: --base and --head are required: the synthesized stacks before and after the change"))
	}
	b, err := readSide(*base)
	if err != nil {
		return badInput(stderr, fmt.Errorf("diff: --base: %w", err))
	}
	h, err := readSide(*head)
	if err != nil {
		return badInput(stderr, fmt.Errorf("diff: --head: %w", err))
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

// stackSide is a synthesized stack read for a diff: its file, its bytes and its side.
type stackSide struct {
	file string
	data []byte
	side verify.Side
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
	return stackSide{file: file, data: data, side: verify.Side{Network: n, Intent: in}}, nil
}
