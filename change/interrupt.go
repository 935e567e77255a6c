package change

import (
	"fmt"
	"slices"
)

// Interruption is what one changed resource does to the running service, from the plan's
// action, action_reason and replace_paths, with the AWS page that says so.
type Interruption struct {
	Resource     string   `json:"resource"`
	Action       Action   `json:"action"`
	Reason       string   `json:"reason,omitempty"`
	ReplacePaths []string `json:"replace_paths,omitempty"`
	// Changed are the attributes that decide it (for an update).
	Changed []string `json:"changed,omitempty"`
	Effect  string   `json:"effect"`
	Doc     string   `json:"doc"`
}

// AWS pages each effect comes from.
const (
	docInstanceRefresh = "https://docs.aws.amazon.com/autoscaling/ec2/userguide/instance-refresh-overview.html"
	docASG             = "https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-lifecycle.html"
	docRDSModify       = "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Overview.DBInstance.Modifying.html"
	docRDSParams       = "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_WorkingWithParamGroups.Modifying.html"
	docALB             = "https://docs.aws.amazon.com/elasticloadbalancing/latest/application/application-load-balancers.html"
	docListener        = "https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-listeners.html"
	docTargetGroup     = "https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-target-groups.html"
	docNAT             = "https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DeleteNatGateway.html"
	docEIP             = "https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/elastic-ip-addresses-eip.html"
	docInstanceAddr    = "https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/using-instance-addressing.html"
	docResize          = "https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/ec2-instance-resize.html"
	docSG              = "https://docs.aws.amazon.com/vpc/latest/userguide/vpc-security-groups.html"
	docSGRules         = "https://docs.aws.amazon.com/vpc/latest/userguide/security-group-rules.html"
	docNACL            = "https://docs.aws.amazon.com/vpc/latest/userguide/nacl-rules.html"
	docRoutes          = "https://docs.aws.amazon.com/vpc/latest/userguide/VPC_Route_Tables.html"
	docEFSMount        = "https://docs.aws.amazon.com/efs/latest/ug/accessing-fs.html"
	docEndpoint        = "https://docs.aws.amazon.com/vpc/latest/privatelink/create-interface-endpoint.html"
)

// Interruptions lists, in the plan's order, every changed resource whose change a running
// service notices; creations and changes webtier knows to be harmless are left out.
func Interruptions(p *Plan) []Interruption {
	var out []Interruption
	for _, s := range p.Steps {
		effect, doc := effectOf(s)
		if effect == "" {
			continue
		}
		out = append(out, Interruption{Resource: s.Addr, Action: s.Action, Reason: s.Reason, ReplacePaths: s.ReplacePaths,
			Changed: s.Changed, Effect: effect, Doc: doc})
	}
	return out
}

