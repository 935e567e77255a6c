package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/webtier/webtier/twin/compiler"

	"github.com/webtier/webtier/awsdrill"
	"github.com/webtier/webtier/check"
	"github.com/webtier/webtier/config"
	"github.com/webtier/webtier/deploy"
	"github.com/webtier/webtier/drill"
	"github.com/webtier/webtier/live"
	"github.com/webtier/webtier/twin"
)

// drillCmd is the drill command: the seed's own tests as a user would run them.
//
//	webtier drill [--target local] [--json]
//	webtier drill --target aws --ssh-key FILE [--config FILE] [--SETTING VALUE ...] [--json]
//	webtier drill --target aws --emulator [--dir DIR] [--config FILE] [--json]
//
// On the local target it runs them on the running twin (`webtier twin up`). On the aws target
// it runs them on the deployed stack (package awsdrill): the AWS APIs of the configured region
// with the standard credential chain, SSH through the bastions with the user's key, HTTP to
// the load balancer. With --emulator the aws target's tests run against the local emulator
// of `make deploy` (recorded in --dir, default .webtier/local): every API call runs, nothing
// is dialed, and what moto cannot show is an EMULATOR LIMITATION row, which is not a pass. It
// prints one row per test (requirement, test, expected, observed, result, evidence) and exits
// 0 when every test passed, 1 when not, 2 on bad input, no twin or no deployment.
func drillCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("drill", flag.ContinueOnError)
	fs.SetOutput(stderr)
	target := fs.String("target", "local", "local: the twin on this machine; aws: the deployed stack")
	asJSON := fs.Bool("json", false, "write the rows as JSON")
	sshKey := fs.String("ssh-key", "", "with --target aws: the private key `file` of the instances' key pair (ssh_key_name); required unless --emulator")
	emu := fs.Bool("emulator", false, "with --target aws: drill the local emulator that make deploy started instead of an account (nothing is dialed)")
	dir := fs.String("dir", "", "with --emulator: the deploy directory that records the emulator (default .webtier/local)")
	src := config.AddFlags(fs)
	if err := fs.Parse(args); err != nil {
		return exitBadArgs
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "webtier: drill: unexpected argument %q\n", fs.Arg(0))
		return exitBadArgs
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if err := drillArgs(*target, set); err != nil {
		fmt.Fprintf(stderr, "webtier: drill: %v\n", err)
		return exitBadArgs
	}
	if *target == string(deploy.AWS) {
		return drillAWS(awsDrillArgs{sshKey: *sshKey, emulator: *emu, dir: *dir, asJSON: *asJSON}, src, stdout, stderr)
	}
	if why := twin.CanRun(); why != "" {
		fmt.Fprintf(stderr, "webtier: drill: %s\n", why)
		return exitBadArgs
	}
	plan, _, _, err := twin.Running(twinPrefix())
	if err != nil {
		fmt.Fprintf(stderr, "webtier: drill: %v\n", err)
		return exitBadArgs
	}
	start := time.Now()
	rows, err := twin.Drill(context.Background(), plan)
	if err != nil {
		fmt.Fprintf(stderr, "webtier: drill: %v\n", err)
		return exitFailed
	}
	return writeDrill(stdout, compiler.Where, rows, time.Since(start), *asJSON)
}

// writeDrill writes the rows as a table (or JSON) and returns the exit status: exitOK only
// when every row passed.
func writeDrill(stdout io.Writer, where string, rows []check.Result, took time.Duration, asJSON bool) int {
	ok := check.AllPassed(rows)
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.Encode(struct {
			Where string         `json:"where"`
			OK    bool           `json:"ok"`
			Rows  []check.Result `json:"rows"`
		}{where, ok, rows})
	} else {
		ok = drill.Write(stdout, where, rows, took)
	}
	if !ok {
		return exitFailed
	}
	return exitOK
}

// drillArgs checks the flags against the target: the aws target's flags are refused on the
// local one (which reads neither a config nor a key), --dir goes with --emulator.
func drillArgs(target string, set map[string]bool) error {
	switch target {
	case string(deploy.Local):
		for _, name := range []string{"ssh-key", "emulator", "dir"} {
			if set[name] {
				return fmt.Errorf("--%s goes with --target aws", name)
			}
		}
		for name := range set {
			if name != "target" && name != "json" {
				return fmt.Errorf("--%s goes with --target aws: the local target drills the running twin, whose stack `twin up` read", name)
			}
		}
	case string(deploy.AWS):
		if set["dir"] && !set["emulator"] {
			return errors.New("--dir goes with --emulator: a real account is found by its credentials and region")
		}
	default:
		return fmt.Errorf("--target %s: expected local (the twin) or aws (the deployed stack)", target)
	}
	return nil
}

// awsDrillArgs are the aws target's flags.
type awsDrillArgs struct {
	sshKey, dir      string
	emulator, asJSON bool
}

// drillAWS runs the aws target's drill: on the account of the credential chain, or with
// --emulator on the local emulator, whose traffic tests are limitations.
func drillAWS(a awsDrillArgs, src *config.Sources, stdout, stderr io.Writer) int {
	if !a.emulator || a.sshKey != "" {
		if err := awsdrill.CheckKey(a.sshKey); err != nil {
			fmt.Fprintf(stderr, "webtier: drill: %v\n", err)
			return exitBadArgs
		}
	}
	cfg, err := src.Build(os.Getenv)
	if err != nil {
		return badInput(stderr, err)
	}
	ctx := context.Background()
	t := live.Target{Kind: deploy.AWS, Region: cfg.Region}
	where := "AWS " + cfg.Region
	if a.emulator {
		t.Kind, t.Dir = deploy.Local, a.dir
	}
	awsCfg, err := live.Connect(ctx, t)
	if err != nil {
		return badInput(stderr, fmt.Errorf("drill: %w", err))
	}
	if t.Local() {
		where = "the emulator (moto at " + *awsCfg.BaseEndpoint + "; nothing dialed, effects on traffic not shown)"
	}
	opts := awsdrill.Options{AWS: awsCfg, Config: cfg, Emulator: t.Local(), Progress: stderr}
	if !t.Local() {
		tmp, err := os.MkdirTemp("", "webtier-drill-")
		if err != nil {
			return badInput(stderr, err)
		}
		defer os.RemoveAll(tmp)
		opts.Shell = awsdrill.SSH(a.sshKey, tmp)
	}
	start := time.Now()
	rows, err := awsdrill.Drill(ctx, opts)
	if err != nil {
		return badInput(stderr, fmt.Errorf("drill: %w", err))
	}
	return writeDrill(stdout, where, rows, time.Since(start), a.asJSON)
}
