package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/webtier/webtier/twin"
)

// testPrefix names a test's twins apart from a user's and from another run's.
func testPrefix(kind string) string { return fmt.Sprintf("%s%d-", kind, os.Getpid()) }

// twinRun runs `webtier twin ARGS` and returns the exit status and both streams.
func twinRun(args ...string) (int, string, string) {
	var stdout, stderr bytes.Buffer
	code := run(append([]string{"twin"}, args...), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// TestTwinDryRun: `twin up --dry-run` prints the compiled plan, the golden file of the twin
// package, and builds nothing; it needs neither root nor nftables.
func TestTwinDryRun(t *testing.T) {
	t.Setenv("WEBTIER_TWIN_PREFIX", "wt-")
	code, out, errs := twinRun("up", "--dry-run", "--in", stackFile, "--config", exampleConfig)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	golden, err := os.ReadFile("testdata/twin.nft")
	if err != nil {
		t.Fatal(err)
	}
	if out != string(golden) {
		t.Errorf("--dry-run does not print testdata/twin.nft (go test ./twin -run Golden -update rewrites it)")
	}
}

// TestTwinBadInput: bad input exits 2 with a message that says what was expected.
func TestTwinBadInput(t *testing.T) {
	t.Setenv("WEBTIER_TWIN_PREFIX", testPrefix("wtc"))
	noTools := t.TempDir()
	for _, c := range []struct {
		name   string
		args   []string
		path   string
		stderr string
	}{
		{"no subcommand", nil, "", "expected up, test, hosts, exec, ssh, change or down"},
		{"change without a stack", []string{"change"}, "", "--to: expected the synthesized stack to change to"},
		{"unknown subcommand", []string{"sideways"}, "", `unknown subcommand "sideways"`},
		{"in and live", []string{"up", "--in", stackFile, "--live", "--config", exampleConfig}, "", "--in and --live exclude each other"},
		{"missing stack", []string{"up", "--in", filepath.Join(noTools, "none.json"), "--config", exampleConfig}, "", "run `make synth` first"},
		{"exec without command", []string{"exec", "admin"}, "", "usage: webtier twin exec HOST -- CMD"},
		{"no nft", []string{"up", "--in", stackFile, "--config", exampleConfig}, noTools, "the twin needs"},
		{"test with no twin", []string{"test"}, "", "no twin is up"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.path != "" {
				t.Setenv("PATH", c.path)
			}
			if c.name == "test with no twin" {
				if why := twin.CanRun(); why != "" {
					t.Skip("this machine cannot run the twin: " + why)
				}
			}
			code, _, errs := twinRun(c.args...)
			if code != exitBadArgs {
				t.Errorf("exit %d, want %d; stderr: %s", code, exitBadArgs, errs)
			}
			if !strings.Contains(errs, c.stderr) || strings.Count(strings.TrimSpace(errs), "\n") > 1 {
				t.Errorf("stderr: want one line with %q, got:\n%s", c.stderr, errs)
			}
		})
	}
}

// TestTwinCommands: up, hosts, exec and down as a user runs them.
func TestTwinCommands(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a twin; -short skips it")
	}
	if why := twin.CanRun(); why != "" {
		t.Skip("this machine cannot run the twin: " + why)
	}
	t.Setenv("WEBTIER_TWIN_PREFIX", testPrefix("wtc"))
	defer twinRun("down")
	code, out, errs := twinRun("up", "--in", stackFile, "--config", exampleConfig)
	if code != exitOK || !strings.Contains(out, "twin up: 26 hosts") || !strings.Contains(out, "not AWS") {
		t.Fatalf("up: exit %d\n%s%s", code, out, errs)
	}
	code, out, _ = twinRun("hosts")
	if code != exitOK || !strings.Contains(out, "bastion-a  bastion") || !strings.Contains(out, "192.0.2.10") {
		t.Errorf("hosts: exit %d\n%s", code, out)
	}
	if code, _, errs := twinRun("exec", "nobody", "--", "true"); code != exitBadArgs || !strings.Contains(errs, "it has bastion-a, bastion-c") {
		t.Errorf("exec on an unknown host: exit %d: %s", code, errs)
	}
	// exec passes the command's exit status on.
	if code, _, _ := twinRun("exec", "admin", "--", "sh", "-c", "exit 3"); code != 3 {
		t.Errorf("exec: exit status %d, want the command's 3", code)
	}
	if code, _, _ := twinRun("exec", "admin", "--", "bash", "-c", "exec 3<>/dev/tcp/192.0.2.10/22"); code != exitOK {
		t.Errorf("admin -> bastion-a's public address on 22: exit %d, want a connection", code)
	}
	if code, _, _ := twinRun("exec", "internet", "--", "timeout", "3", "bash", "-c", "exec 3<>/dev/tcp/192.0.2.10/22"); code == exitOK {
		t.Errorf("internet -> bastion-a's public address on 22 connected")
	}
	code, out, errs = twinRun("down")
	if code != exitOK || !strings.Contains(out, "removed 29 namespaces") {
		t.Errorf("down: exit %d\n%s%s", code, out, errs)
	}
	if left, _ := twin.Namespaces(testPrefix("wtc")); len(left) > 0 {
		t.Errorf("left after down: %v", left)
	}
	if code, out, _ := twinRun("down"); code != exitOK || !strings.Contains(out, "removed 0 namespaces") {
		t.Errorf("a second down: exit %d: %s", code, out)
	}
}

// TestTwinUsesTheSynthConfig: whichever command synthesized the stack (synth, or deploy and
// plan, which call Synth), its config is beside it, and `twin up` with no --config builds
// the stack with it (`make synth && ./bin/webtier twin up`, or after `make deploy`).
func TestTwinUsesTheSynthConfig(t *testing.T) {
	t.Setenv("WEBTIER_CONFIG", "")
	t.Setenv("WEBTIER_TWIN_PREFIX", "wt-")
	golden, _ := os.ReadFile("testdata/twin.nft")
	for name, synthesize := range map[string]func(out string) error{
		"synth": func(out string) error {
			var stdout, stderr bytes.Buffer
			if code := run([]string{"synth", "--out", out, "--config", exampleConfig}, &stdout, &stderr); code != exitOK {
				return fmt.Errorf("synth: exit %d: %s", code, stderr.String())
			}
			return nil
		},
		"deploy and plan": func(out string) error { return Synth(examplePlan(t), out) },
	} {
		t.Run(name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "cdktf.out")
			if err := synthesize(out); err != nil {
				t.Fatal(err)
			}
			stack := filepath.Join(out, "stacks", "webtier", "cdk.tf.json")
			code, plan, errs := twinRun("up", "--dry-run", "--in", stack)
			if code != exitOK {
				t.Fatalf("twin up --dry-run without --config: exit %d: %s", code, errs)
			}
			if plan != string(golden) {
				t.Error("the twin of the synthesized stack, with the config written beside it, differs from testdata/twin.nft")
			}
		})
	}
}
