package supervise

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
)

// Start starts cmd in a process group of its own, its output to logFile and its process id
// to pidFile, and returns once it runs. Stopping that pid (or the namespace's end) ends it.
func Start(cmd *exec.Cmd, logFile, pidFile string) error {
	log, err := os.Create(logFile)
	if err != nil {
		return err
	}
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	err = cmd.Start()
	log.Close()
	if err != nil {
		return err
	}
	// Reaped here when it ends, if this process still runs then (tests).
	go cmd.Wait()
	return os.WriteFile(pidFile, []byte(strconv.Itoa(cmd.Process.Pid)+"\n"), 0o644)
}

// ReadPid reads a pid file written by Start.
func ReadPid(pidFile string) (int, error) {
	data, err := os.ReadFile(pidFile)
	if err != nil {
		return 0, err
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		return 0, fmt.Errorf("%s: %w", pidFile, err)
	}
	return pid, nil
}

// Signal sends sig to the process of a pid file.
func Signal(pidFile string, sig syscall.Signal) error {
	pid, err := ReadPid(pidFile)
	if err != nil {
		return err
	}
	return syscall.Kill(pid, sig)
}
