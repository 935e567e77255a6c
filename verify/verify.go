package verify

import (
	"fmt"
	"net/netip"
	"slices"

	"github.com/webtier/webtier/rules"
)

// Report is the verification of one stack against the intent: every probe, every shape
// check and the enumeration of requirement 7.
type Report struct {
	Probes []ProbeResult `json:"probes"`
	Shapes ShapeChecks   `json:"shapes"`
	// Unexplained are connections that get through (on the path, or through one layer on
	// its own) that no active flow asked for: each is a defect.
	Unexplained []Finding `json:"unexplained"`
	// Accepted are connections one layer lets through beyond the flows because it cannot be
	// tighter by nature, each with the reason.
	Accepted []Finding `json:"accepted"`
	// Quotas count the stack against the AWS quotas it can reach: AWS refuses a change that
	// takes a resource past one, whatever the connections would be.
	Quotas []QuotaResult `json:"quotas"`
	// Authorizations are the calls AWS must authorize for the flows to work (and those it
	// must refuse), each decided with every policy on the way.
	Authorizations []Authorization `json:"authorizations"`
	Notes          []string        `json:"notes,omitempty"`
	// Protocols are the protocols every pair was judged on.
	Protocols []Protocol `json:"protocols"`
	// Stats count what was judged.
	Stats Stats `json:"stats"`
}

// Stats count the work of one verification.
type Stats struct {
	Endpoints   int `json:"endpoints"`
	Evaluations int `json:"evaluations"`
}

// OK reports whether every probe and shape check met its expectation and nothing got
// through unexplained.
func (r *Report) OK() bool {
	for _, p := range r.Probes {
		if !p.OK {
			return false
		}
	}
	for _, s := range r.Shapes {
		if s.Failed() {
			return false
		}
	}
	for _, a := range r.Authorizations {
		if !a.OK {
			return false
		}
	}
	return len(r.Unexplained) == 0 && r.exceeded() == 0
}

// exceeded counts the quotas some resource is over.
func (r *Report) exceeded() int {
	n := 0
	for _, q := range r.Quotas {
		if !q.OK {
			n++
		}
	}
	return n
}

// verifier holds what a verification shares: the network, the intent, the endpoints
// (outside addresses included) and which filter decisions the flows need.
type verifier struct {
	n         *Network
	in        Intent
	endpoints []*Endpoint
	outside   []*Endpoint
	// needs maps each filter decision the flows make to the ports each flow needs through it.
	needs map[checkKey][]need
	// protos are the protocols of the flows, in the order of in.Flows.
	protos []Protocol
	// protocols are the protocols connections are judged on (see protocolsOf).
	protocols []Protocol
	// byRole lists the endpoints that play each role.
	byRole map[rules.Role][]*Endpoint
	t      trace
	// et is the trace of explained evaluations (a probe's path, a finding's), reused.
	et trace
	// waits are the resources each resource waits for, as the creation-order checks ask.
	waits waits
	evals int
	// notes are what resolving the prefix lists could not know.
	notes []string
}

// need is what one flow needs of one filter decision: the ports that must pass.
type need struct {
	flow  string
	ports Ports
}

// Verify proves the stack against the intent.
func Verify(n *Network, in Intent) *Report {
	v := newVerifier(n, in)
	r := &Report{Notes: append(slices.Clip(n.Notes), v.notes...), Protocols: v.protocols}
	r.Probes = v.probes()
	r.Shapes = v.shapes()
	r.Unexplained, r.Accepted = v.enumerate()
	r.Quotas = n.Quotas(in.Quotas)
	r.Authorizations = v.authorizations()
	authorizeProbes(r.Probes, r.Authorizations, in.Flows)
	r.Stats = Stats{Endpoints: len(v.endpoints), Evaluations: v.evals}
	return r
}

