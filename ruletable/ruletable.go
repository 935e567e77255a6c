// Package ruletable renders the security-group rules and network-ACL entries of a synthesized
// stack as tables a reviewer can hold against the architecture, like the seed's rule tables:
// number, direction, protocol, ports, peer, action and why. Plain Go: it reads the Terraform
// JSON, not the cdktf constructs.
package ruletable

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/webtier/webtier/rules"
)

// SGRow is one security-group rule.
type SGRow struct {
	Address, Group, Direction, Protocol, Ports, Peer, Flow, Why string
}

// NACLRow is one network-ACL entry.
type NACLRow struct {
	Address   string
	Number    int
	Direction string
	Protocol  string
	Ports     string
	Peer      string
	Action    string
	// Flows and Why come from the policy the stack was derived from; an entry that no flow
	// asked for says so.
	Flows string
	Why   string
}

// NACL is one network ACL with its subnets and entries.
type NACL struct {
	Name    string
	Subnets []string
	Rows    []NACLRow
}

// Tables are every rule of a stack.
type Tables struct {
	SG    []SGRow
	NACLs []NACL
}

// NotInTable is the reason shown for a rule no flow asked for.
const NotInTable = "NOT IN THE FLOW TABLE"

type resource = map[string]any

// Read extracts the rule tables from a synthesized stack. The policy supplies the reasons of
// NACL entries, which AWS gives no description field.
func Read(stack []byte, p rules.Policy) (Tables, error) {
	var doc struct {
		Resource map[string]map[string]resource `json:"resource"`
	}
	if err := json.Unmarshal(stack, &doc); err != nil {
		return Tables{}, fmt.Errorf("stack JSON: %w", err)
	}
	why := map[string]string{}
	for _, f := range p.Flows {
		why[f.ID] = f.Why
	}
	var t Tables
	for _, typ := range []string{"aws_vpc_security_group_ingress_rule", "aws_vpc_security_group_egress_rule"} {
		dir := strings.TrimSuffix(strings.TrimPrefix(typ, "aws_vpc_security_group_"), "_rule")
		for name, r := range doc.Resource[typ] {
			row := SGRow{
				Address:   typ + "." + name,
				Group:     refName(r["security_group_id"]),
				Direction: dir,
				Protocol:  text(r["ip_protocol"]),
				Ports:     ports(r["from_port"], r["to_port"]),
				Why:       text(r["description"]),
			}
			row.Peer = firstOf(text(r["cidr_ipv4"]), refName(r["referenced_security_group_id"]), listName(r["prefix_list_id"]), text(r["cidr_ipv6"]))
			if tags, ok := r["tags"].(map[string]any); ok {
				row.Flow = text(tags["webtier:flow"])
			}
			if row.Flow == "" {
				row.Flow = "-"
			}
			t.SG = append(t.SG, row)
		}
	}
	sort.Slice(t.SG, func(i, j int) bool {
		a, b := t.SG[i], t.SG[j]
		if a.Group != b.Group {
			return a.Group < b.Group
		}
		if a.Direction != b.Direction {
			return a.Direction == "ingress"
		}
		return a.Address < b.Address
	})

	entries := map[string]rules.NACLEntry{}
	for _, list := range p.NACL {
		for _, e := range list {
			entries[e.ID()] = e
		}
	}
	byACL := map[string]*NACL{}
	for name, r := range doc.Resource["aws_network_acl"] {
		acl := &NACL{Name: name}
		if ids, ok := r["subnet_ids"].([]any); ok {
			for _, id := range ids {
				acl.Subnets = append(acl.Subnets, refName(id))
			}
		}
		byACL[name] = acl
	}
	for name, r := range doc.Resource["aws_network_acl_rule"] {
		aclName := refName(r["network_acl_id"])
		acl, ok := byACL[aclName]
		if !ok {
			return Tables{}, fmt.Errorf("aws_network_acl_rule.%s: network_acl_id %v names no aws_network_acl", name, r["network_acl_id"])
		}
		n, _ := r["rule_number"].(float64)
		dir := "ingress"
		if b, _ := r["egress"].(bool); b {
			dir = "egress"
		}
		row := NACLRow{
			Address: "aws_network_acl_rule." + name, Number: int(n), Direction: dir,
			Protocol: protocol(text(r["protocol"])), Ports: ports(r["from_port"], r["to_port"]),
			Peer: firstOf(text(r["cidr_block"]), text(r["ipv6_cidr_block"])), Action: text(r["rule_action"]),
			Flows: "-", Why: NotInTable,
		}
		if e, ok := entries[name]; ok && e.CIDR.String() == row.Peer && e.Port.String() == row.Ports {
			row.Flows = strings.Join(e.Flows, ", ")
			row.Why = why[e.Flows[0]]
			if e.Return {
				row.Why = "replies: " + row.Why
			}
		}
		acl.Rows = append(acl.Rows, row)
	}
	for _, acl := range byACL {
		sort.Slice(acl.Rows, func(i, j int) bool {
			a, b := acl.Rows[i], acl.Rows[j]
			if a.Direction != b.Direction {
				return a.Direction == "ingress"
			}
			return a.Number < b.Number
		})
		t.NACLs = append(t.NACLs, *acl)
	}
	sort.Slice(t.NACLs, func(i, j int) bool { return t.NACLs[i].Name < t.NACLs[j].Name })
	return t, nil
}

