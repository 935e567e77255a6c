package drill

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/webtier/webtier/check"
)

// fakeOperator answers `hostname` with each host's name (or answer, when set) and lets
// through the connections of open.
type fakeOperator struct {
	bastions []Host
	answer   string
	open     map[string]bool // "FROM ADDR:PORT"
	internet bool
	calls    []string
}

func (o *fakeOperator) Bastions() []Host { return o.bastions }

func (o *fakeOperator) Shell(_ context.Context, via *Host, h Host, command string) (string, string, error) {
	how := "ssh " + h.Name
	if via != nil {
		how = "ssh -J " + via.Name + " " + h.Name
	}
	o.calls = append(o.calls, how+" "+command)
	if o.answer != "" {
		return o.answer + "\n", how, nil
	}
	return h.Hostnames[0] + ".example.internal\n", how, nil
}

func (o *fakeOperator) Connect(_ context.Context, from, addr string, port int) (bool, string, error) {
	if from == Internet && !o.internet {
		return false, "", ErrNoVantage
	}
	if o.open[fmt.Sprintf("%s %s:%d", from, addr, port)] {
		return true, "connected", nil
	}
	return false, "no answer", nil
}

// TestSSH: requirement 1's rows: each bastion and, through each bastion, each web server
// answers its own name; a connection that should be blocked and connects fails, another host
// answering fails, and an env without a host on the internet runs no internet row.
func TestSSH(t *testing.T) {
	named := func(h Host) Host { h.Hostnames = []string{h.Name}; return h }
	webs := []Host{named(webA), named(webC)}
	webs[0].Private, webs[1].Private = "10.0.3.10", "10.0.4.10"
	bastions := []Host{named(Host{Name: "bastion-a", AZ: "az-a", Public: "192.0.2.10"}), named(Host{Name: "bastion-c", AZ: "az-c", Public: "192.0.2.11"})}
	for _, c := range []struct {
		name       string
		edit       func(*fakeOperator)
		pass, fail int
		says       string
	}{
		// 2 bastions, 4 jumps, 2 internet -> bastion, 2 admin -> web
		{"as designed", func(*fakeOperator) {}, 10, 0, "ssh -J bastion-c web-c-1"},
		{"a web server open to the admin machine", func(o *fakeOperator) { o.open = map[string]bool{"admin 10.0.4.10:22": true} }, 9, 1, "connected"},
		{"a bastion open to the internet", func(o *fakeOperator) { o.open = map[string]bool{"internet 192.0.2.11:22": true} }, 9, 1, "connected"},
		{"another host answers", func(o *fakeOperator) { o.answer = "web-c-1" }, 6, 4, "web-c-1"},
		{"no host on the internet", func(o *fakeOperator) { o.internet = false }, 8, 0, "admin -> web-a-1 (10.0.3.10) tcp/22"},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFakeSite(webs...)
			op := &fakeOperator{bastions: bastions, internet: true}
			c.edit(op)
			rows := SSH(context.Background(), f, op)
			pass, fail := 0, 0
			var text strings.Builder
			for _, r := range rows {
				if r.Status == check.Pass {
					pass++
				} else {
					fail++
				}
				fmt.Fprintf(&text, "%s | %s | %s | %s | %s\n", r.Check, r.Expected, r.Observed, r.Status, r.Evidence)
			}
			if pass != c.pass || fail != c.fail || !strings.Contains(text.String(), c.says) {
				t.Errorf("got %d passed, %d failed; want %d, %d and a row that says %q:\n%s", pass, fail, c.pass, c.fail, c.says, text.String())
			}
		})
	}
	// On an env that cannot show it, every row is a limitation.
	rows := SSH(context.Background(), newFakeSite(webs...), notShownOperator{bastions})
	for _, r := range rows {
		if r.Status != check.Limitation {
			t.Errorf("%s: %s, want %s", r.Check, r.Status, check.Limitation)
		}
	}
	if len(rows) != 8 || !slices.ContainsFunc(rows, func(r check.Result) bool { return strings.HasPrefix(r.Check, "admin -> ") }) {
		t.Errorf("got %d rows, want 8 limitations (no internet vantage):\n%+v", len(rows), rows)
	}
}

type notShownOperator struct{ bastions []Host }

func (o notShownOperator) Bastions() []Host { return o.bastions }
func (o notShownOperator) Shell(context.Context, *Host, Host, string) (string, string, error) {
	return "", "ssh", &NotShown{Why: "the fake emulator runs no instance"}
}
func (o notShownOperator) Connect(_ context.Context, from, _ string, _ int) (bool, string, error) {
	if from == Internet {
		return false, "", ErrNoVantage
	}
	return false, "", fmt.Errorf("wrapped: %w", &NotShown{Why: "not dialed"})
}
