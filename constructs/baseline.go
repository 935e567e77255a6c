package constructs

import (
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/cloudwatchloggroup"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/defaultsecuritygroup"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/flowlog"
	"github.com/hashicorp/terraform-cdk-go/cdktf"

	"github.com/webtier/webtier/rules"
)

// BaselineProps configures the account-level controls of the VPC.
type BaselineProps struct {
	// Network holds the VPC. default: none (required)
	Network *Network
	// RetentionDays keeps the flow logs this long. default: none (required; config default 90)
	RetentionDays int
	// Region is the stack's region, for the flow logs' ARNs. default: none (required)
	Region string
	// Account is the ID of the account the stack is applied in (NewAccount). default: none (required)
	Account *string
}

// FlowLogGroup is the CloudWatch Logs group of the VPC flow logs.
const FlowLogGroup = "/webtier/vpc-flow-logs"

// NewBaseline builds the security baseline of the VPC: flow logs of every accepted and
// rejected connection into a CloudWatch Logs group, delivered by a role that may write to that
// group only, and the VPC's default security group stripped of its rules (CIS AWS Foundations
// 5.4), so an ENI created without a group gets no traffic at all.
func NewBaseline(scope constructs.Construct, id string, p BaselineProps) {
	s := scopeOf(scope, id)
	group := named(cloudwatchloggroup.NewCloudwatchLogGroup(s, str("flow-logs"), &cloudwatchloggroup.CloudwatchLogGroupConfig{
		Name:            str(FlowLogGroup),
		RetentionInDays: num(p.RetentionDays),
		Tags:            tags("webtier-flow-logs", "flow-logs"),
	}), "flow-logs")
	// The delivery service may assume the role only for this account's flow logs ("The
	// confused deputy problem" in the IAM user guide; the VPC flow logs guide's trust policy).
	account := p.Account
	role := serviceRole(s, "flow-logs-role", "flow-logs", "webtier-flow-logs", "vpc-flow-logs.amazonaws.com", map[string]any{
		"StringEquals": map[string]any{"aws:SourceAccount": account},
		"ArnLike":      map[string]any{"aws:SourceArn": "arn:" + rules.Partition(p.Region) + ":ec2:" + p.Region + ":" + *account + ":vpc-flow-log/*"},
	})
	// The delivery role writes to the flow-log group and nothing else.
	write := allowOnly(s, "flow-logs-write", "flow-logs-write", "write-flow-logs", "WriteFlowLogGroup", role,
		[]string{"logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"},
		[]any{group.Arn(), *group.Arn() + ":*"})
	named(flowlog.NewFlowLog(s, str("flow-log"), &flowlog.FlowLogConfig{
		// After the role's permissions: a flow log created before them fails to deliver
		// ("Access error" until it is recreated), the race of terraform-provider-aws issue 29323.
		DependsOn:          &[]cdktf.ITerraformDependable{write},
		VpcId:              p.Network.VPC.Id(),
		TrafficType:        str("ALL"),
		LogDestinationType: str("cloud-watch-logs"),
		LogDestination:     group.Arn(),
		IamRoleArn:         role.Arn(),
		// 1-minute windows: a rejected connection shows up while someone is looking for it.
		MaxAggregationInterval: num(60),
		Tags:                   tags("webtier-flow-log", "flow-log"),
	}), "vpc")
	// No ingress or egress blocks: Terraform removes every rule of the default group.
	named(defaultsecuritygroup.NewDefaultSecurityGroup(s, str("default-sg"), &defaultsecuritygroup.DefaultSecurityGroupConfig{
		VpcId: p.Network.VPC.Id(),
		Tags:  tags("webtier-default-sg-no-rules", "default-sg"),
	}), "default")
}
