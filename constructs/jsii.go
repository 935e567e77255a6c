// Package constructs holds the reusable cdktf constructs of the web tier: network, firewall,
// bastions, load balancer, web fleet, database and shared file system. Props are plain Go
// structs; jsii values are made only by the helpers in this file.
package constructs

import (
	"strconv"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/hashicorp/terraform-cdk-go/cdktf"

	"github.com/webtier/webtier/rules"
)

func str(s string) *string { return jsii.String(s) }

// optional is nil for "" (the attribute is left out), else the string.
func optional(s string) *string {
	if s == "" {
		return nil
	}
	return str(s)
}

func num(n int) *float64 { return jsii.Number(float64(n)) }

func strs(list ...string) *[]*string { return jsii.Strings(list...) }

// ptrs turns a list of tokens into the list jsii takes.
func ptrs(list []*string) *[]*string { return &list }

// numStr renders a number token (a resource's numeric attribute) as a string token.
func numStr(n *float64) *string { return cdktf.Token_AsString(n, nil) }

// tags are the tags of one resource: its Name and the role the verifier reads.
func tags(name, role string) *map[string]*string {
	return &map[string]*string{"Name": str(name), rules.RoleTag: str(role)}
}

// FlowTag marks every security-group rule with the ID of the flow it serves.
const FlowTag = "webtier:flow"

// named gives a resource a readable Terraform address: aws_subnet.web-a, not a hashed ID.
func named[T interface{ OverrideLogicalId(*string) }](r T, id string) T {
	r.OverrideLogicalId(str(id))
	return r
}

// scopeOf makes the construct that groups one part's resources.
func scopeOf(scope constructs.Construct, id string) constructs.Construct {
	return constructs.NewConstruct(scope, str(id))
}

// deps lists resources another must wait for.
func deps(rs ...cdktf.ITerraformDependable) *[]cdktf.ITerraformDependable { return &rs }

// numf is a number that need not be whole.
func numf(n float64) *float64 { return jsii.Number(n) }

// itoa is n in decimal, for names.
func itoa(n int) string { return strconv.Itoa(n) }
