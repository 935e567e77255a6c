package verify

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/webtier/webtier/config"
	"github.com/webtier/webtier/rules"
)

// The changes of the example stack that `webtier diff` is tested on. Each is a pair of stacks:
// the synthesized example (the base) and the head, made by editing the base's JSON the way
// synth would write the change (or, where verify's testdata holds the synthesized variant,
// that file), with the head's intent. What each must show was written from AWS's semantics
// before the code ran:
//
//   - a new flow (bastion -> db 3306, its SG rules and NACL entries): opened bastion -> db
//     tcp/3306 for bastion-to-db-mysql, 4 pairs (2 bastions x 2 db subnets); nothing closed.
//   - a flow removed (bastion -> web ssh, its two SG rules, the flow gone from the table):
//     closed bastion -> web tcp/22, 4 pairs, not a failure (no flow of the head needs it).
//   - the same rules removed while the table keeps the flow: closed, and a failure.
//   - a port widened on one end only (web-sg lets alb-sg in on 80-81): nothing opens, since
//     alb-sg's egress still stops 81 (both ends' groups judge a connection).
//   - a port widened (alb-sg out and web-sg in, 80-81): the web ACL still admits 80 only from
//     the public subnets, so no path opens; the security groups alone now pass alb -> web
//     tcp/81, which no flow asks for: opened in the security groups alone, a failure.
//   - a NACL entry renumbered (web-nacl #400 -> #405, same content): no connection changes.
//   - web-c's subnet moved to web-a's route table: nothing opened or closed; web-c's package
//     downloads rerouted through nat-public-a (the other AZ's NAT gateway).
//   - a security group replaced (web-sg renamed, which forces a new group): no connection
//     changes in the end state (what the apply interrupts is the plan's part).
//   - an SG rule moved between groups (the ALB's ingress on 80 from anywhere moved to
//     web-sg): internet -> alb tcp/80 closed while internet-to-alb-http needs it (failure);
//     internet -> web tcp/80 passes the security groups alone, behind the web servers' private
//     addresses and the web ACL (opened in the security groups alone, a failure).
//   - the S3 gateway endpoint turned on: nothing opened or closed; each web subnet's package
//     downloads rerouted from its NAT gateway to the endpoint (2 classes of 9 pairs).
//   - nat: single: web-c's downloads rerouted through nat-public-a; nothing else.
//   - an admin CIDR added (198.18.0.0/24 with its SG rule and ACL entries): opened admin ->
//     bastion tcp/22 for admin-to-bastion-ssh from the new range only (2 pairs).
//   - a second ALB listener (certificate_arn: the HTTPS listener, its SG rule and ACL entry):
//     opened internet, admin and repository addresses -> alb tcp/443 for internet-to-alb-https.
//   - a change that opens nothing but interrupts (the database's instance class): no
//     connection changes (its interruption is the plan's part).
//   - a bastion removed (a destination on one side only): closed admin -> bastion tcp/22 to
//     bastion@public-c, naming the missing instance; not a failure (bastion-a still serves
//     the flow).

// diffCase is one change: how the head differs from the base, and what the diff must show.
type diffCase struct {
	name string
	// file, when set, is the head's synthesized stack in testdata; else edit makes the head.
	file string
	edit func(t *testing.T, m tf)
	// cfg and flows change the head's intent.
	cfg   func(c *config.Config)
	flows func([]rules.Flow) []rules.Flow
	want  []string
	// cause is a resource the first opened or closed connection must name among its causes.
	cause string
}

var migrationsFlow = rules.Flow{Slot: 10, ID: "bastion-to-db-mysql", From: rules.Bastion, To: rules.DB,
	Port: rules.MySQL, Why: "operators run schema migrations from a bastion"}

// naclEntry makes an aws_network_acl_rule.
func naclEntry(nacl string, egress bool, number int, cidr string, from, to int) map[string]any {
	return map[string]any{"network_acl_id": ref("aws_network_acl."+nacl, "id"), "egress": egress, "rule_number": number,
		"protocol": "tcp", "rule_action": "allow", "cidr_block": cidr, "from_port": from, "to_port": to}
}

func withoutFlow(id string) func([]rules.Flow) []rules.Flow {
	return func(fs []rules.Flow) []rules.Flow {
		return slices.DeleteFunc(slices.Clone(fs), func(f rules.Flow) bool { return f.ID == id })
	}
}

