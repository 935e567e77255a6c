package kernel

import (
	"strings"
	"testing"
)

// TestFakeFollowsLinux: the rules of Linux a change of the twin relies on, as the fake keeps
// them. A namespace's end takes its veth peers with it, and with a link go its addresses,
// routes and neighbour entries; add of what exists fails, replace does not; a route is named
// by destination and table, whatever its type, and a del naming a type removes only that type.
func TestFakeFollowsLinux(t *testing.T) {
	ctx := t.Context()
	k := &Fake{}
	for _, ns := range []string{"t-a", "t-r"} {
		if err := k.AddNamespace(ctx, ns); err != nil {
			t.Fatal(err)
		}
	}
	if err := k.AddNamespace(ctx, "t-a"); err == nil {
		t.Error("a namespace added twice: no error")
	}
	must := func(ns string, lines ...string) {
		t.Helper()
		if err := k.IP(ctx, ns, lines, false); err != nil {
			t.Fatal(err)
		}
	}
	fails := func(ns, line string) {
		t.Helper()
		if err := k.IP(ctx, ns, []string{line}, false); err == nil {
			t.Errorf("%s: %q: no error", ns, line)
		}
	}
	must("t-a", "link add eth0 address 06:00:00:00:00:01 type veth peer name h1 address 06:00:00:00:00:02 netns t-r",
		"link set eth0 up", "addr add 10.0.0.10/24 dev eth0", "route add default via 10.0.0.1 dev eth0")
	must("t-r", "link add s0 address 02:00:00:00:00:01 type bridge", "link set h1 master s0", "link set h1 up",
		"addr add 10.0.0.1/24 dev s0", "route add blackhole default table 100",
		"route replace 0.0.0.0/0 via 10.0.0.10 dev h1 table 100", "neigh replace 10.0.0.10 lladdr 06:00:00:00:00:01 dev h1 nud permanent",
		"route add 192.0.2.0/24 dev h1")
	fails("t-a", "addr add 10.0.0.10/24 dev eth0")
	fails("t-a", "addr add 10.0.0.11/24 dev eth9")
	fails("t-r", "route add 0.0.0.0/0 via 10.0.0.10 dev h1 table 100")
	fails("t-r", "route del blackhole default table 100")
	fails("t-r", "link set h1 master h1")
	before := k.State("t-")
	for _, want := range []string{"route 0.0.0.0/0 table 100: 0.0.0.0/0 via 10.0.0.10 dev h1 table 100", "link h1 veth", "master=s0", "peer=eth0@a", "neigh 10.0.0.10 dev h1"} {
		if !strings.Contains(before, want) {
			t.Errorf("the state lacks %q:\n%s", want, before)
		}
	}
	if err := k.DeleteNamespace(ctx, "t-a"); err != nil {
		t.Fatal(err)
	}
	after := k.State("t-")
	for _, gone := range []string{"h1", "netns a"} {
		if strings.Contains(after, gone) {
			t.Errorf("%q is still there once t-a is gone:\n%s", gone, after)
		}
	}
	if !strings.Contains(after, "addr 10.0.0.1/24 dev s0") {
		t.Errorf("the bridge's address went with a port:\n%s", after)
	}
	if err := k.LoadRuleset(ctx, "t-r", "table inet x {\n}\n"); err == nil {
		t.Error("a ruleset without `flush ruleset` loaded: it would add to the rules there")
	}
	if err := k.LoadRuleset(ctx, "t-r", "# the router\nflush ruleset\ntable inet x {\n}\n"); err != nil {
		t.Error(err)
	}
}

// TestApplyStops: Apply stops at the first failing op, except the lines run on a namespace
// that was there (every line runs, as `ip -force`).
func TestApplyStops(t *testing.T) {
	k := &Fake{}
	err := Apply(t.Context(), k, []Op{
		{Do: AddNamespace, NS: "t-a"},
		{Do: IP, NS: "t-a", Lines: []string{"addr del 10.0.0.1/24 dev lo", "link set lo up"}, Existing: true},
		{Do: IP, NS: "t-a", Lines: []string{"addr add 10.0.0.1/8 dev eth7"}},
		{Do: AddNamespace, NS: "t-b"},
	})
	if err == nil {
		t.Fatal("a failing line of a new namespace did not stop Apply")
	}
	state := k.State("t-")
	if !strings.Contains(state, "link lo loopback mac= up=true") || strings.Contains(state, "netns b") {
		t.Errorf("Apply ran past the failure, or not every line of an existing namespace:\n%s", state)
	}
}
