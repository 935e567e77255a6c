package constructs

import (
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/iamrole"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/iamrolepolicy"
	"github.com/hashicorp/terraform-cdk-go/cdktf"
)

// serviceRole is an IAM role named name that one AWS service may assume (the principal, e.g.
// "ec2.amazonaws.com"); addr names its resource.
func serviceRole(s constructs.Construct, id, addr, name, service string) iamrole.IamRole {
	return named(iamrole.NewIamRole(s, str(id), &iamrole.IamRoleConfig{
		Name: str(name),
		AssumeRolePolicy: cdktf.Fn_Jsonencode(map[string]any{
			"Version": "2012-10-17",
			"Statement": []any{map[string]any{
				"Effect": "Allow", "Action": "sts:AssumeRole",
				"Principal": map[string]any{"Service": service},
			}},
		}),
		Tags: tags(name, "iam-role"),
	}), addr)
}

// allowOnly gives role its one inline policy, named name: actions on resources, nothing else.
// actions and resources are a string or a list, as IAM takes them.
func allowOnly(s constructs.Construct, id, addr, name string, role iamrole.IamRole, actions, resources any) {
	named(iamrolepolicy.NewIamRolePolicy(s, str(id), &iamrolepolicy.IamRolePolicyConfig{
		Name: str(name),
		Role: role.Id(),
		Policy: cdktf.Fn_Jsonencode(map[string]any{
			"Version": "2012-10-17",
			"Statement": []any{map[string]any{
				"Effect": "Allow", "Action": actions, "Resource": resources,
			}},
		}),
	}), addr)
}
