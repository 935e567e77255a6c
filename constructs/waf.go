package constructs

import (
	"encoding/json"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/lb"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/wafv2webacl"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/wafv2webaclassociation"
)

// WAFRuleGroups are the AWS managed rule groups of the web ACL, in priority order: the
// common rule set (OWASP Top 10 style requests) and known bad inputs (request patterns of
// known exploits, Log4j's among them).
var WAFRuleGroups = []string{"AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet"}

// NewWebACL builds a regional AWS WAF web ACL with the managed rule groups of WAFRuleGroups
// (each blocking what it matches, every other request allowed) and associates it with the ALB.
func NewWebACL(scope constructs.Construct, id string, alb lb.Lb) wafv2webacl.Wafv2WebAcl {
	s := scopeOf(scope, id)
	var rulesJSON []map[string]any
	for i, group := range WAFRuleGroups {
		rulesJSON = append(rulesJSON, map[string]any{
			"Name": group, "Priority": i,
			"Statement":      map[string]any{"ManagedRuleGroupStatement": map[string]any{"VendorName": "AWS", "Name": group}},
			"OverrideAction": map[string]any{"None": map[string]any{}},
			"VisibilityConfig": map[string]any{
				"CloudWatchMetricsEnabled": true, "MetricName": "webtier-" + group, "SampledRequestsEnabled": true,
			},
		})
	}
	text, err := json.Marshal(rulesJSON)
	if err != nil {
		panic(err)
	}
	acl := named(wafv2webacl.NewWafv2WebAcl(s, str("acl"), &wafv2webacl.Wafv2WebAclConfig{
		Name:          str("webtier-alb"),
		Description:   str("webtier: AWS managed common and known-bad-inputs rules in front of the ALB"),
		Scope:         str("REGIONAL"),
		DefaultAction: &wafv2webacl.Wafv2WebAclDefaultAction{Allow: &wafv2webacl.Wafv2WebAclDefaultActionAllow{}},
		RuleJson:      str(string(text)),
		VisibilityConfig: &wafv2webacl.Wafv2WebAclVisibilityConfig{
			CloudwatchMetricsEnabled: true, MetricName: str("webtier-alb"), SampledRequestsEnabled: true,
		},
		Tags: tags("webtier-alb", "web-acl"),
	}), "alb")
	named(wafv2webaclassociation.NewWafv2WebAclAssociation(s, str("association"), &wafv2webaclassociation.Wafv2WebAclAssociationConfigA{
		ResourceArn: alb.Arn(), WebAclArn: acl.Arn(),
	}), "alb")
	return acl
}
