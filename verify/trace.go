package verify

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// Layer is the kind of component a step of a path belongs to.
type Layer int

// Layers. Security groups and network ACLs are judged on their own too (requirement 7).
const (
	LayerSG Layer = iota
	LayerNACL
	// LayerRoute is routing: route tables, gateways and public addresses.
	LayerRoute
	// LayerLB is the load balancer: listeners and target groups.
	LayerLB
	numLayers
)

var layerNames = [numLayers]string{"security groups", "network ACLs", "routing", "load balancer"}

func (l Layer) String() string {
	if l < 0 || l >= numLayers {
		return "path"
	}
	return layerNames[l]
}

// MarshalText writes the layer's name in JSON.
func (l Layer) MarshalText() ([]byte, error) { return []byte(l.String()), nil }

// Hop is one component a connection passes and the rule that lets it through.
type Hop struct {
	Layer Layer `json:"layer"`
	// Component is the resource that decides: "aws_network_acl.web-nacl".
	Component string `json:"component"`
	// Rule is the deciding rule's resource address, when it has one of its own.
	Rule string `json:"rule,omitempty"`
	// Number is a network ACL entry's rule number; -1 is the implicit deny ("*").
	Number int    `json:"number,omitempty"`
	Detail string `json:"detail"`
	// Brief is the hop in a few words, for tables: "web-nacl in #400".
	Brief string `json:"-"`
}

// Blocker is a component that stops a connection, with an explanation code in the spirit of
// VPC Reachability Analyzer's.
type Blocker struct {
	Code string `json:"code"`
	Hop
}

// Explanation codes.
const (
	CodeSG             = "ENI_SG_RULES_MISMATCH"
	CodeNACL           = "SUBNET_ACL_RESTRICTION"
	CodeNoRoute        = "NO_ROUTE_TO_DESTINATION"
	CodeMoreSpecific   = "MORE_SPECIFIC_ROUTE"
	CodePrivateIP      = "IGW_PRIVATE_IP_ASSOCIATION_FOR_INGRESS"
	CodeNATRewrite     = "NGW_SOURCE_ADDRESS_REASSIGN"
	CodeNATInbound     = "NGW_OUTBOUND_ONLY"
	CodeSGRefs         = "SG_REFERENCES_NOT_PRESERVED"
	CodeListener       = "ELBV2_LISTENER_PORT_RESTRICTION"
	CodeTargetPort     = "TARGET_PORT_RESTRICTION"
	CodeNotTarget      = "ELBV2_TARGET_NOT_REGISTERED"
	CodeNoTargetsInAZ  = "ELBV2_NO_TARGETS_IN_AZ"
	CodeBothOutside    = "NO_PATH_OUTSIDE_VPC"
	CodeNotFollowed    = "ROUTE_TARGET_NOT_MODELLED"
	CodeRemapEphemeral = "REMAP_EPHEMERAL_PORT"
)

// checkKey is what a filter saw of one packet direction: which ACL (or which set of security
// groups), which way, the address (and groups) of the other end, and the protocol. Two
// connections with the same key cannot be told apart by that filter.
type checkKey struct {
	where      string
	egress     bool
	peer       netip.Addr
	peerGroups string
	proto      Protocol
}

// filterCheck is one filter decision on a path: the key, the ports that passed, and whether it was
// a reply leg (judged on the initiator's ephemeral range).
type filterCheck struct {
	layer Layer
	key   checkKey
	ports Ports
	reply bool
}

// reply is a reply leg to judge once the request legs are done. The legs of one segment
// (one connection between two addresses) carry the same reply packets, to one ephemeral port.
type reply struct {
	acl    *NACL
	egress bool
	peer   netip.Addr
	eph    Ports
	seg    int
}

// trace accumulates the judgement of one connection over a set of ports.
type trace struct {
	// class maps a peer address to its class for the decision keys (Network.classOf).
	class   func(netip.Addr) netip.Addr
	explain bool
	proto   Protocol
	want    Ports
	// ports are the requested ports each layer lets through.
	ports [numLayers]Ports
	// replyAll and replyAny say whether the network ACLs pass replies on every port, or on
	// some port, of the initiator's ephemeral range.
	replyAll, replyAny bool
	hops               []Hop
	blocks             []Blocker
	checks             []filterCheck
	replies            []reply
	// segs counts the segments of the connection (see naclLeg).
	segs int
}

