package config_test

import (
	"encoding/json"
	"errors"
	"flag"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"testing"

	"github.com/webtier/webtier/config"
	"github.com/webtier/webtier/rules"
)

// valid returns Default() with the admin CIDR it lacks.
func valid() config.Config {
	c := config.Default()
	c.AdminCIDRs = []string{"203.0.113.0/24"}
	return c
}

func TestDefaultWithAdminCIDRIsValid(t *testing.T) {
	if err := valid().Validate(); err != nil {
		t.Errorf("Validate: got %q, want no error", err)
	}
}

func TestDefaultWithoutAdminCIDRIsInvalid(t *testing.T) {
	want := "admin_cidrs: empty; expected at least one CIDR allowed to SSH to the bastions (e.g. 203.0.113.0/24)"
	if err := config.Default().Validate(); err == nil || err.Error() != want {
		t.Errorf("Validate: got %v, want %q", err, want)
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(*config.Config)
		want   string
	}{
		{"malformed CIDR", func(c *config.Config) { c.VPCCIDR = "10.16.0.0/33" },
			`vpc_cidr: "10.16.0.0/33" is not an IPv4 CIDR (expected a.b.c.d/n)`},
		{"IPv6 CIDR", func(c *config.Config) { c.VPCCIDR = "2001:db8::/32" },
			`vpc_cidr: "2001:db8::/32" is not an IPv4 CIDR (expected a.b.c.d/n)`},
		{"non-canonical CIDR", func(c *config.Config) { c.Subnets.Web[0] = "10.16.3.1/24" },
			`subnets.web[0]: 10.16.3.1/24 is not canonical: did you mean 10.16.3.0/24?`},
		{"subnet outside VPC", func(c *config.Config) { c.Subnets.Web[1] = "10.17.4.0/24" },
			`subnets.web[1]: 10.17.4.0/24 is outside the VPC 10.16.0.0/16`},
		{"subnet larger than VPC", func(c *config.Config) { c.Subnets.Public[0] = "10.0.0.0/8" },
			`subnets.public[0]: 10.0.0.0/8 is outside the VPC 10.16.0.0/16` + "\n" +
				`subnets.public[1]: 10.16.2.0/24 overlaps subnets.public[0] 10.0.0.0/8` + "\n" +
				`subnets.web[0]: 10.16.3.0/24 overlaps subnets.public[0] 10.0.0.0/8` + "\n" +
				`subnets.web[1]: 10.16.4.0/24 overlaps subnets.public[0] 10.0.0.0/8` + "\n" +
				`subnets.db[0]: 10.16.5.0/24 overlaps subnets.public[0] 10.0.0.0/8` + "\n" +
				`subnets.db[1]: 10.16.6.0/24 overlaps subnets.public[0] 10.0.0.0/8`},
		{"overlapping subnets", func(c *config.Config) { c.Subnets.DB[0] = "10.16.3.0/24" },
			`subnets.db[0]: 10.16.3.0/24 overlaps subnets.web[0] 10.16.3.0/24`},
		{"three AZs", func(c *config.Config) { c.AZs = []string{"a", "b", "c"} },
			`azs: got 3 (a, b, c); expected exactly 2`},
		{"no AZs", func(c *config.Config) { c.AZs = nil },
			`azs: empty; expected exactly 2`},
		{"repeated AZ", func(c *config.Config) { c.AZs = []string{"a", "a"} },
			`azs[1]: "a" repeats azs[0]`},
		{"repeated AZ by full name", func(c *config.Config) { c.AZs = []string{"a", "ap-northeast-2a"} },
			`azs[1]: "ap-northeast-2a" repeats azs[0]`},
		{"AZ of another region", func(c *config.Config) { c.AZs[0] = "eu-west-1a" },
			`azs[0]: "eu-west-1a" is not in region ap-northeast-2`},
		{"malformed AZ", func(c *config.Config) { c.AZs[0] = "A" },
			`azs[0]: "A" is not an availability zone (expected a letter such as "a" or a name such as "ap-northeast-2a")`},
		{"one subnet for two AZs", func(c *config.Config) { c.Subnets.DB = c.Subnets.DB[:1] },
			`subnets.db: got 1 CIDR; expected one per AZ (2)`},
		{"bad region", func(c *config.Config) { c.Region = "Seoul" },
			`region: "Seoul" is not an AWS region name (expected e.g. ap-northeast-2)`},
		{"no admin CIDR", func(c *config.Config) { c.AdminCIDRs = nil },
			`admin_cidrs: empty; expected at least one CIDR allowed to SSH to the bastions (e.g. 203.0.113.0/24)`},
		{"SSH from anywhere", func(c *config.Config) { c.AdminCIDRs = []string{"0.0.0.0/0"} },
			`admin_cidrs[0]: 0.0.0.0/0 opens SSH to the whole internet; set allow_ssh_from_anywhere to true to allow it`},
		{"malformed admin CIDR", func(c *config.Config) { c.AdminCIDRs = append(c.AdminCIDRs, "203.0.113.7") },
			`admin_cidrs[1]: "203.0.113.7" is not an IPv4 CIDR (expected a.b.c.d/n)`},
		{"non-canonical admin CIDR", func(c *config.Config) { c.AdminCIDRs[0] = "203.0.113.7/24" },
			`admin_cidrs[0]: 203.0.113.7/24 is not canonical: did you mean 203.0.113.0/24?`},
		{"no repo CIDR", func(c *config.Config) { c.RepoCIDRs = []string{} },
			`repo_cidrs: empty; expected at least one package repository range`},
		{"malformed repo CIDR", func(c *config.Config) { c.RepoCIDRs[0] = "s3" },
			`repo_cidrs[0]: "s3" is not an IPv4 CIDR (expected a.b.c.d/n)`},
		{"the default repo CIDRs in another region", func(c *config.Config) { c.Region = "eu-west-1" },
			"repo_cidrs: the default list holds the S3 ranges of ap-northeast-2, not of eu-west-1; run `webtier repo-ranges --region eu-west-1 --ip-ranges ip-ranges.json` " +
				"(from https://ip-ranges.amazonaws.com/ip-ranges.json) and set repo_cidrs to the list it prints"},
		{"bad NAT", func(c *config.Config) { c.NAT = "double" },
			`nat: "double" is not one of per-az, single`},
		{"bad access mode", func(c *config.Config) { c.Access = "ssh" },
			`access: "ssh" is not one of bastion, ssm, both`},
		{"admin CIDRs with access ssm", func(c *config.Config) { c.Access = config.AccessSSM },
			`admin_cidrs: 203.0.113.0/24 is unused with access "ssm" (Session Manager only: no bastion, no SSH); remove it, or set access to "bastion" or "both"`},
		{"SSH from anywhere with access ssm", func(c *config.Config) {
			c.Access, c.AdminCIDRs, c.AllowSSHFromAnywhere = config.AccessSSM, nil, true
		}, `allow_ssh_from_anywhere: true is unused with access "ssm" (no SSH from anywhere); remove it`},
		{"no admin CIDR with access both", func(c *config.Config) { c.Access, c.AdminCIDRs = config.AccessBoth, nil },
			`admin_cidrs: empty; expected at least one CIDR allowed to SSH to the bastions (e.g. 203.0.113.0/24)`},
		{"min below 1", func(c *config.Config) { c.Fleet.Min = 0 },
			`fleet.min: 0 is below 1`},
		{"min above max", func(c *config.Config) { c.Fleet.Min = 5 },
			`fleet.min: 5 is greater than fleet.max 4`},
		{"desired outside range", func(c *config.Config) { c.Fleet.Desired = 5 },
			`fleet.desired: 5 is outside fleet.min..fleet.max (2..4)`},
		{"CPU target 0", func(c *config.Config) { c.Fleet.CPUTarget = 0 },
			`fleet.cpu_target: 0 is outside 1-100`},
		{"CPU target 101", func(c *config.Config) { c.Fleet.CPUTarget = 101 },
			`fleet.cpu_target: 101 is outside 1-100`},
		{"short backup retention", func(c *config.Config) { c.Database.BackupRetentionDays = 3 },
			`database.backup_retention_days: 3 is below 7`},
		{"long backup retention", func(c *config.Config) { c.Database.BackupRetentionDays = 36 },
			`database.backup_retention_days: 36 is above 35`},
		{"flow log retention not a CloudWatch period", func(c *config.Config) { c.FlowLogRetentionDays = 100 },
			`flow_log_retention_days: 100 is not a CloudWatch Logs retention period (1 3 5 7 14 30 60 90 120 150 180 365 400 545 731 1096 1827 2192 2557 2922 3288 3653)`},
		{"small storage", func(c *config.Config) { c.Database.StorageGB = 10 },
			`database.storage_gb: 10 is below 20`},
		{"storage autoscaling without room", func(c *config.Config) { c.Database.MaxStorageGB = 21 },
			`database.max_storage_gb: 21 is not at least 10% above database.storage_gb 20 (RDS storage autoscaling needs room to grow)`},
		{"bad database name", func(c *config.Config) { c.Database.Name = "1db" },
			`database.name: "1db" must start with a letter and hold only letters, digits and underscores (at most 64)`},
		{"malformed alarm email", func(c *config.Config) { c.AlarmEmails = []string{"ops@example.com", "ops at example.com"} },
			`alarm_emails[1]: "ops at example.com" is not an email address (expected e.g. ops@example.com)`},
		{"alarm email without a domain", func(c *config.Config) { c.AlarmEmails = []string{"ops@localhost"} },
			`alarm_emails[0]: "ops@localhost" is not an email address (expected e.g. ops@example.com)`},
		{"repeated alarm email", func(c *config.Config) { c.AlarmEmails = []string{"ops@example.com", "ops@example.com"} },
			`alarm_emails[1]: "ops@example.com" repeats alarm_emails[0]`},
		{"bad certificate ARN", func(c *config.Config) { c.CertificateARN = "foo" },
			`certificate_arn: "foo" is not an ACM certificate ARN`},
		{"no instance type", func(c *config.Config) { c.Fleet.InstanceType = "" },
			`fleet.instance_type: empty; expected an EC2 instance type such as t3.micro`},
		{"no bastion instance type", func(c *config.Config) { c.BastionInstanceType = "" },
			`bastion_instance_type: empty; expected an EC2 instance type such as t3.micro`},
		{"malformed instance type", func(c *config.Config) { c.Fleet.InstanceType = "t3micro" },
			`fleet.instance_type: "t3micro" is not an EC2 instance type (expected e.g. t3.micro)`},
		{"no DB instance class", func(c *config.Config) { c.Database.InstanceClass = "" },
			`database.instance_class: empty; expected an RDS instance class such as db.t3.micro`},
		{"a quota below AWS's default", func(c *config.Config) { c.Quotas.NACLRulesPerDirection = 10 },
			`quotas.nacl_rules_per_direction: 10 is below 20, AWS's default for L-2AEEBF1A (Inbound or outbound rules per network ACL): a quota is only ever raised`},
		{"a network ACL quota above AWS's maximum", func(c *config.Config) { c.Quotas.NACLRulesPerDirection = 41 },
			`quotas.nacl_rules_per_direction: 41 is above 40, the most AWS allows for L-2AEEBF1A (Inbound or outbound rules per network ACL)`},
		{"security groups per interface above AWS's maximum", func(c *config.Config) { c.Quotas.SGsPerENI = 17 },
			`quotas.sgs_per_eni: 17 is above 16, the most AWS allows for L-2AFB9258 (Security groups per network interface)`},
		{"routes per table above AWS's maximum", func(c *config.Config) { c.Quotas.RoutesPerTable = 1001 },
			`quotas.routes_per_table: 1001 is above 1000, the most AWS allows for L-93826ACB (Routes per route table)`},
		{"the two security-group quotas beyond their product", func(c *config.Config) {
			c.Quotas.SGRulesPerDirection = 120
			c.Quotas.SGsPerENI = 10
		}, `quotas.sg_rules_per_direction: 120 times quotas.sgs_per_eni 10 is 1200, above 1000: AWS raises L-0EA8095F and L-2AFB9258 only as far as their product stays within it`},
		{"several problems, in field order", func(c *config.Config) {
			c.Database.StorageGB = 10
			c.Region = "Seoul"
			c.NAT = "double"
		}, `region: "Seoul" is not an AWS region name (expected e.g. ap-northeast-2)` + "\n" +
			`nat: "double" is not one of per-az, single` + "\n" +
			`database.storage_gb: 10 is below 20`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := valid()
			tc.mutate(&c)
			err := c.Validate()
			if err == nil {
				t.Fatalf("Validate: got no error, want %q", tc.want)
			}
			if got := err.Error(); got != tc.want {
				t.Errorf("Validate:\ngot  %q\nwant %q", got, tc.want)
			}
			var errs config.Errors
			if !errors.As(err, &errs) {
				t.Errorf("Validate: got error of type %T, want config.Errors", err)
			}
		})
	}
}

