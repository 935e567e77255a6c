// Package twin runs a stack's network as real packets on this machine: every ENI a network
// namespace, the VPC router a namespace with a bridge per subnet, the network ACLs and
// security groups compiled to nftables, the internet gateway and NAT gateways as namespaces
// that rewrite addresses, and the parties outside the VPC as namespaces of their own. The
// kernel then judges the same rules the verifier judges, and the two are compared.
//
// A functional core and an imperative shell: Compile turns the verifier's model into a Plan
// (namespaces, links, addresses, routes, one nftables text per namespace) with no side
// effects, golden-tested; Up and Down apply and remove a plan with `ip` and `nft -f`.
//
// The twin never links to this machine's own network: every link is a veth pair between two
// of its namespaces, and no namespace has a route out of the twin.
package compiler

import (
	"cmp"
	"fmt"
	"maps"
	"net/netip"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/webtier/webtier/twin/kernel"

	"github.com/webtier/webtier/rules"
	"github.com/webtier/webtier/verify"
)

// DefaultPrefix starts the name of every namespace a twin makes.
const DefaultPrefix = "wt-"

// Made-up addresses. The internet's parties take documentation addresses (RFC 5737): the
// client from 198.51.100.0/24, the stack's public addresses and the host elsewhere from
// 192.0.2.0/24. The links between the twin's routers take link-local addresses.
var (
	internetClient = netip.MustParseAddr("198.51.100.7")
	elsewhere      = netip.MustParseAddr("192.0.2.8")
	// docRange1 and docRange2 are where the client and the host elsewhere go when a rule of the
	// stack names the range of their preferred address.
	docRange1, docRange2 = netip.MustParsePrefix("198.51.100.0/24"), netip.MustParsePrefix("192.0.2.0/24")
	publicPool           = netip.MustParsePrefix("192.0.2.0/24")
	publicFirst          = netip.MustParseAddr("192.0.2.10")
	// The router's link to the internet gateway, the gateway's link to the internet, and the
	// address the internet's side of each outside host's link answers on.
	routerIGW, igwRouter = netip.MustParseAddr("169.254.1.1"), netip.MustParseAddr("169.254.1.2")
	igwNet, netIGW       = netip.MustParseAddr("169.254.2.1"), netip.MustParseAddr("169.254.2.2")
	netSide              = netip.MustParseAddr("169.254.0.1")
	metadata             = netip.MustParseAddr("169.254.169.254")
)

// Host is one party of the twin: an ENI of the stack or a host outside the VPC.
type Host struct {
	Name string     `json:"name"`
	Role rules.Role `json:"role"`
	// Kind says what the host is, and for a stand-in what it stands in for.
	Kind     string     `json:"kind"`
	Resource string     `json:"resource,omitempty"`
	Subnet   string     `json:"subnet,omitempty"`
	AZ       string     `json:"az,omitempty"`
	Private  netip.Addr `json:"private"`
	Public   netip.Addr `json:"public,omitzero"`
	// InstanceID is the deployment's instance ID, when the twin is of a deployed stack.
	InstanceID string `json:"instance_id,omitempty"`
	Namespace  string `json:"namespace"`
	// Ephemeral is the range the host opens connections from (ip_local_port_range).
	Ephemeral [2]int `json:"ephemeral"`
	// Listen are the TCP ports the flows let into the host's role, held by its stand-in
	// listener.
	Listen []int `json:"listen,omitempty"`

	// ep is the verifier's endpoint at this host's address; stands, for an outside host, is
	// the verifier's address of the class the host stands for.
	ep     *verify.Endpoint
	stands netip.Addr
	mac    string
	// peerIf and peerMAC are the router's (or the internet's) end of the host's link.
	peerIf, peerMAC string
	gateway         netip.Addr
	prefixLen       int
	// key names the host's addresses in Kept.Addresses.
	key string
}

// Inside reports whether the host is an ENI of the VPC.
func (h *Host) Inside() bool { return h.ep.Inside() }

// Endpoint is the verifier's endpoint at the host's address.
func (h *Host) Endpoint() *verify.Endpoint { return h.ep }

