package verify

import (
	"fmt"
	"strconv"
	"strings"
)

// Protocol is an IP protocol number; All (-1) stands for every protocol, as AWS writes it.
type Protocol int

// The protocols the verifier evaluates, and All.
const (
	All  Protocol = -1
	ICMP Protocol = 1
	TCP  Protocol = 6
	UDP  Protocol = 17
	// ICMPv6 exists only over IPv6, which the verifier does not model (see addRules).
	ICMPv6 Protocol = 58
)

// Protocols are the protocols every stack is judged on, in the order reports show them.
// Verify adds each protocol the stack's rules name and one that none names (see
// protocolsOf), so that a rule for any IP protocol, or for all, is judged too.
var Protocols = []Protocol{TCP, UDP, ICMP}

// ParseProtocol reads a protocol as Terraform and the AWS APIs accept it: a name ("tcp"),
// a number ("6") or "-1"/"all".
func ParseProtocol(s string) (Protocol, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "-1", "all":
		return All, true
	case "tcp":
		return TCP, true
	case "udp":
		return UDP, true
	case "icmp":
		return ICMP, true
	case "icmpv6":
		return ICMPv6, true
	}
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 0 || n > 255 {
		return 0, false
	}
	return Protocol(n), true
}

func (p Protocol) String() string {
	switch p {
	case All:
		return "all"
	case TCP:
		return "tcp"
	case UDP:
		return "udp"
	case ICMP:
		return "icmp"
	}
	return strconv.Itoa(int(p))
}

// MarshalText writes the protocol's name in JSON.
func (p Protocol) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// hasPorts reports whether the protocol has ports (TCP and UDP).
func (p Protocol) hasPorts() bool { return p == TCP || p == UDP }

// keyed reports whether rules select connections of the protocol by a second field: the
// ports of TCP and UDP, the type and code of ICMP (see ICMPKey). For any other protocol a
// rule's port fields are ignored and a connection is represented by the single key 0.
func (p Protocol) keyed() bool { return p.hasPorts() || p == ICMP }

// matches reports whether a rule for protocol p covers a connection over q.
func (p Protocol) matches(q Protocol) bool { return p == All || p == q }

// Universe is every key of the protocol: ports 0-65535 for TCP and UDP, every ICMP type and
// code (0-65535 as ICMPKey writes them), {0} otherwise.
func (p Protocol) Universe() Ports {
	if p.keyed() {
		return keyedUniverse
	}
	return unkeyedUniverse
}

// The universes, shared: a Ports value is never changed in place.
var (
	keyedUniverse   = PortRange(0, 65535)
	unkeyedUniverse = PortRange(0, 0)
)

// ICMP connections are keyed by type and code: type*256 + code, so that the ports machinery
// holds ICMP rules too.
func ICMPKey(typ, code int) int { return typ<<8 | code }

// ICMPType is every code of one ICMP type.
func ICMPType(typ int) Ports { return PortRange(ICMPKey(typ, 0), ICMPKey(typ, 255)) }

// Echo request and echo reply.
const (
	ICMPEchoReply   = 0
	ICMPEchoRequest = 8
)

// icmpQueries pairs each ICMP query type with the type of its reply (RFC 792, RFC 950): echo,
// timestamp, information and address mask. Other types are one-way messages.
var icmpQueries = [][2]int{{ICMPEchoRequest, ICMPEchoReply}, {13, 14}, {15, 16}, {17, 18}}

// icmpString renders a set of ICMP keys: "icmp" for all of them, else by type and code:
// "icmp type 8", "icmp type 3 code 4", "icmp types 0-8".
func icmpString(p Ports) string {
	if p.Equal(ICMP.Universe()) {
		return "icmp"
	}
	parts := make([]string, len(p))
	for i, iv := range p {
		lt, lc, ht, hc := iv.Lo>>8, iv.Lo&255, iv.Hi>>8, iv.Hi&255
		switch {
		case lc == 0 && hc == 255 && lt == ht:
			parts[i] = "type " + strconv.Itoa(lt)
		case lc == 0 && hc == 255:
			parts[i] = "types " + strconv.Itoa(lt) + "-" + strconv.Itoa(ht)
		case lt == ht && lc == hc:
			parts[i] = "type " + strconv.Itoa(lt) + " code " + strconv.Itoa(lc)
		case lt == ht:
			parts[i] = "type " + strconv.Itoa(lt) + " codes " + strconv.Itoa(lc) + "-" + strconv.Itoa(hc)
		default:
			parts[i] = fmt.Sprintf("type %d code %d to type %d code %d", lt, lc, ht, hc)
		}
	}
	return "icmp " + strings.Join(parts, ", ")
}

