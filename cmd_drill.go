package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/webtier/webtier/twin"
)

// drillCmd is the drill command: the seed's own tests as a user would run them.
//
//	webtier drill [--target local] [--json]
//
// On the local target it runs them on the running twin (`webtier twin up`). It prints one
// row per test (requirement, test, expected, observed, result, evidence) and exits 0 when
// every test passed, 1 when not, 2 on bad input or no twin.
func drillCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("drill", flag.ContinueOnError)
	fs.SetOutput(stderr)
	target := fs.String("target", "local", "local: the twin on this machine")
	asJSON := fs.Bool("json", false, "write the rows as JSON")
	if err := fs.Parse(args); err != nil {
		return exitBadArgs
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "webtier: drill: unexpected argument %q\n", fs.Arg(0))
		return exitBadArgs
	}
	if *target != "local" {
		fmt.Fprintf(stderr, "webtier: drill: --target %s: only the local target (the twin) is built so far\n", *target)
		return exitBadArgs
	}
	if why := twin.CanRun(); why != "" {
		fmt.Fprintf(stderr, "webtier: drill: %s\n", why)
		return exitBadArgs
	}
	plan, _, _, err := loadTwin(twinPrefix())
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
	ok := true
	if *asJSON {
		for _, r := range rows {
			ok = ok && r.Result == twin.Pass
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.Encode(struct {
			OK   bool            `json:"ok"`
			Rows []twin.DrillRow `json:"rows"`
		}{ok, rows})
	} else {
		ok = twin.WriteDrill(stdout, rows, time.Since(start))
	}
	if !ok {
		return exitFailed
	}
	return exitOK
}
