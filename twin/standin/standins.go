package standin

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"math/big"
	mathrand "math/rand/v2"
	"net"
	"net/http"
	"net/http/httputil"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/webtier/webtier/rules"
	"github.com/webtier/webtier/site"
	"github.com/webtier/webtier/verify"
)

// The stand-ins: small real servers that do what the AWS part does for the seed's tests, and
// say in every answer what they stand in for.

// metadataAddr is where instances find the instance metadata service.
const metadataAddr = "169.254.169.254:80"

// serveIMDS is the instance metadata service, version 2 only (the launch template's
// http_tokens = required): a PUT to /latest/api/token with a TTL header gives a token, and a
// GET of /latest/meta-data/... without a valid token is refused with 401, as on EC2. An
// instance with a role (the spec's Role) gets its credentials at iam/security-credentials/,
// made by the twin's stand-in for STS (iam.go).
func serveIMDS(ctx context.Context, spec *Spec) error {
	ln, err := listen(ctx, metadataAddr)
	if err != nil {
		return err
	}
	var mu sync.Mutex
	tokens := map[string]time.Time{}
	data := map[string]string{
		"instance-id": spec.InstanceID, "local-ipv4": spec.Private.String(),
		"placement/availability-zone": spec.AZ,
	}
	if spec.Role != "" {
		key, err := readSTSKey(spec.State)
		if err != nil {
			return err
		}
		creds, _ := json.Marshal(issue(key, spec.InstanceID))
		data["iam/security-credentials/"] = spec.Role
		data["iam/security-credentials/"+spec.Role] = string(creds)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/latest/api/token", func(w http.ResponseWriter, r *http.Request) {
		ttl, err := strconv.Atoi(r.Header.Get("X-aws-ec2-metadata-token-ttl-seconds"))
		switch {
		case r.Method != http.MethodPut:
			http.Error(w, "IMDSv2: PUT a token request", http.StatusMethodNotAllowed)
			return
		case err != nil || ttl < 1 || ttl > 21600:
			http.Error(w, "X-aws-ec2-metadata-token-ttl-seconds: 1-21600", http.StatusBadRequest)
			return
		}
		b := make([]byte, 16)
		rand.Read(b)
		token := hex.EncodeToString(b)
		mu.Lock()
		tokens[token] = time.Now().Add(time.Duration(ttl) * time.Second)
		mu.Unlock()
		w.Header().Set("X-aws-ec2-metadata-token-ttl-seconds", strconv.Itoa(ttl))
		io.WriteString(w, token)
	})
	mux.HandleFunc("/latest/meta-data/", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		expiry, ok := tokens[r.Header.Get("X-aws-ec2-metadata-token")]
		mu.Unlock()
		if !ok || time.Now().After(expiry) {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		v, ok := data[strings.TrimPrefix(r.URL.Path, "/latest/meta-data/")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		io.WriteString(w, v)
	})
	go (&http.Server{Handler: withServer(mux, "webtier-twin-imds (stands in for the EC2 instance metadata service)")}).Serve(ln)
	return nil
}

// withServer names the stand-in in every response's Server header.
func withServer(h http.Handler, name string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Server", name)
		h.ServeHTTP(w, r)
	})
}

// imdsGet reads one item from the instance metadata service with an IMDSv2 token, as the
// user data's index.php does: "-" when it cannot.
func imdsGet(client *http.Client, path string) string {
	v, err := imdsRead(context.Background(), client, path)
	if err != nil {
		return "-"
	}
	return v
}

// imdsRead reads one item from the instance metadata service with an IMDSv2 token.
func imdsRead(ctx context.Context, client *http.Client, path string) (string, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodPut, "http://"+metadataAddr+"/latest/api/token", nil)
	req.Header.Set("X-aws-ec2-metadata-token-ttl-seconds", "60")
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	token, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	req, _ = http.NewRequestWithContext(ctx, http.MethodGet, "http://"+metadataAddr+"/latest/meta-data/"+path, nil)
	req.Header.Set("X-aws-ec2-metadata-token", string(token))
	resp, err = client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	v, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("the metadata service answers %s to %s", resp.Status, path)
	}
	return string(v), nil
}

