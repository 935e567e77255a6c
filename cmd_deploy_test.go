package main

import (
	"strings"
	"testing"

	"github.com/webtier/webtier/stacks"
	"github.com/webtier/webtier/twin"
)

// TestDeploySkipsTheTwinWhereItCannotRun: where the twin cannot run (macOS, Windows, Linux
// without root or nftables), `webtier deploy` says so in one line and goes on: its twin step
// neither builds nor fails.
func TestDeploySkipsTheTwinWhereItCannotRun(t *testing.T) {
	if twin.CanRun() == "" {
		t.Setenv("PATH", t.TempDir()) // no ip, no nft: the twin cannot run
	}
	why := twin.CanRun()
	var out strings.Builder
	tw, err := twinAfterDeploy(t.Context(), nil, stacks.Input{}, siteAddr, &out)
	if tw != nil || err != nil {
		t.Errorf("twinAfterDeploy = %v, %v; want no twin and no error", tw, err)
	}
	if want := "webtier: no twin of the deployment: " + why + "\n"; out.String() != want {
		t.Errorf("twinAfterDeploy printed %q, want %q", out.String(), want)
	}
}
