package verify

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/webtier/webtier/rules"
)

// roleOf returns the role a resource's rules.RoleTag names, if it is an inside role, else fallback.
func roleOf(r *resource, fallback rules.Role) rules.Role {
	var tagged string
	if tags, ok := r.Attrs["tags"].(map[string]any); ok {
		tagged, _ = tags[rules.RoleTag].(string)
	}
	if list, ok := r.Attrs["tag"].([]any); ok {
		for _, t := range list {
			if m, ok := t.(map[string]any); ok && m["key"] == rules.RoleTag {
				tagged, _ = m["value"].(string)
			}
		}
	}
	return roleNamed(tagged, fallback)
}

// roleNamed is the role a rules.RoleTag tag's value names, if it is an inside role, else
// fallback.
func roleNamed(tagged string, fallback rules.Role) rules.Role {
	if role := rules.Role(tagged); role.Known() && !role.Outside() {
		return role
	}
	return fallback
}

// addENI records an endpoint of resource r.
func (l *loader) addENI(r *resource, e *Endpoint) { l.addENIAt(r.Addr, awsID(r), e) }

// addENIAt records an endpoint of the element at addr, whose AWS ID is id ("" before apply).
func (l *loader) addENIAt(addr, id string, e *Endpoint) {
	if e.Ephemeral == nil {
		e.Ephemeral = portsOf(rules.EphemeralAny)
		if p := e.Role.Ephemeral(); p.To != 0 {
			e.Ephemeral = portsOf(p)
		}
	}
	if len(e.Groups) == 0 && !e.NoGroups && e.Subnet != nil {
		e.Groups = []*SecurityGroup{e.Subnet.VPC.DefaultSG}
	}
	e.ID = id
	l.eniOf[addr] = append(l.eniOf[addr], e)
	l.n.Endpoints = append(l.n.Endpoints, e)
}

// awsID is a resource's AWS ID when the stack states it as a literal (a stack read back from
// AWS), else "": a synthesized stack's IDs exist only after apply.
func awsID(r *resource) string {
	if id, ok := r.Attrs["id"].(string); ok && !strings.Contains(id, "${") {
		return id
	}
	return ""
}

// eni makes one endpoint per subnet for resource r.
func (l *loader) eni(r *resource, role rules.Role, kind Kind, subnets []*Subnet, groups []*SecurityGroup, public bool, why string) []*Endpoint {
	return l.eniAt(r.Addr, awsID(r), role, kind, subnets, groups, public, why)
}

// eniAt is eni for the element at addr whose AWS ID is id.
func (l *loader) eniAt(addr, id string, role rules.Role, kind Kind, subnets []*Subnet, groups []*SecurityGroup, public bool, why string) []*Endpoint {
	var out []*Endpoint
	for _, s := range subnets {
		e := &Endpoint{Role: role, Kind: kind, Res: addr, Subnet: s, Groups: groups, Public: public, PublicWhy: why}
		l.addENIAt(addr, id, e)
		out = append(out, e)
	}
	return out
}

// publicIP decides whether an instance in s gets a public address: an explicit setting
// (attribute key of r) wins over the subnet's map_public_ip_on_launch.
func publicIP(setting field, s *Subnet) (bool, string) {
	if b, ok := setting.boolean(); ok {
		return b, settingWhy(setting.path, b, setting.r.Addr)
	}
	return s.MapPublic, settingWhy("map_public_ip_on_launch", s.MapPublic, s.Addr)
}

// settingWhy says that the boolean attribute attr of the element at addr decides.
func settingWhy(attr string, b bool, addr string) string {
	return fmt.Sprintf("%s = %t on %s", attr, b, addr)
}

// elasticIPs maps instances to the Elastic IP associated with them.
func (l *loader) elasticIPs() map[string]string {
	out := map[string]string{}
	l.each(func(r *resource) {
		l.n.ElasticIPs = append(l.n.ElasticIPs, ElasticIP{Addr: r.Addr, ID: awsID(r)})
		if f := l.attr(r, "instance"); f.set() {
			if inst, _ := f.ref("aws_instance"); inst != nil {
				out[inst.Addr] = r.Addr
			}
		}
	}, "aws_eip")
	l.each(func(r *resource) {
		if f := l.attr(r, "instance_id"); f.set() {
			if inst, _ := f.ref("aws_instance"); inst != nil {
				out[inst.Addr] = r.Addr
			}
		}
	}, "aws_eip_association")
	for _, ip := range sortedBy(l.d.ElasticIPs, func(DeployedEIP) bool { return false }) {
		l.n.ElasticIPs = append(l.n.ElasticIPs, ElasticIP{Addr: ip.Addr, ID: ip.ID})
		for _, in := range l.d.Instances {
			if ip.Instance != "" && in.ID == ip.Instance {
				out[in.Addr] = ip.Addr
			}
		}
	}
	return out
}

