package verify

import (
	"fmt"
	"maps"
	"net/netip"
	"slices"

	"github.com/webtier/webtier/rules"
)

// loader builds a Network from a stack, collecting every problem on the way.
type loader struct {
	s *stack
	// d is what a reader of a deployed stack found in AWS's terms (build.go); empty for a
	// synthesized stack.
	d    Deployed
	errs problems
	n    *Network

	vpcs    map[string]*VPC
	subnets map[string]*Subnet
	tables  map[string]*RouteTable
	nacls   map[string]*NACL
	groups  map[string]*SecurityGroup
	lists   map[string][]netip.Prefix
	nats    map[string]*Endpoint
	targets map[string]*TargetGroup
	// eniOf lists the endpoints (before addresses are chosen) of each resource.
	eniOf map[string][]*Endpoint
	// naclOf and tableOf record explicit associations, to refuse a subnet associated twice.
	naclOf  map[*Subnet]string
	tableOf map[*Subnet]string
}

// Load reads synthesized Terraform JSON into a network model. Every reference is resolved;
// a reference to a missing resource, or a value the model needs that cannot be known before
// apply, is an error naming the resource and the attribute. References in user data and
// outputs are not followed.
func Load(data []byte) (*Network, error) {
	s, err := parseStack(data)
	if err != nil {
		return nil, err
	}
	return load(s, Deployed{})
}

// load builds the network of a parsed stack and of what d holds (a deployed stack's elements
// in AWS's terms), each family at its step.
func load(s *stack, d Deployed) (*Network, error) {
	l := &loader{
		d: d, s: s, n: &Network{stack: s, Deployed: s.deployed, Account: plannedAccount, listMax: map[string]int{}},
		vpcs: map[string]*VPC{}, subnets: map[string]*Subnet{}, tables: map[string]*RouteTable{},
		nacls: map[string]*NACL{}, groups: map[string]*SecurityGroup{}, lists: map[string][]netip.Prefix{},
		nats: map[string]*Endpoint{}, targets: map[string]*TargetGroup{}, eniOf: map[string][]*Endpoint{},
		naclOf: map[*Subnet]string{}, tableOf: map[*Subnet]string{},
	}
	steps := []func(){
		l.loadVPCs, l.loadSubnets, l.loadGateways, l.loadNATs, l.loadPrefixLists, l.loadRouteTables, l.loadRoutes,
		l.loadNACLs, l.loadGroups, l.loadGroupRules, l.loadInstances,
		l.loadTargetGroups, l.loadFleets, l.loadBalancers, l.loadDatabases, l.loadMountTargets,
		l.loadVPCEndpoints, l.loadAuthority, l.loadControls, l.loadAlarms, l.noteUnmodelled,
	}
	for _, step := range steps {
		step()
	}
	if len(l.errs) > 0 {
		return nil, &LoadError{l.errs}
	}
	l.n.stackNACLs, l.n.stackGroups, l.n.stackTables = sortedValues(l.nacls), sortedValues(l.groups), sortedValues(l.tables)
	l.n.place()
	return l.n, nil
}

// sortedValues lists the values of m in the order of their keys.
func sortedValues[T any](m map[string]T) []T {
	out := make([]T, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, m[k])
	}
	return out
}

// each calls fn on every resource of the given types, in address order.
func (l *loader) each(fn func(r *resource), types ...string) {
	for _, t := range types {
		for _, r := range l.s.byType[t] {
			fn(r)
		}
	}
}

// vpcOf resolves a vpc_id attribute.
func (l *loader) vpcOf(f field) *VPC {
	r, _ := f.ref("aws_vpc")
	if r == nil {
		return nil
	}
	return l.vpcs[r.Addr]
}

// subnetOf resolves a subnet reference.
func (l *loader) subnetOf(f field) *Subnet {
	r, _ := f.ref("aws_subnet")
	if r == nil {
		return nil
	}
	return l.subnets[r.Addr]
}

// subnetsOf resolves a list of subnet references.
func (l *loader) subnetsOf(f field) []*Subnet {
	var out []*Subnet
	for _, item := range f.list() {
		if s := l.subnetOf(item); s != nil {
			out = append(out, s)
		}
	}
	return out
}

func (l *loader) loadVPCs() {
	l.each(func(r *resource) {
		if !l.attr(r, "cidr_block").required("the verifier needs the VPC's IPv4 range") {
			return
		}
		cidr, ok := l.attr(r, "cidr_block").prefix()
		if !ok {
			return
		}
		l.addVPC(r.Addr, awsID(r), cidr)
	}, "aws_vpc")
	l.each(func(r *resource) {
		v := l.vpcOf(l.attr(r, "vpc_id"))
		if c, ok := l.attr(r, "cidr_block").prefix(); ok && v != nil {
			v.CIDRs = append(v.CIDRs, c)
		}
	}, "aws_vpc_ipv4_cidr_block_association")
	l.deployedVPCs()
}

// addVPC adds the VPC at addr (AWS ID id, "" before apply) with its primary CIDR and what
// AWS gives every VPC: a main route table, a default network ACL that allows everything, a
// default security group.
func (l *loader) addVPC(addr, id string, cidr netip.Prefix) *VPC {
	v := &VPC{Addr: addr, ID: id, CIDRs: []netip.Prefix{cidr}}
	v.Main = &RouteTable{Addr: "main route table of " + addr, VPC: v}
	v.DefaultNACL = &NACL{Addr: "default network ACL of " + addr, VPC: v,
		Ingress: []*NACLEntry{allowAll(v, false)}, Egress: []*NACLEntry{allowAll(v, true)}}
	sg := &SecurityGroup{Addr: "default security group of " + addr, Name: "default", VPC: v}
	sg.Ingress = []*SGRule{{Addr: sg.Addr + " ingress (from itself)", Group: sg, Proto: All, Peer: sg}}
	sg.Egress = []*SGRule{{Addr: sg.Addr + " egress (to anywhere)", Group: sg, Egress: true, Proto: All, CIDR: rules.Anywhere}}
	v.DefaultSG = sg
	l.vpcs[addr] = v
	l.n.VPCs = append(l.n.VPCs, v)
	return v
}

