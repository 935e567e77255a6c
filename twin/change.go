package twin

import (
	"bytes"
	"encoding/json"
	"slices"
	"time"
)

// ChangeStep is one state a change passes through: its name and its stack.
type ChangeStep struct {
	Name  string
	Stack []byte
}

// ChangeReport is what a change did and what the visitors saw meanwhile.
type ChangeReport struct {
	Steps []StepReport `json:"steps"`
	// Services are the hosts whose services the new stack would change, which keep running
	// the old ones.
	Services []string `json:"services_not_restarted,omitempty"`
	// Flows are the prober's figures per step and flow: "before" the first step, "applying:
	// STEP" while a step's difference is applied, then the step's state.
	Flows []FlowFigures `json:"flows"`
	// InService is how many targets the ALB nodes had in service, step by step.
	InService []ServiceFigures `json:"in_service"`
	// Sessions are the SSH sessions held open through the change.
	Sessions []SessionFigures `json:"sessions,omitempty"`
}

// SessionFigures say whether an SSH session held open through a bastion survived the change,
// and if not, in which step it ended and why.
type SessionFigures struct {
	Session  string `json:"session"`
	Commands int    `json:"commands"`
	Survived bool   `json:"survived"`
	// LastAnswered is the step of the last command answered, EndedIn the step in which one
	// was not.
	LastAnswered string `json:"last_answered,omitempty"`
	EndedIn      string `json:"ended_in,omitempty"`
	Why      string `json:"why,omitempty"`
}

// ServiceFigures are the fewest and the most targets in service at an ALB node during one step
// (sampled every 100 ms; a node counts the targets it sends to).
type ServiceFigures struct {
	Step   string `json:"step"`
	Fewest int    `json:"fewest"`
	Most   int    `json:"most"`
}

// StepReport is one step applied: how long it took, the hosts it made and removed.
type StepReport struct {
	Name     string        `json:"name"`
	Applied  time.Duration `json:"applied"`
	Launched []string      `json:"launched,omitempty"`
	Ended    []string      `json:"ended,omitempty"`
}

// FlowFigures are one prober's requests during one step: sent, failed, and the longest run of
// failures.
type FlowFigures struct {
	Step       string        `json:"step"`
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
		// As the spec files hold them (the specs' pointers printed would always differ).
		a, _ := json.Marshal(o)
		b, _ := json.Marshal(s)
		if !bytes.Equal(a, b) {
			out = append(out, s.Host)
		}
	}
	slices.Sort(out)
	return out
}
