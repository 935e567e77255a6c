package verify

import (
	"encoding/json"
	"fmt"
	"slices"

	"github.com/webtier/webtier/check"
)

// The security baseline: controls that decide no connection but that a reviewer of an AWS
// account expects, checked on the Terraform JSON (the live checks read them back too).

// baselineShapes checks the flow logs, the default security group and the database's log
// exports (EFS's refusal of connections without TLS is an authorization check).
func (v *verifier) baselineShapes() []check.Result {
	return []check.Result{v.flowLogShape(), v.defaultGroupShape(), v.dbLogsShape()}
}

// flowLogShape: every VPC has a flow log of ALL traffic into a CloudWatch Logs group with
// the configured retention, delivered by a role whose policies write to that group only.
func (v *verifier) flowLogShape() check.Result {
	check := fmt.Sprintf("VPC flow logs: ALL traffic to CloudWatch Logs, kept %d days, role writes to that group only", v.in.FlowLogRetentionDays)
	var problems []string
	for _, vpc := range v.n.VPCs {
		var found []string
		for _, r := range v.n.FlowLogs {
			if r.VPC != vpc.Addr {
				continue
			}
			if p := v.flowLogProblems(r); len(p) > 0 {
				problems = append(problems, p...)
				continue
			}
			found = append(found, r.Addr)
		}
		if len(found) == 0 && len(problems) == 0 {
			problems = append(problems, vpc.Addr+" has no aws_flow_log")
		}
	}
	return shape(7, check, "aws_flow_log of every VPC: ok", problems)
}

// flowLogProblems checks one flow log.
func (v *verifier) flowLogProblems(r *FlowLog) []string {
	var problems []string
	if r.TrafficType != "ALL" {
		problems = append(problems, fmt.Sprintf("%s: traffic_type = %q; ALL records accepted and rejected traffic", r.Addr, r.TrafficType))
	}
	if dest := r.DestinationType; dest != "" && dest != "cloud-watch-logs" {
		problems = append(problems, fmt.Sprintf("%s: log_destination_type = %q; expected cloud-watch-logs", r.Addr, dest))
	}
	group := r.Group
	if group == nil {
		problems = append(problems, r.Addr+": log_destination names no aws_cloudwatch_log_group of the stack")
	} else if group.Retention != v.in.FlowLogRetentionDays {
		problems = append(problems, fmt.Sprintf("%s: retention_in_days = %d; the config says %d", group.Addr, group.Retention, v.in.FlowLogRetentionDays))
	}
	role := r.Role
	if role == nil {
		return append(problems, r.Addr+": iam_role_arn names no aws_iam_role of the stack")
	}
	for _, a := range role.Attached {
		problems = append(problems, fmt.Sprintf("%s attaches a managed policy to %s; its inline policy must be all it may do", a.Addr, role.Addr))
	}
	for _, p := range role.Policies {
		if !v.n.Deployed && !v.n.createdAfter(v.waits, r.Addr, p.Addr) {
			problems = append(problems, fmt.Sprintf("%s is created without waiting for %s: a fresh flow log whose role may not yet write "+
				"fails to deliver (\"Unable to assume given IAM role\"); add it to depends_on", r.Addr, p.Addr))
		}
		if group != nil && !onlyOn(p.Text, group) {
			problems = append(problems, fmt.Sprintf("%s: the delivery role's policy must name %s and no other resource", p.Addr, group.Addr))
		}
	}
	if len(role.Policies) == 0 {
		problems = append(problems, role.Addr+" has no policy: the flow log cannot write")
	}
	return problems
}

// onlyOn reports whether an IAM policy grants on group (its ARN, and its streams) and on
// nothing else, statement by statement. The policy is JSON: read back from AWS, with the
// group's ARN; synthesized, with the reference ${ADDR.arn} in its place.
func onlyOn(text string, group *LogGroup) bool {
	var doc struct {
		Statement json.RawMessage
	}
	if err := json.Unmarshal([]byte(text), &doc); err != nil {
		return false
	}
	arn := group.ARN
	if arn == "" {
		arn = "${" + group.Addr + ".arn}"
	}
	var statements []map[string]any
	if json.Unmarshal(doc.Statement, &statements) != nil {
		var one map[string]any
		if json.Unmarshal(doc.Statement, &one) != nil {
			return false
		}
		statements = []map[string]any{one}
	}
	for _, st := range statements {
		if st["Effect"] != "Allow" {
			continue
		}
		resources, ok := st["Resource"].([]any)
		if !ok {
			resources = []any{st["Resource"]}
		}
		for _, r := range resources {
			if r != arn && r != arn+":*" {
				return false
			}
		}
	}
	return true
}

// defaultGroupShape: every VPC's default security group has no rule (CIS AWS Foundations
// 5.4). AWS gives it an allow-all-from-members ingress rule and an allow-all egress rule;
// only an aws_default_security_group without rules takes them away.
func (v *verifier) defaultGroupShape() check.Result {
	var problems []string
	for _, vpc := range v.n.VPCs {
		g := vpc.DefaultSG
		switch {
		case g == nil || !vpc.DefaultSGDeclared:
			problems = append(problems, vpc.Addr+": no aws_default_security_group; the default group keeps AWS's allow-all rules")
		case len(g.Ingress)+len(g.Egress) > 0:
			problems = append(problems, fmt.Sprintf("%s has %d rules; the default group must have none", g.Addr, len(g.Ingress)+len(g.Egress)))
		}
	}
	return shape(7, "default security group of the VPC has no rules (CIS 5.4)", "no rules", problems)
}

// dbLogsShape: every database exports its error and slow-query logs to CloudWatch Logs.
func (v *verifier) dbLogsShape() check.Result {
	var problems []string
	for _, db := range v.n.DBInstances {
		for _, want := range []string{"error", "slowquery"} {
			if !slices.Contains(db.LogExports, want) {
				problems = append(problems, fmt.Sprintf("%s: enabled_cloudwatch_logs_exports lacks %q", db.Addr, want))
			}
		}
	}
	return shape(5, "database logs (error, slowquery) exported to CloudWatch Logs", "error and slowquery exported", problems)
}