// allowAll is the entry AWS gives a default network ACL in each direction.
func allowAll(v *VPC, egress bool) *NACLEntry {
	dir := "ingress"
	if egress {
		dir = "egress"
	}
	return &NACLEntry{Addr: "default network ACL of " + v.Addr + " " + dir, Number: 100, Egress: egress,
		Allow: true, Proto: All, CIDR: rules.Anywhere}
}

func (l *loader) loadSubnets() {
	l.each(func(r *resource) {
		v := l.vpcOf(l.attr(r, "vpc_id"))
		if !l.attr(r, "cidr_block").required("the verifier needs the subnet's IPv4 range") {
			return
		}
		cidr, ok := l.attr(r, "cidr_block").prefix()
		if v == nil || !ok {
			return
		}
		az, _ := l.attr(r, "availability_zone").str()
		if az == "" {
			az, _ = l.attr(r, "availability_zone_id").str()
		}
		mapPublic, _ := l.attr(r, "map_public_ip_on_launch").boolean()
		l.addSubnet(&Subnet{Addr: r.Addr, ID: awsID(r), Name: r.Name, VPC: v, CIDR: cidr, AZ: az, MapPublic: mapPublic},
			l.attr(r, "cidr_block").fail)
	}, "aws_subnet")
	l.deployedSubnets()
}

// failure records a problem with one attribute of an element, as field.fail does.
type failure func(format string, args ...any)

// failAt is the failure of the attribute attr of the element at addr.
func (l *loader) failAt(addr, attr string) failure {
	return func(format string, args ...any) { l.errs.add("%s: %s: %s", addr, attr, fmt.Sprintf(format, args...)) }
}

// addSubnet adds s (its VPC, range, AZ and public-address setting read) to the network, routed
// by its VPC's main table and filtered by its default network ACL until an association says
// otherwise; a range outside the VPC or overlapping another subnet's is a problem of its
// cidr_block (fail).
func (l *loader) addSubnet(s *Subnet, fail failure) {
	if !s.VPC.Contains(s.CIDR.Addr()) {
		fail("%s is outside %s", s.CIDR, s.VPC.Addr)
		return
	}
	s.Routes, s.NACL = s.VPC.Main, s.VPC.DefaultNACL
	for _, o := range l.n.Subnets {
		if o.VPC == s.VPC && o.CIDR.Overlaps(s.CIDR) {
			fail("%s overlaps %s %s", s.CIDR, o.Addr, o.CIDR)
		}
	}
	l.subnets[s.Addr] = s
	l.n.Subnets = append(l.n.Subnets, s)
}

func (l *loader) loadGateways() {
	l.each(func(r *resource) {
		if l.attr(r, "vpc_id").set() {
			l.attach(r.Addr, l.vpcOf(l.attr(r, "vpc_id")), l.attr(r, "vpc_id").fail)
		}
	}, "aws_internet_gateway")
	l.each(func(r *resource) {
		igw, _ := l.attr(r, "internet_gateway_id").ref("aws_internet_gateway")
		if igw != nil {
			l.attach(igw.Addr, l.vpcOf(l.attr(r, "vpc_id")), l.attr(igw, "vpc_id").fail)
		}
	}, "aws_internet_gateway_attachment")
	l.deployedGateways()
}

// attach attaches the internet gateway at addr to v (nil: nothing); a VPC has one at most.
func (l *loader) attach(addr string, v *VPC, fail failure) {
	if v == nil {
		return
	}
	if v.IGW != "" && v.IGW != addr {
		fail("%s already has the internet gateway %s", v.Addr, v.IGW)
		return
	}
	v.IGW = addr
}

func (l *loader) loadNATs() {
	l.each(func(r *resource) {
		s := l.subnetOf(l.attr(r, "subnet_id"))
		if s == nil {
			return
		}
		kind, _ := l.attr(r, "connectivity_type").str()
		eip := ""
		if f := l.attr(r, "allocation_id"); f.set() {
			if ip, _ := f.ref("aws_eip"); ip != nil {
				eip = ip.Addr
			}
		}
		l.addNAT(r.Addr, awsID(r), s, kind == "private", eip)
	}, "aws_nat_gateway")
	l.deployedNATs()
}

// addNAT adds the NAT gateway at addr (AWS ID id) in s: a private one, or a public one with
// the Elastic IP at eip ("" when the stack does not say which).
func (l *loader) addNAT(addr, id string, s *Subnet, private bool, eip string) {
	e := &Endpoint{Role: rules.NAT, Kind: NATGateway, Res: addr, Subnet: s, NoGroups: true,
		Ephemeral: portsOf(rules.NAT.Ephemeral())}
	switch {
	case private:
		e.PublicWhy = "connectivity_type = private on " + addr
	case eip != "":
		e.Public, e.PublicWhy = true, "the Elastic IP "+eip
	default:
		e.Public, e.PublicWhy = true, "its Elastic IP"
	}
	l.nats[addr] = e
	l.addENIAt(addr, id, e)
}

// portsOf turns a rules.Port into a port set.
func portsOf(p rules.Port) Ports { return PortRange(p.From, p.To) }