// serveWeb is a web server serving the pages the user data writes: index.php (instance ID,
// private IP and AZ read over IMDSv2, in index.php's table) and the others (the health-check
// page) as "ok" once the server has read its metadata (the user data writes them last).
func serveWeb(ctx context.Context, spec *Spec) error {
	client := &http.Client{Timeout: 2 * time.Second}
	var ready sync.Once
	healthy := make(chan struct{})
	go func() {
		for ctx.Err() == nil && imdsGet(client, "instance-id") == "-" {
			sleep(ctx, 100)
		}
		ready.Do(func() { close(healthy) })
	}()
	serves := func(page site.Page) bool { return slices.Contains(spec.Web.PHP.Pages, page.Path) }
	var shared *efsMount
	if spec.Web.EFS != nil {
		shared = &efsMount{access: spec.Web.EFS}
		go shared.mountAtStart(ctx)
	}
	mux := http.NewServeMux()
	php := spec.Web.PHP
	sitePool := newPool(php.SiteWorkers)
	pools := map[string]*phpPool{php.SitePool: sitePool}
	if pools[php.HealthPool] == nil {
		pools[php.HealthPool] = newPool(php.HealthWorkers)
	}
	if spec.Web.DB != nil && serves(site.DB) {
		mux.Handle(site.DB.URL, sitePool.run(dbPage(spec.Web.DB, php, os.Stderr)))
	}
	for _, page := range php.Pages {
		if page == site.Index.Path || page == site.DB.Path {
			continue
		}
		pool := sitePool
		if page == spec.Web.Health {
			pool = pools[php.HealthPool]
		}
		// A page of the user data the twin has no stand-in for answers as the health page
		// does: written last, plain "ok".
		mux.Handle(page, pool.run(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-healthy:
				io.WriteString(w, site.HealthBody)
			default:
				http.NotFound(w, r)
			}
		})))
	}
	mux.Handle("/", sitePool.run(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != site.Index.URL && r.URL.Path != site.Index.Path || !serves(site.Index) {
			http.NotFound(w, r)
			return
		}
		var rows [][2]string
		for _, m := range site.Metadata {
			rows = append(rows, [2]string{m[0], imdsGet(client, m[1])})
		}
		// As index.php's scandir: an unmounted directory lists nothing; the stand-in's note
		// below says why.
		note := "no EFS in the stack"
		var names []string
		if shared != nil {
			var err error
			names, err = shared.list(r.Context())
			note = "the EFS mount is the twin's NFS client (NFSv3 in TLS to the mount target; EFS speaks NFSv4.1)"
			if err != nil {
				note = "the EFS mount failed: " + err.Error()
			}
		}
		io.WriteString(w, site.IndexHTML(rows, names, fmt.Sprintf("webtier twin: %s, a stand-in for httpd + PHP-FPM serving the user data's index.php; %s",
			spec.Host, html.EscapeString(note))))
	})))
	web := &webServer{addr: net.JoinHostPort(spec.Private.String(), strconv.Itoa(spec.Web.Port)),
		handler: withServer(mux, "webtier-twin-web (stands in for httpd + PHP-FPM)")}
	webControl = web
	return web.start()
}

// phpPool stands in for a PHP-FPM pool: at most its workers run a page at once; the other
// requests wait in the pool's listen queue, first come first served, and each runs when a
// worker takes it, whether or not its visitor still waits (PHP-FPM does not see a visitor
// leave).
type phpPool struct {
	mu    sync.Mutex
	free  int
	queue []chan struct{}
}

// newPool is a pool of n workers (defaultWorkers when the script sizes it at boot).
func newPool(n int) *phpPool {
	if n <= 0 {
		n = defaultWorkers
	}
	return &phpPool{free: n}
}

// take waits for a worker, in the order of arrival.
func (p *phpPool) take() {
	p.mu.Lock()
	if p.free > 0 && len(p.queue) == 0 {
		p.free--
		p.mu.Unlock()
		return
	}
	turn := make(chan struct{})
	p.queue = append(p.queue, turn)
	p.mu.Unlock()
	<-turn
}

