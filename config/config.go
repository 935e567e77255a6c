// Package config is the typed configuration of the web tier: the seed's defaults, a JSON file,
// environment variables and flags on top, and the validation that runs before anything is
// synthesized. Plain Go: no cdktf or jsii import.
package config

import (
	"slices"

	"github.com/webtier/webtier/rules"
)

// Config describes one web tier. Every field has a default (Default) except AdminCIDRs.
type Config struct {
	// Region is the AWS region. default: "ap-northeast-2"
	Region string `json:"region"`
	// AZs are the two availability zones, as suffixes of Region ("a") or full names
	// ("ap-northeast-2a"). default: ["a", "c"]
	AZs []string `json:"azs"`
	// VPCCIDR is the VPC's IPv4 range. default: "10.16.0.0/16"
	VPCCIDR string `json:"vpc_cidr"`
	// Subnets holds one CIDR per AZ for each tier, in the order of AZs.
	Subnets Subnets `json:"subnets"`

	// Access is how operators reach the instances: "bastion" (SSH through a bastion per AZ,
	// from admin_cidrs), "ssm" (AWS Systems Manager Session Manager only: no bastions and no
	// port 22 anywhere; admin_cidrs and allow_ssh_from_anywhere must be left out) or "both".
	// default: "bastion" (the seed's architecture)
	Access string `json:"access"`
	// AdminCIDRs may SSH to the bastions. No default: synth refuses without one, unless
	// access is "ssm" (then there is no SSH and it must be empty).
	AdminCIDRs []string `json:"admin_cidrs"`
	// AllowSSHFromAnywhere must be true for 0.0.0.0/0 to appear in AdminCIDRs. default: false
	AllowSSHFromAnywhere bool `json:"allow_ssh_from_anywhere"`
	// SSHKeyName is an EC2 key pair installed on bastions and web servers for `ssh -J`.
	// default: "" (no key pair: log in with EC2 Instance Connect or add one later)
	SSHKeyName string `json:"ssh_key_name"`

	// NAT is "per-az" (one NAT gateway per AZ, no single point of failure) or "single"
	// (one NAT gateway in the first AZ, cheaper). default: "per-az"
	NAT string `json:"nat"`
	// RepoCIDRs are where web servers may go on 443 through NAT: the package repositories,
	// an S3 bucket of the region reached at S3's regional addresses.
	// default: DefaultRepoCIDRs (the S3 ranges of ap-northeast-2; another region needs its own,
	// from `webtier repo-ranges --region R --ip-ranges ip-ranges.json`)
	RepoCIDRs []string `json:"repo_cidrs"`

	// S3GatewayEndpoint sends the web servers' package downloads (S3, the region's
	// repositories) through an S3 gateway endpoint on the web subnets' route tables instead of
	// NAT, its policy allowing reads of the Amazon Linux 2023 repository bucket only.
	// repo_cidrs still name S3's ranges: the network ACLs judge that traffic against them.
	// default: false (through NAT, as the seed does)
	S3GatewayEndpoint bool `json:"s3_gateway_endpoint"`

	// CertificateARN turns on the HTTPS listener; :80 then redirects to :443. default: "" (HTTP only)
	CertificateARN string `json:"certificate_arn"`

	// WAF puts an AWS WAF web ACL in front of the ALB with AWS's managed common and
	// known-bad-inputs rule groups. default: false (WAF bills per web ACL, rule and request)
	WAF bool `json:"waf"`

	// BastionInstanceType default: "t3.micro"
	BastionInstanceType string `json:"bastion_instance_type"`
	// Fleet sizes the web servers' Auto Scaling group.
	Fleet Fleet `json:"fleet"`
	// Database configures the RDS MySQL Multi-AZ instance.
	Database Database `json:"database"`
	// FlowLogRetentionDays keeps the VPC flow logs (every accepted and rejected connection)
	// in CloudWatch Logs this long; one of CloudWatch's retention periods. default: 90
	FlowLogRetentionDays int `json:"flow_log_retention_days"`

	// AlarmEmails are subscribed by email to the alarms' SNS topic: each gets every alarm's
	// ALARM and OK notification, the database's failover, failure and low-storage events and
	// the web servers' failed launches (each address confirms its subscription first).
	// default: [] (the topic has no subscriber: subscribe a pager or a chat tool to it)
	AlarmEmails []string `json:"alarm_emails"`

	// Quotas are the AWS quotas of the account the stack goes to, where it has raised them in
	// Service Quotas; synth and verify count the stack against them. default: AWS's defaults
	Quotas Quotas `json:"quotas"`
}

