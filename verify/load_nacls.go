package verify

import (
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"sort"
	"strings"
)

// naclOfRef resolves a network_acl_id.
func (l *loader) naclOfRef(f field) *NACL {
	r, _ := f.ref("aws_network_acl", "aws_default_network_acl")
	if r == nil {
		return nil
	}
	return l.nacls[r.Addr]
}

// associate makes a the network ACL of s; a subnet has one at most.
func (l *loader) associate(fail failure, a *NACL, s *Subnet) {
	if a == nil || s == nil {
		return
	}
	if prev := l.naclOf[s]; prev != "" && prev != a.Addr {
		fail("%s is already associated with %s", s.Addr, prev)
		return
	}
	l.naclOf[s] = a.Addr
	s.NACL = a
}

// makeDefault makes a the default network ACL of v (the one AWS made with it, which a now
// manages): it filters every subnet of v that no other ACL is associated with yet.
func (l *loader) makeDefault(v *VPC, a *NACL) {
	v.DefaultNACL = a
	for _, s := range l.n.Subnets {
		if s.VPC == v && s.NACL.Addr == "default network ACL of "+v.Addr {
			s.NACL = a
		}
	}
}

func (l *loader) loadNACLs() {
	l.each(func(r *resource) {
		var v *VPC
		a := &NACL{Addr: r.Addr, ID: awsID(r)}
		if r.Type == "aws_default_network_acl" {
			vr, _ := l.attr(r, "default_network_acl_id").ref("aws_vpc")
			if vr == nil || l.vpcs[vr.Addr] == nil {
				return
			}
			v = l.vpcs[vr.Addr]
			l.makeDefault(v, a)
		} else if v = l.vpcOf(l.attr(r, "vpc_id")); v == nil {
			return
		}
		a.VPC = v
		l.nacls[r.Addr] = a
		for _, dir := range []string{"ingress", "egress"} {
			for _, blk := range l.attr(r, dir).list() {
				l.addEntry(a, blk, r.Addr+" "+blk.path, dir == "egress", "rule_no", "action")
			}
		}
		sf := l.attr(r, "subnet_ids")
		for i, s := range l.subnetsOf(sf) {
			l.associate(field{l: l, r: r, path: fmt.Sprintf("subnet_ids[%d]", i)}.fail, a, s)
		}
	}, "aws_network_acl", "aws_default_network_acl")
	l.each(func(r *resource) {
		a := l.naclOfRef(l.attr(r, "network_acl_id"))
		egress, _ := l.attr(r, "egress").boolean()
		if a != nil {
			l.addEntry(a, whole(l, r), r.Addr, egress, "rule_number", "rule_action")
		}
	}, "aws_network_acl_rule")
	l.each(func(r *resource) {
		l.associate(l.attr(r, "subnet_id").fail, l.naclOfRef(l.attr(r, "network_acl_id")), l.subnetOf(l.attr(r, "subnet_id")))
	}, "aws_network_acl_association")
	l.deployedNACLs()
	for _, addr := range slices.Sorted(maps.Keys(l.nacls)) {
		a := l.nacls[addr]
		for _, list := range [][]*NACLEntry{a.Ingress, a.Egress} {
			sort.SliceStable(list, func(i, j int) bool { return list[i].Number < list[j].Number })
			l.noteShadowed(a, list)
		}
	}
}

// noteShadowed notes the entries of one direction that never decide anything: an entry
// with a lower number matches all their traffic first.
func (l *loader) noteShadowed(a *NACL, list []*NACLEntry) {
	for i, e := range list {
		for _, o := range list[:i] {
			if o.Proto != All && o.Proto != e.Proto || o.CIDR.Bits() > e.CIDR.Bits() || !o.CIDR.Contains(e.CIDR.Addr()) {
				continue
			}
			if e.Proto.keyed() && !portsFor(o.Proto, o.Ports, e.Proto).Covers(e.Ports) {
				continue
			}
			l.n.Notes = append(l.n.Notes, fmt.Sprintf("%s %s #%d (%s %s %s) never decides: #%d (%s %s) matches all its traffic first",
				a.Addr, direction(e.Egress), e.Number, On(e.Proto, e.Ports), e.CIDR, action(e), o.Number, On(o.Proto, o.Ports), o.CIDR))
			break
		}
	}
}

