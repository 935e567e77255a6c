package live

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	asgtypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/webtier/webtier/check"
	"github.com/webtier/webtier/rules"
)

// Shapes checks what exists only once deployed: the web servers (in service, registered,
// healthy, without public addresses, spread over the web subnets), the database's standby,
// the lifecycle states of the EFS mount targets and the NAT gateways. What a configuration
// shows (one NAT gateway per AZ, one mount target per web AZ, Multi-AZ configured, ...) is
// checked on the model, by verify, for the synthesized and the deployed stack alike. local is
// true for the emulator, whose known differences from AWS are reported as limitations rather
// than failures. It reads the stack only; Check adds the request through the load balancer.
func (s *Described) Shapes(local bool) []check.Result {
	var out []check.Result
	out = append(out, s.fleetShapes(local)...)
	out = append(out, s.databaseShapes(local)...)
	out = append(out, s.mountTargetStates())
	out = append(out, s.natStates())
	return out
}

// Getter fetches a URL and returns the status code; the site check uses it.
type Getter func(ctx context.Context, url string) (int, error)

// HTTPGet is the Getter of the site check: one GET with a 10-second timeout.
func HTTPGet(ctx context.Context, url string) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// Check is Shapes plus the site check: a request to each internet-facing load balancer's DNS
// name, on its first HTTP listener (or HTTPS), for the health-check path of the group it
// forwards to. The emulator serves no load balancer DNS names: there it is a limitation and
// nothing is requested.
func (s *Described) Check(ctx context.Context, local bool, get Getter) []check.Result {
	return append(s.Shapes(local), s.siteShapes(ctx, local, get)...)
}

// webGroups are the Auto Scaling groups tagged webtier:role=web.
func (s *Described) webGroups() []asgtypes.AutoScalingGroup {
	var out []asgtypes.AutoScalingGroup
	for _, g := range s.AutoScalingGroups {
		for _, t := range g.Tags {
			if aws.ToString(t.Key) == rules.RoleTag && aws.ToString(t.Value) == "web" {
				out = append(out, g)
				break
			}
		}
	}
	return out
}

// subnetName names a subnet by its Name tag, else its ID.
func (s *Described) subnetName(id string) string {
	if sn := s.subnet(id); sn != nil {
		if n := ec2Tag(sn.Tags, "Name"); n != "" {
			return n
		}
	}
	return id
}

func (s *Described) subnet(id string) *ec2types.Subnet {
	for i := range s.Subnets {
		if aws.ToString(s.Subnets[i].SubnetId) == id {
			return &s.Subnets[i]
		}
	}
	return nil
}

func (s *Described) instance(id string) *ec2types.Instance {
	for i := range s.Instances {
		if aws.ToString(s.Instances[i].InstanceId) == id {
			return &s.Instances[i]
		}
	}
	return nil
}

func (s *Described) targetGroup(arn string) *TargetGroup {
	for i := range s.TargetGroups {
		if aws.ToString(s.TargetGroups[i].TargetGroupArn) == arn {
			return &s.TargetGroups[i]
		}
	}
	return nil
}

// members are the instances of an Auto Scaling group that still run or are coming up.
func members(g asgtypes.AutoScalingGroup) []asgtypes.Instance {
	var out []asgtypes.Instance
	for _, in := range g.Instances {
		switch in.LifecycleState {
		case asgtypes.LifecycleStateInService, asgtypes.LifecycleStatePending, asgtypes.LifecycleStatePendingWait,
			asgtypes.LifecycleStatePendingProceed:
			out = append(out, in)
		}
	}
	return out
}

func (s *Described) fleetShapes(local bool) []check.Result {
	groups := s.webGroups()
	if len(groups) == 0 {
		return []check.Result{{Req: 2, Check: "web servers' Auto Scaling group", Status: check.Fail,
			Observed: fmt.Sprintf("no Auto Scaling group over the VPC's subnets is tagged %s=web", rules.RoleTag)}}
	}
	var out []check.Result
	for _, g := range groups {
		name := aws.ToString(g.AutoScalingGroupName)
		insts := members(g)
		var inService []string
		for _, in := range insts {
			if in.LifecycleState == asgtypes.LifecycleStateInService {
				inService = append(inService, aws.ToString(in.InstanceId))
			}
		}
		sort.Strings(inService)
		minSize := int(aws.ToInt32(g.MinSize))
		capacity := check.Result{Req: 2, Check: name + ": web servers in service", Status: check.Pass,
			Observed: fmt.Sprintf("%d InService (min %d, desired %d): %s", len(inService), minSize, aws.ToInt32(g.DesiredCapacity), strings.Join(inService, ", "))}
		if len(inService) < minSize {
			capacity.Status = check.Fail
		}
		out = append(out, capacity)
		for _, arn := range g.TargetGroupARNs {
			out = append(out, s.registration(name, arn, insts, local)...)
		}
		if len(g.TargetGroupARNs) == 0 {
			out = append(out, check.Result{Req: 2, Check: name + ": web servers registered with the load balancer", Status: check.Fail,
				Observed: "the group names no target group"})
		}
		out = append(out, s.publicShape(name, insts), s.spreadShape(g, insts, local))
	}
	return out
}

