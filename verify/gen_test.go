package verify

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"testing"
)

// generate returns Terraform JSON for one VPC of about the given number of subnets: cells
// laid out like the web tier (a public, a web and a db subnet in each of two AZs), each with
// its own bastion, ALB, NAT gateway, Auto Scaling group, database, security groups and
// network ACLs, and rules in proportion. It returns the JSON and the number of subnets.
func generate(subnets int) ([]byte, int) {
	cells := max(1, (subnets+5)/6)
	res := map[string]map[string]any{}
	add := func(typ, name string, attrs map[string]any) {
		if res[typ] == nil {
			res[typ] = map[string]any{}
		}
		res[typ][name] = attrs
	}
	id := func(typ, name string) string { return "${" + typ + "." + name + ".id}" }
	vpc := id("aws_vpc", "vpc")
	add("aws_vpc", "vpc", map[string]any{"cidr_block": "10.0.0.0/8"})
	add("aws_internet_gateway", "igw", map[string]any{"vpc_id": vpc})
	add("aws_route_table", "public", map[string]any{"vpc_id": vpc})
	add("aws_route", "public-default", map[string]any{"route_table_id": id("aws_route_table", "public"),
		"destination_cidr_block": "0.0.0.0/0", "gateway_id": id("aws_internet_gateway", "igw")})
	add("aws_route_table", "db", map[string]any{"vpc_id": vpc})
	const admin, repos = "203.0.113.0/24", "52.219.0.0/16"
	n := 0
	for c := range cells {
		p := func(s string) string { return fmt.Sprintf("c%d-%s", c, s) }
		cidr := map[string]string{}
		for _, tier := range []string{"public", "web", "db"} {
			for _, az := range []string{"a", "b"} {
				name := p(tier + "-" + az)
				cidr[name] = fmt.Sprintf("10.%d.%d.0/24", n/256, n%256)
				n++
				add("aws_subnet", name, map[string]any{"vpc_id": vpc, "cidr_block": cidr[name], "availability_zone": "x-1" + az})
				table := tier
				if tier == "web" {
					table = name
				}
				add("aws_route_table_association", name, map[string]any{"subnet_id": id("aws_subnet", name), "route_table_id": id("aws_route_table", table)})
			}
		}
		sub := func(tier, az string) string { return id("aws_subnet", p(tier+"-"+az)) }
		pair := func(tier string) []any { return []any{sub(tier, "a"), sub(tier, "b")} }
		add("aws_eip", p("nat"), map[string]any{"domain": "vpc"})
		add("aws_nat_gateway", p("nat"), map[string]any{"subnet_id": sub("public", "a"), "allocation_id": "${aws_eip." + p("nat") + ".allocation_id}"})
		for _, az := range []string{"a", "b"} {
			add("aws_route_table", p("web-"+az), map[string]any{"vpc_id": vpc})
			add("aws_route", p("web-"+az), map[string]any{"route_table_id": id("aws_route_table", p("web-"+az)),
				"destination_cidr_block": "0.0.0.0/0", "nat_gateway_id": id("aws_nat_gateway", p("nat"))})
		}
		for _, g := range []string{"bastion", "alb", "web", "db"} {
			add("aws_security_group", p(g), map[string]any{"vpc_id": vpc, "name": p(g)})
		}
		sg := func(g string) string { return id("aws_security_group", p(g)) }
		rule := func(typ, name, group string, port int, peer string) {
			r := map[string]any{"security_group_id": sg(group), "ip_protocol": "tcp", "from_port": port, "to_port": port}
			if _, err := netip.ParsePrefix(peer); err == nil {
				r["cidr_ipv4"] = peer
			} else {
				r["referenced_security_group_id"] = sg(peer)
			}
			add(typ, p(name), r)
		}
		for _, f := range []struct {
			from, to string
			port     int
		}{{admin, "bastion", 22}, {"bastion", "web", 22}, {"0.0.0.0/0", "alb", 80}, {"alb", "web", 80}, {"web", repos, 443}, {"web", "db", 3306}} {
			flow := fmt.Sprintf("%s-%s-%d", f.from, f.to, f.port)
			if _, err := netip.ParsePrefix(f.from); err != nil {
				rule(sgOut, "out-"+flow, f.from, f.port, f.to)
			}
			if _, err := netip.ParsePrefix(f.to); err != nil {
				rule(sgIn, "in-"+flow, f.to, f.port, f.from)
			}
		}
		// One network ACL per tier and cell; entries as rules.Derive writes them.
		num := map[string]int{}
		entry := func(tier string, egress bool, from, to int, peer string) {
			key := fmt.Sprintf("%s-%t", tier, egress)
			num[key] += 10
			add(acl, fmt.Sprintf("%s-%d", p(key), num[key]), map[string]any{"network_acl_id": id("aws_network_acl", p(tier)),
				"rule_number": num[key], "egress": egress, "protocol": "tcp", "rule_action": "allow", "cidr_block": peer, "from_port": from, "to_port": to})
		}
		for _, tier := range []string{"public", "web", "db"} {
			add("aws_network_acl", p(tier), map[string]any{"vpc_id": vpc, "subnet_ids": pair(tier)})
		}
		entry("public", false, 22, 22, admin)
		entry("public", true, 1024, 65535, admin)
		entry("public", false, 80, 80, "0.0.0.0/0")
		entry("public", true, 1024, 65535, "0.0.0.0/0")
		entry("public", false, 1024, 65535, repos)
		entry("public", true, 443, 443, repos)
		for _, az := range []string{"a", "b"} {
			web, public, db := cidr[p("web-"+az)], cidr[p("public-"+az)], cidr[p("db-"+az)]
			entry("public", true, 22, 80, web)
			entry("public", false, 1024, 65535, web)
			entry("public", false, 443, 443, web)
			entry("web", false, 22, 80, public)
			entry("web", true, 1024, 65535, public)
			entry("web", true, 3306, 3306, db)
			entry("web", false, 32768, 60999, db)
			entry("db", false, 3306, 3306, web)
			entry("db", true, 32768, 60999, web)
		}
		entry("web", true, 443, 443, repos)
		entry("web", false, 32768, 60999, repos)

		add("aws_instance", p("bastion"), map[string]any{"subnet_id": sub("public", "a"), "associate_public_ip_address": true,
			"vpc_security_group_ids": []any{sg("bastion")}})
		add("aws_lb", p("alb"), map[string]any{"subnets": pair("public"), "security_groups": []any{sg("alb")}})
		add("aws_lb_target_group", p("web"), map[string]any{"port": 80, "vpc_id": vpc})
		add("aws_lb_listener", p("http"), map[string]any{"load_balancer_arn": "${aws_lb." + p("alb") + ".arn}", "port": 80,
			"default_action": []any{map[string]any{"type": "forward", "target_group_arn": "${aws_lb_target_group." + p("web") + ".arn}"}}})
		add("aws_launch_template", p("web"), map[string]any{"vpc_security_group_ids": []any{sg("web")}})
		add("aws_autoscaling_group", p("web"), map[string]any{"min_size": 2, "max_size": 4, "vpc_zone_identifier": pair("web"),
			"launch_template":   map[string]any{"id": id("aws_launch_template", p("web"))},
			"target_group_arns": []any{"${aws_lb_target_group." + p("web") + ".arn}"}})
		add("aws_db_subnet_group", p("db"), map[string]any{"name": p("db"), "subnet_ids": pair("db")})
		add("aws_db_instance", p("db"), map[string]any{"db_subnet_group_name": "${aws_db_subnet_group." + p("db") + ".name}",
			"vpc_security_group_ids": []any{sg("db")}, "multi_az": true})
	}
	out, err := json.Marshal(map[string]any{"resource": res})
	if err != nil {
		panic(err)
	}
	return out, n
}

