package verify

import (
	"fmt"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/webtier/webtier/check"
	"github.com/webtier/webtier/rules"
	"github.com/webtier/webtier/site"
)

// The web servers' bootstrap read as the configuration it writes: the files the user data
// writes with here-documents, the PHP-FPM pools they declare (INI sections), the httpd
// locations that hand a path to a pool's socket, and the database timeouts of db.php. A
// database failover (60-120 s on RDS) must take no healthy web server out of service: the
// health-check page runs in a pool that requests to db.php cannot fill, and db.php gives up on
// a connection in seconds, not PHP's default 60.

// heredoc starts a here-document written to a file: `cat > FILE <<'TAG'` (or >>, <<-, "TAG").
var heredoc = regexp.MustCompile(`(?m)^\s*cat\s+(>>?)\s*(\S+)\s+<<-?\s*(['"]?)([A-Za-z_][A-Za-z0-9_]*)(['"]?)\s*$`)

// scriptFiles are the files a script writes with here-documents, by path (what `>>` appends
// is added), and their paths in the order the script first writes them.
func scriptFiles(script string) (files map[string]string, order []string) {
	files = map[string]string{}
	lines := strings.Split(script, "\n")
	for i := 0; i < len(lines); i++ {
		m := heredoc.FindStringSubmatch(lines[i])
		if m == nil {
			continue
		}
		var body []string
		for i++; i < len(lines) && strings.TrimLeft(lines[i], "\t") != m[4]; i++ {
			body = append(body, lines[i])
		}
		text := strings.Join(body, "\n") + "\n"
		if _, ok := files[m[2]]; !ok {
			order = append(order, m[2])
		}
		if m[1] == ">>" {
			files[m[2]] += text
		} else {
			files[m[2]] = text
		}
	}
	return files, order
}

// fpmPool is one PHP-FPM pool: its name and settings.
type fpmPool struct {
	name     string
	settings map[string]string
}

// fpmPools are the pools the files under /etc/php-fpm.d/ declare, settings of one name from
// several files merged in the order PHP-FPM reads them (by file name). The distribution's own
// www.conf, which listens on /run/php-fpm/www.sock, is the base of the www pool.
func fpmPools(files map[string]string) map[string]*fpmPool {
	pools := map[string]*fpmPool{site.SitePool: {name: site.SitePool, settings: map[string]string{"listen": "/run/php-fpm/" + site.SitePool + ".sock"}}}
	var names []string
	for p := range files {
		if path.Dir(p) == "/etc/php-fpm.d" && strings.HasSuffix(p, ".conf") {
			names = append(names, p)
		}
	}
	slices.Sort(names)
	for _, p := range names {
		var pool *fpmPool
		for _, line := range strings.Split(files[p], "\n") {
			line = strings.TrimSpace(line)
			switch {
			case line == "" || strings.HasPrefix(line, ";") || strings.HasPrefix(line, "#"):
			case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
				name := line[1 : len(line)-1]
				if pools[name] == nil {
					pools[name] = &fpmPool{name: name, settings: map[string]string{}}
				}
				pool = pools[name]
			default:
				if k, v, ok := strings.Cut(line, "="); ok && pool != nil {
					pool.settings[strings.TrimSpace(k)] = strings.TrimSpace(v)
				}
			}
		}
	}
	return pools
}

// location is an httpd <Location "PATH"> block and the directive that hands it to a socket.
var (
	locationBlock = regexp.MustCompile(`(?s)<Location\s+"?([^">]+)"?\s*>(.*?)</Location>`)
	proxyHandler  = regexp.MustCompile(`(?m)^\s*SetHandler\s+"?proxy:unix:([^|"\s]+)`)
)

