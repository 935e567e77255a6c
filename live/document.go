package live

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	asgtypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"

	"github.com/webtier/webtier/rules"
	"github.com/webtier/webtier/verify"
)

// Deployed is the stack as verify.LoadDeployed builds its model from it (verify.Deployed, in
// AWS's IDs and ARNs): the network (VPC, subnets, gateways, route tables, network ACLs,
// security groups and their rules, prefix lists), what sends and receives (instances, Elastic
// IPs, NAT gateways, VPC endpoints, the network interfaces the model does not hold, load
// balancers with their listeners, target groups, Auto Scaling groups with their launch
// templates and scaling policies, file systems and their mount targets, databases and their
// subnet groups) and what lies above the packets (roles and their policies, instance
// profiles, flow logs and their log groups, file-system policies, the databases' secrets).
// Each element is named by its Name tag (else its ID) as a resource of the synthesized stack
// is, so that reports of both read alike. Notes are what the reading left out, said rather
// than hidden; the verifier adds its own (for example on network interfaces it does not
// model).
func (s *Described) Deployed() (verify.Deployed, []string) {
	d := newNaming()
	s.name(d)
	var out verify.Deployed
	s.network(d, &out)
	s.securityGroups(d, &out)
	s.compute(d, &out)
	s.balancers(d, &out)
	s.fleets(d, &out)
	s.above(d, &out)
	return out, d.notes
}

// Model loads the stack into verify's model of a network, with the notes of Deployed.
func (s *Described) Model() (*verify.Network, []string, error) {
	dep, notes := s.Deployed()
	n, err := verify.LoadDeployed(dep)
	return n, notes, err
}

// asgTag is the tag Auto Scaling puts on the instances it launches.
const asgTag = "aws:autoscaling:groupName"

// naming names the elements of a stack as the resources of a Terraform configuration are
// named ("aws_subnet.web-a"), once each.
type naming struct {
	// addr maps an AWS ID (or ARN), alone and after its type, to the address naming it.
	addr map[string]string
	// taken holds the names used, per type.
	taken map[string]map[string]bool
	notes []string
	// interfaces are the network interfaces named only as route targets.
	interfaces []string
}

func newNaming() *naming {
	return &naming{addr: map[string]string{}, taken: map[string]map[string]bool{}}
}

// badName matches what a Terraform resource name cannot hold.
var badName = regexp.MustCompile(`[^A-Za-z0-9_-]+`)

// name gives the element of type typ with this ID its name: the Name tag, else the fallback
// (the ID, or a readable identifier), made a valid and unique Terraform name.
func (d *naming) name(typ, id, tag, fallback string) string {
	if a := d.addr[typ+" "+id]; a != "" {
		return a
	}
	n := badName.ReplaceAllString(strings.TrimSpace(tag), "-")
	if n == "" {
		n = badName.ReplaceAllString(fallback, "-")
	}
	if n == "" || !(n[0] == '_' || n[0] >= 'A' && n[0] <= 'Z' || n[0] >= 'a' && n[0] <= 'z') {
		n = "r-" + n
	}
	if d.taken[typ] == nil {
		d.taken[typ] = map[string]bool{}
	}
	if d.taken[typ][n] {
		n += "-" + badName.ReplaceAllString(id, "-")
	}
	for base, i := n, 2; d.taken[typ][n]; i++ {
		n = fmt.Sprintf("%s-%d", base, i)
	}
	d.taken[typ][n] = true
	a := typ + "." + n
	d.addr[typ+" "+id] = a
	if d.addr[id] == "" {
		d.addr[id] = a
	}
	return a
}

// has reports whether id names an element of the stack (of typ, when given).
func (d *naming) has(id string, typ ...string) bool {
	a := d.addr[id]
	if a == "" {
		return false
	}
	if len(typ) == 0 {
		return true
	}
	return slices.Contains(typ, a[:strings.IndexByte(a, '.')])
}

// stub names a route target the verifier does not follow and returns its address; a network
// interface no other element stands for is one the model does not hold (d.interfaces).
func (d *naming) stub(typ, id string) string {
	if !d.has(typ + " " + id) {
		addr := d.name(typ, id, "", id)
		if typ == "aws_network_interface" {
			d.interfaces = append(d.interfaces, addr)
		}
	}
	return d.addr[typ+" "+id]
}

func (d *naming) note(format string, args ...any) {
	d.notes = append(d.notes, fmt.Sprintf(format, args...))
}

func ec2Tag(tags []ec2types.Tag, key string) string {
	for _, t := range tags {
		if aws.ToString(t.Key) == key {
			return aws.ToString(t.Value)
		}
	}
	return ""
}

func elbTag(tags []elbtypes.Tag, key string) string {
	for _, t := range tags {
		if aws.ToString(t.Key) == key {
			return aws.ToString(t.Value)
		}
	}
	return ""
}

func rdsTag(tags []rdstypes.Tag, key string) string {
	for _, t := range tags {
		if aws.ToString(t.Key) == key {
			return aws.ToString(t.Value)
		}
	}
	return ""
}

// lastPart is what follows the last "/" of an ARN: the short ID of a listener or a rule.
func lastPart(arn string) string { return arn[strings.LastIndexByte(arn, '/')+1:] }

// main returns the VPC's main route table, or nil.
func (s *Described) mainTable() *ec2types.RouteTable {
	for i, t := range s.RouteTables {
		for _, a := range t.Associations {
			if aws.ToBool(a.Main) {
				return &s.RouteTables[i]
			}
		}
	}
	return nil
}

// webInstance reports whether an instance was launched by an Auto Scaling group.
func asgMember(in ec2types.Instance) bool { return ec2Tag(in.Tags, asgTag) != "" }

