package autoscale

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/webtier/webtier/twin/compiler"
	"github.com/webtier/webtier/twin/supervise"
)

// Auto Scaling in the twin: a controller process (a stand-in for EC2 Auto Scaling with a
// target-tracking policy on ASGAverageCPUUtilization) measures the CPU of every web server's
// namespace, and when the average stays above the policy's target it grows the group: the
// twin is compiled again at the new size and the difference applied to the running twin (a
// new namespace with its links, addresses and ruleset; the other hosts' rulesets, whose
// security-group member sets now hold the new address; its services; its registration with
// every ALB node). When the average stays low, it ends the newest servers the same way.

// Start starts the controller of the running twin at plan p (its source saved, twin's
// SaveSource) as cmd, this program in the twin's serve mode with `--scale PREFIX`, whose
// main calls Run; in this machine's namespace, as it makes and removes the twin's namespaces.
// It waits for the controller's first status and fails when none comes within 5 s or the
// status says it stopped. A twin without an Auto Scaling group gets none (cmd is not run).
func Start(ctx context.Context, p *compiler.Plan, cmd *exec.Cmd) error {
	if res, _, _ := p.Fleet(); res == "" {
		return nil
	}
	dir := compiler.StateDir(p.Prefix)
	if err := supervise.Start(cmd, filepath.Join(dir, logFile), filepath.Join(dir, pidFile)); err != nil {
		return fmt.Errorf("starting the Auto Scaling controller: %w", err)
	}
	for range 250 {
		if st, err := ReadStatus(p.Prefix); err == nil {
			if st.Error != "" {
				return errors.New("the Auto Scaling controller: " + st.Error)
			}
			return nil
		}
		sleep(ctx, 20)
	}
	out, _ := os.ReadFile(filepath.Join(dir, logFile))
	return fmt.Errorf("the Auto Scaling controller wrote no status in 5s: %s", strings.TrimSpace(string(out)))
}

// Stop stops the controller of the twin with prefix, if one runs, and waits (at most 3 s)
// until it is gone, so that no resize runs while the twin changes or comes down.
func Stop(prefix string) {
	pid, err := supervise.ReadPid(filepath.Join(compiler.StateDir(prefix), pidFile))
	if err != nil {
		return
	}
	syscall.Kill(pid, syscall.SIGKILL)
	for deadline := time.Now().Add(3 * time.Second); supervise.Running(pid) && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
}

// Run is the controller of the running twin at plan p: a datapoint at a time, the average
// CPU of the group's servers against the policy's target, resizing with resize on the
// alarms' terms, and the stack's alarms on the ALB's host counts evaluated, until ctx ends
// (nil) or a resize fails (its error, also in the status). Each datapoint's measures go to
// the status (ReadStatus), each resize to log.
func Run(ctx context.Context, p *compiler.Plan, resize Resizer, log io.Writer) error {
	res, sc, _ := p.Fleet()
	if sc == nil {
		return errors.New("the stack has no Auto Scaling group")
	}
	prefix := p.Prefix
	st := &Status{Group: res, Min: sc.Min, Max: sc.Max, CPUTarget: sc.CPUTarget,
		Datapoint: Datapoint().String(), Scale: timeScale}
	meter := cpuMeter{last: map[int]int64{}}
	var alarms []*alarmState
	for _, a := range p.Alarms {
		if twinMetric(a) {
			alarms = append(alarms, &alarmState{alarm: a})
		}
	}
	var history []float64
	tick := time.NewTicker(Datapoint())
	defer tick.Stop()
	instances := func(cpu map[string]float64) []Instance {
		var out []Instance
		_, _, hosts := p.Fleet()
		for _, h := range hosts {
			out = append(out, Instance{Host: h.Name, ID: compiler.InstanceID(h), AZ: h.AZ, CPU: cpu[h.Name]})
		}
		return out
	}
	for {
		cpu := map[string]float64{}
		st.Average = 0
		_, _, hosts := p.Fleet()
		for _, h := range hosts {
			cpu[h.Name] = meter.sample(ctx, h.Namespace)
			st.Average += cpu[h.Name] / float64(len(hosts))
		}
		st.Desired, st.Instances = len(hosts), instances(cpu)
		history = append(history, st.Average)
		size, why := track(*sc, st.Desired, history, meter.warm)
		meter.warm = true
		if size != st.Desired {
			next, launched, ended, err := resize(ctx, p, res, size)
			if err != nil {
				st.Error = "resize to " + strconv.Itoa(size) + ": " + err.Error()
				writeStatus(prefix, st)
				return err
			}
			fmt.Fprintf(log, "%s: desired %d -> %d: %s; launched %v, ended %v\n", time.Now().Format(time.TimeOnly), st.Desired, size, why, launched, ended)
			st.Events = append(st.Events, Event{At: time.Now(), From: st.Desired, To: size, Why: why, Launched: launched, Ended: ended})
			p, history = next, nil
			st.Desired, st.Instances = size, instances(cpu)
		}
		if err := writeStatus(prefix, st); err != nil {
			return err
		}
		if err := evaluateAlarms(p, alarms); err != nil {
			fmt.Fprintf(log, "%s: alarms: %v\n", time.Now().Format(time.TimeOnly), err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// cpuMeter measures the CPU the processes of a namespace wanted since its last sample: the
// time their threads ran or waited to run (Linux's schedstat), as a host with a CPU of its
// own would show it busy, so that other work on this machine (another twin, a build) does
// not hide a host's load.
type cpuMeter struct {
	last map[int]int64
	at   map[string]time.Time
	// warm is false until every namespace has a first sample to measure from.
	warm bool
}

// sample is the CPU percent (of one CPU, at most 100) the namespace's processes wanted since
// the last sample of it.
func (m *cpuMeter) sample(ctx context.Context, ns string) float64 {
	if m.at == nil {
		m.at = map[string]time.Time{}
	}
	out, _ := exec.CommandContext(ctx, "ip", "netns", "pids", ns).Output()
	var wanted int64
	for _, f := range strings.Fields(string(out)) {
		pid, err := strconv.Atoi(f)
		if err != nil {
			continue
		}
		tasks, _ := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
		for _, task := range tasks {
			tid, err := strconv.Atoi(task.Name())
			if err != nil {
				continue
			}
			ns, ok := schedTime(pid, tid)
			if !ok {
				continue
			}
			if prev, seen := m.last[tid]; seen {
				wanted += ns - prev
			}
			m.last[tid] = ns
		}
	}
	now := time.Now()
	prev, seen := m.at[ns]
	m.at[ns] = now
	if !seen {
		return 0
	}
	pct := float64(wanted) / float64(now.Sub(prev).Nanoseconds()) * 100
	return math.Round(min(pct, 100))
}

// schedTime is the time a thread ran plus the time it waited on a run queue, in ns.
func schedTime(pid, tid int) (int64, bool) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/schedstat", pid, tid))
	if err != nil {
		return 0, false
	}
	f := strings.Fields(string(data))
	if len(f) < 2 {
		return 0, false
	}
	run, err1 := strconv.ParseInt(f[0], 10, 64)
	wait, err2 := strconv.ParseInt(f[1], 10, 64)
	return run + wait, err1 == nil && err2 == nil
}
