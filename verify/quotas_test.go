package verify

import (
	"fmt"
	"strings"
	"testing"

	"github.com/webtier/webtier/config"
	"github.com/webtier/webtier/rules"
)

// quotaOf returns the result of one quota in a report.
func quotaOf(t *testing.T, r *Report, key string) QuotaResult {
	t.Helper()
	for _, q := range r.Quotas {
		if q.Key == key {
			return q
		}
	}
	t.Fatalf("the report counts no quota %s; it has %+v", key, r.Quotas)
	return QuotaResult{}
}

// verifyMutated verifies the example stack after mutate, against the example's intent with
// quotas raised as raise says (nil: AWS's defaults).
func verifyMutated(t *testing.T, mutate func(m tf), raise func(q *config.Quotas)) *Report {
	t.Helper()
	n := loadMutated(t, mutate)
	cfg, err := config.Load(configFile)
	if err != nil {
		t.Fatal(err)
	}
	if raise != nil {
		raise(&cfg.Quotas)
		if err := cfg.Validate(); err != nil {
			t.Fatalf("the raised quotas are not a valid config: %v", err)
		}
	}
	in, err := IntentOf(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return Verify(n, in)
}

// extraDeny gives web-nacl a 20th inbound entry of its own: a deny after every allow, which
// changes no connection, only the count.
func extraDeny(m tf) {
	m.of(acl)["web-nacl-ingress-30000"] = map[string]any{"network_acl_id": ref("aws_network_acl.web-nacl", "id"), "rule_number": 30000,
		"egress": false, "protocol": "tcp", "rule_action": "deny", "cidr_block": "0.0.0.0/0", "from_port": 23, "to_port": 23}
}

// TestExampleWithinQuotas: the example stack is within every AWS quota at AWS's defaults, and
// the verifier counts each network ACL direction as the stack's JSON holds it, plus the
// default deny: the web ACL is the busiest, at the quota exactly.
func TestExampleWithinQuotas(t *testing.T) {
	data, in := defaultStack(t)
	r := verifyBytes(t, data, in)
	for _, q := range r.Quotas {
		if !q.OK || q.Count > q.Limit {
			t.Errorf("%s (%s): %s of %d; want the example within it:\n%s", q.Name, q.Code, q.Busiest, q.Limit, strings.Join(q.Over, "\n"))
		}
	}
	if len(r.Quotas) != len(rules.Quotas) {
		t.Errorf("got %d quotas counted, want every one of rules.Quotas (%d)", len(r.Quotas), len(rules.Quotas))
	}
	// The entries per ACL and direction, counted on the JSON itself.
	perACL := map[string]int{}
	for _, e := range decode(t, data).of(acl) {
		attrs := e.(map[string]any)
		dir := "ingress"
		if attrs["egress"] == true {
			dir = "egress"
		}
		perACL[strings.TrimSuffix(strings.TrimPrefix(fmt.Sprint(attrs["network_acl_id"]), "${aws_network_acl."), ".id}")+" "+dir]++
	}
	n, err := Load(data)
	if err != nil {
		t.Fatal(err)
	}
	most := 0
	for _, u := range n.usage(rules.QuotaNACLRules) {
		dir := "ingress"
		if strings.Contains(u.held, "egress") {
			dir = "egress"
		}
		if want := perACL[u.subject+" "+dir] + 1; u.n != want {
			t.Errorf("%s %s: counted %d (%s), want the JSON's %d entries + the default deny = %d", u.subject, dir, u.n, u.held, want-1, want)
		}
		most = max(most, u.n)
	}
	nacl := quotaOf(t, r, rules.QuotaNACLRules)
	if most != 20 || nacl.Count != 20 || !strings.HasPrefix(nacl.Busiest, "web-nacl: 19 ") {
		t.Errorf("busiest network ACL direction: got %q (%d), want web-nacl with 19 entries + the default deny = 20, AWS's default quota", nacl.Busiest, nacl.Count)
	}
}

// TestQuotaFindings breaks the example one quota at a time: verify fails, naming the
// resource, what it holds as AWS counts it, the quota and its code, and how to raise it.
func TestQuotaFindings(t *testing.T) {
	// add adds n resources of typ made by make(i).
	add := func(m tf, typ string, n int, make func(i int) map[string]any) {
		for i := range n {
			m.of(typ)[fmt.Sprintf("quota-%s-%d", typ, i)] = make(i)
		}
	}
	groups := []any{}
	for _, g := range []string{"web-sg", "alb-sg", "bastion-sg", "db-sg", "efs-sg", "secrets-endpoint-sg"} {
		groups = append(groups, ref("aws_security_group."+g, "id"))
	}
	cases := []struct {
		name, key string
		mutate    func(m tf)
		over      string
	}{
		{"a 20th entry in web-nacl's ingress", rules.QuotaNACLRules, extraDeny, "web-nacl: 20 ingress entries + the default deny = 21 > 20 (L-2AEEBF1A, Inbound or outbound rules per network ACL); " +
			"raise it in Service Quotas (https://console.aws.amazon.com/servicequotas/home/services/vpc/quotas/L-2AEEBF1A) and set quotas.nacl_rules_per_direction (AWS allows up to 40), " +
			"or hold fewer entries (fewer admin_cidrs or repo_cidrs: `webtier repo-ranges --max-cidrs N` joins S3 ranges)"},
		{"49 more egress rules on web-sg, to the metadata service (no connection changes, the count does)", rules.QuotaSGRules, func(m tf) {
			add(m, sgOut, 49, func(i int) map[string]any { return rule("web-sg", "tcp", 1000+i, "169.254.169.254/32") })
		}, "web-sg: 61 egress rules > 60 (L-0EA8095F, Inbound or outbound rules per security group); raise it in Service Quotas"},
		{"a prefix list of 49 entries at most on web-sg: it counts as 49 rules", rules.QuotaSGRules, func(m tf) {
			m.of("aws_ec2_managed_prefix_list")["partners"] = map[string]any{"name": "partners", "address_family": "IPv4", "max_entries": 49,
				"entry": []any{map[string]any{"cidr": "169.254.169.254/32"}}}
			m.of(sgOut)["web-sg-partners"] = map[string]any{"security_group_id": ref("aws_security_group.web-sg", "id"), "ip_protocol": "tcp",
				"from_port": 443, "to_port": 443, "prefix_list_id": ref("aws_ec2_managed_prefix_list.partners", "id")}
		}, "web-sg: 61 egress rules > 60 (L-0EA8095F"},
		{"six groups on the web servers' launch template", rules.QuotaSGsPerENI, func(m tf) {
			m.get(t, "aws_launch_template", "web")["vpc_security_group_ids"] = groups
		}, "web (Auto Scaling instance): 6 security groups > 5 (L-2AFB9258, Security groups per network interface); raise it in Service Quotas"},
		{"49 more routes in web-a's table", rules.QuotaRoutes, func(m tf) {
			add(m, "aws_route", 49, func(i int) map[string]any {
				return map[string]any{"route_table_id": ref("aws_route_table.web-a", "id"), "destination_cidr_block": fmt.Sprintf("198.51.100.%d/32", i),
					"nat_gateway_id": ref("aws_nat_gateway.nat-public-a", "id")}
			})
		}, "web-a: 51 routes, the local one included > 50 (L-93826ACB, Routes per route table); raise it in Service Quotas"},
		{"four more Elastic IPs", rules.QuotaEIPs, func(m tf) {
			add(m, "aws_eip", 4, func(int) map[string]any { return map[string]any{"domain": "vpc"} })
		}, "the stack: 6 Elastic IP addresses > 5 (L-0263D0A3, Elastic IP addresses per Region); raise it in Service Quotas"},
		{"five more NAT gateways in public-a", rules.QuotaNATsPerAZ, func(m tf) {
			add(m, "aws_nat_gateway", 5, func(int) map[string]any {
				return map[string]any{"subnet_id": ref("aws_subnet.public-a", "id"), "connectivity_type": "private"}
			})
		}, "ap-northeast-2a: 6 NAT gateways of the stack > 5 (L-FE5A380F, NAT gateways per Availability Zone); raise it in Service Quotas"},
		{"five more VPCs", rules.QuotaVPCs, func(m tf) {
			add(m, "aws_vpc", 5, func(i int) map[string]any { return map[string]any{"cidr_block": fmt.Sprintf("10.%d.0.0/16", 100+i)} })
		}, "the stack: 6 VPCs > 5 (L-F678F1CE, VPCs per Region); raise it in Service Quotas"},
	}
	tested := map[string]bool{}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tested[c.key] = true
			r := verifyMutated(t, c.mutate, nil)
			q := quotaOf(t, r, c.key)
			if q.OK || len(q.Over) != 1 || !strings.HasPrefix(q.Over[0], c.over) {
				t.Errorf("%s: got ok %t, over %q; want one resource over it, said as %q", c.key, q.OK, q.Over, c.over)
			}
			if r.OK() {
				t.Error("the report is OK with a quota exceeded; want it failed")
			}
			var b strings.Builder
			if err := r.WriteTable(&b, "mutated"); err != nil {
				t.Fatal(err)
			}
			if out := b.String(); !strings.Contains(out, "  OVER "+c.over[:40]) || !strings.Contains(out, "1 AWS quota exceeded") {
				t.Errorf("the table does not show the quota exceeded (OVER %s..., 1 AWS quota exceeded):\n%s", c.over[:40], out)
			}
		})
	}
	for _, q := range rules.Quotas {
		if !tested[q.Key] {
			t.Errorf("%s: no case exceeds it", q.Key)
		}
	}
}

// TestRaisedQuotaPasses: the web ACL with a 20th entry of its own passes once the config says
// the account has 21, and the quota's row says what is counted against what.
func TestRaisedQuotaPasses(t *testing.T) {
	r := verifyMutated(t, extraDeny, func(q *config.Quotas) { q.NACLRulesPerDirection = 21 })
	if !r.OK() {
		t.Fatalf("quotas.nacl_rules_per_direction 21: want the stack to verify, got:\n%s", failures(r))
	}
	q := quotaOf(t, r, rules.QuotaNACLRules)
	if q.Limit != 21 || q.Count != 21 || q.Busiest != "web-nacl: 20 ingress entries + the default deny = 21" {
		t.Errorf("network ACL quota: got %q = %d of %d, want web-nacl's 20 ingress entries + the default deny = 21 of 21", q.Busiest, q.Count, q.Limit)
	}
}

// BenchmarkQuotas counts the web tier against every quota (part of BenchmarkVerifyWebTier).
func BenchmarkQuotas(b *testing.B) {
	data, in := defaultStack(b)
	n, err := Load(data)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		n.Quotas(in.Quotas)
	}
}
