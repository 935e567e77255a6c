package verify

import (
	"net/netip"
	"strconv"
	"strings"

	"github.com/webtier/webtier/rules"
)

// evaluate judges src -> dst over t's protocol and ports, following the path AWS takes. It
// goes on past every blocker, so that each component that would have to change is named and
// each layer can be judged on its own.
func (n *Network) evaluate(t *trace, src, dst *Endpoint) {
	t.class = n.classOf
	switch {
	case !src.Inside() && !dst.Inside():
		for l := range t.ports {
			t.ports[l] = nil
		}
		if t.explain {
			t.block(CodeBothOutside, LayerRoute, "", "", 0, "both ends are outside the VPC")
		}
	case src.Inside() && dst.behind != nil:
		seen := n.outbound(t, src, dst, true)
		n.inbound(t, seen, dst.behind, src)
	case !src.Inside():
		n.inbound(t, src, dst, nil)
	case !dst.Inside():
		n.outbound(t, src, dst, false)
	default:
		n.internal(t, src, dst)
	}
	t.judgeReplies()
}

// internal judges a connection between two ENIs.
func (n *Network) internal(t *trace, src, dst *Endpoint) {
	t.sg(src, true, peer{dst.Addr, dst}, nil)
	if src.Kind == NATGateway {
		if t.stop(LayerRoute) {
			t.block(CodeNATInbound, LayerRoute, src.Res, "", 0, "a NAT gateway forwards connections; it opens none of its own")
		}
	}
	if src.Subnet.VPC != dst.Subnet.VPC {
		if t.stop(LayerRoute) {
			t.block(CodeNoRoute, LayerRoute, src.Subnet.Routes.Addr, "", 0, "%s and %s are in different VPCs; peering is not modelled", src.Name, dst.Name)
		}
	} else {
		n.localRoute(t, src.Subnet, dst.Addr)
		n.localRoute(t, dst.Subnet, src.Addr)
	}
	t.naclLeg(src.Subnet, dst.Subnet, src.Addr, dst.Addr, src.Ephemeral)
	t.sg(dst, false, peer{src.Addr, src}, nil)
	switch dst.Kind {
	case LBNode:
		n.listener(t, dst)
	case NATGateway:
		if t.stop(LayerRoute) {
			t.block(CodeNATInbound, LayerRoute, dst.Res, "", 0, "a NAT gateway accepts no connections addressed to itself")
		}
	}
	if src.Kind == LBNode {
		n.target(t, src, dst)
	}
}

// localRoute checks that s routes addr (inside the VPC) locally.
func (n *Network) localRoute(t *trace, s *Subnet, addr netip.Addr) {
	r := s.Routes.lookup(addr)
	switch {
	case r == nil:
		if t.stop(LayerRoute) {
			t.block(CodeNoRoute, LayerRoute, s.Routes.Addr, "", 0, "%s has no route to %s", s.Name, addr)
		}
	case r.Kind != TargetLocal:
		if t.stop(LayerRoute) {
			t.block(CodeMoreSpecific, LayerRoute, r.Addr, "", 0, "%s sends %s to %s (%s), not locally", s.Name, addr, r.Target, r.dest())
		}
	default:
		if t.explain {
			t.pass(LayerRoute, s.Routes.Addr, "", 0, "rt "+name(s.Routes.Addr)+": local", "%s: %s is local (%s)", s.Name, addr, r.dest())
		}
	}
}

// inbound judges a connection from outside the VPC to an ENI, through the internet gateway.
// origin is the ENI behind src when src is a rewritten address (a hairpin through a NAT).
func (n *Network) inbound(t *trace, src, dst *Endpoint, origin *Endpoint) {
	v := dst.Subnet.VPC
	switch {
	case v.IGW == "":
		if t.stop(LayerRoute) {
			t.block(CodeNoRoute, LayerRoute, v.Addr, "", 0, "%s has no internet gateway", v.Addr)
		}
	case dst.Kind == NATGateway:
		if t.stop(LayerRoute) {
			t.block(CodeNATInbound, LayerRoute, dst.Res, "", 0, "a NAT gateway takes no connection from the internet: it is outbound only")
		}
	case !dst.Public:
		if t.stop(LayerRoute) {
			t.block(CodePrivateIP, LayerRoute, dst.Res, "", 0, "%s has no public address (%s); the internet gateway cannot reach it", dst.Name, dst.PublicWhy)
		}
	default:
		if t.explain {
			t.pass(LayerRoute, v.IGW, "", 0, name(v.IGW)+" > public IP", "to the public address of %s (%s)", dst.Name, dst.PublicWhy)
		}
	}
	if r := dst.Subnet.Routes.lookup(src.Addr); r == nil || r.Kind != TargetIGW {
		if t.stop(LayerRoute) {
			t.block(CodeNoRoute, LayerRoute, dst.Subnet.Routes.Addr, "", 0, "%s has no route to the internet gateway for the replies to %s%s", dst.Subnet.Name, src.Addr, routeNote(r))
		}
	} else {
		if t.explain {
			t.pass(LayerRoute, r.Addr, "", 0, "rt "+name(dst.Subnet.Routes.Addr)+": replies > "+name(r.Target), "%s: replies to %s go to %s (%s)", dst.Subnet.Name, src.Addr, r.Target, r.dest())
		}
	}
	t.naclLeg(nil, dst.Subnet, src.Addr, dst.Addr, src.Ephemeral)
	t.sg(dst, false, peer{addr: src.Addr}, origin)
	if dst.Kind == LBNode {
		n.listener(t, dst)
	}
}

