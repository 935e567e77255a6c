package twin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/webtier/webtier/twin/compiler"
	"github.com/webtier/webtier/twin/kernel"

	"github.com/webtier/webtier/twin/standin"
	"github.com/webtier/webtier/twin/supervise"

	"github.com/webtier/webtier/rules"
	"github.com/webtier/webtier/verify"
)

// Auto Scaling in the twin: a controller process (a stand-in for EC2 Auto Scaling with a
// target-tracking policy on ASGAverageCPUUtilization) measures the CPU of every web server's
// namespace, and when the average stays above the policy's target it grows the group: the
// twin is compiled again at the new size and the difference applied to the running twin (a
// new namespace with its links, addresses and ruleset; the other hosts' rulesets, whose
// security-group member sets now hold the new address; its services; its registration with
// every ALB node). When the average stays low, it ends the newest servers the same way.

// The alarms AWS makes for a target-tracking policy: out when 3 datapoints in a row are above
// the target, in when 15 in a row are below 90% of it.
const (
	outPoints, inPoints = 3, 15
	inShare             = 0.9
)

// datapoint is the length of one CloudWatch datapoint in the twin.
func datapoint() time.Duration { return time.Minute / ScaleTimeScale }

// Resize sets the size of the Auto Scaling group res of a running twin and applies the
// difference; it returns the new plan and the hosts it launched and ended.
func Resize(ctx context.Context, cur *compiler.Plan, n *verify.Network, in verify.Intent, res string, size int, exe string) (next *compiler.Plan, launched, ended []string, err error) {
	groups := cur.Groups.Clone()
	groups.Desired[res] = size
	next, err = compiler.CompileDesired(n, in, cur.Prefix, groups)
	if err != nil {
		return nil, nil, nil, err
	}
	next.Live = cur.Live
	launched, ended, err = applyDifference(ctx, cur, next, exe)
	if err != nil {
		return nil, nil, nil, err
	}
	return next, launched, ended, savePlan(next)
}

// applyDifference takes a running twin from plan cur to plan next: the hosts only next has
// (their namespaces, links, addresses, sysctls, rulesets and services), the changed `ip` lines
// and rulesets of the others (each ruleset in one transaction), the ALB nodes' targets, and
// the hosts only cur has removed (deregistered first). It returns the hosts it launched and
// ended.
func applyDifference(ctx context.Context, cur, next *compiler.Plan, exe string) (launched, ended []string, err error) {
	dir := compiler.StateDir(cur.Prefix)
	d, err := compiler.Diff(cur, next)
	if err != nil {
		return nil, nil, err
	}
	with := compiler.StandIns{SSH: HasSSH(), DB: standin.HasMariaDB()}
	specs := next.Specs(with)
	// Deregister the ended servers first and let them drain, so that no request goes to a
	// server being ended and none in flight is cut.
	if len(d.Ended) > 0 {
		if err := reloadALBs(dir, specs); err != nil {
			return nil, nil, err
		}
		if err := waitDrained(ctx, dir, specs, d.Ended); err != nil {
			return nil, nil, err
		}
	}
	if err := kernel.Apply(ctx, theKernel(cur.Prefix), d.Ops); err != nil {
		return nil, nil, err
	}
	for _, name := range d.Gone {
		for _, suffix := range []string{".pid", ".sshd.pid", ".spec.json"} {
			os.Remove(filepath.Join(dir, strings.TrimPrefix(name, cur.Prefix)+suffix))
		}
	}
	launched, ended = d.Launched, d.Ended
	if len(launched) > 0 {
		var started []*standin.Spec
		for _, s := range specs {
			if slices.Contains(launched, s.Host) {
				if err := startSpec(dir, s, exe); err != nil {
					return nil, nil, err
				}
				started = append(started, s)
			}
		}
		if with.SSH {
			for _, h := range next.SSHHosts() {
				if slices.Contains(launched, h.Name) {
					if err := startSSHD(next, h); err != nil {
						return nil, nil, err
					}
				}
			}
		}
		if err := waitListening(ctx, next, started); err != nil {
			return nil, nil, err
		}
	}
	// Registered once they listen; each node's health checks take them in. A node whose
	// targets did not change keeps their state.
	if err := reloadALBs(dir, specs); err != nil {
		return nil, nil, err
	}
	return launched, ended, nil
}

