package policy

import (
	"fmt"
	"strings"
)

// The stack's names and policies (testdata/webtier.tf.json), with the fixes the AWS review
// asks for beside them.
const (
	acct      = "123456789012"
	otherAcct = "111122223333"
	webRole   = "arn:aws:iam::123456789012:role/webtier-web"
	webSess   = "arn:aws:sts::123456789012:assumed-role/webtier-web/i-0123456789abcdef0"
	adminRole = "arn:aws:iam::123456789012:role/admin"
	fsARN     = "arn:aws:elasticfilesystem:ap-northeast-2:123456789012:file-system/fs-0123456789abcdef0"
	secretARN = "arn:aws:secretsmanager:ap-northeast-2:123456789012:secret:rds!db-c8f38575-25d3-4ba6-938b-99961cf0849d-TaexSZ"
	repoObj   = "arn:aws:s3:::al2023-repos-ap-northeast-2-de612dc2/2023.9.20250929/x86_64/mirror.list"
	flowRole  = "arn:aws:iam::123456789012:role/webtier-flow-logs"
	flowLog   = "arn:aws:ec2:ap-northeast-2:123456789012:vpc-flow-log/fl-0123456789abcdef0"
	flowLogs  = "vpc-flow-logs.amazonaws.com"
)

var (
	// efsPolicy is aws_efs_file_system_policy.shared: one Deny without TLS, no Allow.
	efsPolicy = named("aws_efs_file_system_policy.shared", `{"Version":"2012-10-17","Statement":[
		{"Sid":"DenyWithoutTLS","Effect":"Deny","Principal":{"AWS":"*"},"Action":"*",
		 "Resource":"`+fsARN+`","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`)
	// efsPolicyAnonymous adds an Allow for clients that mount through a mount target, as the
	// default file-system policy does, so that anonymous NFS clients keep their access.
	efsPolicyAnonymous = named("aws_efs_file_system_policy.shared", `{"Version":"2012-10-17","Statement":[
		{"Sid":"DenyWithoutTLS","Effect":"Deny","Principal":{"AWS":"*"},"Action":"*",
		 "Resource":"`+fsARN+`","Condition":{"Bool":{"aws:SecureTransport":"false"}}},
		{"Sid":"MountThroughMountTargets","Effect":"Allow","Principal":{"AWS":"*"},
		 "Action":["elasticfilesystem:ClientMount","elasticfilesystem:ClientWrite"],"Resource":"`+fsARN+`",
		 "Condition":{"Bool":{"elasticfilesystem:AccessedViaMountTarget":"true"}}}]}`)
	// efsPolicyTypo misspells the key: the Deny never applies on AWS.
	efsPolicyTypo = named("aws_efs_file_system_policy.shared", strings.Replace(efsPolicy.text, "aws:SecureTransport", "aws:SecureTranport", 1))
	// webEFS lets the web role mount and write through a mount target (an iam mount).
	webEFS = named("aws_iam_role_policy.web-efs", `{"Version":"2012-10-17","Statement":{"Effect":"Allow",
		"Action":["elasticfilesystem:ClientMount","elasticfilesystem:ClientWrite"],"Resource":"`+fsARN+`",
		"Condition":{"Bool":{"elasticfilesystem:AccessedViaMountTarget":"true"}}}}`)
	// webSecret is aws_iam_role_policy.web-read-db-secret.
	webSecret = named("aws_iam_role_policy.web-read-db-secret", `{"Version":"2012-10-17","Statement":[
		{"Action":"secretsmanager:GetSecretValue","Effect":"Allow","Resource":"`+secretARN+`"}]}`)
	// secretOnlyThroughEndpoint is a secret policy that refuses reads from outside the VPC
	// endpoint.
	secretOnlyThroughEndpoint = named("aws_secretsmanager_secret_policy.db", `{"Version":"2012-10-17","Statement":[
		{"Sid":"OnlyThroughTheEndpoint","Effect":"Deny","Principal":"*","Action":"secretsmanager:*","Resource":"*",
		 "Condition":{"StringNotEquals":{"aws:SourceVpce":"vpce-0123456789abcdef0"}}}]}`)
	// s3Endpoint is aws_vpc_endpoint.s3's policy (s3_gateway_endpoint: true).
	s3Endpoint = named("aws_vpc_endpoint.s3", `{"Version":"2012-10-17","Statement":[
		{"Sid":"RepositoriesOnly","Effect":"Allow","Principal":"*","Action":"s3:GetObject",
		 "Resource":"arn:aws:s3:::al2023-repos-ap-northeast-2-de612dc2/*"}]}`)
	// s3EndpointAccount names the account instead of "*".
	s3EndpointAccount = named("aws_vpc_endpoint.s3", `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Principal":{"AWS":"123456789012"},"Action":"s3:GetObject",
		 "Resource":"arn:aws:s3:::al2023-repos-ap-northeast-2-de612dc2/*"}]}`)
	// s3EndpointRole limits the endpoint to the web role the way AWS's page says for gateway
	// endpoints: Principal "*" and a condition on aws:PrincipalArn.
	s3EndpointRole = named("aws_vpc_endpoint.s3", `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::al2023-repos-ap-northeast-2-de612dc2/*",
		 "Condition":{"ArnEquals":{"aws:PrincipalArn":"`+webRole+`"}}}]}`)
	// publicRepo stands for the repository bucket's own policy: anyone may read.
	publicRepo = named("al2023-repos bucket policy", `{"Statement":[{"Effect":"Allow","Principal":"*",
		"Action":"s3:GetObject","Resource":"arn:aws:s3:::al2023-repos-ap-northeast-2-de612dc2/*"}]}`)
	otherPublicBucket = named("other bucket policy", `{"Statement":[{"Effect":"Allow","Principal":"*",
		"Action":"s3:GetObject","Resource":"arn:aws:s3:::other-bucket/*"}]}`)
	webS3All = named("aws_iam_role_policy.web-s3", `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`)
	// flowTrust is the flow-log role's trust policy with the confused-deputy conditions AWS
	// recommends; flowTrustBare is the stack's, without them.
	flowTrust = named("aws_iam_role.flow-logs", `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Principal":{"Service":"vpc-flow-logs.amazonaws.com"},"Action":"sts:AssumeRole",
		 "Condition":{"StringEquals":{"aws:SourceAccount":"123456789012"},
		              "ArnLike":{"aws:SourceArn":"arn:aws:ec2:ap-northeast-2:123456789012:vpc-flow-log/*"}}}]}`)
	flowTrustBare = named("aws_iam_role.flow-logs", `{"Version":"2012-10-17","Statement":[
		{"Action":"sts:AssumeRole","Effect":"Allow","Principal":{"Service":"vpc-flow-logs.amazonaws.com"}}]}`)
	trustAccount = named("aws_iam_role.flow-logs", `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}]}`)
	adminAssume = named("aws_iam_role_policy.admin-assume", `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"`+flowRole+`"}]}`)
	// Resource policies naming principals in each way.
	secretForAccount = named("aws_secretsmanager_secret_policy.db", `{"Statement":[{"Effect":"Allow",
		"Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}]}`)
	secretForWebRole = named("aws_secretsmanager_secret_policy.db", `{"Statement":[{"Effect":"Allow",
		"Principal":{"AWS":"`+webRole+`"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}]}`)
	secretForAnyAWS = named("aws_secretsmanager_secret_policy.db", `{"Statement":[{"Effect":"Allow",
		"Principal":{"AWS":"*"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}]}`)
	secretDenyAccount = named("aws_secretsmanager_secret_policy.db", `{"Statement":[{"Effect":"Deny",
		"Principal":{"AWS":"123456789012"},"Action":"secretsmanager:*","Resource":"*"}]}`)
	// NotAction and NotResource.
	secretsAll = named("aws_iam_role_policy.web-secrets", `{"Statement":[{"Effect":"Allow","Action":"secretsmanager:*","Resource":"*"}]}`)
	readOnly   = named("aws_iam_role_policy.read-only", `{"Statement":[{"Sid":"NothingButRead","Effect":"Deny",
		"NotAction":["secretsmanager:GetSecretValue","secretsmanager:Describe*"],"Resource":"*"}]}`)
	notThisSecret = named("aws_iam_role_policy.not-this-secret", `{"Statement":[{"Effect":"Allow",
		"Action":"secretsmanager:GetSecretValue","NotResource":"`+secretARN+`"}]}`)
	mixedCase = named("aws_iam_role_policy.mixed-case", `{"Statement":[{"Effect":"Allow",
		"Action":"SecretsManager:getSECRETvalue","Resource":"arn:aws:secretsmanager:ap-northeast-2:123456789012:secret:rds!db-*"}]}`)
)

