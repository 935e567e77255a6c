package verify

import (
	"strings"
)

// What AWS decides above the packets, as the model holds it: the IAM roles and their policies,
// the instance profiles the web servers' launch templates name, the flow logs and their log
// groups, the file systems and their policies, the databases' secrets and monitoring roles, the
// VPC endpoints' policies. The authorization checks, the baseline and the twin's stand-ins
// (AccessOf) read these and nothing else. Each element carries its provenance: Addr, the
// resource address in a synthesized stack, and ID, the AWS ID (or ARN) read back from AWS.

// Role is an IAM role with its policies.
type Role struct {
	Addr string
	// ID is the role's ARN when the stack states it as a literal (read back from AWS); else "".
	ID string
	// Name and ARN are the role's name and arn attributes as the stack writes them ("" unset).
	Name, ARN string
	// Trust is the trust policy (assume_role_policy); HasTrust is false when the stack states
	// none.
	Trust    string
	HasTrust bool
	// Policies are its inline policies, Attached the managed policies attached to it, in
	// address order.
	Policies []*RolePolicy
	Attached []*PolicyAttachment
}

// RolePolicy is one inline policy of a role: its JSON text, references unresolved.
type RolePolicy struct {
	Addr string
	Role *Role
	Text string
}

// PolicyAttachment attaches the managed policy PolicyARN to a role.
type PolicyAttachment struct {
	Addr      string
	Role      *Role
	PolicyARN string
}

// InstanceProfile gives instances a role; Role is nil when its role attribute names no role
// of the stack.
type InstanceProfile struct {
	Addr string
	Role *Role
}

// Fleet is an Auto Scaling group and the launch template it launches from (the first of its
// launch_template blocks naming one of the stack; nil when none does).
type Fleet struct {
	Addr string
	ID   string
	// Name is the group's name attribute ("" when the stack leaves it to terraform).
	Name     string
	Template *LaunchTemplate
	// MinSize is min_size; CPUTracked is true when a target-tracking policy on average CPU
	// scales it.
	MinSize    int
	CPUTracked bool
}

// LaunchTemplate is a launch template's instance profile: HasProfile is false when it names
// none, Profile nil when the one it names is not of the stack. ProfileRef is the profile's
// ARN (or name) when the template names it by a literal (as read back from AWS).
type LaunchTemplate struct {
	Addr       string
	HasProfile bool
	Profile    *InstanceProfile
	ProfileRef string
}

// InstanceRoleOf is a standalone instance's (aws_instance) instance profile: HasProfile is
// false when it names none, Profile nil when the one it names is not of the stack.
type InstanceRoleOf struct {
	Addr       string
	HasProfile bool
	Profile    *InstanceProfile
}

// LogGroup is a CloudWatch Logs group.
type LogGroup struct {
	Addr string
	// ID is the literal id attribute of a group read back from AWS; else "".
	ID string
	// Name is "" when the stack does not state it as a literal (HasName false), ARN the arn
	// attribute as written ("" when unset).
	Name    string
	HasName bool
	ARN     string
	// Retention is retention_in_days (0: kept forever).
	Retention int
}

// FlowLog is a VPC flow log: what it records, where to, and the role that delivers it (Group
// and Role are nil when the attribute names nothing of the stack).
type FlowLog struct {
	Addr string
	// ID is the literal id of a flow log read back from AWS; else "".
	ID string
	// VPC is the address of the VPC it records, "" when it names none of the stack.
	VPC             string
	TrafficType     string
	DestinationType string
	Group           *LogGroup
	Role            *Role
}

// FileSystem is an EFS file system and its policy (nil: none, EFS's default applies).
type FileSystem struct {
	Addr string
	// ID is the literal id of a file system read back from AWS; else "". ARN likewise.
	ID, ARN string
	Policy  *FileSystemPolicy
}

// EFSMountTarget is a mount target and its file system (nil: none of the stack).
type EFSMountTarget struct {
	Addr       string
	FileSystem *FileSystem
}

// FileSystemPolicy is a file system's resource policy.
type FileSystemPolicy struct {
	Addr string
	Text string
}

