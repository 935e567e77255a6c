package twin

import (
	"path/filepath"
	"testing"

	"github.com/webtier/webtier/config"
	"github.com/webtier/webtier/internal/changecases"
	"github.com/webtier/webtier/verify"
)

// example loads the synthesized example stack and its intent.
func example(t testing.TB) (*verify.Network, verify.Intent) {
	return loadStack(t, filepath.Join("testdata", "webtier.tf.json"), nil)
}

// loadStack loads a stack (file, relative to the repository) and the intent of the example
// config, edited by edit when given.
func loadStack(t testing.TB, file string, edit func(*config.Config)) (*verify.Network, verify.Intent) {
	t.Helper()
	n, in, err := changecases.Load(file, edit)
	if err != nil {
		t.Fatal(err)
	}
	return n, in
}

// editedExample is the example stack with edit applied to its resources.
func editedExample(t testing.TB, edit func(res map[string]any)) []byte {
	return editedStack(t, filepath.Join("testdata", "webtier.tf.json"), edit)
}

// editedStack is the stack in file (relative to the repository) with each edit applied to its
// resources, in order.
func editedStack(t testing.TB, file string, edits ...func(res map[string]any)) []byte {
	t.Helper()
	data, err := changecases.Edited(file, edits...)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
