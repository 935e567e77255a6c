package verify

import (
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// A change: two stacks (the base, what runs, and the head, what a pull request makes of it)
// judged connection by connection with the same evaluation as requirement 7. Every pair of
// endpoints either side has (an ENI by its name, an outside address by its address, one per
// class that either side's prefixes or intent tell apart) is judged over every protocol on
// both sides; a pair whose ENI exists on one side only is judged as nothing on the other.
//
// A connection is opened when the head lets through a port the base did not reach at all,
// and closed when the base let a port through robustly (replies on every ephemeral port) and
// the head does not: a new exposure counts even if flaky, a flow counts as broken even if
// only some of its replies are lost. A port that one layer (security groups, network ACLs)
// newly lets through on its own, behind a path the other layer still blocks, is opened in
// that layer when no flow asks for it and verify does not accept it (see accept): the slack
// requirement 7 refuses.

// Side is one stack of a change: its network and what it is meant to allow.
type Side struct {
	Network *Network
	Intent  Intent
}

// State is a network the apply of a change passes through (see Transition), with the
// resources it lacks and, for each, what would keep it in place.
type State struct {
	Name    string
	Network *Network
	// Stack is the state's Terraform JSON, which the twin replays.
	Stack []byte
	// Gone maps each resource the state lacks (or holds in its old form) to how it came to
	// be so: "destroyed before its replacement is created".
	Gone map[string]string
	// Avoid maps a resource of Gone to what would avoid the window.
	Avoid map[string]string
	// Subnets maps a resource of Gone to the subnets it names (an association): what it
	// changes when no hop of a path names it.
	Subnets map[string][]string
}

// Connection is one class of connections that a change opens or closes, or that an apply
// interrupts or opens in between: classes of source and destination, protocol and ports,
// with every pair of endpoints of the class, one example packet, the flows it belongs to
// and the evidence on each side.
type Connection struct {
	// Layer is "path", or the layer that lets the ports through on its own.
	Layer     string   `json:"layer"`
	FromClass string   `json:"from_class"`
	ToClass   string   `json:"to_class"`
	Proto     Protocol `json:"proto"`
	Ports     Ports    `json:"ports"`
	// Pairs are the endpoint pairs of the class: "web@web-a -> db@db-a".
	Pairs   []string `json:"pairs"`
	Example Packet   `json:"example"`
	// Flows are the flows of the table that ask for the connection: the head's for an
	// opened one, the base's for a closed or interrupted one. Empty means "no flow".
	Flows []string `json:"flows"`
	// Fails is true for what fails a change: opened with no flow, closed while a flow of
	// the head still needs it, or opened in between by the apply (an interruption is
	// reported, and fails nothing). Why says which.
	Fails bool   `json:"fails"`
	Why   string `json:"why"`
	// Causes are the rules, routes and resources responsible, on each side.
	Causes []Cause `json:"causes"`
	// Base and Head (and State, for the apply) are the example judged on each side.
	Base  Evidence  `json:"base"`
	Head  Evidence  `json:"head"`
	State *Evidence `json:"state,omitempty"`
	// StateName names the apply's state, for interrupted and exposed connections.
	StateName string `json:"state_name,omitempty"`
}

// Packet is one example packet of a connection class.
type Packet struct {
	From  string   `json:"from"`
	To    string   `json:"to"`
	Src   string   `json:"src"`
	Dst   string   `json:"dst"`
	Proto Protocol `json:"proto"`
	Port  int      `json:"port"`
}

func (p Packet) String() string {
	return fmt.Sprintf("%s -> %s %s (%s -> %s)", p.Src, p.Dst, On(p.Proto, Port(p.Port)), p.From, p.To)
}

// Evidence is the example packet judged on one side: absent when the side has no such
// endpoint, else the verdict with its path or blockers.
type Evidence struct {
	Absent   bool      `json:"absent,omitempty"`
	Allowed  bool      `json:"allowed"`
	Path     []Hop     `json:"path,omitempty"`
	Blockers []Blocker `json:"blockers,omitempty"`
}

// Cause is a rule, route or resource responsible for a difference: on which side, whether it
// lets the packet through or stops it, and what it is.
type Cause struct {
	// Side is "base", "head", or "apply" (the state of Connection.StateName).
	Side string `json:"side"`
	// Effect is "allows", "blocks" or "missing" (a resource the apply's state lacks).
	Effect   string `json:"effect"`
	Layer    string `json:"layer"`
	Resource string `json:"resource"`
	Detail   string `json:"detail"`
	// Avoid says what would avoid an interruption or an exposure it causes.
	Avoid string `json:"avoid,omitempty"`
}

func (c Cause) String() string {
	s := c.Side + " " + c.Effect + ": " + c.Resource
	if c.Detail != "" {
		s += " (" + c.Detail + ")"
	}
	return s
}

// Reroute is a connection both sides allow on another route.
type Reroute struct {
	FromClass string   `json:"from_class"`
	ToClass   string   `json:"to_class"`
	Proto     Protocol `json:"proto"`
	Ports     Ports    `json:"ports"`
	Pairs     []string `json:"pairs"`
	Before    []string `json:"before"`
	After     []string `json:"after"`
}

// Call is an authorization (see Authorization) whose decision differs between the sides, or
// that one side alone asks: the policy statements above the packets.
type Call struct {
	Req      int    `json:"req"`
	Check    string `json:"check"`
	Action   string `json:"action"`
	Resource string `json:"resource"`
	// Base and Head are the decisions; "" where the side does not ask.
	Base     string `json:"base"`
	Head     string `json:"head"`
	Expected string `json:"expected"`
	// Fails is true when the head decides against the expectation.
	Fails bool `json:"fails"`
	// By are the statements that decided on the head (the base's, for a call it alone asks).
	By  []string `json:"by,omitempty"`
	Why string   `json:"why"`
}

// Change is what a change does to the connections: what it opens, closes and reroutes, and
// (with the apply's states) what the apply interrupts and what it opens in between.
type Change struct {
	Opened   []Connection `json:"opened"`
	Closed   []Connection `json:"closed"`
	Rerouted []Reroute    `json:"rerouted"`
	// Calls are the authorizations decided otherwise (policy statements).
	Calls       []Call       `json:"authorizations"`
	Interrupted []Connection `json:"interrupted"`
	// Exposed are connections neither side allows that a state of the apply lets through.
	Exposed []Connection `json:"exposed"`
	// States name the apply's states judged; Notes say what could not be judged.
	States []string `json:"states"`
	Notes  []string `json:"notes,omitempty"`
	// Pairs and Evaluations count the work.
	Pairs       int `json:"pairs"`
	Evaluations int `json:"evaluations"`
}

// Changed reports whether the change opens, closes, reroutes, interrupts or exposes anything.
func (c *Change) Changed() bool {
	return len(c.Opened)+len(c.Closed)+len(c.Rerouted)+len(c.Interrupted)+len(c.Exposed)+len(c.Calls) > 0
}

// Failed reports whether the change opens something no flow explains, closes what a flow
// needs, has an authorization decided against its expectation, or its apply opens in between
// what neither side allows. What the apply interrupts is reported (Interrupted) and fails
// nothing: a reviewer weighs it.
func (c *Change) Failed() bool {
	for _, list := range [][]Connection{c.Opened, c.Closed, c.Interrupted, c.Exposed} {
		for _, x := range list {
			if x.Fails {
				return true
			}
		}
	}
	for _, x := range c.Calls {
		if x.Fails {
			return true
		}
	}
	return false
}

// diffSide is one side's verifier and its endpoints by key.
type diffSide struct {
	name string
	v    *verifier
	eps  map[string]*Endpoint
}

// look is what one side lets through for one pair over one protocol.
type look struct {
	present              bool
	open, reach          Ports
	sg, nacl             Ports
	acceptSG, acceptNACL Ports
}

// Diff judges the change from base to head and, for each state of its apply, what the apply
// interrupts and opens in between.
func Diff(base, head Side, states ...State) *Change {
	nets := []*Network{base.Network, head.Network}
	ins := []Intent{base.Intent, head.Intent}
	for _, s := range states {
		nets = append(nets, s.Network)
	}
	outside := outsideAddrs(nets, ins)
	b := newDiffSide("base", base.Network, base.Intent, outside)
	h := newDiffSide("head", head.Network, head.Intent, outside)
	align(h, b)
	var st []*diffSide
	// Empty lists, not null, in JSON: a consumer counts them (jq '.opened | length').
	out := &Change{Opened: []Connection{}, Closed: []Connection{}, Rerouted: []Reroute{}, Interrupted: []Connection{},
		Exposed: []Connection{}, States: []string{}, Calls: calls(b.v.authorizations(), h.v.authorizations())}
	for _, s := range states {
		st = append(st, newDiffSide(s.Name, s.Network, head.Intent, outside))
		align(h, st[len(st)-1])
		out.States = append(out.States, s.Name)
	}
	keys := orderedKeys(b, h)
	protos := slices.Clone(b.v.protocols)
	for _, p := range h.v.protocols {
		if !slices.Contains(protos, p) {
			protos = append(protos, p)
		}
	}
	g := newGrouper()
	for _, fk := range keys {
		for _, tk := range keys {
			bs, bd := b.eps[fk], b.eps[tk]
			hs, hd := h.eps[fk], h.eps[tk]
			if !judged(bs, bd) && !judged(hs, hd) {
				continue
			}
			out.Pairs++
			for _, proto := range protos {
				lb := b.judge(bs, bd, proto, false)
				lh := h.judge(hs, hd, proto, true)
				src, dst := hs, hd
				if src == nil || dst == nil {
					src, dst = bs, bd
				}
				pair := src.Name + " -> " + dst.Name
				cls := [2]string{string(src.Role), string(dst.Role)}
				// Opened on the path, then in one layer behind the other.
				opened := lh.reach.Minus(lb.reach)
				if !opened.Empty() {
					asked := h.v.asked(hs, hd, proto)
					g.add(&out.Opened, PathLayer, cls, proto, opened.Intersect(asked), pair, func(c *Connection) func() {
						c.Flows = flowsFor(h.v, hs, hd, proto, opened.Intersect(asked))
						c.Why = "opened for " + strings.Join(c.Flows, ", ")
						return nil
					}, b, h, fk, tk)
					g.add(&out.Opened, PathLayer, cls, proto, opened.Minus(asked), pair, func(c *Connection) func() {
						c.Fails, c.Why = true, "no flow: nothing in the flow table asks for it"
						return nil
					}, b, h, fk, tk)
				}
				for _, l := range []struct {
					layer    Layer
					hp, bp   Ports
					accepted Ports
				}{{LayerSG, lh.sg, lb.sg, lh.acceptSG}, {LayerNACL, lh.nacl, lb.nacl, lh.acceptNACL}} {
					slack := l.hp.Minus(l.bp).Minus(opened)
					if lh.present {
						slack = slack.Minus(h.v.asked(hs, hd, proto)).Minus(l.accepted)
					}
					g.add(&out.Opened, l.layer.String(), cls, proto, slack, pair, func(c *Connection) func() {
						c.Fails = true
						c.Why = "no flow: the " + l.layer.String() + " alone now let it through, behind a path the other layer blocks"
						return nil
					}, b, h, fk, tk)
				}
				closed := lb.open.Minus(lh.open)
				if !closed.Empty() {
					var needed Ports
					if lh.present {
						needed = closed.Intersect(h.v.asked(hs, hd, proto))
					}
					g.add(&out.Closed, PathLayer, cls, proto, needed, pair, func(c *Connection) func() {
						c.Flows = flowsFor(h.v, hs, hd, proto, needed)
						c.Fails, c.Why = true, "a flow needs it: "+strings.Join(c.Flows, ", ")
						return nil
					}, b, h, fk, tk)
					g.add(&out.Closed, PathLayer, cls, proto, closed.Minus(needed), pair, func(c *Connection) func() {
						if lb.present {
							c.Flows = flowsFor(b.v, bs, bd, proto, closed.Minus(needed))
						}
						c.Why = "no flow of the head needs it"
						if len(c.Flows) > 0 {
							c.Why = "the head no longer has " + strings.Join(c.Flows, ", ")
						}
						return nil
					}, b, h, fk, tk)
				}
				both := lb.open.Intersect(lh.open)
				if !both.Empty() {
					g.reroute(&out.Rerouted, bs, bd, hs, hd, cls, proto, both, pair)
				}
				for i, s := range st {
					ss, sd := s.eps[fk], s.eps[tk]
					ls := s.judge(ss, sd, proto, false)
					if lost := both.Minus(ls.open); !lost.Empty() {
						g.add(&out.Interrupted, PathLayer, cls, proto, lost, pair+" @"+s.name, func(c *Connection) func() {
							c.Flows = flowsFor(b.v, bs, bd, proto, lost)
							c.Why = "both sides allow it; the apply's state \"" + s.name + "\" does not"
							c.StateName = s.name
							return func() { c.explainState(s, ss, sd, states[i], bs, bd) }
						}, b, h, fk, tk)
					}
					if gained := ls.reach.Minus(lb.reach).Minus(lh.reach); !gained.Empty() {
						g.add(&out.Exposed, PathLayer, cls, proto, gained, pair+" @"+s.name, func(c *Connection) func() {
							c.Fails, c.Why = true, "neither side allows it; the apply's state \""+s.name+"\" does"
							c.StateName = s.name
							return func() { c.explainState(s, ss, sd, states[i], bs, bd) }
						}, b, h, fk, tk)
					}
				}
			}
		}
	}
	out.Evaluations = b.v.evals + h.v.evals
	for _, s := range st {
		out.Evaluations += s.v.evals
	}
	for _, list := range []*[]Connection{&out.Opened, &out.Closed, &out.Interrupted, &out.Exposed} {
		for i := range *list {
			(*list)[i].Pairs = trimState((*list)[i].Pairs)
		}
	}
	return out
}

// calls compares the authorizations of both sides, by requirement, check and action (as
// Differences does: resources are ARNs, which a stack read back from AWS writes otherwise); a
// decision one side's reader could not make ("not read") is not compared.
func calls(base, head []Authorization) []Call {
	key := func(a Authorization) string { return fmt.Sprintf("%d|%s|%s", a.Req, a.Check, a.Action) }
	before := map[string]Authorization{}
	for _, a := range base {
		before[key(a)] = a
	}
	out := []Call{}
	seen := map[string]bool{}
	for _, a := range head {
		k := key(a)
		seen[k] = true
		b, ok := before[k]
		if ok && (b.Outcome == a.Outcome || b.Outcome == notRead || a.Outcome == notRead) {
			continue
		}
		c := Call{Req: a.Req, Check: a.Check, Action: a.Action, Resource: a.Resource, Head: a.Outcome, Expected: a.Expected,
			Fails: !a.OK, By: a.By, Why: a.Why}
		if ok {
			c.Base = b.Outcome
		}
		out = append(out, c)
	}
	for _, b := range base {
		if !seen[key(b)] && b.Outcome != notRead {
			out = append(out, Call{Req: b.Req, Check: b.Check, Action: b.Action, Resource: b.Resource, Base: b.Outcome,
				Expected: b.Expected, By: b.By, Why: "the head no longer asks: " + b.Why})
		}
	}
	return out
}

// trimState drops the state suffix the grouper keys interrupted pairs by.
func trimState(pairs []string) []string {
	for i, p := range pairs {
		if j := strings.LastIndex(p, " @"); j >= 0 {
			pairs[i] = p[:j]
		}
	}
	return pairs
}

func newDiffSide(name string, n *Network, in Intent, outside []netip.Addr) *diffSide {
	v := newVerifier(n, in)
	s := &diffSide{name: name, v: v, eps: map[string]*Endpoint{}}
	for _, e := range n.Endpoints {
		if e.Kind != NATGateway {
			s.eps[eniKey(e)] = e
		}
	}
	for _, e := range v.outsideAt(outside) {
		e.roles = in.roles(e)
		s.eps["@"+e.Addr.String()] = e
	}
	return s
}

// eniKey matches an ENI across the sides: its resource, role and subnet, and its address
// when its subnet has several classes of addresses. Not its name, which gains the resource's
// when a second resource of the role joins the subnet.
func eniKey(e *Endpoint) string {
	k := e.Res + "|" + string(e.Role) + "|" + e.Subnet.Name
	if len(e.Subnet.reps) > 1 {
		k += "|" + e.Addr.String()
	}
	return k
}

// align gives the other side's ENIs that match none of the head's by resource, role and
// subnet the head's key of the ENI with the same name, when exactly one unmatched ENI of the
// head has it: a stack read back from AWS names its resources otherwise (its web servers'
// group is aws_autoscaling_group.webtier-web), and its endpoints alike (web@web-a).
func align(h, other *diffSide) {
	unmatched := map[string][]string{}
	for k, e := range h.eps {
		if _, ok := other.eps[k]; !ok && e.Inside() {
			unmatched[e.Name] = append(unmatched[e.Name], k)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(other.eps)) {
		e := other.eps[k]
		if _, ok := h.eps[k]; ok || !e.Inside() {
			continue
		}
		if keys := unmatched[e.Name]; len(keys) == 1 {
			delete(other.eps, k)
			other.eps[keys[0]] = e
			delete(unmatched, e.Name)
		}
	}
}

// orderedKeys lists the endpoint keys of both sides: the head's ENIs, the base's others,
// then the outside addresses.
func orderedKeys(b, h *diffSide) []string {
	var inside, outside []string
	for _, s := range []*diffSide{h, b} {
		keyOf := map[*Endpoint]string{}
		for k, e := range s.eps {
			keyOf[e] = k
		}
		for _, e := range s.v.n.Endpoints {
			if k, ok := keyOf[e]; ok && !slices.Contains(inside, k) {
				inside = append(inside, k)
			}
		}
	}
	for k := range h.eps {
		if strings.HasPrefix(k, "@") {
			outside = append(outside, k)
		}
	}
	slices.SortFunc(outside, func(a, b string) int {
		return netip.MustParseAddr(a[1:]).Compare(netip.MustParseAddr(b[1:]))
	})
	return append(inside, outside...)
}

func judged(src, dst *Endpoint) bool { return src != nil && dst != nil && Judges(src, dst) }

// judge evaluates one pair over every port of proto; with accept, it also finds the slack
// each layer lets through that verify accepts.
func (s *diffSide) judge(src, dst *Endpoint, proto Protocol, accept bool) look {
	if !judged(src, dst) {
		return look{}
	}
	t := s.v.eval(src, dst, proto, proto.Universe())
	l := look{present: true, sg: t.layer(LayerSG), nacl: t.layer(LayerNACL)}
	l.open, l.reach = t.result()
	if accept {
		asked := s.v.asked(src, dst, proto)
		if slack := l.sg.Minus(asked); !slack.Empty() {
			l.acceptSG, _ = s.v.accept(t, LayerSG, slack, src, dst, proto)
		}
		if slack := l.nacl.Minus(asked); !slack.Empty() {
			l.acceptNACL, _ = s.v.accept(t, LayerNACL, slack, src, dst, proto)
		}
	}
	return l
}

// flowsFor are the IDs of the flows of v that ask for src -> dst over proto on some of ports.
func flowsFor(v *verifier, src, dst *Endpoint, proto Protocol, ports Ports) []string {
	if src == nil || dst == nil {
		return nil
	}
	var out []string
	for i, f := range v.in.Flows {
		if v.protos[i] != proto || !slices.Contains(src.roles, f.From) || !slices.Contains(dst.roles, f.To) {
			continue
		}
		if f.SameAZ && src.AZ() != dst.AZ() {
			continue
		}
		if !portsOf(f.Port).Intersect(ports).Empty() && !slices.Contains(out, f.ID) {
			out = append(out, f.ID)
		}
	}
	return out
}

// grouper merges the pairs of one class with the same ports and verdict into one connection.
type grouper struct {
	index map[string]int
}

func newGrouper() *grouper { return &grouper{index: map[string]int{}} }

// add records pair in list under its class, unless ports is empty; fill sets the flows and
// the verdict of a new connection, whose example and evidence come from this pair.
func (g *grouper) add(list *[]Connection, layer string, cls [2]string, proto Protocol, ports Ports, pair string,
	fill func(*Connection) func(), b, h *diffSide, fk, tk string) {
	if ports.Empty() {
		return
	}
	c := Connection{Layer: layer, FromClass: cls[0], ToClass: cls[1], Proto: proto, Ports: ports}
	later := fill(&c)
	key := fmt.Sprintf("%p|%s|%s|%s|%d|%s|%s|%t|%s", list, layer, cls[0], cls[1], proto, ports, strings.Join(c.Flows, ","), c.Fails, c.StateName)
	if i, ok := g.index[key]; ok {
		(*list)[i].Pairs = append((*list)[i].Pairs, pair)
		return
	}
	c.Pairs = []string{pair}
	c.example(b, h, fk, tk)
	if later != nil {
		later()
	}
	g.index[key] = len(*list)
	*list = append(*list, c)
}

// example fills the example packet, the evidence on both sides and the causes: on the side
// that lets it through, the hops the other side's path lacks; on the other, its blockers.
func (c *Connection) example(b, h *diffSide, fk, tk string) {
	port := c.Ports.First()
	for _, s := range []*diffSide{h, b} {
		if src, dst := s.eps[fk], s.eps[tk]; judged(src, dst) {
			c.Example = packet(src, dst, c.Proto, port)
			break
		}
	}
	c.Base = b.evidence(fk, tk, c.Proto, port)
	c.Head = h.evidence(fk, tk, c.Proto, port)
	layer := func(l Layer) bool { return c.Layer == PathLayer || l.String() == c.Layer }
	for _, sides := range []struct {
		name    string
		on, off *Evidence
	}{{"head", &c.Head, &c.Base}, {"base", &c.Base, &c.Head}} {
		if sides.off.Absent {
			continue
		}
		for _, hop := range sides.on.Path {
			if layer(hop.Layer) && !hasHop(sides.off.Path, hop) {
				c.Causes = append(c.Causes, Cause{Side: sides.name, Effect: "allows", Layer: hop.Layer.String(), Resource: hopResource(hop), Detail: hop.Detail})
			}
		}
	}
	for _, e := range []struct {
		side string
		ev   *Evidence
	}{{"base", &c.Base}, {"head", &c.Head}} {
		if e.ev.Absent {
			c.Causes = append(c.Causes, Cause{Side: e.side, Effect: "missing", Layer: "endpoint", Resource: missingENI(b, h, e.side == "base", fk, tk), Detail: "no such endpoint on this side"})
			continue
		}
		for _, bl := range e.ev.Blockers {
			if layer(bl.Layer) {
				c.Causes = append(c.Causes, Cause{Side: e.side, Effect: "blocks", Layer: bl.Layer.String(), Resource: hopResource(bl.Hop), Detail: bl.Code + ": " + bl.Detail})
			}
		}
	}
}

// missingENI names the resource of the ENI one side (the base, or the head) lacks.
func missingENI(b, h *diffSide, inBase bool, fk, tk string) string {
	lacks, has := b, h
	if !inBase {
		lacks, has = h, b
	}
	var out []string
	for _, k := range []string{fk, tk} {
		if e := has.eps[k]; e != nil && lacks.eps[k] == nil {
			out = append(out, e.Res)
		}
	}
	return strings.Join(out, ", ")
}

// explainState adds the state's evidence and the causes of an interruption or exposure: the
// base path's hops through resources the state lacks, and the state's blockers.
func (c *Connection) explainState(s *diffSide, src, dst *Endpoint, st State, ends ...*Endpoint) {
	port := c.Ports.First()
	ev := Evidence{Absent: !judged(src, dst)}
	if !ev.Absent {
		v := s.v.n.canPorts(&s.v.et, src, dst, c.Proto, Port(port))
		s.v.evals++
		ev.Allowed, ev.Path, ev.Blockers = !v.Blocked(), v.Hops, v.Blockers
	}
	c.State = &ev
	// What the base and the head do differently is beside the point here: the state's
	// missing resources and blockers are the causes.
	c.Causes = nil
	seen := map[string]bool{}
	addGone := func(res, detail string) {
		if res == "" || seen[res] {
			return
		}
		how, ok := st.Gone[res]
		if !ok {
			return
		}
		seen[res] = true
		c.Causes = append(c.Causes, Cause{Side: "apply", Effect: "missing", Layer: "apply", Resource: res, Detail: how + "; " + detail, Avoid: st.Avoid[res]})
	}
	// The base's path through what the state lacks (computed after the grouper's example).
	for _, hop := range c.Base.Path {
		addGone(hop.Rule, hop.Detail)
		addGone(hop.Component, hop.Detail)
	}
	for _, hop := range ev.Path {
		if !hasHop(c.Base.Path, hop) && !hasHop(c.Head.Path, hop) {
			c.Causes = append(c.Causes, Cause{Side: "apply", Effect: "allows", Layer: hop.Layer.String(), Resource: hopResource(hop), Detail: hop.Detail})
			addGone(hop.Component, hop.Detail)
		}
	}
	for _, bl := range ev.Blockers {
		c.Causes = append(c.Causes, Cause{Side: "apply", Effect: "blocks", Layer: bl.Layer.String(), Resource: hopResource(bl.Hop), Detail: bl.Code + ": " + bl.Detail})
	}
	if ev.Absent {
		for _, e := range ends {
			if e != nil && e.Inside() {
				addGone(e.Res, "its ENI is gone")
			}
		}
	}
	if len(seen) == 0 {
		// No hop names what the state lacks: what it lacks about the ends' subnets (an
		// association that put a subnet on its route table or network ACL).
		for _, res := range slices.Sorted(maps.Keys(st.Subnets)) {
			for _, e := range ends {
				if e != nil && e.Inside() && slices.Contains(st.Subnets[res], e.Subnet.Addr) {
					addGone(res, "it held "+e.Subnet.Name+"'s association")
				}
			}
		}
	}
}

// evidence judges the example on one side.
func (s *diffSide) evidence(fk, tk string, proto Protocol, port int) Evidence {
	src, dst := s.eps[fk], s.eps[tk]
	if !judged(src, dst) {
		return Evidence{Absent: true}
	}
	v := s.v.n.canPorts(&s.v.et, src, dst, proto, Port(port))
	s.v.evals++
	return Evidence{Allowed: !v.Blocked(), Path: v.Hops, Blockers: v.Blockers}
}

func packet(src, dst *Endpoint, proto Protocol, port int) Packet {
	p := Packet{From: src.Name, To: dst.Name, Src: src.Addr.String(), Dst: dst.Addr.String(), Proto: proto, Port: port}
	if proto.hasPorts() {
		p.Src += ":" + strconv.Itoa(src.Ephemeral.First())
		p.Dst += ":" + strconv.Itoa(port)
	}
	return p
}

// hasHop reports whether list passes the same component by the same rule.
func hasHop(list []Hop, h Hop) bool {
	return slices.ContainsFunc(list, func(x Hop) bool {
		return x.Layer == h.Layer && x.Component == h.Component && x.Rule == h.Rule && x.Number == h.Number && x.Brief == h.Brief
	})
}

// hopResource names what decides at a hop: its rule's address, else its component's (with
// an ACL entry's number).
func hopResource(h Hop) string {
	switch {
	case h.Rule != "":
		return h.Rule
	case h.Layer == LayerNACL && h.Number > 0:
		return h.Component + " #" + strconv.Itoa(h.Number)
	case h.Layer == LayerNACL && h.Number < 0:
		return h.Component + " (*)"
	}
	return h.Component
}

// reroute records a connection both sides allow whose routes differ.
func (g *grouper) reroute(list *[]Reroute, bs, bd, hs, hd *Endpoint, cls [2]string, proto Protocol, ports Ports, pair string) {
	before, after := routeOf(bs, bd), routeOf(hs, hd)
	if slices.Equal(before, after) {
		return
	}
	key := fmt.Sprintf("reroute|%s|%s|%d|%s|%s|%s", cls[0], cls[1], proto, ports, strings.Join(before, ">"), strings.Join(after, ">"))
	if i, ok := g.index[key]; ok {
		(*list)[i].Pairs = append((*list)[i].Pairs, pair)
		return
	}
	g.index[key] = len(*list)
	*list = append(*list, Reroute{FromClass: cls[0], ToClass: cls[1], Proto: proto, Ports: ports, Pairs: []string{pair}, Before: before, After: after})
}

// routeOf says how a connection leaves the VPC, or comes in: the route the source's subnet
// takes to the destination (and, through a NAT gateway, the one the NAT's subnet takes), or
// the route the destination's subnet takes back to an outside source. Named by what it
// reaches (subnets, the NAT gateway's endpoint, the gateway endpoint's list), not by
// resource addresses, so that a stack read back from AWS compares with a synthesized one; a
// VPC's local route is the same in every table and is left out.
func routeOf(src, dst *Endpoint) []string {
	var out []string
	step := func(s *Subnet, to netip.Addr, viaNAT bool) *Route {
		r := s.Routes.lookup(to)
		switch {
		case r == nil:
			out = append(out, s.Name+": no route")
		case r.Kind != TargetLocal:
			out = append(out, s.Name+": "+r.dest()+" > "+targetOf(r))
			if r.Kind == TargetNAT && r.NAT != nil && !viaNAT {
				return r
			}
		}
		return nil
	}
	switch {
	case src.Inside():
		if r := step(src.Subnet, dst.Addr, false); r != nil {
			step(r.NAT.Subnet, dst.Addr, true)
		}
	case dst.Inside():
		step(dst.Subnet, src.Addr, false)
	}
	return out
}

// targetOf names a route's target by what it is.
func targetOf(r *Route) string {
	switch r.Kind {
	case TargetIGW:
		return "internet gateway"
	case TargetNAT:
		if r.NAT != nil {
			return "NAT gateway " + r.NAT.Name
		}
		return "NAT gateway"
	case TargetGateway:
		return "gateway endpoint"
	}
	return r.Target
}
