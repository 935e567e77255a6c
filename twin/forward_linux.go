package twin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/webtier/webtier/twin/compiler"
	"github.com/webtier/webtier/twin/probe"
	"github.com/webtier/webtier/twin/supervise"
)

// The site on this machine: a process of the root namespace listens on a loopback port and,
// for each connection, opens one from inside the twin's internet client namespace to the
// ALB's public addresses in turn (as its DNS name would give them), then copies both ways.
// No link joins the twin and this machine's network: only this process's sockets do.

// forwardPid is the forwarder's pid file in the state directory.
const forwardPid = "forward.pid"

// StartForward starts the forwarder from listen (a loopback address) to the ALB's port 80
// through the internet client, with exe (this program), and waits until it listens.
func StartForward(ctx context.Context, p *compiler.Plan, exe, listen string) error {
	ap, err := netip.ParseAddrPort(listen)
	if err != nil || !ap.Addr().IsLoopback() {
		return fmt.Errorf("--forward %s: expected a loopback address and port, such as 127.0.0.1:8080", listen)
	}
	// Refuse a taken port here: the dial below would reach whoever holds it.
	probe, err := net.Listen("tcp", listen)
	if err != nil {
		return fmt.Errorf("%s is taken: %w", listen, err)
	}
	probe.Close()
	targets := p.ALBAddrs(80)
	client := p.FirstOf("internet")
	if len(targets) == 0 || client == nil {
		return errors.New("the twin has no internet-facing ALB node or no internet client to forward through")
	}
	cmd := exec.Command(exe, "--forward", listen, "--via", client.Namespace, "--to", strings.Join(targets, ","))
	cmd.Env = append(os.Environ(), ServeEnv+"=1")
	dir := compiler.StateDir(p.Prefix)
	if err := supervise.Start(cmd, filepath.Join(dir, "forward.log"), filepath.Join(dir, forwardPid)); err != nil {
		return err
	}
	for range 100 {
		if c, err := net.DialTimeout("tcp", listen, 100*time.Millisecond); err == nil {
			c.Close()
			return nil
		}
		sleep(ctx, 20)
	}
	data, _ := os.ReadFile(filepath.Join(compiler.StateDir(p.Prefix), "forward.log"))
	return fmt.Errorf("the forwarder does not listen on %s after 2s: %s", listen, strings.TrimSpace(string(data)))
}

// stopForward stops the forwarder of a twin, if it runs.
func stopForward(prefix string) {
	supervise.Signal(filepath.Join(compiler.StateDir(prefix), forwardPid), syscall.SIGKILL)
}

// forward runs the forwarder until ctx ends.
func forward(ctx context.Context, listen, via string, targets []string, log io.Writer) error {
	t, err := probe.Enter(via)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	go func() { <-ctx.Done(); ln.Close() }()
	fmt.Fprintf(log, "forwarding %s -> %s from namespace %s\n", listen, strings.Join(targets, ", "), via)
	var mu sync.Mutex
	next := 0
	for {
		c, err := ln.Accept()
		if err != nil {
			return nil
		}
		mu.Lock()
		target := targets[next%len(targets)]
		next++
		mu.Unlock()
		go func() {
			defer c.Close()
			up, err := t.Dial(ctx, target, 5*time.Second)
			if err != nil {
				fmt.Fprintf(log, "%s: %v\n", target, err)
				return
			}
			defer up.Close()
			done := make(chan struct{}, 2)
			go func() { io.Copy(up, c); done <- struct{}{} }()
			go func() { io.Copy(c, up); done <- struct{}{} }()
			<-done
		}()
	}
}
