package verify

import (
	"fmt"
	"slices"
	"strings"

	"github.com/webtier/webtier/rules"
)

// Requirement 7: nothing else gets through. Every pair of endpoints is judged over every
// port of every protocol three times: on the whole path, on the security groups alone and on
// the network ACLs alone, since a slack rule in one layer hidden behind the other is still a
// defect. What gets through beyond the flows is unexplained, unless the layer cannot be
// tighter by nature: each of its decisions on the way is one an active flow needs (the
// filter sees the very same packets), or it sees nothing at all (traffic inside a subnet).
// Such connections are accepted, with the flows that pin them.

// PathLayer names the whole path in findings.
const PathLayer = "path"

// Finding is a connection that gets through beyond the flows, on the path or through one
// layer on its own.
type Finding struct {
	Layer string `json:"layer"`
	From  string `json:"from"`
	To    string `json:"to"`
	// FromClass and ToClass are the classes of the ends: a role, or an outside address.
	FromClass string   `json:"from_class"`
	ToClass   string   `json:"to_class"`
	Proto     Protocol `json:"proto"`
	Ports     Ports    `json:"ports"`
	// Reason says why an accepted finding cannot be closed by its layer.
	Reason string `json:"reason,omitempty"`
	// Path is the layer's hops (the whole path's for the path) on the first port, for an
	// unexplained finding.
	Path []Hop `json:"path,omitempty"`
	// Behind lists what blocks the connection elsewhere on the path, for a layer finding.
	Behind []Blocker `json:"behind,omitempty"`
}

// enumerate judges every pair of endpoints and returns the unexplained and the accepted
// findings.
func (v *verifier) enumerate() (unexplained, accepted []Finding) {
	for _, src := range v.endpoints {
		for _, dst := range v.endpoints {
			if !v.pair(src, dst) {
				continue
			}
			for _, proto := range v.protocols {
				u, a := v.judge(src, dst, proto)
				unexplained = append(unexplained, u...)
				accepted = append(accepted, a...)
			}
		}
	}
	return unexplained, accepted
}

// judge judges one pair over one protocol.
func (v *verifier) judge(src, dst *Endpoint, proto Protocol) (unexplained, accepted []Finding) {
	t := v.eval(src, dst, proto, proto.Universe())
	asked := v.asked(src, dst, proto)
	_, reach := t.result()
	layers := []struct {
		name  string
		layer Layer
		got   Ports
	}{
		{PathLayer, -1, reach},
		{LayerSG.String(), LayerSG, t.layer(LayerSG)},
		{LayerNACL.String(), LayerNACL, t.layer(LayerNACL)},
	}
	type pending struct {
		f        Finding
		layer    Layer
		accepted bool
	}
	var found []pending
	for _, l := range layers {
		slack := l.got.Minus(asked)
		if slack.Empty() {
			continue
		}
		f := Finding{Layer: l.name, From: src.Name, To: dst.Name, FromClass: class(src), ToClass: class(dst), Proto: proto}
		if l.layer < 0 {
			f.Ports = slack
			found = append(found, pending{f, l.layer, false})
			continue
		}
		ok, reason := v.accept(t, l.layer, slack, src, dst, proto)
		if !ok.Empty() {
			a := f
			a.Ports, a.Reason = ok, reason
			found = append(found, pending{a, l.layer, true})
		}
		if rest := slack.Minus(ok); !rest.Empty() {
			f.Ports = rest
			found = append(found, pending{f, l.layer, false})
		}
	}
	// Defects get their path; explanations take a trace of their own, so they come once v.t
	// is no longer needed. Accepted findings carry their reason instead.
	for _, p := range found {
		if p.accepted {
			accepted = append(accepted, p.f)
			continue
		}
		v.explain(&p.f, p.layer, src, dst)
		unexplained = append(unexplained, p.f)
	}
	return unexplained, accepted
}

// accept returns the slack ports that layer cannot stop without breaking a flow, and why:
// each of its decisions on the way passes ports some flow needs through the same decision.
func (v *verifier) accept(t *trace, layer Layer, slack Ports, src, dst *Endpoint, proto Protocol) (Ports, string) {
	ok := slack
	var mine []filterCheck
	for _, c := range t.checks {
		if c.layer != layer {
			continue
		}
		mine = append(mine, c)
		var needed Ports
		for _, nd := range v.needs[c.key] {
			needed = needed.Union(nd.ports)
		}
		if c.reply {
			// Replies pass on some ephemeral port because a flow needs that port.
			if needed.Intersect(c.ports).Empty() {
				return nil, ""
			}
			continue
		}
		ok = ok.Intersect(needed)
	}
	if len(mine) == 0 {
		if layer == LayerNACL && src.Inside() && dst.Inside() && src.Subnet == dst.Subnet {
			return slack, "same subnet: network ACLs do not filter traffic within a subnet"
		}
		return slack, "no " + layer.String() + " apply"
	}
	if ok.Empty() {
		return nil, ""
	}
	var because []string
	for _, c := range mine {
		ports := ok
		if c.reply {
			ports = c.ports
		}
		for _, nd := range v.needs[c.key] {
			if !nd.ports.Intersect(ports).Empty() && !slices.Contains(because, nd.flow) {
				because = append(because, nd.flow)
			}
		}
	}
	slices.SortFunc(because, func(a, b string) int { return v.flowIndex(a) - v.flowIndex(b) })
	if layer == LayerNACL {
		return ok, "indistinguishable to the network ACLs from " + strings.Join(because, ", ") +
			": same subnets (or outside range), same ports"
	}
	reason := "each security-group decision on the way is one that " + strings.Join(because, ", ") + " needs"
	flows, _ := v.asks(src, dst, proto, false)
	for _, f := range flows {
		if f.SameAZ {
			reason += fmt.Sprintf("; %s is limited to the own AZ, which security groups cannot express", f.ID)
		}
	}
	return ok, reason
}

// explain fills a finding's path on its first port: the layer's hops (all of them for the
// path) and, for a layer, what blocks the connection elsewhere.
func (v *verifier) explain(f *Finding, layer Layer, src, dst *Endpoint) {
	verdict := v.n.canPorts(&v.et, src, dst, f.Proto, Port(f.Ports.First()))
	v.evals++
	for _, h := range verdict.Hops {
		if layer < 0 || h.Layer == layer {
			f.Path = append(f.Path, h)
		}
	}
	if layer >= 0 {
		f.Behind = verdict.Blockers
	}
}

// class names an endpoint's class: its role inside the VPC, its name outside.
func class(e *Endpoint) string {
	if e.Inside() {
		return string(e.Role)
	}
	return e.Name
}

// flowIndex is the place of a flow in the table, for listing flows in table order.
func (v *verifier) flowIndex(id string) int {
	return slices.IndexFunc(v.in.Flows, func(f rules.Flow) bool { return f.ID == id })
}