var diffCases = []diffCase{
	{name: "new flow", edit: func(t *testing.T, m tf) {
		m.of(sgOut)["bastion-sg-egress-bastion-to-db-mysql"] = rule("bastion-sg", "tcp", 3306, "sg:db-sg")
		m.of(sgIn)["db-sg-ingress-bastion-to-db-mysql"] = rule("db-sg", "tcp", 3306, "sg:bastion-sg")
		for i, db := range []string{"10.16.5.0/24", "10.16.6.0/24"} {
			m.of(acl)[fmt.Sprintf("public-nacl-egress-%d", 2000+10*i)] = naclEntry("public-nacl", true, 2000+10*i, db, 3306, 3306)
			m.of(acl)[fmt.Sprintf("public-nacl-ingress-%d", 18000+10*i)] = naclEntry("public-nacl", false, 18000+10*i, db, 32768, 60999)
		}
		for i, pub := range []string{"10.16.1.0/24", "10.16.2.0/24"} {
			m.of(acl)[fmt.Sprintf("db-nacl-ingress-%d", 2000+10*i)] = naclEntry("db-nacl", false, 2000+10*i, pub, 3306, 3306)
			m.of(acl)[fmt.Sprintf("db-nacl-egress-%d", 18000+10*i)] = naclEntry("db-nacl", true, 18000+10*i, pub, 32768, 60999)
		}
	}, flows: func(fs []rules.Flow) []rules.Flow { return append(slices.Clone(fs), migrationsFlow) },
		want:  []string{"opened path bastion -> db tcp/3306 [bastion-to-db-mysql] ok pairs=4"},
		cause: sgIn + ".db-sg-ingress-bastion-to-db-mysql"},
	{name: "flow removed", edit: func(t *testing.T, m tf) {
		delete(m.of(sgOut), "bastion-sg-egress-bastion-to-web-ssh")
		delete(m.of(sgIn), "web-sg-ingress-bastion-to-web-ssh")
		m.prune()
	}, flows: withoutFlow("bastion-to-web-ssh"),
		want:  []string{"closed path bastion -> web tcp/22 [bastion-to-web-ssh] ok pairs=4"},
		cause: sgIn + ".web-sg-ingress-bastion-to-web-ssh"},
	{name: "flow's rules removed, flow kept", edit: func(t *testing.T, m tf) {
		delete(m.of(sgOut), "bastion-sg-egress-bastion-to-web-ssh")
		delete(m.of(sgIn), "web-sg-ingress-bastion-to-web-ssh")
		m.prune()
	}, want: []string{"closed path bastion -> web tcp/22 [bastion-to-web-ssh] FAIL pairs=4"}},
	{name: "port widened on one end only", edit: func(t *testing.T, m tf) {
		m.get(t, sgIn, "web-sg-ingress-alb-to-web-http")["to_port"] = 81
	}},
	{name: "port widened", edit: func(t *testing.T, m tf) {
		m.get(t, sgIn, "web-sg-ingress-alb-to-web-http")["to_port"] = 81
		m.get(t, sgOut, "alb-sg-egress-alb-to-web-http")["to_port"] = 81
	}, want: []string{"opened security groups alb -> web tcp/81 [] FAIL pairs=4"},
		cause: sgIn + ".web-sg-ingress-alb-to-web-http"},
	{name: "NACL entry renumbered", edit: func(t *testing.T, m tf) {
		e := m.get(t, acl, "web-nacl-ingress-400")
		e["rule_number"] = 405
		delete(m.of(acl), "web-nacl-ingress-400")
		m.of(acl)["web-nacl-ingress-405"] = e
		m.prune()
	}},
	{name: "web subnet moved to another route table", edit: func(t *testing.T, m tf) {
		m.get(t, "aws_route_table_association", "web-c")["route_table_id"] = ref("aws_route_table.web-a", "id")
	}, want: []string{"rerouted web -> repos tcp/443 pairs=9 via rt web-a: 0.0.0.0/0 > nat-public-a"}},
	{name: "security group replaced", edit: func(t *testing.T, m tf) {
		m.get(t, "aws_security_group", "web-sg")["name"] = "webtier-web-v2"
	}},
	{name: "SG rule moved between groups", edit: func(t *testing.T, m tf) {
		r := m.get(t, sgIn, "alb-sg-ingress-internet-to-alb-http-0-0-0-0-0")
		delete(m.of(sgIn), "alb-sg-ingress-internet-to-alb-http-0-0-0-0-0")
		r["security_group_id"] = ref("aws_security_group.web-sg", "id")
		m.of(sgIn)["web-sg-ingress-internet-http"] = r
		m.prune()
	}, want: []string{
		"closed path admin -> alb tcp/80 [internet-to-alb-http] FAIL pairs=2",
		"closed path internet -> alb tcp/80 [internet-to-alb-http] FAIL pairs=4",
		"closed path repos -> alb tcp/80 [internet-to-alb-http] FAIL pairs=18",
		"opened security groups admin -> web tcp/80 [] FAIL pairs=2",
		"opened security groups internet -> web tcp/80 [] FAIL pairs=4",
		"opened security groups repos -> web tcp/80 [] FAIL pairs=18",
	}},
	{name: "S3 gateway endpoint turned on", file: "testdata/s3-endpoint.tf.json",
		cfg: func(c *config.Config) { c.S3GatewayEndpoint = true },
		want: []string{
			"rerouted web -> repos tcp/443 pairs=9 via rt web-a: pl com.amazonaws.ap-northeast-2.s3 > s3 (gateway endpoint)",
			"rerouted web -> repos tcp/443 pairs=9 via rt web-c: pl com.amazonaws.ap-northeast-2.s3 > s3 (gateway endpoint)",
		}},
	{name: "nat single", file: "testdata/single-nat.tf.json", cfg: func(c *config.Config) { c.NAT = config.NATSingle },
		want: []string{"rerouted web -> repos tcp/443 pairs=9 via rt web-c: 0.0.0.0/0 > nat-public-a"}},
	{name: "admin CIDR added", edit: func(t *testing.T, m tf) {
		m.of(sgIn)["bastion-sg-ingress-admin-to-bastion-ssh-198-18-0-0-24"] = rule("bastion-sg", "tcp", 22, "198.18.0.0/24")
		m.of(acl)["public-nacl-ingress-210"] = naclEntry("public-nacl", false, 210, "198.18.0.0/24", 22, 22)
		m.of(acl)["public-nacl-egress-16210"] = naclEntry("public-nacl", true, 16210, "198.18.0.0/24", 1024, 65535)
	}, cfg: func(c *config.Config) { c.AdminCIDRs = append(c.AdminCIDRs, "198.18.0.0/24") },
		want:  []string{"opened path admin -> bastion tcp/22 [admin-to-bastion-ssh] ok pairs=2"},
		cause: "aws_network_acl_rule.public-nacl-ingress-210"},
	{name: "second ALB listener", file: "testdata/https.tf.json",
		cfg: func(c *config.Config) { c.CertificateARN = "arn:aws:acm:ap-northeast-2:123456789012:certificate/abc" },
		want: []string{
			"opened path admin -> alb tcp/443 [internet-to-alb-https] ok pairs=2",
			"opened path internet -> alb tcp/443 [internet-to-alb-https] ok pairs=4",
			"opened path repos -> alb tcp/443 [internet-to-alb-https] ok pairs=18",
		}, cause: "aws_lb_listener.https"},
	{name: "database class changed", edit: func(t *testing.T, m tf) {
		m.get(t, "aws_db_instance", "db")["instance_class"] = "db.t3.small"
	}},
	{name: "bastion removed", edit: func(t *testing.T, m tf) {
		delete(m.of("aws_instance"), "bastion-c")
		m.prune()
		delete(m, "output")
	}, want: []string{
		"closed path admin -> bastion tcp/22 [admin-to-bastion-ssh] ok pairs=1",
		"closed path bastion -> web tcp/22 [bastion-to-web-ssh] ok pairs=2",
	}, cause: "aws_instance.bastion-c"},
}

