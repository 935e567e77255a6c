package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// knownDifferences are the cases where iam-simulate models AWS differently from AWS's own
// pages, or refuses a policy AWS documents, each with the page that decides. The cross-check
// requires these to still differ (so an entry goes when iam-simulate changes) and every other
// case to agree.
var knownDifferences = map[string]string{
	`secret: {"AWS": "*"} is not a service principal`: `iam-simulate matches {"AWS": "*"} to every caller. AWS's "AWS JSON policy elements: Principal" ` +
		`(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html, "All principals"): ` +
		`{"AWS": "*"} "allows any root user, IAM user, assumed-role session, or federated user in any account" and ` +
		`"does not allow web identity session principals, SAML session principals, or service principals".`,
	"s3: an endpoint policy naming the account grants its root only, not the web role": `iam-simulate refuses an endpoint policy whose ` +
		`Principal is not "*" (and evaluates endpoint policies without their Principal). AWS's "Control access to VPC endpoints using ` +
		`endpoint policies" (https://docs.aws.amazon.com/vpc/latest/privatelink/vpc-endpoints-access.html, "Principals for gateway ` +
		`endpoints") asks for "*" and names principals with aws:PrincipalArn, and says of "AWS": "account_id": "access is granted ` +
		`to the AWS account root user only, not all users and roles for the account."`,
}

// simCase is a case as simulate.mjs reads it.
type simCase struct {
	Name     string      `json:"name"`
	Identity []simPolicy `json:"identity"`
	Resource *simPolicy  `json:"resource"`
	Trust    *simPolicy  `json:"trust"`
	Endpoint *simPolicy  `json:"endpoint"`
	Request  simRequest  `json:"request"`
}

type simPolicy struct {
	Name   string          `json:"name"`
	Policy json.RawMessage `json:"policy"`
}

type simRequest struct {
	Principal string              `json:"principal"`
	Action    string              `json:"action"`
	Resource  string              `json:"resource"`
	Account   string              `json:"account"`
	Context   map[string][]string `json:"context"`
}

type simResult struct {
	Name    string `json:"name"`
	Result  string `json:"result"`
	Explain string `json:"explain"`
}

func toSim(p *namedText) *simPolicy {
	if p == nil {
		return nil
	}
	return &simPolicy{Name: p.name, Policy: json.RawMessage(p.text)}
}

// simulator finds Node and iam-simulate as `npm ci` installs them (node_modules/.bin/node, the
// Node 22 of package.json), or skips the test saying what is missing.
func simulator(t *testing.T) (node, script string) {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "node_modules", "@cloud-copilot", "iam-simulate", "package.json")); err != nil {
		t.Skip("@cloud-copilot/iam-simulate is not installed (run `npm ci` at the repository root): no cross-check")
	}
	node = filepath.Join(root, "node_modules", ".bin", "node")
	if _, err := os.Stat(node); err != nil {
		if node, err = exec.LookPath("node"); err != nil {
			t.Skip("node is not installed (run `npm ci` at the repository root): no cross-check")
		}
	}
	return node, filepath.Join(root, "policy", "testdata", "simulate.mjs")
}

// TestCrossCheckWithIAMSimulate runs every evaluation case through Evaluate and through
// @cloud-copilot/iam-simulate, and requires the same outcome. It takes about a second (Node
// loads iam-simulate's action data), so it runs under -short too.
func TestCrossCheckWithIAMSimulate(t *testing.T) {
	node, script := simulator(t)
	cases := allEvalCases()
	var in []simCase
	var compared []evalCase
	for _, c := range cases {
		if c.noAWSOutcome != "" {
			t.Logf("not compared: %s: %s", c.name, c.noAWSOutcome)
			continue
		}
		sc := simCase{Name: c.name, Resource: toSim(c.resource), Trust: toSim(c.trust), Endpoint: toSim(c.endpoint),
			Request: simRequest{Principal: c.req.Principal, Action: c.req.Action, Resource: c.req.Resource, Account: c.req.Account, Context: c.req.Context}}
		for i := range c.identity {
			sc.Identity = append(sc.Identity, *toSim(&c.identity[i]))
		}
		in = append(in, sc)
		compared = append(compared, c)
	}
	input, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	cmd := exec.Command(node, script)
	cmd.Stdin = bytes.NewReader(input)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("%s %s: %v\n%s", node, script, err, stderr.String())
		}
		t.Fatal(err)
	}
	var results []simResult
	if err := json.Unmarshal(out, &results); err != nil {
		t.Fatalf("simulate.mjs printed no JSON array: %v\n%s", err, out)
	}
	if len(results) != len(compared) {
		t.Fatalf("simulate.mjs answered %d cases, want %d", len(results), len(compared))
	}
	agree, known := 0, 0
	for i, c := range compared {
		r := results[i]
		d := Evaluate(c.req, c.policies())
		ours := map[Outcome]string{Allowed: "Allowed", ExplicitDeny: "ExplicitlyDenied", ImplicitDeny: "ImplicitlyDenied"}[d.Outcome]
		why, isKnown := knownDifferences[c.name]
		switch {
		case r.Result == "error" && isKnown:
			known++
			t.Logf("known difference: %s\n  policy:       %s\n  iam-simulate: refuses it: %s\n  why:          %s", c.name, d, r.Explain, why)
		case r.Result == "error":
			t.Errorf("%s: iam-simulate refused the case: %s", c.name, r.Explain)
		case ours == r.Result && isKnown:
			t.Errorf("%s: a known difference no longer differs (both %s): drop it from knownDifferences", c.name, ours)
		case ours == r.Result:
			agree++
		case isKnown:
			known++
			t.Logf("known difference: %s\n  policy:       %s\n  iam-simulate: %s (%s)\n  why:          %s", c.name, d, r.Result, r.Explain, why)
		default:
			t.Errorf("%s: the evaluators disagree\n  policy:       %s\n  iam-simulate: %s (%s)", c.name, d, r.Result, r.Explain)
		}
	}
	t.Logf("cross-check with iam-simulate: %d cases compared, %d agree, %d known differences (AWS's pages decide), %d not compared (no AWS outcome), in %s",
		len(compared), agree, known, len(cases)-len(compared), time.Since(start).Round(10*time.Millisecond))
	for name := range knownDifferences {
		if !slices.ContainsFunc(compared, func(c evalCase) bool { return c.name == name }) {
			t.Errorf("knownDifferences names %q, which is no case", name)
		}
	}
}
