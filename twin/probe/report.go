package probe

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/webtier/webtier/verify"
)

// probeRow is one probe between two hosts: how many of its attempts went as the flow table
// expects.
type probeRow struct {
	req             int
	label, from, to string
	expect          bool
	tried, through  int
	missed          int
}

// WriteText writes the probes (one row per probe and pair of hosts), the cross-check's
// figures, and every miss and difference with both sides. verbose lists every attempt that
// got through.
func (r *Report) WriteText(w io.Writer, verbose bool) error {
	fmt.Fprintln(w, "twin test: the stack's network as real packets: Linux namespaces and nftables stand in for the VPC")
	fmt.Fprintln(w)
	rows := map[string]*probeRow{}
	var order []string
	for _, o := range r.Outcomes {
		for i, label := range o.Probes {
			key := label + "|" + o.From.Name + "|" + o.To.Name
			row := rows[key]
			if row == nil {
				row = &probeRow{req: o.Reqs[i], label: label, from: o.From.Name, to: o.To.Name, expect: o.Expect}
				rows[key] = row
				order = append(order, key)
			}
			row.tried++
			if o.Got.Through {
				row.through++
			}
			if o.Missed() {
				row.missed++
			}
		}
	}
	sort.SliceStable(order, func(i, j int) bool { return rows[order[i]].req < rows[order[j]].req })
	fmt.Fprintln(w, "Probes of verify, as real traffic:")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PROBE\tHOSTS\tEXPECTED\tPACKETS\tOK")
	for _, key := range order {
		row := rows[key]
		exp := map[bool]string{true: "allowed", false: "blocked"}[row.expect]
		got := fmt.Sprintf("%d of %d through", row.through, row.tried)
		ok := map[bool]string{true: "ok", false: fmt.Sprintf("MISSED (%d)", row.missed)}[row.missed == 0]
		fmt.Fprintf(tw, "%s\t%s -> %s\t%s\t%s\t%s\n", row.label, row.from, row.to, exp, got, ok)
	}
	tw.Flush()
	hosts := map[string]bool{}
	through, maybe := 0, 0
	protos := map[verify.Protocol]int{}
	for _, o := range r.Outcomes {
		hosts[o.From.Name], hosts[o.To.Name] = true, true
		protos[o.Proto]++
		if o.Got.Through {
			through++
		}
		if o.Verdict.Open.Empty() != o.Verdict.Reach.Empty() {
			maybe++
		}
	}
	diffs, misses := r.Differences(), r.Misses()
	fmt.Fprintf(w, "\nCross-check with verify: %d connections between %d hosts (tcp %d, udp %d, icmp echo %d): %d through, %d blocked; %d differences\n",
		len(r.Outcomes), len(hosts), protos[verify.TCP], protos[verify.UDP], protos[verify.ICMP], through, len(r.Outcomes)-through, len(diffs))
	if maybe > 0 {
		fmt.Fprintf(w, "  %d of them pass, says verify, on some source ports of a NAT gateway's range only: either outcome agrees\n", maybe)
	}
	fmt.Fprintf(w, "  %d connections in %.1fs (%.0f per second, %s timeout)\n", len(r.Outcomes), r.Elapsed.Seconds(),
		float64(len(r.Outcomes))/r.Elapsed.Seconds(), Timeout)
	if verbose {
		fmt.Fprintln(w, "\nThrough:")
		for _, o := range r.Outcomes {
			if o.Got.Through {
				fmt.Fprintf(w, "  %s: %s\n", o.Attempt, o.Got.How)
			}
		}
	}
	for _, list := range []struct {
		title string
		items []*Outcome
	}{{"Probes that missed the flow table", misses}, {"Differences from verify", diffs}} {
		if len(list.items) == 0 {
			continue
		}
		fmt.Fprintf(w, "\n%s (%d):\n", list.title, len(list.items))
		for _, o := range list.items {
			fmt.Fprint(w, indent(o.Explain()))
		}
	}
	verdict := "OK: every probe as the flow table expects, and the kernel agrees with verify on every connection"
	if !r.OK() {
		verdict = fmt.Sprintf("FAILED: %d probe connections missed, %d differences from verify", len(misses), len(diffs))
	}
	_, err := fmt.Fprintf(w, "\ntwin test %s\n", verdict)
	return err
}

func indent(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return "  " + strings.Join(lines, "\n  ") + "\n"
}

// outcomeJSON is one attempt in the JSON report.
type outcomeJSON struct {
	From    string   `json:"from"`
	To      string   `json:"to"`
	Addr    string   `json:"addr"`
	Proto   string   `json:"proto"`
	SPort   int      `json:"sport,omitempty"`
	DPort   int      `json:"dport"`
	Through bool     `json:"through"`
	How     string   `json:"how"`
	Verify  string   `json:"verify"`
	Agrees  bool     `json:"agrees"`
	Probes  []string `json:"probes,omitempty"`
	Expect  *bool    `json:"expect,omitempty"`
}

// WriteJSON writes every attempt, then the totals.
func (r *Report) WriteJSON(w io.Writer) error {
	out := struct {
		OK          bool          `json:"ok"`
		Seconds     float64       `json:"seconds"`
		Differences int           `json:"differences"`
		Misses      int           `json:"misses"`
		Attempts    []outcomeJSON `json:"attempts"`
	}{OK: r.OK(), Seconds: r.Elapsed.Seconds(), Differences: len(r.Differences()), Misses: len(r.Misses())}
	for _, o := range r.Outcomes {
		v := "blocked"
		switch {
		case !o.Verdict.Open.Empty():
			v = "through"
		case !o.Verdict.Reach.Empty():
			v = "some source ports"
		}
		j := outcomeJSON{From: o.From.Name, To: o.To.Name, Addr: o.Addr.String(), Proto: o.Proto.String(), SPort: o.SPort,
			DPort: o.DPort, Through: o.Got.Through, How: o.Got.How, Verify: v, Agrees: o.Agrees(), Probes: o.Probes}
		if len(o.Probes) > 0 {
			j.Expect = &o.Expect
		}
		out.Attempts = append(out.Attempts, j)
	}
	sort.SliceStable(out.Attempts, func(i, j int) bool { return !out.Attempts[i].Agrees && out.Attempts[j].Agrees })
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
