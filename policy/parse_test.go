package policy

import (
	"slices"
	"testing"
)

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name, text, want string
	}{
		{"not JSON", `{"Statement":`, `(document): not valid JSON: unexpected end of JSON input`},
		{"not an object", `[]`, `(document): expected a policy document (a JSON object)`},
		{"unknown top-level element", `{"Version":"2012-10-17","Statment":[]}`,
			"Statment: unknown policy element; expected Version, Id or Statement\nStatement: missing; expected a statement or a list of statements"},
		{"bad version", `{"Version":"2012-10-18","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`,
			`Version: "2012-10-18" is not a policy language version; expected "2012-10-17"`},
		{"no statements", `{"Statement":[]}`, `Statement: empty list; expected at least one statement`},
		{"statement of the wrong shape", `{"Statement":"Allow"}`, `Statement: expected a statement (an object) or a list of statements`},
		{"misspelled effect", `{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Alow","Action":"*","Resource":"*"}]}`,
			`Statement[1].Effect: "Alow" is not "Allow" or "Deny"`},
		{"no effect", `{"Statement":{"Action":"*","Resource":"*"}}`, `Statement[0].Effect: missing; expected "Allow" or "Deny"`},
		{"effect not a string", `{"Statement":{"Effect":true,"Action":"*"}}`, `Statement[0].Effect: true is not a string`},
		{"both Action and NotAction", `{"Statement":[{"Effect":"Allow","Action":"s3:*","NotAction":"s3:Delete*","Resource":"*"}]}`,
			`Statement[0]: has both Action and NotAction`},
		{"neither Action nor NotAction", `{"Statement":[{"Effect":"Allow","Resource":"*"}]}`, `Statement[0]: has neither Action nor NotAction`},
		{"both Resource and NotResource", `{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*","NotResource":"*"}]}`,
			`Statement[0]: has both Resource and NotResource`},
		{"both Principal and NotPrincipal", `{"Statement":[{"Effect":"Deny","Principal":"*","NotPrincipal":"*","Action":"*"}]}`,
			`Statement[0]: has both Principal and NotPrincipal`},
		{"unknown statement element", `{"Statement":[{"Effect":"Allow","Action":"*","Resources":"*"}]}`,
			`Statement[0].Resources: unknown statement element; expected Sid, Effect, Principal, NotPrincipal, Action, NotAction, Resource, NotResource or Condition`},
		{"action without a service", `{"Statement":{"Effect":"Allow","Action":["s3:GetObject","GetObject"],"Resource":"*"}}`,
			`Statement[0].Action[1]: "GetObject" has no service prefix; expected "service:Action" (wildcards allowed) or "*"`},
		{"action list with a number", `{"Statement":{"Effect":"Allow","Action":["s3:GetObject",5],"Resource":"*"}}`,
			`Statement[0].Action[1]: 5 is not a string`},
		{"empty action list", `{"Statement":{"Effect":"Allow","Action":[],"Resource":"*"}}`,
			`Statement[0].Action: empty list; expected at least one string`},
		{"resource an object", `{"Statement":{"Effect":"Allow","Action":"*","Resource":{"arn":"x"}}}`,
			`Statement[0].Resource: {"arn":"x"} is not a string or a list of strings`},
		{"principal a word", `{"Statement":{"Effect":"Allow","Principal":"everyone","Action":"*"}}`,
			`Statement[0].Principal: "everyone" is not "*"; expected "*" or an object of AWS, Service, Federated or CanonicalUser`},
		{"principal unknown type", `{"Statement":{"Effect":"Allow","Principal":{"Services":"ec2.amazonaws.com"},"Action":"*"}}`,
			`Statement[0].Principal.Services: unknown principal type; expected AWS, Service, Federated or CanonicalUser`},
		{"principal partial wildcard", `{"Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:role/web-*"},"Action":"*"}}`,
			`Statement[0].Principal.AWS: "arn:aws:iam::123456789012:role/web-*" has a wildcard; expected "*" alone, an account ID or a whole ARN (IAM matches no part of a principal by wildcard)`},
		{"principal not an account or ARN", `{"Statement":{"Effect":"Allow","Principal":{"AWS":"webtier-web"},"Action":"*"}}`,
			`Statement[0].Principal.AWS: "webtier-web" is not "*", an account ID, an ARN or a unique ID`},
		{"service principal misspelled", `{"Statement":{"Effect":"Allow","Principal":{"Service":"vpc-flow-logs"},"Action":"sts:AssumeRole"}}`,
			`Statement[0].Principal.Service: "vpc-flow-logs" is not a service principal (expected a name like vpc-flow-logs.amazonaws.com)`},
		{"condition operator not an object", `{"Statement":{"Effect":"Allow","Action":"*","Condition":{"StringEquals":"aws:SourceVpce"}}}`,
			`Statement[0].Condition.StringEquals: expected an object of condition keys to values`},
		{"condition value an object", `{"Statement":[{"Effect":"Allow","Action":"*"},{"Effect":"Allow","Action":"*"},{"Effect":"Allow","Action":"*","Condition":{"StringEquals":{"aws:SourceVpce":{"id":"vpce-1"}}}}]}`,
			`Statement[2].Condition.StringEquals.aws:SourceVpce: {"id":"vpce-1"} is not a string, number or boolean`},
		{"condition empty value list", `{"Statement":{"Effect":"Allow","Action":"*","Condition":{"StringEquals":{"aws:SourceVpce":[]}}}}`,
			`Statement[0].Condition.StringEquals.aws:SourceVpce: empty list; expected at least one value`},
		{"Bool not a boolean", `{"Statement":{"Effect":"Deny","Principal":"*","Action":"*","Condition":{"Bool":{"aws:SecureTransport":"no"}}}}`,
			`Statement[0].Condition.Bool.aws:SecureTransport: "no" is not "true" or "false"`},
		{"Null not a boolean", `{"Statement":{"Effect":"Deny","Principal":"*","Action":"*","Condition":{"Null":{"aws:SourceVpce":"maybe"}}}}`,
			`Statement[0].Condition.Null.aws:SourceVpce: "maybe" is not "true" or "false"`},
		{"numeric not a number", `{"Statement":{"Effect":"Allow","Action":"*","Condition":{"NumericLessThan":{"aws:MultiFactorAuthAge":"ten"}}}}`,
			`Statement[0].Condition.NumericLessThan.aws:MultiFactorAuthAge: "ten" is not a number`},
		{"date not a date", `{"Statement":{"Effect":"Allow","Action":"*","Condition":{"DateLessThan":{"aws:CurrentTime":"tomorrow"}}}}`,
			`Statement[0].Condition.DateLessThan.aws:CurrentTime: "tomorrow" is not a date (ISO 8601, e.g. 2026-01-02T15:04:05Z, or epoch seconds)`},
		{"IP not an IP", `{"Statement":{"Effect":"Allow","Action":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.300/8"}}}}`,
			`Statement[0].Condition.IpAddress.aws:SourceIp: "10.0.0.300/8" is not an IP address or CIDR`},
		{"every error, in document order", `{"Statement":[{"Effect":"Alow","Action":"*"},{"Effect":"Allow"}]}`,
			"Statement[0].Effect: \"Alow\" is not \"Allow\" or \"Deny\"\nStatement[1]: has neither Action nor NotAction"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(tc.text)
			if err == nil {
				t.Fatalf("Parse: no error, want %q", tc.want)
			}
			if err.Error() != tc.want {
				t.Errorf("Parse:\n got  %s\n want %s", err, tc.want)
			}
		})
	}
}