// standalone are the instances not launched by an Auto Scaling group: the model places the
// group's instances from its configuration, these from what they are.
func (s *Described) standalone() []ec2types.Instance {
	var out []ec2types.Instance
	for _, in := range s.Instances {
		if !asgMember(in) {
			out = append(out, in)
		}
	}
	return out
}

// name gives every resource its address before any reference is written. Resources are
// named in ID order, so that a clash of Name tags resolves the same way every time.
func (s *Described) name(d *naming) {
	vpc := aws.ToString(s.VPC.VpcId)
	d.name("aws_vpc", vpc, ec2Tag(s.VPC.Tags, "Name"), vpc)
	for _, sn := range sortBy(s.Subnets, func(x ec2types.Subnet) string { return aws.ToString(x.SubnetId) }) {
		d.name("aws_subnet", aws.ToString(sn.SubnetId), ec2Tag(sn.Tags, "Name"), aws.ToString(sn.SubnetId))
	}
	for _, g := range sortBy(s.InternetGateways, func(x ec2types.InternetGateway) string { return aws.ToString(x.InternetGatewayId) }) {
		d.name("aws_internet_gateway", aws.ToString(g.InternetGatewayId), ec2Tag(g.Tags, "Name"), aws.ToString(g.InternetGatewayId))
	}
	main := s.mainTable()
	for _, t := range sortBy(s.RouteTables, func(x ec2types.RouteTable) string { return aws.ToString(x.RouteTableId) }) {
		typ := "aws_route_table"
		if main != nil && aws.ToString(main.RouteTableId) == aws.ToString(t.RouteTableId) {
			typ = "aws_default_route_table"
		}
		d.name(typ, aws.ToString(t.RouteTableId), ec2Tag(t.Tags, "Name"), aws.ToString(t.RouteTableId))
	}
	for _, a := range sortBy(s.NetworkACLs, func(x ec2types.NetworkAcl) string { return aws.ToString(x.NetworkAclId) }) {
		typ := "aws_network_acl"
		if aws.ToBool(a.IsDefault) {
			typ = "aws_default_network_acl"
		}
		d.name(typ, aws.ToString(a.NetworkAclId), ec2Tag(a.Tags, "Name"), aws.ToString(a.NetworkAclId))
	}
	for _, g := range sortBy(s.SecurityGroups, func(x ec2types.SecurityGroup) string { return aws.ToString(x.GroupId) }) {
		typ := "aws_security_group"
		if aws.ToString(g.GroupName) == "default" {
			typ = "aws_default_security_group"
		}
		d.name(typ, aws.ToString(g.GroupId), ec2Tag(g.Tags, "Name"), aws.ToString(g.GroupId))
	}
	for _, pl := range s.PrefixLists {
		d.name("aws_ec2_managed_prefix_list", pl.ID, pl.Name, pl.ID)
	}
	for _, in := range sortBy(s.standalone(), func(x ec2types.Instance) string { return aws.ToString(x.InstanceId) }) {
		d.name("aws_instance", aws.ToString(in.InstanceId), ec2Tag(in.Tags, "Name"), aws.ToString(in.InstanceId))
	}
	for _, a := range sortBy(s.Addresses, func(x ec2types.Address) string { return aws.ToString(x.AllocationId) }) {
		d.name("aws_eip", aws.ToString(a.AllocationId), ec2Tag(a.Tags, "Name"), aws.ToString(a.AllocationId))
	}
	for _, n := range sortBy(s.NATGateways, func(x ec2types.NatGateway) string { return aws.ToString(x.NatGatewayId) }) {
		d.name("aws_nat_gateway", aws.ToString(n.NatGatewayId), ec2Tag(n.Tags, "Name"), aws.ToString(n.NatGatewayId))
	}
	for _, e := range sortBy(s.VPCEndpoints, func(x ec2types.VpcEndpoint) string { return aws.ToString(x.VpcEndpointId) }) {
		d.name("aws_vpc_endpoint", aws.ToString(e.VpcEndpointId), ec2Tag(e.Tags, "Name"), aws.ToString(e.VpcEndpointId))
	}
	for _, lb := range sortBy(s.LoadBalancers, func(x LoadBalancer) string { return aws.ToString(x.LoadBalancerArn) }) {
		d.name("aws_lb", aws.ToString(lb.LoadBalancerArn), elbTag(lb.Tags, "Name"), aws.ToString(lb.LoadBalancerName))
		for _, l := range lb.Listeners {
			arn := aws.ToString(l.ListenerArn)
			d.name("aws_lb_listener", arn, elbTag(l.Tags, "Name"), "listener-"+lastPart(arn))
		}
	}
	for _, tg := range sortBy(s.TargetGroups, func(x TargetGroup) string { return aws.ToString(x.TargetGroupArn) }) {
		d.name("aws_lb_target_group", aws.ToString(tg.TargetGroupArn), elbTag(tg.Tags, "Name"), aws.ToString(tg.TargetGroupName))
	}
	for _, lt := range s.LaunchTemplates {
		d.name("aws_launch_template", ltKey(aws.ToString(lt.LaunchTemplateId), lt.Spec), ec2Tag(lt.Tags, "Name"), aws.ToString(lt.LaunchTemplateName))
	}
	for _, lc := range s.LaunchConfigurations {
		d.name("aws_launch_configuration", aws.ToString(lc.LaunchConfigurationName), "", aws.ToString(lc.LaunchConfigurationName))
	}
	for _, g := range s.AutoScalingGroups {
		d.name("aws_autoscaling_group", aws.ToString(g.AutoScalingGroupName), asgName(g.Tags), aws.ToString(g.AutoScalingGroupName))
	}
	for _, g := range s.dbSubnetGroups() {
		d.name("aws_db_subnet_group", aws.ToString(g.DBSubnetGroupName), rdsTag(g.Tags, "Name"), aws.ToString(g.DBSubnetGroupName))
	}
	for _, db := range s.DBInstances {
		typ := "aws_db_instance"
		if aws.ToString(db.DBClusterIdentifier) != "" {
			typ = "aws_rds_cluster_instance"
		}
		d.name(typ, aws.ToString(db.DBInstanceIdentifier), rdsTag(db.TagList, "Name"), aws.ToString(db.DBInstanceIdentifier))
	}
	for _, fs := range s.FileSystems {
		name := aws.ToString(fs.Name)
		d.name("aws_efs_file_system", aws.ToString(fs.FileSystemId), name, aws.ToString(fs.FileSystemId))
	}
	for _, mt := range s.MountTargets {
		d.name("aws_efs_mount_target", aws.ToString(mt.MountTargetId), "", aws.ToString(mt.MountTargetId))
	}
	for _, id := range slices.Sorted(maps.Keys(s.FileSystemPolicies)) {
		d.name("aws_efs_file_system_policy", "policy "+id, "", "policy-"+id)
	}
	for _, fl := range s.FlowLogs {
		d.name("aws_flow_log", aws.ToString(fl.FlowLogId), ec2Tag(fl.Tags, "Name"), aws.ToString(fl.FlowLogId))
	}
	for _, g := range s.LogGroups {
		d.name("aws_cloudwatch_log_group", g.ARN, "", g.Name)
	}
	for _, p := range s.RolePolicies {
		d.name("aws_iam_role", p.RoleARN, "", p.RoleName)
		if p.Name != "" {
			d.name("aws_iam_role_policy", p.RoleName+":"+p.Name, "", p.Name)
		}
	}
	for _, p := range s.InstanceProfiles {
		d.name("aws_iam_instance_profile", p.ARN, "", p.Name)
	}
	for _, e := range s.unaccounted() {
		d.name("aws_network_interface", aws.ToString(e.NetworkInterfaceId), ec2Tag(e.TagSet, "Name"), aws.ToString(e.NetworkInterfaceId))
	}
}

