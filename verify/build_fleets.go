package verify

import (
	"fmt"
	"net/netip"
	"slices"

	"github.com/webtier/webtier/rules"
)

// The Auto Scaling groups of a deployed stack in AWS's terms (Deployed).

// DeployedFleet is an Auto Scaling group (ID its name): its size, subnets by ID, the launch
// template (ID and version as the group names it, Mixed when through a mixed instances
// policy) or configuration (its name) it launches from, its health-check grace period and
// default warm-up in seconds (nil: not set), its target groups' ARNs, its rules.RoleTag tag
// and the instances it runs, which a deployment has and a configuration does not.
type DeployedFleet struct {
	Addr          string           `json:"addr"`
	ID            string           `json:"id"`
	Min           int              `json:"min"`
	Max           int              `json:"max"`
	Desired       int              `json:"desired"`
	Subnets       []string         `json:"subnets,omitempty"`
	Template      string           `json:"template,omitempty"`
	Version       string           `json:"version,omitempty"`
	Mixed         bool             `json:"mixed,omitempty"`
	Configuration string           `json:"configuration,omitempty"`
	Grace         *int             `json:"grace,omitempty"`
	Warmup        *int             `json:"warmup,omitempty"`
	TargetGroups  []string         `json:"target_groups,omitempty"`
	Role          string           `json:"role,omitempty"`
	Instances     []DeployedMember `json:"instances,omitempty"`
}

// DeployedMember is a running instance of a group: its ID, subnet ID and private address.
type DeployedMember struct {
	ID        string `json:"id"`
	Subnet    string `json:"subnet"`
	PrivateIP string `json:"private_ip"`
}

// DeployedTemplate is the version of a launch template a group uses (ID and Version as the
// group names them), or a launch configuration (Configuration true, ID its name): the security
// groups of its first network interface and its own (by ID, or by name), whether it gives
// the instances a public address (nil: the subnet decides), its user data, the ARN of its
// instance profile, its instance type and image.
type DeployedTemplate struct {
	Addr          string   `json:"addr"`
	ID            string   `json:"id"`
	Version       string   `json:"version,omitempty"`
	Configuration bool     `json:"configuration,omitempty"`
	Groups        []string `json:"groups,omitempty"`
	GroupNames    []string `json:"group_names,omitempty"`
	Public        *bool    `json:"public,omitempty"`
	UserData      string   `json:"user_data,omitempty"`
	Profile       string   `json:"profile,omitempty"`
	InstanceType  string   `json:"instance_type,omitempty"`
	Image         string   `json:"image,omitempty"`
}

// DeployedScalingPolicy is a scaling policy of the group named Group: its type and, for target
// tracking, its predefined metric and target value.
type DeployedScalingPolicy struct {
	Addr   string  `json:"addr"`
	Group  string  `json:"group"`
	Type   string  `json:"type"`
	Metric string  `json:"metric,omitempty"`
	Target float64 `json:"target,omitempty"`
}

func (x DeployedFleet) address() string { return x.Addr }

// templateOf is the launch template (or configuration) the group f launches from, nil with a
// load error when it names none of the stack.
func (l *loader) templateOf(f DeployedFleet) *DeployedTemplate {
	for i, t := range l.d.Templates {
		if f.Configuration != "" && t.Configuration && t.ID == f.Configuration ||
			f.Template != "" && !t.Configuration && t.ID == f.Template && t.Version == f.Version {
			return &l.d.Templates[i]
		}
	}
	switch {
	case f.Configuration != "":
		l.failAt(f.Addr, "launch_configuration")("%q names no aws_launch_configuration of the stack", f.Configuration)
	case f.Template != "":
		l.failAt(f.Addr, "launch_template")("%q (version %s) names no aws_launch_template of the stack", f.Template, f.Version)
	default:
		l.failAt(f.Addr, "launch_template")("missing; the verifier needs the launch template (or configuration) of the instances")
	}
	return nil
}

