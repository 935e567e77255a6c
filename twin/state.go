package twin

import (
	"context"
	"time"
)

// What the twin's runtime shares across its files.

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
