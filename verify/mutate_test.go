package verify

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// Mutation tests: break the synthesized stack one way at a time, on the decoded JSON, and
// check that verify fails for the right reason and names the right resource. Resources are
// found by what they are (attributes), not by their rule numbers, so a renumbered stack
// keeps the tests meaningful.

// tf is a decoded Terraform JSON document.
type tf map[string]any

func decode(t *testing.T, data []byte) tf {
	t.Helper()
	var m tf
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatalf("decoding the stack: %v", err)
	}
	return m
}

// of returns the resources of a type, creating the map when absent.
func (m tf) of(typ string) map[string]any {
	res := m["resource"].(map[string]any)
	if res[typ] == nil {
		res[typ] = map[string]any{}
	}
	return res[typ].(map[string]any)
}

// get returns one resource's attributes.
func (m tf) get(t *testing.T, typ, name string) map[string]any {
	t.Helper()
	r, ok := m.of(typ)[name].(map[string]any)
	if !ok {
		t.Fatalf("the stack has no %s.%s", typ, name)
	}
	return r
}

// find returns the name of the one resource of typ whose attributes satisfy pred.
func (m tf) find(t *testing.T, typ string, pred func(map[string]any) bool) string {
	t.Helper()
	var found []string
	for name, r := range m.of(typ) {
		if pred(r.(map[string]any)) {
			found = append(found, name)
		}
	}
	if len(found) != 1 {
		t.Fatalf("expected one %s matching, got %v", typ, found)
	}
	return found[0]
}

// prune drops the depends_on entries that name resources a mutation removed, as a user
// removing a resource would.
func (m tf) prune() {
	for _, byName := range m["resource"].(map[string]any) {
		for _, r := range byName.(map[string]any) {
			attrs := r.(map[string]any)
			list, ok := attrs["depends_on"].([]any)
			if !ok {
				continue
			}
			var kept []any
			for _, d := range list {
				typ, name, _ := strings.Cut(fmt.Sprint(d), ".")
				if _, ok := m.of(typ)[name]; ok {
					kept = append(kept, d)
				}
			}
			attrs["depends_on"] = kept
		}
	}
}

// has returns a predicate: every key has the value (compared as text).
func has(kv ...any) func(map[string]any) bool {
	return func(r map[string]any) bool {
		for i := 0; i < len(kv); i += 2 {
			if fmt.Sprint(r[kv[i].(string)]) != fmt.Sprint(kv[i+1]) {
				return false
			}
		}
		return true
	}
}

func ref(addr, attr string) string { return "${" + addr + "." + attr + "}" }

// expect is how a mutation must fail: a probe (by name) blocked with a code, a shape check,
// or an unexplained finding in a layer; names is a resource address the failure must name.
type expect struct {
	kind  string // "probe", "shape", "unexplained" or "authorization"
	match string // part of the probe name, the shape check, the authorization check, or "from -> to"
	layer string // for "unexplained"
	code  string // for "probe": an explanation code among the blockers
	names string
	// verdict, for "probe": the verdict the probe must show ("blocked"), when it matters.
	verdict string
	// proto, for "unexplained": the finding's protocol, when it matters.
	proto string
}

func (e expect) String() string {
	return fmt.Sprintf("%s %q (layer %q, code %q) naming %q", e.kind, e.match, e.layer, e.code, e.names)
}

// met reports whether the report fails the way e says.
func (e expect) met(r *Report) bool {
	switch e.kind {
	case "probe":
		for _, p := range r.Probes {
			if !p.OK && strings.Contains(p.Probe, e.match) && (e.verdict == "" || p.Verdict == e.verdict) {
				text := fmt.Sprintf("%+v", p.Blockers)
				if strings.Contains(text, e.code) && strings.Contains(text, e.names) {
					return true
				}
			}
		}
	case "shape":
		for _, s := range r.Shapes {
			if s.Failed() && strings.Contains(s.Check, e.match) && strings.Contains(s.Observed, e.names) {
				return true
			}
		}
	case "authorization":
		for _, a := range r.Authorizations {
			said := a.Why + " " + strings.Join(a.By, " ") + " " + strings.Join(a.Problems, " ")
			if !a.OK && strings.Contains(a.Check, e.match) && strings.Contains(said, e.names) {
				return true
			}
		}
	case "unexplained":
		for _, f := range r.Unexplained {
			if f.Layer == e.layer && strings.Contains(f.From+" -> "+f.To, e.match) && strings.Contains(fmt.Sprintf("%+v", f.Path), e.names) &&
				(e.proto == "" || f.Proto.String() == e.proto) {
				return true
			}
		}
	}
	return false
}

