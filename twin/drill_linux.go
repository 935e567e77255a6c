package twin

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/webtier/webtier/rules"
	"github.com/webtier/webtier/verify"
)

// The seed's own tests, run on the twin: SSH through a bastion, the ALB page alternating
// between instances and a stopped server leaving the rotation, package installs through NAT,
// a scale-out under load and back, a database failover, files shared over EFS. A test whose
// stand-in this machine lacks (the database without MariaDB) says NOT BUILT.

// webAZs are the AZs the web servers run in.
func webAZs(webs []*Host) []string {
	var out []string
	for _, w := range webs {
		if !slices.Contains(out, w.AZ) {
			out = append(out, w.AZ)
		}
	}
	return out
}

// drill holds what the tests share: the plan and a thread in each namespace they use.
type drill struct {
	p       *Plan
	threads map[string]*nsThread
	rows    []DrillRow
}

func (d *drill) thread(h *Host) (*nsThread, error) {
	if t := d.threads[h.Name]; t != nil {
		return t, nil
	}
	t, err := enter(h.Namespace)
	if err != nil {
		return nil, err
	}
	d.threads[h.Name] = t
	return t, nil
}

func (d *drill) add(req int, test, expected, observed, evidence string, ok bool) {
	result := Fail
	if ok {
		result = Pass
	}
	d.rows = append(d.rows, DrillRow{req, test, expected, observed, evidence, result})
}

// Drill runs the seed's tests of the requirements reqs (all when empty) on a running twin and
// returns one row per test.
func Drill(ctx context.Context, p *Plan, reqs ...int) ([]DrillRow, error) {
	d := &drill{p: p, threads: map[string]*nsThread{}}
	defer func() {
		for _, t := range d.threads {
			t.stop()
		}
	}()
	steps := []struct {
		req int
		run func(context.Context) error
	}{{1, d.access}, {2, d.balancing}, {3, d.nat}, {4, d.scaling}, {5, d.failover}, {6, d.sharedFiles}}
	for _, step := range steps {
		if len(reqs) > 0 && !containsInt(reqs, step.req) {
			continue
		}
		if err := step.run(ctx); err != nil {
			return d.rows, err
		}
	}
	return d.rows, nil
}

// mustAddr parses an address the plan wrote.
func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }

// ssh is requirement 1: ssh -J from the admin host through each bastion to each web server
// runs `hostname` there; SSH from the internet to a bastion and from the admin host straight
// to a web server fail.
func (d *drill) ssh(ctx context.Context) error {
	bastions, webs := d.p.hostsOfRole(rules.Bastion), d.p.hostsOfRole(rules.Web)
	if !HasSSH() {
		d.rows = append(d.rows, DrillRow{1, "ssh -J admin -> bastion -> web server: hostname", "each host's name", "-",
			"OpenSSH (sshd, ssh, unshare) is not installed; `make setup` installs it as root", Fail})
	}
	for _, b := range bastions {
		if !HasSSH() {
			break
		}
		d.sshRow(ctx, fmt.Sprintf("ssh admin -> %s (%s): hostname", b.Name, b.Public), b, nil, b.Name)
		for _, w := range webs {
			d.sshRow(ctx, fmt.Sprintf("ssh -J %s admin -> %s -> %s (%s): hostname", b.Public, b.Name, w.Name, w.Private), w, b, w.Name)
		}
	}
	internet, admin := d.p.firstOf("internet"), d.p.firstOf("admin")
	for _, b := range bastions {
		if err := d.blocked(ctx, 1, internet, b, b.Public.String(), 22); err != nil {
			return err
		}
	}
	for _, w := range webs {
		if err := d.blocked(ctx, 1, admin, w, w.Private.String(), 22); err != nil {
			return err
		}
	}
	return nil
}

