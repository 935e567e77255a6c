// Package tfcli chooses the Terraform CLI configuration: the offline provider mirror when this
// machine has it, the public registry otherwise. Plain Go.
package tfcli

import (
	"fmt"
	"os"
	"path/filepath"
)

// MirrorDir is where the offline provider mirror lives on machines that have one.
const MirrorDir = "/opt/tf-plugins"

// ConfigFile returns the CLI config shipped in repo/terraform/ that fits this machine.
func ConfigFile(repo string) (string, error) {
	name := "registry.tfrc"
	if st, err := os.Stat(MirrorDir); err == nil && st.IsDir() {
		name = "mirror.tfrc"
	}
	path, err := filepath.Abs(filepath.Join(repo, "terraform", name))
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(path); err != nil {
		return "", fmt.Errorf("terraform CLI config: %w", err)
	}
	return path, nil
}

// Env is the environment terraform runs with: the chosen CLI config.
func Env(repo string) ([]string, error) {
	path, err := ConfigFile(repo)
	if err != nil {
		return nil, err
	}
	return []string{"TF_CLI_CONFIG_FILE=" + path}, nil
}
