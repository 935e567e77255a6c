package constructs

import (
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/efsbackuppolicy"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/efsfilesystem"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/efsfilesystempolicy"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/efsmounttarget"
	"github.com/hashicorp/terraform-cdk-go/cdktf"

	"github.com/webtier/webtier/rules"
)

// SharedFileSystemProps places the EFS mount targets.
type SharedFileSystemProps struct {
	// Network holds the web subnets; each gets a mount target, so a web server mounts in its
	// own AZ (no cross-AZ charges, no cross-subnet traffic). default: none (required)
	Network *Network
	// Group is the mount targets' security group ID. default: none (required)
	Group *string
}

// SharedFileSystem is one regional, encrypted EFS with a mount target per AZ.
type SharedFileSystem struct {
	FS efsfilesystem.EfsFileSystem
	// MountTargets are the mount targets, one per web subnet: a web server mounts at boot.
	MountTargets []cdktf.ITerraformDependable
}

// NewSharedFileSystem builds the file system every web server mounts.
func NewSharedFileSystem(scope constructs.Construct, id string, p SharedFileSystemProps) *SharedFileSystem {
	s := scopeOf(scope, id)
	fs := named(efsfilesystem.NewEfsFileSystem(s, str("efs"), &efsfilesystem.EfsFileSystemConfig{
		CreationToken:   str("webtier-shared"),
		Encrypted:       true,
		PerformanceMode: str("generalPurpose"),
		ThroughputMode:  str("elastic"),
		Tags:            tags("webtier-shared", string(rules.EFS)),
	}), "shared")
	// Connections without TLS are refused, whoever makes them (the web servers mount with tls).
	// With this policy in place EFS grants a client only what an Allow grants it: the web
	// servers' role allows itself ClientMount and ClientWrite, and they mount with `iam`.
	named(efsfilesystempolicy.NewEfsFileSystemPolicy(s, str("tls-only"), &efsfilesystempolicy.EfsFileSystemPolicyConfig{
		FileSystemId: fs.Id(),
		Policy: policyText(map[string]any{
			"Sid": "DenyWithoutTLS", "Effect": "Deny", "Principal": map[string]any{"AWS": "*"},
			"Action": "*", "Resource": fs.Arn(),
			"Condition": map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}},
		}),
	}), "shared")
	named(efsbackuppolicy.NewEfsBackupPolicy(s, str("backup"), &efsbackuppolicy.EfsBackupPolicyConfig{
		FileSystemId: fs.Id(),
		BackupPolicy: &efsbackuppolicy.EfsBackupPolicyBackupPolicy{Status: str("ENABLED")},
	}), "shared")
	out := &SharedFileSystem{FS: fs}
	for _, sub := range p.Network.Subnets(rules.WebTier) {
		name := "shared-" + sub.Suffix()
		out.MountTargets = append(out.MountTargets, named(efsmounttarget.NewEfsMountTarget(s, str(name), &efsmounttarget.EfsMountTargetConfig{
			FileSystemId:   fs.Id(),
			SubnetId:       sub.Res.Id(),
			SecurityGroups: ptrs([]*string{p.Group}),
		}), name))
	}
	return out
}
