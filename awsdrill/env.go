package awsdrill

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/webtier/webtier/drill"
)

// The deployed stack as the drill's environment (drill.Env): the InService web servers, the
// load balancer's DNS name, httpd stopped and started over SSH through the bastion of the
// server's AZ, DescribeTargetHealth. On the emulator nothing is dialed: each of those is a
// *drill.NotShown that says what moto does not do.

func seedHost(h host) drill.Host {
	return drill.Host{Name: h.Name, ID: h.ID, AZ: h.AZ, Private: h.PrivateIP, Public: h.PublicIP}
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
		return how, fmt.Errorf("%s", firstLine(out, err))
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

var _ drill.Env = (*awsEnv)(nil)
