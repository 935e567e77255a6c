package verify

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"
	"testing"
)

// loadMutated loads the default stack after mutate.
func loadMutated(t *testing.T, mutate func(m tf)) *Network {
	t.Helper()
	data, _ := defaultStack(t)
	m := decode(t, data)
	mutate(m)
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	n, err := Load(out)
	if err != nil {
		t.Fatalf("Load: expected the mutated stack to load, got:\n%v", err)
	}
	return n
}

// endpoint returns a named endpoint of n.
func endpoint(t *testing.T, n *Network, name string) *Endpoint {
	t.Helper()
	e, err := n.Endpoint(name)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// hasBlocker reports whether the verdict has a blocker with the code naming addr.
func hasBlocker(v Verdict, code, addr string) bool {
	for _, b := range v.Blockers {
		if b.Code == code && strings.Contains(b.Component+" "+b.Rule+" "+b.Detail, addr) {
			return true
		}
	}
	return false
}

func TestCanNamesEveryBlockingComponent(t *testing.T) {
	n := loadMutated(t, func(tf) {})
	v := n.Can(n.Outside(netip.MustParseAddr("198.51.100.7")), endpoint(t, n, "web@web-a"), TCP, 22)
	if v.Allowed || !v.Blocked() {
		t.Fatalf("internet -> web@web-a tcp/22: expected blocked, got allowed=%v reach=%s", v.Allowed, v.Reach)
	}
	for _, w := range []struct{ code, addr string }{
		{CodePrivateIP, "aws_autoscaling_group.web"},
		{CodeNoRoute, "aws_route_table.web-a"},
		{CodeNACL, "aws_network_acl.web-nacl"},
		{CodeSG, "aws_security_group.web-sg"},
	} {
		if !hasBlocker(v, w.code, w.addr) {
			t.Errorf("expected a blocker %s naming %s, got %+v", w.code, w.addr, v.Blockers)
		}
	}
}

func TestCanShowsEveryHopWithItsRule(t *testing.T) {
	n := loadMutated(t, func(tf) {})
	v := n.Can(endpoint(t, n, "bastion@public-a"), endpoint(t, n, "web@web-c"), TCP, 22)
	if !v.Allowed || len(v.Blockers) > 0 {
		t.Fatalf("bastion@public-a -> web@web-c tcp/22: expected allowed, got %+v", v.Blockers)
	}
	var nacl, sg int
	for _, h := range v.Hops {
		switch h.Layer {
		case LayerNACL:
			if h.Number <= 0 || !strings.HasPrefix(h.Rule, "aws_network_acl_rule.") {
				t.Errorf("NACL hop: expected a rule number and the rule's address, got %+v", h)
			}
			nacl++
		case LayerSG:
			if !strings.HasPrefix(h.Rule, "aws_vpc_security_group_") {
				t.Errorf("SG hop: expected the rule's address, got %+v", h)
			}
			sg++
		}
	}
	if nacl != 4 || sg != 2 {
		t.Errorf("expected 4 NACL hops (out, in, two replies) and 2 SG hops, got %d and %d", nacl, sg)
	}
}

func TestSGReferencesDoNotSurviveNAT(t *testing.T) {
	n := loadMutated(t, func(m tf) {
		m.of(sgIn)["bastion-from-web"] = rule("bastion-sg", "tcp", 443, "sg:web-sg")
	})
	face := n.PublicFace(endpoint(t, n, "bastion@public-a"))
	v := n.Can(endpoint(t, n, "web@web-a"), face, TCP, 443)
	if !v.Blocked() {
		t.Fatalf("web -> bastion's public address: expected blocked, got reach %s", v.Reach)
	}
	if !hasBlocker(v, CodeSGRefs, sgIn+".bastion-from-web") {
		t.Errorf("expected %s naming the rule that references web-sg, got %+v", CodeSGRefs, v.Blockers)
	}
	if !strings.Contains(fmt.Sprint(v.Hops), CodeNATRewrite) {
		t.Errorf("expected the NAT hop to say %s, got %+v", CodeNATRewrite, v.Hops)
	}
}

func TestLowerNumberedDenyWins(t *testing.T) {
	n := loadMutated(t, func(m tf) {
		m.of(acl)["deny-first"] = map[string]any{"network_acl_id": ref("aws_network_acl.db-nacl", "id"), "rule_number": 1,
			"egress": false, "protocol": "-1", "rule_action": "deny", "cidr_block": "10.16.3.0/25"}
	})
	v := n.Can(endpoint(t, n, "web@web-a[10.16.3.10]"), endpoint(t, n, "db@db-a"), TCP, 3306)
	if v.Allowed || !hasBlocker(v, CodeNACL, acl+".deny-first") {
		t.Errorf("web in 10.16.3.0/25 -> db: expected blocked by #1, got allowed=%v %+v", v.Allowed, v.Blockers)
	}
	v = n.Can(endpoint(t, n, "web@web-a[10.16.3.138]"), endpoint(t, n, "db@db-a"), TCP, 3306)
	if !v.Allowed {
		t.Errorf("web in 10.16.3.128/25 -> db: expected allowed (the deny covers the lower half), got %+v", v.Blockers)
	}
}

func TestMoreSpecificRouteOverridesLocal(t *testing.T) {
	n := loadMutated(t, func(m tf) {
		m.of("aws_route")["to-db-via-nat"] = map[string]any{"route_table_id": ref("aws_route_table.web-a", "id"),
			"destination_cidr_block": "10.16.5.0/24", "nat_gateway_id": ref("aws_nat_gateway.nat-public-a", "id")}
	})
	v := n.Can(endpoint(t, n, "web@web-a"), endpoint(t, n, "db@db-a"), TCP, 3306)
	if v.Allowed || !hasBlocker(v, CodeMoreSpecific, "aws_route.to-db-via-nat") {
		t.Errorf("expected %s naming aws_route.to-db-via-nat, got allowed=%v %+v", CodeMoreSpecific, v.Allowed, v.Blockers)
	}
}

func TestLongestPrefixWins(t *testing.T) {
	n := loadMutated(t, func(m tf) {
		m.of("aws_route")["repos-direct"] = map[string]any{"route_table_id": ref("aws_route_table.web-a", "id"),
			"destination_cidr_block": "52.219.56.0/21", "gateway_id": ref("aws_internet_gateway.igw", "id")}
	})
	repo := n.Outside(netip.MustParseAddr("52.219.56.10"))
	if v := n.Can(endpoint(t, n, "web@web-a"), repo, TCP, 443); v.Allowed || !hasBlocker(v, CodePrivateIP, "aws_autoscaling_group.web") {
		t.Errorf("web@web-a -> repo with a /21 to the IGW: expected %s, got %+v", CodePrivateIP, v.Blockers)
	}
	if v := n.Can(endpoint(t, n, "web@web-c"), repo, TCP, 443); !v.Allowed {
		t.Errorf("web@web-c -> repo: expected allowed through its own NAT, got %+v", v.Blockers)
	}
}

func TestPartialRepliesAreUnreliable(t *testing.T) {
	n := loadMutated(t, func(m tf) {
		m.of(acl)["narrow"] = map[string]any{"network_acl_id": ref("aws_network_acl.public-nacl", "id"), "rule_number": 1,
			"egress": true, "protocol": "tcp", "rule_action": "deny", "cidr_block": "203.0.113.0/24", "from_port": 1024, "to_port": 40000}
	})
	v := n.Can(n.Outside(netip.MustParseAddr("203.0.113.10")), endpoint(t, n, "bastion@public-a"), TCP, 22)
	if v.Allowed || v.Blocked() {
		t.Errorf("admin -> bastion with replies denied on 1024-40000: expected not allowed yet reachable, got allowed=%v reach=%s", v.Allowed, v.Reach)
	}
}

// TestRouteToAPrefixListIsFollowed: a route to a managed prefix list of the stack sends each
// of the list's CIDRs, and the list splits the addresses it names into a class of their own:
// replies to the half of the admin range the list holds go to the NAT gateway, the other
// half's still to the internet gateway.
func TestRouteToAPrefixListIsFollowed(t *testing.T) {
	data, in := defaultStack(t)
	m := decode(t, data)
	m.of("aws_ec2_managed_prefix_list")["half-admin"] = map[string]any{"name": "half-admin", "max_entries": 1,
		"address_family": "IPv4", "entry": []any{map[string]any{"cidr": "203.0.113.0/25"}}}
	m.of("aws_route")["half-admin-via-nat"] = map[string]any{"route_table_id": ref("aws_route_table.public", "id"),
		"destination_prefix_list_id": ref("aws_ec2_managed_prefix_list.half-admin", "id"), "nat_gateway_id": ref("aws_nat_gateway.nat-public-a", "id")}
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	r := verifyBytes(t, out, in)
	got := map[string]ProbeResult{}
	for _, p := range r.Probes {
		got[p.Probe] = p
	}
	held := got["admin 203.0.113.10 -> bastion@public-a tcp/22"]
	if held.Verdict != "blocked" || !strings.Contains(fmt.Sprintf("%+v", held.Blockers), "pl half-admin goes to aws_nat_gateway.nat-public-a") {
		t.Errorf("admin 203.0.113.10 (in the list) -> bastion: expected blocked by the route to the NAT gateway, got %s %+v", held.Verdict, held.Blockers)
	}
	other := got["admin 203.0.113.138 -> bastion@public-a tcp/22"]
	if other.Verdict != "allowed" {
		t.Errorf("admin 203.0.113.138 (outside the list) -> bastion: expected allowed, got %q (probes: %d)", other.Verdict, len(r.Probes))
	}
}
