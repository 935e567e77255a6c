// Package verify proves the web tier's requirements on the synthesized Terraform JSON before
// anything is deployed: it loads the network (VPC, subnets, route tables, network ACLs,
// security groups and every endpoint that sends or receives), evaluates connections the way
// AWS does (see docs/aws-semantics.md), probes each requirement and enumerates every
// connection that gets through, layer by layer, against the flow table of package rules.
//
// Plain Go: no cdktf or jsii import. Reachability is judged from attributes only; tags name
// things (the `webtier:role` of an instance), nothing more.
package verify

import (
	"net/netip"
	"sync"

	"github.com/webtier/webtier/rules"
)

// Network is the reachability model of one synthesized stack.
type Network struct {
	VPCs    []*VPC
	Subnets []*Subnet
	// Endpoints are every ENI that sends or receives, in a fixed order (by resource address,
	// then subnet); outside addresses are made on demand by Outside.
	Endpoints []*Endpoint
	LBs       []*LoadBalancer
	// TargetGroups are the load balancers' target groups, in address order.
	TargetGroups []*TargetGroup
	// Gateways are the gateway endpoints (S3, DynamoDB), in address order.
	Gateways []*GatewayEndpoint
	// ElasticIPs are the stack's Elastic IP addresses, in address order (each the provenance
	// of one: its address, with its allocation ID read back from AWS).
	ElasticIPs []ElasticIP
	// What AWS decides above the packets (model_iam.go), each list in address order.
	Roles        []*Role
	Fleets       []*Fleet
	LogGroups    []*LogGroup
	FlowLogs     []*FlowLog
	FileSystems  []*FileSystem
	MountTargets []*EFSMountTarget
	DBInstances  []*DBInstance
	VPCEndpoints []*VPCEndpoint
	// InstanceRoles are the standalone instances' instance profiles (the bastions').
	InstanceRoles []*InstanceRoleOf
	// The notification path (model_alarms.go), each list in address order.
	Alarms             []*Alarm
	Topics             []*Topic
	EventSubscriptions []*DBEventSubscription
	EventRules         []*EventRule
	// Account is the account of a stack read back from AWS (its roles' ARNs name it), the
	// planned one (000000000000) of a synthesized stack.
	Account string
	// Notes are things the model could not take into account, said rather than hidden.
	Notes []string
	// Deployed is true for a stack read back from AWS (LoadDeployed), false for a synthesized
	// one: what a deployed stack lacks was not read, what a synthesized one lacks is missing.
	Deployed bool

	stack *stack
	// The stack's own network ACLs, security groups and route tables, in address order, and
	// the maximum entries of its prefix lists: what the quotas are counted on (quotas.go).
	stackNACLs  []*NACL
	stackGroups []*SecurityGroup
	stackTables []*RouteTable
	listMax     map[string]int
	// family is every IPv4 prefix the configuration mentions; addresses are chosen so that
	// each stands for a whole class of addresses no prefix tells apart.
	family []netip.Prefix
	// classes maps an address to the canonical address of its class (see classOf).
	classes   map[netip.Addr]netip.Addr
	byFamily  map[string]netip.Addr
	classesMu sync.Mutex
}

// VPC is one VPC with the things every subnet falls back to.
type VPC struct {
	Addr string
	// ID is the element's AWS ID in a stack read back from AWS (its provenance there, as
	// Addr is in a synthesized stack, where IDs exist only after apply); else "".
	ID    string
	CIDRs []netip.Prefix
	// IGW is the attached internet gateway's address, or "".
	IGW string
	// Main is the route table of subnets without an explicit association.
	Main *RouteTable
	// DefaultNACL applies to subnets no network ACL names.
	DefaultNACL *NACL
	// DefaultSG is the group of ENIs created without one; DefaultSGDeclared is true when the
	// stack declares it (aws_default_security_group: its rules are the stack's, not AWS's).
	DefaultSG         *SecurityGroup
	DefaultSGDeclared bool
}

