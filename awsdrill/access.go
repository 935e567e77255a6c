package awsdrill

import (
	"context"
	"errors"
	"fmt"

	"github.com/webtier/webtier/check"
	"github.com/webtier/webtier/config"
	"github.com/webtier/webtier/drill"
)

// access is requirement 1 in the config's access mode (the drill's test 1, kept apart): with
// bastions (bastion, both) the seed's SSH tests; with Session Manager (ssm, both) a row per
// web server saying that a session through Session Manager is not drilled yet.
func (d *awsEnv) access(ctx context.Context) []check.Result {
	var rows []check.Result
	if d.o.Config.Bastions() {
		rows = drill.Test(ctx, d, 1)
	}
	if !d.o.Config.SessionManager() {
		return rows
	}
	for _, w := range d.f.Webs {
		rows = append(rows, check.Result{Req: 1,
			Check:    fmt.Sprintf("aws ssm start-session --target %s: hostname", w.ID),
			Expected: "the web server's hostname", Observed: "-", Evidence: sessionNotBuilt, Status: check.NotBuilt})
	}
	return rows
}

// sessionNotBuilt says why the drill does not open a session on AWS.
const sessionNotBuilt = "not drilled: the drill's shell is SSH (through a bastion); running `hostname` through Systems Manager " +
	"(SendCommand and GetCommandInvocation, or a Session Manager session) is not built, and the emulator runs no SSM Agent to answer it. " +
	"verify proves the endpoints' path and the agent's calls; the twin's drill runs a session through its stand-in"

// errNoBastion is the drill's shell with access ssm: the tests that log in to a web server
// (stopping httpd, curl through NAT, the load, the shared file) have no way in.
var errNoBastion = errors.New("access " + config.AccessSSM + ": no bastion to SSH through, and the drill's shell through Session Manager (SSM SendCommand) is not built")

// noBastionShell is Options.Shell with access ssm on a real account.
func noBastionShell(context.Context, string, string, string) (string, error) { return "", errNoBastion }