func TestValidateAccepts(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(*config.Config)
	}{
		{"SSH from anywhere when allowed", func(c *config.Config) {
			c.AdminCIDRs = []string{"0.0.0.0/0"}
			c.AllowSSHFromAnywhere = true
		}},
		{"full AZ names", func(c *config.Config) { c.AZs = []string{"ap-northeast-2a", "ap-northeast-2c"} }},
		{"GovCloud region with its repo CIDRs", func(c *config.Config) {
			c.Region = "us-gov-west-1"
			c.RepoCIDRs = []string{"52.92.48.0/22"}
		}},
		{"the default repo CIDRs written out in their region", func(c *config.Config) {
			c.RepoCIDRs = slices.Clone(config.DefaultRepoCIDRs)
		}},
		{"certificate ARN", func(c *config.Config) {
			c.CertificateARN = "arn:aws:acm:ap-northeast-2:123456789012:certificate/0b0e1d2c-1111-2222-3333-444455556666"
		}},
		{"single NAT", func(c *config.Config) { c.NAT = config.NATSingle }},
		{"access ssm without admin CIDRs", func(c *config.Config) { c.Access, c.AdminCIDRs = config.AccessSSM, nil }},
		{"access both", func(c *config.Config) { c.Access = config.AccessBoth }},
		{"quotas raised to AWS's maxima", func(c *config.Config) {
			c.Quotas = config.Quotas{NACLRulesPerDirection: 40, SGRulesPerDirection: 200, SGsPerENI: 5, RoutesPerTable: 1000,
				EIPsPerRegion: 100, NATGatewaysPerAZ: 20, VPCsPerRegion: 50}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := valid()
			tc.mutate(&c)
			if err := c.Validate(); err != nil {
				t.Errorf("Validate: got %q, want no error", err)
			}
		})
	}
}

