package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/webtier/webtier/config"
)

// TestRepoRanges: the S3 ranges of the config's region from an ip-ranges.json file, as the
// repo_cidrs list, exact while the network ACLs have room, widened as little as possible below
// a smaller limit; bad input exits 2 and says what to give.
func TestRepoRanges(t *testing.T) {
	small := "ipranges/testdata/ip-ranges-small.json"
	defaultList, _ := json.Marshal(map[string][]string{"repo_cidrs": config.DefaultRepoCIDRs})
	cases := []struct {
		name   string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{"exact", []string{"--ip-ranges", small}, exitOK,
			`{"repo_cidrs":["3.5.140.0/22","3.36.167.64/27","52.219.56.0/22","52.219.60.0/23","52.219.144.0/22","52.219.148.0/23"]}`,
			// The web ACL's busiest direction holds 10 entries besides the repositories': 19 of
			// the quota of 20 are the stack's, the default deny takes the last.
			"6 S3 ranges of ap-northeast-2 (ip-ranges.json of 2026-01-01-00-00-00) -> 6 CIDRs (the network ACLs have room for 9)"},
		{"a raised quota", []string{"--ip-ranges", small, "--quota-nacl-rules-per-direction", "40"}, exitOK,
			`{"repo_cidrs":["3.5.140.0/22","3.36.167.64/27","52.219.56.0/22","52.219.60.0/23","52.219.144.0/22","52.219.148.0/23"]}`,
			"(the network ACLs have room for 29)"},
		{"widened to 5", []string{"--ip-ranges", small, "--max-cidrs", "5"}, exitOK,
			`{"repo_cidrs":["3.5.140.0/22","3.36.167.64/27","52.219.56.0/21","52.219.144.0/22","52.219.148.0/23"]}`,
			"52.219.56.0/21 replaces 52.219.56.0/22, 52.219.60.0/23, adding 512 addresses no S3 range holds"},
		// The default repo_cidrs are what the command prints for the S3 ranges of ap-northeast-2
		// (an extract of ip-ranges.json of 2026-08-22-21-17-05) at AWS's default quota.
		{"the default list", []string{"--ip-ranges", "ipranges/testdata/ip-ranges-ap-northeast-2-s3.json"}, exitOK, string(defaultList),
			"12 S3 ranges of ap-northeast-2 (ip-ranges.json of 2026-08-22-21-17-05) -> 9 CIDRs (the network ACLs have room for 9)"},
		{"another region", []string{"--ip-ranges", small, "--region", "eu-west-1"}, exitBadArgs, "",
			"lists no S3 ranges in eu-west-1 (regions with S3: ap-northeast-2, us-east-1)"},
		{"no file named", nil, exitBadArgs, "", "--ip-ranges names the ip-ranges.json file to read"},
		{"not the format", []string{"--ip-ranges", "webtier.example.json"}, exitBadArgs, "", "prefixes: the document lists no IPv4 ranges"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(append([]string{"repo-ranges", "--config", exampleConfig}, c.args...), &stdout, &stderr)
			if code != c.code {
				t.Errorf("exit status: expected %d, got %d; stderr: %s", c.code, code, stderr.String())
			}
			if strings.TrimSpace(stdout.String()) != c.stdout {
				t.Errorf("stdout: expected %s, got %s", c.stdout, stdout.String())
			}
			if !strings.Contains(stderr.String(), c.stderr) {
				t.Errorf("stderr: expected %q in it, got %s", c.stderr, stderr.String())
			}
		})
	}
}
