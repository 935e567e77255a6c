package policy

import (
	"slices"
	"strings"
	"testing"
)

func allEvalCases() []evalCase { return append(slices.Clone(evalCases), condEvalCases()...) }

func TestEvaluate(t *testing.T) {
	for _, c := range allEvalCases() {
		t.Run(c.name, func(t *testing.T) {
			d := Evaluate(c.req, c.policies())
			if d.Outcome != c.want {
				t.Errorf("outcome: got %s, want %s\n%s", d.Outcome, c.want, d)
			}
			var got []string
			for _, r := range d.Deciding {
				got = append(got, r.String())
			}
			if !slices.Equal(got, c.deciding) {
				t.Errorf("deciding statements:\n got  %q\n want %q", got, c.deciding)
			}
			checkProblems(t, d, c.problem)
			if d.Outcome == ImplicitDeny {
				// An implicit deny names what it consulted, or that it consulted nothing.
				for _, p := range c.policies().Identity {
					if !strings.Contains(d.Why, p.Name) {
						t.Errorf("Why %q does not name the consulted %s", d.Why, p.Name)
					}
				}
				if c.endpoint == nil && c.resource != nil && !strings.Contains(d.Why, c.resource.name) {
					t.Errorf("Why %q does not name the consulted %s", d.Why, c.resource.name)
				}
			}
		})
	}
}

func checkProblems(t *testing.T, d Decision, want string) {
	t.Helper()
	switch {
	case want == "" && len(d.Problems) > 0:
		t.Errorf("problems: got %v, want none", d.Problems)
	case want != "" && !slices.ContainsFunc(d.Problems, func(p Problem) bool { return strings.Contains(p.String(), want) }):
		t.Errorf("problems: got %v, want one saying %q", d.Problems, want)
	}
}

func TestEvaluateWhy(t *testing.T) {
	for _, tc := range []struct {
		name string
		req  Request
		ps   Policies
		want string
	}{
		{"explicit deny names the statement",
			mount(Anonymous, noTLS), Policies{Resource: &efsPolicy.pol},
			`explicitly denied by resource aws_efs_file_system_policy.shared Statement[0] "DenyWithoutTLS"`},
		{"implicit deny names what was consulted",
			mount(Anonymous, tls), Policies{Resource: &efsPolicy.pol},
			"implicitly denied: no statement of resource aws_efs_file_system_policy.shared allows elasticfilesystem:ClientMount on " + fsARN + " by an anonymous caller"},
		{"implicit deny with nothing consulted",
			readSecret(adminRole, "secretsmanager:GetSecretValue", secretARN, nil), Policies{},
			"implicitly denied: no policy allows secretsmanager:GetSecretValue on " + secretARN + " by " + adminRole + " (none consulted)"},
		{"the endpoint policy must also allow",
			getObject(webRole, "arn:aws:s3:::other-bucket/key"), Policies{Resource: &otherPublicBucket.pol, Endpoint: &s3Endpoint.pol},
			"implicitly denied: allowed by resource other bucket policy Statement[0], but no statement of endpoint policy aws_vpc_endpoint.s3 allows s3:GetObject on arn:aws:s3:::other-bucket/key by " + webRole + " (a VPC endpoint policy on the path must allow too)"},
		{"a trust policy that does not trust the caller",
			assume(adminRole, nil), Policies{Identity: []Policy{adminAssume.pol}, Trust: &flowTrust.pol},
			"implicitly denied: allowed by identity aws_iam_role_policy.admin-assume Statement[0], but trust policy aws_iam_role.flow-logs does not trust " + adminRole + " (the trust policy must allow a role's assumption itself)"},
		{"a resource policy that delegates to the account",
			readSecret(adminRole, "secretsmanager:GetSecretValue", secretARN, nil), Policies{Resource: &secretForAccount.pol},
			"implicitly denied: resource aws_secretsmanager_secret_policy.db Statement[0] names only the caller's account (it delegates to identity policies), and no statement of resource aws_secretsmanager_secret_policy.db allows secretsmanager:GetSecretValue on " + secretARN + " by " + adminRole},
		{"allowed names every deciding statement with its kind",
			getObject(webRole, repoObj), Policies{Resource: &publicRepo.pol, Endpoint: &s3Endpoint.pol},
			`allowed by resource al2023-repos bucket policy Statement[0], endpoint aws_vpc_endpoint.s3 Statement[0] "RepositoriesOnly"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Evaluate(tc.req, tc.ps).Why; got != tc.want {
				t.Errorf("Why:\n got  %s\n want %s", got, tc.want)
			}
		})
	}
}

func TestEvaluateReportsMisuse(t *testing.T) {
	withPrincipal := named("aws_iam_role_policy.with-principal", `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*"}]}`)
	noPrincipal := named("bucket policy", `{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`)
	variable := named("aws_iam_role_policy.variable", `{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::home/${aws:username}/*"}]}`)
	for _, tc := range []struct {
		name string
		req  Request
		ps   Policies
		want Outcome
		msg  string
	}{
		{"a Principal in an identity policy", getObject(webRole, repoObj), Policies{Identity: []Policy{withPrincipal.pol}},
			ImplicitDeny, "aws_iam_role_policy.with-principal: Statement[0]: an identity policy statement has a Principal element"},
		{"no Principal in a resource policy", getObject(webRole, repoObj), Policies{Resource: &noPrincipal.pol},
			ImplicitDeny, "bucket policy: Statement[0]: a resource policy statement has no Principal element"},
		{"a policy variable", getObject(webRole, "arn:aws:s3:::home/alice/x"), Policies{Identity: []Policy{variable.pol}},
			ImplicitDeny, "has a policy variable, which the evaluator does not substitute"},
		{"identity policies for an anonymous caller", getObject(Anonymous, repoObj), Policies{Identity: []Policy{webS3All.pol}},
			ImplicitDeny, "request: Policies.Identity: an anonymous caller has no identity policies: not consulted"},
		{"a principal that is none of the three", getObject("webtier-web", repoObj), Policies{Identity: []Policy{webS3All.pol}},
			ImplicitDeny, `request: Principal: "webtier-web" is not an IAM ARN`},
		{"no resource account", Request{Principal: webRole, Action: "s3:GetObject", Resource: repoObj}, Policies{Identity: []Policy{webS3All.pol}},
			ImplicitDeny, `request: Account: "" is not an account ID; expected the 12 digits of the resource's account`},
		{"both a resource and a trust policy", assume(flowLogs, flowCtx), Policies{Resource: &flowTrustBare.pol, Trust: &flowTrust.pol},
			Allowed, "request: Policies: both Resource and Trust are set"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := Evaluate(tc.req, tc.ps)
			if d.Outcome != tc.want {
				t.Errorf("outcome: got %s, want %s\n%s", d.Outcome, tc.want, d)
			}
			checkProblems(t, d, tc.msg)
		})
	}
}

func TestEvaluateReportsEachProblemOnce(t *testing.T) {
	d := Evaluate(mount(webRole, noTLS), Policies{Identity: []Policy{webEFS.pol}, Resource: &efsPolicyTypo.pol})
	if len(d.Problems) != 1 {
		t.Fatalf("problems: got %v, want exactly the unknown key", d.Problems)
	}
	want := `aws_efs_file_system_policy.shared: Statement[0].Condition.Bool.aws:SecureTranport: unknown condition key "aws:SecureTranport"`
	if got := d.Problems[0].String(); !strings.HasPrefix(got, want) {
		t.Errorf("problem:\n got  %s\n want %s...", got, want)
	}
}
