package review

import (
	"strings"
	"testing"

	tfjson "github.com/hashicorp/terraform-json"

	"github.com/webtier/webtier/rules"
	"github.com/webtier/webtier/verify"
)

// TestGatewayEndpointIsShown: turning s3_gateway_endpoint on adds the endpoint; the review
// shows it with its service, the route tables that send S3's prefix list to it (known only
// after apply, so named from the config's references) and what its policy allows, and the
// web-sg rule that names its prefix list. The plan is the shape `terraform show -json` gives.
func TestGatewayEndpointIsShown(t *testing.T) {
	policy := rules.RepoEndpointPolicy("ap-northeast-2")
	plan := &tfjson.Plan{
		ResourceChanges: []*tfjson.ResourceChange{
			{Address: "aws_vpc_endpoint.s3", Type: "aws_vpc_endpoint", Name: "s3", Mode: tfjson.ManagedResourceMode,
				Change: &tfjson.Change{Actions: tfjson.Actions{tfjson.ActionCreate},
					After: map[string]any{"vpc_endpoint_type": "Gateway", "service_name": "com.amazonaws.ap-northeast-2.s3",
						"policy": policy, "route_table_ids": nil},
					AfterUnknown: map[string]any{"route_table_ids": true, "prefix_list_id": true}}},
			{Address: "aws_vpc_security_group_egress_rule.web-sg-egress-web-to-repos-https-endpoint-s3-prefix-list",
				Type: "aws_vpc_security_group_egress_rule", Name: "web-sg-egress-web-to-repos-https-endpoint-s3-prefix-list", Mode: tfjson.ManagedResourceMode,
				Change: &tfjson.Change{Actions: tfjson.Actions{tfjson.ActionCreate},
					After: map[string]any{"ip_protocol": "tcp", "from_port": 443.0, "to_port": 443.0,
						"description": "package installs from the regional repositories through the S3 gateway endpoint",
						"tags":        map[string]any{"webtier:flow": "web-to-repos-https-endpoint"}},
					AfterUnknown: map[string]any{"prefix_list_id": true, "security_group_id": true}}},
		},
		Config: &tfjson.Config{RootModule: &tfjson.ConfigModule{Resources: []*tfjson.ConfigResource{
			{Address: "aws_vpc_endpoint.s3", Expressions: map[string]*tfjson.Expression{
				"route_table_ids": {ExpressionData: &tfjson.ExpressionData{References: []string{
					"aws_route_table.web-a.id", "aws_route_table.web-a", "aws_route_table.web-c.id", "aws_route_table.web-c"}}}}},
			{Address: "aws_vpc_security_group_egress_rule.web-sg-egress-web-to-repos-https-endpoint-s3-prefix-list", Expressions: map[string]*tfjson.Expression{
				"prefix_list_id":    {ExpressionData: &tfjson.ExpressionData{References: []string{"aws_vpc_endpoint.s3.prefix_list_id", "aws_vpc_endpoint.s3"}}},
				"security_group_id": {ExpressionData: &tfjson.ExpressionData{References: []string{"aws_security_group.web-sg.id", "aws_security_group.web-sg"}}}}},
		}}},
	}
	md := Markdown(Input{Plan: plan, Verify: &verify.Report{}})
	for _, want := range []string{
		"<b>VPC endpoints and their policies (1)</b>",
		"| + add | aws_vpc_endpoint.s3 | Gateway | com.amazonaws.ap-northeast-2.s3 | web-a, web-c | s3:GetObject on arn:aws:s3:::al2023-repos-ap-northeast-2-de612dc2/* |",
		"| + add | web-sg | egress | tcp | 443 | s3 prefix list | web-to-repos-https-endpoint |",
		"<b>Other resources (0)</b>",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("the review lacks %q; got:\n%s", want, md)
		}
	}
}

func TestPolicyAllows(t *testing.T) {
	for _, c := range []struct{ doc, want string }{
		{"", "AWS's default: every action on every resource"},
		{`{"Statement":[{"Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],"Resource":"*"},{"Effect":"Deny","Action":"s3:*","Resource":"*"}]}`, "s3:GetObject, s3:PutObject on *"},
		{`{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}`, "s3:* on *"},
	} {
		if got := policyAllows(c.doc); got != c.want {
			t.Errorf("policyAllows(%q): got %q, want %q", c.doc, got, c.want)
		}
	}
	if got, want := policyAllows("not json"), "unreadable: the policy is not a JSON policy document"; !strings.HasPrefix(got, want) {
		t.Errorf("policyAllows(not json): got %q, want it to start with %q", got, want)
	}
}

// TestQuotaExceededIsShown: a planned network over an AWS quota fails the review, which says
// what is over and how to raise it.
func TestQuotaExceededIsShown(t *testing.T) {
	over := rules.QuotaOf(rules.QuotaNACLRules).Exceeded("web-nacl", rules.NACLCount(20, rules.Ingress), 20)
	r := &verify.Report{Quotas: []verify.QuotaResult{{Key: rules.QuotaNACLRules, Name: "Inbound or outbound rules per network ACL",
		Code: "L-2AEEBF1A", Limit: 20, Count: 21, Busiest: "web-nacl: " + rules.NACLCount(20, rules.Ingress), Over: []string{over}}}}
	md := Markdown(Input{Plan: &tfjson.Plan{}, Verify: r})
	for _, want := range []string{"**FAILS**", "| quota | Inbound or outbound rules per network ACL (L-2AEEBF1A) | at most 20 | " + over + " |"} {
		if !strings.Contains(md, want) {
			t.Errorf("the review lacks %q; got:\n%s", want, md)
		}
	}
}