// Contains reports whether addr is inside one of the VPC's CIDRs.
func (v *VPC) Contains(addr netip.Addr) bool {
	for _, c := range v.CIDRs {
		if c.Contains(addr) {
			return true
		}
	}
	return false
}

// ElasticIP is one Elastic IP address of the stack.
type ElasticIP struct {
	Addr string
	// ID is its allocation ID in a stack read back from AWS; else "".
	ID string
}

// Subnet is one subnet and what governs its traffic.
type Subnet struct {
	Addr string
	// ID is the element's AWS ID in a stack read back from AWS (its provenance there, as
	// Addr is in a synthesized stack, where IDs exist only after apply); else "".
	ID string
	// Name is the resource name: "web-a".
	Name      string
	VPC       *VPC
	CIDR      netip.Prefix
	AZ        string
	MapPublic bool
	Routes    *RouteTable
	NACL      *NACL
	// reps are addresses of the subnet that together stand for all of it (see family).
	reps []netip.Addr
}

// RouteTable is a route table with its routes; the local routes of the VPC are implicit.
type RouteTable struct {
	Addr string
	// ID is the element's AWS ID in a stack read back from AWS (its provenance there, as
	// Addr is in a synthesized stack, where IDs exist only after apply); else "".
	ID     string
	VPC    *VPC
	Routes []*Route
	locals []*Route
}

// TargetKind is where a route sends traffic.
type TargetKind int

// Route targets.
const (
	TargetLocal TargetKind = iota
	TargetIGW
	TargetNAT
	// TargetGateway is a gateway endpoint (S3, DynamoDB): the packets reach the service's
	// public addresses with both addresses kept, no public address needed.
	TargetGateway
	// TargetOther is a target the verifier does not follow (peering, transit gateway, ...).
	TargetOther
)

// Route sends Dest (or the CIDRs of the prefix list List) to a target.
type Route struct {
	// Addr is the route's resource address, or the table's for inline and local routes (the
	// gateway endpoint's for the routes it adds).
	Addr string
	Dest netip.Prefix
	// List names the prefix list a route goes to instead of Dest: a managed prefix list of the
	// stack, or an AWS-managed list by name ("com.amazonaws.ap-northeast-2.s3"), whose CIDRs
	// ListCIDRs holds once known (see Network.resolveLists).
	List      string
	ListCIDRs []netip.Prefix
	// managed is true when List is an AWS-managed list named by its service.
	managed bool
	Kind    TargetKind
	// Target is the target's resource address ("local" for the VPC's own routes).
	Target string
	// NAT is the NAT gateway's endpoint when Kind is TargetNAT.
	NAT *Endpoint
}

// dest renders the destination: "0.0.0.0/0", or "pl com.amazonaws.ap-northeast-2.s3".
func (r *Route) dest() string {
	switch {
	case r.managed:
		return "pl " + r.List
	case r.List != "":
		return "pl " + name(r.List)
	}
	return r.Dest.String()
}

// GatewayEndpoint is a gateway VPC endpoint: the service it reaches, the route tables that
// send the service's prefix list to it, and its policy document ("" for AWS's default, full
// access).
type GatewayEndpoint struct {
	Addr string
	// ID is the element's AWS ID in a stack read back from AWS (its provenance there, as
	// Addr is in a synthesized stack, where IDs exist only after apply); else "".
	ID      string
	Service string
	Tables  []*RouteTable
	Policy  string
}

// NACL is a network ACL: entries by direction, sorted by rule number.
type NACL struct {
	Addr string
	// ID is the element's AWS ID in a stack read back from AWS (its provenance there, as
	// Addr is in a synthesized stack, where IDs exist only after apply); else "".
	ID      string
	VPC     *VPC
	Ingress []*NACLEntry
	Egress  []*NACLEntry
	// aside counts, ingress then egress, the IPv4 entries the stack gives the ACL that the
	// model leaves out (they name addresses no ACL filters): AWS's quota counts them still.
	aside [2]int
}

