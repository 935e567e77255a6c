package compiler

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/webtier/webtier/twin/kernel"
)

// Delta is what takes a running twin from one plan to the next: the hosts launched and
// ended, the namespaces that go (ended hosts and hosts made again), and the kernel's ops.
// Up is the change from an empty plan; a resize, an instance refresh and `twin change` apply
// the change between two plans (after draining the ended hosts, and before starting the
// launched hosts' services).
type Delta struct {
	Launched, Ended []string
	Gone            []string
	Ops             []kernel.Op
}

// Diff computes the change from cur to next (pure: it touches nothing): the namespaces
// only cur has removed (their processes, the far ends of their links, then the namespaces),
// the namespaces only next has added and linked, every namespace's changed `ip` lines, the new
// namespaces' sysctls, and each new or changed ruleset (loaded in one transaction each, so
// connections already open stay open). A host whose link changed (it moved to another
// address) is made again; a router's link cannot change on a running twin.
func Diff(cur, next *Plan) (*Delta, error) {
	before := map[string]*kernel.Namespace{}
	for _, ns := range cur.Namespaces {
		before[ns.Name] = ns
	}
	after := map[string]bool{}
	var added []*kernel.Namespace
	var remade []string
	// remadeLinks are the links made again: the lines that name them run again.
	remadeLinks := map[string]bool{}
	for _, ns := range next.Namespaces {
		after[ns.Name] = true
		if old := before[ns.Name]; old != nil && !slices.Equal(old.Links, ns.Links) {
			if !slices.ContainsFunc(cur.Hosts, func(h *Host) bool { return h.Namespace == ns.Name }) {
				return nil, fmt.Errorf("the change alters the links of %s, one of the twin's routers: take the twin down and up again", ns.Name)
			}
			remade = append(remade, ns.Name)
			for _, l := range append(slices.Clone(old.Links), ns.Links...) {
				if peer, _, ok := linkPeer(l); ok {
					remadeLinks[peer] = true
				}
			}
			delete(before, ns.Name)
		}
		if before[ns.Name] == nil {
			added = append(added, ns)
			// The far end's lines naming a new link run even when the same lines were there
			// before: an ended host's link may have had its name (a new instance at the
			// address an ended one had).
			for _, l := range ns.Links {
				if peer, _, ok := linkPeer(l); ok {
					remadeLinks[peer] = true
				}
			}
		}
	}
	c := &Delta{}
	for _, h := range next.Hosts {
		if before[h.Namespace] == nil {
			c.Launched = append(c.Launched, h.Name)
		}
	}
	for _, h := range cur.Hosts {
		if !after[h.Namespace] || slices.Contains(remade, h.Namespace) {
			c.Ended = append(c.Ended, h.Name)
		}
	}
	c.Gone = slices.Clone(remade)
	for _, ns := range cur.Namespaces {
		if !after[ns.Name] {
			c.Gone = append(c.Gone, ns.Name)
		}
	}
	for _, name := range c.Gone {
		c.Ops = append(c.Ops, kernel.Op{Do: kernel.Kill, NS: name})
	}
	// The links that go with the namespaces, each named in its namespace (and its far end).
	goneLinks := map[string]bool{}
	for _, name := range c.Gone {
		// The link's far end first: a namespace's interfaces go some time after the
		// namespace, and a host made again takes a name that may be its.
		for _, ns := range cur.Namespaces {
			if ns.Name != name {
				continue
			}
			for _, l := range ns.Links {
				if peer, far, ok := linkPeer(l); ok {
					goneLinks[peer] = true
					c.Ops = append(c.Ops, kernel.Op{Do: kernel.DeleteLink, NS: far, Link: peer})
				}
			}
		}
		c.Ops = append(c.Ops, kernel.Op{Do: kernel.DeleteNamespace, NS: name})
	}
	for _, ns := range added {
		c.Ops = append(c.Ops, kernel.Op{Do: kernel.AddNamespace, NS: ns.Name})
	}
	for _, ns := range added {
		if len(ns.Links) > 0 {
			c.Ops = append(c.Ops, kernel.Op{Do: kernel.IP, NS: ns.Name, Lines: ns.Links})
		}
	}
	for _, ns := range next.Namespaces {
		old := before[ns.Name]
		lines := ns.IP
		if old != nil {
			lines = changedLines(old.IP, ns.IP, goneLinks)
			for _, l := range ns.IP {
				if !slices.ContainsFunc(strings.Fields(l), func(w string) bool { return remadeLinks[w] }) {
					continue
				}
				if _, ok := routeKey(l); ok {
					l = "route replace " + strings.Join(strings.Fields(l)[2:], " ")
				}
				if !slices.Contains(lines, l) {
					lines = append(lines, l)
				}
			}
		}
		if len(lines) > 0 {
			c.Ops = append(c.Ops, kernel.Op{Do: kernel.IP, NS: ns.Name, Lines: lines, Existing: old != nil})
		}
		if old == nil {
			c.Ops = append(c.Ops, kernel.Op{Do: kernel.Sysctl, NS: ns.Name, Lines: ns.Sysctl})
		}
		if ns.NFT != "" && (old == nil || old.NFT != ns.NFT) {
			c.Ops = append(c.Ops, kernel.Op{Do: kernel.Ruleset, NS: ns.Name, Ruleset: ns.NFT})
		}
	}
	return c, nil
}

