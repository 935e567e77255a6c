package standin

import (
	"context"
	"crypto/tls"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/miekg/dns"

	"github.com/webtier/webtier/site"
	"github.com/webtier/webtier/twin/supervise"
	"github.com/webtier/webtier/verify"
)

// The database with its neighbours, as the seed's failover test needs them:
//   - the VPC resolver (VPC base + 2, on the router) answers the database endpoint's name with
//     the primary's address, TTL 1 s, and the Secrets Manager endpoint's regional name with the
//     endpoint's addresses (private DNS);
//   - the database is MariaDB (Debian's mariadb-server): the primary runs on one data
//     directory; the standby watches it out of band, as RDS's control plane does, and when the
//     primary stops it starts on the same data directory (only one runs at a time, as a
//     Multi-AZ standby shares the primary's data synchronously) and the name moves to it;
//   - the Secrets Manager endpoint answers GetSecretValue over HTTPS with the master user's
//     credentials, made for each twin;
//   - the web servers' /db.php reads the secret through the endpoint (cached 5 minutes),
//     connects by the endpoint's name and shows the practice table, as the user data's does.

// Binaries of Debian's mariadb-server.
const (
	mariadbd  = "/usr/sbin/mariadbd"
	installDB = "/usr/bin/mariadb-install-db"
)

// HasMariaDB reports whether this machine has MariaDB's server.
func HasMariaDB() bool {
	for _, f := range []string{mariadbd, installDB} {
		if _, err := os.Stat(f); err != nil {
			return false
		}
	}
	_, err := user.Lookup("mysql")
	return err == nil
}

// DB is one database host: the primary runs from the start, the standby takes over.
type DB struct {
	// Events are the stack's event subscriptions, which the standby sends its failover to.
	Events   []verify.EventSubscription `json:"events,omitempty"`
	Primary  bool                       `json:"primary"`
	Endpoint string                     `json:"endpoint"`
	Name     string                     `json:"name"`
	User     string                     `json:"user"`
	Password string                     `json:"password"`
}

// Secrets is the Secrets Manager endpoint's stand-in.
type Secrets struct {
	Port     int    `json:"port"`
	User     string `json:"user"`
	Password string `json:"password"`
	// Access decides who may read the secret (its Secret nil: not enforced).
	Access *verify.Access `json:"access,omitempty"`
}

// DNS is the VPC resolver: it answers from the records file of the state directory,
// which the standby rewrites when it takes over.
type DNS struct {
	Addr netip.Addr `json:"addr"`
}

// DBAccess is what the web servers need to reach the database as the user data does.
type DBAccess struct {
	Endpoint string     `json:"endpoint"`
	Name     string     `json:"name"`
	Secrets  string     `json:"secrets"`
	Resolver netip.Addr `json:"resolver"`
}

// dbDir is the database's folder in the state directory (data, sockets, logs, pid).
func dbDir(state string) string { return filepath.Join(state, "db") }

// DBPidFile is where the running database's MariaDB (the primary's, or the standby's once it
// took over) writes its process id, in the state directory state: the standby watches it, and
// the drill's failover stops that process.
func DBPidFile(state string) string { return filepath.Join(dbDir(state), "mariadbd.pid") }

// recordsFile holds the resolver's names.
const recordsFile = "dns.json"

// WriteRecords writes the names the VPC resolver of the state directory state answers (name
// -> addresses), replacing those it had; the database's endpoint name is pointed at its
// primary by the database's stand-in itself.
func WriteRecords(state string, names map[string][]string) error {
	return WriteJSON(filepath.Join(state, recordsFile), names)
}

// setRecord points one name at addrs.
func setRecord(state, name string, addrs ...string) error {
	names := map[string][]string{}
	if data, err := os.ReadFile(filepath.Join(state, recordsFile)); err == nil {
		json.Unmarshal(data, &names)
	}
	names[strings.ToLower(name)] = addrs
	return WriteRecords(state, names)
}

