package policy

import "testing"

// BenchmarkWebTier is what verify's authorization layer costs per run for the whole web tier:
// parse the stack's policies (the EFS file-system policy, the web role's, the S3 endpoint's,
// the flow-log role's trust and write policies) and decide every authorized call of its flows
// for each web server of both AZs, anonymous and IAM mounts, TLS and not.
func BenchmarkWebTier(b *testing.B) {
	texts := []namedText{efsPolicy, webSecret, webEFS, s3Endpoint, publicRepo, flowTrust}
	var reqs []struct {
		r  Request
		ps func(p []Policy) Policies
	}
	add := func(r Request, ps func(p []Policy) Policies) {
		reqs = append(reqs, struct {
			r  Request
			ps func(p []Policy) Policies
		}{r, ps})
	}
	for range 2 { // two web servers, one per AZ
		for _, c := range []Context{tls, noTLS} {
			add(mount(Anonymous, c), func(p []Policy) Policies { return Policies{Resource: &p[0]} })
			add(mount(webSess, c), func(p []Policy) Policies { return Policies{Identity: p[1:3], Resource: &p[0]} })
		}
		add(readSecret(webSess, "secretsmanager:GetSecretValue", secretARN, viaEndpont), func(p []Policy) Policies { return Policies{Identity: p[1:3]} })
		add(getObject(webSess, repoObj), func(p []Policy) Policies { return Policies{Identity: p[1:3], Resource: &p[4], Endpoint: &p[3]} })
	}
	add(assume(flowLogs, flowCtx), func(p []Policy) Policies { return Policies{Trust: &p[5]} })
	b.ReportAllocs()
	for b.Loop() {
		pols := make([]Policy, len(texts))
		for i, t := range texts {
			p, err := NewPolicy(t.name, t.text)
			if err != nil {
				b.Fatal(err)
			}
			pols[i] = p
		}
		for _, q := range reqs {
			Evaluate(q.r, q.ps(pols))
		}
	}
}

// BenchmarkEvaluate is one decision, averaged over every case of the tables (policies parsed
// once, as verify keeps them).
func BenchmarkEvaluate(b *testing.B) {
	cases := allEvalCases()
	ps := make([]Policies, len(cases))
	for i, c := range cases {
		ps[i] = c.policies()
	}
	b.ReportAllocs()
	for b.Loop() {
		for i, c := range cases {
			Evaluate(c.req, ps[i])
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(cases)), "ns/decision")
}
