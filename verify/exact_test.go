package verify

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"
	"testing"
)

// Exactness: edits of the example stack on which the verifier once judged unlike AWS. Each
// case gives AWS's verdict: the stack verifies (ok), fails in a named way (fails), or is input
// the verifier refuses (loadErr) or loads with a note (note). The rule behind each verdict,
// with its AWS documentation page, is in docs/aws-semantics.md.
func TestExactness(t *testing.T) {
	data, in := defaultStack(t)
	cases := []struct {
		name    string
		mutate  func(t *testing.T, m tf)
		ok      bool
		fails   []expect
		loadErr string
		note    string
	}{
		{name: "ALB cross-zone off at the load-balancer level changes nothing",
			mutate: func(t *testing.T, m tf) { m.get(t, "aws_lb", "alb")["enable_cross_zone_load_balancing"] = false },
			ok:     true, note: "aws_lb.alb: enable_cross_zone_load_balancing = false has no effect on an application load balancer"},
		{name: "a subnet split into address classes keeps its targets registered",
			mutate: func(t *testing.T, m tf) {
				m.of(acl)["split-web-a"] = map[string]any{"network_acl_id": ref("aws_network_acl.db-nacl", "id"), "rule_number": 30000,
					"egress": false, "protocol": "tcp", "rule_action": "deny", "cidr_block": "10.16.3.128/25", "from_port": 9, "to_port": 9}
			},
			ok: true},
		{name: "a bastion at a fixed private address of its subnet's class is judged as the class",
			mutate: func(t *testing.T, m tf) {
				m.get(t, "aws_instance", "bastion-a")["private_ip"] = "10.16.1.57"
				m.get(t, "aws_instance", "bastion-c")["private_ip"] = "10.16.2.200"
			},
			ok: true},
		{name: "Auto Scaling traffic source attachment registers the group",
			mutate: func(t *testing.T, m tf) {
				asg := m.get(t, "aws_autoscaling_group", "web")
				delete(asg, "target_group_arns")
				m.of("aws_autoscaling_traffic_source_attachment")["web"] = map[string]any{
					"autoscaling_group_name": ref("aws_autoscaling_group.web", "name"),
					"traffic_source":         []any{map[string]any{"identifier": ref("aws_lb_target_group.web", "arn"), "type": "elbv2"}}}
			},
			ok: true},
		{name: "the group's own traffic_source block registers it",
			mutate: func(t *testing.T, m tf) {
				asg := m.get(t, "aws_autoscaling_group", "web")
				delete(asg, "target_group_arns")
				asg["traffic_source"] = []any{map[string]any{"identifier": ref("aws_lb_target_group.web", "arn"), "type": "elbv2"}}
			},
			ok: true},
		{name: "a network load balancer is refused, not judged as an ALB",
			mutate:  func(t *testing.T, m tf) { m.get(t, "aws_lb", "alb")["load_balancer_type"] = "network" },
			loadErr: `aws_lb.alb: load_balancer_type: "network": the verifier models application load balancers only`},
		{name: "a per-target port on an attachment is where the ALB connects",
			mutate: func(t *testing.T, m tf) {
				m.of("aws_lb_target_group_attachment")["bastion-a"] = map[string]any{
					"target_group_arn": ref("aws_lb_target_group.web", "arn"), "target_id": ref("aws_instance.bastion-a", "id"), "port": 8080}
				m.of(sgOut)["alb-to-bastion"] = rule("alb-sg", "tcp", 8080, "sg:bastion-sg")
				m.of(sgIn)["bastion-from-alb"] = rule("bastion-sg", "tcp", 8080, "sg:alb-sg")
			},
			fails: []expect{{kind: "unexplained", layer: "path", match: "alb@public-a -> bastion@public-a", names: "tg web :8080"}}},
		{name: "reply legs that pass disjoint ephemeral ports block the connection",
			mutate: func(t *testing.T, m tf) {
				m.of(acl)["web-out-high"] = map[string]any{"network_acl_id": ref("aws_network_acl.web-nacl", "id"), "rule_number": 1,
					"egress": true, "protocol": "tcp", "rule_action": "deny", "cidr_block": "10.16.1.0/24", "from_port": 45001, "to_port": 60999}
				m.of(acl)["public-in-low"] = map[string]any{"network_acl_id": ref("aws_network_acl.public-nacl", "id"), "rule_number": 1,
					"egress": false, "protocol": "tcp", "rule_action": "deny", "cidr_block": "10.16.3.0/24", "from_port": 32768, "to_port": 45000}
			},
			fails: []expect{
				{kind: "probe", match: "bastion@public-a -> web@web-a tcp/22", verdict: "blocked", code: CodeNACL, names: acl + ".web-out-high"},
				{kind: "probe", match: "bastion@public-a -> web@web-a tcp/22", verdict: "blocked", code: CodeNACL, names: acl + ".public-in-low"},
			}},
		{name: "ESP from anywhere to a bastion is a connection beyond the flows",
			mutate: func(t *testing.T, m tf) {
				m.of(sgIn)["bastion-esp"] = rule("bastion-sg", "50", 0, "0.0.0.0/0")
				m.of(acl)["public-esp"] = map[string]any{"network_acl_id": ref("aws_network_acl.public-nacl", "id"), "rule_number": 70,
					"egress": false, "protocol": "50", "rule_action": "allow", "cidr_block": "0.0.0.0/0"}
			},
			fails: []expect{{kind: "unexplained", layer: "path", match: "internet 198.51.100.7 -> bastion@public-a", names: sgIn + ".bastion-esp", proto: "50"}}},
		{name: "an all-protocols rule is judged on a protocol no rule names",
			mutate: func(t *testing.T, m tf) {
				m.of(sgIn)["bastion-all"] = rule("bastion-sg", "-1", 0, "0.0.0.0/0")
				m.of(acl)["public-all"] = map[string]any{"network_acl_id": ref("aws_network_acl.public-nacl", "id"), "rule_number": 70,
					"egress": false, "protocol": "-1", "rule_action": "allow", "cidr_block": "0.0.0.0/0", "from_port": 0, "to_port": 0}
			},
			fails: []expect{{kind: "unexplained", layer: "path", match: "internet 198.51.100.7 -> bastion@public-a", names: sgIn + ".bastion-all", proto: "253"}}},
		{name: "IPv6 rules are loaded with a note, not refused",
			mutate: func(t *testing.T, m tf) {
				m.of(sgIn)["web-icmpv6"] = map[string]any{"security_group_id": ref("aws_security_group.web-sg", "id"),
					"ip_protocol": "icmpv6", "from_port": -1, "to_port": -1, "cidr_ipv6": "::/0"}
				m.of(sgIn)["alb-v6"] = map[string]any{"security_group_id": ref("aws_security_group.alb-sg", "id"),
					"ip_protocol": "tcp", "from_port": 80, "to_port": 80, "cidr_ipv6": "::/0"}
			},
			ok: true, note: sgIn + ".web-icmpv6: an icmpv6 rule applies to IPv6 traffic, which the verifier does not model; not judged"},
		{name: "an SG rule naming the instance metadata service changes nothing",
			mutate: func(t *testing.T, m tf) {
				m.of(sgOut)["web-imds"] = rule("web-sg", "tcp", 80, "169.254.169.254/32")
				m.of(sgOut)["web-dns"] = rule("web-sg", "udp", 53, "10.16.0.2/32")
			},
			ok: true, note: sgOut + ".web-imds: 169.254.169.254/32 names a link-local range (the instance metadata service is 169.254.169.254); security groups and network ACLs do not filter"},
		{name: "an SG rule naming the VPC resolver changes nothing",
			mutate: func(t *testing.T, m tf) { m.of(sgOut)["web-dns"] = rule("web-sg", "udp", 53, "10.16.0.2/32") },
			ok:     true, note: sgOut + ".web-dns: 10.16.0.2/32 names the VPC's DNS resolver"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := decode(t, data)
			c.mutate(t, m)
			out, err := json.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			n, err := Load(out)
			if c.loadErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.loadErr) {
					t.Fatalf("Load: expected the error %q, got %v", c.loadErr, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if c.note != "" && !strings.Contains(strings.Join(n.Notes, "\n"), c.note) {
				t.Errorf("expected the note %q, got:\n%s", c.note, strings.Join(n.Notes, "\n"))
			}
			r := Verify(n, in)
			switch {
			case c.ok && !r.OK():
				t.Errorf("expected verify OK (AWS's verdict), got:\n%s", failures(r))
			case len(c.fails) > 0 && r.OK():
				t.Errorf("expected verify to fail with %s, got a clean report", c.fails)
			}
			for _, want := range c.fails {
				if !want.met(r) {
					t.Errorf("expected verify to fail with %s, got:\n%s", want, failures(r))
				}
			}
		})
	}
}

