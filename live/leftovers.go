package live

import (
	"context"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/efs"
	efstypes "github.com/aws/aws-sdk-go-v2/service/efs/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/rds"

	"github.com/webtier/webtier/rules"
)

// Leftovers lists every resource of the stack still present, one line each ("subnet
// subnet-0abc (web-a)"): VPCs tagged Project=webtier, and everything tagged so (the
// provider's default_tags) or inside such a VPC — subnets, internet gateways, instances not
// terminated, network interfaces, security groups, NAT gateways not deleted, Elastic IPs,
// load balancers, target groups, Auto Scaling groups (tagged webtier:role, which default_tags
// do not reach), launch templates, DB instances and subnet groups, file systems and VPC
// endpoints not deleted. After a destroy it should be empty.
func Leftovers(ctx context.Context, cfg aws.Config) ([]string, error) {
	c := newClients(cfg)
	l := &leftovers{c: c, seen: map[string]bool{}}
	vpcs, err := c.projectVPCs(ctx)
	if err != nil {
		return nil, err
	}
	for _, v := range vpcs {
		l.vpcs = append(l.vpcs, aws.ToString(v.VpcId))
		l.add("vpc", aws.ToString(v.VpcId), ec2Tag(v.Tags, "Name"))
	}
	for _, step := range []func(context.Context) error{l.network, l.compute, l.balancers, l.fleets, l.databases, l.fileSystems} {
		if err := step(ctx); err != nil {
			return nil, err
		}
	}
	return l.out, nil
}

type leftovers struct {
	c    *clients
	vpcs []string
	seen map[string]bool
	out  []string
}

func (l *leftovers) add(kind, id, name string) {
	if l.seen[kind+" "+id] {
		return
	}
	l.seen[kind+" "+id] = true
	line := kind + " " + id
	if name != "" && name != id {
		line += " (" + name + ")"
	}
	l.out = append(l.out, line)
}

// ec2Queries are the filter sets that find the stack's EC2 resources: tagged Project=webtier,
// tagged with a role, or in one of the stack's VPCs.
func (l *leftovers) ec2Queries(vpcKey string, extra ...ec2types.Filter) [][]ec2types.Filter {
	out := [][]ec2types.Filter{
		append([]ec2types.Filter{filter("tag:"+ProjectTag, ProjectValue)}, extra...),
		append([]ec2types.Filter{filter("tag-key", rules.RoleTag)}, extra...),
	}
	if len(l.vpcs) > 0 && vpcKey != "" {
		out = append(out, append([]ec2types.Filter{filter(vpcKey, l.vpcs...)}, extra...))
	}
	return out
}

func (l *leftovers) network(ctx context.Context) error {
	for _, q := range l.ec2Queries("vpc-id") {
		p := ec2.NewDescribeSubnetsPaginator(l.c.ec2, &ec2.DescribeSubnetsInput{Filters: q})
		if err := eachPage(ctx, "DescribeSubnets", p, func(page *ec2.DescribeSubnetsOutput) error {
			for _, s := range page.Subnets {
				l.add("subnet", aws.ToString(s.SubnetId), ec2Tag(s.Tags, "Name"))
			}
			return nil
		}); err != nil {
			return err
		}
	}
	for _, q := range l.ec2Queries("attachment.vpc-id") {
		p := ec2.NewDescribeInternetGatewaysPaginator(l.c.ec2, &ec2.DescribeInternetGatewaysInput{Filters: q})
		if err := eachPage(ctx, "DescribeInternetGateways", p, func(page *ec2.DescribeInternetGatewaysOutput) error {
			for _, g := range page.InternetGateways {
				l.add("internet gateway", aws.ToString(g.InternetGatewayId), ec2Tag(g.Tags, "Name"))
			}
			return nil
		}); err != nil {
			return err
		}
	}
	for _, q := range l.ec2Queries("vpc-id") {
		p := ec2.NewDescribeSecurityGroupsPaginator(l.c.ec2, &ec2.DescribeSecurityGroupsInput{Filters: q})
		if err := eachPage(ctx, "DescribeSecurityGroups", p, func(page *ec2.DescribeSecurityGroupsOutput) error {
			for _, g := range page.SecurityGroups {
				if aws.ToString(g.GroupName) != "default" { // goes with its VPC
					l.add("security group", aws.ToString(g.GroupId), aws.ToString(g.GroupName))
				}
			}
			return nil
		}); err != nil {
			return err
		}
	}
	for _, q := range l.ec2Queries("vpc-id") {
		p := ec2.NewDescribeVpcEndpointsPaginator(l.c.ec2, &ec2.DescribeVpcEndpointsInput{Filters: q})
		if err := eachPage(ctx, "DescribeVpcEndpoints", p, func(page *ec2.DescribeVpcEndpointsOutput) error {
			for _, e := range page.VpcEndpoints {
				if !slices.Contains([]string{"deleted", "failed", "rejected", "expired"}, string(e.State)) {
					l.add("vpc endpoint", aws.ToString(e.VpcEndpointId), ec2Tag(e.Tags, "Name"))
				}
			}
			return nil
		}); err != nil {
			return err
		}
	}
	return nil
}