// poolOf is the PHP-FPM pool httpd hands a PHP page to: the pool listening on the socket of a
// <Location> block of that exact path in /etc/httpd/conf.d/, else the www pool (php.conf's
// FilesMatch for every .php file).
func poolOf(page string, files map[string]string, pools map[string]*fpmPool) *fpmPool {
	for p, text := range files {
		if path.Dir(p) != "/etc/httpd/conf.d" {
			continue
		}
		for _, b := range locationBlock.FindAllStringSubmatch(text, -1) {
			if b[1] != page {
				continue
			}
			if h := proxyHandler.FindStringSubmatch(b[2]); h != nil {
				for _, pool := range pools {
					if pool.settings["listen"] == h[1] {
						return pool
					}
				}
			}
		}
	}
	return pools[site.SitePool]
}

// mysqliOption is a call that sets a mysqli option to an integer: $db->options(OPT, N) or
// mysqli_options($db, OPT, N).
var mysqliOption = regexp.MustCompile(`(?:->options|\bmysqli_options)\s*\(\s*(?:\$\w+\s*,\s*)?(MYSQLI_OPT_[A-Z_]+)\s*,\s*(\d+)\s*\)`)

// phpOptions are the integer mysqli options a PHP page sets, comments left out.
func phpOptions(page string) map[string]int {
	out := map[string]int{}
	for _, line := range strings.Split(page, "\n") {
		if i := strings.Index(line, "//"); i >= 0 {
			line = line[:i]
		}
		for _, m := range mysqliOption.FindAllStringSubmatch(line, -1) {
			if n, err := strconv.Atoi(m[2]); err == nil {
				out[m[1]] = n
			}
		}
	}
	return out
}

// maxConnectTimeout is the longest wait for a database connection that keeps a failover from
// filling the site's pool: a few seconds (PHP's default is 60, a failover takes 60-120).
const maxConnectTimeout = 10

// phpDefaultSocketTimeout is PHP's default_socket_timeout, mysqli's connect timeout when the
// page sets none.
const phpDefaultSocketTimeout = 60

// Bootstrap is what the web servers' bootstrap configures for PHP: the pool of the site's pages
// and the pool of the health-check page (the same one unless httpd hands that page to another
// pool's socket), their sizes, and /db.php's database timeouts.
type Bootstrap struct {
	// Pages are the pages the user data writes under the web root (site.WebRoot), in the
	// order it writes them: "/index.php", "/db.php", "/healthz.php".
	Pages []string `json:"pages"`
	// DBPage is whether the user data writes the database page (site.DB).
	DBPage bool `json:"db_page"`
	// SitePool and HealthPool name the pools /db.php and the health-check page run in.
	SitePool   string `json:"site_pool"`
	HealthPool string `json:"health_pool"`
	// SiteWorkers and HealthWorkers are their pm.max_children: 0 where the script computes it
	// at boot (from the instance's memory), which a reading of the script cannot know.
	SiteWorkers   int `json:"site_workers"`
	HealthWorkers int `json:"health_workers"`
	// ConnectTimeout and ReadTimeout are /db.php's MYSQLI_OPT_CONNECT_TIMEOUT and
	// MYSQLI_OPT_READ_TIMEOUT in seconds; ConnectSet is false where PHP's default applies.
	ConnectTimeout int  `json:"connect_timeout"`
	ConnectSet     bool `json:"connect_set"`
	ReadTimeout    int  `json:"read_timeout,omitempty"`
}

// BootstrapOf reads a web server's user data, the target group's health-check path given.
func BootstrapOf(userData, healthPath string) Bootstrap {
	files, order := scriptFiles(Script(userData))
	pools := fpmPools(files)
	sitePool, health := poolOf(site.DB.Path, files, pools), poolOf(healthPath, files, pools)
	b := Bootstrap{SitePool: sitePool.name, HealthPool: health.name, ConnectTimeout: phpDefaultSocketTimeout}
	for _, f := range order {
		if page, ok := strings.CutPrefix(f, site.WebRoot); ok && strings.HasPrefix(page, "/") {
			b.Pages = append(b.Pages, page)
		}
	}
	b.SiteWorkers, _ = strconv.Atoi(sitePool.settings["pm.max_children"])
	b.HealthWorkers, _ = strconv.Atoi(health.settings["pm.max_children"])
	if db, ok := files[site.DB.File()]; ok {
		b.DBPage = true
		opts := phpOptions(db)
		if t, ok := opts["MYSQLI_OPT_CONNECT_TIMEOUT"]; ok {
			b.ConnectTimeout, b.ConnectSet = t, true
		}
		b.ReadTimeout = opts["MYSQLI_OPT_READ_TIMEOUT"]
	}
	return b
}

