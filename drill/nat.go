package drill

import (
	"context"
	"fmt"

	"github.com/webtier/webtier/check"
)

// Exit is where a web server's downloads leave the VPC: a NAT gateway (its Elastic IP) or,
// through a gateway endpoint, the server itself (its own address).
type Exit struct {
	// Name is the NAT gateway's name, or the server's with a gateway endpoint.
	Name string
	// Addr is the source address the repository sees.
	Addr string
	// Gateway is true through a gateway endpoint.
	Gateway bool
}

func (e Exit) String() string {
	if e.Gateway {
		return e.Name + "'s own address " + e.Addr + " (the gateway endpoint)"
	}
	return e.Name + "'s EIP " + e.Addr
}

// Egress is an Env whose web servers download their packages through the NAT gateways.
type Egress interface {
	// Repository is the URL of the first file dnf downloads (the mirror list).
	Repository() string
	// Download has h fetch the repository's URL over HTTPS: the status, the source address the
	// repository saw ("" when it does not say), and how it was asked.
	Download(ctx context.Context, h Host) (status int, seen, how string, err error)
	// Exit is where h's downloads must leave: the NAT gateway of its AZ (the one gateway with
	// nat: single), or h itself through a gateway endpoint; ok false when none. routed, when
	// the env cannot see the source, is where the stack's route sends them, and why.
	Exit(h Host) (want Exit, ok bool, routed *Exit, route string)
	// Elsewhere is a host on the internet that no flow lets the web servers reach; ok false
	// when the env has none.
	Elsewhere() (h Host, ok bool)
}

// NAT is requirement 3: each web server downloads the repository's file over HTTPS, leaving
// through the NAT gateway of its AZ (as the repository saw it, or as the stack routes it
// where the repository does not say); a host elsewhere on the internet is not reached from
// it, and the internet does not reach it.
func NAT(ctx context.Context, env Env, op Operator, eg Egress) []check.Result {
	r := &rows{}
	url := eg.Repository()
	elsewhere, hasElsewhere := eg.Elsewhere()
	for _, w := range env.Webs() {
		test := w.Name + " -> " + url
		want, ok, routed, route := eg.Exit(w)
		expected := "200, leaving from " + want.String()
		if !ok {
			expected = "200, leaving from a NAT gateway of " + w.AZ
		}
		status, seen, how, err := eg.Download(ctx, w)
		switch ns := notShown(err); {
		case ns != nil:
			r.limit(3, test, expected, ns.Why)
		case err != nil:
			r.add(3, test, expected, "failed", how+": "+err.Error(), false)
		case seen != "":
			r.add(3, test, expected, fmt.Sprintf("%d, seen from %s", status, seen), how, ok && status == 200 && seen == want.Addr)
		case routed != nil:
			r.add(3, test, expected, fmt.Sprintf("%d, routed through %s", status, routed.String()), how+"; "+route,
				ok && status == 200 && routed.Addr == want.Addr)
		default:
			r.add(3, test, expected, fmt.Sprintf("%d, source not seen", status), how+"; "+route, false)
		}
		if hasElsewhere {
			blocked(ctx, r, op, 3, w.Name, elsewhere, elsewhere.Private, 443)
		}
		blocked(ctx, r, op, 3, Internet, w, w.Private, 80)
	}
	return r.out
}
