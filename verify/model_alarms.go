package verify

import (
	"fmt"
	"strconv"
	"strings"
)

// The notification path as the model holds it (alarms.go checks it, the twin's stand-ins for
// CloudWatch and SNS evaluate it): metric alarms, the topics they notify, RDS event
// subscriptions and EventBridge rules. References are kept as the target they name (an
// address and an attribute): what an alarm's dimension must name is decided by the check.

// Alarm is a CloudWatch metric alarm as the stack declares it.
type Alarm struct {
	Addr string
	// Declared is the alarm as the twin's stand-in for CloudWatch evaluates it.
	Declared MetricAlarm
	// Name, Namespace, Metric, Stat (extended_statistic, else statistic) and Comparison are
	// the attributes as written.
	Name, Namespace, Metric, Stat, Comparison string
	// Dimensions are its dimensions by name.
	Dimensions map[string]Dimension
	// Threshold is the threshold as a whole number (ThresholdOK false when it is none);
	// thresholdText the value as written, for messages.
	Threshold     int
	ThresholdOK   bool
	thresholdText string
	// ActionsOff is true when actions_enabled is false; AlarmActions are the targets of its
	// alarm actions that are references.
	ActionsOff   bool
	AlarmActions []target
}

// Dimension is one dimension's value: the target it refers to (IsRef), else the value as
// written (for messages).
type Dimension struct {
	Ref   target
	IsRef bool
	Value string
}

// Topic is an SNS topic: its name, the KMS key of the stack it is encrypted with (nil: none
// of the stack; KeyValue is kms_master_key_id as written) and its email subscribers.
type Topic struct {
	Addr     string
	Name     string
	Key      *string
	KeyValue string
	Emails   []string
}

// DBEventSubscription is an RDS event subscription.
type DBEventSubscription struct {
	Addr string
	// Declared is the subscription as the twin's stand-in reads it, nil unless its
	// source_type is db-instance.
	Declared *EventSubscription
	// Topic is the target of sns_topic when it is a reference.
	Topic    target
	TopicRef bool
	// Off is true when enabled is false.
	Off        bool
	SourceType string
	// SourceIDs are the references among source_ids, of SourceCount entries in all.
	SourceIDs   []target
	SourceCount int
	// Categories are event_categories, each as text, CategoryCount the entries.
	Categories    []string
	CategoryCount int
}

// EventRule is an EventBridge rule: its event pattern and the targets (their arn references)
// of the event targets that name it.
type EventRule struct {
	Addr    string
	Pattern string
	Targets []target
}

