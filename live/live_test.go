package live_test

import (
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/webtier/webtier/config"
	"github.com/webtier/webtier/live"
	"github.com/webtier/webtier/verify"
)

// record, given the endpoint of a moto server holding the deployed example stack, rewrites
// the recorded stack: `go test ./live -run TestRecord -record http://127.0.0.1:PORT`.
var record = flag.String("record", "", "record the stack deployed on the moto server at this loopback `URL` into testdata")

// recorded is the example stack as moto 5.2.1 described it after `webtier deploy`.
const recorded = "testdata/moto-example.json"

func TestRecord(t *testing.T) {
	if *record == "" {
		t.Skip("-record URL not given")
	}
	if !strings.HasPrefix(*record, "http://127.0.0.1:") {
		t.Fatalf("-record %s: only a loopback emulator may be recorded", *record)
	}
	cfg := exampleConfig(t)
	s, err := live.Describe(context.Background(), live.Emulator(*record, cfg.Region))
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	// Without the SDK's many nulls the recording reads (and diffs) better.
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	if data, err = json.MarshalIndent(dropNulls(v), "", " "); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(recorded, append(data, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
}

// dropNulls removes null members of objects, recursively.
func dropNulls(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if e == nil {
				delete(x, k)
			} else {
				x[k] = dropNulls(e)
			}
		}
	case []any:
		for i, e := range x {
			x[i] = dropNulls(e)
		}
	}
	return v
}

func exampleConfig(t testing.TB) config.Config {
	t.Helper()
	cfg, err := config.Load(filepath.Join("..", "webtier.example.json"))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// loadRecorded reads the recorded stack.
func loadRecorded(t testing.TB) *live.Described {
	t.Helper()
	data, err := os.ReadFile(recorded)
	if err != nil {
		t.Fatal(err)
	}
	var s live.Described
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatalf("%s: %v", recorded, err)
	}
	return &s
}

// verifyModel verifies a model against the example's intent.
func verifyModel(t testing.TB, what string, n *verify.Network, err error) *verify.Report {
	t.Helper()
	if err != nil {
		t.Fatalf("%s does not load: %v", what, err)
	}
	in, err := verify.IntentOf(exampleConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	return verify.Verify(n, in)
}

// TestRecordedStackVerifiesLikeTheSynthesized: the deployed example, read back, passes the
// verifier with exactly the verdicts of the synthesized example (the golden JSON).
func TestRecordedStackVerifiesLikeTheSynthesized(t *testing.T) {
	dep, notes := loadRecorded(t).Deployed()
	for _, n := range notes {
		t.Logf("note: %s", n)
	}
	n, err := verify.LoadDeployed(dep)
	got := verifyModel(t, "the deployed stack", n, err)
	synth, err := os.ReadFile(filepath.Join("..", "testdata", "webtier.tf.json"))
	if err != nil {
		t.Fatal(err)
	}
	n, err = verify.Load(synth)
	want := verifyModel(t, "the synthesized stack", n, err)
	if !got.OK() {
		var b strings.Builder
		got.WriteTable(&b, "live")
		t.Errorf("the recorded deployment does not verify:\n%s", b.String())
	}
	if diff := verify.Differences(want, got); len(diff) > 0 {
		t.Errorf("synthesized (first) and live (second) verdicts differ:\n  %s", strings.Join(diff, "\n  "))
	}
}

// TestDeployedPoliciesNotRead: the recorded deployment, loaded as deployed, says "not read"
// for the authorization rows whose policies the live reader does not read (never "allowed",
// never a defect); a synthesized stack never says "not read".
func TestDeployedPoliciesNotRead(t *testing.T) {
	dep, _ := loadRecorded(t).Deployed()
	outcomes := func(n *verify.Network) map[string]int {
		in, err := verify.IntentOf(exampleConfig(t))
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]int{}
		for _, a := range verify.Verify(n, in).Authorizations {
			out[a.Outcome]++
		}
		return out
	}
	n, err := verify.LoadDeployed(dep)
	if err != nil {
		t.Fatal(err)
	}
	deployed := outcomes(n)
	if !n.Deployed || deployed["not read"] == 0 || deployed["not judged"] != 0 {
		t.Errorf("loaded as deployed (Deployed %t): outcomes %v, want some \"not read\" and no \"not judged\"", n.Deployed, deployed)
	}
	synthesized, err := os.ReadFile(filepath.Join("..", "testdata", "webtier.tf.json"))
	if err != nil {
		t.Fatal(err)
	}
	if n, err = verify.Load(synthesized); err != nil {
		t.Fatal(err)
	}
	if synth := outcomes(n); n.Deployed || synth["not read"] != 0 {
		t.Errorf("loaded as synthesized (Deployed %t): outcomes %v, want no \"not read\"", n.Deployed, synth)
	}
}

// TestDeployedSecretJudged: the database's managed secret is read back (MasterUserSecret), so
// the recorded deployment's secret rows are judged on what AWS holds, the web servers' role
// policies and the endpoint's policy as read: the web servers may read it, any other role is
// refused at the endpoint.
func TestDeployedSecretJudged(t *testing.T) {
	n, _, err := loadRecorded(t).Model()
	if err != nil {
		t.Fatal(err)
	}
	in, err := verify.IntentOf(exampleConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"the web servers read the database secret through the endpoint": "allowed",
		"the Secrets Manager endpoint refuses every other caller":       "denied",
	}
	for _, a := range verify.Verify(n, in).Authorizations {
		if w, ok := want[a.Check]; ok {
			delete(want, a.Check)
			if a.Outcome != w || !a.OK {
				t.Errorf("%s: %s (ok %v): %s %v", a.Check, a.Outcome, a.OK, a.Why, a.By)
			}
		}
	}
	if len(want) > 0 {
		t.Errorf("no rows %v", want)
	}
}