const (
	sgIn  = "aws_vpc_security_group_ingress_rule"
	sgOut = "aws_vpc_security_group_egress_rule"
	acl   = "aws_network_acl_rule"
)

// rule makes a security-group rule resource.
func rule(group string, proto string, port int, peer ...string) map[string]any {
	r := map[string]any{"security_group_id": ref("aws_security_group."+group, "id"), "ip_protocol": proto}
	if proto != "-1" {
		r["from_port"], r["to_port"] = port, port
	}
	if strings.HasPrefix(peer[0], "sg:") {
		r["referenced_security_group_id"] = ref("aws_security_group."+peer[0][3:], "id")
	} else {
		r["cidr_ipv4"] = peer[0]
	}
	return r
}

func TestMutations(t *testing.T) {
	data, in := defaultStack(t)
	mutations := []struct {
		name   string
		mutate func(t *testing.T, m tf) // may return the address to name through *string
		want   func(m tf) expect
	}{
		{"ssh from anywhere on the web SG",
			func(t *testing.T, m tf) { m.of(sgIn)["web-ssh-anywhere"] = rule("web-sg", "tcp", 22, "0.0.0.0/0") },
			func(tf) expect {
				return expect{kind: "unexplained", layer: "security groups", match: "internet 198.51.100.7 -> web@web-a", names: sgIn + ".web-ssh-anywhere"}
			}},
		{"the ALB's port to the web servers widened on both groups (the web ACL still stops 81)",
			func(t *testing.T, m tf) {
				m.get(t, sgIn, "web-sg-ingress-alb-to-web-http")["to_port"] = 81
				m.get(t, sgOut, "alb-sg-egress-alb-to-web-http")["to_port"] = 81
			},
			func(tf) expect {
				return expect{kind: "unexplained", layer: "security groups", match: "alb@public-a -> web@web-a", names: sgIn + ".web-sg-ingress-alb-to-web-http"}
			}},
		{"allow-all egress on the web SG",
			func(t *testing.T, m tf) { m.of(sgOut)["web-all-out"] = rule("web-sg", "-1", 0, "0.0.0.0/0") },
			func(tf) expect {
				return expect{kind: "unexplained", layer: "security groups", match: "web@web-a -> internet 8.8.8.8", names: sgOut + ".web-all-out"}
			}},
		{"NACL return entry for the ALB removed",
			func(t *testing.T, m tf) {
				delete(m.of(acl), m.find(t, acl, has("egress", true, "cidr_block", "10.16.1.0/24", "from_port", 1024, "network_acl_id", ref("aws_network_acl.web-nacl", "id"))))
			},
			func(tf) expect {
				return expect{kind: "probe", match: "alb@public-a -> web@web-a tcp/80", code: CodeNACL, names: "aws_network_acl.web-nacl"}
			}},
		{"NACL return entry narrowed to 49152-65535",
			func(t *testing.T, m tf) {
				name := m.find(t, acl, has("egress", true, "cidr_block", "10.16.1.0/24", "from_port", 1024, "network_acl_id", ref("aws_network_acl.web-nacl", "id")))
				m.get(t, acl, name)["from_port"] = 49152
				m["narrowed"] = acl + "." + name
			},
			func(m tf) expect {
				return expect{kind: "probe", match: "alb@public-a -> web@web-a tcp/80", code: CodeNACL, names: m["narrowed"].(string) + " allows only tcp/49152-65535"}
			}},
		{"NAT route of web-a removed",
			func(t *testing.T, m tf) {
				delete(m.of("aws_route"), m.find(t, "aws_route", has("route_table_id", ref("aws_route_table.web-a", "id"))))
			},
			func(tf) expect {
				return expect{kind: "probe", match: "web@web-a -> repo", code: CodeNoRoute, names: "aws_route_table.web-a"}
			}},
		{"NAT route of web-c pointed at the internet gateway",
			func(t *testing.T, m tf) {
				r := m.get(t, "aws_route", m.find(t, "aws_route", has("route_table_id", ref("aws_route_table.web-c", "id"))))
				delete(r, "nat_gateway_id")
				r["gateway_id"] = ref("aws_internet_gateway.igw", "id")
			},
			func(tf) expect {
				return expect{kind: "probe", match: "web@web-c -> repo", code: CodePrivateIP, names: "aws_autoscaling_group.web"}
			}},
		{"web-c routed through the other AZ's NAT gateway (nat: per-az)",
			func(t *testing.T, m tf) {
				r := m.get(t, "aws_route", m.find(t, "aws_route", has("route_table_id", ref("aws_route_table.web-c", "id"))))
				r["nat_gateway_id"] = ref("aws_nat_gateway.nat-public-a", "id")
			},
			func(tf) expect {
				return expect{kind: "shape", match: "one NAT gateway per AZ", names: "aws_subnet.web-c (ap-northeast-2c) routes 0.0.0.0/0 through aws_nat_gateway.nat-public-a in ap-northeast-2a"}
			}},
		{"the NAT gateway of AZ c removed, web-c sent to AZ a's",
			func(t *testing.T, m tf) {
				delete(m.of("aws_nat_gateway"), "nat-public-c")
				// Its alarms go with it, as they would from the stack.
				delete(m.of("aws_cloudwatch_metric_alarm"), "nat-public-c-port-allocation")
				delete(m.of("aws_cloudwatch_metric_alarm"), "nat-public-c-packets-dropped")
				r := m.get(t, "aws_route", m.find(t, "aws_route", has("route_table_id", ref("aws_route_table.web-c", "id"))))
				r["nat_gateway_id"] = ref("aws_nat_gateway.nat-public-a", "id")
			},
			func(tf) expect {
				return expect{kind: "shape", match: "one NAT gateway per AZ", names: "ap-northeast-2c has 0 NAT gateways"}
			}},
		{"a mount target without the EFS security group",
			func(t *testing.T, m tf) {
				mt := m.get(t, "aws_efs_mount_target", m.find(t, "aws_efs_mount_target", has("subnet_id", ref("aws_subnet.web-c", "id"))))
				mt["security_groups"] = []any{ref("aws_security_group.web-sg", "id")}
			},
			func(tf) expect {
				return expect{kind: "shape", match: "one EFS mount target per web AZ", names: "carries web-sg, not the group tagged webtier:role=efs"}
			}},
		{"flow log of rejected traffic only",
			func(t *testing.T, m tf) { m.get(t, "aws_flow_log", "vpc")["traffic_type"] = "REJECT" },
			func(tf) expect {
				return expect{kind: "shape", match: "VPC flow logs", names: `aws_flow_log.vpc: traffic_type = "REJECT"`}
			}},
		{"no flow log",
			func(t *testing.T, m tf) { delete(m.of("aws_flow_log"), "vpc") },
			func(tf) expect {
				return expect{kind: "shape", match: "VPC flow logs", names: "aws_vpc.vpc has no aws_flow_log"}
			}},
		{"flow log delivery role may write anywhere",
			func(t *testing.T, m tf) {
				m.get(t, "aws_iam_role_policy", "flow-logs-write")["policy"] = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"logs:*","Resource":"*"}]}`
			},
			func(tf) expect {
				return expect{kind: "shape", match: "VPC flow logs", names: "aws_iam_role_policy.flow-logs-write: the delivery role's policy must name aws_cloudwatch_log_group.flow-logs and no other resource"}
			}},
		{"default security group keeps a rule",
			func(t *testing.T, m tf) {
				m.get(t, "aws_default_security_group", "default")["ingress"] = []any{map[string]any{"from_port": 0, "to_port": 0, "protocol": "-1", "self": true}}
			},
			func(tf) expect {
				return expect{kind: "shape", match: "default security group", names: "aws_default_security_group.default has 1 rules"}
			}},
		{"default security group left to AWS",
			func(t *testing.T, m tf) { delete(m.of("aws_default_security_group"), "default") },
			func(tf) expect {
				return expect{kind: "shape", match: "default security group", names: "aws_vpc.vpc: no aws_default_security_group"}
			}},
		{"EFS accepts connections without TLS",
			func(t *testing.T, m tf) { delete(m.of("aws_efs_file_system_policy"), "shared") },
			func(tf) expect {
				return expect{kind: "authorization", match: "a mount without TLS is refused", names: "aws_efs_file_system.shared (no file-system policy: EFS's default)"}
			}},
		{"database logs not exported",
			func(t *testing.T, m tf) {
				m.get(t, "aws_db_instance", "db")["enabled_cloudwatch_logs_exports"] = []any{"error"}
			},
			func(tf) expect {
				return expect{kind: "shape", match: "database logs", names: `aws_db_instance.db: enabled_cloudwatch_logs_exports lacks "slowquery"`}
			}},
		{"public IP on the web launch template",
			func(t *testing.T, m tf) {
				lt := m.get(t, "aws_launch_template", "web")
				lt["network_interfaces"] = []any{map[string]any{"device_index": 0, "associate_public_ip_address": "true",
					"security_groups": lt["vpc_security_group_ids"]}}
				delete(lt, "vpc_security_group_ids")
			},
			func(tf) expect {
				return expect{kind: "shape", match: "public addresses", names: "network_interfaces[0].associate_public_ip_address = true on aws_launch_template.web"}
			}},
		{"database subnet group down to one subnet",
			func(t *testing.T, m tf) {
				m.get(t, "aws_db_subnet_group", "db")["subnet_ids"] = []any{ref("aws_subnet.db-a", "id")}
			},
			func(tf) expect {
				return expect{kind: "shape", match: "Multi-AZ", names: "aws_db_subnet_group.db"}
			}},
		{"ALB made internal",
			func(t *testing.T, m tf) { m.get(t, "aws_lb", "alb")["internal"] = true },
			func(tf) expect {
				return expect{kind: "probe", match: "-> alb@public-a tcp/80", code: CodePrivateIP, names: "aws_lb.alb"}
			}},
		{"web SG's ALB rule widened to 0.0.0.0/0",
			func(t *testing.T, m tf) {
				name := m.find(t, sgIn, has("security_group_id", ref("aws_security_group.web-sg", "id"), "from_port", 80))
				r := m.get(t, sgIn, name)
				delete(r, "referenced_security_group_id")
				r["cidr_ipv4"] = "0.0.0.0/0"
				m["widened"] = sgIn + "." + name
			},
			func(m tf) expect {
				return expect{kind: "unexplained", layer: "security groups", match: "internet 198.51.100.7 -> web@web-c", names: m["widened"].(string)}
			}},
		{"NACL allow-all numbered below a deny",
			func(t *testing.T, m tf) {
				nacl := ref("aws_network_acl.web-nacl", "id")
				m.of(acl)["web-deny-all-in"] = map[string]any{"network_acl_id": nacl, "rule_number": 60, "egress": false,
					"protocol": "-1", "rule_action": "deny", "cidr_block": "0.0.0.0/0"}
				m.of(acl)["web-allow-all-in"] = map[string]any{"network_acl_id": nacl, "rule_number": 50, "egress": false,
					"protocol": "-1", "rule_action": "allow", "cidr_block": "0.0.0.0/0"}
			},
			func(tf) expect {
				return expect{kind: "unexplained", layer: "network ACLs", match: "bastion@public-a -> web@web-a", names: acl + ".web-allow-all-in"}
			}},
		{"bastion SG opened to the database on 3306",
			func(t *testing.T, m tf) {
				m.of(sgOut)["bastion-to-db"] = rule("bastion-sg", "tcp", 3306, "sg:db-sg")
				m.of(sgIn)["db-from-bastion"] = rule("db-sg", "tcp", 3306, "sg:bastion-sg")
			},
			func(tf) expect {
				return expect{kind: "unexplained", layer: "security groups", match: "bastion@public-a -> db@db-a", names: sgIn + ".db-from-bastion"}
			}},
		{"web egress opened to 0.0.0.0/0 on 443",
			func(t *testing.T, m tf) { m.of(sgOut)["web-https-anywhere"] = rule("web-sg", "tcp", 443, "0.0.0.0/0") },
			func(tf) expect {
				return expect{kind: "unexplained", layer: "security groups", match: "web@web-c -> internet 8.8.8.8", names: sgOut + ".web-https-anywhere"}
			}},
		{"cross-zone load balancing off",
			func(t *testing.T, m tf) {
				m.get(t, "aws_lb_target_group", "web")["load_balancing_cross_zone_enabled"] = "false"
			},
			func(tf) expect {
				return expect{kind: "probe", match: "alb@public-a -> web@web-c tcp/80", code: CodeNoTargetsInAZ, names: "aws_lb_target_group.web"}
			}},
		{"listener moved to 8080",
			func(t *testing.T, m tf) { m.get(t, "aws_lb_listener", "http")["port"] = 8080 },
			func(tf) expect {
				return expect{kind: "probe", match: "-> alb@public-c tcp/80", code: CodeListener, names: "aws_lb.alb"}
			}},
		{"target group port 8080",
			func(t *testing.T, m tf) { m.get(t, "aws_lb_target_group", "web")["port"] = 8080 },
			func(tf) expect {
				return expect{kind: "probe", match: "alb@public-c -> web@web-a tcp/80", code: CodeTargetPort, names: "aws_lb_target_group.web"}
			}},
		{"Auto Scaling group of one",
			func(t *testing.T, m tf) { m.get(t, "aws_autoscaling_group", "web")["min_size"] = 1 },
			func(tf) expect {
				return expect{kind: "shape", match: "min >= 2", names: "aws_autoscaling_group.web: min_size = 1"}
			}},
		{"Auto Scaling group in web-a only",
			func(t *testing.T, m tf) {
				m.get(t, "aws_autoscaling_group", "web")["vpc_zone_identifier"] = []any{ref("aws_subnet.web-a", "id")}
			},
			func(tf) expect {
				return expect{kind: "shape", match: "min >= 2", names: "leaves out the web subnet 10.16.4.0/24"}
			}},
		{"database without a standby",
			func(t *testing.T, m tf) { m.get(t, "aws_db_instance", "db")["multi_az"] = false },
			func(tf) expect {
				return expect{kind: "shape", match: "Multi-AZ", names: "multi_az is not true"}
			}},
		{"mount target of AZ c removed",
			func(t *testing.T, m tf) { delete(m.of("aws_efs_mount_target"), "shared-c") },
			func(tf) expect {
				return expect{kind: "shape", match: "mount target", names: "ap-northeast-2c has 0 mount targets"}
			}},
		{"bastion SSH from anywhere",
			func(t *testing.T, m tf) {
				m.of(sgIn)["bastion-ssh-anywhere"] = rule("bastion-sg", "tcp", 22, "0.0.0.0/0")
			},
			func(tf) expect {
				return expect{kind: "unexplained", layer: "security groups", match: "internet 198.51.100.7 -> bastion@public-a", names: sgIn + ".bastion-ssh-anywhere"}
			}},
		{"public NACL SSH entry widened to 0.0.0.0/0",
			func(t *testing.T, m tf) {
				name := m.find(t, acl, has("egress", false, "from_port", 22, "network_acl_id", ref("aws_network_acl.public-nacl", "id")))
				m.get(t, acl, name)["cidr_block"] = "0.0.0.0/0"
				m["widened"] = acl + "." + name
			},
			func(m tf) expect {
				return expect{kind: "unexplained", layer: "network ACLs", match: "internet 198.51.100.7 -> bastion@public-c", names: m["widened"].(string)}
			}},
		{"web-c left to the default network ACL",
			func(t *testing.T, m tf) {
				m.get(t, "aws_network_acl", "web-nacl")["subnet_ids"] = []any{ref("aws_subnet.web-a", "id")}
			},
			func(tf) expect {
				return expect{kind: "unexplained", layer: "network ACLs", match: "bastion@public-a -> web@web-c", names: "default network ACL of aws_vpc.vpc"}
			}},
		{"inline SSH rule on the web SG",
			func(t *testing.T, m tf) {
				m.get(t, "aws_security_group", "web-sg")["ingress"] = []any{map[string]any{"from_port": 22, "to_port": 22,
					"protocol": "tcp", "cidr_blocks": []any{"0.0.0.0/0"}}}
			},
			func(tf) expect {
				return expect{kind: "unexplained", layer: "security groups", match: "-> web@web-a", names: "aws_security_group.web-sg ingress[0]"}
			}},
		{"legacy aws_security_group_rule opening MySQL to the internet",
			func(t *testing.T, m tf) {
				m.of("aws_security_group_rule")["db-open"] = map[string]any{"type": "ingress", "security_group_id": ref("aws_security_group.db-sg", "id"),
					"protocol": "tcp", "from_port": 3306, "to_port": 3306, "cidr_blocks": []any{"0.0.0.0/0"}}
			},
			func(tf) expect {
				return expect{kind: "unexplained", layer: "security groups", match: "internet 198.51.100.7 -> db@db-a", names: "aws_security_group_rule.db-open"}
			}},
		{"database publicly accessible",
			func(t *testing.T, m tf) { m.get(t, "aws_db_instance", "db")["publicly_accessible"] = true },
			func(tf) expect {
				return expect{kind: "shape", match: "public addresses", names: "publicly_accessible = true on aws_db_instance.db"}
			}},
		{"a deny entry numbered below the SSH entry",
			func(t *testing.T, m tf) {
				m.of(acl)["web-deny-ssh"] = map[string]any{"network_acl_id": ref("aws_network_acl.web-nacl", "id"), "rule_number": 5,
					"egress": false, "protocol": "tcp", "rule_action": "deny", "cidr_block": "10.16.1.0/24", "from_port": 22, "to_port": 22}
			},
			func(tf) expect {
				return expect{kind: "probe", match: "bastion@public-a -> web@web-a tcp/22", code: CodeNACL, names: acl + ".web-deny-ssh"}
			}},
	}
	for _, mu := range mutations {
		t.Run(mu.name, func(t *testing.T) {
			m := decode(t, data)
			mu.mutate(t, m)
			m.prune()
			want := mu.want(m)
			delete(m, "narrowed")
			delete(m, "widened")
			out, err := json.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			r := verifyBytes(t, out, in)
			if r.OK() {
				t.Fatalf("expected verify to fail with %s, got a clean report", want)
			}
			if !want.met(r) {
				t.Errorf("expected verify to fail with %s, got:\n%s", want, failures(r))
			}
		})
	}
}

// TestUnresolvableReference checks that a reference to a missing resource is a load error
// naming the resource, the attribute and the missing target.
func TestUnresolvableReference(t *testing.T) {
	data, _ := defaultStack(t)
	m := decode(t, data)
	m.get(t, "aws_route", "web-a-default")["nat_gateway_id"] = ref("aws_nat_gateway.nope", "id")
	out, _ := json.Marshal(m)
	_, err := Load(out)
	want := "aws_route.web-a-default: nat_gateway_id: refers to aws_nat_gateway.nope, which is not in the stack"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("Load: expected an error %q, got %v", want, err)
	}
}

// TestS3EndpointMutations breaks the repository path of `s3_gateway_endpoint: true` (the
// synthesized testdata/s3-endpoint.tf.json) and checks that verify names what broke.
func TestS3EndpointMutations(t *testing.T) {
	data, in := s3EndpointStack(t)
	for _, mu := range []struct {
		name   string
		mutate func(t *testing.T, m tf)
		want   expect
	}{
		{"the endpoint not on web-c's route table",
			func(t *testing.T, m tf) {
				m.get(t, "aws_vpc_endpoint", "s3")["route_table_ids"] = []any{ref("aws_route_table.web-a", "id")}
			},
			expect{kind: "shape", match: "S3 gateway endpoint", names: "aws_route_table.web-c has no route to the S3 prefix list com.amazonaws.ap-northeast-2.s3 through a gateway endpoint"}},
		{"the endpoint not on web-c's route table: its downloads die at the public ACL",
			func(t *testing.T, m tf) {
				m.get(t, "aws_vpc_endpoint", "s3")["route_table_ids"] = []any{ref("aws_route_table.web-a", "id")}
			},
			expect{kind: "probe", match: "web@web-c -> repo 52.219.56.10 tcp/443", code: CodeNACL, names: "aws_network_acl.public-nacl", verdict: "blocked"}},
		{"the endpoint policy opened to every S3 action",
			func(t *testing.T, m tf) {
				m.get(t, "aws_vpc_endpoint", "s3")["policy"] = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}]}`
			},
			expect{kind: "shape", match: "S3 gateway endpoint", names: "aws_vpc_endpoint.s3: policy statement 0 allows Action s3:*; expected s3:GetObject only"}},
		{"the endpoint without a policy",
			func(t *testing.T, m tf) { delete(m.get(t, "aws_vpc_endpoint", "s3"), "policy") },
			expect{kind: "shape", match: "S3 gateway endpoint", names: "aws_vpc_endpoint.s3: no policy"}},
		{"web egress on 443 to anywhere besides the prefix list",
			func(t *testing.T, m tf) { m.of(sgOut)["web-https-anywhere"] = rule("web-sg", "tcp", 443, "0.0.0.0/0") },
			expect{kind: "unexplained", layer: "security groups", match: "web@web-a -> internet 8.8.8.8", names: sgOut + ".web-https-anywhere"}},
	} {
		t.Run(mu.name, func(t *testing.T) {
			m := decode(t, data)
			mu.mutate(t, m)
			failsAs(t, m, in, mu.want)
		})
	}
}