// Quotas are AWS quotas (rules.Quotas) as the account has them. Each is at least AWS's
// default (a quota is only ever raised) and at most what AWS allows.
type Quotas struct {
	// NACLRulesPerDirection is "Inbound or outbound rules per network ACL" (L-2AEEBF1A); the
	// default deny counts toward it, so a direction holds one entry fewer of the stack's.
	// default: 20 (AWS allows up to 40)
	NACLRulesPerDirection int `json:"nacl_rules_per_direction"`
	// SGRulesPerDirection is "Inbound or outbound rules per security group" (L-0EA8095F).
	// default: 60 (times sgs_per_eni, AWS allows up to 1000)
	SGRulesPerDirection int `json:"sg_rules_per_direction"`
	// SGsPerENI is "Security groups per network interface" (L-2AFB9258).
	// default: 5 (AWS allows up to 16)
	SGsPerENI int `json:"sgs_per_eni"`
	// RoutesPerTable is "Routes per route table" (L-93826ACB), routes that are not propagated.
	// default: 50 (AWS allows up to 1000)
	RoutesPerTable int `json:"routes_per_table"`
	// EIPsPerRegion is "Elastic IP addresses per Region" (L-0263D0A3), for the whole account.
	// default: 5
	EIPsPerRegion int `json:"eips_per_region"`
	// NATGatewaysPerAZ is "NAT gateways per Availability Zone" (L-FE5A380F), for the whole
	// account. default: 5
	NATGatewaysPerAZ int `json:"nat_gateways_per_az"`
	// VPCsPerRegion is "VPCs per Region" (L-F678F1CE), for the whole account, the default VPC
	// included. default: 5
	VPCsPerRegion int `json:"vpcs_per_region"`
}

// quotaField is one field of Quotas with the key of its quota in rules.Quotas.
type quotaField struct {
	key string
	v   *int
}

// fields lists the fields of q with their quotas' keys, in the order of rules.Quotas.
func (q *Quotas) fields() []quotaField {
	return []quotaField{
		{rules.QuotaNACLRules, &q.NACLRulesPerDirection},
		{rules.QuotaSGRules, &q.SGRulesPerDirection},
		{rules.QuotaSGsPerENI, &q.SGsPerENI},
		{rules.QuotaRoutes, &q.RoutesPerTable},
		{rules.QuotaEIPs, &q.EIPsPerRegion},
		{rules.QuotaNATsPerAZ, &q.NATGatewaysPerAZ},
		{rules.QuotaVPCs, &q.VPCsPerRegion},
	}
}

// field is the field of q holding the quota key.
func (q *Quotas) field(key string) *int {
	for _, f := range q.fields() {
		if f.key == key {
			return f.v
		}
	}
	panic("config: no field for the quota " + key)
}

// DefaultQuotas are AWS's defaults: an account that has raised nothing.
func DefaultQuotas() Quotas {
	var q Quotas
	for _, f := range q.fields() {
		*f.v = rules.QuotaOf(f.key).Default
	}
	return q
}

// Limits are the quotas in force, as synth and verify count with them.
func (q Quotas) Limits() rules.Limits {
	l := rules.Limits{}
	for _, f := range q.fields() {
		l[f.key] = *f.v
	}
	return l
}

// Subnets holds, for each tier, one CIDR per AZ.
type Subnets struct {
	// Public holds the bastions, the ALB nodes and the NAT gateways.
	// default: ["10.16.1.0/24", "10.16.2.0/24"]
	Public []string `json:"public"`
	// Web holds the web servers, the EFS mount targets and the Secrets Manager endpoint.
	// default: ["10.16.3.0/24", "10.16.4.0/24"]
	Web []string `json:"web"`
	// DB holds the database's primary and standby. default: ["10.16.5.0/24", "10.16.6.0/24"]
	DB []string `json:"db"`
}

// Fleet sizes the Auto Scaling group of web servers.
type Fleet struct {
	// InstanceType default: "t3.micro"
	InstanceType string `json:"instance_type"`
	// Min default: 2
	Min int `json:"min"`
	// Max default: 4
	Max int `json:"max"`
	// Desired default: 2
	Desired int `json:"desired"`
	// CPUTarget is the average CPU percentage target tracking keeps the group at. default: 50
	CPUTarget int `json:"cpu_target"`
}

// Database configures RDS.
type Database struct {
	// InstanceClass default: "db.t3.micro"
	InstanceClass string `json:"instance_class"`
	// StorageGB default: 20
	StorageGB int `json:"storage_gb"`
	// MaxStorageGB is how far RDS storage autoscaling may grow the storage (at least 10 %
	// above StorageGB). default: 100
	MaxStorageGB int `json:"max_storage_gb"`
	// Name is the initial database's name. default: "webtier"
	Name string `json:"name"`
	// BackupRetentionDays default: 7 (at least 7 is enforced)
	BackupRetentionDays int `json:"backup_retention_days"`
	// Throwaway turns off the deletion protection of the database and the ALB and the
	// database's final snapshot, and lets destroy delete the access-log bucket with its logs:
	// for test environments. default: false
	Throwaway bool `json:"throwaway"`
}

