package verify

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Differences compares the verdicts of two reports made with the same intent: every probe
// (by its name: the pair and the ports), how many shape checks of each requirement pass, and
// every finding of requirement 7 (by layer, pair, protocol, ports and reason). Paths and
// blockers are not compared: they name resource addresses, which legitimately differ
// between two documents of one network (the synthesized stack, and the same stack read back
// from AWS). Nor are shape-check titles, which hold resource names. Quotas are compared by
// whether the stack is within each. One line per difference; none when the verdicts agree.
func Differences(a, b *Report) []string {
	ka, kb := a.verdicts(), b.verdicts()
	var out []string
	for _, k := range slices.Sorted(maps.Keys(ka)) {
		switch vb, ok := kb[k]; {
		case !ok && ka[k] == notRead:
		case !ok:
			out = append(out, fmt.Sprintf("only in the first: %s: %s", k, ka[k]))
		case ka[k] == notRead || vb == notRead:
			// one side's reader did not read the policies: nothing to compare
		case vb != ka[k]:
			out = append(out, fmt.Sprintf("%s: %s, then %s", k, ka[k], vb))
		}
	}
	for _, k := range slices.Sorted(maps.Keys(kb)) {
		if _, ok := ka[k]; !ok && kb[k] != notRead {
			out = append(out, fmt.Sprintf("only in the second: %s: %s", k, kb[k]))
		}
	}
	return out
}

// verdicts maps what each verdict is about to the verdict.
func (r *Report) verdicts() map[string]string {
	out := map[string]string{}
	for _, a := range r.Authorizations {
		v := fmt.Sprintf("expected %s, got %s, ok %t", a.Expected, a.Outcome, a.OK)
		if a.Outcome == notRead {
			v = notRead
		}
		out[fmt.Sprintf("req %d authorization %s: %s", a.Req, a.Check, a.Action)] = v
	}
	for _, p := range r.Probes {
		out[fmt.Sprintf("req %d probe %s", p.Req, p.Probe)] = fmt.Sprintf("expected %s, got %s, ok %t", p.Expected, p.Verdict, p.OK)
	}
	shapes := map[int][2]int{}
	for _, s := range r.Shapes {
		c := shapes[s.Req]
		if !s.Failed() { // not read is not a failure, as on the synthesized stack
			c[0]++
		} else {
			c[1]++
		}
		shapes[s.Req] = c
	}
	for req, c := range shapes {
		out[fmt.Sprintf("req %d shape checks", req)] = fmt.Sprintf("%d ok, %d failed", c[0], c[1])
	}
	add := func(kind string, list []Finding) {
		for _, f := range list {
			k := fmt.Sprintf("%s %s %s -> %s %s", kind, f.Layer, f.From, f.To, On(f.Proto, f.Ports))
			out[k] = strings.TrimSpace(f.Reason)
			if out[k] == "" {
				out[k] = "found"
			}
		}
	}
	for _, q := range r.Quotas {
		out["quota "+q.Key] = fmt.Sprintf("within %d: %t", q.Limit, q.OK)
	}
	add("unexplained", r.Unexplained)
	add("accepted", r.Accepted)
	return out
}
