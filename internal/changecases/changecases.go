// Package changecases holds the changes of the example stack that `webtier diff`, the apply's
// states and the review are tested on: each a pair of stacks (the synthesized example, and
// the head made by editing its JSON the way synth writes the change, or a synthesized
// variant from verify's testdata), the head's intent, the plan terraform would make of it,
// and what the diff and the apply must show, written from AWS's semantics before the code
// ran. Test support only.
package changecases

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	tfjson "github.com/hashicorp/terraform-json"

	"github.com/webtier/webtier/change"
	"github.com/webtier/webtier/config"
	"github.com/webtier/webtier/rules"
	"github.com/webtier/webtier/verify"
)

// Case is one change of the example stack.
type Case struct {
	Name string
	// File, when set, is the head's synthesized stack (relative to the repository); else
	// Edit makes the head from the base's decoded JSON.
	File string
	Edit func(m Stack)
	// Config and Flows change the head's config and flow table.
	Config func(c *config.Config)
	Flows  func([]rules.Flow) []rules.Flow
	// Replace lists what the plan replaces (address: the attributes that force it), beyond
	// what it creates, deletes and updates by comparing the stacks; CreateFirst marks those
	// with create_before_destroy.
	Replace     func(base Stack) map[string][]string
	CreateFirst []string
	// Want is the diff, one line per class (see Lines); Apply adds, with the plan, what the
	// apply interrupts and opens in between.
	Want, Apply []string
	// Interrupts are the resources the interruption table must list.
	Interrupts []string
	// Cause is a resource the first opened or closed class must name among its causes.
	Cause string
}

// Stack is a decoded Terraform JSON document.
type Stack map[string]any

// Of returns the resources of a type (made when absent).
func (m Stack) Of(typ string) map[string]any {
	res := m["resource"].(map[string]any)
	if res[typ] == nil {
		res[typ] = map[string]any{}
	}
	return res[typ].(map[string]any)
}

// Get returns one resource's attributes; it panics when the stack lacks it (a broken case).
func (m Stack) Get(typ, name string) map[string]any {
	r, ok := m.Of(typ)[name].(map[string]any)
	if !ok {
		panic(fmt.Sprintf("the example stack has no %s.%s", typ, name))
	}
	return r
}

// Prune drops the depends_on entries that name resources no longer in the stack, and the
// outputs, as a user removing a resource would.
func (m Stack) Prune() {
	for _, byName := range m["resource"].(map[string]any) {
		for _, r := range byName.(map[string]any) {
			attrs := r.(map[string]any)
			list, ok := attrs["depends_on"].([]any)
			if !ok {
				continue
			}
			var kept []any
			for _, d := range list {
				typ, name, _ := strings.Cut(fmt.Sprint(d), ".")
				if _, ok := m.Of(typ)[name]; ok {
					kept = append(kept, d)
				}
			}
			attrs["depends_on"] = kept
		}
	}
}

// Naming returns the resources whose attributes name addr (outside depends_on).
func (m Stack) Naming(addr string) []string {
	var out []string
	for typ, byName := range m["resource"].(map[string]any) {
		for name, r := range byName.(map[string]any) {
			attrs := maps.Clone(r.(map[string]any))
			delete(attrs, "depends_on")
			text, _ := json.Marshal(attrs)
			if strings.Contains(string(text), "${"+addr+".") {
				out = append(out, typ+"."+name)
			}
		}
	}
	slices.Sort(out)
	return out
}

func ref(addr string) string { return "${" + addr + ".id}" }

const (
	sgIn  = "aws_vpc_security_group_ingress_rule"
	sgOut = "aws_vpc_security_group_egress_rule"
	acl   = "aws_network_acl_rule"
)

