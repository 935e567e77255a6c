package verify

import (
	"strings"
	"testing"

	"github.com/webtier/webtier/config"
)

// ssmStack is the synthesized stack of `access: ssm` (a snapshot of `webtier synth --config
// webtier.example.json --access ssm` without admin_cidrs) and its intent; bothStack is
// `access: both` (with the web ACL's quota at 22: the bastions' two entries more).
func ssmStack(t testing.TB) ([]byte, Intent) {
	t.Helper()
	return variantStack(t, "testdata/access-ssm.tf.json", func(c *config.Config) { c.Access, c.AdminCIDRs = config.AccessSSM, nil })
}

func bothStack(t testing.TB) ([]byte, Intent) {
	t.Helper()
	return variantStack(t, "testdata/access-both.tf.json", func(c *config.Config) {
		c.Access, c.Quotas.NACLRulesPerDirection = config.AccessBoth, 22
	})
}

// failsReq1 requires the report to fail requirement 1 the way want says: the failing probe,
// shape or authorization is one of requirement 1.
func failsReq1(t *testing.T, r *Report, want expect) {
	t.Helper()
	one := &Report{}
	for _, p := range r.Probes {
		if p.Req == 1 {
			one.Probes = append(one.Probes, p)
		}
	}
	for _, s := range r.Shapes {
		if s.Req == 1 {
			one.Shapes = append(one.Shapes, s)
		}
	}
	for _, a := range r.Authorizations {
		if a.Req == 1 {
			one.Authorizations = append(one.Authorizations, a)
		}
	}
	if one.OK() || !want.met(one) {
		t.Errorf("expected requirement 1 to fail with %s, got:\n%s", want, failures(r))
	}
}

// TestAccessModesVerifyClean: both modes' stacks verify, with requirement 1 as the mode says:
// in ssm one folded probe of every endpoint to every instance on tcp/22 (blocked), the agent's
// way to each endpoint and its calls; in both, the seed's SSH probes besides.
func TestAccessModesVerifyClean(t *testing.T) {
	for _, c := range []struct {
		name  string
		stack func(testing.TB) ([]byte, Intent)
		want  []string
		not   []string
	}{
		{"ssm", ssmStack,
			[]string{"no inbound SSH path: every endpoint", "web@web-a -> ssm-endpoint@web-c:ec2messages tcp/443"},
			[]string{"admin 203.0.113.10 -> bastion@public-a tcp/22", "bastion@public-a -> ssm-endpoint"}},
		{"both", bothStack,
			[]string{"admin 203.0.113.10 -> bastion@public-a tcp/22", "bastion@public-c -> web@web-a tcp/22",
				"web@web-c -> ssm-endpoint@web-a:ssm tcp/443", "bastion@public-a -> ssm-endpoint@web-c:ssmmessages tcp/443"},
			[]string{"no inbound SSH path"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			data, in := c.stack(t)
			r := verifyBytes(t, data, in)
			if !r.OK() {
				t.Fatalf("expected the %s stack to verify clean, got:\n%s", c.name, failures(r))
			}
			var names []string
			for _, p := range r.Probes {
				if p.Req == 1 {
					names = append(names, p.Probe+" => "+p.Verdict)
				}
			}
			all := strings.Join(names, "\n")
			for _, w := range c.want {
				if !strings.Contains(all, w) {
					t.Errorf("requirement 1: expected a probe %q, got:\n%s", w, all)
				}
			}
			for _, w := range c.not {
				if strings.Contains(all, w) {
					t.Errorf("requirement 1: expected no probe %q, got:\n%s", w, all)
				}
			}
			if c.name == "ssm" && !strings.Contains(all, "blocked: 54 connections judged") {
				t.Errorf("requirement 1: expected the no-SSH probe to judge 27 endpoints x 2 web endpoints, blocked; got:\n%s", all)
			}
			for _, a := range r.Authorizations {
				if a.Req == 1 && strings.Contains(a.Check, "SSM Agent") && (a.Outcome != "allowed" || !strings.Contains(strings.Join(a.By, " "), "AmazonSSMManagedInstanceCore")) {
					t.Errorf("%s %s: expected allowed by AmazonSSMManagedInstanceCore, got %s by %v", a.Check, a.Action, a.Outcome, a.By)
				}
			}
		})
	}
}