// SGText renders the security-group rules, grouped by group.
func (t Tables) SGText() string {
	var b strings.Builder
	b.WriteString("# Security-group rules: stateful, replies pass implicitly; anything not listed is denied.\n\n")
	w := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "group\tdirection\tprotocol\tports\tpeer\tflow\twhy")
	for _, r := range t.SG {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Group, r.Direction, r.Protocol, r.Ports, r.Peer, r.Flow, r.Why)
	}
	w.Flush()
	return b.String()
}

// NACLText renders one network ACL as the console shows it, implicit deny included.
func (acl NACL) NACLText() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s (subnets: %s): stateless, first match wins.\n\n", acl.Name, strings.Join(acl.Subnets, ", "))
	w := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "rule\tdirection\tprotocol\tports\tpeer\taction\tflows\twhy")
	for _, dir := range []string{"ingress", "egress"} {
		for _, r := range acl.Rows {
			if r.Direction == dir {
				fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Number, r.Direction, r.Protocol, r.Ports, r.Peer, r.Action, r.Flows, r.Why)
			}
		}
		fmt.Fprintf(w, "*\t%s\tall\tall\t0.0.0.0/0\tdeny\t-\timplicit: nothing else\n", dir)
	}
	w.Flush()
	return b.String()
}

var refPattern = regexp.MustCompile(`^\$\{[a-z0-9_]+\.([A-Za-z0-9_-]+)\.[a-z_]+\}$`)

// refName turns "${aws_security_group.web-sg.id}" into "web-sg"; other values print as they are.
func refName(v any) string {
	s := text(v)
	if m := refPattern.FindStringSubmatch(s); m != nil {
		return m[1]
	}
	return s
}

// listName renders a prefix-list peer as rules.SGRule.Peer does: "s3 prefix list" for the
// prefix list of the gateway endpoint aws_vpc_endpoint.s3; "" when unset.
func listName(v any) string {
	if text(v) == "" {
		return ""
	}
	return refName(v) + " prefix list"
}

func text(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	default:
		return fmt.Sprint(x)
	}
}

func ports(from, to any) string {
	f, t := text(from), text(to)
	switch {
	case f == "" && t == "":
		return "all"
	case f == t:
		return f
	default:
		return f + "-" + t
	}
}

// protocol shows the name and number, as the console does: "tcp(6)".
func protocol(p string) string {
	switch p {
	case "tcp", "6":
		return "tcp(6)"
	case "udp", "17":
		return "udp(17)"
	case "-1", "all":
		return "all"
	}
	return p
}

func firstOf(list ...string) string {
	for _, s := range list {
		if s != "" {
			return s
		}
	}
	return ""
}
