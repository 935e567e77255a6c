package probe

import (
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"
	"time"

	"github.com/webtier/webtier/twin/compiler"
	"github.com/webtier/webtier/twin/kernel"

	"golang.org/x/sys/unix"
)

// Real traffic between the twin's namespaces, sent from this process: one OS thread per
// namespace, moved into it, creates the sockets there (a socket stays in the namespace it
// was made in); connecting, sending and waiting happen on any thread.

// Thread makes sockets inside one namespace, for attempts and for clients (HTTP, NFS, a
// forwarder) that run in this process on behalf of a host. Stop it when done.
type Thread struct {
	req  chan sockReq
	done chan struct{}
	once sync.Once
}

type sockReq struct {
	typ, proto int
	reply      chan sockResp
}

type sockResp struct {
	fd  int
	err error
}

// Enter starts a thread inside the named namespace (a name under kernel.NetnsDir). The thread
// is never unlocked: it ends with its goroutine when Stop is called, and Go does not reuse it.
func Enter(ns string) (*Thread, error) {
	t := &Thread{req: make(chan sockReq), done: make(chan struct{})}
	errc := make(chan error)
	go func() {
		runtime.LockOSThread()
		fd, err := unix.Open(filepath.Join(kernel.NetnsDir, ns), unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err == nil {
			err = unix.Setns(fd, unix.CLONE_NEWNET)
			unix.Close(fd)
		}
		errc <- err
		if err != nil {
			return
		}
		for {
			select {
			case r := <-t.req:
				fd, err := unix.Socket(unix.AF_INET, r.typ|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, r.proto)
				r.reply <- sockResp{fd, err}
			case <-t.done:
				return
			}
		}
	}()
	if err := <-errc; err != nil {
		return nil, fmt.Errorf("entering namespace %s: %w", ns, err)
	}
	return t, nil
}

// socket makes a socket in the thread's namespace; after Stop it fails (an HTTP transport
// may still dial for a request its caller gave up).
func (t *Thread) socket(typ, proto int) (int, error) {
	reply := make(chan sockResp, 1)
	select {
	case t.req <- sockReq{typ, proto, reply}:
	case <-t.done:
		return -1, errors.New("the namespace's thread has stopped")
	}
	r := <-reply
	return r.fd, r.err
}

// Stop ends the thread; connections already made stay open, new ones fail. Stopping twice is
// harmless.
func (t *Thread) Stop() { t.once.Do(func() { close(t.done) }) }

// bound makes a socket in the thread's namespace bound to port on every address, shared
// with other sockets of the same port (SO_REUSEADDR): a client's source port may be a port
// another test listens on, and clients with one source port go to different peers.
func (t *Thread) bound(typ, port int) (int, error) {
	fd, err := t.socket(typ, 0)
	if err != nil {
		return -1, err
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1); err != nil {
		unix.Close(fd)
		return -1, err
	}
	if err := unix.Bind(fd, &unix.SockaddrInet4{Port: port}); err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("bind port %d: %w", port, err)
	}
	return fd, nil
}

// TCP opens a TCP connection from sport (0: any) to dst:dport and closes it, waiting at most
// timeout (or until ctx's deadline). A connection refused by the host got through: the SYN
// arrived and the reset came back through every filter, as a SYN-ACK would have. Silence is a
// Result that did not get through; the error is for what kept the attempt from being made.
func (t *Thread) TCP(ctx context.Context, sport int, dst netip.Addr, dport int, timeout time.Duration) (Result, error) {
	fd, err := t.bound(unix.SOCK_STREAM, sport)
	if err != nil {
		return Result{}, err
	}
	// Close with a reset: no TIME_WAIT to hold the source port.
	unix.SetsockoptLinger(fd, unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1, Linger: 0})
	f := os.NewFile(uintptr(fd), "tcp")
	defer f.Close()
	res, err := connect(f, fd, dst, dport, deadline(ctx, timeout))
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return Result{How: "no answer in " + timeout.String()}, nil
	}
	if err != nil {
		return Result{}, err
	}
	return connectResult(res), nil
}