// ltKey identifies one version of a launch template.
func ltKey(id, version string) string { return id + "@" + version }

func asgName(tags []asgtypes.TagDescription) string {
	for _, t := range tags {
		if aws.ToString(t.Key) == "Name" {
			return aws.ToString(t.Value)
		}
	}
	return ""
}

// sortBy returns a copy of list sorted by key.
func sortBy[T any](list []T, key func(T) string) []T {
	out := slices.Clone(list)
	sort.SliceStable(out, func(i, j int) bool { return key(out[i]) < key(out[j]) })
	return out
}

// dbSubnetGroups are the described subnet groups and any a DB instance embeds that was not
// among them.
func (s *Described) dbSubnetGroups() []DBSubnetGroup {
	out := slices.Clone(s.DBSubnetGroups)
	for _, db := range s.DBInstances {
		g := db.DBSubnetGroup
		if g != nil && !slices.ContainsFunc(out, func(o DBSubnetGroup) bool {
			return aws.ToString(o.DBSubnetGroupName) == aws.ToString(g.DBSubnetGroupName)
		}) {
			out = append(out, DBSubnetGroup{DBSubnetGroup: *g})
		}
	}
	return out
}

// unaccounted are the network interfaces of the VPC that no translated resource stands for
// (an instance's second interface, a Lambda function's, ...): they go into the document as
// aws_network_interface, which the verifier names in its notes as not modelled.
func (s *Described) unaccounted() []ec2types.NetworkInterface {
	known := map[string]bool{}
	for _, in := range s.Instances {
		for _, e := range in.NetworkInterfaces {
			if e.Attachment != nil && aws.ToInt32(e.Attachment.DeviceIndex) == 0 {
				known[aws.ToString(e.NetworkInterfaceId)] = true
			}
		}
	}
	for _, n := range s.NATGateways {
		for _, a := range n.NatGatewayAddresses {
			known[aws.ToString(a.NetworkInterfaceId)] = true
		}
	}
	for _, e := range s.VPCEndpoints {
		for _, id := range e.NetworkInterfaceIds {
			known[id] = true
		}
	}
	for _, mt := range s.MountTargets {
		known[aws.ToString(mt.NetworkInterfaceId)] = true
	}
	var out []ec2types.NetworkInterface
	for _, e := range sortBy(s.NetworkInterfaces, func(x ec2types.NetworkInterface) string { return aws.ToString(x.NetworkInterfaceId) }) {
		if known[aws.ToString(e.NetworkInterfaceId)] || managedENI(e) {
			continue
		}
		if e.Attachment != nil && aws.ToString(e.Attachment.InstanceId) != "" && aws.ToInt32(e.Attachment.DeviceIndex) == 0 {
			continue // an instance's primary interface: the instance stands for it
		}
		out = append(out, e)
	}
	return out
}

// managedENI reports whether AWS created the interface for a resource the document holds:
// load balancer nodes, RDS instances, NAT gateways, endpoints, EFS mount targets.
func managedENI(e ec2types.NetworkInterface) bool {
	desc := aws.ToString(e.Description)
	switch {
	case strings.HasPrefix(desc, "ELB "), desc == "RDSNetworkInterface", strings.HasPrefix(desc, "EFS mount target"),
		strings.HasPrefix(desc, "Interface for NAT Gateway"), strings.HasPrefix(desc, "VPC Endpoint Interface"):
		return true
	}
	switch e.InterfaceType {
	case ec2types.NetworkInterfaceTypeNatGateway, ec2types.NetworkInterfaceTypeVpcEndpoint,
		ec2types.NetworkInterfaceTypeNetworkLoadBalancer, ec2types.NetworkInterfaceTypeGatewayLoadBalancer,
		ec2types.NetworkInterfaceTypeGatewayLoadBalancerEndpoint, ec2types.NetworkInterfaceTypeLoadBalancer:
		return true
	}
	return false
}