// sshRow runs `hostname` on target from the admin host (through via, when set).
func (d *drill) sshRow(ctx context.Context, test string, target, via *Host, want string) {
	args, err := d.p.SSHArgs(target, []string{"hostname"})
	if err == nil && via != nil {
		args, err = d.p.sshVia(target, via, []string{"hostname"})
	}
	if err != nil {
		d.add(1, test, want, "-", err.Error(), false)
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, args[0], args[1:]...).CombinedOutput()
	got := strings.TrimSpace(string(out))
	evidence := "ssh " + strings.Join(args[6:], " ")
	if err != nil {
		evidence += ": " + err.Error()
	}
	d.add(1, test, want, got, evidence, err == nil && got == want)
}

// blocked checks that a TCP connection from one host to another's address fails.
func (d *drill) blocked(ctx context.Context, req int, from, to *Host, addr string, port int) error {
	t, err := d.thread(from)
	if err != nil {
		return err
	}
	res, err := t.tcp(ctx, 0, mustAddr(addr), port, Timeout)
	if err != nil {
		return err
	}
	observed := "blocked"
	if res.Through {
		observed = "connected"
	}
	d.add(req, fmt.Sprintf("%s -> %s (%s) tcp/%d", from.Name, to.Name, addr, port), "blocked", observed, res.How, !res.Through)
	return nil
}

// httpClient is an HTTP client whose connections start in a host's namespace.
func (d *drill) httpClient(h *Host) (*http.Client, error) {
	t, err := d.thread(h)
	if err != nil {
		return nil, err
	}
	return &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return t.dial(ctx, addr, 3*time.Second)
		},
		DisableKeepAlives: true,
		// The repository's certificate is made up by the twin.
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true},
	}}, nil
}

// page asks the ALB for / and returns the instance ID that answered, or the error.
func page(client *http.Client, addr string) (string, error) {
	id, _, err := pageBody(client, addr)
	return id, err
}

// pageBody asks the ALB for / and returns the instance ID that answered and the page.
func pageBody(client *http.Client, addr string) (id, body string, err error) {
	resp, err := client.Get("http://" + addr + "/")
	if err != nil {
		return "", "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	switch {
	case resp.StatusCode != http.StatusOK:
		return "", "", fmt.Errorf("%s", resp.Status)
	case resp.Header.Get("X-Webtier-Twin-Fail-Open") != "":
		return "", "", fmt.Errorf("answered with no healthy target (the ALB fails open)")
	}
	pg, ok := ParsePage(string(b))
	if !ok {
		return "", "", fmt.Errorf("no instance ID in the page")
	}
	return pg.Instance, string(b), nil
}

