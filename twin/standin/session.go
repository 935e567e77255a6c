package standin

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Session Manager on the twin. AWS's Session Manager reaches an instance with no inbound port:
// the SSM Agent on the instance dials out (HTTPS, here through the ssmmessages interface
// endpoint of the web subnets) and holds a control channel the service sends sessions down.
// The stand-in keeps that shape: an agent on each managed instance dials
// ssmmessages.REGION.amazonaws.com:443 (the VPC resolver answers with the endpoint's
// addresses, as private DNS does), through the twin's security groups and ACLs, and runs what
// the service sends; the service, on the ssmmessages endpoint's hosts, takes an operator's
// command on a Unix socket in the twin's state directory, as `aws ssm start-session` reaches
// Session Manager from outside the VPC. Its protocol is lines over TLS, not AWS's; it checks
// no IAM (verify decides the agent's calls, with AmazonSSMManagedInstanceCore).

// Kinds of the stand-ins, as their logs and the drill name them.
const (
	sessionKind = "Session Manager (stand-in: the ssmmessages endpoint and the service behind it; lines over TLS, not AWS's protocol)"
	agentKind   = "SSM Agent (stand-in: dials the ssmmessages endpoint on 443 and runs what a session sends)"
)

// Session is the stand-in for Session Manager on one ssmmessages endpoint host.
type Session struct {
	Port int `json:"port"`
	// Socket is where operators' commands come in (outside the VPC, as AWS's API is).
	Socket string `json:"socket"`
}

// Agent is the stand-in for the SSM Agent of a managed instance.
type Agent struct {
	// Endpoint is the regional name of ssmmessages, which the VPC resolver answers.
	Endpoint string     `json:"endpoint"`
	Port     int        `json:"port"`
	Resolver netip.Addr `json:"resolver"`
}

// serveSession runs the Session Manager stand-in: agents register over TLS on the endpoint's
// address; an operator's `list` or `run HOST COMMAND` on the socket is answered.
func serveSession(ctx context.Context, spec *Spec) error {
	cert, err := selfSigned(spec.Private.String())
	if err != nil {
		return err
	}
	ln, err := listen(ctx, net.JoinHostPort(spec.Private.String(), strconv.Itoa(spec.Session.Port)))
	if err != nil {
		return err
	}
	os.Remove(spec.Session.Socket)
	ops, err := net.Listen("unix", spec.Session.Socket)
	if err != nil {
		return err
	}
	go func() { <-ctx.Done(); ops.Close(); os.Remove(spec.Session.Socket) }()
	s := &sessions{agents: map[string]*agentConn{}}
	go func() {
		tl := tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}})
		for {
			c, err := tl.Accept()
			if err != nil {
				return
			}
			go s.register(c)
		}
	}()
	go func() {
		for {
			c, err := ops.Accept()
			if err != nil {
				return
			}
			go s.operate(c)
		}
	}()
	fmt.Fprintf(os.Stderr, "%s: %s on %s:%d, operators on %s\n", spec.Host, sessionKind, spec.Private, spec.Session.Port, spec.Session.Socket)
	return nil
}

// sessions are the agents connected to one stand-in.
type sessions struct {
	mu     sync.Mutex
	agents map[string]*agentConn
}

// agentConn is one agent's control channel; one command at a time goes down it.
type agentConn struct {
	mu     sync.Mutex
	host   string
	from   string
	conn   net.Conn
	reader *bufio.Reader
}

// register reads an agent's hello ("hello HOST") and keeps its channel.
func (s *sessions) register(c net.Conn) {
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	r := bufio.NewReader(c)
	line, err := r.ReadString('\n')
	host, ok := strings.CutPrefix(strings.TrimSpace(line), "hello ")
	if err != nil || !ok || host == "" {
		c.Close()
		return
	}
	c.SetReadDeadline(time.Time{})
	s.mu.Lock()
	if old := s.agents[host]; old != nil {
		old.conn.Close()
	}
	s.agents[host] = &agentConn{host: host, from: c.RemoteAddr().String(), conn: c, reader: r}
	s.mu.Unlock()
	fmt.Fprintf(os.Stderr, "agent of %s connected from %s\n", host, c.RemoteAddr())
}

// operate answers one operator's request: "list" gives "HOST FROM" lines; "run HOST COMMAND"
// gives "ok BASE64-OUTPUT" or "error MESSAGE".
func (s *sessions) operate(c net.Conn) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return
	}
	verb, rest, _ := strings.Cut(strings.TrimSpace(line), " ")
	switch verb {
	case "list":
		s.mu.Lock()
		var lines []string
		for _, a := range s.agents {
			lines = append(lines, a.host+" "+a.from)
		}
		s.mu.Unlock()
		slices.Sort(lines)
		fmt.Fprintln(c, strings.Join(lines, "\n"))
	case "run":
		host, command, _ := strings.Cut(rest, " ")
		s.mu.Lock()
		a := s.agents[host]
		s.mu.Unlock()
		if a == nil {
			fmt.Fprintf(c, "error no agent of %s is connected\n", host)
			return
		}
		out, err := a.run(command)
		if err != nil {
			fmt.Fprintf(c, "error %v\n", err)
			return
		}
		fmt.Fprintf(c, "ok %s\n", out)
	default:
		fmt.Fprintf(c, "error unknown request %q (list, run HOST COMMAND)\n", verb)
	}
}

