package compiler

import (
	"cmp"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"maps"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/webtier/webtier/internal/changecases"
	"github.com/webtier/webtier/site"
	"github.com/webtier/webtier/verify"
)

var update = flag.Bool("update", false, "rewrite testdata/twin.nft from the compiler's output")

// repoFile is a file's path in the repository.
func repoFile(t testing.TB, parts ...string) string {
	t.Helper()
	root, err := changecases.Root()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(append([]string{root}, parts...)...)
}

// TestGoldenTwin pins the compiled plan of the example stack: the hosts and every
// namespace's nftables ruleset, each rule under the resource it comes from.
func TestGoldenTwin(t *testing.T) {
	n, in := changecases.Example(t)
	p, err := Compile(n, in, DefaultPrefix)
	if err != nil {
		t.Fatal(err)
	}
	got := p.Text()
	checkGolden(t, "twin.nft", got)
	again, _ := Compile(n, in, DefaultPrefix)
	if again.Text() != got {
		t.Error("compiling the same stack twice gave two plans")
	}
}

// lineDiff lists the lines only one side has, for a failing golden test.
func lineDiff(want, got string) string {
	in := func(s string) map[string]bool {
		m := map[string]bool{}
		for _, l := range strings.Split(s, "\n") {
			m[l] = true
		}
		return m
	}
	w, g := in(want), in(got)
	var b strings.Builder
	for _, l := range strings.Split(want, "\n") {
		if !g[l] {
			b.WriteString("- " + l + "\n")
		}
	}
	for _, l := range strings.Split(got, "\n") {
		if !w[l] {
			b.WriteString("+ " + l + "\n")
		}
	}
	return b.String()
}

