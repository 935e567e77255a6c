// Package iamsimulate runs policy/testdata/simulate.mjs: @cloud-copilot/iam-simulate, an IAM
// evaluator written by others, deciding requests as an independent judge of package policy and
// of verify's authorization checks (their tests call it). Plain Go, importing no webtier package; it needs Node and the npm
// package as `npm ci` installs them at the repository root.
package iamsimulate

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Case is one request with its policies, as simulate.mjs reads it.
type Case struct {
	Name     string   `json:"name"`
	Identity []Policy `json:"identity"`
	Resource *Policy  `json:"resource"`
	Trust    *Policy  `json:"trust"`
	Endpoint *Policy  `json:"endpoint"`
	Request  Request  `json:"request"`
}

// Policy is a policy's name and JSON text.
type Policy struct {
	Name   string          `json:"name"`
	Policy json.RawMessage `json:"policy"`
}

// Request is the request of a Case; Principal "" is anonymous.
type Request struct {
	Principal string              `json:"principal"`
	Action    string              `json:"action"`
	Resource  string              `json:"resource"`
	Account   string              `json:"account"`
	Context   map[string][]string `json:"context"`
}

// Result is iam-simulate's decision: Allowed, ExplicitlyDenied, ImplicitlyDenied or error.
type Result struct {
	Name    string `json:"name"`
	Result  string `json:"result"`
	Explain string `json:"explain"`
}

// Simulator is Node with simulate.mjs, in a repository where `npm ci` ran.
type Simulator struct{ node, script string }

// Find finds the simulator in the repository at root, or says what is missing.
func Find(root string) (*Simulator, error) {
	if _, err := os.Stat(filepath.Join(root, "node_modules", "@cloud-copilot", "iam-simulate", "package.json")); err != nil {
		return nil, fmt.Errorf("@cloud-copilot/iam-simulate is not installed (run `npm ci` at the repository root)")
	}
	node := filepath.Join(root, "node_modules", ".bin", "node")
	if _, err := os.Stat(node); err != nil {
		if node, err = exec.LookPath("node"); err != nil {
			return nil, fmt.Errorf("node is not installed (run `npm ci` at the repository root)")
		}
	}
	return &Simulator{node, filepath.Join(root, "policy", "testdata", "simulate.mjs")}, nil
}

// Need is the simulator of the repository a test runs in (its package is one folder below
// the root), or skips the test saying what is missing.
func Need(tb testing.TB) *Simulator {
	tb.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		tb.Fatal(err)
	}
	sim, err := Find(root)
	if err != nil {
		tb.Skip(err.Error() + ": no cross-check")
	}
	return sim
}

// Run decides every case, in order.
func (s *Simulator) Run(cases []Case) ([]Result, error) {
	input, err := json.Marshal(cases)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(s.node, s.script)
	cmd.Stdin = bytes.NewReader(input)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%s %s: %v\n%s", s.node, s.script, err, stderr.String())
	}
	var results []Result
	if err := json.Unmarshal(out, &results); err != nil {
		return nil, fmt.Errorf("simulate.mjs printed no JSON array: %v\n%s", err, out)
	}
	if len(results) != len(cases) {
		return nil, fmt.Errorf("simulate.mjs answered %d cases, want %d", len(results), len(cases))
	}
	return results, nil
}