func TestParseAccepts(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		check      func(t *testing.T, d Document)
	}{
		{"one statement object, string values", `{"Version":"2012-10-17","Statement":{"Sid":"S","Effect":"Deny","Principal":"*","Action":"*","Resource":"*"}}`,
			func(t *testing.T, d Document) {
				s := d.Statements[0]
				if len(d.Statements) != 1 || s.Sid != "S" || s.Effect != Deny || !s.Principal.Everyone || !slices.Equal(s.Actions, []string{"*"}) {
					t.Errorf("got %+v", d.Statements)
				}
			}},
		{"lists, NotAction, NotResource, every principal type", `{"Statement":[{"Effect":"Allow","Principal":{"AWS":["*","123456789012","arn:aws:iam::123456789012:role/web"],"Service":"ec2.amazonaws.com","Federated":"cognito-identity.amazonaws.com","CanonicalUser":"79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"},"NotAction":["s3:Delete*"],"NotResource":["arn:aws:s3:::b","arn:aws:s3:::b/*"]}]}`,
			func(t *testing.T, d Document) {
				s := d.Statements[0]
				if !s.NotAction || !s.NotResource || len(s.Resources) != 2 || len(s.Principal.AWS) != 3 || s.Principal.Service[0] != "ec2.amazonaws.com" || len(s.Principal.Federated) != 1 || len(s.Principal.CanonicalUser) != 1 {
					t.Errorf("got %+v", s)
				}
			}},
		{"conditions sorted by operator then key, values of every JSON kind", `{"Statement":{"Effect":"Allow","Action":"*","Condition":{"StringEquals":{"b":"x","a":["y","z"]},"Bool":{"aws:SecureTransport":true},"NumericLessThan":{"aws:MultiFactorAuthAge":3600}}}}`,
			func(t *testing.T, d Document) {
				var got []string
				for _, c := range d.Statements[0].Conditions {
					got = append(got, c.Operator+" "+c.Key+" "+fmtValues(c.Values))
				}
				want := []string{"Bool aws:SecureTransport [true]", "NumericLessThan aws:MultiFactorAuthAge [3600]", "StringEquals a [y z]", "StringEquals b [x]"}
				if !slices.Equal(got, want) {
					t.Errorf("conditions:\n got  %q\n want %q", got, want)
				}
			}},
		{"unknown operators and keys are kept as problems, not errors", `{"Statement":{"Effect":"Deny","Principal":"*","Action":"*","Condition":{"Bool":{"aws:SecureTranport":"false"},"StringEqual":{"aws:SourceVpce":"v"},"NullIfExists":{"aws:SourceVpce":"true"}}}}`,
			func(t *testing.T, d Document) {
				var got []string
				for _, p := range d.Problems {
					got = append(got, p.Field+": "+p.Msg)
				}
				want := []string{
					`Statement[0].Condition.Bool.aws:SecureTranport: unknown condition key "aws:SecureTranport" (neither a global key nor a service key the evaluator knows): judged on the request context as given`,
					`Statement[0].Condition.NullIfExists.aws:SourceVpce: unknown condition operator "NullIfExists": the condition is taken as not met`,
					`Statement[0].Condition.StringEqual.aws:SourceVpce: unknown condition operator "StringEqual": the condition is taken as not met`,
				}
				if !slices.Equal(got, want) {
					t.Errorf("problems:\n got  %q\n want %q", got, want)
				}
			}},
		{"service keys of the stack's services and tag keys are known", `{"Statement":{"Effect":"Allow","Action":"*","Condition":{"Bool":{"elasticfilesystem:AccessedViaMountTarget":"true"},"StringEquals":{"secretsmanager:VersionStage":"AWSCURRENT","aws:ResourceTag/team":"web","s3:prefix":"x","ec2:Vpc":"v","sts:ExternalId":"e"}}}}`,
			func(t *testing.T, d Document) {
				if len(d.Problems) > 0 {
					t.Errorf("problems: got %v, want none", d.Problems)
				}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := Parse(tc.text)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			tc.check(t, d)
		})
	}
}

func fmtValues(v []string) string {
	s := "["
	for i, x := range v {
		if i > 0 {
			s += " "
		}
		s += x
	}
	return s + "]"
}

func TestNewPolicyNamesThePolicyInErrors(t *testing.T) {
	_, err := NewPolicy("aws_efs_file_system_policy.shared", `{"Statement":{"Effect":"Alow","Action":"*"}}`)
	want := `aws_efs_file_system_policy.shared: Statement[0].Effect: "Alow" is not "Allow" or "Deny"`
	if err == nil || err.Error() != want {
		t.Errorf("NewPolicy: got %v, want %q", err, want)
	}
}
