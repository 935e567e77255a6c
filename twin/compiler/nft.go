package compiler

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/webtier/webtier/verify"
)

// The nftables rulesets. Each is one text applied atomically with `nft -f`; every rule is
// preceded by a comment naming the resource (and rule number) it comes from.

// table is the name of the twin's table in every namespace.
const table = "webtier"

// writer accumulates a ruleset with indentation.
type writer struct {
	b     strings.Builder
	depth int
}

func (w *writer) line(format string, args ...any) {
	w.b.WriteString(strings.Repeat("\t", w.depth))
	fmt.Fprintf(&w.b, format, args...)
	w.b.WriteByte('\n')
}

func (w *writer) open(format string, args ...any) { w.line(format+" {", args...); w.depth++ }
func (w *writer) close()                          { w.depth--; w.line("}") }

// chainName turns a resource name into an nftables identifier.
func chainName(parts ...string) string {
	s := strings.Join(parts, "_")
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' {
			return r
		}
		return '_'
	}, s)
}

// resName is the name part of a resource address.
func resName(addr string) string {
	if i := strings.IndexByte(addr, '.'); i >= 0 && !strings.Contains(addr, " ") {
		return addr[i+1:]
	}
	return addr
}

// match renders what a rule matches of protocol and ports: "tcp dport 22", "meta l4proto
// icmp", "icmp type 8", "" for every protocol. Ports are ICMP keys (type*256+code) for ICMP.
func match(proto verify.Protocol, ports verify.Ports) string {
	switch {
	case proto == verify.All:
		return ""
	case proto == verify.TCP || proto == verify.UDP:
		if ports.Equal(proto.Universe()) {
			return "meta l4proto " + proto.String()
		}
		return proto.String() + " dport " + portSet(ports)
	case proto == verify.ICMP:
		if ports.Equal(proto.Universe()) {
			return "meta l4proto icmp"
		}
		return icmpMatch(ports)
	}
	return "meta l4proto " + strconv.Itoa(int(proto))
}

// portSet renders ports as one value or an anonymous set.
func portSet(p verify.Ports) string {
	parts := make([]string, len(p))
	for i, iv := range p {
		parts[i] = strconv.Itoa(iv.Lo)
		if iv.Hi != iv.Lo {
			parts[i] += "-" + strconv.Itoa(iv.Hi)
		}
	}
	if len(parts) == 1 {
		return parts[0]
	}
	return "{ " + strings.Join(parts, ", ") + " }"
}

// icmpMatch renders ICMP keys: by type when each range is whole types, one type and code,
// else the raw 16 bits of type and code (the transport header's first two bytes).
func icmpMatch(p verify.Ports) string {
	whole := true
	var types verify.Ports
	for _, iv := range p {
		if iv.Lo&255 != 0 || iv.Hi&255 != 255 {
			whole = false
		}
		types = types.Union(verify.PortRange(iv.Lo>>8, iv.Hi>>8))
	}
	switch {
	case whole:
		return "icmp type " + portSet(types)
	case len(p) == 1 && p[0].Lo == p[0].Hi:
		return fmt.Sprintf("icmp type %d icmp code %d", p[0].Lo>>8, p[0].Lo&255)
	}
	return "meta l4proto icmp @th,0,16 " + portSet(p)
}

// describe renders protocol and ports for comments: "tcp 22", "icmp type 8", "all".
func describe(proto verify.Protocol, ports verify.Ports) string {
	if proto == verify.All {
		return "all traffic"
	}
	if proto == verify.ICMP || proto == verify.TCP || proto == verify.UDP {
		return verify.On(proto, ports)
	}
	return "protocol " + strconv.Itoa(int(proto))
}

// join joins the non-empty parts of a rule with spaces.
func join(parts ...string) string {
	var out []string
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, " ")
}

// cidrMatch matches an address against a CIDR ("" for 0.0.0.0/0).
func cidrMatch(field string, p netip.Prefix) string {
	if p.Bits() == 0 {
		return ""
	}
	return "ip " + field + " " + p.String()
}