// done gives the worker to the first request waiting, if any.
func (p *phpPool) done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.queue) > 0 {
		close(p.queue[0])
		p.queue = p.queue[1:]
		return
	}
	p.free++
}

// run serves h in a worker of the pool.
func (p *phpPool) run(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.take()
		defer p.done()
		h.ServeHTTP(w, r.WithContext(context.WithoutCancel(r.Context())))
	})
}

// webServer is the web server that the drill stops and starts again, as the seed stopped
// httpd on one instance: SIGUSR1 stops it, SIGUSR2 starts it (see Main).
type webServer struct {
	// addr is the private address: 169.254.169.254:80 is the metadata service's.
	addr    string
	handler http.Handler
	mu      sync.Mutex
	srv     *http.Server
}

// webControl is this process's web server, for the signals.
var webControl *webServer

func (s *webServer) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv != nil {
		return nil
	}
	ln, err := net.Listen("tcp4", s.addr)
	if err != nil {
		return err
	}
	s.srv = &http.Server{Handler: s.handler}
	go s.srv.Serve(ln)
	return nil
}

func (s *webServer) stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv != nil {
		s.srv.Close()
		s.srv = nil
	}
}

// target is a registered target as one node sees it.
type target struct {
	ALBTarget
	mu      sync.Mutex
	healthy bool
	// unhealthy is AWS's unhealthy state: Unhealthy failed checks in a row (a target still in
	// its initial checks is neither).
	unhealthy        bool
	okRun, failedRun int
	// changed is called when the target's state changes.
	changed func()
	proxy   *httputil.ReverseProxy
	// stop ends its health checks.
	stop context.CancelFunc
	// inflight counts the requests sent to the target and not yet answered.
	inflight int
	// draining is made when the target is deregistered, and closed once nothing is in flight.
	draining chan struct{}
	drained  bool
}

// done closes the target's draining channel (t.mu not held), once.
func (t *target) done() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.draining != nil && !t.drained {
		t.drained = true
		close(t.draining)
	}
}

// serveALB is one node of the load balancer: each listener forwards requests round robin to
// the healthy targets; each target is health checked on the group's path, interval, timeout
// and thresholds (times divided by the spec's scale). A target starts unhealthy and comes in
// after Healthy checks in a row; Unhealthy failed checks take it out. With no healthy target
// the node sends to all of them (an ALB fails open), and says so in a header.
func serveALB(ctx context.Context, spec *Spec, log io.Writer) error {
	node := &albNode{ctx: ctx, host: spec.Host, scale: spec.ALB.Scale, log: log, listeners: map[int]*albListener{}, state: spec.State}
	for _, l := range spec.ALB.Listeners {
		ln, err := listen(ctx, fmt.Sprintf(":%d", l.Port))
		if err != nil {
			return err
		}
		if l.Redirect {
			fmt.Fprintf(log, "%s: listener :%d redirects to HTTPS\n", spec.Host, l.Port)
			go (&http.Server{Handler: withServer(redirectHTTPS{}, "webtier-twin-alb (stands in for an ALB node: a redirect action)")}).Serve(ln)
			continue
		}
		al := &albListener{ALBListener: l}
		node.listeners[l.Port] = al
		fmt.Fprintf(log, "%s: listener :%d -> %s, health check %s\n", spec.Host, l.Port, l.Group, l.describe(spec.ALB.Scale))
		go (&http.Server{Handler: withServer(al, "webtier-twin-alb (stands in for an ALB node: round robin over healthy targets)")}).Serve(ln)
	}
	node.register(spec.ALB)
	albControl = node
	return nil
}

// albNode is a load balancer node's listeners, whose targets change as the Auto Scaling
// controller registers and deregisters instances (SIGHUP: the spec file read again).
type albNode struct {
	ctx       context.Context
	host      string
	scale     int
	log       io.Writer
	listeners map[int]*albListener
	state     string
	countsMu  sync.Mutex
}

// redirectHTTPS is a listener whose default action redirects to HTTPS (HTTP 301, as ELB's
// redirect action with its defaults: same host, path and query).
type redirectHTTPS struct{}

