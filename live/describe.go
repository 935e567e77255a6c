package live

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	asgtypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/efs"
	efstypes "github.com/aws/aws-sdk-go-v2/service/efs/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"
)

// Described is what the AWS APIs say about one deployed web tier: the Describe* results, as the
// SDK returns them, of everything in (or attached to) the VPC tagged Project=webtier. It is
// plain data (it round-trips through JSON, which the tests use for recorded stacks).
type Described struct {
	Region           string                     `json:"region"`
	VPC              ec2types.Vpc               `json:"vpc"`
	Subnets          []ec2types.Subnet          `json:"subnets"`
	InternetGateways []ec2types.InternetGateway `json:"internet_gateways"`
	RouteTables      []ec2types.RouteTable      `json:"route_tables"`
	NetworkACLs      []ec2types.NetworkAcl      `json:"network_acls"`
	SecurityGroups   []ec2types.SecurityGroup   `json:"security_groups"`
	// SecurityGroupRules are the rules of SecurityGroups, from DescribeSecurityGroupRules.
	SecurityGroupRules []ec2types.SecurityGroupRule `json:"security_group_rules"`
	PrefixLists        []PrefixList                 `json:"prefix_lists,omitempty"`
	// Instances are every instance of the VPC not terminated: bastions and Auto Scaling
	// instances alike (the latter carry the aws:autoscaling:groupName tag).
	Instances         []ec2types.Instance         `json:"instances"`
	NATGateways       []ec2types.NatGateway       `json:"nat_gateways"`
	Addresses         []ec2types.Address          `json:"addresses"`
	NetworkInterfaces []ec2types.NetworkInterface `json:"network_interfaces"`
	VPCEndpoints      []ec2types.VpcEndpoint      `json:"vpc_endpoints"`

	LoadBalancers []LoadBalancer `json:"load_balancers"`
	TargetGroups  []TargetGroup  `json:"target_groups"`

	AutoScalingGroups    []asgtypes.AutoScalingGroup    `json:"auto_scaling_groups"`
	ScalingPolicies      []asgtypes.ScalingPolicy       `json:"scaling_policies"`
	LaunchTemplates      []LaunchTemplate               `json:"launch_templates"`
	LaunchConfigurations []asgtypes.LaunchConfiguration `json:"launch_configurations,omitempty"`

	DBInstances    []rdstypes.DBInstance `json:"db_instances"`
	DBSubnetGroups []DBSubnetGroup       `json:"db_subnet_groups"`

	FileSystems  []efstypes.FileSystemDescription `json:"file_systems"`
	MountTargets []MountTarget                    `json:"mount_targets"`
	// FileSystemPolicies are the file systems' resource policies (JSON), by file system ID.
	FileSystemPolicies map[string]string `json:"file_system_policies,omitempty"`

	// FlowLogs are the VPC's flow logs, LogGroups the CloudWatch Logs groups they deliver
	// to, and RolePolicies the inline policies of their delivery roles.
	FlowLogs     []ec2types.FlowLog `json:"flow_logs,omitempty"`
	LogGroups    []LogGroup         `json:"log_groups,omitempty"`
	RolePolicies []RolePolicy       `json:"role_policies,omitempty"`
	// RoleTrusts are the trust policies of the roles read (role ARN -> JSON).
	RoleTrusts map[string]string `json:"role_trusts,omitempty"`
	// InstanceProfiles are the instance profiles of the launch templates, with their role.
	InstanceProfiles []InstanceProfile `json:"instance_profiles,omitempty"`
}

// LogGroup is a CloudWatch Logs group a flow log delivers to.
type LogGroup struct {
	Name string `json:"name"`
	ARN  string `json:"arn"`
	// RetentionInDays is 0 when the group keeps its events forever.
	RetentionInDays int `json:"retention_in_days"`
}

// InstanceProfile is an instance profile and the role it gives instances.
type InstanceProfile struct {
	Name    string `json:"name"`
	ARN     string `json:"arn"`
	RoleARN string `json:"role_arn"`
}

// RolePolicy is one inline policy of an IAM role (a flow log's delivery role).
type RolePolicy struct {
	RoleName string `json:"role_name"`
	RoleARN  string `json:"role_arn"`
	Name     string `json:"name"`
	// Document is the policy, as JSON.
	Document string `json:"document"`
	// Attached are the managed policies attached to the role.
	Attached []string `json:"attached,omitempty"`
}

// PrefixList is a managed prefix list a security-group rule or a route names, with its CIDRs.
type PrefixList struct {
	ID    string   `json:"id"`
	Name  string   `json:"name"`
	CIDRs []string `json:"cidrs"`
}

