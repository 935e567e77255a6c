package compiler

import (
	"path/filepath"
	"slices"
	"strings"

	"github.com/webtier/webtier/rules"
	"github.com/webtier/webtier/twin/standin"
	"github.com/webtier/webtier/verify"
)

// The services of the twin, as the compiler sees them: what runs in each host's namespace,
// computed from the plan into package standin's specs. One process per host runs them from
// its Spec (standin.Main).

// InstanceID is the deployment's instance ID, or one made up that cannot be mistaken for
// AWS's.
func InstanceID(h *Host) string {
	if h.InstanceID != "" {
		return h.InstanceID
	}
	return "i-twin-" + h.Name
}

// StandIns says what the twin runs beyond its own stand-ins: sshd (OpenSSH) and the database
// (MariaDB), which the machine may lack, and the database's password.
type StandIns struct {
	// SSH is true when the machine has sshd, DB when it has MariaDB.
	SSH, DB bool
	// Password is the database's master password, made for each twin.
	Password string
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

// DBEndpoint is the database's endpoint name, made up (a real one has a random part where
// this has "twin").
func (p *Plan) DBEndpoint() string {
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
func (p *Plan) Specs(with StandIns) []*standin.Spec {
	var out []*standin.Spec
	sshHosts := map[*Host]bool{}
	if with.SSH {
		for _, h := range p.SSHHosts() {
			sshHosts[h] = true
		}
	}
	state := StateDir(p.Prefix)
	out = append(out, &standin.Spec{Host: "resolver", Namespace: p.Prefix + routerName, Kind: "VPC resolver", Private: p.Resolver,
		State: state, DNS: &standin.DNS{Addr: p.Resolver}})
	primary := true
	for _, h := range p.Hosts {
		s := &standin.Spec{Host: h.Name, Namespace: h.Namespace, Kind: h.Kind, AZ: h.AZ, Private: h.Private, State: state}
		if h.Inside() && (h.ep.Kind == verify.Instance || h.ep.Kind == verify.ASGInstance) {
			s.IMDS, s.InstanceID = true, InstanceID(h)
			if h.Role == rules.Web && p.Access.Role != "" {
				s.Role = p.Access.Role[strings.LastIndex(p.Access.Role, "/")+1:]
			}
			if p.Managed(h) {
				s.Agent = &standin.Agent{Endpoint: p.ssmmessagesName(), Port: 443, Resolver: p.Resolver}
			}
		}
		for _, port := range h.Listen {
			switch {
			case h.Role == rules.Web && port == 80:
				s.Web = &standin.Web{Port: port, EFS: p.EFSAccess(h),
					PHP: verify.BootstrapOf(h.ep.UserData, p.net.HealthPath()), Health: p.net.HealthPath()}
				if with.DB && p.DBEndpoint() != "" {
					s.Web.DB = &standin.DBAccess{Endpoint: p.DBEndpoint(), Name: dbName, Secrets: p.secretsName(), Resolver: p.Resolver}
				}
			case h.Role == rules.Repos && port == 443:
				s.Repo = &standin.Repo{Port: port}
				if p.Access.Repo != nil {
					s.Repo.Endpoint, s.Repo.VPC, s.Repo.Account = p.Access.Repo, p.net.VPCs[0].CIDRs[0], p.Access.Account
				}
			case h.Inside() && h.ep.Kind == verify.LBNode:
				// the node's listeners, below
			case port == 22 && sshHosts[h]:
				// sshd's
			case port == 3306 && with.DB && h.Inside() && h.ep.Kind == verify.Database:
				s.DB = &standin.DB{Primary: primary, Endpoint: p.DBEndpoint(), Name: dbName, User: "admin", Password: with.Password, Events: p.DBEvents}
				primary = false
			case port == rules.NFS.From && h.Inside() && h.ep.Kind == verify.MountTarget:
				s.EFS = &standin.EFS{Port: port, Access: p.Access}
			case port == 443 && h.Role == rules.SSMEndpoint && serviceOf(h.ep) == "ssmmessages":
				s.Session = &standin.Session{Port: port, Socket: sessionSocket(state, h.Name)}
			case port == 443 && with.DB && h.Role == rules.SecretsEndpoint:
				s.Secrets = &standin.Secrets{Port: port, User: "admin", Password: with.Password, Access: p.Access}
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
func (p *Plan) albSpec(h *Host) *standin.ALB {
	lb := h.ep.LB
	spec := &standin.ALB{Name: resName(lb.Addr), Scale: standin.TimeScale}
	azs := map[string]bool{}
	for _, n := range lb.Nodes {
		azs[n.AZ()] = true
	}
	for _, l := range lb.Listeners {
		if l.RedirectsToHTTPS {
			spec.Listeners = append(spec.Listeners, standin.ALBListener{Port: l.Port, Redirect: true})
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
		listener := standin.ALBListener{Port: l.Port, Group: g.Addr, Health: g.Health, Deregistration: g.Deregistration}
		for _, t := range g.Targets {
			port := g.Port
			if t.Port != 0 {
				port = t.Port
			}
			for _, th := range p.Hosts {
				if th.Inside() && th.ep.ENI() == t.ENI.ENI() && azs[th.AZ] && (cross || th.AZ == h.AZ) {
					listener.Targets = append(listener.Targets, standin.ALBTarget{Host: th.Name, Addr: th.Private, Port: port, AZ: th.AZ})
				}
			}
		}
		slices.SortFunc(listener.Targets, func(a, b standin.ALBTarget) int { return a.Addr.Compare(b.Addr) })
		spec.Listeners = append(spec.Listeners, listener)
	}
	return spec
}

// EFSName is the file system's DNS name (a real one has the file system's ID where this has
// "fs-twin").
func (p *Plan) EFSName() string { return "fs-twin.efs." + p.region() + ".amazonaws.com" }

// MountTargets are the hosts that are EFS mount targets.
func (p *Plan) MountTargets() []*Host {
	var out []*Host
	for _, h := range p.Hosts {
		if h.Inside() && h.ep.Kind == verify.MountTarget {
			out = append(out, h)
		}
	}
	return out
}

// EFSRecords are the file system's DNS answers by the asker's subnet: every subnet of an
// AZ with a mount target gets that mount target's address; the others get none.
func (p *Plan) EFSRecords() map[string][]string {
	out := map[string][]string{}
	for _, mt := range p.MountTargets() {
		for _, s := range p.net.Subnets {
			if s.AZ == mt.AZ && s.CIDR.Addr().Is4() {
				out[s.CIDR.String()] = append(out[s.CIDR.String()], mt.Private.String())
			}
		}
	}
	return out
}

// EFSAccess is the mount of a web server's user data, when the stack has mount targets (in
// TLS when the stack's read lacks the file system).
func (p *Plan) EFSAccess(h *Host) *standin.EFSAccess {
	if h.Role != rules.Web || len(p.MountTargets()) == 0 {
		return nil
	}
	access := &standin.EFSAccess{Name: p.EFSName(), Resolver: p.Resolver, TLS: true}
	if fs := p.Access.FileSystem; fs != nil {
		access.IAM, access.TLS, access.ARN = fs.IAM, fs.TLS, fs.ARN
	}
	return access
}

// ssmmessagesName is the regional name of Session Manager's channels, which private DNS points
// at the ssmmessages endpoint's addresses.
func (p *Plan) ssmmessagesName() string { return "ssmmessages." + p.region() + ".amazonaws.com" }

// serviceOf is the last label of an interface endpoint's service: "ssmmessages".
func serviceOf(e *verify.Endpoint) string { return e.Service[strings.LastIndexByte(e.Service, '.')+1:] }

// SSMEndpointHosts are the hosts of one Systems Manager service's interface endpoint
// ("ssmmessages").
func (p *Plan) SSMEndpointHosts(service string) []*Host {
	var out []*Host
	for _, h := range p.HostsOfRole(rules.SSMEndpoint) {
		if h.ep != nil && serviceOf(h.ep) == service {
			out = append(out, h)
		}
	}
	return out
}

// Managed reports whether a host is an instance managed by Systems Manager: the stack has the
// Systems Manager endpoints (access ssm or both), and every instance then runs the agent.
func (p *Plan) Managed(h *Host) bool {
	return h.Inside() && (h.ep.Kind == verify.Instance || h.ep.Kind == verify.ASGInstance) && len(p.SSMEndpointHosts("ssmmessages")) > 0
}

// PrivateDNS are the names the VPC resolver answers for the interface endpoints (their
// private DNS): Secrets Manager's at secrets (the addresses its stand-in serves on) and each
// Systems Manager service's at its endpoint's hosts.
func (p *Plan) PrivateDNS(secrets []string) map[string][]string {
	names := map[string][]string{p.secretsName(): secrets}
	for _, service := range rules.SSMServices {
		for _, h := range p.SSMEndpointHosts(service) {
			name := service + "." + p.region() + ".amazonaws.com"
			names[name] = append(names[name], h.Private.String())
		}
	}
	return names
}

// sessionSocket is the operators' socket of the Session Manager stand-in on host.
func sessionSocket(state, host string) string {
	return filepath.Join(state, "session-manager-"+host+".sock")
}
