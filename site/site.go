// Package site declares the pages the web servers' user data writes: where each is, which
// PHP-FPM pool runs it, what it shows and in which markup. The constructs render them into
// the user data (constructs/web-init.sh), the twin's stand-ins serve them, and the drill reads
// them. Plain Go, with no cdktf or jsii import.
package site

import (
	"fmt"
	"html"
	"regexp"
	"strings"
)

// WebRoot is httpd's document root on the web servers.
const WebRoot = "/var/www/html"

// SharedDir is where every web server mounts the shared file system (EFS), under the web root.
const SharedDir = WebRoot + "/efs"

// The PHP-FPM pools: the distribution's own (the site's pages) and the health page's, so that
// requests that wait on the database never fill the pool the health checks need.
const (
	SitePool   = "www"
	HealthPool = "health"
)

// Page is a page the user data writes.
type Page struct {
	// Path is the file under WebRoot: "/index.php".
	Path string
	// URL is what a visitor asks for: "/" for the index page.
	URL string
	// Pool is the PHP-FPM pool that runs it.
	Pool string
	// Shows is what the page shows, and which of the seed's tests reads it.
	Shows string
}

// File is the page's file on a web server.
func (p Page) File() string { return WebRoot + p.Path }

// Index is the site's page: which instance answered (read with IMDSv2) and the files of the
// shared file system.
var Index = Page{Path: "/index.php", URL: "/", Pool: SitePool,
	Shows: "the instance that answered (ID, private IP, AZ) and the shared files: the load-balancing and shared-file tests"}

// DB is the database page: the endpoint's name, the address it resolves to and the practice
// table, or a generic error when the database does not answer.
var DB = Page{Path: "/db.php", URL: "/db.php", Pool: SitePool,
	Shows: "the database endpoint, the address it resolves to and a table read from it: the failover test"}

// HealthPath is where the user data writes the health page, and what the target group's
// health check requests.
const HealthPath = "/healthz.php"

// Health is the health-check page at path (the target group's): "ok" while PHP answers,
// without touching the database.
func Health(path string) Page {
	return Page{Path: path, URL: path, Pool: HealthPool, Shows: "ok while PHP answers (the ALB's health checks)"}
}

// HealthBody is what the health page answers.
const HealthBody = "ok\n"

// The index page's rows, in order: what the page reads from the instance metadata (IMDSv2).
const (
	InstanceID = "Instance ID"
	PrivateIP  = "Private IP Address"
	AZ         = "Availability Zone"
)

// Metadata are the index page's rows with the instance metadata path each is read from.
var Metadata = [][2]string{{InstanceID, "instance-id"}, {PrivateIP, "local-ipv4"}, {AZ, "placement/availability-zone"}}

// SharedHeading heads the index page's list of shared files.
const SharedHeading = "Shared files (EFS at " + SharedDir + ")"

// Unavailable is what the database page tells visitors when the database does not answer
// (the details go to PHP-FPM's error log, each line prefixed with ErrorLogPrefix).
const (
	Unavailable    = "The database is unavailable right now. Please try again shortly."
	ErrorLogPrefix = "webtier db.php: "
)

// PracticeTable is the database page's table: made if missing, with one row.
const (
	PracticeCreate = "CREATE TABLE IF NOT EXISTS practice (id INT PRIMARY KEY, name VARCHAR(32), address VARCHAR(64))"
	PracticeInsert = "INSERT IGNORE INTO practice VALUES (1, 'KIM', 'SEOUL')"
	PracticeSelect = "SELECT id, name, address FROM practice ORDER BY id"
)

// IndexHTML is the index page with rows (label and value, as Metadata orders them) and the
// shared files; note, when set, is a line of small print that says what rendered it.
func IndexHTML(rows [][2]string, shared []string, note string) string {
	var b strings.Builder
	b.WriteString("<!doctype html><title>webtier</title>\n<h1>Instance data</h1>\n<table border=\"1\"><tr><th>Data</th><th>Value</th></tr>\n")
	for _, row := range rows {
		fmt.Fprintf(&b, "<tr><td>%s</td><td>%s</td></tr>\n", html.EscapeString(row[0]), html.EscapeString(row[1]))
	}
	b.WriteString("</table>\n<h2>" + SharedHeading + "</h2>\n<ul>")
	for _, name := range shared {
		fmt.Fprintf(&b, "<li>%s</li>", html.EscapeString(name))
	}
	b.WriteString("</ul>\n<p><a href=\"" + DB.URL + "\">Database page</a></p>\n")
	if note != "" {
		fmt.Fprintf(&b, "<p><small>%s</small></p>\n", note)
	}
	return b.String()
}

