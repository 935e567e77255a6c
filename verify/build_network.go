package verify

import (
	"cmp"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strings"
)

// The network of a deployed stack in AWS's terms (Deployed): each element named by Addr, its
// provenance in reports, and linked to the others by AWS ID.

// DeployedVPC is a VPC: its IPv4 CIDRs, the primary one first, then those associated with it.
type DeployedVPC struct {
	Addr  string   `json:"addr"`
	ID    string   `json:"id"`
	CIDRs []string `json:"cidrs"`
}

// DeployedSubnet is a subnet of the VPC whose ID is VPC.
type DeployedSubnet struct {
	Addr      string `json:"addr"`
	ID        string `json:"id"`
	VPC       string `json:"vpc"`
	CIDR      string `json:"cidr"`
	AZ        string `json:"az"`
	MapPublic bool   `json:"map_public,omitempty"`
}

// DeployedGateway is an internet gateway and the VPC it is attached to ("" none).
type DeployedGateway struct {
	Addr string `json:"addr"`
	ID   string `json:"id"`
	VPC  string `json:"vpc,omitempty"`
}

// DeployedRouteTable is a route table: Main is true for its VPC's main table; Subnets are its
// explicit subnet associations. The VPC's local routes are implicit.
type DeployedRouteTable struct {
	Addr    string                `json:"addr"`
	ID      string                `json:"id"`
	VPC     string                `json:"vpc"`
	Main    bool                  `json:"main,omitempty"`
	Routes  []DeployedRoute       `json:"routes,omitempty"`
	Subnets []DeployedAssociation `json:"subnets,omitempty"`
}

// DeployedAssociation associates the subnet whose ID is Subnet with a route table.
type DeployedAssociation struct {
	Addr   string `json:"addr"`
	Subnet string `json:"subnet"`
}

// DeployedRoute sends an IPv4 CIDR (Dest), or the CIDRs of the prefix list whose ID is
// PrefixList, to the internet gateway, NAT gateway, VPC endpoint or instance of the stack
// whose ID is Target; Other instead names a target the model does not follow (a VPN gateway,
// a peering connection, a network interface, ...).
type DeployedRoute struct {
	Dest       string `json:"dest,omitempty"`
	PrefixList string `json:"prefix_list,omitempty"`
	Target     string `json:"target,omitempty"`
	Other      string `json:"other,omitempty"`
}

// DeployedNACL is a network ACL: Default is true for its VPC's default ACL; Subnets are the
// IDs of the subnets associated with it, Ingress and Egress its entries in rule-number order
// (AWS's implicit deny-all entry left out).
type DeployedNACL struct {
	Addr    string              `json:"addr"`
	ID      string              `json:"id"`
	VPC     string              `json:"vpc"`
	Default bool                `json:"default,omitempty"`
	Subnets []string            `json:"subnets,omitempty"`
	Ingress []DeployedNACLEntry `json:"ingress,omitempty"`
	Egress  []DeployedNACLEntry `json:"egress,omitempty"`
}

// DeployedNACLEntry is one numbered entry: Protocol as AWS names it ("6", "-1"), its IPv4
// (CIDR) or IPv6 range, its ports (From, To: 0 when AWS gives none) and for ICMP its type and
// code.
type DeployedNACLEntry struct {
	Number   int           `json:"number"`
	Allow    bool          `json:"allow"`
	Protocol string        `json:"protocol"`
	CIDR     string        `json:"cidr,omitempty"`
	IPv6     string        `json:"ipv6,omitempty"`
	From     int           `json:"from"`
	To       int           `json:"to"`
	ICMP     *DeployedICMP `json:"icmp,omitempty"`
}

// DeployedICMP is an ICMP type and code (-1: all).
type DeployedICMP struct {
	Type int `json:"type"`
	Code int `json:"code"`
}

// DeployedGroup is a security group: Role is its rules.RoleTag tag, Default is true for its
// VPC's default group. Its rules are DeployedGroupRules.
type DeployedGroup struct {
	Addr    string `json:"addr"`
	ID      string `json:"id"`
	VPC     string `json:"vpc"`
	Name    string `json:"name"`
	Role    string `json:"role,omitempty"`
	Default bool   `json:"default,omitempty"`
}

// DeployedGroupRule is one rule of the security group whose ID is Group: its protocol as AWS
// names it, its ports (for ICMP, From the type and To the code; -1 all) and its one peer: an
// IPv4 or IPv6 range, a prefix list's ID or a security group's ID.
type DeployedGroupRule struct {
	Addr       string `json:"addr"`
	Group      string `json:"group"`
	Egress     bool   `json:"egress,omitempty"`
	Protocol   string `json:"protocol"`
	From       int    `json:"from"`
	To         int    `json:"to"`
	CIDR       string `json:"cidr,omitempty"`
	IPv6       string `json:"ipv6,omitempty"`
	PrefixList string `json:"prefix_list,omitempty"`
	Peer       string `json:"peer,omitempty"`
}

