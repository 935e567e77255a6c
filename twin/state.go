package twin

import (
	"context"
	"path/filepath"
	"strings"
	"time"

	"github.com/webtier/webtier/twin/standin"
)

// The state directory of a running twin, and helpers its runtime shares with the stand-ins.

// StateDir is where a twin keeps its plan and rulesets while it is up.
func StateDir(prefix string) string {
	return filepath.Join("/run/webtier", strings.TrimSuffix(prefix, "-"))
}

// writeJSON writes v as JSON to file, atomically, as the stand-ins' shared files are written
// (standin.WriteJSON): the twin's processes read these files while others change them.
func writeJSON(file string, v any) error { return standin.WriteJSON(file, v) }

// sleep waits ms milliseconds, or until ctx ends.
func sleep(ctx context.Context, ms int) {
	select {
	case <-ctx.Done():
	case <-time.After(time.Duration(ms) * time.Millisecond):
	}
}
