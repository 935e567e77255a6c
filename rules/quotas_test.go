package rules

import (
	"regexp"
	"strings"
	"testing"
)

// TestQuotasAreWellFormed: every quota says what AWS calls it, where to raise it and where the
// numbers come from, and a user can name it in the config once.
func TestQuotasAreWellFormed(t *testing.T) {
	code := regexp.MustCompile(`^L-[0-9A-F]{8}$`)
	keys := map[string]bool{}
	for _, q := range Quotas {
		switch {
		case keys[q.Key]:
			t.Errorf("%s: the key repeats an earlier quota", q.Key)
		case !code.MatchString(q.Code):
			t.Errorf("%s: code %q is not a Service Quotas code (L- and 8 hex digits)", q.Key, q.Code)
		case q.Name == "" || q.Per == "" || q.Counts == "" || q.Instead == "":
			t.Errorf("%s: name, per, counts and instead must all be said; got %+v", q.Key, q)
		case !strings.HasPrefix(q.Page, "https://docs.aws.amazon.com/"):
			t.Errorf("%s: page %q is not AWS documentation", q.Key, q.Page)
		case q.Default < 1 || q.Max != 0 && q.Max < q.Default:
			t.Errorf("%s: default %d, max %d: expected a default of at least 1 and a max of 0 (none said) or at least the default", q.Key, q.Default, q.Max)
		}
		keys[q.Key] = true
	}
}

// TestQuotaMessages: each quota, exceeded at AWS's default, names the subject, the count, the
// quota's code and name, where to raise it and the config key that says it was raised; at
// AWS's maximum it says that raising is over and what to do instead.
func TestQuotaMessages(t *testing.T) {
	cases := []struct {
		key, subject, counted string
		limit                 int
		want                  string
	}{
		{QuotaNACLRules, "web-nacl", NACLCount(20, Ingress), 20,
			"web-nacl: 20 ingress entries + the default deny = 21 > 20 (L-2AEEBF1A, Inbound or outbound rules per network ACL); " +
				"raise it in Service Quotas (https://console.aws.amazon.com/servicequotas/home/services/vpc/quotas/L-2AEEBF1A) and set quotas.nacl_rules_per_direction (AWS allows up to 40), " +
				"or hold fewer entries (fewer admin_cidrs or repo_cidrs: `webtier repo-ranges --max-cidrs N` joins S3 ranges)"},
		{QuotaNACLRules, "web-nacl", NACLCount(40, Egress), 40,
			"web-nacl: 40 egress entries + the default deny = 41 > 40 (L-2AEEBF1A, Inbound or outbound rules per network ACL); " +
				"AWS allows no more than 40: hold fewer entries (fewer admin_cidrs or repo_cidrs: `webtier repo-ranges --max-cidrs N` joins S3 ranges)"},
		{QuotaSGRules, "web-sg", "61 egress rules", 60,
			"web-sg: 61 egress rules > 60 (L-0EA8095F, Inbound or outbound rules per security group); " +
				"raise it in Service Quotas (https://console.aws.amazon.com/servicequotas/home/services/vpc/quotas/L-0EA8095F) and set quotas.sg_rules_per_direction, " +
				"or hold fewer rules (fewer admin_cidrs or repo_cidrs)"},
		{QuotaSGsPerENI, "bastion-a", "6 security groups", 5,
			"bastion-a: 6 security groups > 5 (L-2AFB9258, Security groups per network interface); " +
				"raise it in Service Quotas (https://console.aws.amazon.com/servicequotas/home/services/vpc/quotas/L-2AFB9258) and set quotas.sgs_per_eni (AWS allows up to 16), " +
				"or attach fewer security groups to it"},
		{QuotaRoutes, "web-a", "51 routes", 50,
			"web-a: 51 routes > 50 (L-93826ACB, Routes per route table); " +
				"raise it in Service Quotas (https://console.aws.amazon.com/servicequotas/home/services/vpc/quotas/L-93826ACB) and set quotas.routes_per_table (AWS allows up to 1000), " +
				"or hold fewer routes"},
		{QuotaEIPs, "the stack", "6 Elastic IP addresses", 5,
			"the stack: 6 Elastic IP addresses > 5 (L-0263D0A3, Elastic IP addresses per Region); " +
				"raise it in Service Quotas (https://console.aws.amazon.com/servicequotas/home/services/ec2/quotas/L-0263D0A3) and set quotas.eips_per_region, " +
				"or release Elastic IP addresses the account no longer uses, or set nat to single (one NAT gateway, one address)"},
		{QuotaNATsPerAZ, "ap-northeast-2a", "6 NAT gateways", 5,
			"ap-northeast-2a: 6 NAT gateways > 5 (L-FE5A380F, NAT gateways per Availability Zone); " +
				"raise it in Service Quotas (https://console.aws.amazon.com/servicequotas/home/services/vpc/quotas/L-FE5A380F) and set quotas.nat_gateways_per_az, " +
				"or delete the NAT gateways of the AZ the account no longer uses"},
		{QuotaVPCs, "the stack", "6 VPCs", 5,
			"the stack: 6 VPCs > 5 (L-F678F1CE, VPCs per Region); " +
				"raise it in Service Quotas (https://console.aws.amazon.com/servicequotas/home/services/vpc/quotas/L-F678F1CE) and set quotas.vpcs_per_region, " +
				"or delete the VPCs of the region the account no longer uses"},
	}
	tested := map[string]bool{}
	for _, c := range cases {
		tested[c.key] = true
		if got := QuotaOf(c.key).Exceeded(c.subject, c.counted, c.limit); got != c.want {
			t.Errorf("%s at %d:\ngot  %s\nwant %s", c.key, c.limit, got, c.want)
		}
	}
	for _, q := range Quotas {
		if !tested[q.Key] {
			t.Errorf("%s: no case pins its message", q.Key)
		}
	}
}

// TestLimits: a quota the account has not raised is AWS's default; the network ACL budget
// leaves room for the default deny.
func TestLimits(t *testing.T) {
	var none Limits
	if got := none.Of(QuotaSGRules); got != 60 {
		t.Errorf("rules per security group, nothing raised: got %d, want AWS's default 60", got)
	}
	if got := none.NACLEntries(); got != 19 {
		t.Errorf("network ACL entries of ours, nothing raised: got %d, want 19 (20 less the default deny)", got)
	}
	raised := Limits{QuotaNACLRules: 40}
	if got := raised.NACLEntries(); got != 39 {
		t.Errorf("network ACL entries of ours at a quota of 40: got %d, want 39", got)
	}
	if got := raised.Of(QuotaRoutes); got != 50 {
		t.Errorf("routes per table when only the ACL quota is raised: got %d, want AWS's default 50", got)
	}
}

func TestManagedListWeight(t *testing.T) {
	for list, want := range map[string]int{"com.amazonaws.ap-northeast-2.s3": 1, "com.amazonaws.us-east-1.dynamodb": 1, "pl-0123": 0} {
		if got, ok := ManagedListWeight(list); got != want || ok != (want > 0) {
			t.Errorf("ManagedListWeight(%s): got %d, %t; want %d, %t", list, got, ok, want, want > 0)
		}
	}
}
