package compiler

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/webtier/webtier/twin/kernel"

	"github.com/webtier/webtier/verify"
)

// Names of the twin's own namespaces (after the prefix) and of the links between them.
const (
	routerName = "router"
	igwName    = "igw"
	netName    = "net"
	// igwTable is the router's table for traffic coming in from the internet gateway.
	igwTable = 99
)

// compiler builds the namespaces of a plan whose hosts are placed.
type compiler struct {
	p   *Plan
	n   *verify.Network
	vpc *verify.VPC

	macs             int
	router, igw, net *kernel.Namespace
	// bridge and bridgeMAC name each subnet's bridge in the router, and its MAC.
	bridge    map[*verify.Subnet]string
	bridgeMAC map[*verify.Subnet]string
	// igwMACs are the MACs of the router-gateway and gateway-internet links (both ends).
	routerIGWMAC, igwRouterMAC, igwNetMAC, netIGWMAC string
}

// mac returns the next locally administered MAC address of the twin.
func (c *compiler) mac() string {
	c.macs++
	return fmt.Sprintf("02:77:74:00:%02x:%02x", c.macs>>8, c.macs&255)
}

func (c *compiler) ns(name string) *kernel.Namespace {
	return &kernel.Namespace{Name: c.p.Prefix + name}
}

func (c *compiler) build() {
	c.router, c.igw, c.net = c.ns(routerName), c.ns(igwName), c.ns(netName)
	c.bridge, c.bridgeMAC = map[*verify.Subnet]string{}, map[*verify.Subnet]string{}
	for i, s := range c.n.Subnets {
		c.bridge[s], c.bridgeMAC[s] = "s"+strconv.Itoa(i), c.mac()
	}
	c.routerIGWMAC, c.igwRouterMAC, c.igwNetMAC, c.netIGWMAC = c.mac(), c.mac(), c.mac(), c.mac()
	var hosts []*kernel.Namespace
	// Each host's link is named by its address (unique inside the VPC, and outside it), which
	// it keeps while other hosts launch and end around it: a change leaves every other host's
	// link, and the connections it holds, as they were.
	for _, h := range c.p.Hosts {
		a := h.Private.As4()
		kind, letter := "06", "h"
		h.gateway = netSide
		if h.Inside() {
			h.gateway = h.ep.Subnet.CIDR.Masked().Addr().Next()
		} else {
			kind, letter = "0a", "o"
		}
		h.mac = fmt.Sprintf("%s:%02x:%02x:%02x:%02x:01", kind, a[0], a[1], a[2], a[3])
		h.peerMAC = fmt.Sprintf("%s:%02x:%02x:%02x:%02x:02", kind, a[0], a[1], a[2], a[3])
		h.peerIf = fmt.Sprintf("%s%02x%02x%02x%02x", letter, a[0], a[1], a[2], a[3])
	}
	for _, h := range c.p.Hosts {
		hosts = append(hosts, c.hostNS(h))
	}
	c.buildIGW()
	c.buildRouter()
	c.buildNet()
	c.p.Namespaces = append(hosts, c.igw, c.router, c.net)
}

// reservedEnds is how many ports at each end of a host's ephemeral range its own services
// leave to the attempts of `twin test`.
const reservedEnds = 16

// sysctls every namespace of the twin gets: no IPv6 (the stack is IPv4), no reverse-path
// filter (the router's policy routing is asymmetric by design) and no redirects.
var baseSysctls = []string{
	"net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1",
	"net.ipv4.conf.all.rp_filter=0", "net.ipv4.conf.default.rp_filter=0",
	"net.ipv4.conf.all.send_redirects=0", "net.ipv4.conf.default.send_redirects=0",
	"net.ipv4.conf.all.accept_redirects=0",
}