// newVerifier prepares a verification: the prefix lists resolved, the endpoints with their
// roles, the outside addresses, and what the flows need of each filter decision.
func newVerifier(n *Network, in Intent) *verifier {
	notes := n.resolveLists(in.PrefixLists)
	v := &verifier{n: n, in: in, needs: map[checkKey][]need{}, protocols: n.protocolsOf(), waits: waits{}}
	v.outside = v.outsideEndpoints()
	for _, e := range n.Endpoints {
		if e.Kind != NATGateway {
			v.endpoints = append(v.endpoints, e)
		}
	}
	v.endpoints = append(v.endpoints, v.outside...)
	v.byRole = map[rules.Role][]*Endpoint{}
	for _, e := range v.endpoints {
		e.roles = in.roles(e)
		for _, r := range e.roles {
			v.byRole[r] = append(v.byRole[r], e)
		}
	}
	for _, f := range in.Flows {
		v.protos = append(v.protos, flowProtocol(f))
	}
	v.learnFlows()
	v.notes = notes
	return v
}

// resolveLists gives the routes and security-group rules that name an AWS-managed prefix
// list (by its service's name, through a gateway endpoint) the list's CIDRs from lists, and
// returns a note for each list nobody gave CIDRs for: it is judged empty.
func (n *Network) resolveLists(lists map[string][]netip.Prefix) []string {
	var notes []string
	resolve := func(what, list string) []netip.Prefix {
		cidrs, ok := lists[list]
		note := fmt.Sprintf("%s: the AWS-managed prefix list %s is not in the stack and the config does not say what it holds: judged empty", what, list)
		if !ok && !slices.Contains(notes, note) {
			notes = append(notes, note)
		}
		return cidrs
	}
	for _, t := range n.routeTables() {
		for _, r := range t.Routes {
			if r.managed {
				r.ListCIDRs = resolve(r.Addr, r.List)
			}
		}
	}
	for _, g := range n.groups() {
		for _, r := range append(slices.Clip(g.Ingress), g.Egress...) {
			if r.managed {
				r.ListCIDRs = resolve(r.Addr, r.PrefixList)
			}
		}
	}
	return notes
}

