package twin

import (
	"net"
	"strings"
	"testing"

	"github.com/webtier/webtier/twin/compiler"
)

// TestForwardRefusesBadAddresses: the site's address must be a free loopback port.
func TestForwardRefusesBadAddresses(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	p := &compiler.Plan{Prefix: "wtx-"}
	for addr, want := range map[string]string{
		taken.Addr().String(): "is taken",
		"0.0.0.0:8080":        "expected a loopback address and port",
		"localhost":           "expected a loopback address and port",
	} {
		if err := StartForward(t.Context(), p, "", addr); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("StartForward(%s): %v, want an error saying %q", addr, err, want)
		}
	}
}
