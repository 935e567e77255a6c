package rules

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"
)

// Subnet is one subnet of the VPC.
type Subnet struct {
	// Name is the subnet's resource name: "web-a".
	Name string
	Tier Tier
	// AZ is the full availability zone name.
	AZ   string
	CIDR netip.Prefix
}

// Topology is what the derivation needs to know of the network.
type Topology struct {
	// Subnets are all subnets, in a fixed order (tier by tier, AZ by AZ).
	Subnets []Subnet
	// AdminCIDRs may SSH to the bastions.
	AdminCIDRs []netip.Prefix
	// RepoCIDRs are the package repositories web servers reach through NAT.
	RepoCIDRs []netip.Prefix
	// SingleNAT puts one NAT gateway in the first public subnet instead of one per AZ.
	SingleNAT bool
	// Features are the config switches that turn optional flows on.
	Features map[string]bool
	// Quotas are the AWS quotas of the account the stack goes to; nil is AWS's defaults.
	Quotas Limits
}

// NACL rule numbering.
const (
	// ReturnBase starts the band of return entries, above every request entry.
	ReturnBase = 16000
	// slotWidth is the room each flow has in a band: slotEntries entries entryStep apart, then
	// as many again halfway between them, which only a raised quota needs.
	slotWidth   = slotEntries * entryStep
	slotEntries = 20
	entryStep   = 10
	maxSlot     = (ReturnBase - slotWidth) / slotWidth
)

// Anywhere is 0.0.0.0/0.
var Anywhere = netip.MustParsePrefix("0.0.0.0/0")

// Direction is ingress or egress.
type Direction string

// Directions.
const (
	Ingress Direction = "ingress"
	Egress  Direction = "egress"
)

// SGRule is one security-group rule: on Group's SG, allow Port to or from the peer.
type SGRule struct {
	// ID is unique and says what the rule is: "web-sg-egress-web-to-db-mysql".
	ID        string
	Group     Role
	Direction Direction
	Port      Port
	// PeerGroup is the peer's role when the peer carries one of our SGs; PeerPrefixList the
	// service whose AWS-managed prefix list stands for the peer (S3PrefixList, for a flow
	// through the S3 gateway endpoint); else PeerCIDR.
	PeerGroup      Role
	PeerPrefixList string
	PeerCIDR       netip.Prefix
	Flow           string
	Why            string
}

// Peer renders the peer: "web-sg", "s3 prefix list" or "10.16.3.0/24".
func (r SGRule) Peer() string {
	switch {
	case r.PeerGroup != "":
		return r.PeerGroup.GroupName()
	case r.PeerPrefixList != "":
		return r.PeerPrefixList + " prefix list"
	}
	return r.PeerCIDR.String()
}

// S3PrefixList names the AWS-managed prefix list of S3 in the region
// (com.amazonaws.REGION.s3) in SGRule.PeerPrefixList.
const S3PrefixList = "s3"

// NACLEntry is one stateless allow entry of a tier's network ACL.
type NACLEntry struct {
	Tier      Tier
	Direction Direction
	Number    int
	Port      Port
	CIDR      netip.Prefix
	// Return is true for the reply leg of a flow, on the initiator's ephemeral range.
	Return bool
	// Flows are the IDs of every flow that needs the entry; the first one numbered it.
	Flows []string
}

// ID names the entry: "web-nacl-egress-810".
func (e NACLEntry) ID() string {
	return fmt.Sprintf("%s-%s-%d", NACLName(e.Tier), e.Direction, e.Number)
}

// Policy is everything derived from the flow table.
type Policy struct {
	Flows   []Flow
	SGRules []SGRule
	// NACL holds each tier's entries, sorted by direction then number.
	NACL map[Tier][]NACLEntry
}

// Uses reports whether an active flow of the policy has r at one of its ends.
func (p Policy) Uses(r Role) bool {
	for _, f := range p.Flows {
		if f.From == r || f.To == r {
			return true
		}
	}
	return false
}

// Derive turns the active flows into security-group rules and network-ACL entries.
func Derive(t Topology, flows []Flow) (Policy, error) {
	if err := CheckTable(flows); err != nil {
		return Policy{}, err
	}
	// In slot order: an entry two flows share belongs to the lower slot, so a flow added in a
	// new, higher slot never takes over (and renumbers) an existing entry.
	active := Active(flows, t.Features)
	sort.SliceStable(active, func(i, j int) bool { return active[i].Slot < active[j].Slot })
	d := deriver{t: t, seen: map[string]*NACLEntry{}, perBand: map[string]int{}}
	p := Policy{Flows: active, NACL: map[Tier][]NACLEntry{}}
	for _, f := range active {
		p.SGRules = append(p.SGRules, d.sgRules(f)...)
		d.naclEntries(f)
	}
	for _, e := range d.order {
		p.NACL[e.Tier] = append(p.NACL[e.Tier], *e)
	}
	// AWS counts the default deny of each direction toward the quota: the stack's entries get
	// the rest.
	quota := QuotaOf(QuotaNACLRules)
	limit, budget := t.Quotas.Of(QuotaNACLRules), t.Quotas.NACLEntries()
	var errs []string
	for _, tier := range Tiers {
		entries := p.NACL[tier]
		sort.Slice(entries, func(i, j int) bool {
			if entries[i].Direction != entries[j].Direction {
				return entries[i].Direction == Ingress
			}
			return entries[i].Number < entries[j].Number
		})
		for _, dir := range []Direction{Ingress, Egress} {
			if n, flows := countEntries(entries, dir); n > budget {
				errs = append(errs, quota.Exceeded(NACLName(tier), NACLCount(n, dir), limit)+"; the entries serve "+strings.Join(flows, ", "))
			}
		}
	}
	if len(errs) > 0 {
		return Policy{}, fmt.Errorf("%s", strings.Join(errs, "\n"))
	}
	return p, nil
}

