package verify

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/webtier/webtier/policy"
	"github.com/webtier/webtier/rules"
)

// Authorization: what AWS decides above the packets. A flow that gets through the network
// still fails if AWS does not authorize the call it carries: the web servers' NFS mount (EFS
// file-system policy), their read of the database secret (their role, the Secrets Manager
// endpoint's policy), the package downloads through the S3 gateway endpoint (its policy), the
// services that assume the stack's roles (trust policies). Each is evaluated by package policy
// as AWS's "Policy evaluation logic" says, with every policy on the way, and names the
// statements that decided.

// Authorization is one call AWS must decide, the decision and what decided it.
type Authorization struct {
	Req int `json:"req"`
	// Check says what is asked: "the web servers mount the shared file system".
	Check string `json:"check"`
	// Caller, Action and Resource are the request; Caller names where its identity comes from.
	Caller   string `json:"caller"`
	Action   string `json:"action"`
	Resource string `json:"resource"`
	// Expected is "allowed" or "denied"; Outcome is the decision, or "not read" where the
	// document lacks a policy the decision needs (the live reader does not read it yet).
	Expected string `json:"expected"`
	Outcome  string `json:"outcome"`
	OK       bool   `json:"ok"`
	// By are the statements that decided; Why says it in a sentence.
	By  []string `json:"by,omitempty"`
	Why string   `json:"why"`
	// Problems are what the evaluator cannot judge as AWS would (an unknown condition key).
	Problems []string `json:"problems,omitempty"`
	// Flow is the flow of the table whose call this is, when it is one (its probes then name
	// the decision).
	Flow string `json:"flow,omitempty"`

	// asked is the request and the policies decided on, for an independent judge in tests.
	asked *asked
}

// asked is one decision's input: the request and each policy's name and JSON text.
type asked struct {
	req                       policy.Request
	identity                  []policy.Policy
	resource, trust, endpoint *policy.Policy
}

// notRead is the outcome of a check whose policies a deployed document does not carry.
const notRead = "not read"

// plannedAccount stands for the account a synthesized stack will be applied in, unknown before
// apply: the stack's `${data.aws_caller_identity.*.account_id}` and the ARNs of its roles.
const plannedAccount = "000000000000"

// otherAccount is an account that is not the stack's, for the confused-deputy checks.
const otherAccount = "111122223333"

var (
	accountRef = regexp.MustCompile(`\$\{data\.aws_caller_identity\.[A-Za-z0-9_-]+\.account_id\}`)
	// terraformRef is any other reference, a value known only after apply (IAM would read
	// `${...}` as a policy variable): policies and requests alike name it by its planned value.
	terraformRef = regexp.MustCompile(`\$\{([^}]+)\}`)
)

// authz holds what the authorization checks read from the stack.
type authz struct {
	v       *verifier
	account string
	out     []Authorization
	// used are the Allow statements that granted a request a flow needs.
	used map[string]bool
	// identities are the identity policies the checks consulted, for the unused-Allow check.
	identities []policy.Policy
	// incomplete is true when a check could not be judged: an Allow may then serve it.
	incomplete bool
}

// authorizations runs every authorization check of the stack.
func (v *verifier) authorizations() []Authorization {
	a := &authz{v: v, account: v.n.Account, used: map[string]bool{}}
	a.webServers()
	a.sessionManager()
	a.flowLogs()
	a.dbMonitoring()
	if v.in.S3Endpoint {
		a.repositories()
	}
	a.unusedAllows()
	return a.out
}

// secretARN is the ARN of a database's managed secret: the one a deployed stack read, else
// its planned one ("" when a deployed stack's read has none).
func (a *authz) secretARN(db *DBInstance) string {
	if a.v.n.Deployed {
		return db.SecretARN
	}
	return a.planned(db.Addr + ".master_user_secret[0].secret_arn")
}

// flowID is the ID of the active flow from the web servers to role, or "".
func (a *authz) flowID(to rules.Role) string {
	for _, f := range a.v.in.Flows {
		if f.From == rules.Web && f.To == to {
			return f.ID
		}
	}
	return ""
}

