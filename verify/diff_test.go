package verify_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/webtier/webtier/internal/changecases"
	"github.com/webtier/webtier/verify"
)

// TestDiffChanges diffs every change of changecases (the example stack and a head made from
// it) and compares the classes opened, closed and rerouted with what the case expects.
func TestDiffChanges(t *testing.T) {
	for _, c := range changecases.Cases {
		t.Run(c.Name, func(t *testing.T) {
			base, head := sides(t, c)
			got := verify.Diff(base, head)
			lines := changecases.Lines(got)
			want := slices.Sorted(slices.Values(c.Want))
			if !slices.Equal(lines, want) {
				t.Fatalf("diff of %q:\nwant:\n  %s\ngot:\n  %s", c.Name, strings.Join(want, "\n  "), strings.Join(lines, "\n  "))
			}
			fails := slices.ContainsFunc(want, func(s string) bool { return strings.Contains(s+" ", " FAIL ") })
			if got.Failed() != fails {
				t.Errorf("Failed() = %t, want %t", got.Failed(), fails)
			}
			if c.Cause != "" {
				first := append(slices.Clip(got.Opened), got.Closed...)[0]
				if !slices.ContainsFunc(first.Causes, func(x verify.Cause) bool { return x.Resource == c.Cause }) {
					t.Errorf("%s -> %s: the causes do not name %s:\n%v", first.FromClass, first.ToClass, c.Cause, first.Causes)
				}
			}
			for _, x := range append(slices.Clip(got.Opened), got.Closed...) {
				if x.Example.Src == "" || x.Example.Dst == "" || !x.Ports.Contains(x.Example.Port) {
					t.Errorf("%s -> %s %s: the example packet %+v is not one of the class", x.FromClass, x.ToClass, x.Ports, x.Example)
				}
			}
		})
	}
}

// TestDiffSameStack: a stack against itself changes nothing.
func TestDiffSameStack(t *testing.T) {
	base, head := sides(t, changecases.Case{Name: "none"})
	if got := changecases.Lines(verify.Diff(base, head)); len(got) != 0 {
		t.Fatalf("a stack against itself: want no change, got:\n%s", strings.Join(got, "\n"))
	}
}

func sides(t testing.TB, c changecases.Case) (base, head verify.Side) {
	t.Helper()
	p, err := c.Pair()
	if err != nil {
		t.Fatal(err)
	}
	base, head, err = p.Sides()
	if err != nil {
		t.Fatalf("%s: %v", c.Name, err)
	}
	return base, head
}

// BenchmarkDiff is `webtier diff` of two web-tier stacks (the example and its HTTPS variant)
// but the reading of files: both loaded, then diffed. The goal is under 50 ms.
func BenchmarkDiff(b *testing.B) {
	p, err := changecases.Find("second ALB listener").Pair()
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		base, head, err := p.Sides()
		if err != nil {
			b.Fatal(err)
		}
		verify.Diff(base, head)
	}
}
