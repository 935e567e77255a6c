package verify

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// AWS Security Hub's controls that the stack meets by default, checked on the Terraform JSON:
// the load balancer's (ELB.1, ELB.5, ELB.6, ELB.16).

// controlShapes checks the controls of the internet-facing load balancers.
func (v *verifier) controlShapes(l *loader) []ShapeResult {
	return notReadWhenDeployed(v, v.controlRows(l), "load balancer attributes, listeners' actions, buckets and web ACLs")
}

// controlRows are the rows of controlShapes.
func (v *verifier) controlRows(l *loader) []ShapeResult {
	var logs, protection, redirect, waf []string
	for _, lb := range v.n.LBs {
		if lb.Internal {
			continue
		}
		r := v.n.stack.byAddr[lb.Addr]
		logs = append(logs, v.accessLogProblems(r)...)
		if on, _ := r.Attrs["enable_deletion_protection"].(bool); on == v.in.Throwaway {
			want := "on"
			if v.in.Throwaway {
				want = "off (database.throwaway)"
			}
			protection = append(protection, fmt.Sprintf("%s: enable_deletion_protection = %t; expected %s", r.Addr, on, want))
		}
		redirect = append(redirect, v.redirectProblems(lb)...)
		if v.in.WAF && !v.associated(r) {
			waf = append(waf, r.Addr+": no aws_wafv2_web_acl_association of a web ACL with it")
		}
	}
	out := []ShapeResult{
		shape(2, "ELB.5: the ALB's access logs go to an encrypted bucket of the stack that blocks public access and expires them", "ok", logs),
		shape(2, "ELB.6: the ALB's deletion protection on (off only with database.throwaway)", "ok", protection),
		shape(2, "ELB.1: with a certificate, HTTP redirects to HTTPS", "ok", redirect),
	}
	if v.in.WAF {
		out = append(out, shape(2, "ELB.16: a WAF web ACL with AWS's managed rule groups on the ALB", "ok", waf))
	}
	return out
}

// accessLogProblems checks the ALB's access_logs block and the bucket it names.
func (v *verifier) accessLogProblems(r *resource) []string {
	block, _ := r.Attrs["access_logs"].(map[string]any)
	if list, ok := r.Attrs["access_logs"].([]any); ok && len(list) == 1 {
		block, _ = list[0].(map[string]any)
	}
	if block == nil || block["enabled"] != true {
		return []string{r.Addr + ": access_logs not enabled"}
	}
	bucket, ok := refOf(block["bucket"])
	if !ok || !strings.HasPrefix(bucket.addr, "aws_s3_bucket.") {
		return []string{fmt.Sprintf("%s: access_logs.bucket = %s; expected a bucket of the stack", r.Addr, describeJSON(block["bucket"]))}
	}
	var p []string
	need := map[string]func(map[string]any) bool{
		"aws_s3_bucket_public_access_block": func(a map[string]any) bool {
			return a["block_public_acls"] == true && a["block_public_policy"] == true && a["ignore_public_acls"] == true && a["restrict_public_buckets"] == true
		},
		"aws_s3_bucket_server_side_encryption_configuration": func(a map[string]any) bool { return a["rule"] != nil },
		"aws_s3_bucket_lifecycle_configuration":              func(a map[string]any) bool { return a["rule"] != nil },
		"aws_s3_bucket_policy":                               func(a map[string]any) bool { return lbMayWrite(fmt.Sprint(a["policy"]), bucket) },
	}
	for _, typ := range []string{"aws_s3_bucket_public_access_block", "aws_s3_bucket_server_side_encryption_configuration",
		"aws_s3_bucket_lifecycle_configuration", "aws_s3_bucket_policy"} {
		found := false
		for _, x := range v.n.stack.byType[typ] {
			if t, ok := refOf(x.Attrs["bucket"]); ok && t.addr == bucket.addr && need[typ](x.Attrs) {
				found = true
			}
		}
		if !found {
			p = append(p, fmt.Sprintf("%s: no %s of it", bucket.addr, typ))
		}
	}
	return p
}