// Stands is, for a host outside the VPC, the verifier's address of the class it stands for.
func (h *Host) Stands() netip.Addr { return h.stands }

// Network is the verifier's model the plan was compiled from (nil for a plan read back from a
// running twin's state).
func (p *Plan) Network() *verify.Network { return p.net }

// Plan is a twin ready to apply.
type Plan struct {
	Prefix string  `json:"prefix"`
	Hosts  []*Host `json:"hosts"`
	// Namespaces in the order they are built: hosts, then the internet gateway, the router
	// and the internet, so that each link's far end exists when it is configured.
	Namespaces []*kernel.Namespace `json:"namespaces"`
	// Resolver is the VPC resolver's address (VPC base + 2), answered by the router.
	Resolver netip.Addr `json:"resolver"`
	Notes    []string   `json:"notes,omitempty"`
	// Live is true for the twin of a deployed stack, read back from its APIs.
	Live bool `json:"live,omitempty"`
	// Kept is what a running twin keeps from one compile to the next.
	Kept
	// Access is what AWS consults for the web servers' calls: the stand-ins that AWS
	// authorizes decide with it (iam.go).
	Access *verify.Access `json:"access,omitempty"`
	// Alarms are the stack's metric alarms: the twin's CloudWatch stand-in evaluates those on
	// what it measures (alarms.go).
	Alarms []verify.MetricAlarm `json:"alarms,omitempty"`
	// DBEvents are the stack's RDS event subscriptions, which the database's stand-in sends
	// its failover to.
	DBEvents []verify.EventSubscription `json:"db_events,omitempty"`

	net *verify.Network
}

// Kept is what a running twin keeps from one compile to the next: its Auto Scaling groups
// (by resource) where they differ from the stack's, and every host's addresses.
type Kept struct {
	// Desired is the size of each group the twin's controller set.
	Desired map[string]int `json:"desired,omitempty"`
	// Members are the instances of each group in launch order, kept once an instance refresh
	// has replaced some: each keeps its name and address while the group grows, shrinks and is
	// refreshed (without them the names are numbered in order).
	Members map[string][]Member `json:"members,omitempty"`
	// Numbered is the highest number a member's name took, by role and AZ ("web-a"): a new
	// member never takes the name of one that ended, as AWS never reuses an instance ID.
	Numbered map[string]int `json:"numbered,omitempty"`
	// Leaving are members about to be terminated (an instance refresh launches their
	// replacements first): a new member launches in the AZ with the fewest that stay.
	Leaving map[string][]string `json:"-"`
	// Addresses are where each host is, by its resource and subnet (a group member by its
	// name): a host a change does not replace keeps its addresses, as an ENI does in AWS,
	// however many hosts the change adds or removes beside it.
	Addresses map[string]Placement `json:"addresses,omitempty"`
}

// Placement is a host's private and public address.
type Placement struct {
	Private netip.Addr `json:"private"`
	Public  netip.Addr `json:"public,omitzero"`
}

// Clone is a copy of g whose maps can be changed.
func (g Kept) Clone() Kept {
	out := Kept{Desired: maps.Clone(g.Desired), Members: maps.Clone(g.Members), Numbered: maps.Clone(g.Numbered), Addresses: maps.Clone(g.Addresses)}
	if out.Desired == nil {
		out.Desired = map[string]int{}
	}
	if out.Members == nil {
		out.Members = map[string][]Member{}
	}
	if out.Numbered == nil {
		out.Numbered = map[string]int{}
	}
	return out
}

// Count notes the numbers of members' names ("web-a-2"), so that none is given again.
func (g Kept) Count(members []Member) {
	for _, m := range members {
		i := strings.LastIndex(m.Name, "-")
		if k, err := strconv.Atoi(m.Name[i+1:]); err == nil && i > 0 {
			g.Numbered[m.Name[:i]] = max(g.Numbered[m.Name[:i]], k)
		}
	}
}

// MembersOf is the group's members in launch order.
func (p *Plan) MembersOf(res string) []Member {
	var out []Member
	for _, h := range p.Hosts {
		if h.Resource == res {
			out = append(out, Member{Name: h.Name, AZ: h.AZ, Addr: h.Private})
		}
	}
	return out
}