// serveDNS is the VPC resolver: A records from the records file, TTL 1 s, and the zonal
// names (EFS) by the asker's subnet; anything else is refused (the twin has no way to the
// internet's DNS).
func serveDNS(ctx context.Context, spec *Spec) error {
	handler := dns.HandlerFunc(func(w dns.ResponseWriter, q *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(q)
		names := map[string][]string{}
		if data, err := os.ReadFile(filepath.Join(spec.State, recordsFile)); err == nil {
			json.Unmarshal(data, &names)
		}
		src, _ := netip.ParseAddrPort(w.RemoteAddr().String())
		for _, question := range q.Question {
			name := strings.ToLower(strings.TrimSuffix(question.Name, "."))
			addrs, ok := names[name]
			if zonal, isZonal := zonalAnswer(spec.State, name, src.Addr().Unmap()); isZonal {
				addrs, ok = zonal, true
				if len(zonal) == 0 {
					// No mount target in the asker's AZ: the name does not resolve there.
					m.Rcode = dns.RcodeNameError
					continue
				}
			}
			if !ok {
				m.Rcode = dns.RcodeRefused
				continue
			}
			m.Authoritative = true
			if question.Qtype != dns.TypeA {
				continue
			}
			for _, a := range addrs {
				m.Answer = append(m.Answer, &dns.A{Hdr: dns.RR_Header{Name: question.Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 1},
					A: net.ParseIP(a)})
			}
		}
		w.WriteMsg(m)
	})
	addr := net.JoinHostPort(spec.DNS.Addr.String(), "53")
	for _, network := range []string{"udp", "tcp"} {
		srv := &dns.Server{Addr: addr, Net: network, Handler: handler}
		started := make(chan error, 1)
		srv.NotifyStartedFunc = func() { started <- nil }
		go func() { started <- srv.ListenAndServe() }()
		if err := <-started; err != nil {
			return fmt.Errorf("resolver on %s/%s: %w", addr, network, err)
		}
		go func() { <-ctx.Done(); srv.Shutdown() }()
	}
	return nil
}

// twinResolver resolves names with the VPC resolver, from the caller's namespace.
func twinResolver(addr netip.Addr) *net.Resolver {
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, net.JoinHostPort(addr.String(), "53"))
	}}
}

// serveDB runs the database host: the primary starts MariaDB (making the data directory on
// its first start); the standby waits for the primary to stop, then takes over.
func serveDB(ctx context.Context, spec *Spec, log io.Writer) error {
	if spec.DB.Primary {
		if err := initDB(ctx, spec); err != nil {
			return err
		}
		go func() {
			if err := runMariaDB(ctx, spec, log); err != nil {
				fmt.Fprintf(log, "%s: %v\n", spec.Host, err)
			}
		}()
		return nil
	}
	go func() {
		// Out of band, as RDS watches the primary: its process, by the shared pid file.
		pidFile := DBPidFile(spec.State)
		for ctx.Err() == nil {
			data, err := os.ReadFile(pidFile)
			pid, perr := strconv.Atoi(strings.TrimSpace(string(data)))
			if err == nil && perr == nil && !supervise.Running(pid) {
				// RDS documents 60-120 s for a failover; the twin takes 60 s, divided as its other
				// times are.
				fmt.Fprintf(log, "%s: the primary (pid %d) stopped; taking over in %s\n", spec.Host, pid, Scaled(failoverSeconds, TimeScale))
				sleep(ctx, int(Scaled(failoverSeconds, TimeScale)/time.Millisecond))
				if err := runMariaDB(ctx, spec, log); err != nil {
					fmt.Fprintf(log, "%s: %v\n", spec.Host, err)
				}
				return
			}
			sleep(ctx, 250)
		}
	}()
	return nil
}