// connect connects the non-blocking socket fd (of file f) to dst:dport by the deadline. It
// returns how the connect ended (nil: connected), or an error when it could not wait.
func connect(f *os.File, fd int, dst netip.Addr, dport int, by time.Time) (result error, err error) {
	err = unix.Connect(fd, &unix.SockaddrInet4{Port: dport, Addr: dst.As4()})
	if err != nil && !errors.Is(err, unix.EINPROGRESS) {
		return err, nil
	}
	f.SetDeadline(by)
	rc, err := f.SyscallConn()
	if err != nil {
		return nil, err
	}
	var res error
	werr := rc.Write(func(fd uintptr) bool {
		if _, err := unix.Getpeername(int(fd)); err == nil {
			res = nil
			return true
		}
		soerr, err := unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_ERROR)
		if err != nil {
			res = err
			return true
		}
		if soerr != 0 {
			res = syscall.Errno(soerr)
			return true
		}
		return false
	})
	if werr != nil {
		return nil, werr
	}
	return res, nil
}

// Dial opens a TCP connection from the thread's namespace to address ("ip:port"), waiting at
// most timeout (or until ctx's deadline), for clients (HTTP, NFS, a forwarder) that run in
// this process on behalf of a host. The connection outlives the thread.
func (t *Thread) Dial(ctx context.Context, address string, timeout time.Duration) (net.Conn, error) {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return nil, err
	}
	fd, err := t.socket(unix.SOCK_STREAM, 0)
	if err != nil {
		return nil, err
	}
	f := os.NewFile(uintptr(fd), "tcp")
	defer f.Close()
	res, err := connect(f, fd, ap.Addr(), int(ap.Port()), deadline(ctx, timeout))
	switch {
	case err != nil:
		return nil, fmt.Errorf("connect %s: %w", address, err)
	case res != nil:
		return nil, fmt.Errorf("connect %s: %w", address, res)
	}
	f.SetDeadline(time.Time{})
	return net.FileConn(f)
}

// connectResult reads the end of a connect.
func connectResult(err error) Result {
	switch {
	case err == nil:
		return Result{true, "connected"}
	case errors.Is(err, unix.ECONNREFUSED):
		return Result{true, "refused (reset from the host)"}
	}
	return Result{How: err.Error()}
}

// deadline is now plus timeout, or the context's deadline if sooner.
func deadline(ctx context.Context, timeout time.Duration) time.Time {
	d := time.Now().Add(timeout)
	if cd, ok := ctx.Deadline(); ok && cd.Before(d) {
		return cd
	}
	return d
}

// udp sends a datagram from sport and waits for the echo.
func (t *Thread) udp(ctx context.Context, sport int, dst netip.Addr, dport int, timeout time.Duration) (Result, error) {
	fd, err := t.bound(unix.SOCK_DGRAM, sport)
	if err != nil {
		return Result{}, err
	}
	if err := unix.Connect(fd, &unix.SockaddrInet4{Port: dport, Addr: dst.As4()}); err != nil {
		unix.Close(fd)
		return connectResult(err), nil
	}
	f := os.NewFile(uintptr(fd), "udp")
	conn, err := net.FileConn(f)
	f.Close()
	if err != nil {
		return Result{}, err
	}
	defer conn.Close()
	conn.SetDeadline(deadline(ctx, timeout))
	msg := fmt.Appendf(nil, "webtier twin %d->%s:%d", sport, dst, dport)
	if _, err := conn.Write(msg); err != nil {
		return Result{How: err.Error()}, nil
	}
	buf := make([]byte, 256)
	n, err := conn.Read(buf)
	switch {
	case err == nil && string(buf[:n]) == string(msg):
		return Result{true, "echoed"}, nil
	case err == nil:
		return Result{}, fmt.Errorf("udp %s:%d answered %q, not the echo", dst, dport, buf[:n])
	case errors.Is(err, os.ErrDeadlineExceeded):
		return Result{How: "no echo in " + timeout.String()}, nil
	case errors.Is(err, unix.ECONNREFUSED):
		return Result{}, fmt.Errorf("udp %s:%d: port unreachable, but every host of the twin echoes on the ports it tests", dst, dport)
	}
	return Result{How: err.Error()}, nil
}

// echoUDP answers every datagram on port of the thread's namespace with itself, until ctx
// ends.
func (t *Thread) echoUDP(ctx context.Context, port int) error {
	fd, err := t.bound(unix.SOCK_DGRAM, port)
	if err != nil {
		return err
	}
	f := os.NewFile(uintptr(fd), "udp-echo")
	conn, err := net.FilePacketConn(f)
	f.Close()
	if err != nil {
		return err
	}
	go func() { <-ctx.Done(); conn.Close() }()
	go func() {
		buf := make([]byte, 512)
		for {
			n, from, err := conn.ReadFrom(buf)
			if err != nil {
				return
			}
			conn.WriteTo(buf[:n], from)
		}
	}()
	return nil
}