// namedText is a policy in a case: its name and its JSON, parsed once.
type namedText struct {
	name, text string
	pol        Policy
}

func named(name, text string) namedText {
	p, err := NewPolicy(name, text)
	if err != nil {
		panic(err)
	}
	return namedText{name: name, text: text, pol: p}
}

// evalCase is one request and the policies AWS consults for it, with what AWS decides.
type evalCase struct {
	name     string
	identity []namedText
	resource *namedText
	trust    *namedText
	endpoint *namedText
	req      Request
	want     Outcome
	// deciding are the deciding statements, as StatementRef.String writes them.
	deciding []string
	// problem is a part of a reported problem, or "" for none.
	problem string
	// noAWSOutcome says why AWS has no outcome to compare with: it refuses such a policy.
	noAWSOutcome string
}

func (c evalCase) policies() Policies {
	var ps Policies
	for _, p := range c.identity {
		ps.Identity = append(ps.Identity, p.pol)
	}
	if c.resource != nil {
		ps.Resource = &c.resource.pol
	}
	if c.trust != nil {
		ps.Trust = &c.trust.pol
	}
	if c.endpoint != nil {
		ps.Endpoint = &c.endpoint.pol
	}
	return ps
}

func ids(ps ...namedText) []namedText { return ps }
func ptr(p namedText) *namedText      { return &p }

