// Package stacks assembles the web-tier stack from the constructs and the derived policy.
package stacks

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/dataawsssmparameter"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/provider"
	"github.com/hashicorp/terraform-cdk-go/cdktf"

	"github.com/webtier/webtier/config"
	wc "github.com/webtier/webtier/constructs"
	"github.com/webtier/webtier/rules"
)

// Name is the stack's name: the output is cdktf.out/stacks/webtier/cdk.tf.json.
const Name = "webtier"

// ProviderConstraint relaxes the bindings' exact pin (5.99.1) so the provider mirror's 5.100
// and later 5.x releases satisfy it.
const ProviderConstraint = "~> 5.99"

// AMIParameter is the public SSM parameter holding the latest Amazon Linux 2023 image.
const AMIParameter = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"

// Topology turns a validated config into what the flow derivation needs.
func Topology(c config.Config) rules.Topology {
	azs := c.AZNames()
	t := rules.Topology{
		AdminCIDRs: prefixes(c.AdminCIDRs),
		RepoCIDRs:  prefixes(c.RepoCIDRs),
		SingleNAT:  c.NAT == config.NATSingle,
		Features:   c.Features(),
		Quotas:     c.Quotas.Limits(),
	}
	for _, tier := range []struct {
		tier  rules.Tier
		cidrs []string
	}{{rules.Public, c.Subnets.Public}, {rules.WebTier, c.Subnets.Web}, {rules.DBTier, c.Subnets.DB}} {
		for i, cidr := range tier.cidrs {
			t.Subnets = append(t.Subnets, rules.Subnet{
				Name: fmt.Sprintf("%s-%s", tier.tier, azs[i][len(azs[i])-1:]),
				Tier: tier.tier, AZ: azs[i], CIDR: netip.MustParsePrefix(cidr),
			})
		}
	}
	return t
}

func prefixes(list []string) []netip.Prefix {
	out := make([]netip.Prefix, len(list))
	for i, s := range list {
		out[i] = netip.MustParsePrefix(s)
	}
	return out
}

// Input is what the stack is built from: a validated config and the policy derived from it.
// Everything that can fail is done before the cdktf app starts, so a bad config writes nothing.
type Input struct {
	Config   config.Config
	Topology rules.Topology
	Policy   rules.Policy
}

// NewInput validates the config and derives the policy of rules.Flows.
func NewInput(c config.Config) (Input, error) { return NewInputFlows(c, rules.Flows) }

// NewInputFlows is NewInput with another flow table (a proposed change, in tests and reviews).
func NewInputFlows(c config.Config, flows []rules.Flow) (Input, error) {
	if err := c.Validate(); err != nil {
		return Input{}, err
	}
	t := Topology(c)
	p, err := rules.Derive(t, flows)
	if err != nil {
		return Input{}, err
	}
	return Input{Config: c, Topology: t, Policy: p}, nil
}

