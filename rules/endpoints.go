package rules

import (
	"encoding/json"
	"strings"
)

// RepoBucket is the S3 bucket of Amazon Linux 2023's package repositories in a region: dnf
// downloads from https://al2023-repos-REGION-de612dc2.s3.dualstack.REGION.amazonaws.com.
func RepoBucket(region string) string { return "al2023-repos-" + region + "-de612dc2" }

// RepoObjects is the ARN of every object of the region's repository bucket.
func RepoObjects(region string) string {
	return "arn:" + Partition(region) + ":s3:::" + RepoBucket(region) + "/*"
}

// RepoMirrorList is the first object dnf reads of the repositories: the mirror list.
const RepoMirrorList = "core/mirrors/latest/x86_64/mirror.list"

// RepoReadAction is the one S3 action dnf needs of the repositories: it only GETs files
// (mirror list, metadata, packages).
const RepoReadAction = "s3:GetObject"

// RepoEndpointPolicy is the policy of the S3 gateway endpoint: whoever goes through it may read
// the objects of the region's Amazon Linux 2023 repository bucket, and do nothing else in S3.
func RepoEndpointPolicy(region string) string {
	doc := map[string]any{
		"Version": "2012-10-17",
		"Statement": []map[string]any{{
			"Sid":       "ReadAmazonLinux2023Repositories",
			"Effect":    "Allow",
			"Principal": "*",
			"Action":    RepoReadAction,
			"Resource":  RepoObjects(region),
		}},
	}
	data, _ := json.Marshal(doc) // maps marshal with sorted keys: the text is stable
	return string(data)
}

// Partition is the ARN partition of a region: aws, aws-cn or aws-us-gov.
func Partition(region string) string {
	switch {
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov"
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn"
	}
	return "aws"
}

// SSMServices are the services Systems Manager's agent (SSM Agent) calls, each reached through
// an interface endpoint of its own in a VPC without a way to the internet: ssm (registration,
// inventory, patching), ssmmessages (Session Manager's data channel) and ec2messages (Run
// Command's message delivery).
var SSMServices = []string{"ssm", "ssmmessages", "ec2messages"}

// SSMManagedPolicy is the AWS managed policy that lets an instance's SSM Agent register with
// Systems Manager and serve Session Manager and Run Command.
const SSMManagedPolicy = "AmazonSSMManagedInstanceCore"

// SSMManagedPolicyARN is the ARN of SSMManagedPolicy in the region's partition.
func SSMManagedPolicyARN(region string) string {
	return "arn:" + Partition(region) + ":iam::aws:policy/" + SSMManagedPolicy
}
