package verify

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/webtier/webtier/check"
)

// AWS Security Hub's controls that the stack meets by default, checked on the Terraform JSON:
// the load balancer's (ELB.1, ELB.5, ELB.6, ELB.16).

// controlShapes checks the controls of the internet-facing load balancers.
func (v *verifier) controlShapes() []check.Result {
	return notReadWhenDeployed(v, v.controlRows(), "load balancer attributes, listeners' actions, buckets and web ACLs")
}

// controlRows are the rows of controlShapes.
func (v *verifier) controlRows() []check.Result {
	var logs, protection, redirect, waf []string
	for _, lb := range v.n.LBs {
		if lb.Internal {
			continue
		}
		logs = append(logs, accessLogProblems(lb)...)
		if on := lb.DeletionProtection; on == v.in.Throwaway {
			want := "on"
			if v.in.Throwaway {
				want = "off (database.throwaway)"
			}
			protection = append(protection, fmt.Sprintf("%s: enable_deletion_protection = %t; expected %s", lb.Addr, on, want))
		}
		redirect = append(redirect, redirectProblems(lb)...)
		if v.in.WAF && !slices.ContainsFunc(lb.WebACLRules, hasManagedGroups) {
			waf = append(waf, lb.Addr+": no aws_wafv2_web_acl_association of a web ACL with it")
		}
	}
	out := []check.Result{
		shape(2, "ELB.5: the ALB's access logs go to an encrypted bucket of the stack that blocks public access and expires them", "ok", logs),
		shape(2, "ELB.6: the ALB's deletion protection on (off only with database.throwaway)", "ok", protection),
		shape(2, "ELB.1: with a certificate, HTTP redirects to HTTPS", "ok", redirect),
	}
	if v.in.WAF {
		out = append(out, shape(2, "ELB.16: a WAF web ACL with AWS's managed rule groups on the ALB", "ok", waf))
	}
	return out
}

// accessLogProblems checks the ALB's access logs and the bucket they go to.
func accessLogProblems(lb *LoadBalancer) []string {
	logs := lb.AccessLogs
	if logs == nil || !logs.Enabled {
		return []string{lb.Addr + ": access_logs not enabled"}
	}
	bucket := logs.Bucket
	if bucket == nil {
		return []string{fmt.Sprintf("%s: access_logs.bucket = %s; expected a bucket of the stack", lb.Addr, logs.BucketValue)}
	}
	var p []string
	for _, c := range []struct {
		typ string
		ok  bool
	}{
		{"aws_s3_bucket_public_access_block", bucket.PublicAccessBlocked},
		{"aws_s3_bucket_server_side_encryption_configuration", bucket.Encrypted},
		{"aws_s3_bucket_lifecycle_configuration", bucket.Expires},
		{"aws_s3_bucket_policy", slices.ContainsFunc(bucket.Policies, func(doc string) bool { return lbMayWrite(doc, bucket.Addr) })},
	} {
		if !c.ok {
			p = append(p, fmt.Sprintf("%s: no %s of it", bucket.Addr, c.typ))
		}
	}
	return p
}

// redirectProblems: when the balancer has an HTTPS listener, each HTTP listener's default
// action redirects to HTTPS.
func redirectProblems(lb *LoadBalancer) []string {
	if !slices.ContainsFunc(lb.Listeners, func(ls *Listener) bool { return ls.Protocol == "HTTPS" }) {
		return nil
	}
	var p []string
	for _, ls := range lb.Listeners {
		if ls.Protocol == "HTTP" && !ls.RedirectsToHTTPS {
			p = append(p, ls.Addr+": an HTTP listener beside an HTTPS one must redirect to HTTPS, not forward")
		}
	}
	return p
}

// lbMayWrite reports whether a bucket policy allows Elastic Load Balancing (the region's
// account, as a reference to the data source aws_elb_service_account, or the log-delivery
// service) s3:PutObject on objects of the bucket.
func lbMayWrite(doc string, bucket string) bool {
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
			if writer && strings.Contains(res, "${"+bucket+".") && strings.HasSuffix(res, "/*") {
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
func (v *verifier) dbControlShapes() []check.Result {
	return notReadWhenDeployed(v, v.dbControlRows(), "parameter groups, master user names, storage limits, monitoring and log groups")
}

// dbControlRows are the rows of dbControlShapes.
func (v *verifier) dbControlRows() []check.Result {
	var tls, user, storage, monitoring, groups []string
	for _, db := range v.n.DBInstances {
		if !requiresTLS(db) {
			tls = append(tls, db.Addr+": its parameter group does not set require_secure_transport to 1")
		}
		if db.Username == "" || db.Username == "admin" {
			user = append(user, db.Addr+": username = "+db.usernameValue+"; RDS's default admin name is the first an attacker tries")
		}
		if db.MaxStorage == 0 || db.MaxStorage <= db.Storage {
			storage = append(storage, db.Addr+": max_allocated_storage not above allocated_storage: storage autoscaling off")
		}
		if db.MonitoringInterval <= 0 {
			monitoring = append(monitoring, db.Addr+": monitoring_interval unset or 0: enhanced monitoring off")
		}
		for _, export := range db.LogExports {
			name := "/aws/rds/instance/" + db.Identifier + "/" + export
			found := false
			for _, g := range v.n.LogGroups {
				if g.HasName && g.Name == name {
					found = true
					if g.Retention != v.in.FlowLogRetentionDays {
						groups = append(groups, fmt.Sprintf("%s: retention_in_days = %d; the stack keeps logs %d days", g.Addr, g.Retention, v.in.FlowLogRetentionDays))
					}
					if !slices.Contains(db.DependsOn, g.Addr) {
						groups = append(groups, fmt.Sprintf("%s does not depend on %s: RDS may make the group first, kept forever", db.Addr, g.Addr))
					}
				}
			}
			if !found {
				groups = append(groups, fmt.Sprintf("%s: no aws_cloudwatch_log_group %s: RDS makes it, kept forever and outside terraform", db.Addr, name))
			}
		}
	}
	return []check.Result{
		shape(5, "database: TLS required (require_secure_transport = 1 in its parameter group)", "ok", tls),
		shape(5, "RDS.25: the database's master user is not RDS's default", "ok", user),
		shape(5, "database storage autoscaling (max_allocated_storage above allocated_storage)", "ok", storage),
		shape(5, "RDS.6: enhanced monitoring on", "ok", monitoring),
		shape(5, fmt.Sprintf("the database's log groups made by the stack, kept %d days", v.in.FlowLogRetentionDays), "ok", groups),
	}
}

// requiresTLS reports whether the database's parameter group sets require_secure_transport.
func requiresTLS(db *DBInstance) bool {
	if db.ParameterGroup == nil {
		return false
	}
	v := db.ParameterGroup.Parameters["require_secure_transport"]
	return v == "1" || v == "ON"
}