// redirectProblems: when the balancer has an HTTPS listener, each HTTP listener's default
// action redirects to HTTPS.
func (v *verifier) redirectProblems(lb *LoadBalancer) []string {
	var https bool
	var http []*resource
	for _, ls := range v.n.stack.byType["aws_lb_listener"] {
		if t, ok := refOf(ls.Attrs["load_balancer_arn"]); !ok || t.addr != lb.Addr {
			continue
		}
		switch ls.Attrs["protocol"] {
		case "HTTPS":
			https = true
		case "HTTP":
			http = append(http, ls)
		}
	}
	if !https {
		return nil
	}
	var p []string
	for _, ls := range http {
		actions, _ := ls.Attrs["default_action"].([]any)
		ok := len(actions) > 0
		for _, a := range actions {
			m, _ := a.(map[string]any)
			red, _ := m["redirect"].(map[string]any)
			if m["type"] != "redirect" || red == nil || red["protocol"] != "HTTPS" {
				ok = false
			}
		}
		if !ok {
			p = append(p, ls.Addr+": an HTTP listener beside an HTTPS one must redirect to HTTPS, not forward")
		}
	}
	return p
}

// associated reports whether a web ACL of the stack with every AWS managed rule group the
// stack's WAF needs is associated with the balancer r.
func (v *verifier) associated(r *resource) bool {
	for _, a := range v.n.stack.byType["aws_wafv2_web_acl_association"] {
		res, ok1 := refOf(a.Attrs["resource_arn"])
		acl, ok2 := refOf(a.Attrs["web_acl_arn"])
		if !ok1 || !ok2 || res.addr != r.Addr || v.n.stack.byAddr[acl.addr] == nil {
			continue
		}
		text := fmt.Sprint(v.n.stack.byAddr[acl.addr].Attrs["rule_json"])
		if hasManagedGroups(text) {
			return true
		}
	}
	return false
}

// lbMayWrite reports whether a bucket policy allows Elastic Load Balancing (the region's
// account, as a reference to the data source aws_elb_service_account, or the log-delivery
// service) s3:PutObject on objects of the bucket.
func lbMayWrite(doc string, bucket target) bool {
	statements, err := PolicyStatements(doc)
	if err != nil {
		return false
	}
	for _, st := range statements {
		if st["Effect"] != "Allow" || !slices.Contains(PolicyStrings(st["Action"]), "s3:PutObject") {
			continue
		}
		principal, _ := st["Principal"].(map[string]any)
		writer := slices.Contains(PolicyStrings(principal["Service"]), "logdelivery.elasticloadbalancing.amazonaws.com")
		for _, a := range PolicyStrings(principal["AWS"]) {
			if t, ok := refOf(a); ok && strings.HasPrefix(t.addr, "data.aws_elb_service_account.") {
				writer = true
			}
		}
		for _, res := range PolicyStrings(st["Resource"]) {
			if writer && strings.Contains(res, "${"+bucket.addr+".") && strings.HasSuffix(res, "/*") {
				return true
			}
		}
	}
	return false
}

// hasManagedGroups reports whether a web ACL's rules (its rule_json) use each of AWS's
// managed rule groups the stack's WAF needs, none of them overridden to count only.
func hasManagedGroups(text string) bool {
	var rules []struct {
		Statement struct {
			Managed *struct{ VendorName, Name string } `json:"ManagedRuleGroupStatement"`
		}
		OverrideAction map[string]any
	}
	if json.Unmarshal([]byte(text), &rules) != nil {
		return false
	}
	found := map[string]bool{}
	for _, r := range rules {
		if m := r.Statement.Managed; m != nil && m.VendorName == "AWS" && r.OverrideAction["Count"] == nil {
			found[m.Name] = true
		}
	}
	return found["AWSManagedRulesCommonRuleSet"] && found["AWSManagedRulesKnownBadInputsRuleSet"]
}

