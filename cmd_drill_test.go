package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDrillBadInput: each misuse of drill's flags is refused with exit 2 and a message that
// names the flag, before anything is read or dialed.
func TestDrillBadInput(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(dir, "id")
	if err := os.WriteFile(key, []byte("key"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--target", "gcp"}, "--target gcp: expected local (the twin) or aws (the deployed stack)"},
		{[]string{"--ssh-key", key}, "--ssh-key goes with --target aws"},
		{[]string{"--emulator"}, "--emulator goes with --target aws"},
		{[]string{"--config", exampleConfig}, "--config goes with --target aws"},
		{[]string{"--target", "aws", "--config", exampleConfig}, "--ssh-key FILE is required for --target aws"},
		{[]string{"--target", "aws", "--config", exampleConfig, "--ssh-key", filepath.Join(dir, "none")}, "--ssh-key " + filepath.Join(dir, "none") + ": open"},
		{[]string{"--target", "aws", "--config", exampleConfig, "--ssh-key", key, "--dir", dir}, "--dir goes with --emulator"},
		{[]string{"--target", "aws", "--emulator", "--dir", dir, "--config", exampleConfig}, "no local deployment: run `make deploy` first"},
		{[]string{"--target", "aws", "--ssh-key", key, "--config", exampleConfig, "--min", "9"}, "fleet.min: 9 is greater than fleet.max 4"},
	} {
		var stdout, stderr bytes.Buffer
		code := run(append([]string{"drill"}, tc.args...), &stdout, &stderr)
		if code != exitBadArgs || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("drill %s: got exit %d, stderr %q; want exit %d and %q", strings.Join(tc.args, " "), code, stderr.String(), exitBadArgs, tc.want)
		}
		if stdout.Len() > 0 {
			t.Errorf("drill %s: wrote a table on bad input:\n%s", strings.Join(tc.args, " "), stdout.String())
		}
	}
}