// DeployedPrefixList is a managed prefix list (the stack's or AWS's) with its CIDRs.
type DeployedPrefixList struct {
	Addr  string   `json:"addr"`
	ID    string   `json:"id"`
	CIDRs []string `json:"cidrs,omitempty"`
}

func (x DeployedVPC) address() string        { return x.Addr }
func (x DeployedSubnet) address() string     { return x.Addr }
func (x DeployedGateway) address() string    { return x.Addr }
func (x DeployedRouteTable) address() string { return x.Addr }
func (x DeployedNACL) address() string       { return x.Addr }
func (x DeployedGroup) address() string      { return x.Addr }
func (x DeployedGroupRule) address() string  { return x.Addr }
func (x DeployedPrefixList) address() string { return x.Addr }

// sortedBy lists elements of Deployed as the loader takes a Terraform stack's resources: the
// kinds (false before true: a table managing its VPC's main one after the others) in that
// order, each in address order.
func sortedBy[T addressed](list []T, kind func(T) bool) []T {
	return slices.SortedFunc(slices.Values(list), func(a, b T) int {
		if ka, kb := kind(a), kind(b); ka != kb {
			if kb {
				return -1
			}
			return 1
		}
		return cmp.Compare(a.address(), b.address())
	})
}

// prefixAt reads the IPv4 CIDR s of the attribute attr of the element at addr.
func (l *loader) prefixAt(addr, attr, s string) (netip.Prefix, bool) {
	p, err := netip.ParsePrefix(strings.TrimSpace(s))
	if err != nil || !p.Addr().Is4() {
		l.failAt(addr, attr)("%q is not an IPv4 CIDR", s)
		return netip.Prefix{}, false
	}
	return p.Masked(), true
}

// vpcByID is the VPC whose AWS ID is id; none is a load error as subnetByID's.
func (l *loader) vpcByID(addr, attr, id string) *VPC {
	for _, v := range l.n.VPCs {
		if v.ID != "" && v.ID == id {
			return v
		}
	}
	l.failAt(addr, attr)("%q names no aws_vpc of the stack", id)
	return nil
}

// deployedVPCs builds the VPCs l.d holds, with every CIDR associated with them.
func (l *loader) deployedVPCs() {
	for _, dv := range sortedBy(l.d.VPCs, func(DeployedVPC) bool { return false }) {
		if len(dv.CIDRs) == 0 {
			l.failAt(dv.Addr, "cidr_block")("missing; the verifier needs the VPC's IPv4 range")
			continue
		}
		cidr, ok := l.prefixAt(dv.Addr, "cidr_block", dv.CIDRs[0])
		if !ok {
			continue
		}
		v := l.addVPC(dv.Addr, dv.ID, cidr)
		for i, c := range dv.CIDRs[1:] {
			if p, ok := l.prefixAt(dv.Addr, fmt.Sprintf("cidrs[%d]", i+1), c); ok {
				v.CIDRs = append(v.CIDRs, p)
			}
		}
	}
}

// deployedSubnets builds the subnets l.d holds (each named by the name part of its address,
// as a resource is by its name).
func (l *loader) deployedSubnets() {
	for _, ds := range sortedBy(l.d.Subnets, func(DeployedSubnet) bool { return false }) {
		v := l.vpcByID(ds.Addr, "vpc_id", ds.VPC)
		cidr, ok := l.prefixAt(ds.Addr, "cidr_block", ds.CIDR)
		if v == nil || !ok {
			continue
		}
		name := ds.Addr[strings.IndexByte(ds.Addr, '.')+1:]
		l.addSubnet(&Subnet{Addr: ds.Addr, ID: ds.ID, Name: name, VPC: v, CIDR: cidr, AZ: ds.AZ, MapPublic: ds.MapPublic},
			l.failAt(ds.Addr, "cidr_block"))
	}
}

// deployedGateways attaches the internet gateways l.d holds to their VPCs.
func (l *loader) deployedGateways() {
	for _, g := range sortedBy(l.d.InternetGateways, func(DeployedGateway) bool { return false }) {
		if g.VPC != "" {
			l.attach(g.Addr, l.vpcByID(g.Addr, "vpc_id", g.VPC), l.failAt(g.Addr, "vpc_id"))
		}
	}
}

// deployedPrefixLists reads the CIDRs of the prefix lists l.d holds.
func (l *loader) deployedPrefixLists() {
	for _, pl := range sortedBy(l.d.PrefixLists, func(DeployedPrefixList) bool { return false }) {
		var cidrs []netip.Prefix
		for i, c := range pl.CIDRs {
			if p, ok := l.prefixAt(pl.Addr, fmt.Sprintf("entry[%d].cidr", i), c); ok {
				cidrs = append(cidrs, p)
			}
		}
		l.lists[pl.Addr] = cidrs
	}
}

