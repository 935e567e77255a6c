package verify

import (
	"bytes"
	"strings"
	"testing"

	"github.com/webtier/webtier/check"
)

// TestShapesJSON: the report's JSON keeps the shape checks' fields scripts read (req, check,
// ok, detail, not_read): a failure is ok false, a check not read is ok true with not_read,
// and the text is written as it is, with `->` not escaped.
func TestShapesJSON(t *testing.T) {
	r := &Report{Shapes: ShapeChecks{
		{Req: 3, Check: "passes", Observed: "web -> nat", Status: check.Pass},
		{Req: 5, Check: "fails", Observed: "no standby", Status: check.Fail},
		{Req: 2, Check: "alarm", Observed: "not read: the live reader does not read alarms", Status: check.NotRead},
	}}
	var b bytes.Buffer
	if err := r.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	want := `  "shapes": [
    {
      "req": 3,
      "check": "passes",
      "ok": true,
      "detail": "web -> nat"
    },
    {
      "req": 5,
      "check": "fails",
      "ok": false,
      "detail": "no standby"
    },
    {
      "req": 2,
      "check": "alarm",
      "ok": true,
      "detail": "not read: the live reader does not read alarms",
      "not_read": true
    }
  ],
`
	if !strings.Contains(b.String(), want) {
		t.Errorf("got:\n%s\nwant it to hold:\n%s", b.String(), want)
	}
	if !strings.HasPrefix(b.String(), "{\n  \"ok\": false,\n") {
		t.Errorf("a report with a failed shape check: got %.40q, want ok false first", b.String())
	}
}