// DBInstance is what the authorization checks read of a database instance.
type DBInstance struct {
	Addr string
	// ID is the literal id of an instance read back from AWS; else "".
	ID string
	// Identifier is the identifier attribute ("" when the stack does not write one).
	Identifier string
	// ManagedSecret is manage_master_user_password; SecretARN the managed secret's ARN as read
	// back from AWS ("" in a synthesized stack, where it exists only after apply).
	ManagedSecret bool
	SecretARN     string
	// HasMonitoringRole is true when monitoring_role_arn is set; MonitoringRole is the role it
	// names, nil when that is not a role of the stack.
	HasMonitoringRole bool
	MonitoringRole    *Role
	// LogExports are enabled_cloudwatch_logs_exports: the logs it sends to CloudWatch Logs
	// ("" for an entry that is not a literal).
	LogExports []string
	// Username is the master user's name ("" unset); usernameValue the value as written.
	Username      string
	usernameValue string
	// Storage and MaxStorage are allocated_storage and max_allocated_storage (0 unset), in GiB.
	Storage, MaxStorage int
	// MonitoringInterval is enhanced monitoring's interval in seconds (0: off).
	MonitoringInterval float64
	// ParameterGroup is the parameter group of the stack it names, nil when none.
	ParameterGroup *DBParameterGroup
	// DependsOn are the addresses of its depends_on: the Terraform configuration's order.
	DependsOn []string
	// MultiAZ and Public are multi_az and publicly_accessible; SubnetGroup is the address of
	// the subnet group of the stack it names ("" none).
	MultiAZ, Public bool
	SubnetGroup     string
}

// VPCEndpoint is a VPC endpoint's service and policy ("" for AWS's default, full access), and
// whether private DNS makes the service's regional name resolve to it.
type VPCEndpoint struct {
	Addr       string
	ID         string
	Service    string
	Policy     string
	PrivateDNS bool
}

