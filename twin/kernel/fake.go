package kernel

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"maps"
	"slices"
	"strings"
)

// Fake is a kernel in memory: namespaces, links (veth pairs across namespaces, bridges and
// their ports), addresses, routes, policy rules, neighbour entries, sysctls and rulesets,
// with the rules of Linux and iproute2 that a change of the twin relies on: removing a
// namespace removes its links and their veth peers, and with a link go its addresses,
// routes and neighbour entries; `add` of what exists fails, `replace` does not, `del` of what
// does not exist fails; a route is named by its destination and table, whatever its type.
// The zero value is an empty kernel.
type Fake struct {
	ns map[string]*fakeNS
	// Killed counts the kills of each namespace.
	Killed map[string]int
}

type fakeNS struct {
	links   map[string]*fakeLink
	addrs   map[string]bool   // "ADDR/LEN dev DEV"
	routes  map[string]string // "DEST table T" -> the route
	rules   map[string]bool
	neigh   map[string]string // "ADDR dev DEV" -> "lladdr MAC nud STATE"
	sysctl  map[string]string
	ruleset string
}

type fakeLink struct {
	kind            string // "veth", "bridge", "loopback"
	mac             string
	up              bool
	master          string
	peerNS, peerDev string
}

func (f *Fake) get(name string) (*fakeNS, error) {
	n := f.ns[name]
	if n == nil {
		return nil, fmt.Errorf("%s: no such namespace", name)
	}
	return n, nil
}

