package policy

import "strings"

// globalKeys are the global condition keys of AWS's "AWS global condition context keys" page
// (IAM user guide, reference_policies_condition-keys), lower case. A key the evaluator does
// not know is reported in every decision it takes part in: a misspelled key
// (aws:SecureTranport) is absent from every real request, so a Deny that tests it never
// applies on AWS.
var globalKeys = set(
	// principal
	"aws:PrincipalArn", "aws:PrincipalAccount", "aws:PrincipalOrgPaths", "aws:PrincipalOrgID",
	"aws:PrincipalIsAWSService", "aws:PrincipalServiceName", "aws:PrincipalServiceNamesList",
	"aws:PrincipalType", "aws:userid", "aws:username", "aws:AssumedRoot",
	// role session
	"aws:FederatedProvider", "aws:TokenIssueTime", "aws:MultiFactorAuthAge", "aws:MultiFactorAuthPresent",
	"aws:ChatbotSourceArn", "aws:Ec2InstanceSourceVpc", "aws:Ec2InstanceSourcePrivateIPv4",
	"aws:SourceIdentity", "ec2:RoleDelivery", "ec2:SourceInstanceArn", "glue:RoleAssumedBy",
	"glue:CredentialIssuingService", "lambda:SourceFunctionArn", "ssm:SourceInstanceArn",
	"identitystore:UserId",
	// network
	"aws:SourceIp", "aws:SourceVpc", "aws:SourceVpcArn", "aws:SourceVpce", "aws:VpceAccount",
	"aws:VpceOrgPaths", "aws:VpceOrgID", "aws:VpcSourceIp",
	// resource
	"aws:ResourceAccount", "aws:ResourceOrgID", "aws:ResourceOrgPaths",
	// request
	"aws:CalledVia", "aws:CalledViaFirst", "aws:CalledViaLast", "aws:ViaAWSService",
	"aws:CurrentTime", "aws:EpochTime", "aws:referer", "aws:RequestedRegion", "aws:TagKeys",
	"aws:SecureTransport", "aws:SourceArn", "aws:SourceAccount", "aws:SourceOwner",
	"aws:SourceOrgPaths", "aws:SourceOrgID", "aws:UserAgent",
)

// serviceKeys are the service condition keys of the services the stack's policies use, from
// the Service Authorization Reference, lower case: EFS (the file-system policy), Secrets
// Manager (the database secret), STS and IAM (trust policies, role passing).
var serviceKeys = set(
	"elasticfilesystem:AccessedViaMountTarget", "elasticfilesystem:AccessPointArn",
	"elasticfilesystem:CreateAction", "elasticfilesystem:Encrypted",
	"secretsmanager:AddReplicaRegions", "secretsmanager:BlockPublicPolicy", "secretsmanager:Description",
	"secretsmanager:ForceDeleteWithoutRecovery", "secretsmanager:ForceOverwriteReplicaSecret",
	"secretsmanager:KmsKeyArn", "secretsmanager:KmsKeyId", "secretsmanager:ModifyRotationRules",
	"secretsmanager:Name", "secretsmanager:RecoveryWindowInDays", "secretsmanager:RotateImmediately",
	"secretsmanager:RotationLambdaARN", "secretsmanager:SecretId", "secretsmanager:SecretPrimaryRegion",
	"secretsmanager:VersionId", "secretsmanager:VersionStage", "secretsmanager:resource/AllowRotationLambdaArn",
	"sts:ExternalId", "sts:RoleSessionName", "sts:SourceIdentity", "sts:TransitiveTagKeys",
	"sts:DurationSeconds", "sts:AWSServiceName",
	"iam:PassedToService", "iam:AssociatedResourceArn", "iam:PermissionsBoundary", "iam:PolicyARN",
	"iam:AWSServiceName", "iam:OrganizationsPolicyId",
)

// keyPrefixes are key families: tag keys carry the tag's name after the slash, and every key
// of S3 and EC2 is taken as known (the stack's S3 endpoint policy and EC2 keys; both services
// define too many keys to list here, so a misspelled s3: or ec2: key is not caught).
var keyPrefixes = []string{
	"aws:principaltag/", "aws:resourcetag/", "aws:requesttag/",
	"secretsmanager:resourcetag/", "iam:resourcetag/", "elasticfilesystem:resourcetag/",
	"s3:", "ec2:",
}

// knownKey says whether the evaluator knows the condition key (lower case).
func knownKey(key string) bool {
	if globalKeys[key] || serviceKeys[key] {
		return true
	}
	for _, p := range keyPrefixes {
		if strings.HasPrefix(key, p) && len(key) > len(p) {
			return true
		}
	}
	return false
}

func set(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[strings.ToLower(n)] = true
	}
	return m
}
