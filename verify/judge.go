package verify

import "net/netip"

// Another judge of the same network, such as the twin that runs it as real packets, asks the
// verifier which connections it judges and what it decides for each, at the other judge's
// own addresses and source ports.

// Probe is one connection a requirement probes over one protocol, with the ports the flows
// expect to get through: the rest of Ports must be blocked.
type Probe struct {
	Req      int
	From, To *Endpoint
	Proto    Protocol
	// Ports are the ports probed: every key of the protocol for the "any port" probes.
	Ports  Ports
	Expect Ports
}

// Probes are the probed connections of requirements 1, 2, 3, 5 and 6, as Verify runs them.
func Probes(n *Network, in Intent) []Probe {
	v := newVerifier(n, in)
	var out []Probe
	for _, p := range v.probeSpecs() {
		for _, src := range p.from {
			for _, dst := range p.to {
				if !v.pair(src, dst) || p.sameAZ && src.AZ() != dst.AZ() {
					continue
				}
				for _, proto := range p.protos {
					want := p.ports
					if want == nil || !proto.keyed() {
						want = proto.Universe()
					}
					out = append(out, Probe{Req: p.req, From: src, To: dst, Proto: proto, Ports: want,
						Expect: v.asked(src, dst, proto).Intersect(want)})
				}
			}
		}
	}
	return out
}

// Judged are the endpoints requirement 7 judges, pair by pair (see Judges): every ENI but
// the NAT gateways, then one address for each class of outside addresses.
func Judged(n *Network, in Intent) []*Endpoint { return newVerifier(n, in).endpoints }

// ENI is the loaded ENI e is an address of: e itself, or the one it was copied from.
func (e *Endpoint) ENI() *Endpoint { return e.eni }

// At returns a copy of e at another address (of its subnet, for an ENI) that opens its
// connections from source port sport (0: its whole ephemeral range). The copy stays the same
// ENI for the load balancers and security-group references.
func (e *Endpoint) At(addr netip.Addr, sport int) *Endpoint {
	c := *e
	c.Addr, c.face = addr, nil
	if sport > 0 {
		c.Ephemeral = Port(sport)
	}
	return &c
}
