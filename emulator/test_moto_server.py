"""Checks each patch of moto_server.py through the AWS API, against the launcher on a free port.

Run from the repository root: python3 -m unittest discover emulator
"""
import json
import os
import socket
import subprocess
import sys
import threading
import time
import unittest
import urllib.error
import urllib.request

import boto3
from botocore.exceptions import ClientError

LAUNCHER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "moto_server.py")
REGION = "ap-northeast-2"
# Two of the region's S3 ranges, as webtier passes them (WEBTIER_S3_RANGES).
S3_RANGES = ["3.5.140.0/22", "52.219.56.0/21"]


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class MotoServerTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        port = _free_port()
        cls.endpoint = f"http://127.0.0.1:{port}"
        # The launcher ends with this process, even when it is killed before tearDownClass.
        env = dict(os.environ, WEBTIER_S3_RANGES=json.dumps({REGION: S3_RANGES}), WEBTIER_EMULATOR_OWNER=str(os.getpid()))
        cls.server = subprocess.Popen(
            [sys.executable, LAUNCHER, "-H", "127.0.0.1", "-p", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        deadline = time.time() + 30
        while True:
            try:
                urllib.request.urlopen(cls.endpoint + "/moto-api/", timeout=1)
                break
            except OSError:
                if time.time() > deadline or cls.server.poll() is not None:
                    cls.server.kill()
                    raise RuntimeError(f"the launcher did not answer on {cls.endpoint}")
                time.sleep(0.2)
        cls.ec2 = cls.client("ec2")
        vpc = cls.ec2.create_vpc(CidrBlock="10.16.0.0/16")["Vpc"]["VpcId"]
        cls.subnet = cls.ec2.create_subnet(
            VpcId=vpc, CidrBlock="10.16.1.0/24", AvailabilityZone=REGION + "a"
        )["Subnet"]["SubnetId"]
        cls.sg = cls.ec2.create_security_group(GroupName="a", Description="a", VpcId=vpc)["GroupId"]
        cls.other_sg = cls.ec2.create_security_group(GroupName="b", Description="b", VpcId=vpc)["GroupId"]

    @classmethod
    def tearDownClass(cls):
        cls.server.terminate()
        cls.server.wait(10)

    @classmethod
    def client(cls, service):
        return boto3.client(
            service,
            endpoint_url=cls.endpoint,
            region_name=REGION,
            aws_access_key_id="test",
            aws_secret_access_key="test",
        )

    def enis(self):
        return {e["NetworkInterfaceId"] for e in self.ec2.describe_network_interfaces()["NetworkInterfaces"]}

    def test_s3_prefix_list_holds_the_regions_ranges(self):
        lists = self.ec2.describe_prefix_lists(
            Filters=[{"Name": "prefix-list-name", "Values": [f"com.amazonaws.{REGION}.s3"]}])["PrefixLists"]
        self.assertEqual(len(lists), 1, lists)
        self.assertEqual(sorted(lists[0]["Cidrs"]), sorted(S3_RANGES))
        entries = self.ec2.get_managed_prefix_list_entries(PrefixListId=lists[0]["PrefixListId"])["Entries"]
        self.assertEqual(sorted(e["Cidr"] for e in entries), sorted(S3_RANGES))
        # A gateway endpoint routes that list; another region keeps moto's own ranges.
        vpc = self.ec2.describe_subnets(SubnetIds=[self.subnet])["Subnets"][0]["VpcId"]
        table = self.ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
        endpoint = self.ec2.create_vpc_endpoint(VpcId=vpc, ServiceName=f"com.amazonaws.{REGION}.s3",
                                                VpcEndpointType="Gateway", RouteTableIds=[table])["VpcEndpoint"]
        routes = self.ec2.describe_route_tables(RouteTableIds=[table])["RouteTables"][0]["Routes"]
        self.assertIn((lists[0]["PrefixListId"], endpoint["VpcEndpointId"]),
                      [(r.get("DestinationPrefixListId"), r.get("GatewayId")) for r in routes])
        other = boto3.client("ec2", endpoint_url=self.endpoint, region_name="us-east-1",
                             aws_access_key_id="test", aws_secret_access_key="test")
        elsewhere = other.describe_prefix_lists(
            Filters=[{"Name": "prefix-list-name", "Values": ["com.amazonaws.us-east-1.s3"]}])["PrefixLists"]
        self.assertNotEqual(sorted(elsewhere[0]["Cidrs"]), sorted(S3_RANGES))

    def test_prefix_list_rule_keeps_description(self):
        pl = self.ec2.describe_prefix_lists(
            Filters=[{"Name": "prefix-list-name", "Values": [f"com.amazonaws.{REGION}.s3"]}])["PrefixLists"][0]
        rules = self.ec2.authorize_security_group_egress(
            GroupId=self.sg,
            IpPermissions=[{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
                            "PrefixListIds": [{"PrefixListId": pl["PrefixListId"], "Description": "repos"}]}],
        )["SecurityGroupRules"]
        got = self.ec2.describe_security_group_rules(SecurityGroupRuleIds=[rules[0]["SecurityGroupRuleId"]])
        rule = got["SecurityGroupRules"][0]
        self.assertEqual(rule.get("PrefixListId"), pl["PrefixListId"])
        self.assertEqual(rule.get("Description"), "repos")

    def test_sg_to_sg_rule_keeps_description(self):
        rules = self.ec2.authorize_security_group_ingress(
            GroupId=self.sg,
            IpPermissions=[{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22,
                            "UserIdGroupPairs": [{"GroupId": self.other_sg, "Description": "ssh"}]}],
        )["SecurityGroupRules"]
        got = self.ec2.describe_security_group_rules(SecurityGroupRuleIds=[rules[0]["SecurityGroupRuleId"]])
        rule = got["SecurityGroupRules"][0]
        self.assertEqual(rule.get("Description"), "ssh", f"rule read back as {rule}")
        self.assertEqual(rule["ReferencedGroupInfo"]["GroupId"], self.other_sg)

    def test_instance_with_groups_on_its_interface_reports_them(self):
        instance = self.ec2.run_instances(
            ImageId="ami-12c6146b", MinCount=1, MaxCount=1, InstanceType="t3.micro",
            NetworkInterfaces=[{"DeviceIndex": 0, "SubnetId": self.subnet, "Groups": [self.sg],
                                "AssociatePublicIpAddress": True, "DeleteOnTermination": True}],
        )["Instances"][0]
        got = self.ec2.describe_instances(InstanceIds=[instance["InstanceId"]])
        groups = [g["GroupId"] for g in got["Reservations"][0]["Instances"][0]["SecurityGroups"]]
        self.assertEqual(groups, [self.sg], "instance SecurityGroups should be its primary ENI's groups")

    def test_terminating_an_instance_deletes_the_enis_it_was_launched_with(self):
        before = self.enis()
        instance = self.ec2.run_instances(
            ImageId="ami-12c6146b", MinCount=1, MaxCount=1, SubnetId=self.subnet,
            SecurityGroupIds=[self.sg],
        )["Instances"][0]
        self.assertEqual(len(self.enis() - before), 1, "RunInstances should create one ENI")
        self.ec2.terminate_instances(InstanceIds=[instance["InstanceId"]])
        self.assertEqual(self.enis() - before, set(), "ENIs left behind after termination")

    def test_deleting_a_nat_gateway_deletes_its_eni(self):
        before = self.enis()
        eip = self.ec2.allocate_address(Domain="vpc")["AllocationId"]
        nat = self.ec2.create_nat_gateway(SubnetId=self.subnet, AllocationId=eip)["NatGateway"]
        self.ec2.delete_nat_gateway(NatGatewayId=nat["NatGatewayId"])
        self.assertEqual(self.enis() - before, set(), "the NAT gateway's ENI is left behind")
        address = self.ec2.describe_addresses(AllocationIds=[eip])["Addresses"][0]
        self.assertNotIn("AssociationId", address, f"EIP still associated: {address}")
        self.ec2.release_address(AllocationId=eip)

    def launch_template_and_group(self, name):
        self.ec2.create_launch_template(
            LaunchTemplateName=name,
            LaunchTemplateData={
                "ImageId": "ami-12c6146b",
                "UserData": "IyEvYmluL2Jhc2gK",
                "TagSpecifications": [{"ResourceType": "instance", "Tags": [{"Key": "role", "Value": "web"}]}],
            },
            TagSpecifications=[{"ResourceType": "launch-template", "Tags": [{"Key": "role", "Value": "lt"}]}],
        )
        # The user-data patch: an ASG launching from a version whose UserData came through
        # CreateLaunchTemplateVersion answers instead of failing with HTTP 500.
        self.ec2.create_launch_template_version(
            LaunchTemplateName=name, SourceVersion="1",
            LaunchTemplateData={"UserData": "IyEvYmluL2Jhc2gKZWNobyBoaQo="},
        )
        self.client("autoscaling").create_auto_scaling_group(
            AutoScalingGroupName=name, MinSize=1, MaxSize=1, VPCZoneIdentifier=self.subnet,
            LaunchTemplate={"LaunchTemplateName": name, "Version": "$Latest"},
        )

    def test_a_repeated_client_token_gets_the_first_answer(self):
        # The SDK's retry of a request the emulator already carried out: same ClientToken.
        args = dict(LaunchTemplateName="retried", LaunchTemplateData={"InstanceType": "t3.micro"}, ClientToken="tok-1")
        first = self.ec2.create_launch_template(**args)["LaunchTemplate"]
        again = self.ec2.create_launch_template(**args)["LaunchTemplate"]
        self.assertEqual(first["LaunchTemplateId"], again["LaunchTemplateId"])
        with self.assertRaises(ClientError) as err:
            self.ec2.create_launch_template(**dict(args, ClientToken="tok-2"))
        self.assertEqual(err.exception.response["Error"]["Code"], "InvalidLaunchTemplateName.AlreadyExistsException")
        vpc = self.ec2.create_vpc(CidrBlock="10.61.0.0/16")["Vpc"]["VpcId"]
        subnet = self.ec2.create_subnet(VpcId=vpc, CidrBlock="10.61.1.0/24")["Subnet"]["SubnetId"]
        image = self.ec2.describe_images()["Images"][0]["ImageId"]
        run = dict(ImageId=image, MinCount=1, MaxCount=1, SubnetId=subnet, ClientToken="tok-run")
        ids = {self.ec2.run_instances(**run)["Instances"][0]["InstanceId"] for _ in range(2)}
        self.assertEqual(len(ids), 1, "a retried RunInstances launched a second instance")

    def test_launch_template_own_tags_stay_off_its_data(self):
        self.launch_template_and_group("tags")
        template = self.ec2.describe_launch_templates(LaunchTemplateNames=["tags"])["LaunchTemplates"][0]
        self.assertEqual(template["Tags"], [{"Key": "role", "Value": "lt"}])
        data = self.ec2.describe_launch_template_versions(LaunchTemplateName="tags")[
            "LaunchTemplateVersions"][0]["LaunchTemplateData"]
        self.assertEqual(
            data["TagSpecifications"],
            [{"ResourceType": "instance", "Tags": [{"Key": "role", "Value": "web"}]}],
        )

    def test_scaling_policy_enabled_and_no_empty_predictive_configuration(self):
        self.launch_template_and_group("policies")
        autoscaling = self.client("autoscaling")
        for name, enabled in (("on", True), ("off", False)):
            autoscaling.put_scaling_policy(
                AutoScalingGroupName="policies", PolicyName=name, PolicyType="TargetTrackingScaling",
                Enabled=enabled,
                TargetTrackingConfiguration={
                    "PredefinedMetricSpecification": {"PredefinedMetricType": "ASGAverageCPUUtilization"},
                    "TargetValue": 50,
                },
            )
        policies = {p["PolicyName"]: p for p in autoscaling.describe_policies(
            AutoScalingGroupName="policies")["ScalingPolicies"]}
        self.assertIs(policies["on"].get("Enabled"), True, f"policy read back as {policies['on']}")
        self.assertIs(policies["off"].get("Enabled"), False, f"policy read back as {policies['off']}")
        self.assertNotIn("PredictiveScalingConfiguration", policies["on"])

    def test_group_keeps_its_default_instance_warmup(self):
        self.launch_template_and_group("warmup")
        autoscaling = self.client("autoscaling")
        group = lambda: autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=["warmup"])["AutoScalingGroups"][0]
        self.assertNotIn("DefaultInstanceWarmup", group(), "a group made without one has none")
        autoscaling.update_auto_scaling_group(AutoScalingGroupName="warmup", DefaultInstanceWarmup=120)
        self.assertEqual(group().get("DefaultInstanceWarmup"), 120)
        autoscaling.update_auto_scaling_group(AutoScalingGroupName="warmup", MaxSize=2)
        self.assertEqual(group().get("DefaultInstanceWarmup"), 120, "an update that does not name it keeps it")

    def test_efs_backup_policy(self):
        efs = self.client("efs")
        fs = efs.create_file_system(CreationToken="shared")["FileSystemId"]
        with self.assertRaises(ClientError, msg="no policy was ever put: AWS says PolicyNotFound"):
            efs.describe_backup_policy(FileSystemId=fs)
        for status in ("ENABLED", "DISABLED"):
            efs.put_backup_policy(FileSystemId=fs, BackupPolicy={"Status": status})
            got = efs.describe_backup_policy(FileSystemId=fs)["BackupPolicy"]["Status"]
            self.assertEqual(got, status)

    def test_parallel_deletes_each_find_their_entry_and_a_missing_one_is_not_found(self):
        from concurrent.futures import ThreadPoolExecutor

        vpc = self.ec2.describe_subnets(SubnetIds=[self.subnet])["Subnets"][0]["VpcId"]
        acl = self.ec2.create_network_acl(VpcId=vpc)["NetworkAcl"]["NetworkAclId"]
        numbers = list(range(100, 1100, 10))
        for n in numbers:
            self.ec2.create_network_acl_entry(
                NetworkAclId=acl, RuleNumber=n, Protocol="6", RuleAction="allow",
                Egress=True, CidrBlock="10.0.0.0/8", PortRange={"From": 443, "To": 443},
            )

        def delete(n):
            self.ec2.delete_network_acl_entry(NetworkAclId=acl, RuleNumber=n, Egress=True)

        with ThreadPoolExecutor(10) as pool:
            list(pool.map(delete, numbers))
        left = [e["RuleNumber"] for e in self.ec2.describe_network_acls(NetworkAclIds=[acl])["NetworkAcls"][0]["Entries"]
                if e["Egress"] and e["RuleNumber"] in numbers]
        self.assertEqual(left, [], "entries left after deleting them all in parallel")
        with self.assertRaises(ClientError) as caught:
            delete(numbers[0])
        self.assertEqual(caught.exception.response["Error"]["Code"], "InvalidNetworkAclEntry.NotFound")


    def test_terminating_a_terminated_instance_is_a_no_op(self):
        image = self.ec2.describe_images()["Images"][0]["ImageId"]
        instance = self.ec2.run_instances(
            ImageId=image, MinCount=1, MaxCount=1, InstanceType="t3.micro",
            NetworkInterfaces=[{"DeviceIndex": 0, "SubnetId": self.subnet, "Groups": [self.sg],
                                "AssociatePublicIpAddress": True}],
        )["Instances"][0]["InstanceId"]
        self.ec2.terminate_instances(InstanceIds=[instance])
        again = self.ec2.terminate_instances(InstanceIds=[instance])["TerminatingInstances"][0]
        self.assertEqual(again["PreviousState"]["Name"], "terminated")

    def test_file_system_policy_can_be_deleted(self):
        efs = self.client("efs")
        fs = efs.create_file_system(CreationToken="policy")["FileSystemId"]
        efs.put_file_system_policy(FileSystemId=fs, Policy='{"Version": "2012-10-17", "Statement": []}')
        efs.delete_file_system_policy(FileSystemId=fs)
        with self.assertRaises(ClientError) as e:
            efs.describe_file_system_policy(FileSystemId=fs)
        self.assertEqual(e.exception.response["Error"]["Code"], "PolicyNotFound")

    def test_revoking_an_unknown_rule_id_says_so_like_aws(self):
        rules = self.ec2.authorize_security_group_egress(GroupId=self.sg, IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 7001, "ToPort": 7001, "IpRanges": [{"CidrIp": "10.7.0.0/16"}]}])
        rule_id = rules["SecurityGroupRules"][0]["SecurityGroupRuleId"]
        self.ec2.revoke_security_group_egress(GroupId=self.sg, SecurityGroupRuleIds=[rule_id])
        with self.assertRaises(ClientError) as e:
            self.ec2.revoke_security_group_egress(GroupId=self.sg, SecurityGroupRuleIds=[rule_id])
        self.assertEqual(e.exception.response["Error"]["Code"], "InvalidSecurityGroupRuleId.NotFound")

    def test_unknown_ids_get_aws_error_codes_not_500(self):
        efs = self.client("efs")
        vpc = self.ec2.describe_subnets(SubnetIds=[self.subnet])["Subnets"][0]["VpcId"]
        acl = self.ec2.create_network_acl(VpcId=vpc)["NetworkAcl"]["NetworkAclId"]
        calls = {
            "InvalidAssociationID.NotFound": lambda: self.ec2.replace_network_acl_association(
                AssociationId="aclassoc-0123456789abcdef0", NetworkAclId=acl),
            "NatGatewayNotFound": lambda: self.ec2.delete_nat_gateway(NatGatewayId="nat-0123456789abcdef0"),
            "InvalidGroup.NotFound": lambda: self.ec2.revoke_security_group_egress(
                GroupId="sg-0123456789abcdef0", SecurityGroupRuleIds=["sgr-0123456789abcdef0"]),
            "FileSystemNotFound": lambda: efs.describe_file_system_policy(FileSystemId="fs-0123456789abcdef0"),
        }
        calls["FileSystemNotFound (put policy)"] = lambda: efs.put_file_system_policy(
            FileSystemId="fs-0123456789abcdef0", Policy='{"Version": "2012-10-17", "Statement": []}')
        calls["FileSystemNotFound (backup policy)"] = lambda: efs.describe_backup_policy(FileSystemId="fs-0123456789abcdef0")
        for want, call in calls.items():
            with self.subTest(want), self.assertRaises(ClientError) as e:
                call()
            self.assertEqual(e.exception.response["Error"]["Code"], want.split(" ")[0])
            self.assertLess(e.exception.response["ResponseMetadata"]["HTTPStatusCode"], 500)

    def test_moving_a_subnet_twice_with_one_association_id_is_not_found(self):
        # What the provider does when it deletes a network ACL: find the subnet's association,
        # then move it to the default ACL. A second move with the same association ID (the SDK
        # repeating a call whose answer it lost) made moto raise StopIteration, an HTTP 500 the
        # provider retried for 17 minutes. AWS answers InvalidAssociationID.NotFound, which the
        # provider takes as "already moved".
        vpc = self.ec2.create_vpc(CidrBlock="10.40.0.0/16")["Vpc"]["VpcId"]
        subnet = self.ec2.create_subnet(VpcId=vpc, CidrBlock="10.40.1.0/24")["Subnet"]["SubnetId"]
        acls = self.ec2.describe_network_acls(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["NetworkAcls"]
        default = acls[0]["NetworkAclId"]
        acl = self.ec2.create_network_acl(VpcId=vpc)["NetworkAcl"]["NetworkAclId"]

        def association():
            found = self.ec2.describe_network_acls(
                Filters=[{"Name": "association.subnet-id", "Values": [subnet]}])["NetworkAcls"]
            self.assertEqual(len(found), 1, found)
            return found[0]["NetworkAclId"], next(
                a["NetworkAclAssociationId"] for a in found[0]["Associations"] if a["SubnetId"] == subnet)

        _, first = association()
        self.ec2.replace_network_acl_association(AssociationId=first, NetworkAclId=acl)
        holder, second = association()
        self.assertEqual(holder, acl)
        self.ec2.replace_network_acl_association(AssociationId=second, NetworkAclId=default)
        with self.assertRaises(ClientError) as e:
            self.ec2.replace_network_acl_association(AssociationId=second, NetworkAclId=default)
        self.assertEqual(e.exception.response["Error"]["Code"], "InvalidAssociationID.NotFound")
        self.assertEqual(association()[0], default)
        # A move to an ACL that does not exist changes nothing (moto dropped the association).
        with self.assertRaises(ClientError) as e:
            self.ec2.replace_network_acl_association(AssociationId=association()[1], NetworkAclId="acl-0123456789abcdef0")
        self.assertEqual(e.exception.response["Error"]["Code"], "InvalidNetworkAclID.NotFound")
        self.assertEqual(association()[0], default)
        self.ec2.delete_network_acl(NetworkAclId=acl)

    def test_engine_lifecycle_support_is_kept(self):
        rds = self.client("rds")
        rds.create_db_instance(DBInstanceIdentifier="lifecycle", DBInstanceClass="db.t3.micro", Engine="mysql",
                               EngineVersion="8.4", MasterUsername="admin", MasterUserPassword="password123",
                               AllocatedStorage=20, EngineLifecycleSupport="open-source-rds-extended-support-disabled")
        rds.create_db_instance(DBInstanceIdentifier="lifecycle-default", DBInstanceClass="db.t3.micro", Engine="mysql",
                               MasterUsername="admin", MasterUserPassword="password123", AllocatedStorage=20)
        got = {d["DBInstanceIdentifier"]: d.get("EngineLifecycleSupport") for d in rds.describe_db_instances()["DBInstances"]}
        self.assertEqual(got["lifecycle"], "open-source-rds-extended-support-disabled")
        self.assertEqual(got["lifecycle-default"], "open-source-rds-extended-support")

    def test_a_role_attaches_the_rds_monitoring_managed_policy(self):
        iam = self.client("iam")
        iam.create_role(RoleName="monitoring", AssumeRolePolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                    "Principal": {"Service": "monitoring.rds.amazonaws.com"}}]}))
        arn = "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"
        iam.attach_role_policy(RoleName="monitoring", PolicyArn=arn)
        attached = iam.list_attached_role_policies(RoleName="monitoring")["AttachedPolicies"]
        self.assertEqual([p["PolicyArn"] for p in attached], [arn])
        # Only the policies the stack attaches are loaded: no other AWS managed policy appears.
        names = sorted(p["PolicyName"] for p in iam.list_policies(Scope="AWS")["Policies"])
        self.assertEqual(names, ["AmazonRDSEnhancedMonitoringRole", "AmazonSSMManagedInstanceCore"])

    def test_an_instance_role_attaches_the_ssm_core_managed_policy(self):
        iam = self.client("iam")
        iam.create_role(RoleName="web", AssumeRolePolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                    "Principal": {"Service": "ec2.amazonaws.com"}}]}))
        arn = "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"
        iam.attach_role_policy(RoleName="web", PolicyArn=arn)
        attached = iam.list_attached_role_policies(RoleName="web")["AttachedPolicies"]
        self.assertEqual([p["PolicyArn"] for p in attached], [arn])

    def test_enhanced_monitoring_is_kept(self):
        rds = self.client("rds")
        role = "arn:aws:iam::123456789012:role/monitoring"
        rds.create_db_instance(DBInstanceIdentifier="monitored", DBInstanceClass="db.t3.micro", Engine="mysql",
                               MasterUsername="webtier_master", MasterUserPassword="password123", AllocatedStorage=20,
                               MonitoringInterval=60, MonitoringRoleArn=role)
        rds.create_db_instance(DBInstanceIdentifier="unmonitored", DBInstanceClass="db.t3.micro", Engine="mysql",
                               MasterUsername="webtier_master", MasterUserPassword="password123", AllocatedStorage=20)
        got = {d["DBInstanceIdentifier"]: (d.get("MonitoringInterval"), d.get("MonitoringRoleArn"))
               for d in rds.describe_db_instances()["DBInstances"]}
        self.assertEqual(got["monitored"], (60, role))
        self.assertEqual(got["unmonitored"], (0, None))

    def test_user_parameters_have_source_user(self):
        rds = self.client("rds")
        rds.create_db_parameter_group(DBParameterGroupName="params", DBParameterGroupFamily="mysql8.4", Description="d")
        rds.modify_db_parameter_group(DBParameterGroupName="params", Parameters=[
            {"ParameterName": "slow_query_log", "ParameterValue": "1", "ApplyMethod": "immediate"}])
        params = rds.describe_db_parameters(DBParameterGroupName="params", Source="user")["Parameters"]
        self.assertEqual([(p["ParameterName"], p.get("Source")) for p in params], [("slow_query_log", "user")])


