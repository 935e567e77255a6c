package changecases

import (
	"fmt"
	"strings"

	"github.com/webtier/webtier/config"
	"github.com/webtier/webtier/rules"
)

// What each change must show, from AWS's semantics (the diff; then, with the plan, the
// apply's states: every destroy done and no create yet, every create done and no destroy
// yet; then the interruption table):
//
//   - a new flow (bastion -> db 3306, its SG rules and NACL entries): opened bastion -> db
//     tcp/3306 for bastion-to-db-mysql, 4 pairs (2 bastions x 2 db subnets); only creations,
//     so the apply interrupts nothing.
//   - a flow removed (bastion -> web ssh, its two SG rules, the flow gone from the table):
//     closed bastion -> web tcp/22, 4 pairs, not a failure (no flow of the head needs it);
//     the two rules' deletions are in the interruption table.
//   - the same rules removed while the table keeps the flow: closed, and a failure.
//   - a port widened on one end only (web-sg lets alb-sg in on 80-81): nothing opens, since
//     alb-sg's egress still stops 81 (both ends' groups judge a connection).
//   - a port widened (alb-sg out and web-sg in, 80-81): the web ACL still admits 80 only from
//     the public subnets, so no path opens; the security groups alone now pass alb -> web
//     tcp/81, which no flow asks for: opened in the security groups alone, a failure.
//   - a NACL entry renumbered (web-nacl's #400, SSH from public-a, to #405: rule_number
//     forces a replacement, destroy first): no connection changes in the end, but between the
//     destroy and the create bastion@public-a -> web tcp/22 is dropped (2 pairs): interrupted.
//   - web-c's subnet moved to web-a's route table (the association updated in place): nothing
//     opened or closed; web-c's package downloads rerouted through nat-public-a; no gap.
//   - web-c's route table association replaced (destroy first) rather than moved in place: in
//     between web-c uses the VPC's main route table, which holds only the local route, so
//     web-c's package downloads (9 repository classes) are interrupted.
//   - a security group replaced (web-sg renamed: name forces a new group, destroy first, and
//     every rule naming it with it): no connection changes in the end; in between the web
//     servers hold no rules: alb -> web 80, bastion -> web 22, web -> db 3306, web -> efs
//     2049 (own AZ), web -> repos 443 and web -> the secrets endpoint 443 are interrupted.
//   - an SG rule moved between groups (the ALB's ingress on 80 from anywhere moved to web-sg):
//     internet -> alb tcp/80 closed while internet-to-alb-http needs it (a failure, from the
//     internet, admin and repository addresses alike); internet -> web tcp/80 passes the
//     security groups alone, behind the web servers' private addresses and the web ACL
//     (opened in the security groups alone, a failure).
//   - the S3 gateway endpoint turned on: nothing opened or closed in the end; each web
//     subnet's downloads rerouted from its NAT gateway to the endpoint (2 classes of 9
//     pairs); two authorizations only the head asks: the endpoint's policy lets dnf read the
//     repository bucket, and refuses every other bucket; but the rules to the repository CIDRs are deleted while the endpoint and its
//     prefix-list rule are not created yet: web -> repos tcp/443 interrupted (18 pairs).
//   - nat: single: web-c's downloads rerouted through nat-public-a; web-c's route is updated
//     before nat-public-c (which it names) is destroyed, so nothing is interrupted; the NAT
//     gateway's and its Elastic IP's deletions are in the interruption table.
//   - an admin CIDR added (198.18.0.0/24 with its SG rule and ACL entries): opened admin ->
//     bastion tcp/22 for admin-to-bastion-ssh from the new range only (2 pairs).
//   - a second ALB listener (certificate_arn: the HTTPS listener, its SG rule and ACL entry):
//     opened internet, admin and repository addresses -> alb tcp/443 for
//     internet-to-alb-https.
//   - the web subnets' network ACL replaced (destroy first, its entries with it): nothing in
//     the end; in between the web subnets fall back to the VPC's default network ACL, which
//     allows everything: no flow breaks (the security groups still pass each), but web ->
//     the other AZ's EFS mount target tcp/2049, which the security groups let through and
//     only the ACL stopped, opens in between (2 pairs): a failure.
//   - the web servers' role reads the database secret no more (its policy allows
//     secretsmanager:DescribeSecret instead of GetSecretValue): no connection changes, but the
//     authorization "the web servers read the database secret" goes from allowed to denied: a
//     failure (and verify's own check that every Allow serves a flow now finds one that does
//     not, DescribeSecret: a failure too).
//   - the database's instance class changed: opens and closes nothing, interrupts no
//     connection, and the interruption table says the class change fails the database over.
//   - a bastion removed (a destination on one side only): closed admin -> bastion tcp/22 to
//     bastion@public-c and bastion@public-c -> web tcp/22, naming the missing instance; not
//     failures (bastion-a still serves both flows).
//   - a second bastion in public-a (a source on one side only, beside one both have): opened
//     admin -> bastion tcp/22 to it and bastion -> web tcp/22 from it (1 and 2 pairs), naming
//     the instance the base lacks; bastion-a's connections unchanged though its name now
//     carries its resource's (two bastions share the subnet).
//   - a bastion replaced (a new AMI: destroy first): no change in the end; in between
//     admin -> bastion@public-c and bastion@public-c -> web are interrupted, and the table
//     says it comes back with a new public IP and host key.
var Cases = []Case{
	{Name: "new flow", Edit: func(m Stack) {
		m.Of(sgOut)["bastion-sg-egress-bastion-to-db-mysql"] = sgRule("bastion-sg", 3306, "sg:db-sg")
		m.Of(sgIn)["db-sg-ingress-bastion-to-db-mysql"] = sgRule("db-sg", 3306, "sg:bastion-sg")
		for i, db := range []string{"10.16.5.0/24", "10.16.6.0/24"} {
			m.Of(acl)[fmt.Sprintf("public-nacl-egress-%d", 2000+10*i)] = naclEntry("public-nacl", true, 2000+10*i, db, 3306, 3306)
			m.Of(acl)[fmt.Sprintf("public-nacl-ingress-%d", 18000+10*i)] = naclEntry("public-nacl", false, 18000+10*i, db, 32768, 60999)
		}
		for i, pub := range []string{"10.16.1.0/24", "10.16.2.0/24"} {
			m.Of(acl)[fmt.Sprintf("db-nacl-ingress-%d", 2000+10*i)] = naclEntry("db-nacl", false, 2000+10*i, pub, 3306, 3306)
			m.Of(acl)[fmt.Sprintf("db-nacl-egress-%d", 18000+10*i)] = naclEntry("db-nacl", true, 18000+10*i, pub, 32768, 60999)
		}
	}, Flows: func(fs []rules.Flow) []rules.Flow { return append(fs[:len(fs):len(fs)], MigrationsFlow) },
		Want:  []string{"opened path bastion -> db tcp/3306 [bastion-to-db-mysql] ok pairs=4"},
		Cause: sgIn + ".db-sg-ingress-bastion-to-db-mysql"},
	{Name: "flow removed", Edit: func(m Stack) {
		delete(m.Of(sgOut), "bastion-sg-egress-bastion-to-web-ssh")
		delete(m.Of(sgIn), "web-sg-ingress-bastion-to-web-ssh")
		m.Prune()
	}, Flows: withoutFlow("bastion-to-web-ssh"),
		Want:       []string{"closed path bastion -> web tcp/22 [bastion-to-web-ssh] ok pairs=4"},
		Interrupts: []string{sgOut + ".bastion-sg-egress-bastion-to-web-ssh", sgIn + ".web-sg-ingress-bastion-to-web-ssh"},
		Cause:      sgIn + ".web-sg-ingress-bastion-to-web-ssh"},
	{Name: "flow's rules removed, flow kept", Edit: func(m Stack) {
		delete(m.Of(sgOut), "bastion-sg-egress-bastion-to-web-ssh")
		delete(m.Of(sgIn), "web-sg-ingress-bastion-to-web-ssh")
		m.Prune()
	}, Want: []string{"closed path bastion -> web tcp/22 [bastion-to-web-ssh] FAIL pairs=4"},
		Interrupts: []string{sgOut + ".bastion-sg-egress-bastion-to-web-ssh", sgIn + ".web-sg-ingress-bastion-to-web-ssh"}},
	{Name: "port widened on one end only", Edit: func(m Stack) {
		m.Get(sgIn, "web-sg-ingress-alb-to-web-http")["to_port"] = 81
	}},
	{Name: "port widened", Edit: func(m Stack) {
		m.Get(sgIn, "web-sg-ingress-alb-to-web-http")["to_port"] = 81
		m.Get(sgOut, "alb-sg-egress-alb-to-web-http")["to_port"] = 81
	}, Want: []string{"opened security groups alb -> web tcp/81 [] FAIL pairs=4"},
		Cause: sgIn + ".web-sg-ingress-alb-to-web-http"},
	{Name: "NACL entry renumbered", Edit: func(m Stack) {
		m.Get(acl, "web-nacl-ingress-400")["rule_number"] = 405
	}, Replace: func(Stack) map[string][]string {
		return map[string][]string{acl + ".web-nacl-ingress-400": {"rule_number"}}
	}, Apply: []string{"interrupted path bastion -> web tcp/22 [bastion-to-web-ssh] warn pairs=2"},
		Interrupts: []string{acl + ".web-nacl-ingress-400"}},
	{Name: "web subnet moved to another route table", Edit: func(m Stack) {
		m.Get("aws_route_table_association", "web-c")["route_table_id"] = ref("aws_route_table.web-a")
	}, Want: []string{"rerouted web -> repos tcp/443 pairs=9 via web-c: 0.0.0.0/0 > NAT gateway nat@public-a"},
		Interrupts: []string{"aws_route_table_association.web-c"}},
	{Name: "route table association replaced", Replace: func(Stack) map[string][]string {
		return map[string][]string{"aws_route_table_association.web-c": {"subnet_id"}}
	}, Apply: []string{"interrupted path web -> repos tcp/443 [web-to-repos-https] warn pairs=9"},
		Interrupts: []string{"aws_route_table_association.web-c"}},
	{Name: "security group replaced", Edit: func(m Stack) {
		m.Get("aws_security_group", "web-sg")["name"] = "webtier-web-v2"
	}, Replace: func(b Stack) map[string][]string {
		out := map[string][]string{"aws_security_group.web-sg": {"name"}}
		for _, addr := range b.Naming("aws_security_group.web-sg") {
			if strings.HasPrefix(addr, sgIn+".") || strings.HasPrefix(addr, sgOut+".") {
				out[addr] = []string{"security_group_id"}
			}
		}
		return out
	}, Apply: []string{
		"interrupted path alb -> web tcp/80 [alb-to-web-http] warn pairs=4",
		"interrupted path bastion -> web tcp/22 [bastion-to-web-ssh] warn pairs=4",
		"interrupted path web -> db tcp/3306 [web-to-db-mysql] warn pairs=4",
		"interrupted path web -> efs tcp/2049 [web-to-efs-nfs] warn pairs=2",
		"interrupted path web -> repos tcp/443 [web-to-repos-https] warn pairs=18",
		"interrupted path web -> secrets-endpoint tcp/443 [web-to-secrets-https] warn pairs=4",
	}, Interrupts: []string{"aws_security_group.web-sg", sgIn + ".web-sg-ingress-alb-to-web-http"}},
	{Name: "SG rule moved between groups", Edit: func(m Stack) {
		r := m.Get(sgIn, "alb-sg-ingress-internet-to-alb-http-0-0-0-0-0")
		delete(m.Of(sgIn), "alb-sg-ingress-internet-to-alb-http-0-0-0-0-0")
		r["security_group_id"] = ref("aws_security_group.web-sg")
		m.Of(sgIn)["web-sg-ingress-internet-http"] = r
		m.Prune()
	}, Want: []string{
		"closed path admin -> alb tcp/80 [internet-to-alb-http] FAIL pairs=2",
		"closed path internet -> alb tcp/80 [internet-to-alb-http] FAIL pairs=4",
		"closed path repos -> alb tcp/80 [internet-to-alb-http] FAIL pairs=18",
		"opened security groups admin -> web tcp/80 [] FAIL pairs=2",
		"opened security groups internet -> web tcp/80 [] FAIL pairs=4",
		"opened security groups repos -> web tcp/80 [] FAIL pairs=18",
	}, Interrupts: []string{sgIn + ".alb-sg-ingress-internet-to-alb-http-0-0-0-0-0"}},
	{Name: "S3 gateway endpoint turned on", File: "verify/testdata/s3-endpoint.tf.json",
		Config: func(c *config.Config) { c.S3GatewayEndpoint = true },
		Want: []string{
			"authorization the S3 gateway endpoint lets dnf read the repositories s3:GetObject: - -> allowed ok",
			"authorization the S3 gateway endpoint refuses every other bucket s3:GetObject: - -> denied ok",
			"rerouted web -> repos tcp/443 pairs=9 via web-a: pl com.amazonaws.ap-northeast-2.s3 > gateway endpoint",
			"rerouted web -> repos tcp/443 pairs=9 via web-c: pl com.amazonaws.ap-northeast-2.s3 > gateway endpoint",
		},
		Apply:      []string{"interrupted path web -> repos tcp/443 [web-to-repos-https] warn pairs=18"},
		Interrupts: []string{sgOut + ".web-sg-egress-web-to-repos-https-52-219-56-0-21"}},
	{Name: "nat single", File: "verify/testdata/single-nat.tf.json", Config: func(c *config.Config) { c.NAT = config.NATSingle },
		Want:       []string{"rerouted web -> repos tcp/443 pairs=9 via web-c: 0.0.0.0/0 > NAT gateway nat@public-a"},
		Interrupts: []string{"aws_nat_gateway.nat-public-c", "aws_eip.nat-public-c"}},
	{Name: "admin CIDR added", Edit: func(m Stack) {
		m.Of(sgIn)["bastion-sg-ingress-admin-to-bastion-ssh-198-18-0-0-24"] = sgRule("bastion-sg", 22, "198.18.0.0/24")
		m.Of(acl)["public-nacl-ingress-210"] = naclEntry("public-nacl", false, 210, "198.18.0.0/24", 22, 22)
		m.Of(acl)["public-nacl-egress-16210"] = naclEntry("public-nacl", true, 16210, "198.18.0.0/24", 1024, 65535)
	}, Config: func(c *config.Config) { c.AdminCIDRs = append(c.AdminCIDRs, "198.18.0.0/24") },
		Want:  []string{"opened path admin -> bastion tcp/22 [admin-to-bastion-ssh] ok pairs=2"},
		Cause: acl + ".public-nacl-ingress-210"},
	{Name: "second ALB listener", File: "verify/testdata/https.tf.json",
		Config: func(c *config.Config) { c.CertificateARN = "arn:aws:acm:ap-northeast-2:123456789012:certificate/abc" },
		Want: []string{
			"opened path admin -> alb tcp/443 [internet-to-alb-https] ok pairs=2",
			"opened path internet -> alb tcp/443 [internet-to-alb-https] ok pairs=4",
			"opened path repos -> alb tcp/443 [internet-to-alb-https] ok pairs=18",
		}, Cause: "aws_lb_listener.https"},
	{Name: "web NACL replaced", Replace: func(b Stack) map[string][]string {
		out := map[string][]string{"aws_network_acl.web-nacl": {"vpc_id"}}
		for _, addr := range b.Naming("aws_network_acl.web-nacl") {
			out[addr] = []string{"network_acl_id"}
		}
		return out
	}, Apply: []string{"exposed path web -> efs tcp/2049 [] FAIL pairs=2"},
		Interrupts: []string{"aws_network_acl.web-nacl", acl + ".web-nacl-ingress-400"}},
	{Name: "secret read no longer allowed", Edit: func(m Stack) {
		m.Get("aws_iam_role_policy", "web-read-db-secret")["policy"] = strings.Replace(
			m.Get("aws_iam_role_policy", "web-read-db-secret")["policy"].(string), "secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret", 1)
	}, Want: []string{
		"authorization the web servers read the database secret through the endpoint secretsmanager:GetSecretValue: allowed -> denied FAIL",
		"authorization every Allow of the stack's role policies serves a flow, on named resources -: none beyond -> 1 beyond FAIL",
	}},
	{Name: "database class changed", Edit: func(m Stack) {
		m.Get("aws_db_instance", "db")["instance_class"] = "db.t3.small"
	}, Interrupts: []string{"aws_db_instance.db"}},
	{Name: "bastion removed", Edit: func(m Stack) {
		delete(m.Of("aws_instance"), "bastion-c")
		m.Prune()
		delete(m, "output")
	}, Want: []string{
		"closed path admin -> bastion tcp/22 [admin-to-bastion-ssh] ok pairs=1",
		"closed path bastion -> web tcp/22 [bastion-to-web-ssh] ok pairs=2",
	}, Interrupts: []string{"aws_instance.bastion-c"}, Cause: "aws_instance.bastion-c"},
	{Name: "second bastion in public-a", Edit: func(m Stack) {
		b := map[string]any{}
		for k, v := range m.Get("aws_instance", "bastion-a") {
			b[k] = v
		}
		m.Of("aws_instance")["bastion-a2"] = b
	}, Want: []string{
		"opened path admin -> bastion tcp/22 [admin-to-bastion-ssh] ok pairs=1",
		"opened path bastion -> web tcp/22 [bastion-to-web-ssh] ok pairs=2",
	}, Cause: "aws_instance.bastion-a2"},
	{Name: "bastion replaced", Edit: func(m Stack) {
		m.Get("aws_instance", "bastion-c")["ami"] = "ami-0123456789abcdef0"
	}, Replace: func(Stack) map[string][]string { return map[string][]string{"aws_instance.bastion-c": {"ami"}} },
		Apply: []string{
			"interrupted path admin -> bastion tcp/22 [admin-to-bastion-ssh] warn pairs=1",
			"interrupted path bastion -> web tcp/22 [bastion-to-web-ssh] warn pairs=2",
		}, Interrupts: []string{"aws_instance.bastion-c"}},
}

// Find returns the case named name; it panics on an unknown name (a broken test).
func Find(name string) Case {
	for _, c := range Cases {
		if c.Name == name {
			return c
		}
	}
	panic("no change case " + name)
}