// balancing is requirement 2: 30 requests from the internet client to the ALB (its nodes'
// addresses in turn, as its DNS name gives them) reach every web server in both AZs; a web
// server whose HTTP service stops leaves the rotation within the health check's window, and
// comes back after it starts again.
func (d *drill) balancing(ctx context.Context) error {
	internet := d.p.firstOf("internet")
	client, err := d.httpClient(internet)
	if err != nil {
		return err
	}
	var nodes []string
	for _, h := range d.p.hostsOfRole(rules.ALB) {
		if h.Public.IsValid() {
			nodes = append(nodes, h.Public.String())
		}
	}
	webs := d.p.hostsOfRole(rules.Web)
	if len(nodes) == 0 || len(webs) == 0 {
		d.add(2, "30 requests to the ALB", "every web server answers", "-", "no internet-facing ALB node or no web server", false)
		return nil
	}
	// Wait (bounded: the health checks' window from now) until every web server has
	// answered once and every ALB node has it in service, so that the 30 requests find every
	// target in service.
	health := d.p.albHealth()
	warm := time.Now().Add(time.Duration(health.Healthy+2) * scaled(health.Interval, TimeScale))
	answered := map[string]bool{}
	for i := 0; time.Now().Before(warm) && (len(answered) < len(webs) || !d.allInService()); i++ {
		if id, err := page(client, nodes[i%len(nodes)]); err == nil {
			answered[id] = true
		} else {
			sleep(ctx, 200)
		}
	}
	seen := map[string]int{}
	var failures []string
	for i := range 30 {
		id, err := page(client, nodes[i%len(nodes)])
		if err != nil {
			failures = append(failures, err.Error())
			continue
		}
		seen[id]++
	}
	var want, got []string
	allIn := true
	for _, w := range webs {
		want = append(want, instanceID(w)+" ("+w.AZ+")")
		if seen[instanceID(w)] == 0 {
			allIn = false
		}
	}
	for id, n := range seen {
		got = append(got, fmt.Sprintf("%s x%d", id, n))
	}
	sort.Strings(got)
	evidence := strings.Join(got, ", ")
	if len(failures) > 0 {
		evidence += fmt.Sprintf("; %d failed: %s", len(failures), failures[0])
	}
	d.add(2, "30 requests from the internet to the ALB nodes "+strings.Join(nodes, ", "), strings.Join(want, ", "),
		fmt.Sprintf("%d instances answered", len(seen)), evidence, allIn && len(failures) == 0)
	if azs := webAZs(webs); d.p.Live && len(azs) < 2 {
		d.rows = append(d.rows, DrillRow{2, "the answers come from both AZs", "both AZs", strings.Join(azs, ", "),
			"the emulator placed every instance of the group in one AZ; AWS spreads them over the group's subnets", Limitation})
	}

	// Stop one web server's HTTP service, then start it again.
	victim := webs[0]
	if !allIn || len(failures) > 0 {
		for _, test := range []string{"stop " + victim.Name + "'s web server: it leaves the rotation", "start it again: it returns to the rotation"} {
			d.add(2, test, "within the health check's window", "-", "not run: the requests above did not all succeed", false)
		}
		return nil
	}
	window := time.Duration(health.Unhealthy+1)*scaled(health.Interval, TimeScale) + scaled(health.Timeout, TimeScale)
	if err := d.signal(victim, syscall.SIGUSR1); err != nil {
		return err
	}
	start := time.Now()
	out := d.waitRotation(ctx, client, nodes, instanceID(victim), false, 3*window)
	d.add(2, "stop "+victim.Name+"'s web server: it leaves the rotation", "within "+window.Round(time.Millisecond).String(),
		out.describe(start), out.evidence, out.ok && out.at.Sub(start) <= window)
	d.unhealthyAlarm(ctx, start)
	back := time.Duration(health.Healthy+1) * scaled(health.Interval, TimeScale)
	if err := d.signal(victim, syscall.SIGUSR2); err != nil {
		return err
	}
	start = time.Now()
	out = d.waitRotation(ctx, client, nodes, instanceID(victim), true, 3*back)
	d.add(2, "start it again: it returns to the rotation", "within "+back.Round(time.Millisecond).String(),
		out.describe(start), out.evidence, out.ok && out.at.Sub(start) <= back)
	return nil
}

// unhealthyAlarm: with a web server out of service, the stack's alarm on the ALB's
// UnHealthyHostCount goes to ALARM and its notification reaches its topic (the twin's
// CloudWatch and SNS stand-ins, alarms.go).
func (d *drill) unhealthyAlarm(ctx context.Context, since time.Time) {
	const test = "the unhealthy-host alarm notifies its topic"
	var alarm *verify.MetricAlarm
	for i, a := range d.p.Alarms {
		if a.Namespace == "AWS/ApplicationELB" && a.Metric == "UnHealthyHostCount" && len(a.AlarmTopics) > 0 {
			alarm = &d.p.Alarms[i]
			break
		}
	}
	switch {
	case alarm == nil && d.p.Live:
		d.rows = append(d.rows, DrillRow{2, test, "ALARM to its topic", "-",
			"the alarms of a deployed stack are not read back yet (verify --live says not read)", NotBuilt})
		return
	case alarm == nil:
		d.add(2, test, "ALARM to its topic", "no alarm", "the stack has no alarm on AWS/ApplicationELB UnHealthyHostCount that notifies a topic", false)
		return
	}
	want := "ALARM to " + strings.Join(alarm.AlarmTopics, ", ")
	limit := time.Duration(alarm.EvaluationPeriods+3) * datapoint()
	for deadline := time.Now().Add(limit); time.Now().Before(deadline); sleep(ctx, 200) {
		sent, err := ReadNotifications(d.p.Prefix)
		if err != nil {
			d.add(2, test+" ("+alarm.Name+")", want, "-", err.Error(), false)
			return
		}
		for _, n := range sent {
			if n.At.After(since) && n.Alarm == alarm.Name && n.State == "ALARM" {
				d.add(2, test+" ("+alarm.Name+")", want, fmt.Sprintf("ALARM to %s after %.1fs", n.Topic, n.At.Sub(since).Seconds()),
					n.Reason+"; recorded in "+SNSLog, true)
				return
			}
		}
	}
	d.add(2, test+" ("+alarm.Name+")", want, "no notification in "+limit.String(),
		fmt.Sprintf("%d of %d datapoints of %s must breach; the ALB nodes' counts are in %s", alarm.DatapointsToAlarm, alarm.EvaluationPeriods, datapoint(), "*.targets.json"), false)
}