// protocolsOf is Protocols, then every other protocol a security-group rule or network ACL
// entry names, then one protocol that none names: it stands for all the others, which only
// rules for every protocol (-1) let through.
func (n *Network) protocolsOf() []Protocol {
	out := slices.Clone(Protocols)
	add := func(p Protocol) {
		if p != All && !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	for _, g := range n.groups() {
		for _, r := range append(slices.Clip(g.Ingress), g.Egress...) {
			add(r.Proto)
		}
	}
	for _, a := range n.nacls() {
		for _, e := range append(slices.Clip(a.Ingress), a.Egress...) {
			add(e.Proto)
		}
	}
	slices.Sort(out[len(Protocols):])
	// 253 is reserved for experiments (RFC 3692): no real service uses it.
	for p := Protocol(253); ; p-- {
		if !slices.Contains(out, p) {
			return append(out, p)
		}
	}
}

// outsideEndpoints are one address for each class of outside addresses the configuration
// and the intent tell apart (the internet, the admin and repository ranges, any range a rule
// names), and 8.8.8.8. The first is a plain internet address no rule names; 8.8.8.8 is last.
func (v *verifier) outsideEndpoints() []*Endpoint {
	return v.outsideAt(outsideAddrs([]*Network{v.n}, []Intent{v.in}))
}

// outsideAddrs are one outside address for each class of addresses that the networks and
// the intents tell apart: a plain internet address no rule names first, 8.8.8.8 last.
func outsideAddrs(ns []*Network, ins []Intent) []netip.Addr {
	var family []netip.Prefix
	for _, n := range ns {
		family = append(family, n.family...)
	}
	for _, in := range ins {
		family = append(append(family, in.AdminCIDRs...), in.RepoCIDRs...)
	}
	inVPC := func(p netip.Prefix) bool {
		return slices.ContainsFunc(ns, func(n *Network) bool {
			return slices.ContainsFunc(n.VPCs, func(vpc *VPC) bool {
				return slices.ContainsFunc(vpc.CIDRs, func(c netip.Prefix) bool { return c.Contains(p.Addr()) && c.Bits() <= p.Bits() })
			})
		})
	}
	addrs := representatives(rules.Anywhere, family, inVPC)
	plain, _ := freeAddr(rules.Anywhere, family)
	google := netip.MustParseAddr("8.8.8.8")
	addrs = slices.DeleteFunc(addrs, func(a netip.Addr) bool {
		return a == plain || a == google || slices.ContainsFunc(ns, func(n *Network) bool { return n.InVPC(a) })
	})
	return append(append([]netip.Addr{plain}, addrs...), google)
}

// outsideAt makes an outside endpoint of each address, named by its narrowest role.
func (v *verifier) outsideAt(addrs []netip.Addr) []*Endpoint {
	var out []*Endpoint
	for _, a := range addrs {
		e := v.n.Outside(a)
		roles := v.in.roles(e)
		label := "internet"
		switch {
		case slices.Contains(roles, rules.Admin):
			e.Role, label = rules.Admin, "admin"
		case slices.Contains(roles, rules.Repos):
			e.Role, label = rules.Repos, "repo"
		}
		e.Name = label + " " + a.String()
		out = append(out, e)
	}
	return out
}

// outsideOf returns the outside endpoints whose narrowest role is role: the plain internet,
// an admin address, a repository address.
func (v *verifier) outsideOf(role rules.Role) []*Endpoint {
	var out []*Endpoint
	for _, e := range v.outside {
		if e.Role == role {
			out = append(out, e)
		}
	}
	return out
}

// eval judges src -> dst over proto and ports into v.t, without explanations.
func (v *verifier) eval(src, dst *Endpoint, proto Protocol, ports Ports) *trace {
	v.evals++
	v.t.reset(proto, ports, false)
	v.n.evaluate(&v.t, src, dst)
	return &v.t
}

// learnFlows judges every instance of every active flow and records the filter decisions
// each needs: a layer that passes a connection through exactly those decisions cannot
// stop it without breaking the flow.
func (v *verifier) learnFlows() {
	for i, f := range v.in.Flows {
		for _, src := range v.byRole[f.From] {
			for _, dst := range v.byRole[f.To] {
				if !v.pair(src, dst) || f.SameAZ && src.AZ() != dst.AZ() {
					continue
				}
				t := v.eval(src, dst, v.protos[i], portsOf(f.Port))
				for _, c := range t.checks {
					v.need(c.key, f.ID, c.ports)
				}
			}
		}
	}
}

// asks returns the flows that ask for src -> dst over proto, with the ports they ask for.
// Ignoring the same-AZ limit (sameAZ false) finds the flows a connection is an AZ away from.
func (v *verifier) asks(src, dst *Endpoint, proto Protocol, sameAZ bool) ([]rules.Flow, Ports) {
	var flows []rules.Flow
	var ports Ports
	for i, f := range v.in.Flows {
		if v.protos[i] != proto || !slices.Contains(src.roles, f.From) || !slices.Contains(dst.roles, f.To) {
			continue
		}
		if sameAZ && f.SameAZ && src.AZ() != dst.AZ() {
			continue
		}
		flows = append(flows, f)
		ports = ports.Union(portsOf(f.Port))
	}
	return flows, ports
}

// asked is the set of ports the active flows ask for from src to dst over proto.
func (v *verifier) asked(src, dst *Endpoint, proto Protocol) Ports {
	_, p := v.asks(src, dst, proto, true)
	return p
}

// need records that flow needs ports through the filter decision key.
func (v *verifier) need(key checkKey, flow string, ports Ports) {
	list := v.needs[key]
	for i := range list {
		if list[i].flow == flow {
			list[i].ports = list[i].ports.Union(ports)
			return
		}
	}
	v.needs[key] = append(list, need{flow, ports})
}

// pair reports whether src -> dst is a connection worth judging (see Judges).
func (v *verifier) pair(src, dst *Endpoint) bool { return Judges(src, dst) }

// Judges reports whether src -> dst is a connection worth judging: not between two outside
// addresses, and not an ENI to another ENI of the same resource unless the endpoint stands
// for several instances.
func Judges(src, dst *Endpoint) bool {
	switch {
	case !src.Inside() && !dst.Inside():
		return false
	case src.Inside() && dst.Inside() && src.Res == dst.Res:
		return src == dst && src.Multi || src != dst && src.Multi && dst.Multi
	}
	return true
}
