package twin

import (
	"context"
	"fmt"
	"html"
	"net"
	"slices"
	"time"

	seed "github.com/webtier/webtier/drill"
	"github.com/webtier/webtier/rules"
	"github.com/webtier/webtier/site"
)

// sharedFiles is requirement 6: a file written through one web server's mount of the file
// system is listed on the page of a web server in another AZ (read through the ALB).
func (d *drill) sharedFiles(ctx context.Context) error {
	const test = "a file written through one web server's mount, listed by another AZ's"
	webs := d.p.hostsOfRole(rules.Web)
	if len(webs) == 0 || len(d.p.mountTargets()) == 0 {
		d.add(6, test, "listed", "-", "the stack has no web server or no EFS mount target", false)
		return nil
	}
	writer := webs[0]
	var readers []*Host
	for _, w := range webs {
		if w.AZ != writer.AZ {
			readers = append(readers, w)
		}
	}
	if len(readers) == 0 {
		if d.p.Live {
			d.rows = append(d.rows, newRow(6, "the file is listed by a web server in another AZ", "another AZ", writer.AZ,
				"the emulator placed every instance of the group in one AZ; read by the others of "+writer.AZ, seed.Limitation))
		}
		readers = webs[1:]
	}
	t, err := d.thread(writer)
	if err != nil {
		return err
	}
	name := fmt.Sprintf("drill-%d.txt", time.Now().UnixNano())
	access := d.p.efsAccess(writer)
	how := "NFS without TLS, anonymous,"
	switch {
	case access.TLS && access.IAM:
		how = "NFS in TLS, signed with the instance role's credentials,"
	case access.TLS:
		how = "NFS in TLS, anonymous (no iam option),"
	case access.IAM:
		how = "NFS without TLS, signed with the instance role's credentials,"
	}
	server, err := writeShared(ctx, access, func(ctx context.Context, addr string) (net.Conn, error) {
		return t.dial(ctx, addr, 3*time.Second)
	}, name, []byte("written through "+writer.Name+"'s mount by webtier drill\n"))
	observed := "written and read back through the mount target at " + server
	if err != nil {
		observed = err.Error()
	}
	d.add(6, "write "+name+" through "+writer.Name+"'s mount ("+writer.AZ+")", "written and read back",
		observed, how+" from "+writer.Name+" to "+d.p.efsName()+" as "+writer.AZ+" resolves it", err == nil)
	if err != nil {
		return nil
	}
	internet := d.p.firstOf("internet")
	client, err := d.httpClient(internet)
	if err != nil {
		return err
	}
	nodes := d.p.ALBAddrs(80)
	// A reader just started may not be in service yet: ask for the health checks' window.
	window := d.p.albHealth().Settle()
	for _, reader := range readers {
		seen, listed, why := 0, false, "no page from "+instanceID(reader)+" in "+window.String()
		for i, end := 0, time.Now().Add(window); time.Now().Before(end) && !listed; i++ {
			id, body, err := pageBody(client, nodes[i%len(nodes)])
			if err != nil || id != instanceID(reader) {
				sleep(ctx, 100)
				continue
			}
			seen++
			pg, _ := site.ParseIndex(body)
			listed = slices.Contains(pg.Shared, name)
			if m := twinNote.FindStringSubmatch(body); m != nil {
				why = html.UnescapeString(m[1])
			}
		}
		observed := "not listed"
		if listed {
			observed = "listed"
		}
		d.add(6, name+" on "+reader.Name+"'s page ("+reader.AZ+"), through the ALB", "listed", observed,
			fmt.Sprintf("%d pages of %s read; %s", seen, instanceID(reader), why), listed)
	}
	return nil
}
