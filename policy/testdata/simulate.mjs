// simulate.mjs decides requests with @cloud-copilot/iam-simulate, an IAM evaluator written by
// others, as an independent judge of package policy (crosscheck_test.go runs it).
//
// stdin: a JSON array of cases
//   {"name", "identity": [{"name", "policy"}], "resource": {"name", "policy"} | null,
//    "trust": ... | null, "endpoint": ... | null,
//    "request": {"principal": "arn..." | "" (anonymous), "action", "resource", "account",
//                "context": {"key": ["value", ...]}}}
// stdout: a JSON array, one entry per case, in order
//   {"name", "result": "Allowed" | "ExplicitlyDenied" | "ImplicitlyDenied" | "error",
//    "explain": "what decided, in iam-simulate's words"}
import { anonymousPrincipal, runSimulation } from '@cloud-copilot/iam-simulate'

const input = JSON.parse(await new Promise((resolve, reject) => {
  let text = ''
  process.stdin.setEncoding('utf8')
  process.stdin.on('data', (chunk) => { text += chunk })
  process.stdin.on('end', () => resolve(text))
  process.stdin.on('error', reject)
}))

// A context key with one value is a single-valued key: iam-simulate takes an array as a
// multivalued key, which only ForAnyValue/ForAllValues may test, as AWS does.
function contextVariables(context) {
  const out = {}
  for (const [key, values] of Object.entries(context ?? {})) {
    out[key] = values.length === 1 ? values[0] : values
  }
  return out
}

// statements lists the statements an analysis names as allowing or denying.
function statements(kind, analysis) {
  if (!analysis) return []
  const out = []
  for (const [list, effect] of [[analysis.denyStatements, 'Deny'], [analysis.allowStatements, 'Allow']]) {
    for (const s of list ?? []) {
      const match = s.principalMatch && s.principalMatch !== 'Match' ? ` (${s.principalMatch})` : ''
      // iam-simulate numbers statements from 1; package policy from 0.
      out.push(`${kind} ${s.policyId ?? ''} ${effect} #${s.explain?.identifier}${match}`.replace(/  +/g, ' '))
    }
  }
  return out
}

const results = []
for (const c of input) {
  const r = c.request
  const simulation = {
    request: {
      principal: r.principal === '' ? anonymousPrincipal : r.principal,
      action: r.action,
      resource: { resource: r.resource, accountId: r.account },
      contextVariables: contextVariables(r.context)
    },
    identityPolicies: (c.identity ?? []).map((p) => ({ name: p.name, policy: p.policy })),
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    resourcePolicy: (c.trust ?? c.resource)?.policy,
    vpcEndpointPolicies: c.endpoint ? [{ name: c.endpoint.name, policy: c.endpoint.policy }] : undefined
  }
  try {
    const response = await runSimulation(simulation, { simulationMode: 'Strict' })
    if (response.resultType === 'error') {
      results.push({ name: c.name, result: 'error', explain: JSON.stringify(response.errors) })
      continue
    }
    const a = response.result?.analysis ?? {}
    const parts = [
      ...statements('identity', a.identityAnalysis),
      ...statements(c.trust ? 'trust' : 'resource', a.resourceAnalysis),
      ...statements('endpoint', a.endpointAnalysis)
    ]
    if (a.blockedBy?.length) parts.push(`blocked by ${a.blockedBy.join(', ')}`)
    results.push({ name: c.name, result: response.overallResult, explain: parts.join('; ') || 'no statement applies' })
  } catch (err) {
    results.push({ name: c.name, result: 'error', explain: String(err?.stack ?? err) })
  }
}
process.stdout.write(JSON.stringify(results, null, 1) + '\n')