// entries returns the entries of one direction, in rule-number order.
func (a *NACL) entries(egress bool) []*NACLEntry {
	if egress {
		return a.Egress
	}
	return a.Ingress
}

// NACLEntry is one numbered entry of a network ACL.
type NACLEntry struct {
	// Addr is the entry's resource address, or the NACL's with the block for inline entries.
	Addr   string
	Number int
	Egress bool
	Allow  bool
	Proto  Protocol
	// Ports is nil for a protocol without ports.
	Ports Ports
	CIDR  netip.Prefix
}

// SecurityGroup is a security group with its rules.
type SecurityGroup struct {
	Addr string
	// ID is the element's AWS ID in a stack read back from AWS (its provenance there, as
	// Addr is in a synthesized stack, where IDs exist only after apply); else "".
	ID      string
	Name    string
	VPC     *VPC
	Ingress []*SGRule
	Egress  []*SGRule
	// Role is the role its rules.RoleTag tag names ("" none).
	Role rules.Role
	// aside counts, ingress then egress, the IPv4 peers of the stack's rules that the model
	// leaves out (addresses no security group filters): AWS's quota counts them still.
	aside [2]int
}

// rules returns the rules of one direction.
func (g *SecurityGroup) rules(egress bool) []*SGRule {
	if egress {
		return g.Egress
	}
	return g.Ingress
}

// SGRule allows one peer on a protocol and ports, in one direction.
type SGRule struct {
	Addr   string
	Group  *SecurityGroup
	Egress bool
	Proto  Protocol
	Ports  Ports
	// The peer: a CIDR, a security group, or the CIDRs of a prefix list.
	CIDR       netip.Prefix
	Peer       *SecurityGroup
	PrefixList string
	ListCIDRs  []netip.Prefix
	// managed is true when PrefixList is an AWS-managed list named by its service (a gateway
	// endpoint's prefix_list_id), whose CIDRs the intent gives.
	managed bool
}

// Kind is what an endpoint is.
type Kind int

// Endpoint kinds.
const (
	Outside Kind = iota
	Instance
	ASGInstance
	LBNode
	NATGateway
	Database
	MountTarget
	InterfaceEndpoint
)

var kindNames = map[Kind]string{
	Outside: "outside address", Instance: "instance", ASGInstance: "Auto Scaling instance",
	LBNode: "load balancer node", NATGateway: "NAT gateway", Database: "database",
	MountTarget: "EFS mount target", InterfaceEndpoint: "interface endpoint",
}

func (k Kind) String() string { return kindNames[k] }