// effectOf is what a step does to the running service, and the page; "" when nothing.
func effectOf(s Step) (string, string) {
	replaced := s.Action == ReplaceDestroy || s.Action == ReplaceCreate
	gone := replaced || s.Action == Delete
	window := "between its destruction and its replacement's creation"
	if s.Action == ReplaceCreate {
		window = "not at all: the new one exists first (create_before_destroy)"
	}
	switch s.Type {
	case "aws_launch_template":
		if s.Action == Update || replaced {
			return "a new template version: the group's instance refresh replaces every web server in batches, keeping min_healthy_percentage of the desired capacity in service (sessions on a replaced server end)", docInstanceRefresh
		}
	case "aws_autoscaling_group":
		if gone {
			return "every web server is terminated with the group; the site is down until the new group's servers pass the health checks", docASG
		}
	case "aws_db_instance":
		switch {
		case gone:
			return "a new database: the old one (and its data, unless restored from a final snapshot) is deleted, and the endpoint's name may change", docRDSModify
		case slices.Contains(s.Changed, "instance_class"):
			return "the class change restarts the database: Multi-AZ fails over to the standby (about 60-120 s of refused connections), at once with apply_immediately, else in the next maintenance window", docRDSModify
		case slices.Contains(s.Changed, "parameter_group_name"):
			return "a new parameter group: its static parameters take effect only after a reboot (the instance shows pending-reboot)", docRDSParams
		case slices.Contains(s.Changed, "engine_version"), slices.Contains(s.Changed, "allocated_storage"), slices.Contains(s.Changed, "storage_type"):
			return "changed settings: some restart the database (an engine upgrade does, on both instances), at once with apply_immediately, else in the next maintenance window", docRDSModify
		}
	case "aws_db_parameter_group":
		if s.Action == Update {
			return "dynamic parameters apply at once; static ones wait for a reboot of the database (pending-reboot)", docRDSParams
		}
		if gone {
			return "a new parameter group: the database moves to it on its next modification and reboot", docRDSParams
		}
	case "aws_lb":
		if gone {
			return "a new load balancer with a new DNS name: clients and DNS records (CNAME, alias) pointing at the old name stop working; the site is down " + window, docALB
		}
	case "aws_lb_listener":
		if gone {
			return "the listener's port refuses connections " + window, docListener
		}
	case "aws_lb_target_group":
		if gone {
			return "the listener forwards nowhere " + window + "; the new group's targets start unhealthy until they pass the health checks", docTargetGroup
		}
	case "aws_nat_gateway":
		if gone {
			return "the web servers of its subnets lose their way out (the route points at a deleted gateway: blackhole) " + window + "; connections through it drop, and a new Elastic IP means a new egress address", docNAT
		}
	case "aws_eip":
		if gone {
			return "a new public address: whatever allow-lists the old one (a repository, a partner's firewall) must follow", docEIP
		}
	case "aws_instance":
		switch {
		case gone:
			return "a new instance: a new public IP (the old one is released) and a new SSH host key (known_hosts must be updated); no SSH through it " + window, docInstanceAddr
		case slices.Contains(s.Changed, "instance_type"):
			return "the instance is stopped and started to change its type: down meanwhile, and its auto-assigned public IP changes", docResize
		}
	case "aws_security_group":
		if gone {
			return "its rules are gone " + window + ": every ENI that carries it loses what they allowed; AWS refuses to delete a group still in use (DependencyViolation)", docSG
		}
	case "aws_vpc_security_group_ingress_rule", "aws_vpc_security_group_egress_rule", "aws_security_group_rule":
		if gone {
			return "the connections it allows are refused " + window, docSGRules
		}
	case "aws_network_acl_rule":
		if gone {
			why := "the packets it allows are dropped " + window
			if slices.Contains(s.ReplacePaths, "rule_number") {
				why = "renumbered: a rule number cannot be changed, so the entry is replaced; " + why
			}
			return why, docNACL
		}
	case "aws_network_acl":
		if gone {
			return "its subnets fall back to the VPC's default network ACL (which allows everything) " + window, docNACL
		}
	case "aws_network_acl_association":
		if gone {
			return "the subnet falls back to the VPC's default network ACL (which allows everything) " + window, docNACL
		}
	case "aws_route_table_association":
		if gone {
			return "the subnet uses the VPC's main route table " + window, docRoutes
		}
		if s.Action == Update {
			return "the subnet moves to another route table at once (ReplaceRouteTableAssociation): its routes change with no gap", docRoutes
		}
	case "aws_route":
		if gone {
			return "traffic to " + fmt.Sprint(valueOf(s, "destination_cidr_block")) + " has no route " + window, docRoutes
		}
	case "aws_route_table":
		if gone {
			return "its subnets use the VPC's main route table " + window, docRoutes
		}
	case "aws_efs_mount_target":
		if gone {
			return "NFS mounts through it hang " + window + " (the new mount target's DNS name takes a while to resolve)", docEFSMount
		}
	case "aws_vpc_endpoint":
		if gone {
			return "what goes through the endpoint (the database secret, or the S3 downloads) fails " + window, docEndpoint
		}
	}
	return "", ""
}

// valueOf is an attribute's value before (else after) the change.
func valueOf(s Step, key string) any {
	if v, ok := s.Before[key]; ok && v != nil {
		return v
	}
	if v, ok := s.After[key]; ok && v != nil {
		return v
	}
	return "its destination"
}

// Summary counts a plan's steps: "1 to add, 2 to change, 1 to replace, 0 to destroy".
func (p *Plan) Summary() string {
	c := p.Counts()
	return fmt.Sprintf("%d to add, %d to change, %d to replace, %d to destroy", c[Create], c[Update], c[ReplaceDestroy]+c[ReplaceCreate], c[Delete])
}
