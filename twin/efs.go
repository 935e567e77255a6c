package twin

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/go-git/go-billy/v5/osfs"
	nfs "github.com/willscott/go-nfs"
	nfshelper "github.com/willscott/go-nfs/helpers"

	"github.com/webtier/webtier/rules"
	"github.com/webtier/webtier/verify"
)

// EFS in the twin: each mount target's namespace runs an NFS server on 2049 over one shared
// directory of the state directory, inside TLS (the stack's file system policy refuses
// connections without it, and the user data mounts with efs-utils' tls option). It speaks
// NFSv3 with MOUNT on the same port, where EFS speaks NFSv4.1: the web servers' pages and the
// drill use the small client in nfs.go. The file system's DNS name resolves, from each
// subnet, to the mount target in the subnet's AZ and to nothing in an AZ without one, as on
// AWS.

// nfsPort is NFS's port, the only one EFS listens on.
const nfsPort = 2049

// EFSSpec is a mount target: the NFS server over the shared directory.
type EFSSpec struct {
	Port int `json:"port"`
}

// EFSAccess is how a web server mounts the file system: its DNS name, resolved by the VPC
// resolver.
type EFSAccess struct {
	Name     string     `json:"name"`
	Resolver netip.Addr `json:"resolver"`
}

// efsDir is the file system's shared directory in the state directory.
func efsDir(state string) string { return filepath.Join(state, "efs") }

// efsName is the file system's DNS name (a real one has the file system's ID where this has
// "fs-twin").
func (p *Plan) efsName() string { return "fs-twin.efs." + p.region() + ".amazonaws.com" }

// mountTargets are the hosts that are EFS mount targets.
func (p *Plan) mountTargets() []*Host {
	var out []*Host
	for _, h := range p.Hosts {
		if h.Inside() && h.ep.Kind == verify.MountTarget {
			out = append(out, h)
		}
	}
	return out
}

// efsRecords are the file system's DNS answers by the asker's subnet: every subnet of an
// AZ with a mount target gets that mount target's address; the others get none.
func (p *Plan) efsRecords() map[string][]string {
	out := map[string][]string{}
	for _, mt := range p.mountTargets() {
		for _, s := range p.net.Subnets {
			if s.AZ == mt.AZ && s.CIDR.Addr().Is4() {
				out[s.CIDR.String()] = append(out[s.CIDR.String()], mt.Private.String())
			}
		}
	}
	return out
}

// zonalFile holds the resolver's names whose answers depend on the asker's subnet
// (name -> subnet CIDR -> addresses).
const zonalFile = "dns-zonal.json"

// zonalAnswer is what the resolver answers name to a query from src, and whether the name
// is a zonal one.
func zonalAnswer(state, name string, src netip.Addr) (addrs []string, zonal bool) {
	var names map[string]map[string][]string
	data, err := os.ReadFile(filepath.Join(state, zonalFile))
	if err != nil || json.Unmarshal(data, &names) != nil {
		return nil, false
	}
	bySubnet, ok := names[name]
	if !ok {
		return nil, false
	}
	for cidr, a := range bySubnet {
		if p, err := netip.ParsePrefix(cidr); err == nil && p.Contains(src) {
			return a, true
		}
	}
	return nil, true
}

// serveEFS is a mount target: NFS inside TLS on the spec's port over the shared directory.
func serveEFS(ctx context.Context, spec *Spec) error {
	dir := efsDir(spec.State)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	cert, err := selfSigned(spec.Private.String())
	if err != nil {
		return err
	}
	ln, err := listen(ctx, fmt.Sprintf(":%d", spec.EFS.Port))
	if err != nil {
		return err
	}
	nfs.Log.SetLevel(nfs.ErrorLevel)
	handler := nfshelper.NewCachingHandler(nfshelper.NewNullAuthHandler(osfs.New(dir)), 1024)
	go nfs.Serve(tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}}), handler)
	return nil
}

// dialer opens TCP connections from some namespace.
type dialer func(ctx context.Context, address string) (net.Conn, error)

