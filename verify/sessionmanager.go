package verify

import (
	"fmt"
	"slices"
	"strings"

	"github.com/webtier/webtier/check"
	"github.com/webtier/webtier/config"
	"github.com/webtier/webtier/policy"
	"github.com/webtier/webtier/rules"
)

// Requirement 1 follows the access mode (Intent.Access). With bastions (bastion, both):
// SSH from the admin ranges to the bastions and from the bastions to the web servers, and no
// other way to port 22. With Session Manager (ssm, both): every instance's SSM Agent reaches
// the ssm, ssmmessages and ec2messages endpoints, and its role lets it call them (Security
// Hub's SSM.1, "EC2 instances should be managed by AWS Systems Manager"). With ssm alone,
// requirement 1 reads "no inbound SSH path": no endpoint, outside or inside, reaches port 22
// of any instance, and no security-group rule or network ACL entry allows port 22 at all.

// ssmCalls are a call of the agent to each of its services, as AmazonSSMManagedInstanceCore
// grants them: registering (ssm), opening Session Manager's channels (ssmmessages), and
// polling for Run Command's messages (ec2messages).
var ssmCalls = []string{"ssm:UpdateInstanceInformation", "ssmmessages:CreateControlChannel", "ssmmessages:OpenDataChannel", "ec2messages:GetMessages"}

// accessProbes are the probes of requirement 1 in the config's access mode.
func (v *verifier) accessProbes() []probe {
	n := v.n
	web, bastions, ssm := n.Find(rules.Web), n.Find(rules.Bastion), n.Find(rules.SSMEndpoint)
	plain, admin := v.outside[:1], v.outsideOf(rules.Admin)
	ssh := []Protocol{TCP}
	mk := func(from []*Endpoint, fromRole rules.Role, to []*Endpoint, toRole rules.Role, port int) probe {
		return probe{req: 1, from: from, to: to, fromRole: fromRole, toRole: toRole, protos: ssh, ports: Port(port)}
	}
	var out []probe
	if v.in.Access != config.AccessSSM {
		out = append(out,
			mk(admin, rules.Admin, bastions, rules.Bastion, 22),
			mk(plain, rules.Internet, bastions, rules.Bastion, 22),
			mk(bastions, rules.Bastion, web, rules.Web, 22),
			mk(append(slices.Clip(plain), admin...), rules.Internet, web, rules.Web, 22))
	} else {
		// Every endpoint of the model (every outside class, every ENI of the stack) to every
		// instance, on the same reachability as every other probe.
		hosts := append(slices.Clip(web), bastions...)
		p := mk(v.endpoints, rules.Internet, hosts, rules.Web, 22)
		p.folded = fmt.Sprintf("no inbound SSH path: every endpoint (%d, outside and inside) -> every instance tcp/22", len(v.endpoints))
		out = append(out, p)
	}
	if v.in.SessionManager() {
		out = append(out, mk(web, rules.Web, ssm, rules.SSMEndpoint, 443))
		if v.in.Access == config.AccessBoth {
			out = append(out, mk(bastions, rules.Bastion, ssm, rules.SSMEndpoint, 443))
		}
	}
	return out
}

// fold turns the results of a folded probe into one row when all met their expectation.
func fold(p probe, results []ProbeResult) []ProbeResult {
	if p.folded == "" || slices.ContainsFunc(results, func(r ProbeResult) bool { return !r.OK }) {
		return results
	}
	if len(results) == 0 {
		return []ProbeResult{{Req: p.req, Probe: p.folded, Expected: "blocked", Verdict: "no instance in the stack", from: p.fromRole, to: p.toRole}}
	}
	return []ProbeResult{{Req: p.req, Probe: p.folded, Expected: results[0].Expected, OK: true, from: p.fromRole, to: p.toRole,
		Verdict: fmt.Sprintf("%s: %d connections judged", results[0].Verdict, len(results))}}
}

// accessShapes are the shape checks of requirement 1 in the config's access mode.
func (v *verifier) accessShapes() []check.Result {
	var out []check.Result
	if v.in.SessionManager() {
		out = append(out, v.ssmEndpointsShape())
	}
	if v.in.Access == config.AccessSSM {
		out = append(out, v.noSSHRules())
	}
	return out
}

// ssmEndpointsShape: each service of rules.SSMServices has an interface endpoint with private
// DNS (the agent calls the regional names) in every web subnet.
func (v *verifier) ssmEndpointsShape() check.Result {
	var problems []string
	webSubnets := map[string]bool{}
	for _, e := range v.n.Find(rules.Web) {
		webSubnets[e.Subnet.Name] = true
	}
	for _, service := range rules.SSMServices {
		name := "com.amazonaws." + v.in.Region + "." + service
		var found bool
		for _, ep := range v.n.VPCEndpoints {
			if ep.Service != name {
				continue
			}
			found = true
			if !ep.PrivateDNS {
				problems = append(problems, ep.Addr+": private_dns_enabled is not true: the agent's calls to "+service+"."+v.in.Region+".amazonaws.com do not reach it")
			}
			in := map[string]bool{}
			for _, e := range v.n.Endpoints {
				if e.Res == ep.Addr {
					in[e.Subnet.Name] = true
				}
			}
			for s := range webSubnets {
				if !in[s] {
					problems = append(problems, ep.Addr+" has no interface in "+s)
				}
			}
		}
		if !found {
			problems = append(problems, "no interface endpoint of "+name)
		}
	}
	slices.Sort(problems)
	return shape(1, "Systems Manager's ssm, ssmmessages and ec2messages interface endpoints, private DNS, in every web subnet",
		"three endpoints, private DNS, in every web subnet", problems)
}