// Member is one instance of an Auto Scaling group in a running twin.
type Member struct {
	Name string     `json:"name"`
	AZ   string     `json:"az"`
	Addr netip.Addr `json:"addr"`
}

// Host returns the host named name, or an error listing the names.
func (p *Plan) Host(name string) (*Host, error) {
	var names []string
	for _, h := range p.Hosts {
		if h.Name == name {
			return h, nil
		}
		names = append(names, h.Name)
	}
	return nil, fmt.Errorf("no host %q in the twin; it has %s", name, strings.Join(names, ", "))
}

// HostsOfRole are the hosts of a role, in plan order.
func (p *Plan) HostsOfRole(role rules.Role) []*Host {
	var out []*Host
	for _, h := range p.Hosts {
		if h.Role == role {
			out = append(out, h)
		}
	}
	return out
}

// ALBAddrs are the public addresses of the ALB nodes, with the listener port.
func (p *Plan) ALBAddrs(port int) []string {
	var out []string
	for _, h := range p.HostsOfRole("alb") {
		if h.Public.IsValid() {
			out = append(out, netip.AddrPortFrom(h.Public, uint16(port)).String())
		}
	}
	return out
}

// Compile builds the plan of a twin of n: the hosts, the router, the gateways and the
// outside parties with their addresses, routes and nftables rulesets.
func Compile(n *verify.Network, in verify.Intent, prefix string) (*Plan, error) {
	return CompileDesired(n, in, prefix, Kept{})
}

// CompileDesired is Compile with what a running twin keeps: its Auto Scaling groups at their
// sizes and with their members instead of the stack's, and its hosts' addresses.
func CompileDesired(n *verify.Network, in verify.Intent, prefix string, kept Kept) (*Plan, error) {
	if len(n.VPCs) != 1 {
		return nil, fmt.Errorf("the twin builds one VPC; the stack has %d", len(n.VPCs))
	}
	vpc := n.VPCs[0]
	if len(vpc.CIDRs) == 0 || !vpc.CIDRs[0].Addr().Is4() {
		return nil, fmt.Errorf("%s: the twin needs an IPv4 CIDR", vpc.Addr)
	}
	p := &Plan{Prefix: prefix, net: n, Resolver: vpc.CIDRs[0].Addr().Next().Next(), Kept: kept.Clone(), Access: verify.AccessOf(n, in),
		Alarms: n.MetricAlarms(), DBEvents: n.DBEventSubscriptions()}
	p.Leaving = kept.Leaving
	for _, what := range p.Access.Unread {
		p.Notes = append(p.Notes, "not enforced by the stand-ins, the stack's read lacking it: "+what)
	}
	if err := p.placeHosts(n, in); err != nil {
		return nil, err
	}
	for _, h := range p.Hosts {
		for _, f := range in.Flows {
			if f.To == h.Role && f.Port.Proto == rules.TCP && f.Port.From == f.Port.To && !slices.Contains(h.Listen, f.Port.From) {
				h.Listen = append(h.Listen, f.Port.From)
			}
		}
		slices.Sort(h.Listen)
	}
	c := &compiler{p: p, n: n, vpc: vpc}
	c.build()
	return p, nil
}

// shortRole names a role in host names.
func shortRole(r rules.Role) string {
	if r == rules.SecretsEndpoint {
		return "secrets"
	}
	return string(r)
}

// azLetter is the last letter of an AZ's name: "a" for ap-northeast-2a.
func azLetter(az string) string {
	if az == "" {
		return "x"
	}
	return az[len(az)-1:]
}

