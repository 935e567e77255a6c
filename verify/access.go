package verify

import (
	"strings"

	"github.com/webtier/webtier/policy"
	"github.com/webtier/webtier/rules"
)

// Access is what AWS consults when the web servers call it, as the stack declares it, every
// reference filled in as the authorization checks fill it (the planned account and ARNs before
// apply). The twin's stand-ins decide each call with it, so that a stack whose policies refuse
// a call fails on the twin as it would on AWS: a mount target refuses the mount, the Secrets
// Manager endpoint the secret, the S3 gateway endpoint the object. The requests are the ones
// the checks ask (Mount, ReadSecret and ReadRepo build them for both).
type Access struct {
	Account string `json:"account"`
	// Role is the ARN of the web servers' role (empty: they have none) and Identity its
	// inline policies.
	Role     string       `json:"role,omitempty"`
	Identity []PolicyText `json:"identity,omitempty"`
	// FileSystem is the shared file system, nil when the stack has none.
	FileSystem *FileSystemAccess `json:"file_system,omitempty"`
	// Secret is the database's managed secret, nil when the stack has none or its ARN was not
	// read (a deployed stack).
	Secret *SecretAccess `json:"secret,omitempty"`
	// Repo is the repositories' bucket behind the S3 gateway endpoint, nil without one.
	Repo *RepoAccess `json:"repo,omitempty"`
	// Unread says what of the above a deployed stack's read lacks: the stand-ins that need it
	// say they do not enforce it.
	Unread []string `json:"unread,omitempty"`
}

// PolicyText is a policy document and the name its statements are cited by.
type PolicyText struct {
	Name string `json:"name"`
	Text string `json:"text"`
}

// FileSystemAccess is an EFS file system, its policy (EFS's default when it has none) and how
// the web servers' user data mounts it.
type FileSystemAccess struct {
	ARN    string     `json:"arn"`
	Policy PolicyText `json:"policy"`
	// IAM and TLS are the mount's iam (sign with the instance's role) and tls options.
	IAM bool `json:"iam"`
	TLS bool `json:"tls"`
}

// SecretAccess is the database's secret and the policy of the Secrets Manager endpoint the web
// servers reach it through (nil: the stack has no such endpoint).
type SecretAccess struct {
	ARN      string      `json:"arn"`
	Endpoint *PolicyText `json:"endpoint,omitempty"`
}

// RepoAccess is the repositories' bucket (objects under ARN/) and the S3 gateway endpoint's
// policy on the way.
type RepoAccess struct {
	Bucket   string     `json:"bucket"`
	Endpoint PolicyText `json:"endpoint"`
}

// AccessOf reads what AWS consults for the web servers' calls from a stack's network.
func AccessOf(n *Network, in Intent) *Access {
	a := &authz{v: &verifier{n: n, in: in}, account: n.Account, used: map[string]bool{}}
	out := &Access{Account: a.account}
	role, _ := a.webRole()
	if role != nil {
		out.Role = a.roleARN(role)
		ids, _ := a.identity(role)
		for _, p := range ids {
			out.Identity = append(out.Identity, PolicyText{p.Name, p.Text})
		}
	}
	userData := ""
	for _, e := range n.Find(rules.Web) {
		userData = e.UserData
		break
	}
	for _, fs := range n.FileSystems {
		p, err := a.fileSystemPolicy(fs)
		if err != nil {
			out.Unread = append(out.Unread, err.Error())
			continue
		}
		_, iam, tls := a.efsMount(userData, fs)
		out.FileSystem = &FileSystemAccess{ARN: a.arn(fs.Addr, fs.ARN), Policy: PolicyText{p.Name, p.Text}, IAM: iam, TLS: tls}
		break
	}
	for _, db := range n.DBInstances {
		if !db.ManagedSecret {
			continue
		}
		arn := a.secretARN(db)
		if arn == "" {
			out.Unread = append(out.Unread, "the database secret's ARN")
			break
		}
		out.Secret = &SecretAccess{ARN: arn}
		if e, p, err := a.endpointPolicy("secretsmanager"); err != nil {
			out.Unread = append(out.Unread, err.Error())
		} else if e != nil {
			out.Secret.Endpoint = &PolicyText{p.Name, p.Text}
		}
	}
	if in.S3Endpoint {
		if e, p, err := a.endpointPolicy("s3"); err != nil {
			out.Unread = append(out.Unread, err.Error())
		} else if e != nil {
			out.Repo = &RepoAccess{Bucket: strings.TrimSuffix(rules.RepoObjects(in.Region), "/*"), Endpoint: PolicyText{p.Name, p.Text}}
		}
	}
	return out
}