// waitDrained waits until no ALB node of specs has any of hosts registered or draining: each
// node has read its new spec and deregistered them, and their requests in flight have
// answered or the deregistration delay has passed (with a second's room for the node).
func waitDrained(ctx context.Context, dir string, specs []*standin.Spec, hosts []string) error {
	limit := time.Second
	for _, s := range specs {
		if s.ALB != nil {
			for _, l := range s.ALB.Listeners {
				limit = max(limit, standin.Scaled(l.Deregistration, s.ALB.Scale)+time.Second)
			}
		}
	}
	var left []string
	for end := time.Now().Add(limit); ; sleep(ctx, 20) {
		left = nil
		for _, s := range specs {
			if s.ALB == nil {
				continue
			}
			var c standin.TargetCounts
			data, err := os.ReadFile(standin.CountsFile(dir, s.Host))
			if err == nil {
				err = json.Unmarshal(data, &c)
			}
			if err != nil {
				left = append(left, s.Host+": "+err.Error())
				continue
			}
			for _, h := range hosts {
				if slices.Contains(c.Registered, h) || slices.Contains(c.Draining, h) {
					left = append(left, s.Host+" still has "+h)
				}
			}
		}
		if len(left) == 0 || ctx.Err() != nil {
			return ctx.Err()
		}
		if time.Now().After(end) {
			return fmt.Errorf("deregistering %s: %s after %s", strings.Join(hosts, ", "), strings.Join(left, "; "), limit)
		}
	}
}

// reloadALBs writes the ALB nodes' specs and has each node read its own again (SIGHUP).
func reloadALBs(dir string, specs []*standin.Spec) error {
	for _, s := range specs {
		if s.ALB == nil {
			continue
		}
		if _, err := standin.WriteSpec(dir, s); err != nil {
			return err
		}
		if err := supervise.Signal(filepath.Join(dir, s.Host+".pid"), syscall.SIGHUP); err != nil {
			return fmt.Errorf("%s: %w", s.Host, err)
		}
	}
	return nil
}

func writeScaleStatus(prefix string, st *ScaleStatus) error {
	st.Updated = time.Now()
	return writeJSON(filepath.Join(compiler.StateDir(prefix), scaleStatus), st)
}

// StartScaler starts the controller of a running twin (SaveSource first), with exe in this
// machine's namespace (it makes and removes the twin's namespaces), and waits for its first
// status. A twin without an Auto Scaling group gets none.
func StartScaler(ctx context.Context, p *compiler.Plan, exe string) error {
	if res, _, _ := p.Fleet(); res == "" {
		return nil
	}
	dir := compiler.StateDir(p.Prefix)
	cmd := exec.Command(exe, "--scale", p.Prefix)
	cmd.Env = append(os.Environ(), ServeEnv+"=1")
	if err := supervise.Start(cmd, filepath.Join(dir, "asg.log"), filepath.Join(dir, scalerPid)); err != nil {
		return fmt.Errorf("starting the Auto Scaling controller: %w", err)
	}
	for range 250 {
		if st, err := ReadScaleStatus(p.Prefix); err == nil {
			if st.Error != "" {
				return errors.New("the Auto Scaling controller: " + st.Error)
			}
			return nil
		}
		sleep(ctx, 20)
	}
	out, _ := os.ReadFile(filepath.Join(dir, "asg.log"))
	return fmt.Errorf("the Auto Scaling controller wrote no status in 5s: %s", strings.TrimSpace(string(out)))
}

// stopScaler stops the controller and waits until it is gone, so that no resize runs while
// the twin comes down.
func stopScaler(prefix string) {
	pid, err := supervise.ReadPid(filepath.Join(compiler.StateDir(prefix), scalerPid))
	if err != nil {
		return
	}
	syscall.Kill(pid, syscall.SIGKILL)
	for deadline := time.Now().Add(3 * time.Second); supervise.Running(pid) && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
}

