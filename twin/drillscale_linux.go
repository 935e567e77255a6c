package twin

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"github.com/webtier/webtier/twin/autoscale"
	"github.com/webtier/webtier/twin/kernel"

	seed "github.com/webtier/webtier/drill"
)

// The twin's Auto Scaling controller as the drill's Scaler: the group as its status file
// says, busy loops in the servers' namespaces, its datapoints for the windows.

// Group is the controller's status of the web servers' group.
func (d *drill) Group(context.Context) (seed.Group, error) {
	st, err := autoscale.ReadStatus(d.p.Prefix)
	switch {
	case err != nil:
		return seed.Group{}, fmt.Errorf("%v (webtier twin up starts it)", err)
	case st.Error != "":
		return seed.Group{}, fmt.Errorf("the Auto Scaling controller stopped: %s", st.Error)
	}
	g := seed.Group{Name: st.Group, Min: st.Min, Max: st.Max, Desired: st.Desired, CPUTarget: st.CPUTarget}
	for _, in := range st.Instances {
		g.Instances = append(g.Instances, seed.Host{Name: in.Host, ID: in.ID, AZ: in.AZ})
	}
	if len(st.Events) > 0 {
		g.Why = st.Events[len(st.Events)-1].Why
	}
	return g, nil
}

// Load runs a busy loop in each server's namespace (the twin gives each host one CPU).
func (d *drill) Load(_ context.Context, servers []seed.Host) (func(), string, error) {
	var burners []*exec.Cmd
	stop := func() {
		for _, b := range burners {
			syscall.Kill(-b.Process.Pid, syscall.SIGKILL)
			b.Wait()
		}
		burners = nil
	}
	for _, h := range servers {
		b := exec.Command("ip", "netns", "exec", d.p.Prefix+h.Name, "sh", "-c", "while :; do :; done")
		b.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if err := b.Start(); err != nil {
			stop()
			return nil, "", fmt.Errorf("loading %s: %w", h.Name, err)
		}
		burners = append(burners, b)
	}
	st, err := autoscale.ReadStatus(d.p.Prefix)
	if err != nil {
		stop()
		return nil, "", err
	}
	return stop, fmt.Sprintf("a busy loop on each of the %d servers; target %.0f%%, datapoints of %s (AWS: 1 min, time / %d)",
		len(burners), st.CPUTarget, st.Datapoint, st.Scale), nil
}

// ScaleWithin: out, the alarm's datapoints, the launch and the health checks, with room; in,
// the scale-in alarm's datapoints, with room.
func (d *drill) ScaleWithin() (out, in, every time.Duration) {
	dp := time.Second
	if st, err := autoscale.ReadStatus(d.p.Prefix); err == nil {
		dp, _ = time.ParseDuration(st.Datapoint)
	}
	return time.Duration(autoscale.OutPoints+5)*dp + albHealth(d.p).Settle() + 5*time.Second,
		time.Duration(autoscale.InPoints+autoscale.OutPoints+5) * dp, 200 * time.Millisecond
}

// Gone reports whether a server's namespace is gone.
func (d *drill) Gone(_ context.Context, h seed.Host) bool {
	_, err := os.Stat(filepath.Join(kernel.NetnsDir, d.p.Prefix+h.Name))
	return os.IsNotExist(err)
}

// ScaleNote: on the twin of a deployed stack the twin's controller scales the twin's copy.
func (d *drill) ScaleNote() *seed.NotShown {
	if d.p.Live {
		return &seed.NotShown{Why: "the emulator runs no scaling policy and has no CPU metric: the twin's controller scales the twin's copy of the group, not the deployed one"}
	}
	return nil
}

var (
	_ seed.Scaler     = (*drill)(nil)
	_ seed.ScaleNoter = (*drill)(nil)
)
