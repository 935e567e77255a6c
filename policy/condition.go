package policy

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Condition is one operator-key pair of a statement's Condition element, with every value the
// policy gives for the key (they are OR'd).
type Condition struct {
	// Operator as written: "StringEquals", "ForAnyValue:StringLikeIfExists", "Null".
	Operator string
	// Key as written: "aws:SecureTransport". Keys match the request context case-insensitively.
	Key string
	// Values as written; JSON numbers and booleans as their JSON text.
	Values []string

	op       opKind
	set      setKind
	ifExists bool
	key      string // lower case
	nums     []float64
	times    []time.Time
	prefixes []netip.Prefix
	problem  string // why the evaluator cannot judge this condition as AWS would, or ""
}

type opKind int

const (
	opUnknown opKind = iota
	opStringEquals
	opStringNotEquals
	opStringEqualsIgnoreCase
	opStringNotEqualsIgnoreCase
	opStringLike
	opStringNotLike
	opNumericEquals
	opNumericNotEquals
	opNumericLessThan
	opNumericLessThanEquals
	opNumericGreaterThan
	opNumericGreaterThanEquals
	opDateEquals
	opDateNotEquals
	opDateLessThan
	opDateLessThanEquals
	opDateGreaterThan
	opDateGreaterThanEquals
	opBool
	opBinaryEquals
	opIPAddress
	opNotIPAddress
	opArnEquals
	opArnLike
	opArnNotEquals
	opArnNotLike
	opNull
)

// operators maps each operator name AWS documents (without a set qualifier or IfExists) to its
// kind. Names are case-sensitive: "stringEquals" is unknown, and reported.
var operators = map[string]opKind{
	"StringEquals": opStringEquals, "StringNotEquals": opStringNotEquals,
	"StringEqualsIgnoreCase": opStringEqualsIgnoreCase, "StringNotEqualsIgnoreCase": opStringNotEqualsIgnoreCase,
	"StringLike": opStringLike, "StringNotLike": opStringNotLike,
	"NumericEquals": opNumericEquals, "NumericNotEquals": opNumericNotEquals,
	"NumericLessThan": opNumericLessThan, "NumericLessThanEquals": opNumericLessThanEquals,
	"NumericGreaterThan": opNumericGreaterThan, "NumericGreaterThanEquals": opNumericGreaterThanEquals,
	"DateEquals": opDateEquals, "DateNotEquals": opDateNotEquals,
	"DateLessThan": opDateLessThan, "DateLessThanEquals": opDateLessThanEquals,
	"DateGreaterThan": opDateGreaterThan, "DateGreaterThanEquals": opDateGreaterThanEquals,
	"Bool": opBool, "BinaryEquals": opBinaryEquals,
	"IpAddress": opIPAddress, "NotIpAddress": opNotIPAddress,
	"ArnEquals": opArnEquals, "ArnLike": opArnLike, "ArnNotEquals": opArnNotEquals, "ArnNotLike": opArnNotLike,
	"Null": opNull,
}

// negated says the operator requires the key NOT to match: it is true when the key is absent,
// and otherwise true when the request's value matches none of the policy's values.
func (k opKind) negated() bool {
	switch k {
	case opStringNotEquals, opStringNotEqualsIgnoreCase, opStringNotLike, opNumericNotEquals,
		opDateNotEquals, opNotIPAddress, opArnNotEquals, opArnNotLike:
		return true
	}
	return false
}

type setKind int

const (
	setNone setKind = iota
	setForAnyValue
	setForAllValues
)

func parseConditions(errs *Errors, at string, raw json.RawMessage) []Condition {
	ops, ok := object(errs, at, raw, "an object of condition operators")
	if !ok {
		return nil
	}
	var out []Condition
	for _, opName := range sortedKeys(ops) {
		opAt := at + "." + opName
		keys, ok := object(errs, opAt, ops[opName], "an object of condition keys to values")
		if !ok {
			continue
		}
		if len(keys) == 0 {
			errs.add(opAt, "empty; expected at least one condition key")
		}
		for _, key := range sortedKeys(keys) {
			c := Condition{Operator: opName, Key: key, key: strings.ToLower(key)}
			c.Values = conditionValues(errs, opAt+"."+key, keys[key])
			c.compile(errs, opAt+"."+key)
			out = append(out, c)
		}
	}
	return out
}