func (l *loader) loadInstances() {
	eips := l.elasticIPs()
	l.each(func(r *resource) {
		if l.attr(r, "network_interface").set() {
			l.attr(r, "network_interface").fail("attached network interfaces are not modelled; use subnet_id and vpc_security_group_ids")
			return
		}
		if !l.attr(r, "subnet_id").required("the instance would land in the default VPC, which is not in the stack") {
			return
		}
		s := l.subnetOf(l.attr(r, "subnet_id"))
		if s == nil {
			return
		}
		groups := append(l.groupsOf(l.attr(r, "vpc_security_group_ids")), l.groupsOf(l.attr(r, "security_groups"))...)
		public, why := publicIP(l.attr(r, "associate_public_ip_address"), s)
		if eip := eips[r.Addr]; eip != "" {
			public, why = true, "the Elastic IP "+eip
		}
		e := l.eni(r, roleOf(r, rules.Bastion), Instance, []*Subnet{s}, groups, public, why)[0]
		if f := l.attr(r, "private_ip"); f.set() {
			if ip, ok := f.str(); ok {
				l.fixAddr(ip, e, f.fail)
			}
		}
	}, "aws_instance")
	l.deployedInstances(eips)
}

// fixAddr gives an endpoint the private address s, which must be in its subnet.
func (l *loader) fixAddr(s string, e *Endpoint, fail failure) {
	a, err := netip.ParseAddr(strings.TrimSpace(s))
	if err != nil || !a.Is4() || !e.Subnet.CIDR.Contains(a) {
		fail("%q is not an IPv4 address in %s %s", s, e.Subnet.Addr, e.Subnet.CIDR)
		return
	}
	e.Addr = a
}

func (l *loader) loadTargetGroups() {
	l.each(func(r *resource) {
		g := &TargetGroup{Addr: r.Addr, ID: awsID(r), Health: defaultHealth, Deregistration: 300}
		if f := l.attr(r, "port"); f.set() {
			g.Port, _ = f.integer()
		}
		if n, ok := l.attr(r, "deregistration_delay").integer(); ok {
			g.Deregistration = n
		}
		for _, hc := range l.attr(r, "health_check").list() {
			if s, ok := hc.get("path").str(); ok && s != "" {
				g.Health.Path, g.PathSet = s, true
			}
			if s, ok := hc.get("matcher").str(); ok && s != "" {
				g.Health.Matcher = s
			}
			for key, dst := range map[string]*int{"interval": &g.Health.Interval, "timeout": &g.Health.Timeout,
				"healthy_threshold": &g.Health.Healthy, "unhealthy_threshold": &g.Health.Unhealthy} {
				if n, ok := hc.get(key).integer(); ok && n > 0 {
					*dst = n
				}
			}
			if p := hc.get("port"); p.set() {
				if s, _ := p.v.(string); s != "traffic-port" {
					g.HealthPort, _ = p.integer()
				}
			}
		}
		if f := l.attr(r, "load_balancing_cross_zone_enabled"); f.set() {
			if s, _ := f.v.(string); s != "use_load_balancer_configuration" {
				if b, ok := f.boolean(); ok {
					g.CrossZone = &b
				}
			}
		}
		l.targets[r.Addr] = g
		l.n.TargetGroups = append(l.n.TargetGroups, g)
	}, "aws_lb_target_group", "aws_alb_target_group")
	l.deployedTargetGroups()
}

// targetGroupOf resolves a target group reference.
func (l *loader) targetGroupOf(f field) *TargetGroup {
	if r, _ := f.ref(targetGroupTypes...); r != nil {
		return l.targets[r.Addr]
	}
	return nil
}