// Endpoint is one ENI that sends or receives (at one representative address of its subnet),
// or an address outside the VPC.
type Endpoint struct {
	// Name reads "web@web-a"; an outside address reads "internet 198.51.100.7".
	Name string
	// Role is the class of endpoint the flows speak of.
	Role rules.Role
	Kind Kind
	// Res is the resource the ENI belongs to: "aws_autoscaling_group.web".
	Res    string
	Subnet *Subnet
	Addr   netip.Addr
	Groups []*SecurityGroup
	// NoGroups is true for ENIs that security groups do not apply to (NAT gateways).
	NoGroups bool
	// Public is true when the ENI has a public address; PublicWhy says where it comes from
	// or why there is none.
	Public    bool
	PublicWhy string
	// Ephemeral is the source port range of the connections the endpoint opens.
	Ephemeral Ports
	// Multi is true when the endpoint stands for several ENIs (the instances of an Auto
	// Scaling group), so that it can talk to itself.
	Multi bool
	// Desired is the number of instances the Auto Scaling group keeps (desired_capacity, else
	// min_size), spread over its subnets; 0 for other endpoints.
	Desired int
	// Scaling is the Auto Scaling group's size limits and CPU target; nil for other endpoints.
	Scaling *Scaling
	// ID is the AWS ID of the ENI's resource in a stack read back from AWS (the instance's,
	// the NAT gateway's, the Auto Scaling group's name, the DB instance's identifier, ...), its
	// provenance there as Res is in a synthesized stack; else "".
	ID string
	// Instances are the running instances of an Auto Scaling group in this subnet, when the
	// stack knows them (a deployed stack read back).
	Instances []FleetInstance
	// UserData is the user data of an Auto Scaling group's launch template as the stack
	// writes it (not judged here; the twin reads which pages the web servers serve).
	UserData string
	// LB is the load balancer of a node.
	LB *LoadBalancer
	// Service is an interface endpoint's service: "com.amazonaws.ap-northeast-2.ssmmessages".
	Service string
	// public is the endpoint's public face, made by PublicFace.
	face *Endpoint
	// behind is the ENI whose public address an outside endpoint stands for.
	behind *Endpoint
	// eni is the loaded ENI this endpoint is an address of: itself, or the endpoint it was
	// copied from when a subnet has several address classes (see place).
	eni *Endpoint
	// groupKey names the set of security groups, for comparing endpoints.
	groupKey string
	// roles are the roles the endpoint plays for the flows, set by Verify.
	roles []rules.Role
}

// AZ is the availability zone of an ENI, or "".
func (e *Endpoint) AZ() string {
	if e.Subnet == nil {
		return ""
	}
	return e.Subnet.AZ
}

// Inside reports whether the endpoint is an ENI of the VPC.
func (e *Endpoint) Inside() bool { return e.Kind != Outside }

// carries reports whether the ENI carries the security group g.
func (e *Endpoint) carries(g *SecurityGroup) bool {
	for _, h := range e.Groups {
		if h == g {
			return true
		}
	}
	return false
}

// Scaling is an Auto Scaling group's size limits and its target tracking on average CPU.
type Scaling struct {
	Min, Max int
	// CPUTarget is the average CPU percent a target-tracking policy keeps the group at; 0 when
	// no policy tracks it.
	CPUTarget float64
	// Template is a digest of the launch template (or configuration) the group launches from,
	// as the stack writes it: two stacks whose digests differ give the group a new template
	// version. "" when the stack names none.
	Template string
	// Warmup is how long, in seconds, a new instance is not yet counted after it enters
	// service: the group's default_instance_warmup, else its health_check_grace_period (AWS's
	// default 300 s), as AWS takes it for an instance refresh.
	Warmup int
	// Refresh is the instance refresh terraform starts when the template changes; nil when the
	// group has none (a new template then reaches only the instances launched afterwards).
	Refresh *Refresh
}

// Refresh is an Auto Scaling group's instance refresh preferences, AWS's defaults for what the
// stack leaves out.
type Refresh struct {
	// MinHealthy is the share of the desired capacity, in percent, kept in service and healthy
	// (default 90); MaxHealthy the share it may run at (default 100: old instances are
	// terminated before their replacements launch; above 100 the new ones launch first).
	MinHealthy, MaxHealthy int
	// Warmup overrides the group's warm-up for the refresh (seconds; 0: the group's).
	Warmup int
	// SkipMatching skips instances already on the new template; AutoRollback goes back to the
	// old template when the refresh fails.
	SkipMatching, AutoRollback bool
}

// FleetInstance is one running instance of an Auto Scaling group.
type FleetInstance struct {
	ID   string
	Addr netip.Addr
}

// LoadBalancer is an ALB (or NLB) with its listeners and the target groups they forward to.
type LoadBalancer struct {
	Addr string
	// ID is the element's AWS ID (its ARN) in a stack read back from AWS (its provenance there, as
	// Addr is in a synthesized stack, where IDs exist only after apply); else "".
	ID        string
	Internal  bool
	CrossZone bool
	Listeners []*Listener
	Nodes     []*Endpoint
	// What the controls read (model_iam.go): deletion protection, the access logs (nil: no
	// access_logs block), and the rules (rule_json) of each web ACL of the stack associated
	// with it.
	DeletionProtection bool
	AccessLogs         *AccessLogs
	WebACLRules        []string
}

