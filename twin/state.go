package twin

import (
	"context"
	"time"

	"github.com/webtier/webtier/twin/standin"
)

// The state directory of a running twin, and helpers its runtime shares with the stand-ins.

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

// ServeEnv, when set in a process's environment, makes it one of the twin's background
// processes (see ServeMain): the twin starts its own executable with it inside a namespace.
const ServeEnv = "WEBTIER_TWIN_SERVE"