// rotation is how a wait for a change of the rotation ended.
type rotation struct {
	ok       bool
	at       time.Time
	evidence string
}

func (r rotation) describe(start time.Time) string {
	if !r.ok {
		return "not seen"
	}
	return "after " + r.at.Sub(start).Round(100*time.Millisecond).String()
}

// waitRotation polls the nodes every 0.5 s until the instance id is in the rotation (in) or
// out of it: out when 2 rounds over every node answer 200 without it, in when it answers.
func (d *drill) waitRotation(ctx context.Context, client *http.Client, nodes []string, id string, in bool, limit time.Duration) rotation {
	deadline := time.Now().Add(limit)
	errors := 0
	clean := 0
	for time.Now().Before(deadline) {
		roundClean := true
		for _, n := range nodes {
			for range 2 {
				got, err := page(client, n)
				switch {
				case in && got == id:
					return rotation{true, time.Now(), fmt.Sprintf("%s answered through %s", id, n)}
				case err != nil:
					errors++
					roundClean = false
				case got == id:
					roundClean = false
				}
			}
		}
		if !in && roundClean {
			if clean++; clean == 1 {
				return rotation{true, time.Now(), fmt.Sprintf("every request answered by another instance; %d requests failed while it was still in", errors)}
			}
		}
		sleep(ctx, 500)
	}
	return rotation{false, time.Now(), fmt.Sprintf("%d requests failed", errors)}
}

// signal sends sig to a host's services process.
func (d *drill) signal(h *Host, sig syscall.Signal) error {
	return signalPid(filepath.Join(StateDir(d.p.Prefix), h.Name+".pid"), sig)
}

// albHealth is the health check of the first listener of an ALB node.
func (p *Plan) albHealth() (h struct{ Interval, Timeout, Healthy, Unhealthy int }) {
	for _, s := range p.Specs(standIns{}) {
		if s.ALB != nil && len(s.ALB.Listeners) > 0 {
			hc := s.ALB.Listeners[0].Health
			h.Interval, h.Timeout, h.Healthy, h.Unhealthy = hc.Interval, hc.Timeout, hc.Healthy, hc.Unhealthy
			return h
		}
	}
	return h
}

