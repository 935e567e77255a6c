package verify

import (
	"encoding/base64"
	"strconv"
	"strings"
)

// Script is the text of an instance's user data as the stack holds it: a literal, base64 (as
// AWS returns it), or Terraform's `${base64encode(join("", [...]))}` of string literals and
// references, each reference standing in the text as `${REF}` (text not known before apply).
func Script(userData string) string {
	text := userData
	const open, end = `${base64encode(join("", [`, `]))}`
	switch {
	case strings.HasPrefix(text, open) && strings.HasSuffix(text, end):
		text = joinLiterals(strings.TrimSuffix(strings.TrimPrefix(text, open), end))
	case !strings.Contains(text, "\n"):
		if b, err := base64.StdEncoding.DecodeString(text); err == nil {
			text = string(b)
		}
	}
	return text
}

// joinLiterals joins the elements of an HCL list of string literals and references.
func joinLiterals(list string) string {
	var b strings.Builder
	for i := 0; i < len(list); {
		switch c := list[i]; {
		case c == '"':
			j := i + 1
			for j < len(list) && list[j] != '"' {
				if list[j] == '\\' {
					j++
				}
				j++
			}
			if s, err := strconv.Unquote(list[i:min(j+1, len(list))]); err == nil {
				b.WriteString(s)
			}
			i = j + 1
		case c == ',' || c == ' ' || c == '\n' || c == '\t':
			i++
		default:
			j := i
			for j < len(list) && list[j] != ',' {
				j++
			}
			b.WriteString("${" + strings.TrimSpace(list[i:j]) + "}")
			i = j
		}
	}
	return b.String()
}