func (l *leftovers) compute(ctx context.Context) error {
	for _, q := range l.ec2Queries("vpc-id", filter("instance-state-name", liveInstanceStates...)) {
		p := ec2.NewDescribeInstancesPaginator(l.c.ec2, &ec2.DescribeInstancesInput{Filters: q})
		if err := eachPage(ctx, "DescribeInstances", p, func(page *ec2.DescribeInstancesOutput) error {
			for _, r := range page.Reservations {
				for _, in := range r.Instances {
					name := ec2Tag(in.Tags, "Name")
					if in.State != nil {
						name += ", " + string(in.State.Name)
					}
					l.add("instance", aws.ToString(in.InstanceId), name)
				}
			}
			return nil
		}); err != nil {
			return err
		}
	}
	for _, q := range l.ec2Queries("vpc-id") {
		p := ec2.NewDescribeNetworkInterfacesPaginator(l.c.ec2, &ec2.DescribeNetworkInterfacesInput{Filters: q})
		if err := eachPage(ctx, "DescribeNetworkInterfaces", p, func(page *ec2.DescribeNetworkInterfacesOutput) error {
			for _, e := range page.NetworkInterfaces {
				l.add("network interface", aws.ToString(e.NetworkInterfaceId), aws.ToString(e.Description))
			}
			return nil
		}); err != nil {
			return err
		}
	}
	for _, q := range l.ec2Queries("vpc-id", filter("state", "pending", "available", "deleting")) {
		p := ec2.NewDescribeNatGatewaysPaginator(l.c.ec2, &ec2.DescribeNatGatewaysInput{Filter: q})
		if err := eachPage(ctx, "DescribeNatGateways", p, func(page *ec2.DescribeNatGatewaysOutput) error {
			for _, n := range page.NatGateways {
				l.add("NAT gateway", aws.ToString(n.NatGatewayId), ec2Tag(n.Tags, "Name"))
			}
			return nil
		}); err != nil {
			return err
		}
	}
	for _, q := range l.ec2Queries("") {
		page, err := l.c.ec2.DescribeAddresses(ctx, &ec2.DescribeAddressesInput{Filters: q})
		if err != nil {
			return call("DescribeAddresses", err)
		}
		for _, a := range page.Addresses {
			l.add("elastic IP", aws.ToString(a.AllocationId), ec2Tag(a.Tags, "Name"))
		}
	}
	return nil
}

// tagged reports whether tags hold Project=webtier or a webtier:role.
func tagged(get func(string) (string, bool)) bool {
	v, ok := get(ProjectTag)
	_, role := get(rules.RoleTag)
	return ok && v == ProjectValue || role
}

func (l *leftovers) balancers(ctx context.Context) error {
	type res struct{ kind, arn, name, vpc string }
	var all []res
	lbs := elbv2.NewDescribeLoadBalancersPaginator(l.c.elb, &elbv2.DescribeLoadBalancersInput{})
	if err := eachPage(ctx, "DescribeLoadBalancers", lbs, func(page *elbv2.DescribeLoadBalancersOutput) error {
		for _, lb := range page.LoadBalancers {
			all = append(all, res{"load balancer", aws.ToString(lb.LoadBalancerArn), aws.ToString(lb.LoadBalancerName), aws.ToString(lb.VpcId)})
		}
		return nil
	}); err != nil {
		return err
	}
	tgs := elbv2.NewDescribeTargetGroupsPaginator(l.c.elb, &elbv2.DescribeTargetGroupsInput{})
	if err := eachPage(ctx, "DescribeTargetGroups", tgs, func(page *elbv2.DescribeTargetGroupsOutput) error {
		for _, tg := range page.TargetGroups {
			all = append(all, res{"target group", aws.ToString(tg.TargetGroupArn), aws.ToString(tg.TargetGroupName), aws.ToString(tg.VpcId)})
		}
		return nil
	}); err != nil {
		return err
	}
	var arns []string
	for _, r := range all {
		arns = append(arns, r.arn)
	}
	tags, err := l.c.elbTags(ctx, arns)
	if err != nil {
		return err
	}
	for _, r := range all {
		t := tags[r.arn]
		if slices.Contains(l.vpcs, r.vpc) || tagged(func(k string) (string, bool) {
			for _, x := range t {
				if aws.ToString(x.Key) == k {
					return aws.ToString(x.Value), true
				}
			}
			return "", false
		}) {
			l.add(r.kind, r.arn, r.name)
		}
	}
	return nil
}

