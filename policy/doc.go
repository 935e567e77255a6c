// Package policy evaluates AWS IAM policies: it parses policy documents and decides whether
// one request is allowed, as AWS's IAM user guide says, for the authorization checks of
// verify (EFS mounts, the database secret, the S3 endpoint, the roles services assume).
// Plain Go, with no cdktf, jsii or other webtier import.
//
// Covered, for requests within one account (and cross-account requests, which need both
// sides to allow):
//   - identity policies, a resource policy (EFS file-system policy, secret or bucket policy),
//     a role's trust policy, and the VPC endpoint policy on the path: an explicit Deny in any
//     wins; within the account an Allow in the identity OR the resource policy suffices; a
//     trust policy must allow the caller itself; an endpoint policy must also allow
//     ("Policy evaluation logic",
//     https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html;
//     "Control access to VPC endpoints using endpoint policies",
//     https://docs.aws.amazon.com/vpc/latest/privatelink/vpc-endpoints-access.html);
//   - Action/NotAction (case-insensitive, * and ?), Resource/NotResource (ARN parts matched
//     one by one, case-sensitively), Principal/NotPrincipal ("*", {"AWS": "*"}, accounts,
//     IAM ARNs and assumed-role sessions, services, federated;
//     https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html);
//   - every condition operator of "IAM JSON policy elements: Condition operators"
//     (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html),
//     with ...IfExists, ForAnyValue: and ForAllValues:, and its rules for keys absent from
//     the request; the global keys of "AWS global condition context keys"
//     (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html)
//     and the service keys of the stack's services are known.
//
// Left out: permissions boundaries, session policies, service and resource control policies
// (SCPs, RCPs) of AWS Organizations, ACLs, policy variables (${aws:username}: reported, matched
// as written), service-specific rules (S3 Block Public Access, KMS key policies' account
// trust, the root user's implicit access), and the request context AWS derives on its own
// (the caller supplies aws:PrincipalArn, aws:SourceVpce, ... as AWS would set them).
//
// Anything the evaluator cannot judge as AWS would, an unknown condition operator or key (a
// misspelled aws:SecureTranport) above all, is reported in Decision.Problems, never decided
// silently.
//
// The table tests' evaluation cases also run through @cloud-copilot/iam-simulate, an
// evaluator written by others (crosscheck_test.go, testdata/simulate.mjs); where the two
// differ, AWS's pages decide, and the test says which page.
package policy
