// Package awsdrill runs the seed's six tests (package drill: `webtier drill --target aws`)
// against a deployed stack, which it implements as their environment (drill.Stack): SSH
// through each bastion to each web server, the load balancer's rotation, package downloads
// through NAT, scaling under CPU load, a database failover and a file shared over EFS; the
// API's own rows (the NAT gateways' addresses, the group's sizes, the failover's endpoint and
// AZs) come with them. It finds the stack as package live does (the VPC tagged Project=webtier), takes roles
// and routes from verify's model of it (roles by the webtier:role tag), acts through the AWS
// APIs, SSH (the user's key) and HTTP (the ALB's DNS name), and reports check.Result rows.
//
// Against the local emulator (moto) every API call still runs and its answer is reported, but
// nothing is dialed: moto runs no instances, serves no load balancer DNS names, publishes no
// CPU metric and moves no database. What a test could not show there is a row with result
// check.Limitation that says what was not shown and what the API answered, never a pass.
//
// Nothing in verify/, rules/, config/ or twin/ imports this package: it is the edge that
// touches a real account.
package awsdrill

import (
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	asgtypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"

	"github.com/webtier/webtier/drill"
	"github.com/webtier/webtier/live"
	"github.com/webtier/webtier/rules"
	"github.com/webtier/webtier/verify"
)

// host is an instance the drill reaches: a bastion (public IP) or a web server (private IP).
type host struct {
	ID, Name, AZ, Subnet string
	PrivateIP, PublicIP  string
}

// label names a host in a row: its Name tag, or its ID, and its AZ.
func (h host) label() string { return fmt.Sprintf("%s (%s)", h.Name, h.AZ) }

// nat is a NAT gateway with its AZ and Elastic IP.
type nat struct {
	ID, Name, AZ, EIP string
}

// facts are what the drill needs of the described stack, found by role and followed by ID.
type facts struct {
	Bastions []host
	// Webs are the InService instances of the web servers' Auto Scaling group, by AZ then ID.
	Webs        []host
	Group       asgtypes.AutoScalingGroup
	Policies    []asgtypes.ScalingPolicy
	TargetGroup string // ARN
	TargetName  string
	// Check is the web servers' health check, from the model of the answers.
	Check         drill.Health
	ALB           string // DNS name
	NATs          []nat
	WebNAT        map[string]string // web subnet ID -> NAT gateway ID of its 0.0.0.0/0 route
	DB            rdstypes.DBInstance
	FileSystem    string
	MountTargetAZ map[string][]string // AZ -> mount target IDs
}

// factsOf picks the drill's facts out of a described stack and its model (n, read from the
// same answers): roles, the web servers' group, the NAT gateway each web subnet's 0.0.0.0/0
// goes through (longest prefix, as verify decides), the target group's health check, the file
// system and its mount targets by AZ are the model's; what exists
// only at run time (instance and NAT states, the group's instances, addresses) is read from
// the answers by the IDs the model keeps. It fails when something the tests cannot do
// without is missing: a bastion (unless bastions is false: access ssm), a web server, the group's target group, the load balancer,
// the database.
func factsOf(s *live.Described, n *verify.Network, bastions bool) (*facts, error) {
	f := &facts{WebNAT: map[string]string{}, MountTargetAZ: map[string][]string{}}
	f.Check, _ = drill.WebHealth(n, 1)
	azOf := map[string]string{}
	for _, sn := range s.Subnets {
		azOf[aws.ToString(sn.SubnetId)] = aws.ToString(sn.AvailabilityZone)
	}
	byID := map[string]ec2types.Instance{}
	for _, in := range s.Instances {
		byID[aws.ToString(in.InstanceId)] = in
	}
	name := ""
	for _, e := range n.Endpoints {
		switch {
		case e.ENI() != e || e.ID == "":
		case e.Role == rules.Bastion && e.Kind == verify.Instance:
			if in, ok := byID[e.ID]; ok && in.State != nil && in.State.Name == ec2types.InstanceStateNameRunning {
				f.Bastions = append(f.Bastions, hostOf(in, azOf))
			}
		case e.Role == rules.Web && e.Kind == verify.ASGInstance && name == "":
			name = e.ID
		}
	}
	sortHosts(f.Bastions)
	for _, g := range s.AutoScalingGroups {
		if aws.ToString(g.AutoScalingGroupName) == name {
			f.Group = g
		}
	}
	for _, p := range s.ScalingPolicies {
		if aws.ToString(p.AutoScalingGroupName) == name {
			f.Policies = append(f.Policies, p)
		}
	}
	for _, in := range f.Group.Instances {
		if in.LifecycleState != asgtypes.LifecycleStateInService {
			continue
		}
		if ec2in, ok := byID[aws.ToString(in.InstanceId)]; ok {
			f.Webs = append(f.Webs, hostOf(ec2in, azOf))
		}
	}
	sortHosts(f.Webs)
	if len(f.Group.TargetGroupARNs) > 0 {
		f.TargetGroup = f.Group.TargetGroupARNs[0]
	}
	for _, tg := range s.TargetGroups {
		if aws.ToString(tg.TargetGroupArn) != f.TargetGroup {
			continue
		}
		f.TargetName = aws.ToString(tg.TargetGroupName)
		for _, lb := range s.LoadBalancers {
			if slices.Contains(tg.LoadBalancerArns, aws.ToString(lb.LoadBalancerArn)) {
				f.ALB = aws.ToString(lb.DNSName)
			}
		}
	}
	natByID := map[string]ec2types.NatGateway{}
	for _, g := range s.NATGateways {
		natByID[aws.ToString(g.NatGatewayId)] = g
	}
	for _, e := range n.Endpoints {
		g, ok := natByID[e.ID]
		if e.Kind != verify.NATGateway || e.ENI() != e || !ok || g.State != ec2types.NatGatewayStateAvailable {
			continue
		}
		gw := nat{ID: e.ID, Name: nameTag(g.Tags, e.ID), AZ: e.AZ()}
		for _, a := range g.NatGatewayAddresses {
			if ip := aws.ToString(a.PublicIp); ip != "" {
				gw.EIP = ip
			}
		}
		f.NATs = append(f.NATs, gw)
	}
	sort.Slice(f.NATs, func(i, j int) bool { return f.NATs[i].AZ < f.NATs[j].AZ })
	for _, w := range f.Webs {
		f.WebNAT[w.Subnet] = defaultNAT(n, w.ID)
	}
	if len(s.DBInstances) > 0 {
		f.DB = s.DBInstances[0]
	}
	for _, fs := range n.FileSystems {
		f.FileSystem = fs.ID
	}
	for _, e := range n.Endpoints {
		if e.Kind != verify.MountTarget || e.ENI() != e || e.ID == "" {
			continue
		}
		for _, mt := range n.MountTargets {
			if mt.Addr == e.Res && mt.FileSystem != nil && mt.FileSystem.ID == f.FileSystem {
				f.MountTargetAZ[e.AZ()] = append(f.MountTargetAZ[e.AZ()], e.ID)
			}
		}
	}
	var missing []string
	if len(f.Bastions) == 0 && bastions {
		missing = append(missing, "a running instance tagged "+rules.RoleTag+"=bastion")
	}
	if name == "" {
		missing = append(missing, "an Auto Scaling group tagged "+rules.RoleTag+"=web")
	} else if len(f.Webs) == 0 {
		missing = append(missing, "an InService instance of "+name)
	}
	if f.TargetName == "" {
		missing = append(missing, "the target group of "+name)
	}
	if f.ALB == "" {
		missing = append(missing, "a load balancer forwarding to the web servers")
	}
	if f.DB.DBInstanceIdentifier == nil {
		missing = append(missing, "a DB instance in the VPC")
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("awsdrill: the deployed stack has no %s: nothing to drill", strings.Join(missing, ", no "))
	}
	return f, nil
}

