package constructs

import (
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/lb"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/lblistener"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/lbtargetgroup"

	"github.com/webtier/webtier/rules"
	"github.com/webtier/webtier/site"
)

// LoadBalancerProps configures the internet-facing ALB.
type LoadBalancerProps struct {
	// Network holds the public subnets the ALB nodes live in. default: none (required)
	Network *Network
	// Group is the ALB's security group ID. default: none (required)
	Group *string
	// CertificateARN turns on HTTPS on :443 and makes :80 redirect to it. default: "" (HTTP only)
	CertificateARN string
	// Logs is the bucket the access logs go to. default: none (required)
	Logs *AccessLogs
	// DeletionProtection refuses to delete the ALB until it is turned off. default: false
	DeletionProtection bool
}

// LoadBalancer is the ALB, its listeners and the web servers' target group.
type LoadBalancer struct {
	ALB         lb.Lb
	TargetGroup lbtargetgroup.LbTargetGroup
}

// NewLoadBalancer builds the ALB.
func NewLoadBalancer(scope constructs.Construct, id string, p LoadBalancerProps) *LoadBalancer {
	s := scopeOf(scope, id)
	l := &LoadBalancer{}
	l.ALB = named(lb.NewLb(s, str("alb"), &lb.LbConfig{
		Name:                         str("webtier-alb"),
		Internal:                     false,
		LoadBalancerType:             str("application"),
		Subnets:                      p.Network.SubnetIDs(rules.Public),
		SecurityGroups:               ptrs([]*string{p.Group}),
		EnableCrossZoneLoadBalancing: true,
		DropInvalidHeaderFields:      true,
		EnableDeletionProtection:     p.DeletionProtection,
		AccessLogs: &lb.LbAccessLogs{
			Bucket: p.Logs.Bucket.Id(), Prefix: str(AccessLogPrefix), Enabled: true,
		},
		Tags:      tags("webtier-alb", string(rules.ALB)),
		DependsOn: &p.Logs.Ready,
	}), "alb")
	l.TargetGroup = named(lbtargetgroup.NewLbTargetGroup(s, str("web"), &lbtargetgroup.LbTargetGroupConfig{
		Name:       str("webtier-web"),
		Port:       num(rules.HTTP.From),
		Protocol:   str("HTTP"),
		VpcId:      p.Network.VPC.Id(),
		TargetType: str("instance"),
		// Short drain: requests are short page loads, and scale-in should not wait 300 s.
		DeregistrationDelay: str("30"),
		// A static file written as user data's last step: a target turns healthy only once
		// httpd, PHP and the EFS mount are in place, and the check never touches the
		// database, so a failover does not take every web server out of service. 15 s x 2
		// brings a new server in within ~30 s; 3 misses (~45 s) tolerate one slow response
		// without flapping. The defaults (30 s x 5 healthy) would hold a new server out for
		// 2.5 minutes during a scale-out.
		HealthCheck: &lbtargetgroup.LbTargetGroupHealthCheck{
			Enabled:            true,
			Path:               str(HealthPath),
			Protocol:           str("HTTP"),
			Matcher:            str("200"),
			Interval:           num(15),
			Timeout:            num(5),
			HealthyThreshold:   num(2),
			UnhealthyThreshold: num(3),
		},
		Tags: tags("webtier-web", "target-group"),
	}), "web")

	forward := &[]*lblistener.LbListenerDefaultAction{{Type: str("forward"), TargetGroupArn: l.TargetGroup.Arn()}}
	httpAction := forward
	if p.CertificateARN != "" {
		httpAction = &[]*lblistener.LbListenerDefaultAction{{Type: str("redirect"),
			Redirect: &lblistener.LbListenerDefaultActionRedirect{
				Port: str(rules.HTTPS.String()), Protocol: str("HTTPS"), StatusCode: str("HTTP_301"),
			}}}
		named(lblistener.NewLbListener(s, str("https"), &lblistener.LbListenerConfig{
			LoadBalancerArn: l.ALB.Arn(),
			Port:            num(rules.HTTPS.From),
			Protocol:        str("HTTPS"),
			CertificateArn:  str(p.CertificateARN),
			SslPolicy:       str("ELBSecurityPolicy-TLS13-1-2-2021-06"),
			DefaultAction:   forward,
			Tags:            tags("webtier-https", "listener"),
		}), "https")
	}
	named(lblistener.NewLbListener(s, str("http"), &lblistener.LbListenerConfig{
		LoadBalancerArn: l.ALB.Arn(),
		Port:            num(rules.HTTP.From),
		Protocol:        str("HTTP"),
		DefaultAction:   httpAction,
		Tags:            tags("webtier-http", "listener"),
	}), "http")
	return l
}

// HealthPath is the page the target group's health check requests.
const HealthPath = site.HealthPath
