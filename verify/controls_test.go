package verify

import (
	"testing"

	"github.com/webtier/webtier/config"
)

// The load balancer's controls broken one at a time: each fails verify naming the resource.
func TestControlMutations(t *testing.T) {
	data, in := defaultStack(t)
	cases := []struct {
		name   string
		in     func(in *Intent)
		mutate func(m tf)
		want   expect
	}{
		{"access logs off", nil, func(m tf) {
			m.get(t, "aws_lb", "alb")["access_logs"].(map[string]any)["enabled"] = false
		}, expect{kind: "shape", match: "ELB.5", names: "aws_lb.alb: access_logs not enabled"}},
		{"the log bucket open to public policies", nil, func(m tf) {
			m.get(t, "aws_s3_bucket_public_access_block", "alb-logs")["block_public_policy"] = false
		}, expect{kind: "shape", match: "ELB.5", names: "aws_s3_bucket.alb-logs: no aws_s3_bucket_public_access_block"}},
		{"the log bucket's policy lets no load balancer write", nil, func(m tf) {
			m.get(t, "aws_s3_bucket_policy", "alb-logs")["policy"] = `{"Version":"2012-10-17","Statement":[]}`
		}, expect{kind: "shape", match: "ELB.5", names: "aws_s3_bucket.alb-logs: no aws_s3_bucket_policy"}},
		{"no deletion protection on a kept stack", func(in *Intent) { in.Throwaway = false }, nil,
			expect{kind: "shape", match: "ELB.6", names: "aws_lb.alb: enable_deletion_protection = false; expected on"}},
		{"TLS not required", nil, func(m tf) {
			pg := m.get(t, "aws_db_parameter_group", "db")
			var kept []any
			for _, p := range pg["parameter"].([]any) {
				if p.(map[string]any)["name"] != "require_secure_transport" {
					kept = append(kept, p)
				}
			}
			pg["parameter"] = kept
		}, expect{kind: "shape", match: "TLS required", names: "aws_db_instance.db: its parameter group does not set require_secure_transport"}},
		{"the default master user", nil, func(m tf) { m.get(t, "aws_db_instance", "db")["username"] = "admin" },
			expect{kind: "shape", match: "RDS.25", names: `aws_db_instance.db: username = "admin"`}},
		{"no storage autoscaling", nil, func(m tf) { delete(m.get(t, "aws_db_instance", "db"), "max_allocated_storage") },
			expect{kind: "shape", match: "storage autoscaling", names: "aws_db_instance.db: max_allocated_storage"}},
		{"no enhanced monitoring", nil, func(m tf) { delete(m.get(t, "aws_db_instance", "db"), "monitoring_interval") },
			expect{kind: "shape", match: "RDS.6", names: "aws_db_instance.db: monitoring_interval unset"}},
		{"the error log's group left to RDS", nil, func(m tf) { delete(m.of("aws_cloudwatch_log_group"), "db-error"); m.prune() },
			expect{kind: "shape", match: "log groups made by the stack", names: "no aws_cloudwatch_log_group /aws/rds/instance/webtier-db/error"}},
		{"the monitoring role open to any account", nil, func(m tf) {
			m.get(t, "aws_iam_role", "db-monitoring")["assume_role_policy"] = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"monitoring.rds.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
		}, expect{kind: "authorization", match: "refused the role for another account's database", names: "aws_iam_role.db-monitoring"}},
		{"a WAF asked for and absent", func(in *Intent) { in.WAF = true }, nil,
			expect{kind: "shape", match: "ELB.16", names: "aws_lb.alb: no aws_wafv2_web_acl_association"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := decode(t, data)
			if c.mutate != nil {
				c.mutate(m)
			}
			want := in
			if c.in != nil {
				c.in(&want)
			}
			failsAs(t, m, want, c.want)
		})
	}
}

// With a certificate, an HTTP listener that forwards instead of redirecting fails ELB.1.
func TestHTTPForwardBesideHTTPSFails(t *testing.T) {
	data, in := variantStack(t, "testdata/https.tf.json", func(c *config.Config) {
		c.CertificateARN = "arn:aws:acm:ap-northeast-2:123456789012:certificate/abc"
	})
	m := decode(t, data)
	http := m.get(t, "aws_lb_listener", "http")
	http["default_action"] = []any{map[string]any{"type": "forward", "target_group_arn": ref("aws_lb_target_group.web", "arn")}}
	failsAs(t, m, in, expect{kind: "shape", match: "ELB.1", names: "aws_lb_listener.http: an HTTP listener beside an HTTPS one must redirect"})
}