func (s *Described) network(d *naming, out *verify.Deployed) {
	vpc := aws.ToString(s.VPC.VpcId)
	v := verify.DeployedVPC{Addr: d.addr[vpc], ID: vpc, CIDRs: []string{aws.ToString(s.VPC.CidrBlock)}}
	for _, c := range sortBy(s.VPC.CidrBlockAssociationSet, func(x ec2types.VpcCidrBlockAssociation) string { return aws.ToString(x.AssociationId) }) {
		if aws.ToString(c.CidrBlock) == aws.ToString(s.VPC.CidrBlock) || c.CidrBlockState == nil || c.CidrBlockState.State != ec2types.VpcCidrBlockStateCodeAssociated {
			continue
		}
		v.CIDRs = append(v.CIDRs, aws.ToString(c.CidrBlock))
	}
	out.VPCs = append(out.VPCs, v)
	for _, sn := range s.Subnets {
		id := aws.ToString(sn.SubnetId)
		az := aws.ToString(sn.AvailabilityZone)
		if az == "" {
			az = aws.ToString(sn.AvailabilityZoneId)
		}
		out.Subnets = append(out.Subnets, verify.DeployedSubnet{Addr: d.addr[id], ID: id, VPC: aws.ToString(sn.VpcId),
			CIDR: aws.ToString(sn.CidrBlock), AZ: az, MapPublic: aws.ToBool(sn.MapPublicIpOnLaunch)})
	}
	for _, g := range s.InternetGateways {
		id := aws.ToString(g.InternetGatewayId)
		out.InternetGateways = append(out.InternetGateways, verify.DeployedGateway{Addr: d.addr[id], ID: id, VPC: vpc})
	}
	main := s.mainTable()
	for _, t := range s.RouteTables {
		id := aws.ToString(t.RouteTableId)
		dt := verify.DeployedRouteTable{Addr: d.addr[id], ID: id, VPC: vpc, Routes: s.routes(d, t),
			Main: main != nil && aws.ToString(main.RouteTableId) == id}
		for _, a := range t.Associations {
			if aws.ToBool(a.Main) || a.AssociationState != nil && a.AssociationState.State != ec2types.RouteTableAssociationStateCodeAssociated {
				continue
			}
			// A gateway's (edge) association routes no subnet.
			if sn := aws.ToString(a.SubnetId); sn != "" {
				aid := aws.ToString(a.RouteTableAssociationId)
				dt.Subnets = append(dt.Subnets, verify.DeployedAssociation{Addr: d.name("aws_route_table_association", aid, "", aid), Subnet: sn})
			}
		}
		out.RouteTables = append(out.RouteTables, dt)
	}
	for _, a := range s.NetworkACLs {
		id := aws.ToString(a.NetworkAclId)
		var subnets []string
		for _, as := range a.Associations {
			subnets = append(subnets, aws.ToString(as.SubnetId))
		}
		sort.Strings(subnets)
		out.NACLs = append(out.NACLs, verify.DeployedNACL{Addr: d.addr[id], ID: id, VPC: vpc, Default: aws.ToBool(a.IsDefault),
			Subnets: subnets, Ingress: naclEntries(a.Entries, false), Egress: naclEntries(a.Entries, true)})
	}
}

// routes are a route table's routes: the local routes are implicit, IPv6 routes do not
// matter to the IPv4 model, and a blackhole route is left out with a note.
func (s *Described) routes(d *naming, t ec2types.RouteTable) []verify.DeployedRoute {
	table := aws.ToString(t.RouteTableId)
	var out []verify.DeployedRoute
	for _, r := range t.Routes {
		if aws.ToString(r.GatewayId) == "local" {
			continue
		}
		var dr verify.DeployedRoute
		switch {
		case r.DestinationCidrBlock != nil:
			dr.Dest = aws.ToString(r.DestinationCidrBlock)
		case r.DestinationPrefixListId != nil:
			dr.PrefixList = aws.ToString(r.DestinationPrefixListId)
		default:
			continue // IPv6
		}
		target, other, known := routeTarget(d, r)
		if target == "" && other == "" {
			d.note("%s %s: route to %s has a target the live loader cannot name (%s); left out", d.addr[table], table, routeDest(r), aws.ToString(r.GatewayId))
			continue
		}
		if r.State == ec2types.RouteStateBlackhole && !known {
			d.note("%s: the route to %s is a blackhole (its target %s is gone): left out, but AWS drops that traffic", d.addr[table], routeDest(r), target)
			continue
		}
		dr.Target, dr.Other = target, other
		out = append(out, dr)
	}
	return out
}

func routeDest(r ec2types.Route) string {
	if r.DestinationCidrBlock != nil {
		return aws.ToString(r.DestinationCidrBlock)
	}
	return aws.ToString(r.DestinationPrefixListId)
}

