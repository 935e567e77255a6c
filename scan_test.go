package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// trivyVersion is the scanner `make trivy` builds (bin/tools/trivy-VERSION); WEBTIER_TRIVY
// names another binary.
const trivyVersion = "v0.74.0"

// acceptedFile lists the HIGH and CRITICAL findings the stack keeps on purpose, each with why.
const acceptedFile = "testdata/scan-accepted.json"

// accepted is one finding kept on purpose: the check, the resource, and the reason.
type accepted struct {
	ID       string `json:"id"`
	Resource string `json:"resource"`
	Reason   string `json:"reason"`
}

// finding is one failed check of trivy's report.
type finding struct {
	ID, Severity, Title, Resource string
}

func (f finding) key() string { return f.ID + " " + f.Resource }

// TestIaCScan plans the example stack on the emulator (as `webtier plan` does), writes the
// plan as JSON (terraform show -json) and scans it with trivy, offline, with the checks built
// into the binary: every HIGH or CRITICAL finding must be in the accepted list, each entry of
// which carries its reason and still matches a finding.
func TestIaCScan(t *testing.T) {
	if testing.Short() {
		t.Skip("plans on the emulator; run without -short")
	}
	trivy := os.Getenv("WEBTIER_TRIVY")
	if trivy == "" {
		trivy = filepath.Join("bin", "tools", "trivy-"+trivyVersion)
	}
	if _, err := os.Stat(trivy); err != nil {
		t.Fatalf("no trivy at %s (%v): `make trivy` builds it, `make test` does first", trivy, err)
	}
	list := readAccepted(t)

	s, _, _, logPath := cycleSession(t, "")
	ctx := context.Background()
	if _, err := s.Plan(ctx, false); err != nil {
		t.Fatalf("plan: %v\nlast lines of %s:\n%s", err, logPath, tail(logPath, 30))
	}
	plan, err := s.Show(ctx)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	data, err := json.Marshal(plan)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "tfplan.json"), data, 0o644); err != nil {
		t.Fatal(err)
	}

	found, scanned := runTrivy(t, trivy, dir)
	if scanned == 0 {
		t.Fatalf("trivy judged nothing in the plan (no check passed or failed): it did not read it as a terraform plan")
	}
	known := map[string]accepted{}
	for _, a := range list {
		known[a.ID+" "+a.Resource] = a
	}
	matched := map[string]bool{}
	for _, f := range found {
		if _, ok := known[f.key()]; ok {
			matched[f.key()] = true
			continue
		}
		t.Errorf("new %s finding %s on %s: %s (fix the stack, or add it to %s with the reason)", f.Severity, f.ID, f.Resource, f.Title, acceptedFile)
	}
	for _, a := range list {
		if !matched[a.ID+" "+a.Resource] {
			t.Errorf("%s: %s on %s is accepted but trivy no longer finds it: remove it", acceptedFile, a.ID, a.Resource)
		}
	}
	t.Logf("trivy %s: %d checks judged on the plan, %d HIGH/CRITICAL findings, all accepted: %t", trivyVersion, scanned, len(found), !t.Failed())
}

// readAccepted reads the accepted findings; each must say why.
func readAccepted(t *testing.T) []accepted {
	t.Helper()
	data, err := os.ReadFile(acceptedFile)
	if err != nil {
		t.Fatal(err)
	}
	var list []accepted
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&list); err != nil {
		t.Fatalf("%s: %v", acceptedFile, err)
	}
	for i, a := range list {
		if a.ID == "" || a.Resource == "" || len(strings.Fields(a.Reason)) < 5 {
			t.Errorf("%s[%d]: expected an id, a resource and a reason of a sentence, got %+v", acceptedFile, i, a)
		}
	}
	return list
}

// runTrivy scans dir's plan and returns the HIGH and CRITICAL findings and how many checks
// were judged (passed or failed) on it.
func runTrivy(t *testing.T, trivy, dir string) ([]finding, int) {
	t.Helper()
	report := filepath.Join(t.TempDir(), "trivy.json")
	cmd := exec.Command(trivy, "config",
		"--misconfig-scanners", "terraformplan-json",
		"--skip-check-update", "--skip-version-check", "--disable-telemetry",
		"--cache-dir", filepath.Join(t.TempDir(), "cache"),
		"--severity", "HIGH,CRITICAL", "--exit-code", "0",
		"--format", "json", "--output", report, dir)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(cmd.Args, " "), err, out.String())
	}
	data, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	var r struct {
		Results []struct {
			Target            string
			Type              string
			MisconfSummary    struct{ Successes, Failures int }
			Misconfigurations []struct {
				ID, Severity, Title, Status string
				CauseMetadata               struct{ Resource string }
			}
		}
	}
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatalf("trivy's report: %v", err)
	}
	var found []finding
	scanned := 0
	for _, res := range r.Results {
		scanned += res.MisconfSummary.Successes + res.MisconfSummary.Failures
		for _, m := range res.Misconfigurations {
			if m.Status == "FAIL" {
				found = append(found, finding{m.ID, m.Severity, m.Title, m.CauseMetadata.Resource})
			}
		}
	}
	sort.Slice(found, func(i, j int) bool { return found[i].key() < found[j].key() })
	for _, f := range found {
		t.Logf("trivy: %s %s %s: %s", f.Severity, f.ID, f.Resource, f.Title)
	}
	return found, scanned
}
