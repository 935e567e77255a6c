package verify

import (
	"fmt"
	"maps"
	"net/netip"
	"slices"

	"github.com/webtier/webtier/rules"
)

// QuotaResult is one AWS quota (rules.Quotas) counted on the network the way AWS counts it:
// the resource that comes closest, and every resource over it with what to do.
type QuotaResult struct {
	Key  string `json:"key"`
	Name string `json:"name"`
	Code string `json:"code"`
	// Limit is the quota in force: AWS's default, or what the config says the account raised.
	Limit int `json:"limit"`
	// Busiest is the resource that comes closest and what it holds: "web-nacl: 19 ingress
	// entries + the default deny = 20"; Count is that total.
	Busiest string `json:"busiest"`
	Count   int    `json:"count"`
	// Shared is true for a quota of the account's region (or AZ), which the account's other
	// resources count toward too: only the stack's share is counted.
	Shared bool `json:"shared,omitempty"`
	OK     bool `json:"ok"`
	// Over says, of each resource over the quota, what it holds, the quota and how to raise it.
	Over []string `json:"over,omitempty"`
}

// usage is what one resource holds toward a quota.
type usage struct {
	// subject names the resource ("web-nacl"); held says what it holds, with the total when
	// it is a sum ("19 ingress entries + the default deny = 20"); n is the total.
	subject, held string
	n             int
}

// Quotas counts the network against every quota of rules.Quotas, with the limits in force.
func (n *Network) Quotas(limits rules.Limits) []QuotaResult {
	var out []QuotaResult
	for _, q := range rules.Quotas {
		r := QuotaResult{Key: q.Key, Name: q.Name, Code: q.Code, Limit: limits.Of(q.Key), Shared: q.Shared, OK: true,
			Busiest: "none in the stack"}
		for _, u := range n.usage(q.Key) {
			if r.Count == 0 || u.n > r.Count {
				r.Busiest, r.Count = u.subject+": "+u.held, u.n
			}
			if u.n > r.Limit {
				r.OK = false
				r.Over = append(r.Over, q.Exceeded(u.subject, u.held, r.Limit))
			}
		}
		out = append(out, r)
	}
	return out
}

// usage lists what each resource of the stack holds toward the quota key.
func (n *Network) usage(key string) []usage {
	var out []usage
	dirs := []rules.Direction{rules.Ingress, rules.Egress}
	switch key {
	case rules.QuotaNACLRules:
		for _, a := range n.stackNACLs {
			for i, list := range [][]*NACLEntry{a.Ingress, a.Egress} {
				c := len(list) + a.aside[i]
				out = append(out, usage{name(a.Addr), rules.NACLCount(c, dirs[i]), c + rules.DefaultDenyEntries})
			}
		}
	case rules.QuotaSGRules:
		for _, g := range n.stackGroups {
			for i, list := range [][]*SGRule{g.Ingress, g.Egress} {
				c := g.aside[i]
				for _, r := range list {
					c += n.ruleWeight(r)
				}
				out = append(out, usage{name(g.Addr), fmt.Sprintf("%d %s %s", c, dirs[i], plural(c, "rule", "rules")), c})
			}
		}
	case rules.QuotaSGsPerENI:
		seen := map[string]bool{}
		for _, e := range n.Endpoints {
			if !e.Inside() || e.NoGroups || seen[e.Res+"|"+e.groupKey] {
				continue
			}
			seen[e.Res+"|"+e.groupKey] = true
			c := len(e.Groups)
			out = append(out, usage{fmt.Sprintf("%s (%s)", name(e.Res), e.Kind), fmt.Sprintf("%d security %s", c, plural(c, "group", "groups")), c})
		}
	case rules.QuotaRoutes:
		for _, t := range n.stackTables {
			c := len(t.VPC.CIDRs) // the local routes
			for _, r := range t.Routes {
				if r.Kind != TargetLocal {
					c += n.routeWeight(r)
				}
			}
			out = append(out, usage{name(t.Addr), fmt.Sprintf("%d %s, the local one included", c, plural(c, "route", "routes")), c})
		}
	case rules.QuotaEIPs:
		c := len(n.ElasticIPs)
		out = append(out, usage{"the stack", fmt.Sprintf("%d Elastic IP %s", c, plural(c, "address", "addresses")), c})
	case rules.QuotaNATsPerAZ:
		perAZ := map[string][]string{}
		for _, e := range n.Endpoints {
			if e.Kind == NATGateway && !slices.Contains(perAZ[e.AZ()], e.Res) {
				perAZ[e.AZ()] = append(perAZ[e.AZ()], e.Res)
			}
		}
		for _, az := range slices.Sorted(maps.Keys(perAZ)) {
			c := len(perAZ[az])
			out = append(out, usage{az, fmt.Sprintf("%d NAT %s of the stack", c, plural(c, "gateway", "gateways")), c})
		}
	case rules.QuotaVPCs:
		c := len(n.VPCs)
		out = append(out, usage{"the stack", fmt.Sprintf("%d %s", c, plural(c, "VPC", "VPCs")), c})
	}
	return out
}

// ruleWeight is how many rules of its group's quota a rule takes up: one, or for a prefix list
// its maximum entries (an AWS-managed list its weight).
func (n *Network) ruleWeight(r *SGRule) int {
	if r.PrefixList == "" {
		return 1
	}
	return n.listWeight(r.PrefixList, r.managed, r.ListCIDRs)
}

// routeWeight is how many routes of its table's quota a route takes up, likewise.
func (n *Network) routeWeight(r *Route) int {
	if r.List == "" {
		return 1
	}
	return n.listWeight(r.List, r.managed, r.ListCIDRs)
}

// listWeight is what a reference to a prefix list counts as: an AWS-managed list's weight
// (1 for S3's and DynamoDB's), a list of the stack's maximum entries (its entries when the
// stack does not say).
func (n *Network) listWeight(list string, managed bool, cidrs []netip.Prefix) int {
	if managed {
		if w, ok := rules.ManagedListWeight(list); ok {
			return w
		}
		return 1
	}
	if m, ok := n.listMax[list]; ok {
		return m
	}
	return max(1, len(cidrs))
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