// routeTarget returns the ID of a route's target the model follows (an internet or NAT
// gateway, a VPC endpoint, an instance) and whether the stack holds it, or the address of a
// stand-in for a target the verifier does not follow.
func routeTarget(d *naming, r ec2types.Route) (target, other string, known bool) {
	gw := aws.ToString(r.GatewayId)
	switch {
	case r.NatGatewayId != nil:
		return aws.ToString(r.NatGatewayId), "", d.has(aws.ToString(r.NatGatewayId), "aws_nat_gateway")
	case strings.HasPrefix(gw, "igw-"):
		return gw, "", d.has(gw, "aws_internet_gateway")
	case strings.HasPrefix(gw, "vgw-"):
		return "", d.stub("aws_vpn_gateway", gw), true
	case strings.HasPrefix(gw, "vpce-"):
		return gw, "", d.has(gw, "aws_vpc_endpoint")
	case r.InstanceId != nil && d.has(aws.ToString(r.InstanceId), "aws_instance"):
		return aws.ToString(r.InstanceId), "", true
	case r.NetworkInterfaceId != nil:
		return "", d.stub("aws_network_interface", aws.ToString(r.NetworkInterfaceId)), true
	case r.TransitGatewayId != nil:
		return "", d.stub("aws_ec2_transit_gateway", aws.ToString(r.TransitGatewayId)), true
	case r.VpcPeeringConnectionId != nil:
		return "", d.stub("aws_vpc_peering_connection", aws.ToString(r.VpcPeeringConnectionId)), true
	case r.CarrierGatewayId != nil:
		return "", d.stub("aws_ec2_carrier_gateway", aws.ToString(r.CarrierGatewayId)), true
	case r.LocalGatewayId != nil:
		return "", d.stub("aws_ec2_local_gateway", aws.ToString(r.LocalGatewayId)), true
	case r.CoreNetworkArn != nil:
		return "", d.stub("aws_networkmanager_core_network", aws.ToString(r.CoreNetworkArn)), true
	case r.EgressOnlyInternetGatewayId != nil:
		return "", d.stub("aws_egress_only_internet_gateway", aws.ToString(r.EgressOnlyInternetGatewayId)), true
	}
	return "", "", false
}

// naclEntries are one direction's entries in rule-number order. Rule 32767, the implicit
// deny-all AWS lists (and moto omits for custom ACLs), is the verifier's implicit "*".
func naclEntries(entries []ec2types.NetworkAclEntry, egress bool) []verify.DeployedNACLEntry {
	var out []verify.DeployedNACLEntry
	for _, e := range sortBy(entries, func(x ec2types.NetworkAclEntry) string { return fmt.Sprintf("%05d", aws.ToInt32(x.RuleNumber)) }) {
		if aws.ToBool(e.Egress) != egress || aws.ToInt32(e.RuleNumber) == 32767 {
			continue
		}
		de := verify.DeployedNACLEntry{Number: int(aws.ToInt32(e.RuleNumber)), Allow: e.RuleAction == ec2types.RuleActionAllow,
			Protocol: aws.ToString(e.Protocol), CIDR: aws.ToString(e.CidrBlock), IPv6: aws.ToString(e.Ipv6CidrBlock)}
		if p := e.PortRange; p != nil {
			de.From, de.To = int(aws.ToInt32(p.From)), int(aws.ToInt32(p.To))
		}
		if c := e.IcmpTypeCode; c != nil {
			de.ICMP = &verify.DeployedICMP{Type: int(aws.ToInt32(c.Type)), Code: int(aws.ToInt32(c.Code))}
		}
		out = append(out, de)
	}
	return out
}

func (s *Described) securityGroups(d *naming, out *verify.Deployed) {
	vpc := aws.ToString(s.VPC.VpcId)
	for _, g := range s.SecurityGroups {
		id := aws.ToString(g.GroupId)
		out.SecurityGroups = append(out.SecurityGroups, verify.DeployedGroup{Addr: d.addr[id], ID: id, VPC: vpc,
			Name: aws.ToString(g.GroupName), Role: ec2Tag(g.Tags, rules.RoleTag), Default: aws.ToString(g.GroupName) == "default"})
	}
	for _, pl := range s.PrefixLists {
		out.PrefixLists = append(out.PrefixLists, verify.DeployedPrefixList{Addr: d.addr[pl.ID], ID: pl.ID, CIDRs: pl.CIDRs})
	}
	for _, r := range sortBy(s.SecurityGroupRules, func(x ec2types.SecurityGroupRule) string { return aws.ToString(x.SecurityGroupRuleId) }) {
		id := aws.ToString(r.SecurityGroupRuleId)
		typ := "aws_vpc_security_group_ingress_rule"
		if aws.ToBool(r.IsEgress) {
			typ = "aws_vpc_security_group_egress_rule"
		}
		dr := verify.DeployedGroupRule{Group: aws.ToString(r.GroupId), Egress: aws.ToBool(r.IsEgress), Protocol: aws.ToString(r.IpProtocol),
			From: int(aws.ToInt32(r.FromPort)), To: int(aws.ToInt32(r.ToPort))}
		switch {
		case r.CidrIpv4 != nil:
			dr.CIDR = aws.ToString(r.CidrIpv4)
		case r.CidrIpv6 != nil:
			dr.IPv6 = aws.ToString(r.CidrIpv6)
		case r.PrefixListId != nil:
			dr.PrefixList = aws.ToString(r.PrefixListId)
		case r.ReferencedGroupInfo != nil:
			peer := aws.ToString(r.ReferencedGroupInfo.GroupId)
			peer = peer[strings.LastIndexByte(peer, '/')+1:] // "ACCOUNT/sg-..." as moto may write it
			if !d.has(peer) {
				d.note("%s (%s) refers to the security group %s, which is not in the VPC: no interface of the stack carries it; left out", d.addr[aws.ToString(r.GroupId)], id, peer)
				continue
			}
			dr.Peer = peer
		}
		dr.Addr = d.name(typ, id, ec2Tag(r.Tags, "Name"), id)
		out.SecurityGroupRules = append(out.SecurityGroupRules, dr)
	}
}

// groupIDs are the IDs of a list of group identifiers.
func groupIDs(list []ec2types.GroupIdentifier) []string {
	var out []string
	for _, g := range list {
		out = append(out, aws.ToString(g.GroupId))
	}
	return out
}

