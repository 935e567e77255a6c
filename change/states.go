package change

import (
	"fmt"
	"slices"
	"strings"

	"github.com/webtier/webtier/verify"
)

// The states an apply passes through. Terraform orders a resource after what it names and
// runs the rest in parallel, so between the base and the head an apply can be, at the
// least, in either of two states:
//
//   - every destroy done, no create yet: the base without what the plan deletes and what it
//     replaces destroy-first (a rule removed before the one that takes its place is added,
//     an entry renumbered, an association moved by replacing it);
//   - every create done, no destroy yet: the head with what the plan deletes still there, and
//     the old copy of each create-first replacement beside the new one.
//
// Updates in place are taken as not yet applied in the first state and applied in the
// second. The first state is where flows break; either can open what neither side allows.

// Names of the states.
const (
	DestroysFirst = "every destroy done, no create yet"
	CreatesFirst  = "every create done, no destroy yet"
)

// States builds the apply's states from the base's and the head's stacks. A state that
// cannot be loaded (two associations of one subnet at once, for instance) is left out with
// a note saying why.
func States(p *Plan, base, head []byte) (states []verify.State, notes []string, err error) {
	destroyed := p.Destroyed()
	if len(destroyed) > 0 {
		// Terraform destroys a resource after the updates of what named it: an update that
		// stops naming a destroyed resource, and names only what the base already holds,
		// comes first (a route moved to the other NAT gateway before this one goes).
		early, err := updatedFirst(p, base, head, destroyed)
		if err != nil {
			return nil, nil, err
		}
		from, err := verify.Substitute(base, head, early)
		if err != nil {
			return nil, nil, err
		}
		data, cascade, err := verify.Without(from, destroyed)
		if err != nil {
			return nil, nil, err
		}
		st := verify.State{Name: DestroysFirst, Gone: map[string]string{}, Avoid: map[string]string{}, Subnets: map[string][]string{}}
		for _, addr := range destroyed {
			s, _ := p.Step(addr)
			st.Gone[addr], st.Avoid[addr] = gone(s), avoid(s)
			names, err := verify.References(base, addr)
			if err != nil {
				return nil, nil, err
			}
			for _, n := range names {
				if n != addr && slices.Contains(destroyed, n) {
					st.Gone[addr] = gone(s) + ", along with " + n + ", which it names"
					break
				}
			}
			for _, n := range names {
				if strings.HasPrefix(n, "aws_subnet.") {
					st.Subnets[addr] = append(st.Subnets[addr], n)
				}
			}
		}
		for addr, root := range cascade {
			s, _ := p.Step(root)
			st.Gone[addr] = fmt.Sprintf("goes with %s, which it names (%s)", root, gone(s))
			st.Avoid[addr] = avoid(s)
		}
		st.Stack = data
		if st.Network, err = verify.LoadState(st.Name, data); err != nil {
			notes = append(notes, err.Error())
		} else {
			states = append(states, st)
		}
	}
	kept := p.Kept()
	hasCreates := false
	for _, s := range p.Steps {
		hasCreates = hasCreates || s.Action == Create || s.Action == ReplaceCreate
	}
	if len(kept) > 0 && hasCreates {
		data, renamed, err := verify.WithOld(head, base, kept)
		if err != nil {
			return nil, nil, err
		}
		st := verify.State{Name: CreatesFirst, Gone: map[string]string{}, Avoid: map[string]string{}}
		for addr, as := range renamed {
			s, _ := p.Step(addr)
			st.Gone[as] = "still there: " + string(s.Action) + " destroys it after the creates"
			st.Avoid[as] = "destroy " + addr + " before creating what replaces it (a separate apply, or -target), or make the replacement depend on its destruction"
		}
		st.Stack = data
		if st.Network, err = verify.LoadState(st.Name, data); err != nil {
			notes = append(notes, err.Error())
		} else {
			states = append(states, st)
		}
	}
	return states, notes, nil
}

// updatedFirst are the updates an apply makes before its destroys: those of resources that
// name a destroyed resource in the base, and in the head name only what the base holds and
// the apply does not destroy.
func updatedFirst(p *Plan, base, head []byte, destroyed []string) ([]string, error) {
	var out []string
	for _, s := range p.Steps {
		if s.Action != Update {
			continue
		}
		before, err := verify.References(base, s.Addr)
		if err != nil {
			return nil, err
		}
		if !slices.ContainsFunc(before, func(a string) bool { return slices.Contains(destroyed, a) }) {
			continue
		}
		after, err := verify.References(head, s.Addr)
		if err != nil {
			return nil, err
		}
		ok := true
		for _, a := range after {
			if slices.Contains(destroyed, a) || !inStack(p, a) {
				ok = false
			}
		}
		if ok {
			out = append(out, s.Addr)
		}
	}
	return out, nil
}

// inStack reports whether the base holds addr: the plan neither creates it nor is it new.
func inStack(p *Plan, addr string) bool {
	s, ok := p.Step(addr)
	return !ok || s.Action != Create
}

// gone says how a destroyed resource is gone in the first state.
func gone(s Step) string {
	switch s.Action {
	case ReplaceDestroy:
		why := "replaced destroy-first"
		if len(s.ReplacePaths) > 0 {
			why += " (" + strings.Join(s.ReplacePaths, ", ") + " cannot be updated)"
		}
		return why + ": destroyed before its replacement is created"
	case Delete:
		return "deleted: the plan destroys it, and nothing orders that after the creates"
	}
	return string(s.Action)
}

// avoid says what keeps a destroyed resource's connections up through the apply.
func avoid(s Step) string {
	if s.Action == Delete {
		return "create what replaces it first (apply the additions, then the removal), or make the removal depend on the new resource"
	}
	switch s.Type {
	case "aws_network_acl_rule":
		return "give the new entry a free rule number and create it before the old one goes (create_before_destroy; one number cannot be held twice), or apply in two steps"
	case "aws_security_group":
		return "create_before_destroy with name_prefix instead of name (a group name cannot exist twice); AWS also refuses to delete a group an ENI still uses (DependencyViolation), so a destroy-first replacement stalls with its rules gone"
	case "aws_route_table_association", "aws_network_acl_association":
		return "change the association's table in place (it is updatable: ReplaceRouteTableAssociation) instead of replacing it"
	}
	return "lifecycle { create_before_destroy = true } on " + s.Addr
}
