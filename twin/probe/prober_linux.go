package probe

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/webtier/webtier/rules"
	"github.com/webtier/webtier/twin/compiler"
	"github.com/webtier/webtier/twin/standin"
)

// Traffic keeps the seed's traffic going while a change is applied, each request on its own
// (a slow answer does not hold the next): GET / through every ALB node every 100 ms, /db.php
// through the first every 500 ms, and the repository from every web server every second
// (through NAT or the S3 gateway endpoint), and an operator's SSH session through a bastion.
// It keeps every request's step, time and outcome. Its methods are called from one goroutine,
// the change's.
type Traffic struct {
	threads Threads
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	mu      sync.Mutex
	cur     string
	steps   []string
	flows   []string
	samples []sample
	// inService is the fewest and most targets in service seen at a node, by step.
	inService map[string]*ServiceFigures
	// ctx is the prober's; hosts stops the flows sent from each web server; active are the
	// flows running, and ran those that ran in each step.
	ctx    context.Context
	hosts  map[string]context.CancelFunc
	active map[string]bool
	ran    map[string]map[string]bool
	// sessions are the SSH sessions' outcomes.
	sessions []*SessionFigures
	// internet is the internet client's, in its namespace (made again when a change moves it).
	internet *http.Client
}

// sample is one request of the prober.
type sample struct {
	step, flow string
	sent       time.Time
	err        error
}

// Start starts the traffic through the running twin of p, counted in the step "before": the
// flows above, from the internet client and every web server, /db.php only where the twin
// runs MariaDB, and, when ssh (the twin's hosts run sshd), an operator's SSH session to the
// first web server. It returns once every flow is started; Stop ends them and gives the
// figures.
func Start(ctx context.Context, p *compiler.Plan, ssh bool) (*Traffic, error) {
	ctx, cancel := context.WithCancel(ctx)
	pr := &Traffic{cancel: cancel, cur: "before", steps: []string{"before"}, inService: map[string]*ServiceFigures{},
		ctx: ctx, hosts: map[string]context.CancelFunc{}, active: map[string]bool{}, ran: map[string]map[string]bool{"before": {}}}
	client := func(h *compiler.Host) (*http.Client, error) {
		c, err := pr.threads.HTTPClient(h)
		if err == nil {
			c.Timeout, c.CheckRedirect = time.Second, answerRedirect
		}
		return c, err
	}
	var err error
	if pr.internet, err = client(p.FirstOf("internet")); err != nil {
		cancel()
		return nil, err
	}
	internet := func() *http.Client {
		pr.mu.Lock()
		defer pr.mu.Unlock()
		return pr.internet
	}
	pr.watchTargets(ctx, p)
	nodes := p.ALBAddrs(80)
	for _, node := range nodes {
		pr.run(ctx, siteFlow(node), 100*time.Millisecond, internet, "http://"+node+"/")
	}
	if len(nodes) > 0 && standin.HasMariaDB() && slices.ContainsFunc(p.Hosts, func(h *compiler.Host) bool { return h.Role == rules.DB }) {
		pr.run(ctx, dbFlow(nodes[0]), 500*time.Millisecond, internet, "http://"+nodes[0]+"/db.php")
	}
	if err := pr.Join(p, hostNames(p.HostsOfRole(rules.Web))); err != nil {
		cancel()
		return nil, err
	}
	if web := p.HostsOfRole(rules.Web); len(web) > 0 && ssh {
		if err := pr.session(ctx, p, web[0]); err != nil {
			cancel()
			return nil, err
		}
	}
	return pr, nil
}

