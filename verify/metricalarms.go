package verify

import "strconv"

// MetricAlarm is a CloudWatch metric alarm of a synthesized stack as it is declared, with the
// names of the topics it notifies: what the twin's stand-in for CloudWatch evaluates.
type MetricAlarm struct {
	Name       string  `json:"name"`
	Namespace  string  `json:"namespace"`
	Metric     string  `json:"metric"`
	Statistic  string  `json:"statistic"`
	Comparison string  `json:"comparison"`
	Threshold  float64 `json:"threshold"`
	// Period is in seconds; an alarm goes to ALARM when DatapointsToAlarm of the last
	// EvaluationPeriods periods breach.
	Period            int `json:"period"`
	EvaluationPeriods int `json:"evaluation_periods"`
	DatapointsToAlarm int `json:"datapoints_to_alarm"`
	// AlarmTopics and OKTopics are the names of the SNS topics of the stack its alarm and OK
	// actions name.
	AlarmTopics []string `json:"alarm_topics,omitempty"`
	OKTopics    []string `json:"ok_topics,omitempty"`
}

// MetricAlarms are the stack's metric alarms (none of a deployed stack: the live reader does
// not read alarms).
func (n *Network) MetricAlarms() []MetricAlarm {
	l := &loader{s: n.stack}
	topics := func(r *resource, key string) []string {
		var out []string
		for _, t := range l.attr(r, key).refs("aws_sns_topic") {
			if name, ok := l.attr(t, "name").str(); ok {
				out = append(out, name)
			}
		}
		return out
	}
	var out []MetricAlarm
	for _, r := range n.stack.byType["aws_cloudwatch_metric_alarm"] {
		a := MetricAlarm{AlarmTopics: topics(r, "alarm_actions"), OKTopics: topics(r, "ok_actions")}
		a.Name, _ = l.attr(r, "alarm_name").str()
		a.Namespace, _ = l.attr(r, "namespace").str()
		a.Metric, _ = l.attr(r, "metric_name").str()
		a.Statistic, _ = l.attr(r, "statistic").str()
		a.Comparison, _ = l.attr(r, "comparison_operator").str()
		a.Period, _ = l.attr(r, "period").integer()
		a.EvaluationPeriods, _ = l.attr(r, "evaluation_periods").integer()
		a.DatapointsToAlarm, _ = l.attr(r, "datapoints_to_alarm").integer()
		if a.DatapointsToAlarm == 0 {
			a.DatapointsToAlarm = a.EvaluationPeriods
		}
		switch t := r.Attrs["threshold"].(type) {
		case float64:
			a.Threshold = t
		case string:
			a.Threshold, _ = strconv.ParseFloat(t, 64)
		}
		out = append(out, a)
	}
	return out
}

// Breaches reports whether a value breaches the alarm's threshold.
func (a MetricAlarm) Breaches(v float64) bool {
	switch a.Comparison {
	case "GreaterThanThreshold":
		return v > a.Threshold
	case "GreaterThanOrEqualToThreshold":
		return v >= a.Threshold
	case "LessThanThreshold":
		return v < a.Threshold
	case "LessThanOrEqualToThreshold":
		return v <= a.Threshold
	}
	return false
}

// EventSubscription is an RDS event subscription of a synthesized stack: the categories of its
// databases' events it sends to a topic (by name).
type EventSubscription struct {
	Name       string   `json:"name"`
	Categories []string `json:"categories"`
	Topic      string   `json:"topic"`
}

// DBEventSubscriptions are the stack's RDS event subscriptions on its database instances
// (none of a deployed stack: the live reader does not read them).
func (n *Network) DBEventSubscriptions() []EventSubscription {
	l := &loader{s: n.stack}
	var out []EventSubscription
	for _, r := range n.stack.byType["aws_db_event_subscription"] {
		if typ, _ := l.attr(r, "source_type").str(); typ != "db-instance" {
			continue
		}
		s := EventSubscription{}
		s.Name, _ = l.attr(r, "name").str()
		for _, c := range l.attr(r, "event_categories").list() {
			if v, ok := c.str(); ok {
				s.Categories = append(s.Categories, v)
			}
		}
		if t, _ := l.attr(r, "sns_topic").ref("aws_sns_topic"); t != nil {
			s.Topic, _ = l.attr(t, "name").str()
		}
		out = append(out, s)
	}
	return out
}