// pinger sends ICMP echo requests from one namespace over a raw socket and hands each echo
// reply to the attempt waiting for its identifier and sequence number.
type pinger struct {
	conn    net.PacketConn
	mu      sync.Mutex
	waiting map[uint32]chan struct{}
}

func (t *Thread) pinger(ctx context.Context) (*pinger, error) {
	fd, err := t.socket(unix.SOCK_RAW, unix.IPPROTO_ICMP)
	if err != nil {
		return nil, err
	}
	f := os.NewFile(uintptr(fd), "icmp")
	conn, err := net.FilePacketConn(f)
	f.Close()
	if err != nil {
		return nil, err
	}
	p := &pinger{conn: conn, waiting: map[uint32]chan struct{}{}}
	go func() { <-ctx.Done(); conn.Close() }()
	go p.read()
	return p, nil
}

// read dispatches echo replies. A raw socket reads the IP header too.
func (p *pinger) read() {
	buf := make([]byte, 1500)
	for {
		n, _, err := p.conn.ReadFrom(buf)
		if err != nil {
			return
		}
		if n < 20 {
			continue
		}
		ihl := int(buf[0]&15) * 4
		if n < ihl+8 || buf[ihl] != 0 { // echo reply
			continue
		}
		key := binary.BigEndian.Uint32(buf[ihl+4 : ihl+8])
		p.mu.Lock()
		if ch, ok := p.waiting[key]; ok {
			close(ch)
			delete(p.waiting, key)
		}
		p.mu.Unlock()
	}
}

// echo sends one echo request with the identifier and sequence number of key and waits for
// its reply.
func (p *pinger) echo(ctx context.Context, dst netip.Addr, key uint32, timeout time.Duration) (Result, error) {
	msg := make([]byte, 16)
	msg[0] = 8 // echo request
	binary.BigEndian.PutUint32(msg[4:8], key)
	copy(msg[8:], "webtier!")
	binary.BigEndian.PutUint16(msg[2:4], checksum(msg))
	ch := make(chan struct{})
	p.mu.Lock()
	p.waiting[key] = ch
	p.mu.Unlock()
	defer func() { p.mu.Lock(); delete(p.waiting, key); p.mu.Unlock() }()
	if _, err := p.conn.WriteTo(msg, &net.IPAddr{IP: dst.AsSlice()}); err != nil {
		return Result{How: err.Error()}, nil
	}
	timer := time.NewTimer(time.Until(deadline(ctx, timeout)))
	defer timer.Stop()
	select {
	case <-ch:
		return Result{true, "echo reply"}, nil
	case <-timer.C:
		return Result{How: "no echo reply in " + timeout.String()}, nil
	case <-ctx.Done():
		return Result{}, ctx.Err()
	}
}

// checksum is the Internet checksum (RFC 1071).
func checksum(b []byte) uint16 {
	var sum uint32
	for i := 0; i+1 < len(b); i += 2 {
		sum += uint32(b[i])<<8 | uint32(b[i+1])
	}
	if len(b)%2 == 1 {
		sum += uint32(b[len(b)-1]) << 8
	}
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	return ^uint16(sum)
}

// Threads holds a Thread in each namespace of a twin's hosts, entered on first use. The zero
// value is ready; Stop stops them all. It is not safe for concurrent use.
type Threads struct {
	m map[string]*Thread
}

// Of is the thread in h's namespace, entered now if it is not yet.
func (ts *Threads) Of(h *compiler.Host) (*Thread, error) {
	if t := ts.m[h.Name]; t != nil {
		return t, nil
	}
	t, err := Enter(h.Namespace)
	if err != nil {
		return nil, err
	}
	if ts.m == nil {
		ts.m = map[string]*Thread{}
	}
	ts.m[h.Name] = t
	return t, nil
}

// HTTPClient is an HTTP client whose connections start in h's namespace: a 5 s timeout per
// request, 3 s to connect, a new connection per request, and no check of the certificate (the
// twin's stand-ins make theirs up).
func (ts *Threads) HTTPClient(h *compiler.Host) (*http.Client, error) {
	t, err := ts.Of(h)
	if err != nil {
		return nil, err
	}
	return &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return t.Dial(ctx, addr, 3*time.Second)
		},
		DisableKeepAlives: true,
		// The repository's certificate is made up by the twin.
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true},
	}}, nil
}

// Stop stops every thread; the next Of enters anew.
func (ts *Threads) Stop() {
	for _, t := range ts.m {
		t.Stop()
	}
	clear(ts.m)
}
