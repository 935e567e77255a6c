package twin

import (
	"regexp"
	"strings"
)

// Reading the pages the web servers' user data writes (constructs/web-init.sh), as the
// seed's tests read them, on the twin and on a real deployment alike.

var (
	instanceRe = regexp.MustCompile(`<td>Instance ID</td><td>([^<]*)</td>`)
	azRe       = regexp.MustCompile(`<td>Availability Zone</td><td>([^<]*)</td>`)
	sharedRe   = regexp.MustCompile(`(?s)<h2>Shared files[^<]*</h2>\s*<ul>(.*?)</ul>`)
	itemRe     = regexp.MustCompile(`<li>([^<]*)</li>`)
	endpointRe = regexp.MustCompile(`<p>Endpoint (\S+) resolves to (\S+)</p>`)
	dbRowRe    = regexp.MustCompile(`<tr><td>[^<]*</td><td>[^<]*</td><td>[^<]*</td></tr>`)
)

// Page is what the index page says: which instance answered, in which AZ, and the files it
// lists on the shared file system.
type Page struct {
	Instance, AZ string
	Shared       []string
}

// ParsePage reads an index page; false when it is not one (no instance ID).
func ParsePage(body string) (Page, bool) {
	m := instanceRe.FindStringSubmatch(body)
	if m == nil {
		return Page{}, false
	}
	p := Page{Instance: m[1]}
	if a := azRe.FindStringSubmatch(body); a != nil {
		p.AZ = a[1]
	}
	if s := sharedRe.FindStringSubmatch(body); s != nil {
		for _, it := range itemRe.FindAllStringSubmatch(s[1], -1) {
			p.Shared = append(p.Shared, it[1])
		}
	}
	return p, true
}

// DBPage is what /db.php says: the endpoint's name, the address it resolved to, the rows.
type DBPage struct {
	Endpoint, Addr, Rows string
}

// ParseDBPage reads a /db.php page; false when it is not one (no endpoint line).
func ParseDBPage(body string) (DBPage, bool) {
	m := endpointRe.FindStringSubmatch(body)
	if m == nil {
		return DBPage{}, false
	}
	return DBPage{m[1], m[2], strings.Join(dbRowRe.FindAllString(body, -1), "")}, true
}
