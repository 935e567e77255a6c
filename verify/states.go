package verify

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// The states an apply passes through, as stacks: the Terraform JSON of the base without what
// the apply has destroyed so far, or of the head with what it has not destroyed yet. A
// resource cannot outlive what it names outside a list (a rule its group, a route its NAT
// gateway, an association its route table): it goes too. A list that names a destroyed
// resource (an instance's security groups, depends_on) loses that element. Outputs are
// dropped; user data and tags are not followed, as Load does not follow them.

// Without returns data without the resources gone and without every resource that cannot
// exist without one of them; cascade maps each resource removed that way to the resource
// it went with.
func Without(data []byte, gone []string) (out []byte, cascade map[string]string, err error) {
	top, err := decodeStack(data)
	if err != nil {
		return nil, nil, err
	}
	res := resourcesOf(top)
	removed := map[string]string{}
	for _, addr := range gone {
		typ, name, _ := strings.Cut(addr, ".")
		if byName, ok := res[typ].(map[string]any); ok {
			if _, ok := byName[name]; ok {
				delete(byName, name)
				removed[addr] = addr
			}
		}
	}
	cascade = map[string]string{}
	for changed := true; changed; {
		changed = false
		for _, typ := range slices.Sorted(maps.Keys(res)) {
			byName, _ := res[typ].(map[string]any)
			for _, name := range slices.Sorted(maps.Keys(byName)) {
				attrs, _ := byName[name].(map[string]any)
				if by := pruneRefs(attrs, removed); by != "" {
					addr := typ + "." + name
					delete(byName, name)
					removed[addr], cascade[addr] = by, removed[by]
					changed = true
				}
			}
		}
	}
	delete(top, "output")
	out, err = json.Marshal(top)
	return out, cascade, err
}

// WithOld returns head's data with the resources addrs of base added: the ones an apply has
// not destroyed yet. One whose address head also has (a replacement created before the old
// one is destroyed) is added as NAME-old, and the added resources' references to each other
// follow the renaming. renamed maps each address to the one it is added under.
func WithOld(head, base []byte, addrs []string) (out []byte, renamed map[string]string, err error) {
	top, err := decodeStack(head)
	if err != nil {
		return nil, nil, err
	}
	old, err := decodeStack(base)
	if err != nil {
		return nil, nil, err
	}
	res, oldRes := resourcesOf(top), resourcesOf(old)
	renamed = map[string]string{}
	for _, addr := range addrs {
		typ, name, _ := strings.Cut(addr, ".")
		if _, ok := oldRes[typ].(map[string]any)[name]; !ok {
			continue
		}
		renamed[addr] = addr
		if _, ok := res[typ].(map[string]any)[name]; ok {
			renamed[addr] = typ + "." + name + "-old"
		}
	}
	for _, addr := range slices.Sorted(maps.Keys(renamed)) {
		typ, name, _ := strings.Cut(addr, ".")
		text, err := json.Marshal(oldRes[typ].(map[string]any)[name])
		if err != nil {
			return nil, nil, err
		}
		s := string(text)
		for from, to := range renamed {
			if from != to {
				s = strings.ReplaceAll(s, from+".", to+".")
			}
		}
		var attrs map[string]any
		if err := json.Unmarshal([]byte(s), &attrs); err != nil {
			return nil, nil, err
		}
		if res[typ] == nil {
			res[typ] = map[string]any{}
		}
		_, newName, _ := strings.Cut(renamed[addr], ".")
		res[typ].(map[string]any)[newName] = attrs
	}
	delete(top, "output")
	out, err = json.Marshal(top)
	return out, renamed, err
}

func decodeStack(data []byte) (map[string]any, error) {
	var top map[string]any
	if err := json.Unmarshal(data, &top); err != nil {
		return nil, &LoadError{[]string{"not Terraform JSON: " + strings.TrimPrefix(err.Error(), "json: ")}}
	}
	return top, nil
}

