// Package review turns a terraform plan into a markdown review for a pull request. It leads
// with one short summary: the plan's counts, a banner when it destroys or replaces anything,
// the connections the change opens and closes, what the apply interrupts (connections, and
// each changed resource's effect on the running service) and the verification's verdict.
// The details follow, collapsed: the connections, the apply's states, the interruption
// table, every security-group rule and network-ACL entry added, removed or changed with the
// flow it serves, the other resources, the verification of the planned network and the plan
// as terraform printed it. A plan with no changes is one line. Plain Go.
package review

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	tfjson "github.com/hashicorp/terraform-json"

	plans "github.com/webtier/webtier/change"
	"github.com/webtier/webtier/rules"
	"github.com/webtier/webtier/verify"
)

// Input is what a review is made of.
type Input struct {
	Plan *tfjson.Plan
	// Policy is the policy of the planned stack: NACL entries take their flows from it.
	Policy rules.Policy
	// Verify is the verification of the planned network (the synthesized stack).
	Verify *verify.Report
	// Change is the diff of the deployed stack's synthesis and the planned one, with the
	// apply's states (verify.Diff with change.States); nil when no base was given.
	Change *verify.Change
	// PlanText is the plan as `terraform plan` printed it, shown collapsed at the end; "" for
	// none.
	PlanText string
}

// Markdown renders the review.
func Markdown(in Input) string {
	r := newResolver(in.Plan)
	var sg, nacl, endpoints, other []keyed
	counts := map[string]int{}
	for _, rc := range in.Plan.ResourceChanges {
		if rc.Change == nil || rc.Mode != tfjson.ManagedResourceMode {
			continue
		}
		a := action(rc.Change.Actions)
		if a == "" {
			continue
		}
		counts[a]++
		switch rc.Type {
		case "aws_vpc_security_group_ingress_rule", "aws_vpc_security_group_egress_rule":
			sg = append(sg, r.sgRow(rc, a))
		case "aws_network_acl_rule":
			nacl = append(nacl, r.naclRow(rc, a, in.Policy))
		case "aws_vpc_endpoint":
			endpoints = append(endpoints, r.endpointRow(rc, a))
		default:
			other = append(other, otherRow(rc, a))
		}
	}
	steps, err := plans.FromPlan(in.Plan)
	if err != nil {
		steps = &plans.Plan{}
	}
	interrupts := plans.Interruptions(steps)
	if len(counts) == 0 && (in.Change == nil || !in.Change.Changed()) && in.Verify != nil && in.Verify.OK() {
		// Nothing to review; a network that fails verification still gets its details.
		return fmt.Sprintf("**webtier plan review**: no changes, the target matches the stack; the planned network %s.\n", verdictOf(in.Verify))
	}

	var b strings.Builder
	b.WriteString("## webtier plan review\n\n")
	summary(&b, in, steps, interrupts)
	if err != nil {
		fmt.Fprintf(&b, "**The plan could not be read for its apply: %s.**\n\n", err)
	}
	if in.Change != nil {
		connections(&b, in.Change)
		calls(&b, in.Change)
		apply(&b, in.Change)
	}
	interruptions(&b, interrupts)
	section(&b, "Security-group rules", "| | group | direction | protocol | ports | peer | flow | why |\n|---|---|---|---|---|---|---|---|\n", sg)
	section(&b, "Network-ACL entries", "| | NACL | rule | direction | protocol | ports | peer | flows | why |\n|---|---|---|---|---|---|---|---|---|\n", nacl)
	section(&b, "VPC endpoints and their policies", "| | endpoint | type | service | route tables | policy allows | what changes |\n|---|---|---|---|---|---|---|\n", endpoints)
	section(&b, "Other resources", "| | resource | what changes |\n|---|---|---|\n", other)
	verification(&b, in.Verify)
	if in.PlanText != "" {
		fmt.Fprintf(&b, "<details><summary>The plan as terraform printed it</summary>\n\n```\n%s\n```\n\n</details>\n", strings.TrimRight(in.PlanText, "\n"))
	}
	return b.String()
}

// keyed is a table row with the key it sorts by.
type keyed struct{ key, row string }

