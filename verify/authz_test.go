package verify

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/webtier/webtier/internal/iamsimulate"
	"github.com/webtier/webtier/policy"
)

// Authorization tests: the example stack's calls are authorized as its flows need, broken
// copies of it (each a plausible mistake) fail naming the policy, and every decision verify
// makes on all of them is asked of @cloud-copilot/iam-simulate too, which must agree.

// authzMutations are the broken stacks: each a mistake someone makes in a real stack.
var authzMutations = []struct {
	name   string
	mutate func(t *testing.T, m tf)
	want   expect
}{
	{"a Deny-only file-system policy and a role that may not mount",
		func(t *testing.T, m tf) { delete(m.of("aws_iam_role_policy"), "web-mount-shared-fs") },
		expect{kind: "authorization", match: "the web servers mount the shared file system", names: "implicitly denied"}},
	{"the web servers' role without GetSecretValue",
		func(t *testing.T, m tf) {
			setPolicy(t, m, "aws_iam_role_policy", "web-read-db-secret", "policy", func(st map[string]any) { st["Action"] = "secretsmanager:DescribeSecret" })
		},
		expect{kind: "authorization", match: "the web servers read the database secret", names: "implicitly denied"}},
	{"an endpoint policy that denies the secret",
		func(t *testing.T, m tf) {
			setPolicy(t, m, "aws_vpc_endpoint", "secretsmanager", "policy", func(st map[string]any) { st["Effect"] = "Deny" })
		},
		expect{kind: "authorization", match: "the web servers read the database secret", names: "explicitly denied by endpoint aws_vpc_endpoint.secretsmanager"}},
	{"the Secrets Manager endpoint without a policy",
		func(t *testing.T, m tf) { delete(m.get(t, "aws_vpc_endpoint", "secretsmanager"), "policy") },
		expect{kind: "authorization", match: "the Secrets Manager endpoint refuses every other caller", names: "aws_vpc_endpoint.secretsmanager (no policy: AWS's default, full access)"}},
	{"a trust policy naming the wrong service",
		func(t *testing.T, m tf) {
			setPolicy(t, m, "aws_iam_role", "web", "assume_role_policy", func(st map[string]any) {
				st["Principal"] = map[string]any{"Service": "ecs-tasks.amazonaws.com"}
			})
		},
		expect{kind: "authorization", match: "EC2 gives the web servers their role", names: "trust aws_iam_role.web"}},
	{"an Allow on every secret",
		func(t *testing.T, m tf) {
			setPolicy(t, m, "aws_iam_role_policy", "web-read-db-secret", "policy", func(st map[string]any) { st["Resource"] = "*" })
		},
		expect{kind: "authorization", match: "every Allow of the stack's role policies", names: `with "*" where one action or resource is meant: aws_iam_role_policy.web-read-db-secret`}},
	{"a condition key misspelled in the file-system policy",
		func(t *testing.T, m tf) {
			setPolicy(t, m, "aws_efs_file_system_policy", "shared", "policy", func(st map[string]any) {
				st["Condition"] = map[string]any{"Bool": map[string]any{"aws:SecureTranport": "false"}}
			})
		},
		expect{kind: "authorization", match: "a mount without TLS is refused", names: "aws:SecureTranport"}},
	{"the flow-logs role open to every account's flow logs",
		func(t *testing.T, m tf) {
			setPolicy(t, m, "aws_iam_role", "flow-logs", "assume_role_policy", func(st map[string]any) { delete(st, "Condition") })
		},
		expect{kind: "authorization", match: "refused the role for another account's flow logs", names: `trust aws_iam_role.flow-logs Statement[0] "AssumedByVpcFlowLogs"`}},
	{"a managed policy attached to the web servers' role",
		func(t *testing.T, m tf) {
			m.of("aws_iam_role_policy_attachment")["web-admin"] = map[string]any{
				"role": ref("aws_iam_role.web", "name"), "policy_arn": "arn:aws:iam::aws:policy/AdministratorAccess"}
		},
		expect{kind: "authorization", match: "the web servers", names: "attaches arn:aws:iam::aws:policy/AdministratorAccess, whose statements are not in the stack"}},
	{"a mount without the iam option",
		func(t *testing.T, m tf) {
			lt := m.get(t, "aws_launch_template", "web")
			lt["user_data"] = strings.Replace(lt["user_data"].(string), "tls,iam,nofail", "tls,nofail", 1)
		},
		expect{kind: "authorization", match: "the web servers mount the shared file system", names: "implicitly denied"}},
}

// setPolicy rewrites the one statement of the policy in attr of typ.name with edit.
func setPolicy(t *testing.T, m tf, typ, name, attr string, edit func(st map[string]any)) {
	t.Helper()
	r := m.get(t, typ, name)
	var doc map[string]any
	if err := json.Unmarshal([]byte(r[attr].(string)), &doc); err != nil {
		t.Fatalf("%s.%s: %s is not JSON: %v", typ, name, attr, err)
	}
	statements := doc["Statement"].([]any)
	edit(statements[0].(map[string]any))
	text, _ := json.Marshal(doc)
	r[attr] = string(text)
}

