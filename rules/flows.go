// Package rules is the web tier's traffic policy as data: the roles, the well-known ports and
// one flow table, and the derivation of every security-group rule and network-ACL entry from
// it. Plain Go: no cdktf or jsii import, so the policy outlives the framework.
package rules

// Flows is every connection the web tier allows; nothing else gets through.
//
// Slot fixes a flow's NACL rule numbers (Slot*200 upwards for requests, ReturnBase+Slot*200
// for returns), whatever the table order: a new flow takes a new, higher slot and renumbers
// nothing. An entry two flows need belongs to the lower slot. Why becomes the description of
// each security-group rule, so it keeps to the characters AWS accepts there.
var Flows = []Flow{
	{Slot: 1, ID: "admin-to-bastion-ssh", From: Admin, To: Bastion, Port: SSH, Unless: FeatureNoBastion,
		Why: "operators log in to a bastion from the admin CIDRs"},
	{Slot: 2, ID: "bastion-to-web-ssh", From: Bastion, To: Web, Port: SSH, Unless: FeatureNoBastion,
		Why: "operators reach web servers only through a bastion"},
	{Slot: 3, ID: "internet-to-alb-http", From: Internet, To: ALB, Port: HTTP,
		Why: "public site on HTTP"},
	{Slot: 4, ID: "internet-to-alb-https", From: Internet, To: ALB, Port: HTTPS, Feature: FeatureHTTPS,
		Why: "public site on HTTPS"},
	{Slot: 5, ID: "alb-to-web-http", From: ALB, To: Web, Port: HTTP,
		Why: "load-balanced requests and health checks from the ALB nodes"},
	{Slot: 6, ID: "web-to-repos-https", From: Web, To: Repos, Port: HTTPS, Via: NAT, Unless: FeatureS3Endpoint,
		Why: "package installs from the regional repositories through NAT"},
	{Slot: 7, ID: "web-to-efs-nfs", From: Web, To: EFS, Port: NFS, SameAZ: true,
		Why: "web servers mount the shared file system at the mount target in their own AZ"},
	{Slot: 8, ID: "web-to-db-mysql", From: Web, To: DB, Port: MySQL,
		Why: "application queries to both DB subnets so failover keeps working"},
	{Slot: 9, ID: "web-to-secrets-https", From: Web, To: SecretsEndpoint, Port: HTTPS,
		Why: "web servers read the RDS-managed database secret at run time"},
	{Slot: 11, ID: "web-to-repos-https-endpoint", From: Web, To: Repos, Port: HTTPS, Via: S3Gateway, Feature: FeatureS3Endpoint,
		Why: "package installs from the regional repositories through the S3 gateway endpoint"},
	{Slot: 12, ID: "web-to-ssm-https", From: Web, To: SSMEndpoint, Port: HTTPS, Feature: FeatureSSM,
		Why: "SSM Agent on the web servers dials Systems Manager: Session Manager and patching"},
	{Slot: 13, ID: "bastion-to-ssm-https", From: Bastion, To: SSMEndpoint, Port: HTTPS, Feature: FeatureSSM, Unless: FeatureNoBastion,
		Why: "SSM Agent on the bastions dials Systems Manager: Session Manager and patching"},
}

// Flow is one allowed connection: From opens a connection to To on Port.
type Flow struct {
	// Slot is the flow's fixed place in NACL numbering, 1-99, unique in the table.
	Slot int
	// ID names the flow in resource names: "web-to-db-mysql".
	ID   string
	From Role
	To   Role
	Port Port
	// Via is the hop towards an outside role: NAT (rewrites the source, out through the public
	// subnets), S3Gateway (a route target in the source's own route table; the source keeps
	// its private address and the destination its public one), or "" for a direct path.
	Via Role
	// SameAZ limits the flow to a destination in the source's own AZ (EFS mount targets).
	SameAZ bool
	// Feature names the config switch that turns the flow on, or "" for always on.
	Feature string
	// Unless names the config switch that turns the flow off (another flow takes its place),
	// or "".
	Unless string
	// Why is the reason, shown in every rule the flow gives.
	Why string
}

// Features a flow may depend on.
const (
	// FeatureHTTPS is on when the ALB has an HTTPS listener.
	FeatureHTTPS = "https"
	// FeatureS3Endpoint is on when the web subnets reach S3 (the package repositories) through
	// a gateway endpoint instead of NAT.
	FeatureS3Endpoint = "s3-gateway-endpoint"
	// FeatureSSM is on when the instances are managed by Systems Manager (access ssm or
	// both): their SSM Agent reaches the ssm, ssmmessages and ec2messages interface endpoints.
	FeatureSSM = "ssm"
	// FeatureNoBastion is on when there are no bastions (access ssm): no SSH path at all.
	FeatureNoBastion = "no-bastion"
)

// Active returns the flows whose feature is on and whose Unless switch is off, in table order.
func Active(flows []Flow, features map[string]bool) []Flow {
	var out []Flow
	for _, f := range flows {
		if (f.Feature == "" || features[f.Feature]) && (f.Unless == "" || !features[f.Unless]) {
			out = append(out, f)
		}
	}
	return out
}

// Protocol is an IP protocol as the AWS APIs name it.
type Protocol string

// TCP is the only protocol the web tier uses.
const TCP Protocol = "tcp"

// Port is a named protocol and port range.
type Port struct {
	Name  string
	Proto Protocol
	From  int
	To    int
}

// Well-known ports.
var (
	SSH   = Port{"ssh", TCP, 22, 22}
	HTTP  = Port{"http", TCP, 80, 80}
	HTTPS = Port{"https", TCP, 443, 443}
	NFS   = Port{"nfs", TCP, 2049, 2049}
	MySQL = Port{"mysql", TCP, 3306, 3306}

	// EphemeralLinux is where Amazon Linux opens client connections (net.ipv4.ip_local_port_range).
	EphemeralLinux = Port{"ephemeral-linux", TCP, 32768, 60999}
	// EphemeralAny covers ELB nodes, NAT gateways and arbitrary internet clients.
	EphemeralAny = Port{"ephemeral", TCP, 1024, 65535}
)

// String renders the range as AWS consoles do: "22" or "1024-65535".
func (p Port) String() string {
	if p.From == p.To {
		return itoa(p.From)
	}
	return itoa(p.From) + "-" + itoa(p.To)
}

// Contains reports whether port n is in the range.
func (p Port) Contains(n int) bool { return p.From <= n && n <= p.To }
