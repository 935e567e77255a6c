//go:build !linux

package twin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"time"

	"github.com/webtier/webtier/check"
	"github.com/webtier/webtier/config"
	"github.com/webtier/webtier/twin/compiler"
	"github.com/webtier/webtier/twin/probe"
)

// The twin is Linux's network namespaces and nftables: its runtime sits in the _linux.go
// files. Elsewhere the compiler, the plan (`twin up --dry-run`) and the reports build and run,
// and each entry point into the runtime says in one line why it cannot run here.

const needsLinux = "the twin needs Linux (network namespaces and nftables); this is " + runtime.GOOS +
	": synth, verify, plan, deploy and drill --target aws work here"

var errNeedsLinux = errors.New(needsLinux)

// CanRun reports in one sentence why this machine cannot run a twin: it is not Linux.
func CanRun() string { return needsLinux }

func SavedPlan(string) (*compiler.Plan, error)                           { return nil, errNeedsLinux }
func Up(context.Context, *compiler.Plan, string) error                   { return errNeedsLinux }
func Down(context.Context, string) ([]string, error)                     { return nil, errNeedsLinux }
func Namespaces(string) ([]string, error)                                { return nil, errNeedsLinux }
func Exec(context.Context, *compiler.Host, []string) error               { return errNeedsLinux }
func StartScaler(context.Context, *compiler.Plan, string) error          { return errNeedsLinux }
func StartForward(context.Context, *compiler.Plan, string, string) error { return errNeedsLinux }

func Drill(context.Context, *compiler.Plan, ...int) ([]check.Result, error) {
	return nil, errNeedsLinux
}

func Change(context.Context, string, []ChangeStep, config.Config, string, time.Duration) (*probe.ChangeReport, error) {
	return nil, errNeedsLinux
}

func ServeMain(_ []string, stderr io.Writer) int {
	fmt.Fprintln(stderr, "twin serve: "+needsLinux)
	return 2
}