// sgRule makes a security-group rule; peer is a CIDR or "sg:NAME".
func sgRule(group string, port int, peer string) map[string]any {
	r := map[string]any{"security_group_id": ref("aws_security_group." + group), "ip_protocol": "tcp", "from_port": port, "to_port": port}
	if name, ok := strings.CutPrefix(peer, "sg:"); ok {
		r["referenced_security_group_id"] = ref("aws_security_group." + name)
	} else {
		r["cidr_ipv4"] = peer
	}
	return r
}

// naclEntry makes a network ACL entry allowing tcp from-to.
func naclEntry(nacl string, egress bool, number int, cidr string, from, to int) map[string]any {
	return map[string]any{"network_acl_id": ref("aws_network_acl." + nacl), "egress": egress, "rule_number": number,
		"protocol": "tcp", "rule_action": "allow", "cidr_block": cidr, "from_port": from, "to_port": to}
}

// MigrationsFlow is the flow the "new flow" case adds.
var MigrationsFlow = rules.Flow{Slot: 10, ID: "bastion-to-db-mysql", From: rules.Bastion, To: rules.DB,
	Port: rules.MySQL, Why: "operators run schema migrations from a bastion"}

func withoutFlow(id string) func([]rules.Flow) []rules.Flow {
	return func(fs []rules.Flow) []rules.Flow {
		return slices.DeleteFunc(slices.Clone(fs), func(f rules.Flow) bool { return f.ID == id })
	}
}

// Root is the repository's directory, found from the working directory up.
func Root() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod above the working directory")
		}
		dir = parent
	}
}

// ExampleFile is the synthesized example stack, relative to the repository.
const ExampleFile = "testdata/webtier.tf.json"

// Example loads the synthesized example stack with the intent of the example config.
func Example(t testing.TB) (*verify.Network, verify.Intent) {
	t.Helper()
	return Load(t, ExampleFile, nil)
}

// Load loads a synthesized stack (file, relative to the repository) with the intent of the
// repository's example config, edited by edit when given.
func Load(t testing.TB, file string, edit func(*config.Config)) (*verify.Network, verify.Intent) {
	t.Helper()
	root, err := Root()
	if err != nil {
		t.Fatal(err)
	}
	n, err := verify.Load(Edited(t, file))
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	cfg, err := config.Load(filepath.Join(root, "webtier.example.json"))
	if err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(&cfg)
	}
	in, err := verify.IntentOf(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return n, in
}

// Edited is a synthesized stack (file, relative to the repository) with each edit applied to
// its resources, in order.
func Edited(t testing.TB, file string, edits ...func(res map[string]any)) []byte {
	t.Helper()
	root, err := Root()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(root, file))
	if err != nil {
		t.Fatal(err)
	}
	if len(edits) == 0 {
		return data
	}
	var m Stack
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	for _, edit := range edits {
		edit(m["resource"].(map[string]any))
	}
	data, err = json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// Pair is a case's two stacks with their configs and flow tables.
type Pair struct {
	Base, Head           []byte
	BaseCfg, HeadCfg     config.Config
	BaseFlows, HeadFlows []rules.Flow
}

// Pair builds the case's stacks.
func (c Case) Pair() (Pair, error) {
	root, err := Root()
	if err != nil {
		return Pair{}, err
	}
	base, err := os.ReadFile(filepath.Join(root, "testdata", "webtier.tf.json"))
	if err != nil {
		return Pair{}, err
	}
	cfg, err := config.Load(filepath.Join(root, "webtier.example.json"))
	if err != nil {
		return Pair{}, err
	}
	p := Pair{Base: base, Head: base, BaseCfg: cfg, HeadCfg: cfg, BaseFlows: rules.Flows, HeadFlows: rules.Flows}
	switch {
	case c.File != "":
		if p.Head, err = os.ReadFile(filepath.Join(root, c.File)); err != nil {
			return Pair{}, err
		}
	case c.Edit != nil:
		var m Stack
		if err := json.Unmarshal(base, &m); err != nil {
			return Pair{}, err
		}
		c.Edit(m)
		if p.Head, err = json.Marshal(m); err != nil {
			return Pair{}, err
		}
	}
	if c.Config != nil {
		c.Config(&p.HeadCfg)
	}
	if c.Flows != nil {
		p.HeadFlows = c.Flows(rules.Flows)
	}
	return p, nil
}