// nat is requirement 3: each web server reaches the package repository over HTTPS, and the
// repository saw the Elastic IP of the NAT gateway of the server's AZ; a host elsewhere on
// the internet is not reached, and the internet does not reach the web servers.
func (d *drill) nat(ctx context.Context) error {
	repo, elsewhere, internet := d.p.firstOf("repos"), d.p.firstOf("internet"), d.p.firstOf("internet")
	for _, h := range d.p.Hosts {
		if h.Name == "elsewhere" {
			elsewhere = h
		}
	}
	for _, w := range d.p.hostsOfRole(rules.Web) {
		var nat *Host
		for _, h := range d.p.hostsOfRole(rules.NAT) {
			if h.AZ == w.AZ || nat == nil {
				nat = h
			}
		}
		client, err := d.httpClient(w)
		if err != nil {
			return err
		}
		test := fmt.Sprintf("%s -> repository %s https", w.Name, repo.Private)
		want, seenAs := "200, seen from "+nat.Name+"'s EIP "+nat.Public.String(), nat.Public.String()
		if throughGateway(w, repo.Private) {
			want, seenAs = "200 through the gateway endpoint, seen from "+w.Private.String(), w.Private.String()
		}
		resp, err := client.Get("https://" + repo.Private.String() + "/" + rules.RepoMirrorList)
		if err != nil {
			d.add(3, test, want, "failed", err.Error(), false)
		} else {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			saw := ""
			if m := regexp.MustCompile(`you came from (\S+)`).FindSubmatch(body); m != nil {
				saw = string(m[1])
			}
			d.add(3, test, want, fmt.Sprintf("%s, seen from %s", resp.Status, saw), "the repository's record: "+RepoLog,
				resp.StatusCode == http.StatusOK && saw == seenAs)
		}
		if err := d.blocked(ctx, 3, w, elsewhere, elsewhere.Private.String(), 443); err != nil {
			return err
		}
		if err := d.blocked(ctx, 3, internet, w, w.Private.String(), 80); err != nil {
			return err
		}
	}
	return nil
}

// readDB asks the ALB for /db.php.
func readDB(client *http.Client, node string) (DBPage, error) {
	resp, err := client.Get("http://" + node + "/db.php")
	if err != nil {
		return DBPage{}, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return DBPage{}, fmt.Errorf("%s", resp.Status)
	}
	pg, ok := ParseDBPage(string(body))
	if !ok {
		return DBPage{}, fmt.Errorf("no endpoint on the page")
	}
	return pg, nil
}

// loadClients is how many visitors ask for /db.php at once during the failover: twice the
// workers of the site's pools on the group at its largest (4 servers of 5 workers; the twin's
// Auto Scaling controller grows the group under this load).
const loadClients = 40

// allInService reports whether every ALB node's health checks have every web server in
// service: its last transition in the node's log is "healthy".
func (d *drill) allInService() bool {
	for _, node := range d.p.hostsOfRole(rules.ALB) {
		data, _ := os.ReadFile(filepath.Join(StateDir(d.p.Prefix), node.Name+".log"))
		last := map[string]bool{}
		for _, line := range strings.Split(string(data), "\n") {
			if host, _, ok := strings.Cut(line, " healthy after "); ok {
				last[host] = true
			} else if host, _, ok := strings.Cut(line, " unhealthy after "); ok {
				last[host] = false
			}
		}
		for _, w := range d.p.hostsOfRole(rules.Web) {
			if !last[w.Name] {
				return false
			}
		}
	}
	return true
}

// logSizes are the sizes of the logs of the hosts of a role.
func (d *drill) logSizes(role rules.Role) map[string]int64 {
	out := map[string]int64{}
	for _, h := range d.p.hostsOfRole(role) {
		if fi, err := os.Stat(filepath.Join(StateDir(d.p.Prefix), h.Name+".log")); err == nil {
			out[h.Name] = fi.Size()
		}
	}
	return out
}

// newLogLines are the lines containing what that the hosts of a role logged since sizes,
// each prefixed with its host.
func (d *drill) newLogLines(role rules.Role, sizes map[string]int64, what string) []string {
	var out []string
	for _, h := range d.p.hostsOfRole(role) {
		data, _ := os.ReadFile(filepath.Join(StateDir(d.p.Prefix), h.Name+".log"))
		if int64(len(data)) < sizes[h.Name] {
			continue
		}
		for _, line := range strings.Split(string(data[sizes[h.Name]:]), "\n") {
			if strings.Contains(line, what) {
				out = append(out, h.Name+": "+line)
			}
		}
	}
	return out
}

// lastLogLine is the last line starting with prefix in the logs of the hosts of a role (as
// PHP-FPM's error log on the instances), or "".
func (d *drill) lastLogLine(role rules.Role, prefix string) string {
	last := ""
	for _, h := range d.p.hostsOfRole(role) {
		data, _ := os.ReadFile(filepath.Join(StateDir(d.p.Prefix), h.Name+".log"))
		for _, line := range strings.Split(string(data), "\n") {
			if strings.HasPrefix(line, prefix) {
				last = line
			}
		}
	}
	return last
}