// TestAuthorization: the example stack's authorizations all hold; each broken stack fails the
// way it should; iam-simulate decides every one of their decisions the same way.
func TestAuthorization(t *testing.T) {
	data, in := defaultStack(t)
	clean := verifyBytes(t, data, in)
	var decided []Authorization
	for _, a := range clean.Authorizations {
		if !a.OK {
			t.Errorf("the example stack: %s: expected %s, got %s: %s %v", a.Check, a.Expected, a.Outcome, a.Why, a.Problems)
		}
		decided = append(decided, a)
	}
	if len(clean.Authorizations) < 10 {
		t.Errorf("the example stack has %d authorization checks; expected the mount, the secret, the trusts and the flow log's writes", len(clean.Authorizations))
	}
	for _, mu := range authzMutations {
		t.Run(mu.name, func(t *testing.T) {
			m := decode(t, data)
			mu.mutate(t, m)
			m.prune()
			decided = append(decided, failsAs(t, m, in, mu.want).Authorizations...)
		})
	}
	crossCheck(t, decided)
}

// crossCheck asks iam-simulate every decision in list that verify made with no problem (a
// problem is a policy AWS would refuse or the evaluator cannot judge) and requires the same.
func crossCheck(t *testing.T, list []Authorization) {
	t.Helper()
	sim := iamsimulate.Need(t)
	of := func(p *policy.Policy) *iamsimulate.Policy {
		if p == nil {
			return nil
		}
		return &iamsimulate.Policy{Name: p.Name, Policy: json.RawMessage(p.Text)}
	}
	var cases []iamsimulate.Case
	var asked []Authorization
	for _, a := range list {
		if a.asked == nil || len(a.Problems) > 0 {
			continue
		}
		r := a.asked.req
		c := iamsimulate.Case{Name: a.Check + ": " + a.Action, Resource: of(a.asked.resource), Trust: of(a.asked.trust), Endpoint: of(a.asked.endpoint),
			Request: iamsimulate.Request{Principal: r.Principal, Action: r.Action, Resource: r.Resource, Account: r.Account, Context: r.Context}}
		for i := range a.asked.identity {
			c.Identity = append(c.Identity, *of(&a.asked.identity[i]))
		}
		cases = append(cases, c)
		asked = append(asked, a)
	}
	results, err := sim.Run(cases)
	if err != nil {
		t.Fatal(err)
	}
	for i, a := range asked {
		theirs := map[string]string{"Allowed": "allowed", "ExplicitlyDenied": "denied", "ImplicitlyDenied": "denied"}[results[i].Result]
		if theirs != a.Outcome {
			t.Errorf("%s: verify says %s (%s); iam-simulate says %s (%s)", a.Check, a.Outcome, a.Why, results[i].Result, results[i].Explain)
		}
	}
	t.Logf("iam-simulate decided %d of verify's decisions the same way (%d with a problem not asked)", len(asked), len(list)-len(asked))
	if len(asked) == 0 {
		t.Error("no decision was cross-checked")
	}
}

// BenchmarkAuthorizations is the authorization checks' share of verifying the web tier: every
// policy parsed and every call decided.
func BenchmarkAuthorizations(b *testing.B) {
	data, in := defaultStack(b)
	n, err := Load(data)
	if err != nil {
		b.Fatal(err)
	}
	v := newVerifier(n, in)
	for b.Loop() {
		if got := v.authorizations(); len(got) < 10 {
			b.Fatalf("%d authorization checks", len(got))
		}
	}
}

// TestProbesNameTheirCall: each probe of a flow whose call AWS authorizes names the statements
// that allowed it, and when the call is refused the probe fails saying why.
func TestProbesNameTheirCall(t *testing.T) {
	data, in := defaultStack(t)
	want := map[string][]string{
		"-> efs@":              {"aws_iam_role_policy.web-mount-shared-fs Statement[0]"},
		"-> secrets-endpoint@": {"aws_iam_role_policy.web-read-db-secret Statement[0]", "aws_vpc_endpoint.secretsmanager Statement[0]"},
	}
	seen := map[string]int{}
	for _, p := range verifyBytes(t, data, in).Probes {
		for to, names := range want {
			if !strings.Contains(p.Probe, to) || !strings.HasPrefix(p.Probe, "web@") {
				continue
			}
			seen[to]++
			for _, n := range names {
				if !p.OK || !strings.HasPrefix(p.Authorized, "call authorized by ") || !strings.Contains(p.Authorized, n) {
					t.Errorf("%s: ok %v, %q; want it authorized by %s", p.Probe, p.OK, p.Authorized, n)
				}
			}
		}
	}
	if seen["-> efs@"] != 2 || seen["-> secrets-endpoint@"] != 4 {
		t.Errorf("probes of the mount and the secret: %v; want 2 and 4", seen)
	}
	m := decode(t, data)
	lt := m.get(t, "aws_launch_template", "web")
	lt["user_data"] = strings.Replace(lt["user_data"].(string), "tls,iam,nofail", "tls,nofail", 1)
	out, _ := json.Marshal(m)
	refused := 0
	for _, p := range verifyBytes(t, out, in).Probes {
		if strings.HasPrefix(p.Probe, "web@") && strings.Contains(p.Probe, "-> efs@") {
			refused++
			if p.OK || !strings.Contains(p.Authorized, "call REFUSED (elasticfilesystem:ClientMount)") || !strings.Contains(p.Authorized, "aws_efs_file_system_policy.shared") {
				t.Errorf("%s with an anonymous mount: ok %v, %q; want it failed naming the file-system policy", p.Probe, p.OK, p.Authorized)
			}
		}
	}
	if refused != 2 {
		t.Errorf("%d probes of the mount; want 2", refused)
	}
}