// routeNote says where a route goes instead, for messages.
func routeNote(r *Route) string {
	if r == nil {
		return ""
	}
	return " (" + r.dest() + " goes to " + r.Target + ")"
}

// outbound judges a connection from an ENI to an address outside the VPC and, when seen is
// asked for (a hairpin back into the VPC), returns the endpoint the far side sees: the ENI's
// own public address, or the NAT gateway's; else nil.
func (n *Network) outbound(t *trace, src, dst *Endpoint, seen bool) *Endpoint {
	t.sg(src, true, peer{addr: dst.Addr}, nil)
	if src.Kind == LBNode {
		n.target(t, src, dst) // a load balancer node connects to its targets only
	}
	rt := src.Subnet.Routes
	r := rt.lookup(dst.Addr)
	from := src // whose address the far side sees
	switch {
	case r == nil || r.Kind == TargetLocal:
		if t.stop(LayerRoute) {
			t.block(CodeNoRoute, LayerRoute, rt.Addr, "", 0, "%s has no route to %s", src.Subnet.Name, dst.Addr)
		}
		t.naclLeg(src.Subnet, nil, src.Addr, dst.Addr, src.Ephemeral)
	case r.Kind == TargetGateway:
		// A gateway endpoint carries the packets to the service with both addresses kept: no
		// public address, no NAT; the source subnet's ACL judges them against the service's
		// public address, the security groups against its prefix list.
		if t.explain {
			t.pass(LayerRoute, r.Addr, "", 0, "rt "+name(rt.Addr)+": "+r.dest()+" > "+name(r.Target)+" (gateway endpoint)",
				"%s: %s is in %s, which goes to the gateway endpoint %s; the source keeps its private address %s", src.Subnet.Name, dst.Addr, r.dest(), r.Target, src.Addr)
		}
		from = nil
		t.naclLeg(src.Subnet, nil, src.Addr, dst.Addr, src.Ephemeral)
	case r.Kind == TargetOther:
		if t.stop(LayerRoute) {
			t.block(CodeNotFollowed, LayerRoute, r.Addr, "", 0, "%s sends %s to %s, which the verifier does not follow", src.Subnet.Name, r.dest(), r.Target)
		}
		t.naclLeg(src.Subnet, nil, src.Addr, dst.Addr, src.Ephemeral)
	case r.Kind == TargetIGW:
		if !src.Public {
			if t.stop(LayerRoute) {
				t.block(CodePrivateIP, LayerRoute, src.Res, "", 0, "%s has no public address (%s); the internet gateway drops its traffic", src.Name, src.PublicWhy)
			}
		} else {
			if t.explain {
				t.pass(LayerRoute, r.Addr, "", 0, "rt "+name(rt.Addr)+": "+r.dest()+" > "+name(r.Target), "%s: %s goes to %s (%s)", src.Subnet.Name, dst.Addr, r.Target, r.dest())
			}
		}
		t.naclLeg(src.Subnet, nil, src.Addr, dst.Addr, src.Ephemeral)
	default:
		n.throughNAT(t, src, dst, r)
		from = r.NAT
	}
	if !seen {
		return nil
	}
	return n.seenFrom(src, from, dst)
}

// seenFrom is the endpoint that stands for src at dst when its packets leave through from: the
// public address of from (src itself, or its NAT gateway), else (no public address) dst's own
// address, which no rule singles out; from nil, src's private address (a gateway endpoint).
func (n *Network) seenFrom(src, from, dst *Endpoint) *Endpoint {
	if from == nil {
		return &Endpoint{Name: src.Name, Kind: Outside, Role: rules.Internet, Addr: src.Addr, Ephemeral: src.Ephemeral}
	}
	role := rules.Internet
	if from.Kind == NATGateway {
		role = rules.NAT
	}
	e := &Endpoint{Name: from.Name + " (public address)", Kind: Outside, Role: role, Addr: dst.Addr, Ephemeral: from.Ephemeral}
	if face := n.PublicFace(from); face != nil {
		e.Addr = face.Addr
	}
	return e
}