// authorizeProbes names, on each probe of a flow whose call AWS must authorize, the decision:
// the statements that allowed it, or why it is refused (the probe then fails: the connection
// is of no use).
func authorizeProbes(probes []ProbeResult, list []Authorization, flows []rules.Flow) {
	byFlow := map[string][]Authorization{}
	for _, a := range list {
		if a.Flow != "" {
			byFlow[a.Flow] = append(byFlow[a.Flow], a)
		}
	}
	for i := range probes {
		p := &probes[i]
		for _, f := range flows {
			calls := byFlow[f.ID]
			if len(calls) == 0 || p.from != f.From || p.to != f.To || !p.OK {
				continue
			}
			var by, refused, unjudged []string
			for _, c := range calls {
				switch {
				case c.Outcome == notRead:
					unjudged = append(unjudged, c.Why)
				case !c.OK:
					refused = append(refused, "("+c.Action+"): "+c.Why)
				default:
					by = append(by, c.By...)
				}
			}
			switch {
			case len(refused) > 0:
				p.Authorized, p.OK = "call REFUSED "+strings.Join(refused, "; "), false
			case len(unjudged) > 0:
				p.Authorized = "call not judged: " + strings.Join(slices.Compact(unjudged), "; ")
			default:
				p.Authorized = "call authorized by " + strings.Join(slices.Compact(by), "; ")
			}
		}
	}
}

// text is a policy's JSON with the account filled in (the planned one before apply) and
// every other reference replaced by its planned value.
func (a *authz) text(s string) string {
	return terraformRef.ReplaceAllStringFunc(accountRef.ReplaceAllString(s, a.account), func(ref string) string {
		return a.planned(ref[2 : len(ref)-1])
	})
}

// planned is the value a reference (TYPE.NAME.attr) will have after apply, in AWS's format,
// with an ID made from the resource's address: the ARNs of the resources whose calls the
// checks make, so that policies and requests name them alike and as AWS would. Any other
// reference stays `terraform:REF`.
func (a *authz) planned(ref string) string {
	typ, rest, _ := strings.Cut(ref, ".")
	name, attr, _ := strings.Cut(rest, ".")
	addr := typ + "." + name
	id := fmt.Sprintf("%017x", fnv64(addr))
	known := func(literal string) {
		if literal != "" {
			id = strings.TrimPrefix(strings.TrimPrefix(literal, "fs-"), "fl-") // a deployed stack's
		}
	}
	region, part := a.v.in.Region, rules.Partition(a.v.in.Region)
	n := a.v.n
	switch {
	case typ == "aws_efs_file_system" && attr == "arn":
		if fs := byAddr(n.FileSystems, addr, func(x *FileSystem) string { return x.Addr }); fs != nil {
			known(fs.ID)
			return "arn:" + part + ":elasticfilesystem:" + region + ":" + a.account + ":file-system/fs-" + id
		}
	case typ == "aws_cloudwatch_log_group" && attr == "arn":
		if g := byAddr(n.LogGroups, addr, func(x *LogGroup) string { return x.Addr }); g != nil && g.HasName {
			return "arn:" + part + ":logs:" + region + ":" + a.account + ":log-group:" + g.Name
		}
	case typ == "aws_iam_role" && attr == "arn":
		if r := byAddr(n.Roles, addr, func(x *Role) string { return x.Addr }); r != nil {
			return a.roleARN(r)
		}
	case typ == "aws_db_instance" && attr == "master_user_secret[0].secret_arn":
		if db := byAddr(n.DBInstances, addr, func(x *DBInstance) string { return x.Addr }); db != nil {
			known(db.ID)
			return "arn:" + part + ":secretsmanager:" + region + ":" + a.account + ":secret:rds!db-" + id[:8] + "-AbCdEf"
		}
	case typ == "aws_flow_log" && attr == "id":
		if fl := byAddr(n.FlowLogs, addr, func(x *FlowLog) string { return x.Addr }); fl != nil {
			known(fl.ID)
			return "fl-" + id
		}
	}
	return "terraform:" + ref
}

// fnv64 is the 64-bit FNV-1a hash of s.
func fnv64(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h = (h ^ uint64(s[i])) * 1099511628211
	}
	return h
}

