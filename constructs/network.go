package constructs

import (
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/eip"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/internetgateway"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/natgateway"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/route"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/routetable"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/routetableassociation"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/subnet"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/vpc"
	"github.com/hashicorp/terraform-cdk-go/cdktf"

	"github.com/webtier/webtier/rules"
)

// NetworkProps lays out the VPC.
type NetworkProps struct {
	// CIDR is the VPC's range. default: none (required)
	CIDR string
	// Subnets are every subnet, tier by tier and AZ by AZ, as rules.Topology has them.
	// default: none (required)
	Subnets []rules.Subnet
	// NATSubnets names the public subnets that get a NAT gateway, and for each AZ which one
	// its web subnet routes through (rules.Topology.NATFor). default: none (required)
	NATFor func(az string) rules.Subnet
	// NATSubnets lists the public subnets that hold a NAT gateway. default: none (required)
	NATSubnets []rules.Subnet
}

// Network is the VPC, its subnets, the internet gateway, the NAT gateways and one route
// table per tier (per AZ for the web tier, whose default route goes to its AZ's NAT).
type Network struct {
	VPC     vpc.Vpc
	subnets map[rules.Tier][]Subnet
	NATs    []natgateway.NatGateway
	// Egress is what a web server needs to reach the internet at boot: the web subnets'
	// route tables, default routes (through NAT) and associations.
	Egress []cdktf.ITerraformDependable
	// WebRouteTables are the web subnets' route tables, in AZ order.
	WebRouteTables []routetable.RouteTable
}

// NewNetwork builds the network.
func NewNetwork(scope constructs.Construct, id string, p NetworkProps) *Network {
	s := scopeOf(scope, id)
	n := &Network{subnets: map[rules.Tier][]Subnet{}}
	n.VPC = named(vpc.NewVpc(s, str("vpc"), &vpc.VpcConfig{
		CidrBlock:          str(p.CIDR),
		EnableDnsSupport:   true,
		EnableDnsHostnames: true,
		Tags:               tags("webtier", "vpc"),
	}), "vpc")
	byName := map[string]subnet.Subnet{}
	for _, sn := range p.Subnets {
		sub := named(subnet.NewSubnet(s, str(sn.Name), &subnet.SubnetConfig{
			VpcId:            n.VPC.Id(),
			CidrBlock:        str(sn.CIDR.String()),
			AvailabilityZone: str(sn.AZ),
			// Nothing gets a public address by default; bastions ask for one.
			MapPublicIpOnLaunch: false,
			Tags:                tags(sn.Name, "subnet-"+string(sn.Tier)),
		}), sn.Name)
		n.subnets[sn.Tier] = append(n.subnets[sn.Tier], Subnet{Subnet: sn, Res: sub})
		byName[sn.Name] = sub
	}

	igw := named(internetgateway.NewInternetGateway(s, str("igw"), &internetgateway.InternetGatewayConfig{
		VpcId: n.VPC.Id(),
		Tags:  tags("webtier-igw", "igw"),
	}), "igw")

	nats := map[string]natgateway.NatGateway{}
	for _, sn := range p.NATSubnets {
		ip := named(eip.NewEip(s, str("nat-"+sn.Name), &eip.EipConfig{
			Domain: str("vpc"),
			Tags:   tags("nat-"+sn.Name, "nat-eip"),
		}), "nat-"+sn.Name)
		nat := named(natgateway.NewNatGateway(s, str("nat-gw-"+sn.Name), &natgateway.NatGatewayConfig{
			AllocationId: ip.AllocationId(),
			SubnetId:     byName[sn.Name].Id(),
			Tags:         tags("nat-"+sn.Name, string(rules.NAT)),
			DependsOn:    deps(igw),
		}), "nat-"+sn.Name)
		nats[sn.Name] = nat
		n.NATs = append(n.NATs, nat)
	}

	table := func(name string) routetable.RouteTable {
		return named(routetable.NewRouteTable(s, str("rt-"+name), &routetable.RouteTableConfig{
			VpcId: n.VPC.Id(),
			Tags:  tags(name+"-rt", "route-table"),
		}), name)
	}
	defaultRoute := func(rt routetable.RouteTable, name string, cfg route.RouteConfig) route.Route {
		cfg.RouteTableId = rt.Id()
		cfg.DestinationCidrBlock = str(rules.Anywhere.String())
		return named(route.NewRoute(s, str("route-"+name), &cfg), name+"-default")
	}
	associate := func(rt routetable.RouteTable, sn rules.Subnet) routetableassociation.RouteTableAssociation {
		return named(routetableassociation.NewRouteTableAssociation(s, str("rta-"+sn.Name), &routetableassociation.RouteTableAssociationConfig{
			RouteTableId: rt.Id(),
			SubnetId:     byName[sn.Name].Id(),
		}), sn.Name)
	}

	public := table("public")
	defaultRoute(public, "public", route.RouteConfig{GatewayId: igw.Id()})
	db := table("db") // local only: the database never leaves the VPC
	for _, sn := range p.Subnets {
		switch sn.Tier {
		case rules.Public:
			associate(public, sn)
		case rules.DBTier:
			associate(db, sn)
		case rules.WebTier:
			rt := table(sn.Name)
			n.WebRouteTables = append(n.WebRouteTables, rt)
			n.Egress = append(n.Egress, rt,
				defaultRoute(rt, sn.Name, route.RouteConfig{NatGatewayId: nats[p.NATFor(sn.AZ).Name].Id()}),
				associate(rt, sn))
		}
	}
	return n
}

// Subnet is a subnet as planned and as built.
type Subnet struct {
	rules.Subnet
	Res subnet.Subnet
}

// Suffix is the AZ letter, for names: "a".
func (s Subnet) Suffix() string { return s.AZ[len(s.AZ)-1:] }

// Subnets returns the subnets of a tier, in AZ order.
func (n *Network) Subnets(t rules.Tier) []Subnet { return n.subnets[t] }

// SubnetIDs returns the IDs of a tier's subnets, in AZ order.
func (n *Network) SubnetIDs(t rules.Tier) *[]*string {
	var ids []*string
	for _, s := range n.subnets[t] {
		ids = append(ids, s.Res.Id())
	}
	return ptrs(ids)
}