func (redirectHTTPS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	http.Redirect(w, r, "https://"+host+r.URL.RequestURI(), http.StatusMovedPermanently)
}

// albControl is this process's load balancer node, for SIGHUP.
var albControl *albNode

// albListener is one listener: round robin over its healthy targets.
type albListener struct {
	ALBListener
	mu      sync.Mutex
	targets []*target
	next    int
	// draining are the deregistered targets with requests still in flight.
	draining []*target
}

// register makes the node's targets those of spec: a new target is health checked from
// its first check (unhealthy until it passes Healthy in a row); a target no longer listed is
// deregistered as AWS does it: it stops getting new requests and health checks at once and
// drains, its requests in flight answered, until none is left or the group's deregistration
// delay has passed (ELB completes a deregistration at once when nothing is in flight); the
// others keep their state.
func (n *albNode) register(spec *ALB) {
	for _, l := range spec.Listeners {
		al := n.listeners[l.Port]
		if al == nil {
			continue
		}
		al.mu.Lock()
		var kept []*target
		for _, t := range l.Targets {
			i := slices.IndexFunc(al.targets, func(old *target) bool { return old != nil && old.ALBTarget == t })
			if i >= 0 {
				kept = append(kept, al.targets[i])
				al.targets[i] = nil
				continue
			}
			tg := &target{ALBTarget: t, changed: n.writeCounts}
			u := &url.URL{Scheme: "http", Host: net.JoinHostPort(t.Addr.String(), strconv.Itoa(t.Port))}
			tg.proxy = httputil.NewSingleHostReverseProxy(u)
			// A new connection for each request, from a random port of the node's ephemeral
			// range: an ALB keeps some open, and reuse would hide a return path that drops
			// some source ports. The connect timeout is an ALB's 10 s, scaled like the health
			// checks.
			tg.proxy.Transport = &http.Transport{DisableKeepAlives: true, DialContext: randomPortDial(Scaled(10, n.scale))}
			var ctx context.Context
			ctx, tg.stop = context.WithCancel(n.ctx)
			go healthCheck(ctx, tg, l, n.scale, n.log)
			kept = append(kept, tg)
			fmt.Fprintf(n.log, "%s: %s registered in %s\n", n.host, t.Host, l.Group)
		}
		for _, old := range al.targets {
			if old != nil {
				old.stop()
				n.drain(al, old, Scaled(l.Deregistration, n.scale))
			}
		}
		al.targets = kept
		al.mu.Unlock()
	}
	n.writeCounts()
}

// drain deregisters t from al (al.mu held): t gets no new request, and is gone once its last
// request in flight has answered, or after delay.
func (n *albNode) drain(al *albListener, t *target, delay time.Duration) {
	t.mu.Lock()
	t.draining = make(chan struct{})
	inflight := t.inflight
	t.mu.Unlock()
	al.draining = append(al.draining, t)
	fmt.Fprintf(n.log, "%s: %s deregistering from %s: draining %d requests in flight (deregistration delay %s)\n", n.host, t.Host, al.Group, inflight, delay)
	go func() {
		timer := time.NewTimer(delay)
		defer timer.Stop()
		why := "no request left in flight"
		select {
		case <-t.draining:
		case <-timer.C:
			why = "deregistration delay over"
		case <-n.ctx.Done():
			return
		}
		al.mu.Lock()
		al.draining = slices.DeleteFunc(al.draining, func(d *target) bool { return d == t })
		al.mu.Unlock()
		fmt.Fprintf(n.log, "%s: %s deregistered from %s (%s)\n", n.host, t.Host, al.Group, why)
		n.writeCounts()
	}()
	if inflight == 0 {
		t.done()
	}
}

// TargetCounts are a node's healthy and unhealthy targets: what it reports to CloudWatch as
// HealthyHostCount and UnHealthyHostCount (the twin's CloudWatch stand-in reads them).
type TargetCounts struct {
	Healthy   int `json:"healthy"`
	Unhealthy int `json:"unhealthy"`
	// Registered are the targets' hosts, InService those of them healthy, Draining those
	// deregistered and still draining.
	Registered []string `json:"registered"`
	InService  []string `json:"in_service"`
	Draining   []string `json:"draining,omitempty"`
}

