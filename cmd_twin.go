package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/webtier/webtier/twin/autoscale"
	"github.com/webtier/webtier/twin/compiler"

	"github.com/webtier/webtier/change"
	"github.com/webtier/webtier/config"
	"github.com/webtier/webtier/deploy"
	"github.com/webtier/webtier/live"
	"github.com/webtier/webtier/twin"
	"github.com/webtier/webtier/twin/probe"
	"github.com/webtier/webtier/verify"
)

// twinCmd is the twin command: the stack's network as real packets on this machine.
//
//	webtier twin up [--in FILE | --live [--target local] [--dir DIR]] [--dry-run] [--config FILE] ...
//	webtier twin test [--json] [--limit N]
//	webtier twin hosts [--json]
//	webtier twin exec HOST -- CMD [ARG...]
//	webtier twin change --to STACK [--json]
//	webtier twin down
//
// Exit codes as verify's: 0 when it worked (for test: every probe as the flow table expects
// and no difference from verify), 1 when test found a problem, 2 on bad input or a machine
// that cannot run the twin.
func twinCmd(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "webtier: twin: expected up, test, hosts, exec, ssh, change or down")
		return exitBadArgs
	}
	sub, args := args[0], args[1:]
	prefix := twinPrefix()
	ctx := context.Background()
	switch sub {
	case "up":
		return twinUp(ctx, prefix, args, stdout, stderr)
	case "test":
		return twinTest(ctx, prefix, args, stdout, stderr)
	case "hosts":
		return twinHosts(prefix, args, stdout, stderr)
	case "exec":
		return twinExec(ctx, prefix, args, stderr)
	case "ssh":
		return twinSSH(ctx, prefix, args, stderr)
	case "change":
		return twinChange(ctx, prefix, args, stdout, stderr)
	case "down":
		if len(args) > 0 {
			fmt.Fprintf(stderr, "webtier: twin down: unexpected argument %q\n", args[0])
			return exitBadArgs
		}
		if why := twin.CanRun(); why != "" {
			fmt.Fprintf(stderr, "webtier: twin: %s\n", why)
			return exitBadArgs
		}
		start := time.Now()
		removed, err := twin.Down(ctx, prefix)
		if err != nil {
			fmt.Fprintf(stderr, "webtier: twin down: %v\n", err)
			return exitFailed
		}
		fmt.Fprintf(stdout, "twin down: removed %d namespaces in %.1fs\n", len(removed), time.Since(start).Seconds())
		return exitOK
	}
	fmt.Fprintf(stderr, "webtier: twin: unknown subcommand %q (expected up, test, hosts, exec, ssh, change or down)\n", sub)
	return exitBadArgs
}

// twinPrefix starts the names of the twin's namespaces: WEBTIER_TWIN_PREFIX, else wt-.
func twinPrefix() string {
	if p := os.Getenv("WEBTIER_TWIN_PREFIX"); p != "" {
		return p
	}
	return compiler.DefaultPrefix
}