func (l *leftovers) fleets(ctx context.Context) error {
	groups := autoscaling.NewDescribeAutoScalingGroupsPaginator(l.c.asg, &autoscaling.DescribeAutoScalingGroupsInput{})
	if err := eachPage(ctx, "DescribeAutoScalingGroups", groups, func(page *autoscaling.DescribeAutoScalingGroupsOutput) error {
		for _, g := range page.AutoScalingGroups {
			if tagged(func(k string) (string, bool) {
				for _, t := range g.Tags {
					if aws.ToString(t.Key) == k {
						return aws.ToString(t.Value), true
					}
				}
				return "", false
			}) {
				l.add("auto scaling group", aws.ToString(g.AutoScalingGroupName), fmt.Sprintf("%d instances", len(g.Instances)))
			}
		}
		return nil
	}); err != nil {
		return err
	}
	lts := ec2.NewDescribeLaunchTemplatesPaginator(l.c.ec2, &ec2.DescribeLaunchTemplatesInput{})
	if err := eachPage(ctx, "DescribeLaunchTemplates", lts, func(page *ec2.DescribeLaunchTemplatesOutput) error {
		for _, t := range page.LaunchTemplates {
			if tagged(func(k string) (string, bool) { v := ec2Tag(t.Tags, k); return v, v != "" }) {
				l.add("launch template", aws.ToString(t.LaunchTemplateId), aws.ToString(t.LaunchTemplateName))
			}
		}
		return nil
	}); err != nil {
		return err
	}
	return nil
}

func (l *leftovers) databases(ctx context.Context) error {
	dbs := rds.NewDescribeDBInstancesPaginator(l.c.rds, &rds.DescribeDBInstancesInput{})
	if err := eachPage(ctx, "DescribeDBInstances", dbs, func(page *rds.DescribeDBInstancesOutput) error {
		for _, db := range page.DBInstances {
			inVPC := db.DBSubnetGroup != nil && slices.Contains(l.vpcs, aws.ToString(db.DBSubnetGroup.VpcId))
			if inVPC || tagged(func(k string) (string, bool) { v := rdsTag(db.TagList, k); return v, v != "" }) {
				l.add("DB instance", aws.ToString(db.DBInstanceIdentifier), aws.ToString(db.DBInstanceStatus))
			}
		}
		return nil
	}); err != nil {
		return err
	}
	groups := rds.NewDescribeDBSubnetGroupsPaginator(l.c.rds, &rds.DescribeDBSubnetGroupsInput{})
	if err := eachPage(ctx, "DescribeDBSubnetGroups", groups, func(page *rds.DescribeDBSubnetGroupsOutput) error {
		for _, g := range page.DBSubnetGroups {
			mine := slices.Contains(l.vpcs, aws.ToString(g.VpcId))
			if !mine {
				tags, err := l.c.rds.ListTagsForResource(ctx, &rds.ListTagsForResourceInput{ResourceName: g.DBSubnetGroupArn})
				if err != nil {
					return call("ListTagsForResource (rds)", err)
				}
				mine = tagged(func(k string) (string, bool) { v := rdsTag(tags.TagList, k); return v, v != "" })
			}
			if mine {
				l.add("DB subnet group", aws.ToString(g.DBSubnetGroupName), "")
			}
		}
		return nil
	}); err != nil {
		return err
	}
	return nil
}

func (l *leftovers) fileSystems(ctx context.Context) error {
	p := efs.NewDescribeFileSystemsPaginator(l.c.efs, &efs.DescribeFileSystemsInput{})
	if err := eachPage(ctx, "DescribeFileSystems", p, func(page *efs.DescribeFileSystemsOutput) error {
		for _, fs := range page.FileSystems {
			if fs.LifeCycleState == efstypes.LifeCycleStateDeleted {
				continue
			}
			mine := tagged(func(k string) (string, bool) {
				for _, t := range fs.Tags {
					if aws.ToString(t.Key) == k {
						return aws.ToString(t.Value), true
					}
				}
				return "", false
			})
			if !mine && len(l.vpcs) > 0 {
				mts, err := l.c.efs.DescribeMountTargets(ctx, &efs.DescribeMountTargetsInput{FileSystemId: fs.FileSystemId})
				if err != nil {
					return call("DescribeMountTargets", err)
				}
				mine = slices.ContainsFunc(mts.MountTargets, func(mt efstypes.MountTargetDescription) bool {
					return slices.Contains(l.vpcs, aws.ToString(mt.VpcId))
				})
			}
			if mine {
				l.add("file system", aws.ToString(fs.FileSystemId), aws.ToString(fs.Name))
			}
		}
		return nil
	}); err != nil {
		return err
	}
	return nil
}
