package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strings"

	"github.com/webtier/webtier/config"
	"github.com/webtier/webtier/ipranges"
	"github.com/webtier/webtier/rules"
	"github.com/webtier/webtier/stacks"
)

// repoRangesCmd is the repo-ranges command:
//
//	webtier repo-ranges --ip-ranges FILE [--service S3] [--max-cidrs N] [--config FILE] [--region R ...]
//
// It reads AWS's ip-ranges.json (https://ip-ranges.amazonaws.com/ip-ranges.json, downloaded by
// the user), keeps the ranges of the service in the config's region, and prints them as the
// JSON list for repo_cidrs, aggregated to fit the network ACLs: each repository range takes
// one entry per direction in the web and public ACLs, which AWS limits to 20 with the default
// deny (quotas.nacl_rules_per_direction, when the account has raised it). Widening, when
// needed, joins the neighbours that add the fewest addresses; standard error says what it did.
func repoRangesCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("repo-ranges", flag.ContinueOnError)
	fs.SetOutput(stderr)
	file := fs.String("ip-ranges", "", "AWS's ip-ranges.json `file`")
	service := fs.String("service", "S3", "the `service` whose ranges the web servers download from")
	maxCIDRs := fs.Int("max-cidrs", 0, "at most this many `CIDRs` (default: what the network ACLs have room for)")
	// The command computes repo_cidrs: the config's own (the default list of another region,
	// or none yet) must not stop it. Only the region and the network ACLs' room matter here.
	plan, err := loadPlanWith(fs, args, func(src *config.Sources) error { return src.Replace("repo-cidrs", roomProbe.String()) })
	if err != nil {
		return report(stderr, err)
	}
	if *file == "" {
		return report(stderr, usageError{errors.New("repo-ranges: --ip-ranges names the ip-ranges.json file to read (https://ip-ranges.amazonaws.com/ip-ranges.json)")})
	}
	r, err := os.Open(*file)
	if err != nil {
		return report(stderr, usageError{fmt.Errorf("repo-ranges: %w", err)})
	}
	defer r.Close()
	doc, err := ipranges.Parse(r)
	if err != nil {
		return report(stderr, usageError{fmt.Errorf("repo-ranges: %s: %w", *file, err)})
	}
	region := plan.Config.Region
	ranges := doc.Select(*service, region)
	if len(ranges) == 0 {
		return report(stderr, usageError{fmt.Errorf("repo-ranges: %s lists no %s ranges in %s (regions with %s: %s)",
			*file, *service, region, *service, strings.Join(doc.Regions(*service), ", "))})
	}
	room, err := aclRoom(plan)
	if err != nil {
		return report(stderr, err)
	}
	limit := room
	if *maxCIDRs > 0 {
		limit = min(*maxCIDRs, room)
	}
	res, err := ipranges.Aggregate(ranges, limit)
	if err != nil {
		return report(stderr, usageError{fmt.Errorf("repo-ranges: %w", err)})
	}
	fmt.Fprintf(stderr, "webtier: %d %s ranges of %s (ip-ranges.json of %s) -> %d CIDRs (the network ACLs have room for %d)\n",
		len(ranges), *service, region, doc.CreateDate, len(res.CIDRs), room)
	for _, m := range res.Merges {
		fmt.Fprintf(stderr, "webtier:   %s replaces %s, adding %d addresses no %s range holds\n", m.CIDR, joinPrefixes(m.Replaced), m.Extra, *service)
	}
	list := make([]string, len(res.CIDRs))
	for i, c := range res.CIDRs {
		list[i] = c.String()
	}
	out, _ := json.Marshal(map[string][]string{"repo_cidrs": list})
	fmt.Fprintln(stdout, string(out))
	return exitOK
}

// roomProbe stands for one repository range while the room is counted (a documentation range).
var roomProbe = netip.MustParsePrefix("192.0.2.0/24")

// aclRoom is how many repository ranges the stack's network ACLs hold: it derives the policy
// with one range and counts, in the busiest ACL direction that has a repository entry, the
// entries left under the account's quota once the default deny is counted.
func aclRoom(plan stacks.Input) (int, error) {
	probe := roomProbe
	t := plan.Topology
	t.RepoCIDRs = []netip.Prefix{probe}
	p, err := rules.Derive(t, plan.Policy.Flows)
	if err != nil {
		return 0, err
	}
	budget := t.Quotas.NACLEntries()
	room := -1
	for _, entries := range p.NACL {
		for _, dir := range []rules.Direction{rules.Ingress, rules.Egress} {
			total, repo := 0, 0
			for _, e := range entries {
				if e.Direction != dir {
					continue
				}
				total++
				if e.CIDR == probe {
					repo++
				}
			}
			if repo == 0 {
				continue
			}
			if r := (budget - (total - repo)) / repo; room < 0 || r < room {
				room = r
			}
		}
	}
	if room < 1 {
		return 0, errors.New("repo-ranges: the network ACLs have no room for a repository range")
	}
	return room, nil
}

func joinPrefixes(list []netip.Prefix) string {
	parts := make([]string, len(list))
	for i, p := range list {
		parts[i] = p.String()
	}
	return strings.Join(parts, ", ")
}
