package twin

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"
)

// The drill's rows and its table: the twin's drill (drill_linux.go) and the deployed stack's
// (package awsdrill, on every OS) report in them.

// Drill results.
const (
	Pass     = "PASS"
	Fail     = "FAIL"
	NotBuilt = "NOT BUILT"
	// Limitation is a test the emulator behind a deployed stack cannot show: not a pass.
	Limitation = "EMULATOR LIMITATION"
)

// DrillRow is one test of the drill.
type DrillRow struct {
	Req      int    `json:"req"`
	Test     string `json:"test"`
	Expected string `json:"expected"`
	Observed string `json:"observed"`
	Evidence string `json:"evidence,omitempty"`
	Result   string `json:"result"`
}

// WriteDrill writes the drill's table and its verdict line.
func WriteDrill(w io.Writer, rows []DrillRow, took time.Duration) bool {
	return WriteDrillOn(w, "the twin (stand-ins, not AWS)", rows, took)
}

// WriteDrillOn is WriteDrill for a drill of where (the twin, AWS, the emulator): the verdict
// line names it, so a table of one is never read as one of another, and counts the emulator's
// limitations apart, since they are not passes.
func WriteDrillOn(w io.Writer, where string, rows []DrillRow, took time.Duration) bool {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "REQ\tTEST\tEXPECTED\tOBSERVED\tRESULT\tEVIDENCE")
	passed := 0
	for _, r := range rows {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", r.Req, r.Test, r.Expected, r.Observed, r.Result, r.Evidence)
		if r.Result == Pass {
			passed++
		}
	}
	tw.Flush()
	limits := 0
	for _, r := range rows {
		if r.Result == Limitation {
			limits++
		}
	}
	note := ""
	if limits > 0 {
		note = fmt.Sprintf(" (%d not shown: %s)", limits, Limitation)
	}
	fmt.Fprintf(w, "\ndrill on %s: %d of %d passed%s in %.1fs\n", where, passed, len(rows), note, took.Seconds())
	return passed == len(rows)
}