func (s *Described) compute(d *naming, out *verify.Deployed) {
	eipOf := map[string]string{}
	for _, a := range s.Addresses {
		if in := aws.ToString(a.InstanceId); in != "" {
			eipOf[in] = aws.ToString(a.AllocationId)
		}
	}
	for _, in := range s.standalone() {
		id := aws.ToString(in.InstanceId)
		// moto (and AWS) keep an instance's groups on its interfaces: read them there.
		groups := groupIDs(in.SecurityGroups)
		for _, e := range in.NetworkInterfaces {
			if e.Attachment != nil && aws.ToInt32(e.Attachment.DeviceIndex) == 0 {
				groups = groupIDs(e.Groups)
			}
		}
		out.Instances = append(out.Instances, verify.DeployedInstance{Addr: d.addr[id], ID: id, Subnet: aws.ToString(in.SubnetId),
			Groups: groups, Role: ec2Tag(in.Tags, rules.RoleTag), PublicIP: aws.ToString(in.PublicIpAddress) != "" && eipOf[id] == "",
			PrivateIP: aws.ToString(in.PrivateIpAddress)})
	}
	for _, a := range s.Addresses {
		id := aws.ToString(a.AllocationId)
		out.ElasticIPs = append(out.ElasticIPs, verify.DeployedEIP{Addr: d.addr[id], ID: id, Instance: aws.ToString(a.InstanceId)})
	}
	for _, n := range s.NATGateways {
		id := aws.ToString(n.NatGatewayId)
		dn := verify.DeployedNAT{Addr: d.addr[id], ID: id, Subnet: aws.ToString(n.SubnetId), Private: n.ConnectivityType == ec2types.ConnectivityTypePrivate}
		for _, a := range n.NatGatewayAddresses {
			if alloc := aws.ToString(a.AllocationId); alloc != "" && (a.IsPrimary == nil || aws.ToBool(a.IsPrimary)) {
				dn.EIP = alloc
				break
			}
		}
		out.NATGateways = append(out.NATGateways, dn)
	}
	for _, e := range s.VPCEndpoints {
		id := aws.ToString(e.VpcEndpointId)
		typ := string(e.VpcEndpointType)
		var groups []string
		for _, g := range e.Groups {
			groups = append(groups, aws.ToString(g.GroupId))
		}
		out.Endpoints = append(out.Endpoints, verify.DeployedEndpoint{Addr: d.addr[id], ID: id, Service: aws.ToString(e.ServiceName),
			Gateway: typ == "" || strings.EqualFold(typ, string(ec2types.VpcEndpointTypeGateway)), Subnets: e.SubnetIds,
			Groups: groups, RouteTables: e.RouteTableIds, Role: ec2Tag(e.Tags, rules.RoleTag), Policy: aws.ToString(e.PolicyDocument),
			PrivateDNS: aws.ToBool(e.PrivateDnsEnabled)})
	}
	for _, e := range s.unaccounted() {
		out.Interfaces = append(out.Interfaces, d.addr[aws.ToString(e.NetworkInterfaceId)])
	}
	out.Interfaces = append(out.Interfaces, d.interfaces...)
}

func (s *Described) balancers(d *naming, out *verify.Deployed) {
	for _, lb := range s.LoadBalancers {
		arn := aws.ToString(lb.LoadBalancerArn)
		dl := verify.DeployedLB{Addr: d.addr[arn], ID: arn, Type: string(lb.Type), Internal: lb.Scheme == elbtypes.LoadBalancerSchemeEnumInternal,
			Groups: lb.SecurityGroups, Role: elbTag(lb.Tags, rules.RoleTag)}
		for _, az := range lb.AvailabilityZones {
			dl.Subnets = append(dl.Subnets, aws.ToString(az.SubnetId))
		}
		for _, l := range lb.Listeners {
			larn := aws.ToString(l.ListenerArn)
			ls := verify.DeployedListener{Addr: d.addr[larn], Port: int(aws.ToInt32(l.Port)), Protocol: string(l.Protocol), Actions: actions(l.DefaultActions)}
			for _, r := range l.Rules {
				rarn := aws.ToString(r.RuleArn)
				ls.Rules = append(ls.Rules, verify.DeployedRule{Addr: d.name("aws_lb_listener_rule", rarn, "", "rule-"+lastPart(rarn)), Actions: actions(r.Actions)})
			}
			dl.Listeners = append(dl.Listeners, ls)
		}
		out.LoadBalancers = append(out.LoadBalancers, dl)
	}
	members := map[string]bool{}
	for _, in := range s.Instances {
		if asgMember(in) {
			members[aws.ToString(in.InstanceId)] = true
		}
	}
	for _, tg := range s.TargetGroups {
		arn := aws.ToString(tg.TargetGroupArn)
		dg := verify.DeployedTargetGroup{Addr: d.addr[arn], ID: arn, Port: int(aws.ToInt32(tg.Port)), HealthPath: aws.ToString(tg.HealthCheckPath),
			HealthPort: aws.ToString(tg.HealthCheckPort), Interval: int(aws.ToInt32(tg.HealthCheckIntervalSeconds)),
			Timeout: int(aws.ToInt32(tg.HealthCheckTimeoutSeconds)), Healthy: int(aws.ToInt32(tg.HealthyThresholdCount)),
			Unhealthy: int(aws.ToInt32(tg.UnhealthyThresholdCount)), CrossZone: tg.Attributes["load_balancing.cross_zone.enabled"],
			Deregistration: tg.Attributes["deregistration_delay.timeout_seconds"]}
		if tg.Matcher != nil {
			dg.Matcher = aws.ToString(tg.Matcher.HttpCode)
		}
		// Targets the model does not place otherwise: instances outside the Auto Scaling
		// groups, IP addresses (the verifier notes those as not modelled).
		for _, h := range tg.Health {
			if h.Target == nil || members[aws.ToString(h.Target.Id)] {
				continue
			}
			target := aws.ToString(h.Target.Id)
			addr := d.name("aws_lb_target_group_attachment", arn+"/"+target, "", lastPart(d.addr[arn])+"-"+target)
			dg.Targets = append(dg.Targets, verify.DeployedTarget{Addr: addr, ID: target, Port: int(aws.ToInt32(h.Target.Port))})
		}
		out.TargetGroups = append(out.TargetGroups, dg)
	}
}

