package drill

import (
	"strings"
	"testing"
	"time"

	"github.com/webtier/webtier/check"
)

// TestWrite: the verdict line names where the drill ran and counts the limitations and what
// was not judged apart; only a table of passes passes.
func TestWrite(t *testing.T) {
	rows := []check.Result{{Req: 1, Check: "a", Status: check.Pass}, {Req: 2, Check: "b", Status: check.Limitation}, {Req: 2, Check: "c", Status: check.NotBuilt}}
	var out strings.Builder
	if Write(&out, "the fake", rows, 1500*time.Millisecond) {
		t.Error("Write passed a table with a limitation and a row not built")
	}
	if want := "drill on the fake: 1 of 3 passed (1 not shown: EMULATOR LIMITATION; 1 not judged: NOT BUILT) in 1.5s\n"; !strings.HasSuffix(out.String(), want) {
		t.Errorf("got:\n%s\nwant it to end with %q", out.String(), want)
	}
	if !Write(&strings.Builder{}, "the fake", rows[:1], 0) {
		t.Error("Write failed a table of passes")
	}
}
