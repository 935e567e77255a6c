package verify

import "testing"

func TestPortsAlgebra(t *testing.T) {
	set := func(ivs ...int) Ports {
		var p Ports
		for i := 0; i < len(ivs); i += 2 {
			p = p.Union(PortRange(ivs[i], ivs[i+1]))
		}
		return p
	}
	cases := []struct {
		name string
		got  Ports
		want string
	}{
		{"union merges adjacent", set(1, 5).Union(set(6, 9)), "1-9"},
		{"union keeps gaps", set(22, 22, 80, 80), "22, 80"},
		{"union of overlapping", set(1, 10, 5, 20, 30, 40), "1-20, 30-40"},
		{"intersect", set(0, 65535).Intersect(set(22, 22, 1024, 65535)), "22, 1024-65535"},
		{"intersect disjoint", set(1, 5).Intersect(set(6, 9)), "none"},
		{"minus splits", set(1024, 65535).Minus(set(32768, 60999)), "1024-32767, 61000-65535"},
		{"minus several", set(0, 100).Minus(set(10, 20, 30, 40, 90, 200)), "0-9, 21-29, 41-89"},
		{"minus all", set(22, 22).Minus(set(0, 65535)), "none"},
		{"empty range", PortRange(5, 1), "none"},
	}
	for _, c := range cases {
		if c.got.String() != c.want {
			t.Errorf("%s: expected %s, got %s", c.name, c.want, c.got)
		}
	}
	if !set(1024, 65535).Covers(set(32768, 60999)) || set(32768, 60999).Covers(set(1024, 65535)) {
		t.Errorf("Covers: expected 1024-65535 to cover 32768-60999 and not the reverse")
	}
	for _, c := range []struct {
		proto Protocol
		ports Ports
		want  string
	}{
		{TCP, Port(22), "tcp/22"},
		{ICMP, ICMP.Universe(), "icmp"},
		{ICMP, ICMPType(ICMPEchoRequest), "icmp type 8"},
		{ICMP, Port(ICMPKey(3, 4)), "icmp type 3 code 4"},
		{ICMP, ICMPType(0).Union(ICMPType(8)), "icmp type 0, type 8"},
		{50, nil, "50"},
	} {
		if got := On(c.proto, c.ports); got != c.want {
			t.Errorf("On(%v, %v): expected %s, got %s", c.proto, c.ports, c.want, got)
		}
	}
	for in, want := range map[string]Protocol{"tcp": TCP, "6": TCP, "-1": All, "all": All, "UDP": UDP, "icmp": ICMP, "50": 50} {
		if got, ok := ParseProtocol(in); !ok || got != want {
			t.Errorf("ParseProtocol(%q): expected %v, got %v (ok %v)", in, want, got, ok)
		}
	}
	if _, ok := ParseProtocol("tcpp"); ok {
		t.Errorf(`ParseProtocol("tcpp"): expected no protocol, got one`)
	}
}
