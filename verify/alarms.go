package verify

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/webtier/webtier/check"
	"github.com/webtier/webtier/rules"
)

// The alarms that page someone: each of rules.Alarms exists, watches the stack's own
// resource (the metric's namespace and name, every dimension naming the resource of its kind)
// and notifies the alarms' topic; the topic is encrypted and has the config's subscribers;
// the database's events and the group's failed launches reach it too.

// alarmReq is the requirement whose resources an alarm's namespace watches.
var alarmReq = map[string]int{"AWS/ApplicationELB": 2, "AWS/NATGateway": 3, "AWS/RDS": 5}

// alarmShapes checks the notification path of the stack.
func (v *verifier) alarmShapes() []check.Result {
	// The live reader does not read CloudWatch, SNS, RDS event subscriptions or EventBridge.
	return notReadWhenDeployed(v, v.alarmRows(), "alarms, topics, event subscriptions and event rules")
}

// notReadWhenDeployed turns each row into "not read" for a document read back from AWS whose
// reader does not read what the rows check: the same rows as the synthesized stack's, none
// judged, none a pass.
func notReadWhenDeployed(v *verifier, rows []check.Result, what string) []check.Result {
	if !v.n.Deployed {
		return rows
	}
	for i := range rows {
		rows[i].Status, rows[i].Observed = check.NotRead, notRead+": the live reader does not read "+what+" yet (not judged, not a pass)"
	}
	return rows
}

// alarmRows are the rows of alarmShapes.
func (v *verifier) alarmRows() []check.Result {
	topic, out := v.topicShape()
	want := v.alarmTargets()
	for _, a := range rules.Alarms {
		if !a.PerNAT() {
			out = append(out, v.alarmShape(a, "", want, topic))
			continue
		}
		for _, nat := range v.n.natGateways() {
			t := withTarget(want, rules.DimNATGateway, target{nat, "id"})
			out = append(out, v.alarmShape(a, strings.TrimPrefix(nat, "aws_nat_gateway."), t, topic))
		}
	}
	out = append(out, v.dbEventsShape(topic), v.launchFailedShape(topic))
	return out
}

// natGateways are the addresses of the stack's NAT gateways, in address order.
func (n *Network) natGateways() []string {
	var out []string
	for _, e := range n.Endpoints {
		if e.Kind == NATGateway && !slices.Contains(out, e.Res) {
			out = append(out, e.Res)
		}
	}
	slices.Sort(out)
	return out
}

// target is what a dimension must name: a resource of the stack and its attribute.
type target struct{ addr, attr string }

func (t target) String() string { return "${" + t.addr + "." + t.attr + "}" }

// withTarget is a copy of m in which the dimension key may name t only.
func withTarget(m map[string][]target, key string, t target) map[string][]target {
	out := maps.Clone(m)
	out[key] = []target{t}
	return out
}

// alarmTargets are, by dimension, the resources an alarm may name: the internet-facing load
// balancers and the target groups their listeners forward to, the database instances.
func (v *verifier) alarmTargets() map[string][]target {
	out := map[string][]target{}
	for _, lb := range v.n.LBs {
		if lb.Internal {
			continue
		}
		out[rules.DimLoadBalancer] = append(out[rules.DimLoadBalancer], target{lb.Addr, "arn_suffix"})
		for _, ls := range lb.Listeners {
			for _, g := range ls.Groups {
				t := target{g.Addr, "arn_suffix"}
				if !slices.Contains(out[rules.DimTargetGroup], t) {
					out[rules.DimTargetGroup] = append(out[rules.DimTargetGroup], t)
				}
			}
		}
	}
	for _, db := range v.n.DBInstances {
		out[rules.DimDBInstance] = append(out[rules.DimDBInstance], target{db.Addr, "identifier"})
	}
	return out
}

// refOf is the target a one-reference string names, or false for anything else.
func refOf(v any) (target, bool) {
	s, _ := v.(string)
	if !strings.HasPrefix(s, "${") || !strings.HasSuffix(s, "}") {
		return target{}, false
	}
	addr, attr, ok := parseRef(s[2 : len(s)-1])
	return target{addr, attr}, ok
}

// notifies reports whether a list of actions holds the topic's ARN.
func notifies(actions []target, topic *Topic) bool {
	return topic != nil && slices.Contains(actions, target{topic.Addr, "arn"})
}