// section writes a table collapsed under its title and row count.
func section(b *strings.Builder, title, header string, rows []keyed) {
	sort.Slice(rows, func(i, j int) bool { return rows[i].key < rows[j].key })
	open(b, fmt.Sprintf("%s (%d)", title, len(rows)))
	if len(rows) == 0 {
		b.WriteString("None.\n\n")
	} else {
		b.WriteString(header)
		for _, r := range rows {
			b.WriteString(r.row)
		}
		b.WriteString("\n")
	}
	b.WriteString("</details>\n\n")
}

// open starts a collapsed block.
func open(b *strings.Builder, title string) {
	fmt.Fprintf(b, "<details><summary><b>%s</b></summary>\n\n", title)
}

// verdictOf is the verification's verdict in a few words.
func verdictOf(r *verify.Report) string {
	if r == nil {
		return "was not verified"
	}
	if r.OK() {
		return "verifies: every requirement holds"
	}
	return "**FAILS** verification"
}

// verification summarizes the verify report requirement by requirement, and lists in full
// only what fails: a probe that misses its expectation, any unexplained connection and any
// resource over an AWS quota.
func verification(b *strings.Builder, r *verify.Report) {
	verdict := "every requirement holds"
	if !r.OK() {
		verdict = "**FAILS**"
	}
	open(b, "Verification of the planned network: "+verdict)
	b.WriteString("| requirement | probes met | shape checks passed |\n|---|---|---|\n")
	for req := 1; req <= 7; req++ {
		probes, met, shapes, passed := 0, 0, 0, 0
		for _, p := range r.Probes {
			if p.Req == req {
				probes++
				if p.OK {
					met++
				}
			}
		}
		for _, s := range r.Shapes {
			if s.Req == req {
				shapes++
				if s.Passed() {
					passed++
				}
			}
		}
		fmt.Fprintf(b, "| %d | %d of %d | %d of %d |\n", req, met, probes, passed, shapes)
	}
	fmt.Fprintf(b, "\nBeyond the flows (requirement 7): %d unexplained connections, %d accepted (a layer that cannot be tighter).\n\n",
		len(r.Unexplained), len(r.Accepted))
	var missed []keyed
	for _, p := range r.Probes {
		if !p.OK {
			got := p.Verdict
			if p.Authorized != "" && p.Expected == p.Verdict {
				got += "; " + p.Authorized
			}
			missed = append(missed, keyed{fmt.Sprintf("%d %s", p.Req, p.Probe), row(strconv.Itoa(p.Req), p.Probe, p.Expected, got)})
		}
	}
	for _, s := range r.Shapes {
		if s.Failed() {
			missed = append(missed, keyed{fmt.Sprintf("%d %s", s.Req, s.Check), row(strconv.Itoa(s.Req), s.Check, "ok", s.Observed)})
		}
	}
	for _, q := range r.Quotas {
		for _, o := range q.Over {
			missed = append(missed, keyed{"quota " + q.Key + o, row("quota", q.Name+" ("+q.Code+")", fmt.Sprintf("at most %d", q.Limit), o)})
		}
	}
	if len(missed) > 0 {
		table(b, "Probes, shape checks and AWS quotas that miss", "| req | probe | expected | got |\n|---|---|---|---|\n", missed)
	}
	var unexplained []keyed
	for _, f := range r.Unexplained {
		unexplained = append(unexplained, keyed{f.Layer + f.From + f.To, row(f.Layer, f.From+" -> "+f.To, verify.On(f.Proto, f.Ports))})
	}
	if len(unexplained) > 0 {
		table(b, "Unexplained connections", "| layer | connection | ports |\n|---|---|---|\n", unexplained)
	}
	b.WriteString("Paths, blockers and the accepted list: `webtier verify --config <config>` on the synthesized stack.\n\n</details>\n\n")
}

// table writes a titled table, not collapsed (inside a collapsed block).
func table(b *strings.Builder, title, header string, rows []keyed) {
	sort.Slice(rows, func(i, j int) bool { return rows[i].key < rows[j].key })
	fmt.Fprintf(b, "**%s (%d)**\n\n%s", title, len(rows), header)
	for _, r := range rows {
		b.WriteString(r.row)
	}
	b.WriteString("\n")
}

// Actions, as the review marks them.
const (
	add     = "+ add"
	destroy = "- remove"
	change  = "~ change"
	replace = "-/+ replace"
)

func action(a tfjson.Actions) string {
	switch {
	case a.Replace():
		return replace
	case a.Create():
		return add
	case a.Delete():
		return destroy
	case a.Update():
		return change
	}
	return ""
}

