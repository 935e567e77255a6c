package verify

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestLoadErrors pins the loader's message for each kind of bad input: each names the
// resource and the attribute.
func TestLoadErrors(t *testing.T) {
	data, _ := defaultStack(t)
	cases := []struct {
		name   string
		mutate func(t *testing.T, m tf)
		raw    string
		want   string
	}{
		{name: "not an object", raw: `[]`, want: "not Terraform JSON"},
		{name: "not JSON", raw: `{"resource": `, want: "not Terraform JSON"},
		{name: "trailing data", raw: `{} {}`, want: "unexpected data after the object"},
		{name: "resource not an object", raw: `{"resource": []}`, want: "resource: expected an object of resource types"},
		{name: "attributes not an object", raw: `{"resource": {"aws_vpc": {"v": 1}}}`, want: "aws_vpc.v: expected an object of attributes"},
		{name: "missing resource", mutate: func(t *testing.T, m tf) {
			m.get(t, "aws_subnet", "web-a")["vpc_id"] = ref("aws_vpc.other", "id")
		}, want: "aws_subnet.web-a: vpc_id: refers to aws_vpc.other, which is not in the stack"},
		{name: "missing data source", mutate: func(t *testing.T, m tf) {
			m.get(t, "aws_instance", "bastion-a")["ami"] = ref("data.aws_ami.nope", "id")
		}, want: "aws_instance.bastion-a: ami: refers to data.aws_ami.nope, which is not in the stack"},
		{name: "missing resource inside an expression", mutate: func(t *testing.T, m tf) {
			m.get(t, "aws_iam_role_policy", "web-read-db-secret")["policy"] = `${jsonencode({"Resource" = aws_db_instance.gone.arn})}`
		}, want: "aws_iam_role_policy.web-read-db-secret: policy: refers to aws_db_instance.gone"},
		{name: "missing depends_on", mutate: func(t *testing.T, m tf) {
			m.get(t, "aws_nat_gateway", "nat-public-a")["depends_on"] = []any{"aws_internet_gateway.gone"}
		}, want: "aws_nat_gateway.nat-public-a: depends_on[0]: refers to aws_internet_gateway.gone"},
		{name: "data source where a resource is needed", mutate: func(t *testing.T, m tf) {
			m.get(t, "aws_instance", "bastion-a")["subnet_id"] = ref("data.aws_ssm_parameter.al2023", "insecure_value")
		}, want: "aws_instance.bastion-a: subnet_id: data.aws_ssm_parameter.al2023 is a data source"},
		{name: "reference of the wrong type", mutate: func(t *testing.T, m tf) {
			m.get(t, "aws_instance", "bastion-a")["subnet_id"] = ref("aws_vpc.vpc", "id")
		}, want: "aws_instance.bastion-a: subnet_id: refers to aws_vpc.vpc; expected aws_subnet"},
		{name: "value known only after apply", mutate: func(t *testing.T, m tf) {
			m.get(t, "aws_subnet", "web-a")["cidr_block"] = ref("aws_instance.bastion-a", "private_ip")
		}, want: "aws_subnet.web-a: cidr_block: aws_instance.bastion-a.private_ip is known only after apply"},
		{name: "expression", mutate: func(t *testing.T, m tf) {
			m.get(t, "aws_subnet", "web-a")["cidr_block"] = `${cidrsubnet(aws_vpc.vpc.cidr_block, 8, 3)}`
		}, want: "aws_subnet.web-a: cidr_block: the expression"},
		{name: "unterminated interpolation", mutate: func(t *testing.T, m tf) {
			m.get(t, "aws_subnet", "web-a")["cidr_block"] = `${aws_vpc.vpc.cidr_block`
		}, want: "aws_subnet.web-a: cidr_block: unterminated ${"},
		{name: "bad CIDR", mutate: func(t *testing.T, m tf) {
			m.get(t, "aws_subnet", "web-a")["cidr_block"] = "10.16.3.0/33"
		}, want: `aws_subnet.web-a: cidr_block: "10.16.3.0/33" is not an IPv4 CIDR`},
		{name: "subnet outside the VPC", mutate: func(t *testing.T, m tf) {
			m.get(t, "aws_subnet", "web-a")["cidr_block"] = "10.17.3.0/24"
		}, want: "aws_subnet.web-a: cidr_block: 10.17.3.0/24 is outside aws_vpc.vpc"},
		{name: "subnet in two network ACLs", mutate: func(t *testing.T, m tf) {
			m.of("aws_network_acl_association")["web-a"] = map[string]any{"network_acl_id": ref("aws_network_acl.db-nacl", "id"), "subnet_id": ref("aws_subnet.web-a", "id")}
		}, want: "aws_subnet.web-a is already associated with aws_network_acl."},
		{name: "repeated rule number", mutate: func(t *testing.T, m tf) {
			m.of(acl)["again"] = map[string]any{"network_acl_id": ref("aws_network_acl.web-nacl", "id"), "rule_number": 400, "egress": false,
				"protocol": "tcp", "rule_action": "allow", "cidr_block": "0.0.0.0/0", "from_port": 1, "to_port": 2}
		}, want: "rule_number: rule 400 is already"},
		{name: "bad ports", mutate: func(t *testing.T, m tf) {
			m.of(sgIn)["bad"] = map[string]any{"security_group_id": ref("aws_security_group.web-sg", "id"), "ip_protocol": "tcp",
				"from_port": 90, "to_port": 80, "cidr_ipv4": "0.0.0.0/0"}
		}, want: sgIn + ".bad: ports 90-80 are not a range within 0-65535"},
		{name: "rule without a peer", mutate: func(t *testing.T, m tf) {
			m.of(sgIn)["nopeer"] = map[string]any{"security_group_id": ref("aws_security_group.web-sg", "id"), "ip_protocol": "tcp", "from_port": 80, "to_port": 80}
		}, want: sgIn + ".nopeer: names no peer"},
		{name: "unknown protocol", mutate: func(t *testing.T, m tf) {
			m.of(sgIn)["proto"] = map[string]any{"security_group_id": ref("aws_security_group.web-sg", "id"), "ip_protocol": "tcpp", "cidr_ipv4": "0.0.0.0/0"}
		}, want: sgIn + `.proto: ip_protocol: "tcpp" is not an IP protocol`},
		{name: "instance without a subnet", mutate: func(t *testing.T, m tf) {
			delete(m.get(t, "aws_instance", "bastion-a"), "subnet_id")
		}, want: "aws_instance.bastion-a: subnet_id: missing; the instance would land in the default VPC"},
		{name: "database without a subnet group", mutate: func(t *testing.T, m tf) {
			m.get(t, "aws_db_instance", "db")["db_subnet_group_name"] = "nope"
		}, want: `aws_db_instance.db: db_subnet_group_name: "nope" names no aws_db_subnet_group of the stack`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			input := []byte(c.raw)
			if c.mutate != nil {
				m := decode(t, data)
				c.mutate(t, m)
				input, _ = json.Marshal(m)
			}
			_, err := Load(input)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("Load: expected an error with %q, got %v", c.want, err)
			}
		})
	}
}