func twinUp(ctx context.Context, prefix string, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("twin up", flag.ContinueOnError)
	fs.SetOutput(stderr)
	stackFlags := addStackSource(fs, "twin up", "the deployed stack")
	in, useLive, target, dir := stackFlags.in, stackFlags.live, stackFlags.target, stackFlags.dir
	dryRun := fs.Bool("dry-run", false, "print the compiled plan (hosts and every nftables ruleset) and build nothing")
	fwd := fs.String("forward", "", "serve the site on this loopback `address` (127.0.0.1:8080), through the twin's internet client")
	src := config.AddFlags(fs)
	if err := fs.Parse(args); err != nil {
		return exitBadArgs
	}
	if err := stackFlags.check(fs); err != nil {
		fmt.Fprintf(stderr, "webtier: twin up: %v\n", err)
		return exitBadArgs
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if beside := filepath.Join(filepath.Dir(*in), StackConfigFile); !*useLive && !set["config"] && os.Getenv(config.EnvConfig) == "" {
		// The config synth wrote beside the stack: the one the stack was made from.
		if _, err := os.Stat(beside); err == nil {
			fs.Set("config", beside)
		}
	}
	cfg, err := src.Build(os.Getenv)
	if err != nil {
		return badInput(stderr, err)
	}
	intent, err := verify.IntentOf(cfg)
	if err != nil {
		return badInput(stderr, err)
	}
	var stack []byte
	from := *in
	load := verify.Load
	if *useLive {
		kind, err := deploy.ParseTarget(*target)
		if err != nil {
			return badInput(stderr, fmt.Errorf("twin up: %w", err))
		}
		res, err := live.Read(ctx, live.Target{Kind: kind, Dir: *dir, Region: cfg.Region}, cfg, nil)
		if err != nil {
			return badInput(stderr, err)
		}
		if stack, err = res.JSON(); err != nil {
			return badInput(stderr, err)
		}
		from, load = "the deployed stack ("+res.Where+")", verify.LoadDeployedJSON
	} else if stack, err = os.ReadFile(*in); err != nil {
		return badInput(stderr, fmt.Errorf("twin up: %w (run `make synth` first, or name the file with --in)", err))
	}
	n, err := load(stack)
	if err != nil {
		fmt.Fprintf(stderr, "webtier: %s cannot be built:\n", from)
		return badInput(stderr, err)
	}
	plan, err := compiler.Compile(n, intent, prefix)
	if err != nil {
		return badInput(stderr, fmt.Errorf("twin up: %w", err))
	}
	plan.Live = *useLive
	if *dryRun {
		fmt.Fprint(stdout, plan.Text())
		return exitOK
	}
	if why := twin.CanRun(); why != "" {
		fmt.Fprintf(stderr, "webtier: twin: %s\n", why)
		return exitBadArgs
	}
	if err := startTwin(ctx, plan, stack, cfg, from, *fwd, stdout); err != nil {
		fmt.Fprintf(stderr, "webtier: twin up: %v\n", err)
		return exitFailed
	}
	return exitOK
}

// startTwin builds a compiled twin, keeps its stack and config beside its plan, starts its
// Auto Scaling controller and the forwarder when asked, and says what is up and how to use it.
func startTwin(ctx context.Context, plan *compiler.Plan, stack []byte, cfg config.Config, from, forward string, stdout io.Writer) error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	start := time.Now()
	if err := twin.Up(ctx, plan, exe); err != nil {
		return err
	}
	dir := compiler.StateDir(plan.Prefix)
	if err := twin.SaveSource(plan.Prefix, stack, cfg); err != nil {
		twin.Down(ctx, plan.Prefix)
		return err
	}
	if err := twin.StartScaler(ctx, plan, exe); err != nil {
		twin.Down(ctx, plan.Prefix)
		return err
	}
	if forward != "" {
		if err := twin.StartForward(ctx, plan, exe, forward); err != nil {
			// The twin is up; only the site on this machine is missing.
			fmt.Fprintf(stdout, "webtier: the site is not served on %s: %v\n", forward, err)
			forward = ""
		}
	}
	fmt.Fprintf(stdout, "twin up: %d hosts of %s in %d namespaces, in %.1fs (rulesets in %s)\n",
		len(plan.Hosts), from, len(plan.Namespaces), time.Since(start).Seconds(), filepath.Join(dir, "nft"))
	fmt.Fprintln(stdout, "The twin is a stand-in: Linux namespaces and nftables judging the stack's rules, not AWS.")
	if forward != "" {
		fmt.Fprintf(stdout, "  site: http://%s/ (from the twin's internet client to the ALB %s)\n", forward, strings.Join(plan.ALBAddrs(80), ", "))
	}
	if st, err := autoscale.ReadStatus(plan.Prefix); err == nil {
		fmt.Fprintf(stdout, "  Auto Scaling (the twin's controller): %s at %d (min %d, max %d), target %.0f%% average CPU, datapoints of %s (AWS: 1 min, time / %d)\n",
			st.Group, st.Desired, st.Min, st.Max, st.CPUTarget, st.Datapoint, st.Scale)
	}
	for _, h := range plan.Hosts {
		if _, err := plan.SSHArgs(h, nil); err == nil && twin.HasSSH() {
			fmt.Fprintf(stdout, "  ./bin/webtier twin ssh %s\n", h.Name)
		}
	}
	fmt.Fprintln(stdout, "Next: ./bin/webtier twin hosts | twin test | twin exec HOST -- CMD | drill | twin down")
	return nil
}

