package policy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Document is a parsed IAM policy document.
type Document struct {
	// Version is the policy language version as written, "" when the document has none.
	Version string
	// ID is the document's Id element, "" when absent.
	ID string
	// Statements in document order; a single Statement object is a list of one.
	Statements []Statement
	// Problems is everything in the document the evaluator cannot judge as AWS would (an
	// unknown condition operator or key, a policy variable), found while parsing. A Decision
	// repeats those of the statements that had a say in it.
	Problems []Problem
}

// Effect is a statement's Effect.
type Effect bool

// The two effects.
const (
	Allow Effect = true
	Deny  Effect = false
)

func (e Effect) String() string {
	if e == Allow {
		return "Allow"
	}
	return "Deny"
}

// Statement is one statement of a Document.
type Statement struct {
	// Index is the statement's position in the document, from 0.
	Index int
	// Sid is the statement's Sid, "" when absent.
	Sid    string
	Effect Effect
	// Principal holds Principal's or NotPrincipal's value; nil when the statement has neither
	// (identity policies).
	Principal *PrincipalSet
	// NotPrincipal says Principal came from a NotPrincipal element.
	NotPrincipal bool
	// Actions are the Action or NotAction patterns as written.
	Actions []string
	// NotAction says Actions came from a NotAction element.
	NotAction bool
	// Resources are the Resource or NotResource patterns as written; empty when the statement
	// has neither (a role's trust policy), which matches the resource the policy is on.
	Resources []string
	// NotResource says Resources came from a NotResource element.
	NotResource bool
	// Conditions are every operator-key pair of the Condition element, sorted by operator then
	// key. All must hold.
	Conditions []Condition

	actions   []string // lower case, for case-insensitive matching
	problems  []Problem
	principal principalSet
}

// PrincipalSet is the value of a Principal or NotPrincipal element.
type PrincipalSet struct {
	// Everyone is "Principal": "*".
	Everyone bool
	// AWS, Service, Federated and CanonicalUser are the values under those keys, as written.
	AWS, Service, Federated, CanonicalUser []string
}

// field is the statement's path in its document: "Statement[0]".
func (s *Statement) field() string { return fmt.Sprintf("Statement[%d]", s.Index) }

// Error is one problem with one element of a policy document.
type Error struct {
	// Field is the element's path: "Statement[1].Effect", "Statement[2].Condition.StringEquals".
	Field string
	// Msg says what the value is and what was expected.
	Msg string
}

func (e Error) Error() string { return e.Field + ": " + e.Msg }

// Errors is every problem found in a document, in document order.
type Errors []Error

func (e Errors) Error() string {
	lines := make([]string, len(e))
	for i, pe := range e {
		lines[i] = pe.Error()
	}
	return strings.Join(lines, "\n")
}

func (e *Errors) add(field, format string, args ...any) {
	*e = append(*e, Error{Field: field, Msg: fmt.Sprintf(format, args...)})
}

// Parse parses an IAM policy JSON document. Statement may be one object or a list; Action,
// NotAction, Resource, NotResource and the principal lists may be a string or a list of
// strings. An element IAM does not define is an error, and so is a value of the wrong shape;
// the error (Errors) names every such element. A condition operator or key the evaluator does
// not know is no error: it is kept, listed in Document.Problems and reported by every
// Decision it takes part in.
func Parse(text string) (Document, error) {
	var doc Document
	var errs Errors
	top, ok := object(&errs, "", []byte(text), "a policy document (a JSON object)")
	if !ok {
		return doc, errs
	}
	for _, k := range sortedKeys(top) {
		switch k {
		case "Version":
			v, ok := str(&errs, "Version", top[k])
			if ok && v != "2012-10-17" && v != "2008-10-17" {
				errs.add("Version", "%q is not a policy language version; expected \"2012-10-17\"", v)
			}
			doc.Version = v
		case "Id":
			doc.ID, _ = str(&errs, "Id", top[k])
		case "Statement":
		default:
			errs.add(k, "unknown policy element; expected Version, Id or Statement")
		}
	}
	raw, ok := top["Statement"]
	if !ok {
		errs.add("Statement", "missing; expected a statement or a list of statements")
		return doc, errs
	}
	var list []json.RawMessage
	switch firstByte(raw) {
	case '[':
		if err := json.Unmarshal(raw, &list); err != nil {
			errs.add("Statement", "%v", err)
		} else if len(list) == 0 {
			errs.add("Statement", "empty list; expected at least one statement")
		}
	case '{':
		list = []json.RawMessage{raw}
	default:
		errs.add("Statement", "expected a statement (an object) or a list of statements")
	}
	for i, r := range list {
		s := parseStatement(&errs, i, r)
		doc.Statements = append(doc.Statements, s)
		doc.Problems = append(doc.Problems, s.problems...)
	}
	if len(errs) > 0 {
		return Document{}, errs
	}
	return doc, nil
}

