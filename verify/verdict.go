package verify

import "slices"

// Verdict is the answer to one query: whether the connection gets through, the path it
// takes (each hop with the rule that lets it through) and what blocks it (each component
// that would have to change, with a code).
type Verdict struct {
	From  string   `json:"from"`
	To    string   `json:"to"`
	Proto Protocol `json:"proto"`
	// Ports are the ports asked about.
	Ports Ports `json:"ports"`
	// Allowed is true when every asked port gets through, replies included on every port of
	// the initiator's ephemeral range.
	Allowed bool `json:"allowed"`
	// Open are the asked ports that get through that robustly.
	Open Ports `json:"open"`
	// Reach are the asked ports that get through for at least some ephemeral ports: a
	// connection may work, if not reliably. Blocked means Reach is empty.
	Reach    Ports     `json:"reach"`
	Hops     []Hop     `json:"hops"`
	Blockers []Blocker `json:"blockers,omitempty"`
}

// Blocked reports whether no asked port gets through, even for some ephemeral ports.
func (v Verdict) Blocked() bool { return v.Reach.Empty() }

// Can answers whether src can open a connection to dst on proto and port (for ICMP, the
// ICMPKey of the message's type and code).
func (n *Network) Can(src, dst *Endpoint, proto Protocol, port int) Verdict {
	if !proto.keyed() {
		port = 0
	}
	return n.CanPorts(src, dst, proto, Port(port))
}

// CanPorts answers for a set of ports at once (every port: proto.Universe()).
func (n *Network) CanPorts(src, dst *Endpoint, proto Protocol, ports Ports) Verdict {
	return n.canPorts(new(trace), src, dst, proto, ports)
}

// canPorts is CanPorts in the trace t, which a caller explaining many connections reuses:
// the verdict's hops and blockers are copies.
func (n *Network) canPorts(t *trace, src, dst *Endpoint, proto Protocol, ports Ports) Verdict {
	t.reset(proto, ports, true)
	n.evaluate(t, src, dst)
	open, reach := t.result()
	return Verdict{From: src.Name, To: dst.Name, Proto: proto, Ports: ports,
		Allowed: !ports.Empty() && open.Covers(ports), Open: open, Reach: reach,
		Hops: slices.Clone(t.hops), Blockers: slices.Clone(t.blocks)}
}

// result returns the ports that get through on the whole path: robustly (replies on every
// ephemeral port) and at all (replies on some).
func (t *trace) result() (open, reach Ports) {
	p := t.want
	for _, l := range t.ports {
		p = p.Intersect(l)
	}
	if t.replyAny {
		reach = p
	}
	if t.replyAll {
		open = p
	}
	return open, reach
}

// layer returns the ports one layer alone lets through (replies on some ephemeral port, for
// network ACLs).
func (t *trace) layer(l Layer) Ports {
	if l == LayerNACL && !t.replyAny {
		return nil
	}
	return t.ports[l]
}
