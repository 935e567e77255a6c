package verify

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// resource is one resource or data source of the Terraform JSON.
type resource struct {
	Type, Name string
	// Addr is "aws_subnet.web-a", or "data.aws_ssm_parameter.al2023".
	Addr  string
	Attrs map[string]any
}

// stack is the decoded Terraform JSON: every resource and data source by address.
type stack struct {
	byAddr map[string]*resource
	// byType lists the resources of each type, sorted by name.
	byType map[string][]*resource
	// deployed is true for a document read back from AWS (LoadDeployed): what it lacks was
	// not read, where in a synthesized stack it is missing.
	deployed bool
}

// problems collects load errors; each names the resource and the attribute.
type problems []string

func (p *problems) add(format string, args ...any) { *p = append(*p, fmt.Sprintf(format, args...)) }

// LoadError is every problem found while loading a stack, one per line.
type LoadError struct{ Problems []string }

// maxProblems bounds how many problems one LoadError lists.
const maxProblems = 50

func (e *LoadError) Error() string {
	list := e.Problems
	more := ""
	if len(list) > maxProblems {
		more = fmt.Sprintf("\n(and %d more)", len(list)-maxProblems)
		list = list[:maxProblems]
	}
	return strings.Join(list, "\n") + more
}

// parseStack decodes Terraform JSON into a stack. Metadata keys ("//") are skipped.
func parseStack(data []byte) (*stack, error) {
	var top map[string]any
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&top); err != nil {
		return nil, &LoadError{[]string{"not Terraform JSON: " + strings.TrimPrefix(err.Error(), "json: ")}}
	}
	if top == nil {
		return nil, &LoadError{[]string{"not Terraform JSON: expected an object"}}
	}
	if dec.More() {
		return nil, &LoadError{[]string{"not Terraform JSON: unexpected data after the object"}}
	}
	s := &stack{byAddr: map[string]*resource{}, byType: map[string][]*resource{}}
	var errs problems
	for _, section := range []string{"resource", "data"} {
		raw, ok := top[section]
		if !ok {
			continue
		}
		types, ok := raw.(map[string]any)
		if !ok {
			errs.add("%s: expected an object of resource types", section)
			continue
		}
		for typ, v := range types {
			if typ == "//" {
				continue
			}
			named, ok := v.(map[string]any)
			if !ok {
				errs.add("%s.%s: expected an object of named resources", section, typ)
				continue
			}
			for name, body := range named {
				if name == "//" {
					continue
				}
				addr := typ + "." + name
				if section == "data" {
					addr = "data." + addr
				}
				attrs, ok := body.(map[string]any)
				if !ok {
					errs.add("%s: expected an object of attributes", addr)
					continue
				}
				r := &resource{Type: typ, Name: name, Addr: addr, Attrs: attrs}
				s.byAddr[addr] = r
				if section == "resource" {
					s.byType[typ] = append(s.byType[typ], r)
				}
			}
		}
	}
	for _, list := range s.byType {
		sort.Slice(list, func(i, j int) bool { return list[i].Name < list[j].Name })
	}
	if len(errs) > 0 {
		return nil, &LoadError{errs}
	}
	s.checkRefs(&errs)
	if len(errs) > 0 {
		return nil, &LoadError{errs}
	}
	return s, nil
}

// markDeployed marks a stack read back from AWS.
func (s *stack) markDeployed() { s.deployed = true }

// ignoredAttrs hold text whose references do not matter to reachability.
var ignoredAttrs = map[string]bool{"user_data": true, "user_data_base64": true, "//": true}

// notResources are the first words of references to things other than resources.
var notResources = map[string]bool{
	"var": true, "local": true, "module": true, "each": true, "count": true,
	"path": true, "self": true, "terraform": true,
}

