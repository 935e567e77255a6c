package twin

import (
	"fmt"
	"slices"
	"time"
)

// ChangeReport is what a change did and what the visitors saw meanwhile.
type ChangeReport struct {
	Applied  time.Duration `json:"applied"`
	Launched []string      `json:"launched,omitempty"`
	Ended    []string      `json:"ended,omitempty"`
	// Services are the hosts whose services the new stack would change, which keep running
	// the old ones.
	Services []string `json:"services_not_restarted,omitempty"`
	// Flows are the prober's figures per ALB node.
	Flows []FlowFigures `json:"flows"`
}

// FlowFigures are one prober's requests: sent, failed, and the longest run of failures.
type FlowFigures struct {
	Flow       string        `json:"flow"`
	Sent       int           `json:"sent"`
	Failed     int           `json:"failed"`
	LongestGap time.Duration `json:"longest_gap"`
	// FirstError is the first failure's reason.
	FirstError string `json:"first_error,omitempty"`
}

// changedServices are the hosts both plans have whose services differ.
func changedServices(cur, next *Plan) []string {
	with := standIns{}
	old := map[string]*Spec{}
	for _, s := range cur.Specs(with) {
		old[s.Host] = s
	}
	var out []string
	for _, s := range next.Specs(with) {
		o := old[s.Host]
		if o == nil || s.ALB != nil {
			continue // a new host starts its own; the ALB nodes read their targets again
		}
		a, b := fmt.Sprintf("%+v", *o), fmt.Sprintf("%+v", *s)
		if a != b {
			out = append(out, s.Host)
		}
	}
	slices.Sort(out)
	return out
}