// byAddr is the element of list whose address is addr, or nil.
func byAddr[T any](list []*T, addr string, of func(*T) string) *T {
	for _, x := range list {
		if of(x) == addr {
			return x
		}
	}
	return nil
}

// parse reads text as the policy called name (its resource address).
func (a *authz) parse(name, text string) (*policy.Policy, error) {
	p, err := policy.NewPolicy(name, a.text(text))
	if err != nil {
		return nil, err
	}
	return &p, nil
}

// arn is the ARN of the resource at addr: the literal one of a deployed stack, else its
// planned one.
func (a *authz) arn(addr, literal string) string {
	if literal != "" && !strings.Contains(literal, "${") {
		return literal
	}
	return a.planned(addr + ".arn")
}

// roleARN is the ARN of an IAM role as its callers present it.
func (a *authz) roleARN(role *Role) string {
	if strings.HasPrefix(role.ARN, "arn:") {
		return role.ARN
	}
	return "arn:" + rules.Partition(a.v.in.Region) + ":iam::" + a.account + ":role/" + role.Name
}

// identity is every policy of role: its inline policies and the AWS managed policies whose
// documents verify holds (managed/); any other attached policy is a problem, its statements
// not being in the stack. Only the inline policies are the stack's own, for unusedAllows: an
// AWS managed policy is AWS's to word.
func (a *authz) identity(role *Role) (ps []policy.Policy, problems []string) {
	for _, p := range role.Policies {
		parsed, err := a.parse(p.Addr, p.Text)
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		ps = append(ps, *parsed)
	}
	a.identities = append(a.identities, ps...)
	for _, p := range role.Attached {
		switch managed, known, err := managedPolicy(p.PolicyARN); {
		case err != nil:
			problems = append(problems, fmt.Sprintf("%s attaches %s: %v", p.Addr, p.PolicyARN, err))
		case known:
			ps = append(ps, *managed)
		default:
			problems = append(problems, fmt.Sprintf("%s attaches %s, whose statements are not in the stack: not judged", p.Addr, p.PolicyARN))
		}
	}
	return ps, problems
}

// decide evaluates req with ps and records the check.
func (a *authz) decide(c Authorization, req policy.Request, ps policy.Policies, problems []string) {
	req.Account = a.account
	d := policy.Evaluate(req, ps)
	c.asked = &asked{req: req, identity: ps.Identity, resource: ps.Resource, trust: ps.Trust, endpoint: ps.Endpoint}
	c.Outcome, c.Why = outcome(d), d.Why
	for _, s := range d.Deciding {
		c.By = append(c.By, s.String())
		if d.Allowed() && c.Expected == "allowed" {
			a.used[s.String()] = true
		}
	}
	for _, p := range d.Problems {
		problems = append(problems, p.String())
	}
	c.Problems = problems
	c.OK = c.Outcome == c.Expected && len(problems) == 0
	a.out = append(a.out, c)
}

func outcome(d policy.Decision) string {
	if d.Allowed() {
		return "allowed"
	}
	return "denied"
}

// missing records a check whose inputs are not in the document: a defect in a synthesized
// stack, a reader's gap in a deployed one.
func (a *authz) missing(c Authorization, what string) {
	a.incomplete = true
	if a.v.n.Deployed {
		c.Outcome, c.OK, c.Why = notRead, true, what+": the live reader does not read it yet (not judged, not a pass)"
	} else {
		c.Outcome, c.Why = "not judged", what
	}
	a.out = append(a.out, c)
}

// webRole finds the IAM role of the web servers' instance profile through their Auto Scaling
// group's launch template, or says what is missing.
func (a *authz) webRole() (*Role, string) {
	for _, f := range a.v.n.Fleets {
		lt := f.Template
		switch {
		case lt == nil:
			continue
		case !lt.HasProfile:
			return nil, lt.Addr + " has no iam_instance_profile: the web servers call AWS as nobody"
		case lt.Profile == nil:
			return nil, lt.Addr + ": iam_instance_profile names no aws_iam_instance_profile of the stack"
		case lt.Profile.Role == nil:
			return nil, lt.Profile.Addr + ": role names no aws_iam_role of the stack"
		}
		return lt.Profile.Role, ""
	}
	return nil, "no Auto Scaling group with a launch template"
}