// diffPair loads a case's base and head.
func diffPair(t testing.TB, c diffCase) (base, head Side, headJSON []byte) {
	t.Helper()
	data, in := defaultStack(t)
	bn, err := Load(data)
	if err != nil {
		t.Fatal(err)
	}
	headJSON = data
	if c.file != "" {
		if headJSON, err = os.ReadFile(c.file); err != nil {
			t.Fatal(err)
		}
	} else if c.edit != nil {
		tt, ok := t.(*testing.T)
		if !ok {
			tt = &testing.T{}
		}
		m := decode(tt, data)
		c.edit(tt, m)
		if headJSON, err = json.Marshal(m); err != nil {
			t.Fatal(err)
		}
	}
	hn, err := Load(headJSON)
	if err != nil {
		t.Fatalf("the head of %q does not load: %v", c.name, err)
	}
	cfg, err := config.Load(configFile)
	if err != nil {
		t.Fatal(err)
	}
	if c.cfg != nil {
		c.cfg(&cfg)
	}
	flows := rules.Flows
	if c.flows != nil {
		flows = c.flows(flows)
	}
	hin, err := IntentOfFlows(cfg, flows)
	if err != nil {
		t.Fatal(err)
	}
	return Side{bn, in}, Side{hn, hin}, headJSON
}

