package verify

import (
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

// LoadDeployed is Load for a document made of a deployed stack read back from AWS (package
// live, see DeployedDocument): the resources of its network, and what it found above the
// packets (Deployed), built into the model by AddDeployed. What it lacks was not read rather
// than missing (an authorization check that needs it says "not read", never "allowed" nor a
// defect), and its account is the one its roles' ARNs name. The network's Deployed says so.
func LoadDeployed(data []byte) (*Network, error) {
	s, err := parseStack(data)
	if err != nil {
		return nil, err
	}
	s.markDeployed()
	d, err := readDeployed(data)
	if err != nil {
		return nil, err
	}
	return load(s, d)
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
	for _, r := range f.refs("aws_subnet") {
		if s := l.subnets[r.Addr]; s != nil {
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
		v := &VPC{Addr: r.Addr, ID: awsID(r), CIDRs: []netip.Prefix{cidr}}
		v.Main = &RouteTable{Addr: "main route table of " + r.Addr, VPC: v}
		v.DefaultNACL = &NACL{Addr: "default network ACL of " + r.Addr, VPC: v,
			Ingress: []*NACLEntry{allowAll(v, false)}, Egress: []*NACLEntry{allowAll(v, true)}}
		sg := &SecurityGroup{Addr: "default security group of " + r.Addr, Name: "default", VPC: v}
		sg.Ingress = []*SGRule{{Addr: sg.Addr + " ingress (from itself)", Group: sg, Proto: All, Peer: sg}}
		sg.Egress = []*SGRule{{Addr: sg.Addr + " egress (to anywhere)", Group: sg, Egress: true, Proto: All, CIDR: rules.Anywhere}}
		v.DefaultSG = sg
		l.vpcs[r.Addr] = v
		l.n.VPCs = append(l.n.VPCs, v)
	}, "aws_vpc")
	l.each(func(r *resource) {
		v := l.vpcOf(l.attr(r, "vpc_id"))
		if c, ok := l.attr(r, "cidr_block").prefix(); ok && v != nil {
			v.CIDRs = append(v.CIDRs, c)
		}
	}, "aws_vpc_ipv4_cidr_block_association")
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
		if !v.Contains(cidr.Addr()) {
			l.attr(r, "cidr_block").fail("%s is outside %s", cidr, v.Addr)
			return
		}
		az, _ := l.attr(r, "availability_zone").str()
		if az == "" {
			az, _ = l.attr(r, "availability_zone_id").str()
		}
		mapPublic, _ := l.attr(r, "map_public_ip_on_launch").boolean()
		s := &Subnet{Addr: r.Addr, ID: awsID(r), Name: r.Name, VPC: v, CIDR: cidr, AZ: az, MapPublic: mapPublic,
			Routes: v.Main, NACL: v.DefaultNACL}
		for _, o := range l.n.Subnets {
			if o.VPC == v && o.CIDR.Overlaps(cidr) {
				l.attr(r, "cidr_block").fail("%s overlaps %s %s", cidr, o.Addr, o.CIDR)
			}
		}
		l.subnets[r.Addr] = s
		l.n.Subnets = append(l.n.Subnets, s)
	}, "aws_subnet")
}

func (l *loader) loadGateways() {
	attach := func(r *resource, v *VPC) {
		if v == nil {
			return
		}
		if v.IGW != "" && v.IGW != r.Addr {
			l.attr(r, "vpc_id").fail("%s already has the internet gateway %s", v.Addr, v.IGW)
			return
		}
		v.IGW = r.Addr
	}
	l.each(func(r *resource) {
		if l.attr(r, "vpc_id").set() {
			attach(r, l.vpcOf(l.attr(r, "vpc_id")))
		}
	}, "aws_internet_gateway")
	l.each(func(r *resource) {
		igw, _ := l.attr(r, "internet_gateway_id").ref("aws_internet_gateway")
		if igw != nil {
			attach(igw, l.vpcOf(l.attr(r, "vpc_id")))
		}
	}, "aws_internet_gateway_attachment")
}

func (l *loader) loadNATs() {
	l.each(func(r *resource) {
		s := l.subnetOf(l.attr(r, "subnet_id"))
		if s == nil {
			return
		}
		kind, _ := l.attr(r, "connectivity_type").str()
		eip := "its Elastic IP"
		if f := l.attr(r, "allocation_id"); f.set() {
			if ip, _ := f.ref("aws_eip"); ip != nil {
				eip = "the Elastic IP " + ip.Addr
			}
		}
		e := &Endpoint{Role: rules.NAT, Kind: NATGateway, Res: r.Addr, Subnet: s, NoGroups: true,
			Ephemeral: portsOf(rules.NAT.Ephemeral())}
		if kind == "private" {
			e.PublicWhy = "connectivity_type = private on " + r.Addr
		} else {
			e.Public, e.PublicWhy = true, eip
		}
		l.nats[r.Addr] = e
		l.addENI(r, e)
	}, "aws_nat_gateway")
}

// portsOf turns a rules.Port into a port set.
func portsOf(p rules.Port) Ports { return PortRange(p.From, p.To) }
