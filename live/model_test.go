package live_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/webtier/webtier/check"
	"github.com/webtier/webtier/config"
	"github.com/webtier/webtier/live"
	"github.com/webtier/webtier/verify"
)

// modelShapes runs verify's shape checks on the model of a described stack.
func modelShapes(t *testing.T, s *live.Described, cfg config.Config) []check.Result {
	t.Helper()
	n, _, err := s.Model()
	if err != nil {
		t.Fatalf("the stack does not load: %v", err)
	}
	in, err := verify.IntentOf(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return verify.Shapes(n, in)
}

// modelShape finds the model's shape check whose title contains title.
func modelShape(t *testing.T, list []check.Result, title string) check.Result {
	t.Helper()
	var all strings.Builder
	for _, r := range list {
		if strings.Contains(r.Check, title) {
			return r
		}
		all.WriteString("  " + r.Check + "\n")
	}
	t.Fatalf("no shape check %q among:\n%s", title, all.String())
	return check.Result{}
}

// TestModelShapeFailures: a defect of the deployed shape that its configuration shows, read
// back from the APIs into the model, fails the model's check (the one the synthesized stack
// passes through as well).
func TestModelShapeFailures(t *testing.T) {
	if list := modelShapes(t, loadRecorded(t), exampleConfig(t)); len(list) == 0 {
		t.Fatal("no shape checks on the recorded stack")
	} else {
		for _, r := range list {
			if r.Failed() {
				t.Errorf("the recorded stack fails %s: %s", r.Check, r.Observed)
			}
		}
	}
	swapNAT := func(s *live.Described) {
		a, c := s.NATGateways[0].NatGatewayId, s.NATGateways[1].NatGatewayId
		for i := range s.RouteTables {
			for j := range s.RouteTables[i].Routes {
				if r := &s.RouteTables[i].Routes[j]; aws.ToString(r.NatGatewayId) == aws.ToString(a) {
					r.NatGatewayId = c
				}
			}
		}
	}
	for _, c := range []struct {
		name, check, detail string
		mutate              func(s *live.Described)
	}{
		{"a mount target without efs-sg", "mount target per web AZ", "carries web-sg, not the group tagged webtier:role=efs",
			func(s *live.Described) {
				for _, g := range s.SecurityGroups {
					if aws.ToString(g.GroupName) == "web-sg" {
						s.MountTargets[0].SecurityGroups = []string{aws.ToString(g.GroupId)}
					}
				}
			}},
		{"a web AZ without a mount target", "mount target per web AZ", "has 0 mount targets",
			func(s *live.Described) { s.MountTargets = s.MountTargets[1:] }},
		{"one NAT gateway for two AZs", "one NAT gateway per AZ", "has 0 NAT gateways", func(s *live.Described) {
			// The other one is gone: AWS reports the routes to it as blackholes.
			gone := aws.ToString(s.NATGateways[1].NatGatewayId)
			s.NATGateways = s.NATGateways[:1]
			for i := range s.RouteTables {
				for j := range s.RouteTables[i].Routes {
					if r := &s.RouteTables[i].Routes[j]; aws.ToString(r.NatGatewayId) == gone {
						r.State = ec2types.RouteStateBlackhole
					}
				}
			}
		}},
		{"a web subnet routed through the other AZ's NAT", "one NAT gateway per AZ", "routes 0.0.0.0/0 through", swapNAT},
		{"the database without Multi-AZ", "Multi-AZ over 2 AZs", "multi_az is not true", func(s *live.Described) { s.DBInstances[0].MultiAZ = aws.Bool(false) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := loadRecorded(t)
			c.mutate(s)
			r := modelShape(t, modelShapes(t, s, exampleConfig(t)), c.check)
			if !r.Failed() || !strings.Contains(r.Observed, c.detail) {
				t.Errorf("%s: got %s %q, want a failure saying %q", r.Check, r.Status, r.Observed, c.detail)
			}
		})
	}
}

// TestModelSingleNAT: with nat single, one NAT gateway that every web subnet uses is right,
// two are not.
func TestModelSingleNAT(t *testing.T) {
	s := loadRecorded(t)
	cfg := exampleConfig(t)
	cfg.NAT = config.NATSingle
	if r := modelShape(t, modelShapes(t, s, cfg), "NAT gateway"); !r.Failed() || !strings.Contains(r.Observed, "2 NAT gateways") {
		t.Errorf("two NAT gateways with nat single: got %s %q", r.Status, r.Observed)
	}
	first := s.NATGateways[0].NatGatewayId
	s.NATGateways = s.NATGateways[:1]
	for i := range s.RouteTables {
		for j := range s.RouteTables[i].Routes {
			if r := &s.RouteTables[i].Routes[j]; r.NatGatewayId != nil {
				r.NatGatewayId = first
			}
		}
	}
	if r := modelShape(t, modelShapes(t, s, cfg), "one NAT gateway (nat: single)"); !r.Passed() {
		t.Errorf("one shared NAT gateway with nat single: got %s %q", r.Status, r.Observed)
	}
}

// TestModelProvenance: every element of the deployed stack's model keeps the AWS ID it was
// read from (the synthesized stack's elements have their Terraform addresses only).
func TestModelProvenance(t *testing.T) {
	n, _, err := loadRecorded(t).Model()
	if err != nil {
		t.Fatal(err)
	}
	check := func(what, id string, prefixes ...string) {
		t.Helper()
		for _, p := range prefixes {
			if strings.HasPrefix(id, p) {
				return
			}
		}
		t.Errorf("%s: ID %q, want one starting with %s", what, id, strings.Join(prefixes, " or "))
	}
	for _, v := range n.VPCs {
		check(v.Addr, v.ID, "vpc-")
	}
	for _, s := range n.Subnets {
		check(s.Addr, s.ID, "subnet-")
		check(s.Routes.Addr, s.Routes.ID, "rtb-")
		check(s.NACL.Addr, s.NACL.ID, "acl-")
	}
	for _, e := range n.Endpoints {
		for _, g := range e.Groups {
			check(g.Addr, g.ID, "sg-")
		}
		switch e.Kind {
		case verify.Instance:
			check(e.Name, e.ID, "i-")
		case verify.NATGateway:
			check(e.Name, e.ID, "nat-")
		case verify.MountTarget:
			check(e.Name, e.ID, "fsmt-")
		case verify.InterfaceEndpoint:
			check(e.Name, e.ID, "vpce-")
		case verify.LBNode:
			check(e.Name, e.ID, "arn:aws:elasticloadbalancing:")
		case verify.ASGInstance, verify.Database:
			check(e.Name, e.ID, "webtier-")
		}
	}
	for _, lb := range n.LBs {
		check(lb.Addr, lb.ID, "arn:aws:elasticloadbalancing:")
		for _, l := range lb.Listeners {
			for _, g := range l.Groups {
				check(g.Addr, g.ID, "arn:aws:elasticloadbalancing:")
			}
		}
	}
	for _, g := range n.Gateways {
		check(g.Addr, g.ID, "vpce-")
	}
	if len(n.Endpoints) == 0 || len(n.LBs) == 0 {
		t.Fatalf("the model has %d endpoints, %d load balancers", len(n.Endpoints), len(n.LBs))
	}
	synth, err := os.ReadFile(filepath.Join("..", "testdata", "webtier.tf.json"))
	if err != nil {
		t.Fatal(err)
	}
	if n, err = verify.Load(synth); err != nil {
		t.Fatal(err)
	}
	for _, e := range n.Endpoints {
		if e.ID != "" {
			t.Errorf("synthesized %s: ID %q, want none before apply", e.Name, e.ID)
		}
	}
	for _, s := range n.Subnets {
		if s.ID != "" || s.Routes.ID != "" || s.NACL.ID != "" {
			t.Errorf("synthesized %s: IDs %q %q %q, want none before apply", s.Addr, s.ID, s.Routes.ID, s.NACL.ID)
		}
	}
}
