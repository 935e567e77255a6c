// Package drill holds the seed's own tests of the web tier, written once: their rows, the
// windows they allow (from the health check of the stack's model), and the tests themselves,
// run against an Env, which the twin (package twin, Linux namespaces) and a deployed stack
// (package awsdrill, the AWS APIs, SSH and HTTP) implement. Plain Go: no SDK, no kernel.
package drill

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/webtier/webtier/check"
)

// Write writes the drill's table, a row per check.Result, and its verdict line, which names
// where it ran (the twin, AWS, the emulator), so a table of one is never read as one of
// another, and counts the emulator's limitations and what was not built apart, since they
// are not passes. It reports whether every row passed.
func Write(w io.Writer, where string, rows []check.Result, took time.Duration) bool {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "REQ\tTEST\tEXPECTED\tOBSERVED\tRESULT\tEVIDENCE")
	passed, limits, unbuilt := 0, 0, 0
	for _, r := range rows {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", r.Req, r.Check, r.Expected, r.Observed, r.Status, r.Evidence)
		switch r.Status {
		case check.Pass:
			passed++
		case check.Limitation:
			limits++
		case check.NotBuilt:
			unbuilt++
		}
	}
	tw.Flush()
	var notes []string
	if limits > 0 {
		notes = append(notes, fmt.Sprintf("%d not shown: %s", limits, check.Limitation))
	}
	if unbuilt > 0 {
		notes = append(notes, fmt.Sprintf("%d not judged: %s", unbuilt, check.NotBuilt))
	}
	note := ""
	if len(notes) > 0 {
		note = " (" + strings.Join(notes, "; ") + ")"
	}
	fmt.Fprintf(w, "\ndrill on %s: %d of %d passed%s in %.1fs\n", where, passed, len(rows), note, took.Seconds())
	return passed == len(rows)
}