// resolver names the values of a plan: resource IDs become the names of the resources they
// belong to, and values not known until apply are named by the references in the config.
type resolver struct {
	byID  map[string]string
	exprs map[string]map[string]*tfjson.Expression
}

func newResolver(p *tfjson.Plan) *resolver {
	r := &resolver{byID: map[string]string{}, exprs: map[string]map[string]*tfjson.Expression{}}
	if p.PriorState != nil && p.PriorState.Values != nil && p.PriorState.Values.RootModule != nil {
		for _, res := range p.PriorState.Values.RootModule.Resources {
			if id, ok := res.AttributeValues["id"].(string); ok {
				r.byID[id] = res.Name
			}
		}
	}
	if p.Config != nil && p.Config.RootModule != nil {
		for _, res := range p.Config.RootModule.Resources {
			r.exprs[res.Address] = res.Expressions
		}
	}
	return r
}

// value is attr of the change's after (or, for a removal, before) state, named.
func (r *resolver) value(rc *tfjson.ResourceChange, attr string) string {
	state := rc.Change.After
	if rc.Change.Actions.Delete() && !rc.Change.Actions.Create() {
		state = rc.Change.Before
	}
	if m, ok := state.(map[string]any); ok {
		if v, ok := m[attr]; ok && v != nil {
			s := text(v)
			if name, ok := r.byID[s]; ok {
				return name
			}
			return s
		}
	}
	if e := r.exprs[rc.Address][attr]; e != nil && e.ExpressionData != nil {
		for _, ref := range e.References {
			if parts := strings.Split(ref, "."); len(parts) >= 2 && strings.HasPrefix(parts[0], "aws_") {
				return parts[1]
			}
		}
	}
	return ""
}

func (r *resolver) sgRow(rc *tfjson.ResourceChange, a string) keyed {
	dir := "ingress"
	if strings.HasSuffix(rc.Type, "egress_rule") {
		dir = "egress"
	}
	list := r.value(rc, "prefix_list_id")
	if list != "" {
		list += " prefix list"
	}
	peer := firstOf(r.value(rc, "cidr_ipv4"), r.value(rc, "referenced_security_group_id"), list)
	flow := "-"
	if tags, ok := r.tags(rc); ok && tags["webtier:flow"] != "" {
		flow = tags["webtier:flow"]
	}
	group := r.value(rc, "security_group_id")
	return keyed{group + "|" + dir + "|" + rc.Address, row(a, group, dir, r.value(rc, "ip_protocol"),
		ports(r.value(rc, "from_port"), r.value(rc, "to_port")), peer, flow, r.value(rc, "description")+changed(rc))}
}

func (r *resolver) tags(rc *tfjson.ResourceChange) (map[string]string, bool) {
	state := rc.Change.After
	if state == nil {
		state = rc.Change.Before
	}
	m, _ := state.(map[string]any)
	t, ok := m["tags"].(map[string]any)
	out := map[string]string{}
	for k, v := range t {
		out[k] = text(v)
	}
	return out, ok
}

func (r *resolver) naclRow(rc *tfjson.ResourceChange, a string, p rules.Policy) keyed {
	dir := "ingress"
	if r.value(rc, "egress") == "true" {
		dir = "egress"
	}
	flows, why := "-", "NOT IN THE FLOW TABLE"
	if a == destroy {
		flows, why = "-", "no longer derived from the flow table"
	}
	for _, list := range p.NACL {
		for _, e := range list {
			if e.ID() == rc.Name && a != destroy {
				flows = strings.Join(e.Flows, ", ")
				why = flowWhy(p, e)
			}
		}
	}
	acl, number := r.value(rc, "network_acl_id"), r.value(rc, "rule_number")
	n, _ := strconv.Atoi(number)
	return keyed{fmt.Sprintf("%s|%s|%05d", acl, dir, n), row(a, acl, number, dir, r.value(rc, "protocol"),
		ports(r.value(rc, "from_port"), r.value(rc, "to_port")), r.value(rc, "cidr_block"), flows, why+changed(rc))}
}

// endpointRow shows a VPC endpoint: what it reaches, which route tables send traffic to it
// (a gateway endpoint) and what its policy lets through.
func (r *resolver) endpointRow(rc *tfjson.ResourceChange, a string) keyed {
	typ := firstOf(r.value(rc, "vpc_endpoint_type"), "Gateway")
	return keyed{rc.Address, row(a, rc.Address, typ, r.value(rc, "service_name"),
		strings.Join(r.names(rc, "route_table_ids"), ", "), policyAllows(r.value(rc, "policy")),
		strings.TrimPrefix(changed(rc), "; "))}
}