// targetGroupTypes are the resources a target group reference may name.
var targetGroupTypes = []string{"aws_lb_target_group", "aws_alb_target_group"}

// launchSpec reads the security groups, public-address setting and user data of the launch
// template or launch configuration an Auto Scaling group uses.
func (l *loader) launchSpec(asg *resource) (groups []*SecurityGroup, public field, userData, template string, ok bool) {
	var lt *resource
	for _, spec := range []struct {
		block    field
		id, name string
	}{
		{l.attr(asg, "launch_template"), "id", "name"},
		{l.attr(asg, "mixed_instances_policy").get("launch_template").get("launch_template_specification"), "launch_template_id", "launch_template_name"},
	} {
		for _, b := range spec.block.list() {
			switch {
			case b.get(spec.id).set():
				lt, _ = b.get(spec.id).ref("aws_launch_template")
			case b.get(spec.name).set():
				lt, _ = b.get(spec.name).ref("aws_launch_template")
			}
		}
	}
	if lt != nil {
		if nis := l.attr(lt, "network_interfaces").list(); len(nis) > 0 {
			groups = l.groupsOf(nis[0].get("security_groups"))
			public = nis[0].get("associate_public_ip_address")
		}
		groups = append(groups, l.groupsOf(l.attr(lt, "vpc_security_group_ids"))...)
		groups = append(groups, l.groupsOf(l.attr(lt, "security_group_names"))...)
		userData, _ = l.attr(lt, "user_data").v.(string)
		return groups, public, userData, digest(lt), true
	}
	if f := l.attr(asg, "launch_configuration"); f.set() {
		lc, _ := f.ref("aws_launch_configuration")
		if lc == nil {
			return nil, field{}, "", "", false
		}
		userData, _ = l.attr(lc, "user_data").v.(string)
		return l.groupsOf(l.attr(lc, "security_groups")), l.attr(lc, "associate_public_ip_address"), userData, digest(lc), true
	}
	l.attr(asg, "launch_template").fail("missing; the verifier needs the launch template (or configuration) of the instances")
	return nil, field{}, "", "", false
}

// digest is a short hash of what a launch template (or configuration) launches: its
// attributes but its names and tags, which make no new version.
func digest(r *resource) string {
	attrs := map[string]any{}
	for k, v := range r.Attrs {
		switch k {
		case "name", "name_prefix", "tags", "tags_all", "description", "update_default_version", "default_version", "//":
		default:
			attrs[k] = v
		}
	}
	return digestOf(attrs)
}

// digestOf is a short hash of v as JSON.
func digestOf(v any) string {
	data, _ := json.Marshal(v)
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:6])
}

// defaultGrace is the health-check grace period, in seconds, of a group that sets none.
const defaultGrace = 300

// refresh reads an Auto Scaling group's warm-up and instance refresh preferences.
func (l *loader) refresh(asg *resource, sc *Scaling) {
	sc.Warmup = defaultGrace
	if n, ok := l.attr(asg, "health_check_grace_period").integer(); ok {
		sc.Warmup = n
	}
	if n, ok := l.attr(asg, "default_instance_warmup").integer(); ok {
		sc.Warmup = n
	}
	for _, b := range l.attr(asg, "instance_refresh").list() {
		r := &Refresh{MinHealthy: 90, MaxHealthy: 100}
		for _, p := range b.get("preferences").list() {
			for key, dst := range map[string]*int{"min_healthy_percentage": &r.MinHealthy, "max_healthy_percentage": &r.MaxHealthy, "instance_warmup": &r.Warmup} {
				if n, ok := p.get(key).integer(); ok {
					*dst = n
				}
			}
			r.SkipMatching, _ = p.get("skip_matching").boolean()
			r.AutoRollback, _ = p.get("auto_rollback").boolean()
		}
		sc.Refresh = r
	}
}