// loadAlarms reads the notification path.
func (l *loader) loadAlarms() {
	q := &loader{s: l.s}
	n := l.n
	topicNames := func(r *resource, key string) []string {
		var out []string
		for _, t := range q.attr(r, key).refs("aws_sns_topic") {
			if name, ok := q.attr(t, "name").str(); ok {
				out = append(out, name)
			}
		}
		return out
	}
	q.each(func(r *resource) {
		a := &Alarm{Addr: r.Addr, Dimensions: map[string]Dimension{}}
		d := &a.Declared
		d.AlarmTopics, d.OKTopics = topicNames(r, "alarm_actions"), topicNames(r, "ok_actions")
		d.Name, _ = q.attr(r, "alarm_name").str()
		d.Namespace, _ = q.attr(r, "namespace").str()
		d.Metric, _ = q.attr(r, "metric_name").str()
		d.Statistic, _ = q.attr(r, "statistic").str()
		d.Comparison, _ = q.attr(r, "comparison_operator").str()
		d.Period, _ = q.attr(r, "period").integer()
		d.EvaluationPeriods, _ = q.attr(r, "evaluation_periods").integer()
		d.DatapointsToAlarm, _ = q.attr(r, "datapoints_to_alarm").integer()
		if d.DatapointsToAlarm == 0 {
			d.DatapointsToAlarm = d.EvaluationPeriods
		}
		switch t := r.Attrs["threshold"].(type) {
		case float64:
			d.Threshold = t
		case string:
			d.Threshold, _ = strconv.ParseFloat(t, 64)
		}
		a.Name, _ = r.Attrs["alarm_name"].(string)
		a.Namespace, _ = r.Attrs["namespace"].(string)
		a.Metric, _ = r.Attrs["metric_name"].(string)
		a.Stat, _ = r.Attrs["statistic"].(string)
		if ext, _ := r.Attrs["extended_statistic"].(string); ext != "" {
			a.Stat = ext
		}
		a.Comparison, _ = r.Attrs["comparison_operator"].(string)
		dims, _ := r.Attrs["dimensions"].(map[string]any)
		for k, v := range dims {
			t, isRef := refOf(v)
			a.Dimensions[k] = Dimension{Ref: t, IsRef: isRef, Value: describeJSON(v)}
		}
		a.Threshold, a.ThresholdOK = q.attr(r, "threshold").integer()
		a.thresholdText = fmt.Sprint(r.Attrs["threshold"])
		if enabled, set := r.Attrs["actions_enabled"].(bool); set && !enabled {
			a.ActionsOff = true
		}
		a.AlarmActions = refsOf(r.Attrs["alarm_actions"])
		n.Alarms = append(n.Alarms, a)
	}, "aws_cloudwatch_metric_alarm")
	q.each(func(r *resource) {
		t := &Topic{Addr: r.Addr, KeyValue: describeJSON(r.Attrs["kms_master_key_id"])}
		t.Name, _ = r.Attrs["name"].(string)
		t.Key = l.stackKey(r.Attrs["kms_master_key_id"])
		q.each(func(s *resource) {
			if ref, ok := refOf(s.Attrs["topic_arn"]); ok && ref == (target{r.Addr, "arn"}) && s.Attrs["protocol"] == "email" {
				e, _ := s.Attrs["endpoint"].(string)
				t.Emails = append(t.Emails, e)
			}
		}, "aws_sns_topic_subscription")
		n.Topics = append(n.Topics, t)
	}, "aws_sns_topic")
	q.each(func(r *resource) {
		s := &DBEventSubscription{Addr: r.Addr, Off: r.Attrs["enabled"] == false}
		s.Topic, s.TopicRef = refOf(r.Attrs["sns_topic"])
		s.SourceType, _ = r.Attrs["source_type"].(string)
		ids, _ := r.Attrs["source_ids"].([]any)
		s.SourceIDs, s.SourceCount = refsOf(ids), len(ids)
		cats, _ := r.Attrs["event_categories"].([]any)
		s.CategoryCount = len(cats)
		for _, c := range cats {
			if c, ok := c.(string); ok {
				s.Categories = append(s.Categories, c)
			}
		}
		if typ, _ := q.attr(r, "source_type").str(); typ == "db-instance" {
			d := &EventSubscription{}
			d.Name, _ = q.attr(r, "name").str()
			for _, c := range q.attr(r, "event_categories").list() {
				if v, ok := c.str(); ok {
					d.Categories = append(d.Categories, v)
				}
			}
			if t, _ := q.attr(r, "sns_topic").ref("aws_sns_topic"); t != nil {
				d.Topic, _ = q.attr(t, "name").str()
			}
			s.Declared = d
		}
		n.EventSubscriptions = append(n.EventSubscriptions, s)
	}, "aws_db_event_subscription")
	q.each(func(r *resource) {
		e := &EventRule{Addr: r.Addr}
		e.Pattern, _ = r.Attrs["event_pattern"].(string)
		q.each(func(t *resource) {
			if rule, _ := refOf(t.Attrs["rule"]); rule == (target{r.Addr, "name"}) {
				arn, _ := refOf(t.Attrs["arn"])
				e.Targets = append(e.Targets, arn)
			}
		}, "aws_cloudwatch_event_target")
		n.EventRules = append(n.EventRules, e)
	}, "aws_cloudwatch_event_rule")
}

// refsOf are the targets of the references in a list value.
func refsOf(v any) []target {
	list, _ := v.([]any)
	var out []target
	for _, x := range list {
		if t, ok := refOf(x); ok {
			out = append(out, t)
		}
	}
	return out
}

// stackKey is the address of the KMS key of the stack a key reference names (the key
// itself, or an alias of the stack whose target is a key of the stack), nil for anything else.
func (l *loader) stackKey(ref any) *string {
	t, ok := refOf(ref)
	switch {
	case !ok:
	case strings.HasPrefix(t.addr, "aws_kms_key."):
		if l.s.byAddr[t.addr] != nil {
			return &t.addr
		}
	case strings.HasPrefix(t.addr, "aws_kms_alias.") && l.s.byAddr[t.addr] != nil:
		key, ok := refOf(l.s.byAddr[t.addr].Attrs["target_key_id"])
		if ok && strings.HasPrefix(key.addr, "aws_kms_key.") && l.s.byAddr[key.addr] != nil {
			return &key.addr
		}
	}
	return nil
}
