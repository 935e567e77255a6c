package review

import (
	"fmt"
	"strings"

	plans "github.com/webtier/webtier/change"
	"github.com/webtier/webtier/verify"
)

// mostLines bounds the summary's list: the rest is in the details.
const mostLines = 8

// summary writes the review's lead: a banner when the plan destroys or replaces anything,
// one line of counts, and the connections and interruptions that matter most.
func summary(b *strings.Builder, in Input, p *plans.Plan, table []plans.Interruption) {
	var gone []string
	for _, s := range p.Steps {
		if s.Action != plans.Create && s.Action != plans.Update {
			gone = append(gone, "`"+s.Addr+"` ("+string(s.Action)+")")
		}
	}
	if len(gone) > 0 {
		fmt.Fprintf(b, "> [!CAUTION]\n> **This plan destroys or replaces %d resource%s:** %s\n\n", len(gone), plural(len(gone)), clipList(gone, 4))
	}
	parts := []string{"**" + p.Summary() + ".**"}
	c := in.Change
	switch {
	case c == nil:
		parts = append(parts, "Connections: not compared (`plan --base` names the synthesized stack of what is deployed).")
	default:
		parts = append(parts, fmt.Sprintf("Connections: %s.", strong(c.Summary())))
	}
	parts = append(parts, fmt.Sprintf("Service interruptions: %d resource%s.", len(table), plural(len(table))),
		"The planned network "+verdictOf(in.Verify)+".")
	b.WriteString(strings.Join(parts, " ") + "\n\n")
	var lines []string
	if c != nil {
		for _, x := range c.Opened {
			lines = append(lines, bullet("opened", x))
		}
		for _, x := range c.Closed {
			lines = append(lines, bullet("closed", x))
		}
		for _, x := range c.Calls {
			mark := ""
			if x.Fails {
				mark = " **FAIL**"
			}
			lines = append(lines, fmt.Sprintf("-%s **authorization** %s (`%s`): %s -> %s, expected %s", mark, x.Check, x.Action, dash(x.Base), dash(x.Head), x.Expected))
		}
		lines = append(lines, applyBullets("opened during the apply", c.Exposed)...)
		lines = append(lines, applyBullets("interrupted during the apply", c.Interrupted)...)
	}
	// One line per effect: a replaced group's rules all say the same.
	var effects []string
	byEffect := map[string][]string{}
	for _, r := range table {
		key := forced(r) + ": " + r.Effect
		if byEffect[key] == nil {
			effects = append(effects, key)
		}
		byEffect[key] = append(byEffect[key], "`"+r.Resource+"`")
	}
	for _, e := range effects {
		why, effect, _ := strings.Cut(e, ": ")
		lines = append(lines, fmt.Sprintf("- **interrupts** %s (%s): %s", clipList(byEffect[e], 2), why, effect))
	}
	if len(lines) > mostLines {
		lines = append(lines[:mostLines], fmt.Sprintf("- and %d more: see below", len(lines)-mostLines))
	}
	if len(lines) > 0 {
		b.WriteString(strings.Join(lines, "\n") + "\n\n")
	}
}

// bullet is one class opened or closed: the class and its flows, and why.
func bullet(what string, x verify.Connection) string {
	mark := ""
	if x.Fails {
		mark = " **FAIL**"
	}
	return fmt.Sprintf("-%s **%s** %s (%s): %s", mark, what, class(x), flowsOf(x), x.Why)
}

func class(x verify.Connection) string {
	return fmt.Sprintf("%s -> %s %s", x.FromClass, x.ToClass, verify.On(x.Proto, x.Ports))
}

// applyBullets are the classes an apply interrupts or opens in between, one line per
// resource that causes them, with what would avoid it.
func applyBullets(what string, list []verify.Connection) []string {
	var order []string
	classes := map[string][]string{}
	fails := map[string]bool{}
	for _, x := range list {
		key := "the apply's order"
		if k, ok := rootCause(x.Causes); ok {
			key = fmt.Sprintf("`%s` %s", k.Resource, strings.SplitN(k.Detail, ";", 2)[0])
			if k.Avoid != "" {
				key += "; avoid: " + k.Avoid
			}
		}
		if classes[key] == nil {
			order = append(order, key)
		}
		classes[key] = append(classes[key], fmt.Sprintf("%s (%s)", class(x), flowsOf(x)))
		fails[key] = fails[key] || x.Fails
	}
	var out []string
	for _, key := range order {
		mark := ""
		if fails[key] {
			mark = " **FAIL**"
		}
		out = append(out, fmt.Sprintf("-%s **%s** %s: %s", mark, what, strings.Join(classes[key], ", "), key))
	}
	return out
}

// rootCause is the missing resource an apply's state lacks first of all: one that does not
// merely go along with another, else the first.
func rootCause(list []verify.Cause) (verify.Cause, bool) {
	var first *verify.Cause
	for i, k := range list {
		if k.Effect != "missing" {
			continue
		}
		if !strings.Contains(k.Detail, "along with") && !strings.HasPrefix(k.Detail, "goes with") {
			return k, true
		}
		if first == nil {
			first = &list[i]
		}
	}
	if first == nil {
		return verify.Cause{}, false
	}
	return *first, true
}

func flowsOf(x verify.Connection) string {
	if len(x.Flows) == 0 {
		return "no flow"
	}
	return strings.Join(x.Flows, ", ")
}

