package standin

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"time"
)

// Stand-in listeners: on each host, a process inside its namespace holds the TCP ports the
// flows let into the host's role (22 on a bastion, 80 on a web server, 3306 on the
// database...) and answers every connection with one line that says what it is: a stand-in,
// not the service. So a connection through the twin ends in an accepted connection, as it
// would on AWS, and nobody takes the twin for the real thing.

// serve starts every service of a spec.
func serve(ctx context.Context, spec *Spec, log io.Writer) error {
	for _, port := range spec.Banner {
		banner := fmt.Sprintf("webtier twin: %s (%s) tcp/%d: a stand-in listener, not the real service\n", spec.Host, spec.Kind, port)
		ln, err := listen(ctx, fmt.Sprintf(":%d", port))
		if err != nil {
			return err
		}
		go accept(ln, banner, port == 80)
	}
	if spec.IMDS {
		if err := serveIMDS(ctx, spec); err != nil {
			return err
		}
	}
	if spec.Web != nil {
		if err := serveWeb(ctx, spec); err != nil {
			return err
		}
	}
	if spec.ALB != nil {
		if err := serveALB(ctx, spec, log); err != nil {
			return err
		}
	}
	if spec.Repo != nil {
		if err := serveRepo(ctx, spec); err != nil {
			return err
		}
	}
	if spec.DNS != nil {
		if err := serveDNS(ctx, spec); err != nil {
			return err
		}
	}
	if spec.Secrets != nil {
		if err := serveSecrets(ctx, spec); err != nil {
			return err
		}
	}
	if spec.EFS != nil {
		if err := serveEFS(ctx, spec); err != nil {
			return err
		}
	}
	if spec.DB != nil {
		if err := serveDB(ctx, spec, log); err != nil {
			return err
		}
	}
	if spec.Session != nil {
		if err := serveSession(ctx, spec); err != nil {
			return err
		}
	}
	if spec.Agent != nil {
		go runAgent(ctx, spec)
	}
	return nil
}

// listen listens on a TCP address of the namespace until ctx ends.
func listen(ctx context.Context, addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp4", addr)
	if err != nil {
		return nil, err
	}
	go func() { <-ctx.Done(); ln.Close() }()
	return ln, nil
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

// sleep waits ms milliseconds, or until ctx ends.
func sleep(ctx context.Context, ms int) {
	select {
	case <-ctx.Done():
	case <-time.After(time.Duration(ms) * time.Millisecond):
	}
}