// mountEFS resolves the file system's name as the asker's AZ sees it and mounts its root over
// TLS, from the connections dial makes. The connection comes from the kernel's ephemeral
// range (the user data's noresvport).
func mountEFS(ctx context.Context, access *EFSAccess, dial dialer) (*nfsClient, string, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	// Over TCP from the asker's namespace: the resolver answers by the asker's subnet.
	resolver := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return dial(ctx, net.JoinHostPort(access.Resolver.String(), "53"))
	}}
	addrs, err := resolver.LookupHost(ctx, access.Name)
	if err != nil {
		return nil, "", fmt.Errorf("resolving %s: %w", access.Name, err)
	}
	if len(addrs) == 0 {
		return nil, "", fmt.Errorf("resolving %s: no address in this AZ", access.Name)
	}
	addr := net.JoinHostPort(addrs[0], strconv.Itoa(nfsPort))
	conn, err := dial(ctx, addr)
	if err != nil {
		return nil, addrs[0], err
	}
	tc := tlsClient(conn)
	tc.SetDeadline(time.Now().Add(5 * time.Second))
	if err := tc.HandshakeContext(ctx); err != nil {
		conn.Close()
		return nil, addrs[0], fmt.Errorf("TLS to %s: %w", addr, err)
	}
	tc.SetDeadline(time.Time{})
	c, err := mountNFS(tc, "/")
	if err != nil {
		tc.Close()
		return nil, addrs[0], fmt.Errorf("mount %s:/ : %w", addr, err)
	}
	return c, addrs[0], nil
}

// tlsClient is the client end of TLS to a mount target, whose certificate the twin made up.
func tlsClient(conn net.Conn) *tls.Conn {
	return tls.Client(conn, &tls.Config{InsecureSkipVerify: true})
}

// efsMount is a web server's mount of the shared file system at /var/www/html/efs: mounted
// at start with the user data's retries (10 tries, 15 s apart, scaled), mounted again when a
// call fails.
type efsMount struct {
	access *EFSAccess
	mu     sync.Mutex
	c      *nfsClient
	err    error
}

// mountAtStart mounts the file system, trying as the user data does, until ctx ends.
func (m *efsMount) mountAtStart(ctx context.Context) {
	for try := 1; try <= 10 && ctx.Err() == nil; try++ {
		if m.remount(ctx) == nil {
			return
		}
		sleep(ctx, int(scaled(15, TimeScale)/time.Millisecond))
	}
}

// remount mounts the file system again.
func (m *efsMount) remount(ctx context.Context) error {
	var d net.Dialer
	c, _, err := mountEFS(ctx, m.access, func(ctx context.Context, addr string) (net.Conn, error) {
		return d.DialContext(ctx, "tcp4", addr)
	})
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.c != nil {
		m.c.Close()
	}
	m.c, m.err = c, err
	return err
}

// list is the shared directory's names, sorted as PHP's scandir sorts them, or why not.
func (m *efsMount) list(ctx context.Context) ([]string, error) {
	m.mu.Lock()
	c, err := m.c, m.err
	m.mu.Unlock()
	if c == nil {
		if err == nil {
			err = fmt.Errorf("not mounted yet")
		}
		return nil, err
	}
	names, err := c.ReadDir()
	if err != nil {
		// A broken connection: mount again once, as the kernel client reconnects.
		if m.remount(ctx) != nil {
			return nil, err
		}
		m.mu.Lock()
		c = m.c
		m.mu.Unlock()
		if names, err = c.ReadDir(); err != nil {
			return nil, err
		}
	}
	slices.Sort(names)
	return names, nil
}

// efsAccess is the mount of a web server's user data, when the stack has mount targets.
func (p *Plan) efsAccess(h *Host) *EFSAccess {
	if h.Role != rules.Web || len(p.mountTargets()) == 0 {
		return nil
	}
	return &EFSAccess{Name: p.efsName(), Resolver: p.Resolver}
}

// writeShared writes a file into the shared file system through the mount a host's AZ gets,
// from the host's namespace, and reads it back.
func writeShared(ctx context.Context, access *EFSAccess, dial dialer, name string, data []byte) (server string, err error) {
	c, server, err := mountEFS(ctx, access, dial)
	if err != nil {
		return server, err
	}
	defer c.Close()
	if err := c.WriteFile(name, data); err != nil {
		return server, err
	}
	back, err := c.ReadFile(name)
	if err != nil {
		return server, err
	}
	if string(back) != string(data) {
		return server, fmt.Errorf("read back %q, wrote %q", back, data)
	}
	return server, nil
}

// twinNote is the web server stand-in's note at the foot of its page.
var twinNote = regexp.MustCompile(`<small>webtier twin: [^,]*, [^;]*; ([^<]*)</small>`)
