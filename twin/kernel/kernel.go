// Package kernel is the twin's one seam to the Linux kernel: network namespaces, veth links,
// `ip` configuration and nftables rulesets. The compiler turns a plan, or the difference of
// two plans, into Ops; Apply runs them, in order, on a Kernel: Linux (the `ip` and `nft`
// commands, as root) or Fake (an in-memory model of what those commands do, on every OS), so
// that what a change does to the kernel is tested without root. Like kube-proxy's nftables
// proxier, each namespace's ruleset is loaded in one transaction (it starts with `flush
// ruleset`), and connections already open stay open (conntrack keeps them).
package kernel

import (
	"context"
	"fmt"
	"strings"
)

// Namespace is what one network namespace of a plan holds: the `ip` lines that build it, its
// sysctls and its nftables ruleset.
type Namespace struct {
	Name string `json:"name"`
	// Links are `ip` commands (batch syntax) run inside the namespace before IP, in order;
	// they create veth pairs whose peers land in other namespaces.
	Links []string `json:"links,omitempty"`
	// IP are `ip` commands (batch syntax) run inside the namespace once every link exists.
	IP     []string `json:"ip"`
	Sysctl []string `json:"sysctl"`
	NFT    string   `json:"nft,omitempty"`
}

// Action is what an Op does.
type Action string

// The actions, in the order a change runs them: the processes of the namespaces that go, the
// far ends of their links, the namespaces; then the new namespaces, their links, every
// namespace's `ip` lines, the new namespaces' sysctls, and the changed rulesets.
const (
	Kill            Action = "kill"
	DeleteLink      Action = "link del"
	DeleteNamespace Action = "netns del"
	AddNamespace    Action = "netns add"
	IP              Action = "ip"
	Sysctl          Action = "sysctl"
	Ruleset         Action = "nft"
)

// Op is one step of a change to the kernel.
type Op struct {
	Do Action
	NS string
	// Link is the link a DeleteLink removes (in NS).
	Link string
	// Lines are an IP's `ip` batch lines, or a Sysctl's settings (key=value).
	Lines []string
	// Existing is set on an IP of a namespace that was there before the change: every line
	// runs, and one that fails (the removal of what a link's end took with it) does not stop
	// the change.
	Existing bool
	// Ruleset is a Ruleset's nftables script.
	Ruleset string
}

// Kernel does each action. The namespaces it lists and removes are only those whose names
// start with a prefix the caller made.
type Kernel interface {
	// Namespaces lists the namespaces whose names start with prefix.
	Namespaces(prefix string) ([]string, error)
	// Kill stops every process inside the namespaces, waiting a bounded time for them to go.
	Kill(ctx context.Context, namespaces []string)
	AddNamespace(ctx context.Context, name string) error
	// DeleteNamespace removes a namespace and its links (each veth's far end with it).
	DeleteNamespace(ctx context.Context, name string) error
	DeleteLink(ctx context.Context, ns, link string) error
	// IP runs `ip` batch lines inside a namespace; with existing, every line runs and the
	// error says which failed.
	IP(ctx context.Context, ns string, lines []string, existing bool) error
	Sysctl(ctx context.Context, ns string, settings []string) error
	// LoadRuleset replaces the namespace's nftables ruleset in one transaction.
	LoadRuleset(ctx context.Context, ns, ruleset string) error
}

// Apply runs ops in order on k. It stops at the first error, except that of an IP on an
// existing namespace and that of a DeleteLink (the link may have gone with its namespace).
func Apply(ctx context.Context, k Kernel, ops []Op) error {
	for _, op := range ops {
		var err error
		switch op.Do {
		case Kill:
			k.Kill(ctx, []string{op.NS})
		case DeleteLink:
			k.DeleteLink(ctx, op.NS, op.Link)
		case DeleteNamespace:
			err = k.DeleteNamespace(ctx, op.NS)
		case AddNamespace:
			err = k.AddNamespace(ctx, op.NS)
		case IP:
			if err = k.IP(ctx, op.NS, op.Lines, op.Existing); op.Existing {
				err = nil
			}
		case Sysctl:
			err = k.Sysctl(ctx, op.NS, op.Lines)
		case Ruleset:
			err = k.LoadRuleset(ctx, op.NS, op.Ruleset)
		default:
			err = fmt.Errorf("kernel: unknown action %q", op.Do)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// Text renders ops one action a line, an IP's lines indented under it, with names relative
// to prefix; a ruleset is named by its size and its first rule-bearing line, since the
// compiler's rulesets are pinned on their own.
func Text(ops []Op, prefix string) string {
	var b strings.Builder
	name := func(s string) string { return strings.TrimPrefix(s, prefix) }
	for _, op := range ops {
		switch op.Do {
		case DeleteLink:
			fmt.Fprintf(&b, "%s %s in %s\n", op.Do, op.Link, name(op.NS))
		case IP, Sysctl:
			more := ""
			if op.Existing {
				more = " (existing: every line runs)"
			}
			fmt.Fprintf(&b, "%s %s%s\n", op.Do, name(op.NS), more)
			for _, l := range op.Lines {
				fmt.Fprintf(&b, "    %s\n", strings.ReplaceAll(l, prefix, ""))
			}
		case Ruleset:
			fmt.Fprintf(&b, "%s %s: %d lines\n", op.Do, name(op.NS), strings.Count(op.Ruleset, "\n"))
		default:
			fmt.Fprintf(&b, "%s %s\n", op.Do, name(op.NS))
		}
	}
	return b.String()
}
