package probe

import (
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/webtier/webtier/twin/compiler"
	"github.com/webtier/webtier/verify"
)

// What `twin test` tries, as real traffic: (a) every probe of verify, expecting what the flow
// table expects, and (b) every pair of hosts the verifier's requirement 7 judges, over TCP,
// UDP and ICMP echo, on a sample of ports, compared with the verifier's verdict for the very
// same connection (same addresses, same source port).

// Timeout is how long an attempt waits for its answer. Inside one machine an answer takes
// well under a millisecond; silence for this long means a filter dropped the packet.
const Timeout = 2 * time.Second

// DefaultLimit is how many attempts are in flight at once: most wait for their timeout, so
// the run takes about (blocked attempts) x Timeout / DefaultLimit.
const DefaultLimit = 4096

// Attempt is one connection the twin tries.
type Attempt struct {
	From, To *compiler.Host
	Proto    verify.Protocol
	// SPort is the source port (TCP and UDP); DPort the destination port, or for ICMP the
	// message's ICMP key (an echo request).
	SPort, DPort int
	// Addr is where the packets go: the destination's public address from outside the VPC
	// when it has one, else its private address.
	Addr netip.Addr
}

// String names the attempt as the reports print it: "web-a-1:32768 -> db-a (10.16.5.10)
// tcp/3306", or for ICMP "admin -> bastion-a (192.0.2.10) icmp echo request".
func (a Attempt) String() string {
	if a.Proto == verify.ICMP {
		return fmt.Sprintf("%s -> %s (%s) icmp echo request", a.From.Name, a.To.Name, a.Addr)
	}
	return fmt.Sprintf("%s:%d -> %s (%s) %s/%d", a.From.Name, a.SPort, a.To.Name, a.Addr, a.Proto, a.DPort)
}

// Result is what one attempt's packets did.
type Result struct {
	// Through is true when the request reached the other end and its answer came back.
	Through bool
	// How says how it ended: "connected", "refused (reset from the host)", "echoed",
	// "echo reply", "no answer in 2s", "host unreachable", ...
	How string
}

// String is How.
func (r Result) String() string { return r.How }

// Outcome is an attempt with what the packets did and what the verifier and the flow table
// say of the same connection.
type Outcome struct {
	Attempt
	Got Result
	// Verdict is the verifier's judgement of the connection from this source port.
	Verdict verify.Verdict
	// Probes are the probes of verify this attempt runs ("req 1: admin -> bastion tcp/22"),
	// and Expect what the flow table expects of them.
	Probes []string
	Reqs   []int
	Expect bool
}

// Agrees reports whether the packets did what the verifier says: through when it is open,
// blocked when it is blocked. Where the verifier says the connection passes on some source
// ports of a NAT gateway's range only, either is consistent.
func (o *Outcome) Agrees() bool {
	open, reach := !o.Verdict.Open.Empty(), !o.Verdict.Reach.Empty()
	if o.Got.Through {
		return reach
	}
	return !open
}

// Missed reports whether the attempt runs a probe whose expectation the packets missed.
func (o *Outcome) Missed() bool { return len(o.Probes) > 0 && o.Got.Through != o.Expect }

// Report is a `twin test` run.
type Report struct {
	Outcomes []*Outcome
	Elapsed  time.Duration
}

// Differences are the outcomes where the kernel and the verifier disagree.
func (r *Report) Differences() []*Outcome {
	var out []*Outcome
	for _, o := range r.Outcomes {
		if !o.Agrees() {
			out = append(out, o)
		}
	}
	return out
}

// Misses are the outcomes of probes that did not do what the flow table expects.
func (r *Report) Misses() []*Outcome {
	var out []*Outcome
	for _, o := range r.Outcomes {
		if o.Missed() {
			out = append(out, o)
		}
	}
	return out
}

// OK reports whether every probe met the flow table and nothing differed from verify.
func (r *Report) OK() bool { return len(r.Differences()) == 0 && len(r.Misses()) == 0 }

// samplePorts are the destination ports tried: each flow's port (both ends of a range),
// both ends of every host's ephemeral range and one port past each end, and a fixed sample.
func samplePorts(p *compiler.Plan, in verify.Intent) []int {
	set := map[int]bool{}
	add := func(ports ...int) {
		for _, x := range ports {
			if x >= 1 && x <= 65535 {
				set[x] = true
			}
		}
	}
	for _, f := range in.Flows {
		add(f.Port.From, f.Port.To)
	}
	for _, h := range p.Hosts {
		add(h.Ephemeral[0]-1, h.Ephemeral[0], h.Ephemeral[1], h.Ephemeral[1]+1)
	}
	add(fixedSample...)
	out := make([]int, 0, len(set))
	for x := range set {
		out = append(out, x)
	}
	sort.Ints(out)
	return out
}

// fixedSample are ports no flow of the web tier uses: well-known services and ports in
// the gaps between the ephemeral ranges.
var fixedSample = []int{1, 21, 25, 53, 123, 3389, 5432, 8080, 20000, 50000}

