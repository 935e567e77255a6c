package drill

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/webtier/webtier/check"
)

// Where a connection of Connect starts.
const (
	// Admin is the operators' machine, inside the admin ranges.
	Admin = "admin"
	// Internet is a host on the internet outside the admin ranges.
	Internet = "internet"
)

// ErrNoVantage is Connect's error when the env has no host at that vantage (on AWS the drill
// runs on the admin machine: it has no host on the internet outside the admin ranges). The
// test is then not run, and no row says it passed.
var ErrNoVantage = errors.New("no host at that vantage")

// Operator is an Env operators log in to: the bastions, a shell on a host, TCP connections
// from outside the VPC.
type Operator interface {
	// Bastions are the bastions, by AZ then name.
	Bastions() []Host
	// Shell runs command on h as the operators' user, from the admin machine over SSH,
	// through the bastion via when not nil. how is the command line an operator types.
	Shell(ctx context.Context, via *Host, h Host, command string) (out, how string, err error)
	// Connect opens a TCP connection from a vantage (Admin, Internet, or the name of a host)
	// to addr:port: whether it got through, and how it ended; ErrNoVantage when the env has
	// no host there.
	Connect(ctx context.Context, from, addr string, port int) (through bool, how string, err error)
}

// SSH is requirement 1: from the admin machine `hostname` answers on each bastion, and through
// each bastion on each web server (ssh -J); SSH from the internet to a bastion and from the
// admin machine straight to a web server's private address does not connect.
func SSH(ctx context.Context, env Env, op Operator) []check.Result {
	r := &rows{}
	hostname := func(via *Host, h Host) {
		test := "ssh " + sshUser + "@" + h.Public + " hostname  [" + h.Name + "]"
		if via != nil {
			test = "ssh -J " + sshUser + "@" + via.Public + " " + sshUser + "@" + h.Private + " hostname  [" + via.Name + " -> " + h.Name + "]"
		}
		want := strings.Join(h.Hostnames, " or ")
		out, how, err := op.Shell(ctx, via, h, "hostname")
		if ns := notShown(err); ns != nil {
			r.limit(1, test, want, ns.Why)
			return
		}
		out = strings.TrimSpace(out)
		evidence := how
		if err != nil {
			evidence += ": " + err.Error()
		}
		r.add(1, test, want, FirstLine(out, err), evidence, err == nil && h.IsHostname(out))
	}
	bastions, webs := op.Bastions(), env.Webs()
	for i := range bastions {
		hostname(nil, bastions[i])
		for _, w := range webs {
			hostname(&bastions[i], w)
		}
	}
	for _, b := range bastions {
		blocked(ctx, r, op, 1, Internet, b, b.Public, 22)
	}
	for _, w := range webs {
		blocked(ctx, r, op, 1, Admin, w, w.Private, 22)
	}
	return r.out
}

// sshUser is the operators' user on the instances (Amazon Linux's).
const sshUser = "ec2-user"

// blocked adds the row of a TCP connection from a vantage (or a host, by name) to h's
// addr:port, which must not connect; none when the env has no host at that vantage.
func blocked(ctx context.Context, r *rows, op Operator, req int, from string, h Host, addr string, port int) {
	test := fmt.Sprintf("%s -> %s (%s) tcp/%d", from, h.Name, addr, port)
	through, how, err := op.Connect(ctx, from, addr, port)
	switch {
	case errors.Is(err, ErrNoVantage):
		return
	case notShown(err) != nil:
		r.limit(req, test, "blocked", notShown(err).Why)
		return
	case err != nil:
		r.add(req, test, "blocked", "-", err.Error(), false)
		return
	}
	observed := "blocked"
	if through {
		observed = "connected"
	}
	r.add(req, test, "blocked", observed, how, !through)
}

// FirstLine is a command's first line of output, or its error.
func FirstLine(out string, err error) string {
	if err != nil {
		return "error: " + strings.SplitN(strings.TrimSpace(err.Error()+" "+out), "\n", 2)[0]
	}
	line, _, _ := strings.Cut(strings.TrimSpace(out), "\n")
	return line
}