// defaultNAT is the ID of the NAT gateway that the 0.0.0.0/0 route of the web server's subnet
// goes to in the model (the route a longest-prefix lookup picks for an internet address), or
// "" when it goes elsewhere or the model does not place the instance.
func defaultNAT(n *verify.Network, instance string) string {
	for _, e := range n.Endpoints {
		for _, in := range e.Instances {
			if in.ID != instance || e.Subnet == nil || e.Subnet.Routes == nil {
				continue
			}
			if r := e.Subnet.Routes.Lookup(netip.IPv4Unspecified()); r != nil && r.Kind == verify.TargetNAT && r.NAT != nil {
				return r.NAT.ID
			}
			return ""
		}
	}
	return ""
}

// natOf is the NAT gateway a web server's subnet routes 0.0.0.0/0 through, or nil.
func (f *facts) natOf(w host) *nat {
	for i, n := range f.NATs {
		if n.ID == f.WebNAT[w.Subnet] {
			return &f.NATs[i]
		}
	}
	return nil
}

// webAZs are the AZs the InService web servers run in, sorted.
func (f *facts) webAZs() []string {
	var out []string
	for _, w := range f.Webs {
		if !slices.Contains(out, w.AZ) {
			out = append(out, w.AZ)
		}
	}
	sort.Strings(out)
	return out
}

// bastionFor is the bastion of a web server's AZ, else the first one: the path an operator
// would take (none, with access ssm: the drill's shell then refuses, see noBastionShell).
func (f *facts) bastionFor(w host) host {
	if len(f.Bastions) == 0 {
		return host{}
	}
	for _, b := range f.Bastions {
		if b.AZ == w.AZ {
			return b
		}
	}
	return f.Bastions[0]
}

func hostOf(in ec2types.Instance, azOf map[string]string) host {
	id := aws.ToString(in.InstanceId)
	return host{ID: id, Name: nameTag(in.Tags, id), AZ: azOf[aws.ToString(in.SubnetId)], Subnet: aws.ToString(in.SubnetId),
		PrivateIP: aws.ToString(in.PrivateIpAddress), PublicIP: aws.ToString(in.PublicIpAddress)}
}

func sortHosts(hs []host) {
	sort.Slice(hs, func(i, j int) bool {
		if hs[i].AZ != hs[j].AZ {
			return hs[i].AZ < hs[j].AZ
		}
		return hs[i].ID < hs[j].ID
	})
}

func tag(tags []ec2types.Tag, key string) string {
	for _, t := range tags {
		if aws.ToString(t.Key) == key {
			return aws.ToString(t.Value)
		}
	}
	return ""
}

// nameTag is the Name tag, else the ID. Web servers all carry the group's Name, so their
// label is the instance ID.
func nameTag(tags []ec2types.Tag, id string) string {
	if n := tag(tags, "Name"); n != "" && tag(tags, "aws:autoscaling:groupName") == "" {
		return n
	}
	return id
}
