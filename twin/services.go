package twin

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/webtier/webtier/rules"
	"github.com/webtier/webtier/verify"
)

// The services of the twin: what runs in each host's namespace, each a real server that
// says what it stands in for. One process per host runs them from its Spec.

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
	Web *WebSpec `json:"web,omitempty"`
	// ALB is a load balancer node: listeners forwarding to healthy targets.
	ALB *ALBSpec `json:"alb,omitempty"`
	// Repo is the package repository: HTTPS on 443, recording who asked.
	Repo *RepoSpec `json:"repo,omitempty"`
	// DB is a database host, Secrets the Secrets Manager endpoint, DNS the VPC resolver.
	DB      *DBSpec      `json:"db,omitempty"`
	Secrets *SecretsSpec `json:"secrets,omitempty"`
	DNS     *DNSSpec     `json:"dns,omitempty"`
	// EFS is an EFS mount target: NFS over the shared directory.
	EFS *EFSSpec `json:"efs,omitempty"`
	// Session is Session Manager's stand-in on the ssmmessages endpoint; Agent the SSM
	// Agent's on a managed instance (session.go).
	Session *SessionSpec `json:"session,omitempty"`
	Agent   *AgentSpec   `json:"agent,omitempty"`
	// State is the twin's state directory (for logs and records).
	State string `json:"state"`
}