// connections writes the classes opened, closed and rerouted, collapsed.
func connections(b *strings.Builder, c *verify.Change) {
	open(b, fmt.Sprintf("Connections: %d opened, %d closed, %d rerouted", len(c.Opened), len(c.Closed), len(c.Rerouted)))
	if len(c.Opened)+len(c.Closed)+len(c.Rerouted) == 0 {
		b.WriteString("None: the planned network lets through what the deployed one does, on the same routes.\n\n</details>\n\n")
		return
	}
	if len(c.Opened)+len(c.Closed) > 0 {
		b.WriteString("| | layer | from | to | ports | flow | verdict | pairs | example | responsible |\n|---|---|---|---|---|---|---|---|---|---|\n")
		for _, list := range []struct {
			what string
			cs   []verify.Connection
		}{{"opened", c.Opened}, {"closed", c.Closed}} {
			for _, x := range list.cs {
				b.WriteString(row(list.what, x.Layer, x.FromClass, x.ToClass, verify.On(x.Proto, x.Ports), flowsOf(x), verdictCell(x),
					fmt.Sprint(len(x.Pairs)), x.Example.String(), causes(x.Causes)))
			}
		}
		b.WriteString("\n")
	}
	if len(c.Rerouted) > 0 {
		b.WriteString("| rerouted | ports | pairs | before | after |\n|---|---|---|---|---|\n")
		for _, r := range c.Rerouted {
			b.WriteString(row(r.FromClass+" -> "+r.ToClass, verify.On(r.Proto, r.Ports), fmt.Sprint(len(r.Pairs)), strings.Join(r.Before, " > "), strings.Join(r.After, " > ")))
		}
		b.WriteString("\n")
	}
	b.WriteString("</details>\n\n")
}

// calls writes the authorizations decided otherwise, collapsed.
func calls(b *strings.Builder, c *verify.Change) {
	if len(c.Calls) == 0 {
		return
	}
	open(b, fmt.Sprintf("Authorizations decided otherwise (%d)", len(c.Calls)))
	b.WriteString("| req | check | action | resource | deployed | planned | expected | why |\n|---|---|---|---|---|---|---|---|\n")
	for _, x := range c.Calls {
		b.WriteString(row(fmt.Sprint(x.Req), x.Check, x.Action, x.Resource, dash(x.Base), dash(x.Head), x.Expected, x.Why))
	}
	b.WriteString("\n</details>\n\n")
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// apply writes what the apply's states interrupt and open in between, collapsed.
func apply(b *strings.Builder, c *verify.Change) {
	if len(c.States) == 0 {
		return
	}
	open(b, fmt.Sprintf("During the apply: %d interrupted, %d opened in between", len(c.Interrupted), len(c.Exposed)))
	fmt.Fprintf(b, "States judged: %s.\n\n", strings.Join(c.States, "; "))
	for _, n := range c.Notes {
		fmt.Fprintf(b, "Note: %s\n\n", n)
	}
	if len(c.Interrupted)+len(c.Exposed) > 0 {
		b.WriteString("| | from | to | ports | flow | state | pairs | example | because | what avoids it |\n|---|---|---|---|---|---|---|---|---|---|\n")
		for _, list := range []struct {
			what string
			cs   []verify.Connection
		}{{"interrupted", c.Interrupted}, {"opened in between", c.Exposed}} {
			for _, x := range list.cs {
				var because, avoid []string
				for _, k := range x.Causes {
					if k.Effect == "missing" {
						because = append(because, "`"+k.Resource+"`: "+k.Detail)
						if k.Avoid != "" && !contains(avoid, k.Avoid) {
							avoid = append(avoid, k.Avoid)
						}
					}
				}
				b.WriteString(row(list.what, x.FromClass, x.ToClass, verify.On(x.Proto, x.Ports), flowsOf(x), x.StateName,
					fmt.Sprint(len(x.Pairs)), x.Example.String(), strings.Join(because, "<br>"), strings.Join(avoid, "<br>")))
			}
		}
		b.WriteString("\n")
	}
	b.WriteString("</details>\n\n")
}

// interruptions writes the interruption table, collapsed.
func interruptions(b *strings.Builder, table []plans.Interruption) {
	open(b, fmt.Sprintf("Interruptions by resource (%d)", len(table)))
	if len(table) == 0 {
		b.WriteString("None: no change restarts, replaces or readdresses anything running.\n\n</details>\n\n")
		return
	}
	b.WriteString("| resource | action | why | effect on the running service | AWS documentation |\n|---|---|---|---|---|\n")
	for _, r := range table {
		b.WriteString(row("`"+r.Resource+"`", string(r.Action), forced(r), r.Effect, r.Doc))
	}
	b.WriteString("\n</details>\n\n")
}

// forced says why a resource changes: the attributes that force its replacement, or change.
func forced(r plans.Interruption) string {
	switch {
	case len(r.ReplacePaths) > 0:
		return "forced by " + strings.Join(r.ReplacePaths, ", ")
	case len(r.Changed) > 0:
		return "changes " + clipList(r.Changed, 4)
	}
	return string(r.Action)
}

func verdictCell(x verify.Connection) string {
	if x.Fails {
		return "**FAIL**: " + x.Why
	}
	return x.Why
}

// causes lists the rules and resources responsible, one per line.
func causes(list []verify.Cause) string {
	var out []string
	for _, c := range list {
		out = append(out, c.Side+" "+c.Effect+": `"+c.Resource+"`")
	}
	return strings.Join(out, "<br>")
}

func strong(s string) string { return "**" + s + "**" }

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// clipList joins at most n items, saying how many more there are.
func clipList(list []string, n int) string {
	if len(list) <= n {
		return strings.Join(list, ", ")
	}
	return strings.Join(list[:n], ", ") + fmt.Sprintf(" and %d more", len(list)-n)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
