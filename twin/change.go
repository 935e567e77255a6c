package twin

import (
	"bytes"
	"encoding/json"
	"slices"

	"github.com/webtier/webtier/twin/compiler"
	"github.com/webtier/webtier/twin/standin"
)

// ChangeStep is one state a change passes through: its name and its stack.
type ChangeStep struct {
	Name  string
	Stack []byte
}

// changedServices are the hosts both plans have whose services differ.
func changedServices(cur, next *compiler.Plan) []string {
	with := compiler.StandIns{}
	old := map[string]*standin.Spec{}
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
