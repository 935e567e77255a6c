package rules

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
)

// seed is the seed document's network: two AZs, three tiers, one admin range.
func seed() Topology {
	p := netip.MustParsePrefix
	return Topology{
		Subnets: []Subnet{
			{"public-a", Public, "ap-northeast-2a", p("10.16.1.0/24")},
			{"public-c", Public, "ap-northeast-2c", p("10.16.2.0/24")},
			{"web-a", WebTier, "ap-northeast-2a", p("10.16.3.0/24")},
			{"web-c", WebTier, "ap-northeast-2c", p("10.16.4.0/24")},
			{"db-a", DBTier, "ap-northeast-2a", p("10.16.5.0/24")},
			{"db-c", DBTier, "ap-northeast-2c", p("10.16.6.0/24")},
		},
		AdminCIDRs: []netip.Prefix{p("203.0.113.0/24")},
		RepoCIDRs:  []netip.Prefix{p("52.219.0.0/16")},
	}
}

func derive(t *testing.T, top Topology, flows []Flow) Policy {
	t.Helper()
	p, err := Derive(top, flows)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// entries renders a tier's entries as "direction number ports cidr" lines.
func entries(p Policy, tier Tier) []string {
	var out []string
	for _, e := range p.NACL[tier] {
		out = append(out, string(e.Direction)+" "+itoa(e.Number)+" "+e.Port.String()+" "+e.CIDR.String())
	}
	return out
}

func TestCrossSubnetFlowGivesFourEntries(t *testing.T) {
	top := seed()
	top.Subnets = []Subnet{top.Subnets[2], top.Subnets[4]} // web-a, db-a
	flow := Flow{Slot: 8, ID: "web-to-db-mysql", From: Web, To: DB, Port: MySQL, Why: "queries"}
	p := derive(t, top, []Flow{flow})
	want := map[Tier][]string{
		WebTier: {"ingress 17600 32768-60999 10.16.5.0/24", "egress 1600 3306 10.16.5.0/24"},
		DBTier:  {"ingress 1600 3306 10.16.3.0/24", "egress 17600 32768-60999 10.16.3.0/24"},
	}
	for tier, w := range want {
		if got := entries(p, tier); strings.Join(got, "\n") != strings.Join(w, "\n") {
			t.Errorf("%s entries:\ngot  %q\nwant %q", NACLName(tier), got, w)
		}
	}
	if len(p.SGRules) != 2 || p.SGRules[0].Direction != Egress || p.SGRules[0].PeerGroup != DB ||
		p.SGRules[1].Direction != Ingress || p.SGRules[1].PeerGroup != Web {
		t.Errorf("security-group rules: got %+v, want web-sg egress to db-sg and db-sg ingress from web-sg", p.SGRules)
	}
}

func TestSameSubnetFlowGivesNoEntries(t *testing.T) {
	// EFS mount targets share the web subnets; the flow stays in its own AZ.
	flow := Flow{Slot: 7, ID: "web-to-efs-nfs", From: Web, To: EFS, Port: NFS, SameAZ: true, Why: "mount"}
	p := derive(t, seed(), []Flow{flow})
	for _, tier := range Tiers {
		if got := entries(p, tier); len(got) != 0 {
			t.Errorf("%s: got entries %q for a flow that never leaves its subnet", NACLName(tier), got)
		}
	}
	if len(p.SGRules) != 2 {
		t.Errorf("got %d security-group rules, want 2: SGs filter inside a subnet too", len(p.SGRules))
	}
}

func TestReturnsUseTheInitiatorsEphemeralRange(t *testing.T) {
	p := derive(t, seed(), Flows)
	has := func(tier Tier, dir Direction, ports, cidr string) {
		t.Helper()
		for _, e := range p.NACL[tier] {
			if e.Direction == dir && e.Port.String() == ports && e.CIDR.String() == cidr {
				return
			}
		}
		t.Errorf("%s has no %s entry for %s %s; it has %q", NACLName(tier), dir, ports, cidr, entries(p, tier))
	}
	// Replies to the ALB nodes and to NAT go to 1024-65535, not Linux's range (the seed's bug).
	has(WebTier, Egress, "1024-65535", "10.16.1.0/24")
	has(Public, Ingress, "1024-65535", "52.219.0.0/16")
	// Replies to internet clients cover all of 1024-65535, not only 49152-65535.
	has(Public, Egress, "1024-65535", "0.0.0.0/0")
	// Replies to our own Linux hosts stay in 32768-60999.
	has(DBTier, Egress, "32768-60999", "10.16.3.0/24")
	has(WebTier, Ingress, "32768-60999", "52.219.0.0/16")
	has(Public, Egress, "32768-60999", "10.16.4.0/24")
}

func TestNumberingIsStableWhenAFlowIsInserted(t *testing.T) {
	before := derive(t, seed(), Flows)
	extra := Flow{Slot: 42, ID: "web-to-cache-redis", From: Web, To: DB, Port: Port{"redis", TCP, 6379, 6379}, Why: "cache"}
	flows := append([]Flow{extra}, Flows...) // first in the table, so positions shift
	after := derive(t, seed(), flows)
	added := 0
	for _, tier := range Tiers {
		got := map[string]NACLEntry{}
		for _, e := range after.NACL[tier] {
			got[e.ID()] = e
		}
		for _, e := range before.NACL[tier] {
			a, ok := got[e.ID()]
			if !ok || a.CIDR != e.CIDR || a.Port != e.Port {
				t.Errorf("%s changed when a flow was inserted: before %v, after %v", e.ID(), e, a)
			}
		}
		added += len(after.NACL[tier]) - len(before.NACL[tier])
	}
	// Its requests need 2 web egress and 2 db ingress entries; its replies share the MySQL
	// flow's return entries, which keep their numbers because the lower slot owns them.
	if added != 4 {
		t.Errorf("the inserted flow added %d entries, want 4", added)
	}
}

func TestSingleNATRoutesBothAZsThroughTheFirst(t *testing.T) {
	top := seed()
	top.SingleNAT = true
	if nats := top.Placement(NAT); len(nats) != 1 || nats[0].Name != "public-a" {
		t.Fatalf("single NAT placement: got %v, want [public-a]", nats)
	}
	if got := top.NATFor("ap-northeast-2c").Name; got != "public-a" {
		t.Errorf("NAT for AZ c: got %s, want public-a", got)
	}
	p := derive(t, top, Flows)
	has := false
	for _, e := range p.NACL[Public] {
		if e.Direction == Ingress && e.Port == HTTPS && e.CIDR.String() == "10.16.4.0/24" {
			has = true
		}
	}
	if !has {
		t.Error("public NACL lets no HTTPS in from web-c, whose traffic crosses to the NAT in AZ a")
	}
}

func TestHTTPSFlowFollowsItsFeature(t *testing.T) {
	count := func(features map[string]bool) int {
		top := seed()
		top.Features = features
		n := 0
		for _, r := range derive(t, top, Flows).SGRules {
			if r.Group == ALB && r.Port == HTTPS {
				n++
			}
		}
		return n
	}
	if got := count(nil); got != 0 {
		t.Errorf("HTTPS off: got %d ALB rules on 443, want 0", got)
	}
	if got := count(map[string]bool{FeatureHTTPS: true}); got != 1 {
		t.Errorf("HTTPS on: got %d ALB rules on 443, want 1", got)
	}
}

// admins returns n admin ranges, /28s of 198.51.100.0/24 and on.
func admins(n int) []netip.Prefix {
	var out []netip.Prefix
	for i := range n {
		out = append(out, netip.PrefixFrom(netip.AddrFrom4([4]byte{198, 51, byte(100 + i/16), byte(i % 16 * 16)}), 28))
	}
	return out
}

// TestNACLQuotaCountsTheDefaultDeny: AWS counts the default deny toward the 20 entries a
// direction may hold, so 19 of the stack's fit and a 20th is refused, with the quota's code,
// how to raise it and the flows the entries serve. Each admin range is one public-nacl ingress
// entry; the seed's other flows need 8 more there.
func TestNACLQuotaCountsTheDefaultDeny(t *testing.T) {
	top := seed()
	top.AdminCIDRs = admins(11)
	if _, err := Derive(top, Flows); err != nil {
		t.Fatalf("19 entries and the default deny: got %v, want the 20 AWS allows by default", err)
	}
	top.AdminCIDRs = admins(12)
	_, err := Derive(top, Flows)
	raise := " > 20 (L-2AEEBF1A, Inbound or outbound rules per network ACL); " +
		"raise it in Service Quotas (https://console.aws.amazon.com/servicequotas/home/services/vpc/quotas/L-2AEEBF1A) and set quotas.nacl_rules_per_direction (AWS allows up to 40), " +
		"or hold fewer entries (fewer admin_cidrs or repo_cidrs: `webtier repo-ranges --max-cidrs N` joins S3 ranges); the entries serve "
	// Each admin range needs its replies too: both directions are over.
	want := "public-nacl: 20 ingress entries + the default deny = 21" + raise +
		"admin-to-bastion-ssh, internet-to-alb-http, web-to-repos-https, bastion-to-web-ssh, alb-to-web-http\n" +
		"public-nacl: 20 egress entries + the default deny = 21" + raise +
		"bastion-to-web-ssh, alb-to-web-http, web-to-repos-https, admin-to-bastion-ssh, internet-to-alb-http"
	if err == nil || err.Error() != want {
		t.Fatalf("20 entries and the default deny:\ngot  %v\nwant %s", err, want)
	}
}

// TestRaisedNACLQuota: with the quota raised to AWS's highest, 40, a direction holds 39
// entries of the stack's, numbered without collision (past 20 in a flow's band, on the fives
// between the tens, so the first 20 keep their numbers); a 40th is refused, and raising is
// no longer the way out.
func TestRaisedNACLQuota(t *testing.T) {
	top := seed()
	top.Quotas = Limits{QuotaNACLRules: 40}
	top.AdminCIDRs = admins(31)
	p, err := Derive(top, Flows)
	if err != nil {
		t.Fatalf("39 entries at a quota of 40: got %v, want them accepted", err)
	}
	numbers := map[string]string{}
	var admin []int
	for _, e := range p.NACL[Public] {
		key := string(e.Direction) + " " + itoa(e.Number)
		if other, dup := numbers[key]; dup {
			t.Errorf("public-nacl %s: %s and %s share the number", key, other, e.CIDR)
		}
		numbers[key] = e.CIDR.String()
		if e.Direction == Ingress && e.Flows[0] == "admin-to-bastion-ssh" {
			admin = append(admin, e.Number)
		}
	}
	before := derive(t, seed(), Flows)
	if got := before.NACL[Public][0].Number; got != 200 || admin[0] != 200 || admin[1] != 205 || admin[len(admin)-1] != 390 {
		t.Errorf("admin entries at a quota of 40: got numbers %v (first at the default quota %d), want 200, 205, 210, ... 390", admin, got)
	}
	top.AdminCIDRs = admins(32)
	_, err = Derive(top, Flows)
	want := "public-nacl: 40 ingress entries + the default deny = 41 > 40 (L-2AEEBF1A, Inbound or outbound rules per network ACL); " +
		"AWS allows no more than 40: hold fewer entries"
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Fatalf("40 entries at a quota of 40: got %v, want an error starting %q", err, want)
	}
}