// attempts builds the attempts: the cross-check's, with the probes' expectations marked on
// the attempts they share (a probe on a port outside the sample adds its own).
func attempts(p *compiler.Plan, n *verify.Network, in verify.Intent) []*Outcome {
	ports := samplePorts(p, in)
	byKey := map[string]*Outcome{}
	var out []*Outcome
	used := map[string]bool{}
	add := func(src, dst *compiler.Host, proto verify.Protocol, sport, dport int) *Outcome {
		a := Attempt{From: src, To: dst, Proto: proto, SPort: sport, DPort: dport, Addr: dst.Private}
		if !src.Inside() && dst.Inside() && dst.Public.IsValid() {
			a.Addr = dst.Public
		}
		key := fmt.Sprintf("%s|%s|%d|%d|%d", src.Name, dst.Name, proto, sport, dport)
		if o := byKey[key]; o != nil {
			return o
		}
		if proto != verify.ICMP {
			// No two attempts may be the same connection seen from its other end: a
			// stateful filter would take the second for the first's reply. Step the
			// source port inward until the pair of ends is new.
			step := 1
			if sport == src.Ephemeral[1] {
				step = -1
			}
			for used[pairKey(proto, src, a.SPort, dst, dport)] {
				a.SPort += step
			}
			used[pairKey(proto, src, a.SPort, dst, dport)] = true
		}
		o := &Outcome{Attempt: a}
		byKey[key] = o
		out = append(out, o)
		return o
	}
	echo := verify.ICMPKey(verify.ICMPEchoRequest, 0)
	tryPair := func(src, dst *compiler.Host, proto verify.Protocol, port int) []*Outcome {
		if proto == verify.ICMP {
			return []*Outcome{add(src, dst, proto, 0, echo)}
		}
		return []*Outcome{add(src, dst, proto, src.Ephemeral[0], port), add(src, dst, proto, src.Ephemeral[1], port)}
	}
	for _, src := range p.Hosts {
		for _, dst := range p.Hosts {
			if src == dst || !tested(p, src) || !tested(p, dst) || !verify.Judges(src.Endpoint(), dst.Endpoint()) {
				continue
			}
			for _, proto := range []verify.Protocol{verify.TCP, verify.UDP} {
				for _, port := range ports {
					tryPair(src, dst, proto, port)
				}
			}
			tryPair(src, dst, verify.ICMP, 0)
		}
	}
	for _, pr := range verify.Probes(n, in) {
		if pr.Proto != verify.TCP && pr.Proto != verify.UDP && pr.Proto != verify.ICMP {
			continue
		}
		probePorts := []int{}
		switch {
		case pr.Proto == verify.ICMP:
			probePorts = []int{echo}
		case pr.Ports.Equal(pr.Proto.Universe()):
			probePorts = ports
		default:
			for _, iv := range pr.Ports {
				probePorts = append(probePorts, iv.Lo, iv.Hi)
			}
		}
		for _, src := range hostsFor(p, pr.From) {
			for _, dst := range hostsFor(p, pr.To) {
				if src == dst {
					continue
				}
				for _, port := range slices.Compact(probePorts) {
					for _, o := range tryPair(src, dst, pr.Proto, port) {
						ports := verify.On(pr.Proto, pr.Ports)
						if pr.Ports.Equal(pr.Proto.Universe()) {
							ports = pr.Proto.String() + " (any port)"
						}
						label := fmt.Sprintf("req %d: %s -> %s %s", pr.Req, pr.From.Name, pr.To.Name, ports)
						o.Probes, o.Reqs = append(o.Probes, label), append(o.Reqs, pr.Req)
						o.Expect = pr.Expect.Contains(port)
					}
				}
			}
		}
	}
	for _, o := range out {
		o.Verdict = n.CanPorts(o.From.Endpoint().At(o.From.Private, o.SPort), o.To.Endpoint(), o.Proto, verify.Port(o.DPort))
	}
	return out
}

// pairKey names a connection by its two ends, in either direction.
func pairKey(proto verify.Protocol, a *compiler.Host, ap int, b *compiler.Host, bp int) string {
	x, y := fmt.Sprintf("%s:%d", a.Name, ap), fmt.Sprintf("%s:%d", b.Name, bp)
	if y < x {
		x, y = y, x
	}
	return fmt.Sprintf("%d|%s|%s", proto, x, y)
}

// tested reports whether a host sends and receives in the tests: every host but the NAT
// gateways, which only forward (the verifier judges them as part of other paths too).
func tested(p *compiler.Plan, h *compiler.Host) bool { return h.Endpoint().Kind != verify.NATGateway }

// hostsFor are the twin's hosts for one of the verifier's endpoints: the hosts of its ENI, or
// the outside host that stands for its class.
func hostsFor(p *compiler.Plan, e *verify.Endpoint) []*compiler.Host {
	var out []*compiler.Host
	for _, h := range p.Hosts {
		switch {
		case e.Inside() && h.Inside() && h.Endpoint().ENI() == e.ENI():
			out = append(out, h)
		case !e.Inside() && !h.Inside() && h.Stands() == e.Addr:
			out = append(out, h)
		}
	}
	return out
}

// Explain renders an outcome with both sides: what the packets did, and the verifier's path
// or blockers.
func (o *Outcome) Explain() string {
	var b strings.Builder
	packets := "blocked"
	if o.Got.Through {
		packets = "through"
	}
	fmt.Fprintf(&b, "%s\n  packets: %s (%s)\n", o.Attempt, packets, o.Got.How)
	switch {
	case !o.Verdict.Open.Empty():
		b.WriteString("  verify:  through\n")
	case !o.Verdict.Reach.Empty():
		b.WriteString("  verify:  through on some source ports only\n")
	default:
		b.WriteString("  verify:  blocked\n")
	}
	for _, pr := range o.Probes {
		exp := "blocked"
		if o.Expect {
			exp = "allowed"
		}
		fmt.Fprintf(&b, "  probe:   %s, the flow table expects %s\n", pr, exp)
	}
	for _, h := range o.Verdict.Hops {
		fmt.Fprintf(&b, "    path: %s\n", h.Detail)
	}
	for _, bl := range o.Verdict.Blockers {
		fmt.Fprintf(&b, "    blocked by %s: %s\n", bl.Code, bl.Detail)
	}
	return b.String()
}
