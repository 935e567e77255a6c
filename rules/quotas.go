package rules

import (
	"fmt"
	"strings"
)

// Quota is an AWS quota the stack can reach: AWS's name and code for it, its default and
// the most it can be raised to, what counts toward it, and the page that says so.
type Quota struct {
	// Key names the quota in the config's "quotas" object: "nacl_rules_per_direction".
	Key string
	// Name is the quota's name in Service Quotas.
	Name string
	// Code is the quota's code in Service Quotas: "L-2AEEBF1A".
	Code string
	// Service is the Service Quotas service the code belongs to: "vpc" or "ec2".
	Service string
	// Default is the quota of an account that has not asked for more.
	Default int
	// Max is the most AWS's page says the quota can be raised to; 0 when the page names none.
	Max int
	// Per is what one count is of: "network ACL and direction".
	Per string
	// Counts says what counts toward the quota, as the page says it.
	Counts string
	// Instead is what to do when the quota cannot, or should not, be raised.
	Instead string
	// Shared is true for a quota of the account's whole region (or AZ) that other stacks use
	// too: the stack can count only its own share.
	Shared bool
	// Page is the AWS documentation page the numbers are taken from.
	Page string
}

// The AWS pages the quotas are taken from.
const (
	// VPCQuotasPage lists the Amazon VPC quotas, their codes and maxima.
	VPCQuotasPage = "https://docs.aws.amazon.com/vpc/latest/userguide/amazon-vpc-limits.html"
	// ManagedListsPage gives the weight of the AWS-managed prefix lists: how many entries a
	// reference to one takes up in a resource.
	ManagedListsPage = "https://docs.aws.amazon.com/vpc/latest/userguide/working-with-aws-managed-prefix-lists.html"
)

// Keys of the quotas, as the config names them.
const (
	QuotaNACLRules   = "nacl_rules_per_direction"
	QuotaSGRules     = "sg_rules_per_direction"
	QuotaSGsPerENI   = "sgs_per_eni"
	QuotaRoutes      = "routes_per_table"
	QuotaEIPs        = "eips_per_region"
	QuotaNATsPerAZ   = "nat_gateways_per_az"
	QuotaVPCs        = "vpcs_per_region"
	quotaConsoleBase = "https://console.aws.amazon.com/servicequotas/home/services/"
)

// DefaultDenyEntries is how many entries of each direction of a network ACL AWS holds itself:
// the final `*` deny (rule 32767 for IPv4). AWS's quota page counts it toward the quota.
const DefaultDenyEntries = 1

// SGRulesTimesGroupsMax bounds the two security-group quotas together: AWS refuses to raise
// rules per security group and security groups per network interface so far that their
// product passes it.
const SGRulesTimesGroupsMax = 1000

// Quotas are the AWS quotas the web tier can reach, checked by synth (network ACL entries) and
// by `webtier verify` (all of them, on the synthesized or the deployed network). Quotas that
// the stack uses a few of among hundreds (subnets, route tables, network ACLs and security
// groups per VPC or region, interface and gateway endpoints) are not modelled.
var Quotas = []Quota{
	{Key: QuotaNACLRules, Name: "Inbound or outbound rules per network ACL", Code: "L-2AEEBF1A", Service: "vpc",
		Default: 20, Max: 40, Per: "network ACL and direction",
		Counts:  "every numbered entry of the direction and the default deny (rule *, 32767 for IPv4); IPv4 and IPv6 entries are counted apart",
		Instead: "hold fewer entries (fewer admin_cidrs or repo_cidrs: `webtier repo-ranges --max-cidrs N` joins S3 ranges)",
		Page:    VPCQuotasPage},
	{Key: QuotaSGRules, Name: "Inbound or outbound rules per security group", Code: "L-0EA8095F", Service: "vpc",
		Default: 60, Per: "security group and direction",
		Counts: "each CIDR, security group and prefix list a rule of the direction names; a prefix list counts as its maximum entries " +
			"(an AWS-managed list as its weight: 1 for S3); IPv4 and IPv6 rules are counted apart; at most 1000 with security groups per network interface multiplied in",
		Instead: "hold fewer rules (fewer admin_cidrs or repo_cidrs)",
		Page:    VPCQuotasPage},
	{Key: QuotaSGsPerENI, Name: "Security groups per network interface", Code: "L-2AFB9258", Service: "vpc",
		Default: 5, Max: 16, Per: "network interface",
		Counts:  "the security groups of each network interface: an instance's, a launch template's, a load balancer's, a mount target's, an interface endpoint's",
		Instead: "attach fewer security groups to it",
		Page:    VPCQuotasPage},
	{Key: QuotaRoutes, Name: "Routes per route table", Code: "L-93826ACB", Service: "vpc",
		Default: 50, Max: 1000, Per: "route table",
		Counts: "the routes that are not propagated, the local route included (the page does not leave it out); a route to a prefix list counts as " +
			"the list's maximum entries (an AWS-managed list as its weight); IPv4 and IPv6 routes are counted apart",
		Instead: "hold fewer routes",
		Page:    VPCQuotasPage},
	{Key: QuotaEIPs, Name: "Elastic IP addresses per Region", Code: "L-0263D0A3", Service: "ec2",
		Default: 5, Per: "region, for the whole account", Shared: true,
		Counts:  "every Elastic IP address of the account in the region: the stack's (one per NAT gateway) and any other",
		Instead: "release Elastic IP addresses the account no longer uses, or set nat to single (one NAT gateway, one address)",
		Page:    VPCQuotasPage},
	{Key: QuotaNATsPerAZ, Name: "NAT gateways per Availability Zone", Code: "L-FE5A380F", Service: "vpc",
		Default: 5, Per: "availability zone, for the whole account", Shared: true,
		Counts:  "the account's NAT gateways in the AZ that are pending, active or deleting: the stack's and any other",
		Instead: "delete the NAT gateways of the AZ the account no longer uses",
		Page:    VPCQuotasPage},
	{Key: QuotaVPCs, Name: "VPCs per Region", Code: "L-F678F1CE", Service: "vpc",
		Default: 5, Per: "region, for the whole account", Shared: true,
		Counts:  "every VPC of the account in the region: the stack's, the region's default VPC and any other",
		Instead: "delete the VPCs of the region the account no longer uses",
		Page:    VPCQuotasPage},
}