// session holds an SSH session open from the admin host through the bastion of w's AZ to w,
// as an operator's would be, and runs a command in it every second (its answer due within
// 2 s, the first within 10 s while the session opens). A command unanswered ends the session:
// it did not survive.
func (pr *Traffic) session(ctx context.Context, p *compiler.Plan, w *compiler.Host) error {
	args, err := p.SSHArgs(w, []string{"sh", "-c", "'while read line; do hostname; done'"})
	if err != nil {
		return err
	}
	cmd := exec.Command(args[0], args[1:]...)
	in, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	// ssh's own messages say why a session ended; read once it has.
	errOut, err := cmd.StderrPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	said := make(chan string, 1)
	go func() {
		data, _ := io.ReadAll(errOut)
		said <- strings.TrimSpace(string(data))
	}()
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	flow := "ssh session admin -> bastion -> " + w.Name + ": a command every 1 s"
	f := &SessionFigures{Session: "admin -> bastion -> " + w.Name + " (ssh -J)", Survived: true}
	pr.mu.Lock()
	pr.flows = append(pr.flows, flow)
	pr.active[flow] = true
	pr.ran[pr.cur][flow] = true
	pr.sessions = append(pr.sessions, f)
	pr.mu.Unlock()
	pr.wg.Add(1)
	go func() {
		defer pr.wg.Done()
		defer func() {
			cmd.Process.Kill()
			cmd.Wait()
		}()
		due := 10 * time.Second
		for ctx.Err() == nil {
			pr.mu.Lock()
			step := pr.cur
			pr.mu.Unlock()
			sent := time.Now()
			var why string
			if _, err := io.WriteString(in, "next\n"); err != nil {
				why = "the session is closed: " + err.Error()
			} else {
				select {
				case line, ok := <-lines:
					switch {
					case !ok:
						why = "the session ended"
						select {
						case msg := <-said:
							why += ": " + msg
						case <-time.After(time.Second):
						}
					case line != w.Name:
						why = fmt.Sprintf("answered %q, not %s", line, w.Name)
					}
				case <-time.After(due):
					why = fmt.Sprintf("no answer in %s", due)
				case <-ctx.Done():
					return
				}
			}
			var err error
			if why != "" {
				err = errors.New(why)
			}
			pr.mu.Lock()
			pr.samples = append(pr.samples, sample{step, flow, sent, err})
			if err == nil {
				f.Commands++
				f.LastAnswered = step
			} else {
				f.Survived, f.EndedIn, f.Why = false, step, why
				delete(pr.active, flow)
			}
			pr.mu.Unlock()
			if err != nil {
				return
			}
			due = 2 * time.Second
			select {
			case <-ctx.Done():
			case <-time.After(time.Until(sent.Add(time.Second))):
			}
		}
	}()
	return nil
}

// hostNames are the names of hosts.
func hostNames(hosts []*compiler.Host) []string {
	var out []string
	for _, h := range hosts {
		out = append(out, h.Name)
	}
	return out
}

// Join starts the flows sent from each of the web servers among hosts (those a step launched):
// the repository's mirror list every second (through NAT or the S3 gateway endpoint). Other
// hosts are skipped.
func (pr *Traffic) Join(p *compiler.Plan, hosts []string) error {
	repo := p.FirstOf(string(rules.Repos))
	if repo == nil {
		return nil
	}
	for _, name := range hosts {
		w, err := p.Host(name)
		if err != nil || w.Role != rules.Web {
			continue
		}
		c, err := pr.threads.HTTPClient(w)
		if err != nil {
			return err
		}
		c.Timeout = time.Second
		ctx, cancel := context.WithCancel(pr.ctx)
		pr.hosts[w.Name] = cancel
		url := "https://" + repo.Private.String() + "/" + rules.RepoMirrorList
		pr.run(ctx, repoFlow(w.Name), time.Second, func() *http.Client { return c }, url)
	}
	return nil
}

// Follow moves the internet client's flows to its namespace made again, when a step launched it
// anew because a change moved its address (a rule of the new stack names the range of its old
// one).
func (pr *Traffic) Follow(p *compiler.Plan, launched []string) error {
	h := p.FirstOf("internet")
	if h == nil || !slices.Contains(launched, h.Name) {
		return nil
	}
	old := pr.threads.m[h.Name]
	delete(pr.threads.m, h.Name)
	c, err := pr.threads.HTTPClient(h)
	if err != nil {
		return err
	}
	c.Timeout, c.CheckRedirect = time.Second, answerRedirect
	pr.mu.Lock()
	pr.internet = c
	pr.mu.Unlock()
	if old != nil {
		old.Stop()
	}
	return nil
}

// Leave stops the flows sent from the hosts of from that next does not have, before they
// end: a host that is gone sends nothing. Call it before the difference is applied.
func (pr *Traffic) Leave(from, next *compiler.Plan) {
	for _, h := range ending(from, next) {
		if cancel := pr.hosts[h]; cancel != nil {
			cancel()
			delete(pr.hosts, h)
			pr.mu.Lock()
			delete(pr.active, repoFlow(h))
			pr.mu.Unlock()
		}
	}
}

// ending are the hosts of from that next does not have.
func ending(from, next *compiler.Plan) []string {
	var out []string
	for _, h := range from.Hosts {
		if _, err := next.Host(h.Name); err != nil {
			out = append(out, h.Name)
		}
	}
	return out
}