func ctx(kv ...string) Context {
	c := Context{}
	for i := 0; i+1 < len(kv); i += 2 {
		c[kv[i]] = append(c[kv[i]], kv[i+1])
	}
	return c
}

var (
	tls        = ctx("aws:SecureTransport", "true", "elasticfilesystem:AccessedViaMountTarget", "true")
	noTLS      = ctx("aws:SecureTransport", "false", "elasticfilesystem:AccessedViaMountTarget", "true")
	flowCtx    = ctx("aws:SourceAccount", acct, "aws:SourceArn", flowLog)
	viaEndpont = ctx("aws:SourceVpce", "vpce-0123456789abcdef0")
)

func mount(principal string, c Context) Request {
	return Request{Principal: principal, Action: "elasticfilesystem:ClientMount", Resource: fsARN, Account: acct, Context: c}
}

func readSecret(principal, action, resource string, c Context) Request {
	return Request{Principal: principal, Action: action, Resource: resource, Account: acct, Context: c}
}

func getObject(principal, resource string) Request {
	return Request{Principal: principal, Action: "s3:GetObject", Resource: resource, Account: acct,
		Context: ctx("aws:SourceVpce", "vpce-0aaaaaaaaaaaaaaaa")}
}

func withContext(r Request, key, value string) Request {
	c := Context{key: {value}}
	for k, v := range r.Context {
		c[k] = v
	}
	r.Context = c
	return r
}

func assume(principal string, c Context) Request {
	return Request{Principal: principal, Action: "sts:AssumeRole", Resource: flowRole, Account: acct, Context: c}
}

