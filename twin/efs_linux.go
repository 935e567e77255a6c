package twin

import (
	"context"
	"fmt"
	"net"
	"time"

	seed "github.com/webtier/webtier/drill"
	"github.com/webtier/webtier/twin/standin"
)

// WriteShared writes name through the web server's mount of the file system (the twin's NFS
// client, from the server's namespace, as its mount options say) and reads it back. The file
// stays: the site lists it.
func (d *drill) WriteShared(ctx context.Context, h seed.Host, name string) (observed, evidence string, undo func(), err error) {
	writer, err := d.p.Host(h.Name)
	if err != nil {
		return "", "", nil, err
	}
	if len(d.p.MountTargets()) == 0 {
		return "-", "", nil, fmt.Errorf("the stack has no EFS mount target")
	}
	t, err := d.threads.Of(writer)
	if err != nil {
		return "", "", nil, err
	}
	access := d.p.EFSAccess(writer)
	how := "NFS without TLS, anonymous,"
	switch {
	case access.TLS && access.IAM:
		how = "NFS in TLS, signed with the instance role's credentials,"
	case access.TLS:
		how = "NFS in TLS, anonymous (no iam option),"
	case access.IAM:
		how = "NFS without TLS, signed with the instance role's credentials,"
	}
	evidence = how + " from " + writer.Name + " to " + d.p.EFSName() + " as " + writer.AZ + " resolves it"
	server, err := standin.WriteShared(ctx, access, func(ctx context.Context, addr string) (net.Conn, error) {
		return t.Dial(ctx, addr, 3*time.Second)
	}, name, []byte("written through "+writer.Name+"'s mount by webtier drill\n"))
	return "written and read back through the mount target at " + server, evidence, nil, err
}

var _ seed.SharedFiles = (*drill)(nil)