// routerRules are the network ACLs in the router's forward hook: a packet leaving a subnet
// passes the subnet's ACL outbound, one entering a subnet passes its ACL inbound. An allow
// returns to the forward chain (the other ACL may still judge), a deny drops, and so does
// the implicit deny (*) at the end of each direction.
func (c *compiler) routerRules() string {
	var w writer
	w.line("# The VPC router of %s: network ACLs where AWS applies them, on traffic leaving or", c.vpc.Addr)
	w.line("# entering a subnet. Traffic inside a subnet stays on its bridge and meets no ACL.")
	w.line("flush ruleset")
	w.open("table ip %s", table)
	w.open("chain forward")
	w.line("type filter hook forward priority filter; policy accept;")
	for _, s := range c.n.Subnets {
		w.line("# leaving %s (%s): %s outbound", s.Name, s.CIDR, s.NACL.Addr)
		w.line(`iifname "%s" jump %s`, c.bridge[s], chainName(resName(s.NACL.Addr), "out"))
	}
	for _, s := range c.n.Subnets {
		w.line("# entering %s (%s): %s inbound", s.Name, s.CIDR, s.NACL.Addr)
		w.line(`oifname "%s" jump %s`, c.bridge[s], chainName(resName(s.NACL.Addr), "in"))
	}
	w.close()
	done := map[*verify.NACL]bool{}
	for _, s := range c.n.Subnets {
		if done[s.NACL] {
			continue
		}
		done[s.NACL] = true
		for _, egress := range []bool{false, true} {
			c.naclChain(&w, s.NACL, egress)
		}
	}
	w.close()
	return w.b.String()
}

// naclChain is one direction of a network ACL, in rule-number order.
func (c *compiler) naclChain(w *writer, a *verify.NACL, egress bool) {
	dir, peer, field := "in", "from", "saddr"
	entries := a.Ingress
	if egress {
		dir, peer, field, entries = "out", "to", "daddr", a.Egress
	}
	w.open("chain %s", chainName(resName(a.Addr), dir))
	for _, e := range entries {
		action, verdict := "allow", "return"
		if !e.Allow {
			action, verdict = "deny", "drop"
		}
		w.line("# #%d %s: %s %s %s %s", e.Number, e.Addr, action, describe(e.Proto, e.Ports), peer, e.CIDR)
		w.line("%s", join(cidrMatch(field, e.CIDR), match(e.Proto, e.Ports), verdict))
	}
	w.line("# (*) %s: no entry matches, implicit deny", a.Addr)
	w.line("drop")
	w.close()
}

// hostRules are a host's own filters: its security groups (stateful: replies pass, then
// every rule of every group), the load balancer's listeners and targets on an ALB node, the
// address rewrite of a NAT gateway. Outside hosts filter nothing.
func (c *compiler) hostRules(h *Host) string {
	var w writer
	w.line("# %s: %s %s", h.Name, h.Kind, h.Private)
	if h.Resource != "" {
		w.line("# %s in %s", h.Resource, h.Subnet)
	}
	w.line("flush ruleset")
	if !h.Inside() {
		w.line("# outside the VPC: nothing filters here")
		return w.b.String()
	}
	w.open("table inet %s", table)
	if h.ep.NoGroups {
		c.natRules(&w, h)
	} else {
		c.sgChains(&w, h)
	}
	if h.ep.Kind == verify.LBNode {
		c.lbChains(&w, h)
	}
	w.close()
	return w.b.String()
}

// stateful opens a filter base chain that lets replies and loopback through.
func stateful(w *writer, name, hook string, priority string) {
	w.open("chain %s", name)
	w.line("type filter hook %s priority %s; policy drop;", hook, priority)
	w.line("ct state established,related accept")
	if hook == "input" {
		w.line(`iif "lo" accept`)
	} else {
		w.line(`oif "lo" accept`)
	}
}