func (l *loader) loadFleets() {
	l.each(func(r *resource) {
		if !l.attr(r, "vpc_zone_identifier").required("without subnets the instances land in the default VPC, which is not in the stack") {
			return
		}
		subnets := l.subnetsOf(l.attr(r, "vpc_zone_identifier"))
		groups, public, userData, template, ok := l.launchSpec(r)
		if !ok {
			return
		}
		desired, ok := l.attr(r, "desired_capacity").integer()
		if !ok {
			desired, _ = l.attr(r, "min_size").integer()
		}
		scaling := &Scaling{}
		scaling.Min, _ = l.attr(r, "min_size").integer()
		scaling.Max, _ = l.attr(r, "max_size").integer()
		scaling.CPUTarget, _ = l.cpuTarget(r)
		scaling.Template = template
		l.refresh(r, scaling)
		enis := l.addFleet(r.Addr, awsID(r), roleOf(r, rules.Web), subnets, groups, func(s *Subnet) (bool, string) {
			if public.l != nil {
				return publicIP(public, s)
			}
			return s.MapPublic, settingWhy("map_public_ip_on_launch", s.MapPublic, s.Addr)
		}, userData, desired, scaling)
		for _, in := range l.attr(r, "instances").list() {
			id, _ := in.get("id").str()
			ip, _ := in.get("private_ip").str()
			addr, err := netip.ParseAddr(ip)
			s := l.subnetOf(in.get("subnet_id"))
			for _, e := range enis {
				if e.Subnet == s && err == nil {
					e.Instances = append(e.Instances, FleetInstance{ID: id, Addr: addr})
				}
			}
		}
		for _, item := range l.attr(r, "target_group_arns").list() {
			if g := l.targetGroupOf(item); g != nil {
				l.register(g, enis, 0)
			}
		}
		l.trafficSources(l.attr(r, "traffic_source"), enis)
	}, "aws_autoscaling_group")
	l.each(func(r *resource) {
		asg, _ := l.attr(r, "autoscaling_group_name").ref("aws_autoscaling_group")
		g := l.targetGroupOf(l.attr(r, "lb_target_group_arn"))
		if asg != nil && g != nil {
			l.register(g, l.eniOf[asg.Addr], 0)
		}
	}, "aws_autoscaling_attachment")
	l.each(func(r *resource) {
		if asg, _ := l.attr(r, "autoscaling_group_name").ref("aws_autoscaling_group"); asg != nil {
			l.trafficSources(l.attr(r, "traffic_source"), l.eniOf[asg.Addr])
		}
	}, "aws_autoscaling_traffic_source_attachment")
	l.deployedFleets()
}

// addFleet adds the Auto Scaling group at addr (AWS ID id, its name) with an endpoint in each
// of its subnets standing for its instances there: with groups, a public address or not as
// public says, the launch template's user data, the desired capacity and scaling.
func (l *loader) addFleet(addr, id string, role rules.Role, subnets []*Subnet, groups []*SecurityGroup,
	public func(*Subnet) (bool, string), userData string, desired int, scaling *Scaling) []*Endpoint {
	var enis []*Endpoint
	for _, s := range subnets {
		pub, why := public(s)
		e := l.eniAt(addr, id, role, ASGInstance, []*Subnet{s}, groups, pub, why)[0]
		e.Multi, e.Desired, e.UserData, e.Scaling = true, desired, userData, scaling
		enis = append(enis, e)
	}
	return enis
}

// cpuTarget is the target value of the target-tracking policy on average CPU that scales the
// group, and whether there is one.
func (l *loader) cpuTarget(asg *resource) (float64, bool) {
	for _, p := range l.s.byType["aws_autoscaling_policy"] {
		target, _ := l.attr(p, "autoscaling_group_name").ref("aws_autoscaling_group")
		typ, _ := l.attr(p, "policy_type").str()
		tracking := l.attr(p, "target_tracking_configuration")
		metric, _ := tracking.get("predefined_metric_specification").get("predefined_metric_type").str()
		if target == asg && cpuTracking(typ, metric) {
			value, _ := tracking.get("target_value").v.(float64)
			return value, true
		}
	}
	return 0, false
}

// cpuTracking reports whether a scaling policy of type typ on the predefined metric keeps the
// group's average CPU at a target.
func cpuTracking(typ, metric string) bool {
	return typ == "TargetTrackingScaling" && metric == "ASGAverageCPUUtilization"
}

// trafficSources registers enis in the target groups of traffic_source blocks of type elbv2
// (an Auto Scaling group's own, or an aws_autoscaling_traffic_source_attachment's).
func (l *loader) trafficSources(blocks field, enis []*Endpoint) {
	for _, b := range blocks.list() {
		if typ, _ := b.get("type").str(); typ != "" && typ != "elbv2" {
			continue
		}
		if g := l.targetGroupOf(b.get("identifier")); g != nil {
			l.register(g, enis, 0)
		}
	}
}

