package constructs

import (
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/networkacl"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/networkaclrule"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/securitygroup"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/vpcsecuritygroupegressrule"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/vpcsecuritygroupingressrule"
	"github.com/hashicorp/terraform-cdk-go/cdktf"

	"github.com/webtier/webtier/rules"
)

// FirewallProps carries the derived policy onto the network.
type FirewallProps struct {
	// Policy is derived from the flow table; nothing here writes a port or CIDR of its own.
	// default: none (required)
	Policy rules.Policy
	// Network receives one security group per role and one network ACL per tier.
	// default: none (required)
	Network *Network
	// PrefixLists maps each service a rule's PeerPrefixList names ("s3") to the ID of its
	// prefix list (the gateway endpoint's prefix_list_id). default: none (needed only when a
	// rule names one)
	PrefixLists map[string]*string
}

// Firewall is every security group, security-group rule, network ACL and NACL entry.
type Firewall struct {
	groups map[rules.Role]securitygroup.SecurityGroup
	// Rules are every security-group rule, network ACL and ACL entry: what must exist before
	// an instance may count on its traffic.
	Rules []cdktf.ITerraformDependable
}

// NewFirewall builds the security groups and network ACLs of the policy.
func NewFirewall(scope constructs.Construct, id string, p FirewallProps) *Firewall {
	s := scopeOf(scope, id)
	fw := &Firewall{groups: map[rules.Role]securitygroup.SecurityGroup{}}
	for _, role := range rules.Roles {
		// A role no active flow names has nothing in the stack (the bastions with access
		// ssm, the Systems Manager endpoints without it): no group for it.
		if !role.HasGroup() || !p.Policy.Uses(role) {
			continue
		}
		name := role.GroupName()
		// No inline rules: each rule is its own resource below, and Terraform removes the
		// allow-all egress AWS adds to a new group.
		fw.groups[role] = named(securitygroup.NewSecurityGroup(s, str(name), &securitygroup.SecurityGroupConfig{
			Name:        str(name),
			Description: str(role.About()),
			VpcId:       p.Network.VPC.Id(),
			Tags:        tags(name, string(role)),
		}), name)
	}
	for _, r := range p.Policy.SGRules {
		fw.rule(s, r, p.PrefixLists)
	}

	for _, tier := range rules.Tiers {
		name := rules.NACLName(tier)
		acl := named(networkacl.NewNetworkAcl(s, str(name), &networkacl.NetworkAclConfig{
			VpcId:     p.Network.VPC.Id(),
			SubnetIds: p.Network.SubnetIDs(tier),
			Tags:      tags(name, "nacl-"+string(tier)),
		}), name)
		fw.Rules = append(fw.Rules, acl)
		for _, e := range p.Policy.NACL[tier] {
			fw.Rules = append(fw.Rules, named(networkaclrule.NewNetworkAclRule(s, str(e.ID()), &networkaclrule.NetworkAclRuleConfig{
				NetworkAclId: acl.Id(),
				RuleNumber:   num(e.Number),
				Egress:       e.Direction == rules.Egress,
				Protocol:     str(string(e.Port.Proto)),
				RuleAction:   str("allow"),
				CidrBlock:    str(e.CIDR.String()),
				FromPort:     num(e.Port.From),
				ToPort:       num(e.Port.To),
			}), e.ID()))
		}
	}
	return fw
}

func (fw *Firewall) rule(s constructs.Construct, r rules.SGRule, lists map[string]*string) {
	var cidr, peer, list *string
	switch {
	case r.PeerGroup != "":
		peer = fw.groups[r.PeerGroup].Id()
	case r.PeerPrefixList != "":
		if list = lists[r.PeerPrefixList]; list == nil {
			panic("firewall: " + r.ID + " names the " + r.PeerPrefixList + " prefix list, which FirewallProps.PrefixLists lacks")
		}
	default:
		cidr = str(r.PeerCIDR.String())
	}
	group := fw.groups[r.Group].Id()
	t := &map[string]*string{"Name": str(r.ID), FlowTag: str(r.Flow)}
	if r.Direction == rules.Ingress {
		fw.Rules = append(fw.Rules, named(vpcsecuritygroupingressrule.NewVpcSecurityGroupIngressRule(s, str(r.ID), &vpcsecuritygroupingressrule.VpcSecurityGroupIngressRuleConfig{
			SecurityGroupId: group, IpProtocol: str(string(r.Port.Proto)),
			FromPort: num(r.Port.From), ToPort: num(r.Port.To),
			CidrIpv4: cidr, ReferencedSecurityGroupId: peer, PrefixListId: list, Description: str(r.Why), Tags: t,
		}), r.ID))
		return
	}
	fw.Rules = append(fw.Rules, named(vpcsecuritygroupegressrule.NewVpcSecurityGroupEgressRule(s, str(r.ID), &vpcsecuritygroupegressrule.VpcSecurityGroupEgressRuleConfig{
		SecurityGroupId: group, IpProtocol: str(string(r.Port.Proto)),
		FromPort: num(r.Port.From), ToPort: num(r.Port.To),
		CidrIpv4: cidr, ReferencedSecurityGroupId: peer, PrefixListId: list, Description: str(r.Why), Tags: t,
	}), r.ID))
}

// Group returns the ID of a role's security group, or nil for a role the policy does not use.
func (fw *Firewall) Group(r rules.Role) *string {
	g, ok := fw.groups[r]
	if !ok {
		return nil
	}
	return g.Id()
}
