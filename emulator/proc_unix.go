//go:build unix

package emulator

import (
	"os"
	"os/exec"
	"syscall"
)

// detach starts cmd in a session of its own, out of the terminal's process group: Ctrl-C
// stops terraform, not the emulator holding the resources.
func detach(cmd *exec.Cmd) { cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true} }

// terminate asks the server to stop.
func terminate(p *os.Process) error { return p.Signal(syscall.SIGTERM) }