// dbControlShapes checks the database's controls: TLS required by its parameter group, a
// master user that is not RDS's default (RDS.25), storage autoscaling, enhanced monitoring
// (RDS.6) and the exported logs' groups made by the stack with the stack's retention.
func (v *verifier) dbControlShapes(l *loader) []ShapeResult {
	return notReadWhenDeployed(v, v.dbControlRows(l), "parameter groups, master user names, storage limits, monitoring and log groups")
}

// dbControlRows are the rows of dbControlShapes.
func (v *verifier) dbControlRows(l *loader) []ShapeResult {
	var tls, user, storage, monitoring, groups []string
	for _, db := range v.n.stack.byType["aws_db_instance"] {
		if !v.requiresTLS(db) {
			tls = append(tls, db.Addr+": its parameter group does not set require_secure_transport to 1")
		}
		if name, _ := db.Attrs["username"].(string); name == "" || name == "admin" {
			user = append(user, db.Addr+": username = "+describeJSON(db.Attrs["username"])+"; RDS's default admin name is the first an attacker tries")
		}
		alloc, _ := l.attr(db, "allocated_storage").integer()
		if most, ok := db.Attrs["max_allocated_storage"].(float64); !ok || int(most) <= alloc {
			storage = append(storage, db.Addr+": max_allocated_storage not above allocated_storage: storage autoscaling off")
		}
		if n, _ := db.Attrs["monitoring_interval"].(float64); n <= 0 {
			monitoring = append(monitoring, db.Addr+": monitoring_interval unset or 0: enhanced monitoring off")
		}
		id, _ := db.Attrs["identifier"].(string)
		for _, e := range l.attr(db, "enabled_cloudwatch_logs_exports").list() {
			export, _ := e.str()
			name := "/aws/rds/instance/" + id + "/" + export
			found := false
			for _, g := range v.n.stack.byType["aws_cloudwatch_log_group"] {
				if n, _ := g.Attrs["name"].(string); n == name {
					found = true
					if days, _ := l.attr(g, "retention_in_days").integer(); days != v.in.FlowLogRetentionDays {
						groups = append(groups, fmt.Sprintf("%s: retention_in_days = %d; the stack keeps logs %d days", g.Addr, days, v.in.FlowLogRetentionDays))
					}
					if !dependsOn(db, g.Addr) {
						groups = append(groups, fmt.Sprintf("%s does not depend on %s: RDS may make the group first, kept forever", db.Addr, g.Addr))
					}
				}
			}
			if !found {
				groups = append(groups, fmt.Sprintf("%s: no aws_cloudwatch_log_group %s: RDS makes it, kept forever and outside terraform", db.Addr, name))
			}
		}
	}
	return []ShapeResult{
		shape(5, "database: TLS required (require_secure_transport = 1 in its parameter group)", "ok", tls),
		shape(5, "RDS.25: the database's master user is not RDS's default", "ok", user),
		shape(5, "database storage autoscaling (max_allocated_storage above allocated_storage)", "ok", storage),
		shape(5, "RDS.6: enhanced monitoring on", "ok", monitoring),
		shape(5, fmt.Sprintf("the database's log groups made by the stack, kept %d days", v.in.FlowLogRetentionDays), "ok", groups),
	}
}

// requiresTLS reports whether the database's parameter group sets require_secure_transport.
func (v *verifier) requiresTLS(db *resource) bool {
	t, ok := refOf(db.Attrs["parameter_group_name"])
	if !ok || v.n.stack.byAddr[t.addr] == nil {
		return false
	}
	params, _ := v.n.stack.byAddr[t.addr].Attrs["parameter"].([]any)
	for _, p := range params {
		m, _ := p.(map[string]any)
		if m["name"] == "require_secure_transport" && (m["value"] == "1" || m["value"] == "ON" || m["value"] == 1.0) {
			return true
		}
	}
	return false
}

// dependsOn reports whether r's depends_on names addr.
func dependsOn(r *resource, addr string) bool {
	list, _ := r.Attrs["depends_on"].([]any)
	return slices.Contains(list, any(addr))
}
