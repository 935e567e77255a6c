package standin

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"time"

	"github.com/webtier/webtier/verify"
)

// Spec is what runs in one host's namespace.
type Spec struct {
	Host       string     `json:"host"`
	Namespace  string     `json:"namespace"`
	Kind       string     `json:"kind"`
	AZ         string     `json:"az,omitempty"`
	InstanceID string     `json:"instance_id,omitempty"`
	Private    netip.Addr `json:"private"`
	// Banner are ports held by a stand-in listener that only says what it is.
	Banner []int `json:"banner,omitempty"`
	// IMDS serves the instance metadata service (IMDSv2) on 169.254.169.254:80.
	IMDS bool `json:"imds,omitempty"`
	// Role is the name of the instance's role, whose credentials the metadata service gives.
	Role string `json:"role,omitempty"`
	// Web serves the web server's pages.
	Web *Web `json:"web,omitempty"`
	// ALB is a load balancer node: listeners forwarding to healthy targets.
	ALB *ALB `json:"alb,omitempty"`
	// Repo is the package repository: HTTPS on 443, recording who asked.
	Repo *Repo `json:"repo,omitempty"`
	// DB is a database host, Secrets the Secrets Manager endpoint, DNS the VPC resolver.
	DB      *DB      `json:"db,omitempty"`
	Secrets *Secrets `json:"secrets,omitempty"`
	DNS     *DNS     `json:"dns,omitempty"`
	// EFS is an EFS mount target: NFS over the shared directory.
	EFS *EFS `json:"efs,omitempty"`
	// Session is Session Manager's stand-in on the ssmmessages endpoint; Agent the SSM
	// Agent's on a managed instance (session.go).
	Session *Session `json:"session,omitempty"`
	Agent   *Agent   `json:"agent,omitempty"`
	// State is the twin's state directory (for logs and records).
	State string `json:"state"`
}

// Web is a web server: the user data's pages.
type Web struct {
	Port int `json:"port"`
	// DB is how /db.php reaches the database, when the twin runs one.
	DB *DBAccess `json:"db,omitempty"`
	// EFS is the shared file system the user data mounts, when the stack has mount targets.
	EFS *EFSAccess `json:"efs,omitempty"`
	// PHP is what the user data writes: its pages (package site says what each shows; a page
	// is served when the user data writes it), its PHP-FPM pools and /db.php's timeouts.
	// Health is the target group's health-check path.
	PHP    verify.Bootstrap `json:"php"`
	Health string           `json:"health,omitempty"`
}

// defaultWorkers is the size the twin gives a pool whose size the script computes at boot: the
// user data's floor (5), where an instance's memory gives it more.
const defaultWorkers = 5

// ALB is one node of a load balancer.
type ALB struct {
	Name      string        `json:"name"`
	Listeners []ALBListener `json:"listeners"`
	// Scale divides every health-check time, so that tests need not wait minutes.
	Scale int `json:"scale"`
}

// ALBListener forwards connections on Port to the healthy targets of its target group.
type ALBListener struct {
	Port    int                `json:"port"`
	Group   string             `json:"group"`
	Targets []ALBTarget        `json:"targets"`
	Health  verify.HealthCheck `json:"health"`
	// Deregistration is the group's deregistration delay (seconds, before the spec's scale): how
	// long a target no longer listed keeps its requests in flight.
	Deregistration int `json:"deregistration"`
	// Redirect is true for a listener that answers every request with a redirect to HTTPS.
	Redirect bool `json:"redirect,omitempty"`
}

// ALBTarget is a registered target the node sends to (its AZ's only with cross-zone off).
type ALBTarget struct {
	Host string     `json:"host"`
	Addr netip.Addr `json:"addr"`
	Port int        `json:"port"`
	AZ   string     `json:"az"`
}

// Repo is the package repository's stand-in.
type Repo struct {
	Port int `json:"port"`
	// Endpoint is the S3 gateway endpoint's policy and the bucket, which decide a request
	// that came through the endpoint: one from inside VPC (nil: the stack has no endpoint).
	Endpoint *verify.RepoAccess `json:"endpoint,omitempty"`
	VPC      netip.Prefix       `json:"vpc,omitzero"`
	Account  string             `json:"account,omitempty"`
}

// TimeScale divides the health checks' times in the twin: AWS's 15 s interval becomes 3 s.
// The stand-ins divide their other waits by it too (a failover, the mount's retries, /db.php's
// timeouts).
const TimeScale = 5

// Scaled is a time in seconds of AWS's divided by scale: how long the twin waits for it.
func Scaled(seconds, scale int) time.Duration {
	return time.Duration(seconds) * time.Second / time.Duration(max(scale, 1))
}

// describe says how the twin runs a listener's health check.
func (l ALBListener) describe(scale int) string {
	h := l.Health
	return fmt.Sprintf("GET %s every %s (AWS: %ds, time / %d), timeout %s, %d ok in, %d failed out",
		h.Path, Scaled(h.Interval, scale), h.Interval, scale, Scaled(h.Timeout, scale), h.Healthy, h.Unhealthy)
}

// readSpec reads a host's spec file.
func readSpec(file string) (*Spec, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var spec Spec
	return &spec, json.Unmarshal(data, &spec)
}

// WriteSpec writes a host's spec file into the state directory dir and returns its path: the
// file `webtier --spec` runs the host's services from, and reads again on SIGHUP.
func WriteSpec(dir string, spec *Spec) (string, error) {
	file := filepath.Join(dir, spec.Host+".spec.json")
	return file, WriteJSON(file, spec)
}

// WriteJSON writes v as JSON to file, atomically: the twin's processes read these files while
// others change them (the plan, the specs, the resolver's names, the controller's status, the
// ALB nodes' counts).
func WriteJSON(file string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(file+".tmp", data, 0o644); err != nil {
		return err
	}
	return os.Rename(file+".tmp", file)
}
