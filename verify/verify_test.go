package verify

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/webtier/webtier/config"
)

// Paths of the synthesized default stack and its config, relative to this package.
const (
	stackFile  = "../testdata/webtier.tf.json"
	configFile = "../webtier.example.json"
)

// defaultStack returns the synthesized stack's bytes and the intent of the example config
// (config.Default() with admin CIDR 203.0.113.0/24).
func defaultStack(t testing.TB) ([]byte, Intent) {
	t.Helper()
	data, err := os.ReadFile(stackFile)
	if err != nil {
		t.Fatalf("reading the synthesized stack: %v", err)
	}
	cfg, err := config.Load(configFile)
	if err != nil {
		t.Fatalf("loading %s: %v", configFile, err)
	}
	in, err := IntentOf(cfg)
	if err != nil {
		t.Fatalf("intent of %s: %v", configFile, err)
	}
	return data, in
}

// verifyBytes loads and verifies a stack, failing the test on a load error.
func verifyBytes(t testing.TB, data []byte, in Intent) *Report {
	t.Helper()
	n, err := Load(data)
	if err != nil {
		t.Fatalf("Load: expected the stack to load, got:\n%v", err)
	}
	return Verify(n, in)
}

// failures describes everything in a report that missed, for test messages.
func failures(r *Report) string {
	var b strings.Builder
	for _, p := range r.Probes {
		if !p.OK {
			b.WriteString("probe " + p.Probe + ": expected " + p.Expected + ", got " + p.Verdict + "\n    " + blockers(p.Blockers, true) + "\n")
		}
	}
	for _, s := range r.Shapes {
		if s.Failed() {
			b.WriteString("shape " + s.Check + ": " + s.Observed + "\n")
		}
	}
	for _, a := range r.Authorizations {
		if !a.OK {
			b.WriteString("authorization " + a.Check + ": expected " + a.Expected + ", got " + a.Outcome + ": " + a.Why + " " + strings.Join(a.Problems, "; ") + "\n")
		}
	}
	for _, f := range r.Unexplained {
		b.WriteString("unexplained " + f.Layer + " " + f.From + " -> " + f.To + " " + On(f.Proto, f.Ports) + ": " + hops(f.Path, true) + "\n")
	}
	return b.String()
}

func TestDefaultStackVerifiesClean(t *testing.T) {
	data, in := defaultStack(t)
	r := verifyBytes(t, data, in)
	if !r.OK() {
		t.Fatalf("expected the default stack to verify clean, got:\n%s", failures(r))
	}
	if len(r.Probes) < 40 {
		t.Errorf("expected at least 40 probes, got %d", len(r.Probes))
	}
}

// TestProbeExpectations pins what the flow table makes the probes expect for the default
// config, against the list.
func TestProbeExpectations(t *testing.T) {
	data, in := defaultStack(t)
	r := verifyBytes(t, data, in)
	want := []struct{ probe, expected string }{
		{"admin 203.0.113.10 -> bastion@public-a tcp/22", "allowed"},
		{"internet 198.51.100.7 -> bastion@public-c tcp/22", "blocked"},
		{"bastion@public-a -> web@web-c tcp/22", "allowed"},
		{"bastion@public-c -> web@web-a tcp/22", "allowed"},
		{"internet 198.51.100.7 -> web@web-a tcp/22", "blocked"},
		{"admin 203.0.113.10 -> web@web-c tcp/22", "blocked"},
		{"internet 198.51.100.7 -> alb@public-a tcp/80", "allowed"},
		{"internet 198.51.100.7 -> alb@public-a tcp/443", "blocked"},
		{"alb@public-a -> web@web-c tcp/80", "allowed"},
		{"alb@public-c -> web@web-a tcp/80", "allowed"},
		{"internet 198.51.100.7 -> web@web-a tcp/80", "blocked"},
		{"web@web-a -> repo 52.219.56.10 tcp/443", "allowed"},
		{"web@web-c -> internet 8.8.8.8 tcp/443", "blocked"},
		{"web@web-a -> internet 8.8.8.8 tcp/80", "blocked"},
		{"internet 198.51.100.7 -> web@web-c any port (tcp, udp, icmp, 253)", "blocked"},
		{"web@web-a -> efs@web-a tcp/2049", "allowed"},
		{"web@web-c -> efs@web-c tcp/2049", "allowed"},
		{"web@web-a -> db@db-c tcp/3306", "allowed"},
		{"web@web-c -> db@db-a tcp/3306", "allowed"},
		{"web@web-a -> secrets-endpoint@web-c tcp/443", "allowed"},
		{"bastion@public-a -> db@db-a tcp/3306", "blocked"},
		{"alb@public-c -> db@db-c tcp/3306", "blocked"},
		{"internet 198.51.100.7 -> db@db-a tcp/3306", "blocked"},
		{"repo 52.219.56.10 -> db@db-c any port (tcp, udp, icmp, 253)", "blocked"},
		{"internet 8.8.8.8 -> efs@web-a any port (tcp, udp, icmp, 253)", "blocked"},
	}
	got := map[string]ProbeResult{}
	for _, p := range r.Probes {
		got[p.Probe] = p
	}
	for _, w := range want {
		p, ok := got[w.probe]
		switch {
		case !ok:
			t.Errorf("probe %q: expected it in the report, got none", w.probe)
		case p.Expected != w.expected || p.Verdict != w.expected:
			t.Errorf("probe %q: expected %s, got expectation %q and verdict %q", w.probe, w.expected, p.Expected, p.Verdict)
		}
	}
	if _, ok := got["web@web-a -> efs@web-c tcp/2049"]; ok {
		t.Errorf("probe web@web-a -> efs@web-c: expected no cross-AZ EFS probe (the flow is same-AZ), got one")
	}
}

