package verify

import "net/netip"

// The three filters of a VPC, each as AWS documents it: route tables (longest prefix wins,
// local routes implicit), network ACLs (first matching entry by rule number, implicit deny)
// and security groups (allow-only, the union of every rule of every group).

// Lookup is the route a packet to addr takes from a subnet of the table (see lookup).
func (t *RouteTable) Lookup(addr netip.Addr) *Route { return t.lookup(addr) }

// lookup returns the route for addr: the longest matching prefix, the VPC's local routes
// winning ties, then routes to a CIDR over routes to a prefix list (whose CIDRs count each
// with its own length); nil when nothing matches.
func (t *RouteTable) lookup(addr netip.Addr) *Route {
	var best *Route
	bits := -1
	for _, r := range t.local() {
		if r.Dest.Contains(addr) && r.Dest.Bits() > bits {
			best, bits = r, r.Dest.Bits()
		}
	}
	for _, r := range t.Routes {
		if r.List == "" && r.Dest.Contains(addr) && r.Dest.Bits() > bits {
			best, bits = r, r.Dest.Bits()
		}
	}
	for _, r := range t.Routes {
		for _, c := range r.ListCIDRs {
			if c.Contains(addr) && c.Bits() > bits {
				best, bits = r, c.Bits()
			}
		}
	}
	return best
}

// local returns the table's implicit local routes, one per CIDR of the VPC.
func (t *RouteTable) local() []*Route {
	if len(t.locals) != len(t.VPC.CIDRs) {
		t.locals = t.locals[:0]
		for _, c := range t.VPC.CIDRs {
			t.locals = append(t.locals, &Route{Addr: t.Addr, Dest: c, Kind: TargetLocal, Target: "local"})
		}
	}
	return t.locals
}

// portsFor is the keys (ports, ICMP types) of a rule (entry) for proto: all of them when the
// rule covers all protocols or the protocol has none.
func portsFor(ruleProto Protocol, ports Ports, proto Protocol) Ports {
	if ruleProto == All || !proto.keyed() {
		return proto.Universe()
	}
	return ports
}

// decision is what one entry (nil: the implicit deny) decided for some ports.
type decision struct {
	entry *NACLEntry
	ports Ports
}

// filter passes want through the ACL's entries of one direction for traffic with the peer
// address: it returns the ports allowed and, when explain is set, each decision.
func (a *NACL) filter(egress bool, peer netip.Addr, proto Protocol, want Ports, explain bool) (Ports, []decision) {
	entries := a.entries(egress)
	var allowed Ports
	var out []decision
	rest := want
	for _, e := range entries {
		if rest.Empty() {
			break
		}
		if !e.Proto.matches(proto) || !e.CIDR.Contains(peer) {
			continue
		}
		hit := rest.Intersect(portsFor(e.Proto, e.Ports, proto))
		if hit.Empty() {
			continue
		}
		rest = rest.Minus(hit)
		if e.Allow {
			allowed = allowed.Union(hit)
		}
		if explain {
			out = append(out, decision{e, hit})
		}
	}
	if explain && !rest.Empty() {
		out = append(out, decision{nil, rest})
	}
	return allowed, out
}

// peer is the other end of a connection as a security group sees it: an address, and the
// ENI whose groups SG references match (nil beyond a NAT or outside the VPC).
type peer struct {
	addr netip.Addr
	eni  *Endpoint
}

// matches reports whether the rule's peer covers p.
func (r *SGRule) matches(p peer) bool {
	switch {
	case r.Peer != nil:
		return p.eni != nil && p.eni.carries(r.Peer)
	case r.CIDR.IsValid():
		return r.CIDR.Contains(p.addr)
	}
	for _, c := range r.ListCIDRs {
		if c.Contains(p.addr) {
			return true
		}
	}
	return false
}

// allow returns the ports the groups of e allow in one direction for p, and the rules that
// allow them when explain is set.
func (e *Endpoint) allow(egress bool, p peer, proto Protocol, explain bool) (Ports, []*SGRule) {
	var allowed Ports
	var used []*SGRule
	for _, g := range e.Groups {
		for _, r := range g.rules(egress) {
			if !r.Proto.matches(proto) || !r.matches(p) {
				continue
			}
			allowed = allowed.Union(portsFor(r.Proto, r.Ports, proto))
			if explain {
				used = append(used, r)
			}
		}
	}
	return allowed, used
}
