package policy

import (
	"fmt"
	"strings"
)

// Anonymous is Request.Principal for an unsigned request: an NFS client that mounts without
// the iam option, a public S3 GET.
const Anonymous = ""

// Request is one call to authorize.
type Request struct {
	// Principal is who calls: an IAM ARN (arn:aws:iam::123456789012:role/webtier-web, or an
	// assumed-role session arn:aws:sts::123456789012:assumed-role/webtier-web/i-0abc), an AWS
	// service principal (vpc-flow-logs.amazonaws.com), or Anonymous.
	Principal string
	// Action is the IAM action: "elasticfilesystem:ClientMount".
	Action string
	// Resource is the resource's ARN.
	Resource string
	// Account is the account that owns the resource.
	Account string
	// Context is the request context: condition keys and their values, exactly as AWS would
	// put them in the request (the evaluator adds none).
	Context Context
}

// Context is a request context: condition keys and their values. Keys match a policy's keys
// case-insensitively, as IAM's do; a key with no values is absent. A key with more than one
// value is a multivalued key, which only ForAnyValue and ForAllValues conditions can test.
type Context map[string][]string

// lookup finds key (lower is key in lower case) whatever its case in the context.
func (c Context) lookup(key, lower string) ([]string, bool) {
	if v, ok := c[key]; ok {
		return v, len(v) > 0
	}
	for k, v := range c {
		if len(k) == len(lower) && strings.EqualFold(k, lower) {
			return v, len(v) > 0
		}
	}
	return nil, false
}

// Policy is a parsed document with the name its caller knows it by, which every decision uses
// to name it: "aws_iam_role_policy.web-read-db-secret", "aws_efs_file_system_policy.shared".
type Policy struct {
	Name     string
	Document Document
	// Text is the JSON the document was parsed from (NewPolicy), for another judge to read.
	Text string
}

// NewPolicy parses text as the policy called name; an error is prefixed with name.
func NewPolicy(name, text string) (Policy, error) {
	doc, err := Parse(text)
	if err != nil {
		return Policy{}, fmt.Errorf("%s: %w", name, err)
	}
	return Policy{Name: name, Document: doc, Text: text}, nil
}

// Policies are every policy AWS consults for one request within one account.
type Policies struct {
	// Identity are the caller's identity policies (inline and attached). Anonymous callers
	// and service principals have none.
	Identity []Policy
	// Resource is the resource's policy (an EFS file-system policy, a secret's resource
	// policy, a bucket policy), or nil when it has none.
	Resource *Policy
	// Trust is the trust policy of the role being assumed: the role's resource policy, for an
	// sts:AssumeRole request whose Resource is the role. Unlike other resource policies it
	// must itself allow the caller even within the account (an identity policy alone does not
	// let a principal assume a role). Set Trust or Resource, not both.
	Trust *Policy
	// Endpoint is the policy of the VPC endpoint the request goes through, or nil when it
	// goes through none. When set, it must allow the request as well.
	Endpoint *Policy
}

// Kind is the part a policy plays in a request.
type Kind int

// The kinds of policy Evaluate consults.
const (
	IdentityPolicy Kind = iota
	ResourcePolicy
	TrustPolicy
	EndpointPolicy
)

func (k Kind) String() string {
	return [...]string{"identity", "resource", "trust", "endpoint"}[k]
}

// Outcome is what AWS does with a request.
type Outcome int

// The three outcomes, as AWS's "Policy evaluation logic" names them.
const (
	ImplicitDeny Outcome = iota
	ExplicitDeny
	Allowed
)

func (o Outcome) String() string {
	return [...]string{"implicitly denied", "explicitly denied", "allowed"}[o]
}

// StatementRef names one statement of one policy.
type StatementRef struct {
	// Policy is the policy's name as the caller gave it.
	Policy string
	Kind   Kind
	// Index is the statement's position in its document, from 0.
	Index  int
	Sid    string
	Effect Effect
}

// String reads `aws_efs_file_system_policy.shared Statement[0] "DenyWithoutTLS"`.
func (r StatementRef) String() string {
	s := fmt.Sprintf("%s Statement[%d]", r.Policy, r.Index)
	if r.Sid != "" {
		s += fmt.Sprintf(" %q", r.Sid)
	}
	return s
}

// Problem is something in a consulted policy, or in the request, that the evaluator cannot
// judge as AWS would: an unknown condition operator or key, a policy variable, an element a
// policy of its kind may not have, a multivalued key without a set operator.
type Problem struct {
	// Policy is the policy's name, or "request" for a problem with the request itself.
	Policy string
	// Field is the element: "Statement[0].Condition.Bool.aws:SecureTranport".
	Field string
	Msg   string
}

func (p Problem) String() string { return p.Policy + ": " + p.Field + ": " + p.Msg }

