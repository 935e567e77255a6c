//go:build !linux

package probe

import (
	"context"
	"fmt"
	"runtime"

	"github.com/webtier/webtier/twin/compiler"
	"github.com/webtier/webtier/verify"
)

// Test needs Linux's network namespaces: elsewhere it says so.
func Test(context.Context, *compiler.Plan, *verify.Network, verify.Intent, int) (*Report, error) {
	return nil, fmt.Errorf("twin test needs Linux (network namespaces and nftables); this is %s", runtime.GOOS)
}