// registration checks that every instance of the group is registered in the target group
// and, on AWS, healthy.
func (s *Described) registration(group, arn string, insts []asgtypes.Instance, local bool) []check.Result {
	tg := s.targetGroup(arn)
	if tg == nil {
		return []check.Result{{Req: 2, Check: group + ": web servers registered in " + lastPart(arn), Status: check.Fail,
			Observed: "the target group " + arn + " is not in the VPC"}}
	}
	tgName := aws.ToString(tg.TargetGroupName)
	state := map[string]elbtypes.TargetHealthDescription{}
	for _, h := range tg.Health {
		if h.Target != nil {
			state[aws.ToString(h.Target.Id)] = h
		}
	}
	reg := check.Result{Req: 2, Check: group + ": web servers registered in " + tgName, Status: check.Pass}
	var missing, registered []string
	for _, in := range insts {
		id := aws.ToString(in.InstanceId)
		if _, ok := state[id]; ok {
			registered = append(registered, id)
		} else {
			missing = append(missing, id)
		}
	}
	reg.Observed = fmt.Sprintf("%d of %d registered", len(registered), len(insts))
	if len(missing) > 0 {
		reg.Status = check.Fail
		reg.Observed += "; not registered: " + strings.Join(missing, ", ")
	}
	if len(insts) == 0 {
		reg.Status, reg.Observed = check.Fail, "the group has no instances to register"
	}
	health := check.Result{Req: 2, Check: group + ": web servers healthy in " + tgName, Status: check.Pass}
	counts := map[string][]string{}
	initial := 0
	for _, id := range registered {
		h := state[id]
		st := "unknown"
		if h.TargetHealth != nil {
			if h.TargetHealth.State == elbtypes.TargetHealthStateEnumInitial {
				initial++
			}
			st = string(h.TargetHealth.State)
			if r := string(h.TargetHealth.Reason); r != "" {
				st += " (" + r + ")"
			}
		}
		counts[st] = append(counts[st], id)
	}
	var parts []string
	for _, st := range slices.Sorted(maps.Keys(counts)) {
		parts = append(parts, fmt.Sprintf("%d %s", len(counts[st]), st))
		if st != string(elbtypes.TargetHealthStateEnumHealthy) {
			health.Status = check.Fail
		}
	}
	health.Observed = strings.Join(parts, ", ")
	if len(registered) == 0 {
		health.Status, health.Observed = check.Fail, "no registered web server to be healthy"
	}
	switch {
	case local && len(registered) > 0:
		health.Status = check.Limitation
		health.Observed += "; moto reports every registered running instance healthy without running the /" +
			strings.TrimPrefix(aws.ToString(tg.HealthCheckPath), "/") + " health check"
	case health.Status == check.Fail && initial > 0:
		health.Observed += "; health checks are still running: verify again in a few minutes"
	}
	return []check.Result{reg, health}
}

// publicShape checks that no web server has a public address.
func (s *Described) publicShape(group string, insts []asgtypes.Instance) check.Result {
	sh := check.Result{Req: 1, Check: group + ": no web server has a public IP", Status: check.Pass}
	var public []string
	for _, in := range insts {
		if e := s.instance(aws.ToString(in.InstanceId)); e != nil && aws.ToString(e.PublicIpAddress) != "" {
			public = append(public, aws.ToString(e.InstanceId)+" "+aws.ToString(e.PublicIpAddress))
		}
	}
	sh.Observed = fmt.Sprintf("none of %d has one", len(insts))
	if len(public) > 0 {
		sh.Status, sh.Observed = check.Fail, strings.Join(public, ", ")
	}
	return sh
}

