package verify

import (
	"fmt"
	"slices"
	"strings"

	"github.com/webtier/webtier/rules"
)

// ProbeResult is one probed connection of a requirement: what the flows expect of it, what
// came, and the path or the blockers.
type ProbeResult struct {
	Req      int       `json:"req"`
	Probe    string    `json:"probe"`
	Expected string    `json:"expected"`
	Verdict  string    `json:"verdict"`
	OK       bool      `json:"ok"`
	Path     []Hop     `json:"path,omitempty"`
	Blockers []Blocker `json:"blockers,omitempty"`
	// Authorized is AWS's decision on the call the connection carries, for a flow whose call
	// must be authorized: the deciding statements, or why it is refused.
	Authorized string `json:"authorized,omitempty"`

	// from and to are the probe's classes.
	from, to rules.Role
}

// probe is a family of probed connections: every pair of from and to (in the same AZ only,
// with sameAZ) over each protocol, on ports (every port of the protocol when nil).
type probe struct {
	req      int
	from, to []*Endpoint
	// fromRole and toRole name the classes, for a missing class.
	fromRole, toRole rules.Role
	sameAZ           bool
	protos           []Protocol
	ports            Ports
	// folded, when set, names the probe in one row when every connection meets its
	// expectation (a probe of every endpoint); a connection that misses it keeps its row.
	folded string
}

// probes runs the probes of requirements 1, 2, 3, 5 and 6. What each expects comes from the
// flow table: allowed where a flow asks for the connection, blocked elsewhere.
func (v *verifier) probes() []ProbeResult {
	var out []ProbeResult
	for _, p := range v.probeSpecs() {
		out = append(out, fold(p, v.run(p))...)
	}
	return out
}

// probeSpecs are the probes of requirements 1, 2, 3, 5 and 6.
func (v *verifier) probeSpecs() []probe {
	n := v.n
	web, bastions, albs := n.Find(rules.Web), n.Find(rules.Bastion), n.Find(rules.ALB)
	dbs, efs, secrets := n.Find(rules.DB), n.Find(rules.EFS), n.Find(rules.SecretsEndpoint)
	plain, google := v.outside[:1], v.outside[len(v.outside)-1:]
	repos := v.outsideOf(rules.Repos)
	type over struct {
		protos []Protocol
		ports  Ports
	}
	tcp := func(port int) over { return over{[]Protocol{TCP}, Port(port)} }
	anyPort := func() over { return over{v.protocols, nil} }
	mk := func(req int, from []*Endpoint, fromRole rules.Role, to []*Endpoint, toRole rules.Role, o over) probe {
		return probe{req: req, from: from, to: to, fromRole: fromRole, toRole: toRole, protos: o.protos, ports: o.ports}
	}
	with := func(p probe, sameAZ bool) probe { p.sameAZ = sameAZ; return p }
	return append(v.accessProbes(), []probe{
		mk(2, plain, rules.Internet, albs, rules.ALB, tcp(80)),
		mk(2, plain, rules.Internet, albs, rules.ALB, tcp(443)),
		mk(2, albs, rules.ALB, web, rules.Web, tcp(80)),
		mk(2, plain, rules.Internet, web, rules.Web, tcp(80)),
		mk(3, web, rules.Web, repos, rules.Repos, tcp(443)),
		mk(3, web, rules.Web, google, rules.Internet, tcp(443)),
		mk(3, web, rules.Web, google, rules.Internet, tcp(80)),
		mk(3, v.outside, rules.Internet, web, rules.Web, anyPort()),
		mk(5, web, rules.Web, dbs, rules.DB, tcp(3306)),
		mk(5, web, rules.Web, secrets, rules.SecretsEndpoint, tcp(443)),
		mk(5, append(append(slices.Clip(plain), bastions...), albs...), rules.Internet, dbs, rules.DB, tcp(3306)),
		mk(5, v.outside, rules.Internet, dbs, rules.DB, anyPort()),
		with(mk(6, web, rules.Web, efs, rules.EFS, tcp(2049)), true),
		mk(6, v.outside, rules.Internet, efs, rules.EFS, anyPort()),
	}...)
}

