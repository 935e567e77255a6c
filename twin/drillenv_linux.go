package twin

import (
	"context"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/webtier/webtier/twin/compiler"
	"github.com/webtier/webtier/twin/probe"
	"github.com/webtier/webtier/twin/standin"
	"github.com/webtier/webtier/twin/supervise"

	seed "github.com/webtier/webtier/drill"
	"github.com/webtier/webtier/rules"
)

// The twin as the drill's environment (seed.Env): the web servers of the plan, the ALB nodes'
// addresses asked from the internet host's namespace, the web servers' stand-ins stopped and
// started by signal, and the ALB nodes' health checks read from their logs.

// seedHost is how the drill sees a host of the plan.
func seedHost(h *compiler.Host) seed.Host {
	out := seed.Host{Name: h.Name, ID: compiler.InstanceID(h), AZ: h.AZ, Private: h.Private.String(), Hostnames: []string{h.Name}}
	if h.Public.IsValid() {
		out.Public = h.Public.String()
	}
	return out
}

// Webs are the web servers of the plan.
func (d *drill) Webs() []seed.Host {
	var out []seed.Host
	for _, h := range d.p.HostsOfRole(rules.Web) {
		out = append(out, seedHost(h))
	}
	return out
}

// Health is the web servers' health check, on the twin's clock.
func (d *drill) Health() seed.Health { return albHealth(d.p) }

// albNodes are the ALB nodes' public addresses, as the balancer's DNS name gives them.
func (d *drill) albNodes() []string {
	var nodes []string
	for _, h := range d.p.HostsOfRole(rules.ALB) {
		if h.Public.IsValid() {
			nodes = append(nodes, h.Public.String())
		}
	}
	return nodes
}

// Site names the ALB nodes.
func (d *drill) Site() string { return "the ALB nodes " + strings.Join(d.albNodes(), ", ") }

// Get asks an ALB node (the try-th in turn) for path from the internet host's namespace.
func (d *drill) Get(_ context.Context, path string, try int) (int, string, error) {
	nodes := d.albNodes()
	if len(nodes) == 0 {
		return 0, "", fmt.Errorf("the stack has no internet-facing ALB node")
	}
	client, err := d.threads.HTTPClient(d.p.FirstOf("internet"))
	if err != nil {
		return 0, "", err
	}
	resp, err := client.Get("http://" + nodes[try%len(nodes)] + path)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if resp.Header.Get("X-Webtier-Twin-Fail-Open") != "" {
		return 0, "", fmt.Errorf("answered with no healthy target (the ALB fails open)")
	}
	return resp.StatusCode, string(body), err
}

// StopWeb stops a web server's stand-in for httpd and PHP-FPM (SIGUSR1: its port refuses).
func (d *drill) StopWeb(_ context.Context, h seed.Host) (string, error) {
	return "the stand-in for httpd stopped (SIGUSR1)", d.signalHost(h.Name, syscall.SIGUSR1)
}

// StartWeb starts it again (SIGUSR2).
func (d *drill) StartWeb(_ context.Context, h seed.Host) (string, error) {
	return "the stand-in for httpd started (SIGUSR2)", d.signalHost(h.Name, syscall.SIGUSR2)
}

func (d *drill) signalHost(name string, sig syscall.Signal) error {
	return supervise.Signal(filepath.Join(compiler.StateDir(d.p.Prefix), name+".pid"), sig)
}

// TargetHealth is what the ALB nodes' health checks last decided of h (the transitions in
// their logs): healthy when every node has it in service, unhealthy when none has.
func (d *drill) TargetHealth(_ context.Context, h seed.Host) string {
	healthy, nodes := 0, 0
	for _, node := range d.p.HostsOfRole(rules.ALB) {
		nodes++
		if d.lastHealth(node)[h.Name] {
			healthy++
		}
	}
	switch {
	case nodes > 0 && healthy == nodes:
		return seed.Healthy
	case healthy == 0:
		return seed.Unhealthy
	}
	return ""
}

// lastHealth is the last transition of each target in an ALB node's log: true for "healthy".
func (d *drill) lastHealth(node *compiler.Host) map[string]bool {
	data, _ := os.ReadFile(filepath.Join(compiler.StateDir(d.p.Prefix), node.Name+".log"))
	last := map[string]bool{}
	for _, line := range strings.Split(string(data), "\n") {
		if host, _, ok := strings.Cut(line, " healthy after "); ok {
			last[host] = true
		} else if host, _, ok := strings.Cut(line, " unhealthy after "); ok {
			last[host] = false
		}
	}
	return last
}

