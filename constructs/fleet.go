package constructs

import (
	"slices"

	_ "embed"
	"strings"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/autoscalinggroup"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/autoscalingpolicy"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/iaminstanceprofile"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/launchtemplate"
	"github.com/hashicorp/terraform-cdk-go/cdktf"

	"github.com/webtier/webtier/rules"
	"github.com/webtier/webtier/site"
)

//go:embed web-init.sh
var webInit string

// WebFleetProps configures the web servers.
type WebFleetProps struct {
	// Network holds the web subnets the group spreads over. default: none (required)
	Network *Network
	// Group is the web servers' security group ID. default: none (required)
	Group *string
	// AMI is the image ID. default: none (required)
	AMI *string
	// InstanceType default: none (required; config default "t3.micro")
	InstanceType string
	// KeyName is the operators' EC2 key pair. default: "" (none)
	KeyName string
	// Min, Max and Desired size the group. default: none (required; config 2, 4, 2)
	Min, Max, Desired int
	// CPUTarget is the average CPU % that target tracking holds. default: none (required; config 50)
	CPUTarget int
	// TargetGroupARN registers the instances with the ALB. default: none (required)
	TargetGroupARN *string
	// FileSystemID is the EFS every server mounts. default: none (required)
	FileSystemID *string
	// DBHost and DBName locate the database. default: none (required)
	DBHost *string
	DBName string
	// FileSystemARN is the file system the servers mount and write. default: none (required)
	FileSystemARN *string
	// SecretARN is the one secret the servers may read. default: none (required)
	SecretARN *string
	// Region is where the servers call Secrets Manager. default: none (required)
	Region string
	// SessionManager attaches AmazonSSMManagedInstanceCore to the servers' role (access ssm or
	// both): their SSM Agent registers with Systems Manager. default: false
	SessionManager bool
	// Needs is what the servers use at boot, which the group is created after: the EFS mount
	// targets, the NAT routes, every SG rule and ACL entry, the secrets endpoint. Without it
	// the order would be an accident of how long each resource takes. default: none
	Needs []cdktf.ITerraformDependable
}

// WebFleet is the launch template, the Auto Scaling group and its CPU target tracking.
type WebFleet struct {
	Group autoscalinggroup.AutoscalingGroup
}

// NewWebFleet builds the web servers.
func NewWebFleet(scope constructs.Construct, id string, p WebFleetProps) *WebFleet {
	s := scopeOf(scope, id)
	role := serviceRole(s, "role", "web", WebRoleName, "ec2.amazonaws.com", nil)
	// The servers may read the database secret and mount the shared file system, nothing else.
	// The mount signs with this role (the `iam` mount option): the file-system policy's Deny
	// makes EFS refuse anonymous clients, so an identity that EFS can authorize is needed.
	readSecret := allowOnly(s, "read-db-secret", "web-read-db-secret", "read-db-secret", "ReadTheDatabaseSecret", role, "secretsmanager:GetSecretValue", p.SecretARN)
	mount := allowOnly(s, "mount-shared-fs", "web-mount-shared-fs", "mount-shared-fs", "MountAndWriteTheSharedFileSystem", role,
		[]string{"elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"}, p.FileSystemARN)
	var ssm []cdktf.ITerraformDependable
	if p.SessionManager {
		ssm = append(ssm, manageWithSSM(s, "web-ssm", p.Region, role))
	}
	profile := named(iaminstanceprofile.NewIamInstanceProfile(s, str("profile"), &iaminstanceprofile.IamInstanceProfileConfig{
		Name: str("webtier-web"),
		Role: role.Name(),
		Tags: tags("webtier-web", "instance-profile"),
	}), "web")

	script := fillTemplate(sitePages(webInit), map[string]*string{
		"EFS_ID":      p.FileSystemID,
		"DB_HOST":     p.DBHost,
		"DB_NAME":     str(p.DBName),
		"SECRET_ARN":  p.SecretARN,
		"REGION":      str(p.Region),
		"HEALTH_PATH": str(HealthPath),
	})
	lt := named(launchtemplate.NewLaunchTemplate(s, str("template"), &launchtemplate.LaunchTemplateConfig{
		Name:                str("webtier-web"),
		ImageId:             p.AMI,
		InstanceType:        str(p.InstanceType),
		KeyName:             optional(p.KeyName),
		VpcSecurityGroupIds: ptrs([]*string{p.Group}),
		UserData:            cdktf.Fn_Base64encode(script),
		IamInstanceProfile:  &launchtemplate.LaunchTemplateIamInstanceProfile{Arn: profile.Arn()},
		MetadataOptions: &launchtemplate.LaunchTemplateMetadataOptions{
			HttpEndpoint:            str("enabled"),
			HttpTokens:              str("required"),
			HttpPutResponseHopLimit: num(1),
		},
		// 1-minute CloudWatch metrics, so target tracking reacts in minutes.
		Monitoring: &launchtemplate.LaunchTemplateMonitoring{Enabled: true},
		BlockDeviceMappings: &[]*launchtemplate.LaunchTemplateBlockDeviceMappings{{
			DeviceName: str("/dev/xvda"),
			Ebs: &launchtemplate.LaunchTemplateBlockDeviceMappingsEbs{
				Encrypted:           str("true"),
				VolumeType:          str("gp3"),
				VolumeSize:          num(8),
				DeleteOnTermination: str("true"),
			},
		}},
		TagSpecifications: &[]*launchtemplate.LaunchTemplateTagSpecifications{{
			ResourceType: str("instance"),
			Tags:         tags("webtier-web", string(rules.Web)),
		}},
		Tags: tags("webtier-web", "launch-template"),
	}), "web")

	needs := append(append(slices.Clip(p.Needs), readSecret, mount), ssm...)
	asg := named(autoscalinggroup.NewAutoscalingGroup(s, str("group"), &autoscalinggroup.AutoscalingGroupConfig{
		Name:              str("webtier-web"),
		MinSize:           num(p.Min),
		MaxSize:           num(p.Max),
		DesiredCapacity:   num(p.Desired),
		VpcZoneIdentifier: p.Network.SubnetIDs(rules.WebTier),
		TargetGroupArns:   ptrs([]*string{p.TargetGroupARN}),
		// The ALB's health check, not only EC2's: a server whose httpd is down is replaced.
		// The grace period covers the bootstrap (package installs and the EFS mount).
		HealthCheckType:        str("ELB"),
		HealthCheckGracePeriod: num(300),
		LaunchTemplate: &autoscalinggroup.AutoscalingGroupLaunchTemplate{
			Id:      lt.Id(),
			Version: numStr(lt.LatestVersion()),
		},
		// A new template version rolls through the group with its whole desired capacity in
		// service: each replacement launches first (up to half the group at a time), and an
		// old server is deregistered, drained and terminated once its replacement is in
		// service and warmed up. Measured on the twin (README, "Replaying a change"): with
		// 50 % kept, one server carried the site while the other was replaced.
		InstanceRefresh: &autoscalinggroup.AutoscalingGroupInstanceRefresh{
			Strategy: str("Rolling"),
			Preferences: &autoscalinggroup.AutoscalingGroupInstanceRefreshPreferences{
				MinHealthyPercentage: num(100),
				MaxHealthyPercentage: num(150),
				// A refresh that stopped half-way skips the servers already on the new template.
				SkipMatching: true,
				// How long the refresh waits after a new server enters service before it goes
				// on (else the 300 s grace period). Set here rather than as the group's
				// default_instance_warmup, which moto 5.2.1 drops (the emulator's launcher
				// now keeps it).
				InstanceWarmup: str("120"),
			},
		},
		Tag: &[]*autoscalinggroup.AutoscalingGroupTag{{
			Key: str(rules.RoleTag), Value: str(string(rules.Web)), PropagateAtLaunch: true,
		}},
		// The role's permissions too: a server mounts and reads the secret in its first minute.
		DependsOn: &needs,
	}), "web")
	named(autoscalingpolicy.NewAutoscalingPolicy(s, str("cpu"), &autoscalingpolicy.AutoscalingPolicyConfig{
		Name:                 str("webtier-web-cpu"),
		AutoscalingGroupName: asg.Name(),
		PolicyType:           str("TargetTrackingScaling"),
		TargetTrackingConfiguration: &autoscalingpolicy.AutoscalingPolicyTargetTrackingConfiguration{
			TargetValue: num(p.CPUTarget),
			PredefinedMetricSpecification: &autoscalingpolicy.AutoscalingPolicyTargetTrackingConfigurationPredefinedMetricSpecification{
				PredefinedMetricType: str("ASGAverageCPUUtilization"),
			},
		},
	}), "web-cpu")
	return &WebFleet{Group: asg}
}

