package constructs

import (
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/iaminstanceprofile"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/instance"
	"github.com/hashicorp/terraform-cdk-go/cdktf"

	"github.com/webtier/webtier/rules"
)

// BastionProps places the bastion hosts.
type BastionProps struct {
	// Network holds the public subnets; each gets a bastion. default: none (required)
	Network *Network
	// Group is the bastions' security group ID. default: none (required)
	Group *string
	// AMI is the image ID. default: none (required)
	AMI *string
	// InstanceType default: none (required; config default "t3.micro")
	InstanceType string
	// KeyName is the EC2 key pair of the operators. default: "" (none)
	KeyName string
	// SessionManager gives the bastions a role with AmazonSSMManagedInstanceCore (access
	// both): Systems Manager can reach and patch them. default: false (no instance profile)
	SessionManager bool
	// Region is where the role's managed policy is (its partition). default: none (required
	// with SessionManager)
	Region string
}

// BastionRoleName is the IAM role of the bastions' instance profile (access both).
const BastionRoleName = "webtier-bastion"

// Bastions are the SSH entry points, one per AZ. No private key lives on them: operators
// jump through with their own key (ssh -J).
type Bastions struct {
	Hosts []instance.Instance
}

// NewBastions builds one bastion per public subnet.
func NewBastions(scope constructs.Construct, id string, p BastionProps) *Bastions {
	s := scopeOf(scope, id)
	b := &Bastions{}
	var profileName *string
	if p.SessionManager {
		role := serviceRole(s, "role", "bastion", BastionRoleName, "ec2.amazonaws.com", nil)
		manageWithSSM(s, "bastion-ssm", p.Region, role)
		profileName = named(iaminstanceprofile.NewIamInstanceProfile(s, str("profile"), &iaminstanceprofile.IamInstanceProfileConfig{
			Name: str(BastionRoleName),
			Role: role.Name(),
			Tags: tags(BastionRoleName, "instance-profile"),
		}), "bastion").Name()
	}
	for _, sn := range p.Network.Subnets(rules.Public) {
		name := "bastion-" + sn.Suffix()
		b.Hosts = append(b.Hosts, named(instance.NewInstance(s, str(name), &instance.InstanceConfig{
			Ami:                      p.AMI,
			InstanceType:             str(p.InstanceType),
			SubnetId:                 sn.Res.Id(),
			VpcSecurityGroupIds:      ptrs([]*string{p.Group}),
			AssociatePublicIpAddress: true,
			KeyName:                  optional(p.KeyName),
			IamInstanceProfile:       profileName,
			MetadataOptions: &instance.InstanceMetadataOptions{
				HttpEndpoint:            str("enabled"),
				HttpTokens:              str("required"),
				HttpPutResponseHopLimit: num(1),
			},
			RootBlockDevice: &instance.InstanceRootBlockDevice{
				Encrypted:  true,
				VolumeType: str("gp3"),
				VolumeSize: num(8),
			},
			Tags: tags(name, string(rules.Bastion)),
			// The AMI comes from the "latest" SSM parameter: without this, every Amazon Linux
			// release would replace both bastions (new public IPs, new host keys). Roll them on
			// purpose with terraform apply -replace=aws_instance.bastion-a (see the README).
			Lifecycle: &cdktf.TerraformResourceLifecycle{IgnoreChanges: &[]*string{str("ami")}},
		}), name))
	}
	return b
}