// deployedRouteTables builds the route tables l.d holds (its VPC's main one taking the place of
// the main table) with their routes.
func (l *loader) deployedRouteTables() {
	for _, dt := range sortedBy(l.d.RouteTables, func(t DeployedRouteTable) bool { return t.Main }) {
		v := l.vpcByID(dt.Addr, "vpc_id", dt.VPC)
		if v == nil {
			continue
		}
		t := &RouteTable{Addr: dt.Addr, ID: dt.ID, VPC: v}
		if dt.Main {
			l.makeMain(t)
		}
		for i, dr := range dt.Routes {
			path := fmt.Sprintf("route[%d]", i)
			var rt *Route
			var ok bool
			if dr.PrefixList != "" {
				rt, ok = l.routeToList(dt.Addr+": "+path, dr.PrefixList)
			} else {
				rt = &Route{}
				rt.Dest, ok = l.prefixAt(dt.Addr, path+".cidr_block", dr.Dest)
			}
			if !ok {
				continue
			}
			rt.Addr = dt.Addr + " " + path
			if l.routeTarget(rt, dr, l.failAt(dt.Addr, path+".target")) {
				l.appendRoute(t, rt)
			}
		}
		l.tables[dt.Addr] = t
	}
}

// routeTarget reads the target of dr into rt: the stack's internet gateway, NAT gateway, VPC
// endpoint (a gateway endpoint's routes reach its service) or instance with dr.Target's ID,
// or a target the model does not follow; an ID naming none of them fails.
func (l *loader) routeTarget(rt *Route, dr DeployedRoute, fail failure) bool {
	if dr.Other != "" {
		rt.Kind, rt.Target = TargetOther, dr.Other
		return true
	}
	for _, g := range l.d.InternetGateways {
		if g.ID == dr.Target {
			rt.Kind, rt.Target = TargetIGW, g.Addr
			return true
		}
	}
	for _, addr := range slices.Sorted(maps.Keys(l.nats)) {
		if e := l.nats[addr]; e.ID == dr.Target {
			rt.Kind, rt.Target, rt.NAT = TargetNAT, addr, e
			return true
		}
	}
	for _, e := range l.d.Endpoints {
		if e.ID == dr.Target {
			rt.Kind, rt.Target = TargetOther, e.Addr
			if e.Gateway {
				rt.Kind = TargetGateway
			}
			return true
		}
	}
	for _, in := range l.d.Instances {
		if in.ID == dr.Target {
			rt.Kind, rt.Target = TargetOther, in.Addr
			return true
		}
	}
	fail("%q names no internet gateway, NAT gateway, VPC endpoint or instance of the stack", dr.Target)
	return false
}

// deployedAssociations associates the subnets of the route tables l.d holds, in the
// associations' address order.
func (l *loader) deployedAssociations() {
	type assoc struct {
		DeployedAssociation
		table string
	}
	var all []assoc
	for _, t := range l.d.RouteTables {
		for _, a := range t.Subnets {
			all = append(all, assoc{a, t.Addr})
		}
	}
	slices.SortFunc(all, func(a, b assoc) int { return cmp.Compare(a.Addr, b.Addr) })
	for _, a := range all {
		if s, t := l.subnetByID(a.Addr, "subnet_id", a.Subnet), l.tables[a.table]; s != nil && t != nil {
			l.associateTable(s, t, l.failAt(a.Addr, "subnet_id"))
		}
	}
}

// deployedNACLs builds the network ACLs l.d holds (its VPC's default one taking the place of
// the default ACL) with their entries and subnets.
func (l *loader) deployedNACLs() {
	for _, da := range sortedBy(l.d.NACLs, func(a DeployedNACL) bool { return a.Default }) {
		v := l.vpcByID(da.Addr, "vpc_id", da.VPC)
		if v == nil {
			continue
		}
		a := &NACL{Addr: da.Addr, ID: da.ID, VPC: v}
		if da.Default {
			l.makeDefault(v, a)
		}
		l.nacls[da.Addr] = a
		for _, dir := range []struct {
			name    string
			entries []DeployedNACLEntry
		}{{"ingress", da.Ingress}, {"egress", da.Egress}} {
			for i, e := range dir.entries {
				l.deployedEntry(a, e, fmt.Sprintf("%s %s[%d]", da.Addr, dir.name, i), dir.name == "egress")
			}
		}
		for i, id := range da.Subnets {
			attr := fmt.Sprintf("subnet_ids[%d]", i)
			l.associate(l.failAt(da.Addr, attr), a, l.subnetByID(da.Addr, attr, id))
		}
	}
}

