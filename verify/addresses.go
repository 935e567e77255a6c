package verify

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"strings"

	"github.com/webtier/webtier/rules"
)

// Addresses. Rules and routes speak of prefixes, and prefixes nest or are disjoint, so the
// addresses of a subnet (or of the internet) fall into classes that no rule tells apart: a
// prefix of the configuration minus the prefixes inside it. One address per class stands
// for the class; a connection is judged for every one of them. With the web tier's /24 rules
// each subnet is one class.

// place chooses the addresses of every ENI and names the endpoints. It runs once, after
// loading.
func (n *Network) place() {
	n.family = n.prefixes()
	for _, s := range n.Subnets {
		s.reps = representatives(s.CIDR, n.family, nil)
	}
	var placed []*Endpoint
	for _, e := range n.Endpoints {
		e.eni = e
		if e.Addr.IsValid() {
			placed = append(placed, e)
			continue
		}
		for i, a := range e.Subnet.reps {
			c := e
			if i > 0 {
				copy := *e
				c = &copy
			}
			c.Addr = a
			placed = append(placed, c)
		}
	}
	order := map[rules.Role]int{}
	for i, r := range rules.Roles {
		order[r] = i + 1
	}
	sort.SliceStable(placed, func(i, j int) bool {
		a, b := placed[i], placed[j]
		if order[a.Role] != order[b.Role] {
			return order[a.Role] < order[b.Role] || order[b.Role] == 0 && order[a.Role] != 0
		}
		if a.Role != b.Role {
			return a.Role < b.Role
		}
		if a.Subnet.Name != b.Subnet.Name {
			return a.Subnet.Name < b.Subnet.Name
		}
		if a.Res != b.Res {
			return a.Res < b.Res
		}
		return a.Addr.Less(b.Addr)
	})
	n.Endpoints = placed
	n.name()
}

// name gives every endpoint its name: "web@web-a", with what tells two resources of one role
// in a subnet apart (an interface endpoint's service, "ssm-endpoint@web-a:ssmmessages", the
// same in a synthesized stack and a deployed one; else the resource's name) and the address
// when a subnet has several classes.
func (n *Network) name() {
	resources := map[string]map[string]bool{}
	labels := map[string]map[string]int{}
	label := func(e *Endpoint) string {
		if e.Service != "" {
			return e.Service[strings.LastIndexByte(e.Service, '.')+1:]
		}
		return e.Res[strings.IndexByte(e.Res, '.')+1:]
	}
	for _, e := range n.Endpoints {
		base := string(e.Role) + "@" + e.Subnet.Name
		if resources[base] == nil {
			resources[base], labels[base] = map[string]bool{}, map[string]int{}
		}
		if !resources[base][e.Res] {
			labels[base][label(e)]++
		}
		resources[base][e.Res] = true
	}
	for _, e := range n.Endpoints {
		base := string(e.Role) + "@" + e.Subnet.Name
		e.Name = base
		if len(resources[base]) > 1 {
			if l := label(e); labels[base][l] == 1 {
				e.Name += ":" + l
			} else {
				e.Name += ":" + e.Res[strings.IndexByte(e.Res, '.')+1:]
			}
		}
		if len(e.Subnet.reps) > 1 {
			e.Name += "[" + e.Addr.String() + "]"
		}
		keys := make([]string, len(e.Groups))
		for i, g := range e.Groups {
			keys[i] = g.Addr
		}
		sort.Strings(keys)
		e.groupKey = strings.Join(keys, ",")
	}
}