// Namespaces lists the namespaces whose names start with prefix, sorted.
func (f *Fake) Namespaces(prefix string) ([]string, error) {
	var out []string
	for name := range f.ns {
		if strings.HasPrefix(name, prefix) {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out, nil
}

// Kill counts a kill of each namespace.
func (f *Fake) Kill(_ context.Context, namespaces []string) {
	if f.Killed == nil {
		f.Killed = map[string]int{}
	}
	for _, ns := range namespaces {
		f.Killed[ns]++
	}
}

// AddNamespace makes an empty namespace: a loopback device, down.
func (f *Fake) AddNamespace(_ context.Context, name string) error {
	if f.ns == nil {
		f.ns = map[string]*fakeNS{}
	}
	if f.ns[name] != nil {
		return fmt.Errorf("netns add %s: File exists", name)
	}
	f.ns[name] = &fakeNS{
		links: map[string]*fakeLink{"lo": {kind: "loopback"}}, addrs: map[string]bool{}, routes: map[string]string{},
		rules: map[string]bool{}, neigh: map[string]string{}, sysctl: map[string]string{},
	}
	return nil
}

// DeleteNamespace removes a namespace; the far end of each of its veth links goes with it.
func (f *Fake) DeleteNamespace(_ context.Context, name string) error {
	n, err := f.get(name)
	if err != nil {
		return err
	}
	for dev := range n.links {
		f.removeLink(name, dev)
	}
	delete(f.ns, name)
	return nil
}

// DeleteLink removes a link and, for a veth, its peer.
func (f *Fake) DeleteLink(_ context.Context, ns, link string) error {
	n, err := f.get(ns)
	if err != nil {
		return err
	}
	if n.links[link] == nil {
		return fmt.Errorf("%s: link del %s: Cannot find device", ns, link)
	}
	f.removeLink(ns, link)
	return nil
}

// removeLink removes a link with what names it, and its veth peer.
func (f *Fake) removeLink(ns, dev string) {
	n := f.ns[ns]
	l := n.links[dev]
	if l == nil {
		return
	}
	delete(n.links, dev)
	maps.DeleteFunc(n.addrs, func(k string, _ bool) bool { return strings.HasSuffix(k, " dev "+dev) })
	maps.DeleteFunc(n.neigh, func(k, _ string) bool { return strings.HasSuffix(k, " dev "+dev) })
	maps.DeleteFunc(n.routes, func(_, r string) bool {
		d, ok := after(strings.Fields(r), "dev")
		return ok && d == dev
	})
	for _, other := range n.links {
		if other.master == dev {
			other.master = ""
		}
	}
	if l.kind == "veth" && f.ns[l.peerNS] != nil {
		f.removeLink(l.peerNS, l.peerDev)
	}
}

// IP runs batch lines; with existing, every line runs and the first failure is returned.
func (f *Fake) IP(_ context.Context, ns string, lines []string, existing bool) error {
	n, err := f.get(ns)
	if err != nil {
		return err
	}
	var errs []error
	for i, line := range lines {
		if err := f.ip(ns, n, strings.Fields(line)); err != nil {
			err = fmt.Errorf("%s: line %d %q: %w", ns, i+1, line, err)
			if !existing {
				return err
			}
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Sysctl sets each key=value.
func (f *Fake) Sysctl(_ context.Context, ns string, settings []string) error {
	n, err := f.get(ns)
	if err != nil {
		return err
	}
	for _, s := range settings {
		k, v, ok := strings.Cut(s, "=")
		if !ok {
			return fmt.Errorf("%s: sysctl %q: not key=value", ns, s)
		}
		n.sysctl[k] = v
	}
	return nil
}

// LoadRuleset replaces the ruleset, which must start by flushing the one before.
func (f *Fake) LoadRuleset(_ context.Context, ns, ruleset string) error {
	n, err := f.get(ns)
	if err != nil {
		return err
	}
	first := ""
	for _, l := range strings.Split(ruleset, "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			first = l
			break
		}
	}
	if first != "flush ruleset" {
		return fmt.Errorf("%s: the ruleset does not start with `flush ruleset`: loading it would add to the rules there", ns)
	}
	n.ruleset = ruleset
	return nil
}

var (
	errExists  = errors.New("File exists")
	errMissing = errors.New("No such file or directory")
	errNoDev   = errors.New("Cannot find device")
	errSyntax  = errors.New("the fake kernel does not know this command")
)

// ip runs one batch line.
func (f *Fake) ip(ns string, n *fakeNS, w []string) error {
	if len(w) < 3 {
		return errSyntax
	}
	obj, verb, rest := w[0], w[1], w[2:]
	hasDev := func(dev string) error {
		if n.links[dev] == nil {
			return fmt.Errorf("%w %q", errNoDev, dev)
		}
		return nil
	}
	switch obj {
	case "link":
		return f.link(ns, n, verb, rest)
	case "addr":
		dev, ok := after(rest, "dev")
		if !ok || len(rest) != 3 {
			return errSyntax
		}
		key := rest[0] + " dev " + dev
		switch verb {
		case "add":
			if err := hasDev(dev); err != nil {
				return err
			}
			if n.addrs[key] {
				return errExists
			}
			n.addrs[key] = true
		case "del":
			if !n.addrs[key] {
				return errMissing
			}
			delete(n.addrs, key)
		default:
			return errSyntax
		}
	case "route":
		key, route := routeOf(rest)
		if dev, ok := after(rest, "dev"); ok {
			if err := hasDev(dev); err != nil {
				return err
			}
		}
		switch verb {
		case "add":
			if _, ok := n.routes[key]; ok {
				return errExists
			}
			n.routes[key] = route
		case "replace":
			n.routes[key] = route
		case "del":
			// A del that names a type removes only a route of that type.
			r, ok := n.routes[key]
			if !ok || (routeType(rest) != "" && routeType(strings.Fields(r)) != routeType(rest)) {
				return errMissing
			}
			delete(n.routes, key)
		default:
			return errSyntax
		}
	case "rule":
		key := strings.Join(rest, " ")
		switch verb {
		case "add":
			if n.rules[key] {
				return errExists
			}
			n.rules[key] = true
		case "del":
			if !n.rules[key] {
				return errMissing
			}
			delete(n.rules, key)
		default:
			return errSyntax
		}
	case "neigh":
		dev, ok := after(rest, "dev")
		if !ok {
			return errSyntax
		}
		key := rest[0] + " dev " + dev
		switch verb {
		case "replace":
			if err := hasDev(dev); err != nil {
				return err
			}
			mac, _ := after(rest, "lladdr")
			state, _ := after(rest, "nud")
			n.neigh[key] = "lladdr " + mac + " nud " + state
		case "del":
			if _, ok := n.neigh[key]; !ok {
				return errMissing
			}
			delete(n.neigh, key)
		default:
			return errSyntax
		}
	default:
		return errSyntax
	}
	return nil
}

// link runs a `link` line: add a veth pair or a bridge, or set a link up or into a bridge.
func (f *Fake) link(ns string, n *fakeNS, verb string, rest []string) error {
	switch verb {
	case "add":
		name := rest[0]
		if n.links[name] != nil {
			return errExists
		}
		mac, _ := after(rest, "address")
		kind, _ := after(rest, "type")
		switch kind {
		case "bridge":
			n.links[name] = &fakeLink{kind: kind, mac: mac}
		case "veth":
			peer, ok1 := after(rest, "name")
			far, ok2 := after(rest, "netns")
			peerMAC := ""
			if i := slices.Index(rest, "peer"); i > 0 {
				peerMAC, _ = after(rest[i:], "address")
			}
			if !ok1 || !ok2 {
				return errSyntax
			}
			fn := f.ns[far]
			if fn == nil {
				return fmt.Errorf("netns %s: %w", far, errMissing)
			}
			if fn.links[peer] != nil {
				return fmt.Errorf("%s in %s: %w", peer, far, errExists)
			}
			n.links[name] = &fakeLink{kind: kind, mac: mac, peerNS: far, peerDev: peer}
			fn.links[peer] = &fakeLink{kind: kind, mac: peerMAC, peerNS: ns, peerDev: name}
		default:
			return errSyntax
		}
	case "set":
		l := n.links[rest[0]]
		if l == nil {
			return fmt.Errorf("%w %q", errNoDev, rest[0])
		}
		switch {
		case len(rest) == 2 && rest[1] == "up":
			l.up = true
		case len(rest) == 2 && rest[1] == "down":
			l.up = false
		case len(rest) == 3 && rest[1] == "master":
			if m := n.links[rest[2]]; m == nil || m.kind != "bridge" {
				return fmt.Errorf("master %s: not a bridge here", rest[2])
			}
			l.master = rest[2]
		default:
			return errSyntax
		}
	case "del":
		if n.links[rest[0]] == nil {
			return fmt.Errorf("%w %q", errNoDev, rest[0])
		}
		f.removeLink(ns, rest[0])
	default:
		return errSyntax
	}
	return nil
}

// routeType is the type a route line names ("blackhole"), or "".
func routeType(w []string) string {
	if slices.Contains(routeTypes, w[0]) {
		return w[0]
	}
	return ""
}

var routeTypes = []string{"blackhole", "unreachable", "prohibit", "unicast", "local"}

// routeOf names a route by its destination and table (the main table when none is named;
// "default" is 0.0.0.0/0), and returns the rest of what it says.
func routeOf(w []string) (key, route string) {
	dest := w[0]
	if routeType(w) != "" && len(w) > 1 {
		dest = w[1]
	}
	if dest == "default" {
		dest = "0.0.0.0/0"
	}
	table, ok := after(w, "table")
	if !ok {
		table = "main"
	}
	return dest + " table " + table, strings.Join(w, " ")
}

// after is the word after key in w.
func after(w []string, key string) (string, bool) {
	if i := slices.Index(w, key); i >= 0 && i+1 < len(w) {
		return w[i+1], true
	}
	return "", false
}

// State renders every namespace whose name starts with prefix, sorted, with names relative
// to it: two kernels in the same state render the same.
func (f *Fake) State(prefix string) string {
	var b strings.Builder
	names, _ := f.Namespaces(prefix)
	for _, name := range names {
		n := f.ns[name]
		fmt.Fprintf(&b, "netns %s\n", strings.TrimPrefix(name, prefix))
		var lines []string
		for dev, l := range n.links {
			s := fmt.Sprintf("link %s %s mac=%s up=%t", dev, l.kind, l.mac, l.up)
			if l.master != "" {
				s += " master=" + l.master
			}
			if l.peerNS != "" {
				s += " peer=" + l.peerDev + "@" + strings.TrimPrefix(l.peerNS, prefix)
			}
			lines = append(lines, s)
		}
		for a := range n.addrs {
			lines = append(lines, "addr "+a)
		}
		for k, r := range n.routes {
			lines = append(lines, "route "+k+": "+r)
		}
		for r := range n.rules {
			lines = append(lines, "rule "+r)
		}
		for k, v := range n.neigh {
			lines = append(lines, "neigh "+k+" "+v)
		}
		for k, v := range n.sysctl {
			lines = append(lines, "sysctl "+k+"="+v)
		}
		slices.Sort(lines)
		for _, l := range lines {
			fmt.Fprintf(&b, "  %s\n", strings.ReplaceAll(l, prefix, ""))
		}
		h := fnv.New64a()
		h.Write([]byte(n.ruleset))
		fmt.Fprintf(&b, "  nft %d lines %x\n", strings.Count(n.ruleset, "\n"), h.Sum64())
	}
	return b.String()
}
