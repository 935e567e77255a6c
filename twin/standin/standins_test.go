package standin

import (
	"crypto/tls"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/webtier/webtier/config"
	"github.com/webtier/webtier/internal/changecases"
	"github.com/webtier/webtier/rules"
	"github.com/webtier/webtier/verify"
)

// freePort is a loopback port no one listens on now.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// stsState is a state directory with a twin's STS key, and the key.
func stsState(t *testing.T) (string, []byte) {
	t.Helper()
	state := t.TempDir()
	if err := WriteSTSKey(state); err != nil {
		t.Fatal(err)
	}
	key, err := readSTSKey(state)
	if err != nil {
		t.Fatal(err)
	}
	return state, key
}

// accessOf is the access of a synthesized stack (file, relative to the repository) with the
// example config, edited by edit when given: what the stand-ins decide calls with.
func accessOf(t *testing.T, file string, edit func(*config.Config)) (*verify.Access, verify.Intent) {
	t.Helper()
	n, in := changecases.Load(t, file, edit)
	return verify.AccessOf(n, in), in
}

// exampleAccess is the access of the synthesized example stack.
func exampleAccess(t *testing.T) *verify.Access {
	t.Helper()
	access, _ := accessOf(t, changecases.ExampleFile, nil)
	return access
}

// TestRepoThroughTheEndpoint: a request that comes through the S3 gateway endpoint (from
// inside the VPC) is decided by the endpoint's policy: the stack's lets dnf read the
// repositories; a policy naming another bucket gets S3's 403 AccessDenied, saying why. A
// request through NAT (from outside the VPC) passes no endpoint.
func TestRepoThroughTheEndpoint(t *testing.T) {
	access, in := accessOf(t, filepath.Join("verify", "testdata", "s3-endpoint.tf.json"),
		func(c *config.Config) { c.S3GatewayEndpoint = true })
	if access.Repo == nil {
		t.Fatal("the S3 endpoint stack's Access has no Repo")
	}
	elsewhere := *access.Repo
	elsewhere.Endpoint.Text = strings.ReplaceAll(elsewhere.Endpoint.Text, rules.RepoBucket(in.Region), "another-bucket")
	for _, c := range []struct {
		name     string
		endpoint *verify.RepoAccess
		vpc      string
		status   int
		says     string
	}{
		{"the stack's endpoint policy", access.Repo, "127.0.0.0/8", 200, "you came from 127.0.0.1"},
		{"an endpoint policy naming another bucket", &elsewhere, "127.0.0.0/8", 403, "User: anonymous is not authorized to perform: s3:GetObject"},
		{"through NAT: no endpoint on the way", &elsewhere, "10.16.0.0/16", 200, "you came from 127.0.0.1"},
	} {
		t.Run(c.name, func(t *testing.T) {
			port := freePort(t)
			spec := &Spec{Host: "repo", Private: netip.MustParseAddr("127.0.0.1"), State: t.TempDir(),
				Repo: &Repo{Port: port, Endpoint: c.endpoint, VPC: netip.MustParsePrefix(c.vpc), Account: access.Account}}
			if err := serveRepo(t.Context(), spec); err != nil {
				t.Fatal(err)
			}
			client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
			resp, err := client.Get("https://127.0.0.1:" + strconv.Itoa(port) + "/" + rules.RepoMirrorList)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != c.status || !strings.Contains(string(body), c.says) {
				t.Errorf("GET %s = %d %s; want %d saying %q", rules.RepoMirrorList, resp.StatusCode, body, c.status, c.says)
			}
		})
	}
}

