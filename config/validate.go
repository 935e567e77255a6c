package config

import (
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strings"

	"github.com/webtier/webtier/rules"
)

// azCount is the number of availability zones the architecture spans.
const azCount = 2

// FieldError is one problem with one setting.
type FieldError struct {
	// Field is the setting's path ("subnets.web[0]"), or the flag or environment variable that
	// carried a malformed value ("--min", "WEBTIER_MIN").
	Field string
	// Msg says what the value is and what was expected.
	Msg string
}

func (e FieldError) Error() string { return e.Field + ": " + e.Msg }

// Errors is every problem found, in the order of Config's fields.
type Errors []FieldError

func (e Errors) Error() string {
	lines := make([]string, len(e))
	for i, fe := range e {
		lines[i] = fe.Error()
	}
	return strings.Join(lines, "\n")
}

// add records a problem with field.
func (e *Errors) add(field, format string, args ...any) {
	*e = append(*e, FieldError{Field: field, Msg: fmt.Sprintf(format, args...)})
}

const regionPattern = `[a-z]{2}(-gov)?-[a-z]+-[0-9]`

var (
	regionRE   = regexp.MustCompile(`^` + regionPattern + `$`)
	azLetterRE = regexp.MustCompile(`^[a-z]$`)
	azNameRE   = regexp.MustCompile(`^` + regionPattern + `[a-z]$`)
	dbNameRE   = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{0,63}$`)
	ec2TypeRE  = regexp.MustCompile(`^[a-z][a-z0-9-]*\.[a-z0-9]+$`)
	rdsClassRE = regexp.MustCompile(`^db\.[a-z][a-z0-9-]*\.[a-z0-9]+$`)
	// emailRE is an address SNS's email protocol takes: one @, a local part without spaces,
	// a domain of dot-separated labels with a top-level one of letters.
	emailRE = regexp.MustCompile(`^[^@\s]+@([A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z]{2,}$`)
)

// Validate checks every field and returns all problems as Errors, or nil.
func (c Config) Validate() error {
	var errs Errors
	if !regionRE.MatchString(c.Region) {
		errs.add("region", "%q is not an AWS region name (expected e.g. ap-northeast-2)", c.Region)
	}
	errs.azs(c)
	vpc, vpcOK := errs.cidr("vpc_cidr", c.VPCCIDR)
	errs.subnets(c.Subnets, vpc, vpcOK)

	errs.access(c)
	if c.Bastions() {
		errs.cidrs("admin_cidrs", c.AdminCIDRs,
			"at least one CIDR allowed to SSH to the bastions (e.g. 203.0.113.0/24)",
			func(field string, p netip.Prefix) {
				if p.Bits() == 0 && !c.AllowSSHFromAnywhere {
					errs.add(field, "%s opens SSH to the whole internet; set allow_ssh_from_anywhere to true to allow it", p)
				}
			})
	}

	if c.NAT != NATPerAZ && c.NAT != NATSingle {
		errs.add("nat", "%q is not one of %s, %s", c.NAT, NATPerAZ, NATSingle)
	}
	errs.cidrs("repo_cidrs", c.RepoCIDRs, "at least one package repository range", nil)
	if regionRE.MatchString(c.Region) && c.Region != DefaultRepoRegion && slices.Equal(c.RepoCIDRs, DefaultRepoCIDRs) {
		errs.add("repo_cidrs", "the default list holds the S3 ranges of %s, not of %s; run `webtier repo-ranges --region %s --ip-ranges ip-ranges.json` "+
			"(from https://ip-ranges.amazonaws.com/ip-ranges.json) and set repo_cidrs to the list it prints",
			DefaultRepoRegion, c.Region, c.Region)
	}

	if c.CertificateARN != "" && (!strings.HasPrefix(c.CertificateARN, "arn:aws") || !strings.Contains(c.CertificateARN, ":acm:")) {
		errs.add("certificate_arn", "%q is not an ACM certificate ARN", c.CertificateARN)
	}

	errs.instanceType("bastion_instance_type", c.BastionInstanceType, ec2TypeRE, "an EC2 instance type", "t3.micro")
	errs.fleet(c.Fleet)
	errs.database(c.Database)
	errs.retention("flow_log_retention_days", c.FlowLogRetentionDays)
	errs.emails("alarm_emails", c.AlarmEmails)
	errs.quotas(c.Quotas)

	if len(errs) == 0 {
		return nil
	}
	return errs
}

// access checks the access mode and, in ssm mode, that no SSH setting is given: with no
// bastion and no port 22 anywhere, admin_cidrs and allow_ssh_from_anywhere would do nothing,
// and a config that names who may SSH in should not silently get no SSH at all.
func (e *Errors) access(c Config) {
	if !slices.Contains(AccessModes, c.Access) {
		e.add("access", "%q is not one of %s", c.Access, strings.Join(AccessModes, ", "))
		return
	}
	if c.Access != AccessSSM {
		return
	}
	if len(c.AdminCIDRs) > 0 {
		e.add("admin_cidrs", "%s is unused with access %q (Session Manager only: no bastion, no SSH); remove it, or set access to %q or %q",
			strings.Join(c.AdminCIDRs, ", "), AccessSSM, AccessBastion, AccessBoth)
	}
	if c.AllowSSHFromAnywhere {
		e.add("allow_ssh_from_anywhere", "true is unused with access %q (no SSH from anywhere); remove it", AccessSSM)
	}
}

// azs checks the number, names and uniqueness of c.AZs.
func (e *Errors) azs(c Config) {
	switch n := len(c.AZs); {
	case n == 0:
		e.add("azs", "empty; expected exactly %d", azCount)
	case n != azCount:
		e.add("azs", "got %d (%s); expected exactly %d", n, strings.Join(c.AZs, ", "), azCount)
	}
	names := c.AZNames()
	for i, az := range c.AZs {
		field := fmt.Sprintf("azs[%d]", i)
		switch {
		case azLetterRE.MatchString(az):
		case azNameRE.MatchString(az):
			if az[:len(az)-1] != c.Region {
				e.add(field, "%q is not in region %s", az, c.Region)
			}
		default:
			e.add(field, "%q is not an availability zone (expected a letter such as \"a\" or a name such as \"%sa\")", az, c.Region)
		}
		for j := range i {
			if names[j] == names[i] {
				e.add(field, "%q repeats azs[%d]", az, j)
				break
			}
		}
	}
}

// subnets checks each tier's count, and each subnet's form, placement inside vpc (when vpcOK)
// and overlap with the subnets before it.
func (e *Errors) subnets(s Subnets, vpc netip.Prefix, vpcOK bool) {
	type placed struct {
		field string
		p     netip.Prefix
	}
	var seen []placed
	for _, tier := range []struct {
		field string
		cidrs []string
	}{{"subnets.public", s.Public}, {"subnets.web", s.Web}, {"subnets.db", s.DB}} {
		if n := len(tier.cidrs); n != azCount {
			noun := "CIDRs"
			if n == 1 {
				noun = "CIDR"
			}
			e.add(tier.field, "got %d %s; expected one per AZ (%d)", n, noun, azCount)
		}
		for i, s := range tier.cidrs {
			field := fmt.Sprintf("%s[%d]", tier.field, i)
			p, ok := e.cidr(field, s)
			if !ok {
				continue
			}
			if vpcOK && (p.Bits() < vpc.Bits() || !vpc.Contains(p.Addr())) {
				e.add(field, "%s is outside the VPC %s", p, vpc)
			}
			for _, o := range seen {
				if o.p.Overlaps(p) {
					e.add(field, "%s overlaps %s %s", p, o.field, o.p)
				}
			}
			seen = append(seen, placed{field, p})
		}
	}
}

// cidr checks that s is a canonical IPv4 CIDR. It returns the masked prefix and whether s
// parsed at all; a non-canonical s is recorded but still returned (masked).
func (e *Errors) cidr(field, s string) (netip.Prefix, bool) {
	p, err := netip.ParsePrefix(s)
	if err != nil || !p.Addr().Is4() {
		e.add(field, "%q is not an IPv4 CIDR (expected a.b.c.d/n)", s)
		return netip.Prefix{}, false
	}
	if m := p.Masked(); m != p {
		e.add(field, "%s is not canonical: did you mean %s?", s, m)
		return m, true
	}
	return p, true
}

// cidrs checks a non-empty list of CIDRs (expected says what belongs in it when it is empty),
// then calls check, if not nil, on each one that parsed.
func (e *Errors) cidrs(field string, list []string, expected string, check func(field string, p netip.Prefix)) {
	if len(list) == 0 {
		e.add(field, "empty; expected %s", expected)
	}
	for i, s := range list {
		f := fmt.Sprintf("%s[%d]", field, i)
		if p, ok := e.cidr(f, s); ok && check != nil {
			check(f, p)
		}
	}
}

// instanceType checks that s is set and shaped like re; kind and example describe it.
func (e *Errors) instanceType(field, s string, re *regexp.Regexp, kind, example string) {
	switch {
	case s == "":
		e.add(field, "empty; expected %s such as %s", kind, example)
	case !re.MatchString(s):
		e.add(field, "%q is not %s (expected e.g. %s)", s, kind, example)
	}
}

// atLeast records a problem if v is below lo, and reports whether v is in bounds.
func (e *Errors) atLeast(field string, v, lo int) bool {
	if v < lo {
		e.add(field, "%d is below %d", v, lo)
		return false
	}
	return true
}

// atMost records a problem if v is above hi.
func (e *Errors) atMost(field string, v, hi int) {
	if v > hi {
		e.add(field, "%d is above %d", v, hi)
	}
}

// fleet checks the Auto Scaling group's sizes and CPU target.
func (e *Errors) fleet(f Fleet) {
	e.instanceType("fleet.instance_type", f.InstanceType, ec2TypeRE, "an EC2 instance type", "t3.micro")
	minOK := e.atLeast("fleet.min", f.Min, 1)
	if minOK && f.Max >= 1 && f.Min > f.Max {
		e.add("fleet.min", "%d is greater than fleet.max %d", f.Min, f.Max)
	}
	maxOK := e.atLeast("fleet.max", f.Max, 1)
	if minOK && maxOK && f.Min <= f.Max && (f.Desired < f.Min || f.Desired > f.Max) {
		e.add("fleet.desired", "%d is outside fleet.min..fleet.max (%d..%d)", f.Desired, f.Min, f.Max)
	}
	if f.CPUTarget < 1 || f.CPUTarget > 100 {
		e.add("fleet.cpu_target", "%d is outside 1-100", f.CPUTarget)
	}
}

// logRetentions are the retention periods CloudWatch Logs accepts, in days.
var logRetentions = []int{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}

// retention checks a CloudWatch Logs retention period.
func (e *Errors) retention(field string, days int) {
	if !slices.Contains(logRetentions, days) {
		e.add(field, "%d is not a CloudWatch Logs retention period (%s)", days, strings.Trim(fmt.Sprint(logRetentions), "[]"))
	}
}

// database checks the RDS settings.
func (e *Errors) database(d Database) {
	e.instanceType("database.instance_class", d.InstanceClass, rdsClassRE, "an RDS instance class", "db.t3.micro")
	if e.atLeast("database.storage_gb", d.StorageGB, 20) {
		e.atMost("database.storage_gb", d.StorageGB, 65536)
	}
	// RDS's storage autoscaling wants the maximum at least 10 % above the allocated storage.
	switch {
	case d.MaxStorageGB*10 < d.StorageGB*11:
		e.add("database.max_storage_gb", "%d is not at least 10%% above database.storage_gb %d (RDS storage autoscaling needs room to grow)", d.MaxStorageGB, d.StorageGB)
	case d.MaxStorageGB > 65536:
		e.atMost("database.max_storage_gb", d.MaxStorageGB, 65536)
	}
	if !dbNameRE.MatchString(d.Name) {
		e.add("database.name", "%q must start with a letter and hold only letters, digits and underscores (at most 64)", d.Name)
	}
	if e.atLeast("database.backup_retention_days", d.BackupRetentionDays, 7) {
		e.atMost("database.backup_retention_days", d.BackupRetentionDays, 35)
	}
}

// quotas checks the quotas the account has raised: none below AWS's default (a quota is only
// ever raised), none above the most AWS allows, and the two security-group quotas within
// what AWS allows together.
func (e *Errors) quotas(q Quotas) {
	ok := true
	for _, f := range q.fields() {
		quota := rules.QuotaOf(f.key)
		field := "quotas." + f.key
		switch v := *f.v; {
		case v < quota.Default:
			e.add(field, "%d is below %d, AWS's default for %s (%s): a quota is only ever raised", v, quota.Default, quota.Code, quota.Name)
			ok = false
		case quota.Max > 0 && v > quota.Max:
			e.add(field, "%d is above %d, the most AWS allows for %s (%s)", v, quota.Max, quota.Code, quota.Name)
			ok = false
		}
	}
	if product := q.SGRulesPerDirection * q.SGsPerENI; ok && product > rules.SGRulesTimesGroupsMax {
		rulesQ, groupsQ := rules.QuotaOf(rules.QuotaSGRules), rules.QuotaOf(rules.QuotaSGsPerENI)
		e.add("quotas."+rules.QuotaSGRules, "%d times quotas.%s %d is %d, above %d: AWS raises %s and %s only as far as their product stays within it",
			q.SGRulesPerDirection, rules.QuotaSGsPerENI, q.SGsPerENI, product, rules.SGRulesTimesGroupsMax, rulesQ.Code, groupsQ.Code)
	}
}

// emails checks each address of list (field) and that none repeats.
func (e *Errors) emails(field string, list []string) {
	for i, addr := range list {
		f := fmt.Sprintf("%s[%d]", field, i)
		if !emailRE.MatchString(addr) {
			e.add(f, "%q is not an email address (expected e.g. ops@example.com)", addr)
			continue
		}
		if j := slices.Index(list[:i], addr); j >= 0 {
			e.add(f, "%q repeats %s[%d]", addr, field, j)
		}
	}
}