// run judges every connection of a probe.
func (v *verifier) run(p probe) []ProbeResult {
	if len(p.from) == 0 || len(p.to) == 0 {
		missing := p.fromRole
		if len(p.to) == 0 {
			missing = p.toRole
		}
		needed := slices.ContainsFunc(v.in.Flows, func(f rules.Flow) bool { return f.From == p.fromRole && f.To == p.toRole })
		return []ProbeResult{{Req: p.req, Probe: fmt.Sprintf("%s -> %s", p.fromRole, p.toRole), Expected: "endpoints",
			Verdict: fmt.Sprintf("no %s in the stack", missing), OK: !needed}}
	}
	var out []ProbeResult
	for _, src := range p.from {
		for _, dst := range p.to {
			if !v.pair(src, dst) || p.sameAZ && src.AZ() != dst.AZ() {
				continue
			}
			out = append(out, v.case1(p, src, dst))
		}
	}
	return out
}

// case1 judges one connection of a probe over each of its protocols.
func (v *verifier) case1(p probe, src, dst *Endpoint) ProbeResult {
	res := ProbeResult{Req: p.req, OK: true, from: p.fromRole, to: p.toRole}
	var expected, got []string
	// Each protocol is judged without explanations; the path or the blockers are traced for
	// one of them: the first that misses its expectation, else the first.
	shown, shownPorts := p.protos[0], Ports(nil)
	for i, proto := range p.protos {
		want := p.ports
		if want == nil || !proto.keyed() {
			want = proto.Universe()
		}
		open, reach := v.eval(src, dst, proto, want).result()
		exp := v.asked(src, dst, proto).Intersect(want)
		ok := open.Covers(exp) && exp.Covers(reach)
		expected = append(expected, describeExpected(proto, exp, want))
		got = append(got, describeVerdict(proto, open, reach, want))
		if i == 0 || !ok && res.OK {
			shown, shownPorts = proto, want
		}
		res.OK = res.OK && ok
	}
	verdict := v.n.canPorts(&v.et, src, dst, shown, shownPorts)
	v.evals++
	ports := On(p.protos[0], p.ports)
	if p.ports == nil {
		ports = "any port (" + joinProtocols(p.protos) + ")"
	}
	res.Probe = fmt.Sprintf("%s -> %s %s", src.Name, dst.Name, ports)
	res.Expected, res.Verdict = summarize(p.protos, expected), summarize(p.protos, got)
	res.Path, res.Blockers = verdict.Hops, verdict.Blockers
	return res
}

func joinProtocols(list []Protocol) string {
	names := make([]string, len(list))
	for i, p := range list {
		names[i] = p.String()
	}
	return strings.Join(names, ", ")
}

// summarize joins per-protocol descriptions, or gives the one they agree on.
func summarize(protos []Protocol, list []string) string {
	if !slices.ContainsFunc(list, func(s string) bool { return s != list[0] }) {
		return list[0]
	}
	parts := make([]string, len(list))
	for i, s := range list {
		parts[i] = protos[i].String() + ": " + s
	}
	return strings.Join(parts, "; ")
}

// describeExpected says what the flows expect: "allowed", "blocked" or "allowed on tcp/80".
func describeExpected(proto Protocol, exp, want Ports) string {
	switch {
	case exp.Empty():
		return "blocked"
	case exp.Equal(want):
		return "allowed"
	}
	return "allowed on " + On(proto, exp)
}

// describeVerdict says what came: "allowed", "blocked", "allowed on tcp/80", or
// "unreliable on ..." when replies pass only some ephemeral ports.
func describeVerdict(proto Protocol, open, reach, want Ports) string {
	var s string
	switch {
	case reach.Empty():
		return "blocked"
	case open.Equal(want):
		return "allowed"
	case !open.Empty():
		s = "allowed on " + On(proto, open)
	}
	if flaky := reach.Minus(open); !flaky.Empty() {
		if s != "" {
			s += ", "
		}
		s += "unreliable on " + On(proto, flaky)
	}
	return s
}