// reset prepares t for a new connection.
func (t *trace) reset(proto Protocol, want Ports, explain bool) {
	t.explain, t.proto, t.want = explain, proto, want
	for i := range t.ports {
		t.ports[i] = want
	}
	t.replyAll, t.replyAny = true, true
	t.hops, t.blocks, t.checks, t.replies = t.hops[:0], t.blocks[:0], t.checks[:0], t.replies[:0]
	t.segs = 0
}

// pass records a hop (explain mode only).
func (t *trace) pass(layer Layer, component, rule string, number int, brief, format string, args ...any) {
	if t.explain {
		t.hops = append(t.hops, Hop{Layer: layer, Component: component, Rule: rule, Number: number,
			Detail: fmt.Sprintf(format, args...), Brief: brief})
	}
}

// block records a blocker (explain mode only).
func (t *trace) block(code string, layer Layer, component, rule string, number int, format string, args ...any) {
	if t.explain {
		t.blocks = append(t.blocks, Blocker{Code: code, Hop: Hop{Layer: layer, Component: component, Rule: rule,
			Number: number, Detail: fmt.Sprintf(format, args...)}})
	}
}

// stop closes a port-independent layer (routing) for every port, and reports whether to
// explain why.
func (t *trace) stop(layer Layer) bool {
	t.ports[layer] = nil
	return t.explain
}

// narrow keeps only the ports a check passed in its layer.
func (t *trace) narrow(layer Layer, passed Ports) {
	t.ports[layer] = t.ports[layer].Intersect(passed)
}

// on renders the connection's protocol with ports.
func (t *trace) on(p Ports) string { return On(t.proto, p) }

// nacl judges the requested ports through one direction of an ACL.
func (t *trace) nacl(a *NACL, egress bool, peerAddr netip.Addr) {
	allowed, decisions := a.filter(egress, peerAddr, t.proto, t.want, t.explain)
	t.checks = append(t.checks, filterCheck{LayerNACL, checkKey{a.Addr, egress, t.class(peerAddr), "", t.proto}, allowed, false})
	t.narrow(LayerNACL, allowed)
	t.decide(a, egress, peerAddr, decisions, "")
}

// judgeReplies judges the reply legs recorded so far, on every port of the ephemeral range.
// A reply goes to one ephemeral port, so the legs of a segment are judged together: a port
// gets back only if every leg of its segment passes it. (A NAT gateway's segment to the
// internet is another connection with its own port.)
func (t *trace) judgeReplies() {
	switch {
	case t.proto == ICMP:
		t.judgeICMPReplies()
		return
	case !t.proto.hasPorts():
		// Other protocols have no replies of their own: a packet delivered has got through.
		t.replies = t.replies[:0]
		return
	}
	var common []Ports // per segment: the ephemeral ports every leg so far passes
	var eph []Ports
	for _, r := range t.replies {
		legEph := r.eph
		allowed, decisions := r.acl.filter(r.egress, r.peer, t.proto, legEph, t.explain)
		t.checks = append(t.checks, filterCheck{LayerNACL, checkKey{r.acl.Addr, r.egress, t.class(r.peer), "", t.proto}, allowed, true})
		for len(common) <= r.seg {
			common, eph = append(common, nil), append(eph, nil)
		}
		if eph[r.seg] == nil {
			common[r.seg], eph[r.seg] = legEph, legEph
		}
		common[r.seg] = common[r.seg].Intersect(allowed)
		if t.explain {
			t.decide(r.acl, r.egress, r.peer, decisions, " (reply, to the initiator's ephemeral ports "+legEph.String()+")")
		}
	}
	for i, c := range common {
		if eph[i] == nil {
			continue
		}
		t.replyAll = t.replyAll && c.Covers(eph[i])
		t.replyAny = t.replyAny && !c.Empty()
	}
	t.replies = t.replies[:0]
}