// checkRefs reports every reference, in any attribute but user data, to a resource or data
// source the stack does not have.
func (s *stack) checkRefs(errs *problems) {
	for _, a := range slices.Sorted(maps.Keys(s.byAddr)) {
		r := s.byAddr[a]
		keys := sortedKeys(r.Attrs)
		for _, k := range keys {
			if ignoredAttrs[k] {
				continue
			}
			if k == "depends_on" {
				s.checkDependsOn(r, r.Attrs[k], errs)
				continue
			}
			walkStrings(r.Attrs[k], k, func(path, text string) {
				exprs, err := interpolations(text)
				if err != nil {
					errs.add("%s: %s: %s", r.Addr, path, err)
					return
				}
				for _, e := range exprs {
					for _, target := range referencedAddrs(e) {
						if s.byAddr[target] == nil {
							errs.add("%s: %s: refers to %s, which is not in the stack", r.Addr, path, target)
						}
					}
				}
			})
		}
	}
}

func (s *stack) checkDependsOn(r *resource, v any, errs *problems) {
	list, ok := v.([]any)
	if !ok {
		errs.add("%s: depends_on: expected a list of resource addresses", r.Addr)
		return
	}
	for i, d := range list {
		addr, ok := d.(string)
		if !ok {
			errs.add("%s: depends_on[%d]: expected a resource address", r.Addr, i)
			continue
		}
		if s.byAddr[addr] == nil {
			errs.add("%s: depends_on[%d]: refers to %s, which is not in the stack", r.Addr, i, addr)
		}
	}
}

// waits are the resources each resource waits for, found as they are asked.
type waits map[string]map[string]bool

// waitsFor reports whether terraform creates r only after target: r refers to it or lists it
// in depends_on, directly or through the resources it waits for.
func (s *stack) waitsFor(w waits, r *resource, target string) bool {
	return s.dependencies(w, r)[target]
}

// createdAfter reports whether terraform creates the resource at addr only after the one at
// need: the order of creation is a fact of a Terraform configuration only (a deployed stack's
// is past, and a stack without a configuration has none).
func (n *Network) createdAfter(w waits, addr, need string) bool {
	if n.stack == nil || n.stack.byAddr[addr] == nil {
		return false
	}
	return n.stack.waitsFor(w, n.stack.byAddr[addr], need)
}

// dependencies are every resource r waits for.
func (s *stack) dependencies(w waits, r *resource) map[string]bool {
	if deps, ok := w[r.Addr]; ok {
		return deps
	}
	deps := map[string]bool{}
	w[r.Addr] = deps // a cycle ends here
	for _, addr := range directDependencies(r) {
		if deps[addr] {
			continue
		}
		deps[addr] = true
		if d := s.byAddr[addr]; d != nil {
			for a := range s.dependencies(w, d) {
				deps[a] = true
			}
		}
	}
	return deps
}

// directDependencies are the resources r refers to or lists in depends_on.
func directDependencies(r *resource) []string {
	var out []string
	for k, v := range r.Attrs {
		if k == "depends_on" {
			list, _ := v.([]any)
			for _, d := range list {
				if addr, ok := d.(string); ok {
					out = append(out, addr)
				}
			}
			continue
		}
		walkStrings(v, k, func(_, text string) {
			exprs, _ := interpolations(text)
			for _, e := range exprs {
				out = append(out, referencedAddrs(e)...)
			}
		})
	}
	return out
}

// walkStrings calls fn on every string inside v, with its attribute path.
func walkStrings(v any, path string, fn func(path, text string)) {
	switch x := v.(type) {
	case string:
		fn(path, x)
	case []any:
		for i, e := range x {
			walkStrings(e, fmt.Sprintf("%s[%d]", path, i), fn)
		}
	case map[string]any:
		for _, k := range sortedKeys(x) {
			if k == "//" {
				continue
			}
			walkStrings(x[k], path+"."+k, fn)
		}
	}
}

func sortedKeys(m map[string]any) []string { return slices.Sorted(maps.Keys(m)) }