// TestICMPReplies: an echo request is answered by an echo reply (type 0), which must pass the
// network ACLs on the way back; an ACL that lets only type 8 through both ways drops the
// reply, so ping does not get through. One-way message types need no reply.
func TestICMPReplies(t *testing.T) {
	data, _ := defaultStack(t)
	ping := func(t *testing.T, replyType int) Verdict {
		m := decode(t, data)
		m.of(sgIn)["bastion-ping"] = map[string]any{"security_group_id": ref("aws_security_group.bastion-sg", "id"),
			"ip_protocol": "icmp", "from_port": ICMPEchoRequest, "to_port": -1, "cidr_ipv4": "0.0.0.0/0"}
		m.of(acl)["public-ping-in"] = map[string]any{"network_acl_id": ref("aws_network_acl.public-nacl", "id"), "rule_number": 70,
			"egress": false, "protocol": "icmp", "rule_action": "allow", "cidr_block": "0.0.0.0/0", "icmp_type": ICMPEchoRequest, "icmp_code": -1}
		m.of(acl)["public-ping-out"] = map[string]any{"network_acl_id": ref("aws_network_acl.public-nacl", "id"), "rule_number": 70,
			"egress": true, "protocol": "icmp", "rule_action": "allow", "cidr_block": "0.0.0.0/0", "icmp_type": replyType, "icmp_code": -1}
		out, _ := json.Marshal(m)
		n, err := Load(out)
		if err != nil {
			t.Fatal(err)
		}
		src, dst := n.Outside(netip.MustParseAddr("198.51.100.7")), mustEndpoint(t, n, "bastion@public-a")
		return n.Can(src, dst, ICMP, ICMPKey(ICMPEchoRequest, 0))
	}
	if v := ping(t, ICMPEchoRequest); !v.Blocked() {
		t.Errorf("echo request with only type 8 allowed out: expected blocked (the echo reply is dropped), got %+v", v)
	} else if !strings.Contains(fmt.Sprintf("%+v", v.Blockers), "egress to 198.51.100.7 on icmp type 0 code 0: no entry matches") {
		t.Errorf("expected the blocker to name the dropped echo reply, got %+v", v.Blockers)
	}
	if v := ping(t, ICMPEchoReply); !v.Allowed {
		t.Errorf("echo request with type 0 allowed out: expected allowed, got %+v", v.Blockers)
	}
	// Destination unreachable is one-way: with type 3 allowed in, it arrives.
	m := decode(t, data)
	m.of(sgIn)["bastion-unreach"] = map[string]any{"security_group_id": ref("aws_security_group.bastion-sg", "id"),
		"ip_protocol": "icmp", "from_port": 3, "to_port": -1, "cidr_ipv4": "0.0.0.0/0"}
	m.of(acl)["public-unreach-in"] = map[string]any{"network_acl_id": ref("aws_network_acl.public-nacl", "id"), "rule_number": 70,
		"egress": false, "protocol": "icmp", "rule_action": "allow", "cidr_block": "0.0.0.0/0", "icmp_type": 3, "icmp_code": -1}
	out, _ := json.Marshal(m)
	n, err := Load(out)
	if err != nil {
		t.Fatal(err)
	}
	if v := n.Can(n.Outside(netip.MustParseAddr("198.51.100.7")), mustEndpoint(t, n, "bastion@public-a"), ICMP, ICMPKey(3, 1)); !v.Allowed {
		t.Errorf("icmp type 3 with type 3 allowed in: expected allowed (no reply), got %+v", v.Blockers)
	}
}

func mustEndpoint(t *testing.T, n *Network, name string) *Endpoint {
	t.Helper()
	e, err := n.Endpoint(name)
	if err != nil {
		t.Fatal(err)
	}
	return e
}