// TestSecretsEndpointAuthorizes: the Secrets Manager endpoint's stand-in answers
// GetSecretValue to the web servers' role signed with credentials the twin issued, and
// refuses, as AWS words it, an unsigned call, a forged signature, and the web role when the
// endpoint's policy names another principal.
func TestSecretsEndpointAuthorizes(t *testing.T) {
	access := exampleAccess(t)
	if access.Secret == nil || access.Secret.Endpoint == nil {
		t.Fatalf("the example stack's Access has no secret or no endpoint policy: %+v", access)
	}
	otherPrincipal := *access
	secret := *access.Secret
	endpoint := *secret.Endpoint
	endpoint.Text = strings.ReplaceAll(endpoint.Text, access.Role, access.Role+"-other")
	secret.Endpoint, otherPrincipal.Secret = &endpoint, &secret
	state, key := stsState(t)
	body := `{"SecretId":"webtier-db"}`
	web := issue(key, "i-twin-web-a-1").authorization(secretCall([]byte(body)))
	forged := issue([]byte("another key"), "i-twin-web-a-1").authorization(secretCall([]byte(body)))
	for _, c := range []struct {
		name   string
		access *verify.Access
		auth   string
		status int
		says   string
	}{
		{"the web role", access, web, 200, `"SecretString"`},
		{"unsigned", access, "", 400, "AccessDeniedException"},
		{"a forged signature", access, forged, 400, "UnrecognizedClientException"},
		{"an endpoint policy naming another role", &otherPrincipal, web, 400, "User: " + access.Role + " is not authorized to perform: secretsmanager:GetSecretValue"},
	} {
		t.Run(c.name, func(t *testing.T) {
			port := freePort(t)
			spec := &Spec{Host: "secrets", Private: netip.MustParseAddr("127.0.0.1"), State: state,
				Secrets: &Secrets{Port: port, User: "admin", Password: "pw", Access: c.access}}
			if err := serveSecrets(t.Context(), spec); err != nil {
				t.Fatal(err)
			}
			req, _ := http.NewRequest(http.MethodPost, "https://127.0.0.1:"+strconv.Itoa(port)+"/", strings.NewReader(body))
			req.Header.Set("X-Amz-Target", "secretsmanager.GetSecretValue")
			if c.auth != "" {
				req.Header.Set("Authorization", c.auth)
			}
			client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != c.status || !strings.Contains(string(got), c.says) {
				t.Errorf("GetSecretValue = %d %s; want %d saying %q", resp.StatusCode, got, c.status, c.says)
			}
		})
	}
}

// TestDeregistrationDrains: a target taken out of a node's spec gets no new request, its
// request in flight is answered, and it is gone once that request is done (before the
// deregistration delay), as ELB completes a deregistration with nothing left in flight.
func TestDeregistrationDrains(t *testing.T) {
	release := make(chan struct{})
	started := make(chan struct{}, 1)
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz.php", func(w http.ResponseWriter, r *http.Request) {})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		started <- struct{}{}
		<-release
		io.WriteString(w, "answered")
	})
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: mux}
	go srv.Serve(ln)
	defer srv.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	state := t.TempDir()
	listener := ALBListener{Port: 80, Group: "aws_lb_target_group.web", Deregistration: 30,
		Health:  verify.HealthCheck{Path: "/healthz.php", Interval: 1, Timeout: 1, Healthy: 1, Unhealthy: 2, Matcher: "200"},
		Targets: []ALBTarget{{Host: "web-a-1", Addr: netip.MustParseAddr("127.0.0.1"), Port: port}}}
	node := &albNode{ctx: t.Context(), host: "alb-a", scale: 1, log: io.Discard, state: state,
		listeners: map[int]*albListener{80: {ALBListener: listener}}}
	node.register(&ALB{Listeners: []ALBListener{listener}})
	counts := func() TargetCounts {
		var c TargetCounts
		data, err := os.ReadFile(CountsFile(state, "alb-a"))
		if err == nil {
			err = json.Unmarshal(data, &c)
		}
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	for end := time.Now().Add(5 * time.Second); len(counts().InService) == 0; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("the target never came in service: %+v", counts())
		}
	}
	inFlight := httptest.NewRecorder()
	done := make(chan struct{})
	go func() {
		node.listeners[80].ServeHTTP(inFlight, httptest.NewRequest(http.MethodGet, "/slow", nil))
		close(done)
	}()
	<-started
	deregistered := listener
	deregistered.Targets = nil
	node.register(&ALB{Listeners: []ALBListener{deregistered}})
	time.Sleep(200 * time.Millisecond)
	if c := counts(); !slices.Equal(c.Draining, []string{"web-a-1"}) || len(c.Registered) > 0 {
		t.Errorf("with a request in flight the deregistered target should be draining: %+v", c)
	}
	after := httptest.NewRecorder()
	node.listeners[80].ServeHTTP(after, httptest.NewRequest(http.MethodGet, "/", nil))
	if after.Code != http.StatusServiceUnavailable {
		t.Errorf("a request after the deregistration got %d from %q; want 503 (no target)", after.Code, after.Header().Get("X-Webtier-Twin-Target"))
	}
	close(release)
	<-done
	if inFlight.Code != http.StatusOK || inFlight.Body.String() != "answered" {
		t.Errorf("the request in flight got %d %q; want it answered", inFlight.Code, inFlight.Body.String())
	}
	for end := time.Now().Add(5 * time.Second); len(counts().Draining) > 0; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("the target is still draining 5 s after its last request (delay 30 s): %+v", counts())
		}
	}
}
