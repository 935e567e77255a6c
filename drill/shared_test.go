package drill

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/webtier/webtier/check"
)

func (f *fakeSite) WriteShared(_ context.Context, h Host, name string) (string, string, func(), error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.notShown {
		return "", "", nil, &NotShown{Why: "the fake emulator serves no NFS"}
	}
	if f.writeErr != nil {
		return "", "", nil, f.writeErr
	}
	f.files = append(f.files, name)
	return "written and read back", "through " + h.Name, func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.files = slices.DeleteFunc(f.files, func(s string) bool { return s == name })
	}, nil
}

// TestShared: requirement 6's rows on a fake site: a file written through one server listed
// by the server of the other AZ passes (and is removed after); a write refused, a reader
// whose mount lists nothing, one AZ only and an env that cannot show it each give the row
// that says so.
func TestShared(t *testing.T) {
	for _, c := range []struct {
		name string
		edit func(*fakeSite)
		want []check.Status
		says string
	}{
		{"as designed", func(*fakeSite) {}, []check.Status{check.Pass, check.Pass}, "pages of i-c read; fake i-c"},
		{"the write refused", func(f *fakeSite) { f.writeErr = errors.New("access denied") }, []check.Status{check.Fail}, "access denied"},
		{"the reader's mount lists nothing", func(f *fakeSite) { f.unmounted = "i-c" }, []check.Status{check.Pass, check.Fail}, "not listed"},
		{"one AZ", func(f *fakeSite) { f.webs[1].AZ = "az-a" }, []check.Status{check.Pass, check.Fail}, "every web server in service is in az-a"},
		{"the emulator", func(f *fakeSite) { f.notShown = true }, []check.Status{check.Limitation}, "the fake emulator serves no NFS"},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFakeSite(webA, webC)
			c.edit(f)
			rows := Shared(context.Background(), f, f)
			checkRows(t, rows, c.want, c.says)
			if len(f.files) > 0 {
				t.Errorf("the drill left %v on the shared file system", f.files)
			}
		})
	}
}
