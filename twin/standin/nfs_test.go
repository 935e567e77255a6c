package standin

import (
	"context"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/webtier/webtier/verify"
)

// TestNFSClient: the web servers' NFS client against the mount target's server, over TLS on
// loopback: files written through one mount are listed and read through another, and what a
// file holds is what was last written, whole.
func TestNFSClient(t *testing.T) {
	state := t.TempDir()
	port := freePort(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	spec := &Spec{Host: "mt", Private: netip.MustParseAddr("127.0.0.1"), State: state, EFS: &EFS{Port: port}}
	if err := serveEFS(ctx, spec); err != nil {
		t.Fatal(err)
	}
	mount := func() *nfsClient {
		c, err := mountAt(ctx, "127.0.0.1:"+strconv.Itoa(port), true, "anonymous")
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

// mountAt mounts the root of the mount target at addr, as who, in TLS or not.
func mountAt(ctx context.Context, addr string, secure bool, who string) (*nfsClient, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp4", addr)
	if err != nil {
		return nil, err
	}
	if conn, err = attach(ctx, conn, secure, who); err != nil {
		return nil, err
	}
	return mountNFS(conn, "/")
}

// TestMountTargetAuthorizes: a mount target decides each mount with the stack's file-system
// policy and the caller's role policies, as EFS does: the example stack's web servers (signed,
// in TLS) mount and write; the same without TLS, anonymous, or with credentials the twin did
// not issue are refused, saying why; a role allowed ClientMount but not ClientWrite mounts
// read-only.
func TestMountTargetAuthorizes(t *testing.T) {
	access := exampleAccess(t)
	if access.FileSystem == nil || access.Role == "" {
		t.Fatalf("the example stack's Access has no file system or no web role: %+v", access)
	}
	readOnlyRole := *access
	readOnlyRole.Identity = nil
	for _, p := range access.Identity {
		readOnlyRole.Identity = append(readOnlyRole.Identity, verify.PolicyText{Name: p.Name,
			Text: strings.ReplaceAll(p.Text, `"elasticfilesystem:ClientWrite"`, `"elasticfilesystem:DescribeMountTargets"`)})
	}
	state, key := stsState(t)
	web := issue(key, "i-twin-web-a-1").authorization(efsCall(access.FileSystem.ARN))
	forged := issue([]byte("another key"), "i-twin-web-a-1").authorization(efsCall(access.FileSystem.ARN))
	for _, c := range []struct {
		name   string
		access *verify.Access
		tls    bool
		who    string
		// refused is what the refusal says, empty when the mount is admitted; write is
		// whether a file can then be written.
		refused string
		write   bool
	}{
		{"the web role in TLS", access, true, web, "", true},
		{"the web role without TLS", access, false, web, `explicitly denied by resource aws_efs_file_system_policy.shared Statement[0] "DenyWithoutTLS"`, false},
		{"anonymous in TLS", access, true, "anonymous", "User: anonymous is not authorized to perform: elasticfilesystem:ClientMount", false},
		{"credentials the twin did not issue", access, true, forged, "the signature does not match", false},
		{"a role allowed ClientMount only", &readOnlyRole, true, web, "", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			port := freePort(t)
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			spec := &Spec{Host: "mt", Private: netip.MustParseAddr("127.0.0.1"), State: state, EFS: &EFS{Port: port, Access: c.access}}
			if err := serveEFS(ctx, spec); err != nil {
				t.Fatal(err)
			}
			m, err := mountAt(ctx, "127.0.0.1:"+strconv.Itoa(port), c.tls, c.who)
			switch {
			case c.refused == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case c.refused != "" && err == nil:
				m.Close()
				t.Fatalf("admitted; want refused (%s)", c.refused)
			case c.refused != "":
				if !strings.Contains(err.Error(), c.refused) {
					t.Errorf("refused with %q; want it to say %q", err, c.refused)
				}
				return
			}
			defer m.Close()
			err = m.WriteFile("by-"+strings.ReplaceAll(c.name, " ", "-"), []byte("x\n"))
			if c.write && err != nil {
				t.Errorf("write refused: %v", err)
			}
			if !c.write && (err == nil || !strings.Contains(err.Error(), "NFS3ERR_ROFS")) {
				t.Errorf("write on a read-only mount = %v; want NFS3ERR_ROFS", err)
			}
			if _, err := m.ReadDir(); err != nil {
				t.Errorf("ReadDir: %v", err)
			}
		})
	}
}
