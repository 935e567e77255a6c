package twin

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/webtier/webtier/twin/compiler"

	"github.com/webtier/webtier/config"
	"github.com/webtier/webtier/verify"
)

// What a running twin keeps besides its plan: the stack and config it was built from, and
// its Auto Scaling controller's status. The controller itself is in scale_linux.go.

// ScaleTimeScale divides the controller's times: AWS's one-minute datapoints are 2 s here,
// so the 3 datapoints of the scale-out alarm take 6 s and the 15 of the scale-in alarm 30 s.
const ScaleTimeScale = 30

// File names in the state directory.
const (
	stackFile   = "stack.tf.json"
	configFile  = "config.json"
	scalerPid   = "asg.pid"
	scaleStatus = "asg.json"
)

// SaveSource keeps the stack and config a running twin was built from in its state
// directory, so that Load, and the controller, can compile it again.
func SaveSource(prefix string, stack []byte, cfg config.Config) error {
	dir := compiler.StateDir(prefix)
	cfgJSON, err := json.Marshal(cfg)
	if err != nil {
		return err
	}
	return errors.Join(
		os.WriteFile(filepath.Join(dir, stackFile), stack, 0o644),
		os.WriteFile(filepath.Join(dir, configFile), cfgJSON, 0o644))
}

// SavedStack is the stack a running twin was built from (or last changed to).
func SavedStack(prefix string) ([]byte, error) {
	data, err := os.ReadFile(filepath.Join(compiler.StateDir(prefix), stackFile))
	if os.IsNotExist(err) {
		return nil, fmt.Errorf("no twin is up (no %s); run `webtier twin up` first", filepath.Join(compiler.StateDir(prefix), stackFile))
	}
	return data, err
}

// Load reads a running twin: its plan compiled again from the stack and config it was built
// from (at the sizes its controller set), checked against the plan it wrote.
func Load(prefix string) (*compiler.Plan, *verify.Network, verify.Intent, error) {
	saved, err := LoadPlan(prefix)
	if err != nil {
		return nil, nil, verify.Intent{}, err
	}
	dir := compiler.StateDir(prefix)
	stack, err := os.ReadFile(filepath.Join(dir, stackFile))
	if err != nil {
		return nil, nil, verify.Intent{}, err
	}
	var cfg config.Config
	data, err := os.ReadFile(filepath.Join(dir, configFile))
	if err == nil {
		err = json.Unmarshal(data, &cfg)
	}
	if err != nil {
		return nil, nil, verify.Intent{}, err
	}
	intent, err := verify.IntentOf(cfg)
	if err != nil {
		return nil, nil, verify.Intent{}, err
	}
	load := verify.Load
	if saved.Live {
		load = verify.LoadDeployedJSON // the stack read back from the deployment's APIs
	}
	n, err := load(stack)
	if err != nil {
		return nil, nil, verify.Intent{}, err
	}
	plan, err := compiler.CompileDesired(n, intent, prefix, saved.Groups)
	if err != nil {
		return nil, nil, verify.Intent{}, err
	}
	if plan.Text() != saved.Text() {
		return nil, nil, verify.Intent{}, fmt.Errorf("the twin's state in %s does not match what its stack compiles to; run `webtier twin up` again", dir)
	}
	plan.Live = saved.Live
	return plan, n, intent, nil
}

// ScaleStatus is what the controller last saw and did, in the state directory.
type ScaleStatus struct {
	Group     string  `json:"group"`
	Min       int     `json:"min"`
	Max       int     `json:"max"`
	Desired   int     `json:"desired"`
	CPUTarget float64 `json:"cpu_target"`
	// Datapoint is the length of one datapoint (AWS: 1 minute, divided by Scale).
	Datapoint string          `json:"datapoint"`
	Scale     int             `json:"scale"`
	Average   float64         `json:"average_cpu"`
	Instances []ScaleInstance `json:"instances"`
	Events    []ScaleEvent    `json:"events,omitempty"`
	Updated   time.Time       `json:"updated"`
	// Error is why the controller stopped, when it did.
	Error string `json:"error,omitempty"`
}

// ScaleInstance is one server of the group and its CPU over the last datapoint (percent of
// one CPU, as the twin gives each host one).
type ScaleInstance struct {
	Host string  `json:"host"`
	ID   string  `json:"id"`
	AZ   string  `json:"az"`
	CPU  float64 `json:"cpu"`
}

// ScaleEvent is one change of the group's size.
type ScaleEvent struct {
	At       time.Time `json:"at"`
	From     int       `json:"from"`
	To       int       `json:"to"`
	Why      string    `json:"why"`
	Launched []string  `json:"launched,omitempty"`
	Ended    []string  `json:"ended,omitempty"`
}

// ReadScaleStatus reads the controller's status of a running twin.
func ReadScaleStatus(prefix string) (*ScaleStatus, error) {
	data, err := os.ReadFile(filepath.Join(compiler.StateDir(prefix), scaleStatus))
	if err != nil {
		return nil, fmt.Errorf("the twin's Auto Scaling controller has written no status: %w", err)
	}
	var st ScaleStatus
	return &st, json.Unmarshal(data, &st)
}
