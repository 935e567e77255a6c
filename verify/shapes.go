package verify

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"strings"

	"github.com/webtier/webtier/check"
	"github.com/webtier/webtier/rules"
)

// ShapeChecks are a report's shape checks: a check of the stack's shape that no connection
// shows (sizes, Multi-AZ, one mount target per AZ, who has a public address), each a
// check.Result that passed, failed or, on a stack read back from AWS, was not read.
type ShapeChecks []check.Result

// MarshalJSON writes the fields verify's JSON has always had, which scripts read: req,
// check, ok (false for a failure only), detail (what was observed) and not_read (true for a
// check a stack read back from AWS does not carry what it needs for: ok then, as it fails
// nothing, and a pass of nothing either).
func (list ShapeChecks) MarshalJSON() ([]byte, error) {
	type shapeJSON struct {
		Req     int    `json:"req"`
		Check   string `json:"check"`
		OK      bool   `json:"ok"`
		Detail  string `json:"detail"`
		NotRead bool   `json:"not_read,omitempty"`
	}
	if list == nil {
		return []byte("null"), nil
	}
	out := make([]shapeJSON, len(list))
	for i, r := range list {
		out[i] = shapeJSON{Req: r.Req, Check: r.Check, OK: !r.Failed(), Detail: r.Observed, NotRead: r.Status == check.NotRead}
	}
	// Unescaped: the encoder that asked escapes HTML or not, as it was told.
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	err := enc.Encode(out)
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), err
}

// Shapes runs the shape checks alone on a network, synthesized or deployed (the drill
// repeats those of the deployed stack), against the intent.
func Shapes(n *Network, in Intent) []check.Result { return newVerifier(n, in).shapes() }

// shapes runs the shape checks of requirements 3 to 7.
func (v *verifier) shapes() []check.Result {
	var out []check.Result
	out = append(out, v.accessShapes()...)
	out = append(out, v.publicAddresses())
	out = append(out, v.fleetShape()...)
	out = append(out, v.databaseShape()...)
	out = append(out, v.failoverShape(), v.bootOrderShape())
	out = append(out, v.fileSystemShape())
	out = append(out, v.natShape())
	if v.in.S3Endpoint {
		out = append(out, v.gatewayShape())
	}
	out = append(out, v.baselineShapes()...)
	out = append(out, v.alarmShapes()...)
	out = append(out, v.controlShapes()...)
	out = append(out, v.dbControlShapes()...)
	return out
}

// shape makes a result: a pass observing fine when problems is empty, else a failure
// observing the problems.
func shape(req int, title string, fine string, problems []string) check.Result {
	if len(problems) == 0 {
		return check.Result{Req: req, Check: title, Observed: fine, Status: check.Pass}
	}
	return check.Result{Req: req, Check: title, Observed: strings.Join(problems, "; "), Status: check.Fail}
}

// publicAddresses checks that only the roles the flows reach from outside (and NAT
// gateways) have public addresses.
func (v *verifier) publicAddresses() check.Result {
	// NAT gateways are the web subnets' way out (requirement 3, see natShape) even when no
	// active flow goes through them (s3_gateway_endpoint: true).
	facing := map[rules.Role]bool{rules.NAT: true}
	for _, f := range v.in.Flows {
		if f.From.Outside() {
			facing[f.To] = true
		}
		if f.Via != "" && !f.Via.Hop() {
			facing[f.Via] = true
		}
	}
	var roles []string
	for r := range facing {
		roles = append(roles, string(r))
	}
	sort.Strings(roles)
	var problems []string
	seen := map[string]bool{}
	for _, e := range v.n.Endpoints {
		key := e.Res + "@" + e.Subnet.Name
		if e.Public && !facing[e.Role] && !seen[key] {
			seen[key] = true
			problems = append(problems, fmt.Sprintf("%s has a public address (%s)", e.Name, e.PublicWhy))
		}
	}
	return shape(3, "public addresses only on "+strings.Join(roles, ", "), "no other endpoint has one", problems)
}

// resourcesOf lists the resources whose endpoints play role.
func (v *verifier) resourcesOf(role rules.Role, kind Kind) []string {
	var out []string
	for _, e := range v.n.Find(role) {
		if e.Kind == kind && !slices.Contains(out, e.Res) {
			out = append(out, e.Res)
		}
	}
	return out
}