// register makes enis targets of the target group g, on port (0: the group's port).
func (l *loader) register(g *TargetGroup, enis []*Endpoint, port int) {
	for _, e := range enis {
		g.Targets = append(g.Targets, Target{ENI: e, Port: port})
	}
}

func (l *loader) loadBalancers() {
	lbs := map[string]*LoadBalancer{}
	l.each(func(r *resource) {
		typ, _ := l.attr(r, "load_balancer_type").str()
		subnets := l.subnetsOf(l.attr(r, "subnets"))
		for _, m := range l.attr(r, "subnet_mapping").list() {
			if s := l.subnetOf(m.get("subnet_id")); s != nil {
				subnets = append(subnets, s)
			}
		}
		internal, _ := l.attr(r, "internal").boolean()
		lb := &LoadBalancer{Addr: r.Addr, ID: awsID(r), Internal: internal}
		if !l.addBalancer(lb, typ, roleOf(r, rules.ALB), subnets, l.groupsOf(l.attr(r, "security_groups"))) {
			return
		}
		if b, ok := l.attr(r, "enable_cross_zone_load_balancing").boolean(); ok && !b {
			l.n.Notes = append(l.n.Notes, fmt.Sprintf("%s: enable_cross_zone_load_balancing = false has no effect on an application load balancer (always on at the load-balancer level); a target group's load_balancing_cross_zone_enabled turns it off", r.Addr))
		}
		lbs[r.Addr] = lb
	}, "aws_lb", "aws_alb")

	listeners := map[string]*Listener{}
	l.each(func(r *resource) {
		lbr, _ := l.attr(r, "load_balancer_arn").ref("aws_lb", "aws_alb")
		if !l.attr(r, "port").required("the verifier needs the listener's port") {
			return
		}
		port, ok := l.attr(r, "port").integer()
		if lbr == nil || lbs[lbr.Addr] == nil || !ok {
			return
		}
		ln := &Listener{Addr: r.Addr, Port: port, Groups: l.forwards(l.attr(r, "default_action"))}
		lbs[lbr.Addr].Listeners = append(lbs[lbr.Addr].Listeners, ln)
		listeners[r.Addr] = ln
	}, "aws_lb_listener", "aws_alb_listener")
	l.each(func(r *resource) {
		lr, _ := l.attr(r, "listener_arn").ref("aws_lb_listener", "aws_alb_listener")
		if lr != nil && listeners[lr.Addr] != nil {
			listeners[lr.Addr].Groups = append(listeners[lr.Addr].Groups, l.forwards(l.attr(r, "action"))...)
		}
	}, "aws_lb_listener_rule", "aws_alb_listener_rule")
	l.each(func(r *resource) {
		g := l.targetGroupOf(l.attr(r, "target_group_arn"))
		target := l.attr(r, "target_id")
		if s, _ := target.v.(string); s != "" && !strings.HasPrefix(s, "${") {
			l.noteTarget(r.Addr, s)
			return
		}
		inst, _ := target.ref("aws_instance")
		port, _ := l.attr(r, "port").integer()
		if g != nil && inst != nil {
			l.register(g, l.eniOf[inst.Addr], port)
		}
	}, "aws_lb_target_group_attachment", "aws_alb_target_group_attachment")
	l.deployedBalancers()
}

// noteTarget notes the target id, registered by the attachment at addr, which names nothing
// of the stack (an IP address, another VPC's instance).
func (l *loader) noteTarget(addr, id string) {
	l.n.Notes = append(l.n.Notes, fmt.Sprintf("%s: target %q is not a resource of the stack; it is not modelled", addr, id))
}