// evalCases are the evaluation logic's cases; each runs through Evaluate and, when node and
// @cloud-copilot/iam-simulate are installed, through iam-simulate too.
var evalCases = []evalCase{
	// EFS: the file-system policy, anonymous and IAM mounts.
	{name: "efs: the web role mounts over TLS through a mount target", identity: ids(webEFS), resource: &efsPolicy,
		req: mount(webRole, tls), want: Allowed, deciding: []string{"aws_iam_role_policy.web-efs Statement[0]"}},
	{name: "efs: the web role's session mounts over TLS", identity: ids(webEFS), resource: &efsPolicy,
		req: mount(webSess, tls), want: Allowed, deciding: []string{"aws_iam_role_policy.web-efs Statement[0]"}},
	{name: "efs: the web role without TLS is denied by DenyWithoutTLS", identity: ids(webEFS), resource: &efsPolicy,
		req: mount(webRole, noTLS), want: ExplicitDeny, deciding: []string{`aws_efs_file_system_policy.shared Statement[0] "DenyWithoutTLS"`}},
	{name: "efs: an anonymous client over TLS finds no Allow in the stack's policy", resource: &efsPolicy,
		req: mount(Anonymous, tls), want: ImplicitDeny},
	{name: "efs: an anonymous client without TLS is denied", resource: &efsPolicy,
		req: mount(Anonymous, noTLS), want: ExplicitDeny, deciding: []string{`aws_efs_file_system_policy.shared Statement[0] "DenyWithoutTLS"`}},
	{name: "efs: an anonymous client over TLS, the policy allowing mounts through mount targets", resource: &efsPolicyAnonymous,
		req: mount(Anonymous, tls), want: Allowed, deciding: []string{`aws_efs_file_system_policy.shared Statement[1] "MountThroughMountTargets"`}},
	{name: "efs: the Deny wins over the policy's own Allow without TLS", resource: &efsPolicyAnonymous,
		req: mount(Anonymous, noTLS), want: ExplicitDeny, deciding: []string{`aws_efs_file_system_policy.shared Statement[0] "DenyWithoutTLS"`}},
	{name: "efs: not through a mount target, the policy's Allow does not apply", resource: &efsPolicyAnonymous,
		req: mount(Anonymous, ctx("aws:SecureTransport", "true")), want: ImplicitDeny},
	{name: "efs: a request without aws:SecureTransport is not denied (Bool on an absent key is false)", identity: ids(webEFS), resource: &efsPolicy,
		req: mount(webRole, ctx("elasticfilesystem:AccessedViaMountTarget", "true")), want: Allowed,
		deciding: []string{"aws_iam_role_policy.web-efs Statement[0]"}},
	{name: "efs: a misspelled key makes the Deny never apply, and is reported", identity: ids(webEFS), resource: &efsPolicyTypo,
		req: mount(webRole, noTLS), want: Allowed, deciding: []string{"aws_iam_role_policy.web-efs Statement[0]"},
		problem: `unknown condition key "aws:SecureTranport"`},
	{name: "efs: root access is not granted by ClientMount/ClientWrite", identity: ids(webEFS), resource: &efsPolicy,
		req:  Request{Principal: webRole, Action: "elasticfilesystem:ClientRootAccess", Resource: fsARN, Account: acct, Context: tls},
		want: ImplicitDeny},

	// Secrets Manager: one secret, one action.
	{name: "secret: the web role reads its secret", identity: ids(webSecret),
		req: readSecret(webRole, "secretsmanager:GetSecretValue", secretARN, nil), want: Allowed,
		deciding: []string{"aws_iam_role_policy.web-read-db-secret Statement[0]"}},
	{name: "secret: another secret is not allowed", identity: ids(webSecret),
		req: readSecret(webRole, "secretsmanager:GetSecretValue", strings.Replace(secretARN, "TaexSZ", "AbCdEf", 1), nil), want: ImplicitDeny},
	{name: "secret: writing the secret is not allowed", identity: ids(webSecret),
		req: readSecret(webRole, "secretsmanager:PutSecretValue", secretARN, nil), want: ImplicitDeny},
	{name: "secret: a role without identity policies is denied", resource: nil,
		req: readSecret(adminRole, "secretsmanager:GetSecretValue", secretARN, nil), want: ImplicitDeny},
	{name: "secret: action names match whatever their case", identity: ids(mixedCase),
		req: readSecret(webRole, "secretsmanager:GetSecretValue", secretARN, nil), want: Allowed,
		deciding: []string{"aws_iam_role_policy.mixed-case Statement[0]"}},
	{name: "secret: through the endpoint, the secret policy's Deny does not apply", identity: ids(webSecret), resource: &secretOnlyThroughEndpoint,
		req: readSecret(webRole, "secretsmanager:GetSecretValue", secretARN, viaEndpont), want: Allowed,
		deciding: []string{"aws_iam_role_policy.web-read-db-secret Statement[0]"}},
	{name: "secret: not through an endpoint, StringNotEquals on the absent aws:SourceVpce denies", identity: ids(webSecret), resource: &secretOnlyThroughEndpoint,
		req: readSecret(webRole, "secretsmanager:GetSecretValue", secretARN, nil), want: ExplicitDeny,
		deciding: []string{`aws_secretsmanager_secret_policy.db Statement[0] "OnlyThroughTheEndpoint"`}},
	{name: "secret: through another endpoint, denied", identity: ids(webSecret), resource: &secretOnlyThroughEndpoint,
		req: readSecret(webRole, "secretsmanager:GetSecretValue", secretARN, ctx("aws:SourceVpce", "vpce-0ffffffffffffffff")), want: ExplicitDeny,
		deciding: []string{`aws_secretsmanager_secret_policy.db Statement[0] "OnlyThroughTheEndpoint"`}},
	{name: "secret: the resource policy alone allows the role it names", resource: &secretForWebRole,
		req: readSecret(webRole, "secretsmanager:GetSecretValue", secretARN, nil), want: Allowed,
		deciding: []string{"aws_secretsmanager_secret_policy.db Statement[0]"}},
	{name: "secret: the resource policy names the role, the caller is its session", resource: &secretForWebRole,
		req: readSecret(webSess, "secretsmanager:GetSecretValue", secretARN, nil), want: Allowed,
		deciding: []string{"aws_secretsmanager_secret_policy.db Statement[0]"}},
	{name: "secret: identity OR resource: both allowing names both", identity: ids(webSecret), resource: &secretForWebRole,
		req: readSecret(webRole, "secretsmanager:GetSecretValue", secretARN, nil), want: Allowed,
		deciding: []string{"aws_iam_role_policy.web-read-db-secret Statement[0]", "aws_secretsmanager_secret_policy.db Statement[0]"}},
	{name: "secret: a resource policy naming the account delegates: no identity Allow, denied", resource: &secretForAccount,
		req: readSecret(adminRole, "secretsmanager:GetSecretValue", secretARN, nil), want: ImplicitDeny},
	{name: "secret: a resource policy naming the account, with an identity Allow", identity: ids(webSecret), resource: &secretForAccount,
		req: readSecret(webRole, "secretsmanager:GetSecretValue", secretARN, nil), want: Allowed,
		deciding: []string{"aws_iam_role_policy.web-read-db-secret Statement[0]"}},
	{name: `secret: {"AWS": "*"} allows any role of the account`, resource: &secretForAnyAWS,
		req: readSecret(adminRole, "secretsmanager:GetSecretValue", secretARN, nil), want: Allowed,
		deciding: []string{"aws_secretsmanager_secret_policy.db Statement[0]"}},
	{name: `secret: {"AWS": "*"} is not a service principal`, resource: &secretForAnyAWS,
		req: readSecret("lambda.amazonaws.com", "secretsmanager:GetSecretValue", secretARN, nil), want: ImplicitDeny},
	{name: "secret: a Deny naming the account denies its roles", identity: ids(webSecret), resource: &secretDenyAccount,
		req: readSecret(webRole, "secretsmanager:GetSecretValue", secretARN, nil), want: ExplicitDeny,
		deciding: []string{"aws_secretsmanager_secret_policy.db Statement[0]"}},
	{name: "secret: from another account, the identity policy alone is not enough", identity: ids(webSecret),
		req:  Request{Principal: "arn:aws:iam::111122223333:role/webtier-web", Action: "secretsmanager:GetSecretValue", Resource: secretARN, Account: acct},
		want: ImplicitDeny},
	{name: "secret: NotAction Deny leaves reads allowed", identity: ids(secretsAll, readOnly),
		req: readSecret(webRole, "secretsmanager:GetSecretValue", secretARN, nil), want: Allowed,
		deciding: []string{"aws_iam_role_policy.web-secrets Statement[0]"}},
	{name: "secret: NotAction Deny denies what it does not list", identity: ids(secretsAll, readOnly),
		req: readSecret(webRole, "secretsmanager:DeleteSecret", secretARN, nil), want: ExplicitDeny,
		deciding: []string{`aws_iam_role_policy.read-only Statement[0] "NothingButRead"`}},
	{name: "secret: NotAction Deny with a wildcard exception", identity: ids(secretsAll, readOnly),
		req: readSecret(webRole, "secretsmanager:DescribeSecret", secretARN, nil), want: Allowed,
		deciding: []string{"aws_iam_role_policy.web-secrets Statement[0]"}},
	{name: "secret: NotResource excludes the secret", identity: ids(notThisSecret),
		req: readSecret(webRole, "secretsmanager:GetSecretValue", secretARN, nil), want: ImplicitDeny},
	{name: "secret: NotResource covers any other secret", identity: ids(notThisSecret),
		req: readSecret(webRole, "secretsmanager:GetSecretValue", strings.Replace(secretARN, "TaexSZ", "AbCdEf", 1), nil), want: Allowed,
		deciding: []string{"aws_iam_role_policy.not-this-secret Statement[0]"}},

	// S3 through the gateway endpoint.
	{name: "s3: the web role reads the repository through the endpoint", resource: &publicRepo, endpoint: &s3Endpoint,
		req: getObject(webRole, repoObj), want: Allowed,
		deciding: []string{"al2023-repos bucket policy Statement[0]", `aws_vpc_endpoint.s3 Statement[0] "RepositoriesOnly"`}},
	{name: "s3: an anonymous GET of the repository through the endpoint", resource: &publicRepo, endpoint: &s3Endpoint,
		req: getObject(Anonymous, repoObj), want: Allowed,
		deciding: []string{"al2023-repos bucket policy Statement[0]", `aws_vpc_endpoint.s3 Statement[0] "RepositoriesOnly"`}},
	{name: "s3: another public bucket through the endpoint: the endpoint policy must also allow", resource: &otherPublicBucket, endpoint: &s3Endpoint,
		req: getObject(webRole, "arn:aws:s3:::other-bucket/key"), want: ImplicitDeny},
	{name: "s3: the identity policy allows s3:*, the endpoint only GetObject: PutObject denied", identity: ids(webS3All), resource: &publicRepo, endpoint: &s3Endpoint,
		req: Request{Principal: webRole, Action: "s3:PutObject", Resource: repoObj, Account: acct}, want: ImplicitDeny},
	{name: "s3: the identity policy and the endpoint allow GetObject", identity: ids(webS3All), endpoint: &s3Endpoint,
		req: getObject(webRole, repoObj), want: Allowed,
		deciding: []string{"aws_iam_role_policy.web-s3 Statement[0]", `aws_vpc_endpoint.s3 Statement[0] "RepositoriesOnly"`}},
	{name: "s3: the same GET without the endpoint on the path", identity: ids(webS3All),
		req: getObject(webRole, repoObj), want: Allowed, deciding: []string{"aws_iam_role_policy.web-s3 Statement[0]"}},
	{name: "s3: an endpoint policy limited to the web role by aws:PrincipalArn lets it through", resource: &publicRepo, endpoint: &s3EndpointRole,
		req: withContext(getObject(webSess, repoObj), "aws:PrincipalArn", webRole), want: Allowed,
		deciding: []string{"al2023-repos bucket policy Statement[0]", "aws_vpc_endpoint.s3 Statement[0]"}},
	{name: "s3: an endpoint policy limited to the web role by aws:PrincipalArn stops another role", resource: &publicRepo, endpoint: &s3EndpointRole,
		req: withContext(getObject(adminRole, repoObj), "aws:PrincipalArn", adminRole), want: ImplicitDeny},
	{name: "s3: an endpoint policy naming the account grants its root only, not the web role", resource: &publicRepo, endpoint: &s3EndpointAccount,
		req: getObject(webRole, repoObj), want: ImplicitDeny},

	// Trust policies: the role a service assumes.
	{name: "trust: VPC Flow Logs assumes the role for its own account's flow log", trust: &flowTrust,
		req: assume(flowLogs, flowCtx), want: Allowed, deciding: []string{"aws_iam_role.flow-logs Statement[0]"}},
	{name: "trust: VPC Flow Logs acting for another account (confused deputy) is denied", trust: &flowTrust,
		req: assume(flowLogs, ctx("aws:SourceAccount", otherAcct, "aws:SourceArn", strings.Replace(flowLog, acct, otherAcct, 1))), want: ImplicitDeny},
	{name: "trust: a flow log ARN of another kind of resource is denied", trust: &flowTrust,
		req: assume(flowLogs, ctx("aws:SourceAccount", acct, "aws:SourceArn", "arn:aws:ec2:ap-northeast-2:123456789012:instance/i-0123456789abcdef0")), want: ImplicitDeny},
	{name: "trust: without aws:SourceAccount and aws:SourceArn, denied", trust: &flowTrust,
		req: assume(flowLogs, nil), want: ImplicitDeny},
	{name: "trust: the stack's trust policy has no conditions: any source is allowed", trust: &flowTrustBare,
		req: assume(flowLogs, ctx("aws:SourceAccount", otherAcct)), want: Allowed, deciding: []string{"aws_iam_role.flow-logs Statement[0]"}},
	{name: "trust: another service may not assume the role", trust: &flowTrust,
		req: assume("ec2.amazonaws.com", flowCtx), want: ImplicitDeny},
	{name: "trust: an identity policy alone does not let a role be assumed", identity: ids(adminAssume), trust: &flowTrust,
		req: assume(adminRole, nil), want: ImplicitDeny},
	{name: "trust: a trust policy naming the account, with an identity Allow", identity: ids(adminAssume), trust: &trustAccount,
		req: assume(adminRole, nil), want: Allowed,
		deciding: []string{"aws_iam_role.flow-logs Statement[0]", "aws_iam_role_policy.admin-assume Statement[0]"}},
	{name: "trust: a trust policy naming the account, without an identity Allow", trust: &trustAccount,
		req: assume(adminRole, nil), want: ImplicitDeny},
}

