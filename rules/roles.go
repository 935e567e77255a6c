package rules

import "strconv"

// RoleTag is the tag that marks every resource of the stack with the Role (or part) it plays:
// the verifier reads it to name instances, the live reader and the drills to find the web
// servers' group and the EFS security group. It names things; it decides nothing.
const RoleTag = "webtier:role"

// Role is what a party to a flow is: a class of endpoint, ours or outside.
type Role string

// The roles of the web tier.
const (
	Internet        Role = "internet"
	Admin           Role = "admin"
	Repos           Role = "repos"
	Bastion         Role = "bastion"
	ALB             Role = "alb"
	NAT             Role = "nat"
	Web             Role = "web"
	EFS             Role = "efs"
	DB              Role = "db"
	SecretsEndpoint Role = "secrets-endpoint"
	// SSMEndpoint is the ssm, ssmmessages and ec2messages interface endpoints of Systems
	// Manager, one security group for the three.
	SSMEndpoint Role = "ssm-endpoint"
	// S3Gateway is the S3 gateway endpoint: a hop (Flow.Via), a route target of the web
	// subnets' route tables with no interface, address or security group of its own.
	S3Gateway Role = "s3-gateway"
)

// Tier is a subnet tier; each has its own route tables and network ACL.
type Tier string

// The tiers.
const (
	Public  Tier = "public"
	WebTier Tier = "web"
	DBTier  Tier = "db"
)

// Tiers in the order they are built and shown.
var Tiers = []Tier{Public, WebTier, DBTier}

// NACLName is the name of a tier's network ACL: "web-nacl".
func NACLName(t Tier) string { return string(t) + "-nacl" }

type roleInfo struct {
	// tier is where the role's ENIs live; "" for parties outside the VPC.
	tier Tier
	// group is true when the role carries a security group of its own.
	group bool
	// ephemeral is the source port range of connections the role opens.
	ephemeral Port
	// about describes the role; it becomes its security group's description.
	about string
	// hop is true for a role that is only ever a flow's Via: it has no ENIs and no addresses.
	hop bool
}

var roleInfos = map[Role]roleInfo{
	Internet:        {ephemeral: EphemeralAny, about: "any internet client"},
	Admin:           {ephemeral: EphemeralAny, about: "operators at the admin CIDRs"},
	Repos:           {ephemeral: EphemeralAny, about: "package repositories"},
	Bastion:         {tier: Public, group: true, ephemeral: EphemeralLinux, about: "bastion hosts: the only SSH entry from outside"},
	ALB:             {tier: Public, group: true, ephemeral: EphemeralAny, about: "internet-facing application load balancer nodes"},
	NAT:             {tier: Public, ephemeral: EphemeralAny, about: "NAT gateways: web servers' only way out"},
	Web:             {tier: WebTier, group: true, ephemeral: EphemeralLinux, about: "web servers in the Auto Scaling group"},
	EFS:             {tier: WebTier, group: true, about: "EFS mount targets of the shared file system"},
	DB:              {tier: DBTier, group: true, about: "RDS MySQL Multi-AZ primary and standby"},
	SecretsEndpoint: {tier: WebTier, group: true, about: "Secrets Manager interface endpoint"},
	SSMEndpoint:     {tier: WebTier, group: true, about: "Systems Manager interface endpoints: ssm, ssmmessages, ec2messages"},
	S3Gateway:       {hop: true, about: "S3 gateway endpoint: a route target of the web subnets, no interface"},
}

// Roles lists every role an endpoint plays, in a fixed order (S3Gateway, only a hop, is not one).
var Roles = []Role{Internet, Admin, Repos, Bastion, ALB, NAT, Web, EFS, DB, SecretsEndpoint, SSMEndpoint}

// Known reports whether r is a role of the web tier.
func (r Role) Known() bool { _, ok := roleInfos[r]; return ok }

// Outside reports whether the role lives outside the VPC (addressed by CIDR).
func (r Role) Outside() bool { return roleInfos[r].tier == "" && !roleInfos[r].hop }

// Hop reports whether the role is only a hop on the way (Flow.Via), never an end.
func (r Role) Hop() bool { return roleInfos[r].hop }

// Tier is the subnet tier of an inside role.
func (r Role) Tier() Tier { return roleInfos[r].tier }

// HasGroup reports whether the role carries its own security group.
func (r Role) HasGroup() bool { return roleInfos[r].group }

// Ephemeral is the source port range of the connections the role opens.
func (r Role) Ephemeral() Port { return roleInfos[r].ephemeral }

// About describes the role in a sentence fragment.
func (r Role) About() string { return roleInfos[r].about }

// GroupName is the name of the role's security group: "web-sg".
func (r Role) GroupName() string { return string(r) + "-sg" }

func itoa(n int) string { return strconv.Itoa(n) }