func countEntries(entries []NACLEntry, dir Direction) (int, []string) {
	n := 0
	seen := map[string]bool{}
	var flows []string
	for _, e := range entries {
		if e.Direction != dir {
			continue
		}
		n++
		for _, f := range e.Flows {
			if !seen[f] {
				seen[f] = true
				flows = append(flows, f)
			}
		}
	}
	return n, flows
}

// CheckTable refuses a flow table whose slots or IDs collide or whose roles are unknown.
func CheckTable(flows []Flow) error {
	slots := map[int]string{}
	ids := map[string]bool{}
	for i, f := range flows {
		where := fmt.Sprintf("flow %d (%s)", i, f.ID)
		switch {
		case f.ID == "":
			return fmt.Errorf("%s: empty ID", where)
		case ids[f.ID]:
			return fmt.Errorf("%s: ID repeats an earlier flow", where)
		case f.Slot < 1 || f.Slot > maxSlot:
			return fmt.Errorf("%s: slot %d is outside 1-%d", where, f.Slot, maxSlot)
		case slots[f.Slot] != "":
			return fmt.Errorf("%s: slot %d is already taken by %s", where, f.Slot, slots[f.Slot])
		case !f.From.Known() || !f.To.Known():
			return fmt.Errorf("%s: unknown role %q or %q", where, f.From, f.To)
		case f.From.Outside() && f.To.Outside():
			return fmt.Errorf("%s: both ends are outside the VPC", where)
		case f.From.Hop() || f.To.Hop():
			return fmt.Errorf("%s: %s or %s: a hop (Via) is not an end of a flow", where, f.From, f.To)
		case f.Via != "" && (f.Via != NAT && f.Via != S3Gateway || !f.To.Outside()):
			return fmt.Errorf("%s: only a NAT or S3 gateway hop towards an outside role is supported", where)
		case !sgDescription(f.Why):
			return fmt.Errorf("%s: reason %q has characters a security-group description refuses", where, f.Why)
		}
		slots[f.Slot] = f.ID
		ids[f.ID] = true
	}
	return nil
}

// sgDescription reports whether s fits AWS's rule description charset and length.
func sgDescription(s string) bool {
	if s == "" || len(s) > 255 {
		return false
	}
	for _, c := range s {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			strings.ContainsRune(" ._-:/()#,@[]+=&;{}!$*", c)
		if !ok {
			return false
		}
	}
	return true
}

type deriver struct {
	t Topology
	// seen maps an entry's match (tier, direction, ports, CIDR) to the entry that has it.
	seen  map[string]*NACLEntry
	order []*NACLEntry
	// perBand counts the entries a flow has numbered in one NACL direction and band.
	perBand map[string]int
}

// Placement lists the subnets where an inside role has ENIs.
func (t Topology) Placement(r Role) []Subnet {
	var out []Subnet
	for _, s := range t.Subnets {
		if s.Tier != r.Tier() {
			continue
		}
		if r == NAT && t.SingleNAT && len(out) == 1 {
			break
		}
		out = append(out, s)
	}
	return out
}

// CIDRs are the addresses of an outside role.
func (t Topology) CIDRs(r Role) []netip.Prefix {
	switch r {
	case Admin:
		return t.AdminCIDRs
	case Repos:
		return t.RepoCIDRs
	case Internet:
		return []netip.Prefix{Anywhere}
	}
	return nil
}

// NATFor is the public subnet whose NAT gateway serves the given AZ.
func (t Topology) NATFor(az string) Subnet {
	nats := t.Placement(NAT)
	for _, s := range nats {
		if s.AZ == az {
			return s
		}
	}
	return nats[0]
}