if __name__ == "__main__":
    unittest.main()


def _wait_answering(endpoint, seconds=30):
    deadline = time.time() + seconds
    while True:
        try:
            urllib.request.urlopen(endpoint + "/moto-api/", timeout=1)
            return
        except OSError:
            if time.time() > deadline:
                raise
            time.sleep(0.2)


def _query(endpoint, service, body, attempt, invocation):
    """One attempt of a query-protocol call, as an SDK sends it; returns the HTTP status."""
    req = urllib.request.Request(endpoint + "/", data=body.encode(), headers={
        "Content-Type": "application/x-www-form-urlencoded",
        "Authorization": f"AWS4-HMAC-SHA256 Credential=test/20261202/{REGION}/{service}/aws4_request, SignedHeaders=host, Signature=x",
        "amz-sdk-request": f"attempt={attempt}; max=3", "amz-sdk-invocation-id": invocation})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status
    except urllib.error.HTTPError as e:
        return e.code


class TraceTest(unittest.TestCase):
    """The lines webtier reads from moto.log: retries with what the first attempt got, and
    every HTTP 500 as JSON naming the action."""

    def run_launcher(self, requests):
        port = _free_port()
        endpoint = f"http://127.0.0.1:{port}"
        with open(os.devnull, "w") as null, subprocess.Popen(
                [sys.executable, LAUNCHER, "-H", "127.0.0.1", "-p", str(port)],
                stdout=null, stderr=subprocess.PIPE, text=True,
                env=dict(os.environ, WEBTIER_EMULATOR_OWNER=str(os.getpid()))) as server:
            try:
                _wait_answering(endpoint)
                statuses = requests(endpoint)
            finally:
                server.terminate()
                _, err = server.communicate(timeout=10)
        return statuses, err.splitlines()

    def test_a_retried_request_is_traced_with_its_action_and_first_answer(self):
        body = "Action=DescribeVpcs&Version=2016-11-15"
        statuses, lines = self.run_launcher(lambda ep: [_query(ep, "ec2", body, a, "inv-7") for a in (1, 2)])
        self.assertEqual(statuses, [200, 200])
        traced = [l for l in lines if " retry " in l and l.startswith("webtier-trace ")]
        self.assertEqual(len(traced), 1, lines[-20:])
        self.assertRegex(traced[0], r"retry ec2 DescribeVpcs attempt=2 invocation=inv-7 answer=200 "
                                    r"\(first answered 200 [0-9.]+s before\)$")

    def test_a_repeated_change_gets_the_first_answer_and_is_not_done_twice(self):
        # The SDK repeating a CreateNetworkAclEntry whose first attempt was carried out (its
        # answer lost): moto answered NetworkAclEntryAlreadyExists and the apply stopped.
        def calls(ep):
            ec2 = boto3.client("ec2", endpoint_url=ep, region_name=REGION, aws_access_key_id="test", aws_secret_access_key="test")
            vpc = ec2.create_vpc(CidrBlock="10.50.0.0/16")["Vpc"]["VpcId"]
            acl = ec2.create_network_acl(VpcId=vpc)["NetworkAcl"]["NetworkAclId"]
            body = (f"Action=CreateNetworkAclEntry&Version=2016-11-15&NetworkAclId={acl}&RuleNumber=100&Protocol=6"
                    "&RuleAction=allow&Egress=true&CidrBlock=10.0.0.0/8&PortRange.From=443&PortRange.To=443")
            statuses = [_query(ep, "ec2", body, a, "inv-acl") for a in (1, 2)]
            entries = [e for e in ec2.describe_network_acls(NetworkAclIds=[acl])["NetworkAcls"][0]["Entries"]
                       if e["RuleNumber"] == 100 and e["Egress"]]
            # A new invocation of the same change is a new call: AWS refuses it.
            statuses.append(_query(ep, "ec2", body, 1, "inv-acl-again"))
            return statuses, len(entries)
        (statuses, entries), lines = self.run_launcher(calls)
        self.assertEqual(statuses, [200, 200, 400])
        self.assertEqual(entries, 1)
        replayed = [l for l in lines if "retry ec2 CreateNetworkAclEntry attempt=2 invocation=inv-acl" in l]
        self.assertEqual(len(replayed), 1, lines[-20:])
        self.assertIn("the first attempt's answer again", replayed[0])

    def test_a_500_is_traced_as_json_naming_the_action(self):
        # moto 5.2.1 has no DescribeTrafficSources: a real 500 of moto's.
        body = "Action=DescribeTrafficSources&Version=2011-01-01&AutoScalingGroupName=web"
        statuses, lines = self.run_launcher(lambda ep: [_query(ep, "autoscaling", body, 1, "inv-9")])
        self.assertEqual(statuses, [500])
        errors = [json.loads(l[len("webtier-trace 500 "):]) for l in lines if l.startswith("webtier-trace 500 ")]
        self.assertEqual(len(errors), 1, lines[-20:])
        self.assertEqual((errors[0]["action"], errors[0]["attempt"], errors[0]["invocation"]),
                         ("autoscaling DescribeTrafficSources", 1, "inv-9"))
        self.assertIn("NotImplementedError", errors[0]["exception"])
        self.assertTrue(errors[0]["traceback"], errors[0])