// Mount is EFS's decision on a mount of the file system by principal (policy.Anonymous when
// the mount does not sign) over a connection with or without TLS: ClientMount, and
// ClientWrite (without it the mount is read-only).
func (a *Access) Mount(principal string, tls bool) (mount, write policy.Decision, err error) {
	fs := a.FileSystem
	ps := policy.Policies{}
	if ps.Resource, err = parsed(fs.Policy); err != nil {
		return
	}
	if principal != policy.Anonymous {
		if ps.Identity, err = a.identity(); err != nil {
			return
		}
	}
	decide := func(action string) policy.Decision {
		req := mountRequest(principal, action, fs.ARN, tls)
		req.Account = a.Account
		return policy.Evaluate(req, ps)
	}
	return decide(mountActions[0]), decide(mountActions[1]), nil
}

// ReadSecret is the decision on principal's GetSecretValue of the database secret through the
// Secrets Manager endpoint: its identity policies (when it is the web servers' role) and the
// endpoint's policy.
func (a *Access) ReadSecret(principal string) (policy.Decision, error) {
	ps := policy.Policies{}
	var err error
	if ps.Endpoint, err = parsed(*a.Secret.Endpoint); err != nil {
		return policy.Decision{}, err
	}
	if principal == a.Role {
		if ps.Identity, err = a.identity(); err != nil {
			return policy.Decision{}, err
		}
	}
	req := secretRequest(principal, a.Secret.ARN)
	req.Account = a.Account
	return policy.Evaluate(req, ps), nil
}

// ReadRepo is the decision on an unsigned read of key in the repositories' bucket through the
// S3 gateway endpoint.
func (a *Access) ReadRepo(key string) (policy.Decision, error) {
	endpoint, err := parsed(a.Repo.Endpoint)
	if err != nil {
		return policy.Decision{}, err
	}
	public := publicBucket()
	req := repoRequest(a.Repo.Bucket + "/" + strings.TrimPrefix(key, "/"))
	req.Account = a.Account
	return policy.Evaluate(req, policy.Policies{Resource: &public, Endpoint: endpoint}), nil
}

// identity is the web servers' role's policies, parsed.
func (a *Access) identity() ([]policy.Policy, error) {
	var out []policy.Policy
	for _, t := range a.Identity {
		p, err := parsed(t)
		if err != nil {
			return nil, err
		}
		out = append(out, *p)
	}
	return out, nil
}

// parsed is t parsed (an Access read back from JSON carries the texts only).
func parsed(t PolicyText) (*policy.Policy, error) {
	p, err := policy.NewPolicy(t.Name, t.Text)
	return &p, err
}

// mountRequest is an NFS mount's request to EFS through a mount target.
func mountRequest(principal, action, fs string, tls bool) policy.Request {
	return policy.Request{Principal: principal, Action: action, Resource: fs, Context: mountContext(principal, tls)}
}

// secretRequest is a GetSecretValue of secret, over HTTPS as the AWS CLI makes it.
func secretRequest(principal, secret string) policy.Request {
	return policy.Request{Principal: principal, Action: "secretsmanager:GetSecretValue", Resource: secret,
		Context: policy.Context{"aws:SecureTransport": {"true"}, "aws:PrincipalArn": {principal}}}
}

// repoRequest is dnf's unsigned read of an object of the repositories' bucket.
func repoRequest(object string) policy.Request {
	return policy.Request{Principal: policy.Anonymous, Action: rules.RepoReadAction, Resource: object}
}

// publicBucket stands for the policy of the repositories' bucket: AWS's and public.
func publicBucket() policy.Policy {
	p, _ := policy.NewPolicy("the bucket's policy (public read; the bucket is not the stack's)",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*"}]}`)
	return p
}