// writeFile writes content to a file named webtier.json in a fresh directory and returns its path.
func writeFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "webtier.json")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadErrors(t *testing.T) {
	for _, tc := range []struct {
		name, content, want string
	}{
		{"unknown nested key", `{"fleet": {"min": 2, "maxx": 4}}`, `unknown key "fleet.maxx"`},
		{"unknown top-level key", `{"regoin": "us-east-1"}`, `unknown key "regoin"`},
		{"unknown quota", `{"quotas": {"nacl_rules": 40}}`, `unknown key "quotas.nacl_rules"`},
		{"quota not a number", `{"quotas": {"nacl_rules_per_direction": "40"}}`, `quotas.nacl_rules_per_direction: expected a number, got string`},
		{"type error", `{"fleet": {"min": "two"}}`, `fleet.min: expected a number, got string`},
		{"fraction", `{"fleet": {"min": 1.5}}`, `fleet.min: expected a whole number, got number 1.5`},
		{"list expected", `{"azs": "a,c"}`, `azs: expected a list, got string`},
		{"switch not a bool", `{"s3_gateway_endpoint": "yes"}`, `s3_gateway_endpoint: expected true or false, got string`},
		{"not an object", `["a"]`, `expected a JSON object, got array`},
		{"syntax error", "{\n  \"region\": \"us-east-1\",\n}\n", `invalid JSON at line 3: invalid character '}' looking for beginning of object key string`},
		{"truncated", "{\n  \"fleet\": {\"min\": 2}\n", `invalid JSON at line 3: unexpected end of file`},
		{"empty", "  \n", `empty file; expected a JSON object`},
		{"trailing object", "{\"region\": \"us-east-1\"}\n{}\n", `unexpected data after the JSON object at line 2`},
		{"trailing brace", `{"region": "us-east-1"}}`, `unexpected data after the JSON object at line 1`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writeFile(t, tc.content)
			want := "config " + path + ": " + tc.want
			_, err := config.Load(path)
			if err == nil {
				t.Fatalf("Load: got no error, want %q", want)
			}
			if got := err.Error(); got != want {
				t.Errorf("Load:\ngot  %q\nwant %q", got, want)
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "missing.json")
	want := "config " + path + ": no such file"
	_, err := config.Load(path)
	if err == nil || err.Error() != want {
		t.Fatalf("Load: got %v, want %q", err, want)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("errors.Is(err, fs.ErrNotExist): got false, want true")
	}
}

func TestLoadOverridesDefaults(t *testing.T) {
	path := writeFile(t, `{
  "region": "eu-west-1",
  "azs": ["b"],
  "admin_cidrs": ["198.51.100.0/24"],
  "fleet": {"min": 3, "max": 6},
  "database": {"throwaway": true},
  "quotas": {"nacl_rules_per_direction": 40}
}`)
	got, err := config.Load(path)
	if err != nil {
		t.Fatalf("Load: got %q, want no error", err)
	}
	want := config.Default()
	want.Region = "eu-west-1"
	want.AZs = []string{"b"}
	want.AdminCIDRs = []string{"198.51.100.0/24"}
	want.Fleet.Min, want.Fleet.Max = 3, 6
	want.Database.Throwaway = true
	want.Quotas.NACLRulesPerDirection = 40 // the other quotas keep AWS's defaults
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Load:\ngot  %+v\nwant %+v", got, want)
	}
}

// keys returns the dotted paths of every key in a decoded JSON object, sorted.
func keys(m map[string]any, prefix string) []string {
	var out []string
	for k, v := range m {
		out = append(out, prefix+k)
		if sub, ok := v.(map[string]any); ok {
			out = append(out, keys(sub, prefix+k+".")...)
		}
	}
	sort.Strings(out)
	return out
}

func TestExampleFile(t *testing.T) {
	const path = "../webtier.example.json"
	got, err := config.Load(path)
	if err != nil {
		t.Fatalf("Load: got %q, want no error", err)
	}
	if err := got.Validate(); err != nil {
		t.Errorf("Validate: got %q, want no error", err)
	}

	// Apart from the admin CIDR, the alarm address (a documentation domain) and throwaway,
	// the example is Default() written out.
	want := config.Default()
	want.AdminCIDRs = []string{"203.0.113.0/24"}
	want.AlarmEmails = []string{"ops@example.com"}
	want.Database.Throwaway = true
	if !reflect.DeepEqual(got, want) {
		t.Errorf("example:\ngot  %+v\nwant %+v", got, want)
	}

	// And it spells out every key.
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var example, all map[string]any
	if err := json.Unmarshal(data, &example); err != nil {
		t.Fatal(err)
	}
	data, err = json.Marshal(config.Default())
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &all); err != nil {
		t.Fatal(err)
	}
	if got, want := keys(example, ""), keys(all, ""); !slices.Equal(got, want) {
		t.Errorf("example keys:\ngot  %q\nwant %q", got, want)
	}
}

