package standin

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Main runs the services of one host from its spec file, inside the host's namespace, until
// SIGTERM or an interrupt; it returns the exit status. SIGUSR1 stops the host's web server and
// SIGUSR2 starts it again (the drill's stopped web service); SIGHUP reads the spec file again
// and registers an ALB node's new targets (the Auto Scaling controller's).
func Main(specFile string, stderr io.Writer) int {
	spec, err := readSpec(specFile)
	if err != nil {
		fmt.Fprintf(stderr, "twin serve: --spec: %v\n", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if err := serve(ctx, spec, stderr); err != nil {
		fmt.Fprintf(stderr, "twin serve: %s: %v\n", spec.Host, err)
		return 1
	}
	control := make(chan os.Signal, 1)
	signal.Notify(control, syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGHUP)
	for {
		select {
		case <-ctx.Done():
			return 0
		case sig := <-control:
			if sig == syscall.SIGHUP {
				// The Auto Scaling controller changed the targets: read the spec again.
				again, err := readSpec(specFile)
				if err != nil {
					fmt.Fprintf(stderr, "%s: reading the spec again: %v\n", spec.Host, err)
				} else if albControl != nil && again.ALB != nil {
					albControl.register(again.ALB)
				}
				continue
			}
			if webControl == nil {
				continue
			}
			if sig == syscall.SIGUSR1 {
				webControl.stop()
				fmt.Fprintf(stderr, "%s: web server stopped\n", spec.Host)
			} else if err := webControl.start(); err != nil {
				fmt.Fprintf(stderr, "%s: web server: %v\n", spec.Host, err)
			} else {
				fmt.Fprintf(stderr, "%s: web server started\n", spec.Host)
			}
		}
	}
}
