// Package emulator runs moto_server, a local AWS API emulator, on loopback for `webtier deploy
// --target local`. The server outlives the command that started it (deploy, then later
// destroy), so its PID and port are kept in a state folder. Plain Go.
package emulator

import (
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

//go:embed moto_server.py
var launcher []byte

// Files kept in the state folder.
const (
	stateFile    = "emulator.json"
	launcherFile = "moto_server.py"
	logFile      = "moto.log"
)

// Python is the interpreter that runs the launcher.
var Python = "python3"

// Emulator is a moto server listening on 127.0.0.1.
type Emulator struct {
	PID  int `json:"pid"`
	Port int `json:"port"`
	// Dir is the state folder holding emulator.json, the launcher and moto.log.
	Dir string `json:"-"`
}

// Endpoint is the URL every AWS service is pointed at.
func (e *Emulator) Endpoint() string { return "http://127.0.0.1:" + strconv.Itoa(e.Port) }

// Check tells what to install when python3 or moto is missing.
func Check() error {
	if _, err := exec.LookPath(Python); err != nil {
		return fmt.Errorf("the local target needs %s with moto: install Python 3, then `pip install 'moto[server]==5.2.1'`", Python)
	}
	out, err := exec.Command(Python, "-c", "import moto, flask; print(moto.__version__)").CombinedOutput()
	if err != nil {
		return fmt.Errorf("the local target needs moto's server for %s: `pip install 'moto[server]==5.2.1'` (import failed: %s)", Python, lastLine(out))
	}
	if v := strings.TrimSpace(string(out)); !strings.HasPrefix(v, "5.") {
		return fmt.Errorf("moto %s is installed; the local target is tested with moto 5.2.1: `pip install 'moto[server]==5.2.1'`", v)
	}
	return nil
}

func lastLine(b []byte) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return lines[len(lines)-1]
}

// S3RangesEnv carries Start's s3Ranges to the launcher, as a JSON object (region -> CIDRs).
const S3RangesEnv = "WEBTIER_S3_RANGES"

// OwnerEnv carries the PID of the process that started the launcher when the emulator is to
// end with it (Options.EndWithOwner).
const OwnerEnv = "WEBTIER_EMULATOR_OWNER"

// Options says how to start an emulator.
type Options struct {
	// S3Ranges gives, by region, the CIDRs of the AWS-managed S3 prefix list (as AWS's holds
	// the region's S3 ranges; moto's own are the same three in every region).
	// default: nil, moto's
	S3Ranges map[string][]string
	// EndWithOwner makes the emulator stop when the process that started it ends, however it
	// ends (a test killed by its timeout, a CI run killed from outside). default: false, the
	// emulator outlives the command that started it (`webtier deploy`, then `webtier destroy`)
	EndWithOwner bool
}

// Find returns the emulator recorded in dir if it is still answering, else nil.
func Find(dir string) *Emulator {
	data, err := os.ReadFile(filepath.Join(dir, stateFile))
	if err != nil {
		return nil
	}
	e := &Emulator{Dir: dir}
	if json.Unmarshal(data, e) != nil || !e.Alive() {
		return nil
	}
	return e
}

// Ensure returns the emulator recorded in dir, or starts one with opts. started says which.
func Ensure(dir string, opts Options) (e *Emulator, started bool, err error) {
	if e := Find(dir); e != nil {
		return e, false, nil
	}
	e, err = Start(dir, opts)
	return e, err == nil, err
}

// Start launches a new moto server on a free loopback port, detached from the terminal's
// process group so that Ctrl-C stops terraform, not the emulator holding the resources.
func Start(dir string, opts Options) (*Emulator, error) {
	if err := Check(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	script := filepath.Join(dir, launcherFile)
	if err := os.WriteFile(script, launcher, 0o644); err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	log, err := os.OpenFile(filepath.Join(dir, logFile), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, err
	}
	defer log.Close()
	cmd := exec.Command(Python, script, "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	cmd.Stdout, cmd.Stderr = log, log
	cmd.Env = os.Environ()
	if len(opts.S3Ranges) > 0 {
		ranges, err := json.Marshal(opts.S3Ranges)
		if err != nil {
			return nil, err
		}
		cmd.Env = append(cmd.Env, S3RangesEnv+"="+string(ranges))
	}
	if opts.EndWithOwner {
		cmd.Env = append(cmd.Env, OwnerEnv+"="+strconv.Itoa(os.Getpid()))
	}
	detach(cmd)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start moto: %w", err)
	}
	e := &Emulator{PID: cmd.Process.Pid, Port: port, Dir: dir}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	deadline := time.Now().Add(30 * time.Second)
	for !e.Alive() {
		select {
		case err := <-exited:
			return nil, fmt.Errorf("moto exited before answering (%v); see %s", err, filepath.Join(dir, logFile))
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			e.Stop()
			return nil, fmt.Errorf("moto did not answer on %s within 30 s; see %s", e.Endpoint(), filepath.Join(dir, logFile))
		}
	}
	data, _ := json.Marshal(e)
	if err := os.WriteFile(filepath.Join(dir, stateFile), data, 0o644); err != nil {
		e.Stop()
		return nil, err
	}
	return e, nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

var client = &http.Client{Timeout: 2 * time.Second}

// Alive reports whether the server answers its management API.
func (e *Emulator) Alive() bool {
	resp, err := client.Get(e.Endpoint() + "/moto-api/")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// Stop ends the server and forgets it.
func (e *Emulator) Stop() error {
	os.Remove(filepath.Join(e.Dir, stateFile))
	p, err := os.FindProcess(e.PID)
	if err != nil {
		return nil
	}
	if err := terminate(p); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return nil // already gone
	}
	for i := 0; i < 50 && e.Alive(); i++ {
		time.Sleep(100 * time.Millisecond)
	}
	if e.Alive() {
		p.Signal(syscall.SIGKILL)
	}
	return nil
}
