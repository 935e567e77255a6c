package compiler

import (
	"fmt"
	"path/filepath"

	"github.com/webtier/webtier/verify"
)

// The twin's SSH: the commands that log in to a host of the plan through its bastion.

// SSHUser is the login user, as on Amazon Linux.
const SSHUser = "ec2-user"

// SSHHosts are the hosts that run sshd: the EC2 instances.
func (p *Plan) SSHHosts() []*Host {
	var out []*Host
	for _, h := range p.Hosts {
		if h.Inside() && (h.ep.Kind == verify.Instance || h.ep.Kind == verify.ASGInstance) && containsInt(h.Listen, 22) {
			out = append(out, h)
		}
	}
	return out
}

func containsInt(list []int, x int) bool {
	for _, v := range list {
		if v == x {
			return true
		}
	}
	return false
}

// SSHDir is where a twin keeps its keys and sshd configs.
func SSHDir(prefix string) string { return filepath.Join(StateDir(prefix), "ssh") }

// SSHArgs is the command that logs in to h from the admin host, as the seed did: a bastion
// at its public address, a web server through the bastion of its AZ (`ssh -J`), then runs
// cmd (an interactive shell when empty).
func (p *Plan) SSHArgs(h *Host, cmd []string) ([]string, error) {
	admin, bastion := p.FirstOf("admin"), (*Host)(nil)
	for _, b := range p.SSHHosts() {
		if b.Role == "bastion" && b.Public.IsValid() && (bastion == nil || b.AZ == h.AZ && bastion.AZ != h.AZ) {
			bastion = b
		}
	}
	if !containsInt(h.Listen, 22) || !h.Inside() {
		return nil, fmt.Errorf("%s runs no sshd: the flows let SSH into bastions and web servers only", h.Name)
	}
	if admin == nil || bastion == nil {
		return nil, fmt.Errorf("the twin has no admin host or no bastion with a public address")
	}
	args := []string{"ip", "netns", "exec", admin.Namespace, "ssh", "-F", filepath.Join(SSHDir(p.Prefix), "config")}
	target := SSHUser + "@" + h.Private.String()
	switch {
	case h.Role == "bastion" && h.Public.IsValid():
		target = SSHUser + "@" + h.Public.String()
	default:
		args = append(args, "-J", SSHUser+"@"+bastion.Public.String())
	}
	return append(append(args, target), cmd...), nil
}

// SSHVia is the command that logs in to h through the bastion via.
func (p *Plan) SSHVia(h, via *Host, cmd []string) ([]string, error) {
	admin := p.FirstOf("admin")
	if admin == nil || !via.Public.IsValid() {
		return nil, fmt.Errorf("the twin has no admin host, or %s no public address", via.Name)
	}
	return append([]string{"ip", "netns", "exec", admin.Namespace, "ssh", "-F", filepath.Join(SSHDir(p.Prefix), "config"),
		"-J", SSHUser + "@" + via.Public.String(), SSHUser + "@" + h.Private.String()}, cmd...), nil
}

// FirstOf is the first host of a role, or nil.
func (p *Plan) FirstOf(role string) *Host {
	for _, h := range p.Hosts {
		if string(h.Role) == role {
			return h
		}
	}
	return nil
}
