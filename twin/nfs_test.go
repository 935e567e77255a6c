package twin

import (
	"context"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestNFSClient: the web servers' NFS client against the mount target's server, over TLS on
// loopback: files written through one mount are listed and read through another, and what a
// file holds is what was last written, whole.
func TestNFSClient(t *testing.T) {
	state := t.TempDir()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	spec := &Spec{Host: "mt", Private: netip.MustParseAddr("127.0.0.1"), State: state, EFS: &EFSSpec{Port: port}}
	if err := serveEFS(ctx, spec); err != nil {
		t.Fatal(err)
	}
	mount := func() *nfsClient {
		var d net.Dialer
		conn, err := d.DialContext(ctx, "tcp4", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		c, err := mountNFS(tlsClient(conn), "/")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	a, b := mount(), mount()
	if err := a.WriteFile("one.txt", []byte("a long first version\n")); err != nil {
		t.Fatal(err)
	}
	if err := a.WriteFile("one.txt", []byte("second\n")); err != nil {
		t.Fatal(err)
	}
	if err := b.WriteFile("two.txt", []byte("from b\n")); err != nil {
		t.Fatal(err)
	}
	names, err := a.ReadDir()
	slices.Sort(names)
	if err != nil || !slices.Equal(names, []string{"one.txt", "two.txt"}) {
		t.Errorf("ReadDir = %q, %v; want one.txt, two.txt", names, err)
	}
	if got, err := b.ReadFile("one.txt"); err != nil || string(got) != "second\n" {
		t.Errorf("ReadFile(one.txt) through the other mount = %q, %v; want the last version", got, err)
	}
	if got, _ := os.ReadFile(filepath.Join(efsDir(state), "two.txt")); string(got) != "from b\n" {
		t.Errorf("the shared directory holds %q", got)
	}
	if _, err := a.ReadFile("missing.txt"); err == nil || err.Error() != "LOOKUP missing.txt: NFS3ERR_NOENT" {
		t.Errorf("ReadFile(missing.txt) = %v; want NFS3ERR_NOENT", err)
	}
}
