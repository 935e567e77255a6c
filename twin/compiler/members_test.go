package compiler

import (
	"slices"
	"testing"

	"github.com/webtier/webtier/internal/changecases"
)

// TestGroupMembersKept: once a group's members are kept (an instance refresh), a member keeps
// its name and address while others launch and end, a new one launches in the AZ with the
// fewest (of those not leaving), and no name of an ended member is given again.
func TestGroupMembersKept(t *testing.T) {
	n, in := changecases.Example(t)
	p, err := Compile(n, in, "wt-")
	if err != nil {
		t.Fatal(err)
	}
	res, _, _ := p.Fleet()
	links := func(p *Plan, host string) []string {
		for _, ns := range p.Namespaces {
			if ns.Name == p.Prefix+host {
				return ns.Links
			}
		}
		return nil
	}
	step := func(from *Plan, size int, leaving []string, without ...string) *Plan {
		t.Helper()
		g := from.Kept.Clone()
		g.Desired[res] = size
		g.Leaving = map[string][]string{res: leaving}
		g.Members[res] = slices.DeleteFunc(from.MembersOf(res), func(m Member) bool { return slices.Contains(without, m.Name) })
		g.Count(from.MembersOf(res))
		next, err := CompileDesired(n, in, "wt-", g)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range next.MembersOf(res) {
			i := slices.IndexFunc(from.MembersOf(res), func(o Member) bool { return o.Name == m.Name })
			if i < 0 {
				continue
			}
			if from.MembersOf(res)[i] != m {
				t.Errorf("%s moved: %+v, was %+v", m.Name, m, from.MembersOf(res)[i])
			}
			// Its link is the same, so that the running namespace is kept.
			if a, b := links(from, m.Name), links(next, m.Name); !slices.Equal(a, b) {
				t.Errorf("%s's link changed: %v, was %v", m.Name, b, a)
			}
		}
		return next
	}
	names := func(p *Plan) []string {
		var out []string
		for _, m := range p.MembersOf(res) {
			out = append(out, m.Name+"@"+m.AZ[len(m.AZ)-1:])
		}
		return out
	}
	for _, c := range []struct {
		size    int
		leaving []string
		without []string
		want    []string
	}{
		{3, nil, nil, []string{"web-a-1@a", "web-c-1@c", "web-a-2@a"}},
		{2, nil, []string{"web-a-1"}, []string{"web-c-1@c", "web-a-2@a"}},
		{2, nil, []string{"web-c-1"}, []string{"web-a-2@a", "web-c-2@c"}},
		{3, nil, nil, []string{"web-a-2@a", "web-c-2@c", "web-a-3@a"}},
		{2, nil, nil, []string{"web-a-2@a", "web-c-2@c"}},
		{3, []string{"web-c-2"}, nil, []string{"web-a-2@a", "web-c-2@c", "web-c-3@c"}},
		{2, nil, []string{"web-c-2"}, []string{"web-a-2@a", "web-c-3@c"}},
	} {
		p = step(p, c.size, c.leaving, c.without...)
		if got := names(p); !slices.Equal(got, c.want) {
			t.Errorf("size %d without %v: members %v, want %v", c.size, c.without, got, c.want)
		}
		again, err := CompileDesired(n, in, "wt-", p.Kept)
		if err != nil {
			t.Fatal(err)
		}
		if again.Text() != p.Text() {
			t.Errorf("size %d without %v: the plan compiled again from its groups differs", c.size, c.without)
		}
	}
}
