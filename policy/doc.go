// Package policy evaluates AWS IAM policies: it parses policy documents and decides whether
// one request is allowed, as AWS's IAM user guide says, for the authorization checks of
// verify (EFS mounts, the database secret, the S3 endpoint, the roles services assume).
// Plain Go, with no cdktf, jsii or other webtier import.
//
// Covered, for requests within one account (and cross-account requests, which need both
// sides to allow):
//   - identity policies, a resource policy (EFS file-system policy, secret or bucket policy),
//     a role's trust policy, and the VPC endpoint policy on the path ("Policy evaluation
//     logic": an explicit Deny wins; within the account an Allow in the identity OR the
//     resource policy suffices; a trust policy must allow the caller itself; an endpoint
//     policy must also allow);
//   - Action/NotAction (case-insensitive, * and ?), Resource/NotResource (ARN parts matched
//     one by one, case-sensitively), Principal/NotPrincipal ("*", {"AWS": "*"}, accounts,
//     IAM ARNs and assumed-role sessions, services, federated);
//   - every condition operator of the "Condition operators" page, with ...IfExists,
//     ForAnyValue: and ForAllValues:, and its rules for keys absent from the request.
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
package policy
