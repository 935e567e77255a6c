package verify

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/webtier/webtier/config"
)

// DefaultInput is where `make synth` writes the stack.
const DefaultInput = "cdktf.out/stacks/webtier/cdk.tf.json"

// Exit statuses of Main.
const (
	ExitOK     = 0
	ExitFailed = 1
	ExitBad    = 2
)

// Main is the verify command:
//
//	webtier verify [--in FILE] [--json] [--config FILE] [--SETTING VALUE ...]
//
// It loads the synthesized stack, reads the intent from the config and the flow table,
// and prints every probe, shape check and finding. It returns ExitOK when every probe meets
// its expectation and nothing gets through unexplained, ExitFailed when not, and ExitBad on
// bad input: an unreadable file, an unresolvable reference, a bad config.
func Main(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	in := fs.String("in", DefaultInput, "synthesized Terraform JSON `file` to verify")
	asJSON := fs.Bool("json", false, "write the report as JSON")
	src := config.AddFlags(fs)
	if err := fs.Parse(args); err != nil {
		return ExitBad
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "webtier: verify: unexpected argument %q\n", fs.Arg(0))
		return ExitBad
	}
	cfg, err := src.Build(os.Getenv)
	if err != nil {
		return bad(stderr, err)
	}
	intent, err := IntentOf(cfg)
	if err != nil {
		return bad(stderr, err)
	}
	data, err := os.ReadFile(*in)
	if err != nil {
		return bad(stderr, fmt.Errorf("verify: %w (run `make synth` first, or name the file with --in)", err))
	}
	n, err := Load(data)
	if err != nil {
		fmt.Fprintf(stderr, "webtier: %s cannot be verified:\n", *in)
		return bad(stderr, err)
	}
	r := Verify(n, intent)
	if *asJSON {
		err = r.WriteJSON(stdout)
	} else {
		err = r.WriteTable(stdout, *in)
	}
	if err != nil {
		return bad(stderr, err)
	}
	if !r.OK() {
		return ExitFailed
	}
	return ExitOK
}

// bad prints an input error, one line per problem, and returns ExitBad.
func bad(stderr io.Writer, err error) int {
	var cfgErrs config.Errors
	var loadErr *LoadError
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
	return ExitBad
}
