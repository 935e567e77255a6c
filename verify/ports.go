package verify

import (
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
)

// Protocols are the protocols a connection can use, in the order reports show them.
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

// hasPorts reports whether the protocol has ports (TCP and UDP); for any other protocol a
// rule's port fields are ignored and a connection is represented by the single port 0.
func (p Protocol) hasPorts() bool { return p == TCP || p == UDP }

// matches reports whether a rule for protocol p covers a connection over q.
func (p Protocol) matches(q Protocol) bool { return p == All || p == q }

// Universe is every port of the protocol: 0-65535 for TCP and UDP, {0} otherwise.
func (p Protocol) Universe() Ports {
	if p.hasPorts() {
		return PortRange(0, 65535)
	}
	return PortRange(0, 0)
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
	all := make([]Interval, 0, len(p)+len(q))
	for i, j := 0, 0; i < len(p) || j < len(q); {
		if j == len(q) || i < len(p) && p[i].Lo <= q[j].Lo {
			all = append(all, p[i])
			i++
		} else {
			all = append(all, q[j])
			j++
		}
	}
	out := Ports{all[0]}
	for _, iv := range all[1:] {
		last := &out[len(out)-1]
		if iv.Lo <= last.Hi+1 {
			last.Hi = max(last.Hi, iv.Hi)
			continue
		}
		out = append(out, iv)
	}
	return out
}

// Minus returns the ports of p that are not in q.
func (p Ports) Minus(q Ports) Ports {
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

// On renders a protocol and ports: "tcp/22", "tcp/1024-65535", "icmp".
func On(proto Protocol, p Ports) string {
	if !proto.hasPorts() {
		return proto.String()
	}
	return proto.String() + "/" + p.String()
}