// OneAZ says why the web servers are in one AZ on the twin of a deployed stack.
func (d *drill) OneAZ() *seed.NotShown {
	if d.p.Live && len(webAZs(d.p.HostsOfRole(rules.Web))) < 2 {
		return &seed.NotShown{Why: "the emulator placed every instance of the group in one AZ; AWS spreads them over the group's subnets"}
	}
	return nil
}

var (
	_ seed.Env          = (*drill)(nil)
	_ seed.AlarmWatcher = (*drill)(nil)
	_ seed.Spreader     = (*drill)(nil)
)

// Bastions are the bastions with a public address.
func (d *drill) Bastions() []seed.Host {
	var out []seed.Host
	for _, h := range d.p.HostsOfRole(rules.Bastion) {
		if h.Public.IsValid() {
			out = append(out, seedHost(h))
		}
	}
	return out
}

// Shell runs command on h over SSH from the admin host's namespace (the twin's sshd on
// each host), through via when set.
func (d *drill) Shell(ctx context.Context, via *seed.Host, h seed.Host, command string) (string, string, error) {
	if !HasSSH() {
		return "", "-", fmt.Errorf("OpenSSH (sshd, ssh, unshare) is not installed; `make setup` installs it as root")
	}
	target, err := d.p.Host(h.Name)
	if err != nil {
		return "", "-", err
	}
	var args []string
	if via == nil {
		args, err = d.p.SSHArgs(target, []string{command})
	} else {
		var jump *compiler.Host
		if jump, err = d.p.Host(via.Name); err == nil {
			args, err = d.p.SSHVia(target, jump, []string{command})
		}
	}
	if err != nil {
		return "", "-", err
	}
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, args[0], args[1:]...).CombinedOutput()
	return string(out), "ssh " + strings.Join(args[6:], " "), err
}

// Connect opens a TCP connection from the namespace of the first host of the vantage's role
// (admin, internet).
func (d *drill) Connect(ctx context.Context, from, addr string, port int) (bool, string, error) {
	h := d.p.FirstOf(from)
	if h == nil {
		if h, _ = d.p.Host(from); h == nil {
			return false, "", seed.ErrNoVantage
		}
	}
	t, err := d.threads.Of(h)
	if err != nil {
		return false, "", err
	}
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return false, "", err
	}
	res, err := t.TCP(ctx, 0, a, port, probe.Timeout)
	return res.Through, res.How, err
}

// Repository is the mirror list on the twin's stand-in for the repositories.
func (d *drill) Repository() string {
	return "https://" + d.p.FirstOf("repos").Private.String() + "/" + rules.RepoMirrorList
}

// cameFrom is the repository stand-in's answer: the source address it saw.
var cameFrom = regexp.MustCompile(`you came from (\S+)`)

// Download fetches the repository's mirror list from h's namespace.
func (d *drill) Download(_ context.Context, h seed.Host) (int, string, string, error) {
	host, err := d.p.Host(h.Name)
	if err != nil {
		return 0, "", "", err
	}
	client, err := d.threads.HTTPClient(host)
	if err != nil {
		return 0, "", "", err
	}
	how := "the repository's record: " + standin.RepoLog
	resp, err := client.Get(d.Repository())
	if err != nil {
		return 0, "", how, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	seen := ""
	if m := cameFrom.FindSubmatch(body); m != nil {
		seen = string(m[1])
	}
	return resp.StatusCode, seen, how, nil
}

// Exit is the NAT gateway of h's AZ (else the first), or h itself when its route table sends
// the repository to a gateway endpoint.
func (d *drill) Exit(h seed.Host) (seed.Exit, bool, *seed.Exit, string) {
	host, err := d.p.Host(h.Name)
	if err != nil {
		return seed.Exit{}, false, nil, ""
	}
	if throughGateway(host, d.p.FirstOf("repos").Private) {
		return seed.Exit{Name: h.Name, Addr: h.Private, Gateway: true}, true, nil, ""
	}
	var nat *compiler.Host
	for _, n := range d.p.HostsOfRole(rules.NAT) {
		if n.AZ == h.AZ || nat == nil {
			nat = n
		}
	}
	if nat == nil {
		return seed.Exit{}, false, nil, ""
	}
	return seed.Exit{Name: nat.Name, Addr: nat.Public.String()}, true, nil, ""
}

// Elsewhere is the twin's host on the internet that no flow reaches ("elsewhere"), else the
// internet client.
func (d *drill) Elsewhere() (seed.Host, bool) {
	for _, h := range d.p.Hosts {
		if h.Name == "elsewhere" {
			return seedHost(h), true
		}
	}
	if h := d.p.FirstOf("internet"); h != nil {
		return seedHost(h), true
	}
	return seed.Host{}, false
}

var (
	_ seed.Operator = (*drill)(nil)
	_ seed.Egress   = (*drill)(nil)
)

var _ seed.Stack = (*drill)(nil)