// Listener accepts connections on Port and forwards them to target groups.
type Listener struct {
	Addr   string
	Port   int
	Groups []*TargetGroup
	// Protocol is "HTTP" or "HTTPS"; RedirectsToHTTPS is true when every default action
	// (one at least) redirects to HTTPS.
	Protocol         string
	RedirectsToHTTPS bool
}

// TargetGroup sends to its targets on Port; health checks may use another port.
type TargetGroup struct {
	Addr string
	// ID is the element's AWS ID (its ARN) in a stack read back from AWS (its provenance there, as
	// Addr is in a synthesized stack, where IDs exist only after apply); else "".
	ID   string
	Port int
	// HealthPort is the health-check port when it is not the traffic port, else 0.
	HealthPort int
	// CrossZone is the group's own cross-zone setting, nil when it follows the balancer.
	CrossZone *bool
	// Health is the group's health check, AWS's defaults for what the stack leaves out;
	// PathSet is true when the stack names its path.
	Health  HealthCheck
	PathSet bool
	// Deregistration is how long, in seconds, a deregistered target keeps its requests in
	// flight (deregistration_delay, AWS's default 300) before it is removed.
	Deregistration int
	// Targets are the ENIs registered: instances of attached Auto Scaling groups and
	// attached instances.
	Targets []Target
}

// HealthCheck is how a target group decides that a target is healthy: an HTTP GET of Path
// every Interval seconds, answered within Timeout seconds with a status in Matcher; Healthy
// successes in a row bring a target in, Unhealthy failures take it out.
type HealthCheck struct {
	Path               string
	Interval, Timeout  int
	Healthy, Unhealthy int
	Matcher            string
}

// defaultHealth is an ALB target group's health check when the stack sets nothing (the
// Elastic Load Balancing API reference, CreateTargetGroup).
var defaultHealth = HealthCheck{Path: "/", Interval: 30, Timeout: 5, Healthy: 5, Unhealthy: 2, Matcher: "200"}

// Target is an ENI registered in a target group, on the group's port or its own.
type Target struct {
	ENI *Endpoint
	// Port is the attachment's own port (aws_lb_target_group_attachment.port), or 0 for the
	// group's.
	Port int
}

// portsTo are the ports the balancer connects to dst on, and whether dst is a target of g
// at all: for each registration of the ENI dst is an address of (see place), its traffic port
// (the attachment's, else the group's) and the health-check port, which is the traffic port
// unless the group names another.
func (g *TargetGroup) portsTo(dst *Endpoint) (ports Ports, ok bool) {
	for _, t := range g.Targets {
		if t.ENI.eni != dst.eni {
			continue
		}
		ok = true
		traffic := g.Port
		if t.Port != 0 {
			traffic = t.Port
		}
		ports = ports.Union(Port(traffic))
		if g.HealthPort != 0 {
			ports = ports.Union(Port(g.HealthPort))
		}
	}
	return ports, ok
}

// crossZone reports whether nodes of lb send to targets of g in other AZs.
func (g *TargetGroup) crossZone(lb *LoadBalancer) bool {
	if g.CrossZone != nil {
		return *g.CrossZone
	}
	return lb.CrossZone
}

// listenerPorts is the set of ports the balancer listens on.
func (lb *LoadBalancer) listenerPorts() Ports {
	var p Ports
	for _, l := range lb.Listeners {
		p = p.Union(Port(l.Port))
	}
	return p
}

// azs are the availability zones the balancer has nodes in.
func (lb *LoadBalancer) azs() map[string]bool {
	out := map[string]bool{}
	for _, n := range lb.Nodes {
		out[n.AZ()] = true
	}
	return out
}