// sgChains are the security groups of a host, inbound and outbound.
func (c *compiler) sgChains(w *writer, h *Host) {
	var groups []string
	for _, g := range h.ep.Groups {
		groups = append(groups, g.Addr)
	}
	for _, egress := range []bool{false, true} {
		hook, name, field, peer := "input", "sg_in", "saddr", "from"
		if egress {
			hook, name, field, peer = "output", "sg_out", "daddr", "to"
		}
		w.line("# security groups (stateful: replies always pass): %s", strings.Join(groups, ", "))
		stateful(w, name, hook, "filter")
		if egress {
			w.line("# the instance metadata service and the VPC resolver: no security group filters them")
			w.line("ip daddr { %s, %s } accept", metadata, c.p.Resolver)
		}
		for _, g := range h.ep.Groups {
			rules := g.Ingress
			if egress {
				rules = g.Egress
			}
			for _, r := range rules {
				c.sgRule(w, r, field, peer)
			}
		}
		w.close()
	}
}

// sgRule renders one security-group rule; a group reference becomes the addresses of the
// group's members.
func (c *compiler) sgRule(w *writer, r *verify.SGRule, field, peer string) {
	ports := match(r.Proto, r.Ports)
	switch {
	case r.Peer != nil:
		members := c.p.hostsOf(r.Peer)
		if len(members) == 0 {
			w.line("# %s (%s): %s %s %s, which no host of the twin carries: nothing to allow", r.Addr, r.Group.Name, describe(r.Proto, r.Ports), peer, r.Peer.Name)
			return
		}
		w.line("# %s (%s): %s %s %s: %s", r.Addr, r.Group.Name, describe(r.Proto, r.Ports), peer, r.Peer.Name, names(members))
		w.line("%s", join("ip "+field+" "+addrSet(privates(members)), ports, "accept"))
	case r.CIDR.IsValid():
		w.line("# %s (%s): %s %s %s", r.Addr, r.Group.Name, describe(r.Proto, r.Ports), peer, r.CIDR)
		w.line("%s", join(cidrMatch(field, r.CIDR), ports, "accept"))
	case len(r.ListCIDRs) > 0:
		w.line("# %s (%s): %s %s the prefix list %s", r.Addr, r.Group.Name, describe(r.Proto, r.Ports), peer, r.PrefixList)
		w.line("%s", join("ip "+field+" "+addrSet(r.ListCIDRs), ports, "accept"))
	default:
		w.line("# %s (%s): %s %s an empty prefix list %s: nothing to allow", r.Addr, r.Group.Name, describe(r.Proto, r.Ports), peer, r.PrefixList)
	}
}

// lbChains are what an ALB node accepts and opens: connections on its listeners' ports,
// and connections to its registered targets on their traffic and health-check ports (in its
// own AZ only when cross-zone load balancing is off, and only in AZs where it has nodes).
func (c *compiler) lbChains(w *writer, h *Host) {
	lb := h.ep.LB
	w.line("# the load balancer %s: its listeners", lb.Addr)
	stateful(w, "lb_in", "input", "filter + 1")
	for _, l := range lb.Listeners {
		w.line("# %s", l.Addr)
		w.line("tcp dport %d accept", l.Port)
	}
	w.close()
	azs := map[string]bool{}
	for _, n := range lb.Nodes {
		azs[n.AZ()] = true
	}
	w.line("# the load balancer %s: connections to its targets", lb.Addr)
	stateful(w, "lb_out", "output", "filter + 1")
	w.line("ip daddr %s accept", c.p.Resolver)
	seen := map[*verify.TargetGroup]bool{}
	for _, l := range lb.Listeners {
		for _, g := range l.Groups {
			if seen[g] {
				continue
			}
			seen[g] = true
			cross := lb.CrossZone
			if g.CrossZone != nil {
				cross = *g.CrossZone
			}
			for _, t := range g.Targets {
				port := g.Port
				if t.Port != 0 {
					port = t.Port
				}
				ports := verify.Port(port)
				if g.HealthPort != 0 {
					ports = ports.Union(verify.Port(g.HealthPort))
				}
				for _, th := range c.p.Hosts {
					if !th.Inside() || th.ep.ENI() != t.ENI.ENI() {
						continue
					}
					switch {
					case !azs[th.AZ]:
						w.line("# %s: %s is in %s, where the load balancer has no node", g.Addr, th.Name, th.AZ)
					case !cross && th.AZ != h.AZ:
						w.line("# %s: %s is in another AZ and cross-zone load balancing is off", g.Addr, th.Name)
					default:
						w.line("# %s: %s (traffic and health checks)", g.Addr, th.Name)
						w.line("ip daddr %s tcp dport %s accept", th.Private, portSet(ports))
					}
				}
			}
		}
	}
	w.close()
}

