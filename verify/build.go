package verify

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/webtier/webtier/rules"
)

// Deployed is what a reader of a deployed stack found, in AWS's terms: all the model holds of
// it. The network (build_network.go: VPCs, subnets, internet gateways, route tables with their
// routes and subnets, network ACLs with their entries and subnets, security groups and their
// rules, prefix lists), what sends and receives (build_compute.go: Elastic IPs, instances, NAT
// gateways, VPC endpoints, interfaces the model does not hold; build_balancers.go: load
// balancers with their listeners and rules, target groups with the targets no Auto Scaling
// group placed; build_fleets.go: Auto Scaling groups with their launch templates and scaling
// policies; the file systems and their mount targets, the database instances and their
// subnet groups), and above the packets IAM roles with their policies, instance profiles, flow
// logs and their log groups, file-system policies. Addr is the address the reader names an
// element by (its provenance in reports, as a resource address is a synthesized stack's);
// ARNs and IDs link the elements to each other. It is JSON as it is (the twin saves it).
type Deployed struct {
	VPCs               []DeployedVPC        `json:"vpcs,omitempty"`
	Subnets            []DeployedSubnet     `json:"subnets,omitempty"`
	InternetGateways   []DeployedGateway    `json:"internet_gateways,omitempty"`
	RouteTables        []DeployedRouteTable `json:"route_tables,omitempty"`
	NACLs              []DeployedNACL       `json:"network_acls,omitempty"`
	SecurityGroups     []DeployedGroup      `json:"security_groups,omitempty"`
	SecurityGroupRules []DeployedGroupRule  `json:"security_group_rules,omitempty"`
	PrefixLists        []DeployedPrefixList `json:"prefix_lists,omitempty"`
	ElasticIPs         []DeployedEIP        `json:"elastic_ips,omitempty"`
	Instances          []DeployedInstance   `json:"instances,omitempty"`
	NATGateways        []DeployedNAT        `json:"nat_gateways,omitempty"`
	Endpoints          []DeployedEndpoint   `json:"vpc_endpoints,omitempty"`
	// Interfaces are the addresses of network interfaces the model does not hold (a Lambda
	// function's, an instance's second one): noted, not judged.
	Interfaces         []string                `json:"interfaces,omitempty"`
	LoadBalancers      []DeployedLB            `json:"load_balancers,omitempty"`
	TargetGroups       []DeployedTargetGroup   `json:"target_groups,omitempty"`
	Fleets             []DeployedFleet         `json:"fleets,omitempty"`
	Templates          []DeployedTemplate      `json:"templates,omitempty"`
	ScalingPolicies    []DeployedScalingPolicy `json:"scaling_policies,omitempty"`
	FileSystems        []DeployedFileSystem    `json:"file_systems,omitempty"`
	MountTargets       []DeployedMountTarget   `json:"mount_targets,omitempty"`
	Databases          []DeployedDB            `json:"databases,omitempty"`
	DBSubnetGroups     []DeployedSubnetGroup   `json:"db_subnet_groups,omitempty"`
	Roles              []DeployedRole          `json:"roles,omitempty"`
	InstanceProfiles   []DeployedProfile       `json:"instance_profiles,omitempty"`
	LogGroups          []DeployedLogGroup      `json:"log_groups,omitempty"`
	FlowLogs           []DeployedFlowLog       `json:"flow_logs,omitempty"`
	FileSystemPolicies []DeployedPolicy        `json:"file_system_policies,omitempty"`
}

// DeployedFileSystem is an EFS file system.
type DeployedFileSystem struct {
	Addr string `json:"addr"`
	ID   string `json:"id"`
}

// DeployedMountTarget is an EFS mount target: the IDs of its file system, its subnet and its
// security groups.
type DeployedMountTarget struct {
	Addr       string   `json:"addr"`
	ID         string   `json:"id"`
	FileSystem string   `json:"file_system"`
	Subnet     string   `json:"subnet"`
	Groups     []string `json:"groups,omitempty"`
}