// LoadBalancer is a load balancer with its tags, attributes, listeners and their rules.
type LoadBalancer struct {
	elbtypes.LoadBalancer
	Tags       []elbtypes.Tag    `json:"tags"`
	Attributes map[string]string `json:"attributes"`
	Listeners  []Listener        `json:"listeners"`
}

// Listener is a listener with its tags and its rules other than the default one.
type Listener struct {
	elbtypes.Listener
	Tags  []elbtypes.Tag  `json:"tags"`
	Rules []elbtypes.Rule `json:"rules"`
}

// TargetGroup is a target group with its tags, attributes and the health of its targets.
type TargetGroup struct {
	elbtypes.TargetGroup
	Tags       []elbtypes.Tag                     `json:"tags"`
	Attributes map[string]string                  `json:"attributes"`
	Health     []elbtypes.TargetHealthDescription `json:"health"`
}

// LaunchTemplate is the version of a launch template that an Auto Scaling group uses, with
// the template's tags. Spec is the version as the group names it ("$Latest", "3").
type LaunchTemplate struct {
	ec2types.LaunchTemplateVersion
	Spec string         `json:"spec"`
	Tags []ec2types.Tag `json:"tags"`
}

// DBSubnetGroup is a DB subnet group with its tags.
type DBSubnetGroup struct {
	rdstypes.DBSubnetGroup
	Tags []rdstypes.Tag `json:"tags"`
}

// MountTarget is an EFS mount target with its security groups.
type MountTarget struct {
	efstypes.MountTargetDescription
	SecurityGroups []string `json:"security_groups"`
}

// NotDeployedError says that no stack (or more than one) was found; nothing can be read.
type NotDeployedError struct{ Msg string }

func (e *NotDeployedError) Error() string { return e.Msg }

// clients are the SDK clients of one configuration.
type clients struct {
	ec2  *ec2.Client
	elb  *elbv2.Client
	asg  *autoscaling.Client
	rds  *rds.Client
	efs  *efs.Client
	logs *cloudwatchlogs.Client
	iam  *iam.Client
}

func newClients(cfg aws.Config) *clients {
	return &clients{ec2: ec2.NewFromConfig(cfg), elb: elbv2.NewFromConfig(cfg),
		asg: autoscaling.NewFromConfig(cfg), rds: rds.NewFromConfig(cfg), efs: efs.NewFromConfig(cfg),
		logs: cloudwatchlogs.NewFromConfig(cfg), iam: iam.NewFromConfig(cfg)}
}

// call names the API of a failed call.
func call(api string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("live: %s: %w", api, err)
}

func filter(name string, values ...string) ec2types.Filter {
	return ec2types.Filter{Name: aws.String(name), Values: values}
}