// scalerMain is the controller of the twin with prefix: a datapoint at a time, the average
// CPU of the group's servers against the policy's target, resizing on the alarms' terms,
// until it is stopped.
func scalerMain(ctx context.Context, prefix, exe string, log io.Writer) error {
	p, n, in, err := Load(prefix)
	if err != nil {
		return err
	}
	res, sc, _ := p.Fleet()
	if sc == nil {
		return errors.New("the stack has no Auto Scaling group")
	}
	st := &ScaleStatus{Group: res, Min: sc.Min, Max: sc.Max, CPUTarget: sc.CPUTarget,
		Datapoint: datapoint().String(), Scale: ScaleTimeScale}
	meter := cpuMeter{last: map[int]int64{}}
	var alarms []*alarmState
	for _, a := range p.Alarms {
		if twinMetric(a) {
			alarms = append(alarms, &alarmState{alarm: a})
		}
	}
	var history []float64
	tick := time.NewTicker(datapoint())
	defer tick.Stop()
	instances := func(cpu map[string]float64) []ScaleInstance {
		var out []ScaleInstance
		_, _, hosts := p.Fleet()
		for _, h := range hosts {
			out = append(out, ScaleInstance{Host: h.Name, ID: compiler.InstanceID(h), AZ: h.AZ, CPU: cpu[h.Name]})
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
		size := st.Desired
		// Target tracking: the size that brings the average to the target, in the group's
		// bounds, once an alarm has enough datapoints.
		want := int(math.Ceil(float64(st.Desired) * st.Average / sc.CPUTarget))
		switch {
		case sc.CPUTarget <= 0:
		case meter.warm && above(history, outPoints, sc.CPUTarget) && want > size:
			size = min(want, sc.Max)
		case meter.warm && below(history, inPoints, inShare*sc.CPUTarget) && want < size:
			size = max(want, sc.Min)
		}
		meter.warm = true
		if size != st.Desired {
			why := fmt.Sprintf("average CPU %.0f%% above the target %.0f%% for %d datapoints", st.Average, sc.CPUTarget, outPoints)
			if size < st.Desired {
				why = fmt.Sprintf("average CPU %.0f%% below %.0f%% (90%% of the target) for %d datapoints", st.Average, inShare*sc.CPUTarget, inPoints)
			}
			next, launched, ended, err := Resize(ctx, p, n, in, res, size, exe)
			if err != nil {
				st.Error = "resize to " + strconv.Itoa(size) + ": " + err.Error()
				writeScaleStatus(prefix, st)
				return err
			}
			fmt.Fprintf(log, "%s: desired %d -> %d: %s; launched %v, ended %v\n", time.Now().Format(time.TimeOnly), st.Desired, size, why, launched, ended)
			st.Events = append(st.Events, ScaleEvent{At: time.Now(), From: st.Desired, To: size, Why: why, Launched: launched, Ended: ended})
			p, history = next, nil
			st.Desired, st.Instances = size, instances(cpu)
		}
		if err := writeScaleStatus(prefix, st); err != nil {
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

// evaluateAlarms takes one datapoint of each alarm on the ALB nodes' counts and publishes each
// change of state.
func evaluateAlarms(p *compiler.Plan, alarms []*alarmState) error {
	var counts []standin.TargetCounts
	dir := compiler.StateDir(p.Prefix)
	for _, h := range p.HostsOfRole(rules.ALB) {
		var c standin.TargetCounts
		data, err := os.ReadFile(standin.CountsFile(dir, h.Name))
		if err != nil || json.Unmarshal(data, &c) != nil {
			continue
		}
		counts = append(counts, c)
	}
	for _, s := range alarms {
		v, ok := metricValue(s.alarm, counts)
		if !ok {
			continue
		}
		if s.observe(v) != "" {
			if err := publish(dir, s, v); err != nil {
				return err
			}
		}
	}
	return nil
}

// above reports whether the last k datapoints are all above v; below, all below it.
func above(h []float64, k int, v float64) bool {
	return len(h) >= k && !slices.ContainsFunc(h[len(h)-k:], func(x float64) bool { return x <= v })
}

func below(h []float64, k int, v float64) bool {
	return len(h) >= k && !slices.ContainsFunc(h[len(h)-k:], func(x float64) bool { return x >= v })
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
