// Package change reads a terraform plan (`terraform show -json`) for what its apply does to a
// running web tier: the states the network passes through on the way from the base stack
// to the head (judged by verify.Diff), and what each changed resource interrupts, with the
// AWS page that says so. Plain Go: no cdktf or jsii import.
package change

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	tfjson "github.com/hashicorp/terraform-json"
)

// Action is what the apply does to one resource.
type Action string

// Actions. A replacement is destroy-first unless the resource has create_before_destroy,
// which the plan writes as the actions ["create", "delete"].
const (
	Create         Action = "create"
	Update         Action = "update"
	Delete         Action = "delete"
	ReplaceDestroy Action = "replace (destroy first)"
	ReplaceCreate  Action = "replace (create first)"
)

// Step is one managed resource the apply changes.
type Step struct {
	Addr   string
	Type   string
	Action Action
	// Reason is the plan's action_reason ("replace_because_cannot_update", ...), or "".
	Reason string
	// ReplacePaths are the attributes that force the replacement ("rule_number").
	ReplacePaths []string
	// Changed are the top-level attributes whose value changes (for an update).
	Changed []string
	// Before and After are the resource's values before and after (nil when absent).
	Before, After map[string]any
}

// Plan is a terraform plan read for its steps, in the plan's order.
type Plan struct {
	Raw   *tfjson.Plan
	Steps []Step
}

// Read parses `terraform show -json` output. An unreadable or foreign document is an error
// naming what was expected.
func Read(data []byte) (*Plan, error) {
	var p tfjson.Plan
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, fmt.Errorf("not a terraform plan (expected the output of `terraform show -json PLANFILE`): %w", err)
	}
	return FromPlan(&p)
}

// FromPlan reads the steps of a decoded plan.
func FromPlan(p *tfjson.Plan) (*Plan, error) {
	out := &Plan{Raw: p}
	for i, rc := range p.ResourceChanges {
		if rc == nil || rc.Change == nil || rc.Mode != tfjson.ManagedResourceMode {
			continue
		}
		a, err := actionOf(rc.Change.Actions)
		if err != nil {
			return nil, fmt.Errorf("resource_changes[%d] (%s): %w", i, rc.Address, err)
		}
		if a == "" {
			continue
		}
		s := Step{Addr: rc.Address, Type: rc.Type, Action: a, Reason: string(rc.ActionReason)}
		s.Before, _ = rc.Change.Before.(map[string]any)
		s.After, _ = rc.Change.After.(map[string]any)
		s.ReplacePaths = paths(rc.Change.ReplacePaths)
		if a == Update || a == ReplaceDestroy || a == ReplaceCreate {
			s.Changed = changed(s.Before, s.After, rc.Change.AfterUnknown)
		}
		out.Steps = append(out.Steps, s)
	}
	return out, nil
}

// actionOf reads a change's actions; "" for no-op and read.
func actionOf(list tfjson.Actions) (Action, error) {
	switch {
	case list.NoOp(), list.Read():
		return "", nil
	case list.Create():
		return Create, nil
	case list.Update():
		return Update, nil
	case list.Delete():
		return Delete, nil
	case list.DestroyBeforeCreate():
		return ReplaceDestroy, nil
	case list.CreateBeforeDestroy():
		return ReplaceCreate, nil
	}
	return "", fmt.Errorf("change.actions %v: expected no-op, read, create, update, delete, [delete create] or [create delete]", list)
}

// paths renders replace_paths: each path's steps joined by dots.
func paths(list []any) []string {
	var out []string
	for _, p := range list {
		steps, ok := p.([]any)
		if !ok {
			continue
		}
		parts := make([]string, len(steps))
		for i, s := range steps {
			parts[i] = fmt.Sprint(s)
		}
		out = append(out, strings.Join(parts, "."))
	}
	return out
}

// changed lists the top-level attributes whose value differs, or is unknown after.
func changed(before, after map[string]any, unknown any) []string {
	var out []string
	keys := map[string]bool{}
	for k := range before {
		keys[k] = true
	}
	for k := range after {
		keys[k] = true
	}
	u, _ := unknown.(map[string]any)
	for k := range keys {
		b, _ := json.Marshal(before[k])
		a, _ := json.Marshal(after[k])
		if string(a) != string(b) || u[k] == true {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// Destroyed are the resources an apply destroys before it creates anything: the deletions
// and the destroy-first replacements.
func (p *Plan) Destroyed() []string {
	var out []string
	for _, s := range p.Steps {
		if s.Action == Delete || s.Action == ReplaceDestroy {
			out = append(out, s.Addr)
		}
	}
	return out
}

// Kept are the base's resources an apply that creates everything first still holds: the
// deletions and the old copies of create-first replacements.
func (p *Plan) Kept() []string {
	var out []string
	for _, s := range p.Steps {
		if s.Action == Delete || s.Action == ReplaceCreate {
			out = append(out, s.Addr)
		}
	}
	return out
}

// Step returns the step of addr, if the plan changes it.
func (p *Plan) Step(addr string) (Step, bool) {
	for _, s := range p.Steps {
		if s.Addr == addr {
			return s, true
		}
	}
	return Step{}, false
}

// Counts counts the steps by action.
func (p *Plan) Counts() map[Action]int {
	out := map[Action]int{}
	for _, s := range p.Steps {
		out[s.Action]++
	}
	return out
}