// TestGeneratedNetworkLoads keeps the generator honest: its networks load, and one cell
// of it passes the flows it was written for.
func TestGeneratedNetworkLoads(t *testing.T) {
	data, subnets := generate(6)
	n, err := Load(data)
	if err != nil {
		t.Fatalf("Load: expected the generated network to load, got:\n%v", err)
	}
	if subnets != 6 || len(n.Subnets) != 6 {
		t.Errorf("expected 6 subnets, got %d (model %d)", subnets, len(n.Subnets))
	}
	for _, c := range []struct {
		from, to string
		port     int
	}{{"bastion@c0-public-a", "web@c0-web-b", 22}, {"alb@c0-public-b", "web@c0-web-a", 80}, {"web@c0-web-b", "db@c0-db-a", 3306}} {
		if v := n.Can(endpoint(t, n, c.from), endpoint(t, n, c.to), TCP, c.port); !v.Allowed {
			t.Errorf("generated %s -> %s tcp/%d: expected allowed, got %+v", c.from, c.to, c.port, v.Blockers)
		}
	}
	_, in := defaultStack(t)
	if v := n.Can(endpoint(t, n, "web@c0-web-a"), n.Outside(netip.MustParseAddr("52.219.0.10")), TCP, 443); !v.Allowed {
		t.Errorf("generated web -> repo tcp/443: expected allowed, got %+v", v.Blockers)
	}
	Verify(n, in)
}

// BenchmarkVerifyWebTier loads the synthesized web tier, runs every probe and the
// enumeration of requirement 7.
func BenchmarkVerifyWebTier(b *testing.B) {
	data, in := defaultStack(b)
	for b.Loop() {
		n, err := Load(data)
		if err != nil {
			b.Fatal(err)
		}
		if r := Verify(n, in); !r.OK() {
			b.Fatalf("expected the web tier to verify clean, got:\n%s", failures(r))
		}
	}
}

// BenchmarkVerifyGenerated verifies generated networks of 10, 100 and 1000 subnets, with
// rules in proportion. Each pair of endpoints is judged, so time grows with their square.
func BenchmarkVerifyGenerated(b *testing.B) {
	_, in := defaultStack(b)
	for _, size := range []int{10, 100, 1000} {
		data, subnets := generate(size)
		b.Run(fmt.Sprintf("subnets=%d", size), func(b *testing.B) {
			var endpoints int
			for b.Loop() {
				n, err := Load(data)
				if err != nil {
					b.Fatal(err)
				}
				endpoints = Verify(n, in).Stats.Endpoints
			}
			b.ReportMetric(float64(subnets), "subnets")
			b.ReportMetric(float64(endpoints), "endpoints")
		})
	}
}
