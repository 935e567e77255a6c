package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"reflect"
	"strconv"
	"strings"

	"github.com/webtier/webtier/rules"
)

// fileError is a problem with a config file.
type fileError struct {
	path, msg string
	err       error
}

func (e *fileError) Error() string { return "config " + e.path + ": " + e.msg }
func (e *fileError) Unwrap() error { return e.err }

// Load returns Default() with the JSON object in the file at path decoded on top of it. Keys
// the file leaves out keep their defaults; unknown keys and trailing data are errors.
func Load(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		msg := err.Error()
		var pe *fs.PathError
		switch {
		case errors.Is(err, fs.ErrNotExist):
			msg = "no such file"
		case errors.As(err, &pe):
			msg = pe.Err.Error() // the path is already in the message
		}
		return Config{}, &fileError{path, msg, err}
	}
	fail := func(err error, format string, args ...any) (Config, error) {
		return Config{}, &fileError{path, fmt.Sprintf(format, args...), err}
	}

	c := Default()
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var (
		syntaxErr *json.SyntaxError
		typeErr   *json.UnmarshalTypeError
	)
	switch err := dec.Decode(&c); {
	case err == nil:
	case err == io.EOF:
		return fail(err, "empty file; expected a JSON object")
	case err == io.ErrUnexpectedEOF:
		return fail(err, "invalid JSON at line %d: unexpected end of file", lineAt(data, len(data)))
	case errors.As(err, &syntaxErr):
		return fail(err, "invalid JSON at line %d: %s", lineAt(data, int(syntaxErr.Offset)), syntaxErr)
	case errors.As(err, &typeErr):
		if typeErr.Field == "" {
			return fail(err, "expected a JSON object, got %s", typeErr.Value)
		}
		return fail(err, "%s: expected %s, got %s", typeErr.Field, describe(typeErr.Type, typeErr.Value), typeErr.Value)
	default:
		// DisallowUnknownFields reports the bare key; find where it is.
		if key, ok := unknownKey(data); ok {
			return fail(err, "unknown key %q", key)
		}
		return fail(err, "%s", strings.TrimPrefix(err.Error(), "json: "))
	}

	rest := data[dec.InputOffset():]
	if trimmed := bytes.TrimLeft(rest, " \t\r\n"); len(trimmed) > 0 {
		return fail(nil, "unexpected data after the JSON object at line %d", lineAt(data, len(data)-len(trimmed)))
	}
	return c, nil
}

// lineAt returns the 1-based line of byte offset in data.
func lineAt(data []byte, offset int) int {
	return 1 + bytes.Count(data[:min(offset, len(data))], []byte("\n"))
}

// describe names what a JSON value for t looks like; got is what the file held instead.
func describe(t reflect.Type, got string) string {
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if strings.HasPrefix(got, "number") {
			return "a whole number"
		}
		return "a number"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice:
		return "a list"
	case reflect.Struct:
		return "an object"
	}
	return t.String()
}

// unknownKey returns the dotted path of the first key in data (in file order) that Config has
// no field for.
func unknownKey(data []byte) (string, bool) {
	key, found, _ := walk(json.NewDecoder(bytes.NewReader(data)), reflect.TypeFor[Config](), "")
	return key, found
}

// walk reads one JSON value from dec and returns the path of its first object key that t has
// no field for. A nil t (or one that does not fit the value) skips the value.
func walk(dec *json.Decoder, t reflect.Type, path string) (string, bool, error) {
	tok, err := dec.Token()
	if err != nil {
		return "", false, err
	}
	delim, ok := tok.(json.Delim)
	if !ok {
		return "", false, nil
	}
	for i := 0; dec.More(); i++ {
		var (
			elem reflect.Type
			sub  string
		)
		if delim == '{' {
			tok, err := dec.Token()
			if err != nil {
				return "", false, err
			}
			key, _ := tok.(string)
			sub = key
			if path != "" {
				sub = path + "." + key
			}
			if t != nil && t.Kind() == reflect.Struct {
				f, ok := jsonField(t, key)
				if !ok {
					return sub, true, nil
				}
				elem = f.Type
			}
		} else {
			sub = fmt.Sprintf("%s[%d]", path, i)
			if t != nil && t.Kind() == reflect.Slice {
				elem = t.Elem()
			}
		}
		if key, found, err := walk(dec, elem, sub); found || err != nil {
			return key, found, err
		}
	}
	_, err = dec.Token() // the closing delimiter
	return "", false, err
}

// jsonField finds the field of struct type t that encoding/json decodes key into: the exact
// tag name, else a case-insensitive match.
func jsonField(t reflect.Type, key string) (reflect.StructField, bool) {
	var folded *reflect.StructField
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == key {
			return f, true
		}
		if folded == nil && strings.EqualFold(name, key) {
			folded = &f
		}
	}
	if folded != nil {
		return *folded, true
	}
	return reflect.StructField{}, false
}

// EnvPrefix starts the environment variable of each Setting; EnvConfig names the config file.
const (
	EnvPrefix = "WEBTIER_"
	EnvConfig = EnvPrefix + "CONFIG"
)

