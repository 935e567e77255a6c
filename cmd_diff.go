package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/webtier/webtier/config"
	"github.com/webtier/webtier/stacks"
	"github.com/webtier/webtier/verify"
)

// diffCmd is the diff command:
//
//	webtier diff --base OLD --head NEW [--json]
//
// OLD and NEW are synthesized stacks (a cdk.tf.json, or a cdktf.out directory), each with the
// webtier.config.json synth writes beside it. It prints every connection class the change
// opens, closes and reroutes; exitFailed when it opens something no flow explains or closes a
// connection a flow of NEW needs; exitBadArgs on bad input.
func diffCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("diff", flag.ContinueOnError)
	fs.SetOutput(stderr)
	base := fs.String("base", "", "the stack before the change: a synthesized cdk.tf.json (or its cdktf.out `dir`), with webtier.config.json beside it")
	head := fs.String("head", "", "the stack after the change, likewise")
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
	c := verify.Diff(b.side, h.side)
	if *asJSON {
		err = c.WriteJSON(stdout)
	} else {
		err = c.WriteText(stdout, b.file, h.file)
	}
	if err != nil {
		return badInput(stderr, err)
	}
	if c.Failed() {
		return exitFailed
	}
	return exitOK
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