func TestTableIsChecked(t *testing.T) {
	ok := Flow{Slot: 1, ID: "a", From: Web, To: DB, Port: MySQL, Why: "x"}
	cases := []struct {
		flows []Flow
		want  string
	}{
		{[]Flow{ok, {Slot: 1, ID: "b", From: Web, To: DB, Port: MySQL, Why: "x"}}, "slot 1 is already taken by a"},
		{[]Flow{ok, {Slot: 2, ID: "a", From: Web, To: DB, Port: MySQL, Why: "x"}}, "ID repeats an earlier flow"},
		{[]Flow{{Slot: 0, ID: "a", From: Web, To: DB, Why: "x"}}, "slot 0 is outside 1-79"},
		{[]Flow{{Slot: 1, ID: "a", From: "printer", To: DB, Why: "x"}}, `unknown role "printer"`},
		{[]Flow{{Slot: 1, ID: "a", From: Web, To: DB, Why: "the team's"}}, "characters a security-group description refuses"},
		{[]Flow{{Slot: 1, ID: "a", From: Internet, To: Repos, Why: "x"}}, "both ends are outside the VPC"},
	}
	for _, c := range cases {
		err := CheckTable(c.flows)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("CheckTable(%v): got %v, want an error containing %q", c.flows, err, c.want)
		}
	}
	if err := CheckTable(Flows); err != nil {
		t.Errorf("the shipped flow table: %v", err)
	}
}

