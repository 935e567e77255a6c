package twin

import (
	"context"
	"time"

	"github.com/webtier/webtier/twin/compiler"
	"github.com/webtier/webtier/twin/probe"
)

// An instance refresh is package autoscale's (autoscale.Refresh); a change runs it with its
// steps applied here, each reported as the change's other steps are.

// reportedSteps applies the steps of an instance refresh during a change (Change), each a
// step of the change's report as its prober counts it: the flows from the servers that end
// stopped first, those from the servers launched started once they are.
type reportedSteps struct {
	exe   string
	probe *probe.Traffic
	r     *probe.ChangeReport
}

func (s reportedSteps) Apply(ctx context.Context, step string, from, next *compiler.Plan) (launched, ended []string, err error) {
	s.probe.Step(step)
	start := time.Now()
	s.probe.Leave(from, next)
	launched, ended, err = applyDifference(ctx, from, next, s.exe)
	if err == nil {
		err = s.probe.Join(next, launched)
	}
	s.r.Steps = append(s.r.Steps, probe.StepReport{Name: step, Applied: time.Since(start), Launched: launched, Ended: ended})
	s.r.Expected = append(s.r.Expected, probe.Expectations(next, step)...)
	if err != nil {
		return nil, nil, err
	}
	return launched, ended, savePlan(next)
}