// deployedCPUTarget is the target value of the target-tracking policy on average CPU that
// scales the group named group, and whether there is one.
func (l *loader) deployedCPUTarget(group string) (float64, bool) {
	for _, p := range sortedBy(l.d.ScalingPolicies, func(DeployedScalingPolicy) bool { return false }) {
		if p.Group == group && cpuTracking(p.Type, p.Metric) {
			return p.Target, true
		}
	}
	return 0, false
}

func (x DeployedScalingPolicy) address() string { return x.Addr }

// deployedFleets builds the Auto Scaling groups l.d holds: an endpoint in each subnet standing
// for its instances there (with the running ones), registered in its target groups.
func (l *loader) deployedFleets() {
	for _, f := range sortedBy(l.d.Fleets, func(DeployedFleet) bool { return false }) {
		if len(f.Subnets) == 0 {
			l.failAt(f.Addr, "vpc_zone_identifier")("missing; without subnets the instances land in the default VPC, which is not in the stack")
			continue
		}
		subnets := l.subnetsByID(f.Addr, "vpc_zone_identifier", f.Subnets)
		t := l.templateOf(f)
		if t == nil {
			continue
		}
		groups := append(l.groupsByID(t.Addr, "vpc_security_group_ids", t.Groups), l.groupsByID(t.Addr, "security_group_names", t.GroupNames)...)
		template := *t
		template.Addr = ""
		scaling := &Scaling{Min: f.Min, Max: f.Max, Template: digestOf(template), Warmup: defaultGrace}
		scaling.CPUTarget, _ = l.deployedCPUTarget(f.ID)
		for _, n := range []*int{f.Grace, f.Warmup} {
			if n != nil {
				scaling.Warmup = *n
			}
		}
		publicAttr := "network_interfaces[0].associate_public_ip_address"
		if t.Configuration {
			publicAttr = "associate_public_ip_address"
		}
		enis := l.addFleet(f.Addr, f.ID, roleNamed(f.Role, rules.Web), subnets, groups, func(s *Subnet) (bool, string) {
			if t.Public != nil {
				return *t.Public, settingWhy(publicAttr, *t.Public, t.Addr)
			}
			return s.MapPublic, settingWhy("map_public_ip_on_launch", s.MapPublic, s.Addr)
		}, t.UserData, f.Desired, scaling)
		for i, in := range f.Instances {
			addr, err := netip.ParseAddr(in.PrivateIP)
			s := l.subnetByID(f.Addr, fmt.Sprintf("instances[%d].subnet_id", i), in.Subnet)
			for _, e := range enis {
				if e.Subnet == s && err == nil {
					e.Instances = append(e.Instances, FleetInstance{ID: in.ID, Addr: addr})
				}
			}
		}
		for _, g := range allByID(f.Addr, "target_group_arns", f.TargetGroups, l.targetGroupByARN) {
			l.register(g, enis, 0)
		}
	}
}

// deployedFleetsAbove are the Auto Scaling groups l.d holds as the authorization checks read
// them: their minimum, CPU tracking and launch template's instance profile (linked by ARN once
// the profiles are built).
func (l *loader) deployedFleetsAbove() {
	for _, f := range sortedBy(l.d.Fleets, func(DeployedFleet) bool { return false }) {
		fl := &Fleet{Addr: f.Addr, ID: f.ID, Name: f.ID, MinSize: f.Min}
		_, fl.CPUTracked = l.deployedCPUTarget(f.ID)
		if i := slices.IndexFunc(l.d.Templates, func(t DeployedTemplate) bool {
			return !f.Mixed && f.Template != "" && !t.Configuration && t.ID == f.Template && t.Version == f.Version
		}); i >= 0 {
			t := l.d.Templates[i]
			fl.Template = &LaunchTemplate{Addr: t.Addr, HasProfile: t.Profile != "", ProfileRef: t.Profile}
		}
		l.n.Fleets = append(l.n.Fleets, fl)
	}
}
