package verify

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/webtier/webtier/rules"
)

// The load balancers and target groups of a deployed stack in AWS's terms (Deployed).

// DeployedLB is a load balancer (ID its ARN) of a type ("application", "network", ...) with
// its subnets and security groups by ID, its rules.RoleTag tag and its listeners.
type DeployedLB struct {
	Addr      string             `json:"addr"`
	ID        string             `json:"id"`
	Type      string             `json:"type"`
	Internal  bool               `json:"internal,omitempty"`
	Subnets   []string           `json:"subnets,omitempty"`
	Groups    []string           `json:"groups,omitempty"`
	Role      string             `json:"role,omitempty"`
	Listeners []DeployedListener `json:"listeners,omitempty"`
}

// DeployedListener is a listener: its port, protocol, default actions and rules.
type DeployedListener struct {
	Addr     string           `json:"addr"`
	Port     int              `json:"port"`
	Protocol string           `json:"protocol"`
	Actions  []DeployedAction `json:"actions,omitempty"`
	Rules    []DeployedRule   `json:"rules,omitempty"`
}

// DeployedRule is a listener rule with its actions.
type DeployedRule struct {
	Addr    string           `json:"addr"`
	Actions []DeployedAction `json:"actions,omitempty"`
}

// DeployedAction is a listener action: its type ("forward", "redirect", ...), the ARNs of the
// target groups a forward sends to, the protocol a redirect sends to.
type DeployedAction struct {
	Type         string   `json:"type"`
	TargetGroups []string `json:"target_groups,omitempty"`
	Redirect     string   `json:"redirect,omitempty"`
}

// DeployedTargetGroup is a target group (ID its ARN): its port, its health check ("" and 0 for
// what AWS leaves at its defaults; HealthPort "traffic-port" or a number), the attributes
// AWS reports as text (load_balancing.cross_zone.enabled, deregistration_delay.timeout_seconds;
// "" when not reported), and the targets registered that no Auto Scaling group placed.
type DeployedTargetGroup struct {
	Addr           string           `json:"addr"`
	ID             string           `json:"id"`
	Port           int              `json:"port"`
	HealthPath     string           `json:"health_path,omitempty"`
	HealthPort     string           `json:"health_port,omitempty"`
	Matcher        string           `json:"matcher,omitempty"`
	Interval       int              `json:"interval,omitempty"`
	Timeout        int              `json:"timeout,omitempty"`
	Healthy        int              `json:"healthy,omitempty"`
	Unhealthy      int              `json:"unhealthy,omitempty"`
	CrossZone      string           `json:"cross_zone,omitempty"`
	Deregistration string           `json:"deregistration,omitempty"`
	Targets        []DeployedTarget `json:"targets,omitempty"`
}

// DeployedTarget is a target registered in a target group: an instance's ID (or an IP
// address), on its own port (0: the group's).
type DeployedTarget struct {
	Addr string `json:"addr"`
	ID   string `json:"id"`
	Port int    `json:"port,omitempty"`
}

func (x DeployedLB) address() string          { return x.Addr }
func (x DeployedTargetGroup) address() string { return x.Addr }

// targetGroupByARN is the target group whose ARN is arn; none is a load error as subnetByID's.
func (l *loader) targetGroupByARN(addr, attr, arn string) *TargetGroup {
	for _, g := range l.n.TargetGroups {
		if g.ID != "" && g.ID == arn {
			return g
		}
	}
	l.failAt(addr, attr)("%q names no %s of the stack", arn, strings.Join(targetGroupTypes, " or "))
	return nil
}