// Interval is a closed range of ports.
type Interval struct{ Lo, Hi int }

// Ports is a set of ports: sorted, disjoint, non-adjacent intervals. The zero value is empty.
type Ports []Interval

// PortRange is the set lo..hi, or the empty set when lo > hi.
func PortRange(lo, hi int) Ports {
	if lo > hi {
		return nil
	}
	return Ports{{lo, hi}}
}

// Port is the set holding n alone.
func Port(n int) Ports { return PortRange(n, n) }

// Empty reports whether the set has no port.
func (p Ports) Empty() bool { return len(p) == 0 }

// Contains reports whether port n is in the set.
func (p Ports) Contains(n int) bool {
	for _, iv := range p {
		if iv.Lo <= n && n <= iv.Hi {
			return true
		}
	}
	return false
}

// First is the lowest port of a non-empty set.
func (p Ports) First() int { return p[0].Lo }

// Intersect returns the ports in both sets.
func (p Ports) Intersect(q Ports) Ports {
	switch {
	case len(p) == 0 || len(q) == 0:
		return nil
	case len(p) == 1 && p[0].Lo <= q[0].Lo && q[len(q)-1].Hi <= p[0].Hi:
		return q // p holds all of q (the common case of a whole range)
	case len(q) == 1 && q[0].Lo <= p[0].Lo && p[len(p)-1].Hi <= q[0].Hi:
		return p
	}
	var out Ports
	for i, j := 0, 0; i < len(p) && j < len(q); {
		lo, hi := max(p[i].Lo, q[j].Lo), min(p[i].Hi, q[j].Hi)
		if lo <= hi {
			out = append(out, Interval{lo, hi})
		}
		if p[i].Hi < q[j].Hi {
			i++
		} else {
			j++
		}
	}
	return out
}

// Union returns the ports in either set.
func (p Ports) Union(q Ports) Ports {
	if len(q) == 0 {
		return p
	}
	if len(p) == 0 {
		return q
	}
	out := make(Ports, 0, len(p)+len(q))
	for i, j := 0, 0; i < len(p) || j < len(q); {
		var iv Interval
		if j == len(q) || i < len(p) && p[i].Lo <= q[j].Lo {
			iv, i = p[i], i+1
		} else {
			iv, j = q[j], j+1
		}
		if n := len(out); n > 0 && iv.Lo <= out[n-1].Hi+1 {
			out[n-1].Hi = max(out[n-1].Hi, iv.Hi)
			continue
		}
		out = append(out, iv)
	}
	return out
}

// Minus returns the ports of p that are not in q.
func (p Ports) Minus(q Ports) Ports {
	switch {
	case len(p) == 0:
		return nil
	case len(q) == 0:
		return p
	case len(q) == 1 && q[0].Lo <= p[0].Lo && p[len(p)-1].Hi <= q[0].Hi:
		return nil // q holds all of p
	}
	var out Ports
	j := 0
	for _, iv := range p {
		lo := iv.Lo
		for j < len(q) && q[j].Hi < lo {
			j++
		}
		k := j
		for ; k < len(q) && q[k].Lo <= iv.Hi; k++ {
			if q[k].Lo > lo {
				out = append(out, Interval{lo, q[k].Lo - 1})
			}
			lo = q[k].Hi + 1
		}
		if lo <= iv.Hi {
			out = append(out, Interval{lo, iv.Hi})
		}
	}
	return out
}

// Covers reports whether every port of q is in p.
func (p Ports) Covers(q Ports) bool { return q.Minus(p).Empty() }

// Equal reports whether the sets hold the same ports.
func (p Ports) Equal(q Ports) bool {
	if len(p) != len(q) {
		return false
	}
	for i := range p {
		if p[i] != q[i] {
			return false
		}
	}
	return true
}

// String renders the set as AWS consoles do: "22", "1024-65535", "22, 80"; "none" when empty.
func (p Ports) String() string {
	if len(p) == 0 {
		return "none"
	}
	parts := make([]string, len(p))
	for i, iv := range p {
		parts[i] = strconv.Itoa(iv.Lo)
		if iv.Hi != iv.Lo {
			parts[i] += "-" + strconv.Itoa(iv.Hi)
		}
	}
	return strings.Join(parts, ", ")
}

// MarshalText writes the set as String does, in JSON.
func (p Ports) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// On renders a protocol and ports: "tcp/22", "tcp/1024-65535", "icmp", "icmp type 8".
func On(proto Protocol, p Ports) string {
	if proto == ICMP {
		return icmpString(p)
	}
	if !proto.hasPorts() {
		return proto.String()
	}
	return proto.String() + "/" + p.String()
}
