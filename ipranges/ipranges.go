// Package ipranges reads AWS's published IP address ranges (ip-ranges.json) and turns one
// service's ranges in one region into the fewest CIDRs a network ACL can hold. Plain Go.
//
// The file's format: https://docs.aws.amazon.com/vpc/latest/userguide/aws-ip-ranges.html
package ipranges

import (
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"slices"
)

// File is the part of ip-ranges.json this package reads.
type File struct {
	SyncToken  string   `json:"syncToken"`
	CreateDate string   `json:"createDate"`
	Prefixes   []Prefix `json:"prefixes"`
}

// Prefix is one IPv4 range of a service in a region.
type Prefix struct {
	IPPrefix string `json:"ip_prefix"`
	Region   string `json:"region"`
	Service  string `json:"service"`
}

// Parse reads an ip-ranges.json document. A document without prefixes, or with a prefix that
// is not an IPv4 CIDR, is an error that names the entry.
func Parse(r io.Reader) (*File, error) {
	var f File
	if err := json.NewDecoder(r).Decode(&f); err != nil {
		return nil, fmt.Errorf("not an ip-ranges.json document: %w", err)
	}
	if len(f.Prefixes) == 0 {
		return nil, fmt.Errorf("prefixes: the document lists no IPv4 ranges (expected AWS's ip-ranges.json)")
	}
	for i, p := range f.Prefixes {
		if pr, err := netip.ParsePrefix(p.IPPrefix); err != nil || !pr.Addr().Is4() {
			return nil, fmt.Errorf("prefixes[%d].ip_prefix: %q is not an IPv4 CIDR", i, p.IPPrefix)
		}
	}
	return &f, nil
}

// Select returns the ranges of service in region, sorted, each once.
func (f *File) Select(service, region string) []netip.Prefix {
	var out []netip.Prefix
	for _, p := range f.Prefixes {
		if p.Service == service && p.Region == region {
			out = append(out, netip.MustParsePrefix(p.IPPrefix).Masked())
		}
	}
	return normalize(out)
}

// Regions lists the regions that have ranges of service.
func (f *File) Regions(service string) []string {
	var out []string
	for _, p := range f.Prefixes {
		if p.Service == service && !slices.Contains(out, p.Region) {
			out = append(out, p.Region)
		}
	}
	slices.Sort(out)
	return out
}

// Result is an aggregation: the CIDRs, and how many addresses they hold beyond the ranges.
type Result struct {
	CIDRs []netip.Prefix
	// Extra counts the addresses the CIDRs cover that no range does (0: exact).
	Extra uint64
	// Merges names each widening: the CIDR and the ranges it replaced.
	Merges []Merge
}

// Merge is one CIDR that replaced several, adding addresses no range holds.
type Merge struct {
	CIDR     netip.Prefix
	Replaced []netip.Prefix
	Extra    uint64
}

// Aggregate returns at most max CIDRs that cover ranges: first exactly (contained ranges
// dropped, sibling halves joined), then, while there are too many, by joining the two
// neighbours whose smallest common CIDR adds the fewest addresses no range holds. It never
// drops a range.
func Aggregate(ranges []netip.Prefix, max int) (Result, error) {
	if max < 1 {
		return Result{}, fmt.Errorf("max: %d; at least one CIDR is needed", max)
	}
	if len(ranges) == 0 {
		return Result{}, fmt.Errorf("no ranges to aggregate")
	}
	cur := normalize(ranges)
	var res Result
	for len(cur) > max {
		best, bestExtra := -1, uint64(0)
		var bestCIDR netip.Prefix
		for i := 0; i+1 < len(cur); i++ {
			c := common(cur[i], cur[i+1])
			extra := size(c) - covered(c, cur)
			if best < 0 || extra < bestExtra {
				best, bestExtra, bestCIDR = i, extra, c
			}
		}
		var replaced, kept []netip.Prefix
		for _, p := range cur {
			if bestCIDR.Contains(p.Addr()) {
				replaced = append(replaced, p)
			} else {
				kept = append(kept, p)
			}
		}
		res.Merges = append(res.Merges, Merge{CIDR: bestCIDR, Replaced: replaced, Extra: bestExtra})
		res.Extra += bestExtra
		cur = normalize(append(kept, bestCIDR))
	}
	res.CIDRs = cur
	return res, nil
}

// normalize sorts ranges, drops those inside another and joins sibling halves, until nothing
// changes: the exact, smallest set of CIDRs covering the same addresses.
func normalize(in []netip.Prefix) []netip.Prefix {
	out := slices.Clone(in)
	for {
		slices.SortFunc(out, func(a, b netip.Prefix) int {
			if c := a.Addr().Compare(b.Addr()); c != 0 {
				return c
			}
			return a.Bits() - b.Bits()
		})
		out = slices.CompactFunc(out, func(a, b netip.Prefix) bool { return a.Contains(b.Addr()) && a.Bits() <= b.Bits() })
		joined := false
		for i := 0; i+1 < len(out); i++ {
			a, b := out[i], out[i+1]
			if a.Bits() == b.Bits() && a.Bits() > 0 {
				parent := netip.PrefixFrom(a.Addr(), a.Bits()-1).Masked()
				if parent.Addr() == a.Addr() && parent.Contains(b.Addr()) {
					out[i] = parent
					out = slices.Delete(out, i+1, i+2)
					joined = true
				}
			}
		}
		if !joined {
			return out
		}
	}
}

// common is the smallest CIDR holding both a and b.
func common(a, b netip.Prefix) netip.Prefix {
	for bits := min(a.Bits(), b.Bits()); ; bits-- {
		c := netip.PrefixFrom(a.Addr(), bits).Masked()
		if c.Contains(b.Addr()) {
			return c
		}
	}
}

// size is the number of addresses of an IPv4 CIDR.
func size(p netip.Prefix) uint64 { return 1 << (32 - p.Bits()) }

// covered counts the addresses of c that the (disjoint) ranges hold.
func covered(c netip.Prefix, ranges []netip.Prefix) uint64 {
	var n uint64
	for _, r := range ranges {
		if c.Contains(r.Addr()) && c.Bits() <= r.Bits() {
			n += size(r)
		}
	}
	return n
}