// loadAuthority reads the elements above. A reference that names nothing of the stack is no
// load error: the checks that need it say what is missing.
func (l *loader) loadAuthority() {
	q := &loader{s: l.s} // what it finds wrong, the checks say
	n := l.n
	roles := map[string]*Role{}
	q.each(func(r *resource) {
		role := &Role{Addr: r.Addr, ID: awsID(r)}
		role.Name, _ = r.Attrs["name"].(string)
		role.ARN, _ = r.Attrs["arn"].(string)
		role.Trust, role.HasTrust = r.Attrs["assume_role_policy"].(string)
		roles[r.Addr] = role
		n.Roles = append(n.Roles, role)
		if parts := strings.Split(role.ARN, ":"); n.Deployed && strings.HasPrefix(role.ARN, "arn:") && len(parts) > 4 {
			n.Account = parts[4] // a deployed stack's account is the one its roles' ARNs name
		}
	}, "aws_iam_role")
	roleAt := func(f field) *Role {
		if r, _ := f.ref("aws_iam_role"); r != nil {
			return roles[r.Addr]
		}
		return nil
	}
	q.each(func(r *resource) {
		if role := roleAt(q.attr(r, "role")); role != nil {
			text, _ := r.Attrs["policy"].(string)
			role.Policies = append(role.Policies, &RolePolicy{Addr: r.Addr, Role: role, Text: text})
		}
	}, "aws_iam_role_policy")
	q.each(func(r *resource) {
		if role := roleAt(q.attr(r, "role")); role != nil {
			arn, _ := r.Attrs["policy_arn"].(string)
			role.Attached = append(role.Attached, &PolicyAttachment{Addr: r.Addr, Role: role, PolicyARN: arn})
		}
	}, "aws_iam_role_policy_attachment")
	profiles := map[string]*InstanceProfile{}
	q.each(func(r *resource) {
		profiles[r.Addr] = &InstanceProfile{Addr: r.Addr, Role: roleAt(q.attr(r, "role"))}
	}, "aws_iam_instance_profile")
	q.each(func(r *resource) {
		in := &InstanceRoleOf{Addr: r.Addr}
		if f := q.attr(r, "iam_instance_profile"); f.set() {
			in.HasProfile = true
			if p, _ := f.ref("aws_iam_instance_profile"); p != nil {
				in.Profile = profiles[p.Addr]
			}
		}
		n.InstanceRoles = append(n.InstanceRoles, in)
	}, "aws_instance")
	q.each(func(r *resource) {
		f := &Fleet{Addr: r.Addr, ID: awsID(r)}
		f.Name, _ = r.Attrs["name"].(string)
		f.MinSize, _ = q.attr(r, "min_size").integer()
		_, f.CPUTracked = q.cpuTarget(r)
		for _, b := range q.attr(r, "launch_template").list() {
			lt, _ := b.get("id").ref("aws_launch_template")
			if lt == nil {
				continue
			}
			f.Template = &LaunchTemplate{Addr: lt.Addr}
			if list := q.attr(lt, "iam_instance_profile").list(); len(list) > 0 {
				f.Template.HasProfile = true
				for _, key := range []string{"arn", "name"} {
					if p := list[0].get(key); p.set() {
						f.Template.ProfileRef, _ = p.v.(string)
						if r, _ := p.ref("aws_iam_instance_profile"); r != nil {
							f.Template.Profile = profiles[r.Addr]
						} else {
							f.Template.Profile = nil
						}
					}
				}
			}
			break
		}
		n.Fleets = append(n.Fleets, f)
	}, "aws_autoscaling_group")
	l.deployedFleetsAbove()
	groups := map[string]*LogGroup{}
	q.each(func(r *resource) {
		g := &LogGroup{Addr: r.Addr, ID: awsID(r)}
		g.Name, g.HasName = r.Attrs["name"].(string)
		g.ARN, _ = r.Attrs["arn"].(string)
		g.Retention, _ = q.attr(r, "retention_in_days").integer()
		groups[r.Addr] = g
		n.LogGroups = append(n.LogGroups, g)
	}, "aws_cloudwatch_log_group")
	q.each(func(r *resource) {
		fl := &FlowLog{Addr: r.Addr, ID: awsID(r), Role: roleAt(q.attr(r, "iam_role_arn"))}
		if v, _ := q.attr(r, "vpc_id").ref("aws_vpc"); v != nil {
			fl.VPC = v.Addr
		}
		fl.TrafficType, _ = q.attr(r, "traffic_type").str()
		fl.DestinationType, _ = q.attr(r, "log_destination_type").str()
		if g, _ := q.attr(r, "log_destination").ref("aws_cloudwatch_log_group"); g != nil {
			fl.Group = groups[g.Addr]
		}
		n.FlowLogs = append(n.FlowLogs, fl)
	}, "aws_flow_log")
	systems := map[string]*FileSystem{}
	q.each(func(r *resource) {
		fs := &FileSystem{Addr: r.Addr}
		fs.ID, _ = r.Attrs["id"].(string)
		fs.ARN, _ = r.Attrs["arn"].(string)
		systems[r.Addr] = fs
		n.FileSystems = append(n.FileSystems, fs)
	}, "aws_efs_file_system")
	l.deployedFileSystems()
	q.each(func(r *resource) {
		if target, _ := q.attr(r, "file_system_id").ref("aws_efs_file_system"); target != nil && systems[target.Addr].Policy == nil {
			text, _ := r.Attrs["policy"].(string)
			systems[target.Addr].Policy = &FileSystemPolicy{Addr: r.Addr, Text: text}
		}
	}, "aws_efs_file_system_policy")
	q.each(func(r *resource) {
		mt := &EFSMountTarget{Addr: r.Addr}
		if fs, _ := q.attr(r, "file_system_id").ref("aws_efs_file_system"); fs != nil {
			mt.FileSystem = systems[fs.Addr]
		}
		n.MountTargets = append(n.MountTargets, mt)
	}, "aws_efs_mount_target")
	l.deployedMountTargetsOf()
	q.each(func(r *resource) {
		db := &DBInstance{Addr: r.Addr, ID: awsID(r)}
		db.Identifier, _ = r.Attrs["identifier"].(string)
		db.ManagedSecret, _ = r.Attrs["manage_master_user_password"].(bool)
		db.MultiAZ, _ = q.attr(r, "multi_az").boolean()
		db.Public, _ = q.attr(r, "publicly_accessible").boolean()
		if g, _ := q.attr(r, "db_subnet_group_name").ref("aws_db_subnet_group"); g != nil {
			db.SubnetGroup = g.Addr
		}
		for _, s := range q.attr(r, "master_user_secret").list() {
			if arn, ok := s.get("secret_arn").str(); ok && db.SecretARN == "" && strings.HasPrefix(arn, "arn:") {
				db.SecretARN = arn
			}
		}
		if _, set := r.Attrs["monitoring_role_arn"]; set {
			db.HasMonitoringRole, db.MonitoringRole = true, roleAt(q.attr(r, "monitoring_role_arn"))
		}
		for _, f := range q.attr(r, "enabled_cloudwatch_logs_exports").list() {
			s, _ := f.str()
			db.LogExports = append(db.LogExports, s)
		}
		n.DBInstances = append(n.DBInstances, db)
	}, "aws_db_instance")
	l.deployedDBInstances()
	q.each(func(r *resource) {
		e := &VPCEndpoint{Addr: r.Addr, ID: awsID(r)}
		e.Service, _ = q.attr(r, "service_name").str()
		e.Policy, _ = r.Attrs["policy"].(string)
		e.PrivateDNS, _ = q.attr(r, "private_dns_enabled").boolean()
		n.VPCEndpoints = append(n.VPCEndpoints, e)
	}, "aws_vpc_endpoint")
	for _, e := range sortedBy(l.d.Endpoints, func(DeployedEndpoint) bool { return false }) {
		n.VPCEndpoints = append(n.VPCEndpoints, &VPCEndpoint{Addr: e.Addr, ID: e.ID, Service: e.Service, Policy: e.Policy, PrivateDNS: e.PrivateDNS})
	}
	l.deployedAuthority()
}