// CountsFile is where a node writes its TargetCounts, in the state directory state, each time
// they change: the twin's CloudWatch stand-in, its prober and its controller read it.
func CountsFile(state, host string) string { return filepath.Join(state, host+".targets.json") }

// writeCounts writes the node's target counts.
func (n *albNode) writeCounts() {
	var c TargetCounts
	for _, al := range n.listeners {
		al.mu.Lock()
		for _, t := range al.targets {
			t.mu.Lock()
			if t.healthy {
				c.Healthy++
				c.InService = append(c.InService, t.Host)
			} else if t.unhealthy {
				c.Unhealthy++
			}
			t.mu.Unlock()
			c.Registered = append(c.Registered, t.Host)
		}
		for _, t := range al.draining {
			c.Draining = append(c.Draining, t.Host)
		}
		al.mu.Unlock()
	}
	n.countsMu.Lock()
	defer n.countsMu.Unlock()
	if err := WriteJSON(CountsFile(n.state, n.host), c); err != nil {
		fmt.Fprintf(n.log, "%s: target counts: %v\n", n.host, err)
	}
}

func (al *albListener) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	al.mu.Lock()
	var healthy []*target
	for _, t := range al.targets {
		t.mu.Lock()
		if t.healthy {
			healthy = append(healthy, t)
		}
		t.mu.Unlock()
	}
	pool := healthy
	if len(pool) == 0 {
		pool = al.targets
		w.Header().Set("X-Webtier-Twin-Fail-Open", "no healthy target: sending to all, as an ALB does")
	}
	var t *target
	if len(pool) > 0 {
		t = pool[al.next%len(pool)]
		al.next++
		// Counted in flight before the listener lets go: a deregistration now drains it.
		t.mu.Lock()
		t.inflight++
		t.mu.Unlock()
	}
	al.mu.Unlock()
	if t == nil {
		http.Error(w, "503 Service Temporarily Unavailable (no targets)", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("X-Webtier-Twin-Target", t.Host)
	t.proxy.ServeHTTP(w, r)
	t.mu.Lock()
	t.inflight--
	last := t.inflight == 0 && t.draining != nil
	t.mu.Unlock()
	if last {
		t.done()
	}
}

// randomPortDial dials from a port drawn at random from the namespace's ephemeral range for
// each connection, as an ALB node's connections to its targets come from anywhere in
// 1024-65535. (Linux picks the ports of connections to one destination in sequence from a
// hashed start, so a return path that drops part of the range would be missed, or not, by
// the luck of that start.) A port in use is drawn again.
func randomPortDial(timeout time.Duration) func(ctx context.Context, network, addr string) (net.Conn, error) {
	lo, hi := 32768, 60999
	if data, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(data)); len(f) == 2 {
			if a, err := strconv.Atoi(f[0]); err == nil {
				lo = a
			}
			if b, err := strconv.Atoi(f[1]); err == nil {
				hi = b
			}
		}
	}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		var err error
		for range 20 {
			port := lo + mathrand.IntN(hi-lo+1)
			d := net.Dialer{Timeout: timeout, LocalAddr: &net.TCPAddr{Port: port}}
			var conn net.Conn
			if conn, err = d.DialContext(ctx, network, addr); err == nil {
				return conn, nil
			}
			if !errors.Is(err, syscall.EADDRINUSE) && !errors.Is(err, syscall.EADDRNOTAVAIL) {
				return nil, err
			}
		}
		return nil, err
	}
}