// placeHosts makes a host of every ENI (an Auto Scaling group's desired instances spread
// over its subnets) and of every class of outside addresses the verifier judges, and gives
// each its addresses.
func (p *Plan) placeHosts(n *verify.Network, in verify.Intent) error {
	used := map[netip.Addr]bool{}
	for _, s := range n.Subnets {
		// The network address, AWS's four reserved addresses and the broadcast address.
		a := s.CIDR.Masked().Addr()
		for range 4 {
			used[a] = true
			a = a.Next()
		}
		used[lastAddr(s.CIDR)] = true
	}
	type placed struct {
		ep   *verify.Endpoint
		base string
		kind string
		// addr and id are a running instance's, from a deployed stack.
		addr netip.Addr
		id   string
		// name is a group member's of a running twin.
		name string
	}
	var list []placed
	fleets := map[string][]*verify.Endpoint{}
	var fleetOrder []string
	for _, e := range n.Endpoints {
		if e.ENI() != e {
			continue // another address class of the same ENI
		}
		if e.Kind == verify.ASGInstance {
			if fleets[e.Res] == nil {
				fleetOrder = append(fleetOrder, e.Res)
			}
			fleets[e.Res] = append(fleets[e.Res], e)
			continue
		}
		base := shortRole(e.Role)
		if e.Role == rules.SSMEndpoint {
			base = serviceOf(e) // one endpoint per service: "ssmmessages-a"
		}
		pl := placed{ep: e, base: base + "-" + azLetter(e.AZ()), kind: e.Kind.String()}
		if e.Kind == verify.Instance {
			pl.id = e.ID // an instance ID (a NAT gateway's ID is not one)
		}
		list = append(list, pl)
	}
	for _, res := range fleetOrder {
		subnets := fleets[res]
		var members []placed
		perAZ := map[string]int{}
		for _, e := range subnets {
			for _, in := range e.Instances {
				// Where the deployment runs them.
				members = append(members, placed{e, shortRole(e.Role) + "-" + azLetter(e.AZ()), e.Kind.String(), in.Addr, in.ID, ""})
				perAZ[e.AZ()]++
			}
		}
		if kept, ok := p.Members[res]; ok {
			members, perAZ = nil, map[string]int{}
			for _, m := range kept {
				i := slices.IndexFunc(subnets, func(e *verify.Endpoint) bool { return e.AZ() == m.AZ })
				if i < 0 {
					return fmt.Errorf("%s: the group has no subnet in %s, where %s runs", res, m.AZ, m.Name)
				}
				e := subnets[i]
				members = append(members, placed{e, shortRole(e.Role) + "-" + azLetter(e.AZ()), e.Kind.String(), m.Addr, "", m.Name})
				if !slices.Contains(p.Leaving[res], m.Name) {
					perAZ[e.AZ()]++
				}
			}
		}
		size := len(members)
		if size == 0 {
			size = max(subnets[0].Desired, 1)
		}
		if d, ok := p.Desired[res]; ok {
			size = d
		}
		// A group that grows launches in the AZ with the fewest instances (the subnets'
		// order breaks ties), as Auto Scaling balances AZs; one that shrinks ends its newest.
		for len(members) < size {
			e := subnets[0]
			for _, s := range subnets[1:] {
				if perAZ[s.AZ()] < perAZ[e.AZ()] {
					e = s
				}
			}
			perAZ[e.AZ()]++
			members = append(members, placed{ep: e, base: shortRole(e.Role) + "-" + azLetter(e.AZ()), kind: e.Kind.String()})
		}
		list = append(list, members[:size]...)
	}
	// Names: role and AZ ("bastion-a"), numbered when several share them ("web-a-1"); a
	// member launched beside named ones takes the next number of its role and AZ.
	count := map[string]int{}
	last := maps.Clone(p.Numbered)
	for _, pl := range list {
		count[pl.base]++
		if k, err := strconv.Atoi(strings.TrimPrefix(pl.name, pl.base+"-")); err == nil && pl.name != "" {
			last[pl.base] = max(last[pl.base], k)
		}
	}
	seen := map[string]int{}
	names := make([]string, len(list))
	for i, pl := range list {
		e := pl.ep
		name := pl.base
		seen[pl.base]++
		switch {
		case pl.name != "":
			name = pl.name
		case p.Members[e.Res] != nil:
			last[pl.base]++
			name += "-" + strconv.Itoa(last[pl.base])
		case count[pl.base] > 1 || e.Kind == verify.ASGInstance:
			name += "-" + strconv.Itoa(seen[pl.base])
		}
		names[i] = name
	}
	// The addresses a running twin's hosts have, kept before a new host takes one.
	keys := make([]string, len(list))
	kept := make([]Placement, len(list))
	for i, pl := range list {
		keys[i] = placementKey(pl.ep, names[i])
		if a, ok := p.Addresses[keys[i]]; ok && pl.ep.Subnet.CIDR.Contains(a.Private) && !used[a.Private] {
			kept[i] = a
			used[a.Private] = true
		}
	}
	dbs := map[string]int{}
	for i, pl := range list {
		e := pl.ep
		name := names[i]
		addr := kept[i].Private
		if !addr.IsValid() {
			want := e.Addr
			if pl.addr.IsValid() && e.Subnet.CIDR.Contains(pl.addr) {
				want = pl.addr
			}
			a, err := freeIn(e.Subnet.CIDR, want, used)
			if err != nil {
				return fmt.Errorf("%s: %w", e.Name, err)
			}
			addr = a
			used[addr] = true
		}
		kind := pl.kind
		if e.Kind == verify.Database {
			// Multi-AZ: the primary in the group's first subnet, the standby in the next.
			dbs[e.Res]++
			kind += map[bool]string{true: " (primary)", false: " (standby)"}[dbs[e.Res] == 1]
		}
		eph := e.Ephemeral[0]
		h := &Host{Name: name, Role: e.Role, Kind: kind, Resource: e.Res, Subnet: e.Subnet.Name, AZ: e.AZ(),
			Private: addr, Namespace: p.Prefix + name, Ephemeral: [2]int{eph.Lo, eph.Hi}, InstanceID: pl.id,
			ep: e.At(addr, 0), prefixLen: e.Subnet.CIDR.Bits(), key: keys[i]}
		p.Hosts = append(p.Hosts, h)
	}
	for res := range p.Members {
		p.Members[res] = p.MembersOf(res)
		for _, pl := range list {
			if pl.ep.Res == res {
				p.Numbered[pl.base] = last[pl.base]
			}
		}
	}
	// Public addresses from the documentation range: those kept, then the next free in host
	// order.
	public := map[netip.Addr]bool{}
	for _, h := range p.Hosts {
		if a := p.Addresses[h.key].Public; h.ep.Public && publicPool.Contains(a) && !public[a] {
			h.Public = a
			public[a] = true
		}
	}
	next := publicFirst
	for _, h := range p.Hosts {
		if !h.ep.Public || h.Public.IsValid() {
			continue
		}
		for public[next] {
			next = next.Next()
		}
		if !publicPool.Contains(next) {
			return fmt.Errorf("more public addresses than %s holds", publicPool)
		}
		h.Public = next
		public[next] = true
	}
	p.Addresses = map[string]Placement{}
	for _, h := range p.Hosts {
		p.Addresses[h.key] = Placement{Private: h.Private, Public: h.Public}
	}
	return p.placeOutside(n, in)
}

