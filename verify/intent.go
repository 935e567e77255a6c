package verify

import (
	"fmt"
	"net/netip"
	"slices"

	"github.com/webtier/webtier/config"
	"github.com/webtier/webtier/rules"
)

// Intent is what the web tier is meant to allow: the active flows of rules.Flows and the
// outside ranges they name, from the config. The network itself comes from the JSON.
type Intent struct {
	// Flows are the active flows.
	Flows      []rules.Flow
	AdminCIDRs []netip.Prefix
	RepoCIDRs  []netip.Prefix
	// WebSubnets are the web tier's subnets, for the shape of the Auto Scaling group.
	WebSubnets []netip.Prefix
	// NATPerAZ is true for `nat: per-az`: every web subnet goes out through a NAT gateway of
	// its own AZ; false for `nat: single`: one NAT gateway for all.
	NATPerAZ bool
	// FlowLogRetentionDays is how long the VPC flow logs must be kept.
	FlowLogRetentionDays int
	// S3Endpoint is true for `s3_gateway_endpoint: true`: the web subnets reach S3 (the package
	// repositories) through a gateway endpoint whose policy reads the repository bucket only.
	S3Endpoint bool
	// Region is the stack's region: it names the S3 service and the repository bucket.
	Region string
	// PrefixLists are the CIDRs of the AWS-managed prefix lists the stack names but cannot
	// hold, by name. The region's S3 list (com.amazonaws.REGION.s3) holds S3's ranges there,
	// which repo_cidrs are (webtier repo-ranges derives them from the same published ranges).
	PrefixLists map[string][]netip.Prefix
	// Quotas are the AWS quotas of the account the stack goes to (the config's quotas: AWS's
	// defaults where it raised nothing).
	Quotas rules.Limits
	// FleetMin is the web servers' group minimum: fewer healthy targets must raise an alarm.
	FleetMin int
	// AlarmEmails must each be subscribed to the alarms' topic.
	AlarmEmails []string
	// Throwaway is database.throwaway: no deletion protection is expected.
	Throwaway bool
	// WAF is true when a web ACL must protect the ALB.
	WAF bool
	// Access is the config's access mode: "bastion" (SSH through the bastions), "ssm"
	// (Session Manager only: no inbound SSH path at all) or "both". "" reads as "bastion".
	Access string
}

// SessionManager reports whether the instances must be managed by Systems Manager (access
// ssm or both).
func (in Intent) SessionManager() bool {
	return in.Access == config.AccessSSM || in.Access == config.AccessBoth
}

// S3Service is the name of the S3 service of a region, and of its AWS-managed prefix list.
func S3Service(region string) string { return "com.amazonaws." + region + ".s3" }

// IntentOf reads the intent from a validated config and the flow table rules.Flows.
func IntentOf(c config.Config) (Intent, error) { return IntentOfFlows(c, rules.Flows) }

// IntentOfFlows is IntentOf with another flow table (a proposed change).
func IntentOfFlows(c config.Config, flows []rules.Flow) (Intent, error) {
	var in Intent
	var err error
	parse := func(list []string) []netip.Prefix {
		var out []netip.Prefix
		for _, s := range list {
			p, e := netip.ParsePrefix(s)
			if e != nil && err == nil {
				err = fmt.Errorf("config: %q is not a CIDR", s)
			}
			out = append(out, p.Masked())
		}
		return out
	}
	in.AdminCIDRs = parse(c.AdminCIDRs)
	in.RepoCIDRs = parse(c.RepoCIDRs)
	in.WebSubnets = parse(c.Subnets.Web)
	in.NATPerAZ = c.NAT != config.NATSingle
	in.FlowLogRetentionDays = c.FlowLogRetentionDays
	in.S3Endpoint = c.S3GatewayEndpoint
	in.Region = c.Region
	in.PrefixLists = map[string][]netip.Prefix{S3Service(c.Region): in.RepoCIDRs}
	in.Quotas = c.Quotas.Limits()
	in.FleetMin = c.Fleet.Min
	in.AlarmEmails = c.AlarmEmails
	in.Throwaway = c.Database.Throwaway
	in.WAF = c.WAF
	in.Access = c.Access
	if e := rules.CheckTable(flows); e != nil && err == nil {
		err = e
	}
	in.Flows = rules.Active(flows, c.Features())
	return in, err
}

// roles are the roles an endpoint plays: its own for an ENI; for an outside address, the
// internet and every outside role whose ranges hold it.
func (in Intent) roles(e *Endpoint) []rules.Role {
	if e.Inside() {
		return []rules.Role{e.Role}
	}
	out := []rules.Role{rules.Internet}
	if containsAddr(in.AdminCIDRs, e.Addr) {
		out = append(out, rules.Admin)
	}
	if containsAddr(in.RepoCIDRs, e.Addr) {
		out = append(out, rules.Repos)
	}
	return out
}

func containsAddr(list []netip.Prefix, a netip.Addr) bool {
	return slices.ContainsFunc(list, func(p netip.Prefix) bool { return p.Contains(a) })
}

// flowProtocol is the protocol of a flow (0 when it names none the verifier knows).
func flowProtocol(f rules.Flow) Protocol {
	p, _ := ParseProtocol(string(f.Port.Proto))
	return p
}