// Setting is one field that a flag (--Name) and an environment variable (EnvVar) can set.
type Setting struct {
	// Name is the flag's name, lower case with '-'.
	Name string
	// Usage is the flag's help text.
	Usage string
	// Set parses value into c; its error names the value, not the flag.
	Set func(c *Config, value string) error
	// Bool lets the flag stand alone (--throwaway means --throwaway=true).
	Bool bool
}

// EnvVar returns the setting's environment variable, e.g. WEBTIER_CPU_TARGET.
func (s Setting) EnvVar() string {
	return EnvPrefix + strings.ToUpper(strings.ReplaceAll(s.Name, "-", "_"))
}

// Settings lists every override, in the order of Config's fields.
var Settings = append([]Setting{
	{Name: "region", Usage: "AWS `region`, e.g. ap-northeast-2", Set: text(func(c *Config) *string { return &c.Region })},
	{Name: "azs", Usage: "comma-separated availability `zones`, as letters (a,c) or full names", Set: list(func(c *Config) *[]string { return &c.AZs })},
	{Name: "vpc-cidr", Usage: "VPC IPv4 `CIDR`", Set: text(func(c *Config) *string { return &c.VPCCIDR })},
	{Name: "public-subnets", Usage: "comma-separated public subnet `CIDRs`, one per AZ", Set: list(func(c *Config) *[]string { return &c.Subnets.Public })},
	{Name: "web-subnets", Usage: "comma-separated web subnet `CIDRs`, one per AZ", Set: list(func(c *Config) *[]string { return &c.Subnets.Web })},
	{Name: "db-subnets", Usage: "comma-separated database subnet `CIDRs`, one per AZ", Set: list(func(c *Config) *[]string { return &c.Subnets.DB })},
	{Name: "access", Usage: "how operators reach the instances (`mode`): bastion, ssm or both", Set: text(func(c *Config) *string { return &c.Access })},
	{Name: "admin-cidrs", Usage: "comma-separated `CIDRs` allowed to SSH to the bastions", Set: list(func(c *Config) *[]string { return &c.AdminCIDRs })},
	{Name: "allow-ssh-from-anywhere", Usage: "allow 0.0.0.0/0 in admin-cidrs", Bool: true, Set: boolean(func(c *Config) *bool { return &c.AllowSSHFromAnywhere })},
	{Name: "ssh-key-name", Usage: "EC2 key pair `name` for bastions and web servers", Set: text(func(c *Config) *string { return &c.SSHKeyName })},
	{Name: "nat", Usage: "NAT gateway `placement`: per-az or single", Set: text(func(c *Config) *string { return &c.NAT })},
	{Name: "repo-cidrs", Usage: "comma-separated package repository `CIDRs` web servers may reach on 443", Set: list(func(c *Config) *[]string { return &c.RepoCIDRs })},
	{Name: "s3-gateway-endpoint", Usage: "package downloads through an S3 gateway endpoint instead of NAT", Bool: true, Set: boolean(func(c *Config) *bool { return &c.S3GatewayEndpoint })},
	{Name: "certificate-arn", Usage: "ACM certificate `ARN`; turns on HTTPS", Set: text(func(c *Config) *string { return &c.CertificateARN })},
	{Name: "waf", Usage: "an AWS WAF web ACL (AWS managed common and known-bad-inputs rules) in front of the ALB", Bool: true, Set: boolean(func(c *Config) *bool { return &c.WAF })},
	{Name: "bastion-instance-type", Usage: "bastion EC2 instance `type`", Set: text(func(c *Config) *string { return &c.BastionInstanceType })},
	{Name: "instance-type", Usage: "web server EC2 instance `type`", Set: text(func(c *Config) *string { return &c.Fleet.InstanceType })},
	{Name: "min", Usage: "minimum `number` of web servers", Set: integer(func(c *Config) *int { return &c.Fleet.Min })},
	{Name: "max", Usage: "maximum `number` of web servers", Set: integer(func(c *Config) *int { return &c.Fleet.Max })},
	{Name: "desired", Usage: "desired `number` of web servers", Set: integer(func(c *Config) *int { return &c.Fleet.Desired })},
	{Name: "cpu-target", Usage: "average CPU `percent` the web servers are scaled to", Set: integer(func(c *Config) *int { return &c.Fleet.CPUTarget })},
	{Name: "db-instance-class", Usage: "RDS instance `class`", Set: text(func(c *Config) *string { return &c.Database.InstanceClass })},
	{Name: "db-storage-gb", Usage: "RDS storage in `GiB`", Set: integer(func(c *Config) *int { return &c.Database.StorageGB })},
	{Name: "db-max-storage-gb", Usage: "the most RDS storage autoscaling may grow to, in `GiB`", Set: integer(func(c *Config) *int { return &c.Database.MaxStorageGB })},
	{Name: "db-name", Usage: "initial database `name`", Set: text(func(c *Config) *string { return &c.Database.Name })},
	{Name: "backup-retention-days", Usage: "RDS backup retention in `days` (7-35)", Set: integer(func(c *Config) *int { return &c.Database.BackupRetentionDays })},
	{Name: "throwaway", Usage: "no deletion protection on the database and the ALB, no final snapshot, access logs deleted with their bucket", Bool: true, Set: boolean(func(c *Config) *bool { return &c.Database.Throwaway })},
	{Name: "alarm-emails", Usage: "comma-separated email `addresses` the alarms notify", Set: list(func(c *Config) *[]string { return &c.AlarmEmails })},
	{Name: "flow-log-retention-days", Usage: "VPC flow log retention in `days` (a CloudWatch Logs retention period)", Set: integer(func(c *Config) *int { return &c.FlowLogRetentionDays })},
}, quotaSettings()...)