// condCase is one condition tested on its own: the Condition element of an Allow statement.
type condCase struct {
	name      string
	condition string // the Condition element's JSON
	context   Context
	want      bool
	problem   string
	noAWS     string
}

var condCases = []condCase{
	{"StringEquals, equal", `{"StringEquals":{"aws:SourceVpce":"vpce-1a"}}`, ctx("aws:SourceVpce", "vpce-1a"), true, "", ""},
	{"StringEquals is case-sensitive", `{"StringEquals":{"aws:SourceVpce":"vpce-1a"}}`, ctx("aws:SourceVpce", "VPCE-1A"), false, "", ""},
	{"StringEquals, one of two values", `{"StringEquals":{"aws:SourceVpce":["vpce-1a","vpce-2b"]}}`, ctx("aws:SourceVpce", "vpce-2b"), true, "", ""},
	{"StringEquals, absent key", `{"StringEquals":{"aws:SourceVpce":"vpce-1a"}}`, nil, false, "", ""},
	{"StringEquals, key case differs", `{"StringEquals":{"AWS:sourcevpce":"vpce-1a"}}`, ctx("aws:SourceVpce", "vpce-1a"), true, "", ""},
	{"StringNotEquals, equal", `{"StringNotEquals":{"aws:SourceVpce":"vpce-1a"}}`, ctx("aws:SourceVpce", "vpce-1a"), false, "", ""},
	{"StringNotEquals, different", `{"StringNotEquals":{"aws:SourceVpce":"vpce-1a"}}`, ctx("aws:SourceVpce", "vpce-2b"), true, "", ""},
	{"StringNotEquals, equal to the second value", `{"StringNotEquals":{"aws:SourceVpce":["vpce-1a","vpce-2b"]}}`, ctx("aws:SourceVpce", "vpce-2b"), false, "", ""},
	{"StringNotEquals, absent key", `{"StringNotEquals":{"aws:SourceVpce":"vpce-1a"}}`, nil, true, "", ""},
	{"StringEqualsIgnoreCase", `{"StringEqualsIgnoreCase":{"aws:SourceVpce":"VPCE-1A"}}`, ctx("aws:SourceVpce", "vpce-1a"), true, "", ""},
	{"StringNotEqualsIgnoreCase", `{"StringNotEqualsIgnoreCase":{"aws:SourceVpce":"VPCE-1A"}}`, ctx("aws:SourceVpce", "vpce-1a"), false, "", ""},
	{"StringLike, *", `{"StringLike":{"aws:SourceVpce":"vpce-*"}}`, ctx("aws:SourceVpce", "vpce-1a"), true, "", ""},
	{"StringLike, ?", `{"StringLike":{"aws:SourceVpce":"vpce-?a"}}`, ctx("aws:SourceVpce", "vpce-1a"), true, "", ""},
	{"StringLike, ? is one character", `{"StringLike":{"aws:SourceVpce":"vpce-?"}}`, ctx("aws:SourceVpce", "vpce-1a"), false, "", ""},
	{"StringLike, absent key", `{"StringLike":{"aws:SourceVpce":"*"}}`, nil, false, "", ""},
	{"StringNotLike, matching", `{"StringNotLike":{"aws:SourceVpce":"vpce-*"}}`, ctx("aws:SourceVpce", "vpce-1a"), false, "", ""},
	{"StringNotLike, absent key", `{"StringNotLike":{"aws:SourceVpce":"vpce-*"}}`, nil, true, "", ""},
	{"ArnEquals", `{"ArnEquals":{"aws:SourceArn":"` + flowLog + `"}}`, ctx("aws:SourceArn", flowLog), true, "", ""},
	{"ArnLike, wildcard in the resource part", `{"ArnLike":{"aws:SourceArn":"arn:aws:ec2:*:123456789012:vpc-flow-log/*"}}`, ctx("aws:SourceArn", flowLog), true, "", ""},
	{"ArnLike, another account", `{"ArnLike":{"aws:SourceArn":"arn:aws:ec2:*:123456789012:vpc-flow-log/*"}}`, ctx("aws:SourceArn", strings.Replace(flowLog, acct, otherAcct, 1)), false, "", ""},
	{"ArnLike, absent key", `{"ArnLike":{"aws:SourceArn":"arn:aws:ec2:*:*:*"}}`, nil, false, "", ""},
	{"ArnNotEquals, equal", `{"ArnNotEquals":{"aws:SourceArn":"` + flowLog + `"}}`, ctx("aws:SourceArn", flowLog), false, "", ""},
	{"ArnNotLike, another account", `{"ArnNotLike":{"aws:SourceArn":"arn:aws:ec2:*:123456789012:*"}}`, ctx("aws:SourceArn", strings.Replace(flowLog, acct, otherAcct, 1)), true, "", ""},
	{"ArnNotLike, absent key", `{"ArnNotLike":{"aws:SourceArn":"arn:aws:ec2:*:123456789012:*"}}`, nil, true, "", ""},
	{"Bool true", `{"Bool":{"aws:SecureTransport":"true"}}`, ctx("aws:SecureTransport", "true"), true, "", ""},
	{"Bool false against true", `{"Bool":{"aws:SecureTransport":"false"}}`, ctx("aws:SecureTransport", "true"), false, "", ""},
	{"Bool as a JSON boolean", `{"Bool":{"aws:SecureTransport":false}}`, ctx("aws:SecureTransport", "false"), true, "", ""},
	{"Bool, absent key", `{"Bool":{"aws:SecureTransport":"false"}}`, nil, false, "", ""},
	{"BoolIfExists, absent key", `{"BoolIfExists":{"aws:SecureTransport":"false"}}`, nil, true, "", ""},
	{"BoolIfExists, present and different", `{"BoolIfExists":{"aws:SecureTransport":"false"}}`, ctx("aws:SecureTransport", "true"), false, "", ""},
	{"StringEqualsIfExists, absent key", `{"StringEqualsIfExists":{"aws:SourceVpce":"vpce-1a"}}`, nil, true, "", ""},
	{"StringEqualsIfExists, present and different", `{"StringEqualsIfExists":{"aws:SourceVpce":"vpce-1a"}}`, ctx("aws:SourceVpce", "vpce-2b"), false, "", ""},
	{"StringNotEqualsIfExists, present and equal", `{"StringNotEqualsIfExists":{"aws:SourceVpce":"vpce-1a"}}`, ctx("aws:SourceVpce", "vpce-1a"), false, "", ""},
	{"Null true, absent key", `{"Null":{"aws:SourceVpce":"true"}}`, nil, true, "", ""},
	{"Null true, present key", `{"Null":{"aws:SourceVpce":"true"}}`, ctx("aws:SourceVpce", "vpce-1a"), false, "", ""},
	{"Null false, present key", `{"Null":{"aws:SourceVpce":"false"}}`, ctx("aws:SourceVpce", "vpce-1a"), true, "", ""},
	{"Null false, absent key", `{"Null":{"aws:SourceVpce":"false"}}`, nil, false, "", ""},
	{"NumericEquals", `{"NumericEquals":{"aws:MultiFactorAuthAge":"300"}}`, ctx("aws:MultiFactorAuthAge", "300"), true, "", ""},
	{"NumericNotEquals", `{"NumericNotEquals":{"aws:MultiFactorAuthAge":"300"}}`, ctx("aws:MultiFactorAuthAge", "299"), true, "", ""},
	{"NumericNotEquals, absent key", `{"NumericNotEquals":{"aws:MultiFactorAuthAge":"300"}}`, nil, true, "", ""},
	{"NumericLessThan", `{"NumericLessThan":{"aws:MultiFactorAuthAge":"3600"}}`, ctx("aws:MultiFactorAuthAge", "120"), true, "", ""},
	{"NumericLessThan, equal", `{"NumericLessThan":{"aws:MultiFactorAuthAge":"3600"}}`, ctx("aws:MultiFactorAuthAge", "3600"), false, "", ""},
	{"NumericLessThanEquals, equal", `{"NumericLessThanEquals":{"aws:MultiFactorAuthAge":3600}}`, ctx("aws:MultiFactorAuthAge", "3600"), true, "", ""},
	{"NumericGreaterThan", `{"NumericGreaterThan":{"aws:MultiFactorAuthAge":"3600"}}`, ctx("aws:MultiFactorAuthAge", "3601"), true, "", ""},
	{"NumericGreaterThanEquals, less", `{"NumericGreaterThanEquals":{"aws:MultiFactorAuthAge":"3600"}}`, ctx("aws:MultiFactorAuthAge", "10"), false, "", ""},
	{"NumericLessThan, absent key", `{"NumericLessThan":{"aws:MultiFactorAuthAge":"3600"}}`, nil, false, "", ""},
	{"DateGreaterThan", `{"DateGreaterThan":{"aws:CurrentTime":"2026-01-01T00:00:00Z"}}`, ctx("aws:CurrentTime", "2026-06-01T12:00:00Z"), true, "", ""},
	{"DateLessThan", `{"DateLessThan":{"aws:CurrentTime":"2026-01-01T00:00:00Z"}}`, ctx("aws:CurrentTime", "2026-06-01T12:00:00Z"), false, "", ""},
	{"IpAddress in the CIDR", `{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}`, ctx("aws:SourceIp", "203.0.113.7"), true, "", ""},
	{"IpAddress outside", `{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}`, ctx("aws:SourceIp", "198.51.100.7"), false, "", ""},
	{"NotIpAddress outside", `{"NotIpAddress":{"aws:SourceIp":"203.0.113.0/24"}}`, ctx("aws:SourceIp", "198.51.100.7"), true, "", ""},
	{"ForAnyValue:StringEquals, one in common", `{"ForAnyValue:StringEquals":{"aws:TagKeys":["team","env"]}}`, ctx("aws:TagKeys", "env", "aws:TagKeys", "owner"), true, "", ""},
	{"ForAnyValue:StringEquals, none in common", `{"ForAnyValue:StringEquals":{"aws:TagKeys":["team"]}}`, ctx("aws:TagKeys", "env", "aws:TagKeys", "owner"), false, "", ""},
	{"ForAnyValue:StringEquals, absent key", `{"ForAnyValue:StringEquals":{"aws:TagKeys":["team"]}}`, nil, false, "", ""},
	{"ForAllValues:StringEquals, a subset", `{"ForAllValues:StringEquals":{"aws:TagKeys":["team","env"]}}`, ctx("aws:TagKeys", "env", "aws:TagKeys", "team"), true, "", ""},
	{"ForAllValues:StringEquals, one outside", `{"ForAllValues:StringEquals":{"aws:TagKeys":["team","env"]}}`, ctx("aws:TagKeys", "env", "aws:TagKeys", "owner"), false, "", ""},
	{"ForAllValues:StringEquals, absent key", `{"ForAllValues:StringEquals":{"aws:TagKeys":["team"]}}`, nil, true, "", ""},
	{"ForAnyValue:StringNotEquals, one value outside", `{"ForAnyValue:StringNotEquals":{"aws:TagKeys":["team","env"]}}`, ctx("aws:TagKeys", "env", "aws:TagKeys", "owner"), true, "", ""},
	{"ForAllValues:StringNotLike, none like", `{"ForAllValues:StringNotLike":{"aws:TagKeys":["aws:*"]}}`, ctx("aws:TagKeys", "env", "aws:TagKeys", "owner"), true, "", ""},
	{"ForAllValues:StringNotLike, one like", `{"ForAllValues:StringNotLike":{"aws:TagKeys":["aws:*"]}}`, ctx("aws:TagKeys", "env", "aws:TagKeys", "aws:x"), false, "", ""},
	{"two keys of one operator are AND'd", `{"StringEquals":{"aws:SourceVpce":"vpce-1a","aws:SourceAccount":"123456789012"}}`, ctx("aws:SourceVpce", "vpce-1a", "aws:SourceAccount", otherAcct), false, "", ""},
	{"two operators are AND'd", `{"StringEquals":{"aws:SourceVpce":"vpce-1a"},"Bool":{"aws:SecureTransport":"true"}}`, ctx("aws:SourceVpce", "vpce-1a", "aws:SecureTransport", "true"), true, "", ""},
	{"a multivalued key needs a set operator", `{"StringEquals":{"aws:TagKeys":"env"}}`, ctx("aws:TagKeys", "env", "aws:TagKeys", "owner"), false,
		"needs ForAnyValue or ForAllValues", ""},
	{"an unknown key is reported", `{"Bool":{"aws:SecureTranport":"true"}}`, ctx("aws:SecureTransport", "true"), false,
		`unknown condition key "aws:SecureTranport"`, ""},
	{"an unknown operator is reported and not met", `{"StringEqual":{"aws:SourceVpce":"vpce-1a"}}`, ctx("aws:SourceVpce", "vpce-1a"), false,
		`unknown condition operator "StringEqual"`, "AWS refuses a policy with an unknown condition operator (MalformedPolicyDocument)"},
}

// condEvalCases turns each condition case into an evaluation case: an identity policy whose one
// Allow carries the condition, for a request of the web role.
func condEvalCases() []evalCase {
	var out []evalCase
	for _, c := range condCases {
		p := named("aws_iam_role_policy.condition", fmt.Sprintf(`{"Version":"2012-10-17","Statement":[
			{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":%s}]}`, c.condition))
		want, deciding := ImplicitDeny, []string(nil)
		if c.want {
			want, deciding = Allowed, []string{"aws_iam_role_policy.condition Statement[0]"}
		}
		out = append(out, evalCase{name: "condition: " + c.name, identity: ids(p),
			req:  Request{Principal: webRole, Action: "s3:GetObject", Resource: repoObj, Account: acct, Context: c.context},
			want: want, deciding: deciding, problem: c.problem, noAWSOutcome: c.noAWS})
	}
	return out
}
