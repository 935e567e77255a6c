package policy

import "testing"

func TestActionMatching(t *testing.T) {
	for _, tc := range []struct {
		pattern, action string
		want            bool
	}{
		{"*", "elasticfilesystem:ClientMount", true},
		{"elasticfilesystem:ClientMount", "elasticfilesystem:ClientMount", true},
		{"ElasticFileSystem:clientmount", "elasticfilesystem:ClientMount", true},
		{"elasticfilesystem:Client*", "elasticfilesystem:ClientWrite", true},
		{"elasticfilesystem:Client*", "elasticfilesystem:DescribeMountTargets", false},
		{"s3:Get?bject", "s3:GetObject", true},
		{"s3:Get?bject", "s3:GetObjectAcl", false},
		{"s3:*Object*", "s3:PutObjectTagging", true},
		{"secretsmanager:GetSecretValue", "secretsmanager:GetSecretValueX", false},
		{"s3:*", "s3express:CreateSession", false},
	} {
		s := Statement{Actions: []string{tc.pattern}, actions: []string{lower(tc.pattern)}}
		if got := s.actionMatches(tc.action); got != tc.want {
			t.Errorf("Action %q vs %q: got %v, want %v", tc.pattern, tc.action, got, tc.want)
		}
		s.NotAction = true
		if got := s.actionMatches(tc.action); got == tc.want {
			t.Errorf("NotAction %q vs %q: got %v, want %v", tc.pattern, tc.action, got, !tc.want)
		}
	}
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

func TestResourceMatching(t *testing.T) {
	for _, tc := range []struct {
		pattern, arn string
		want         bool
	}{
		{"*", fsARN, true},
		{fsARN, fsARN, true},
		{"arn:aws:elasticfilesystem:*:123456789012:file-system/*", fsARN, true},
		{"arn:aws:elasticfilesystem:*:111122223333:file-system/*", fsARN, false},
		{"arn:aws:s3:::al2023-repos-ap-northeast-2-de612dc2/*", repoObj, true},
		{"arn:aws:s3:::al2023-repos-ap-northeast-2-de612dc2/*", "arn:aws:s3:::al2023-repos-ap-northeast-2-de612dc2", false},
		{"arn:aws:s3:::al2023-repos-*", "arn:aws:s3:::al2023-repos-ap-northeast-2-de612dc2", true},
		// ARNs are case-sensitive.
		{"arn:aws:s3:::AL2023-repos-ap-northeast-2-de612dc2/*", repoObj, false},
		// A wildcard does not cross into the next part of the ARN: here the region's * would
		// have to take the account too.
		{"arn:aws:secretsmanager:*:secret:*", secretARN, false},
		{"arn:aws:secretsmanager:*:*:*", secretARN, true},
		// The resource part keeps its own colons.
		{"arn:aws:logs:ap-northeast-2:123456789012:log-group:/webtier/vpc-flow-logs:*", "arn:aws:logs:ap-northeast-2:123456789012:log-group:/webtier/vpc-flow-logs:log-stream:eni-1", true},
		{"arn:aws:logs:ap-northeast-2:123456789012:log-group:/webtier/vpc-flow-logs", "arn:aws:logs:ap-northeast-2:123456789012:log-group:/webtier/vpc-flow-logs:log-stream:eni-1", false},
	} {
		s := Statement{Resources: []string{tc.pattern}}
		if got := s.resourceMatches(tc.arn); got != tc.want {
			t.Errorf("Resource %q vs %q: got %v, want %v", tc.pattern, tc.arn, got, tc.want)
		}
		s.NotResource = true
		if got := s.resourceMatches(tc.arn); got == tc.want {
			t.Errorf("NotResource %q vs %q: got %v, want %v", tc.pattern, tc.arn, got, !tc.want)
		}
	}
	if s := (Statement{}); !s.resourceMatches(flowRole) {
		t.Errorf("a statement without Resource (a trust policy's) does not match the resource its policy is on")
	}
}

func TestPrincipalMatching(t *testing.T) {
	root := "arn:aws:iam::123456789012:root"
	for _, tc := range []struct {
		name   string
		set    PrincipalSet
		caller string
		want   principalMatch
	}{
		{`"*" matches a role`, PrincipalSet{Everyone: true}, webRole, fullMatch},
		{`"*" matches anonymous`, PrincipalSet{Everyone: true}, Anonymous, fullMatch},
		{`"*" matches a service`, PrincipalSet{Everyone: true}, flowLogs, fullMatch},
		{`{"AWS":"*"} matches a role`, PrincipalSet{AWS: []string{"*"}}, webRole, fullMatch},
		{`{"AWS":"*"} matches a role of another account`, PrincipalSet{AWS: []string{"*"}}, "arn:aws:iam::111122223333:role/x", fullMatch},
		{`{"AWS":"*"} matches anonymous (S3 user guide: the same as "*" for anonymous users)`, PrincipalSet{AWS: []string{"*"}}, Anonymous, fullMatch},
		{`{"AWS":"*"} does not match a service principal (IAM "Principal" page)`, PrincipalSet{AWS: []string{"*"}}, flowLogs, noMatch},
		{"an account ID matches its roles at account level", PrincipalSet{AWS: []string{acct}}, webRole, accountMatch},
		{"an account root ARN matches its roles at account level", PrincipalSet{AWS: []string{root}}, webRole, accountMatch},
		{"an account matches its root user fully", PrincipalSet{AWS: []string{acct}}, root, fullMatch},
		{"an account does not match another account's role", PrincipalSet{AWS: []string{acct}}, "arn:aws:iam::111122223333:role/webtier-web", noMatch},
		{"an account does not match anonymous", PrincipalSet{AWS: []string{acct}}, Anonymous, noMatch},
		{"a role ARN matches the role", PrincipalSet{AWS: []string{webRole}}, webRole, fullMatch},
		{"a role ARN matches its sessions", PrincipalSet{AWS: []string{webRole}}, webSess, fullMatch},
		{"a role ARN with a path matches its sessions", PrincipalSet{AWS: []string{"arn:aws:iam::123456789012:role/apps/webtier-web"}}, webSess, fullMatch},
		{"a role ARN does not match another role", PrincipalSet{AWS: []string{webRole}}, adminRole, noMatch},
		{"a role ARN does not match anonymous", PrincipalSet{AWS: []string{webRole}}, Anonymous, noMatch},
		{"a service matches itself", PrincipalSet{Service: []string{flowLogs}}, flowLogs, fullMatch},
		{"a service does not match another", PrincipalSet{Service: []string{flowLogs}}, "ec2.amazonaws.com", noMatch},
		{"a service does not match a role", PrincipalSet{Service: []string{flowLogs}}, webRole, noMatch},
	} {
		p := compilePrincipal(tc.set)
		if got := p.match(classify(tc.caller)); got != tc.want {
			t.Errorf("%s: got %d, want %d", tc.name, got, tc.want)
		}
	}
}

func TestGlob(t *testing.T) {
	for _, tc := range []struct {
		pattern, s string
		want       bool
	}{
		{"", "", true},
		{"*", "", true},
		{"a*b*c", "aXbYc", true},
		{"a*b*c", "aXbY", false},
		{"*c", "abcbc", true},
		{"a??d", "abcd", true},
		{"a??d", "abd", false},
		{"?", "é", true},
		{"**", "x", true},
	} {
		if got := glob(tc.pattern, tc.s, false); got != tc.want {
			t.Errorf("glob(%q, %q): got %v, want %v", tc.pattern, tc.s, got, tc.want)
		}
	}
}