// TestAcceptedIsPrecise checks that the accepted list names layer, pair and ports, and keeps
// to the reasons the issue names.
func TestAcceptedIsPrecise(t *testing.T) {
	data, in := defaultStack(t)
	r := verifyBytes(t, data, in)
	find := func(layer, from, to string, port int) *Finding {
		for i, f := range r.Accepted {
			if f.Layer == layer && f.From == from && f.To == to && f.Proto == TCP && f.Ports.Contains(port) {
				return &r.Accepted[i]
			}
		}
		return nil
	}
	cases := []struct {
		layer, from, to string
		port            int
		reason          string
	}{
		{"security groups", "web@web-a", "efs@web-c", 2049, "own AZ, which security groups cannot express"},
		{"network ACLs", "bastion@public-a", "repo 52.219.56.10", 40000, "internet-to-alb-http"},
		{"network ACLs", "web@web-a", "efs@web-a", 22, "same subnet"},
		{"network ACLs", "bastion@public-c", "web@web-a", 80, "alb-to-web-http"},
	}
	for _, c := range cases {
		f := find(c.layer, c.from, c.to, c.port)
		if f == nil {
			t.Errorf("accepted: expected %s %s -> %s tcp/%d, got none", c.layer, c.from, c.to, c.port)
			continue
		}
		if !strings.Contains(f.Reason, c.reason) {
			t.Errorf("accepted %s %s -> %s: expected a reason naming %q, got %q", c.layer, c.from, c.to, c.reason, f.Reason)
		}
	}
	for _, f := range r.Accepted {
		if f.Layer == PathLayer {
			t.Errorf("accepted: expected nothing accepted on the whole path, got %s -> %s %s", f.From, f.To, On(f.Proto, f.Ports))
		}
		if f.Layer == LayerSG.String() && f.Proto == TCP && !f.Ports.Equal(Port(2049)) {
			t.Errorf("accepted: expected the security groups to accept only cross-AZ NFS, got %s -> %s %s", f.From, f.To, On(f.Proto, f.Ports))
		}
	}
}