func TestSettings(t *testing.T) {
	var names []string
	for _, s := range config.Settings {
		names = append(names, s.Name)
	}
	for _, want := range []string{
		"region", "azs", "vpc-cidr", "public-subnets", "web-subnets", "db-subnets", "access", "admin-cidrs",
		"allow-ssh-from-anywhere", "ssh-key-name", "nat", "repo-cidrs", "s3-gateway-endpoint", "certificate-arn",
		"bastion-instance-type", "instance-type", "min", "max", "desired", "cpu-target",
		"db-instance-class", "db-storage-gb", "db-name", "backup-retention-days", "throwaway",
		"quota-nacl-rules-per-direction", "quota-sg-rules-per-direction", "quota-sgs-per-eni", "quota-routes-per-table",
		"quota-eips-per-region", "quota-nat-gateways-per-az", "quota-vpcs-per-region",
	} {
		if !slices.Contains(names, want) {
			t.Errorf("Settings: got no %q, want one", want)
		}
	}
	s := config.Setting{Name: "allow-ssh-from-anywhere"}
	if got, want := s.EnvVar(), "WEBTIER_ALLOW_SSH_FROM_ANYWHERE"; got != want {
		t.Errorf("EnvVar: got %q, want %q", got, want)
	}
}

// build parses args with AddFlags and runs Build with env as the environment.
func build(t *testing.T, args []string, env map[string]string) (config.Config, error) {
	t.Helper()
	fs := flag.NewFlagSet("webtier", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	src := config.AddFlags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatalf("Parse(%q): got %q, want no error", args, err)
	}
	return src.Build(func(k string) string { return env[k] })
}