// WebSpec is a web server: the user data's pages.
type WebSpec struct {
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

// ALBSpec is one node of a load balancer.
type ALBSpec struct {
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

// RepoSpec is the package repository's stand-in.
type RepoSpec struct {
	Port int `json:"port"`
	// Endpoint is the S3 gateway endpoint's policy and the bucket, which decide a request
	// that came through the endpoint: one from inside VPC (nil: the stack has no endpoint).
	Endpoint *verify.RepoAccess `json:"endpoint,omitempty"`
	VPC      netip.Prefix       `json:"vpc,omitzero"`
	Account  string             `json:"account,omitempty"`
}

// TimeScale divides the health checks' times in the twin: AWS's 15 s interval becomes 3 s.
const TimeScale = 5

// instanceID is the deployment's instance ID, or one made up that cannot be mistaken for
// AWS's.
func instanceID(h *Host) string {
	if h.InstanceID != "" {
		return h.InstanceID
	}
	return "i-twin-" + h.Name
}

// Stand-ins the machine may lack: sshd (OpenSSH) and the database (MariaDB).
type standIns struct {
	ssh, db bool
	// password is the database's master password, made for each twin.
	password string
}

// dbName is the database the twin's MariaDB holds, as the config's database.name.
const dbName = "webtier"

// region is the region of the stack's AZs ("ap-northeast-2").
func (p *Plan) region() string {
	for _, h := range p.Hosts {
		if len(h.AZ) > 1 {
			return h.AZ[:len(h.AZ)-1]
		}
	}
	return "twin"
}

// dbEndpoint is the database's endpoint name, made up (a real one has a random part where
// this has "twin").
func (p *Plan) dbEndpoint() string {
	for _, h := range p.Hosts {
		if h.Inside() && h.ep.Kind == verify.Database {
			return resName(h.Resource) + ".twin." + p.region() + ".rds.amazonaws.com"
		}
	}
	return ""
}

// secretsName is the Secrets Manager endpoint's regional name, which private DNS points at
// the endpoint's addresses.
func (p *Plan) secretsName() string { return "secretsmanager." + p.region() + ".amazonaws.com" }

// Specs are the services of every host and the resolver's.
func (p *Plan) Specs(with standIns) []*Spec {
	var out []*Spec
	sshHosts := map[*Host]bool{}
	if with.ssh {
		for _, h := range p.sshHosts() {
			sshHosts[h] = true
		}
	}
	state := StateDir(p.Prefix)
	out = append(out, &Spec{Host: "resolver", Namespace: p.Prefix + routerName, Kind: "VPC resolver", Private: p.Resolver,
		State: state, DNS: &DNSSpec{Addr: p.Resolver}})
	primary := true
	for _, h := range p.Hosts {
		s := &Spec{Host: h.Name, Namespace: h.Namespace, Kind: h.Kind, AZ: h.AZ, Private: h.Private, State: state}
		if h.Inside() && (h.ep.Kind == verify.Instance || h.ep.Kind == verify.ASGInstance) {
			s.IMDS, s.InstanceID = true, instanceID(h)
			if h.Role == rules.Web && p.Access.Role != "" {
				s.Role = p.Access.Role[strings.LastIndex(p.Access.Role, "/")+1:]
			}
			if p.managed(h) {
				s.Agent = &AgentSpec{Endpoint: p.ssmmessagesName(), Port: 443, Resolver: p.Resolver}
			}
		}
		for _, port := range h.Listen {
			switch {
			case h.Role == rules.Web && port == 80:
				s.Web = &WebSpec{Port: port, EFS: p.efsAccess(h),
					PHP: verify.BootstrapOf(h.ep.UserData, p.net.HealthPath()), Health: p.net.HealthPath()}
				if with.db && p.dbEndpoint() != "" {
					s.Web.DB = &DBAccess{Endpoint: p.dbEndpoint(), Name: dbName, Secrets: p.secretsName(), Resolver: p.Resolver}
				}
			case h.Role == rules.Repos && port == 443:
				s.Repo = &RepoSpec{Port: port}
				if p.Access.Repo != nil {
					s.Repo.Endpoint, s.Repo.VPC, s.Repo.Account = p.Access.Repo, p.net.VPCs[0].CIDRs[0], p.Access.Account
				}
			case h.Inside() && h.ep.Kind == verify.LBNode:
				// the node's listeners, below
			case port == 22 && sshHosts[h]:
				// sshd's
			case port == 3306 && with.db && h.Inside() && h.ep.Kind == verify.Database:
				s.DB = &DBSpec{Primary: primary, Endpoint: p.dbEndpoint(), Name: dbName, User: "admin", Password: with.password, Events: p.DBEvents}
				primary = false
			case port == nfsPort && h.Inside() && h.ep.Kind == verify.MountTarget:
				s.EFS = &EFSSpec{Port: port, Access: p.Access}
			case port == 443 && h.Role == rules.SSMEndpoint && serviceOf(h.ep) == "ssmmessages":
				s.Session = &SessionSpec{Port: port, Socket: sessionSocket(state, h.Name)}
			case port == 443 && with.db && h.Role == rules.SecretsEndpoint:
				s.Secrets = &SecretsSpec{Port: port, User: "admin", Password: with.password, Access: p.Access}
			default:
				s.Banner = append(s.Banner, port)
			}
		}
		if h.Inside() && h.ep.Kind == verify.LBNode {
			s.ALB = p.albSpec(h)
		}
		if len(s.Banner) > 0 || s.IMDS || s.Web != nil || s.ALB != nil || s.Repo != nil || s.DB != nil || s.Secrets != nil || s.EFS != nil || s.Session != nil || s.Agent != nil {
			out = append(out, s)
		}
	}
	return out
}

// albSpec is what one node does: each listener to the targets of its first target group
// the node may send to (as the lb_out chain allows).
func (p *Plan) albSpec(h *Host) *ALBSpec {
	lb := h.ep.LB
	spec := &ALBSpec{Name: resName(lb.Addr), Scale: TimeScale}
	azs := map[string]bool{}
	for _, n := range lb.Nodes {
		azs[n.AZ()] = true
	}
	for _, l := range lb.Listeners {
		if l.RedirectsToHTTPS {
			spec.Listeners = append(spec.Listeners, ALBListener{Port: l.Port, Redirect: true})
			continue
		}
		if len(l.Groups) == 0 {
			continue
		}
		g := l.Groups[0]
		cross := lb.CrossZone
		if g.CrossZone != nil {
			cross = *g.CrossZone
		}
		listener := ALBListener{Port: l.Port, Group: g.Addr, Health: g.Health, Deregistration: g.Deregistration}
		for _, t := range g.Targets {
			port := g.Port
			if t.Port != 0 {
				port = t.Port
			}
			for _, th := range p.Hosts {
				if th.Inside() && th.ep.ENI() == t.ENI.ENI() && azs[th.AZ] && (cross || th.AZ == h.AZ) {
					listener.Targets = append(listener.Targets, ALBTarget{Host: th.Name, Addr: th.Private, Port: port, AZ: th.AZ})
				}
			}
		}
		slices.SortFunc(listener.Targets, func(a, b ALBTarget) int { return a.Addr.Compare(b.Addr) })
		spec.Listeners = append(spec.Listeners, listener)
	}
	return spec
}

// scaled is a health-check time in seconds divided by the time scale.
func scaled(seconds, scale int) time.Duration {
	return time.Duration(seconds) * time.Second / time.Duration(max(scale, 1))
}

// String describes a health check as the twin runs it.
func (l ALBListener) describe(scale int) string {
	h := l.Health
	return fmt.Sprintf("GET %s every %s (AWS: %ds, time / %d), timeout %s, %d ok in, %d failed out",
		h.Path, scaled(h.Interval, scale), h.Interval, scale, scaled(h.Timeout, scale), h.Healthy, h.Unhealthy)
}
