package emulator

import (
	"os"
	"os/exec"
	"syscall"
)

// detach starts cmd in a process group of its own, which the console's Ctrl-C does not
// reach: it stops terraform, not the emulator holding the resources.
func detach(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{CreationFlags: syscall.CREATE_NEW_PROCESS_GROUP}
}

// terminate stops the server: Windows has no signal to ask a process to stop with.
func terminate(p *os.Process) error { return p.Kill() }
