package verify

import (
	"fmt"
	"strconv"
	"strings"
)

// What the controls of AWS Security Hub read (controls.go), on a load balancer, its listeners
// and its access-log bucket, and on a database instance.

// AccessLogs is a load balancer's access_logs block: Enabled, and the bucket it names (nil
// when the value is not a reference to an aws_s3_bucket of the stack; BucketValue is the value
// as written, for messages).
type AccessLogs struct {
	Enabled     bool
	Bucket      *Bucket
	BucketValue string
}

// Bucket is an S3 bucket of the stack and what its configuration resources set: a public
// access block with all four blocks on, a server-side encryption rule, a lifecycle rule, and
// its policies' texts.
type Bucket struct {
	Addr                string
	PublicAccessBlocked bool
	Encrypted, Expires  bool
	Policies            []string
}

// DBParameterGroup is a database parameter group: each parameter's value as text.
type DBParameterGroup struct {
	Addr       string
	Parameters map[string]string
}

// loadControls reads what the controls check, on the load balancers and database instances
// the model holds.
func (l *loader) loadControls() {
	q := &loader{s: l.s}
	n := l.n
	buckets := map[string]*Bucket{}
	q.each(func(r *resource) { buckets[r.Addr] = &Bucket{Addr: r.Addr} }, "aws_s3_bucket")
	forBucket := func(r *resource) *Bucket {
		if t, ok := refOf(r.Attrs["bucket"]); ok {
			return buckets[t.addr]
		}
		return nil
	}
	q.each(func(r *resource) {
		a := r.Attrs
		if b := forBucket(r); b != nil && a["block_public_acls"] == true && a["block_public_policy"] == true && a["ignore_public_acls"] == true && a["restrict_public_buckets"] == true {
			b.PublicAccessBlocked = true
		}
	}, "aws_s3_bucket_public_access_block")
	q.each(func(r *resource) {
		if b := forBucket(r); b != nil && r.Attrs["rule"] != nil {
			b.Encrypted = true
		}
	}, "aws_s3_bucket_server_side_encryption_configuration")
	q.each(func(r *resource) {
		if b := forBucket(r); b != nil && r.Attrs["rule"] != nil {
			b.Expires = true
		}
	}, "aws_s3_bucket_lifecycle_configuration")
	q.each(func(r *resource) {
		if b := forBucket(r); b != nil {
			b.Policies = append(b.Policies, fmt.Sprint(r.Attrs["policy"]))
		}
	}, "aws_s3_bucket_policy")
	for _, lb := range n.LBs {
		r := l.s.byAddr[lb.Addr]
		if r == nil {
			continue // built from a deployed stack's answers: no Terraform settings
		}
		lb.DeletionProtection, _ = r.Attrs["enable_deletion_protection"].(bool)
		block, _ := r.Attrs["access_logs"].(map[string]any)
		if list, ok := r.Attrs["access_logs"].([]any); ok && len(list) == 1 {
			block, _ = list[0].(map[string]any)
		}
		if block != nil {
			lb.AccessLogs = &AccessLogs{Enabled: block["enabled"] == true, BucketValue: describeJSON(block["bucket"])}
			if t, ok := refOf(block["bucket"]); ok && strings.HasPrefix(t.addr, "aws_s3_bucket.") {
				lb.AccessLogs.Bucket = buckets[t.addr]
			}
		}
		q.each(func(a *resource) {
			res, ok1 := refOf(a.Attrs["resource_arn"])
			acl, ok2 := refOf(a.Attrs["web_acl_arn"])
			if t := l.s.byAddr[acl.addr]; ok1 && ok2 && t != nil && res.addr == lb.Addr {
				lb.WebACLRules = append(lb.WebACLRules, fmt.Sprint(t.Attrs["rule_json"]))
			}
		}, "aws_wafv2_web_acl_association")
		for _, ls := range lb.Listeners {
			r := l.s.byAddr[ls.Addr]
			ls.Protocol, _ = r.Attrs["protocol"].(string)
			actions, _ := r.Attrs["default_action"].([]any)
			ls.RedirectsToHTTPS = len(actions) > 0
			for _, a := range actions {
				m, _ := a.(map[string]any)
				red, _ := m["redirect"].(map[string]any)
				if m["type"] != "redirect" || red == nil || red["protocol"] != "HTTPS" {
					ls.RedirectsToHTTPS = false
				}
			}
		}
	}
	params := map[string]*DBParameterGroup{}
	q.each(func(r *resource) {
		g := &DBParameterGroup{Addr: r.Addr, Parameters: map[string]string{}}
		list, _ := r.Attrs["parameter"].([]any)
		for _, p := range list {
			m, _ := p.(map[string]any)
			name, _ := m["name"].(string)
			switch v := m["value"].(type) {
			case string:
				g.Parameters[name] = v
			case float64:
				g.Parameters[name] = strconv.FormatFloat(v, 'g', -1, 64)
			}
		}
		params[r.Addr] = g
	}, "aws_db_parameter_group")
	for _, db := range n.DBInstances {
		r := l.s.byAddr[db.Addr]
		if r == nil {
			continue // built from a deployed stack's answers: no Terraform settings
		}
		db.Username, _ = r.Attrs["username"].(string)
		db.usernameValue = describeJSON(r.Attrs["username"])
		db.Storage, _ = q.attr(r, "allocated_storage").integer()
		if most, ok := r.Attrs["max_allocated_storage"].(float64); ok {
			db.MaxStorage = int(most)
		}
		db.MonitoringInterval, _ = r.Attrs["monitoring_interval"].(float64)
		if t, ok := refOf(r.Attrs["parameter_group_name"]); ok {
			db.ParameterGroup = params[t.addr]
		}
		list, _ := r.Attrs["depends_on"].([]any)
		for _, d := range list {
			if s, ok := d.(string); ok {
				db.DependsOn = append(db.DependsOn, s)
			}
		}
	}
}
