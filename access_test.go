package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/webtier/webtier/config"
	"github.com/webtier/webtier/rules"
	"github.com/webtier/webtier/ruletable"
	"github.com/webtier/webtier/stacks"
	"github.com/webtier/webtier/verify"
)

// The access modes' example configs: Session Manager only, and bastions with Session Manager.
const (
	ssmConfig  = "examples/webtier.ssm.json"
	bothConfig = "examples/webtier.both.json"
)

func planOf(t *testing.T, path string) stacks.Input {
	t.Helper()
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := stacks.NewInput(cfg)
	if err != nil {
		t.Fatalf("%s does not plan: %v", path, err)
	}
	return plan
}

// TestGoldenRuleTablesSSM keeps the rule tables of `access: ssm` beside the example's: no
// bastion-sg, no port 22, the Systems Manager endpoints' group and flow.
func TestGoldenRuleTablesSSM(t *testing.T) {
	plan := planOf(t, ssmConfig)
	tables, err := ruletable.Read(synthTo(t, plan), plan.Policy)
	if err != nil {
		t.Fatal(err)
	}
	goldenFile(t, filepath.Join("testdata", "access-ssm", "security-groups.txt"), []byte(tables.SGText()))
	for _, acl := range tables.NACLs {
		goldenFile(t, filepath.Join("testdata", "access-ssm", acl.Name+".txt"), []byte(acl.NACLText()))
		for _, r := range acl.Rows {
			if r.Why == ruletable.NotInTable {
				t.Errorf("%s: %s %s %s is in the stack but no flow asked for it", acl.Name, r.Direction, r.Ports, r.Peer)
			}
		}
	}
}

// opens22 lists the security-group rules and network ACL entries of a synthesized stack that
// let tcp/22 through (a rule for every protocol included).
func opens22(res map[string]map[string]map[string]any) []string {
	var out []string
	for _, typ := range []string{"aws_vpc_security_group_ingress_rule", "aws_vpc_security_group_egress_rule", "aws_network_acl_rule"} {
		for name, r := range res[typ] {
			proto := fmt.Sprint(r["ip_protocol"], r["protocol"])
			from, _ := r["from_port"].(float64)
			to, _ := r["to_port"].(float64)
			if strings.Contains(proto, "-1") || strings.Contains(proto, "tcp") && from <= 22 && 22 <= to {
				out = append(out, typ+"."+name)
			}
		}
	}
	slices.Sort(out)
	return out
}

// TestAccessSSM synthesizes `access: ssm`: no bastion, port 22 nowhere, the three interface
// endpoints with private DNS in both web subnets behind their own group, the managed policy
// on the web servers' role, the group created after both, and the outputs saying how to
// connect.
func TestAccessSSM(t *testing.T) {
	plan := planOf(t, ssmConfig)
	res := synthResources(t, plan.Config)
	if got := opens22(res); len(got) > 0 {
		t.Errorf("access ssm: rules letting tcp/22 through: got %v, want none", got)
	}
	if n := len(res["aws_instance"]); n != 0 {
		t.Errorf("access ssm: got %d instances (bastions), want none", n)
	}
	if _, ok := res["aws_security_group"][rules.Bastion.GroupName()]; ok {
		t.Error("access ssm: bastion-sg is in the stack; want no group for a role without flows")
	}
	for _, service := range rules.SSMServices {
		ep := res["aws_vpc_endpoint"][service]
		if ep == nil {
			t.Errorf("no aws_vpc_endpoint.%s", service)
			continue
		}
		want := map[string]string{
			"service_name":        "com.amazonaws.ap-northeast-2." + service,
			"vpc_endpoint_type":   "Interface",
			"private_dns_enabled": "true",
			"subnet_ids":          "[${aws_subnet.web-a.id} ${aws_subnet.web-c.id}]",
			"security_group_ids":  "[${aws_security_group.ssm-endpoint-sg.id}]",
		}
		for k, v := range want {
			if got := fmt.Sprint(ep[k]); got != v {
				t.Errorf("aws_vpc_endpoint.%s %s: got %s, want %s", service, k, got, v)
			}
		}
	}
	attach := res["aws_iam_role_policy_attachment"]["web-ssm"]
	if attach == nil || attach["policy_arn"] != "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore" || attach["role"] != "${aws_iam_role.web.name}" {
		t.Errorf("web role's managed policy: got %v, want AmazonSSMManagedInstanceCore on ${aws_iam_role.web.name}", attach)
	}
	deps := fmt.Sprint(res["aws_autoscaling_group"]["web"]["depends_on"])
	for _, want := range []string{"aws_vpc_endpoint.ssm", "aws_vpc_endpoint.ssmmessages", "aws_vpc_endpoint.ec2messages", "aws_iam_role_policy_attachment.web-ssm"} {
		if !strings.Contains(deps, want) {
			t.Errorf("the web group does not wait for %s: depends_on %s", want, deps)
		}
	}
	// The endpoints' group admits HTTPS from the web servers and nothing else.
	var in []string
	for name, r := range res["aws_vpc_security_group_ingress_rule"] {
		if r["security_group_id"] == "${aws_security_group.ssm-endpoint-sg.id}" {
			in = append(in, fmt.Sprint(name, " ", r["ip_protocol"], "/", r["from_port"], " ", r["referenced_security_group_id"]))
		}
	}
	if want := []string{"ssm-endpoint-sg-ingress-web-to-ssm-https tcp/443 ${aws_security_group.web-sg.id}"}; !slices.Equal(in, want) {
		t.Errorf("ssm-endpoint-sg ingress: got %q, want %q", in, want)
	}
	outputs := stackOutputs(t, plan)
	for _, gone := range []string{"bastion_public_ips", "ssh_command"} {
		if _, ok := outputs[gone]; ok {
			t.Errorf("access ssm: output %s is in the stack; want it gone with the bastions", gone)
		}
	}
	if got := fmt.Sprint(outputs["session_command"]); !strings.Contains(got, "aws ssm start-session --region ap-northeast-2 --target INSTANCE_ID") {
		t.Errorf("output session_command: got %s, want the start-session command", got)
	}
}