// DeployedDB is a database instance: Addr names an Aurora cluster's instance too (Cluster
// set), which the model does not hold. Role is its rules.RoleTag tag; SubnetGroup the name of
// its subnet group (DeployedSubnetGroup), Groups the IDs of its security groups; SecretARN its
// managed master-user secret's ARN ("" when none).
type DeployedDB struct {
	Addr        string   `json:"addr"`
	ID          string   `json:"id"`
	Role        string   `json:"role,omitempty"`
	Cluster     string   `json:"cluster,omitempty"`
	MultiAZ     bool     `json:"multi_az"`
	Public      bool     `json:"public"`
	SubnetGroup string   `json:"subnet_group,omitempty"`
	Groups      []string `json:"groups,omitempty"`
	LogExports  []string `json:"log_exports,omitempty"`
	SecretARN   string   `json:"secret_arn,omitempty"`
}

// DeployedSubnetGroup is a DB subnet group: its name and its subnets' IDs.
type DeployedSubnetGroup struct {
	Addr    string   `json:"addr"`
	Name    string   `json:"name"`
	Subnets []string `json:"subnets,omitempty"`
}

// DeployedRole is an IAM role: Trust is its trust policy ("" when not read).
type DeployedRole struct {
	Addr     string               `json:"addr"`
	ARN      string               `json:"arn"`
	Name     string               `json:"name"`
	Trust    string               `json:"trust,omitempty"`
	Policies []DeployedPolicy     `json:"policies,omitempty"`
	Attached []DeployedAttachment `json:"attached,omitempty"`
}

// DeployedPolicy is a policy document; Of is the ID of what it is the policy of (a file
// system's ID), "" for a role's inline policy.
type DeployedPolicy struct {
	Addr string `json:"addr"`
	Of   string `json:"of,omitempty"`
	Text string `json:"text"`
}

// DeployedAttachment is a managed policy attached to a role.
type DeployedAttachment struct {
	Addr      string `json:"addr"`
	PolicyARN string `json:"policy_arn"`
}

// DeployedProfile is an instance profile and the ARN of its role.
type DeployedProfile struct {
	Addr string `json:"addr"`
	ARN  string `json:"arn"`
	Role string `json:"role,omitempty"`
}

// DeployedLogGroup is a CloudWatch Logs group (Retention 0: kept forever).
type DeployedLogGroup struct {
	Addr      string `json:"addr"`
	ARN       string `json:"arn"`
	Name      string `json:"name"`
	Retention int    `json:"retention"`
}

// DeployedFlowLog is a flow log: the ID of the VPC it records, the ARNs of its destination
// and of its delivery role.
type DeployedFlowLog struct {
	Addr            string `json:"addr"`
	ID              string `json:"id"`
	VPC             string `json:"vpc"`
	TrafficType     string `json:"traffic_type"`
	DestinationType string `json:"destination_type"`
	Destination     string `json:"destination"`
	Role            string `json:"role"`
}

// LoadDeployed builds the model of a deployed stack from what a reader of AWS's answers found
// (package live): each family at the step where Load builds a synthesized stack's from its
// Terraform JSON, so that the model's order, and every report, is the one a synthesized stack
// of the same resources gets. What it lacks was not read rather than missing (an
// authorization check that needs it says "not read", never "allowed" nor a defect), and its
// account is the one its roles' ARNs name. The network's Deployed says so.
func LoadDeployed(d Deployed) (*Network, error) {
	s := &stack{byAddr: map[string]*resource{}, byType: map[string][]*resource{}}
	s.markDeployed()
	return load(s, d)
}

// LoadDeployedJSON is LoadDeployed of a Deployed as JSON (what the twin saves of a deployed
// stack); a member of the wrong type, or one Deployed does not have, is a load error naming it.
func LoadDeployedJSON(data []byte) (*Network, error) {
	var d Deployed
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		return nil, &LoadError{[]string{"not a deployed stack (verify.Deployed as JSON): " + strings.TrimPrefix(err.Error(), "json: ")}}
	}
	return LoadDeployed(d)
}