// Describe reads the stack: the one VPC tagged Project=webtier, then everything by vpc-id
// filters or by following IDs. Zero or several such VPCs is a *NotDeployedError.
func Describe(ctx context.Context, cfg aws.Config) (*Described, error) {
	c := newClients(cfg)
	s := &Described{Region: cfg.Region}
	vpcs, err := c.projectVPCs(ctx)
	if err != nil {
		return nil, err
	}
	switch len(vpcs) {
	case 0:
		return nil, &NotDeployedError{fmt.Sprintf("no VPC tagged %s=%s in %s: the stack is not deployed there", ProjectTag, ProjectValue, cfg.Region)}
	case 1:
		s.VPC = vpcs[0]
	default:
		var ids []string
		for _, v := range vpcs {
			ids = append(ids, aws.ToString(v.VpcId))
		}
		return nil, &NotDeployedError{fmt.Sprintf("%d VPCs tagged %s=%s in %s (%s): expected one stack", len(vpcs), ProjectTag, ProjectValue, cfg.Region, strings.Join(ids, ", "))}
	}
	vpc := aws.ToString(s.VPC.VpcId)
	for _, step := range []func(context.Context, *Described, string) error{
		c.network, c.groups, c.compute, c.balancers, c.fleets, c.databases, c.fileSystems, c.flowLogs,
	} {
		if err := step(ctx, s, vpc); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// projectVPCs lists the VPCs tagged Project=webtier.
func (c *clients) projectVPCs(ctx context.Context) ([]ec2types.Vpc, error) {
	var out []ec2types.Vpc
	p := ec2.NewDescribeVpcsPaginator(c.ec2, &ec2.DescribeVpcsInput{Filters: []ec2types.Filter{filter("tag:"+ProjectTag, ProjectValue)}})
	if err := eachPage(ctx, "DescribeVpcs", p, func(page *ec2.DescribeVpcsOutput) error {
		out = append(out, page.Vpcs...)
		return nil
	}); err != nil {
		return nil, err
	}
	return out, nil
}

// network reads subnets, gateways, route tables and network ACLs.
func (c *clients) network(ctx context.Context, s *Described, vpc string) error {
	byVPC := []ec2types.Filter{filter("vpc-id", vpc)}
	subnets := ec2.NewDescribeSubnetsPaginator(c.ec2, &ec2.DescribeSubnetsInput{Filters: byVPC})
	if err := eachPage(ctx, "DescribeSubnets", subnets, func(page *ec2.DescribeSubnetsOutput) error {
		s.Subnets = append(s.Subnets, page.Subnets...)
		return nil
	}); err != nil {
		return err
	}
	igws := ec2.NewDescribeInternetGatewaysPaginator(c.ec2, &ec2.DescribeInternetGatewaysInput{Filters: []ec2types.Filter{filter("attachment.vpc-id", vpc)}})
	if err := eachPage(ctx, "DescribeInternetGateways", igws, func(page *ec2.DescribeInternetGatewaysOutput) error {
		s.InternetGateways = append(s.InternetGateways, page.InternetGateways...)
		return nil
	}); err != nil {
		return err
	}
	tables := ec2.NewDescribeRouteTablesPaginator(c.ec2, &ec2.DescribeRouteTablesInput{Filters: byVPC})
	if err := eachPage(ctx, "DescribeRouteTables", tables, func(page *ec2.DescribeRouteTablesOutput) error {
		s.RouteTables = append(s.RouteTables, page.RouteTables...)
		return nil
	}); err != nil {
		return err
	}
	acls := ec2.NewDescribeNetworkAclsPaginator(c.ec2, &ec2.DescribeNetworkAclsInput{Filters: byVPC})
	if err := eachPage(ctx, "DescribeNetworkAcls", acls, func(page *ec2.DescribeNetworkAclsOutput) error {
		s.NetworkACLs = append(s.NetworkACLs, page.NetworkAcls...)
		return nil
	}); err != nil {
		return err
	}
	return nil
}

// groups reads the security groups, their rules and the prefix lists the rules and the routes
// (read by network, before) name.
func (c *clients) groups(ctx context.Context, s *Described, vpc string) error {
	sgs := ec2.NewDescribeSecurityGroupsPaginator(c.ec2, &ec2.DescribeSecurityGroupsInput{Filters: []ec2types.Filter{filter("vpc-id", vpc)}})
	if err := eachPage(ctx, "DescribeSecurityGroups", sgs, func(page *ec2.DescribeSecurityGroupsOutput) error {
		s.SecurityGroups = append(s.SecurityGroups, page.SecurityGroups...)
		return nil
	}); err != nil {
		return err
	}
	var ids []string
	for _, g := range s.SecurityGroups {
		ids = append(ids, aws.ToString(g.GroupId))
	}
	// The group-id filter takes at most 200 values.
	for chunk := range slices.Chunk(ids, 200) {
		rules := ec2.NewDescribeSecurityGroupRulesPaginator(c.ec2, &ec2.DescribeSecurityGroupRulesInput{Filters: []ec2types.Filter{filter("group-id", chunk...)}})
		if err := eachPage(ctx, "DescribeSecurityGroupRules", rules, func(page *ec2.DescribeSecurityGroupRulesOutput) error {
			s.SecurityGroupRules = append(s.SecurityGroupRules, page.SecurityGroupRules...)
			return nil
		}); err != nil {
			return err
		}
	}
	// The prefix lists the rules name, and those the routes go to (a gateway endpoint's).
	var listIDs []string
	for _, r := range s.SecurityGroupRules {
		listIDs = append(listIDs, aws.ToString(r.PrefixListId))
	}
	for _, t := range s.RouteTables {
		for _, r := range t.Routes {
			listIDs = append(listIDs, aws.ToString(r.DestinationPrefixListId))
		}
	}
	seen := map[string]bool{}
	for _, id := range listIDs {
		if id == "" || seen[id] {
			continue
		}
		seen[id] = true
		pl := PrefixList{ID: id}
		lists, err := c.ec2.DescribeManagedPrefixLists(ctx, &ec2.DescribeManagedPrefixListsInput{PrefixListIds: []string{id}})
		if err != nil {
			return call("DescribeManagedPrefixLists", err)
		}
		for _, l := range lists.PrefixLists {
			pl.Name = aws.ToString(l.PrefixListName)
		}
		entries := ec2.NewGetManagedPrefixListEntriesPaginator(c.ec2, &ec2.GetManagedPrefixListEntriesInput{PrefixListId: aws.String(id)})
		if err := eachPage(ctx, "GetManagedPrefixListEntries", entries, func(page *ec2.GetManagedPrefixListEntriesOutput) error {
			for _, e := range page.Entries {
				pl.CIDRs = append(pl.CIDRs, aws.ToString(e.Cidr))
			}
			return nil
		}); err != nil {
			return err
		}
		s.PrefixLists = append(s.PrefixLists, pl)
	}
	return nil
}

// liveInstanceStates are the states of an instance that still exists.
var liveInstanceStates = []string{"pending", "running", "shutting-down", "stopping", "stopped"}

// compute reads instances, NAT gateways, Elastic IPs, network interfaces and VPC endpoints.
func (c *clients) compute(ctx context.Context, s *Described, vpc string) error {
	byVPC := []ec2types.Filter{filter("vpc-id", vpc)}
	insts := ec2.NewDescribeInstancesPaginator(c.ec2, &ec2.DescribeInstancesInput{
		Filters: []ec2types.Filter{filter("vpc-id", vpc), filter("instance-state-name", liveInstanceStates...)}})
	if err := eachPage(ctx, "DescribeInstances", insts, func(page *ec2.DescribeInstancesOutput) error {
		for _, r := range page.Reservations {
			s.Instances = append(s.Instances, r.Instances...)
		}
		return nil
	}); err != nil {
		return err
	}
	nats := ec2.NewDescribeNatGatewaysPaginator(c.ec2, &ec2.DescribeNatGatewaysInput{
		Filter: []ec2types.Filter{filter("vpc-id", vpc), filter("state", "pending", "available")}})
	if err := eachPage(ctx, "DescribeNatGateways", nats, func(page *ec2.DescribeNatGatewaysOutput) error {
		s.NATGateways = append(s.NATGateways, page.NatGateways...)
		return nil
	}); err != nil {
		return err
	}
	enis := ec2.NewDescribeNetworkInterfacesPaginator(c.ec2, &ec2.DescribeNetworkInterfacesInput{Filters: byVPC})
	if err := eachPage(ctx, "DescribeNetworkInterfaces", enis, func(page *ec2.DescribeNetworkInterfacesOutput) error {
		s.NetworkInterfaces = append(s.NetworkInterfaces, page.NetworkInterfaces...)
		return nil
	}); err != nil {
		return err
	}
	eps := ec2.NewDescribeVpcEndpointsPaginator(c.ec2, &ec2.DescribeVpcEndpointsInput{Filters: byVPC})
	if err := eachPage(ctx, "DescribeVpcEndpoints", eps, func(page *ec2.DescribeVpcEndpointsOutput) error {
		for _, e := range page.VpcEndpoints {
			if liveEndpoint(e.State) {
				s.VPCEndpoints = append(s.VPCEndpoints, e)
			}
		}
		return nil
	}); err != nil {
		return err
	}
	// Elastic IPs have no VPC: keep those of the NAT gateways and the VPC's interfaces.
	mine := map[string]bool{}
	for _, n := range s.NATGateways {
		for _, a := range n.NatGatewayAddresses {
			mine[aws.ToString(a.AllocationId)] = true
		}
	}
	for _, e := range s.NetworkInterfaces {
		mine[aws.ToString(e.NetworkInterfaceId)] = true
	}
	addrs, err := c.ec2.DescribeAddresses(ctx, &ec2.DescribeAddressesInput{Filters: []ec2types.Filter{filter("domain", "vpc")}})
	if err != nil {
		return call("DescribeAddresses", err)
	}
	for _, a := range addrs.Addresses {
		if mine[aws.ToString(a.AllocationId)] || mine[aws.ToString(a.NetworkInterfaceId)] {
			s.Addresses = append(s.Addresses, a)
		}
	}
	return nil
}

// liveEndpoint reports whether a VPC endpoint in this state still places interfaces.
func liveEndpoint(st ec2types.State) bool {
	switch strings.ToLower(string(st)) {
	case "deleted", "deleting", "failed", "rejected", "expired":
		return false
	}
	return true
}

// balancers reads the load balancers and target groups of the VPC.
func (c *clients) balancers(ctx context.Context, s *Described, vpc string) error {
	lbs := elbv2.NewDescribeLoadBalancersPaginator(c.elb, &elbv2.DescribeLoadBalancersInput{})
	if err := eachPage(ctx, "DescribeLoadBalancers", lbs, func(page *elbv2.DescribeLoadBalancersOutput) error {
		for _, lb := range page.LoadBalancers {
			if aws.ToString(lb.VpcId) == vpc {
				s.LoadBalancers = append(s.LoadBalancers, LoadBalancer{LoadBalancer: lb})
			}
		}
		return nil
	}); err != nil {
		return err
	}
	tgs := elbv2.NewDescribeTargetGroupsPaginator(c.elb, &elbv2.DescribeTargetGroupsInput{})
	if err := eachPage(ctx, "DescribeTargetGroups", tgs, func(page *elbv2.DescribeTargetGroupsOutput) error {
		for _, tg := range page.TargetGroups {
			if aws.ToString(tg.VpcId) == vpc {
				s.TargetGroups = append(s.TargetGroups, TargetGroup{TargetGroup: tg})
			}
		}
		return nil
	}); err != nil {
		return err
	}
	var arns []string
	for _, lb := range s.LoadBalancers {
		arns = append(arns, aws.ToString(lb.LoadBalancerArn))
	}
	for _, tg := range s.TargetGroups {
		arns = append(arns, aws.ToString(tg.TargetGroupArn))
	}
	for i := range s.LoadBalancers {
		lb := &s.LoadBalancers[i]
		attrs, err := c.elb.DescribeLoadBalancerAttributes(ctx, &elbv2.DescribeLoadBalancerAttributesInput{LoadBalancerArn: lb.LoadBalancerArn})
		if err != nil {
			return call("DescribeLoadBalancerAttributes", err)
		}
		lb.Attributes = map[string]string{}
		for _, a := range attrs.Attributes {
			lb.Attributes[aws.ToString(a.Key)] = aws.ToString(a.Value)
		}
		ls := elbv2.NewDescribeListenersPaginator(c.elb, &elbv2.DescribeListenersInput{LoadBalancerArn: lb.LoadBalancerArn})
		if err := eachPage(ctx, "DescribeListeners", ls, func(page *elbv2.DescribeListenersOutput) error {
			for _, l := range page.Listeners {
				lb.Listeners = append(lb.Listeners, Listener{Listener: l})
				arns = append(arns, aws.ToString(l.ListenerArn))
			}
			return nil
		}); err != nil {
			return err
		}
		for j := range lb.Listeners {
			l := &lb.Listeners[j]
			rules, err := c.elb.DescribeRules(ctx, &elbv2.DescribeRulesInput{ListenerArn: l.ListenerArn})
			if err != nil {
				return call("DescribeRules", err)
			}
			for _, r := range rules.Rules {
				if !aws.ToBool(r.IsDefault) {
					l.Rules = append(l.Rules, r)
				}
			}
		}
	}
	for i := range s.TargetGroups {
		tg := &s.TargetGroups[i]
		attrs, err := c.elb.DescribeTargetGroupAttributes(ctx, &elbv2.DescribeTargetGroupAttributesInput{TargetGroupArn: tg.TargetGroupArn})
		if err != nil {
			return call("DescribeTargetGroupAttributes", err)
		}
		tg.Attributes = map[string]string{}
		for _, a := range attrs.Attributes {
			tg.Attributes[aws.ToString(a.Key)] = aws.ToString(a.Value)
		}
		health, err := c.elb.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: tg.TargetGroupArn})
		if err != nil {
			return call("DescribeTargetHealth", err)
		}
		tg.Health = health.TargetHealthDescriptions
	}
	tags, err := c.elbTags(ctx, arns)
	if err != nil {
		return err
	}
	for i := range s.LoadBalancers {
		lb := &s.LoadBalancers[i]
		lb.Tags = tags[aws.ToString(lb.LoadBalancerArn)]
		for j := range lb.Listeners {
			lb.Listeners[j].Tags = tags[aws.ToString(lb.Listeners[j].ListenerArn)]
		}
	}
	for i := range s.TargetGroups {
		s.TargetGroups[i].Tags = tags[aws.ToString(s.TargetGroups[i].TargetGroupArn)]
	}
	return nil
}