// natRules are a NAT gateway: it forwards connections opened inside the VPC with its own
// address (which the internet gateway maps to its Elastic IP) and source ports 1024-65535,
// and accepts or opens no connection of its own. No security group applies.
func (c *compiler) natRules(w *writer, h *Host) {
	vpc := addrSet(c.vpc.CIDRs)
	w.line("# a NAT gateway: no security groups; it rewrites the source of what it forwards")
	w.open("chain nat_out")
	w.line("type nat hook postrouting priority srcnat; policy accept;")
	w.line(`oifname "eth0" ip saddr != %s meta l4proto { tcp, udp } masquerade to :1024-65535`, h.Private)
	w.line(`oifname "eth0" ip saddr != %s masquerade`, h.Private)
	w.close()
	w.line("# it forwards connections opened inside the VPC, never into it")
	w.open("chain forward")
	w.line("type filter hook forward priority filter; policy drop;")
	w.line("ct state established,related accept")
	w.line(`iifname "eth0" ip saddr %s ip daddr != %s accept`, vpc, vpc)
	w.close()
	w.line("# it accepts no connection addressed to itself, and opens none")
	stateful(w, "input", "input", "filter")
	w.close()
	stateful(w, "output", "output", "filter")
	w.close()
}

// igwRules are the internet gateway: each public address mapped 1:1 to its private address
// (ports kept), and only those addresses pass.
func (c *compiler) igwRules() string {
	var w writer
	w.line("# The internet gateway %s: public addresses mapped 1:1 to private ones;", c.vpc.IGW)
	w.line("# a private address without a public one neither leaves nor is reached.")
	w.line("flush ruleset")
	w.open("table ip %s", table)
	var mapped []*Host
	for _, h := range c.p.Hosts {
		if h.Public.IsValid() {
			mapped = append(mapped, h)
		}
	}
	w.open("chain public_in")
	w.line("type nat hook prerouting priority dstnat; policy accept;")
	for _, h := range mapped {
		w.line("# %s (%s)", h.Name, h.ep.PublicWhy)
		w.line(`iifname "inet" ip daddr %s dnat to %s`, h.Public, h.Private)
	}
	w.close()
	w.open("chain public_out")
	w.line("type nat hook postrouting priority srcnat; policy accept;")
	for _, h := range mapped {
		w.line(`oifname "inet" ip saddr %s snat to %s`, h.Private, h.Public)
	}
	w.close()
	w.open("chain forward")
	w.line("type filter hook forward priority filter; policy drop;")
	if c.vpc.IGW == "" {
		w.line("# %s has no internet gateway: nothing passes", c.vpc.Addr)
	} else if len(mapped) > 0 {
		set := addrSet(privates(mapped))
		w.line(`iifname "vpc" oifname "inet" ip saddr %s accept`, set)
		w.line(`iifname "inet" oifname "vpc" ip daddr %s accept`, set)
	}
	if gw := c.gateways(); len(gw) > 0 {
		w.line("# gateway endpoints: connections the VPC opens to the service's addresses, both addresses kept")
		w.line(`iifname "vpc" oifname "inet" ip daddr %s accept`, addrSet(gw))
		w.line(`iifname "inet" oifname "vpc" ip saddr %s ct state established,related accept`, addrSet(gw))
	}
	w.close()
	w.close()
	return w.b.String()
}