// initDB makes the data directory (once per twin) and the init file that creates the
// database and the master user at every start.
func initDB(ctx context.Context, spec *Spec) error {
	dir := dbDir(spec.State)
	u, err := user.Lookup("mysql")
	if err != nil {
		return err
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	if err := os.MkdirAll(filepath.Join(dir, "data"), 0o750); err != nil {
		return err
	}
	for _, p := range []string{dir, filepath.Join(dir, "data")} {
		if err := os.Chown(p, uid, gid); err != nil {
			return err
		}
	}
	init := fmt.Sprintf("CREATE DATABASE IF NOT EXISTS `%s`;\nCREATE USER IF NOT EXISTS '%s'@'%%' IDENTIFIED BY '%s';\n"+
		"ALTER USER '%s'@'%%' IDENTIFIED BY '%s';\nGRANT ALL ON `%s`.* TO '%s'@'%%';\nFLUSH PRIVILEGES;\n",
		spec.DB.Name, spec.DB.User, spec.DB.Password, spec.DB.User, spec.DB.Password, spec.DB.Name, spec.DB.User)
	if err := os.WriteFile(filepath.Join(dir, "init.sql"), []byte(init), 0o640); err != nil {
		return err
	}
	os.Chown(filepath.Join(dir, "init.sql"), uid, gid)
	if _, err := os.Stat(filepath.Join(dir, "data", "mysql")); err == nil {
		return nil
	}
	out, err := exec.CommandContext(ctx, installDB, "--no-defaults", "--user=mysql", "--datadir="+filepath.Join(dir, "data"),
		"--skip-test-db", "--auth-root-authentication-method=socket").CombinedOutput()
	if err != nil {
		return fmt.Errorf("mariadb-install-db: %v: %s", err, out)
	}
	return nil
}

// runMariaDB runs MariaDB on the shared data directory at the host's address until it ends,
// and points the endpoint's name at it once it takes connections.
func runMariaDB(ctx context.Context, spec *Spec, log io.Writer) error {
	dir := dbDir(spec.State)
	cmd := exec.Command(mariadbd, "--no-defaults", "--user=mysql", "--datadir="+filepath.Join(dir, "data"),
		"--bind-address="+spec.Private.String(), "--port=3306", "--socket="+filepath.Join(dir, spec.Host+".sock"),
		"--pid-file="+DBPidFile(spec.State), "--log-error="+filepath.Join(dir, spec.Host+".err"),
		"--init-file="+filepath.Join(dir, "init.sql"), "--skip-name-resolve", "--innodb-buffer-pool-size=16M",
		"--skip-log-bin", "--max-connections=50")
	cmd.Stdout, cmd.Stderr = log, log
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting MariaDB: %w", err)
	}
	go func() { <-ctx.Done(); cmd.Process.Signal(syscall.SIGTERM) }()
	addr := net.JoinHostPort(spec.Private.String(), "3306")
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); {
		if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
			c.Close()
			if err := setRecord(spec.State, spec.DB.Endpoint, spec.Private.String()); err != nil {
				return err
			}
			fmt.Fprintf(log, "%s: MariaDB takes connections on %s after %.1fs; %s -> %s\n", spec.Host, addr,
				time.Since(start).Seconds(), spec.DB.Endpoint, spec.Private)
			if !spec.DB.Primary {
				if err := dbEvent(spec.State, spec.DB.Events, "failover", "Multi-AZ failover to "+spec.Host+" ("+spec.AZ+") completed"); err != nil {
					fmt.Fprintf(log, "%s: event notification: %v\n", spec.Host, err)
				}
			}
			break
		}
		if ctx.Err() != nil || cmd.ProcessState != nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	return cmd.Wait()
}