// fstabEntry is an EFS line of /etc/fstab as the user data writes it.
var fstabEntry = regexp.MustCompile(`(?m)['"]?([^\s'"]+):/\s+(\S+)\s+efs\s+([^\s'"]+)\s+\d+\s+\d+`)

// efsMount reads the user data's fstab entry of file system fs: whether the mount signs with
// the instance's role (the iam option) and uses TLS.
func (a *authz) efsMount(userData string, fs *FileSystem) (found, iam, tls bool) {
	for _, m := range fstabEntry.FindAllStringSubmatch(Script(userData), -1) {
		if m[1] != "${"+fs.Addr+".id}" && (fs.ID == "" || m[1] != fs.ID) {
			continue
		}
		opts := strings.Split(m[3], ",")
		return true, slices.Contains(opts, "iam"), slices.Contains(opts, "tls")
	}
	return false, false, false
}

// webServers: the web servers assume their role, mount the shared file system (and are
// refused without TLS), and read the database secret through the Secrets Manager endpoint,
// which refuses any other caller.
func (a *authz) webServers() {
	a.plainMounts()
	role, why := a.webRole()
	assume := Authorization{Req: 6, Check: "EC2 gives the web servers their role", Caller: "ec2.amazonaws.com",
		Action: "sts:AssumeRole", Expected: "allowed"}
	mount := Authorization{Req: 6, Check: "the web servers mount the shared file system over TLS", Expected: "allowed", Flow: a.flowID(rules.EFS)}
	secret := Authorization{Req: 5, Check: "the web servers read the database secret through the endpoint", Action: "secretsmanager:GetSecretValue", Expected: "allowed",
		Flow: a.flowID(rules.SecretsEndpoint)}
	other := Authorization{Req: 7, Check: "the Secrets Manager endpoint refuses every other caller", Action: "secretsmanager:GetSecretValue",
		Caller: "another role of the account, allowed secretsmanager:* on * by its own policy", Expected: "denied"}
	mounts := func(m Authorization) []Authorization {
		var out []Authorization
		for _, action := range mountActions {
			c := m
			c.Action = action
			out = append(out, c)
		}
		return out
	}
	if role == nil {
		for _, c := range append(mounts(mount), assume, secret, other) {
			a.missing(c, why)
		}
		return
	}
	assume.Resource = role.Addr
	if !role.HasTrust {
		a.missing(assume, role.Addr+": no trust policy")
	} else if trust, err := a.parse(role.Addr, role.Trust); err != nil {
		a.missing(assume, err.Error())
	} else {
		a.decide(assume, policy.Request{Principal: "ec2.amazonaws.com", Action: "sts:AssumeRole", Resource: a.roleARN(role)},
			policy.Policies{Trust: trust}, nil)
	}
	ids, problems := a.identity(role)
	roleARN := a.roleARN(role)
	userData := ""
	for _, e := range a.v.n.Find(rules.Web) {
		userData = e.UserData
		break
	}
	for _, fs := range a.v.n.FileSystems {
		m := mount
		m.Resource = fs.Addr
		found, iam, tls := a.efsMount(userData, fs)
		if !found {
			for _, c := range mounts(m) {
				a.missing(c, "the web servers' user data has no fstab entry for "+fs.Addr)
			}
			continue
		}
		fsPolicy, err := a.fileSystemPolicy(fs)
		if err != nil {
			for _, c := range mounts(m) {
				a.missing(c, err.Error())
			}
			continue
		}
		principal := policy.Anonymous
		m.Caller = "anonymous: the mount has no iam option"
		if iam {
			m.Caller, principal = role.Addr+" (the mount's iam option)", roleARN
		}
		if !tls {
			m.Check += " (the mount has no tls option)"
		}
		for _, c := range mounts(m) {
			a.decide(c, mountRequest(principal, c.Action, a.arn(fs.Addr, fs.ARN), tls),
				policy.Policies{Identity: identityOf(principal, ids), Resource: fsPolicy}, problems)
		}
	}
	a.secrets(role, roleARN, ids, problems, secret, other)
}