// conditionValues reads a string, number or boolean, or a non-empty list of them.
func conditionValues(errs *Errors, at string, raw json.RawMessage) []string {
	var list []json.RawMessage
	if firstByte(raw) == '[' {
		if json.Unmarshal(raw, &list) != nil {
			errs.add(at, "not valid JSON")
			return nil
		}
		if len(list) == 0 {
			errs.add(at, "empty list; expected at least one value")
		}
	} else {
		list = []json.RawMessage{raw}
	}
	var out []string
	for j, r := range list {
		switch firstByte(r) {
		case '"':
			var s string
			_ = json.Unmarshal(r, &s)
			out = append(out, s)
		case 't', 'f', '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
			var v any
			if json.Unmarshal(r, &v) == nil {
				out = append(out, compact(r))
				continue
			}
			fallthrough
		default:
			field := at
			if firstByte(raw) == '[' {
				field = fmt.Sprintf("%s[%d]", at, j)
			}
			errs.add(field, "%s is not a string, number or boolean", compact(r))
		}
	}
	return out
}

// compile resolves the operator, checks each value against what the operator compares, and
// notes an operator or key the evaluator does not know.
func (c *Condition) compile(errs *Errors, at string) {
	name := c.Operator
	switch {
	case strings.HasPrefix(name, "ForAnyValue:"):
		c.set, name = setForAnyValue, strings.TrimPrefix(name, "ForAnyValue:")
	case strings.HasPrefix(name, "ForAllValues:"):
		c.set, name = setForAllValues, strings.TrimPrefix(name, "ForAllValues:")
	}
	if base, ok := strings.CutSuffix(name, "IfExists"); ok && base != "Null" {
		c.ifExists, name = true, base
	}
	c.op = operators[name]
	switch {
	case c.op == opUnknown:
		c.problem = fmt.Sprintf("unknown condition operator %q: the condition is taken as not met", c.Operator)
	case c.op == opNull && c.set != setNone:
		c.op, c.problem = opUnknown, fmt.Sprintf("unknown condition operator %q (Null takes no set qualifier): the condition is taken as not met", c.Operator)
	case !knownKey(c.key):
		c.problem = fmt.Sprintf("unknown condition key %q (neither a global key nor a service key the evaluator knows): judged on the request context as given", c.Key)
	}
	for _, v := range c.Values {
		switch c.op {
		case opBool, opNull:
			if !strings.EqualFold(v, "true") && !strings.EqualFold(v, "false") {
				errs.add(at, `%q is not "true" or "false"`, v)
			}
		case opNumericEquals, opNumericNotEquals, opNumericLessThan, opNumericLessThanEquals, opNumericGreaterThan, opNumericGreaterThanEquals:
			n, err := strconv.ParseFloat(v, 64)
			if err != nil {
				errs.add(at, "%q is not a number", v)
			}
			c.nums = append(c.nums, n)
		case opDateEquals, opDateNotEquals, opDateLessThan, opDateLessThanEquals, opDateGreaterThan, opDateGreaterThanEquals:
			t, ok := parseDate(v)
			if !ok {
				errs.add(at, "%q is not a date (ISO 8601, e.g. 2026-01-02T15:04:05Z, or epoch seconds)", v)
			}
			c.times = append(c.times, t)
		case opIPAddress, opNotIPAddress:
			p, ok := parseIP(v)
			if !ok {
				errs.add(at, "%q is not an IP address or CIDR", v)
			}
			c.prefixes = append(c.prefixes, p)
		}
	}
}