// Decision is Evaluate's answer and how it came.
type Decision struct {
	Outcome Outcome
	// Deciding are the statements that decided: every Deny that applied (ExplicitDeny); every
	// Allow that granted, of each kind of policy that had to allow (Allowed); none for an
	// implicit deny, where Why names what lacked an Allow.
	Deciding []StatementRef
	// Consulted names every policy consulted, in order: "identity aws_iam_role_policy.web".
	Consulted []string
	// Why says in one sentence what decided.
	Why string
	// Problems is what the evaluator cannot judge as AWS would, in the statements that had a
	// say (principal and action matched) and in the request. A caller that must be sure
	// treats any problem as a failure.
	Problems []Problem
}

// Allowed says whether the request is allowed.
func (d Decision) Allowed() bool { return d.Outcome == Allowed }

func (d Decision) String() string {
	s := d.Why
	for _, p := range d.Problems {
		s += "\n  problem: " + p.String()
	}
	return s
}

// Evaluate decides a request within one account as AWS's "Policy evaluation logic" says:
//   - an explicit Deny in any consulted policy wins (identity, resource or trust, endpoint);
//   - otherwise the request needs an Allow: within the resource's account, from an identity
//     policy OR the resource policy (a resource policy's Allow that names only the caller's
//     account delegates to the identity policies); from another account, from both; for a
//     role assumption, from the trust policy itself (or, when it names only the caller's
//     account, from it and an identity policy); for anonymous callers and service
//     principals, from the resource or trust policy;
//   - a VPC endpoint policy on the path must ALSO allow;
//   - anything else is implicitly denied.
//
// Evaluate does not change the policies and may be called concurrently.
func Evaluate(req Request, ps Policies) Decision {
	e := evaluation{req: req, who: classify(req.Principal)}
	d := &e.d
	if e.who.kind == callerInvalid {
		e.problem("request", "Principal", fmt.Sprintf("%q is not an IAM ARN, a service principal (name.amazonaws.com) or Anonymous", req.Principal))
	}
	if e.who.kind == callerIAM && !accountID.MatchString(req.Account) {
		e.problem("request", "Account", fmt.Sprintf("%q is not an account ID; expected the 12 digits of the resource's account (the caller counts as from another account)", req.Account))
	}
	if ps.Resource != nil && ps.Trust != nil {
		e.problem("request", "Policies", "both Resource and Trust are set; a role's trust policy is its resource policy: the trust policy is used")
	}
	resource, resourceKind := ps.Resource, ResourcePolicy
	if ps.Trust != nil {
		resource, resourceKind = ps.Trust, TrustPolicy
	}

	var denies, identity, full, account, endpoint []StatementRef
	if len(ps.Identity) > 0 && e.who.kind != callerIAM {
		e.problem("request", "Policies.Identity", fmt.Sprintf("%s has no identity policies: not consulted", e.who))
	} else {
		for i := range ps.Identity {
			denies, identity, _ = e.consult(&ps.Identity[i], IdentityPolicy, denies, identity, nil)
		}
	}
	if resource != nil {
		denies, full, account = e.consult(resource, resourceKind, denies, full, account)
	}
	if ps.Endpoint != nil {
		// An Allow naming only an account is dropped: of "AWS": "account_id" in an endpoint
		// policy, "access is granted to the AWS account root user only, not all users and
		// roles for the account" ("Control access to VPC endpoints using endpoint policies").
		denies, endpoint, _ = e.consult(ps.Endpoint, EndpointPolicy, denies, endpoint, nil)
	}

	if len(denies) > 0 {
		d.Outcome, d.Deciding = ExplicitDeny, denies
		d.Why = "explicitly denied by " + refs(denies)
		return e.done()
	}

	sameAccount := e.who.kind == callerIAM && e.who.account == req.Account
	var core []StatementRef
	switch {
	case e.who.kind == callerInvalid:
	case e.who.kind != callerIAM:
		core = full
	case resourceKind == TrustPolicy && sameAccount:
		core = full
		if len(core) == 0 && len(account) > 0 && len(identity) > 0 {
			core = append(append(core, account...), identity...)
		}
	case sameAccount:
		core = append(append(core, identity...), full...)
	default: // another account: both sides must allow
		if len(identity) > 0 && len(full)+len(account) > 0 {
			core = append(append(append(core, identity...), full...), account...)
		}
	}
	if len(core) == 0 {
		d.Why = fmt.Sprintf("implicitly denied: %s", e.lacking(ps, resource, resourceKind, identity, full, account, sameAccount))
		return e.done()
	}
	if ps.Endpoint != nil && len(endpoint) == 0 {
		d.Why = fmt.Sprintf("implicitly denied: allowed by %s, but no statement of endpoint policy %s allows %s (a VPC endpoint policy on the path must allow too)",
			refs(core), ps.Endpoint.Name, e.what())
		return e.done()
	}
	d.Outcome, d.Deciding = Allowed, append(core, endpoint...)
	d.Why = "allowed by " + refs(d.Deciding)
	return e.done()
}

type evaluation struct {
	req  Request
	who  caller
	d    Decision
	seen map[Problem]bool
}

func (e *evaluation) problem(policy, field, msg string) {
	p := Problem{Policy: policy, Field: field, Msg: msg}
	if e.seen[p] {
		return
	}
	if e.seen == nil {
		e.seen = map[Problem]bool{}
	}
	e.seen[p] = true
	e.d.Problems = append(e.d.Problems, p)
}

