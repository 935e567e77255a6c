package twin

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// The state directory of a running twin, and helpers its runtime shares with the stand-ins.

// StateDir is where a twin keeps its plan and rulesets while it is up.
func StateDir(prefix string) string {
	return filepath.Join("/run/webtier", strings.TrimSuffix(prefix, "-"))
}

// writeJSON writes v as JSON to file, atomically: the twin's processes read these files while
// others change them (the plan, the specs, the resolver's names, the controller's status).
func writeJSON(file string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(file+".tmp", data, 0o644); err != nil {
		return err
	}
	return os.Rename(file+".tmp", file)
}

// sleep waits ms milliseconds, or until ctx ends.
func sleep(ctx context.Context, ms int) {
	select {
	case <-ctx.Done():
	case <-time.After(time.Duration(ms) * time.Millisecond):
	}
}