// mountActions are what a web server's mount asks of EFS: mount, and write (the drill writes
// a file; the site lists them).
var mountActions = []string{"elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"}

// plainMounts: EFS refuses a mount without TLS, whoever asks, however wide the caller's own
// policy: the file-system policy's Deny decides it.
func (a *authz) plainMounts() {
	someone := "arn:" + rules.Partition(a.v.in.Region) + ":iam::" + a.account + ":role/any-role"
	wide, _ := policy.NewPolicy("a policy of any role of the account", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"elasticfilesystem:*","Resource":"*"}]}`)
	for _, fs := range a.v.n.FileSystems {
		c := Authorization{Req: 6, Check: "a mount without TLS is refused, whoever asks", Caller: "any role of the account, allowed elasticfilesystem:* by its own policy",
			Action: "elasticfilesystem:ClientMount", Resource: fs.Addr, Expected: "denied"}
		fsPolicy, err := a.fileSystemPolicy(fs)
		if err != nil {
			a.missing(c, err.Error())
			continue
		}
		a.decide(c, mountRequest(someone, c.Action, a.arn(fs.Addr, fs.ARN), false),
			policy.Policies{Identity: []policy.Policy{wide}, Resource: fsPolicy}, nil)
	}
}

// fileSystemPolicy is fs's policy, or EFS's default when it has none.
func (a *authz) fileSystemPolicy(fs *FileSystem) (*policy.Policy, error) {
	if fs.Policy != nil {
		return a.parse(fs.Policy.Addr, fs.Policy.Text)
	}
	def := efsDefaultPolicy(fs.Addr)
	return &def, nil
}

// mountContext is what EFS puts in the request context of an NFS mount through a mount target.
func mountContext(principal string, secure bool) policy.Context {
	ctx := policy.Context{"aws:SecureTransport": {fmt.Sprint(secure)}, "elasticfilesystem:AccessedViaMountTarget": {"true"}}
	if principal != policy.Anonymous {
		ctx["aws:PrincipalArn"] = []string{principal}
	}
	return ctx
}

// identityOf is the identity policies of a caller: none for anonymous.
func identityOf(principal string, ids []policy.Policy) []policy.Policy {
	if principal == policy.Anonymous {
		return nil
	}
	return ids
}

// efsDefaultPolicy is what EFS grants when a file system has no policy ("Default EFS file
// system policy"): every client that reaches a mount target may mount, write and act as root.
func efsDefaultPolicy(fs string) policy.Policy {
	p, _ := policy.NewPolicy(fs+" (no file-system policy: EFS's default)", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow",`+
		`"Principal":{"AWS":"*"},"Action":["elasticfilesystem:ClientRootAccess","elasticfilesystem:ClientWrite","elasticfilesystem:ClientMount"],`+
		`"Condition":{"Bool":{"elasticfilesystem:AccessedViaMountTarget":"true"}}}]}`)
	return p
}

