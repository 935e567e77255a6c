package policy

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/webtier/webtier/internal/iamsimulate"
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

func toSim(p *namedText) *iamsimulate.Policy {
	if p == nil {
		return nil
	}
	return &iamsimulate.Policy{Name: p.name, Policy: json.RawMessage(p.text)}
}

// TestCrossCheckWithIAMSimulate runs every evaluation case through Evaluate and through
// @cloud-copilot/iam-simulate, and requires the same outcome. It takes about a second (Node
// loads iam-simulate's action data), so it runs under -short too.
func TestCrossCheckWithIAMSimulate(t *testing.T) {
	sim := iamsimulate.Need(t)
	cases := allEvalCases()
	var in []iamsimulate.Case
	var compared []evalCase
	for _, c := range cases {
		if c.noAWSOutcome != "" {
			t.Logf("not compared: %s: %s", c.name, c.noAWSOutcome)
			continue
		}
		sc := iamsimulate.Case{Name: c.name, Resource: toSim(c.resource), Trust: toSim(c.trust), Endpoint: toSim(c.endpoint),
			Request: iamsimulate.Request{Principal: c.req.Principal, Action: c.req.Action, Resource: c.req.Resource, Account: c.req.Account, Context: c.req.Context}}
		for i := range c.identity {
			sc.Identity = append(sc.Identity, *toSim(&c.identity[i]))
		}
		in = append(in, sc)
		compared = append(compared, c)
	}
	start := time.Now()
	results, err := sim.Run(in)
	if err != nil {
		t.Fatal(err)
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