// actions are listener actions: their type, the target groups a forward sends to, the
// protocol a redirect sends to.
func actions(list []elbtypes.Action) []verify.DeployedAction {
	var out []verify.DeployedAction
	for _, a := range list {
		da := verify.DeployedAction{Type: string(a.Type)}
		if arn := aws.ToString(a.TargetGroupArn); arn != "" {
			da.TargetGroups = []string{arn}
		} else if f := a.ForwardConfig; f != nil {
			for _, t := range f.TargetGroups {
				da.TargetGroups = append(da.TargetGroups, aws.ToString(t.TargetGroupArn))
			}
		}
		if r := a.RedirectConfig; r != nil {
			da.Redirect = aws.ToString(r.Protocol)
		}
		out = append(out, da)
	}
	return out
}

func (s *Described) fleets(d *naming, out *verify.Deployed) {
	for _, lt := range s.LaunchTemplates {
		id := aws.ToString(lt.LaunchTemplateId)
		t := verify.DeployedTemplate{Addr: d.addr["aws_launch_template "+ltKey(id, lt.Spec)], ID: id, Version: lt.Spec}
		if data := lt.LaunchTemplateData; data != nil {
			t.InstanceType, t.Image, t.UserData = string(data.InstanceType), aws.ToString(data.ImageId), aws.ToString(data.UserData)
			if p := data.IamInstanceProfile; p != nil {
				for _, ip := range s.InstanceProfiles {
					if ip.ARN == aws.ToString(p.Arn) || ip.Name == aws.ToString(p.Name) {
						t.Profile = ip.ARN
					}
				}
			}
			nis := sortBy(data.NetworkInterfaces, func(x ec2types.LaunchTemplateInstanceNetworkInterfaceSpecification) string {
				return fmt.Sprintf("%03d", aws.ToInt32(x.DeviceIndex))
			})
			if len(nis) > 0 {
				t.Groups, t.Public = nis[0].Groups, nis[0].AssociatePublicIpAddress
			}
			t.Groups = append(t.Groups, data.SecurityGroupIds...)
			t.GroupNames = data.SecurityGroups
		}
		out.Templates = append(out.Templates, t)
	}
	for _, lc := range s.LaunchConfigurations {
		name := aws.ToString(lc.LaunchConfigurationName)
		out.Templates = append(out.Templates, verify.DeployedTemplate{Addr: d.addr["aws_launch_configuration "+name], ID: name,
			Configuration: true, Groups: lc.SecurityGroups, Public: lc.AssociatePublicIpAddress, UserData: aws.ToString(lc.UserData),
			InstanceType: aws.ToString(lc.InstanceType), Image: aws.ToString(lc.ImageId)})
	}
	for _, g := range s.AutoScalingGroups {
		name := aws.ToString(g.AutoScalingGroupName)
		f := verify.DeployedFleet{Addr: d.addr["aws_autoscaling_group "+name], ID: name, Min: int(aws.ToInt32(g.MinSize)),
			Max: int(aws.ToInt32(g.MaxSize)), Desired: int(aws.ToInt32(g.DesiredCapacity)), Subnets: splitIDs(aws.ToString(g.VPCZoneIdentifier)),
			Configuration: aws.ToString(g.LaunchConfigurationName), TargetGroups: g.TargetGroupARNs}
		for _, t := range g.Tags {
			if aws.ToString(t.Key) == rules.RoleTag {
				f.Role = aws.ToString(t.Value)
			}
		}
		if g.HealthCheckGracePeriod != nil {
			n := int(aws.ToInt32(g.HealthCheckGracePeriod))
			f.Grace = &n
		}
		if g.DefaultInstanceWarmup != nil {
			n := int(aws.ToInt32(g.DefaultInstanceWarmup))
			f.Warmup = &n
		}
		if spec := templateOf(g); spec != nil {
			f.Template, f.Version, f.Mixed = s.templateID(spec), specVersion(spec), g.LaunchTemplate == nil
		}
		for _, gi := range sortBy(g.Instances, func(x asgtypes.Instance) string { return aws.ToString(x.InstanceId) }) {
			for _, in := range s.Instances {
				if aws.ToString(in.InstanceId) == aws.ToString(gi.InstanceId) {
					f.Instances = append(f.Instances, verify.DeployedMember{ID: aws.ToString(in.InstanceId),
						Subnet: aws.ToString(in.SubnetId), PrivateIP: aws.ToString(in.PrivateIpAddress)})
				}
			}
		}
		if len(g.LoadBalancerNames) > 0 {
			d.note("%s: Classic Load Balancers %s are not modelled", f.Addr, strings.Join(g.LoadBalancerNames, ", "))
		}
		out.Fleets = append(out.Fleets, f)
	}
	for _, p := range s.ScalingPolicies {
		dp := verify.DeployedScalingPolicy{Addr: d.name("aws_autoscaling_policy", aws.ToString(p.PolicyARN), "", aws.ToString(p.PolicyName)),
			Group: aws.ToString(p.AutoScalingGroupName), Type: aws.ToString(p.PolicyType)}
		if tt := p.TargetTrackingConfiguration; tt != nil {
			dp.Target = aws.ToFloat64(tt.TargetValue)
			if m := tt.PredefinedMetricSpecification; m != nil {
				dp.Metric = string(m.PredefinedMetricType)
			}
		}
		out.ScalingPolicies = append(out.ScalingPolicies, dp)
	}
}

