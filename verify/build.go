package verify

import (
	"cmp"
	"encoding/json"
	"slices"
	"strings"
)

// Deployed is what a reader of a deployed stack found above the packets, in AWS's terms: IAM
// roles with their policies, instance profiles, flow logs and their log groups, file-system
// policies and the databases' managed secrets. Network.AddDeployed builds the model's elements
// from it, as the loader builds a synthesized stack's from its Terraform JSON. Addr is the
// address the reader names an element by (its provenance in reports, as a resource address is
// a synthesized stack's); ARNs and IDs link the elements to each other and to the network.
type Deployed struct {
	Roles              []DeployedRole     `json:"roles,omitempty"`
	InstanceProfiles   []DeployedProfile  `json:"instance_profiles,omitempty"`
	LogGroups          []DeployedLogGroup `json:"log_groups,omitempty"`
	FlowLogs           []DeployedFlowLog  `json:"flow_logs,omitempty"`
	FileSystemPolicies []DeployedPolicy   `json:"file_system_policies,omitempty"`
	Secrets            []DeployedSecret   `json:"secrets,omitempty"`
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

// DeployedSecret is a database's managed master-user secret: the instance's identifier and the
// secret's ARN.
type DeployedSecret struct {
	DB  string `json:"db"`
	ARN string `json:"arn"`
}

// deployedKey is where a deployed stack's document carries its Deployed beside the resources
// (LoadDeployed reads it; Load and terraform do not).
const deployedKey = "deployed"

// DeployedDocument is a document of a deployed stack for LoadDeployed: the resources of its
// network (Terraform JSON) and what Deployed holds.
func DeployedDocument(resources map[string]map[string]map[string]any, d Deployed) ([]byte, error) {
	return json.MarshalIndent(map[string]any{"resource": resources, deployedKey: d}, "", "  ")
}

// readDeployed reads the Deployed a deployed stack's document carries (none: an empty one).
func readDeployed(data []byte) (Deployed, error) {
	var doc struct {
		Deployed Deployed `json:"deployed"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return Deployed{}, &LoadError{[]string{deployedKey + ": " + strings.TrimPrefix(err.Error(), "json: ")}}
	}
	return doc.Deployed, nil
}

// AddDeployed builds the elements of d into the network, in address order, each linked by
// ARN or ID to what the network holds: a flow log to its VPC, a launch template to the
// instance profile it names, a policy to its file system, a secret to its database. A link
// that finds nothing stays empty, and the checks that need it say so.
func (n *Network) AddDeployed(d Deployed) {
	byAddrOrder := func(a, b string) int { return cmp.Compare(a, b) }
	roles := map[string]*Role{}
	for _, r := range slices.SortedFunc(slices.Values(d.Roles), func(a, b DeployedRole) int { return byAddrOrder(a.Addr, b.Addr) }) {
		role := &Role{Addr: r.Addr, ID: r.ARN, Name: r.Name, ARN: r.ARN, Trust: r.Trust, HasTrust: r.Trust != ""}
		for _, p := range slices.SortedFunc(slices.Values(r.Policies), func(a, b DeployedPolicy) int { return byAddrOrder(a.Addr, b.Addr) }) {
			role.Policies = append(role.Policies, &RolePolicy{Addr: p.Addr, Role: role, Text: p.Text})
		}
		for _, a := range slices.SortedFunc(slices.Values(r.Attached), func(a, b DeployedAttachment) int { return byAddrOrder(a.Addr, b.Addr) }) {
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
	for _, g := range slices.SortedFunc(slices.Values(d.LogGroups), func(a, b DeployedLogGroup) int { return byAddrOrder(a.Addr, b.Addr) }) {
		lg := &LogGroup{Addr: g.Addr, ID: g.Name, Name: g.Name, HasName: true, ARN: g.ARN, Retention: g.Retention}
		groups[g.ARN] = lg
		n.LogGroups = append(n.LogGroups, lg)
	}
	for _, fl := range slices.SortedFunc(slices.Values(d.FlowLogs), func(a, b DeployedFlowLog) int { return byAddrOrder(a.Addr, b.Addr) }) {
		f := &FlowLog{Addr: fl.Addr, ID: fl.ID, TrafficType: fl.TrafficType, DestinationType: fl.DestinationType,
			Group: groups[fl.Destination], Role: roles[fl.Role]}
		for _, v := range n.VPCs {
			if v.ID != "" && v.ID == fl.VPC {
				f.VPC = v.Addr
			}
		}
		n.FlowLogs = append(n.FlowLogs, f)
	}
	for _, p := range slices.SortedFunc(slices.Values(d.FileSystemPolicies), func(a, b DeployedPolicy) int { return byAddrOrder(a.Addr, b.Addr) }) {
		for _, fs := range n.FileSystems {
			if fs.ID != "" && fs.ID == p.Of && fs.Policy == nil {
				fs.Policy = &FileSystemPolicy{Addr: p.Addr, Text: p.Text}
			}
		}
	}
	for _, s := range d.Secrets {
		for _, db := range n.DBInstances {
			if db.ID != "" && db.ID == s.DB {
				db.ManagedSecret = true
				if strings.HasPrefix(s.ARN, "arn:") {
					db.SecretARN = s.ARN
				}
			}
		}
	}
}