// placementKey names where a host is, for a running twin to keep it: a group member by its
// name, any other host by its resource and subnet (one ENI of a resource per subnet).
func placementKey(e *verify.Endpoint, name string) string {
	if e.Kind == verify.ASGInstance {
		return name
	}
	return e.Res + " in " + e.Subnet.Name
}

// placeOutside makes a host for each class of outside addresses the verifier judges: the
// internet client and the host elsewhere on documentation addresses, the admin and
// repository hosts (and any other range a rule names) at the verifier's own address of the
// class, which is one of the stack's.
func (p *Plan) placeOutside(n *verify.Network, in verify.Intent) error {
	var outside []*verify.Endpoint
	for _, e := range verify.Judged(n, in) {
		if !e.Inside() {
			outside = append(outside, e)
		}
	}
	count := map[string]int{}
	used := map[netip.Addr]bool{}
	for i, e := range outside {
		if i > 0 && i < len(outside)-1 {
			used[e.Addr] = true // where a host of that class goes
		}
	}
	for _, h := range p.Hosts {
		used[h.Public] = true
	}
	// The internet client and the host elsewhere take a documentation address of their class
	// (another, should the stack's rules name the preferred one's range), else the verifier's.
	documentation := func(want netip.Addr, e *verify.Endpoint) netip.Addr {
		for _, r := range []netip.Prefix{netip.PrefixFrom(want, 32), docRange1, docRange2} {
			for a := r.Addr(); r.Contains(a); a = a.Next() {
				if !used[a] && n.SameClass(a, e.Addr) {
					used[a] = true
					return a
				}
			}
		}
		return e.Addr
	}
	for i, e := range outside {
		addr, name, kind := e.Addr, "", ""
		switch {
		case i == 0:
			addr, name, kind = documentation(internetClient, e), "internet", "internet client (a browser anywhere)"
		case i == len(outside)-1:
			addr, name, kind = documentation(elsewhere, e), "elsewhere", "a host elsewhere on the internet (stands for "+e.Addr.String()+")"
		case e.Role == rules.Admin:
			name, kind = "admin", "admin host (in admin_cidrs)"
		case e.Role == rules.Repos:
			name, kind = "repo", "package repository (in repo_cidrs)"
		default:
			name, kind = "outside", "a host in a range the stack's rules name"
		}
		if count[name]++; count[name] > 1 {
			name += "-" + strconv.Itoa(count[name])
		}
		eph := e.Ephemeral[0]
		p.Hosts = append(p.Hosts, &Host{Name: name, Role: e.Role, Kind: kind, Private: addr,
			Namespace: p.Prefix + name, Ephemeral: [2]int{eph.Lo, eph.Hi}, ep: e.At(addr, 0), stands: e.Addr, prefixLen: 32})
	}
	return nil
}