// watchTargets samples every 100 ms how many targets each ALB node has in service.
func (pr *Traffic) watchTargets(ctx context.Context, p *compiler.Plan) {
	dir := compiler.StateDir(p.Prefix)
	var nodes []string
	for _, h := range p.HostsOfRole(rules.ALB) {
		nodes = append(nodes, h.Name)
	}
	if len(nodes) == 0 {
		return
	}
	pause := func() {
		select {
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond):
		}
	}
	pr.wg.Add(1)
	go func() {
		defer pr.wg.Done()
		for ; ctx.Err() == nil; pause() {
			fewest, most := -1, 0
			for _, node := range nodes {
				var c standin.TargetCounts
				data, err := os.ReadFile(standin.CountsFile(dir, node))
				if err != nil || json.Unmarshal(data, &c) != nil {
					continue
				}
				slices.Sort(c.InService)
				in := len(slices.Compact(c.InService)) // a target behind two listeners counts once
				if fewest < 0 || in < fewest {
					fewest = in
				}
				most = max(most, in)
			}
			if fewest < 0 {
				continue
			}
			pr.mu.Lock()
			f := pr.inService[pr.cur]
			if f == nil {
				f = &ServiceFigures{Step: pr.cur, Fewest: fewest, Most: most}
				pr.inService[pr.cur] = f
			}
			f.Fewest, f.Most = min(f.Fewest, fewest), max(f.Most, most)
			pr.mu.Unlock()
		}
	}()
}

// run sends a GET of url every interval until the prober stops.
func (pr *Traffic) run(ctx context.Context, flow string, interval time.Duration, client func() *http.Client, url string) {
	pr.mu.Lock()
	if !slices.Contains(pr.flows, flow) {
		pr.flows = append(pr.flows, flow)
	}
	pr.active[flow] = true
	pr.ran[pr.cur][flow] = true
	pr.mu.Unlock()
	pr.wg.Add(1)
	go func() {
		defer pr.wg.Done()
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for ctx.Err() == nil {
			pr.mu.Lock()
			step := pr.cur
			pr.mu.Unlock()
			sent := time.Now()
			pr.wg.Add(1)
			go func() {
				defer pr.wg.Done()
				err := get(ctx, client(), url)
				if ctx.Err() != nil {
					return // stopped, not an answer
				}
				pr.mu.Lock()
				pr.samples = append(pr.samples, sample{step, flow, sent, err})
				pr.mu.Unlock()
			}()
			select {
			case <-ctx.Done():
			case <-tick.C:
			}
		}
	}()
}

// Step starts counting for the step name: requests sent from now on are its.
func (pr *Traffic) Step(name string) {
	pr.mu.Lock()
	pr.cur = name
	pr.steps = append(pr.steps, name)
	pr.ran[name] = maps.Clone(pr.active)
	pr.mu.Unlock()
}

// answerRedirect has a client take a redirect as the answer, as the prober counts it.
func answerRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// get asks for url and requires a 200, or a redirect to HTTPS.
func get(ctx context.Context, client *http.Client, url string) error {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	// A redirect to HTTPS is the listener's answer (a browser follows it).
	redirected := resp.StatusCode/100 == 3 && strings.HasPrefix(resp.Header.Get("Location"), "https://")
	if resp.StatusCode != http.StatusOK && !redirected {
		return fmt.Errorf("%s", resp.Status)
	}
	return nil
}

// Stop ends the traffic (after waiting for the requests in flight, about a second) and returns
// its figures, step by step and flow by flow: the requests sent in the step, those that failed,
// and the longest run of failed requests (from the first one's sending to the sending of the
// next that got an answer); the targets in service at the ALB nodes by step; the SSH
// sessions. Call it once.
func (pr *Traffic) Stop() ([]FlowFigures, []ServiceFigures, []SessionFigures) {
	// The requests in flight answer within the client's timeout.
	time.Sleep(1100 * time.Millisecond)
	pr.cancel()
	pr.wg.Wait()
	pr.threads.Stop()
	slices.SortFunc(pr.samples, func(a, b sample) int { return a.sent.Compare(b.sent) })
	var out []FlowFigures
	for _, step := range pr.steps {
		for _, flow := range pr.flows {
			if !pr.ran[step][flow] {
				continue // a flow from a host that was not there
			}
			f := FlowFigures{Step: step, Flow: flow}
			var failingSince time.Time
			for _, s := range pr.samples {
				if s.flow != flow || s.step != step {
					continue
				}
				f.Sent++
				switch {
				case s.err != nil:
					f.Failed++
					if f.FirstError == "" {
						f.FirstError = s.err.Error()
					}
					if failingSince.IsZero() {
						failingSince = s.sent
					}
					f.LongestGap = max(f.LongestGap, s.sent.Sub(failingSince)+100*time.Millisecond)
				default:
					failingSince = time.Time{}
				}
			}
			out = append(out, f)
		}
	}
	var in []ServiceFigures
	for _, step := range pr.steps {
		if f := pr.inService[step]; f != nil {
			in = append(in, *f)
		}
	}
	var sessions []SessionFigures
	for _, f := range pr.sessions {
		sessions = append(sessions, *f)
	}
	return out, in, sessions
}