// endpointDefaultPolicy is a VPC endpoint's policy when it has none: full access for every
// principal ("Control access to VPC endpoints using endpoint policies").
func endpointDefaultPolicy(e string) policy.Policy {
	p, _ := policy.NewPolicy(e+" (no policy: AWS's default, full access)",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}`)
	return p
}

// endpointPolicy is the policy of the VPC endpoint of service (its last name label: "s3",
// "secretsmanager"), or nil when the stack has no such endpoint.
func (a *authz) endpointPolicy(service string) (*VPCEndpoint, *policy.Policy, error) {
	for _, e := range a.v.n.VPCEndpoints {
		if !strings.HasSuffix(e.Service, "."+service) {
			continue
		}
		if e.Policy == "" {
			def := endpointDefaultPolicy(e.Addr)
			return e, &def, nil
		}
		p, err := a.parse(e.Addr, e.Policy)
		return e, p, err
	}
	return nil, nil, nil
}

// secrets: the web servers read the database's managed secret through the endpoint; another
// role of the account, however wide its own policy, is refused there.
func (a *authz) secrets(role *Role, roleARN string, ids []policy.Policy, problems []string, secret, other Authorization) {
	var target string
	for _, db := range a.v.n.DBInstances {
		if db.ManagedSecret {
			target = a.secretARN(db)
			secret.Resource, other.Resource = db.Addr+" (its managed secret)", db.Addr+" (its managed secret)"
		}
	}
	if target == "" {
		why := "no aws_db_instance with manage_master_user_password"
		if a.v.n.Deployed {
			why = "the database's managed secret (MasterUserSecret)"
		}
		a.missing(secret, why)
		a.missing(other, why)
		return
	}
	endpoint, ep, err := a.endpointPolicy("secretsmanager")
	if err != nil {
		problems = append(problems, err.Error())
	}
	if endpoint == nil {
		a.missing(secret, "no Secrets Manager endpoint: the web servers have no way to the secret")
		a.missing(other, "no Secrets Manager endpoint")
		return
	}
	secret.Caller = role.Addr + " (through " + endpoint.Addr + ")"
	a.decide(secret, secretRequest(roleARN, target),
		policy.Policies{Identity: ids, Endpoint: ep}, problems)
	someone := "arn:" + rules.Partition(a.v.in.Region) + ":iam::" + a.account + ":role/any-other-role"
	wide, _ := policy.NewPolicy("a policy of another role", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"secretsmanager:*","Resource":"*"}]}`)
	other.Caller += " (through " + endpoint.Addr + ")"
	a.decide(other, secretRequest(someone, target),
		policy.Policies{Identity: []policy.Policy{wide}, Endpoint: ep}, problems)
}

// flowLogs: the flow-logs service assumes each flow log's delivery role for this account's
// flow logs, not for another account's (the confused deputy), and the role writes the log group.
func (a *authz) flowLogs() {
	for _, fl := range a.v.n.FlowLogs {
		role := fl.Role
		mine := Authorization{Req: 7, Check: "the flow-logs service assumes the delivery role for this account's flow logs",
			Caller: "vpc-flow-logs.amazonaws.com", Action: "sts:AssumeRole", Expected: "allowed"}
		theirs := Authorization{Req: 7, Check: "the flow-logs service is refused the role for another account's flow logs (confused deputy)",
			Caller: "vpc-flow-logs.amazonaws.com", Action: "sts:AssumeRole", Expected: "denied"}
		write := Authorization{Req: 7, Check: "the delivery role writes the flow-log group", Expected: "allowed"}
		if role == nil {
			for _, c := range []Authorization{mine, theirs, write} {
				a.missing(c, fl.Addr+": iam_role_arn names no aws_iam_role of the stack")
			}
			continue
		}
		mine.Resource, theirs.Resource = role.Addr, role.Addr
		if !role.HasTrust {
			a.missing(mine, role.Addr+": the trust policy")
			a.missing(theirs, role.Addr+": the trust policy")
		} else if trust, err := a.parse(role.Addr, role.Trust); err != nil {
			a.missing(mine, err.Error())
			a.missing(theirs, err.Error())
		} else {
			for _, c := range []struct {
				check   Authorization
				account string
			}{{mine, a.account}, {theirs, otherAccount}} {
				source := "arn:" + rules.Partition(a.v.in.Region) + ":ec2:" + a.v.in.Region + ":" + c.account + ":vpc-flow-log/" + a.planned(fl.Addr+".id")
				a.decide(c.check, policy.Request{Principal: "vpc-flow-logs.amazonaws.com", Action: "sts:AssumeRole", Resource: a.roleARN(role),
					Context: policy.Context{"aws:SourceAccount": {c.account}, "aws:SourceArn": {source}}}, policy.Policies{Trust: trust}, nil)
			}
		}
		group := fl.Group
		if group == nil {
			a.missing(write, fl.Addr+": log_destination names no aws_cloudwatch_log_group of the stack")
			continue
		}
		ids, problems := a.identity(role)
		session := "arn:" + rules.Partition(a.v.in.Region) + ":sts::" + a.account + ":assumed-role/" + role.Name + "/flow-logs"
		write.Caller = role.Addr + " (assumed by vpc-flow-logs.amazonaws.com)"
		for _, w := range []struct{ action, resource string }{
			{"logs:CreateLogStream", a.arn(group.Addr, group.ARN) + ":log-stream:eni-0-all"},
			{"logs:PutLogEvents", a.arn(group.Addr, group.ARN) + ":log-stream:eni-0-all"},
			{"logs:DescribeLogStreams", a.arn(group.Addr, group.ARN)},
		} {
			c := write
			c.Action, c.Resource = w.action, group.Addr
			a.decide(c, policy.Request{Principal: session, Action: w.action, Resource: w.resource}, policy.Policies{Identity: ids}, problems)
		}
	}
}