// TestHostsOfTheExample checks what a user reads in `twin hosts`: one host per ENI, the
// group's desired instances spread over its subnets, unique addresses inside each subnet
// past AWS's reserved five, public addresses only where AWS gives one, the outside parties
// on documentation addresses or the config's ranges, and the flows' ports held.
func TestHostsOfTheExample(t *testing.T) {
	n, in := changecases.Example(t)
	p, err := Compile(n, in, DefaultPrefix)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	seen := map[string]string{}
	for _, h := range p.Hosts {
		pub := "-"
		if h.Public.IsValid() {
			pub = h.Public.String()
		}
		got = append(got, fmt.Sprintf("%s %s %s %s %v", h.Name, cmp.Or(h.Subnet, "outside"), h.Private, pub, h.Listen))
		if other, dup := seen[h.Private.String()]; dup {
			t.Errorf("%s and %s share %s", other, h.Name, h.Private)
		}
		seen[h.Private.String()] = h.Name
	}
	want := []string{
		"bastion-a public-a 10.16.1.10 192.0.2.10 [22]",
		"bastion-c public-c 10.16.2.10 192.0.2.11 [22]",
		"alb-a public-a 10.16.1.11 192.0.2.12 [80]",
		"alb-c public-c 10.16.2.11 192.0.2.13 [80]",
		"nat-a public-a 10.16.1.12 192.0.2.14 []",
		"nat-c public-c 10.16.2.12 192.0.2.15 []",
		"efs-a web-a 10.16.3.10 - [2049]",
		"efs-c web-c 10.16.4.10 - [2049]",
		"db-a db-a 10.16.5.10 - [3306]",
		"db-c db-c 10.16.6.10 - [3306]",
		"secrets-a web-a 10.16.3.11 - [443]",
		"secrets-c web-c 10.16.4.11 - [443]",
		"web-a-1 web-a 10.16.3.12 - [22 80]",
		"web-c-1 web-c 10.16.4.12 - [22 80]",
		"internet outside 198.51.100.7 - []",
		"repo outside 1.178.91.10 - [443]",
		"repo-2 outside 3.2.75.10 - [443]",
		"repo-3 outside 3.5.140.10 - [443]",
		"repo-4 outside 3.5.144.10 - [443]",
		"repo-5 outside 3.5.184.10 - [443]",
		"repo-6 outside 3.36.167.74 - [443]",
		"repo-7 outside 52.219.56.10 - [443]",
		"repo-8 outside 52.219.144.10 - [443]",
		"repo-9 outside 52.219.200.10 - [443]",
		"admin outside 203.0.113.10 - []",
		"elsewhere outside 192.0.2.8 - []",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("hosts:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestDesiredCapacitySpread: four instances over two subnets are two per subnet, numbered.
func TestDesiredCapacitySpread(t *testing.T) {
	data, err := os.ReadFile(repoFile(t, "testdata", "webtier.tf.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	json.Unmarshal(data, &m)
	asg := m["resource"].(map[string]any)["aws_autoscaling_group"].(map[string]any)["web"].(map[string]any)
	asg["desired_capacity"] = 4
	data, _ = json.Marshal(m)
	n, err := verify.Load(data)
	if err != nil {
		t.Fatal(err)
	}
	_, in := changecases.Example(t)
	p, err := Compile(n, in, DefaultPrefix)
	if err != nil {
		t.Fatal(err)
	}
	var web []string
	for _, h := range p.Hosts {
		if h.Role == "web" {
			web = append(web, h.Name+"@"+h.Subnet+"="+h.Private.String())
		}
	}
	want := "web-a-1@web-a=10.16.3.12 web-c-1@web-c=10.16.4.12 web-a-2@web-a=10.16.3.13 web-c-2@web-c=10.16.4.13"
	if strings.Join(web, " ") != want {
		t.Errorf("web hosts %s, want %s", strings.Join(web, " "), want)
	}
}

// TestRuleRendering pins the nftables form of the rule shapes the example does not have.
func TestRuleRendering(t *testing.T) {
	for _, c := range []struct {
		proto verify.Protocol
		ports verify.Ports
		want  string
	}{
		{verify.TCP, verify.Port(22), "tcp dport 22"},
		{verify.UDP, verify.PortRange(1024, 65535).Union(verify.Port(53)), "udp dport { 53, 1024-65535 }"},
		{verify.TCP, verify.TCP.Universe(), "meta l4proto tcp"},
		{verify.All, nil, ""},
		{verify.ICMP, verify.ICMP.Universe(), "meta l4proto icmp"},
		{verify.ICMP, verify.ICMPType(8), "icmp type 8"},
		{verify.ICMP, verify.Port(verify.ICMPKey(3, 4)), "icmp type 3 icmp code 4"},
		{verify.ICMP, verify.PortRange(verify.ICMPKey(3, 0), verify.ICMPKey(3, 4)), "meta l4proto icmp @th,0,16 768-772"},
		{verify.Protocol(50), nil, "meta l4proto 50"},
	} {
		if got := match(c.proto, c.ports); got != c.want {
			t.Errorf("match(%s, %s) = %q, want %q", c.proto, c.ports, got, c.want)
		}
	}
}

// TestPagesOfUserData: the web servers serve what the user data writes (verify's reading of
// the bootstrap), the health page (a separate element of the synthesized join) included.
func TestPagesOfUserData(t *testing.T) {
	n, _ := changecases.Example(t)
	var got []string
	for _, e := range n.Endpoints {
		if e.Role == "web" {
			got = verify.BootstrapOf(e.UserData, n.HealthPath()).Pages
			break
		}
	}
	if want := []string{site.Index.Path, site.DB.Path, site.HealthPath}; !slices.Equal(got, want) {
		t.Errorf("pages %v, want %v", got, want)
	}
	plain := base64.StdEncoding.EncodeToString([]byte("#!/bin/sh\ncat > /var/www/html/ok.html <<'X'\nok\nX\n"))
	if got := verify.BootstrapOf(plain, "").Pages; strings.Join(got, " ") != "/ok.html" {
		t.Errorf("base64 user data: pages %v, want /ok.html", got)
	}
}

// TestOutsideHostsApart: when a rule of the stack names the range of the internet client's
// preferred address (a second admin range of 198.51.100.0/24), the client moves out of it,
// and no two hosts outside share an address.
func TestOutsideHostsApart(t *testing.T) {
	data := changecases.Edited(t, changecases.ExampleFile, func(res map[string]any) {
		rules := res["aws_vpc_security_group_ingress_rule"].(map[string]any)
		second := maps.Clone(rules["bastion-sg-ingress-admin-to-bastion-ssh-203-0-113-0-24"].(map[string]any))
		second["cidr_ipv4"] = "198.51.100.0/24"
		rules["bastion-sg-ingress-admin-to-bastion-ssh-198-51-100-0-24"] = second
	})
	n, err := verify.Load(data)
	if err != nil {
		t.Fatal(err)
	}
	_, in := changecases.Example(t)
	p, err := Compile(n, in, "wt-")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[netip.Addr]string{}
	admin2 := netip.MustParsePrefix("198.51.100.0/24")
	for _, h := range p.Hosts {
		if h.Inside() {
			continue
		}
		if other, ok := seen[h.Private]; ok {
			t.Errorf("%s and %s share %s", h.Name, other, h.Private)
		}
		seen[h.Private] = h.Name
		if h.Name == "internet" && admin2.Contains(h.Private) {
			t.Errorf("the internet client is at %s, in the second admin range %s", h.Private, admin2)
		}
	}
}