// alarmShape checks one recommended alarm (for the NAT gateway nat, or "").
func (v *verifier) alarmShape(a rules.Alarm, nat string, want map[string][]target, topic *Topic) check.Result {
	natName := ""
	if nat != "" {
		natName = "nat-" + strings.TrimPrefix(nat, "nat-")
	}
	name := a.AlarmName(natName)
	check := fmt.Sprintf("alarm %s: %s %s of the stack's %s notifies %s", name, a.Namespace, a.Metric, strings.Join(a.Dimensions, ", "), rules.AlarmTopic)
	req := alarmReq[a.Namespace]
	var named *Alarm
	var closest []string
	for _, r := range v.n.Alarms {
		p := v.alarmProblems(r, a, want, topic)
		if len(p) == 0 {
			return shape(req, check, r.Addr+": ok", nil)
		}
		if r.Name == name {
			named, closest = r, p
		}
	}
	if named != nil {
		return shape(req, check, "", closest)
	}
	var of []string
	for _, d := range a.Dimensions {
		for _, t := range want[d] {
			of = append(of, t.String())
		}
	}
	return shape(req, check, "", []string{fmt.Sprintf("no aws_cloudwatch_metric_alarm watches %s %s of %s (expected %s)",
		a.Namespace, a.Metric, strings.Join(of, ", "), name)})
}

// alarmProblems are what keeps the alarm r from being the recommended alarm a.
func (v *verifier) alarmProblems(r *Alarm, a rules.Alarm, want map[string][]target, topic *Topic) []string {
	var p []string
	if ns := r.Namespace; ns != a.Namespace {
		p = append(p, fmt.Sprintf("%s: namespace = %q; expected %q", r.Addr, ns, a.Namespace))
	}
	if m := r.Metric; m != a.Metric {
		p = append(p, fmt.Sprintf("%s: metric_name = %q; expected %q", r.Addr, m, a.Metric))
	}
	dims := r.Dimensions
	for _, d := range a.Dimensions {
		got, set := dims[d]
		switch {
		case !set:
			p = append(p, fmt.Sprintf("%s: no dimension %s; expected one of %s", r.Addr, d, targetList(want[d])))
		case !got.IsRef || !slices.Contains(want[d], got.Ref):
			p = append(p, fmt.Sprintf("%s: dimension %s = %s; expected the stack's %s", r.Addr, d, got.Value, targetList(want[d])))
		}
	}
	for d := range dims {
		if !slices.Contains(a.Dimensions, d) {
			p = append(p, fmt.Sprintf("%s: dimension %s is not one of the metric's (%s): the alarm would watch no data", r.Addr, d, strings.Join(a.Dimensions, ", ")))
		}
	}
	if stat := r.Stat; stat != a.Statistic {
		p = append(p, fmt.Sprintf("%s: statistic %q; expected %q", r.Addr, stat, a.Statistic))
	}
	if op := r.Comparison; op != a.Comparison {
		p = append(p, fmt.Sprintf("%s: comparison_operator = %q; expected %q", r.Addr, op, a.Comparison))
	}
	if a.Metric == "HealthyHostCount" {
		if !r.ThresholdOK || r.Threshold != v.in.FleetMin {
			p = append(p, fmt.Sprintf("%s: threshold = %s; expected the group's minimum %d", r.Addr, r.thresholdText, v.in.FleetMin))
		}
	}
	if r.ActionsOff {
		p = append(p, r.Addr+": actions_enabled = false: it notifies no one")
	}
	if !notifies(r.AlarmActions, topic) {
		p = append(p, fmt.Sprintf("%s: alarm_actions do not notify %s", r.Addr, topicName(topic)))
	}
	return p
}

func targetList(list []target) string {
	if len(list) == 0 {
		return "(none in the stack)"
	}
	s := make([]string, len(list))
	for i, t := range list {
		s[i] = t.String()
	}
	return strings.Join(s, " or ")
}

func topicName(topic *Topic) string {
	if topic == nil {
		return "the alarms' topic (aws_sns_topic " + rules.AlarmTopic + ", missing)"
	}
	return topic.Addr
}

