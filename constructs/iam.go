package constructs

import (
	"encoding/json"
	"strings"

	"github.com/webtier/webtier/rules"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/dataawscalleridentity"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/iamrole"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/iamrolepolicy"
)

// policyText is an IAM policy document as the JSON text IAM takes, with Terraform references
// (resource ARNs) inside its strings: the synthesized stack carries policies a reader can parse
// as JSON, not as a Terraform expression. Maps marshal with sorted keys: the text is stable.
func policyText(statements ...map[string]any) *string {
	data, err := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": statements})
	if err != nil {
		panic(err) // maps of strings and lists of strings always marshal
	}
	return str(string(data))
}

// serviceRole is an IAM role named name that one AWS service may assume (the principal, e.g.
// "ec2.amazonaws.com"), under condition when not nil (the confused-deputy keys
// aws:SourceAccount and aws:SourceArn, for a service that sets them); addr names its resource.
func serviceRole(s constructs.Construct, id, addr, name, service string, condition map[string]any) iamrole.IamRole {
	trust := map[string]any{
		"Sid": "AssumedBy" + serviceName(service), "Effect": "Allow", "Action": "sts:AssumeRole",
		"Principal": map[string]any{"Service": service},
	}
	if condition != nil {
		trust["Condition"] = condition
	}
	return named(iamrole.NewIamRole(s, str(id), &iamrole.IamRoleConfig{
		Name:             str(name),
		AssumeRolePolicy: policyText(trust),
		Tags:             tags(name, "iam-role"),
	}), addr)
}

// serviceName is the first label of a service principal in CamelCase, for a Sid:
// "vpc-flow-logs.amazonaws.com" -> "VpcFlowLogs".
func serviceName(service string) string {
	label, _, _ := strings.Cut(service, ".")
	var b strings.Builder
	for _, word := range strings.Split(label, "-") {
		if word != "" {
			b.WriteString(strings.ToUpper(word[:1]) + word[1:])
		}
	}
	return b.String()
}

// allowOnly gives role an inline policy named name: actions on resources, nothing else, as
// one statement with that Sid. actions and resources are a string or a list, as IAM takes them.
func allowOnly(s constructs.Construct, id, addr, name, sid string, role iamrole.IamRole, actions, resources any) iamrolepolicy.IamRolePolicy {
	return named(iamrolepolicy.NewIamRolePolicy(s, str(id), &iamrolepolicy.IamRolePolicyConfig{
		Name:   str(name),
		Role:   role.Id(),
		Policy: policyText(map[string]any{"Sid": sid, "Effect": "Allow", "Action": actions, "Resource": resources}),
	}), addr)
}

// WebRoleName is the IAM role of the web servers' instance profile.
const WebRoleName = "webtier-web"

// NewAccount reads the ID of the account the stack is applied in, for the ARNs and the
// confused-deputy conditions of its policies.
func NewAccount(scope constructs.Construct) *string {
	return named(dataawscalleridentity.NewDataAwsCallerIdentity(scope, str("account"), nil), "current").AccountId()
}

// roleARN is the ARN of the role named name in account.
func roleARN(region string, account *string, name string) string {
	return "arn:" + rules.Partition(region) + ":iam::" + *account + ":role/" + name
}
