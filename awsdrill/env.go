package awsdrill

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/webtier/webtier/config"
	"github.com/webtier/webtier/drill"
)

// The deployed stack as the drill's environment (drill.Env): the InService web servers, the
// load balancer's DNS name, httpd stopped and started over SSH through the bastion of the
// server's AZ, DescribeTargetHealth. On the emulator nothing is dialed: each of those is a
// *drill.NotShown that says what moto does not do.

// seedHost is how the drill sees an instance. EC2 names a host after its private address
// (ip-10-16-3-12..., the default of the subnets here) or, with resource-name hostnames, after
// its instance ID.
func seedHost(h host) drill.Host {
	return drill.Host{Name: h.Name, ID: h.ID, AZ: h.AZ, Private: h.PrivateIP, Public: h.PublicIP,
		Hostnames: []string{"ip-" + strings.ReplaceAll(h.PrivateIP, ".", "-"), h.ID}}
}

// Webs are the InService instances of the web servers' group.
func (d *awsEnv) Webs() []drill.Host {
	var out []drill.Host
	for _, w := range d.f.Webs {
		out = append(out, seedHost(w))
	}
	return out
}

// Health is the target group's health check, from the model of the API's answers.
func (d *awsEnv) Health() drill.Health { return d.f.Check }

// Site is the load balancer's DNS name.
func (d *awsEnv) Site() string { return "http://" + d.f.ALB + "/" }

// Get asks the load balancer's DNS name for path (one name: try is left to DNS and the
// balancer's nodes).
func (d *awsEnv) Get(ctx context.Context, path string, _ int) (int, string, error) {
	if d.o.Emulator {
		return 0, "", &drill.NotShown{Why: "moto does not serve the load balancer's DNS name " + d.f.ALB + ": not dialed"}
	}
	return d.o.Fetch(ctx, "http://"+d.f.ALB+path)
}

// web is the web server h names.
func (d *awsEnv) web(h drill.Host) (host, error) {
	for _, w := range d.f.Webs {
		if w.ID == h.ID {
			return w, nil
		}
	}
	return host{}, fmt.Errorf("%s is not an InService web server", h.ID)
}

// systemctl runs `sudo systemctl VERB httpd` on a web server through its AZ's bastion.
func (d *awsEnv) systemctl(ctx context.Context, h drill.Host, verb string) (string, error) {
	if d.o.Emulator {
		return "", &drill.NotShown{Why: "moto runs no instance to " + verb}
	}
	w, err := d.web(h)
	if err != nil {
		return "", err
	}
	via := d.f.bastionFor(w)
	how := "sudo systemctl " + verb + " httpd through " + via.Name
	out, err := d.o.Shell(ctx, via.PublicIP, w.PrivateIP, "sudo systemctl "+verb+" httpd")
	if err != nil {
		return how, fmt.Errorf("%s", drill.FirstLine(out, err))
	}
	return how, nil
}

// StopWeb stops httpd on a web server.
func (d *awsEnv) StopWeb(ctx context.Context, h drill.Host) (string, error) {
	return d.systemctl(ctx, h, "stop")
}

// StartWeb starts httpd on a web server.
func (d *awsEnv) StartWeb(ctx context.Context, h drill.Host) (string, error) {
	return d.systemctl(ctx, h, "start")
}

// TargetHealth is DescribeTargetHealth's state of the server's target: healthy, or any other
// state (initial, unhealthy, draining, unused) as unhealthy; "" when the call fails or the
// target is not registered.
func (d *awsEnv) TargetHealth(ctx context.Context, h drill.Host) string {
	out, err := d.elb.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(d.f.TargetGroup)})
	if err != nil {
		return ""
	}
	for _, t := range out.TargetHealthDescriptions {
		if t.Target != nil && aws.ToString(t.Target.Id) == h.ID && t.TargetHealth != nil {
			if t.TargetHealth.State == elbtypes.TargetHealthStateEnumHealthy {
				return drill.Healthy
			}
			return drill.Unhealthy
		}
	}
	return ""
}

// Bastions are the running bastions.
func (d *awsEnv) Bastions() []drill.Host {
	var out []drill.Host
	for _, b := range d.f.Bastions {
		out = append(out, seedHost(b))
	}
	return out
}