// resourcesOf is the "resource" object of a stack (made when absent).
func resourcesOf(top map[string]any) map[string]any {
	res, ok := top["resource"].(map[string]any)
	if !ok {
		res = map[string]any{}
		top["resource"] = res
	}
	return res
}

// pruneRefs drops, in place, the list elements of attrs that name a removed resource, and
// returns the removed resource attrs names outside a list ("" when none): it cannot exist
// without it.
func pruneRefs(attrs map[string]any, removed map[string]string) string {
	for _, k := range slices.Sorted(maps.Keys(attrs)) {
		switch k {
		case "user_data", "tags", "tags_all", "description":
			continue
		}
		v, by := pruneValue(attrs[k], removed)
		if by != "" {
			return by
		}
		attrs[k] = v
	}
	return ""
}

// pruneValue returns v without the list elements that name a removed resource, and the
// removed resource a scalar or an object names ("" when none).
func pruneValue(v any, removed map[string]string) (any, string) {
	switch x := v.(type) {
	case string:
		return x, namesRemoved(x, removed)
	case []any:
		kept := x[:0:0]
		for _, e := range x {
			ne, by := pruneValue(e, removed)
			if by == "" {
				kept = append(kept, ne)
			}
		}
		return kept, ""
	case map[string]any:
		if by := pruneRefs(x, removed); by != "" {
			return x, by
		}
	}
	return v, ""
}

// namesRemoved returns the removed resource a string refers to, or "". A depends_on entry is
// a bare address.
func namesRemoved(s string, removed map[string]string) string {
	if _, ok := removed[s]; ok {
		return s
	}
	exprs, err := interpolations(s)
	if err != nil {
		return ""
	}
	for _, e := range exprs {
		for _, addr := range referencedAddrs(e) {
			if _, ok := removed[addr]; ok {
				return addr
			}
		}
	}
	return ""
}

// LoadState loads a state's stack, saying which state a load error belongs to.
func LoadState(name string, data []byte) (*Network, error) {
	n, err := Load(data)
	if err != nil {
		return nil, fmt.Errorf("the apply's state %q cannot be loaded: %w", name, err)
	}
	return n, nil
}

// References lists the resources addr's attributes name (user data and tags aside, as Load
// does), in the stack data; nil when the stack has no addr.
func References(data []byte, addr string) ([]string, error) {
	top, err := decodeStack(data)
	if err != nil {
		return nil, err
	}
	typ, name, _ := strings.Cut(addr, ".")
	attrs, ok := resourcesOf(top)[typ].(map[string]any)[name].(map[string]any)
	if !ok {
		return nil, nil
	}
	var out []string
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case string:
			exprs, _ := interpolations(x)
			for _, e := range exprs {
				for _, a := range referencedAddrs(e) {
					if !slices.Contains(out, a) {
						out = append(out, a)
					}
				}
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		case map[string]any:
			for _, k := range slices.Sorted(maps.Keys(x)) {
				switch k {
				case "user_data", "tags", "tags_all", "description", "depends_on":
					continue
				}
				walk(x[k])
			}
		}
	}
	walk(attrs)
	return out, nil
}

// Substitute returns base's data with the resources addrs as head has them: updates an
// apply makes before it destroys what they named.
func Substitute(base, head []byte, addrs []string) ([]byte, error) {
	top, err := decodeStack(base)
	if err != nil {
		return nil, err
	}
	h, err := decodeStack(head)
	if err != nil {
		return nil, err
	}
	res, hres := resourcesOf(top), resourcesOf(h)
	for _, addr := range addrs {
		typ, name, _ := strings.Cut(addr, ".")
		attrs, ok := hres[typ].(map[string]any)[name]
		if !ok {
			continue
		}
		if res[typ] == nil {
			res[typ] = map[string]any{}
		}
		res[typ].(map[string]any)[name] = attrs
	}
	return json.Marshal(top)
}