// TestLoadIgnoresUserDataAndOutputs checks that references in user data and outputs do not
// matter.
func TestLoadIgnoresUserDataAndOutputs(t *testing.T) {
	data, _ := defaultStack(t)
	m := decode(t, data)
	m.get(t, "aws_launch_template", "web")["user_data"] = "${base64encode(aws_nope.gone.id)}"
	m["output"] = map[string]any{"x": map[string]any{"value": "${aws_nope.gone.id}"}}
	out, _ := json.Marshal(m)
	if _, err := Load(out); err != nil {
		t.Errorf("Load: expected user data and output references to be ignored, got %v", err)
	}
}

// FuzzLoad feeds the loader arbitrary JSON: it must answer with a model or an error, never
// panic; a model that loads must verify without panicking too.
func FuzzLoad(f *testing.F) {
	data, in := defaultStack(f)
	f.Add(data)
	for _, seed := range []string{
		`{}`, `[]`, `null`, `{"resource": {}}`, `{"resource": {"aws_vpc": {"v": {"cidr_block": "10.0.0.0/16"}}}}`,
		`{"resource": {"aws_subnet": {"s": {"vpc_id": "${aws_vpc.v.id}", "cidr_block": "10.0.0.0/24"}}}}`,
		`{"resource": {"aws_vpc": {"v": {"cidr_block": "${aws_vpc.v.cidr_block}"}}}}`,
		`{"resource": {"aws_network_acl_rule": {"r": {"rule_number": 1e300}}}}`,
		smallStack,
	} {
		f.Add([]byte(seed))
	}
	var m map[string]any
	json.Unmarshal(data, &m)
	res := m["resource"].(map[string]any)
	delete(res, "aws_subnet")
	broken, _ := json.Marshal(m)
	f.Add(broken)
	f.Add(data[:len(data)/2])
	f.Fuzz(func(t *testing.T, input []byte) {
		n, err := Load(input)
		if err != nil {
			if err.Error() == "" {
				t.Errorf("Load: expected an error with a message, got an empty one")
			}
			return
		}
		// Verifying the whole web tier takes milliseconds; small networks keep the fuzzer fast.
		if len(input) < 4096 {
			Verify(n, in)
		}
	})
}

// smallStack is a network of one public instance: a seed that loads and verifies.
const smallStack = `{"resource": {
 "aws_vpc": {"v": {"cidr_block": "10.0.0.0/16"}},
 "aws_subnet": {"a": {"vpc_id": "${aws_vpc.v.id}", "cidr_block": "10.0.1.0/24", "availability_zone": "x-1a"}},
 "aws_internet_gateway": {"g": {"vpc_id": "${aws_vpc.v.id}"}},
 "aws_security_group": {"s": {"vpc_id": "${aws_vpc.v.id}", "egress": [{"protocol": "-1", "from_port": 0, "to_port": 0, "cidr_blocks": ["0.0.0.0/0"]}]}},
 "aws_instance": {"i": {"subnet_id": "${aws_subnet.a.id}", "vpc_security_group_ids": ["${aws_security_group.s.id}"], "associate_public_ip_address": true}},
 "aws_vpc_security_group_ingress_rule": {"r": {"security_group_id": "${aws_security_group.s.id}", "ip_protocol": "tcp", "from_port": 22, "to_port": 22, "cidr_ipv4": "0.0.0.0/0"}},
 "aws_network_acl": {"n": {"vpc_id": "${aws_vpc.v.id}", "subnet_ids": ["${aws_subnet.a.id}"], "ingress": [{"rule_no": 100, "action": "allow", "protocol": "tcp", "from_port": 22, "to_port": 22, "cidr_block": "0.0.0.0/0"}]}},
 "aws_route_table": {"t": {"vpc_id": "${aws_vpc.v.id}", "route": [{"cidr_block": "0.0.0.0/0", "gateway_id": "${aws_internet_gateway.g.id}"}]}},
 "aws_route_table_association": {"x": {"subnet_id": "${aws_subnet.a.id}", "route_table_id": "${aws_route_table.t.id}"}}
}}`
