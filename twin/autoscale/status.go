package autoscale

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/webtier/webtier/twin/compiler"
	"github.com/webtier/webtier/twin/standin"
)

// The controller's status in the state directory of a running twin, and its clock.

// timeScale divides the controller's times: AWS's one-minute datapoints are 2 s here, so the
// 3 datapoints of the scale-out alarm take 6 s and the 15 of the scale-in alarm 30 s.
const timeScale = 30

// File names in the state directory.
const (
	pidFile    = "asg.pid"
	statusFile = "asg.json"
	logFile    = "asg.log"
)

// Datapoint is the length of one CloudWatch datapoint in the twin (AWS: 1 minute, divided by
// the controller's time scale): the controller measures, decides and evaluates the alarms
// once per datapoint.
func Datapoint() time.Duration { return time.Minute / timeScale }

// Status is what the controller last saw and did, in the state directory.
type Status struct {
	Group     string  `json:"group"`
	Min       int     `json:"min"`
	Max       int     `json:"max"`
	Desired   int     `json:"desired"`
	CPUTarget float64 `json:"cpu_target"`
	// Datapoint is the length of one datapoint (AWS: 1 minute, divided by Scale).
	Datapoint string     `json:"datapoint"`
	Scale     int        `json:"scale"`
	Average   float64    `json:"average_cpu"`
	Instances []Instance `json:"instances"`
	Events    []Event    `json:"events,omitempty"`
	Updated   time.Time  `json:"updated"`
	// Error is why the controller stopped, when it did.
	Error string `json:"error,omitempty"`
}

// Instance is one server of the group and its CPU over the last datapoint (percent of one
// CPU, as the twin gives each host one).
type Instance struct {
	Host string  `json:"host"`
	ID   string  `json:"id"`
	AZ   string  `json:"az"`
	CPU  float64 `json:"cpu"`
}

// Event is one change of the group's size.
type Event struct {
	At       time.Time `json:"at"`
	From     int       `json:"from"`
	To       int       `json:"to"`
	Why      string    `json:"why"`
	Launched []string  `json:"launched,omitempty"`
	Ended    []string  `json:"ended,omitempty"`
}

// ReadStatus reads the controller's status of the running twin with prefix; an error when
// the controller has written none (it is not running, or the twin has no group).
func ReadStatus(prefix string) (*Status, error) {
	data, err := os.ReadFile(filepath.Join(compiler.StateDir(prefix), statusFile))
	if err != nil {
		return nil, fmt.Errorf("the twin's Auto Scaling controller has written no status: %w", err)
	}
	var st Status
	return &st, json.Unmarshal(data, &st)
}

func writeStatus(prefix string, st *Status) error {
	st.Updated = time.Now()
	return standin.WriteJSON(filepath.Join(compiler.StateDir(prefix), statusFile), st)
}

// readCounts is what the ALB node host last wrote of its targets in the state directory dir;
// false when it wrote nothing readable.
func readCounts(dir, host string) (standin.TargetCounts, bool) {
	var c standin.TargetCounts
	data, err := os.ReadFile(standin.CountsFile(dir, host))
	if err != nil || json.Unmarshal(data, &c) != nil {
		return c, false
	}
	return c, true
}

// sleep waits ms milliseconds, or until ctx ends.
func sleep(ctx context.Context, ms int) {
	select {
	case <-ctx.Done():
	case <-time.After(time.Duration(ms) * time.Millisecond):
	}
}
