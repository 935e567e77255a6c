package probe

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/webtier/webtier/policy"
	"github.com/webtier/webtier/rules"
	"github.com/webtier/webtier/twin/compiler"
	"github.com/webtier/webtier/twin/standin"
	"github.com/webtier/webtier/verify"
)

// ChangeReport is what a change did (twin.Change fills Steps and Services) and what the
// visitors saw meanwhile (the prober's figures, from Traffic.Stop, and verify's Expectations).
type ChangeReport struct {
	Steps []StepReport `json:"steps"`
	// Services are the hosts whose services the new stack would change, which keep running
	// the old ones.
	Services []string `json:"services_not_restarted,omitempty"`
	// Flows are the prober's figures per step and flow: "before" the first step, "applying:
	// STEP" while a step's difference is applied, then the step's state.
	Flows []FlowFigures `json:"flows"`
	// InService is how many targets the ALB nodes had in service, step by step.
	InService []ServiceFigures `json:"in_service"`
	// Sessions are the SSH sessions held open through the change.
	Sessions []SessionFigures `json:"sessions,omitempty"`
	// Expected is what verify says of each flow in each state (not while a step is applied).
	Expected []Expectation `json:"expected"`
}

// Disagreements are the flows whose requests in a state failed otherwise than verify says of
// that state: some failed where it says none should, none where it says some or all should,
// some got through where it says all fail. A flow with no request in the state is left out.
func (r *ChangeReport) Disagreements() []string {
	var out []string
	for _, e := range r.Expected {
		for _, f := range r.Flows {
			if f.Step != e.Step || f.Flow != e.Flow || f.Sent == 0 {
				continue
			}
			ok := true
			switch e.Fail {
			case FailNone:
				ok = f.Failed == 0
			case FailSome:
				ok = f.Failed > 0
			case FailAll:
				ok = f.Failed == f.Sent
			}
			if !ok {
				why := ""
				if e.Why != "" {
					why = " (" + e.Why + ")"
				}
				out = append(out, fmt.Sprintf("%s: %s: verify says %s fail%s; %d of %d failed (first: %s)", e.Step, e.Flow, e.Fail, why, f.Failed, f.Sent, cmp.Or(f.FirstError, "-")))
			}
		}
	}
	return out
}

// SessionFigures say whether an SSH session held open through a bastion survived the change,
// and if not, in which step it ended and why.
type SessionFigures struct {
	Session  string `json:"session"`
	Commands int    `json:"commands"`
	Survived bool   `json:"survived"`
	// LastAnswered is the step of the last command answered, EndedIn the step in which one
	// was not.
	LastAnswered string `json:"last_answered,omitempty"`
	EndedIn      string `json:"ended_in,omitempty"`
	Why          string `json:"why,omitempty"`
}

// ServiceFigures are the fewest and the most targets in service at an ALB node during one step
// (sampled every 100 ms; a node counts the targets it sends to).
type ServiceFigures struct {
	Step   string `json:"step"`
	Fewest int    `json:"fewest"`
	Most   int    `json:"most"`
}

// StepReport is one step applied: how long it took, the hosts it made and removed.
type StepReport struct {
	Name     string        `json:"name"`
	Applied  time.Duration `json:"applied"`
	Launched []string      `json:"launched,omitempty"`
	Ended    []string      `json:"ended,omitempty"`
}

// FlowFigures are one prober's requests during one step: sent, failed, and the longest run of
// failures.
type FlowFigures struct {
	Step       string        `json:"step"`
	Flow       string        `json:"flow"`
	Sent       int           `json:"sent"`
	Failed     int           `json:"failed"`
	LongestGap time.Duration `json:"longest_gap"`
	// FirstError is the first failure's reason.
	FirstError string `json:"first_error,omitempty"`
}

// Expectation is what verify says of one of the prober's flows in one state of a change: how
// many of its requests must fail there ("none", "some" or "all") and why.
type Expectation struct {
	Step string `json:"step"`
	Flow string `json:"flow"`
	Fail string `json:"fail"`
	Why  string `json:"why,omitempty"`
}

// Names of a flow's expected failures (Expectation.Fail): none, some or all of its requests.
const (
	FailNone = "none"
	FailSome = "some"
	FailAll  = "all"
)

// siteFlow is the name of the prober's GET / through an ALB node, dbFlow its /db.php, and
// repoFlow a web server's download of the repository's mirror list.
func siteFlow(node string) string { return "GET http://" + node + "/ every 100 ms" }
func dbFlow(node string) string   { return "GET http://" + node + "/db.php every 500 ms" }
func repoFlow(host string) string { return host + " GET the repository's mirror list every 1 s" }

