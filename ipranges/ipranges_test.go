package ipranges

import (
	"net/netip"
	"os"
	"strings"
	"testing"
)

func load(t *testing.T) *File {
	t.Helper()
	r, err := os.Open("testdata/ip-ranges-small.json")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	f, err := Parse(r)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func cidrs(list []netip.Prefix) string {
	var parts []string
	for _, p := range list {
		parts = append(parts, p.String())
	}
	return strings.Join(parts, " ")
}

// TestSelect keeps one service of one region, IPv4 only, each range once, in address order.
func TestSelect(t *testing.T) {
	got := cidrs(load(t).Select("S3", "ap-northeast-2"))
	want := "3.5.140.0/22 3.36.167.64/27 52.219.56.0/22 52.219.60.0/23 52.219.144.0/22 52.219.148.0/23"
	if got != want {
		t.Errorf("Select: expected %s, got %s", want, got)
	}
	if got := load(t).Regions("S3"); strings.Join(got, " ") != "ap-northeast-2 us-east-1" {
		t.Errorf("Regions: expected ap-northeast-2 us-east-1, got %v", got)
	}
}

// TestAggregate: exact while the quota allows, then the cheapest widening first, never a range
// left out.
func TestAggregate(t *testing.T) {
	ranges := load(t).Select("S3", "ap-northeast-2")
	cases := []struct {
		max   int
		want  string
		extra uint64
	}{
		{10, "3.5.140.0/22 3.36.167.64/27 52.219.56.0/22 52.219.60.0/23 52.219.144.0/22 52.219.148.0/23", 0},
		// 52.219.56.0/21 adds 52.219.62.0/23 (512 addresses), the cheapest; then 52.219.144.0/21.
		{5, "3.5.140.0/22 3.36.167.64/27 52.219.56.0/21 52.219.144.0/22 52.219.148.0/23", 512},
		{4, "3.5.140.0/22 3.36.167.64/27 52.219.56.0/21 52.219.144.0/21", 1024},
	}
	for _, c := range cases {
		res, err := Aggregate(ranges, c.max)
		if err != nil {
			t.Fatal(err)
		}
		if got := cidrs(res.CIDRs); got != c.want || res.Extra != c.extra {
			t.Errorf("max %d: expected %s (+%d addresses), got %s (+%d)", c.max, c.want, c.extra, got, res.Extra)
		}
		for _, r := range ranges {
			inside := false
			for _, p := range res.CIDRs {
				inside = inside || p.Contains(r.Addr()) && p.Bits() <= r.Bits()
			}
			if !inside {
				t.Errorf("max %d: %s is left out", c.max, r)
			}
		}
	}
	if _, err := Aggregate(ranges, 0); err == nil || !strings.Contains(err.Error(), "max: 0") {
		t.Errorf("max 0: expected an error naming max, got %v", err)
	}
}

// TestParseErrors names what is wrong with a file that is not ip-ranges.json.
func TestParseErrors(t *testing.T) {
	for in, want := range map[string]string{
		`{"prefixes": []}`: "prefixes: the document lists no IPv4 ranges",
		`{"prefixes": [{"ip_prefix": "52.219.0.0/33", "region": "r", "service": "S3"}]}`: `prefixes[0].ip_prefix: "52.219.0.0/33" is not an IPv4 CIDR`,
		`[1, 2]`: "not an ip-ranges.json document",
	} {
		if _, err := Parse(strings.NewReader(in)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Parse(%s): expected an error %q, got %v", in, want, err)
		}
	}
}
