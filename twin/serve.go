package twin

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Stand-in listeners: on each host, a process inside its namespace holds the TCP ports the
// flows let into the host's role (22 on a bastion, 80 on a web server, 3306 on the
// database...) and answers every connection with one line that says what it is: a stand-in,
// not the service. So a connection through the twin ends in an accepted connection, as it
// would on AWS, and nobody takes the twin for the real thing.

// ServeEnv, when set in a process's environment, makes it a stand-in listener (see
// ServeMain): the twin starts its own executable with it inside a namespace.
const ServeEnv = "WEBTIER_TWIN_SERVE"

// ServeMain is the stand-in listener: `--host NAME --ports 22,80`. It serves until it is
// killed.
func ServeMain(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("twin serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	host := fs.String("host", "", "the host's name")
	kind := fs.String("kind", "", "what the host is")
	ports := fs.String("ports", "", "comma-separated TCP ports")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	var lns []net.Listener
	for _, f := range strings.Split(*ports, ",") {
		port, err := strconv.Atoi(f)
		if err != nil {
			fmt.Fprintf(stderr, "twin serve: --ports: %q is not a port\n", f)
			return 2
		}
		ln, err := net.Listen("tcp4", ":"+f)
		if err != nil {
			fmt.Fprintf(stderr, "twin serve: %v\n", err)
			return 1
		}
		lns = append(lns, ln)
		banner := fmt.Sprintf("webtier twin: %s (%s) tcp/%d: a stand-in listener, not the real service\n", *host, *kind, port)
		go accept(ln, banner, port == 80)
	}
	<-ctx.Done()
	for _, ln := range lns {
		ln.Close()
	}
	return 0
}

// accept answers each connection with the banner and closes it; on an HTTP port, as an
// HTTP response to the request.
func accept(ln net.Listener, banner string, http bool) {
	for {
		c, err := ln.Accept()
		if errors.Is(err, net.ErrClosed) {
			return
		}
		if err != nil {
			continue
		}
		go func() {
			defer c.Close()
			if http {
				c.SetReadDeadline(time.Now().Add(2 * time.Second))
				bufio.NewReader(c).ReadString('\n')
				fmt.Fprintf(c, "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n", len(banner))
			}
			c.Write([]byte(banner))
		}()
	}
}

// startListeners starts the stand-in listener of every host that has ports to hold, with
// exe (this program), inside the host's namespace, in a process group of its own; each
// process's id goes to a pid file and its output to a log in the state directory.
func startListeners(ctx context.Context, p *Plan, exe string) error {
	dir := StateDir(p.Prefix)
	for _, h := range p.Hosts {
		if len(h.Listen) == 0 {
			continue
		}
		ports := make([]string, len(h.Listen))
		for i, port := range h.Listen {
			ports[i] = strconv.Itoa(port)
		}
		log, err := os.Create(filepath.Join(dir, h.Name+".log"))
		if err != nil {
			return err
		}
		cmd := exec.Command("ip", "netns", "exec", h.Namespace, exe, "--host", h.Name, "--kind", h.Kind, "--ports", strings.Join(ports, ","))
		cmd.Env = append(os.Environ(), ServeEnv+"=1")
		cmd.Stdout, cmd.Stderr = log, log
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		err = cmd.Start()
		log.Close()
		if err != nil {
			return fmt.Errorf("%s: starting its listener: %w", h.Name, err)
		}
		pid := cmd.Process.Pid
		// Reaped here when down stops it, if this process still runs then (tests).
		go cmd.Wait()
		if err := os.WriteFile(filepath.Join(dir, h.Name+".pid"), []byte(strconv.Itoa(pid)+"\n"), 0o644); err != nil {
			return err
		}
	}
	return waitListening(ctx, p)
}

// waitListening waits (a bounded time) until every listener holds its ports.
func waitListening(ctx context.Context, p *Plan) error {
	for _, h := range p.Hosts {
		for _, port := range h.Listen {
			ok := false
			for range 100 {
				out, _ := exec.CommandContext(ctx, "ip", "netns", "exec", h.Namespace, "ss", "-Hltn", "sport", "= :"+strconv.Itoa(port)).Output()
				if ok = strings.TrimSpace(string(out)) != ""; ok {
					break
				}
				sleep(ctx, 20)
			}
			if !ok {
				log, _ := os.ReadFile(filepath.Join(StateDir(p.Prefix), h.Name+".log"))
				return fmt.Errorf("%s: its listener does not hold tcp/%d after 2s: %s", h.Name, port, strings.TrimSpace(string(log)))
			}
		}
	}
	return nil
}
