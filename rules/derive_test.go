package rules

import (
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

func TestTooManyEntriesIsRefused(t *testing.T) {
	top := seed()
	top.AdminCIDRs = nil
	for i := 0; i < 13; i++ {
		top.AdminCIDRs = append(top.AdminCIDRs, netip.PrefixFrom(netip.AddrFrom4([4]byte{198, 51, 100, byte(i * 16)}), 28))
	}
	_, err := Derive(top, Flows)
	want := "public-nacl ingress: 21 entries; AWS allows 20 per direction"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("got error %v, want one containing %q", err, want)
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
