package constructs

import (
	"slices"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/dataawselbserviceaccount"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/s3bucket"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/s3bucketlifecycleconfiguration"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/s3bucketownershipcontrols"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/s3bucketpolicy"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/s3bucketpublicaccessblock"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/s3bucketserversideencryptionconfiguration"
	"github.com/hashicorp/terraform-cdk-go/cdktf"

	"github.com/webtier/webtier/rules"
)

// AccessLogsProps configures the bucket of the ALB's access logs.
type AccessLogsProps struct {
	// Region and Account name the bucket and the log objects' path. default: none (required)
	Region  string
	Account *string
	// RetentionDays keeps each log object this long. default: none (required; the config's
	// flow_log_retention_days)
	RetentionDays int
	// Throwaway lets `terraform destroy` delete the bucket with its logs. default: false (a
	// bucket holding logs is not deleted)
	Throwaway bool
}

// AccessLogPrefix is where in the bucket the ALB writes (it adds AWSLogs/ACCOUNT/... itself).
const AccessLogPrefix = "alb"

// newELBLogRegions are the regions opened in or after August 2022, where Elastic Load
// Balancing delivers logs as the service logdelivery.elasticloadbalancing.amazonaws.com; in
// the older ones the region's Elastic Load Balancing account writes them ("Enable access logs
// for your Application Load Balancer", step 2).
var newELBLogRegions = []string{"ap-south-2", "ap-southeast-4", "ap-southeast-5", "ap-southeast-7", "ca-west-1",
	"eu-central-2", "eu-south-2", "il-central-1", "me-central-1", "mx-central-1"}

// AccessLogs is the bucket the ALB writes its access logs to, and what must exist before the
// ALB names it (AWS checks that it may write when logging is turned on).
type AccessLogs struct {
	Bucket s3bucket.S3Bucket
	Ready  []cdktf.ITerraformDependable
}

// NewAccessLogs builds the access-log bucket: encrypted with S3's keys (the only encryption
// Elastic Load Balancing can write), every public access blocked, objects owned by the
// bucket's owner, expired after RetentionDays, writable by Elastic Load Balancing of the
// region under the stack's prefix only, and refusing every request without TLS.
func NewAccessLogs(scope constructs.Construct, id string, p AccessLogsProps) *AccessLogs {
	s := scopeOf(scope, id)
	partition := rules.Partition(p.Region)
	bucket := named(s3bucket.NewS3Bucket(s, str("bucket"), &s3bucket.S3BucketConfig{
		Bucket:       str("webtier-alb-logs-" + *p.Account + "-" + p.Region),
		ForceDestroy: p.Throwaway,
		Tags:         tags("webtier-alb-logs", "alb-logs"),
	}), "alb-logs")
	block := named(s3bucketpublicaccessblock.NewS3BucketPublicAccessBlock(s, str("public-access"), &s3bucketpublicaccessblock.S3BucketPublicAccessBlockConfig{
		Bucket: bucket.Id(), BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true,
	}), "alb-logs")
	owner := named(s3bucketownershipcontrols.NewS3BucketOwnershipControls(s, str("ownership"), &s3bucketownershipcontrols.S3BucketOwnershipControlsConfig{
		Bucket: bucket.Id(),
		Rule:   &s3bucketownershipcontrols.S3BucketOwnershipControlsRule{ObjectOwnership: str("BucketOwnerEnforced")},
	}), "alb-logs")
	enc := named(s3bucketserversideencryptionconfiguration.NewS3BucketServerSideEncryptionConfigurationA(s, str("encryption"),
		&s3bucketserversideencryptionconfiguration.S3BucketServerSideEncryptionConfigurationAConfig{
			Bucket: bucket.Id(),
			Rule: &[]*s3bucketserversideencryptionconfiguration.S3BucketServerSideEncryptionConfigurationRuleA{{
				ApplyServerSideEncryptionByDefault: &s3bucketserversideencryptionconfiguration.S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA{
					SseAlgorithm: str("AES256"),
				},
			}},
		}), "alb-logs")
	named(s3bucketlifecycleconfiguration.NewS3BucketLifecycleConfiguration(s, str("lifecycle"), &s3bucketlifecycleconfiguration.S3BucketLifecycleConfigurationConfig{
		Bucket: bucket.Id(),
		Rule: &[]*s3bucketlifecycleconfiguration.S3BucketLifecycleConfigurationRule{{
			Id: str("expire-access-logs"), Status: str("Enabled"),
			Filter:                         &[]*s3bucketlifecycleconfiguration.S3BucketLifecycleConfigurationRuleFilter{{Prefix: str("")}},
			Expiration:                     &[]*s3bucketlifecycleconfiguration.S3BucketLifecycleConfigurationRuleExpiration{{Days: num(p.RetentionDays)}},
			AbortIncompleteMultipartUpload: &[]*s3bucketlifecycleconfiguration.S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload{{DaysAfterInitiation: num(1)}},
		}},
	}), "alb-logs")

	writer := map[string]any{"Service": "logdelivery.elasticloadbalancing.amazonaws.com"}
	if !slices.Contains(newELBLogRegions, p.Region) {
		elb := named(dataawselbserviceaccount.NewDataAwsElbServiceAccount(s, str("elb-account"), &dataawselbserviceaccount.DataAwsElbServiceAccountConfig{
			Region: str(p.Region),
		}), "region")
		writer = map[string]any{"AWS": elb.Arn()}
	}
	bucketARN := "arn:" + partition + ":s3:::" + *bucket.Bucket()
	policy := named(s3bucketpolicy.NewS3BucketPolicy(s, str("policy"), &s3bucketpolicy.S3BucketPolicyConfig{
		Bucket: bucket.Id(),
		Policy: policyText(
			map[string]any{"Sid": "LoadBalancerWritesAccessLogs", "Effect": "Allow", "Principal": writer, "Action": "s3:PutObject",
				"Resource": bucketARN + "/" + AccessLogPrefix + "/AWSLogs/" + *p.Account + "/*"},
			map[string]any{"Sid": "DenyWithoutTLS", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
				"Resource":  []string{bucketARN, bucketARN + "/*"},
				"Condition": map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}}},
		),
		// After the public access block: a policy put before it is judged without it.
		DependsOn: deps(block),
	}), "alb-logs")
	return &AccessLogs{Bucket: bucket, Ready: []cdktf.ITerraformDependable{policy, block, owner, enc}}
}