// templateID is the ID of the launch template a specification names by ID or by name.
func (s *Described) templateID(spec *asgtypes.LaunchTemplateSpecification) string {
	if id := aws.ToString(spec.LaunchTemplateId); id != "" {
		return id
	}
	for _, lt := range s.LaunchTemplates {
		if aws.ToString(lt.LaunchTemplateName) == aws.ToString(spec.LaunchTemplateName) {
			return aws.ToString(lt.LaunchTemplateId)
		}
	}
	return aws.ToString(spec.LaunchTemplateName)
}

// above adds to out the file systems and their mount targets, the database instances and
// their subnet groups, the roles read (each with its trust, inline and attached policies),
// the instance profiles, the flow logs and their log groups, the file systems' policies.
func (s *Described) above(d *naming, out *verify.Deployed) {
	for _, fs := range s.FileSystems {
		id := aws.ToString(fs.FileSystemId)
		out.FileSystems = append(out.FileSystems, verify.DeployedFileSystem{Addr: d.addr["aws_efs_file_system "+id], ID: id})
	}
	for _, mt := range s.MountTargets {
		id := aws.ToString(mt.MountTargetId)
		out.MountTargets = append(out.MountTargets, verify.DeployedMountTarget{Addr: d.addr["aws_efs_mount_target "+id], ID: id,
			FileSystem: aws.ToString(mt.FileSystemId), Subnet: aws.ToString(mt.SubnetId), Groups: mt.SecurityGroups})
	}
	for _, fl := range s.FlowLogs {
		dest := strings.TrimSuffix(aws.ToString(fl.LogDestination), ":*")
		for _, g := range s.LogGroups {
			if g.Name == flowLogGroup(fl) {
				dest = g.ARN
			}
		}
		id := aws.ToString(fl.FlowLogId)
		out.FlowLogs = append(out.FlowLogs, verify.DeployedFlowLog{Addr: d.addr["aws_flow_log "+id], ID: id, VPC: aws.ToString(fl.ResourceId),
			TrafficType: string(fl.TrafficType), DestinationType: string(fl.LogDestinationType), Destination: dest,
			Role: aws.ToString(fl.DeliverLogsPermissionArn)})
	}
	for _, g := range s.LogGroups {
		out.LogGroups = append(out.LogGroups, verify.DeployedLogGroup{Addr: d.addr["aws_cloudwatch_log_group "+g.ARN], ARN: g.ARN, Name: g.Name, Retention: g.RetentionInDays})
	}
	for _, p := range s.InstanceProfiles {
		out.InstanceProfiles = append(out.InstanceProfiles, verify.DeployedProfile{Addr: d.addr["aws_iam_instance_profile "+p.ARN], ARN: p.ARN, Role: p.RoleARN})
	}
	// RolePolicies holds one entry per inline policy of a role (one without a policy for a
	// role that has none), each with the role's attached policies.
	roles := map[string]int{}
	for _, p := range s.RolePolicies {
		i, seen := roles[p.RoleARN]
		if !seen {
			i = len(out.Roles)
			roles[p.RoleARN] = i
			role := verify.DeployedRole{Addr: d.addr["aws_iam_role "+p.RoleARN], ARN: p.RoleARN, Name: p.RoleName, Trust: s.RoleTrusts[p.RoleARN]}
			for j, arn := range p.Attached {
				addr := d.name("aws_iam_role_policy_attachment", p.RoleName+":attached:"+arn, "", fmt.Sprintf("%s-%d", p.RoleName, j))
				role.Attached = append(role.Attached, verify.DeployedAttachment{Addr: addr, PolicyARN: arn})
			}
			out.Roles = append(out.Roles, role)
		}
		if p.Name != "" {
			out.Roles[i].Policies = append(out.Roles[i].Policies,
				verify.DeployedPolicy{Addr: d.addr["aws_iam_role_policy "+p.RoleName+":"+p.Name], Text: p.Document})
		}
	}
	for _, id := range slices.Sorted(maps.Keys(s.FileSystemPolicies)) {
		out.FileSystemPolicies = append(out.FileSystemPolicies, verify.DeployedPolicy{Addr: d.addr["aws_efs_file_system_policy policy "+id], Of: id, Text: s.FileSystemPolicies[id]})
	}
	for _, g := range s.dbSubnetGroups() {
		name := aws.ToString(g.DBSubnetGroupName)
		dg := verify.DeployedSubnetGroup{Addr: d.addr["aws_db_subnet_group "+name], Name: name}
		for _, sn := range g.Subnets {
			dg.Subnets = append(dg.Subnets, aws.ToString(sn.SubnetIdentifier))
		}
		out.DBSubnetGroups = append(out.DBSubnetGroups, dg)
	}
	for _, db := range s.DBInstances {
		id := aws.ToString(db.DBInstanceIdentifier)
		ddb := verify.DeployedDB{Addr: d.addr["aws_db_instance "+id], ID: id, Role: rdsTag(db.TagList, rules.RoleTag),
			Cluster: aws.ToString(db.DBClusterIdentifier), MultiAZ: aws.ToBool(db.MultiAZ), Public: aws.ToBool(db.PubliclyAccessible),
			LogExports: db.EnabledCloudwatchLogsExports}
		if ddb.Cluster != "" {
			ddb.Addr = d.addr["aws_rds_cluster_instance "+id]
		}
		if g := db.DBSubnetGroup; g != nil {
			ddb.SubnetGroup = aws.ToString(g.DBSubnetGroupName)
		}
		for _, g := range db.VpcSecurityGroups {
			ddb.Groups = append(ddb.Groups, aws.ToString(g.VpcSecurityGroupId))
		}
		if sec := db.MasterUserSecret; sec != nil {
			ddb.SecretARN = aws.ToString(sec.SecretArn)
		}
		out.Databases = append(out.Databases, ddb)
	}
}
