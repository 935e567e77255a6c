// Package check is the one result of a check of the web tier, whoever makes it: verify on the
// model of a stack, live on what was deployed, the drill on the twin or on AWS. A result
// names the requirement it supports, what was checked, expected and observed, the evidence,
// and a Status. Plain Go: nothing but the standard library.
package check

// Status is the outcome of a check. Only Pass is a pass and only Fail a failure: the others
// say why a check was not judged, and are neither.
type Status string

// The outcomes.
const (
	Pass Status = "PASS"
	Fail Status = "FAIL"
	// NotBuilt is a check webtier does not make (yet, or on this target): not judged.
	NotBuilt Status = "NOT BUILT"
	// Limitation is a check the emulator behind a deployed stack cannot show: it does not
	// behave like AWS there, so the check says what it did observe, and is not judged.
	Limitation Status = "EMULATOR LIMITATION"
	// NotRead is a check of a deployed stack read back from AWS whose reader does not read
	// what the check needs: not judged.
	NotRead Status = "NOT READ"
)

// Result is one check: the requirement it supports (the seed's numbering, 1 to 7), what was
// checked, what is expected, what was observed, the evidence, and its Status.
type Result struct {
	Req   int    `json:"req"`
	Check string `json:"check"`
	// Expected is empty when the check's name says it.
	Expected string `json:"expected,omitempty"`
	Observed string `json:"observed"`
	Evidence string `json:"evidence,omitempty"`
	Status   Status `json:"status"`
}

// Verdict is Pass when ok, else Fail.
func Verdict(ok bool) Status {
	if ok {
		return Pass
	}
	return Fail
}

// Passed reports whether the check passed.
func (r Result) Passed() bool { return r.Status == Pass }

// Failed reports whether the check failed: a check not judged did not.
func (r Result) Failed() bool { return r.Status == Fail }

// Failures counts the checks that failed.
func Failures(list []Result) int {
	n := 0
	for _, r := range list {
		if r.Failed() {
			n++
		}
	}
	return n
}

// AllPassed reports whether every check passed: one not judged has not.
func AllPassed(list []Result) bool {
	for _, r := range list {
		if !r.Passed() {
			return false
		}
	}
	return true
}