// Sides loads both stacks with their intents.
func (p Pair) Sides() (base, head verify.Side, err error) {
	side := func(data []byte, cfg config.Config, flows []rules.Flow) (verify.Side, error) {
		n, err := verify.Load(data)
		if err != nil {
			return verify.Side{}, err
		}
		in, err := verify.IntentOfFlows(cfg, flows)
		return verify.Side{Network: n, Intent: in}, err
	}
	if base, err = side(p.Base, p.BaseCfg, p.BaseFlows); err != nil {
		return base, head, fmt.Errorf("base: %w", err)
	}
	if head, err = side(p.Head, p.HeadCfg, p.HeadFlows); err != nil {
		return base, head, fmt.Errorf("head: %w", err)
	}
	return base, head, nil
}

// Plan is the plan terraform makes of the change: a resource only the head has is created,
// one only the base has deleted, one that differs updated, unless the case says it is
// replaced (destroy first, or create first).
func (c Case) Plan(p Pair) (*tfjson.Plan, error) {
	var b, h Stack
	if err := json.Unmarshal(p.Base, &b); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(p.Head, &h); err != nil {
		return nil, err
	}
	replace := map[string][]string{}
	if c.Replace != nil {
		replace = c.Replace(b)
	}
	all := map[string]bool{}
	for _, s := range []Stack{b, h} {
		for typ, byName := range s["resource"].(map[string]any) {
			for name := range byName.(map[string]any) {
				all[typ+"."+name] = true
			}
		}
	}
	// IDs as a deployed stack has them: the prior state maps each to its resource.
	plan := &tfjson.Plan{FormatVersion: "1.2", PriorState: &tfjson.State{FormatVersion: "1.0", Values: &tfjson.StateValues{RootModule: &tfjson.StateModule{}}}}
	for _, addr := range slices.Sorted(maps.Keys(all)) {
		typ, name, _ := strings.Cut(addr, ".")
		if _, ok := b.Of(typ)[name]; ok {
			plan.PriorState.Values.RootModule.Resources = append(plan.PriorState.Values.RootModule.Resources, &tfjson.StateResource{
				Address: addr, Mode: tfjson.ManagedResourceMode, Type: typ, Name: name, AttributeValues: map[string]any{"id": idOf(addr)}})
		}
	}
	for _, addr := range slices.Sorted(maps.Keys(all)) {
		typ, name, _ := strings.Cut(addr, ".")
		before, inBase := b.Of(typ)[name].(map[string]any)
		after, inHead := h.Of(typ)[name].(map[string]any)
		raw, _ := json.Marshal(after)
		before, after = withIDs(before), withIDs(after)
		rc := &tfjson.ResourceChange{Address: addr, Mode: tfjson.ManagedResourceMode, Type: typ, Name: name,
			Change: &tfjson.Change{Before: before, After: after}}
		bt, _ := json.Marshal(before)
		at, _ := json.Marshal(after)
		paths, replaced := replace[addr]
		switch {
		case !inBase:
			rc.Change.Actions = tfjson.Actions{tfjson.ActionCreate}
			rc.Change.Before = nil
		case !inHead:
			rc.Change.Actions = tfjson.Actions{tfjson.ActionDelete}
			rc.Change.After = nil
		case replaced:
			rc.Change.Actions = tfjson.Actions{tfjson.ActionDelete, tfjson.ActionCreate}
			if slices.Contains(c.CreateFirst, addr) {
				rc.Change.Actions = tfjson.Actions{tfjson.ActionCreate, tfjson.ActionDelete}
			}
			rc.ActionReason = tfjson.ActionReasonReplaceBecauseCannotUpdate
			for _, path := range paths {
				rc.Change.ReplacePaths = append(rc.Change.ReplacePaths, []any{path})
			}
		case string(bt) != string(at) || namesAny(string(raw), replace):
			// An attribute naming a replaced resource is unknown until it exists: an update.
			rc.Change.Actions = tfjson.Actions{tfjson.ActionUpdate}
		default:
			rc.Change.Actions = tfjson.Actions{tfjson.ActionNoop}
		}
		plan.ResourceChanges = append(plan.ResourceChanges, rc)
	}
	return plan, nil
}

