package verify

import (
	"fmt"
	"net/netip"
)

// unfilteredRule says why rules naming those addresses are set aside.
const unfilteredRule = "security groups and network ACLs do not filter traffic to or from the instance metadata service, link-local addresses or the VPC's DNS resolver"

// linkLocal holds the instance metadata service (169.254.169.254) and the other link-local
// services (Time Sync, the resolver's 169.254.169.253).
var linkLocal = netip.MustParsePrefix("169.254.0.0/16")

// unfiltered says what p names when it lies within the addresses AWS never filters (the
// link-local range, the VPC's resolver at its base address + 2), else "".
func unfiltered(p netip.Prefix, v *VPC) string {
	if linkLocal.Contains(p.Addr()) && p.Bits() >= linkLocal.Bits() {
		return "a link-local range (the instance metadata service is 169.254.169.254)"
	}
	if v != nil && p.Bits() == 32 {
		for _, c := range v.CIDRs {
			if resolver(c) == p.Addr() {
				return "the VPC's DNS resolver"
			}
		}
	}
	return ""
}

// resolver is the address of the Amazon-provided DNS server of a VPC CIDR: its base + 2.
func resolver(c netip.Prefix) netip.Addr {
	return c.Masked().Addr().Next().Next()
}

func (l *loader) loadPrefixLists() {
	l.each(func(r *resource) {
		var cidrs []netip.Prefix
		for _, e := range l.attr(r, "entry").list() {
			if c, ok := e.get("cidr").prefix(); ok {
				cidrs = append(cidrs, c)
			}
		}
		l.lists[r.Addr] = cidrs
		if m, ok := l.attr(r, "max_entries").integer(); ok {
			l.n.listMax[r.Addr] = m
		}
	}, "aws_ec2_managed_prefix_list")
	l.each(func(r *resource) {
		pl, _ := l.attr(r, "prefix_list_id").ref("aws_ec2_managed_prefix_list")
		if c, ok := l.attr(r, "cidr").prefix(); ok && pl != nil {
			l.lists[pl.Addr] = append(l.lists[pl.Addr], c)
		}
	}, "aws_ec2_managed_prefix_list_entry")
	l.deployedPrefixLists()
}

// groupTypes are the resources a security-group reference may name.
var groupTypes = []string{"aws_security_group", "aws_default_security_group"}

// groupOf resolves one security-group reference.
func (l *loader) groupOf(f field) *SecurityGroup {
	r, _ := f.ref(groupTypes...)
	if r == nil {
		return nil
	}
	return l.groups[r.Addr]
}

// groupsOf resolves a list of security-group references.
func (l *loader) groupsOf(f field) []*SecurityGroup {
	var out []*SecurityGroup
	for _, item := range f.list() {
		if g := l.groupOf(item); g != nil {
			out = append(out, g)
		}
	}
	return out
}

func (l *loader) loadGroups() {
	l.each(func(r *resource) {
		if !l.attr(r, "vpc_id").required("the group would live in the default VPC, which is not in the stack") {
			return
		}
		v := l.vpcOf(l.attr(r, "vpc_id"))
		if v == nil {
			return
		}
		name, _ := l.attr(r, "name").str()
		if name == "" {
			name = r.Name
		}
		g := &SecurityGroup{Addr: r.Addr, ID: awsID(r), Name: name, VPC: v, Role: roleOf(r, "")}
		if r.Type == "aws_default_security_group" {
			v.DefaultSG, v.DefaultSGDeclared = g, true
		}
		l.groups[r.Addr] = g
	}, groupTypes...)
	l.deployedGroups()
	// Inline rules may name other groups, so they are read once every group exists.
	l.each(func(r *resource) {
		g := l.groups[r.Addr]
		if g == nil {
			return
		}
		for _, dir := range []string{"ingress", "egress"} {
			for _, blk := range l.attr(r, dir).list() {
				l.addRules(g, blk, r.Addr+" "+blk.path, dir == "egress", ruleKeys{
					proto: "protocol", cidrs: "cidr_blocks", groups: "security_groups", lists: "prefix_list_ids", self: "self"})
			}
		}
	}, groupTypes...)
}

// ruleKeys names the attributes of one style of security-group rule.
type ruleKeys struct {
	proto, cidrs, cidr, groups, group, lists, list, self string
}

func (l *loader) loadGroupRules() {
	l.each(func(r *resource) {
		g := l.groupOf(l.attr(r, "security_group_id"))
		typ, _ := l.attr(r, "type").str()
		if typ != "ingress" && typ != "egress" {
			l.attr(r, "type").fail("%q is not ingress or egress", typ)
			return
		}
		if g != nil {
			l.addRules(g, whole(l, r), r.Addr, typ == "egress", ruleKeys{
				proto: "protocol", cidrs: "cidr_blocks", group: "source_security_group_id", lists: "prefix_list_ids", self: "self"})
		}
	}, "aws_security_group_rule")
	for _, typ := range []string{"aws_vpc_security_group_ingress_rule", "aws_vpc_security_group_egress_rule"} {
		egress := typ == "aws_vpc_security_group_egress_rule"
		l.each(func(r *resource) {
			if g := l.groupOf(l.attr(r, "security_group_id")); g != nil {
				l.addRules(g, whole(l, r), r.Addr, egress, ruleKeys{
					proto: "ip_protocol", cidr: "cidr_ipv4", group: "referenced_security_group_id", list: "prefix_list_id"})
			}
		}, typ)
	}
	l.deployedGroupRules()
}