func TestBuildPrecedence(t *testing.T) {
	path := writeFile(t, `{
  "region": "eu-west-1",
  "admin_cidrs": ["198.51.100.0/24"],
  "repo_cidrs": ["52.218.0.0/17"],
  "fleet": {"desired": 3, "cpu_target": 60}
}`)
	env := map[string]string{
		"WEBTIER_CONFIG":                         path,
		"WEBTIER_REGION":                         "us-east-1",
		"WEBTIER_DESIRED":                        "4",
		"WEBTIER_AZS":                            "a, b",
		"WEBTIER_QUOTA_NACL_RULES_PER_DIRECTION": "30",
	}
	got, err := build(t, []string{"--region", "us-west-2", "--throwaway", "--azs=b,c", "--quota-sgs-per-eni", "10"}, env)
	if err != nil {
		t.Fatalf("Build: got %q, want no error", err)
	}
	want := config.Default()
	want.Region = "us-west-2"                     // file < env < flag
	want.Fleet.Desired = 4                        // file < env
	want.Fleet.CPUTarget = 60                     // file
	want.AdminCIDRs = []string{"198.51.100.0/24"} // file
	want.RepoCIDRs = []string{"52.218.0.0/17"}    // file
	want.AZs = []string{"b", "c"}                 // env < flag
	want.Database.Throwaway = true                // bool flag alone
	want.Quotas.NACLRulesPerDirection = 30        // env
	want.Quotas.SGsPerENI = 10                    // flag
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Build:\ngot  %+v\nwant %+v", got, want)
	}
}

