package standin

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-git/go-billy/v5"
	"github.com/go-git/go-billy/v5/osfs"
	nfs "github.com/willscott/go-nfs"
	nfshelper "github.com/willscott/go-nfs/helpers"

	"github.com/webtier/webtier/verify"
)

// EFS in the twin: each mount target's namespace runs an NFS server on 2049 over one shared
// directory of the state directory. It speaks NFSv3 with MOUNT on the same port, where EFS
// speaks NFSv4.1: the web servers' pages and the drill use the small client in nfs.go. The
// file system's DNS name resolves, from each subnet, to the mount target in the subnet's AZ
// and to nothing in an AZ without one, as on AWS.
//
// A mount target authorizes each connection as EFS does, with the stack's file-system policy
// and the caller's role policies (verify.Access): a connection in TLS or not (the mount's tls
// option, aws:SecureTransport), signed with the instance role's credentials or anonymous (the
// iam option). ClientMount refused ends the connection with the reason; ClientWrite refused
// gives a read-only mount. The client says who it is in one line before NFS
// ("WEBTIER-EFS-CONNECT anonymous", or the credentials' signature), and the mount target
// answers "OK rw", "OK ro" or "DENIED reason": the twin's stand-in for efs-utils' IAM
// authorization, whose own exchange is not documented.

// nfsPort is NFS's port, the only one EFS listens on.
const nfsPort = 2049

// EFS is a mount target: the NFS server over the shared directory.
type EFS struct {
	Port int `json:"port"`
	// Access decides who may mount (its FileSystem nil: not enforced).
	Access *verify.Access `json:"access,omitempty"`
}

// EFSAccess is how a web server mounts the file system: its DNS name, resolved by the VPC
// resolver.
type EFSAccess struct {
	Name     string     `json:"name"`
	Resolver netip.Addr `json:"resolver"`
	// IAM and TLS are the user data's mount options; ARN is the file system's, which a
	// signed mount names.
	IAM bool   `json:"iam"`
	TLS bool   `json:"tls"`
	ARN string `json:"arn,omitempty"`
}

// efsDir is the file system's shared directory in the state directory.
func efsDir(state string) string { return filepath.Join(state, "efs") }

// zonalFile holds the resolver's names whose answers depend on the asker's subnet
// (name -> subnet CIDR -> addresses).
const zonalFile = "dns-zonal.json"

// WriteZonalRecords writes the names the VPC resolver of the state directory state answers
// by the asker's subnet (name -> subnet CIDR -> addresses; a subnet not listed gets no
// address): the file system's name, which resolves to the mount target of the asker's AZ.
func WriteZonalRecords(state string, names map[string]map[string][]string) error {
	return WriteJSON(filepath.Join(state, zonalFile), names)
}

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

// serveEFS is a mount target: NFS on the spec's port over the shared directory, each
// connection authorized first.
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
	rw, ro := newConnQueue(ln.Addr()), newConnQueue(ln.Addr())
	go nfs.Serve(rw, nfshelper.NewCachingHandler(nfshelper.NewNullAuthHandler(osfs.New(dir)), 1024))
	go nfs.Serve(ro, nfshelper.NewCachingHandler(nfshelper.NewNullAuthHandler(readOnly{osfs.New(dir)}), 1024))
	m := &mountTarget{state: spec.State, access: spec.EFS.Access, cert: cert}
	if m.access != nil && m.access.FileSystem == nil {
		m.access = nil
		fmt.Fprintln(os.Stderr, "efs: the stack's read lacks the file-system policy: every mount is allowed (not enforced)")
	}
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				c, write, err := m.admit(conn)
				switch {
				case err != nil:
					fmt.Fprintf(os.Stderr, "efs: %s: %v\n", conn.RemoteAddr(), err)
					conn.Close()
				case write:
					rw.conns <- c
				default:
					ro.conns <- c
				}
			}()
		}
	}()
	return nil
}