// linkPeer reads a link line of a namespace ("link add eth0 address MAC type veth peer name
// PEER address MAC netns FAR"): the peer's name and its namespace.
func linkPeer(line string) (peer, far string, ok bool) {
	f := strings.Fields(line)
	if len(f) < 14 || f[7] != "peer" || f[8] != "name" || f[12] != "netns" {
		return "", "", false
	}
	return f[9], f[13], true
}

// changedLines are the `ip` commands that take a namespace from old to new: first the
// removal of what old set and new does not (a route of a destination and table no new line
// sets, a policy rule, an address, a permanent neighbour entry), then what new sets that old
// did not. A route is named by its destination and table (whatever its type: a `replace` of
// 0.0.0.0/0 takes the place of a blackhole default), so the route a table holds is the last
// line of its name; one that differs is replaced. What names a link in gone is not removed:
// the kernel removed it with the link.
func changedLines(old, new []string, gone map[string]bool) []string {
	was, is := routesOf(old), routesOf(new)
	onGone := func(f []string) bool {
		dev, ok := wordAfter(f, "dev")
		return ok && gone[dev]
	}
	var out []string
	for _, l := range old {
		f := strings.Fields(l)
		switch {
		case slices.Contains(new, l) || onGone(f):
		case len(f) == 9 && f[0] == "neigh" && f[5] == "dev": // "neigh replace ADDR lladdr MAC dev DEV nud permanent"
			out = append(out, "neigh del "+f[2]+" dev "+f[6])
		case len(f) > 2 && (f[0] == "rule" || f[0] == "addr") && f[1] == "add":
			out = append(out, f[0]+" del "+strings.Join(f[2:], " "))
		}
	}
	for _, key := range slices.Sorted(maps.Keys(was)) {
		if _, ok := is[key]; !ok && !onGone(strings.Fields(was[key])) {
			out = append(out, "route del "+key)
		}
	}
	for _, l := range new {
		if key, ok := routeKey(l); ok {
			if is[key] == l && was[key] != l {
				out = append(out, "route replace "+strings.Join(strings.Fields(l)[2:], " "))
			}
			continue
		}
		if !slices.Contains(old, l) {
			out = append(out, l)
		}
	}
	return out
}

// routesOf is the route each table holds after lines run: by name, the last line naming it.
func routesOf(lines []string) map[string]string {
	out := map[string]string{}
	for _, l := range lines {
		if key, ok := routeKey(l); ok {
			out[key] = l
		}
	}
	return out
}

// routeKey is what names the route of an `ip route add|replace` line: its destination and
// table ("1.178.91.0/24 table 102"; the main table when it names none; "default" is
// 0.0.0.0/0), whatever its type.
func routeKey(line string) (string, bool) {
	f := strings.Fields(line)
	if len(f) < 3 || f[0] != "route" || (f[1] != "add" && f[1] != "replace") {
		return "", false
	}
	dest := f[2]
	if slices.Contains([]string{"blackhole", "unreachable", "prohibit", "unicast", "local"}, dest) && len(f) > 3 {
		dest = f[3]
	}
	if dest == "default" {
		dest = "0.0.0.0/0"
	}
	table, ok := wordAfter(f, "table")
	if !ok {
		table = "main"
	}
	return dest + " table " + table, true
}

// wordAfter is the word after key in f.
func wordAfter(f []string, key string) (string, bool) {
	if i := slices.Index(f, key); i >= 0 && i+1 < len(f) {
		return f[i+1], true
	}
	return "", false
}
