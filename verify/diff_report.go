package verify

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// WriteJSON writes the change as one JSON object (keys opened, closed, rerouted,
// interrupted, exposed, states, pairs, evaluations).
func (c *Change) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(c)
}

// Summary is the change in one line: "2 opened (1 with no flow), 1 closed, 0 rerouted, ...".
func (c *Change) Summary() string {
	parts := []string{
		countFailing(len(c.Opened), failing(c.Opened), "opened", "with no flow"),
		countFailing(len(c.Closed), failing(c.Closed), "closed", "that a flow needs"),
		fmt.Sprintf("%d rerouted", len(c.Rerouted)),
	}
	if len(c.Calls) > 0 {
		bad := 0
		for _, x := range c.Calls {
			if x.Fails {
				bad++
			}
		}
		parts = append(parts, countFailing(len(c.Calls), bad, "authorizations decided otherwise", "against their expectation"))
	}
	if len(c.States) > 0 {
		parts = append(parts, fmt.Sprintf("%d interrupted during the apply", len(c.Interrupted)),
			fmt.Sprintf("%d opened in between", len(c.Exposed)))
	}
	return strings.Join(parts, ", ")
}

func countFailing(n, bad int, what, why string) string {
	s := fmt.Sprintf("%d %s", n, what)
	if bad > 0 {
		s += fmt.Sprintf(" (%d %s)", bad, why)
	}
	return s
}

func failing(list []Connection) int {
	n := 0
	for _, c := range list {
		if c.Fails {
			n++
		}
	}
	return n
}

// WriteText writes the change for a terminal: one block per connection class, with its
// pairs, an example packet, its flows and the rules responsible on each side.
func (c *Change) WriteText(w io.Writer, base, head string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "diff %s -> %s: connection classes (source class, destination class, protocol, ports)\n", base, head)
	section := func(title string, list []Connection) {
		fmt.Fprintf(&b, "\n%s (%d)\n", title, len(list))
		for _, x := range list {
			mark := "ok  "
			switch {
			case x.Fails:
				mark = "FAIL"
			case x.StateName != "":
				mark = "INTR"
			}
			layer := ""
			if x.Layer != PathLayer {
				layer = " [" + x.Layer + " alone]"
			}
			fmt.Fprintf(&b, "  %s %s -> %s %s%s: %s\n", mark, x.FromClass, x.ToClass, On(x.Proto, x.Ports), layer, x.Why)
			flows := "no flow"
			if len(x.Flows) > 0 {
				flows = strings.Join(x.Flows, ", ")
			}
			fmt.Fprintf(&b, "       flow: %s; %s\n", flows, pairsText(x.Pairs))
			fmt.Fprintf(&b, "       example: %s\n", x.Example)
			for _, cause := range x.Causes {
				fmt.Fprintf(&b, "       %s\n", cause)
				if cause.Avoid != "" {
					fmt.Fprintf(&b, "         avoid: %s\n", cause.Avoid)
				}
			}
		}
	}
	section("OPENED", c.Opened)
	section("CLOSED", c.Closed)
	fmt.Fprintf(&b, "\nREROUTED (%d): both sides allow these, on another route\n", len(c.Rerouted))
	for _, r := range c.Rerouted {
		fmt.Fprintf(&b, "       %s -> %s %s; %s\n", r.FromClass, r.ToClass, On(r.Proto, r.Ports), pairsText(r.Pairs))
		fmt.Fprintf(&b, "         before: %s\n         after:  %s\n", strings.Join(r.Before, " > "), strings.Join(r.After, " > "))
	}
	if len(c.Calls) > 0 {
		fmt.Fprintf(&b, "\nAUTHORIZATIONS decided otherwise (%d)\n", len(c.Calls))
		for _, x := range c.Calls {
			mark := "ok  "
			if x.Fails {
				mark = "FAIL"
			}
			fmt.Fprintf(&b, "  %s req %d %s: %s on %s: %s -> %s (expected %s)\n       %s\n", mark, x.Req, x.Check, x.Action, x.Resource,
				orNone(x.Base), orNone(x.Head), x.Expected, x.Why)
			if len(x.By) > 0 {
				fmt.Fprintf(&b, "       decided by: %s\n", strings.Join(x.By, "; "))
			}
		}
	}
	for _, n := range c.Notes {
		fmt.Fprintf(&b, "\nNOTE: %s\n", n)
	}
	if len(c.States) > 0 {
		fmt.Fprintf(&b, "\nAPPLY STATES judged: %s\n", strings.Join(c.States, "; "))
		section("INTERRUPTED during the apply", c.Interrupted)
		section("OPENED IN BETWEEN during the apply", c.Exposed)
	}
	verdict := "diff OK"
	if c.Failed() {
		verdict = "diff FAILED"
	}
	fmt.Fprintf(&b, "\n%s: %s (%d pairs, %d evaluations)\n", verdict, c.Summary(), c.Pairs, c.Evaluations)
	_, err := io.WriteString(w, b.String())
	return err
}

// pairsText lists a few pairs: "2 pairs: web@web-a -> db@db-a, web@web-c -> db@db-a".
func pairsText(pairs []string) string {
	const most = 3
	s := fmt.Sprintf("%d pair", len(pairs))
	if len(pairs) != 1 {
		s += "s"
	}
	shown := pairs
	if len(shown) > most {
		shown = shown[:most]
	}
	s += ": " + strings.Join(shown, ", ")
	if len(pairs) > most {
		s += ", ..."
	}
	return s
}

// orNone is a decision, or "-" where a side does not ask.
func orNone(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