func (d *deriver) sgRules(f Flow) []SGRule {
	var out []SGRule
	add := func(group Role, dir Direction, peer Role) {
		if !group.HasGroup() {
			return
		}
		base := fmt.Sprintf("%s-%s-%s", group.GroupName(), dir, f.ID)
		if f.Via == S3Gateway && group == f.From {
			// The gateway endpoint's traffic goes to S3's addresses, which AWS keeps in the
			// region's S3 prefix list: the rule names the list, not the CIDRs.
			out = append(out, SGRule{ID: base + "-" + S3PrefixList + "-prefix-list", Group: group, Direction: dir,
				Port: f.Port, PeerPrefixList: S3PrefixList, Flow: f.ID, Why: f.Why})
			return
		}
		if peer.HasGroup() {
			out = append(out, SGRule{ID: base, Group: group, Direction: dir, Port: f.Port,
				PeerGroup: peer, Flow: f.ID, Why: f.Why})
			return
		}
		for _, c := range d.t.CIDRs(peer) {
			out = append(out, SGRule{ID: base + "-" + cidrName(c), Group: group, Direction: dir,
				Port: f.Port, PeerCIDR: c, Flow: f.ID, Why: f.Why})
		}
	}
	add(f.From, Egress, f.To)
	add(f.To, Ingress, f.From)
	return out
}

// cidrName turns a CIDR into a name part: 10.16.0.0/16 -> 10-16-0-0-16.
func cidrName(p netip.Prefix) string {
	return strings.NewReplacer(".", "-", "/", "-").Replace(p.String())
}

// naclEntries adds the stateless entries of every subnet boundary the flow crosses: for each
// leg, out of the source subnet and into the destination subnet, and both replies on the
// leg initiator's ephemeral range.
func (d *deriver) naclEntries(f Flow) {
	for _, src := range d.ends(f.From) {
		for _, dst := range d.ends(f.To) {
			if f.SameAZ && src.subnet != nil && dst.subnet != nil && src.subnet.AZ != dst.subnet.AZ {
				continue
			}
			if f.Via == NAT {
				nat := d.t.NATFor(src.subnet.AZ)
				natEnd := end{cidr: nat.CIDR, subnet: &nat}
				// Leg 1: the source to the NAT, addressed to the destination.
				d.leg(f, src, natEnd, dst.cidr, f.From)
				// Leg 2: the NAT, with the source rewritten, out to the destination.
				d.leg(f, natEnd, dst, dst.cidr, NAT)
				continue
			}
			// Through a gateway endpoint the packets keep both addresses: the source subnet's
			// ACL judges them against the destination's public range, like a direct path.
			d.leg(f, src, dst, dst.cidr, f.From)
		}
	}
}

// end is one side of a leg: a subnet of ours, or an outside CIDR (subnet nil).
type end struct {
	cidr   netip.Prefix
	subnet *Subnet
}

func (d *deriver) ends(r Role) []end {
	if r.Outside() {
		var out []end
		for _, c := range d.t.CIDRs(r) {
			out = append(out, end{cidr: c})
		}
		return out
	}
	var out []end
	for _, s := range d.t.Placement(r) {
		s := s
		out = append(out, end{cidr: s.CIDR, subnet: &s})
	}
	return out
}

// leg adds the entries for packets from src's subnet to dstAddr (inside dst's subnet, or
// beyond it for a NAT), opened by initiator.
func (d *deriver) leg(f Flow, src, dst end, dstAddr netip.Prefix, initiator Role) {
	if src.subnet != nil && dst.subnet != nil && src.subnet.Name == dst.subnet.Name {
		return // same subnet: NACLs do not see it
	}
	eph := initiator.Ephemeral()
	srcAddr := src.cidr
	if src.subnet != nil {
		d.add(f, src.subnet.Tier, Egress, f.Port, dstAddr, false)
		d.add(f, src.subnet.Tier, Ingress, eph, dstAddr, true)
	}
	if dst.subnet != nil {
		d.add(f, dst.subnet.Tier, Ingress, f.Port, srcAddr, false)
		d.add(f, dst.subnet.Tier, Egress, eph, srcAddr, true)
	}
}

// add records one entry unless the NACL has it already. A flow's band has room for the most
// entries one direction may hold at AWS's highest quota (see number), so numbers never collide
// in a policy within the quota.
func (d *deriver) add(f Flow, tier Tier, dir Direction, port Port, cidr netip.Prefix, ret bool) {
	key := fmt.Sprintf("%s|%s|%s|%d-%d|%s", tier, dir, port.Proto, port.From, port.To, cidr)
	if e, ok := d.seen[key]; ok {
		if !contains(e.Flows, f.ID) {
			e.Flows = append(e.Flows, f.ID)
		}
		return
	}
	band := fmt.Sprintf("%s|%s|%s|%t", f.ID, tier, dir, ret)
	i := d.perBand[band]
	d.perBand[band] = i + 1
	n := number(f.Slot, i)
	if ret {
		n += ReturnBase
	}
	e := &NACLEntry{Tier: tier, Direction: dir, Number: n, Port: port, CIDR: cidr, Return: ret, Flows: []string{f.ID}}
	d.seen[key] = e
	d.order = append(d.order, e)
}

// number is the rule number of a flow's i-th entry in a band: the first slotEntries on the
// tens from Slot*slotWidth, the next slotEntries (only a raised quota lets a direction hold
// them) on the fives between, so raising the quota moves no entry and a band holds the 39
// entries AWS's highest quota (40, the default deny among them) allows a direction.
func number(slot, i int) int {
	if i < slotEntries {
		return slot*slotWidth + i*entryStep
	}
	return slot*slotWidth + (i-slotEntries)*entryStep + entryStep/2
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