// run sends a command down the agent's channel and reads its answer (base64 output).
func (a *agentConn) run(command string) (string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.conn.SetDeadline(time.Now().Add(20 * time.Second))
	defer a.conn.SetDeadline(time.Time{})
	if _, err := fmt.Fprintf(a.conn, "run %s\n", base64.StdEncoding.EncodeToString([]byte(command))); err != nil {
		return "", err
	}
	line, err := a.reader.ReadString('\n')
	if err != nil {
		return "", fmt.Errorf("the agent of %s: %w", a.host, err)
	}
	out, ok := strings.CutPrefix(strings.TrimSpace(line), "out ")
	if !ok {
		return "", fmt.Errorf("the agent of %s answered %q", a.host, strings.TrimSpace(line))
	}
	return out, nil
}

// runAgent runs the SSM Agent stand-in: it dials the ssmmessages endpoint out on 443 (every
// 2 s until it holds a channel, while the host runs) and runs each command it is sent in the
// host's namespace, with the host's name (a UTS namespace of its own, as sshd's stand-in).
func runAgent(ctx context.Context, spec *Spec) {
	fmt.Fprintf(os.Stderr, "%s: %s to %s:%d\n", spec.Host, agentKind, spec.Agent.Endpoint, spec.Agent.Port)
	resolver := twinResolver(spec.Agent.Resolver)
	for ctx.Err() == nil {
		if err := agentOnce(ctx, spec, resolver); err != nil {
			fmt.Fprintf(os.Stderr, "agent: %v\n", err)
		}
		sleep(ctx, 2000)
	}
}

// agentOnce opens one control channel and serves it until it closes.
func agentOnce(ctx context.Context, spec *Spec, resolver *net.Resolver) error {
	lookup, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	addrs, err := resolver.LookupHost(lookup, spec.Agent.Endpoint)
	if err != nil || len(addrs) == 0 {
		return fmt.Errorf("resolving %s: %v", spec.Agent.Endpoint, err)
	}
	d := &tls.Dialer{NetDialer: &net.Dialer{Timeout: 3 * time.Second},
		// The stand-in's certificate is self-signed: the agent checks nothing of it.
		Config: &tls.Config{InsecureSkipVerify: true}}
	c, err := d.DialContext(ctx, "tcp4", net.JoinHostPort(addrs[0], strconv.Itoa(spec.Agent.Port)))
	if err != nil {
		return err
	}
	defer c.Close()
	go func() { <-ctx.Done(); c.Close() }()
	if _, err := fmt.Fprintf(c, "hello %s\n", spec.Host); err != nil {
		return err
	}
	r := bufio.NewReader(c)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return fmt.Errorf("the channel to %s closed: %v", c.RemoteAddr(), err)
		}
		enc, ok := strings.CutPrefix(strings.TrimSpace(line), "run ")
		command, derr := base64.StdEncoding.DecodeString(enc)
		if !ok || derr != nil {
			fmt.Fprintf(c, "error not a command: %q\n", strings.TrimSpace(line))
			continue
		}
		run, cancel := context.WithTimeout(ctx, 15*time.Second)
		out, _ := exec.CommandContext(run, "unshare", "--uts", "sh", "-c", "hostname "+spec.Host+" && "+string(command)).CombinedOutput()
		cancel()
		fmt.Fprintf(os.Stderr, "agent: ran %q\n", command)
		fmt.Fprintf(c, "out %s\n", base64.StdEncoding.EncodeToString(out))
	}
}

// SessionRun asks the Session Manager stand-ins of a running twin (endpoints: the specs of
// the ssmmessages endpoint's hosts, those with Session) to run command on host through its
// agent; it returns the output and the evidence: which endpoint host holds the agent's
// channel, from which address.
func SessionRun(endpoints []*Spec, host, command string) (out, evidence string, err error) {
	var tried []string
	for _, e := range endpoints {
		list, err := sessionAsk(e.Session.Socket, "list")
		if err != nil {
			tried = append(tried, e.Host+": "+err.Error())
			continue
		}
		for _, line := range strings.Split(list, "\n") {
			name, from, _ := strings.Cut(line, " ")
			if name != host {
				continue
			}
			evidence = fmt.Sprintf("the agent of %s holds a channel to %s (%s:443) from %s", host, e.Host, e.Private, from)
			answer, err := sessionAsk(e.Session.Socket, "run "+host+" "+command)
			if err != nil {
				return "", evidence, err
			}
			enc, ok := strings.CutPrefix(answer, "ok ")
			if !ok {
				return "", evidence, fmt.Errorf("%s", answer)
			}
			data, err := base64.StdEncoding.DecodeString(enc)
			return strings.TrimSpace(string(data)), evidence, err
		}
		tried = append(tried, e.Host+": no channel of "+host)
	}
	return "", "", fmt.Errorf("no agent of %s is connected (%s)", host, strings.Join(tried, "; "))
}

// sessionAsk sends one request to a stand-in's socket and returns its answer.
func sessionAsk(socket, request string) (string, error) {
	c, err := net.DialTimeout("unix", socket, 3*time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := fmt.Fprintln(c, request); err != nil {
		return "", err
	}
	var b strings.Builder
	sc := bufio.NewScanner(c)
	for sc.Scan() {
		if b.Len() > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(sc.Text())
	}
	return strings.TrimSpace(b.String()), sc.Err()
}