func twinTest(ctx context.Context, prefix string, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("twin test", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "write every attempt as JSON")
	limit := fs.Int("limit", probe.DefaultLimit, "attempts in flight at once")
	verbose := fs.Bool("v", false, "list every attempt that got through")
	if err := fs.Parse(args); err != nil {
		return exitBadArgs
	}
	if fs.NArg() > 0 || *limit < 1 {
		fmt.Fprintln(stderr, "webtier: twin test: takes --json, --limit N (N >= 1) and -v only")
		return exitBadArgs
	}
	if why := twin.CanRun(); why != "" {
		fmt.Fprintf(stderr, "webtier: twin: %s\n", why)
		return exitBadArgs
	}
	plan, n, intent, err := twin.Running(prefix)
	if err != nil {
		fmt.Fprintf(stderr, "webtier: twin test: %v\n", err)
		return exitBadArgs
	}
	r, err := probe.Test(ctx, plan, n, intent, *limit)
	if err != nil {
		fmt.Fprintf(stderr, "webtier: twin test: %v\n", err)
		return exitFailed
	}
	if *asJSON {
		err = r.WriteJSON(stdout)
	} else {
		err = r.WriteText(stdout, *verbose)
	}
	if err != nil {
		return report(stderr, err)
	}
	if !r.OK() {
		return exitFailed
	}
	return exitOK
}

func twinHosts(prefix string, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("twin hosts", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "write the hosts as JSON")
	if err := fs.Parse(args); err != nil {
		return exitBadArgs
	}
	plan, err := twin.SavedPlan(prefix)
	if err != nil {
		fmt.Fprintf(stderr, "webtier: twin hosts: %v\n", err)
		return exitBadArgs
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return map[bool]int{true: exitOK, false: exitFailed}[enc.Encode(plan.Hosts) == nil]
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tROLE\tSUBNET\tAZ\tPRIVATE\tPUBLIC\tLISTENS\tWHAT")
	for _, h := range plan.Hosts {
		pub, subnet, az := "-", "outside", "-"
		if h.Public.IsValid() {
			pub = h.Public.String()
		}
		if h.Subnet != "" {
			subnet, az = h.Subnet, h.AZ
		}
		listen := make([]string, len(h.Listen))
		for i, p := range h.Listen {
			listen[i] = fmt.Sprint(p)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", h.Name, h.Role, subnet, az, h.Private, pub, or(strings.Join(listen, ","), "-"), h.Kind)
	}
	tw.Flush()
	return exitOK
}

func twinExec(ctx context.Context, prefix string, args []string, stderr io.Writer) int {
	if len(args) < 3 || args[1] != "--" {
		fmt.Fprintln(stderr, "webtier: twin exec: usage: webtier twin exec HOST -- CMD [ARG...]")
		return exitBadArgs
	}
	plan, err := twin.SavedPlan(prefix)
	if err != nil {
		fmt.Fprintf(stderr, "webtier: twin exec: %v\n", err)
		return exitBadArgs
	}
	h, err := plan.Host(args[0])
	if err != nil {
		fmt.Fprintf(stderr, "webtier: twin exec: %v\n", err)
		return exitBadArgs
	}
	return commandExit(twin.Exec(ctx, h, args[2:]), stderr, "twin exec")
}

// commandExit is the exit status of a command run for the user: the command's own, or, when
// it could not run, exitFailed with the reason.
func commandExit(err error, stderr io.Writer, what string) int {
	var exit interface{ ExitCode() int }
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &exit) && exit.ExitCode() > 0:
		return exit.ExitCode()
	}
	fmt.Fprintf(stderr, "webtier: %s: %v\n", what, err)
	return exitFailed
}