// elbTags reads the tags of load balancers, listeners and target groups, 20 at a time.
func (c *clients) elbTags(ctx context.Context, arns []string) (map[string][]elbtypes.Tag, error) {
	out := map[string][]elbtypes.Tag{}
	for chunk := range slices.Chunk(arns, 20) {
		page, err := c.elb.DescribeTags(ctx, &elbv2.DescribeTagsInput{ResourceArns: chunk})
		if err != nil {
			return nil, call("DescribeTags (elbv2)", err)
		}
		for _, d := range page.TagDescriptions {
			out[aws.ToString(d.ResourceArn)] = d.Tags
		}
	}
	return out, nil
}

// fleets reads the Auto Scaling groups over the VPC's subnets, their scaling policies and
// the launch template versions (or launch configurations) they use.
func (c *clients) fleets(ctx context.Context, s *Described, vpc string) error {
	subnets := map[string]bool{}
	for _, sn := range s.Subnets {
		subnets[aws.ToString(sn.SubnetId)] = true
	}
	groups := autoscaling.NewDescribeAutoScalingGroupsPaginator(c.asg, &autoscaling.DescribeAutoScalingGroupsInput{})
	if err := eachPage(ctx, "DescribeAutoScalingGroups", groups, func(page *autoscaling.DescribeAutoScalingGroupsOutput) error {
		for _, g := range page.AutoScalingGroups {
			if slices.ContainsFunc(splitIDs(aws.ToString(g.VPCZoneIdentifier)), func(id string) bool { return subnets[id] }) {
				s.AutoScalingGroups = append(s.AutoScalingGroups, g)
			}
		}
		return nil
	}); err != nil {
		return err
	}
	var configs []string
	for _, g := range s.AutoScalingGroups {
		policies := autoscaling.NewDescribePoliciesPaginator(c.asg, &autoscaling.DescribePoliciesInput{AutoScalingGroupName: g.AutoScalingGroupName})
		if err := eachPage(ctx, "DescribePolicies", policies, func(page *autoscaling.DescribePoliciesOutput) error {
			s.ScalingPolicies = append(s.ScalingPolicies, page.ScalingPolicies...)
			return nil
		}); err != nil {
			return err
		}
		if spec := templateOf(g); spec != nil {
			if err := c.launchTemplate(ctx, s, spec); err != nil {
				return err
			}
		}
		if name := aws.ToString(g.LaunchConfigurationName); name != "" && !slices.Contains(configs, name) {
			configs = append(configs, name)
		}
	}
	if len(configs) > 0 {
		page, err := c.asg.DescribeLaunchConfigurations(ctx, &autoscaling.DescribeLaunchConfigurationsInput{LaunchConfigurationNames: configs})
		if err != nil {
			return call("DescribeLaunchConfigurations", err)
		}
		s.LaunchConfigurations = page.LaunchConfigurations
	}
	return nil
}

