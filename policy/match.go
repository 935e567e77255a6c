package policy

import (
	"strings"
	"unicode/utf8"
)

// glob matches s against pattern, where * matches any run of characters (also none) and ?
// exactly one. fold compares ASCII letters case-insensitively (action names).
func glob(pattern, s string, fold bool) bool {
	px, sx := 0, 0
	nextPx, nextSx := 0, -1 // where to resume after the last *, and the s offset to retry from
	for px < len(pattern) || sx < len(s) {
		if px < len(pattern) {
			switch c := pattern[px]; c {
			case '*':
				nextPx, nextSx = px, sx+1
				px++
				continue
			case '?':
				if sx < len(s) {
					_, n := utf8.DecodeRuneInString(s[sx:])
					px++
					sx += n
					continue
				}
			default:
				if sx < len(s) && sameByte(c, s[sx], fold) {
					px++
					sx++
					continue
				}
			}
		}
		if nextSx > 0 && nextSx <= len(s) {
			px, sx = nextPx, nextSx
			continue
		}
		return false
	}
	return true
}

func sameByte(a, b byte, fold bool) bool {
	if a == b {
		return true
	}
	if !fold {
		return false
	}
	if 'A' <= a && a <= 'Z' {
		a += 'a' - 'A'
	}
	if 'A' <= b && b <= 'Z' {
		b += 'a' - 'A'
	}
	return a == b
}

// arnMatch matches an ARN against a pattern as IAM does for Resource and the Arn condition
// operators: "*" matches everything; otherwise each of the six colon-separated parts
// (arn:partition:service:region:account:resource) is matched on its own, case-sensitively,
// with * and ? wildcards that do not cross a colon (the resource part keeps its own colons).
// A pattern or value that is not a six-part ARN is matched as one string.
func arnMatch(pattern, arn string) bool {
	if pattern == "*" {
		return true
	}
	p, pok := arnParts(pattern)
	a, aok := arnParts(arn)
	if !pok || !aok {
		return glob(pattern, arn, false)
	}
	for i := range p {
		if !glob(p[i], a[i], false) {
			return false
		}
	}
	return true
}

func arnParts(s string) ([6]string, bool) {
	var parts [6]string
	for i := 0; i < 5; i++ {
		j := strings.IndexByte(s, ':')
		if j < 0 {
			return parts, false
		}
		parts[i], s = s[:j], s[j+1:]
	}
	parts[5] = s
	return parts, parts[0] == "arn"
}

// actionMatches says whether the statement's Action (or NotAction) covers action (matched
// case-insensitively, with wildcards).
func (s *Statement) actionMatches(action string) bool {
	hit := false
	for _, a := range s.actions {
		if a == "*" || glob(a, action, true) {
			hit = true
			break
		}
	}
	return hit != s.NotAction
}

// resourceMatches says whether the statement's Resource (or NotResource) covers resource. A
// statement with neither covers the resource its policy is on (a trust policy's role).
func (s *Statement) resourceMatches(resource string) bool {
	if len(s.Resources) == 0 {
		return true
	}
	hit := false
	for _, r := range s.Resources {
		if arnMatch(r, resource) {
			hit = true
			break
		}
	}
	return hit != s.NotResource
}

// principalMatch is how a request's principal matches a Principal element.
type principalMatch int

const (
	noMatch principalMatch = iota
	// accountMatch: the element names the principal's account (an account ID or its root
	// ARN). In an Allow of a resource policy that delegates to the account: the principal
	// still needs an identity policy that allows. In a Deny it denies every principal of
	// the account.
	accountMatch
	// fullMatch: the element names the principal itself, or everyone.
	fullMatch
)

// principalSet is a PrincipalSet prepared for matching.
type principalSet struct {
	everyone    bool // "*"
	anyAWS      bool // {"AWS": "*"}
	accounts    []string
	arns        []string
	services    []string
	federated   []string
	canonical   []string
	assumedRole []string // "account/role-name" of role ARNs, to match their sessions
}

func compilePrincipal(p PrincipalSet) principalSet {
	c := principalSet{everyone: p.Everyone, services: p.Service, federated: p.Federated, canonical: p.CanonicalUser}
	for _, v := range p.AWS {
		switch {
		case v == "*":
			c.anyAWS = true
		case accountID.MatchString(v):
			c.accounts = append(c.accounts, v)
		case strings.HasPrefix(v, "arn:") && strings.HasSuffix(v, ":root"):
			if parts, ok := arnParts(v); ok && parts[5] == "root" {
				c.accounts = append(c.accounts, parts[4])
			} else {
				c.arns = append(c.arns, v)
			}
		default:
			c.arns = append(c.arns, v)
			if parts, ok := arnParts(v); ok && parts[2] == "iam" && strings.HasPrefix(parts[5], "role/") {
				c.assumedRole = append(c.assumedRole, parts[4]+"/"+parts[5][strings.LastIndexByte(parts[5], '/')+1:])
			}
		}
	}
	return c
}

// caller is a request's principal, classified once per evaluation.
type caller struct {
	kind    callerKind
	arn     string // the IAM principal's ARN or the service's name
	account string // the IAM principal's account, "" for services and anonymous
	role    string // for an assumed-role session: "account/role-name"
	root    bool   // the account's root user
}

type callerKind int

const (
	callerAnonymous callerKind = iota
	callerIAM
	callerService
	callerInvalid
)

func classify(principal string) caller {
	switch {
	case principal == "":
		return caller{kind: callerAnonymous}
	case servicePrin.MatchString(principal):
		return caller{kind: callerService, arn: principal}
	}
	parts, ok := arnParts(principal)
	if !ok || (parts[2] != "iam" && parts[2] != "sts") || !accountID.MatchString(parts[4]) {
		return caller{kind: callerInvalid, arn: principal}
	}
	c := caller{kind: callerIAM, arn: principal, account: parts[4], root: parts[2] == "iam" && parts[5] == "root"}
	if rest, ok := strings.CutPrefix(parts[5], "assumed-role/"); ok && parts[2] == "sts" {
		if name, _, ok := strings.Cut(rest, "/"); ok {
			c.role = parts[4] + "/" + name
		}
	}
	return c
}

// match says how the request's principal matches the set. AWS's "Principal" page:
// "Principal": "*" is everyone, signed in or not (anonymous); {"AWS": "*"} is any root
// user, IAM user, assumed-role session or federated user of any account, and (the S3 user
// guide) the same as "*" for anonymous requests; it is not a service principal.
func (p *principalSet) match(c caller) principalMatch {
	if p.everyone {
		return fullMatch
	}
	switch c.kind {
	case callerAnonymous:
		if p.anyAWS {
			return fullMatch
		}
	case callerService:
		for _, s := range p.services {
			if s == c.arn {
				return fullMatch
			}
		}
	case callerIAM:
		if p.anyAWS {
			return fullMatch
		}
		for _, a := range p.arns {
			if a == c.arn {
				return fullMatch
			}
		}
		if c.role != "" {
			for _, r := range p.assumedRole {
				if r == c.role {
					return fullMatch
				}
			}
		}
		for _, a := range p.accounts {
			if a == c.account {
				if c.root {
					return fullMatch // the account's root user is the account
				}
				return accountMatch
			}
		}
	}
	return noMatch
}