// spreadShape checks that the group's instances are spread over its subnets. moto puts every
// instance into the first subnet of vpc_zone_identifier: on the local target that pattern is
// a limitation.
func (s *Described) spreadShape(g asgtypes.AutoScalingGroup, insts []asgtypes.Instance, local bool) check.Result {
	subnets := splitIDs(aws.ToString(g.VPCZoneIdentifier))
	sh := check.Result{Req: 2, Check: aws.ToString(g.AutoScalingGroupName) + ": web servers spread over the web subnets", Status: check.Pass}
	count := map[string]int{}
	var outside []string
	for _, in := range insts {
		e := s.instance(aws.ToString(in.InstanceId))
		if e == nil {
			outside = append(outside, aws.ToString(in.InstanceId)+" (not found)")
			continue
		}
		sn := aws.ToString(e.SubnetId)
		if !slices.Contains(subnets, sn) {
			outside = append(outside, aws.ToString(e.InstanceId)+" in "+s.subnetName(sn))
		}
		count[sn]++
	}
	var parts []string
	empty := 0
	for _, sn := range subnets {
		parts = append(parts, fmt.Sprintf("%s %d", s.subnetName(sn), count[sn]))
		if count[sn] == 0 {
			empty++
		}
	}
	sh.Observed = strings.Join(parts, ", ")
	switch {
	case len(outside) > 0:
		sh.Status = check.Fail
		sh.Observed += "; outside vpc_zone_identifier: " + strings.Join(outside, ", ")
	case len(insts) < len(subnets):
		sh.Status = check.Fail
		sh.Observed += fmt.Sprintf("; %d instances cannot cover %d subnets", len(insts), len(subnets))
	case empty == 0:
	case local && len(subnets) > 0 && count[subnets[0]] == len(insts):
		sh.Status = check.Limitation
		sh.Observed += fmt.Sprintf("; moto places every Auto Scaling instance in the first subnet of vpc_zone_identifier (%s); AWS spreads them over the AZs",
			s.subnetName(subnets[0]))
	default:
		sh.Status = check.Fail
	}
	return sh
}

func (s *Described) databaseShapes(local bool) []check.Result {
	if len(s.DBInstances) == 0 {
		return []check.Result{{Req: 5, Check: "database Multi-AZ with a standby AZ", Status: check.Fail, Observed: "no DB instance in the VPC"}}
	}
	var out []check.Result
	for _, db := range s.DBInstances {
		id := aws.ToString(db.DBInstanceIdentifier)
		primary, standby := aws.ToString(db.AvailabilityZone), aws.ToString(db.SecondaryAvailabilityZone)
		sh := check.Result{Req: 5, Check: id + ": Multi-AZ with a standby in another AZ", Status: check.Pass}
		status := aws.ToString(db.DBInstanceStatus)
		switch {
		case !aws.ToBool(db.MultiAZ):
			sh.Status, sh.Observed = check.Fail, fmt.Sprintf("MultiAZ = false, primary in %s: no standby to fail over to", primary)
		case standby == "" && local:
			sh.Status = check.Limitation
			sh.Observed = fmt.Sprintf("MultiAZ = true, primary in %s, status %s; moto reports no secondary AZ (it models neither the standby nor failover)", primary, status)
		case standby == "":
			sh.Status, sh.Observed = check.Fail, fmt.Sprintf("MultiAZ = true, primary in %s, but no secondary AZ is reported (status %s)", primary, status)
		case standby == primary:
			sh.Status, sh.Observed = check.Fail, fmt.Sprintf("primary and standby both in %s", primary)
		default:
			sh.Observed = fmt.Sprintf("primary in %s, standby in %s, status %s", primary, standby, status)
		}
		out = append(out, sh)
	}
	return out
}

// mountTargetStates checks that every mount target of the stack's file systems is available:
// how many there are per web AZ and which group they carry is a check of the model
// (verify's), on the synthesized and the deployed stack alike.
func (s *Described) mountTargetStates() check.Result {
	sh := check.Result{Req: 6, Check: "EFS mount targets available", Status: check.Pass}
	if len(s.FileSystems) == 0 {
		sh.Status, sh.Observed = check.Fail, "no file system tagged "+ProjectTag+"="+ProjectValue+" or mounted in the VPC"
		return sh
	}
	var parts []string
	for _, mt := range s.MountTargets {
		az := aws.ToString(mt.AvailabilityZoneName)
		if sn := s.subnet(aws.ToString(mt.SubnetId)); sn != nil {
			az = aws.ToString(sn.AvailabilityZone)
		}
		parts = append(parts, fmt.Sprintf("%s (%s, %s) %s", aws.ToString(mt.MountTargetId), aws.ToString(mt.FileSystemId), az, mt.LifeCycleState))
		if mt.LifeCycleState != "available" {
			sh.Status = check.Fail
		}
	}
	sh.Observed = strings.Join(parts, ", ")
	if len(parts) == 0 {
		sh.Status, sh.Observed = check.Fail, "no mount target"
	}
	return sh
}