// templateOf returns the launch template an Auto Scaling group launches from, or nil.
func templateOf(g asgtypes.AutoScalingGroup) *asgtypes.LaunchTemplateSpecification {
	if g.LaunchTemplate != nil {
		return g.LaunchTemplate
	}
	if m := g.MixedInstancesPolicy; m != nil && m.LaunchTemplate != nil {
		return m.LaunchTemplate.LaunchTemplateSpecification
	}
	return nil
}

// specVersion is the version a launch template specification names ("$Default" when none).
func specVersion(spec *asgtypes.LaunchTemplateSpecification) string {
	if v := aws.ToString(spec.Version); v != "" {
		return v
	}
	return "$Default"
}

// launchTemplate reads the version of a launch template that spec names, once.
func (c *clients) launchTemplate(ctx context.Context, s *Described, spec *asgtypes.LaunchTemplateSpecification) error {
	version := specVersion(spec)
	for _, lt := range s.LaunchTemplates {
		if lt.Spec == version && (aws.ToString(lt.LaunchTemplateId) == aws.ToString(spec.LaunchTemplateId) && spec.LaunchTemplateId != nil ||
			aws.ToString(lt.LaunchTemplateName) == aws.ToString(spec.LaunchTemplateName) && spec.LaunchTemplateName != nil) {
			return nil
		}
	}
	in := &ec2.DescribeLaunchTemplateVersionsInput{Versions: []string{version}}
	if spec.LaunchTemplateId != nil {
		in.LaunchTemplateId = spec.LaunchTemplateId
	} else {
		in.LaunchTemplateName = spec.LaunchTemplateName
	}
	versions, err := c.ec2.DescribeLaunchTemplateVersions(ctx, in)
	if err != nil {
		return call("DescribeLaunchTemplateVersions", err)
	}
	if len(versions.LaunchTemplateVersions) == 0 {
		return fmt.Errorf("live: launch template %s has no version %s", aws.ToString(in.LaunchTemplateId)+aws.ToString(in.LaunchTemplateName), version)
	}
	v := versions.LaunchTemplateVersions[0]
	lts, err := c.ec2.DescribeLaunchTemplates(ctx, &ec2.DescribeLaunchTemplatesInput{LaunchTemplateIds: []string{aws.ToString(v.LaunchTemplateId)}})
	if err != nil {
		return call("DescribeLaunchTemplates", err)
	}
	lt := LaunchTemplate{LaunchTemplateVersion: v, Spec: version}
	for _, t := range lts.LaunchTemplates {
		lt.Tags = t.Tags
	}
	s.LaunchTemplates = append(s.LaunchTemplates, lt)
	if d := v.LaunchTemplateData; d != nil {
		return c.instanceProfile(ctx, s, d.IamInstanceProfile)
	}
	return nil
}