// TestS3EndpointFlowReplacesTheNATPath: with the gateway endpoint on, the web servers' rule for
// the repositories names S3's prefix list instead of the CIDRs, the web ACL still lets the
// repository ranges through both ways (the endpoint keeps the public destination), and the
// public ACL loses the NAT legs it no longer carries.
func TestS3EndpointFlowReplacesTheNATPath(t *testing.T) {
	top := seed()
	top.Features = map[string]bool{FeatureS3Endpoint: true}
	p := derive(t, top, Flows)
	var repoRules []SGRule
	for _, r := range p.SGRules {
		if r.Flow == "web-to-repos-https" || r.Flow == "web-to-repos-https-endpoint" {
			repoRules = append(repoRules, r)
		}
	}
	if len(repoRules) != 1 || repoRules[0].Flow != "web-to-repos-https-endpoint" || repoRules[0].Group != Web ||
		repoRules[0].Direction != Egress || repoRules[0].PeerPrefixList != S3PrefixList || repoRules[0].Port != HTTPS {
		t.Fatalf("repository rules: got %+v, want one web-sg egress rule on 443 to the s3 prefix list", repoRules)
	}
	for _, e := range p.NACL[Public] {
		for _, f := range e.Flows {
			if strings.HasPrefix(f, "web-to-repos") {
				t.Errorf("public-nacl %s: got an entry for %s, want none (the endpoint path does not cross the public subnets)", e.ID(), f)
			}
		}
	}
	want := []string{"ingress 18200 32768-60999 52.219.0.0/16", "egress 2200 443 52.219.0.0/16"}
	var got []string
	for _, e := range p.NACL[WebTier] {
		if e.CIDR.String() == "52.219.0.0/16" {
			got = append(got, string(e.Direction)+" "+itoa(e.Number)+" "+e.Port.String()+" "+e.CIDR.String())
		}
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("web-nacl entries for the repositories:\ngot  %q\nwant %q", got, want)
	}
	off := derive(t, seed(), Flows)
	for _, f := range off.Flows {
		if f.ID == "web-to-repos-https-endpoint" {
			t.Error("endpoint off: the endpoint flow is active, want only the NAT one")
		}
	}
}