// statementElements are the elements a statement may have, in the order messages list them.
var statementElements = []string{"Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource", "NotResource", "Condition"}

func parseStatement(errs *Errors, i int, raw json.RawMessage) Statement {
	s := Statement{Index: i}
	at := fmt.Sprintf("Statement[%d]", i)
	m, ok := object(errs, at, raw, "a statement (a JSON object)")
	if !ok {
		return s
	}
	for _, k := range sortedKeys(m) {
		if !slices.Contains(statementElements, k) {
			errs.add(at+"."+k, "unknown statement element; expected Sid, Effect, Principal, NotPrincipal, Action, NotAction, Resource, NotResource or Condition")
		}
	}
	if v, ok := m["Sid"]; ok {
		s.Sid, _ = str(errs, at+".Sid", v)
	}
	if v, ok := m["Effect"]; !ok {
		errs.add(at+".Effect", `missing; expected "Allow" or "Deny"`)
	} else if e, ok := str(errs, at+".Effect", v); ok {
		switch e {
		case "Allow":
			s.Effect = Allow
		case "Deny":
			s.Effect = Deny
		default:
			errs.add(at+".Effect", `%q is not "Allow" or "Deny"`, e)
		}
	}

	name, v, both := oneOf(m, "Action", "NotAction")
	switch {
	case both:
		errs.add(at, "has both Action and NotAction")
	case name == "":
		errs.add(at, "has neither Action nor NotAction")
	default:
		s.NotAction = name == "NotAction"
		s.Actions = strs(errs, at+"."+name, v)
		for j, a := range s.Actions {
			if a != "*" && !strings.Contains(a, ":") {
				errs.add(fmt.Sprintf("%s.%s[%d]", at, name, j), `%q has no service prefix; expected "service:Action" (wildcards allowed) or "*"`, a)
			}
			s.actions = append(s.actions, strings.ToLower(a))
		}
	}

	name, v, both = oneOf(m, "Resource", "NotResource")
	switch {
	case both:
		errs.add(at, "has both Resource and NotResource")
	case name != "":
		s.NotResource = name == "NotResource"
		s.Resources = strs(errs, at+"."+name, v)
	}

	name, v, both = oneOf(m, "Principal", "NotPrincipal")
	switch {
	case both:
		errs.add(at, "has both Principal and NotPrincipal")
	case name != "":
		s.NotPrincipal = name == "NotPrincipal"
		p := parsePrincipal(errs, at+"."+name, v)
		s.Principal = &p
		s.principal = compilePrincipal(p)
	}

	if v, ok := m["Condition"]; ok {
		s.Conditions = parseConditions(errs, at+".Condition", v)
	}
	for _, c := range s.Conditions {
		if c.problem != "" {
			s.problems = append(s.problems, Problem{Field: at + ".Condition." + c.Operator + "." + c.Key, Msg: c.problem})
		}
	}
	for _, f := range []struct {
		name string
		vals []string
	}{{"Resource", s.Resources}, {"Action", s.Actions}} {
		for _, val := range f.vals {
			if strings.Contains(val, "${") {
				s.problems = append(s.problems, Problem{Field: at + "." + f.name,
					Msg: fmt.Sprintf("%q has a policy variable, which the evaluator does not substitute: matched as written", val)})
			}
		}
	}
	return s
}

var (
	accountID   = regexp.MustCompile(`^[0-9]{12}$`)
	servicePrin = regexp.MustCompile(`^[a-z0-9.-]+\.amazonaws\.com(\.cn)?$`)
)