func parseDate(v string) (time.Time, bool) {
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		return time.Unix(n, 0).UTC(), true
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05Z0700", "2006-01-02T15:04Z07:00", "2006-01-02"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

func parseIP(v string) (netip.Prefix, bool) {
	if p, err := netip.ParsePrefix(v); err == nil {
		return p.Masked(), true
	}
	if a, err := netip.ParseAddr(v); err == nil {
		return netip.PrefixFrom(a, a.BitLen()), true
	}
	return netip.Prefix{}, false
}

// holds evaluates the condition against the request context, as "IAM JSON policy elements:
// Condition operators" says
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html,
// and for set operators "Single-valued vs. multivalued context keys",
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html):
//   - a key absent from the request makes the condition false, except that a negated operator
//     (StringNotEquals, ArnNotLike, ...) is then true, ...IfExists is then true, Null tests
//     presence itself, ForAllValues is then true and ForAnyValue false;
//   - the policy's values for one key are OR'd: a positive operator holds when the request's
//     value matches any of them, a negated one when it matches none;
//   - ForAnyValue holds when some request value satisfies the operator, ForAllValues when
//     every one does;
//   - without a set qualifier, a key with more than one value in the request does not satisfy
//     the operator (AWS requires a set operator for multivalued keys), and that is reported.
//
// note receives what only the request shows the evaluator cannot judge as AWS would; what the
// policy alone shows (an unknown operator or key) the statement reports before.
func (c *Condition) holds(ctx Context, note func(string)) bool {
	if c.op == opUnknown {
		return false
	}
	vals, present := ctx.lookup(c.Key, c.key)
	if c.op == opNull {
		want := "false"
		if !present {
			want = "true"
		}
		for _, v := range c.Values {
			if strings.EqualFold(v, want) {
				return true
			}
		}
		return false
	}
	if !present {
		switch {
		case c.ifExists:
			return true
		case c.set == setForAllValues:
			return true
		case c.set == setForAnyValue:
			return false
		}
		return c.op.negated()
	}
	switch c.set {
	case setForAnyValue:
		return slices.ContainsFunc(vals, c.holdsFor)
	case setForAllValues:
		for _, v := range vals {
			if !c.holdsFor(v) {
				return false
			}
		}
		return true
	}
	if len(vals) != 1 {
		note(fmt.Sprintf("%s %s: the request has %d values for %s, which needs ForAnyValue or ForAllValues: the condition is taken as not met", c.Operator, c.Key, len(vals), c.Key))
		return false
	}
	return c.holdsFor(vals[0])
}

// holdsFor applies the operator to one request value against all policy values.
func (c *Condition) holdsFor(v string) bool {
	hit := false
	for i, p := range c.Values {
		if c.matches(i, p, v) {
			hit = true
			break
		}
	}
	return hit != c.op.negated()
}

// matches is the positive form of the operator for policy value i (p) and request value v.
func (c *Condition) matches(i int, p, v string) bool {
	switch c.op {
	case opStringEquals, opStringNotEquals:
		return p == v
	case opStringEqualsIgnoreCase, opStringNotEqualsIgnoreCase:
		return strings.EqualFold(p, v)
	case opStringLike, opStringNotLike:
		return glob(p, v, false)
	case opNumericEquals, opNumericNotEquals, opNumericLessThan, opNumericLessThanEquals, opNumericGreaterThan, opNumericGreaterThanEquals:
		n, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return false
		}
		switch c.op {
		case opNumericLessThan:
			return n < c.nums[i]
		case opNumericLessThanEquals:
			return n <= c.nums[i]
		case opNumericGreaterThan:
			return n > c.nums[i]
		case opNumericGreaterThanEquals:
			return n >= c.nums[i]
		}
		return n == c.nums[i]
	case opDateEquals, opDateNotEquals, opDateLessThan, opDateLessThanEquals, opDateGreaterThan, opDateGreaterThanEquals:
		t, ok := parseDate(v)
		if !ok {
			return false
		}
		switch c.op {
		case opDateLessThan:
			return t.Before(c.times[i])
		case opDateLessThanEquals:
			return !t.After(c.times[i])
		case opDateGreaterThan:
			return t.After(c.times[i])
		case opDateGreaterThanEquals:
			return !t.Before(c.times[i])
		}
		return t.Equal(c.times[i])
	case opBool:
		return strings.EqualFold(p, v)
	case opBinaryEquals:
		return p == v
	case opIPAddress, opNotIPAddress:
		a, err := netip.ParseAddr(v)
		return err == nil && c.prefixes[i].Contains(a)
	case opArnEquals, opArnLike, opArnNotEquals, opArnNotLike:
		return arnMatch(p, v)
	}
	return false
}