// splitIDs splits a comma-separated list (vpc_zone_identifier).
func splitIDs(list string) []string {
	var out []string
	for _, id := range strings.Split(list, ",") {
		if id = strings.TrimSpace(id); id != "" {
			out = append(out, id)
		}
	}
	return out
}

// databases reads the DB instances in the VPC and their subnet groups with tags.
func (c *clients) databases(ctx context.Context, s *Described, vpc string) error {
	dbs := rds.NewDescribeDBInstancesPaginator(c.rds, &rds.DescribeDBInstancesInput{})
	if err := eachPage(ctx, "DescribeDBInstances", dbs, func(page *rds.DescribeDBInstancesOutput) error {
		for _, db := range page.DBInstances {
			if db.DBSubnetGroup != nil && aws.ToString(db.DBSubnetGroup.VpcId) == vpc {
				s.DBInstances = append(s.DBInstances, db)
			}
		}
		return nil
	}); err != nil {
		return err
	}
	groups := rds.NewDescribeDBSubnetGroupsPaginator(c.rds, &rds.DescribeDBSubnetGroupsInput{})
	if err := eachPage(ctx, "DescribeDBSubnetGroups", groups, func(page *rds.DescribeDBSubnetGroupsOutput) error {
		for _, g := range page.DBSubnetGroups {
			if aws.ToString(g.VpcId) != vpc {
				continue
			}
			tags, err := c.rds.ListTagsForResource(ctx, &rds.ListTagsForResourceInput{ResourceName: g.DBSubnetGroupArn})
			if err != nil {
				return call("ListTagsForResource (rds)", err)
			}
			s.DBSubnetGroups = append(s.DBSubnetGroups, DBSubnetGroup{DBSubnetGroup: g, Tags: tags.TagList})
		}
		return nil
	}); err != nil {
		return err
	}
	return nil
}

