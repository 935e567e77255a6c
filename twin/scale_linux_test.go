package twin

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/webtier/webtier/internal/changecases"

	"github.com/webtier/webtier/twin/compiler"
	"github.com/webtier/webtier/twin/kernel"
)

// TestResize grows the running twin's Auto Scaling group and shrinks it back, changing only
// what differs: each time the kernel agrees with verify on every connection between every
// pair of hosts (the new servers included, so the other hosts' security-group member sets
// hold them), the hosts are those of a twin built at that size from the start, and what was
// ended leaves no namespace behind.
func TestResize(t *testing.T) {
	needTwin(t)
	defer down(t)
	n, in := changecases.Example(t)
	p := upNetwork(t, n, in)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	res, sc, hosts := p.Fleet()
	if sc == nil || sc.Min != 2 || sc.Max != 4 || sc.CPUTarget != 50 || len(hosts) != 2 {
		t.Fatalf("the example's group: %s %+v with %d hosts; want min 2, max 4, CPU target 50, 2 hosts", res, sc, len(hosts))
	}
	for _, step := range []struct {
		size               int
		launched, ended    []string
		namespacesExpected int
	}{
		{4, []string{"web-a-2", "web-c-2"}, nil, len(p.Namespaces) + 2},
		{2, nil, []string{"web-a-2", "web-c-2"}, len(p.Namespaces)},
	} {
		next, launched, ended, err := Resize(t.Context(), p, n, in, res, step.size, exe)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(launched, step.launched) || !slices.Equal(ended, step.ended) {
			t.Errorf("resize to %d launched %v and ended %v; want %v and %v", step.size, launched, ended, step.launched, step.ended)
		}
		fresh, err := compiler.CompileDesired(n, in, testPrefix, compiler.Kept{Desired: map[string]int{res: step.size}})
		if err != nil {
			t.Fatal(err)
		}
		if next.Text() != fresh.Text() {
			t.Errorf("the resized plan differs from a twin built at size %d", step.size)
		}
		if names, _ := Namespaces(testPrefix); len(names) != step.namespacesExpected {
			t.Errorf("after resize to %d: %d namespaces; want %d", step.size, len(names), step.namespacesExpected)
		}
		for _, name := range step.ended {
			if _, err := os.Stat(filepath.Join(kernel.NetnsDir, testPrefix+name)); err == nil {
				t.Errorf("%s was ended but its namespace is still there", name)
			}
		}
		if saved, err := SavedPlan(testPrefix); err != nil || saved.Text() != fresh.Text() {
			t.Errorf("the saved plan is not the resized one (%v)", err)
		}
		r, text := runTest(t, next, n, in)
		if !r.OK() {
			t.Fatalf("twin test after resize to %d:\n%s", step.size, text)
		}
		t.Logf("size %d: %d connections, %d differences", step.size, len(r.Outcomes), len(r.Differences()))
		p = next
	}
}