// changeLines renders a change as one line per connection class, for comparison.
func changeLines(c *Change) []string {
	var out []string
	conn := func(kind string, list []Connection) {
		for _, x := range list {
			mark := "ok"
			if x.Fails {
				mark = "FAIL"
			}
			out = append(out, fmt.Sprintf("%s %s %s -> %s %s [%s] %s pairs=%d", kind, x.Layer, x.FromClass, x.ToClass,
				On(x.Proto, x.Ports), strings.Join(x.Flows, ","), mark, len(x.Pairs)))
		}
	}
	conn("opened", c.Opened)
	conn("closed", c.Closed)
	for _, r := range c.Rerouted {
		out = append(out, fmt.Sprintf("rerouted %s -> %s %s pairs=%d via %s", r.FromClass, r.ToClass, On(r.Proto, r.Ports), len(r.Pairs), r.After[0]))
	}
	conn("interrupted", c.Interrupted)
	conn("exposed", c.Exposed)
	slices.Sort(out)
	return out
}

func TestDiffChanges(t *testing.T) {
	for _, c := range diffCases {
		t.Run(c.name, func(t *testing.T) {
			base, head, _ := diffPair(t, c)
			got := Diff(base, head)
			lines := changeLines(got)
			want := slices.Sorted(slices.Values(c.want))
			if !slices.Equal(lines, want) {
				t.Fatalf("diff of %q:\nwant:\n  %s\ngot:\n  %s", c.name, strings.Join(want, "\n  "), strings.Join(lines, "\n  "))
			}
			fails := slices.ContainsFunc(want, func(s string) bool { return strings.Contains(s, " FAIL ") })
			if got.Failed() != fails {
				t.Errorf("Failed() = %t, want %t", got.Failed(), fails)
			}
			if c.cause != "" {
				first := append(slices.Clip(got.Opened), got.Closed...)[0]
				if !slices.ContainsFunc(first.Causes, func(x Cause) bool { return x.Resource == c.cause }) {
					t.Errorf("%s -> %s: the causes do not name %s:\n%v", first.FromClass, first.ToClass, c.cause, first.Causes)
				}
			}
		})
	}
}

// TestDiffSameStack: a stack against itself changes nothing.
func TestDiffSameStack(t *testing.T) {
	base, head, _ := diffPair(t, diffCase{name: "none"})
	if got := changeLines(Diff(base, head)); len(got) != 0 {
		t.Fatalf("a stack against itself: want no change, got:\n%s", strings.Join(got, "\n"))
	}
}

// BenchmarkDiff is `webtier diff` of two web-tier stacks (the example and its HTTPS variant)
// without the reading of files: both loaded, then diffed. The goal is under 50 ms.
func BenchmarkDiff(b *testing.B) {
	c := diffCases[slices.IndexFunc(diffCases, func(c diffCase) bool { return c.name == "second ALB listener" })]
	base, head, headJSON := diffPair(b, c)
	baseJSON, _ := defaultStack(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		bn, err := Load(baseJSON)
		if err != nil {
			b.Fatal(err)
		}
		hn, err := Load(headJSON)
		if err != nil {
			b.Fatal(err)
		}
		Diff(Side{bn, base.Intent}, Side{hn, head.Intent})
	}
}