func TestBuildConfigFlagBeatsEnv(t *testing.T) {
	path := writeFile(t, `{"admin_cidrs": ["198.51.100.0/24"], "fleet": {"max": 8}}`)
	env := map[string]string{"WEBTIER_CONFIG": filepath.Join(t.TempDir(), "missing.json")}
	got, err := build(t, []string{"--config", path}, env)
	if err != nil {
		t.Fatalf("Build: got %q, want no error", err)
	}
	if got.Fleet.Max != 8 {
		t.Errorf("fleet.max: got %d, want 8", got.Fleet.Max)
	}
}

func TestBuildErrors(t *testing.T) {
	admin := []string{"--admin-cidrs", "203.0.113.0/24"}
	missing := filepath.Join(t.TempDir(), "missing.json")
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"bad flag", slices.Concat(admin, []string{"--min", "two"}), nil, `--min: "two" is not a whole number`},
		{"bad env", admin, map[string]string{"WEBTIER_MIN": "two"}, `WEBTIER_MIN: "two" is not a whole number`},
		{"bad bool", slices.Concat(admin, []string{"--throwaway=maybe"}), nil, `--throwaway: "maybe" is not true or false`},
		{"bad switch", admin, map[string]string{"WEBTIER_S3_GATEWAY_ENDPOINT": "on"}, `WEBTIER_S3_GATEWAY_ENDPOINT: "on" is not true or false`},
		{"bad quota flag", slices.Concat(admin, []string{"--quota-nacl-rules-per-direction", "forty"}), nil, `--quota-nacl-rules-per-direction: "forty" is not a whole number`},
		{"quota flag above AWS's maximum", slices.Concat(admin, []string{"--quota-nacl-rules-per-direction", "50"}), nil,
			`quotas.nacl_rules_per_direction: 50 is above 40, the most AWS allows for L-2AEEBF1A (Inbound or outbound rules per network ACL)`},
		{"env and flag", []string{"--max", "x"}, map[string]string{"WEBTIER_CPU_TARGET": "high"},
			`WEBTIER_CPU_TARGET: "high" is not a whole number` + "\n" + `--max: "x" is not a whole number`},
		{"missing config", admin, map[string]string{"WEBTIER_CONFIG": missing}, "config " + missing + ": no such file"},
		{"validation", nil, nil, config.Default().Validate().Error()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := build(t, tc.args, tc.env)
			if err == nil {
				t.Fatalf("Build: got no error, want %q", tc.want)
			}
			if got := err.Error(); got != tc.want {
				t.Errorf("Build:\ngot  %q\nwant %q", got, tc.want)
			}
		})
	}
}

// TestQuotasCoverRules: every quota of rules.Quotas has its key in the config, its AWS default
// when nothing is raised, and reaches the limits synth and verify count with.
func TestQuotasCoverRules(t *testing.T) {
	data, err := json.Marshal(config.Default().Quotas)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]int
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	limits := config.Default().Quotas.Limits()
	for _, q := range rules.Quotas {
		if v, ok := got[q.Key]; !ok || v != q.Default {
			t.Errorf("quotas.%s: got %d (present %t), want AWS's default %d", q.Key, v, ok, q.Default)
		}
		if limits.Of(q.Key) != q.Default {
			t.Errorf("Limits().Of(%s): got %d, want %d", q.Key, limits.Of(q.Key), q.Default)
		}
	}
	if len(got) != len(rules.Quotas) {
		t.Errorf("config quotas: got %d keys %v, want the %d of rules.Quotas", len(got), got, len(rules.Quotas))
	}
	raised := config.Default().Quotas
	raised.NACLRulesPerDirection = 40
	if n := raised.Limits().NACLEntries(); n != 39 {
		t.Errorf("entries of ours per direction at a raised quota of 40: got %d, want 39", n)
	}
}