// topicShape finds the alarms' topic and checks that it is encrypted and that every address
// of the config is subscribed to it.
func (v *verifier) topicShape() (*Topic, []check.Result) {
	var topic *Topic
	for _, t := range v.n.Topics {
		if t.Name == rules.AlarmTopic {
			topic = t
		}
	}
	title := fmt.Sprintf("SNS topic %s: encrypted with a key of the stack, subscribed by alarm_emails", rules.AlarmTopic)
	if topic == nil {
		return nil, []check.Result{shape(2, title, "", []string{"no aws_sns_topic named " + rules.AlarmTopic + ": no alarm reaches anyone"})}
	}
	var p []string
	if topic.Key == nil {
		p = append(p, fmt.Sprintf("%s: kms_master_key_id = %s; expected a key of the stack (AWS's alias/aws/sns grants CloudWatch nothing)",
			topic.Addr, topic.KeyValue))
	}
	for i, e := range v.in.AlarmEmails {
		if !slices.Contains(topic.Emails, e) {
			p = append(p, fmt.Sprintf("alarm_emails[%d] %s is not subscribed to %s", i, e, topic.Addr))
		}
	}
	return topic, []check.Result{shape(2, title, fmt.Sprintf("%s: encrypted, %d email subscriptions", topic.Addr, len(v.in.AlarmEmails)), p)}
}

// dbEventsShape: an RDS event subscription sends every database's failover, failure and
// low-storage events to the topic.
func (v *verifier) dbEventsShape(topic *Topic) check.Result {
	check := fmt.Sprintf("RDS events (%s) of the database notify %s", strings.Join(rules.DBEventCategories, ", "), rules.AlarmTopic)
	var p []string
	for _, db := range v.n.DBInstances {
		id := target{db.Addr, "identifier"}
		var missing []string
		found := false
		for _, s := range v.n.EventSubscriptions {
			if !s.TopicRef || topic == nil || s.Topic != (target{topic.Addr, "arn"}) || s.Off || s.SourceType != "db-instance" {
				continue
			}
			if s.SourceCount > 0 && !slices.Contains(s.SourceIDs, id) {
				continue
			}
			missing = nil
			for _, c := range rules.DBEventCategories {
				if s.CategoryCount > 0 && !slices.Contains(s.Categories, c) {
					missing = append(missing, c)
				}
			}
			if len(missing) == 0 {
				found = true
				break
			}
		}
		switch {
		case found:
		case missing != nil:
			p = append(p, fmt.Sprintf("%s: its event subscription lacks the categories %s", db.Addr, strings.Join(missing, ", ")))
		default:
			p = append(p, fmt.Sprintf("%s: no aws_db_event_subscription of it notifies %s", db.Addr, topicName(topic)))
		}
	}
	return shape(5, check, "ok", p)
}

// launchFailedShape: an EventBridge rule matches the web servers' group's failed launches
// and targets the topic.
func (v *verifier) launchFailedShape(topic *Topic) check.Result {
	check := fmt.Sprintf("EventBridge: %q of the web servers' group notifies %s", rules.LaunchFailedEvent, rules.AlarmTopic)
	var p []string
	for _, asg := range v.n.Fleets {
		name := "${" + asg.Addr + ".name}"
		if asg.Name != "" {
			name = asg.Name
		}
		ok := false
		for _, rule := range v.n.EventRules {
			if matchesLaunchFailure(rule.Pattern, asg.Addr, name) && topic != nil && slices.Contains(rule.Targets, target{topic.Addr, "arn"}) {
				ok = true
			}
		}
		if !ok {
			p = append(p, fmt.Sprintf("%s: no aws_cloudwatch_event_rule for %q of it with a target on %s", asg.Addr, rules.LaunchFailedEvent, topicName(topic)))
		}
	}
	return shape(4, check, "ok", p)
}

// matchesLaunchFailure reports whether an event pattern matches Auto Scaling's launch
// failures of the group (named name, or by a reference to its address).
func matchesLaunchFailure(text, addr, name string) bool {
	var pat struct {
		Source     []string `json:"source"`
		DetailType []string `json:"detail-type"`
		Detail     struct {
			Group []string `json:"AutoScalingGroupName"`
		} `json:"detail"`
	}
	if json.Unmarshal([]byte(text), &pat) != nil {
		return false
	}
	group := len(pat.Detail.Group) == 0 || slices.Contains(pat.Detail.Group, name) || slices.Contains(pat.Detail.Group, "${"+addr+".name}")
	return slices.Contains(pat.Source, "aws.autoscaling") && slices.Contains(pat.DetailType, rules.LaunchFailedEvent) && group
}