// deployedAuthority builds what l.d holds above the packets into the network, in address
// order, each element linked by ARN or ID to what the network holds: a flow log to its VPC, a
// launch template to the instance profile it names, a policy to its file system. A link that
// finds nothing stays empty, and the checks that need it say so.
func (l *loader) deployedAuthority() {
	n, d := l.n, l.d
	roles := map[string]*Role{}
	for _, r := range slices.SortedFunc(slices.Values(d.Roles), byAddrOf[DeployedRole]) {
		role := &Role{Addr: r.Addr, ID: r.ARN, Name: r.Name, ARN: r.ARN, Trust: r.Trust, HasTrust: r.Trust != ""}
		for _, p := range slices.SortedFunc(slices.Values(r.Policies), byAddrOf[DeployedPolicy]) {
			role.Policies = append(role.Policies, &RolePolicy{Addr: p.Addr, Role: role, Text: p.Text})
		}
		for _, a := range slices.SortedFunc(slices.Values(r.Attached), byAddrOf[DeployedAttachment]) {
			role.Attached = append(role.Attached, &PolicyAttachment{Addr: a.Addr, Role: role, PolicyARN: a.PolicyARN})
		}
		roles[r.ARN] = role
		n.Roles = append(n.Roles, role)
		if parts := strings.Split(r.ARN, ":"); strings.HasPrefix(r.ARN, "arn:") && len(parts) > 4 {
			n.Account = parts[4]
		}
	}
	profiles := map[string]*InstanceProfile{}
	for _, p := range d.InstanceProfiles {
		profiles[p.ARN] = &InstanceProfile{Addr: p.Addr, Role: roles[p.Role]}
	}
	for _, f := range n.Fleets {
		if t := f.Template; t != nil && t.HasProfile && t.Profile == nil {
			t.Profile = profiles[t.ProfileRef]
		}
	}
	groups := map[string]*LogGroup{}
	for _, g := range slices.SortedFunc(slices.Values(d.LogGroups), byAddrOf[DeployedLogGroup]) {
		lg := &LogGroup{Addr: g.Addr, ID: g.Name, Name: g.Name, HasName: true, ARN: g.ARN, Retention: g.Retention}
		groups[g.ARN] = lg
		n.LogGroups = append(n.LogGroups, lg)
	}
	for _, fl := range slices.SortedFunc(slices.Values(d.FlowLogs), byAddrOf[DeployedFlowLog]) {
		f := &FlowLog{Addr: fl.Addr, ID: fl.ID, TrafficType: fl.TrafficType, DestinationType: fl.DestinationType,
			Group: groups[fl.Destination], Role: roles[fl.Role]}
		for _, v := range n.VPCs {
			if v.ID != "" && v.ID == fl.VPC {
				f.VPC = v.Addr
			}
		}
		n.FlowLogs = append(n.FlowLogs, f)
	}
	for _, p := range slices.SortedFunc(slices.Values(d.FileSystemPolicies), byAddrOf[DeployedPolicy]) {
		for _, fs := range n.FileSystems {
			if fs.ID != "" && fs.ID == p.Of && fs.Policy == nil {
				fs.Policy = &FileSystemPolicy{Addr: p.Addr, Text: p.Text}
			}
		}
	}
}

// addressed is an element of Deployed, named by its address.
type addressed interface{ address() string }

func (x DeployedRole) address() string        { return x.Addr }
func (x DeployedPolicy) address() string      { return x.Addr }
func (x DeployedAttachment) address() string  { return x.Addr }
func (x DeployedLogGroup) address() string    { return x.Addr }
func (x DeployedFlowLog) address() string     { return x.Addr }
func (x DeployedFileSystem) address() string  { return x.Addr }
func (x DeployedMountTarget) address() string { return x.Addr }
func (x DeployedDB) address() string          { return x.Addr }

// byAddrOf orders elements of Deployed by address, as the loader takes a Terraform stack's
// resources.
func byAddrOf[T addressed](a, b T) int { return cmp.Compare(a.address(), b.address()) }

// deployedFileSystems builds the file systems l.d holds.
func (l *loader) deployedFileSystems() {
	for _, fs := range slices.SortedFunc(slices.Values(l.d.FileSystems), byAddrOf[DeployedFileSystem]) {
		l.n.FileSystems = append(l.n.FileSystems, &FileSystem{Addr: fs.Addr, ID: fs.ID})
	}
}

// deployedMountTargets places the mount targets l.d holds in their subnets, with their
// security groups (each named by its ID).
func (l *loader) deployedMountTargets() {
	for _, mt := range slices.SortedFunc(slices.Values(l.d.MountTargets), byAddrOf[DeployedMountTarget]) {
		s := l.subnetByID(mt.Addr, "subnet_id", mt.Subnet)
		if s == nil {
			continue
		}
		groups := l.groupsByID(mt.Addr, "security_groups", mt.Groups)
		l.eniAt(mt.Addr, mt.ID, rules.EFS, MountTarget, []*Subnet{s}, groups, false, mountTargetsPrivate)
	}
}