// hostNS is the namespace of one host: its end of a veth pair whose other end is in the
// router (on the subnet's bridge) or in the internet.
func (c *compiler) hostNS(h *Host) *kernel.Namespace {
	ns := &kernel.Namespace{Name: h.Namespace}
	far := c.router.Name
	if !h.Inside() {
		far = c.net.Name
	}
	ns.Links = []string{fmt.Sprintf("link add eth0 address %s type veth peer name %s address %s netns %s", h.mac, h.peerIf, h.peerMAC, far)}
	ns.IP = []string{"link set lo up", "link set eth0 up"}
	// The ends of the ephemeral range are reserved: `twin test` binds its attempts there (an
	// attempt from a host's first and last ephemeral port), and a service of the host's own
	// (its mount, a page's call) that had picked one of them for its connection made the
	// attempt's bind fail. A reserved port is still bound when asked for by number.
	ns.Sysctl = append(slices.Clip(baseSysctls), "net.ipv4.conf.eth0.send_redirects=0",
		fmt.Sprintf("net.ipv4.ip_local_port_range=%d %d", h.Ephemeral[0], h.Ephemeral[1]),
		fmt.Sprintf("net.ipv4.ip_local_reserved_ports=%d-%d,%d-%d", h.Ephemeral[0], h.Ephemeral[0]+reservedEnds-1, h.Ephemeral[1]-reservedEnds+1, h.Ephemeral[1]))
	if h.Inside() {
		s := h.ep.Subnet
		ns.IP = append(ns.IP,
			fmt.Sprintf("addr add %s/%d dev eth0", h.Private, h.prefixLen),
			fmt.Sprintf("route add default via %s dev eth0", h.gateway),
			fmt.Sprintf("neigh replace %s lladdr %s dev eth0 nud permanent", h.gateway, c.bridgeMAC[s]))
		for _, o := range c.p.Hosts {
			if o != h && o.Inside() && o.ep.Subnet == s {
				ns.IP = append(ns.IP, fmt.Sprintf("neigh replace %s lladdr %s dev eth0 nud permanent", o.Private, o.mac))
			}
		}
		if h.ep.Kind == verify.Instance || h.ep.Kind == verify.ASGInstance {
			ns.IP = append(ns.IP, fmt.Sprintf("addr add %s/32 dev lo", metadata))
		}
		if h.ep.Kind == verify.NATGateway {
			ns.Sysctl = append(ns.Sysctl, "net.ipv4.ip_forward=1")
		}
	} else {
		ns.IP = append(ns.IP,
			fmt.Sprintf("addr add %s/32 dev eth0", h.Private),
			fmt.Sprintf("neigh replace %s lladdr %s dev eth0 nud permanent", netSide, h.peerMAC),
			fmt.Sprintf("route add default via %s dev eth0 onlink", netSide))
	}
	ns.NFT = c.hostRules(h)
	return ns
}

// buildIGW is the internet gateway: between the router and the internet, mapping each
// public address to its private one, and nothing for a private address.
func (c *compiler) buildIGW() {
	g := c.igw
	g.Links = []string{
		fmt.Sprintf("link add vpc address %s type veth peer name igw address %s netns %s", c.igwRouterMAC, c.routerIGWMAC, c.router.Name),
		fmt.Sprintf("link add inet address %s type veth peer name igw address %s netns %s", c.igwNetMAC, c.netIGWMAC, c.net.Name),
	}
	g.IP = []string{"link set lo up", "link set vpc up", "link set inet up",
		fmt.Sprintf("addr add %s/30 dev vpc", igwRouter),
		fmt.Sprintf("addr add %s/30 dev inet", igwNet),
		fmt.Sprintf("neigh replace %s lladdr %s dev vpc nud permanent", routerIGW, c.routerIGWMAC),
		fmt.Sprintf("neigh replace %s lladdr %s dev inet nud permanent", netIGW, c.netIGWMAC),
		"route add default via " + netIGW.String() + " dev inet",
	}
	for _, cidr := range c.vpc.CIDRs {
		g.IP = append(g.IP, fmt.Sprintf("route add %s via %s dev vpc", cidr, routerIGW))
	}
	g.Sysctl = append(slices.Clip(baseSysctls), "net.ipv4.ip_forward=1")
	g.NFT = c.igwRules()
}