// deployedTargetGroups builds the target groups l.d holds.
func (l *loader) deployedTargetGroups() {
	for _, dg := range sortedBy(l.d.TargetGroups, func(DeployedTargetGroup) bool { return false }) {
		g := &TargetGroup{Addr: dg.Addr, ID: dg.ID, Port: dg.Port, Health: defaultHealth, Deregistration: 300}
		if dg.Deregistration != "" {
			if n, err := strconv.Atoi(dg.Deregistration); err == nil {
				g.Deregistration = n
			} else {
				l.failAt(dg.Addr, "deregistration_delay")("%q is not a whole number", dg.Deregistration)
			}
		}
		if dg.HealthPath != "" {
			g.Health.Path, g.PathSet = dg.HealthPath, true
		}
		if dg.Matcher != "" {
			g.Health.Matcher = dg.Matcher
		}
		for _, v := range []struct{ from, to *int }{{&dg.Interval, &g.Health.Interval}, {&dg.Timeout, &g.Health.Timeout},
			{&dg.Healthy, &g.Health.Healthy}, {&dg.Unhealthy, &g.Health.Unhealthy}} {
			if *v.from > 0 {
				*v.to = *v.from
			}
		}
		if dg.HealthPort != "" && dg.HealthPort != "traffic-port" {
			if n, err := strconv.Atoi(dg.HealthPort); err == nil {
				g.HealthPort = n
			} else {
				l.failAt(dg.Addr, "health_check.port")("%q is not a whole number", dg.HealthPort)
			}
		}
		if b, err := strconv.ParseBool(dg.CrossZone); err == nil {
			g.CrossZone = &b
		}
		l.targets[dg.Addr] = g
		l.n.TargetGroups = append(l.n.TargetGroups, g)
	}
}

// deployedForwards are the target groups a list of actions of the element at addr forwards to.
func (l *loader) deployedForwards(addr, attr string, actions []DeployedAction) []*TargetGroup {
	var out []*TargetGroup
	for i, a := range actions {
		if a.Type != "forward" {
			continue
		}
		for j, arn := range a.TargetGroups {
			if g := l.targetGroupByARN(addr, fmt.Sprintf("%s[%d].target_group[%d]", attr, i, j), arn); g != nil {
				out = append(out, g)
			}
		}
	}
	return out
}

// deployedBalancers builds the load balancers l.d holds with a node in each of their subnets,
// then their listeners and the rules' forwards (each in address order), then the targets
// registered that no Auto Scaling group placed.
func (l *loader) deployedBalancers() {
	listenerOf := map[string]*Listener{} // by the address of each of its rules
	type listener struct {
		DeployedListener
		lb *LoadBalancer
	}
	var all []listener
	for _, d := range sortedBy(l.d.LoadBalancers, func(DeployedLB) bool { return false }) {
		lb := &LoadBalancer{Addr: d.Addr, ID: d.ID, Internal: d.Internal}
		subnets := l.subnetsByID(d.Addr, "subnets", d.Subnets)
		groups := l.groupsByID(d.Addr, "security_groups", d.Groups)
		if l.addBalancer(lb, d.Type, roleNamed(d.Role, rules.ALB), subnets, groups) {
			for _, ls := range d.Listeners {
				all = append(all, listener{ls, lb})
			}
		}
	}
	slices.SortFunc(all, func(a, b listener) int { return cmp.Compare(a.Addr, b.Addr) })
	var ruleList []DeployedRule
	for _, ls := range all {
		ln := &Listener{Addr: ls.Addr, Port: ls.Port, Protocol: ls.Protocol, Groups: l.deployedForwards(ls.Addr, "default_action", ls.Actions)}
		ln.RedirectsToHTTPS = len(ls.Actions) > 0
		for _, a := range ls.Actions {
			ln.RedirectsToHTTPS = ln.RedirectsToHTTPS && a.Type == "redirect" && a.Redirect == "HTTPS"
		}
		ls.lb.Listeners = append(ls.lb.Listeners, ln)
		for _, r := range ls.Rules {
			ruleList = append(ruleList, r)
			listenerOf[r.Addr] = ln
		}
	}
	for _, r := range sortedBy(ruleList, func(DeployedRule) bool { return false }) {
		ln := listenerOf[r.Addr]
		ln.Groups = append(ln.Groups, l.deployedForwards(r.Addr, "action", r.Actions)...)
	}
	type target struct {
		DeployedTarget
		g *TargetGroup
	}
	var targets []target
	for _, dg := range l.d.TargetGroups {
		for _, t := range dg.Targets {
			targets = append(targets, target{t, l.targets[dg.Addr]})
		}
	}
	slices.SortFunc(targets, func(a, b target) int { return cmp.Compare(a.Addr, b.Addr) })
	for _, t := range targets {
		i := slices.IndexFunc(l.d.Instances, func(in DeployedInstance) bool { return in.ID == t.ID })
		if i < 0 {
			l.noteTarget(t.Addr, t.ID)
			continue
		}
		l.register(t.g, l.eniOf[l.d.Instances[i].Addr], t.Port)
	}
}

func (x DeployedRule) address() string { return x.Addr }
