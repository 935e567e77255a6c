package twin

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/webtier/webtier/twin/compiler"

	"github.com/webtier/webtier/config"
	"github.com/webtier/webtier/verify"
)

// What a running twin keeps besides its plan: the stack and config it was built from, so
// that Load, a change and the Auto Scaling controller (package autoscale, whose status is
// there too) can compile it again.

// File names in the state directory.
const (
	stackFile  = "stack.tf.json"
	configFile = "config.json"
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

// Running reads a running twin: its plan compiled again from the stack and config it was built
// from (at the sizes its controller set), checked against the plan it wrote.
func Running(prefix string) (*compiler.Plan, *verify.Network, verify.Intent, error) {
	saved, err := SavedPlan(prefix)
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
	plan, err := compiler.CompileDesired(n, intent, prefix, saved.Kept)
	if err != nil {
		return nil, nil, verify.Intent{}, err
	}
	if plan.Text() != saved.Text() {
		return nil, nil, verify.Intent{}, fmt.Errorf("the twin's state in %s does not match what its stack compiles to; run `webtier twin up` again", dir)
	}
	plan.Live = saved.Live
	return plan, n, intent, nil
}