// stackOutputs are the outputs of a plan's synthesized stack.
func stackOutputs(t *testing.T, plan stacks.Input) map[string]any {
	t.Helper()
	var doc struct {
		Output map[string]any `json:"output"`
	}
	if err := json.Unmarshal(synthTo(t, plan), &doc); err != nil {
		t.Fatal(err)
	}
	return doc.Output
}

// TestAccessBoth synthesizes `access: both`: the seed's SSH path as the example has it, the
// bastions given a role with the managed policy, and the bastions' own flow to the endpoints.
// At AWS's default ACL quota the default repository ranges leave no room for that flow's two
// inbound entries in web-nacl: the plan is refused, naming the ACL and the way out.
func TestAccessBoth(t *testing.T) {
	plan := planOf(t, bothConfig)
	res := synthResources(t, plan.Config)
	example := examplePlan(t)
	for _, id := range []string{"admin-to-bastion-ssh", "bastion-to-web-ssh"} {
		if !slices.ContainsFunc(plan.Policy.Flows, func(f rules.Flow) bool { return f.ID == id }) {
			t.Errorf("access both: flow %s is not active", id)
		}
	}
	if got, want := len(opens22(res)), len(opens22(synthResources(t, example.Config))); got != want {
		t.Errorf("access both: %d rules let tcp/22 through, want the example's %d", got, want)
	}
	for _, b := range []string{"bastion-a", "bastion-c"} {
		if got := res["aws_instance"][b]["iam_instance_profile"]; got != "${aws_iam_instance_profile.bastion.name}" {
			t.Errorf("%s iam_instance_profile: got %v, want the bastions' profile", b, got)
		}
	}
	attach := res["aws_iam_role_policy_attachment"]["bastion-ssm"]
	if attach == nil || attach["policy_arn"] != "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore" || attach["role"] != "${aws_iam_role.bastion.name}" {
		t.Errorf("bastion role's managed policy: got %v, want AmazonSSMManagedInstanceCore on ${aws_iam_role.bastion.name}", attach)
	}
	if _, ok := res["aws_vpc_security_group_egress_rule"]["bastion-sg-egress-bastion-to-ssm-https"]; !ok {
		t.Error("bastion-sg has no egress rule to the Systems Manager endpoints")
	}

	cfg := plan.Config
	cfg.Quotas.NACLRulesPerDirection = 20
	_, err := stacks.NewInput(cfg)
	want := "web-nacl: 21 ingress entries + the default deny = 22 > 20 (L-2AEEBF1A"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("access both at the default quota: got %v, want an error containing %q", err, want)
	}
}

// TestAccessStacksVerify proves the requirements on both modes' stacks, and that in ssm mode
// requirement 1 is the proof of no inbound SSH path and of the agent's way to the endpoints.
func TestAccessStacksVerify(t *testing.T) {
	for _, path := range []string{ssmConfig, bothConfig} {
		t.Run(path, func(t *testing.T) {
			plan := planOf(t, path)
			n, err := verify.Load(synthTo(t, plan))
			if err != nil {
				t.Fatal(err)
			}
			intent, err := verify.IntentOfFlows(plan.Config, plan.Policy.Flows)
			if err != nil {
				t.Fatal(err)
			}
			r := verify.Verify(n, intent)
			if !r.OK() {
				var b strings.Builder
				r.WriteTable(&b, path)
				t.Fatalf("%s does not verify:\n%s", path, b.String())
			}
			var req1 []string
			for _, p := range r.Probes {
				if p.Req == 1 {
					req1 = append(req1, p.Probe)
				}
			}
			noSSH := slices.ContainsFunc(req1, func(s string) bool { return strings.HasPrefix(s, "no inbound SSH path") })
			if ssm := plan.Config.Access == config.AccessSSM; noSSH != ssm {
				t.Errorf("requirement 1 has the no-inbound-SSH probe: %t, want %t (%q)", noSSH, ssm, req1)
			}
			if !slices.ContainsFunc(req1, func(s string) bool { return strings.Contains(s, "-> ssm-endpoint@web-c:ssmmessages tcp/443") }) {
				t.Errorf("requirement 1 has no probe of the ssmmessages endpoint: %q", req1)
			}
		})
	}
}