// failover is requirement 5: with /db.php read through the ALB every 0.5 s, the primary
// stops; the standby takes over under the same endpoint name, the page shows the same rows,
// and the interruption is measured.
func (d *drill) failover(ctx context.Context) error {
	const test = "stop the database primary while /db.php is polled every 0.5s"
	var primary, standby *Host
	for _, s := range d.p.Specs(standIns{db: HasMariaDB()}) {
		if s.DB != nil {
			h, _ := d.p.Host(s.Host)
			if s.DB.Primary {
				primary = h
			} else if standby == nil {
				standby = h
			}
		}
	}
	switch {
	case !HasMariaDB():
		d.rows = append(d.rows, DrillRow{5, test, "standby takes over, same endpoint", "-",
			"MariaDB (mariadb-server) is not installed; `make setup` installs it as root", NotBuilt})
		return nil
	case primary == nil:
		d.add(5, test, "standby takes over, same endpoint", "-", "the stack has no database", false)
		return nil
	case standby == nil:
		d.add(5, test, "standby takes over, same endpoint", "no standby",
			"the database has one subnet ("+primary.Subnet+"): Multi-AZ needs a DB subnet group over two AZs", false)
		return nil
	}
	client, err := d.httpClient(d.p.firstOf("internet"))
	if err != nil {
		return err
	}
	nodes := d.p.ALBAddrs(80)
	if len(nodes) == 0 {
		d.add(5, test, "standby takes over", "-", "no internet-facing ALB node to read /db.php through", false)
		return nil
	}
	var before DBPage
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); sleep(ctx, 500) {
		if before, err = readDB(client, nodes[0]); err == nil {
			break
		}
	}
	if err != nil {
		why := "/db.php never answered before the failover: " + err.Error()
		if line := d.lastLogLine(rules.Web, "db.php: "); line != "" {
			why += "; the web servers' error log: " + line
		}
		d.add(5, test, "standby takes over, same endpoint", "-", why, false)
		return nil
	}
	data, err := os.ReadFile(filepath.Join(dbDir(StateDir(d.p.Prefix)), "mariadbd.pid"))
	pid, perr := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || perr != nil {
		d.add(5, test, "standby takes over", "-", "no primary process to stop", false)
		return nil
	}
	// Every web server in service first, as on a site that has been running.
	for deadline := time.Now().Add(60 * time.Second); !d.allInService() && time.Now().Before(deadline); {
		sleep(ctx, 500)
	}
	// While it fails over, visitors keep asking for /db.php: loadClients at once, each asking
	// again as soon as it has an answer (or gave up after 5 s).
	albLogs := d.logSizes(rules.ALB)
	load, stopLoad := context.WithCancel(ctx)
	var visitors sync.WaitGroup
	defer func() {
		stopLoad()
		visitors.Wait()
	}()
	for i := range loadClients {
		visitors.Add(1)
		go func() {
			defer visitors.Done()
			for j := i; load.Err() == nil; j++ {
				readDB(client, nodes[j%len(nodes)])
			}
		}()
	}
	// The primary's host fails: its database process ends at once and its address answers
	// nothing (a connection waits for its timeout, as to a failed host on AWS).
	if err := run(ctx, "", "ip", "-n", primary.Namespace, "link", "set", "eth0", "down"); err != nil {
		return err
	}
	syscall.Kill(pid, syscall.SIGKILL)
	stopped := time.Now()
	var lastOK, firstBad, back time.Time
	var after DBPage
	failures := 0
	for i := 0; time.Since(stopped) < 60*time.Second; i++ {
		r, err := readDB(client, nodes[i%len(nodes)])
		switch {
		case err != nil:
			failures++
			if firstBad.IsZero() {
				firstBad = time.Now()
			}
		case r.Addr == before.Addr:
			lastOK = time.Now()
		default:
			after, back = r, time.Now()
		}
		if !back.IsZero() {
			break
		}
		sleep(ctx, 500)
	}
	// Health checks that were failing when the standby took over report in a few intervals.
	health := d.p.albHealth()
	sleep(ctx, int(time.Duration(health.Unhealthy+1)*scaled(health.Interval, TimeScale)/time.Millisecond))
	stopLoad()
	out := d.newLogLines(rules.ALB, albLogs, "unhealthy after")
	evidence := "the ALB nodes' health checks kept every server in service"
	if len(out) > 0 {
		evidence = strings.Join(out, "; ")
	}
	defer d.add(5, fmt.Sprintf("no web server leaves service during the failover (%d visitors on /db.php)", loadClients), "0 taken out of service",
		fmt.Sprintf("%d taken out of service", len(out)), evidence, len(out) == 0)
	if back.IsZero() {
		d.add(5, test, "the standby "+standby.Name+" takes over", "no answer from it in 60s", fmt.Sprintf("%d reads failed", failures), false)
		return nil
	}
	down := back.Sub(stopped)
	if !lastOK.IsZero() && lastOK.After(stopped) {
		down = back.Sub(lastOK)
	}
	ok := after.Endpoint == before.Endpoint && after.Rows == before.Rows && after.Addr == standby.Private.String()
	d.add(5, test, fmt.Sprintf("%s answers under %s, same rows", standby.Name, before.Endpoint),
		fmt.Sprintf("%s -> %s, interrupted %.1fs", before.Addr, after.Addr, down.Seconds()),
		fmt.Sprintf("%d reads failed; rows %s", failures, map[bool]string{true: "the same", false: "differ"}[after.Rows == before.Rows]), ok)
	d.failoverEvent(ctx, stopped)
	return nil
}