// HealthPath is the health-check path of the stack's target group, "" when it has none.
func (n *Network) HealthPath() string {
	for _, tg := range n.TargetGroups {
		if tg.PathSet && strings.HasPrefix(tg.Addr, "aws_lb_target_group.") {
			return tg.Health.Path
		}
	}
	return ""
}

// failoverShape: a database failover takes no web server out of service: the health-check
// page is not in the pool /db.php fills, and /db.php bounds its connection's wait.
func (v *verifier) failoverShape() check.Result {
	const check = "a database failover takes no web server out of service (health page's own pool, db.php's connect timeout)"
	health := v.n.HealthPath()
	userData := ""
	for _, e := range v.n.Find(rules.Web) {
		userData = e.UserData
		break
	}
	b := BootstrapOf(userData, health)
	switch {
	case userData == "":
		return shape(5, check, "", []string{"the web servers have no user data"})
	case !b.DBPage:
		return shape(5, check, "the web servers serve no /db.php", nil)
	case health == "":
		return shape(5, check, "", []string{"no target group has a health-check path"})
	}
	var problems []string
	if b.SitePool == b.HealthPool {
		problems = append(problems, fmt.Sprintf("the health-check page %s runs in PHP-FPM's pool %q with /db.php: during a failover "+
			"requests to /db.php fill the pool, the health checks time out and the group replaces healthy servers "+
			"(give %s a pool of its own: an httpd <Location> handing it to that pool's socket)", health, b.SitePool, health))
	}
	if !b.ConnectSet || b.ConnectTimeout > maxConnectTimeout {
		said := fmt.Sprintf("not set: PHP's default_socket_timeout, %d s", phpDefaultSocketTimeout)
		if b.ConnectSet {
			said = fmt.Sprintf("%d s", b.ConnectTimeout)
		}
		problems = append(problems, fmt.Sprintf("/db.php's MYSQLI_OPT_CONNECT_TIMEOUT is %s: during a failover each request holds a worker that long; at most %d s", said, maxConnectTimeout))
	}
	return shape(5, check, fmt.Sprintf("%s in pool %q, /db.php in %q, connect timeout %d s", health, b.HealthPool, b.SitePool, b.ConnectTimeout), problems)
}

// bootOrderShape: the web servers' group is created after what a server needs in its first
// minute for its mount: its role's policies (IAM is eventually consistent: a server launched
// before them mounts as a role that may not) and the file system's mount targets. A server
// whose bootstrap fails never passes its health check, and the group replaces it forever.
func (v *verifier) bootOrderShape() check.Result {
	const check = "the web servers' group is created after its role's policies and the mount targets"
	if v.n.Deployed {
		return shape(6, check, "a deployed stack: the order of its creation is past", nil)
	}
	a := &authz{v: v}
	role, _ := a.webRole()
	var needs []string
	if role != nil {
		for _, p := range role.Policies {
			needs = append(needs, p.Addr)
		}
	}
	for _, mt := range v.n.MountTargets {
		needs = append(needs, mt.Addr)
	}
	var problems []string
	for _, asg := range v.n.Fleets {
		for _, need := range needs {
			if !v.n.createdAfter(v.waits, asg.Addr, need) {
				problems = append(problems, fmt.Sprintf("%s is created without waiting for %s; add it to depends_on", asg.Addr, need))
			}
		}
	}
	return shape(6, check, fmt.Sprintf("waits for %d resources", len(needs)), problems)
}