// natStates checks that every NAT gateway of the VPC is available: how many there are per AZ
// and which one each web subnet routes through is a check of the model (verify's).
func (s *Described) natStates() check.Result {
	sh := check.Result{Req: 3, Check: "NAT gateways available", Status: check.Pass}
	var parts []string
	for _, n := range s.NATGateways {
		az := ""
		if sn := s.subnet(aws.ToString(n.SubnetId)); sn != nil {
			az = aws.ToString(sn.AvailabilityZone)
		}
		parts = append(parts, fmt.Sprintf("%s (%s) %s", ec2Name(n.Tags, aws.ToString(n.NatGatewayId)), az, n.State))
		if n.State != ec2types.NatGatewayStateAvailable {
			sh.Status = check.Fail
		}
	}
	sh.Observed = strings.Join(parts, ", ")
	if len(parts) == 0 {
		sh.Status, sh.Observed = check.Fail, "no NAT gateway in the VPC"
	}
	return sh
}

func ec2Name(tags []ec2types.Tag, id string) string {
	if n := ec2Tag(tags, "Name"); n != "" {
		return n
	}
	return id
}

// siteShapes request each internet-facing load balancer's site (AWS only).
func (s *Described) siteShapes(ctx context.Context, local bool, get Getter) []check.Result {
	var out []check.Result
	for _, lb := range s.LoadBalancers {
		if lb.Scheme == elbtypes.LoadBalancerSchemeEnumInternal {
			continue // moto leaves Scheme empty: internet-facing is the default
		}
		name := aws.ToString(lb.LoadBalancerName)
		sh := check.Result{Req: 2, Check: name + ": the site answers through the load balancer"}
		url, ok := s.siteURL(lb)
		switch {
		case !ok:
			sh.Status, sh.Observed = check.Fail, "no HTTP or HTTPS listener forwards to a target group"
		case local:
			sh.Status = check.Limitation
			sh.Observed = "moto does not serve load balancer DNS names (" + aws.ToString(lb.DNSName) + "): no request went through the load balancer"
		default:
			code, err := get(ctx, url)
			switch {
			case err != nil:
				sh.Status, sh.Observed = check.Fail, fmt.Sprintf("GET %s: %v", url, err)
			case code != http.StatusOK:
				sh.Status, sh.Observed = check.Fail, fmt.Sprintf("GET %s: %d", url, code)
			default:
				sh.Status, sh.Observed = check.Pass, fmt.Sprintf("GET %s: %d", url, code)
			}
		}
		out = append(out, sh)
	}
	return out
}

// siteURL is the URL of the health-check path of the first target group a listener of lb
// forwards to, on that listener (HTTP preferred).
func (s *Described) siteURL(lb LoadBalancer) (string, bool) {
	listeners := slices.Clone(lb.Listeners)
	sort.SliceStable(listeners, func(i, j int) bool {
		return listeners[i].Protocol == elbtypes.ProtocolEnumHttp && listeners[j].Protocol != elbtypes.ProtocolEnumHttp
	})
	for _, l := range listeners {
		scheme := strings.ToLower(string(l.Protocol))
		if scheme != "http" && scheme != "https" {
			continue
		}
		for _, a := range l.DefaultActions {
			arn := aws.ToString(a.TargetGroupArn)
			if arn == "" && a.ForwardConfig != nil && len(a.ForwardConfig.TargetGroups) > 0 {
				arn = aws.ToString(a.ForwardConfig.TargetGroups[0].TargetGroupArn)
			}
			if a.Type == elbtypes.ActionTypeEnumRedirect {
				continue
			}
			tg := s.targetGroup(arn)
			if tg == nil {
				continue
			}
			path := aws.ToString(tg.HealthCheckPath)
			if path == "" {
				path = "/"
			}
			return fmt.Sprintf("%s://%s:%d%s", scheme, aws.ToString(lb.DNSName), aws.ToInt32(l.Port), path), true
		}
	}
	return "", false
}