// interpolations returns the expressions inside "${...}" in text; "$${" is a literal "${".
func interpolations(text string) ([]string, error) {
	var out []string
	for i := 0; i < len(text); i++ {
		if text[i] != '$' || i+1 >= len(text) {
			continue
		}
		if text[i+1] == '$' {
			i++ // "$$": an escaped dollar
			continue
		}
		if text[i+1] != '{' {
			continue
		}
		end, err := closingBrace(text, i+2)
		if err != nil {
			return nil, err
		}
		out = append(out, text[i+2:end])
		i = end
	}
	return out, nil
}

// closingBrace finds the "}" that closes an interpolation whose body starts at start,
// skipping nested braces and quoted strings.
func closingBrace(text string, start int) (int, error) {
	depth := 0
	for j := start; j < len(text); j++ {
		switch text[j] {
		case '"':
			for j++; j < len(text) && text[j] != '"'; j++ {
				if text[j] == '\\' {
					j++
				}
			}
		case '{':
			depth++
		case '}':
			if depth == 0 {
				return j, nil
			}
			depth--
		}
	}
	return 0, fmt.Errorf("unterminated ${ in %q", clip(text, 60))
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// simpleRef matches an expression that is one reference: aws_subnet.web-a.id,
// data.aws_ssm_parameter.al2023.insecure_value, aws_db_instance.db.master_user_secret[0].arn.
var simpleRef = regexp.MustCompile(`^\s*((?:data\.)?[A-Za-z][A-Za-z0-9_]*\.[A-Za-z_][A-Za-z0-9_-]*)((?:\[[0-9]+\]|\.[A-Za-z_][A-Za-z0-9_-]*)*)\s*$`)

// refInExpr finds resource-like references in a larger expression (strings removed first).
var refInExpr = regexp.MustCompile(`(?:data\.)?[a-z][a-z0-9]*_[a-z0-9_]*\.[A-Za-z_][A-Za-z0-9_-]*`)

// parseRef splits a one-reference expression into the address and the first attribute
// ("" when there is none), and reports whether it is one.
func parseRef(expr string) (addr, attr string, ok bool) {
	m := simpleRef.FindStringSubmatch(expr)
	if m == nil {
		return "", "", false
	}
	addr = m[1]
	if notResources[strings.SplitN(addr, ".", 2)[0]] {
		return "", "", false
	}
	rest := m[2]
	for strings.HasPrefix(rest, "[") {
		rest = rest[strings.IndexByte(rest, ']')+1:]
	}
	if strings.HasPrefix(rest, ".") {
		attr = rest[1:]
		if i := strings.IndexAny(attr, ".["); i >= 0 {
			attr = attr[:i]
		}
	}
	return addr, attr, true
}

// referencedAddrs lists the resource and data-source addresses an expression refers to.
func referencedAddrs(expr string) []string {
	if addr, _, ok := parseRef(expr); ok {
		return []string{addr}
	}
	if m := simpleRef.FindStringSubmatch(expr); m != nil {
		return nil // var.x, local.y and the like
	}
	code := stripStrings(expr)
	var out []string
	for _, loc := range refInExpr.FindAllStringIndex(code, -1) {
		if loc[0] > 0 {
			prev := code[loc[0]-1]
			if prev == '.' || prev == '_' || prev == '-' || isAlnum(prev) {
				continue // part of a longer traversal or name
			}
		}
		ref := code[loc[0]:loc[1]]
		if notResources[strings.SplitN(ref, ".", 2)[0]] {
			continue
		}
		out = append(out, ref)
	}
	return out
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// stripStrings blanks out the quoted strings of an expression.
func stripStrings(expr string) string {
	b := []byte(expr)
	for i := 0; i < len(b); i++ {
		if b[i] != '"' {
			continue
		}
		for i++; i < len(b) && b[i] != '"'; i++ {
			if b[i] == '\\' && i+1 < len(b) {
				b[i] = ' '
				i++
			}
			b[i] = ' '
		}
	}
	return string(b)
}