// addBalancer adds lb (its address, ID and scheme read) of type typ ("" an application load
// balancer) with a node in each of subnets carrying groups; a balancer without subnets, or
// of another type, is a load error.
func (l *loader) addBalancer(lb *LoadBalancer, typ string, role rules.Role, subnets []*Subnet, groups []*SecurityGroup) bool {
	if typ == "" {
		typ = "application"
	}
	if len(subnets) == 0 {
		l.failAt(lb.Addr, "subnets")("missing; a load balancer needs subnets")
		return false
	}
	if typ != "application" {
		// A network load balancer preserves the client's address towards instance targets
		// and has other semantics the model does not hold; judging it like an ALB would give
		// wrong verdicts.
		l.failAt(lb.Addr, "load_balancer_type")("%q: the verifier models application load balancers only", typ)
		return false
	}
	// An ALB always balances across zones at the load-balancer level; only a target group can
	// turn it off (load_balancing_cross_zone_enabled).
	lb.CrossZone = true
	why := fmt.Sprintf("internal = %t on %s", lb.Internal, lb.Addr)
	for _, e := range l.eniAt(lb.Addr, lb.ID, role, LBNode, subnets, groups, !lb.Internal, why) {
		e.LB = lb
		lb.Nodes = append(lb.Nodes, e)
	}
	l.n.LBs = append(l.n.LBs, lb)
	return true
}

// forwards returns the target groups that a list of listener actions forwards to.
func (l *loader) forwards(actions field) []*TargetGroup {
	var out []*TargetGroup
	add := func(f field) {
		if g := l.targetGroupOf(f); g != nil {
			out = append(out, g)
		}
	}
	for _, a := range actions.list() {
		if typ, _ := a.get("type").str(); typ != "forward" {
			continue
		}
		if a.get("target_group_arn").set() {
			add(a.get("target_group_arn"))
		}
		for _, fw := range a.get("forward").list() {
			for _, tg := range fw.get("target_group").list() {
				add(tg.get("arn"))
			}
		}
	}
	return out
}

func (l *loader) loadDatabases() {
	l.each(func(r *resource) {
		f := l.attr(r, "db_subnet_group_name")
		if !f.required("the database would use the default VPC's subnet group, which is not in the stack") {
			return
		}
		group, _ := f.ref("aws_db_subnet_group")
		if group == nil {
			return
		}
		subnets := l.subnetsOf(l.attr(group, "subnet_ids"))
		public, _ := l.attr(r, "publicly_accessible").boolean()
		why := fmt.Sprintf("publicly_accessible = %t on %s", public, r.Addr)
		l.eni(r, roleOf(r, rules.DB), Database, subnets, l.groupsOf(l.attr(r, "vpc_security_group_ids")), public, why)
	}, "aws_db_instance")
	l.deployedDatabases()
}

func (l *loader) loadMountTargets() {
	l.each(func(r *resource) {
		s := l.subnetOf(l.attr(r, "subnet_id"))
		if s == nil {
			return
		}
		e := l.eni(r, roleOf(r, rules.EFS), MountTarget, []*Subnet{s}, l.groupsOf(l.attr(r, "security_groups")), false, mountTargetsPrivate)[0]
		if f := l.attr(r, "ip_address"); f.set() {
			if ip, ok := f.str(); ok {
				l.fixAddr(ip, e, f.fail)
			}
		}
	}, "aws_efs_mount_target")
	l.deployedMountTargets()
}

// mountTargetsPrivate says why a mount target has no public address.
const mountTargetsPrivate = "EFS mount targets have no public address"

func (l *loader) loadVPCEndpoints() {
	extraSubnets := map[string][]*Subnet{}
	extraGroups := map[string][]*SecurityGroup{}
	l.each(func(r *resource) {
		ep, _ := l.attr(r, "vpc_endpoint_id").ref("aws_vpc_endpoint")
		if s := l.subnetOf(l.attr(r, "subnet_id")); ep != nil && s != nil {
			extraSubnets[ep.Addr] = append(extraSubnets[ep.Addr], s)
		}
	}, "aws_vpc_endpoint_subnet_association")
	l.each(func(r *resource) {
		ep, _ := l.attr(r, "vpc_endpoint_id").ref("aws_vpc_endpoint")
		if g := l.groupOf(l.attr(r, "security_group_id")); ep != nil && g != nil {
			extraGroups[ep.Addr] = append(extraGroups[ep.Addr], g)
		}
	}, "aws_vpc_endpoint_security_group_association")
	extraTables := map[string][]*RouteTable{}
	l.each(func(r *resource) {
		ep, _ := l.attr(r, "vpc_endpoint_id").ref("aws_vpc_endpoint")
		if t := l.routeTableOf(l.attr(r, "route_table_id")); ep != nil && t != nil {
			extraTables[ep.Addr] = append(extraTables[ep.Addr], t)
		}
	}, "aws_vpc_endpoint_route_table_association")
	l.each(func(r *resource) {
		service, _ := l.attr(r, "service_name").str()
		if gatewayType(r) {
			policy, _ := r.Attrs["policy"].(string)
			tables := extraTables[r.Addr]
			for _, item := range l.attr(r, "route_table_ids").list() {
				if t := l.routeTableOf(item); t != nil {
					tables = append(tables, t)
				}
			}
			l.gateway(&GatewayEndpoint{Addr: r.Addr, ID: awsID(r), Service: service, Policy: policy}, tables)
			return
		}
		subnets := append(l.subnetsOf(l.attr(r, "subnet_ids")), extraSubnets[r.Addr]...)
		groups := append(l.groupsOf(l.attr(r, "security_group_ids")), extraGroups[r.Addr]...)
		for _, e := range l.eni(r, roleOf(r, endpointRole(service)), InterfaceEndpoint, subnets, groups, false, interfaceEndpointsPrivate) {
			e.Service = service
		}
	}, "aws_vpc_endpoint")
	l.deployedEndpoints()
}

