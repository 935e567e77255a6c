package live_test

import (
	"bytes"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/webtier/webtier/live"
	"github.com/webtier/webtier/verify"
)

// TestDeployedNames: the elements of a deployed stack are named by their Name tag, so that
// the model's provenance is the synthesized stack's where the tags are the names, and linked
// to each other by AWS ID.
func TestDeployedNames(t *testing.T) {
	dep, notes := loadRecorded(t).Deployed()
	if len(notes) > 0 {
		t.Errorf("the recorded example needs no notes, got:\n%s", strings.Join(notes, "\n"))
	}
	n, err := verify.LoadDeployed(dep)
	if err != nil {
		t.Fatal(err)
	}
	named := map[string]bool{}
	for _, f := range n.Fleets {
		named[f.Addr] = f.Template != nil && f.Template.Addr == "aws_launch_template.webtier-web" && f.Template.Profile != nil
	}
	for _, s := range n.Subnets {
		// A subnet is linked to its VPC by ID.
		named[s.Addr] = s.VPC != nil && s.VPC.Addr == "aws_vpc.webtier"
		named[s.Routes.Addr] = true
		named[s.NACL.Addr] = true
	}
	for _, ip := range n.ElasticIPs {
		named[ip.Addr] = true
	}
	for _, lb := range n.LBs {
		named[lb.Addr] = len(lb.Listeners) == 1 && len(lb.Listeners[0].Groups) == 1 && lb.Listeners[0].Groups[0].Addr == "aws_lb_target_group.webtier-web"
	}
	for _, e := range n.Endpoints {
		named[e.Res] = true
		for _, g := range e.Groups {
			named[g.Addr] = true
			for _, r := range g.Ingress {
				named[r.Addr] = r.Group == g
			}
		}
	}
	for _, fs := range n.FileSystems {
		named[fs.Addr] = true
	}
	for _, mt := range n.MountTargets {
		named[mt.Addr] = mt.FileSystem != nil && mt.FileSystem.Addr == "aws_efs_file_system.webtier-shared"
	}
	for _, db := range n.DBInstances {
		named[db.Addr] = db.SubnetGroup == "aws_db_subnet_group.webtier-db"
	}
	for _, r := range n.Roles {
		named[r.Addr] = true
	}
	for _, fl := range n.FlowLogs {
		named[fl.Addr] = fl.Role != nil && fl.Group != nil
	}
	for _, addr := range []string{"aws_efs_file_system.webtier-shared", "aws_db_instance.webtier-db", "aws_iam_role.webtier-web", "aws_iam_role.webtier-flow-logs",
		"aws_flow_log.webtier-flow-log", "aws_subnet.web-a", "aws_subnet.db-c", "aws_security_group.web-sg", "aws_network_acl.web-nacl",
		"aws_route_table.web-a-rt", "aws_vpc_security_group_ingress_rule.web-sg-ingress-alb-to-web-http",
		"aws_instance.bastion-a", "aws_nat_gateway.nat-public-c", "aws_eip.nat-public-a", "aws_vpc_endpoint.webtier-secretsmanager",
		"aws_lb.webtier-alb", "aws_autoscaling_group.webtier-web"} {
		if !named[addr] {
			t.Errorf("the deployed model has no %s (or it is not linked): %v", addr, named)
		}
	}
	if len(n.MountTargets) != 2 || !named[n.MountTargets[0].Addr] || !named[n.MountTargets[1].Addr] {
		t.Errorf("the deployed model's mount targets %v: want two, each of aws_efs_file_system.webtier-shared", named)
	}
	if again, _ := loadRecorded(t).Deployed(); !reflect.DeepEqual(dep, again) {
		t.Error("two readings of one stack differ")
	}
}