// Shell runs command on h over SSH with the user's key: straight to its public address, or
// through the bastion via to its private address.
func (d *awsEnv) Shell(ctx context.Context, via *drill.Host, h drill.Host, command string) (string, string, error) {
	how := "ssh " + sshUser + "@" + h.Public + " " + command
	jump, addr := "", h.Public
	if via != nil {
		jump, addr = via.Public, h.Private
		how = "ssh -J " + sshUser + "@" + jump + " " + sshUser + "@" + addr + " " + command
	}
	if d.o.Emulator {
		return "", how, &drill.NotShown{Why: notDialed}
	}
	out, err := d.o.Shell(ctx, jump, addr, command)
	return out, how, err
}

// Connect opens a TCP connection from this machine (the admin vantage; the drill has none on
// the internet outside the admin ranges).
func (d *awsEnv) Connect(ctx context.Context, from, addr string, port int) (bool, string, error) {
	if from != drill.Admin {
		return false, "", drill.ErrNoVantage
	}
	if d.o.Emulator {
		return false, "", &drill.NotShown{Why: notDialed}
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	c, err := d.o.Dial(ctx, "tcp", net.JoinHostPort(addr, strconv.Itoa(port)))
	if err != nil {
		return false, "from this machine: " + err.Error(), nil
	}
	c.Close()
	return true, "from this machine: connected", nil
}

// Repository is the region's repository mirror list.
func (d *awsEnv) Repository() string { return repoURL(d.o.Config.Region) }

// Download has the web server curl the repository's mirror list (over SSH through the bastion
// of its AZ). S3 does not echo a caller's address, and the web servers may reach only the
// repository's ranges (flow 6): the source is not seen, Exit gives the route instead.
func (d *awsEnv) Download(ctx context.Context, h drill.Host) (int, string, string, error) {
	w, err := d.web(h)
	if err != nil {
		return 0, "", "", err
	}
	if d.o.Emulator {
		return 0, "", "", &drill.NotShown{Why: notDialed + "; " + w.Subnet + " routes 0.0.0.0/0 through " + d.f.WebNAT[w.Subnet] + " (DescribeRouteTables)"}
	}
	via := d.f.bastionFor(w)
	how := "curl through " + via.Name
	out, err := d.o.Shell(ctx, via.PublicIP, w.PrivateIP, "curl -sS -m 20 -o /dev/null -w '%{http_code}' "+d.Repository())
	if err != nil {
		return 0, "", how, fmt.Errorf("%s", drill.FirstLine(out, err))
	}
	code, err := strconv.Atoi(strings.TrimSpace(out))
	if err != nil {
		return 0, "", how, fmt.Errorf("curl printed %q, not a status", strings.TrimSpace(out))
	}
	return code, "", how, nil
}

// Exit is the NAT gateway of the server's AZ (with nat: single, the one gateway); routed is
// the NAT gateway the 0.0.0.0/0 route of its subnet goes to in the model of the API's answers.
func (d *awsEnv) Exit(h drill.Host) (drill.Exit, bool, *drill.Exit, string) {
	w, err := d.web(h)
	if err != nil {
		return drill.Exit{}, false, nil, err.Error()
	}
	route := "source by the route of " + w.Subnet + " (the server may reach only the repository ranges, which do not echo it)"
	var want *nat
	for i, n := range d.f.NATs {
		if n.AZ == w.AZ || d.o.Config.NAT == config.NATSingle && want == nil {
			want = &d.f.NATs[i]
		}
	}
	var routed *drill.Exit
	if n := d.f.natOf(w); n != nil {
		routed = &drill.Exit{Name: n.Name, Addr: n.EIP}
	}
	if want == nil {
		return drill.Exit{}, false, routed, route
	}
	return drill.Exit{Name: want.Name, Addr: want.EIP}, true, routed, route
}

// Elsewhere: the drill has no host on the internet outside the admin ranges.
func (d *awsEnv) Elsewhere() (drill.Host, bool) { return drill.Host{}, false }

var (
	_ drill.Stack       = (*awsEnv)(nil)
	_ drill.Egress      = (*awsEnv)(nil)
	_ drill.Env         = (*awsEnv)(nil)
	_ drill.Operator    = (*awsEnv)(nil)
	_ drill.SharedFiles = (*awsEnv)(nil)
)