// judgeICMPReplies judges the replies of the ICMP queries asked (an echo request is answered
// by an echo reply, type 0): a query gets through only if every leg of its segment passes
// its reply; one-way message types need no reply.
func (t *trace) judgeICMPReplies() {
	replies := icmpAllReplies
	if !t.want.Covers(ICMP.Universe()) {
		replies = nil
		for i, q := range icmpQueries {
			if !t.want.Intersect(icmpQueryTypes[i]).Empty() {
				replies = replies.Union(Port(ICMPKey(q[1], 0)))
			}
		}
	}
	var common []Ports
	for _, r := range t.replies {
		if replies.Empty() {
			break
		}
		allowed, decisions := r.acl.filter(r.egress, r.peer, t.proto, replies, t.explain)
		t.checks = append(t.checks, filterCheck{LayerNACL, checkKey{r.acl.Addr, r.egress, t.class(r.peer), "", t.proto}, allowed, true})
		for len(common) <= r.seg {
			common = append(common, replies)
		}
		common[r.seg] = common[r.seg].Intersect(allowed)
		if t.explain {
			t.decide(r.acl, r.egress, r.peer, decisions, " (reply to the query)")
		}
	}
	var lost Ports
	for _, c := range common {
		for i, q := range icmpQueries {
			if !c.Contains(ICMPKey(q[1], 0)) {
				lost = lost.Union(icmpQueryTypes[i])
			}
		}
	}
	if !lost.Empty() {
		t.narrow(LayerNACL, t.want.Minus(lost))
	}
	t.replies = t.replies[:0]
}

// icmpQueryTypes are the keys of each query type of icmpQueries, and icmpAllReplies the keys
// of their replies (code 0), made once.
var icmpQueryTypes, icmpAllReplies = func() ([]Ports, Ports) {
	var types []Ports
	var replies Ports
	for _, q := range icmpQueries {
		types = append(types, ICMPType(q[0]))
		replies = replies.Union(Port(ICMPKey(q[1], 0)))
	}
	return types, replies
}()

// decide turns an ACL's decisions into hops and blockers.
func (t *trace) decide(a *NACL, egress bool, peerAddr netip.Addr, decisions []decision, suffix string) {
	if !t.explain {
		return
	}
	dir, prep := "ingress", "from"
	if egress {
		dir, prep = "egress", "to"
	}
	brief := name(a.Addr) + " " + inOut(egress)
	if suffix != "" {
		brief = "reply " + brief
	}
	for _, d := range decisions {
		switch {
		case d.entry == nil:
			t.block(CodeNACL, LayerNACL, a.Addr, "", -1, "%s %s %s on %s: no entry matches, implicit deny (*)%s%s", dir, prep, peerAddr, t.on(d.ports), suffix, nearMisses(a, egress, peerAddr, t.proto))
		case d.entry.Allow:
			t.pass(LayerNACL, a.Addr, ruleAddr(d.entry.Addr, a.Addr), d.entry.Number, brief+" #"+strconv.Itoa(d.entry.Number), "%s %s %s on %s allowed by #%d%s", dir, prep, peerAddr, t.on(d.ports), d.entry.Number, suffix)
		default:
			t.block(CodeNACL, LayerNACL, a.Addr, ruleAddr(d.entry.Addr, a.Addr), d.entry.Number, "%s %s %s on %s denied by #%d%s", dir, prep, peerAddr, t.on(d.ports), d.entry.Number, suffix)
		}
	}
}

// ruleAddr is a rule's own address, or "" when it is an inline block of its parent.
func ruleAddr(rule, parent string) string {
	if strings.HasPrefix(rule, parent) {
		return ""
	}
	return rule
}

// naclLeg judges packets from one subnet to another (nil: outside the VPC) through both
// network ACLs, and queues the replies to the initiator's ephemeral ports. Traffic inside
// one subnet is not filtered.
func (t *trace) naclLeg(from, to *Subnet, fromAddr, toAddr netip.Addr, eph Ports) {
	if from != nil && from == to {
		if t.explain {
			t.pass(LayerNACL, from.Addr, "", 0, "same subnet "+from.Name, "inside %s: network ACLs do not filter traffic within a subnet", from.Name)
		}
		return
	}
	if from != nil {
		t.nacl(from.NACL, true, toAddr)
	}
	if to != nil {
		t.nacl(to.NACL, false, fromAddr)
		t.replies = append(t.replies, reply{to.NACL, true, fromAddr, eph, t.segs})
	}
	if from != nil {
		t.replies = append(t.replies, reply{from.NACL, false, toAddr, eph, t.segs})
	}
	t.segs++
}