func TestHopsAreChecked(t *testing.T) {
	for _, c := range []struct {
		flow Flow
		want string
	}{
		{Flow{Slot: 1, ID: "a", From: Web, To: DB, Port: MySQL, Via: S3Gateway, Why: "x"}, "only a NAT or S3 gateway hop towards an outside role"},
		{Flow{Slot: 1, ID: "a", From: Web, To: S3Gateway, Port: HTTPS, Why: "x"}, "a hop (Via) is not an end of a flow"},
	} {
		if err := CheckTable([]Flow{c.flow}); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("CheckTable(%+v): got %v, want an error containing %q", c.flow, err, c.want)
		}
	}
}

// TestAccessModeFlows: without bastions (FeatureNoBastion) no flow, rule or entry names port 22
// or the bastions; with Session Manager (FeatureSSM) the web servers, and the bastions when
// there are any, reach the endpoints on 443, whose group admits that only; the web servers'
// entries to the endpoints are the Secrets Manager endpoint's (same subnets, same port).
func TestAccessModeFlows(t *testing.T) {
	for _, c := range []struct {
		name     string
		features map[string]bool
		ssh      bool
		toSSM    []Role
	}{
		{"bastion", nil, true, nil},
		{"ssm", map[string]bool{FeatureSSM: true, FeatureNoBastion: true}, false, []Role{Web}},
		{"both", map[string]bool{FeatureSSM: true}, true, []Role{Web, Bastion}},
	} {
		t.Run(c.name, func(t *testing.T) {
			top := seed()
			top.Features = c.features
			p := derive(t, top, Flows)
			var ssh bool
			for _, r := range p.SGRules {
				if r.Port.Contains(22) {
					ssh = true
				}
			}
			for _, tier := range Tiers {
				for _, e := range p.NACL[tier] {
					if e.Port.Contains(22) {
						ssh = true
					}
				}
			}
			if ssh != c.ssh || p.Uses(Bastion) != c.ssh {
				t.Errorf("port 22 in a rule or entry: %t, bastions used: %t; want %t", ssh, p.Uses(Bastion), c.ssh)
			}
			var toSSM []Role
			for _, r := range p.SGRules {
				if r.Group == SSMEndpoint {
					if r.Direction != Ingress || r.Port != HTTPS {
						t.Errorf("ssm-endpoint-sg: got %s %s from %s, want only ingress on 443", r.Direction, r.Port, r.Peer())
					}
					toSSM = append(toSSM, r.PeerGroup)
				}
			}
			if fmt.Sprint(toSSM) != fmt.Sprint(c.toSSM) {
				t.Errorf("ssm-endpoint-sg admits %v, want %v", toSSM, c.toSSM)
			}
			if c.name == "ssm" {
				if got, want := len(p.NACL[WebTier]), len(derive(t, seed(), Flows).NACL[WebTier])-4; got != want {
					t.Errorf("web-nacl: got %d entries, want %d (the bastions' 4 gone, the endpoints' shared with Secrets Manager's)", got, want)
				}
			}
		})
	}
}