// azsOf lists the AZs of a resource's endpoints.
func (v *verifier) azsOf(res string) []string {
	var out []string
	for _, e := range v.n.Endpoints {
		if e.Res == res && !slices.Contains(out, e.AZ()) {
			out = append(out, e.AZ())
		}
	}
	sort.Strings(out)
	return out
}

// perResource checks every resource whose endpoints play role as kind, one result each;
// with none in the stack, what is missing.
func (v *verifier) perResource(req int, role rules.Role, kind Kind, what, title string, problems func(addr string) []string) []check.Result {
	addrs := v.resourcesOf(role, kind)
	if len(addrs) == 0 {
		return []check.Result{shape(req, what, "", []string{"the stack has none"})}
	}
	var out []check.Result
	for _, addr := range addrs {
		out = append(out, shape(req, name(addr)+": "+title, addr+": ok", problems(addr)))
	}
	return out
}

// fleetShape checks the web servers' Auto Scaling group: at least two instances, over every
// web subnet of the config in two AZs or more, scaled by CPU target tracking.
func (v *verifier) fleetShape() []check.Result {
	return v.perResource(4, rules.Web, ASGInstance, "an Auto Scaling group of web servers", "min >= 2, web subnets, CPU policy",
		func(addr string) []string {
			var problems []string
			r := byAddr(v.n.Fleets, addr, func(x *Fleet) string { return x.Addr })
			if size := r.MinSize; size < 2 {
				problems = append(problems, fmt.Sprintf("%s: min_size = %d; at least 2 keep one web server per AZ", addr, size))
			}
			if azs := v.azsOf(addr); len(azs) < 2 {
				problems = append(problems, fmt.Sprintf("%s: vpc_zone_identifier spans %d AZ (%s); expected 2", addr, len(azs), strings.Join(azs, ", ")))
			}
			var cidrs []netip.Prefix
			for _, e := range v.n.Endpoints {
				if e.Res == addr {
					cidrs = append(cidrs, e.Subnet.CIDR)
				}
			}
			for _, w := range v.in.WebSubnets {
				if !slices.Contains(cidrs, w) {
					problems = append(problems, fmt.Sprintf("%s: vpc_zone_identifier leaves out the web subnet %s", addr, w))
				}
			}
			if !r.CPUTracked {
				problems = append(problems, fmt.Sprintf("%s: no aws_autoscaling_policy of type TargetTrackingScaling on ASGAverageCPUUtilization", addr))
			}
			return problems
		})
}

// databaseShape checks the database: Multi-AZ, a subnet group over two AZs, not public.
func (v *verifier) databaseShape() []check.Result {
	return v.perResource(5, rules.DB, Database, "a Multi-AZ database", "Multi-AZ over 2 AZs, private",
		func(addr string) []string {
			var problems []string
			r := byAddr(v.n.DBInstances, addr, func(x *DBInstance) string { return x.Addr })
			if !r.MultiAZ {
				problems = append(problems, addr+": multi_az is not true: no standby to fail over to")
			}
			if azs := v.azsOf(addr); len(azs) < 2 && r.SubnetGroup != "" {
				problems = append(problems, fmt.Sprintf("%s: subnet_ids span %d AZ (%s); failover needs 2", r.SubnetGroup, len(azs), strings.Join(azs, ", ")))
			}
			if r.Public {
				problems = append(problems, addr+": publicly_accessible is true")
			}
			return problems
		})
}