// QuotaOf returns the quota with the given key; an unknown key is a programming error.
func QuotaOf(key string) Quota {
	for _, q := range Quotas {
		if q.Key == key {
			return q
		}
	}
	panic("rules: no quota " + key)
}

// Console is the quota's page in the Service Quotas console, where an increase is requested.
func (q Quota) Console() string { return quotaConsoleBase + q.Service + "/quotas/" + q.Code }

// Exceeded says that subject holds more than the quota allows at limit, and what to do:
// "web-nacl: 20 ingress entries + the default deny = 21 > 20 (L-2AEEBF1A, Inbound or outbound
// rules per network ACL); raise it in Service Quotas (URL) and set quotas.nacl_rules_per_direction
// (AWS allows up to 40), or hold fewer entries (...)". counted is what subject holds, with its
// total.
func (q Quota) Exceeded(subject, counted string, limit int) string {
	s := fmt.Sprintf("%s: %s > %d (%s, %s); ", subject, counted, limit, q.Code, q.Name)
	if q.Max > 0 && limit >= q.Max {
		return s + fmt.Sprintf("AWS allows no more than %d: %s", q.Max, q.Instead)
	}
	s += fmt.Sprintf("raise it in Service Quotas (%s) and set quotas.%s", q.Console(), q.Key)
	if q.Max > 0 {
		s += fmt.Sprintf(" (AWS allows up to %d)", q.Max)
	}
	return s + ", or " + q.Instead
}

// Limits are the quotas in force in an account, by key; a quota it leaves out (or sets to 0)
// is AWS's default. A nil Limits is an account that raised nothing.
type Limits map[string]int

// Of is the quota in force for key.
func (l Limits) Of(key string) int {
	if v := l[key]; v > 0 {
		return v
	}
	return QuotaOf(key).Default
}

// NACLEntries is how many entries of ours one direction of a network ACL may hold: the quota
// less the default deny, which counts toward it.
func (l Limits) NACLEntries() int { return l.Of(QuotaNACLRules) - DefaultDenyEntries }

// NACLCount renders a direction's count the way AWS counts it: "20 ingress entries + the
// default deny = 21".
func NACLCount(n int, dir Direction) string {
	return fmt.Sprintf("%d %s %s + the default deny = %d", n, dir, plural(n, "entry", "entries"), n+DefaultDenyEntries)
}

// ManagedListWeight is how many entries a reference to an AWS-managed prefix list takes up in
// a security group or route table, by the list's name ("com.amazonaws.ap-northeast-2.s3"):
// AWS's page gives S3's and DynamoDB's lists the weight 1. ok is false for another list.
func ManagedListWeight(list string) (weight int, ok bool) {
	if strings.HasPrefix(list, "com.amazonaws.") && (strings.HasSuffix(list, ".s3") || strings.HasSuffix(list, ".dynamodb")) {
		return 1, true
	}
	return 0, false
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