// interfaceEndpointsPrivate says why an interface endpoint has no public address.
const interfaceEndpointsPrivate = "interface endpoints have no public address"

// endpointRole is the role of an interface endpoint of service (the flows' Secrets Manager
// endpoint and Systems Manager's three, else one named by the service: "endpoint:sqs").
func endpointRole(service string) rules.Role {
	if strings.HasSuffix(service, ".secretsmanager") {
		return rules.SecretsEndpoint
	}
	if slices.Contains(rules.SSMServices, service[strings.LastIndexByte(service, '.')+1:]) {
		return rules.SSMEndpoint
	}
	return rules.Role("endpoint:" + service[strings.LastIndexByte(service, '.')+1:])
}

// gateway records the gateway endpoint g and, in each of tables (the route tables it is
// associated with), the route AWS adds: the service's AWS-managed prefix list (named by the
// service; its CIDRs come from the intent, see Network.resolveLists) to the endpoint. A table
// that already holds a route to the endpoint (as read back from a deployment) keeps that one.
func (l *loader) gateway(g *GatewayEndpoint, tables []*RouteTable) {
	for _, t := range tables {
		g.Tables = append(g.Tables, t)
		if slices.ContainsFunc(t.Routes, func(rt *Route) bool { return rt.Target == g.Addr }) {
			continue
		}
		t.Routes = append(t.Routes, &Route{Addr: g.Addr, List: g.Service, managed: true, Kind: TargetGateway, Target: g.Addr})
	}
	l.n.Gateways = append(l.n.Gateways, g)
}

// unmodelled are resource types that place ENIs the model does not hold.
var unmodelled = []string{
	"aws_network_interface", "aws_rds_cluster_instance", "aws_elasticache_cluster",
	"aws_elasticache_replication_group", "aws_lambda_function", "aws_ecs_service", "aws_eks_cluster",
	"aws_eks_node_group", "aws_mq_broker", "aws_opensearch_domain", "aws_elasticsearch_domain",
	"aws_redshift_cluster", "aws_msk_cluster", "aws_elb", "aws_directory_service_directory",
	"aws_ec2_fleet", "aws_spot_instance_request", "aws_ec2_client_vpn_endpoint",
}

func (l *loader) noteUnmodelled() {
	note := func(addr string) {
		l.n.Notes = append(l.n.Notes, fmt.Sprintf("%s: its network interfaces are not modelled; connections to and from it are not judged", addr))
	}
	for _, typ := range unmodelled {
		l.each(func(r *resource) {
			if r.Type == "aws_lambda_function" && r.Attrs["vpc_config"] == nil {
				return
			}
			note(r.Addr)
		}, typ)
		if typ == "aws_network_interface" {
			for _, e := range slices.Sorted(slices.Values(l.d.Interfaces)) {
				note(e)
			}
		}
		if typ == "aws_rds_cluster_instance" {
			for _, db := range slices.SortedFunc(slices.Values(l.d.Databases), byAddrOf[DeployedDB]) {
				if db.Cluster != "" {
					note(db.Addr)
				}
			}
		}
	}
}
