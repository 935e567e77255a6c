package verify

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
)

// cellWidth is where the last column of a table wraps.
const cellWidth = 80

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(struct {
		OK bool `json:"ok"`
		*Report
	}{r.OK(), r})
}

// WriteTable writes the report as tables a cloud engineer reads: the probes requirement by
// requirement, then the findings of requirement 7 and the notes.
func (r *Report) WriteTable(w io.Writer, input string) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	row := func(cells []string, last string) {
		lines := wrap(last, cellWidth)
		fmt.Fprintf(tw, "%s\t%s\n", strings.Join(cells, "\t"), lines[0])
		blank := strings.Repeat("\t", len(cells))
		for _, l := range lines[1:] {
			fmt.Fprintf(tw, "%s%s\n", blank, l)
		}
	}
	fmt.Fprintf(w, "webtier verify %s: %d endpoints, %d evaluations\n\n", input, r.Stats.Endpoints, r.Stats.Evaluations)
	row([]string{"REQ", "PROBE", "EXPECTED", "VERDICT"}, "PATH / BLOCKER")
	for req := 1; req <= 7; req++ {
		for _, p := range r.Probes {
			if p.Req == req {
				row([]string{strconv.Itoa(req), p.Probe, p.Expected, mark(p.Verdict, p.OK)}, probeCell(p))
			}
		}
		for _, s := range r.Shapes {
			if s.Req == req {
				ok := !s.Failed() // one not read says so in its detail
				row([]string{strconv.Itoa(req), "shape: " + s.Check, "ok", mark(verdictOf(ok), ok)}, s.Observed)
			}
		}
	}
	for _, layer := range []string{PathLayer, LayerSG.String(), LayerNACL.String()} {
		u, a := count(r.Unexplained, layer), count(r.Accepted, layer)
		got := fmt.Sprintf("%d unexplained", u)
		if a > 0 {
			got += fmt.Sprintf(", %d accepted", a)
		}
		what := "beyond the flows, whole path"
		if layer != PathLayer {
			what = "beyond the flows, " + layer + " alone"
		}
		row([]string{"7", what, "none", mark(got, u == 0)}, "every pair of endpoints, every port and ICMP type, over "+joinProtocols(r.Protocols)+" (the last stands for every protocol no rule names)")
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	writeQuotas(w, r.Quotas)
	writeAuthorizations(w, r.Authorizations)
	writeFindings(w, "UNEXPLAINED: connections no flow asked for; each is a defect", r.Unexplained)
	writeAccepted(w, r.Accepted)
	if len(r.Notes) > 0 {
		fmt.Fprintln(w, "\nNOTES")
		for _, n := range r.Notes {
			fmt.Fprintln(w, "  "+n)
		}
	}
	status := "OK: every requirement holds"
	if !r.OK() {
		status = fmt.Sprintf("FAILED: %d probes, shape and authorization checks missed, %d unexplained connections", r.missed(), len(r.Unexplained))
		if n := r.exceeded(); n > 0 {
			status += fmt.Sprintf(", %d %s exceeded", n, plural(n, "AWS quota", "AWS quotas"))
		}
	}
	_, err := fmt.Fprintf(w, "\nverify %s\n", status)
	return err
}

// missed counts the probes and shape checks that missed their expectation.
func (r *Report) missed() int {
	n := 0
	for _, p := range r.Probes {
		if !p.OK {
			n++
		}
	}
	for _, s := range r.Shapes {
		if s.Failed() {
			n++
		}
	}
	for _, a := range r.Authorizations {
		if !a.OK {
			n++
		}
	}
	return n
}

func count(list []Finding, layer string) int {
	n := 0
	for _, f := range list {
		if f.Layer == layer {
			n++
		}
	}
	return n
}

func verdictOf(ok bool) string {
	if ok {
		return "ok"
	}
	return "failed"
}

// mark flags a verdict that misses its expectation.
func mark(verdict string, ok bool) string {
	if ok {
		return verdict
	}
	return verdict + " (FAIL)"
}

// probeCell is the path of an allowed probe, or what blocks a blocked one: briefly when the
// verdict is as expected, in full when it is not.
func probeCell(p ProbeResult) string {
	if p.Authorized != "" {
		cell := hops(p.Path, false)
		if len(p.Blockers) > 0 {
			cell = blockers(p.Blockers, false)
		}
		return cell + "\n" + p.Authorized
	}
	if len(p.Blockers) == 0 {
		return hops(p.Path, false)
	}
	if p.OK {
		return blockers(p.Blockers, false)
	}
	return blockers(p.Blockers, true) + "\n" + "passed: " + hops(p.Path, false)
}

// hops renders a path briefly: "bastion-sg out [rule] > public-nacl out #410 > ...", with
// security-group rules by name, or by full address when full.
func hops(list []Hop, full bool) string {
	parts := make([]string, 0, len(list))
	for _, h := range list {
		b := h.Brief
		switch {
		case h.Layer != LayerSG || h.Rule == "":
		case full:
			b += " [" + h.Rule + "]"
		default:
			b += " [" + name(h.Rule) + "]"
		}
		parts = append(parts, b)
	}
	return strings.Join(parts, " > ")
}