// deployedMountTargetsOf links the mount targets l.d holds to their file systems.
func (l *loader) deployedMountTargetsOf() {
	for _, mt := range slices.SortedFunc(slices.Values(l.d.MountTargets), byAddrOf[DeployedMountTarget]) {
		m := &EFSMountTarget{Addr: mt.Addr}
		for _, fs := range l.n.FileSystems {
			if fs.ID != "" && fs.ID == mt.FileSystem {
				m.FileSystem = fs
			}
		}
		l.n.MountTargets = append(l.n.MountTargets, m)
	}
}

// subnetByID is the subnet whose AWS ID is id; none is a load error naming the element at
// addr and its attribute.
func (l *loader) subnetByID(addr, attr, id string) *Subnet {
	for _, s := range l.n.Subnets {
		if s.ID != "" && s.ID == id {
			return s
		}
	}
	l.errs.add("%s: %s: %q names no aws_subnet of the stack", addr, attr, id)
	return nil
}

// groupByID is the security group whose AWS ID is id; none is a load error as subnetByID's.
func (l *loader) groupByID(addr, attr, id string) *SecurityGroup {
	for _, k := range slices.Sorted(maps.Keys(l.groups)) {
		if g := l.groups[k]; g.ID != "" && g.ID == id {
			return g
		}
	}
	for _, k := range slices.Sorted(maps.Keys(l.groups)) {
		if g := l.groups[k]; g.ID != "" && g.Name == id {
			return g // a launch template may name its groups by name
		}
	}
	l.errs.add("%s: %s: %q names no %s of the stack", addr, attr, id, strings.Join(groupTypes, " or "))
	return nil
}

// deployedDatabases places the database instances l.d holds (not an Aurora cluster's, which
// the model does not hold) in the subnets of their subnet groups, with their security groups.
func (l *loader) deployedDatabases() {
	for _, db := range slices.SortedFunc(slices.Values(l.d.Databases), byAddrOf[DeployedDB]) {
		if db.Cluster != "" {
			continue
		}
		if db.SubnetGroup == "" {
			l.errs.add("%s: db_subnet_group_name: missing; the database would use the default VPC's subnet group, which is not in the stack", db.Addr)
			continue
		}
		i := slices.IndexFunc(l.d.DBSubnetGroups, func(g DeployedSubnetGroup) bool { return g.Name == db.SubnetGroup })
		if i < 0 {
			l.errs.add("%s: db_subnet_group_name: %q names no aws_db_subnet_group of the stack", db.Addr, db.SubnetGroup)
			continue
		}
		group := l.d.DBSubnetGroups[i]
		subnets := l.subnetsByID(group.Addr, "subnet_ids", group.Subnets)
		groups := l.groupsByID(db.Addr, "vpc_security_group_ids", db.Groups)
		why := fmt.Sprintf("publicly_accessible = %t on %s", db.Public, db.Addr)
		l.eniAt(db.Addr, db.ID, roleNamed(db.Role, rules.DB), Database, subnets, groups, db.Public, why)
	}
}

// deployedDBInstances are the database instances l.d holds as the checks read them.
func (l *loader) deployedDBInstances() {
	for _, db := range slices.SortedFunc(slices.Values(l.d.Databases), byAddrOf[DeployedDB]) {
		if db.Cluster != "" {
			continue
		}
		d := &DBInstance{Addr: db.Addr, ID: db.ID, Identifier: db.ID, MultiAZ: db.MultiAZ, Public: db.Public,
			LogExports: db.LogExports, usernameValue: "null"}
		if i := slices.IndexFunc(l.d.DBSubnetGroups, func(g DeployedSubnetGroup) bool { return g.Name == db.SubnetGroup }); i >= 0 {
			d.SubnetGroup = l.d.DBSubnetGroups[i].Addr
		}
		if db.SecretARN != "" {
			d.ManagedSecret = true
			if strings.HasPrefix(db.SecretARN, "arn:") {
				d.SecretARN = db.SecretARN
			}
		}
		l.n.DBInstances = append(l.n.DBInstances, d)
	}
}
