package verify

import (
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"strings"
)

// field is one attribute (or nested value) of a resource, read on demand. Every accessor
// records what is wrong with the value as a problem naming the resource and the path.
type field struct {
	l    *loader
	r    *resource
	path string
	v    any
}

// attr returns the attribute key of r.
func (l *loader) attr(r *resource, key string) field {
	return field{l: l, r: r, path: key, v: r.Attrs[key]}
}

// get returns key of an object value.
func (f field) get(key string) field {
	m, _ := f.v.(map[string]any)
	return field{l: f.l, r: f.r, path: f.path + "." + key, v: m[key]}
}

// fail records a problem with the value.
func (f field) fail(format string, args ...any) {
	f.l.errs.add("%s: %s", where(f), fmt.Sprintf(format, args...))
}

// where names the resource and the path of a field: "aws_route.web-a-default",
// "aws_network_acl.web-nacl: ingress[0]".
func where(f field) string {
	if f.path == "" {
		return f.r.Addr
	}
	return f.r.Addr + ": " + f.path
}

// required reports whether the attribute is set, and records why it must be when not.
func (f field) required(why string) bool {
	if !f.set() {
		f.fail("missing; %s", why)
		return false
	}
	return true
}

// set reports whether the attribute has a value ("" and null count as unset).
func (f field) set() bool {
	switch x := f.v.(type) {
	case nil:
		return false
	case string:
		return x != ""
	}
	return true
}

// list returns the items of a list value; an object counts as a one-item list (Terraform
// JSON writes single blocks both ways) and an unset value as none.
func (f field) list() []field {
	switch x := f.v.(type) {
	case nil:
		return nil
	case []any:
		out := make([]field, len(x))
		for i, v := range x {
			out[i] = field{l: f.l, r: f.r, path: fmt.Sprintf("%s[%d]", f.path, i), v: v}
		}
		return out
	case map[string]any:
		return []field{f}
	case string:
		if x == "" {
			return nil
		}
	}
	f.fail("expected a list, got %s", describeJSON(f.v))
	return nil
}

// value resolves a string attribute: a literal, or one reference followed to a literal
// attribute of its target where the target has one. It returns the literal, or the target
// and attribute of a reference to a value known only after apply.
func (f field) value(s string) (lit string, target *resource, attr string, ok bool) {
	for depth := 0; ; depth++ {
		exprs, err := interpolations(s)
		if err != nil {
			f.fail("%s", err)
			return "", nil, "", false
		}
		if len(exprs) == 0 {
			return strings.ReplaceAll(s, "$${", "${"), nil, "", true
		}
		addr, a, isRef := parseRef(exprs[0])
		if len(exprs) > 1 || !isRef || s != "${"+exprs[0]+"}" {
			f.fail("the expression %q cannot be evaluated before apply", clip(s, 80))
			return "", nil, "", false
		}
		t := f.l.s.byAddr[addr]
		if t == nil {
			f.fail("refers to %s, which is not in the stack", addr)
			return "", nil, "", false
		}
		next, literal := t.Attrs[a].(string)
		if !literal {
			if n, isNum := t.Attrs[a].(float64); isNum {
				next, literal = strconv.FormatFloat(n, 'f', -1, 64), true
			}
		}
		if a == "" || !literal || strings.HasPrefix(addr, "data.") || depth > 8 {
			return "", t, a, true
		}
		s = next
	}
}

// str returns a literal string; ok is false when the value is unset or cannot be known.
func (f field) str() (string, bool) {
	switch x := f.v.(type) {
	case nil:
		return "", false
	case string:
		if x == "" {
			return "", false
		}
		lit, t, a, ok := f.value(x)
		if !ok {
			return "", false
		}
		if t != nil {
			f.fail("%s.%s is known only after apply; the verifier needs a literal here", t.Addr, a)
			return "", false
		}
		return lit, true
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), true
	case bool:
		return strconv.FormatBool(x), true
	}
	f.fail("expected a string, got %s", describeJSON(f.v))
	return "", false
}

// integer returns a whole number given as a JSON number or a string.
func (f field) integer() (int, bool) {
	if n, isNum := f.v.(float64); isNum {
		if n != math.Trunc(n) || math.Abs(n) > 1<<31 {
			f.fail("%v is not a whole number", n)
			return 0, false
		}
		return int(n), true
	}
	s, ok := f.str()
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		f.fail("%q is not a whole number", s)
		return 0, false
	}
	return n, true
}

// boolean returns true or false given as JSON or as a string; unset is (false, false).
func (f field) boolean() (bool, bool) {
	if b, isBool := f.v.(bool); isBool {
		return b, true
	}
	s, ok := f.str()
	if !ok {
		return false, false
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		f.fail("%q is not true or false", s)
		return false, false
	}
	return b, true
}

// prefix returns an IPv4 CIDR, masked to its canonical form.
func (f field) prefix() (netip.Prefix, bool) {
	s, ok := f.str()
	if !ok {
		return netip.Prefix{}, false
	}
	p, err := netip.ParsePrefix(strings.TrimSpace(s))
	if err != nil || !p.Addr().Is4() {
		f.fail("%q is not an IPv4 CIDR", s)
		return netip.Prefix{}, false
	}
	return p.Masked(), true
}