// TestAccessSSMMutations breaks `access: ssm` one way at a time: each must fail requirement 1.
func TestAccessSSMMutations(t *testing.T) {
	data, in := ssmStack(t)
	var decided []Authorization
	for _, mu := range []struct {
		name   string
		mutate func(t *testing.T, m tf)
		want   expect
	}{
		{"SSH between the web servers (web-sg to itself on 22)",
			func(t *testing.T, m tf) {
				m.of(sgIn)["web-ssh-lateral"] = rule("web-sg", "tcp", 22, "sg:web-sg")
				m.of(sgOut)["web-ssh-lateral"] = rule("web-sg", "tcp", 22, "sg:web-sg")
			},
			expect{kind: "probe", match: "web@web-a -> web@web-a tcp/22", verdict: "allowed"}},
		{"SSH from anywhere on web-sg (no path: the web servers have no public address)",
			func(t *testing.T, m tf) { m.of(sgIn)["web-ssh-anywhere"] = rule("web-sg", "tcp", 22, "0.0.0.0/0") },
			expect{kind: "shape", match: "no security-group rule or network ACL entry allows port 22", names: sgIn + ".web-ssh-anywhere"}},
		{"every protocol from the VPC on the endpoints' group",
			func(t *testing.T, m tf) { m.of(sgIn)["ssm-all"] = rule("ssm-endpoint-sg", "-1", 0, "10.16.0.0/16") },
			expect{kind: "shape", match: "no security-group rule or network ACL entry allows port 22", names: sgIn + ".ssm-all"}},
		{"web-nacl lets tcp/22 in from the internet",
			func(t *testing.T, m tf) {
				m.of(acl)["web-ssh-in"] = map[string]any{"network_acl_id": ref("aws_network_acl.web-nacl", "id"), "rule_number": 150,
					"egress": false, "protocol": "tcp", "rule_action": "allow", "cidr_block": "0.0.0.0/0", "from_port": 22, "to_port": 22}
			},
			expect{kind: "shape", match: "no security-group rule or network ACL entry allows port 22", names: "aws_network_acl.web-nacl #150"}},
		{"the ssmmessages endpoint removed",
			func(t *testing.T, m tf) { delete(m.of("aws_vpc_endpoint"), "ssmmessages") },
			expect{kind: "shape", match: "Systems Manager's ssm, ssmmessages and ec2messages", names: "no interface endpoint of com.amazonaws.ap-northeast-2.ssmmessages"}},
		{"the ssmmessages endpoint removed: Session Manager's channels are not judged",
			func(t *testing.T, m tf) { delete(m.of("aws_vpc_endpoint"), "ssmmessages") },
			expect{kind: "authorization", match: "SSM Agent calls Systems Manager (ssmmessages", names: "no interface endpoint of ssmmessages"}},
		{"private DNS off on the ssm endpoint",
			func(t *testing.T, m tf) { m.get(t, "aws_vpc_endpoint", "ssm")["private_dns_enabled"] = false },
			expect{kind: "shape", match: "Systems Manager's", names: "aws_vpc_endpoint.ssm: private_dns_enabled is not true"}},
		{"the ec2messages endpoint in web-a only",
			func(t *testing.T, m tf) {
				m.get(t, "aws_vpc_endpoint", "ec2messages")["subnet_ids"] = []any{ref("aws_subnet.web-a", "id")}
			},
			expect{kind: "shape", match: "Systems Manager's", names: "aws_vpc_endpoint.ec2messages has no interface in web-c"}},
		{"the endpoints' group admits nothing from the web servers",
			func(t *testing.T, m tf) { delete(m.of(sgIn), "ssm-endpoint-sg-ingress-web-to-ssm-https") },
			expect{kind: "probe", match: "web@web-a -> ssm-endpoint@web-a:ssm tcp/443", code: CodeSG, names: "aws_security_group.ssm-endpoint-sg", verdict: "blocked"}},
		{"AmazonSSMManagedInstanceCore detached from the web servers' role",
			func(t *testing.T, m tf) { delete(m.of("aws_iam_role_policy_attachment"), "web-ssm") },
			expect{kind: "authorization", match: "the web servers' SSM Agent calls Systems Manager (ssm,", names: "no statement"}},
		{"another managed policy in its place, whose document verify does not hold",
			func(t *testing.T, m tf) {
				m.get(t, "aws_iam_role_policy_attachment", "web-ssm")["policy_arn"] = "arn:aws:iam::aws:policy/AmazonSSMFullAccess"
			},
			expect{kind: "authorization", match: "the web servers' SSM Agent calls Systems Manager", names: "attaches arn:aws:iam::aws:policy/AmazonSSMFullAccess, whose statements are not in the stack: not judged"}},
	} {
		t.Run(mu.name, func(t *testing.T) {
			m := decode(t, data)
			mu.mutate(t, m)
			m.prune()
			r := failsAs(t, m, in, mu.want)
			failsReq1(t, r, mu.want)
			decided = append(decided, r.Authorizations...)
		})
	}
	clean := verifyBytes(t, data, in)
	crossCheck(t, append(decided, clean.Authorizations...))
}

// TestAccessBothMutations: with bastions and Session Manager, the bastions' role is checked
// like the web servers'.
func TestAccessBothMutations(t *testing.T) {
	data, in := bothStack(t)
	m := decode(t, data)
	for _, b := range []string{"bastion-a", "bastion-c"} {
		delete(m.get(t, "aws_instance", b), "iam_instance_profile")
	}
	r := failsAs(t, m, in, expect{kind: "authorization", match: "the bastions' SSM Agent calls Systems Manager", names: "has no iam_instance_profile"})
	failsReq1(t, r, expect{kind: "authorization", match: "the bastions' SSM Agent", names: "iam_instance_profile"})
}