// dirIndex is 0 for ingress, 1 for egress.
func dirIndex(egress bool) int {
	if egress {
		return 1
	}
	return 0
}

// direction names a direction.
func direction(egress bool) string {
	if egress {
		return "egress"
	}
	return "ingress"
}

func action(e *NACLEntry) string {
	if e.Allow {
		return "allow"
	}
	return "deny"
}

// addEntry reads one network ACL entry (inline block or aws_network_acl_rule).
func (l *loader) addEntry(a *NACL, f field, addr string, egress bool, numberKey, actionKey string) {
	if f.sub("ipv6_cidr_block").set() && !f.sub("cidr_block").set() {
		l.noteIPv6Entry(addr)
		return
	}
	num, okNum := f.sub(numberKey).integer()
	action, okAction := f.sub(actionKey).str()
	cidr, okCIDR := f.sub("cidr_block").prefix()
	proto, okProto := l.protocol(f.sub("protocol"))
	if okProto && proto == ICMPv6 {
		l.noteICMPv6Entry(addr)
		return
	}
	if okCIDR && l.entryAside(a, addr, egress, cidr) {
		return
	}
	if !okNum || !okAction || !okCIDR || !okProto {
		for _, key := range []string{numberKey, actionKey, "cidr_block", "protocol"} {
			if !f.sub(key).set() {
				f.sub(key).fail("missing")
			}
		}
		return
	}
	if num < 1 || num > 32766 {
		f.sub(numberKey).fail("%d is outside 1-32766", num)
		return
	}
	action = strings.ToLower(action)
	if action != "allow" && action != "deny" {
		f.sub(actionKey).fail("%q is not allow or deny", action)
		return
	}
	ports, ok := l.portRange(f, proto)
	if !ok {
		return
	}
	l.appendEntry(a, &NACLEntry{Addr: addr, Number: num, Egress: egress, Allow: action == "allow", Proto: proto, Ports: ports, CIDR: cidr},
		f.sub(numberKey).fail)
}

// noteIPv6Entry notes the IPv6 entry at addr, which the model leaves out.
func (l *loader) noteIPv6Entry(addr string) {
	l.n.Notes = append(l.n.Notes, fmt.Sprintf("%s: an IPv6 entry never matches the IPv4 traffic the verifier judges; not modelled", addr))
}

// noteICMPv6Entry notes the icmpv6 entry at addr, which the model leaves out.
func (l *loader) noteICMPv6Entry(addr string) {
	l.n.Notes = append(l.n.Notes, fmt.Sprintf("%s: an icmpv6 entry applies to IPv6 traffic, which the verifier does not model; not judged", addr))
}

// entryAside reports whether the entry at addr of a, for cidr, names addresses no ACL filters,
// and then notes it and counts it aside (AWS's quota counts it still).
func (l *loader) entryAside(a *NACL, addr string, egress bool, cidr netip.Prefix) bool {
	if why := unfiltered(cidr, a.VPC); why != "" {
		l.n.Notes = append(l.n.Notes, fmt.Sprintf("%s: %s names %s; %s, so the entry changes nothing", addr, cidr, why, unfilteredRule))
		a.aside[dirIndex(egress)]++
		return true
	}
	return false
}

// appendEntry adds e to its direction of a, where a rule number is taken once (fail: a
// problem of the entry's number).
func (l *loader) appendEntry(a *NACL, e *NACLEntry, fail failure) {
	list := &a.Ingress
	if e.Egress {
		list = &a.Egress
	}
	for _, o := range *list {
		if o.Number == e.Number {
			fail("rule %d is already %s", e.Number, o.Addr)
			return
		}
	}
	*list = append(*list, e)
}
