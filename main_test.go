package main

import (
	"os"
	"testing"

	"github.com/webtier/webtier/twin"
)

// TestMain makes the test binary a stand-in listener when `twin up` (run by a test) starts
// it as one, as the webtier binary does.
func TestMain(m *testing.M) {
	if os.Getenv(twin.ServeEnv) != "" {
		os.Exit(twin.ServeMain(os.Args[1:], os.Stderr))
	}
	os.Exit(m.Run())
}