// ref returns the resource a reference names (by "${TYPE.NAME.attr}", or by its literal name
// attribute), with the attribute referred to. The resource must be of one of types.
func (f field) ref(types ...string) (*resource, string) {
	s, isStr := f.v.(string)
	if !isStr || s == "" {
		if f.v == nil || isStr {
			f.fail("missing; expected a reference to %s", strings.Join(types, " or "))
		} else {
			f.fail("expected a reference to %s, got %s", strings.Join(types, " or "), describeJSON(f.v))
		}
		return nil, ""
	}
	exprs, err := interpolations(s)
	if err != nil {
		f.fail("%s", err)
		return nil, ""
	}
	if len(exprs) == 0 {
		return f.byName(s, types)
	}
	addr, attr, isRef := parseRef(exprs[0])
	if len(exprs) > 1 || !isRef || s != "${"+exprs[0]+"}" {
		f.fail("the expression %q cannot be evaluated before apply", clip(s, 80))
		return nil, ""
	}
	t := f.l.s.byAddr[addr]
	switch {
	case t == nil:
		f.fail("refers to %s, which is not in the stack", addr)
		return nil, ""
	case strings.HasPrefix(addr, "data."):
		f.fail("%s is a data source; the verifier needs a resource of this stack", addr)
		return nil, ""
	}
	for _, typ := range types {
		if t.Type == typ {
			return t, attr
		}
	}
	f.fail("refers to %s; expected %s", addr, strings.Join(types, " or "))
	return nil, ""
}

// byName finds the resource of one of types whose name (or identifier) attribute is lit.
func (f field) byName(lit string, types []string) (*resource, string) {
	for _, typ := range types {
		for _, r := range f.l.s.byType[typ] {
			for _, key := range []string{"name", "identifier", "id"} {
				if v, _ := r.Attrs[key].(string); v == lit {
					return r, key
				}
			}
		}
	}
	f.fail("%q names no %s of the stack", lit, strings.Join(types, " or "))
	return nil, ""
}

// refs returns the resources of a list of references.
func (f field) refs(types ...string) []*resource {
	var out []*resource
	for _, item := range f.list() {
		if r, _ := item.ref(types...); r != nil {
			out = append(out, r)
		}
	}
	return out
}

// describeJSON names the kind of a decoded JSON value for messages.
func describeJSON(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return strconv.Quote(clip(x, 40))
	case float64:
		return "the number " + strconv.FormatFloat(x, 'g', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

// whole is the resource itself as a field, for code shared with inline blocks.
func whole(l *loader, r *resource) field { return field{l: l, r: r, v: r.Attrs} }

// sub reads key of an object field, or of the resource itself when f is the whole resource.
func (f field) sub(key string) field {
	if f.path == "" {
		return f.l.attr(f.r, key)
	}
	return f.get(key)
}

// protocol reads a protocol attribute.
func (l *loader) protocol(f field) (Protocol, bool) {
	s, ok := f.str()
	if !ok {
		return 0, false
	}
	p, ok := ParseProtocol(s)
	if !ok {
		f.fail("%q is not an IP protocol", s)
	}
	return p, ok
}

// portRange reads from_port and to_port of a rule for a protocol with ports; -1 (or a
// protocol without ports) means every port. For ICMP it reads the type and code: a network
// ACL entry's icmp_type and icmp_code, a security-group rule's from_port (type) and to_port
// (code); -1, or nothing, is every type (every code).
func (l *loader) portRange(f field, proto Protocol) (Ports, bool) {
	if proto == ICMP {
		typeKey, codeKey := "from_port", "to_port"
		if f.sub("icmp_type").set() || f.sub("icmp_code").set() {
			typeKey, codeKey = "icmp_type", "icmp_code"
		}
		typ, code := -1, -1
		if f.sub(typeKey).set() {
			typ, _ = f.sub(typeKey).integer()
		}
		if f.sub(codeKey).set() {
			code, _ = f.sub(codeKey).integer()
		}
		return icmpPorts(typ, code, f.fail)
	}
	if !proto.hasPorts() {
		return nil, true
	}
	from, okFrom := f.sub("from_port").integer()
	to, okTo := f.sub("to_port").integer()
	if !okFrom || !okTo {
		if !f.sub("from_port").set() || !f.sub("to_port").set() {
			f.fail("from_port and to_port are required for %s", proto)
		}
		return nil, false
	}
	return portsBetween(proto, from, to, f.fail)
}

// icmpPorts is the ICMP type and code as a port set: -1 is every type (every code).
func icmpPorts(typ, code int, fail failure) (Ports, bool) {
	switch {
	case typ < -1 || typ > 255 || code < -1 || code > 255:
		fail("ICMP type %d and code %d are not within -1 (all) and 255", typ, code)
		return nil, false
	case typ == -1:
		return ICMP.Universe(), true
	case code == -1:
		return ICMPType(typ), true
	}
	return Port(ICMPKey(typ, code)), true
}

// portsBetween is the port range from-to of a protocol with ports: -1 to -1 is every port.
func portsBetween(proto Protocol, from, to int, fail failure) (Ports, bool) {
	switch {
	case from == -1 && to == -1:
		return proto.Universe(), true
	case from < 0 || to > 65535 || from > to:
		fail("ports %d-%d are not a range within 0-65535", from, to)
		return nil, false
	}
	return PortRange(from, to), true
}