// Default returns the seed's architecture with no admin CIDR.
func Default() Config {
	return Config{
		Region:  "ap-northeast-2",
		AZs:     []string{"a", "c"},
		VPCCIDR: "10.16.0.0/16",
		Subnets: Subnets{
			Public: []string{"10.16.1.0/24", "10.16.2.0/24"},
			Web:    []string{"10.16.3.0/24", "10.16.4.0/24"},
			DB:     []string{"10.16.5.0/24", "10.16.6.0/24"},
		},
		Access:              AccessBastion,
		NAT:                 NATPerAZ,
		RepoCIDRs:           slices.Clone(DefaultRepoCIDRs),
		BastionInstanceType: "t3.micro",
		Fleet:               Fleet{InstanceType: "t3.micro", Min: 2, Max: 4, Desired: 2, CPUTarget: 50},
		Database: Database{
			InstanceClass:       "db.t3.micro",
			StorageGB:           20,
			MaxStorageGB:        100,
			Name:                "webtier",
			BackupRetentionDays: 7,
		},
		FlowLogRetentionDays: 90,
		Quotas:               DefaultQuotas(),
	}
}

// DefaultRepoRegion is the region whose S3 ranges DefaultRepoCIDRs are.
const DefaultRepoRegion = "ap-northeast-2"

// DefaultRepoCIDRs are the S3 ranges of ap-northeast-2, where Amazon Linux 2023's package
// repositories are, as AWS published them in ip-ranges.json of 2026-08-22-21-17-05 (syncToken
// 1787433425): its 12 ranges there, aggregated to the 9 CIDRs the network ACLs have room for at
// AWS's default quota (20 entries per direction, the default deny among them) by widening
// 52.219.56.0/22 + 52.219.60.0/23, 52.219.144.0/22 + 52.219.148.0/23 and 52.219.202.0/23 +
// 52.219.204.0/22 to /21s (512 addresses each that S3 does not hold). Rebuild it with
//
//	curl -sO https://ip-ranges.amazonaws.com/ip-ranges.json
//	webtier repo-ranges --config webtier.example.json --ip-ranges ip-ranges.json
var DefaultRepoCIDRs = []string{
	"1.178.91.0/24", "3.2.75.0/24", "3.5.140.0/22", "3.5.144.0/23", "3.5.184.0/21",
	"3.36.167.64/27", "52.219.56.0/21", "52.219.144.0/21", "52.219.200.0/21",
}

// Features are the switches of the optional flows of rules.Flows, as this config sets them.
func (c Config) Features() map[string]bool {
	return map[string]bool{
		rules.FeatureHTTPS:      c.CertificateARN != "",
		rules.FeatureS3Endpoint: c.S3GatewayEndpoint,
		rules.FeatureSSM:        c.Access == AccessSSM || c.Access == AccessBoth,
		rules.FeatureNoBastion:  c.Access == AccessSSM,
	}
}

// Access modes: how operators reach the instances.
const (
	// AccessBastion is SSH through a bastion per AZ, from admin_cidrs: the seed's path.
	AccessBastion = "bastion"
	// AccessSSM is Session Manager only: the instances' SSM Agent dials out to the ssm,
	// ssmmessages and ec2messages interface endpoints; no bastion, no inbound port 22.
	AccessSSM = "ssm"
	// AccessBoth is the bastions' SSH path and Session Manager on every instance.
	AccessBoth = "both"
)

// AccessModes are the values access takes, in the order errors list them.
var AccessModes = []string{AccessBastion, AccessSSM, AccessBoth}

// Bastions reports whether the stack has bastions (and the SSH path through them).
func (c Config) Bastions() bool { return c.Access != AccessSSM }

// SessionManager reports whether the instances are managed by Systems Manager.
func (c Config) SessionManager() bool { return c.Access == AccessSSM || c.Access == AccessBoth }

// NAT placements.
const (
	NATPerAZ  = "per-az"
	NATSingle = "single"
)

// AZNames returns the full AZ names ("ap-northeast-2a") in order.
func (c Config) AZNames() []string {
	out := make([]string, len(c.AZs))
	for i, az := range c.AZs {
		if len(az) == 1 {
			az = c.Region + az
		}
		out[i] = az
	}
	return out
}