// failoverEvent: the failover's RDS event reaches the topic of the stack's event subscription
// (the twin's stand-in for RDS's event notifications, alarms.go).
func (d *drill) failoverEvent(ctx context.Context, since time.Time) {
	const test = "the failover's event notifies its topic"
	var sub *verify.EventSubscription
	for i, s := range d.p.DBEvents {
		if s.Topic != "" && (len(s.Categories) == 0 || slices.Contains(s.Categories, "failover")) {
			sub = &d.p.DBEvents[i]
			break
		}
	}
	switch {
	case sub == nil && d.p.Live:
		d.rows = append(d.rows, DrillRow{5, test, "a failover event to its topic", "-",
			"the event subscriptions of a deployed stack are not read back yet", NotBuilt})
		return
	case sub == nil:
		d.add(5, test, "a failover event to its topic", "no subscription", "the stack has no RDS event subscription of its database's failover category that sends to a topic", false)
		return
	}
	want := "failover to " + sub.Topic
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); sleep(ctx, 200) {
		sent, err := ReadNotifications(d.p.Prefix)
		if err != nil {
			d.add(5, test+" ("+sub.Name+")", want, "-", err.Error(), false)
			return
		}
		for _, n := range sent {
			if n.At.After(since) && n.Subscription == sub.Name && n.Category == "failover" {
				d.add(5, test+" ("+sub.Name+")", want, fmt.Sprintf("failover to %s after %.1fs", n.Topic, n.At.Sub(since).Seconds()),
					n.Reason+"; recorded in "+SNSLog, true)
				return
			}
		}
	}
	d.add(5, test+" ("+sub.Name+")", want, "no notification in 5s after the standby answered", "nothing in "+SNSLog, false)
}

// throughGateway reports whether h's route table sends addr to a gateway endpoint (longest
// prefix among its routes, as AWS picks).
func throughGateway(h *Host, addr netip.Addr) bool {
	best, gateway := -1, false
	for _, r := range h.ep.Subnet.Routes.Routes {
		cidrs := []netip.Prefix{r.Dest}
		if r.List != "" {
			cidrs = r.ListCIDRs
		}
		for _, c := range cidrs {
			if c.IsValid() && c.Contains(addr) && c.Bits() > best {
				best, gateway = c.Bits(), r.Kind == verify.TargetGateway
			}
		}
	}
	return gateway
}