// quotaSettings are one setting per quota: --quota-nacl-rules-per-direction 40.
func quotaSettings() []Setting {
	var out []Setting
	for _, q := range rules.Quotas {
		out = append(out, Setting{
			Name:  "quota-" + strings.ReplaceAll(q.Key, "_", "-"),
			Usage: fmt.Sprintf("the account's `quota` of %s (%s), as raised in Service Quotas", q.Name, q.Code),
			Set:   integer(func(c *Config) *int { return c.Quotas.field(q.Key) }),
		})
	}
	return out
}

// text returns a Set that stores the value as is.
func text(field func(*Config) *string) func(*Config, string) error {
	return func(c *Config, v string) error {
		*field(c) = v
		return nil
	}
}

// list returns a Set that stores a comma-separated list, trimming spaces and dropping empty items.
func list(field func(*Config) *[]string) func(*Config, string) error {
	return func(c *Config, v string) error {
		var items []string
		for item := range strings.SplitSeq(v, ",") {
			if item = strings.TrimSpace(item); item != "" {
				items = append(items, item)
			}
		}
		*field(c) = items
		return nil
	}
}

// integer returns a Set that parses a whole number.
func integer(field func(*Config) *int) func(*Config, string) error {
	return func(c *Config, v string) error {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			return fmt.Errorf("%q is not a whole number", v)
		}
		*field(c) = n
		return nil
	}
}

// boolean returns a Set that parses true/false (and the other forms strconv.ParseBool takes).
func boolean(field func(*Config) *bool) func(*Config, string) error {
	return func(c *Config, v string) error {
		b, err := strconv.ParseBool(strings.TrimSpace(v))
		if err != nil {
			return fmt.Errorf("%q is not true or false", v)
		}
		*field(c) = b
		return nil
	}
}

// Sources records the --config flag and the setting flags given on a command line.
type Sources struct {
	configFile *string      // nil unless --config was given
	flags      []assignment // in command-line order
}

type assignment struct {
	setting Setting
	value   string
}

// AddFlags registers --config and one flag per Setting on fs. Values are only recorded while
// fs parses; Build applies and checks them.
func AddFlags(fs *flag.FlagSet) *Sources {
	s := &Sources{}
	fs.Func("config", "JSON config `file` (env "+EnvConfig+")", func(v string) error {
		s.configFile = &v
		return nil
	})
	for _, st := range Settings {
		usage := st.Usage + " (env " + st.EnvVar() + ")"
		record := func(v string) error {
			s.flags = append(s.flags, assignment{st, v})
			return nil
		}
		if st.Bool {
			fs.BoolFunc(st.Name, usage, record)
		} else {
			fs.Func(st.Name, usage, record)
		}
	}
	return s
}

// Replace records value for the setting named name (a flag name, "repo-cidrs") as if it were
// the last flag: a command that computes the setting itself (repo-ranges) is not stopped by
// what the config says of it.
func (s *Sources) Replace(name, value string) error {
	for _, st := range Settings {
		if st.Name == name {
			s.flags = append(s.flags, assignment{st, value})
			return nil
		}
	}
	return fmt.Errorf("config: no setting %q", name)
}

// Build merges, each on top of the one before: Default(), the config file (--config, else
// $WEBTIER_CONFIG, else none), the WEBTIER_* variables that are set and non-empty, and the
// flags. It returns a load error, Errors naming each malformed flag or variable, or the
// Validate error as is; on any error the Config is the zero value. A nil getenv means os.Getenv.
func (s *Sources) Build(getenv func(string) string) (Config, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	c := Default()
	path := getenv(EnvConfig)
	if s.configFile != nil {
		path = *s.configFile
	}
	if path != "" {
		var err error
		if c, err = Load(path); err != nil {
			return Config{}, err
		}
	}

	var errs Errors
	apply := func(source string, st Setting, v string) {
		if err := st.Set(&c, v); err != nil {
			errs.add(source, "%s", err)
		}
	}
	for _, st := range Settings {
		if v := getenv(st.EnvVar()); v != "" {
			apply(st.EnvVar(), st, v)
		}
	}
	for _, a := range s.flags {
		apply("--"+a.setting.Name, a.setting, a.value)
	}
	if len(errs) > 0 {
		return Config{}, errs
	}
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}