// NewWebTier adds the web-tier stack to app.
func NewWebTier(app constructs.Construct, in Input) cdktf.TerraformStack {
	c := in.Config
	stack := cdktf.NewTerraformStack(app, jsii.String(Name))
	cdktf.NewLocalBackend(stack, &cdktf.LocalBackendConfig{Path: jsii.String("terraform.webtier.tfstate")})
	stack.AddOverride(jsii.String("terraform.required_providers.aws.version"), ProviderConstraint)
	provider.NewAwsProvider(stack, jsii.String("aws"), &provider.AwsProviderConfig{
		Region: jsii.String(c.Region),
		DefaultTags: &[]*provider.AwsProviderDefaultTags{{
			Tags: &map[string]*string{"Project": jsii.String("webtier")},
		}},
	})
	ami := dataawsssmparameter.NewDataAwsSsmParameter(stack, jsii.String("al2023"), &dataawsssmparameter.DataAwsSsmParameterConfig{
		Name: jsii.String(AMIParameter),
	})
	ami.OverrideLogicalId(jsii.String("al2023"))
	image := ami.InsecureValue()

	net := wc.NewNetwork(stack, "network", wc.NetworkProps{
		CIDR:       c.VPCCIDR,
		Subnets:    in.Topology.Subnets,
		NATSubnets: in.Topology.Placement(rules.NAT),
		NATFor:     in.Topology.NATFor,
	})
	// With s3_gateway_endpoint the package downloads go through an S3 gateway endpoint, and the
	// web servers' rule for them names S3's prefix list.
	var gateway []cdktf.ITerraformDependable
	lists := map[string]*string{}
	if c.S3GatewayEndpoint {
		s3 := wc.NewS3GatewayEndpoint(stack, "repositories", wc.S3GatewayEndpointProps{Network: net, Region: c.Region})
		lists[rules.S3PrefixList] = s3.PrefixListId()
		gateway = append(gateway, s3)
	}
	fw := wc.NewFirewall(stack, "firewall", wc.FirewallProps{Policy: in.Policy, Network: net, PrefixLists: lists})
	account := wc.NewAccount(stack)
	wc.NewBaseline(stack, "baseline", wc.BaselineProps{Network: net, RetentionDays: c.FlowLogRetentionDays, Region: c.Region, Account: account})
	var bastions *wc.Bastions
	if c.Bastions() {
		bastions = wc.NewBastions(stack, "bastions", wc.BastionProps{
			Network: net, Group: fw.Group(rules.Bastion), AMI: image,
			InstanceType: c.BastionInstanceType, KeyName: c.SSHKeyName,
			SessionManager: c.SessionManager(), Region: c.Region,
		})
	}
	logs := wc.NewAccessLogs(stack, "access-logs", wc.AccessLogsProps{
		Region: c.Region, Account: account, RetentionDays: c.FlowLogRetentionDays, Throwaway: c.Database.Throwaway,
	})
	alb := wc.NewLoadBalancer(stack, "load-balancer", wc.LoadBalancerProps{
		Network: net, Group: fw.Group(rules.ALB), CertificateARN: c.CertificateARN,
		Logs: logs, DeletionProtection: !c.Database.Throwaway,
	})
	if c.WAF {
		wc.NewWebACL(stack, "waf", alb.ALB)
	}
	efs := wc.NewSharedFileSystem(stack, "shared-fs", wc.SharedFileSystemProps{Network: net, Group: fw.Group(rules.EFS)})
	db := wc.NewDatabase(stack, "database", wc.DatabaseProps{
		Network: net, Group: fw.Group(rules.DB),
		InstanceClass: c.Database.InstanceClass, StorageGB: c.Database.StorageGB, Name: c.Database.Name,
		BackupRetentionDays: c.Database.BackupRetentionDays, Throwaway: c.Database.Throwaway,
		MaxStorageGB: c.Database.MaxStorageGB, LogRetentionDays: c.FlowLogRetentionDays, Region: c.Region, Account: account,
	})
	endpoint := wc.NewSecretsEndpoint(stack, "secrets-endpoint", wc.SecretsEndpointProps{
		Network: net, Group: fw.Group(rules.SecretsEndpoint), Region: c.Region, Account: account, SecretARN: db.SecretARN(),
	})
	// With access ssm or both, the instances' SSM Agent reaches Systems Manager through
	// interface endpoints in the web subnets.
	var ssm []cdktf.ITerraformDependable
	if c.SessionManager() {
		ssm = wc.NewSSMEndpoints(stack, "ssm-endpoints", wc.SSMEndpointsProps{Network: net, Group: fw.Group(rules.SSMEndpoint), Region: c.Region})
	}
	// What a web server uses in its first minute: the group starts after all of it exists.
	needs := append(append(append(append(append(slices.Clip(efs.MountTargets), net.Egress...), gateway...), fw.Rules...), endpoint), ssm...)
	fleet := wc.NewWebFleet(stack, "web-fleet", wc.WebFleetProps{
		Network: net, Group: fw.Group(rules.Web), AMI: image, InstanceType: c.Fleet.InstanceType,
		KeyName: c.SSHKeyName, Min: c.Fleet.Min, Max: c.Fleet.Max, Desired: c.Fleet.Desired,
		CPUTarget: c.Fleet.CPUTarget, TargetGroupARN: alb.TargetGroup.Arn(), FileSystemID: efs.FS.Id(), FileSystemARN: efs.FS.Arn(),
		DBHost: db.DB.Address(), DBName: c.Database.Name, SecretARN: db.SecretARN(), Region: c.Region,
		SessionManager: c.SessionManager(), Needs: needs,
	})
	wc.NewAlarms(stack, "alarms", wc.AlarmsProps{
		Region: c.Region, Account: account, Emails: c.AlarmEmails,
		LoadBalancer: alb, MinHealthy: c.Fleet.Min, DB: db, StorageGB: c.Database.StorageGB,
		Network: net, NATNames: subnetNames(in.Topology.Placement(rules.NAT)), GroupName: *fleet.Group.Name(),
	})

	output := func(name, about string, value any) {
		cdktf.NewTerraformOutput(stack, jsii.String(name), &cdktf.TerraformOutputConfig{
			Value: value, Description: jsii.String(about),
		})
	}
	output("alb_dns_name", "the site: http://<this>/", alb.ALB.DnsName())
	if bastions != nil {
		var ips []*string
		for _, b := range bastions.Hosts {
			ips = append(ips, b.PublicIp())
		}
		output("bastion_public_ips", "SSH entry points, one per AZ", &ips)
		output("db_endpoint", "MySQL endpoint (same name after a failover)", db.DB.Endpoint())
		output("efs_id", "the shared file system every web server mounts", efs.FS.Id())
		output("ssh_command", "reach a web server through a bastion with your own key",
			jsii.String(strings.Join([]string{"ssh -J ec2-user@", *ips[0], " ec2-user@WEB_PRIVATE_IP"}, "")))
	} else {
		output("db_endpoint", "MySQL endpoint (same name after a failover)", db.DB.Endpoint())
		output("efs_id", "the shared file system every web server mounts", efs.FS.Id())
	}
	if c.SessionManager() {
		output("session_command", "open a shell on an instance through Session Manager (no inbound port)",
			jsii.String(SessionCommand(c.Region)))
	}
	return stack
}

// subnetNames are the subnets' names, in order.
func subnetNames(list []rules.Subnet) []string {
	out := make([]string, len(list))
	for i, sn := range list {
		out[i] = sn.Name
	}
	return out
}

// SessionCommand is how an operator opens a shell on an instance through Session Manager.
func SessionCommand(region string) string {
	return "aws ssm start-session --region " + region + " --target INSTANCE_ID"
}
