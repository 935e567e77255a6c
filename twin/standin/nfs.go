package standin

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"
)

// A small NFSv3 client (RFC 1813, with MOUNT v3 and ONC RPC of RFC 5531 over TCP): what the
// web servers' mount does with the shared file system in the twin, which has no kernel NFS.
// It speaks over any connection, here TLS to a mount target's port 2049, as efs-utils' tls
// mount option does. Only the calls the user data's pages and the drill need: MNT, LOOKUP,
// CREATE, WRITE, READ and READDIR.

// RPC programs and procedures.
const (
	progMount, versMount = 100005, 3
	progNFS, versNFS     = 100003, 3
	procMNT              = 1
	procLookup           = 3
	procRead             = 6
	procWrite            = 7
	procCreate           = 8
	procReaddir          = 16
	// authUnix credentials as root, as the kernel client sends for root's files.
	authUnix = 1
)

// nfsClient is one mounted export.
type nfsClient struct {
	conn net.Conn
	r    *bufio.Reader
	mu   sync.Mutex
	xid  uint32
	root []byte
}

// nfsStatusError is a failed NFS call's status (NFS3ERR_*).
type nfsStatusError struct {
	proc   string
	status uint32
}

func (e *nfsStatusError) Error() string {
	names := map[uint32]string{1: "NFS3ERR_PERM", 2: "NFS3ERR_NOENT", 13: "NFS3ERR_ACCES", 17: "NFS3ERR_EXIST",
		20: "NFS3ERR_NOTDIR", 21: "NFS3ERR_ISDIR", 28: "NFS3ERR_NOSPC", 30: "NFS3ERR_ROFS", 70: "NFS3ERR_STALE"}
	name := names[e.status]
	if name == "" {
		name = fmt.Sprintf("status %d", e.status)
	}
	return e.proc + ": " + name
}

// mountNFS mounts path of the server at the other end of conn.
func mountNFS(conn net.Conn, path string) (*nfsClient, error) {
	c := &nfsClient{conn: conn, r: bufio.NewReader(conn), xid: uint32(time.Now().UnixNano())}
	var args xdrWriter
	args.str(path)
	res, err := c.call(progMount, versMount, procMNT, args.b)
	if err != nil {
		return nil, err
	}
	if st := res.u32(); st != 0 {
		return nil, fmt.Errorf("MNT %s: status %d", path, st)
	}
	c.root = res.opaque()
	return c, res.err
}

func (c *nfsClient) Close() error { return c.conn.Close() }

// call sends one RPC and returns its results, once the reply says the call was accepted and
// ran.
func (c *nfsClient) call(prog, vers, proc uint32, args []byte) (*xdrReader, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.xid++
	var m xdrWriter
	m.u32(c.xid)
	m.u32(0) // CALL
	m.u32(2) // RPC version
	m.u32(prog)
	m.u32(vers)
	m.u32(proc)
	var cred xdrWriter // AUTH_UNIX: stamp, machine name, uid 0, gid 0, no groups
	cred.u32(0)
	cred.str("webtier-twin")
	cred.u32(0)
	cred.u32(0)
	cred.u32(0)
	m.u32(authUnix)
	m.opaqueBytes(cred.b)
	m.u32(0) // AUTH_NONE verifier
	m.u32(0)
	m.b = append(m.b, args...)
	record := binary.BigEndian.AppendUint32(nil, uint32(len(m.b))|1<<31)
	c.conn.SetDeadline(time.Now().Add(5 * time.Second))
	defer c.conn.SetDeadline(time.Time{})
	if _, err := c.conn.Write(append(record, m.b...)); err != nil {
		return nil, err
	}
	var body []byte
	for {
		var hdr [4]byte
		if _, err := io.ReadFull(c.r, hdr[:]); err != nil {
			return nil, err
		}
		n := binary.BigEndian.Uint32(hdr[:])
		frag := make([]byte, n&^(1<<31))
		if _, err := io.ReadFull(c.r, frag); err != nil {
			return nil, err
		}
		body = append(body, frag...)
		if n&(1<<31) != 0 {
			break
		}
	}
	r := &xdrReader{b: body}
	xid, kind, replyStat := r.u32(), r.u32(), r.u32()
	switch {
	case r.err != nil:
		return nil, r.err
	case xid != c.xid || kind != 1:
		return nil, fmt.Errorf("rpc: reply %d to call %d", xid, c.xid)
	case replyStat != 0:
		return nil, errors.New("rpc: call denied")
	}
	r.u32() // verifier flavour
	r.opaque()
	if accept := r.u32(); accept != 0 {
		return nil, fmt.Errorf("rpc: program %d procedure %d not run (accept status %d)", prog, proc, accept)
	}
	return r, r.err
}

// nfs calls an NFS procedure and checks its status.
func (c *nfsClient) nfs(name string, proc uint32, args []byte) (*xdrReader, error) {
	r, err := c.call(progNFS, versNFS, proc, args)
	if err != nil {
		return nil, err
	}
	if st := r.u32(); st != 0 {
		return nil, &nfsStatusError{name, st}
	}
	return r, r.err
}