// DBHTML is the database page: the endpoint, the address it resolved to, the table's rows;
// note as IndexHTML's.
func DBHTML(endpoint, resolved string, rows [][3]string, note string) string {
	var b strings.Builder
	b.WriteString("<!doctype html><title>webtier database</title>\n<h1>RDS Practice</h1>\n")
	fmt.Fprintf(&b, "<p>Endpoint %s resolves to %s</p>\n", html.EscapeString(endpoint), html.EscapeString(resolved))
	b.WriteString("<table border=\"1\"><tr><th>ID</th><th>NAME</th><th>ADDRESS</th></tr>\n")
	for _, row := range rows {
		fmt.Fprintf(&b, "<tr><td>%s</td><td>%s</td><td>%s</td></tr>\n", html.EscapeString(row[0]), html.EscapeString(row[1]), html.EscapeString(row[2]))
	}
	b.WriteString("</table>\n")
	if note != "" {
		fmt.Fprintf(&b, "<p><small>%s</small></p>\n", note)
	}
	return b.String()
}

var (
	instanceRe = rowRe(InstanceID)
	azRe       = rowRe(AZ)
	sharedRe   = regexp.MustCompile(`(?s)<h2>` + regexp.QuoteMeta(SharedHeading) + `</h2>\s*<ul>(.*?)</ul>`)
	itemRe     = regexp.MustCompile(`<li>([^<]*)</li>`)
	noteRe     = regexp.MustCompile(`<p><small>([^<]*)</small></p>`)
	endpointRe = regexp.MustCompile(`<p>Endpoint (\S+) resolves to (\S+)</p>`)
	dbRowRe    = regexp.MustCompile(`<tr><td>[^<]*</td><td>[^<]*</td><td>[^<]*</td></tr>`)
)

func rowRe(label string) *regexp.Regexp {
	return regexp.MustCompile(`<td>` + regexp.QuoteMeta(label) + `</td><td>([^<]*)</td>`)
}

// IndexPage is what the index page says: which instance answered, in which AZ, and the files
// it lists on the shared file system.
type IndexPage struct {
	Instance, AZ string
	Shared       []string
	// Note is the small print of a page a stand-in rendered (IndexHTML's note), else "".
	Note string
}

// ParseIndex reads an index page; false when it is not one (no instance ID).
func ParseIndex(body string) (IndexPage, bool) {
	m := instanceRe.FindStringSubmatch(body)
	if m == nil {
		return IndexPage{}, false
	}
	p := IndexPage{Instance: html.UnescapeString(m[1])}
	if a := azRe.FindStringSubmatch(body); a != nil {
		p.AZ = html.UnescapeString(a[1])
	}
	if s := sharedRe.FindStringSubmatch(body); s != nil {
		for _, it := range itemRe.FindAllStringSubmatch(s[1], -1) {
			p.Shared = append(p.Shared, html.UnescapeString(it[1]))
		}
	}
	if n := noteRe.FindStringSubmatch(body); n != nil {
		p.Note = html.UnescapeString(n[1])
	}
	return p, true
}

// DBPage is what the database page says: the endpoint's name, the address it resolved to, the
// table's rows (their markup, to compare before and after a failover).
type DBPage struct {
	Endpoint, Addr, Rows string
}

// ParseDB reads a database page; false when it is not one (no endpoint line).
func ParseDB(body string) (DBPage, bool) {
	m := endpointRe.FindStringSubmatch(body)
	if m == nil {
		return DBPage{}, false
	}
	return DBPage{html.UnescapeString(m[1]), html.UnescapeString(m[2]), strings.Join(dbRowRe.FindAllString(body, -1), "")}, true
}