// sg judges one side's security groups for the requested ports. origin is the ENI a peer
// stands for when its address was rewritten on the way (its groups no longer match).
func (t *trace) sg(e *Endpoint, egress bool, p peer, origin *Endpoint) {
	if e.NoGroups {
		if t.explain {
			t.pass(LayerSG, e.Res, "", 0, "no SG", "%s has no security group", e.Name)
		}
		return
	}
	allowed, used := e.allow(egress, p, t.proto, t.explain)
	peerGroups := ""
	if p.eni != nil {
		peerGroups = p.eni.groupKey
	}
	// The decision passes the asked ports it allows (a rule's other ports are not what this
	// connection needs of it: a flow that learns its needs here asks for its own port only).
	t.checks = append(t.checks, filterCheck{LayerSG, checkKey{e.groupKey, egress, t.class(p.addr), peerGroups, t.proto}, allowed.Intersect(t.want), false})
	t.narrow(LayerSG, allowed)
	if !t.explain {
		return
	}
	dir, prep := "ingress", "from"
	if egress {
		dir, prep = "egress", "to"
	}
	who := p.addr.String()
	if p.eni != nil {
		who = p.eni.Name + " " + who
	}
	for _, r := range used {
		hit := t.want.Intersect(portsFor(r.Proto, r.Ports, t.proto))
		if !hit.Empty() {
			t.pass(LayerSG, r.Group.Addr, ruleAddr(r.Addr, r.Group.Addr), 0, name(r.Group.Addr)+" "+inOut(egress), "%s %s %s on %s allowed by %s", dir, prep, who, t.on(hit), describeRule(r))
		}
	}
	denied := t.want.Minus(allowed)
	if denied.Empty() {
		return
	}
	if origin != nil {
		for _, r := range origin.refRules(e, egress, t.proto) {
			lost := denied.Intersect(portsFor(r.Proto, r.Ports, t.proto))
			if !lost.Empty() {
				t.block(CodeSGRefs, LayerSG, r.Group.Addr, ruleAddr(r.Addr, r.Group.Addr), 0,
					"%s would let %s in on %s, but the source arrives as %s: references to its groups do not survive the address rewrite",
					describeRule(r), origin.Name, t.on(lost), p.addr)
			}
		}
	}
	names := make([]string, len(e.Groups))
	for i, g := range e.Groups {
		names[i] = g.Addr
	}
	t.block(CodeSG, LayerSG, strings.Join(names, ", "), "", 0, "no rule allows %s %s %s on %s", dir, prep, who, t.on(denied))
}

// refRules are the rules of target's groups that reference a group origin carries.
func (origin *Endpoint) refRules(target *Endpoint, egress bool, proto Protocol) []*SGRule {
	var out []*SGRule
	for _, g := range target.Groups {
		for _, r := range g.rules(egress) {
			if r.Peer != nil && origin.carries(r.Peer) && r.Proto.matches(proto) {
				out = append(out, r)
			}
		}
	}
	return out
}

// describeRule renders a security-group rule's peer: "web-sg", "0.0.0.0/0", "pl (prefix list)".
func describeRule(r *SGRule) string {
	peerDesc := r.CIDR.String()
	switch {
	case r.Peer != nil:
		peerDesc = r.Peer.Name
	case r.PrefixList != "":
		peerDesc = r.PrefixList
	}
	return fmt.Sprintf("%s (%s %s)", r.Addr, r.Proto, peerDesc)
}

// inOut is "out" for egress and "in" for ingress.
func inOut(egress bool) string {
	if egress {
		return "out"
	}
	return "in"
}

// name is the name part of a resource address: "web-nacl" for aws_network_acl.web-nacl.
func name(addr string) string {
	if i := strings.IndexByte(addr, '.'); i >= 0 && !strings.Contains(addr, " ") {
		return addr[i+1:]
	}
	return addr
}

// nearMisses lists the entries that match a packet's protocol and peer but not its ports:
// the entries to widen, or the ones that were narrowed.
func nearMisses(a *NACL, egress bool, peerAddr netip.Addr, proto Protocol) string {
	entries := a.entries(egress)
	var parts []string
	for _, e := range entries {
		if e.Allow && e.Proto.matches(proto) && e.CIDR.Contains(peerAddr) {
			parts = append(parts, fmt.Sprintf("#%d %s allows only %s", e.Number, e.Addr, On(proto, portsFor(e.Proto, e.Ports, proto))))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return "; for this peer " + strings.Join(parts, ", ")
}