// freeIn returns want if it is free, else the next free address of the subnet.
func freeIn(subnet netip.Prefix, want netip.Addr, used map[netip.Addr]bool) (netip.Addr, error) {
	for a := want; subnet.Contains(a); a = a.Next() {
		if !used[a] {
			return a, nil
		}
	}
	for a := subnet.Masked().Addr(); subnet.Contains(a); a = a.Next() {
		if !used[a] {
			return a, nil
		}
	}
	return netip.Addr{}, fmt.Errorf("%s has no free address left for the twin", subnet)
}

// lastAddr is the highest address of a prefix.
func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().As4()
	host := 32 - p.Bits()
	for i := 3; i >= 0 && host > 0; i-- {
		bits := min(host, 8)
		b[i] |= byte(1<<bits - 1)
		host -= bits
	}
	return netip.AddrFrom4(b)
}

// hostsOf returns the ENI hosts carrying the security group g.
func (p *Plan) hostsOf(g *verify.SecurityGroup) []*Host {
	var out []*Host
	for _, h := range p.Hosts {
		if h.Inside() && slices.Contains(h.ep.Groups, g) {
			out = append(out, h)
		}
	}
	return out
}

// Text renders the plan for a reviewer: the hosts, then every namespace's ruleset.
func (p *Plan) Text() string {
	var b strings.Builder
	b.WriteString("# The twin's hosts: name, role, subnet, private and public address\n")
	for _, h := range p.Hosts {
		pub := "-"
		if h.Public.IsValid() {
			pub = h.Public.String()
		}
		fmt.Fprintf(&b, "#   %-12s %-17s %-10s %-15s %s\n", h.Name, h.Role, cmp.Or(h.Subnet, "outside"), h.Private, pub)
	}
	for _, ns := range p.Namespaces {
		if ns.NFT == "" {
			continue
		}
		fmt.Fprintf(&b, "\n# ===== namespace %s =====\n%s", strings.TrimPrefix(ns.Name, p.Prefix), ns.NFT)
	}
	return b.String()
}

// Where names the twin in the drill's verdict line, so that its table is never read as one of
// AWS.
const Where = "the twin (stand-ins, not AWS)"

// Fleet is the twin's Auto Scaling group: its resource and scaling, from the plan's hosts.
func (p *Plan) Fleet() (res string, sc *verify.Scaling, hosts []*Host) {
	for _, h := range p.Hosts {
		if h.Inside() && h.ep.Kind == verify.ASGInstance && (res == "" || h.ep.Res == res) {
			res, sc = h.ep.Res, h.ep.Scaling
			hosts = append(hosts, h)
		}
	}
	return res, sc, hosts
}

// StateDir is where a twin keeps its plan and rulesets while it is up.
func StateDir(prefix string) string {
	return filepath.Join("/run/webtier", strings.TrimSuffix(prefix, "-"))
}
