//go:build !linux

package main

import (
	"runtime"
	"strings"
	"testing"
)

// TestTwinNeedsLinux: on macOS and Windows every command of the twin, and the drill of the
// twin, says in one line that the twin needs Linux and what works here, and exits 2; `twin up
// --dry-run`, a compile, still prints the plan.
func TestTwinNeedsLinux(t *testing.T) {
	t.Setenv("WEBTIER_TWIN_PREFIX", testPrefix("wtc"))
	for _, args := range [][]string{
		{"twin", "up", "--in", stackFile, "--config", exampleConfig},
		{"twin", "test"},
		{"twin", "hosts"},
		{"twin", "exec", "admin", "--", "true"},
		{"twin", "ssh", "bastion-a"},
		{"twin", "down"},
		{"drill"},
	} {
		var stdout, stderr strings.Builder
		code := run(args, &stdout, &stderr)
		errs := strings.TrimSpace(stderr.String())
		if code != exitBadArgs || strings.Contains(errs, "\n") ||
			!strings.Contains(errs, "the twin needs Linux (network namespaces and nftables); this is "+runtime.GOOS+": synth, verify, plan, deploy and drill --target aws work here") {
			t.Errorf("webtier %s: exit %d, stderr:\n%s\nwant exit %d and one line saying the twin needs Linux", strings.Join(args, " "), code, errs, exitBadArgs)
		}
	}
	code, out, errs := twinRun("up", "--dry-run", "--in", stackFile, "--config", exampleConfig)
	if code != exitOK || !strings.Contains(out, "# The twin's hosts") {
		t.Errorf("twin up --dry-run: exit %d, want the plan; stderr: %s", code, errs)
	}
}