// repositories: with the S3 gateway endpoint, dnf's unsigned reads of the repository bucket
// pass the endpoint's policy, and reads of any other bucket do not.
func (a *authz) repositories() {
	read := Authorization{Req: 3, Check: "the S3 gateway endpoint lets dnf read the repositories", Caller: "anonymous (dnf does not sign)",
		Action: rules.RepoReadAction, Resource: rules.RepoBucket(a.v.in.Region), Expected: "allowed", Flow: a.flowID(rules.Repos)}
	elsewhere := Authorization{Req: 7, Check: "the S3 gateway endpoint refuses every other bucket", Caller: "anonymous",
		Action: rules.RepoReadAction, Resource: "another bucket", Expected: "denied"}
	endpoint, ep, err := a.endpointPolicy("s3")
	if endpoint == nil || err != nil {
		why := "no S3 gateway endpoint"
		if err != nil {
			why = err.Error()
		}
		a.missing(read, why)
		a.missing(elsewhere, why)
		return
	}
	// The buckets are AWS's and public: their policies are not the stack's.
	public := publicBucket()
	for _, c := range []struct {
		check  Authorization
		object string
	}{
		{read, strings.TrimSuffix(rules.RepoObjects(a.v.in.Region), "*") + rules.RepoMirrorList},
		{elsewhere, "arn:" + rules.Partition(a.v.in.Region) + ":s3:::another-bucket/any-object"},
	} {
		c.check.Caller += " (through " + endpoint.Addr + ")"
		a.decide(c.check, repoRequest(c.object),
			policy.Policies{Resource: &public, Endpoint: ep}, nil)
	}
}

// unusedAllows: every Allow of the identity policies the checks consulted granted something a
// flow needs; one that granted nothing is a grant beyond the flows, as an open port is.
func (a *authz) unusedAllows() {
	if len(a.identities) == 0 {
		return
	}
	var unused, wide []string
	seen := map[string]bool{}
	for _, p := range a.identities {
		for _, st := range p.Document.Statements {
			ref := policy.StatementRef{Policy: p.Name, Kind: policy.IdentityPolicy, Index: st.Index, Sid: st.Sid, Effect: st.Effect}.String()
			if st.Effect == policy.Allow && !a.used[ref] && !seen[ref] {
				unused = append(unused, ref)
			}
			if st.Effect == policy.Allow && !seen[ref] && (slices.Contains(st.Resources, "*") || slices.Contains(st.Actions, "*")) {
				wide = append(wide, ref)
			}
			seen[ref] = true
		}
	}
	c := Authorization{Req: 7, Check: "every Allow of the stack's role policies serves a flow, on named resources", Caller: "-", Action: "-", Resource: "-",
		Expected: "none beyond", Outcome: "none beyond", OK: len(unused)+len(wide) == 0, Why: "each Allow granted a call the flows need, on the resources they name"}
	if a.incomplete && len(wide) == 0 {
		a.missing(c, "not every call of the flows was judged, so an Allow that seems unused may serve one")
		return
	}
	var why []string
	if len(unused) > 0 {
		why = append(why, "granting nothing any flow needs: "+strings.Join(unused, "; "))
	}
	if len(wide) > 0 {
		why = append(why, `with "*" where one action or resource is meant: `+strings.Join(wide, "; "))
	}
	if len(why) > 0 {
		c.Outcome = fmt.Sprintf("%d beyond", len(unused)+len(wide))
		c.Why = strings.Join(why, "; ")
	}
	a.out = append(a.out, c)
}
