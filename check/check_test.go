package check

import (
	"encoding/json"
	"testing"
)

// TestNotJudgedIsNeitherPassNorFailure: a check that was not judged (not built, an emulator's
// limitation, not read back) never counts as a pass, so a table with one does not pass, and
// never as a failure either.
func TestNotJudgedIsNeitherPassNorFailure(t *testing.T) {
	for _, s := range []Status{NotBuilt, Limitation, NotRead} {
		r := Result{Req: 1, Check: "c", Status: s}
		if r.Passed() || r.Failed() {
			t.Errorf("%s: passed %v, failed %v; want neither", s, r.Passed(), r.Failed())
		}
		list := []Result{{Req: 1, Check: "a", Status: Verdict(true)}, r}
		if AllPassed(list) {
			t.Errorf("AllPassed is true for a pass and a %s", s)
		}
		if n := Failures(list); n != 0 {
			t.Errorf("Failures = %d for a pass and a %s; want 0", n, s)
		}
	}
	list := []Result{{Status: Verdict(true)}, {Status: Verdict(false)}, {Status: Fail}}
	if n := Failures(list); n != 2 {
		t.Errorf("Failures = %d for a pass and two failures; want 2", n)
	}
	if AllPassed(list) || !AllPassed(list[:1]) {
		t.Errorf("AllPassed: got %v for a pass and failures, %v for a pass alone; want false, true", AllPassed(list), AllPassed(list[:1]))
	}
}

// TestJSON: the field names and status words a script reads from `--json`.
func TestJSON(t *testing.T) {
	b, err := json.Marshal(Result{Req: 6, Check: "mount", Observed: "-", Status: NotRead})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"req":6,"check":"mount","observed":"-","status":"NOT READ"}`; string(b) != want {
		t.Errorf("got %s, want %s", b, want)
	}
	b, _ = json.Marshal(Result{Req: 1, Check: "ssh", Expected: "allowed", Observed: "allowed", Evidence: "banner", Status: Limitation})
	if want := `{"req":1,"check":"ssh","expected":"allowed","observed":"allowed","evidence":"banner","status":"EMULATOR LIMITATION"}`; string(b) != want {
		t.Errorf("got %s, want %s", b, want)
	}
}
