package autoscale

import (
	"testing"

	"github.com/webtier/webtier/twin/standin"
	"github.com/webtier/webtier/verify"
)

// TestAlarmEvaluation: an alarm on the ALB's UnHealthyHostCount (Maximum over the nodes,
// above 0, 2 of 2 datapoints) goes to ALARM on the second breaching datapoint, not the first,
// and back to OK once no datapoint of its window breaches.
func TestAlarmEvaluation(t *testing.T) {
	s := &alarmState{alarm: verify.MetricAlarm{Namespace: "AWS/ApplicationELB", Metric: "UnHealthyHostCount", Statistic: "Maximum",
		Comparison: "GreaterThanThreshold", Threshold: 0, EvaluationPeriods: 2, DatapointsToAlarm: 2}}
	steps := []struct {
		counts []standin.TargetCounts
		want   string
	}{
		{[]standin.TargetCounts{{Healthy: 2, Unhealthy: 0}, {Healthy: 2, Unhealthy: 0}}, "OK"},
		{[]standin.TargetCounts{{Healthy: 1, Unhealthy: 1}, {Healthy: 2, Unhealthy: 0}}, ""},
		{[]standin.TargetCounts{{Healthy: 2, Unhealthy: 0}, {Healthy: 1, Unhealthy: 1}}, "ALARM"},
		{[]standin.TargetCounts{{Healthy: 1, Unhealthy: 1}, {Healthy: 1, Unhealthy: 1}}, ""},
		{[]standin.TargetCounts{{Healthy: 2, Unhealthy: 0}, {Healthy: 2, Unhealthy: 0}}, ""},
		{[]standin.TargetCounts{{Healthy: 2, Unhealthy: 0}, {Healthy: 2, Unhealthy: 0}}, "OK"},
	}
	for i, st := range steps {
		v, ok := metricValue(s.alarm, st.counts)
		if !ok {
			t.Fatalf("step %d: no value", i)
		}
		if got := s.observe(v); got != st.want {
			t.Errorf("step %d (value %v): changed to %q, want %q", i, v, got, st.want)
		}
	}
	healthy := verify.MetricAlarm{Metric: "HealthyHostCount", Statistic: "Minimum"}
	if v, _ := metricValue(healthy, []standin.TargetCounts{{Healthy: 2, Unhealthy: 0}, {Healthy: 1, Unhealthy: 1}}); v != 1 {
		t.Errorf("HealthyHostCount Minimum = %v, want 1", v)
	}
}
