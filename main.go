// Command webtier synthesizes, proves and ships a two-AZ AWS web tier.
//
//	webtier [synth] [--config FILE] [--out DIR] [--SETTING VALUE ...]
//
// With no command it synthesizes, so cdktf.json's "app": "go run ." works with the cdktf CLI.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/aws/jsii-runtime-go"
	"github.com/hashicorp/terraform-cdk-go/cdktf"

	"github.com/webtier/webtier/config"
	"github.com/webtier/webtier/stacks"
	"github.com/webtier/webtier/twin"
)

// Exit codes.
const (
	exitOK      = 0
	exitFailed  = 1
	exitBadArgs = 2
)

func main() {
	if os.Getenv(twin.ServeEnv) != "" {
		// Started by `twin up` inside a host's namespace: a stand-in listener.
		os.Exit(twin.ServeMain(os.Args[1:], os.Stderr))
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	cmd := "synth"
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "synth":
		return synth(args, stdout, stderr)
	case "plan":
		return planCmd(args, stdout, stderr)
	case "deploy":
		return deployCmd(args, stdout, stderr)
	case "destroy":
		return destroyCmd(args, stdout, stderr)
	case "verify":
		return verifyCmd(args, stdout, stderr)
	case "diff":
		return diffCmd(args, stdout, stderr)
	case "repo-ranges":
		return repoRangesCmd(args, stdout, stderr)
	case "twin":
		return twinCmd(args, stdout, stderr)
	case "drill":
		return drillCmd(args, stdout, stderr)
	default:
		fmt.Fprintf(stderr, "webtier: unknown command %q (expected synth, verify, diff, plan, deploy, destroy, repo-ranges, twin or drill)\n", cmd)
		return exitBadArgs
	}
}

// usageError is bad input: the exit status is 2.
type usageError struct{ error }

// report prints err and returns the exit status it deserves.
func report(stderr io.Writer, err error) int {
	var cfgErrs config.Errors
	switch {
	case errors.As(err, &cfgErrs):
		for _, e := range cfgErrs {
			fmt.Fprintf(stderr, "webtier: %s\n", e)
		}
		return exitBadArgs
	case errors.As(err, new(usageError)):
		fmt.Fprintf(stderr, "webtier: %s\n", err)
		return exitBadArgs
	default:
		fmt.Fprintf(stderr, "webtier: %s\n", err)
		return exitFailed
	}
}

// loadPlan parses the config flags of a command and derives the plan.
func loadPlan(fs *flag.FlagSet, args []string) (stacks.Input, error) {
	return loadPlanWith(fs, args, nil)
}

// loadPlanWith is loadPlan where adjust, when not nil, may replace settings once the command
// line is parsed.
func loadPlanWith(fs *flag.FlagSet, args []string, adjust func(*config.Sources) error) (stacks.Input, error) {
	src := config.AddFlags(fs)
	if err := fs.Parse(args); err != nil {
		return stacks.Input{}, usageError{err}
	}
	if fs.NArg() > 0 {
		return stacks.Input{}, usageError{fmt.Errorf("%s: unexpected argument %q", fs.Name(), fs.Arg(0))}
	}
	if adjust != nil {
		if err := adjust(src); err != nil {
			return stacks.Input{}, err
		}
	}
	cfg, err := src.Build(os.Getenv)
	if err != nil {
		return stacks.Input{}, err
	}
	plan, err := stacks.NewInput(cfg)
	if err != nil {
		return stacks.Input{}, usageError{err}
	}
	return plan, nil
}

func synth(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("synth", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", outdirDefault(), "directory to write the Terraform JSON to")
	plan, err := loadPlan(fs, args)
	if err != nil {
		return report(stderr, err)
	}
	if err := Synth(plan, *out); err != nil {
		return report(stderr, err)
	}
	fmt.Fprintf(stdout, "webtier: wrote %s\n", filepath.Join(*out, "stacks", stacks.Name, "cdk.tf.json"))
	return exitOK
}

// StackConfigFile is the config synth writes beside the stack it made.
const StackConfigFile = "webtier.config.json"

// outdirDefault is where the cdktf CLI asks for output, else cdktf.out.
func outdirDefault() string {
	if d := os.Getenv("CDKTF_OUTDIR"); d != "" {
		return d
	}
	return "cdktf.out"
}

// Synth writes the stack under outdir, with the config it was made from beside it
// (StackConfigFile), so that commands judging the stack (`twin up`) use that config when none
// is named, whichever command synthesized it (synth, plan, deploy). It synthesizes into a
// fresh sibling directory and swaps it in at the end, so a failure leaves the previous output
// (or none) untouched.
func Synth(plan stacks.Input, outdir string) error {
	parent := filepath.Dir(filepath.Clean(outdir))
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(outdir)+".tmp-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	app := cdktf.NewApp(&cdktf.AppConfig{Outdir: jsii.String(tmp), SkipValidation: jsii.Bool(false)})
	stacks.NewWebTier(app, plan)
	app.Synth()
	cfg, err := json.MarshalIndent(plan.Config, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(tmp, "stacks", stacks.Name, StackConfigFile), append(cfg, '\n'), 0o644); err != nil {
		return err
	}
	if err := os.RemoveAll(outdir); err != nil {
		return err
	}
	return os.Rename(tmp, outdir)
}