// throughNAT judges the two legs of a connection through a NAT gateway: the source to the
// NAT (addressed to dst), then the NAT, with the source rewritten, to dst.
func (n *Network) throughNAT(t *trace, src, dst *Endpoint, r *Route) {
	nat := r.NAT
	if t.explain {
		t.pass(LayerRoute, r.Addr, "", 0, "rt "+name(src.Subnet.Routes.Addr)+": "+r.dest()+" > "+name(r.Target), "%s: %s goes to %s (%s)", src.Subnet.Name, dst.Addr, r.Target, r.dest())
	}
	t.naclLeg(src.Subnet, nat.Subnet, src.Addr, dst.Addr, src.Ephemeral)
	if !nat.Public {
		if t.stop(LayerRoute) {
			t.block(CodeNoRoute, LayerRoute, nat.Res, "", 0, "%s has no public address (%s): it cannot reach the internet", nat.Name, nat.PublicWhy)
		}
	} else {
		if t.explain {
			t.pass(LayerRoute, nat.Res, "", 0, name(nat.Res)+": source > EIP", "%s: source rewritten to its Elastic IP (%s), source port remapped into %s (%s)",
				nat.Name, CodeNATRewrite, nat.Ephemeral, CodeRemapEphemeral)
		}
	}
	if r2 := nat.Subnet.Routes.lookup(dst.Addr); r2 == nil || r2.Kind != TargetIGW {
		if t.stop(LayerRoute) {
			t.block(CodeNoRoute, LayerRoute, nat.Subnet.Routes.Addr, "", 0, "%s (the NAT's subnet) has no route to the internet gateway for %s%s", nat.Subnet.Name, dst.Addr, routeNote(r2))
		}
	} else {
		if t.explain {
			t.pass(LayerRoute, r2.Addr, "", 0, "rt "+name(nat.Subnet.Routes.Addr)+": "+r2.dest()+" > "+name(r2.Target), "%s: %s goes to %s (%s)", nat.Subnet.Name, dst.Addr, r2.Target, r2.dest())
		}
	}
	t.naclLeg(nat.Subnet, nil, nat.Addr, dst.Addr, nat.Ephemeral)
}

// listener keeps the ports a load balancer node listens on.
func (n *Network) listener(t *trace, node *Endpoint) {
	ports := node.LB.listenerPorts()
	if t.proto != TCP {
		ports = nil
	}
	passed := t.want.Intersect(ports)
	t.narrow(LayerLB, passed)
	if !t.explain {
		return
	}
	for _, l := range node.LB.Listeners {
		if passed.Contains(l.Port) {
			if t.explain {
				t.pass(LayerLB, l.Addr, "", 0, "listener "+name(l.Addr)+" :"+strconv.Itoa(l.Port), "listener on %s", On(TCP, Port(l.Port)))
			}
		}
	}
	if denied := t.want.Minus(passed); !denied.Empty() {
		if t.explain {
			t.block(CodeListener, LayerLB, node.LB.Addr, "", 0, "no listener on %s (listeners: %s)", t.on(denied), ports)
		}
	}
}

// target keeps the ports a load balancer node opens connections to dst on: the traffic and
// health-check ports of the target groups its listeners forward to that hold dst, in an AZ
// the node sends to.
func (n *Network) target(t *trace, node, dst *Endpoint) {
	lb := node.LB
	var ports Ports
	var groups []string
	seen := map[*TargetGroup]bool{}
	for _, l := range lb.Listeners {
		for _, g := range l.Groups {
			tgPorts, holds := g.portsTo(dst)
			if seen[g] || !holds {
				continue
			}
			seen[g] = true
			groups = append(groups, g.Addr)
			switch {
			case !lb.azs()[dst.AZ()]:
				if t.explain {
					t.block(CodeNoTargetsInAZ, LayerLB, lb.Addr, "", 0, "%s is in %s, where %s has no node", dst.Name, dst.AZ(), lb.Addr)
				}
			case !g.crossZone(lb) && dst.AZ() != node.AZ():
				if t.explain {
					t.block(CodeNoTargetsInAZ, LayerLB, g.Addr, "", 0, "cross-zone load balancing is off: %s sends only to targets in %s", node.Name, node.AZ())
				}
			default:
				ports = ports.Union(tgPorts)
				if t.explain {
					t.pass(LayerLB, g.Addr, "", 0, "tg "+name(g.Addr)+" :"+tgPorts.String(), "%s is a target on %s (listener %s)", dst.Name, On(TCP, tgPorts), l.Addr)
				}
			}
		}
	}
	if t.proto != TCP {
		ports = nil
	}
	passed := t.want.Intersect(ports)
	t.narrow(LayerLB, passed)
	denied := t.want.Minus(passed)
	switch {
	case denied.Empty():
	case len(groups) == 0:
		if t.explain {
			t.block(CodeNotTarget, LayerLB, lb.Addr, "", 0, "%s is no target of any listener of %s: the node opens no connection to it", dst.Name, lb.Addr)
		}
	case !ports.Empty():
		if t.explain {
			t.block(CodeTargetPort, LayerLB, strings.Join(groups, ", "), "", 0, "the node sends to %s only on %s (the target group's traffic and health-check ports), not %s", dst.Name, ports, t.on(denied))
		}
	}
}
