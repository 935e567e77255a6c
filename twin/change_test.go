package twin

import (
	"slices"
	"testing"

	"github.com/webtier/webtier/internal/changecases"

	"github.com/webtier/webtier/twin/compiler"
)

// TestChangedServices: a change that alters only rules keeps every host's services; one that
// takes the web servers' mount away names the web servers.
func TestChangedServices(t *testing.T) {
	n, in := changecases.Example(t)
	cur, err := compiler.Compile(n, in, "wt-")
	if err != nil {
		t.Fatal(err)
	}
	same, err := compiler.Compile(n, in, "wt-")
	if err != nil {
		t.Fatal(err)
	}
	if got := changedServices(cur, same); len(got) > 0 {
		t.Errorf("the same stack compiled again changes the services of %v", got)
	}
	noMount, err := compiler.Compile(n, in, "wt-")
	if err != nil {
		t.Fatal(err)
	}
	noMount.Access.FileSystem.IAM = false
	got := changedServices(cur, noMount)
	if !slices.Contains(got, "web-a-1") || !slices.Contains(got, "web-c-1") {
		t.Errorf("the web servers' mount without iam: changed services %v, want the web servers", got)
	}
}
