package constructs

import (
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/dbinstance"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/dbparametergroup"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/dbsubnetgroup"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/vpcendpoint"

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
}

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
		Description: str("webtier: slow query log to CloudWatch Logs"),
		Parameter: &[]*dbparametergroup.DbParameterGroupParameter{
			{Name: str("slow_query_log"), Value: str("1")},
			{Name: str("long_query_time"), Value: str("2")},
			{Name: str("log_output"), Value: str("FILE")},
		},
		Tags: tags("webtier-mysql84", "db-parameter-group"),
	}), "db")
	db := named(dbinstance.NewDbInstance(s, str("db"), &dbinstance.DbInstanceConfig{
		Identifier: str("webtier-db"),
		Engine:     str("mysql"),
		// 8.4 is the LTS release in RDS standard support; 8.0 left it on 2026-07-31, after which
		// RDS bills Extended Support per vCPU-hour on both Multi-AZ instances.
		EngineVersion: str("8.4"),
		// Never enroll in (paid) RDS Extended Support: past the end of standard support RDS
		// upgrades the major version instead.
		EngineLifecycleSupport:   str("open-source-rds-extended-support-disabled"),
		InstanceClass:            str(p.InstanceClass),
		AllocatedStorage:         num(p.StorageGB),
		StorageType:              str("gp3"),
		StorageEncrypted:         true,
		DbName:                   str(p.Name),
		Username:                 str("admin"),
		ManageMasterUserPassword: true,
		MultiAz:                  true,
		DbSubnetGroupName:        group.Name(),
		ParameterGroupName:       params.Name(),
		// The error and slow-query logs go to CloudWatch Logs, where they outlive the instance.
		EnabledCloudwatchLogsExports: strs("error", "slowquery"),
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
