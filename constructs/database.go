package constructs

import (
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/cloudwatchloggroup"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/dbinstance"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/dbparametergroup"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/dbsubnetgroup"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/iamrolepolicyattachment"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/vpcendpoint"
	"github.com/hashicorp/terraform-cdk-go/cdktf"

	"github.com/webtier/webtier/rules"
)

// DatabaseProps configures RDS MySQL.
type DatabaseProps struct {
	// Network holds the db subnets, all of which go into the DB subnet group so the standby
	// can take over in the other AZ. default: none (required)
	Network *Network
	// Group is the database's security group ID. default: none (required)
	Group *string
	// InstanceClass default: none (required; config default "db.t3.micro")
	InstanceClass string
	// StorageGB default: none (required; config default 20)
	StorageGB int
	// Name is the initial database. default: none (required; config default "webtier")
	Name string
	// BackupRetentionDays default: none (required; config default 7)
	BackupRetentionDays int
	// Throwaway turns off deletion protection and the final snapshot. default: false
	Throwaway bool
	// MaxStorageGB is how far RDS may grow the storage by itself. default: none (required;
	// config default 100)
	MaxStorageGB int
	// LogRetentionDays keeps the exported logs this long. default: none (required; the
	// config's flow_log_retention_days)
	LogRetentionDays int
	// Region and Account name the instance in the monitoring role's trust. default: none (required)
	Region  string
	Account *string
}

// DBIdentifier is the database instance's identifier.
const DBIdentifier = "webtier-db"

// DBMasterUser is the master user's name: not RDS's default "admin" (Security Hub RDS.25),
// a name an attacker must guess as well as the password.
const DBMasterUser = "webtier_master"

// DBLogExports are the logs RDS exports to CloudWatch Logs. The general log (every
// statement, with its values) and the audit log (an option group with the MariaDB audit
// plugin) are not exported: see the README.
var DBLogExports = []string{"error", "slowquery"}

// MonitoringInterval is enhanced monitoring's interval in seconds (Security Hub RDS.6).
const MonitoringInterval = 60

// Database is a Multi-AZ MySQL instance whose master password RDS keeps in Secrets Manager:
// no password is in the synthesized JSON, the state or the user data.
type Database struct {
	DB dbinstance.DbInstance
}

// NewDatabase builds the DB subnet group and the instance.
func NewDatabase(scope constructs.Construct, id string, p DatabaseProps) *Database {
	s := scopeOf(scope, id)
	group := named(dbsubnetgroup.NewDbSubnetGroup(s, str("subnets"), &dbsubnetgroup.DbSubnetGroupConfig{
		Name:        str("webtier-db"),
		Description: str("both db subnets: the standby takes over in the other AZ"),
		SubnetIds:   p.Network.SubnetIDs(rules.DBTier),
		Tags:        tags("webtier-db", "db-subnet-group"),
	}), "db")
	var finalSnapshot *string
	if !p.Throwaway {
		finalSnapshot = str("webtier-db-final")
	}
	// The slow query log is off in RDS's default parameter group: turn it on, so the export
	// below has something to carry.
	params := named(dbparametergroup.NewDbParameterGroup(s, str("params"), &dbparametergroup.DbParameterGroupConfig{
		Name:        str("webtier-mysql84"),
		Family:      str("mysql8.4"),
		Description: str("webtier: TLS required, slow query log to CloudWatch Logs"),
		Parameter: &[]*dbparametergroup.DbParameterGroupParameter{
			// Every connection must use TLS: the server refuses one in the clear.
			{Name: str("require_secure_transport"), Value: str("1")},
			{Name: str("slow_query_log"), Value: str("1")},
			{Name: str("long_query_time"), Value: str("2")},
			{Name: str("log_output"), Value: str("FILE")},
		},
		Tags: tags("webtier-mysql84", "db-parameter-group"),
	}), "db")
	// The log groups RDS writes the exports to, made here with the stack's retention (RDS
	// would make them itself, kept forever and outside terraform): before the instance.
	var groups []cdktf.ITerraformDependable
	for _, log := range DBLogExports {
		groups = append(groups, named(cloudwatchloggroup.NewCloudwatchLogGroup(s, str("log-"+log), &cloudwatchloggroup.CloudwatchLogGroupConfig{
			Name:            str("/aws/rds/instance/" + DBIdentifier + "/" + log),
			RetentionInDays: num(p.LogRetentionDays),
			Tags:            tags("webtier-db-"+log, "db-log-group"),
		}), "db-"+log))
	}
	// Enhanced monitoring's role: RDS may assume it only for this account's instance (the
	// confused-deputy keys, as the flow logs' role), with AWS's managed policy for it.
	partition := rules.Partition(p.Region)
	monitoring := serviceRole(s, "monitoring-role", "db-monitoring", "webtier-db-monitoring", "monitoring.rds.amazonaws.com", map[string]any{
		"StringEquals": map[string]any{"aws:SourceAccount": p.Account},
		"ArnLike":      map[string]any{"aws:SourceArn": "arn:" + partition + ":rds:" + p.Region + ":" + *p.Account + ":db:" + DBIdentifier},
	})
	attach := named(iamrolepolicyattachment.NewIamRolePolicyAttachment(s, str("monitoring-policy"), &iamrolepolicyattachment.IamRolePolicyAttachmentConfig{
		Role:      monitoring.Name(),
		PolicyArn: str("arn:" + partition + ":iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"),
	}), "db-monitoring")
	groups = append(groups, attach)
	db := named(dbinstance.NewDbInstance(s, str("db"), &dbinstance.DbInstanceConfig{
		DependsOn:  &groups,
		Identifier: str(DBIdentifier),
		Engine:     str("mysql"),
		// 8.4 is the LTS release in RDS standard support; 8.0 left it on 2026-07-31, after which
		// RDS bills Extended Support per vCPU-hour on both Multi-AZ instances.
		EngineVersion: str("8.4"),
		// Never enroll in (paid) RDS Extended Support: past the end of standard support RDS
		// upgrades the major version instead.
		EngineLifecycleSupport: str("open-source-rds-extended-support-disabled"),
		InstanceClass:          str(p.InstanceClass),
		AllocatedStorage:       num(p.StorageGB),
		// Storage autoscaling: RDS grows the storage when it runs low, up to this.
		MaxAllocatedStorage:      num(p.MaxStorageGB),
		StorageType:              str("gp3"),
		StorageEncrypted:         true,
		DbName:                   str(p.Name),
		Username:                 str(DBMasterUser),
		ManageMasterUserPassword: true,
		MultiAz:                  true,
		DbSubnetGroupName:        group.Name(),
		ParameterGroupName:       params.Name(),
		// The error and slow-query logs go to CloudWatch Logs, where they outlive the instance.
		EnabledCloudwatchLogsExports: strs(DBLogExports...),
		MonitoringInterval:           num(MonitoringInterval),
		MonitoringRoleArn:            monitoring.Arn(),
		VpcSecurityGroupIds:          ptrs([]*string{p.Group}),
		PubliclyAccessible:           false,
		BackupRetentionPeriod:        num(p.BackupRetentionDays),
		CopyTagsToSnapshot:           true,
		AutoMinorVersionUpgrade:      true,
		DeletionProtection:           !p.Throwaway,
		SkipFinalSnapshot:            p.Throwaway,
		FinalSnapshotIdentifier:      finalSnapshot,
		Tags:                         tags("webtier-db", string(rules.DB)),
	}), "db")
	return &Database{DB: db}
}

