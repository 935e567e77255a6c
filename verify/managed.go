package verify

import (
	"embed"
	"strings"

	"github.com/webtier/webtier/policy"
)

// managedDocs are the documents of the AWS managed policies the stack attaches (see
// managed/README.md for each one's version and source).
//
//go:embed managed/*.json
var managedDocs embed.FS

// managedPolicy parses the AWS managed policy an attachment names by its ARN
// (arn:PARTITION:iam::aws:policy/[PATH/]NAME), when its document is one of managedDocs.
func managedPolicy(arn string) (*policy.Policy, bool, error) {
	const marker = ":iam::aws:policy/"
	i := strings.Index(arn, marker)
	if !strings.HasPrefix(arn, "arn:") || i < 0 {
		return nil, false, nil
	}
	path := arn[i+len(marker):]
	name := path[strings.LastIndexByte(path, '/')+1:]
	text, err := managedDocs.ReadFile("managed/" + name + ".json")
	if err != nil {
		return nil, false, nil
	}
	p, err := policy.NewPolicy(arn+" (AWS managed)", string(text))
	if err != nil {
		return nil, true, err
	}
	return &p, true, nil
}