// healthCheck checks one target until ctx ends.
func healthCheck(ctx context.Context, t *target, l ALBListener, scale int, log io.Writer) {
	client := &http.Client{Timeout: Scaled(l.Health.Timeout, scale),
		Transport: &http.Transport{DisableKeepAlives: true, DialContext: randomPortDial(Scaled(l.Health.Timeout, scale))}}
	u := "http://" + net.JoinHostPort(t.Addr.String(), strconv.Itoa(t.Port)) + l.Health.Path
	tick := time.NewTicker(Scaled(l.Health.Interval, scale))
	defer tick.Stop()
	for {
		resp, err := client.Get(u)
		ok := err == nil && matches(l.Health.Matcher, resp.StatusCode)
		if resp != nil {
			resp.Body.Close()
		}
		t.mu.Lock()
		was := t.healthy || t.unhealthy
		before := t.healthy
		if ok {
			t.okRun, t.failedRun = t.okRun+1, 0
			if !t.healthy && t.okRun >= l.Health.Healthy {
				t.healthy, t.unhealthy = true, false
				fmt.Fprintf(log, "%s healthy after %d checks\n", t.Host, t.okRun)
			}
		} else {
			why := "status"
			if err != nil {
				why = err.Error()
			} else {
				why = resp.Status
			}
			fmt.Fprintf(log, "%s health check failed: %s\n", t.Host, why)
			t.okRun, t.failedRun = 0, t.failedRun+1
			if t.healthy && t.failedRun >= l.Health.Unhealthy {
				t.healthy = false
				fmt.Fprintf(log, "%s unhealthy after %d failed checks\n", t.Host, t.failedRun)
			}
			t.unhealthy = t.failedRun >= l.Health.Unhealthy
		}
		changed := t.healthy != before || (t.healthy || t.unhealthy) != was
		t.mu.Unlock()
		if changed && t.changed != nil {
			t.changed()
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// matches reports whether an HTTP status is in a matcher: "200", "200,302", "200-299".
func matches(matcher string, status int) bool {
	for _, part := range strings.Split(matcher, ",") {
		lo, hi, found := strings.Cut(strings.TrimSpace(part), "-")
		a, err1 := strconv.Atoi(lo)
		b := a
		var err2 error
		if found {
			b, err2 = strconv.Atoi(hi)
		}
		if err1 == nil && err2 == nil && status >= a && status <= b {
			return true
		}
	}
	return false
}

// RepoLog is the file in the state directory where the repository records who asked.
const RepoLog = "repo-seen.log"

// serveRepo is the package repository: HTTPS (a certificate made up at start) on the
// spec's port, recording the source address of every request, which is what the seed's NAT
// test looks at. A request from inside the VPC came through the S3 gateway endpoint (it
// keeps the private source address): the endpoint's policy decides it, as S3 does, and a
// refusal is S3's 403 AccessDenied.
func serveRepo(ctx context.Context, spec *Spec) error {
	cert, err := selfSigned(spec.Private.String())
	if err != nil {
		return err
	}
	ln, err := listen(ctx, fmt.Sprintf(":%d", spec.Repo.Port))
	if err != nil {
		return err
	}
	record, err := os.OpenFile(filepath.Join(spec.State, RepoLog), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	var mu sync.Mutex
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, _, _ := net.SplitHostPort(r.RemoteAddr)
		mu.Lock()
		fmt.Fprintf(record, "%s %s %s\n", time.Now().UTC().Format(time.RFC3339Nano), host, r.URL.Path)
		mu.Unlock()
		if from, err := netip.ParseAddr(host); err == nil && spec.Repo.Endpoint != nil && spec.Repo.VPC.Contains(from) {
			access := verify.Access{Account: spec.Repo.Account, Repo: spec.Repo.Endpoint}
			d, err := access.ReadRepo(r.URL.Path)
			if err == nil && !d.Allowed() {
				err = errors.New(refusal("anonymous", rules.RepoReadAction, spec.Repo.Endpoint.Bucket+r.URL.Path, d))
			}
			if err != nil {
				w.WriteHeader(http.StatusForbidden)
				fmt.Fprintf(w, "<Error><Code>AccessDenied</Code><Message>%s</Message></Error>\n", html.EscapeString(err.Error()))
				return
			}
		}
		fmt.Fprintf(w, "webtier twin: package repository stand-in at %s; you came from %s\n", spec.Private, host)
	})
	srv := &http.Server{Handler: withServer(handler, "webtier-twin-repo (stands in for the regional package repository)"),
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}}}
	go srv.ServeTLS(ln, "", "")
	return nil
}

// selfSigned makes a certificate for host, valid for a day.
func selfSigned(host string) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:   pkix.Name{CommonName: "webtier twin " + host},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP(host)}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}