// TestVariantsVerifyClean verifies two other syntheses of the stack: one NAT gateway for
// both AZs (web-c's traffic crosses to public-a) and HTTPS on the ALB. The files are
// snapshots of `go run . synth --config webtier.example.json --nat single` and
// `... --certificate-arn arn:aws:acm:ap-northeast-2:123456789012:certificate/abc`.
func TestVariantsVerifyClean(t *testing.T) {
	for _, c := range []struct {
		file  string
		set   func(*config.Config)
		probe string
	}{
		{"testdata/single-nat.tf.json", func(c *config.Config) { c.NAT = config.NATSingle }, "web@web-c -> repo 52.219.56.10 tcp/443"},
		{"testdata/https.tf.json", func(c *config.Config) {
			c.CertificateARN = "arn:aws:acm:ap-northeast-2:123456789012:certificate/abc"
		}, "internet 198.51.100.7 -> alb@public-c tcp/443"},
	} {
		t.Run(c.file, func(t *testing.T) {
			data, err := os.ReadFile(c.file)
			if err != nil {
				t.Fatal(err)
			}
			cfg, err := config.Load(configFile)
			if err != nil {
				t.Fatal(err)
			}
			c.set(&cfg)
			in, err := IntentOf(cfg)
			if err != nil {
				t.Fatal(err)
			}
			r := verifyBytes(t, data, in)
			if !r.OK() {
				t.Fatalf("expected %s to verify clean, got:\n%s", c.file, failures(r))
			}
			for _, p := range r.Probes {
				if p.Probe == c.probe {
					if p.Verdict != "allowed" {
						t.Errorf("probe %s: expected allowed, got %s", c.probe, p.Verdict)
					}
					return
				}
			}
			t.Errorf("probe %s: expected it in the report, got none", c.probe)
		})
	}
}

// s3EndpointStack is the synthesized stack of `s3_gateway_endpoint: true` (a snapshot of
// `webtier synth --config webtier.example.json --s3-gateway-endpoint`) and its intent.
func s3EndpointStack(t testing.TB) ([]byte, Intent) {
	t.Helper()
	return variantStack(t, "testdata/s3-endpoint.tf.json", func(c *config.Config) { c.S3GatewayEndpoint = true })
}

// variantStack is a snapshot of a variant of the example stack and the intent of the example
// config changed by set.
func variantStack(t testing.TB, file string, set func(*config.Config)) ([]byte, Intent) {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(configFile)
	if err != nil {
		t.Fatal(err)
	}
	set(&cfg)
	in, err := IntentOf(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return data, in
}

// TestS3EndpointPath: with the gateway endpoint on, the stack verifies, the downloads go
// through the endpoint on the web route table (not the NAT gateway), and the endpoint is a
// shape check of requirement 3.
func TestS3EndpointPath(t *testing.T) {
	data, in := s3EndpointStack(t)
	r := verifyBytes(t, data, in)
	if !r.OK() {
		t.Fatalf("expected the stack with the S3 gateway endpoint to verify clean, got:\n%s", failures(r))
	}
	probes := map[string]ProbeResult{}
	for _, p := range r.Probes {
		probes[p.Probe] = p
	}
	p, ok := probes["web@web-c -> repo 3.5.140.10 tcp/443"]
	if !ok || p.Verdict != "allowed" {
		t.Fatalf("probe web@web-c -> repo 3.5.140.10 tcp/443: expected allowed, got %+v", p)
	}
	path := fmt.Sprintf("%+v", p.Path)
	for _, want := range []string{"aws_vpc_endpoint.s3", "web-sg-egress-web-to-repos-https-endpoint-s3-prefix-list", "aws_network_acl.web-nacl"} {
		if !strings.Contains(path, want) {
			t.Errorf("path of %s: expected it to name %s, got %s", p.Probe, want, path)
		}
	}
	for _, notOn := range []string{"nat-public-c", "public-nacl"} {
		if strings.Contains(path, notOn) {
			t.Errorf("path of %s: expected no %s (the endpoint path skips NAT and the public subnets), got %s", p.Probe, notOn, path)
		}
	}
	if q := probes["web@web-a -> internet 8.8.8.8 tcp/443"]; q.Verdict != "blocked" {
		t.Errorf("probe web@web-a -> internet 8.8.8.8 tcp/443: expected blocked, got %q", q.Verdict)
	}
	found := false
	for _, s := range r.Shapes {
		found = found || s.Req == 3 && strings.Contains(s.Check, "S3 gateway endpoint") && s.Passed()
	}
	if !found {
		t.Error("expected a passing requirement-3 shape check of the S3 gateway endpoint, got none")
	}
	for _, n := range r.Notes {
		if strings.Contains(n, "prefix list") {
			t.Errorf("expected the S3 prefix list resolved from the config, got the note %q", n)
		}
	}
}