// fileSystemShape checks that every AZ with web servers has exactly one mount target, all of
// one file system, each carrying the EFS security group (the group tagged webtier:role=efs).
func (v *verifier) fileSystemShape() check.Result {
	perAZ := map[string][]string{}
	systems := map[string]bool{}
	for _, addr := range v.resourcesOf(rules.EFS, MountTarget) {
		for _, az := range v.azsOf(addr) {
			perAZ[az] = append(perAZ[az], addr)
		}
		if mt := byAddr(v.n.MountTargets, addr, func(x *EFSMountTarget) string { return x.Addr }); mt.FileSystem != nil {
			systems[mt.FileSystem.Addr] = true
		}
	}
	var problems []string
	var webAZs []string
	for _, e := range v.n.Find(rules.Web) {
		if !slices.Contains(webAZs, e.AZ()) {
			webAZs = append(webAZs, e.AZ())
		}
	}
	sort.Strings(webAZs)
	for _, az := range webAZs {
		if n := len(perAZ[az]); n != 1 {
			problems = append(problems, fmt.Sprintf("%s has %d mount targets (%s); web servers there need exactly 1", az, n, strings.Join(perAZ[az], ", ")))
		}
	}
	if len(systems) > 1 {
		problems = append(problems, fmt.Sprintf("the mount targets belong to %d file systems; the web servers must share one", len(systems)))
	}
	efs := v.roleGroup(rules.EFS)
	for _, e := range v.n.Endpoints {
		if e.Kind == MountTarget && (efs == nil || !e.carries(efs)) {
			problems = append(problems, fmt.Sprintf("%s carries %s, not the group tagged %s=%s", e.Res, groupNames(e.Groups), rules.RoleTag, rules.EFS))
		}
	}
	return shape(6, "one EFS mount target per web AZ, each with efs-sg", strings.Join(webAZs, ", ")+": one each, one file system, efs-sg", problems)
}

// roleGroup is the security group tagged with role, or nil.
func (v *verifier) roleGroup(role rules.Role) *SecurityGroup {
	for _, g := range v.n.groups() {
		if g.Role == role {
			return g
		}
	}
	return nil
}

// groupNames names security groups for a message.
func groupNames(groups []*SecurityGroup) string {
	var out []string
	for _, g := range groups {
		out = append(out, g.Name)
	}
	if len(out) == 0 {
		return "no security group"
	}
	return strings.Join(out, ", ")
}

// natShape checks how the web subnets reach the internet against the config's nat setting:
// per-az, one NAT gateway in every AZ of the web subnets and each web subnet's 0.0.0.0/0
// through the one of its own AZ (so an AZ outage takes only that AZ's egress with it); single,
// one NAT gateway that every web subnet's 0.0.0.0/0 goes through.
func (v *verifier) natShape() check.Result {
	perAZ := map[string][]string{}
	var nats []string
	for _, e := range v.n.Endpoints {
		if e.Kind == NATGateway {
			perAZ[e.AZ()] = append(perAZ[e.AZ()], e.Res)
			nats = append(nats, e.Res)
		}
	}
	var problems []string
	check, fine := "one NAT gateway per AZ (nat: per-az)", "each web subnet routes 0.0.0.0/0 through its AZ's NAT gateway"
	if !v.in.NATPerAZ {
		check, fine = "one NAT gateway (nat: single)", "every web subnet routes 0.0.0.0/0 through it"
		if len(nats) != 1 {
			problems = append(problems, fmt.Sprintf("%d NAT gateways (%s); expected 1", len(nats), strings.Join(nats, ", ")))
		}
	}
	defaultRoute := netip.IPv4Unspecified()
	var azs []string
	for _, s := range v.n.Subnets {
		if !slices.Contains(v.in.WebSubnets, s.CIDR) {
			continue
		}
		if !slices.Contains(azs, s.AZ) {
			azs = append(azs, s.AZ)
		}
		r := s.Routes.lookup(defaultRoute)
		switch {
		case r == nil || r.Kind != TargetNAT:
			problems = append(problems, fmt.Sprintf("%s has no 0.0.0.0/0 route to a NAT gateway (%s)", s.Addr, s.Routes.Addr))
		case v.in.NATPerAZ && r.NAT.AZ() != s.AZ:
			problems = append(problems, fmt.Sprintf("%s (%s) routes 0.0.0.0/0 through %s in %s (%s)", s.Addr, s.AZ, r.Target, r.NAT.AZ(), r.Addr))
		}
	}
	if v.in.NATPerAZ {
		sort.Strings(azs)
		for _, az := range azs {
			if n := len(perAZ[az]); n != 1 {
				problems = append(problems, fmt.Sprintf("%s has %d NAT gateways (%s); expected 1", az, n, strings.Join(perAZ[az], ", ")))
			}
		}
	}
	return shape(3, check, fine, problems)
}