// deployedEntry reads one entry of a network ACL, at addr.
func (l *loader) deployedEntry(a *NACL, e DeployedNACLEntry, addr string, egress bool) {
	if e.CIDR == "" {
		l.noteIPv6Entry(addr)
		return
	}
	proto, ok := ParseProtocol(e.Protocol)
	if !ok {
		l.errs.add("%s: protocol: %q is not an IP protocol", addr, e.Protocol)
		return
	}
	if proto == ICMPv6 {
		l.noteICMPv6Entry(addr)
		return
	}
	cidr, ok := l.prefixAt(addr, "cidr_block", e.CIDR)
	if !ok || l.entryAside(a, addr, egress, cidr) {
		return
	}
	fail := l.failAt(addr, "rule_no")
	if e.Number < 1 || e.Number > 32766 {
		fail("%d is outside 1-32766", e.Number)
		return
	}
	ports, ok := l.deployedPorts(addr, proto, e.From, e.To, e.ICMP)
	if ok {
		l.appendEntry(a, &NACLEntry{Addr: addr, Number: e.Number, Egress: egress, Allow: e.Allow, Proto: proto, Ports: ports, CIDR: cidr}, fail)
	}
}

// deployedPorts are the ports of a rule or an entry at addr on proto: from-to, or for ICMP the
// type and code (icmp's, else from and to).
func (l *loader) deployedPorts(addr string, proto Protocol, from, to int, icmp *DeployedICMP) (Ports, bool) {
	switch {
	case proto == ICMP && icmp != nil:
		return icmpPorts(icmp.Type, icmp.Code, l.failAt(addr, "icmp_type"))
	case proto == ICMP:
		return icmpPorts(from, to, l.failAt(addr, "from_port"))
	case !proto.hasPorts():
		return nil, true
	}
	return portsBetween(proto, from, to, l.failAt(addr, "from_port"))
}

// deployedGroups builds the security groups l.d holds (its VPC's default one taking the place
// of the default group); their rules come after every group exists.
func (l *loader) deployedGroups() {
	for _, dg := range sortedBy(l.d.SecurityGroups, func(g DeployedGroup) bool { return g.Default }) {
		v := l.vpcByID(dg.Addr, "vpc_id", dg.VPC)
		if v == nil {
			continue
		}
		name := dg.Name
		if name == "" {
			name = dg.Addr[strings.IndexByte(dg.Addr, '.')+1:]
		}
		g := &SecurityGroup{Addr: dg.Addr, ID: dg.ID, Name: name, VPC: v, Role: roleNamed(dg.Role, "")}
		if dg.Default {
			v.DefaultSG, v.DefaultSGDeclared = g, true
		}
		l.groups[dg.Addr] = g
	}
}

// deployedGroupRules adds the security-group rules l.d holds to their groups, the ingress
// rules first, each in address order.
func (l *loader) deployedGroupRules() {
	for _, r := range sortedBy(l.d.SecurityGroupRules, func(r DeployedGroupRule) bool { return r.Egress }) {
		g := l.groupByID(r.Addr, "security_group_id", r.Group)
		if g == nil {
			continue
		}
		proto, ok := ParseProtocol(r.Protocol)
		if !ok {
			l.failAt(r.Addr, "ip_protocol")("%q is not an IP protocol", r.Protocol)
			continue
		}
		if proto == ICMPv6 {
			l.noteICMPv6Rule(r.Addr)
			continue
		}
		ports, ok := l.deployedPorts(r.Addr, proto, r.From, r.To, nil)
		if !ok {
			continue
		}
		p := rulePeers{ipv6: r.IPv6 != "", named: true}
		switch {
		case r.CIDR != "":
			if c, ok := l.prefixAt(r.Addr, "cidr_ipv4", r.CIDR); ok {
				p.cidrs = append(p.cidrs, c)
			}
		case r.Peer != "":
			if peer := l.groupByID(r.Addr, "referenced_security_group_id", r.Peer); peer != nil {
				p.groups = append(p.groups, peer)
			}
		case r.PrefixList != "":
			i := slices.IndexFunc(l.d.PrefixLists, func(pl DeployedPrefixList) bool { return pl.ID == r.PrefixList })
			if i < 0 {
				l.failAt(r.Addr, "prefix_list_id")("%q names no aws_ec2_managed_prefix_list of the stack", r.PrefixList)
				continue
			}
			addr := l.d.PrefixLists[i].Addr
			p.lists = append(p.lists, SGRule{PrefixList: addr, ListCIDRs: l.lists[addr]})
		default:
			p.named = p.ipv6
		}
		l.addPeers(SGRule{Addr: r.Addr, Group: g, Egress: r.Egress, Proto: proto, Ports: ports}, p)
	}
}