// mountTarget decides who may mount.
type mountTarget struct {
	state  string
	access *verify.Access
	cert   tls.Certificate
}

// connectLine starts what a client says before NFS.
const connectLine = "WEBTIER-EFS-CONNECT "

// admit reads who a new connection is (in TLS when it starts a TLS handshake) and decides
// its mount: the connection to serve and whether it may write, or why it is refused (said to
// the client too).
func (m *mountTarget) admit(raw net.Conn) (net.Conn, bool, error) {
	raw.SetDeadline(time.Now().Add(5 * time.Second))
	first := make([]byte, 1)
	if _, err := io.ReadFull(raw, first); err != nil {
		return nil, false, err
	}
	var conn net.Conn = &peeked{Conn: raw, first: first}
	secure := first[0] == 0x16 // a TLS handshake record
	if secure {
		tc := tls.Server(conn, &tls.Config{Certificates: []tls.Certificate{m.cert}})
		if err := tc.Handshake(); err != nil {
			return nil, false, fmt.Errorf("TLS: %w", err)
		}
		conn = tc
	}
	line, err := readLine(conn, 512)
	if err != nil {
		return nil, false, err
	}
	who, ok := strings.CutPrefix(line, connectLine)
	if !ok {
		return nil, false, fmt.Errorf("no %q line: the twin's mount targets serve the twin's NFS client only", strings.TrimSpace(connectLine))
	}
	write, why := true, ""
	if m.access != nil {
		fs := m.access.FileSystem
		auth := ""
		if who != "anonymous" {
			auth = who
		}
		principal, err := principalOf(m.state, m.access, auth, efsCall(fs.ARN))
		if err != nil {
			why = err.Error()
		} else if mount, w, err := m.access.Mount(principal, secure); err != nil {
			why = err.Error()
		} else if !mount.Allowed() {
			why = refusal(principal, "elasticfilesystem:ClientMount", fs.ARN, mount)
		} else {
			write = w.Allowed()
		}
	}
	if why != "" {
		io.WriteString(conn, "DENIED "+strings.ReplaceAll(why, "\n", " ")+"\n")
		return nil, false, errors.New("refused: " + why)
	}
	reply := "OK ro\n"
	if write {
		reply = "OK rw\n"
	}
	if _, err := io.WriteString(conn, reply); err != nil {
		return nil, false, err
	}
	raw.SetDeadline(time.Time{})
	return conn, write, nil
}

// efsCall is what a mount signs: the file system it asks for.
func efsCall(fs string) string { return "elasticfilesystem:connect\n" + fs }

// readLine reads one line of at most max bytes, byte by byte (what follows is NFS).
func readLine(r io.Reader, max int) (string, error) {
	var b []byte
	one := make([]byte, 1)
	for len(b) < max {
		if _, err := io.ReadFull(r, one); err != nil {
			return "", err
		}
		if one[0] == '\n' {
			return string(b), nil
		}
		b = append(b, one[0])
	}
	return "", fmt.Errorf("a line longer than %d bytes", max)
}

// peeked is a connection whose first byte was read already.
type peeked struct {
	net.Conn
	first []byte
}

func (p *peeked) Read(b []byte) (int, error) {
	if len(p.first) > 0 && len(b) > 0 {
		n := copy(b, p.first)
		p.first = p.first[n:]
		return n, nil
	}
	return p.Conn.Read(b)
}

// connQueue is a listener of the connections a mount target admitted.
type connQueue struct {
	conns chan net.Conn
	addr  net.Addr
}

func newConnQueue(addr net.Addr) *connQueue {
	return &connQueue{conns: make(chan net.Conn), addr: addr}
}

func (q *connQueue) Accept() (net.Conn, error) { return <-q.conns, nil }
func (q *connQueue) Close() error              { return nil }
func (q *connQueue) Addr() net.Addr            { return q.addr }

// readOnly is the shared directory for a client refused ClientWrite: every change fails
// (a read-only file system to the client: NFS3ERR_ROFS, as EFS mounts it read-only).
type readOnly struct{ billy.Filesystem }

