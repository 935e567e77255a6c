package twin

import (
	"context"
	"fmt"
	"time"

	"github.com/webtier/webtier/check"
	seed "github.com/webtier/webtier/drill"
	"github.com/webtier/webtier/rules"
	"github.com/webtier/webtier/twin/compiler"
	"github.com/webtier/webtier/twin/standin"
)

// access is requirement 1 in the stack's access mode (the drill's test 1, kept apart from the
// rest of the drill): with bastions (bastion, both) the seed's SSH tests; with the Systems
// Manager endpoints (ssm, both) a command through Session Manager's stand-in on every managed
// instance; without bastions (ssm) port 22 refused on every web server from the internet,
// from the public subnets (where the bastions were) and from the other web servers.
func (d *drill) access(ctx context.Context) []check.Result {
	var rows []check.Result
	bastions := d.p.HostsOfRole(rules.Bastion)
	endpoints := d.p.SSMEndpointHosts("ssmmessages")
	admin := d.p.FirstOf(string(rules.Admin))
	if len(bastions) > 0 || len(endpoints) == 0 && admin != nil {
		rows = append(rows, seed.Test(ctx, d, 1)...)
	}
	if len(endpoints) == 0 {
		if len(bastions) == 0 && admin == nil {
			rows = append(rows, row(1, "a way in: a bastion or Session Manager", "bastions or the ssmmessages endpoint", "neither",
				"the stack has no bastion and no ssmmessages interface endpoint", false))
		}
		return rows
	}
	rows = append(rows, d.sessions(ctx)...)
	if len(bastions) > 0 {
		return rows
	}
	return append(rows, d.noSSH(ctx)...)
}

// agentWait is how long the drill waits for an agent's channel: a few of its 2 s retries.
const agentWait = 8 * time.Second

// sessions runs `hostname` on every managed instance through the Session Manager stand-in, as
// `aws ssm start-session --target ID` followed by `hostname` would: the output comes from the
// instance's agent, over the channel it opened out to the ssmmessages endpoint.
func (d *drill) sessions(ctx context.Context) []check.Result {
	var rows []check.Result
	var endpoints []*standin.Spec
	for _, s := range d.p.Specs(compiler.StandIns{}) {
		if s.Session != nil {
			endpoints = append(endpoints, s)
		}
	}
	for _, h := range d.p.Hosts {
		if !d.p.Managed(h) {
			continue
		}
		test := fmt.Sprintf("session (stand-in for aws ssm start-session) -> %s (%s): hostname", h.Name, h.Private)
		// An agent retries its channel every 2 s from boot: a twin just up may not hold it yet.
		var out, evidence string
		var err error
		for deadline := time.Now().Add(agentWait); ; {
			out, evidence, err = standin.SessionRun(endpoints, h.Name, "hostname")
			if err == nil || time.Now().After(deadline) {
				break
			}
			sleep(ctx, 500)
		}
		if err != nil {
			evidence = err.Error()
		}
		rows = append(rows, row(1, test, h.Name, firstLineOf(out), evidence, err == nil && out == h.Name))
	}
	return rows
}

// noSSH: with no bastion, nothing reaches port 22 of a web server: not the internet, not the
// public subnets (an ALB node stands where the bastions were), not another web server.
func (d *drill) noSSH(ctx context.Context) []check.Result {
	var rows []check.Result
	webs := d.p.HostsOfRole(rules.Web)
	froms := []*compiler.Host{d.p.FirstOf(string(rules.Internet)), d.p.FirstOf(string(rules.ALB))}
	for _, w := range webs {
		for _, from := range append(froms, webs...) {
			if from == nil || from == w {
				continue
			}
			test := fmt.Sprintf("no inbound SSH path: %s -> %s (%s) tcp/22", from.Name, w.Name, w.Private)
			through, how, err := d.Connect(ctx, from.Name, w.Private.String(), 22)
			observed := "blocked (" + how + ")"
			if through {
				observed = "connected"
			}
			if err != nil {
				observed = err.Error()
			}
			rows = append(rows, row(1, test, "blocked", observed, "a TCP connection from "+from.Name+"'s namespace", err == nil && !through))
		}
	}
	return rows
}

// firstLineOf is the first line of a command's output.
func firstLineOf(s string) string {
	for i, c := range s {
		if c == '\n' {
			return s[:i]
		}
	}
	return s
}