// prefixes is every IPv4 prefix of the model, without repeats.
func (n *Network) prefixes() []netip.Prefix {
	seen := map[netip.Prefix]bool{}
	var out []netip.Prefix
	add := func(p netip.Prefix) {
		if p.IsValid() && !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	for _, v := range n.VPCs {
		for _, c := range v.CIDRs {
			add(c)
		}
	}
	for _, s := range n.Subnets {
		add(s.CIDR)
	}
	for _, t := range n.routeTables() {
		for _, r := range t.Routes {
			add(r.Dest)
			for _, c := range r.ListCIDRs {
				add(c)
			}
		}
	}
	for _, a := range n.nacls() {
		for _, e := range append(slices.Clip(a.Ingress), a.Egress...) {
			add(e.CIDR)
		}
	}
	for _, g := range n.groups() {
		for _, r := range append(slices.Clip(g.Ingress), g.Egress...) {
			add(r.CIDR)
			for _, c := range r.ListCIDRs {
				add(c)
			}
		}
	}
	return out
}

// routeTables, nacls and groups list the model's tables, ACLs and groups that apply to a
// subnet or an ENI, and the VPC defaults, in a fixed order.
func (n *Network) routeTables() []*RouteTable {
	return collect(n, func(v *VPC) *RouteTable { return v.Main }, func(s *Subnet) []*RouteTable { return []*RouteTable{s.Routes} })
}

func (n *Network) nacls() []*NACL {
	return collect(n, func(v *VPC) *NACL { return v.DefaultNACL }, func(s *Subnet) []*NACL { return []*NACL{s.NACL} })
}

func (n *Network) groups() []*SecurityGroup {
	list := collect(n, func(v *VPC) *SecurityGroup { return v.DefaultSG }, func(*Subnet) []*SecurityGroup { return nil })
	seen := map[*SecurityGroup]bool{}
	for _, g := range list {
		seen[g] = true
	}
	var walk func(g *SecurityGroup)
	walk = func(g *SecurityGroup) {
		if g == nil || seen[g] {
			return
		}
		seen[g] = true
		list = append(list, g)
		for _, r := range append(slices.Clip(g.Ingress), g.Egress...) {
			walk(r.Peer)
		}
	}
	for _, e := range n.Endpoints {
		for _, g := range e.Groups {
			walk(g)
		}
	}
	return list
}

// collect lists, without repeats, one thing of each VPC and the things of each subnet.
func collect[T comparable](n *Network, ofVPC func(*VPC) T, ofSubnet func(*Subnet) []T) []T {
	seen := map[T]bool{}
	var out []T
	add := func(t T) {
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	for _, v := range n.VPCs {
		add(ofVPC(v))
	}
	for _, s := range n.Subnets {
		for _, t := range ofSubnet(s) {
			add(t)
		}
	}
	return out
}

// representatives returns one address for each class of addresses inside p: each prefix of
// family inside p (and p itself) minus the prefixes inside it. Classes skip rejects are left
// out, and so are classes with no address left.
func representatives(p netip.Prefix, family []netip.Prefix, skip func(netip.Prefix) bool) []netip.Addr {
	members := []netip.Prefix{p}
	for _, q := range family {
		if q != p && q.Bits() > p.Bits() && p.Contains(q.Addr()) {
			members = append(members, q)
		}
	}
	var out []netip.Addr
	for _, m := range members {
		if skip != nil && skip(m) {
			continue
		}
		var kids []netip.Prefix
		for _, k := range members {
			if k.Bits() > m.Bits() && m.Contains(k.Addr()) {
				kids = append(kids, k)
			}
		}
		if a, ok := freeAddr(m, kids); ok && !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	slices.SortFunc(out, func(a, b netip.Addr) int { return a.Compare(b) })
	return out
}

// preferred are readable documentation addresses used for the internet when they are free.
var preferred = []netip.Addr{netip.MustParseAddr("198.51.100.7"), netip.MustParseAddr("192.0.2.7")}

// freeAddr returns an address of m that no prefix of kids holds.
func freeAddr(m netip.Prefix, kids []netip.Prefix) (netip.Addr, bool) {
	kids = slices.DeleteFunc(slices.Clone(kids), func(k netip.Prefix) bool { return k.Bits() <= m.Bits() && k.Contains(m.Addr()) })
	for _, c := range preferred {
		if m.Contains(c) && !slices.ContainsFunc(kids, func(k netip.Prefix) bool { return k.Contains(c) }) {
			return c, true
		}
	}
	return firstFree(m, kids)
}

func firstFree(m netip.Prefix, kids []netip.Prefix) (netip.Addr, bool) {
	var in []netip.Prefix
	for _, k := range kids {
		if !k.Overlaps(m) {
			continue
		}
		if k.Bits() <= m.Bits() {
			return netip.Addr{}, false
		}
		in = append(in, k)
	}
	if len(in) == 0 {
		return readable(m), true
	}
	lo, hi := halves(m)
	if a, ok := firstFree(lo, in); ok {
		return a, true
	}
	return firstFree(hi, in)
}

// halves splits a prefix shorter than /32 in two.
func halves(m netip.Prefix) (netip.Prefix, netip.Prefix) {
	b := m.Addr().As4()
	u := binary.BigEndian.Uint32(b[:]) | 1<<(31-m.Bits())
	var hi [4]byte
	binary.BigEndian.PutUint32(hi[:], u)
	return netip.PrefixFrom(m.Addr(), m.Bits()+1), netip.PrefixFrom(netip.AddrFrom4(hi), m.Bits()+1)
}

// readable picks an address of m that reads like a host: the tenth of a /27 or larger (past
// the five AWS reserves), else the first after the network address.
func readable(m netip.Prefix) netip.Addr {
	b := m.Addr().As4()
	u := binary.BigEndian.Uint32(b[:])
	switch size := 32 - m.Bits(); {
	case size >= 5:
		u += 10
	case size >= 2:
		u++
	}
	var out [4]byte
	binary.BigEndian.PutUint32(out[:], u)
	return netip.AddrFrom4(out)
}

// classOf returns the canonical address of addr's class: addresses inside the same prefixes
// of the model are one class, which no route, ACL entry or rule tells apart. Filter decisions
// are keyed by it, so that two ENIs of one class at different addresses (a fixed private_ip)
// share the decisions the flows need.
func (n *Network) classOf(addr netip.Addr) netip.Addr {
	n.classesMu.Lock()
	defer n.classesMu.Unlock()
	if c, ok := n.classes[addr]; ok {
		return c
	}
	if n.classes == nil {
		n.classes, n.byFamily = map[netip.Addr]netip.Addr{}, map[string]netip.Addr{}
	}
	key := make([]byte, len(n.family))
	for i, p := range n.family {
		if p.Contains(addr) {
			key[i] = 1
		}
	}
	c, ok := n.byFamily[string(key)]
	if !ok {
		c = addr
		n.byFamily[string(key)] = c
	}
	n.classes[addr] = c
	return c
}

// SameClass reports whether a and b are addresses of one class: inside the same prefixes of
// the model, so that no route, ACL entry or rule tells them apart.
func (n *Network) SameClass(a, b netip.Addr) bool { return n.classOf(a) == n.classOf(b) }

// Outside returns an endpoint for an address outside the VPCs, as a member of the internet.
func (n *Network) Outside(addr netip.Addr) *Endpoint {
	return &Endpoint{Name: "internet " + addr.String(), Role: rules.Internet, Kind: Outside, Addr: addr,
		Ephemeral: portsOf(rules.EphemeralAny)}
}

// PublicFace returns the endpoint that stands for e's public address, as seen from inside
// the VPC (through a NAT gateway or the internet gateway), or nil when e has none. Its
// address is unknown before apply; it is judged as an address no rule names.
func (n *Network) PublicFace(e *Endpoint) *Endpoint {
	if !e.Public || !e.Inside() {
		return nil
	}
	if e.face == nil {
		addr, _ := freeAddr(netip.MustParsePrefix("0.0.0.0/0"), n.family)
		e.face = &Endpoint{Name: e.Name + " (public address)", Role: e.Role, Kind: Outside, Addr: addr,
			Ephemeral: e.Ephemeral, behind: e}
	}
	return e.face
}

// InVPC reports whether addr is inside one of the model's VPCs.
func (n *Network) InVPC(addr netip.Addr) bool {
	for _, v := range n.VPCs {
		if v.Contains(addr) {
			return true
		}
	}
	return false
}

// Find returns the endpoints of a role, in order; with subnet names, only those in them.
func (n *Network) Find(role rules.Role, subnets ...string) []*Endpoint {
	var out []*Endpoint
	for _, e := range n.Endpoints {
		if e.Role == role && (len(subnets) == 0 || slices.Contains(subnets, e.Subnet.Name)) {
			out = append(out, e)
		}
	}
	return out
}

// Endpoint returns the endpoint named name ("web@web-a"), or an error listing the names.
func (n *Network) Endpoint(name string) (*Endpoint, error) {
	var names []string
	for _, e := range n.Endpoints {
		if e.Name == name {
			return e, nil
		}
		names = append(names, e.Name)
	}
	return nil, fmt.Errorf("no endpoint %q; the network has %s", name, strings.Join(names, ", "))
}
