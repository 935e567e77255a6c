package verify

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
	var out []MetricAlarm
	for _, a := range n.Alarms {
		out = append(out, a.Declared)
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
	var out []EventSubscription
	for _, s := range n.EventSubscriptions {
		if s.Declared != nil {
			out = append(out, *s.Declared)
		}
	}
	return out
}
