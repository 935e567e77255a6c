package autoscale

import (
	"fmt"
	"time"

	"github.com/webtier/webtier/rules"
	"github.com/webtier/webtier/twin/compiler"
	"github.com/webtier/webtier/twin/standin"
	"github.com/webtier/webtier/verify"
)

// CloudWatch's alarms and SNS in the twin, for the alarms on what the twin measures: the ALB's
// HealthyHostCount and UnHealthyHostCount (each node writes its counts, TargetCounts). The
// Auto Scaling controller (Run) stands in for CloudWatch: every datapoint (AWS's minute divided as
// its own are) it takes each such alarm's metric with the alarm's statistic over the nodes,
// and an alarm goes to ALARM when DatapointsToAlarm of its last EvaluationPeriods breach (a
// period of a minute or less is one datapoint), back to OK when none does. Each change is
// published to the topics of its actions through the twin's SNS stand-in (standin.Send: a
// line in the state directory's standin.SNSLog). The other alarms of the stack (the
// database's, the NAT gateways') are not evaluated.

// twinMetric reports whether the twin measures an alarm's metric.
func twinMetric(a verify.MetricAlarm) bool {
	return a.Namespace == "AWS/ApplicationELB" && (a.Metric == "HealthyHostCount" || a.Metric == "UnHealthyHostCount")
}

// alarmState is one alarm's evaluation.
type alarmState struct {
	alarm  verify.MetricAlarm
	recent []bool
	state  string
}

// observe takes one datapoint and returns the alarm's new state when it changed, else "".
func (s *alarmState) observe(v float64) string {
	s.recent = append(s.recent, s.alarm.Breaches(v))
	if n := max(s.alarm.EvaluationPeriods, 1); len(s.recent) > n {
		s.recent = s.recent[len(s.recent)-n:]
	}
	breaching := 0
	for _, b := range s.recent {
		if b {
			breaching++
		}
	}
	next := s.state
	switch {
	case breaching >= max(s.alarm.DatapointsToAlarm, 1):
		next = "ALARM"
	case breaching == 0:
		next = "OK"
	}
	if next == s.state {
		return ""
	}
	s.state = next
	return next
}

// metricValue is an ALB host-count metric with the alarm's statistic over the nodes' counts.
func metricValue(a verify.MetricAlarm, counts []standin.TargetCounts) (float64, bool) {
	if len(counts) == 0 {
		return 0, false
	}
	var vals []float64
	for _, c := range counts {
		v := c.Healthy
		if a.Metric == "UnHealthyHostCount" {
			v = c.Unhealthy
		}
		vals = append(vals, float64(v))
	}
	out := vals[0]
	for _, v := range vals[1:] {
		switch a.Statistic {
		case "Minimum":
			out = min(out, v)
		case "Sum", "Average":
			out += v
		default: // Maximum
			out = max(out, v)
		}
	}
	if a.Statistic == "Average" {
		out /= float64(len(vals))
	}
	return out, true
}

// publish records a change of an alarm's state on each topic its actions name (the OK
// actions' topics for OK).
func publish(state string, s *alarmState, v float64) error {
	topics := s.alarm.AlarmTopics
	if s.state == "OK" {
		topics = s.alarm.OKTopics
	}
	var out []standin.Notification
	for _, t := range topics {
		out = append(out, standin.Notification{At: time.Now(), Topic: t, Alarm: s.alarm.Name, State: s.state,
			Reason: fmt.Sprintf("%s %s %v: %d of the last %d datapoints breaching (the twin's CloudWatch stand-in)",
				s.alarm.Metric, s.alarm.Statistic, v, s.alarm.DatapointsToAlarm, s.alarm.EvaluationPeriods)})
	}
	return standin.Send(state, out)
}

// evaluateAlarms takes one datapoint of each alarm on the ALB nodes' counts and publishes each
// change of state.
func evaluateAlarms(p *compiler.Plan, alarms []*alarmState) error {
	var counts []standin.TargetCounts
	dir := compiler.StateDir(p.Prefix)
	for _, h := range p.HostsOfRole(rules.ALB) {
		if c, ok := readCounts(dir, h.Name); ok {
			counts = append(counts, c)
		}
	}
	for _, s := range alarms {
		v, ok := metricValue(s.alarm, counts)
		if !ok {
			continue
		}
		if s.observe(v) != "" {
			if err := publish(dir, s, v); err != nil {
				return err
			}
		}
	}
	return nil
}