func (e *evaluation) done() Decision { return e.d }

// consult evaluates every statement of p, appending each Deny that applies to denies, each
// Allow that names the caller (or needs no principal) to allows, and each Allow that names
// only the caller's account to accounts.
func (e *evaluation) consult(p *Policy, kind Kind, denies, allows, accounts []StatementRef) ([]StatementRef, []StatementRef, []StatementRef) {
	e.d.Consulted = append(e.d.Consulted, kind.String()+" "+p.Name)
	for i := range p.Document.Statements {
		s := &p.Document.Statements[i]
		match := fullMatch
		if kind == IdentityPolicy {
			if s.Principal != nil {
				e.problem(p.Name, s.field(), "an identity policy statement has a Principal element, which AWS rejects: the statement is not used")
				continue
			}
		} else {
			if s.Principal == nil {
				e.problem(p.Name, s.field(), fmt.Sprintf("a %s policy statement has no Principal element, which AWS rejects: the statement is not used", kind))
				continue
			}
			match = s.principal.match(e.who)
			if s.NotPrincipal {
				// NotPrincipal applies to everyone it does not name, a principal of a named
				// account included.
				if match == noMatch {
					match = fullMatch
				} else {
					match = noMatch
				}
			}
		}
		if match == noMatch || !s.actionMatches(e.req.Action) {
			continue
		}
		for _, pr := range s.problems {
			e.problem(p.Name, pr.Field, pr.Msg)
		}
		if !s.resourceMatches(e.req.Resource) {
			continue
		}
		ok := true
		for j := range s.Conditions {
			c := &s.Conditions[j]
			if !c.holds(e.req.Context, func(msg string) {
				e.problem(p.Name, fmt.Sprintf("%s.Condition.%s.%s", s.field(), c.Operator, c.Key), msg)
			}) {
				ok = false // every condition is still evaluated, so that each problem is reported
			}
		}
		if !ok {
			continue
		}
		ref := StatementRef{Policy: p.Name, Kind: kind, Index: s.Index, Sid: s.Sid, Effect: s.Effect}
		switch {
		case s.Effect == Deny:
			denies = append(denies, ref)
		case match == fullMatch:
			allows = append(allows, ref)
		default:
			accounts = append(accounts, ref)
		}
	}
	return denies, allows, accounts
}

// what describes the request: `elasticfilesystem:ClientMount on arn:... by an anonymous caller`.
func (e *evaluation) what() string {
	return fmt.Sprintf("%s on %s by %s", e.req.Action, e.req.Resource, e.who)
}

// lacking says which Allow an implicitly denied request lacks.
func (e *evaluation) lacking(ps Policies, resource *Policy, kind Kind, identity, full, account []StatementRef, sameAccount bool) string {
	if e.who.kind == callerInvalid {
		return "the principal is not one the evaluator knows"
	}
	var consulted []string
	for _, p := range ps.Identity {
		if e.who.kind == callerIAM {
			consulted = append(consulted, "identity "+p.Name)
		}
	}
	if resource != nil {
		consulted = append(consulted, kind.String()+" "+resource.Name)
	}
	switch {
	case len(consulted) == 0:
		return fmt.Sprintf("no policy allows %s (none consulted)", e.what())
	case kind == TrustPolicy && len(full) == 0 && len(account) > 0 && len(identity) == 0:
		return fmt.Sprintf("trust policy %s trusts only the caller's account (%s), and no identity policy allows %s",
			resource.Name, refs(account), e.what())
	case kind == TrustPolicy && len(full) == 0 && len(identity) > 0 && len(account) == 0:
		return fmt.Sprintf("allowed by %s, but trust policy %s does not trust %s (the trust policy must allow a role's assumption itself)",
			refs(identity), resource.Name, e.who)
	case !sameAccount && e.who.kind == callerIAM && len(identity) > 0:
		return fmt.Sprintf("allowed by %s, but the resource is in account %s and no resource policy allows %s", refs(identity), e.req.Account, e.what())
	case !sameAccount && e.who.kind == callerIAM && len(full)+len(account) > 0:
		return fmt.Sprintf("allowed by %s, but the caller is from account %s and no identity policy allows %s", refs(append(full, account...)), e.who.account, e.what())
	case len(account) > 0:
		return fmt.Sprintf("%s names only the caller's account (it delegates to identity policies), and no statement of %s allows %s",
			refs(account), strings.Join(consulted, ", "), e.what())
	}
	return fmt.Sprintf("no statement of %s allows %s", strings.Join(consulted, ", "), e.what())
}

func refs(rs []StatementRef) string {
	parts := make([]string, len(rs))
	for i, r := range rs {
		parts[i] = r.Kind.String() + " " + r.String()
	}
	return strings.Join(parts, ", ")
}

func (c caller) String() string {
	switch c.kind {
	case callerAnonymous:
		return "an anonymous caller"
	case callerService:
		return "service " + c.arn
	}
	return c.arn
}