// noSSHRules: with access ssm no security-group rule and no allow entry of a subnet's network
// ACL lets port 22 through, whatever it would connect (the probes judge the connections).
func (v *verifier) noSSHRules() check.Result {
	var problems []string
	opens := func(p Protocol, ports Ports) bool { return p == All || p == TCP && ports.Contains(22) }
	for _, g := range v.n.groups() {
		for _, r := range append(slices.Clip(g.Ingress), g.Egress...) {
			if opens(r.Proto, r.Ports) {
				problems = append(problems, r.Addr+" allows "+On(TCP, r.Ports.Intersect(Port(22)))+" on "+g.Addr)
			}
		}
	}
	// The network ACLs of the subnets: the VPC's default one guards no subnet of the stack.
	seen := map[*NACL]bool{}
	for _, sn := range v.n.Subnets {
		a := sn.NACL
		if a == nil || seen[a] {
			continue
		}
		seen[a] = true
		for _, e := range append(slices.Clip(a.Ingress), a.Egress...) {
			if e.Allow && opens(e.Proto, e.Ports) {
				problems = append(problems, fmt.Sprintf("%s #%d allows tcp/22", a.Addr, e.Number))
			}
		}
	}
	return shape(1, "access ssm: no security-group rule or network ACL entry allows port 22",
		"none", problems)
}

// sessionManager: with access ssm or both, EC2 gives each instance role (the web servers',
// the bastions') and the role lets its SSM Agent call Systems Manager through the endpoints.
func (a *authz) sessionManager() {
	if !a.v.in.SessionManager() {
		return
	}
	role, why := a.webRole()
	a.agentCalls("the web servers", rules.Web, role, why)
	if a.v.in.Access == config.AccessBoth {
		role, why := a.bastionRole()
		a.agentCalls("the bastions", rules.Bastion, role, why)
	}
}

// agentCalls decides ssmCalls for the instances of one role whose IAM role is role (nil:
// why says what is missing).
func (a *authz) agentCalls(who string, from rules.Role, role *Role, why string) {
	flow := ""
	for _, f := range a.v.in.Flows {
		if f.From == from && f.To == rules.SSMEndpoint {
			flow = f.ID
		}
	}
	var checks []Authorization
	for _, action := range ssmCalls {
		service, _, _ := strings.Cut(action, ":")
		checks = append(checks, Authorization{Req: 1, Check: who + "' SSM Agent calls Systems Manager (" + service + ", SSM.1)",
			Action: action, Expected: "allowed", Flow: flow})
	}
	if role == nil {
		for _, c := range checks {
			a.missing(c, why)
		}
		return
	}
	ids, problems := a.identity(role)
	name := role.Name
	part := rules.Partition(a.v.in.Region)
	// The agent signs with the instance's role session, named by the instance's ID.
	instance := "i-" + fmt.Sprintf("%017x", fnv64(role.Addr))
	session := "arn:" + part + ":sts::" + a.account + ":assumed-role/" + name + "/" + instance
	resource := "arn:" + part + ":ec2:" + a.v.in.Region + ":" + a.account + ":instance/" + instance
	for _, c := range checks {
		service, _, _ := strings.Cut(c.Action, ":")
		endpoint, ep, err := a.endpointPolicy(service)
		if endpoint == nil || err != nil {
			what := "no interface endpoint of " + service
			if err != nil {
				what = err.Error()
			}
			a.missing(c, what)
			continue
		}
		// ssmmessages and ec2messages have no resource types (the Service Authorization
		// Reference lists none): their calls name "*"; ssm's registration names the instance.
		on := "*"
		if service == "ssm" {
			on = resource
		}
		c.Caller, c.Resource = role.Addr+" (through "+endpoint.Addr+")", on
		a.decide(c, policy.Request{Principal: session, Action: c.Action, Resource: on},
			policy.Policies{Identity: ids, Endpoint: ep}, problems)
	}
}

// bastionRole finds the IAM role of the bastions' instance profile, or says what is missing.
func (a *authz) bastionRole() (*Role, string) {
	bastions := map[string]bool{}
	for _, e := range a.v.n.Find(rules.Bastion) {
		bastions[e.Res] = true
	}
	var role *Role
	for _, in := range a.v.n.InstanceRoles {
		if !bastions[in.Addr] {
			continue
		}
		switch {
		case !in.HasProfile:
			return nil, in.Addr + " has no iam_instance_profile: its SSM Agent calls AWS as nobody"
		case in.Profile == nil:
			return nil, in.Addr + ": iam_instance_profile names no aws_iam_instance_profile of the stack"
		case in.Profile.Role == nil:
			return nil, in.Profile.Addr + ": role names no aws_iam_role of the stack"
		case role != nil && in.Profile.Role != role:
			return nil, "the bastions have different roles (" + role.Addr + ", " + in.Profile.Role.Addr + ")"
		}
		role = in.Profile.Role
	}
	if role == nil {
		return nil, "no bastion's instance profile in the stack"
	}
	return role, ""
}