// buildRouter is the VPC router: a bridge per subnet holding the subnet's hosts, the route
// tables as policy routing by the subnet a packet comes from, and the network ACLs.
func (c *compiler) buildRouter() {
	r := c.router
	r.IP = []string{"link set lo up"}
	for _, s := range c.n.Subnets {
		br := c.bridge[s]
		r.IP = append(r.IP,
			fmt.Sprintf("link add %s address %s type bridge", br, c.bridgeMAC[s]),
			fmt.Sprintf("addr add %s/%d dev %s", s.CIDR.Masked().Addr().Next(), s.CIDR.Bits(), br),
			fmt.Sprintf("link set %s up", br))
	}
	for _, h := range c.p.Hosts {
		if !h.Inside() {
			continue
		}
		br := c.bridge[h.ep.Subnet]
		r.IP = append(r.IP,
			fmt.Sprintf("link set %s master %s", h.peerIf, br),
			fmt.Sprintf("link set %s up", h.peerIf),
			fmt.Sprintf("neigh replace %s lladdr %s dev %s nud permanent", h.Private, h.mac, br))
	}
	r.IP = append(r.IP,
		fmt.Sprintf("addr add %s/32 dev lo", c.p.Resolver),
		"link set igw up",
		fmt.Sprintf("addr add %s/30 dev igw", routerIGW),
		fmt.Sprintf("neigh replace %s lladdr %s dev igw nud permanent", igwRouter, c.igwRouterMAC))
	// Traffic from the internet gateway is delivered by the local routes.
	r.IP = append(r.IP, fmt.Sprintf("rule add iif igw lookup %d pref %d", igwTable, igwTable))
	r.IP = append(r.IP, c.localRoutes(igwTable)...)
	tables := map[*verify.RouteTable]int{}
	for i, s := range c.n.Subnets {
		rt := s.Routes
		id, ok := tables[rt]
		if !ok {
			id = 100 + len(tables)
			tables[rt] = id
			r.IP = append(r.IP, c.tableRoutes(rt, id)...)
		}
		r.IP = append(r.IP, fmt.Sprintf("rule add iif %s lookup %d pref %d", c.bridge[s], id, 100+i))
	}
	r.Sysctl = append(slices.Clip(baseSysctls), "net.ipv4.ip_forward=1", "net.bridge.bridge-nf-call-iptables=0")
	r.NFT = c.routerRules()
}

// localRoutes are the VPC's local routes in a table: each subnet on its bridge, the rest of
// the VPC's range nowhere, and no default route.
func (c *compiler) localRoutes(table int) []string {
	var out []string
	for _, s := range c.n.Subnets {
		out = append(out, fmt.Sprintf("route add %s dev %s table %d", s.CIDR.Masked(), c.bridge[s], table))
	}
	for _, cidr := range c.vpc.CIDRs {
		out = append(out, fmt.Sprintf("route add blackhole %s table %d", cidr, table))
	}
	return append(out, fmt.Sprintf("route add blackhole default table %d", table))
}

// tableRoutes is one route table: the local routes, then each route to its target (a route
// to a target the twin does not build drops its traffic, as the verifier does not follow it).
func (c *compiler) tableRoutes(rt *verify.RouteTable, id int) []string {
	out := c.localRoutes(id)
	for _, route := range rt.Routes {
		switch route.Kind {
		case verify.TargetIGW:
			out = append(out, fmt.Sprintf("route replace %s via %s dev igw table %d", route.Dest, igwRouter, id))
		case verify.TargetNAT:
			nat := c.natHost(route.NAT)
			if nat == nil {
				out = append(out, fmt.Sprintf("route replace blackhole %s table %d", route.Dest, id))
				continue
			}
			out = append(out, fmt.Sprintf("route replace %s via %s dev %s table %d", route.Dest, nat.Private, c.bridge[nat.ep.Subnet], id))
		case verify.TargetGateway:
			// A gateway endpoint: to the service's addresses through AWS's edge (the
			// internet gateway's namespace here), both addresses kept.
			for _, cidr := range c.gatewayCIDRs(route) {
				out = append(out, fmt.Sprintf("route replace %s via %s dev igw table %d", cidr, igwRouter, id))
			}
		case verify.TargetOther:
			out = append(out, fmt.Sprintf("route replace blackhole %s table %d", route.Dest, id))
		}
	}
	return out
}