// items returns the values of a list attribute (listKey) and of a single one (oneKey), the
// two ways rule styles name peers; an empty key is skipped.
func items(f field, listKey, oneKey string) []field {
	var out []field
	if listKey != "" {
		out = f.sub(listKey).list()
	}
	if oneKey != "" && f.sub(oneKey).set() {
		out = append(out, f.sub(oneKey))
	}
	return out
}

// addRules reads one rule block (or resource) into one SGRule per peer it names.
func (l *loader) addRules(g *SecurityGroup, f field, addr string, egress bool, k ruleKeys) {
	proto, ok := l.protocol(f.sub(k.proto))
	if !ok {
		if !f.sub(k.proto).set() {
			f.sub(k.proto).fail("missing")
		}
		return
	}
	if proto == ICMPv6 {
		l.noteICMPv6Rule(addr)
		return
	}
	ports, ok := l.portRange(f, proto)
	if !ok {
		return
	}
	var p rulePeers
	cidrs := items(f, k.cidrs, k.cidr)
	for _, c := range cidrs {
		if pf, ok := c.prefix(); ok {
			p.cidrs = append(p.cidrs, pf)
		}
	}
	for _, pf := range items(f, k.groups, k.group) {
		if peer := l.groupOf(pf); peer != nil {
			p.groups = append(p.groups, peer)
		}
	}
	if self, _ := f.sub(k.self).boolean(); k.self != "" && self {
		p.groups = append(p.groups, g)
	}
	lists := items(f, k.lists, k.list)
	for _, lf := range lists {
		pl, attr := lf.ref("aws_ec2_managed_prefix_list", "aws_vpc_endpoint")
		switch {
		case pl == nil:
		case pl.Type == "aws_vpc_endpoint" && attr != "prefix_list_id":
			lf.fail("refers to %s.%s; expected its prefix_list_id", pl.Addr, attr)
		case pl.Type == "aws_vpc_endpoint":
			// The gateway endpoint's service's AWS-managed list: its CIDRs come from the
			// intent (Network.resolveLists).
			service, _ := l.attr(pl, "service_name").str()
			p.lists = append(p.lists, SGRule{PrefixList: service, managed: true})
		default:
			p.lists = append(p.lists, SGRule{PrefixList: pl.Addr, ListCIDRs: l.lists[pl.Addr]})
		}
	}
	p.ipv6 = f.sub("ipv6_cidr_blocks").set() || f.sub("cidr_ipv6").set()
	p.named = len(cidrs)+len(lists) > 0 || len(p.groups) > 0 || p.ipv6
	l.addPeers(SGRule{Addr: addr, Group: g, Egress: egress, Proto: proto, Ports: ports}, p)
}

// noteICMPv6Rule notes the icmpv6 rule at addr, which the model leaves out.
func (l *loader) noteICMPv6Rule(addr string) {
	l.n.Notes = append(l.n.Notes, fmt.Sprintf("%s: an icmpv6 rule applies to IPv6 traffic, which the verifier does not model; not judged", addr))
}

// rulePeers are the peers one security-group rule names, read: its CIDRs, groups and prefix
// lists (each an SGRule holding the list only), whether it names IPv6 peers, and whether it
// names a peer at all (read or not).
type rulePeers struct {
	cidrs       []netip.Prefix
	groups      []*SecurityGroup
	lists       []SGRule
	ipv6, named bool
}

// addPeers adds to base's group one SGRule per peer of p, base holding the rest; a CIDR no
// security group filters is noted and counted aside (AWS's quota counts it still).
func (l *loader) addPeers(base SGRule, p rulePeers) {
	g, addr, egress := base.Group, base.Addr, base.Egress
	var out []*SGRule
	add := func(mod func(r *SGRule)) {
		r := base
		mod(&r)
		out = append(out, &r)
	}
	for _, c := range p.cidrs {
		if why := unfiltered(c, g.VPC); why != "" {
			l.n.Notes = append(l.n.Notes, fmt.Sprintf("%s: %s names %s; %s, so the rule changes nothing", addr, c, why, unfilteredRule))
			g.aside[dirIndex(egress)]++
			continue
		}
		add(func(r *SGRule) { r.CIDR = c })
	}
	for _, peer := range p.groups {
		add(func(r *SGRule) { r.Peer = peer })
	}
	for _, pl := range p.lists {
		add(func(r *SGRule) { r.PrefixList, r.ListCIDRs, r.managed = pl.PrefixList, pl.ListCIDRs, pl.managed })
	}
	if p.ipv6 {
		l.n.Notes = append(l.n.Notes, fmt.Sprintf("%s: its IPv6 peers are not modelled (the verifier judges IPv4 traffic)", addr))
	}
	if len(out) == 0 {
		if !p.named {
			l.errs.add("%s: names no peer (CIDR, security group or prefix list)", addr)
		}
		return
	}
	if egress {
		g.Egress = append(g.Egress, out...)
	} else {
		g.Ingress = append(g.Ingress, out...)
	}
}
