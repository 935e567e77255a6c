package constructs

import (
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/iamrole"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/iamrolepolicyattachment"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/vpcendpoint"
	"github.com/hashicorp/terraform-cdk-go/cdktf"

	"github.com/webtier/webtier/rules"
)

// SSMEndpointsProps places the interface endpoints Systems Manager's agent calls.
type SSMEndpointsProps struct {
	// Network holds the web subnets, where the endpoints' ENIs go. default: none (required)
	Network *Network
	// Group is the endpoints' security group ID (one for the three). default: none (required)
	Group *string
	// Region names the services. default: none (required)
	Region string
}

// NewSSMEndpoints builds one interface endpoint per service of rules.SSMServices in the web
// subnets, with private DNS: the agent on every instance resolves the regional names
// (ssm.REGION.amazonaws.com, ...) to them and reaches Systems Manager without NAT. No endpoint
// policy: the three services' calls are the agent's own (the instance's role decides them),
// and Session Manager's start-session is called by the operator outside the VPC.
func NewSSMEndpoints(scope constructs.Construct, id string, p SSMEndpointsProps) []cdktf.ITerraformDependable {
	s := scopeOf(scope, id)
	var out []cdktf.ITerraformDependable
	for _, service := range rules.SSMServices {
		out = append(out, named(vpcendpoint.NewVpcEndpoint(s, str(service), &vpcendpoint.VpcEndpointConfig{
			VpcId:             p.Network.VPC.Id(),
			ServiceName:       str("com.amazonaws." + p.Region + "." + service),
			VpcEndpointType:   str("Interface"),
			PrivateDnsEnabled: true,
			SubnetIds:         p.Network.SubnetIDs(rules.WebTier),
			SecurityGroupIds:  ptrs([]*string{p.Group}),
			Tags:              tags("webtier-"+service, string(rules.SSMEndpoint)),
		}), service))
	}
	return out
}

// manageWithSSM attaches AWS's managed policy AmazonSSMManagedInstanceCore to an instance
// role: its SSM Agent may register with Systems Manager and serve Session Manager, Run Command
// and Patch Manager. addr names the attachment ("web-ssm").
func manageWithSSM(s constructs.Construct, addr, region string, role iamrole.IamRole) iamrolepolicyattachment.IamRolePolicyAttachment {
	return named(iamrolepolicyattachment.NewIamRolePolicyAttachment(s, str("ssm-core"), &iamrolepolicyattachment.IamRolePolicyAttachmentConfig{
		Role:      role.Name(),
		PolicyArn: str(rules.SSMManagedPolicyARN(region)),
	}), addr)
}
