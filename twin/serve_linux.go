package twin

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/webtier/webtier/twin/compiler"
	"github.com/webtier/webtier/twin/standin"
	"github.com/webtier/webtier/twin/supervise"
)

// ServeMain is the program the twin starts as its own background processes (ServeEnv set):
// the Auto Scaling controller (`--scale PREFIX`), a forwarder (`--forward`), or the stand-in
// services of one host from its spec (`--spec FILE`, standin.Main), inside the host's
// namespace, until it is stopped.
func ServeMain(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("twin serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	specFile := fs.String("spec", "", "the host's services (JSON)")
	listen := fs.String("forward", "", "forward this loopback address ...")
	via := fs.String("via", "", "... from inside this namespace ...")
	to := fs.String("to", "", "... to these addresses, in turn")
	scaler := fs.String("scale", "", "run the Auto Scaling controller of the twin with this prefix")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *scaler != "" {
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
		defer stop()
		exe, err := os.Executable()
		if err == nil {
			err = runScaler(ctx, *scaler, exe, stderr)
		}
		if err != nil {
			fmt.Fprintf(stderr, "twin scale: %v\n", err)
			return 1
		}
		return 0
	}
	if *listen != "" {
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
		defer stop()
		if err := forward(ctx, *listen, *via, strings.Split(*to, ","), stderr); err != nil {
			fmt.Fprintf(stderr, "twin forward: %v\n", err)
			return 1
		}
		return 0
	}
	return standin.Main(*specFile, stderr)
}

// startListeners starts the services of every host that has any, with exe (this program),
// inside the host's namespace, in a process group of its own; each process's id goes to a
// pid file and its output to a log in the state directory.
func startListeners(ctx context.Context, p *compiler.Plan, exe string) error {
	dir := compiler.StateDir(p.Prefix)
	with := compiler.StandIns{SSH: HasSSH(), DB: standin.HasMariaDB(), Password: newPassword()}
	if with.SSH {
		if err := startSSH(ctx, p); err != nil {
			return err
		}
	}
	if err := standin.WriteSTSKey(dir); err != nil {
		return err
	}
	specs := p.Specs(with)
	var secrets []string
	for _, s := range specs {
		if s.Secrets != nil {
			secrets = append(secrets, s.Private.String())
		}
	}
	if err := standin.WriteRecords(dir, p.PrivateDNS(secrets)); err != nil {
		return err
	}
	if err := standin.WriteZonalRecords(dir, map[string]map[string][]string{p.EFSName(): p.EFSRecords()}); err != nil {
		return err
	}
	for _, spec := range specs {
		if err := startSpec(dir, spec, exe); err != nil {
			return err
		}
	}
	return waitListening(ctx, p, specs)
}

// startSpec starts the services of one host, with exe inside the host's namespace, in a
// process group of its own; its process id goes to a pid file and its output to a log in
// the state directory dir.
func startSpec(dir string, spec *standin.Spec, exe string) error {
	specFile, err := standin.WriteSpec(dir, spec)
	if err != nil {
		return err
	}
	cmd := exec.Command("ip", "netns", "exec", spec.Namespace, exe, "--spec", specFile)
	cmd.Env = append(os.Environ(), ServeEnv+"=1")
	if err := supervise.Start(cmd, filepath.Join(dir, spec.Host+".log"), filepath.Join(dir, spec.Host+".pid")); err != nil {
		return fmt.Errorf("%s: starting its services: %w", spec.Host, err)
	}
	return nil
}

// waitListening waits (a bounded time) until every service holds its ports; the database
// comes up in the background (its primary takes seconds, its standby waits to take over).
func waitListening(ctx context.Context, p *compiler.Plan, specs []*standin.Spec) error {
	for _, s := range specs {
		ports := append([]int(nil), s.Banner...)
		if s.Web != nil {
			ports = append(ports, s.Web.Port)
		}
		if s.ALB != nil {
			for _, l := range s.ALB.Listeners {
				ports = append(ports, l.Port)
			}
		}
		if s.Repo != nil {
			ports = append(ports, s.Repo.Port)
		}
		if s.Secrets != nil {
			ports = append(ports, s.Secrets.Port)
		}
		if s.Session != nil {
			ports = append(ports, s.Session.Port)
		}
		if s.DNS != nil {
			ports = append(ports, 53)
		}
		type socket struct {
			flag, proto string
			port        int
		}
		var sockets []socket
		for _, port := range ports {
			sockets = append(sockets, socket{"-Hltn", "tcp", port})
		}
		if s.DNS != nil {
			sockets = append(sockets, socket{"-Hlun", "udp", 53}) // most lookups are UDP
		}
		for _, so := range sockets {
			ok := false
			for range 100 {
				out, _ := exec.CommandContext(ctx, "ip", "netns", "exec", s.Namespace, "ss", so.flag, "sport", "= :"+strconv.Itoa(so.port)).Output()
				if ok = strings.TrimSpace(string(out)) != ""; ok {
					break
				}
				sleep(ctx, 20)
			}
			if !ok {
				log, _ := os.ReadFile(filepath.Join(compiler.StateDir(p.Prefix), s.Host+".log"))
				return fmt.Errorf("%s: its services do not hold %s/%d after 2s: %s", s.Host, so.proto, so.port, strings.TrimSpace(string(log)))
			}
		}
	}
	return nil
}

// newPassword makes the twin's master password.
func newPassword() string {
	b := make([]byte, 12)
	rand.Read(b)
	return hex.EncodeToString(b)
}