// serveSecrets is the Secrets Manager endpoint's stand-in: HTTPS on 443 (a certificate made
// up by the twin), GetSecretValue of the AWS JSON protocol answers the master credentials.
func serveSecrets(ctx context.Context, spec *Spec) error {
	cert, err := selfSigned(spec.Private.String())
	if err != nil {
		return err
	}
	ln, err := listen(ctx, net.JoinHostPort(spec.Private.String(), strconv.Itoa(spec.Secrets.Port)))
	if err != nil {
		return err
	}
	secret, _ := json.Marshal(map[string]string{"username": spec.Secrets.User, "password": spec.Secrets.Password})
	access := spec.Secrets.Access
	if access != nil && (access.Secret == nil || access.Secret.Endpoint == nil) {
		access = nil
		fmt.Fprintln(os.Stderr, "secrets: the stack's read lacks the secret or the endpoint's policy: every caller is answered (not enforced)")
	}
	refuse := func(w http.ResponseWriter, typ, msg string) {
		fmt.Fprintf(os.Stderr, "secrets: %s: %s\n", typ, msg)
		w.WriteHeader(http.StatusBadRequest)
		json.NewEncoder(w).Encode(map[string]string{"__type": typ, "Message": msg})
	}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Amz-Target") != "secretsmanager.GetSecretValue" {
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"__type":"UnknownOperationException","message":"the twin's stand-in answers GetSecretValue only"}`)
			return
		}
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<16))
		if access != nil {
			principal, err := principalOf(spec.State, access, r.Header.Get("Authorization"), secretCall(body))
			if err != nil {
				refuse(w, "UnrecognizedClientException", err.Error())
				return
			}
			d, err := access.ReadSecret(principal)
			if err != nil {
				refuse(w, "InternalServiceError", err.Error())
				return
			}
			if !d.Allowed() {
				refuse(w, "AccessDeniedException", refusal(principal, "secretsmanager:GetSecretValue", access.Secret.ARN, d))
				return
			}
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		json.NewEncoder(w).Encode(map[string]string{"ARN": "arn:aws:secretsmanager:twin:000000000000:secret:webtier-db",
			"Name": "webtier-db", "SecretString": string(secret)})
	})
	srv := &http.Server{Handler: withServer(handler, "webtier-twin-secrets (stands in for the Secrets Manager endpoint)"),
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}}}
	go srv.ServeTLS(ln, "", "")
	return nil
}

// failoverSeconds is how long the twin's failover takes before its scaling: RDS documents
// 60-120 s for a Multi-AZ failover.
const failoverSeconds = 60

// phpDefaultSocketTimeout is PHP's default_socket_timeout in seconds: mysqli's read timeout
// when the page sets none.
const phpDefaultSocketTimeout = 60

// secretCache keeps the credentials 5 minutes, as the user data's page does.
type secretCache struct {
	mu      sync.Mutex
	user    string
	pass    string
	fetched time.Time
}

// dbPage is the user data's /db.php: the practice table, read by the endpoint's name with
// the credentials from Secrets Manager; visitors get a generic error, details go to the log.
func dbPage(access *DBAccess, php verify.Bootstrap, log io.Writer) http.HandlerFunc {
	resolver := twinResolver(access.Resolver)
	// The user data's timeouts, divided as the twin's other times are.
	connect, read := Scaled(php.ConnectTimeout, TimeScale), Scaled(php.ReadTimeout, TimeScale)
	if read == 0 {
		read = Scaled(phpDefaultSocketTimeout, TimeScale)
	}
	cache := &secretCache{}
	mysql.RegisterDialContext("twin", func(ctx context.Context, addr string) (net.Conn, error) {
		host, port, _ := net.SplitHostPort(addr)
		ips, err := resolver.LookupHost(ctx, host)
		if err != nil {
			return nil, err
		}
		d := net.Dialer{Timeout: connect}
		return d.DialContext(ctx, "tcp", net.JoinHostPort(ips[0], port))
	})
	client := &http.Client{Timeout: 3 * time.Second, Transport: &http.Transport{
		// The endpoint's certificate is made up by the twin.
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true},
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			host, port, _ := net.SplitHostPort(addr)
			ips, err := resolver.LookupHost(ctx, host)
			if err != nil {
				return nil, err
			}
			var d net.Dialer
			return d.DialContext(ctx, network, net.JoinHostPort(ips[0], port))
		}}}
	fail := func(w http.ResponseWriter, why error) {
		fmt.Fprintf(log, "%s%v\n", site.ErrorLogPrefix, why)
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, site.Unavailable)
	}
	return func(w http.ResponseWriter, r *http.Request) {
		cache.mu.Lock()
		if time.Since(cache.fetched) > 5*time.Minute {
			u, p, err := getSecret(client, access.Secrets)
			if err != nil {
				cache.mu.Unlock()
				fail(w, fmt.Errorf("cannot read the database secret: %w", err))
				return
			}
			cache.user, cache.pass, cache.fetched = u, p, time.Now()
		}
		dbUser, dbPass := cache.user, cache.pass
		cache.mu.Unlock()
		cfg := mysql.NewConfig()
		cfg.User, cfg.Passwd, cfg.Net, cfg.Addr, cfg.DBName = dbUser, dbPass, "twin", net.JoinHostPort(access.Endpoint, "3306"), access.Name
		cfg.Timeout, cfg.ReadTimeout, cfg.WriteTimeout = connect, read, read
		db, err := sql.Open("mysql", cfg.FormatDSN())
		if err != nil {
			fail(w, err)
			return
		}
		defer db.Close()
		rows, err := queryPractice(r.Context(), db)
		if err != nil {
			cache.mu.Lock()
			cache.fetched = time.Time{} // a rotated password is read again on the next request
			cache.mu.Unlock()
			fail(w, fmt.Errorf("database error: %w", err))
			return
		}
		resolved := "-"
		if ips, err := resolver.LookupHost(r.Context(), access.Endpoint); err == nil && len(ips) > 0 {
			resolved = ips[0]
		}
		io.WriteString(w, site.DBHTML(access.Endpoint, resolved, rows, "webtier twin: MariaDB stands in for RDS MySQL, a Go page for db.php"))
	}
}

// queryPractice makes the practice table as the user data's page does and reads it.
func queryPractice(ctx context.Context, db *sql.DB) ([][3]string, error) {
	for _, stmt := range []string{
		site.PracticeCreate,
		site.PracticeInsert,
	} {
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			return nil, err
		}
	}
	rs, err := db.QueryContext(ctx, site.PracticeSelect)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	var out [][3]string
	for rs.Next() {
		var row [3]string
		if err := rs.Scan(&row[0], &row[1], &row[2]); err != nil {
			return nil, err
		}
		out = append(out, row)
	}
	return out, rs.Err()
}

// secretCall is what a GetSecretValue call signs.
func secretCall(body []byte) string { return "secretsmanager.GetSecretValue\n" + string(body) }

// getSecret calls GetSecretValue on the endpoint's regional name, signed with the instance
// role's credentials from the metadata service, as the AWS CLI does.
func getSecret(client *http.Client, host string) (user, pass string, err error) {
	creds, err := imdsCredentials(context.Background(), &http.Client{Timeout: 2 * time.Second})
	if err != nil {
		return "", "", fmt.Errorf("unable to locate credentials: %w", err)
	}
	body := `{"SecretId":"webtier-db"}`
	req, _ := http.NewRequest(http.MethodPost, "https://"+host+"/", strings.NewReader(body))
	req.Header.Set("X-Amz-Target", "secretsmanager.GetSecretValue")
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("Authorization", creds.authorization(secretCall([]byte(body))))
	resp, err := client.Do(req)
	if err != nil {
		return "", "", err
	}
	defer resp.Body.Close()
	var out struct {
		SecretString string
		Type         string `json:"__type"`
		Message      string
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return "", "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", "", fmt.Errorf("GetSecretValue: %s: %s", out.Type, out.Message)
	}
	var secret struct{ Username, Password string }
	if err := json.Unmarshal([]byte(out.SecretString), &secret); err != nil || secret.Username == "" {
		return "", "", errors.New("the secret has no username")
	}
	return secret.Username, secret.Password, nil
}