class OwnerTest(unittest.TestCase):
    def test_the_emulator_ends_with_its_owner(self):
        # The owner starts the launcher with WEBTIER_EMULATOR_OWNER set to its own PID, as
        # webtier's tests do, and is then killed, as a test binary at its timeout is.
        port = _free_port()
        endpoint = f"http://127.0.0.1:{port}"
        owner = subprocess.Popen([sys.executable, "-c", (
            "import os, subprocess, sys, time\n"
            f"subprocess.Popen([sys.executable, {LAUNCHER!r}, '-H', '127.0.0.1', '-p', '{port}'],"
            " stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,"
            " env=dict(os.environ, WEBTIER_EMULATOR_OWNER=str(os.getpid())))\n"
            "time.sleep(600)\n")])
        try:
            _wait_answering(endpoint)
        finally:
            owner.kill()
            owner.wait(10)
        deadline = time.time() + 15
        while time.time() < deadline:
            try:
                urllib.request.urlopen(endpoint + "/moto-api/", timeout=1)
            except OSError:
                return
            time.sleep(0.2)
        self.fail(f"the emulator on {endpoint} still answers 15 s after its owner was killed")


class RuleChangesTest(unittest.TestCase):
    """Parallel changes of one group's rules, in this process, with threads switching as often
    as Python allows: every revoked rule stays revoked and every authorized rule stays."""

    def test_parallel_changes_of_one_group_are_atomic(self):
        sys.path.insert(0, os.path.dirname(LAUNCHER))
        import moto_server  # noqa: F401  (applies the launcher's patches to moto in this process)
        from moto.ec2.models import ec2_backends

        backend = ec2_backends["123456789012"][REGION]
        vpc = backend.create_vpc("10.0.0.0/16").id
        interval = sys.getswitchinterval()
        sys.setswitchinterval(1e-6)
        try:
            for trial in range(300):
                group = backend.create_security_group(f"atomic-{trial}", "d", vpc_id=vpc)
                revoked = []
                for port in range(1000, 1006):
                    rules, _ = backend.authorize_security_group_egress(
                        group.id, "tcp", str(port), str(port), [{"CidrIp": "10.0.0.0/8"}], vpc_id=vpc)
                    revoked.append(rules[0].id)
                start = threading.Barrier(8)
                added = []

                def revoke(rule_id):
                    start.wait()
                    backend.revoke_security_group_egress(
                        group.id, None, None, None, [], security_rule_ids=[rule_id], vpc_id=vpc)

                def authorize(port):
                    start.wait()
                    rules, _ = backend.authorize_security_group_egress(
                        group.id, "tcp", str(port), str(port), [{"CidrIp": "10.0.0.0/8"}], vpc_id=vpc)
                    added.append(rules[0].id)

                threads = [threading.Thread(target=revoke, args=(r,)) for r in revoked]
                threads += [threading.Thread(target=authorize, args=(p,)) for p in (2000, 2001)]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join()
                held = {r.id for r in group.egress_rules}
                self.assertFalse(held & set(revoked), f"trial {trial}: revoked rules came back")
                self.assertEqual(held & set(added), set(added), f"trial {trial}: an authorized rule was lost")
        finally:
            sys.setswitchinterval(interval)