// blockers renders what blocks: codes and components, with the details when full.
func blockers(list []Blocker, full bool) string {
	var parts []string
	for _, b := range list {
		s := b.Code + " " + b.Component
		switch {
		case b.Rule != "":
			s += " " + b.Rule
		case b.Number == -1:
			s += " *"
		case b.Number > 0:
			s += " #" + strconv.Itoa(b.Number)
		}
		if full {
			s += ": " + b.Detail
		}
		parts = append(parts, s)
	}
	sep := "; "
	if full {
		sep = "\n"
	}
	return strings.Join(parts, sep)
}

// writeQuotas writes the quotas: for each, the resource that comes closest, and in full
// every resource over it.
func writeQuotas(w io.Writer, list []QuotaResult) {
	if len(list) == 0 {
		return
	}
	fmt.Fprintln(w, "\nQUOTAS: AWS refuses a change that takes a resource past one (quotas in the config: what the account has raised)")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  QUOTA\tCODE\tLIMIT\tBUSIEST\tRESULT")
	for _, q := range list {
		busiest := q.Busiest
		if q.Shared {
			busiest += " (the account's others count too)"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%d\t%s\t%s\n", q.Name, q.Code, q.Limit, busiest, mark(verdictOf(q.OK), q.OK))
	}
	tw.Flush()
	for _, q := range list {
		for _, o := range q.Over {
			for i, l := range wrap(o, cellWidth+40) {
				if i == 0 {
					fmt.Fprintln(w, "  OVER "+l)
				} else {
					fmt.Fprintln(w, "     "+l)
				}
			}
		}
	}
}

// writeFindings writes one list of findings as a table.
func writeFindings(w io.Writer, title string, list []Finding) {
	fmt.Fprintf(w, "\n%s: %d\n", title, len(list))
	if len(list) == 0 {
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  LAYER\tCONNECTION\tPORTS\tPATH / REASON")
	for _, f := range list {
		cell := hops(f.Path, true)
		if f.Reason != "" {
			cell = f.Reason
		} else if len(f.Behind) > 0 {
			cell += "\nblocked elsewhere by: " + blockers(f.Behind, false)
		}
		lines := wrap(cell, cellWidth)
		fmt.Fprintf(tw, "  %s\t%s -> %s\t%s\t%s\n", f.Layer, f.From, f.To, On(f.Proto, f.Ports), lines[0])
		for _, l := range lines[1:] {
			fmt.Fprintf(tw, "  \t\t\t%s\n", l)
		}
	}
	tw.Flush()
}

// wrap splits text into lines of at most width runes at spaces, keeping its own newlines.
func wrap(text string, width int) []string {
	var out []string
	for _, para := range strings.Split(text, "\n") {
		line := ""
		for _, word := range strings.Fields(para) {
			if line != "" && len(line)+1+len(word) > width {
				out = append(out, line)
				line = "  " + word
				continue
			}
			if line != "" {
				line += " "
			}
			line += word
		}
		out = append(out, line)
	}
	return out
}

// writeAccepted writes the accepted findings grouped: one row per layer, pair of classes,
// ports and reason, with the number of endpoint pairs it stands for.
func writeAccepted(w io.Writer, list []Finding) {
	type pairKey struct{ layer, from, to, fromClass, toClass, reason string }
	var pairs []pairKey
	ports := map[pairKey][]string{}
	for _, f := range list {
		k := pairKey{f.Layer, f.From, f.To, f.FromClass, f.ToClass, f.Reason}
		if ports[k] == nil {
			pairs = append(pairs, k)
		}
		ports[k] = append(ports[k], On(f.Proto, f.Ports))
	}
	type groupKey struct{ layer, classes, ports, reason string }
	var groups []groupKey
	members := map[groupKey]int{}
	for _, k := range pairs {
		g := groupKey{k.layer, k.fromClass + " -> " + k.toClass, strings.Join(ports[k], ", "), k.reason}
		if members[g] == 0 {
			groups = append(groups, g)
		}
		members[g]++
	}
	fmt.Fprintf(w, "\nACCEPTED: a layer lets these through beyond the flows because it cannot be tighter: %d connections in %d groups\n", len(pairs), len(groups))
	if len(groups) == 0 {
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  LAYER\tCLASSES\tPAIRS\tPORTS\tREASON")
	for _, g := range groups {
		lines := wrap(g.reason, cellWidth-30)
		fmt.Fprintf(tw, "  %s\t%s\t%d\t%s\t%s\n", g.layer, g.classes, members[g], g.ports, lines[0])
		for _, l := range lines[1:] {
			fmt.Fprintf(tw, "  \t\t\t\t%s\n", l)
		}
	}
	tw.Flush()
}

// writeAuthorizations writes what AWS decides above the packets, requirement by requirement:
// a line per check, then the request and what decided it.
func writeAuthorizations(w io.Writer, list []Authorization) {
	if len(list) == 0 {
		return
	}
	fmt.Fprintln(w, "\nAUTHORIZATION: the calls the flows make, decided as AWS does with every policy on the way")
	for req := 1; req <= 7; req++ {
		for _, a := range list {
			if a.Req != req {
				continue
			}
			fmt.Fprintf(w, "  %d  %-92s expected %-11s %s\n", a.Req, a.Check, a.Expected, mark(a.Outcome, a.OK))
			if a.Caller != "-" {
				fmt.Fprintf(w, "       %s: %s on %s\n", a.Caller, a.Action, a.Resource)
			}
			for _, l := range wrap(a.Why, 110) {
				fmt.Fprintf(w, "       %s\n", l)
			}
			for _, p := range a.Problems {
				fmt.Fprintf(w, "       problem: %s\n", p)
			}
		}
	}
}
