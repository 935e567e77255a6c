package drill

import (
	"context"
	"errors"
	"testing"

	"github.com/webtier/webtier/check"
)

// fakeEgress: each web server's downloads leave through want; the repository sees seen (""
// when it does not echo the source, as S3), the route sends them through routed.
type fakeEgress struct {
	seen      string
	routed    *Exit
	err       error
	elsewhere bool
}

var natA = Exit{Name: "nat-a", Addr: "192.0.2.14"}

func (e fakeEgress) Repository() string { return "https://repo.example/mirror.list" }
func (e fakeEgress) Download(context.Context, Host) (int, string, string, error) {
	return 200, e.seen, "asked by the test", e.err
}
func (e fakeEgress) Exit(Host) (Exit, bool, *Exit, string) {
	return natA, true, e.routed, "by the route"
}
func (e fakeEgress) Elsewhere() (Host, bool) {
	return Host{Name: "elsewhere", Private: "192.0.2.8"}, e.elsewhere
}

// TestNAT: requirement 3's rows: the repository seeing the NAT gateway of the server's AZ, or
// the route sending the downloads there where it does not say, passes; another source, a
// failed download, and a host elsewhere reached each fail.
func TestNAT(t *testing.T) {
	natC := Exit{Name: "nat-c", Addr: "192.0.2.15"}
	for _, c := range []struct {
		name string
		eg   fakeEgress
		open map[string]bool
		want []check.Status
		says string
	}{
		{"seen from the NAT of its AZ", fakeEgress{seen: natA.Addr, elsewhere: true}, nil, []check.Status{check.Pass, check.Pass, check.Pass}, "200, seen from 192.0.2.14"},
		{"seen from another NAT", fakeEgress{seen: natC.Addr, elsewhere: true}, nil, []check.Status{check.Fail, check.Pass, check.Pass}, "seen from 192.0.2.15"},
		{"routed through the NAT of its AZ", fakeEgress{routed: &natA}, nil, []check.Status{check.Pass, check.Pass}, "routed through nat-a's EIP 192.0.2.14"},
		{"routed through another", fakeEgress{routed: &natC}, nil, []check.Status{check.Fail, check.Pass}, "routed through nat-c"},
		{"the download fails", fakeEgress{err: errors.New("timed out"), elsewhere: true}, nil, []check.Status{check.Fail, check.Pass, check.Pass}, "timed out"},
		{"a host elsewhere reached", fakeEgress{seen: natA.Addr, elsewhere: true}, map[string]bool{"web-a-1 192.0.2.8:443": true}, []check.Status{check.Pass, check.Fail, check.Pass}, "connected"},
	} {
		t.Run(c.name, func(t *testing.T) {
			op := &fakeOperator{internet: true, open: c.open}
			rows := NAT(context.Background(), newFakeSite(webA), op, c.eg)
			checkRows(t, rows, c.want, c.says)
		})
	}
}