// twinSSH logs in to a host from the admin host, through a bastion for a web server:
// `webtier twin ssh HOST [-- CMD...]`.
func twinSSH(ctx context.Context, prefix string, args []string, stderr io.Writer) int {
	if len(args) == 0 || len(args) > 1 && args[1] != "--" {
		fmt.Fprintln(stderr, "webtier: twin ssh: usage: webtier twin ssh HOST [-- CMD [ARG...]]")
		return exitBadArgs
	}
	plan, _, _, err := twin.Running(prefix)
	if err != nil {
		fmt.Fprintf(stderr, "webtier: twin ssh: %v\n", err)
		return exitBadArgs
	}
	var cmd []string
	if len(args) > 2 {
		cmd = args[2:]
	}
	h, err := plan.Host(args[0])
	var argv []string
	if err == nil {
		argv, err = plan.SSHArgs(h, cmd)
	}
	if err != nil {
		fmt.Fprintf(stderr, "webtier: twin ssh: %v\n", err)
		return exitBadArgs
	}
	return commandExit(twin.Attach(ctx, argv), stderr, "twin ssh")
}

// or returns s, or def when s is empty.
func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// twinChange applies another synthesized stack to the running twin while a prober asks for
// the site through every ALB node, and reports what the visitors lost: exit 0 when no request
// failed, 1 when some did, 2 on bad input.
func twinChange(ctx context.Context, prefix string, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("twin change", flag.ContinueOnError)
	fs.SetOutput(stderr)
	to := fs.String("to", "", "the synthesized stack to change to: its cdk.tf.json or the synth output `directory` (the config synth wrote beside it is used)")
	planFile := fs.String("plan", "", "terraform's plan of the change (`terraform show -json`): its apply's states are replayed before the new stack")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	hold := fs.Duration("hold", 0, "how long each state of the change is held while the prober runs (default: the health checks' window, so that a target cut is taken out)")
	if err := fs.Parse(args); err != nil {
		return exitBadArgs
	}
	if *to == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "webtier: twin change: --to: expected the synthesized stack to change to, and no other argument")
		return exitBadArgs
	}
	if *hold < 0 {
		fmt.Fprintf(stderr, "webtier: twin change: --hold: expected a duration of 0 or more, got %s\n", *hold)
		return exitBadArgs
	}
	if why := twin.CanRun(); why != "" {
		fmt.Fprintf(stderr, "webtier: twin: %s\n", why)
		return exitBadArgs
	}
	next, err := readSide(*to)
	if err != nil {
		return badInput(stderr, err)
	}
	steps := []twin.ChangeStep{{Name: "the new stack", Stack: next.data}}
	if *planFile != "" {
		states, err := applyStates(prefix, *planFile, next.data)
		if err != nil {
			return badInput(stderr, err)
		}
		steps = append(states, steps...)
	}
	exe, err := os.Executable()
	if err != nil {
		fmt.Fprintf(stderr, "webtier: twin change: %v\n", err)
		return exitFailed
	}
	r, err := twin.Change(ctx, prefix, steps, next.cfg, exe, *hold)
	if err != nil {
		fmt.Fprintf(stderr, "webtier: twin change: %v\n", err)
		return exitFailed
	}
	failed := 0
	for _, f := range r.Flows {
		failed += f.Failed
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.Encode(r)
	} else {
		fmt.Fprintf(stdout, "twin change to %s in %d steps\n", next.file, len(r.Steps))
		for _, st := range r.Steps {
			fmt.Fprintf(stdout, "  %s: applied in %.1fs", st.Name, st.Applied.Seconds())
			if len(st.Launched) > 0 {
				fmt.Fprintf(stdout, "; hosts made: %s", strings.Join(st.Launched, ", "))
			}
			if len(st.Ended) > 0 {
				fmt.Fprintf(stdout, "; hosts removed: %s", strings.Join(st.Ended, ", "))
			}
			fmt.Fprintln(stdout)
		}
		if len(r.Services) > 0 {
			fmt.Fprintf(stdout, "  services not restarted (they run the old stack's): %s\n", strings.Join(r.Services, ", "))
		}
		expected := map[[2]string]string{}
		for _, e := range r.Expected {
			expected[[2]string{e.Step, e.Flow}] = e.Fail
		}
		tw := tabwriter.NewWriter(stdout, 0, 8, 2, ' ', 0)
		fmt.Fprintln(tw, "  STEP\tFLOW\tSENT\tFAILED\tVERIFY SAYS FAIL\tLONGEST GAP\tFIRST ERROR")
		for _, f := range r.Flows {
			if f.Sent == 0 {
				continue // a step too short for the flow's interval, or a host leaving (see --json)
			}
			fmt.Fprintf(tw, "  %s\t%s\t%d\t%d\t%s\t%.1fs\t%s\n", f.Step, f.Flow, f.Sent, f.Failed, or(expected[[2]string{f.Step, f.Flow}], "-"), f.LongestGap.Seconds(), f.FirstError)
		}
		tw.Flush()
		for _, d := range r.Disagreements() {
			fmt.Fprintf(stdout, "  THE PACKETS AND VERIFY DISAGREE: %s\n", d)
		}
		for _, ss := range r.Sessions {
			if ss.Survived {
				fmt.Fprintf(stdout, "  ssh session %s: survived (%d commands answered)\n", ss.Session, ss.Commands)
			} else {
				fmt.Fprintf(stdout, "  ssh session %s: ENDED in %q after %d commands (the last answered in %q): %s\n", ss.Session, ss.EndedIn, ss.Commands, ss.LastAnswered, ss.Why)
			}
		}
		if len(r.InService) > 0 {
			fmt.Fprintln(stdout, "  targets in service at an ALB node (fewest - most), by step:")
			for _, f := range r.InService {
				fmt.Fprintf(stdout, "    %s: %d - %d\n", f.Step, f.Fewest, f.Most)
			}
		}
	}
	if failed > 0 || len(r.Disagreements()) > 0 {
		return exitFailed
	}
	return exitOK
}

// applyStates are the states terraform's plan of the change passes through, from the
// running twin's stack to head, in the order an apply can take: every destroy done and no
// create yet, then every create done and no destroy yet.
func applyStates(prefix, planFile string, head []byte) ([]twin.ChangeStep, error) {
	data, err := os.ReadFile(planFile)
	if err != nil {
		return nil, fmt.Errorf("--plan: %w", err)
	}
	p, err := change.Read(data)
	if err != nil {
		return nil, fmt.Errorf("--plan %s: %w", planFile, err)
	}
	if running, err := twin.SavedPlan(prefix); err != nil {
		return nil, err
	} else if running.Live {
		return nil, fmt.Errorf("--plan: the twin runs a deployed stack (twin up --live), which a plan's states cannot be made from: change a twin of the synthesized stack")
	}
	base, err := twin.SavedStack(prefix)
	if err != nil {
		return nil, err
	}
	states, _, err := change.States(p, base, head)
	if err != nil {
		return nil, fmt.Errorf("--plan %s: %w", planFile, err)
	}
	var out []twin.ChangeStep
	for _, st := range states {
		out = append(out, twin.ChangeStep{Name: st.Name, Stack: st.Stack})
	}
	return out, nil
}