// SecretARN is the ARN of the RDS-managed secret holding the master credentials.
func (d *Database) SecretARN() *string { return d.DB.MasterUserSecret().Get(num(0)).SecretArn() }

// SecretsEndpointProps places the Secrets Manager interface endpoint.
type SecretsEndpointProps struct {
	// Network holds the web subnets, where the endpoint's ENIs go. default: none (required)
	Network *Network
	// Group is the endpoint's security group ID. default: none (required)
	Group *string
	// Region names the service. default: none (required)
	Region string
	// Account is the ID of the account the stack is applied in (NewAccount). default: none (required)
	Account *string
	// SecretARN is the one secret read through the endpoint. default: none (required)
	SecretARN *string
}

// NewSecretsEndpoint builds the interface endpoint through which web servers read the
// database secret without leaving the VPC. Private DNS makes the regional name resolve to it.
// Its policy lets through the web servers' role reading that secret and nothing else (without
// one, AWS's default lets any principal of any account call any action on any secret through
// it). The principal is named by the aws:PrincipalArn condition, which needs no role to exist
// yet, where a role ARN as Principal would be refused before the fleet's role is made.
func NewSecretsEndpoint(scope constructs.Construct, id string, p SecretsEndpointProps) vpcendpoint.VpcEndpoint {
	s := scopeOf(scope, id)
	return named(vpcendpoint.NewVpcEndpoint(s, str("secretsmanager"), &vpcendpoint.VpcEndpointConfig{
		VpcId:             p.Network.VPC.Id(),
		ServiceName:       str("com.amazonaws." + p.Region + ".secretsmanager"),
		VpcEndpointType:   str("Interface"),
		PrivateDnsEnabled: true,
		SubnetIds:         p.Network.SubnetIDs(rules.WebTier),
		SecurityGroupIds:  ptrs([]*string{p.Group}),
		Policy: policyText(map[string]any{
			"Sid": "WebServersReadTheDatabaseSecret", "Effect": "Allow", "Principal": "*",
			"Action": "secretsmanager:GetSecretValue", "Resource": p.SecretARN,
			"Condition": map[string]any{"ArnEquals": map[string]any{"aws:PrincipalArn": roleARN(p.Region, p.Account, WebRoleName)}},
		}),
		Tags: tags("webtier-secretsmanager", string(rules.SecretsEndpoint)),
	}), "secretsmanager")
}