// Expectations are verify's judgments of the prober's flows in the state p compiles (the
// report's step named step), flow by flow under the names Traffic counts them by: the site
// through each ALB node (the internet client to the node, the node to each of its targets on
// the traffic port), /db.php (a target that also reaches the database and the Secrets Manager
// endpoint and may read the secret) and each web server's download (to the repository, and
// the S3 endpoint's policy when there is one). Pure: it reads the plan only.
func Expectations(p *compiler.Plan, step string) []Expectation {
	var out []Expectation
	internet := p.FirstOf("internet")
	open := func(from, to *compiler.Host, port int) bool {
		if from == nil || to == nil || from.Endpoint() == nil || to.Endpoint() == nil {
			return false
		}
		v := p.Network().CanPorts(from.Endpoint().At(from.Private, 0), to.Endpoint(), verify.TCP, verify.Port(port))
		return !v.Reach.Empty()
	}
	specs := p.Specs(compiler.StandIns{})
	targets := func(node *compiler.Host) []*compiler.Host {
		var out []*compiler.Host
		for _, s := range specs {
			if s.Host != node.Name || s.ALB == nil {
				continue
			}
			for _, l := range s.ALB.Listeners {
				if l.Port != 80 {
					continue
				}
				for _, t := range l.Targets {
					if h, err := p.Host(t.Host); err == nil {
						out = append(out, h)
					}
				}
			}
		}
		return out
	}
	secretOK, secretWhy := true, ""
	if p.Access != nil && p.Access.Secret != nil && p.Access.Secret.Endpoint != nil {
		d, err := p.Access.ReadSecret(p.Access.Role)
		switch {
		case err != nil:
			secretOK, secretWhy = false, err.Error()
		case d.Outcome != policy.Allowed:
			secretOK, secretWhy = false, "GetSecretValue refused: "+d.Why
		}
	}
	db := p.FirstOf(string(rules.DB))
	secrets := p.HostsOfRole(rules.SecretsEndpoint)
	count := func(flow string, ok func(t *compiler.Host) (bool, string), node *compiler.Host, ts []*compiler.Host) Expectation {
		e := Expectation{Step: step, Flow: flow, Fail: FailNone}
		if !open(internet, node, 80) {
			e.Fail, e.Why = FailAll, "the internet client cannot reach "+node.Name+" on 80"
			return e
		}
		var bad []string
		for _, t := range ts {
			if good, why := ok(t); !good {
				bad = append(bad, t.Name+": "+why)
			}
		}
		switch {
		case len(ts) == 0:
			e.Fail, e.Why = FailAll, node.Name+" has no target"
		case len(bad) == len(ts):
			e.Fail, e.Why = FailAll, strings.Join(bad, "; ")
		case len(bad) > 0:
			e.Fail, e.Why = FailSome, strings.Join(bad, "; ")
		}
		return e
	}
	served := func(node *compiler.Host) func(t *compiler.Host) (bool, string) {
		return func(t *compiler.Host) (bool, string) {
			if !open(node, t, 80) {
				return false, node.Name + " cannot reach it on 80"
			}
			return true, ""
		}
	}
	redirects := func(node *compiler.Host) bool {
		for _, s := range specs {
			if s.Host == node.Name && s.ALB != nil {
				return slices.ContainsFunc(s.ALB.Listeners, func(l standin.ALBListener) bool { return l.Port == 80 && l.Redirect })
			}
		}
		return false
	}
	nodes := p.HostsOfRole(rules.ALB)
	for _, node := range nodes {
		flow := siteFlow(netip.AddrPortFrom(node.Public, 80).String())
		if redirects(node) && open(internet, node, 80) {
			out = append(out, Expectation{Step: step, Flow: flow, Fail: FailNone, Why: "the listener redirects to HTTPS"})
			continue
		}
		out = append(out, count(flow, served(node), node, targets(node)))
	}
	if len(nodes) > 0 && db != nil {
		node := nodes[0]
		flow := dbFlow(netip.AddrPortFrom(node.Public, 80).String())
		if redirects(node) && open(internet, node, 80) {
			out = append(out, Expectation{Step: step, Flow: flow, Fail: FailNone, Why: "the listener redirects to HTTPS"})
		} else {
			out = append(out, count(flow, func(t *compiler.Host) (bool, string) {
				if ok, why := served(node)(t); !ok {
					return ok, why
				}
				if !open(t, db, 3306) {
					return false, "no way to the database on 3306"
				}
				return true, ""
			}, node, targets(node)))
		}
		for _, t := range targets(node) {
			if !slices.ContainsFunc(secrets, func(s *compiler.Host) bool { return open(t, s, 443) }) {
				secretOK, secretWhy = false, t.Name+" has no way to the Secrets Manager endpoint on 443"
			}
		}
		// The page keeps the secret 5 minutes (constructs/web-init.sh, and the twin's page):
		// a refusal shows once that cache expires, not while a change is held.
		if !secretOK {
			e := &out[len(out)-1]
			e.Why = strings.TrimPrefix(e.Why+"; ", "; ") + secretWhy + ": /db.php fails once the page's 5-minute cache of the secret expires"
		}
	}
	repo := p.FirstOf(string(rules.Repos))
	for _, w := range p.HostsOfRole(rules.Web) {
		if repo == nil {
			break
		}
		e := Expectation{Step: step, Flow: repoFlow(w.Name), Fail: FailNone}
		if !open(w, repo, 443) {
			e.Fail, e.Why = FailAll, "no way to the repository on 443"
		} else if p.Access != nil && p.Access.Repo != nil { // the web subnets' S3 traffic takes the endpoint
			if d, err := p.Access.ReadRepo(rules.RepoMirrorList); err != nil || d.Outcome != policy.Allowed {
				e.Fail, e.Why = FailAll, "the S3 endpoint's policy refuses the read"
			}
		}
		out = append(out, e)
	}
	return out
}