func (readOnly) Create(string) (billy.File, error) { return nil, os.ErrPermission }
func (r readOnly) OpenFile(name string, flag int, perm os.FileMode) (billy.File, error) {
	if flag&(os.O_WRONLY|os.O_RDWR|os.O_CREATE|os.O_TRUNC|os.O_APPEND) != 0 {
		return nil, os.ErrPermission
	}
	return r.Filesystem.OpenFile(name, flag, perm)
}
func (readOnly) Rename(string, string) error                 { return os.ErrPermission }
func (readOnly) Remove(string) error                         { return os.ErrPermission }
func (readOnly) MkdirAll(string, os.FileMode) error          { return os.ErrPermission }
func (readOnly) Symlink(string, string) error                { return os.ErrPermission }
func (readOnly) TempFile(string, string) (billy.File, error) { return nil, os.ErrPermission }
func (readOnly) Capabilities() billy.Capability              { return billy.ReadCapability | billy.SeekCapability }

// Dialer opens TCP connections from some namespace (a host's, for the mount it makes).
type Dialer func(ctx context.Context, address string) (net.Conn, error)

// mountEFS resolves the file system's name as the asker's AZ sees it and mounts its root as
// the user data's options say (in TLS, signed with the instance role's credentials read from
// the metadata service), from the connections dial makes. The connection comes from the
// kernel's ephemeral range (the user data's noresvport).
func mountEFS(ctx context.Context, access *EFSAccess, dial Dialer) (*nfsClient, string, error) {
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
	who := "anonymous"
	if access.IAM {
		metadata := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, addr string) (net.Conn, error) {
			return dial(ctx, addr)
		}}}
		creds, err := imdsCredentials(ctx, metadata)
		if err != nil {
			return nil, addrs[0], fmt.Errorf("the mount's iam option: %w", err)
		}
		who = creds.authorization(efsCall(access.ARN))
	}
	addr := net.JoinHostPort(addrs[0], strconv.Itoa(nfsPort))
	conn, err := dial(ctx, addr)
	if err != nil {
		return nil, addrs[0], err
	}
	if conn, err = attach(ctx, conn, access.TLS, who); err != nil {
		return nil, addrs[0], fmt.Errorf("mount %s:/ : %w", addr, err)
	}
	c, err := mountNFS(conn, "/")
	if err != nil {
		conn.Close()
		return nil, addrs[0], fmt.Errorf("mount %s:/ : %w", addr, err)
	}
	return c, addrs[0], nil
}

// attach starts a mount on a connection to a mount target: TLS when secure, then who the
// client is ("anonymous" or its signature); the connection NFS goes on, or why the mount
// target refused it (the connection then closed).
func attach(ctx context.Context, conn net.Conn, secure bool, who string) (net.Conn, error) {
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	if secure {
		tc := tlsClient(conn)
		if err := tc.HandshakeContext(ctx); err != nil {
			conn.Close()
			return nil, fmt.Errorf("TLS: %w", err)
		}
		conn = tc
	}
	io.WriteString(conn, connectLine+who+"\n")
	answer, err := readLine(conn, 4096)
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("the mount target said nothing: %w", err)
	}
	if why, denied := strings.CutPrefix(answer, "DENIED "); denied {
		conn.Close()
		return nil, fmt.Errorf("access denied by the mount target (stands in for EFS's authorization): %s", why)
	}
	conn.SetDeadline(time.Time{})
	return conn, nil
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
		sleep(ctx, int(Scaled(15, TimeScale)/time.Millisecond))
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

// WriteShared writes a file into the shared file system through the mount a host's AZ gets
// (access, as the host's user data mounts it; dial, from the host's namespace), and reads it
// back: it returns the mount target's address, and why the mount, the write or the read back
// failed. The file stays.
func WriteShared(ctx context.Context, access *EFSAccess, dial Dialer, name string, data []byte) (server string, err error) {
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