// idRef is a reference to a resource's ID in Terraform JSON.
var idRef = regexp.MustCompile(`\$\{([a-z0-9_]+\.[A-Za-z0-9_-]+)\.id\}`)

// idOf is the ID a resource has in the fixture's prior state.
func idOf(addr string) string { return "id-" + strings.ReplaceAll(addr, ".", "-") }

// withIDs is a resource's attributes with its references to IDs resolved, as a plan holds
// them (nil stays nil).
func withIDs(attrs map[string]any) map[string]any {
	if attrs == nil {
		return nil
	}
	text, _ := json.Marshal(attrs)
	var out map[string]any
	json.Unmarshal([]byte(idRef.ReplaceAllStringFunc(string(text), func(m string) string {
		return idOf(idRef.FindStringSubmatch(m)[1])
	})), &out)
	return out
}

func orNone(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// namesAny reports whether a resource's JSON names one of the addresses.
func namesAny(text string, addrs map[string][]string) bool {
	for addr := range addrs {
		if strings.Contains(text, "${"+addr+".") {
			return true
		}
	}
	return false
}

// Lines renders a change as one sorted line per class, for comparison with Want and Apply.
func Lines(c *verify.Change) []string {
	var out []string
	conn := func(kind string, list []verify.Connection) {
		for _, x := range list {
			mark := "ok"
			switch {
			case x.Fails:
				mark = "FAIL"
			case kind == "interrupted":
				mark = "warn"
			}
			out = append(out, fmt.Sprintf("%s %s %s -> %s %s [%s] %s pairs=%d", kind, x.Layer, x.FromClass, x.ToClass,
				verify.On(x.Proto, x.Ports), strings.Join(x.Flows, ","), mark, len(x.Pairs)))
		}
	}
	conn("opened", c.Opened)
	conn("closed", c.Closed)
	for _, r := range c.Rerouted {
		out = append(out, fmt.Sprintf("rerouted %s -> %s %s pairs=%d via %s", r.FromClass, r.ToClass, verify.On(r.Proto, r.Ports), len(r.Pairs), r.After[0]))
	}
	conn("interrupted", c.Interrupted)
	conn("exposed", c.Exposed)
	for _, x := range c.Calls {
		mark := "ok"
		if x.Fails {
			mark = "FAIL"
		}
		out = append(out, fmt.Sprintf("authorization %s %s: %s -> %s %s", x.Check, x.Action, orNone(x.Base), orNone(x.Head), mark))
	}
	slices.Sort(out)
	return out
}

// Step is one stack a change passes through.
type Step struct {
	Name  string
	Stack []byte
}

// Steps are the stacks the case's apply passes through, as change.States reads them from
// terraform's plan of it (every destroy done and no create yet, ...), then the new stack.
func (c Case) Steps(p Pair) ([]Step, error) {
	tf, err := c.Plan(p)
	if err != nil {
		return nil, err
	}
	data, err := json.Marshal(tf)
	if err != nil {
		return nil, err
	}
	plan, err := change.Read(data)
	if err != nil {
		return nil, err
	}
	states, _, err := change.States(plan, p.Base, p.Head)
	if err != nil {
		return nil, err
	}
	var steps []Step
	for _, st := range states {
		steps = append(steps, Step{Name: st.Name, Stack: st.Stack})
	}
	return append(steps, Step{Name: "the new stack", Stack: p.Head}), nil
}
