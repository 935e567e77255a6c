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
)

// Results of a row.
const (
	Pass     = "PASS"
	Fail     = "FAIL"
	NotBuilt = "NOT BUILT"
	// Limitation is a test the emulator behind a deployed stack cannot show: not a pass.
	Limitation = "EMULATOR LIMITATION"
)

// Row is one test of the drill.
type Row struct {
	Req      int    `json:"req"`
	Test     string `json:"test"`
	Expected string `json:"expected"`
	Observed string `json:"observed"`
	Evidence string `json:"evidence,omitempty"`
	Result   string `json:"result"`
}

// Verdict is Pass when ok, else Fail.
func Verdict(ok bool) string {
	if ok {
		return Pass
	}
	return Fail
}

// Write writes the drill's table and its verdict line, which names where it ran (the twin,
// AWS, the emulator), so a table of one is never read as one of another, and counts the
// emulator's limitations and what was not built apart, since they are not passes. It reports whether every row
// passed.
func Write(w io.Writer, where string, rows []Row, took time.Duration) bool {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "REQ\tTEST\tEXPECTED\tOBSERVED\tRESULT\tEVIDENCE")
	passed, limits, unbuilt := 0, 0, 0
	for _, r := range rows {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", r.Req, r.Test, r.Expected, r.Observed, r.Result, r.Evidence)
		switch r.Result {
		case Pass:
			passed++
		case Limitation:
			limits++
		case NotBuilt:
			unbuilt++
		}
	}
	tw.Flush()
	var notes []string
	if limits > 0 {
		notes = append(notes, fmt.Sprintf("%d not shown: %s", limits, Limitation))
	}
	if unbuilt > 0 {
		notes = append(notes, fmt.Sprintf("%d not judged: %s", unbuilt, NotBuilt))
	}
	note := ""
	if len(notes) > 0 {
		note = " (" + strings.Join(notes, "; ") + ")"
	}
	fmt.Fprintf(w, "\ndrill on %s: %d of %d passed%s in %.1fs\n", where, passed, len(rows), note, took.Seconds())
	return passed == len(rows)
}

// Passed reports whether every row passed.
func Passed(rows []Row) bool {
	for _, r := range rows {
		if r.Result != Pass {
			return false
		}
	}
	return true
}