// asDeployed rewrites the S3 endpoint stack the way a deployment reads back: the routes AWS
// added (to the S3 prefix list, through the endpoint) explicit in each web route table, and
// the list a resource of the stack with its entries, which the web SG rule names.
func asDeployed(t *testing.T, m tf, cidrs []string) {
	var entries []any
	for _, c := range cidrs {
		entries = append(entries, map[string]any{"cidr": c})
	}
	m.of("aws_ec2_managed_prefix_list")["s3"] = map[string]any{"id": "pl-78a54011", "name": "com.amazonaws.ap-northeast-2.s3", "entry": entries}
	for _, az := range []string{"a", "c"} {
		m.of("aws_route")["web-"+az+"-s3"] = map[string]any{"route_table_id": ref("aws_route_table.web-"+az, "id"),
			"destination_prefix_list_id": "pl-78a54011", "vpc_endpoint_id": ref("aws_vpc_endpoint.s3", "id")}
	}
	name := m.find(t, sgOut, has("prefix_list_id", ref("aws_vpc_endpoint.s3", "prefix_list_id")))
	m.get(t, sgOut, name)["prefix_list_id"] = ref("aws_ec2_managed_prefix_list.s3", "id")
}

// TestS3EndpointAsDeployed: a deployed S3 prefix list is judged by its own entries; one that
// holds a range repo_cidrs lack fails the endpoint's shape check, naming the range.
func TestS3EndpointAsDeployed(t *testing.T) {
	data, in := s3EndpointStack(t)
	var repos []string
	for _, p := range in.RepoCIDRs {
		repos = append(repos, p.String())
	}
	m := decode(t, data)
	asDeployed(t, m, repos)
	out, _ := json.Marshal(m)
	if r := verifyBytes(t, out, in); !r.OK() {
		t.Fatalf("expected the stack as deployed to verify clean, got:\n%s", failures(r))
	}
	m = decode(t, data)
	asDeployed(t, m, append(repos, "16.12.18.0/24"))
	out, _ = json.Marshal(m)
	r := verifyBytes(t, out, in)
	want := expect{kind: "shape", match: "S3 gateway endpoint", names: "aws_route_table.web-a: the S3 prefix list (pl s3) holds 16.12.18.0/24, which repo_cidrs do not cover"}
	if r.OK() || !want.met(r) {
		t.Errorf("expected verify to fail with %s, got:\n%s", want, failures(r))
	}
}

// failsAs verifies the mutated stack m and requires it to fail the way want says; it returns
// the report.
func failsAs(t *testing.T, m tf, in Intent, want expect) *Report {
	t.Helper()
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	r := verifyBytes(t, out, in)
	if r.OK() {
		t.Fatalf("expected verify to fail with %s, got a clean report", want)
	}
	if !want.met(r) {
		t.Errorf("expected verify to fail with %s, got:\n%s", want, failures(r))
	}
	return r
}