// gatewayShape checks the repository path of `s3_gateway_endpoint: true`: every web subnet's
// route table sends the region's S3 prefix list to a gateway endpoint of S3, and each such
// endpoint's policy allows reading the Amazon Linux 2023 repository bucket and nothing else.
func (v *verifier) gatewayShape() check.Result {
	service := S3Service(v.in.Region)
	var problems []string
	used := map[*GatewayEndpoint]bool{}
	for _, s := range v.n.Subnets {
		if !slices.Contains(v.in.WebSubnets, s.CIDR) {
			continue
		}
		var g *GatewayEndpoint
		var route *Route
		for _, r := range s.Routes.Routes {
			if r.Kind != TargetGateway {
				continue
			}
			for _, e := range v.n.Gateways {
				if e.Addr == r.Target && e.Service == service {
					g, route = e, r
				}
			}
		}
		if g == nil {
			problems = append(problems, fmt.Sprintf("%s has no route to the S3 prefix list %s through a gateway endpoint: %s's package downloads go through NAT", s.Routes.Addr, service, s.Addr))
			continue
		}
		used[g] = true
		if route.managed {
			continue // the list's CIDRs are repo_cidrs by definition (Intent.PrefixLists)
		}
		// A deployed list (read back) may hold S3 ranges repo_cidrs lack: the web ACL,
		// which cannot name the list, drops the downloads from them.
		for _, c := range route.ListCIDRs {
			if !slices.ContainsFunc(v.in.RepoCIDRs, func(p netip.Prefix) bool { return p.Bits() <= c.Bits() && p.Contains(c.Addr()) }) {
				problems = append(problems, fmt.Sprintf("%s: the S3 prefix list (%s) holds %s, which repo_cidrs do not cover: the web ACL drops downloads from it (webtier repo-ranges rebuilds the list)", s.Routes.Addr, route.dest(), c))
			}
		}
	}
	for _, g := range v.n.Gateways {
		if used[g] {
			problems = append(problems, repoPolicyProblems(g, v.in.Region)...)
		}
	}
	return shape(3, "package downloads through the S3 gateway endpoint (s3_gateway_endpoint: true)",
		"every web route table sends "+service+" to it; its policy reads "+rules.RepoBucket(v.in.Region)+" only", problems)
}

// repoPolicyProblems lists what the endpoint's policy allows beyond reading the repository
// bucket: every Allow statement must name s3:GetObject alone on the bucket's objects alone.
func repoPolicyProblems(g *GatewayEndpoint, region string) []string {
	if g.Policy == "" {
		return []string{g.Addr + ": no policy: AWS's default allows every S3 action on every bucket"}
	}
	statements, err := PolicyStatements(g.Policy)
	if err != nil {
		return []string{fmt.Sprintf("%s: %v", g.Addr, err)}
	}
	want := map[string]string{"Action": rules.RepoReadAction, "Resource": rules.RepoObjects(region)}
	var problems []string
	for i, st := range statements {
		if st["Effect"] != "Allow" {
			continue
		}
		for _, key := range []string{"Action", "Resource"} {
			if got := strings.Join(PolicyStrings(st[key]), ", "); got != want[key] {
				problems = append(problems, fmt.Sprintf("%s: policy statement %d allows %s %s; expected %s only", g.Addr, i, key, got, want[key]))
			}
		}
		for _, key := range []string{"NotAction", "NotResource"} {
			if st[key] != nil {
				problems = append(problems, fmt.Sprintf("%s: policy statement %d allows by %s, which opens everything else", g.Addr, i, key))
			}
		}
	}
	return problems
}

// PolicyStatements reads the statements of an IAM policy document, whose Statement is one
// statement or a list of them.
func PolicyStatements(doc string) ([]map[string]any, error) {
	var p struct{ Statement json.RawMessage }
	if err := json.Unmarshal([]byte(doc), &p); err != nil {
		return nil, fmt.Errorf("the policy is not a JSON policy document (%v)", err)
	}
	var list []map[string]any
	if err := json.Unmarshal(p.Statement, &list); err != nil {
		var one map[string]any
		if json.Unmarshal(p.Statement, &one) != nil || one == nil {
			return nil, fmt.Errorf("the policy's Statement is neither a statement nor a list of them")
		}
		list = []map[string]any{one}
	}
	return list, nil
}

// PolicyStrings reads a policy element that is a string or a list of strings.
func PolicyStrings(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		var out []string
		for _, e := range x {
			out = append(out, fmt.Sprint(e))
		}
		return out
	}
	return nil
}