// gatewayCIDRs are the destinations of a gateway endpoint's route: its prefix list's CIDRs,
// or its destination.
func (c *compiler) gatewayCIDRs(r *verify.Route) []netip.Prefix {
	if r.List != "" {
		return r.ListCIDRs
	}
	return []netip.Prefix{r.Dest}
}

// gateways are every CIDR some route table sends to a gateway endpoint.
func (c *compiler) gateways() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range c.n.Subnets {
		for _, r := range s.Routes.Routes {
			if r.Kind == verify.TargetGateway {
				for _, cidr := range c.gatewayCIDRs(r) {
					if !slices.Contains(out, cidr) {
						out = append(out, cidr)
					}
				}
			}
		}
	}
	return out
}

// natHost is the host of a NAT gateway's ENI.
func (c *compiler) natHost(e *verify.Endpoint) *Host {
	for _, h := range c.p.Hosts {
		if h.Inside() && h.ep.ENI() == e {
			return h
		}
	}
	return nil
}

// buildNet is the internet: a router with a link to the internet gateway, which holds the
// stack's public addresses, and one to each outside host. It has no other route.
func (c *compiler) buildNet() {
	t := c.net
	t.IP = []string{"link set lo up", "link set igw up",
		fmt.Sprintf("addr add %s/30 dev igw", netIGW),
		fmt.Sprintf("neigh replace %s lladdr %s dev igw nud permanent", igwNet, c.igwNetMAC)}
	for _, h := range c.p.Hosts {
		if h.Public.IsValid() {
			t.IP = append(t.IP, fmt.Sprintf("route add %s/32 via %s dev igw", h.Public, igwNet))
		}
	}
	if len(c.gateways()) > 0 {
		// Replies of gateway-endpoint traffic go back to the VPC's private addresses; the
		// internet gateway lets only those through.
		for _, cidr := range c.vpc.CIDRs {
			t.IP = append(t.IP, fmt.Sprintf("route add %s via %s dev igw", cidr, igwNet))
		}
	}
	for _, h := range c.p.Hosts {
		if h.Inside() {
			continue
		}
		t.IP = append(t.IP,
			fmt.Sprintf("link set %s up", h.peerIf),
			fmt.Sprintf("addr add %s/32 dev %s", netSide, h.peerIf),
			fmt.Sprintf("route add %s/32 dev %s", h.Private, h.peerIf),
			fmt.Sprintf("neigh replace %s lladdr %s dev %s nud permanent", h.Private, h.mac, h.peerIf))
	}
	t.Sysctl = append(slices.Clip(baseSysctls), "net.ipv4.ip_forward=1")
}

// addrSet renders addresses or prefixes as one nftables value or an anonymous set.
func addrSet[T fmt.Stringer](list []T) string {
	if len(list) == 1 {
		return list[0].String()
	}
	parts := make([]string, len(list))
	for i, a := range list {
		parts[i] = a.String()
	}
	return "{ " + strings.Join(parts, ", ") + " }"
}

// privates are the private addresses of hosts.
func privates(hosts []*Host) []netip.Addr {
	out := make([]netip.Addr, len(hosts))
	for i, h := range hosts {
		out[i] = h.Private
	}
	return out
}

// names are the names of hosts.
func names(hosts []*Host) string {
	out := make([]string, len(hosts))
	for i, h := range hosts {
		out[i] = h.Name
	}
	return strings.Join(out, ", ")
}
