package verify

import (
	"fmt"
	"slices"

	"github.com/webtier/webtier/rules"
)

// What sends and receives in a deployed stack's network, in AWS's terms (Deployed), but for
// the load balancers, Auto Scaling groups, databases and mount targets.

// DeployedEIP is an Elastic IP: its allocation ID and the ID of the instance it is associated
// with ("" none).
type DeployedEIP struct {
	Addr     string `json:"addr"`
	ID       string `json:"id"`
	Instance string `json:"instance,omitempty"`
}

// DeployedInstance is an instance no Auto Scaling group launched: its subnet, the security
// groups of its primary interface, its rules.RoleTag tag, whether it has a public address of
// its own (not an Elastic IP's), and its private address.
type DeployedInstance struct {
	Addr      string   `json:"addr"`
	ID        string   `json:"id"`
	Subnet    string   `json:"subnet"`
	Groups    []string `json:"groups,omitempty"`
	Role      string   `json:"role,omitempty"`
	PublicIP  bool     `json:"public_ip"`
	PrivateIP string   `json:"private_ip,omitempty"`
}

// DeployedNAT is a NAT gateway: its subnet, whether it is private, and the allocation ID of
// its primary Elastic IP.
type DeployedNAT struct {
	Addr    string `json:"addr"`
	ID      string `json:"id"`
	Subnet  string `json:"subnet"`
	Private bool   `json:"private,omitempty"`
	EIP     string `json:"eip,omitempty"`
}

// DeployedEndpoint is a VPC endpoint of a service ("com.amazonaws.REGION.s3"): a gateway
// endpoint with its route tables, or an interface endpoint in its subnets with its security
// groups (all by ID); Role is its rules.RoleTag tag, Policy its policy document.
type DeployedEndpoint struct {
	Addr        string   `json:"addr"`
	ID          string   `json:"id"`
	Service     string   `json:"service"`
	Gateway     bool     `json:"gateway,omitempty"`
	Subnets     []string `json:"subnets,omitempty"`
	Groups      []string `json:"groups,omitempty"`
	RouteTables []string `json:"route_tables,omitempty"`
	Role        string   `json:"role,omitempty"`
	Policy      string   `json:"policy,omitempty"`
	// PrivateDNS is an interface endpoint's private DNS setting.
	PrivateDNS bool `json:"private_dns,omitempty"`
}

func (x DeployedEIP) address() string      { return x.Addr }
func (x DeployedInstance) address() string { return x.Addr }
func (x DeployedNAT) address() string      { return x.Addr }
func (x DeployedEndpoint) address() string { return x.Addr }

// groupsByID are the security groups whose IDs the attribute attr of the element at addr
// lists; an unknown ID is a load error.
func (l *loader) groupsByID(addr, attr string, ids []string) []*SecurityGroup {
	return allByID(addr, attr, ids, l.groupByID)
}

// subnetsByID are the subnets whose IDs the attribute attr of the element at addr lists; an
// unknown ID is a load error.
func (l *loader) subnetsByID(addr, attr string, ids []string) []*Subnet {
	return allByID(addr, attr, ids, l.subnetByID)
}

// allByID resolves each of ids, the list attribute attr of the element at addr, with byID.
func allByID[T any](addr, attr string, ids []string, byID func(addr, attr, id string) *T) []*T {
	var out []*T
	for i, id := range ids {
		if x := byID(addr, fmt.Sprintf("%s[%d]", attr, i), id); x != nil {
			out = append(out, x)
		}
	}
	return out
}

// deployedNATs places the NAT gateways l.d holds.
func (l *loader) deployedNATs() {
	for _, n := range sortedBy(l.d.NATGateways, func(DeployedNAT) bool { return false }) {
		s := l.subnetByID(n.Addr, "subnet_id", n.Subnet)
		if s == nil {
			continue
		}
		eip := ""
		if n.EIP != "" {
			i := slices.IndexFunc(l.d.ElasticIPs, func(ip DeployedEIP) bool { return ip.ID == n.EIP })
			if i < 0 {
				l.failAt(n.Addr, "allocation_id")("%q names no aws_eip of the stack", n.EIP)
				continue
			}
			eip = l.d.ElasticIPs[i].Addr
		}
		l.addNAT(n.Addr, n.ID, s, n.Private, eip)
	}
}

// deployedInstances places the instances l.d holds; eips maps an instance's address to its
// Elastic IP's.
func (l *loader) deployedInstances(eips map[string]string) {
	for _, in := range sortedBy(l.d.Instances, func(DeployedInstance) bool { return false }) {
		s := l.subnetByID(in.Addr, "subnet_id", in.Subnet)
		if s == nil {
			continue
		}
		groups := l.groupsByID(in.Addr, "vpc_security_group_ids", in.Groups)
		public, why := in.PublicIP, settingWhy("associate_public_ip_address", in.PublicIP, in.Addr)
		if eip := eips[in.Addr]; eip != "" {
			public, why = true, "the Elastic IP "+eip
		}
		e := l.eniAt(in.Addr, in.ID, roleNamed(in.Role, rules.Bastion), Instance, []*Subnet{s}, groups, public, why)[0]
		if in.PrivateIP != "" {
			l.fixAddr(in.PrivateIP, e, l.failAt(in.Addr, "private_ip"))
		}
	}
}

// deployedEndpoints places the VPC endpoints l.d holds: a gateway endpoint on its route tables,
// an interface endpoint in its subnets.
func (l *loader) deployedEndpoints() {
	for _, e := range sortedBy(l.d.Endpoints, func(DeployedEndpoint) bool { return false }) {
		if e.Gateway {
			tables := allByID(e.Addr, "route_table_ids", e.RouteTables, l.tableByID)
			l.gateway(&GatewayEndpoint{Addr: e.Addr, ID: e.ID, Service: e.Service, Policy: e.Policy}, tables)
			continue
		}
		subnets := l.subnetsByID(e.Addr, "subnet_ids", e.Subnets)
		groups := l.groupsByID(e.Addr, "security_group_ids", e.Groups)
		for _, ep := range l.eniAt(e.Addr, e.ID, roleNamed(e.Role, endpointRole(e.Service)), InterfaceEndpoint, subnets, groups, false, interfaceEndpointsPrivate) {
			ep.Service = e.Service
		}
	}
}