// TestDeployedJSON: the deployed stack as the twin keeps it (JSON) builds the very model the
// reading does: the same report, byte for byte; what is not a deployed stack is refused,
// naming what is wrong.
func TestDeployedJSON(t *testing.T) {
	s := loadRecorded(t)
	in, err := verify.IntentOf(exampleConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	report := func(n *verify.Network) string {
		var b bytes.Buffer
		if err := verify.Verify(n, in).WriteJSON(&b); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	n, _, err := s.Model()
	if err != nil {
		t.Fatal(err)
	}
	dep, _ := s.Deployed()
	data, err := (&live.Result{Deployed: dep}).JSON()
	if err != nil {
		t.Fatal(err)
	}
	saved, err := verify.LoadDeployedJSON(data)
	if err != nil {
		t.Fatal(err)
	}
	if report(saved) != report(n) {
		t.Error("the saved deployed stack verifies otherwise than the one read")
	}
	for in, want := range map[string]string{
		`{"resource": {}}`:      `unknown field "resource"`,
		`{"subnets": "subnet"}`: `cannot unmarshal string into Go struct field Deployed.subnets`,
	} {
		if _, err := verify.LoadDeployedJSON([]byte(in)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want one saying %s", in, err, want)
		}
	}
}

// TestDeployedEdgeCases: what the example does not have still reads into a stack the
// verifier loads, and what had to be left out is said.
func TestDeployedEdgeCases(t *testing.T) {
	s := loadRecorded(t)
	subnet := func(name string) *ec2types.Subnet {
		for i, sn := range s.Subnets {
			for _, tag := range sn.Tags {
				if aws.ToString(tag.Key) == "Name" && aws.ToString(tag.Value) == name {
					return &s.Subnets[i]
				}
			}
		}
		t.Fatalf("no subnet %s", name)
		return nil
	}
	// A Name tag two groups share.
	s.SecurityGroups[1].Tags = []ec2types.Tag{{Key: aws.String("Name"), Value: aws.String("web-sg")}}
	// An interface no resource stands for.
	s.NetworkInterfaces = append(s.NetworkInterfaces, ec2types.NetworkInterface{
		NetworkInterfaceId: aws.String("eni-0lambda"), SubnetId: subnet("web-a").SubnetId, Description: aws.String("AWS Lambda VPC ENI"),
		InterfaceType: ec2types.NetworkInterfaceTypeLambda})
	// A route to a virtual private gateway, and a blackhole to a deleted NAT gateway.
	for i := range s.RouteTables {
		for _, tag := range s.RouteTables[i].Tags {
			if aws.ToString(tag.Value) == "db-rt" {
				s.RouteTables[i].Routes = append(s.RouteTables[i].Routes,
					ec2types.Route{DestinationCidrBlock: aws.String("192.168.0.0/16"), GatewayId: aws.String("vgw-0office")},
					ec2types.Route{DestinationCidrBlock: aws.String("0.0.0.0/0"), NatGatewayId: aws.String("nat-0gone"), State: ec2types.RouteStateBlackhole})
			}
		}
	}
	// A rule naming a group of another VPC.
	s.SecurityGroupRules = append(s.SecurityGroupRules, ec2types.SecurityGroupRule{
		SecurityGroupRuleId: aws.String("sgr-0peer"), GroupId: s.SecurityGroups[2].GroupId, IsEgress: aws.Bool(true),
		IpProtocol: aws.String("tcp"), FromPort: aws.Int32(443), ToPort: aws.Int32(443),
		ReferencedGroupInfo: &ec2types.ReferencedSecurityGroup{GroupId: aws.String("111122223333/sg-0peer")}})
	// A second CIDR.
	s.VPC.CidrBlockAssociationSet = append(s.VPC.CidrBlockAssociationSet, ec2types.VpcCidrBlockAssociation{
		AssociationId: aws.String("vpc-cidr-assoc-0second"), CidrBlock: aws.String("10.17.0.0/16"),
		CidrBlockState: &ec2types.VpcCidrBlockState{State: ec2types.VpcCidrBlockStateCodeAssociated}})

	dep, notes := s.Deployed()
	n, err := verify.LoadDeployed(dep)
	if err != nil {
		t.Fatalf("the stack does not load: %v", err)
	}
	if len(n.VPCs) != 1 || len(n.VPCs[0].CIDRs) != 2 {
		t.Errorf("the model's VPC CIDRs: %v", n.VPCs[0].CIDRs)
	}
	office := false
	for _, sn := range n.Subnets {
		for _, r := range sn.Routes.Routes {
			office = office || r.Target == "aws_vpn_gateway.vgw-0office" && r.Kind == verify.TargetOther
		}
	}
	if !office {
		t.Error("the route to vgw-0office is not in the model as a target it does not follow")
	}
	sgs := 0
	for _, g := range dep.SecurityGroups {
		if strings.HasPrefix(g.Addr, "aws_security_group.web-sg") {
			sgs++
		}
	}
	if sgs != 2 {
		t.Errorf("two groups tagged web-sg: got %d groups named web-sg*, want 2", sgs)
	}
	for _, want := range []string{"blackhole", "sg-0peer"} {
		if !strings.Contains(strings.Join(notes, "\n"), want) {
			t.Errorf("no translation note mentions %s; notes:\n%s", want, strings.Join(notes, "\n"))
		}
	}
	if !strings.Contains(strings.Join(n.Notes, "\n"), "aws_network_interface.eni-0lambda: its network interfaces are not modelled") {
		t.Errorf("the verifier does not note the unmodelled interface; notes:\n%s", strings.Join(n.Notes, "\n"))
	}
}

// ec2Name is the Name tag of a list of EC2 tags.
func ec2Name(tags []ec2types.Tag) string {
	for _, t := range tags {
		if aws.ToString(t.Key) == "Name" {
			return aws.ToString(t.Value)
		}
	}
	return ""
}

// TestDeployedLinksByID: an element built directly into the model names what it links to by
// AWS ID; an ID the stack does not hold is a load error naming the element and the attribute,
// as a reference to a missing resource is.
func TestDeployedLinksByID(t *testing.T) {
	s := loadRecorded(t)
	s.MountTargets[0].SubnetId = aws.String("subnet-gone")
	s.MountTargets[1].SecurityGroups = []string{"sg-gone"}
	for i, in := range s.Instances {
		if ec2Name(in.Tags) == "bastion-a" {
			s.Instances[i].SubnetId = aws.String("subnet-gone")
		}
	}
	s.NetworkACLs[0].Associations = append(s.NetworkACLs[0].Associations, ec2types.NetworkAclAssociation{SubnetId: aws.String("subnet-0gone")})
	s.RouteTables[0].Routes = append(s.RouteTables[0].Routes, ec2types.Route{DestinationCidrBlock: aws.String("10.99.0.0/16"), NatGatewayId: aws.String("nat-gone")})
	_, _, err := s.Model()
	if err == nil {
		t.Fatal("a mount target in an unknown subnet loaded")
	}
	for _, want := range []string{`aws_efs_mount_target.fsmt-83326b41: subnet_id: "subnet-gone" names no aws_subnet of the stack`,
		`aws_efs_mount_target.fsmt-ca446848: security_groups[0]: "sg-gone" names no aws_security_group or aws_default_security_group of the stack`,
		// A resource of the document names the subnet by ID.
		`aws_instance.bastion-a: subnet_id: "subnet-gone" names no aws_subnet of the stack`,
		`: subnet_ids[0]: "subnet-0gone" names no aws_subnet of the stack`,
		`: route[0].target: "nat-gone" names no internet gateway, NAT gateway, VPC endpoint or instance of the stack`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q, want one saying %s", err, want)
		}
	}
}

// TestDeployedClusterInstance: an Aurora cluster's instance is not modelled, and the model says
// so in its notes rather than placing it.
func TestDeployedClusterInstance(t *testing.T) {
	s := loadRecorded(t)
	s.DBInstances[0].DBClusterIdentifier = aws.String("aurora-1")
	n, _, err := s.Model()
	if err != nil {
		t.Fatal(err)
	}
	want := "aws_rds_cluster_instance.webtier-db: its network interfaces are not modelled; connections to and from it are not judged"
	if !slices.Contains(n.Notes, want) || len(n.DBInstances) != 0 {
		t.Errorf("notes %q, %d DB instances; want the note %q and none", n.Notes, len(n.DBInstances), want)
	}
}

// TestDeployedTargets: a target group's target that no Auto Scaling group placed is the
// standalone instance with its ID, on its own port; one that names nothing of the stack (an IP
// address) is noted as not modelled.
func TestDeployedTargets(t *testing.T) {
	s := loadRecorded(t)
	var bastion string
	for _, in := range s.Instances {
		if ec2Name(in.Tags) == "bastion-a" {
			bastion = aws.ToString(in.InstanceId)
		}
	}
	s.TargetGroups[0].Health = append(s.TargetGroups[0].Health,
		elbtypes.TargetHealthDescription{Target: &elbtypes.TargetDescription{Id: aws.String(bastion), Port: aws.Int32(8080)}},
		elbtypes.TargetHealthDescription{Target: &elbtypes.TargetDescription{Id: aws.String("10.16.1.99")}})
	n, _, err := s.Model()
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, tg := range n.TargetGroups {
		for _, tt := range tg.Targets {
			found = found || tt.ENI.Res == "aws_instance.bastion-a" && tt.Port == 8080
		}
	}
	if !found {
		t.Error("the bastion registered on port 8080 is not a target of the model's target group")
	}
	if !slices.ContainsFunc(n.Notes, func(s string) bool {
		return strings.Contains(s, `target "10.16.1.99" is not a resource of the stack; it is not modelled`)
	}) {
		t.Errorf("no note on the IP target; notes:\n%s", strings.Join(n.Notes, "\n"))
	}
}