// names resolves a list attribute of IDs to the names of the resources they belong to: from
// the planned values, else (known only after apply) from the references in the config.
func (r *resolver) names(rc *tfjson.ResourceChange, attr string) []string {
	state := rc.Change.After
	if rc.Change.Actions.Delete() && !rc.Change.Actions.Create() {
		state = rc.Change.Before
	}
	var out []string
	if m, ok := state.(map[string]any); ok {
		if list, ok := m[attr].([]any); ok {
			for _, v := range list {
				id := text(v)
				out = append(out, firstOf(r.byID[id], id))
			}
			sort.Strings(out)
			return out
		}
	}
	if e := r.exprs[rc.Address][attr]; e != nil && e.ExpressionData != nil {
		for _, ref := range e.References {
			parts := strings.Split(ref, ".")
			if len(parts) == 2 && strings.HasPrefix(parts[0], "aws_") {
				out = append(out, parts[1])
			}
		}
	}
	sort.Strings(out)
	return out
}

// policyAllows summarizes the Allow statements of a policy document: "s3:GetObject on
// arn:aws:s3:::bucket/*"; "AWS's default: everything" when there is none.
func policyAllows(doc string) string {
	if doc == "" {
		return "AWS's default: every action on every resource"
	}
	list, err := verify.PolicyStatements(doc)
	if err != nil {
		return "unreadable: " + err.Error()
	}
	var parts []string
	for _, st := range list {
		if st["Effect"] == "Allow" {
			parts = append(parts, strings.Join(verify.PolicyStrings(st["Action"]), ", ")+" on "+strings.Join(verify.PolicyStrings(st["Resource"]), ", "))
		}
	}
	if len(parts) == 0 {
		return "nothing"
	}
	return strings.Join(parts, "; ")
}

func flowWhy(p rules.Policy, e rules.NACLEntry) string {
	for _, f := range p.Flows {
		if f.ID == e.Flows[0] {
			if e.Return {
				return "replies: " + f.Why
			}
			return f.Why
		}
	}
	return ""
}

func otherRow(rc *tfjson.ResourceChange, a string) keyed {
	what := changed(rc)
	if a == replace {
		what = "**replaced**" + what
	}
	return keyed{rc.Address, row(a, rc.Address, strings.TrimPrefix(what, "; "))}
}

// changed lists, for an update or replacement, the attributes that change, and the ones
// that force the replacement.
func changed(rc *tfjson.ResourceChange) string {
	if !rc.Change.Actions.Update() && !rc.Change.Actions.Replace() {
		return ""
	}
	before, _ := rc.Change.Before.(map[string]any)
	after, _ := rc.Change.After.(map[string]any)
	unknown, _ := rc.Change.AfterUnknown.(map[string]any)
	var attrs []string
	for k, v := range after {
		if fmt.Sprint(before[k]) != fmt.Sprint(v) {
			attrs = append(attrs, k)
		}
	}
	for k, v := range unknown {
		if v == true && after[k] == nil && k != "id" && k != "arn" {
			attrs = append(attrs, k+" (known after apply)")
		}
	}
	sort.Strings(attrs)
	var forced []string
	for _, p := range rc.Change.ReplacePaths {
		if path, ok := p.([]any); ok && len(path) > 0 {
			forced = append(forced, text(path[0]))
		}
	}
	out := ""
	if len(attrs) > 0 {
		out += "; changes " + strings.Join(attrs, ", ")
	}
	if len(forced) > 0 {
		sort.Strings(forced)
		out += "; replacement forced by " + strings.Join(forced, ", ")
	}
	return out
}

func row(cells ...string) string {
	for i, c := range cells {
		cells[i] = strings.ReplaceAll(c, "|", `\|`)
	}
	return "| " + strings.Join(cells, " | ") + " |\n"
}

func text(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	case nil:
		return ""
	}
	return fmt.Sprint(v)
}

func ports(from, to string) string {
	if from == to {
		return from
	}
	return from + "-" + to
}

func firstOf(list ...string) string {
	for _, s := range list {
		if s != "" {
			return s
		}
	}
	return ""
}