func parsePrincipal(errs *Errors, at string, raw json.RawMessage) PrincipalSet {
	var p PrincipalSet
	if firstByte(raw) == '"' {
		if v, _ := str(errs, at, raw); v == "*" {
			p.Everyone = true
		} else {
			errs.add(at, `%q is not "*"; expected "*" or an object of AWS, Service, Federated or CanonicalUser`, v)
		}
		return p
	}
	m, ok := object(errs, at, raw, `"*" or an object of AWS, Service, Federated or CanonicalUser`)
	if !ok {
		return p
	}
	if len(m) == 0 {
		errs.add(at, "empty; expected at least one of AWS, Service, Federated or CanonicalUser")
	}
	for _, k := range sortedKeys(m) {
		vals := strs(errs, at+"."+k, m[k])
		switch k {
		case "AWS":
			p.AWS = vals
			for _, v := range vals {
				if v != "*" && strings.ContainsAny(v, "*?") {
					errs.add(at+".AWS", `%q has a wildcard; expected "*" alone, an account ID or a whole ARN (IAM matches no part of a principal by wildcard)`, v)
				} else if v != "*" && !accountID.MatchString(v) && !strings.HasPrefix(v, "arn:") && !isUniqueID(v) {
					errs.add(at+".AWS", `%q is not "*", an account ID, an ARN or a unique ID`, v)
				}
			}
		case "Service":
			p.Service = vals
			for _, v := range vals {
				if !servicePrin.MatchString(v) {
					errs.add(at+".Service", "%q is not a service principal (expected a name like vpc-flow-logs.amazonaws.com)", v)
				}
			}
		case "Federated":
			p.Federated = vals
		case "CanonicalUser":
			p.CanonicalUser = vals
		default:
			errs.add(at+"."+k, "unknown principal type; expected AWS, Service, Federated or CanonicalUser")
		}
	}
	return p
}

// isUniqueID says whether v looks like an IAM unique ID (AROA..., AIDA...), which IAM writes
// into a policy in place of a deleted principal.
func isUniqueID(v string) bool {
	return len(v) >= 16 && len(v) <= 128 && strings.HasPrefix(v, "A") && strings.ToUpper(v) == v && !strings.ContainsAny(v, ":/")
}

// JSON helpers: each reports a value of the wrong shape at its field.

func object(errs *Errors, at string, raw []byte, want string) (map[string]json.RawMessage, bool) {
	var m map[string]json.RawMessage
	if firstByte(raw) != '{' {
		if at == "" {
			at = "(document)"
		}
		errs.add(at, "expected %s", want)
		return nil, false
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		if at == "" {
			at = "(document)"
		}
		errs.add(at, "not valid JSON: %v", err)
		return nil, false
	}
	return m, true
}

func str(errs *Errors, at string, raw json.RawMessage) (string, bool) {
	var s string
	if firstByte(raw) != '"' || json.Unmarshal(raw, &s) != nil {
		errs.add(at, "%s is not a string", compact(raw))
		return "", false
	}
	return s, true
}

// strs reads a string or a non-empty list of strings.
func strs(errs *Errors, at string, raw json.RawMessage) []string {
	if firstByte(raw) == '"' {
		s, ok := str(errs, at, raw)
		if !ok {
			return nil
		}
		return []string{s}
	}
	var list []json.RawMessage
	if firstByte(raw) != '[' || json.Unmarshal(raw, &list) != nil {
		errs.add(at, "%s is not a string or a list of strings", compact(raw))
		return nil
	}
	if len(list) == 0 {
		errs.add(at, "empty list; expected at least one string")
	}
	out := make([]string, 0, len(list))
	for j, r := range list {
		if s, ok := str(errs, fmt.Sprintf("%s[%d]", at, j), r); ok {
			out = append(out, s)
		}
	}
	return out
}

// oneOf returns which of a and b m has (a first), and whether it has both.
func oneOf(m map[string]json.RawMessage, a, b string) (string, json.RawMessage, bool) {
	va, okA := m[a]
	vb, okB := m[b]
	switch {
	case okA && okB:
		return "", nil, true
	case okA:
		return a, va, false
	case okB:
		return b, vb, false
	}
	return "", nil, false
}

func firstByte(raw []byte) byte {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return 0
	}
	return raw[0]
}

func compact(raw []byte) string {
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return string(raw)
	}
	if b.Len() > 60 {
		return b.String()[:57] + "..."
	}
	return b.String()
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
