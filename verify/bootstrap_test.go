package verify

import (
	"strings"
	"testing"
)

// TestFailoverShape: the example stack's web servers keep the health page out of the pool
// /db.php fills and bound db.php's connection wait; the defect (one pool, PHP's 60 s
// default) and two near misses fail the check, naming what to change.
func TestFailoverShape(t *testing.T) {
	data, in := defaultStack(t)
	r := verifyBytes(t, data, in)
	found := false
	for _, s := range r.Shapes {
		if strings.HasPrefix(s.Check, "a database failover takes no web server out of service") {
			found = true
			if !s.Passed() || s.Observed != `/healthz.php in pool "health", /db.php in "www", connect timeout 3 s` {
				t.Errorf("the example stack: %+v", s)
			}
		}
	}
	if !found {
		t.Fatal("verify ran no failover check")
	}
	userData := func(edit func(string) string) func(t *testing.T, m tf) {
		return func(t *testing.T, m tf) {
			lt := m.get(t, "aws_launch_template", "web")
			text := lt["user_data"].(string)
			edited := edit(text)
			if edited == text {
				t.Fatal("the edit changed nothing: the user data changed, update the test")
			}
			lt["user_data"] = edited
		}
	}
	for _, c := range []struct {
		name   string
		mutate func(t *testing.T, m tf)
		says   string
	}{
		{"the health page in the site's pool (the issue's defect)", userData(func(s string) string {
			return strings.Replace(s, "SetHandler", "# SetHandler", 1)
		}), `the health-check page /healthz.php runs in PHP-FPM's pool "www" with /db.php`},
		{"no connect timeout (PHP's 60 s)", userData(func(s string) string {
			return strings.Replace(s, "$db->options(MYSQLI_OPT_CONNECT_TIMEOUT, 3);", "", 1)
		}), "MYSQLI_OPT_CONNECT_TIMEOUT is not set: PHP's default_socket_timeout, 60 s"},
		{"a connect timeout of 60 s", userData(func(s string) string {
			return strings.Replace(s, "MYSQLI_OPT_CONNECT_TIMEOUT, 3", "MYSQLI_OPT_CONNECT_TIMEOUT, 60", 1)
		}), "MYSQLI_OPT_CONNECT_TIMEOUT is 60 s"},
		{"the health pool listening elsewhere than httpd sends", userData(func(s string) string {
			return strings.Replace(s, "listen = /run/php-fpm/health.sock", "listen = /run/php-fpm/other.sock", 1)
		}), `runs in PHP-FPM's pool "www"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := decode(t, data)
			c.mutate(t, m)
			failsAs(t, m, in, expect{kind: "shape", match: "a database failover takes no web server out of service", names: c.says})
		})
	}
}

// TestCreationOrder: the flow log waits for its role's policy and the web servers' group for
// its role's policies and the mount targets; a stack that forgets one (issue 17's third
// defect: the flow log raced its role) fails naming both resources.
func TestCreationOrder(t *testing.T) {
	data, in := defaultStack(t)
	without := func(typ, name, dep string) func(t *testing.T, m tf) {
		return func(t *testing.T, m tf) {
			r := m.get(t, typ, name)
			deps, _ := r["depends_on"].([]any)
			kept := []any{}
			for _, d := range deps {
				if d != dep {
					kept = append(kept, d)
				}
			}
			if len(kept) == len(deps) {
				t.Fatalf("%s.%s does not depend on %s: update the test", typ, name, dep)
			}
			r["depends_on"] = kept
		}
	}
	for _, c := range []struct {
		name   string
		mutate func(t *testing.T, m tf)
		want   expect
	}{
		{"the flow log without its role's policy", without("aws_flow_log", "vpc", "aws_iam_role_policy.flow-logs-write"),
			expect{kind: "shape", match: "VPC flow logs", names: "aws_flow_log.vpc is created without waiting for aws_iam_role_policy.flow-logs-write"}},
		{"the group without the mount policy", without("aws_autoscaling_group", "web", "aws_iam_role_policy.web-mount-shared-fs"),
			expect{kind: "shape", match: "created after its role's policies", names: "aws_autoscaling_group.web is created without waiting for aws_iam_role_policy.web-mount-shared-fs"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := decode(t, data)
			c.mutate(t, m)
			failsAs(t, m, in, c.want)
		})
	}
}