// lookup returns the file handle of name in the export's root.
func (c *nfsClient) lookup(name string) ([]byte, error) {
	var a xdrWriter
	a.opaqueBytes(c.root)
	a.str(name)
	r, err := c.nfs("LOOKUP "+name, procLookup, a.b)
	if err != nil {
		return nil, err
	}
	return r.opaque(), r.err
}

// WriteFile creates name in the export's root (or truncates it) and writes data, stable.
func (c *nfsClient) WriteFile(name string, data []byte) error {
	var a xdrWriter
	a.opaqueBytes(c.root)
	a.str(name)
	// UNCHECKED (an existing file is truncated), and no attribute set: mode, uid, gid and
	// size are the server's, atime and mtime its clock's.
	for range 7 {
		a.u32(0)
	}
	r, err := c.nfs("CREATE "+name, procCreate, a.b)
	if err != nil {
		return err
	}
	var fh []byte
	if r.u32() == 1 {
		fh = r.opaque()
	}
	if r.err != nil || fh == nil {
		if fh, err = c.lookup(name); err != nil {
			return err
		}
	}
	var w xdrWriter
	w.opaqueBytes(fh)
	w.u64(0)
	w.u32(uint32(len(data)))
	w.u32(2) // FILE_SYNC
	w.opaqueBytes(data)
	_, err = c.nfs("WRITE "+name, procWrite, w.b)
	return err
}

// ReadFile reads up to 64 KiB of name in the export's root.
func (c *nfsClient) ReadFile(name string) ([]byte, error) {
	fh, err := c.lookup(name)
	if err != nil {
		return nil, err
	}
	var a xdrWriter
	a.opaqueBytes(fh)
	a.u64(0)
	a.u32(64 << 10)
	r, err := c.nfs("READ "+name, procRead, a.b)
	if err != nil {
		return nil, err
	}
	r.postOpAttr()
	r.u32() // count
	r.u32() // eof
	data := r.opaque()
	return data, r.err
}

// ReadDir lists the names in the export's root, "." and ".." left out, in the server's
// order.
func (c *nfsClient) ReadDir() ([]string, error) {
	var names []string
	var cookie uint64
	verf := make([]byte, 8)
	for {
		var a xdrWriter
		a.opaqueBytes(c.root)
		a.u64(cookie)
		a.b = append(a.b, verf...)
		a.u32(8192)
		r, err := c.nfs("READDIR", procReaddir, a.b)
		if err != nil {
			return nil, err
		}
		r.postOpAttr()
		verf = r.fixed(8)
		for r.u32() == 1 && r.err == nil {
			r.u64() // fileid
			name := r.strv()
			cookie = r.u64()
			if name != "." && name != ".." {
				names = append(names, name)
			}
		}
		eof := r.u32()
		if r.err != nil {
			return nil, fmt.Errorf("READDIR: %w", r.err)
		}
		if eof == 1 {
			return names, nil
		}
	}
}

// xdrWriter encodes XDR (RFC 4506): big-endian words, opaque data padded to 4 bytes.
type xdrWriter struct{ b []byte }

func (w *xdrWriter) u32(v uint32) { w.b = binary.BigEndian.AppendUint32(w.b, v) }
func (w *xdrWriter) u64(v uint64) { w.b = binary.BigEndian.AppendUint64(w.b, v) }
func (w *xdrWriter) str(s string) { w.opaqueBytes([]byte(s)) }
func (w *xdrWriter) opaqueBytes(p []byte) {
	w.u32(uint32(len(p)))
	w.b = append(w.b, p...)
	for len(w.b)%4 != 0 {
		w.b = append(w.b, 0)
	}
}

// xdrReader decodes XDR; the first error sticks and later reads return zeros.
type xdrReader struct {
	b   []byte
	err error
}

func (r *xdrReader) fixed(n int) []byte {
	if r.err != nil {
		return nil
	}
	padded := (n + 3) &^ 3
	if len(r.b) < padded {
		r.err = io.ErrUnexpectedEOF
		return nil
	}
	out := r.b[:n:n]
	r.b = r.b[padded:]
	return out
}

func (r *xdrReader) u32() uint32 {
	if b := r.fixed(4); b != nil {
		return binary.BigEndian.Uint32(b)
	}
	return 0
}

func (r *xdrReader) u64() uint64 {
	if b := r.fixed(8); b != nil {
		return binary.BigEndian.Uint64(b)
	}
	return 0
}

func (r *xdrReader) opaque() []byte { return r.fixed(int(r.u32())) }
func (r *xdrReader) strv() string   { return string(r.opaque()) }

// postOpAttr skips a post_op_attr: a flag, then fattr3 (84 bytes) when set.
func (r *xdrReader) postOpAttr() {
	if r.u32() == 1 {
		r.fixed(84)
	}
}