// sitePages fills each %%NAME%% of the user data's template with the pages' declaration
// (package site): where each page is, its pool, what it shows; and leaves out the template's
// own notes (lines starting "#%%"). What is left is literal but for the @@NAME@@ placeholders
// of fillTemplate.
func sitePages(text string) string {
	lines := strings.SplitAfter(text, "\n")
	lines = slices.DeleteFunc(lines, func(l string) bool { return strings.HasPrefix(l, "#%%") })
	text = strings.Join(lines, "")
	var rows strings.Builder
	for _, r := range site.Metadata {
		rows.WriteString("    '" + r[0] + "' => imds('" + r[1] + "', $token),\n")
	}
	out := strings.NewReplacer(
		"%%WEB_ROOT%%", site.WebRoot,
		"%%SHARED_DIR%%", site.SharedDir,
		"%%SHARED_HEADING%%", site.SharedHeading,
		"%%INDEX_FILE%%", site.Index.File(),
		"%%INDEX_ROWS%%", rows.String(),
		"%%DB_FILE%%", site.DB.File(),
		"%%DB_URL%%", site.DB.URL,
		"%%DB_LOG_PREFIX%%", site.ErrorLogPrefix,
		"%%DB_UNAVAILABLE%%", site.Unavailable,
		"%%PRACTICE_CREATE%%", site.PracticeCreate,
		"%%PRACTICE_INSERT%%", site.PracticeInsert,
		"%%PRACTICE_SELECT%%", site.PracticeSelect,
		"%%SITE_POOL%%", site.SitePool,
		"%%HEALTH_POOL%%", site.HealthPool,
	).Replace(text)
	if i := strings.Index(out, "%%"); i >= 0 {
		panic("web-init.sh: no value for " + out[i:min(len(out), i+30)])
	}
	return out
}

// fillTemplate replaces each @@NAME@@ in text with values[NAME], which may be a Terraform
// reference. The text between placeholders stays literal (quotes, "$" and all).
func fillTemplate(text string, values map[string]*string) *string {
	var parts []*string
	for {
		start := strings.Index(text, "@@")
		if start < 0 {
			break
		}
		end := strings.Index(text[start+2:], "@@")
		if end < 0 {
			break
		}
		key := text[start+2 : start+2+end]
		v, ok := values[key]
		if !ok {
			panic("web-init.sh: no value for @@" + key + "@@")
		}
		parts = append(parts, cdktf.Fn_RawString(str(text[:start])), v)
		text = text[start+2+end+2:]
	}
	parts = append(parts, cdktf.Fn_RawString(str(text)))
	return cdktf.Fn_Join(str(""), ptrs(parts))
}
