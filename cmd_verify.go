package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/webtier/webtier/config"
	"github.com/webtier/webtier/deploy"
	"github.com/webtier/webtier/live"
	"github.com/webtier/webtier/verify"
)

// defaultVerifyInput is where `make synth` writes the stack.
const defaultVerifyInput = "cdktf.out/stacks/webtier/cdk.tf.json"

// verifyCmd is the verify command:
//
//	webtier verify [--in FILE] [--json] [--config FILE] [--SETTING VALUE ...]
//	webtier verify --live [--target local|aws] [--dir DIR] [--json] [--config FILE] ...
//
// It loads the synthesized stack (with --live: the deployed network, read from the target's
// APIs by package live), reads the intent from the config and the flow table, and prints
// every probe, shape check and finding (with --live, then the checks of what was deployed).
// It returns exitOK when every probe meets its expectation and nothing gets through
// unexplained, exitFailed when not, and exitBadArgs on bad input: an unreadable file, an
// unresolvable reference, a bad config, no deployment to read.
func verifyCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	stack := addStackSource(fs, "verify", "the deployed network")
	in, useLive, target, dir := stack.in, stack.live, stack.target, stack.dir
	asJSON := fs.Bool("json", false, "write the report as JSON")
	src := config.AddFlags(fs)
	if err := fs.Parse(args); err != nil {
		return exitBadArgs
	}
	if err := stack.check(fs); err != nil {
		fmt.Fprintf(stderr, "webtier: verify: %v\n", err)
		return exitBadArgs
	}
	cfg, err := src.Build(os.Getenv)
	if err != nil {
		return badInput(stderr, err)
	}
	intent, err := verify.IntentOf(cfg)
	if err != nil {
		return badInput(stderr, err)
	}
	if *useLive {
		kind, err := deploy.ParseTarget(*target)
		if err != nil {
			return badInput(stderr, fmt.Errorf("verify: %w", err))
		}
		ok, err := verifyLive(context.Background(), stdout, live.Target{Kind: kind, Dir: *dir, Region: cfg.Region}, cfg, intent, *asJSON)
		switch {
		case err != nil:
			return badInput(stderr, err)
		case !ok:
			return exitFailed
		}
		return exitOK
	}
	data, err := os.ReadFile(*in)
	if err != nil {
		return badInput(stderr, fmt.Errorf("verify: %w (run `make synth` first, or name the file with --in)", err))
	}
	n, err := verify.Load(data)
	if err != nil {
		fmt.Fprintf(stderr, "webtier: %s cannot be verified:\n", *in)
		return badInput(stderr, err)
	}
	r := verify.Verify(n, intent)
	if *asJSON {
		err = r.WriteJSON(stdout)
	} else {
		err = r.WriteTable(stdout, *in)
	}
	if err != nil {
		return badInput(stderr, err)
	}
	if !r.OK() {
		return exitFailed
	}
	return exitOK
}

// stackSource is where a command reads a stack from: the synthesized JSON (--in) or, with
// --live, the deployment read back from the target's APIs (--target, --dir).
type stackSource struct {
	in, target, dir *string
	live            *bool
}

// addStackSource registers --in, --live, --target and --dir on fs for a command that reads
// what (the deployed network, the deployed stack).
func addStackSource(fs *flag.FlagSet, command, what string) stackSource {
	return stackSource{
		in:     fs.String("in", defaultVerifyInput, "synthesized Terraform JSON `file` ("+command+")"),
		live:   fs.Bool("live", false, "read "+what+" from the target's APIs instead of the synthesized JSON"),
		target: fs.String("target", string(deploy.Local), "with --live: local (the moto emulator of `make deploy`) or aws"),
		dir:    fs.String("dir", "", "with --live: the deploy directory (default .webtier/<target>)"),
	}
}

// check refuses, once fs has parsed, stray arguments and flags that exclude each other.
func (s stackSource) check(fs *flag.FlagSet) error {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	switch {
	case fs.NArg() > 0:
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	case *s.live && set["in"]:
		return errors.New("--in and --live exclude each other: --in names a synthesized file, --live reads the deployed stack")
	case !*s.live && (set["target"] || set["dir"]):
		return errors.New("--target and --dir go with --live")
	}
	return nil
}

// verifyLive verifies the deployed network of target: it reads it back (package live), loads the
// document into the same model as a synthesized stack, runs the same probes, and writes the
// report followed by the shape checks of what was deployed (or all of it as one JSON object,
// the report's fields plus "live"). ok is false when a probe, a verifier shape check or a
// live shape check failed, or something got through unexplained. An error means nothing
// could be verified: no deployment, an API failure, a document the verifier cannot load.
func verifyLive(ctx context.Context, w io.Writer, target live.Target, cfg config.Config, intent verify.Intent, asJSON bool) (ok bool, err error) {
	res, err := live.Read(ctx, target, cfg, nil)
	if err != nil {
		return false, err
	}
	n, err := res.Model()
	if err != nil {
		return false, fmt.Errorf("the deployed stack (%s) cannot be verified:\n%w", res.Where, err)
	}
	r := verify.Verify(n, intent)
	ok = r.OK() && res.Failed() == 0
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return ok, enc.Encode(struct {
			OK bool `json:"ok"`
			*verify.Report
			Live *live.Result `json:"live"`
		}{ok, r, res})
	}
	if err := r.WriteTable(w, "the deployed stack ("+res.Where+")"); err != nil {
		return false, err
	}
	return ok, res.WriteTable(w)
}

// badInput prints an input error, one line per problem, and returns exitBadArgs.
func badInput(stderr io.Writer, err error) int {
	var cfgErrs config.Errors
	var loadErr *verify.LoadError
	switch {
	case errors.As(err, &cfgErrs):
		for _, e := range cfgErrs {
			fmt.Fprintf(stderr, "webtier: %s\n", e)
		}
	case errors.As(err, &loadErr):
		for _, line := range strings.Split(loadErr.Error(), "\n") {
			fmt.Fprintf(stderr, "webtier: %s\n", line)
		}
	default:
		fmt.Fprintf(stderr, "webtier: %s\n", err)
	}
	return exitBadArgs
}
