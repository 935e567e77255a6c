package verify

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/webtier/webtier/check"
)

// Broken notification paths: each fails verify, naming the alarm (or the resource) at fault.
func TestAlarmMutations(t *testing.T) {
	data, in := defaultStack(t)
	const alarm = "aws_cloudwatch_metric_alarm"
	cases := []struct {
		name   string
		mutate func(m tf)
		want   expect
	}{
		{"the unhealthy-host alarm removed", func(m tf) { delete(m.of(alarm), "alb-unhealthy-hosts") },
			expect{kind: "shape", match: "alarm webtier-alb-unhealthy-hosts", names: "no aws_cloudwatch_metric_alarm watches AWS/ApplicationELB UnHealthyHostCount"}},
		{"the free-storage alarm watches another database", func(m tf) {
			m.of(alarm)["db-free-storage"].(map[string]any)["dimensions"] = map[string]any{"DBInstanceIdentifier": "some-other-db"}
		}, expect{kind: "shape", match: "alarm webtier-db-free-storage", names: `aws_cloudwatch_metric_alarm.db-free-storage: dimension DBInstanceIdentifier = "some-other-db"`}},
		{"the target 5xx alarm without its target group", func(m tf) {
			delete(m.of(alarm)["alb-target-5xx"].(map[string]any)["dimensions"].(map[string]any), "TargetGroup")
		}, expect{kind: "shape", match: "alarm webtier-alb-target-5xx", names: "aws_cloudwatch_metric_alarm.alb-target-5xx: no dimension TargetGroup"}},
		{"a NAT alarm on the other NAT gateway", func(m tf) {
			m.of(alarm)["nat-public-c-port-allocation"].(map[string]any)["dimensions"] = map[string]any{"NatGatewayId": ref("aws_nat_gateway.nat-public-a", "id")}
		}, expect{kind: "shape", match: "alarm webtier-nat-public-c-port-allocation", names: "dimension NatGatewayId"}},
		{"the CPU alarm notifies no one", func(m tf) { delete(m.of(alarm)["db-cpu"].(map[string]any), "alarm_actions") },
			expect{kind: "shape", match: "alarm webtier-db-cpu", names: "aws_cloudwatch_metric_alarm.db-cpu: alarm_actions do not notify aws_sns_topic.alarms"}},
		{"the CPU alarm's actions disabled", func(m tf) { m.of(alarm)["db-cpu"].(map[string]any)["actions_enabled"] = false },
			expect{kind: "shape", match: "alarm webtier-db-cpu", names: "actions_enabled = false"}},
		{"the response-time alarm on the wrong namespace", func(m tf) {
			m.of(alarm)["alb-target-response-time"].(map[string]any)["namespace"] = "AWS/ELB"
		}, expect{kind: "shape", match: "alarm webtier-alb-target-response-time", names: `namespace = "AWS/ELB"; expected "AWS/ApplicationELB"`}},
		{"too-few-healthy-hosts below 1 instead of the minimum", func(m tf) {
			m.of(alarm)["alb-healthy-hosts-low"].(map[string]any)["threshold"] = 1
		}, expect{kind: "shape", match: "alarm webtier-alb-healthy-hosts-low", names: "expected the group's minimum 2"}},
		{"the topic unencrypted", func(m tf) { delete(m.get(t, "aws_sns_topic", "alarms"), "kms_master_key_id") },
			expect{kind: "shape", match: "SNS topic webtier-alarms", names: "aws_sns_topic.alarms: kms_master_key_id = null"}},
		{"the email subscription removed", func(m tf) { delete(m.of("aws_sns_topic_subscription"), "alarms-email-0") },
			expect{kind: "shape", match: "SNS topic webtier-alarms", names: "alarm_emails[0] ops@example.com is not subscribed"}},
		{"the database's events without failover", func(m tf) {
			m.get(t, "aws_db_event_subscription", "db-events")["event_categories"] = []any{"failure", "low storage"}
		}, expect{kind: "shape", match: "RDS events", names: "aws_db_instance.db: its event subscription lacks the categories failover"}},
		{"the launch-failure rule without a target", func(m tf) { delete(m.of("aws_cloudwatch_event_target"), "launch-failed") },
			expect{kind: "shape", match: "EventBridge", names: "aws_autoscaling_group.web: no aws_cloudwatch_event_rule"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := decode(t, data)
			c.mutate(m)
			m.prune()
			failsAs(t, m, in, c.want)
		})
	}
}

// On a stack read back from AWS the alarms are not read: each row says so and is no pass.
func TestAlarmsNotReadWhenDeployed(t *testing.T) {
	data, in := defaultStack(t)
	s, err := parseStack(data)
	if err != nil {
		t.Fatal(err)
	}
	s.markDeployed() // the same stack, taken for one read back from AWS
	n, err := load(s, Deployed{})
	if err != nil {
		t.Fatal(err)
	}
	r := Verify(n, in)
	rows := 0
	for _, s := range r.Shapes {
		if strings.HasPrefix(s.Check, "alarm ") {
			rows++
			if s.Status != check.NotRead || !strings.HasPrefix(s.Observed, notRead) {
				t.Errorf("%s: expected %s, %q; got %s, %q", s.Check, check.NotRead, notRead, s.Status, s.Observed)
			}
		}
	}
	if rows != 13 {
		t.Errorf("expected the 13 alarm rows of the synthesized stack (9, and 2 for each of 2 NAT gateways), got %d", rows)
	}
}

func mustJSON(t *testing.T, m tf) []byte {
	t.Helper()
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}