// fileSystems reads the mount targets in the VPC (with their security groups) and their
// file systems, and file systems tagged Project=webtier that have none there.
func (c *clients) fileSystems(ctx context.Context, s *Described, vpc string) error {
	subnets := map[string]bool{}
	for _, sn := range s.Subnets {
		subnets[aws.ToString(sn.SubnetId)] = true
	}
	all := efs.NewDescribeFileSystemsPaginator(c.efs, &efs.DescribeFileSystemsInput{})
	var systems []efstypes.FileSystemDescription
	if err := eachPage(ctx, "DescribeFileSystems", all, func(page *efs.DescribeFileSystemsOutput) error {
		systems = append(systems, page.FileSystems...)
		return nil
	}); err != nil {
		return err
	}
	for _, fs := range systems {
		mine := hasEFSTag(fs.Tags, ProjectTag, ProjectValue)
		mts := efs.NewDescribeMountTargetsPaginator(c.efs, &efs.DescribeMountTargetsInput{FileSystemId: fs.FileSystemId})
		if err := eachPage(ctx, "DescribeMountTargets", mts, func(page *efs.DescribeMountTargetsOutput) error {
			for _, mt := range page.MountTargets {
				if mt.LifeCycleState == efstypes.LifeCycleStateDeleting || mt.LifeCycleState == efstypes.LifeCycleStateDeleted {
					continue
				}
				if aws.ToString(mt.VpcId) != vpc && !subnets[aws.ToString(mt.SubnetId)] {
					continue
				}
				mine = true
				sgs, err := c.efs.DescribeMountTargetSecurityGroups(ctx, &efs.DescribeMountTargetSecurityGroupsInput{MountTargetId: mt.MountTargetId})
				if err != nil {
					return call("DescribeMountTargetSecurityGroups", err)
				}
				s.MountTargets = append(s.MountTargets, MountTarget{MountTargetDescription: mt, SecurityGroups: sgs.SecurityGroups})
			}
			return nil
		}); err != nil {
			return err
		}
		if mine {
			s.FileSystems = append(s.FileSystems, fs)
			p, err := c.efs.DescribeFileSystemPolicy(ctx, &efs.DescribeFileSystemPolicyInput{FileSystemId: fs.FileSystemId})
			var missing *efstypes.PolicyNotFound
			switch {
			case errors.As(err, &missing):
			case err != nil:
				return call("DescribeFileSystemPolicy", err)
			default:
				if s.FileSystemPolicies == nil {
					s.FileSystemPolicies = map[string]string{}
				}
				s.FileSystemPolicies[aws.ToString(fs.FileSystemId)] = aws.ToString(p.Policy)
			}
		}
	}
	sort.SliceStable(s.MountTargets, func(i, j int) bool {
		return aws.ToString(s.MountTargets[i].MountTargetId) < aws.ToString(s.MountTargets[j].MountTargetId)
	})
	return nil
}

func hasEFSTag(tags []efstypes.Tag, key, value string) bool {
	return slices.ContainsFunc(tags, func(t efstypes.Tag) bool { return aws.ToString(t.Key) == key && aws.ToString(t.Value) == value })
}

// flowLogs reads the VPC's flow logs, the log groups they deliver to and the inline policies
// of their delivery roles.
func (c *clients) flowLogs(ctx context.Context, s *Described, vpc string) error {
	logs := ec2.NewDescribeFlowLogsPaginator(c.ec2, &ec2.DescribeFlowLogsInput{Filter: []ec2types.Filter{filter("resource-id", vpc)}})
	if err := eachPage(ctx, "DescribeFlowLogs", logs, func(page *ec2.DescribeFlowLogsOutput) error {
		s.FlowLogs = append(s.FlowLogs, page.FlowLogs...)
		return nil
	}); err != nil {
		return err
	}
	seenGroup := map[string]bool{}
	for _, fl := range s.FlowLogs {
		name := flowLogGroup(fl)
		if name != "" && !seenGroup[name] {
			seenGroup[name] = true
			out, err := c.logs.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String(name)})
			if err != nil {
				return call("DescribeLogGroups", err)
			}
			for _, g := range out.LogGroups {
				if aws.ToString(g.LogGroupName) == name {
					s.LogGroups = append(s.LogGroups, LogGroup{Name: name, ARN: strings.TrimSuffix(aws.ToString(g.Arn), ":*"),
						RetentionInDays: int(aws.ToInt32(g.RetentionInDays))})
				}
			}
		}
		if err := c.role(ctx, s, aws.ToString(fl.DeliverLogsPermissionArn)); err != nil {
			return err
		}
	}
	return nil
}

// flowLogGroup is the name of the log group a flow log delivers to: LogGroupName, or the name
// in its log-group ARN (moto reports only the ARN).
func flowLogGroup(fl ec2types.FlowLog) string {
	if n := aws.ToString(fl.LogGroupName); n != "" {
		return n
	}
	_, name, _ := strings.Cut(strings.TrimSuffix(aws.ToString(fl.LogDestination), ":*"), ":log-group:")
	return name
}

// role reads an IAM role once: its trust policy and its inline and attached policies.
func (c *clients) role(ctx context.Context, s *Described, roleARN string) error {
	if roleARN == "" || s.RoleTrusts[roleARN] != "" {
		return nil
	}
	roleName := roleARN[strings.LastIndexByte(roleARN, '/')+1:]
	role, err := c.iam.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(roleName)})
	if err != nil {
		return call("GetRole", err)
	}
	if s.RoleTrusts == nil {
		s.RoleTrusts = map[string]string{}
	}
	s.RoleTrusts[roleARN] = unescapePolicy(aws.ToString(role.Role.AssumeRolePolicyDocument))
	attached, err := c.iam.ListAttachedRolePolicies(ctx, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String(roleName)})
	if err != nil {
		return call("ListAttachedRolePolicies", err)
	}
	var managed []string
	for _, p := range attached.AttachedPolicies {
		managed = append(managed, aws.ToString(p.PolicyArn))
	}
	names, err := c.iam.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: aws.String(roleName)})
	if err != nil {
		return call("ListRolePolicies", err)
	}
	for _, n := range names.PolicyNames {
		p, err := c.iam.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String(roleName), PolicyName: aws.String(n)})
		if err != nil {
			return call("GetRolePolicy", err)
		}
		s.RolePolicies = append(s.RolePolicies, RolePolicy{RoleName: roleName, RoleARN: roleARN, Name: n,
			Document: unescapePolicy(aws.ToString(p.PolicyDocument)), Attached: managed})
	}
	if len(names.PolicyNames) == 0 {
		s.RolePolicies = append(s.RolePolicies, RolePolicy{RoleName: roleName, RoleARN: roleARN, Attached: managed})
	}
	return nil
}

// unescapePolicy is a policy document as IAM returns it, URL-encoded, decoded.
func unescapePolicy(doc string) string {
	if text, err := url.QueryUnescape(doc); err == nil {
		return text
	}
	return doc
}

// instanceProfile reads the instance profile a launch template gives its instances, and its
// role, once.
func (c *clients) instanceProfile(ctx context.Context, s *Described, spec *ec2types.LaunchTemplateIamInstanceProfileSpecification) error {
	if spec == nil {
		return nil
	}
	name := aws.ToString(spec.Name)
	if arn := aws.ToString(spec.Arn); arn != "" {
		name = arn[strings.LastIndexByte(arn, '/')+1:]
	}
	for _, p := range s.InstanceProfiles {
		if p.Name == name {
			return nil
		}
	}
	out, err := c.iam.GetInstanceProfile(ctx, &iam.GetInstanceProfileInput{InstanceProfileName: aws.String(name)})
	if err != nil {
		return call("GetInstanceProfile", err)
	}
	profile := InstanceProfile{Name: name, ARN: aws.ToString(out.InstanceProfile.Arn)}
	for _, r := range out.InstanceProfile.Roles {
		profile.RoleARN = aws.ToString(r.Arn)
	}
	s.InstanceProfiles = append(s.InstanceProfiles, profile)
	return c.role(ctx, s, profile.RoleARN)
}
