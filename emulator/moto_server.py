"""Starts moto_server (a local AWS API emulator) with the fixes the web tier needs.

Arguments are moto_server's: -H 127.0.0.1 -p PORT.

Each patch below is small and says what moto 5.2.1 does wrong and what AWS does. Together they
make `terraform apply` of the web tier succeed, a second `terraform plan` come back empty, and
`terraform destroy` clean up. Provider settings that go with this launcher: dummy keys,
skip_credentials_validation, skip_metadata_api_check, s3_use_path_style and an endpoints block,
but NOT skip_requesting_account_id: the provider must learn the account ID (123456789012) from
moto's STS, or it reads every SG-to-SG rule back as `123456789012/sg-...` (a cross-account
reference) and plans to change it.
"""
import copy
import json
import os
import re
import sys
import traceback
from moto.autoscaling import models as autoscaling_models
from moto.autoscaling.responses import AutoScalingResponse
from moto.core.types import Base64EncodedString
import threading
import time

from moto.ec2.exceptions import EC2ClientError, InvalidSecurityGroupRuleIdNotFoundError
from moto.rds import models as rds_models
from moto.ec2.models import instances, launch_templates, managed_prefixes, nat_gateways, network_acls, security_groups
from moto.ec2.responses.instances import InstanceResponse
from moto.ec2.responses.launch_templates import LaunchTemplates
from moto.ec2.responses.nat_gateways import NatGateways
from moto.efs import models as efs_models
from moto.efs.responses import EFSResponse
from moto.core.responses import BaseResponse

# --- EC2 launch templates -------------------------------------------------------------------

# moto stores UserData that arrives through the EC2 API as a plain string, and the property then
# fails an assertion (HTTP 500, which the AWS provider retries for 10 minutes) when an Auto
# Scaling group launches from the template. AWS keeps it as the base64 text it was given.
_user_data = launch_templates.LaunchTemplateVersion.user_data.fget


def _wrapped_user_data(self):
    value = self.data.get("UserData")
    if isinstance(value, str):
        self.data["UserData"] = Base64EncodedString(value)
    return _user_data(self)


launch_templates.LaunchTemplateVersion.user_data = property(_wrapped_user_data)

# moto copies CreateLaunchTemplate's own TagSpecifications (ResourceType launch-template, the tags
# of the template itself) into version 1's LaunchTemplateData.TagSpecifications. AWS tags only the
# template with them; the version's data keeps just the tag specifications given inside
# LaunchTemplateData (instance, volume, ...). Terraform otherwise sees a stray
# `tag_specifications { resource_type = "launch-template" }` block and wants a new version.
_create_launch_template = LaunchTemplates.create_launch_template


def _create_launch_template_without_own_tags(self):
    result = _create_launch_template(self)
    template = self.ec2_backend.get_launch_template_by_name(self._get_param("LaunchTemplateName"))
    for version in template.versions:
        specs = version.data.get("TagSpecifications")
        if specs is None:
            continue
        kept = [s for s in specs if s.get("ResourceType") != "launch-template"]
        if kept:
            version.data["TagSpecifications"] = kept
        else:
            del version.data["TagSpecifications"]
    return result


LaunchTemplates.create_launch_template = _create_launch_template_without_own_tags

# --- EC2 client tokens ----------------------------------------------------------------------

# The AWS SDK fills ClientToken (an idempotency token) for the EC2 actions that take one, and
# reuses it when it retries a request whose answer it did not get. AWS answers a repeat with the
# same token with the first request's result ("Ensuring idempotency in Amazon EC2 API
# requests"). moto ignores the token and does the action again: a retried CreateLaunchTemplate
# fails with InvalidLaunchTemplateName.AlreadyExistsException (seen in a `make deploy` on a
# loaded machine), a retried RunInstances or CreateNatGateway makes a second one.
_client_tokens = {}
_client_tokens_lock = threading.Lock()


def _idempotent(action, method):
    def once_per_token(self):
        token = self._get_param("ClientToken")
        if not token:
            return method(self)
        key = (action, self.current_account, self.region, token)
        with _client_tokens_lock:
            if key not in _client_tokens:
                _client_tokens[key] = method(self)
            return _client_tokens[key]

    return once_per_token


for _cls, _name in [(LaunchTemplates, "create_launch_template"), (LaunchTemplates, "create_launch_template_version"),
                    (NatGateways, "create_nat_gateway"), (InstanceResponse, "run_instances")]:
    setattr(_cls, _name, _idempotent(_name, getattr(_cls, _name)))

# --- EC2 instances --------------------------------------------------------------------------

# Two fixes to the network interfaces an instance is launched with:
# - When the security groups arrive inside NetworkInterfaces (the provider does that for an
#   instance with associate_public_ip_address), moto puts them on the primary ENI only and
#   reports no SecurityGroups for the instance. AWS reports the primary ENI's groups as the
#   instance's SecurityGroups as well.
# - moto marks an ENI that RunInstances creates DeleteOnTermination only when the request says
#   so literally, so terminated instances (bastions, ASG members) leave their ENIs behind after
#   `terraform destroy`. AWS defaults DeleteOnTermination to true for the ENIs it creates at
#   launch and deletes them with the instance; an attached existing ENI (NetworkInterfaceId) or
#   an explicit DeleteOnTermination=false stays.
_prep_nics = instances.Instance.prep_nics


def _prep_nics_like_aws(self, nic_spec, *args, **kwargs):
    _prep_nics(self, nic_spec, *args, **kwargs)
    primary = self.nics.get(0)
    if not self.security_groups and primary is not None:
        self.security_groups = list(primary._group_set)
    specs = {int(spec.get("DeviceIndex", 0)): spec for spec in nic_spec}
    for device_index, eni in self.nics.items():
        spec = specs.get(device_index, {})
        kept = str(spec.get("DeleteOnTermination", True)).lower() == "false"
        if "NetworkInterfaceId" not in spec and not kept:
            eni.delete_on_termination = True


instances.Instance.prep_nics = _prep_nics_like_aws

# With the ENIs deleted on termination, a second TerminateInstances of the same instance (the
# provider retries, and Auto Scaling terminates too) tries to delete them again and fails with
# InvalidNetworkInterfaceID.NotFound. AWS treats terminating a terminated instance as a no-op.
_terminate = instances.Instance.terminate


def _terminate_once(self):
    if self._state.name == "terminated":
        return copy.copy(self._state)
    return _terminate(self)


instances.Instance.terminate = _terminate_once

# --- EC2 NAT gateways -----------------------------------------------------------------------

# moto marks a deleted NAT gateway "deleted" but keeps its network interface, with the Elastic IP
# still associated. AWS deletes the NAT gateway's ENI and disassociates its Elastic IP.
_delete_nat_gateway = nat_gateways.NatGatewayBackend.delete_nat_gateway


def _delete_nat_gateway_and_eni(self, nat_gateway_id):
    if nat_gateway_id not in self.nat_gateways:
        # moto fails on the missing gateway (an HTTP 500); AWS answers NatGatewayNotFound.
        raise EC2ClientError("NatGatewayNotFound", f"The Nat Gateway {nat_gateway_id} was not found")
    nat_gateway = _delete_nat_gateway(self, nat_gateway_id)
    eni = nat_gateway._eni
    if eni.id in self.enis:
        for eip in [a for a in self.addresses if a.eni is eni]:
            self.disassociate_address(address=eip.public_ip)
        eni.delete()
    return nat_gateway


nat_gateways.NatGatewayBackend.delete_nat_gateway = _delete_nat_gateway_and_eni

# --- EC2 security group rules ---------------------------------------------------------------

# moto reads a rule's Description only from its CIDR range, so a rule that references another
# security group (Description inside UserIdGroupPairs) or a prefix list (inside PrefixListIds,
# of which moto keeps only the ID) comes back from DescribeSecurityGroupRules without one. AWS
# returns the description of every rule, whatever its peer.
_rule_description = security_groups.SecurityGroupRule.description.fget
_rule_init = security_groups.SecurityGroupRule.__init__


def _rule_init_keeping_list_description(self, ec2_backend, ip_protocol, group_id, from_port, to_port, ip_range,
                                        source_group=None, prefix_list_id=None, *args, **kwargs):
    _rule_init(self, ec2_backend, ip_protocol, group_id, from_port, to_port, ip_range, source_group, prefix_list_id,
               *args, **kwargs)
    self.prefix_list_description = (prefix_list_id or {}).get("Description")


def _rule_description_any_peer(self):
    return (_rule_description(self) or self.source_group.get("Description")
            or getattr(self, "prefix_list_description", None))


security_groups.SecurityGroupRule.__init__ = _rule_init_keeping_list_description
security_groups.SecurityGroupRule.description = property(_rule_description_any_peer)

# Two fixes to how moto changes a group's rules:
# - moto revokes by reading the group's rule list, building a new list without the rule and
#   assigning it back; it authorizes by appending. Two requests on one group at once (the
#   provider deletes ten rules in parallel) interleave: the later assignment brings back a rule
#   the other request just revoked, or drops one it just authorized (a test reproduces both).
#   AWS applies each change whole. Every change and read of security-group rules now holds one
#   lock, which also keeps DescribeSecurityGroupRules from iterating a dict that a parallel
#   DeleteSecurityGroup changes (an HTTP 500).
# - A revoke naming a rule ID the group does not hold: moto answers InvalidPermission.NotFound,
#   the answer to a revoke by permission. AWS answers InvalidSecurityGroupRuleId.NotFound, which
#   the provider takes as "already deleted" (a delete it repeats, a rule that is gone).
_sg_rules_lock = threading.RLock()


def _serialized(method, lock=_sg_rules_lock):
    def locked(self, *args, **kwargs):
        with lock:
            return method(self, *args, **kwargs)

    return locked


def _trace(what, group, rule_ids, outcome):
    """One line on moto.log per change of a group's rules, so that a failed deploy cycle shows
    what the emulator was asked and answered."""
    print(f"webtier-trace {time.time():.3f} {what} {group} {','.join(rule_ids or []) or '-'}: {outcome}",
          file=sys.stderr, flush=True)


def _traced_authorize(authorize, what):
    def authorize_traced(self, group_name_or_id, *args, **kwargs):
        rules, group = authorize(self, group_name_or_id, *args, **kwargs)
        _trace(what, group_name_or_id, [r.id for r in rules], "authorized")
        return rules, group

    return authorize_traced


security_groups.SecurityGroupBackend.authorize_security_group_ingress = _traced_authorize(
    security_groups.SecurityGroupBackend.authorize_security_group_ingress, "AuthorizeSecurityGroupIngress")
security_groups.SecurityGroupBackend.authorize_security_group_egress = _traced_authorize(
    security_groups.SecurityGroupBackend.authorize_security_group_egress, "AuthorizeSecurityGroupEgress")

for _name in (
    "authorize_security_group_ingress",
    "authorize_security_group_egress",
    "modify_security_group_rules",
    "update_security_group_rule_descriptions_ingress",
    "update_security_group_rule_descriptions_egress",
    "describe_security_group_rules",
    "delete_security_group",
):
    setattr(security_groups.SecurityGroupBackend, _name, _serialized(getattr(security_groups.SecurityGroupBackend, _name)))


def _revoke_by_known_ids(revoke, rules_of, what):
    def revoke_like_aws(self, group_name_or_id, *args, security_rule_ids=None, vpc_id=None, **kwargs):
        with _sg_rules_lock:
            group = self.get_security_group_by_name_or_id(group_name_or_id, vpc_id)
            if group is not None:
                held = {rule.id for rule in rules_of(group)}
                for rule_id in security_rule_ids or []:
                    if rule_id not in held:
                        _trace(what, group_name_or_id, security_rule_ids, "InvalidSecurityGroupRuleId.NotFound")
                        raise InvalidSecurityGroupRuleIdNotFoundError(rule_id)
            try:
                out = revoke(self, group_name_or_id, *args, security_rule_ids=security_rule_ids, vpc_id=vpc_id, **kwargs)
            except EC2ClientError as e:
                _trace(what, group_name_or_id, security_rule_ids, e.code)
                raise
            _trace(what, group_name_or_id, security_rule_ids, "revoked")
            return out

    return revoke_like_aws


security_groups.SecurityGroupBackend.revoke_security_group_ingress = _revoke_by_known_ids(
    security_groups.SecurityGroupBackend.revoke_security_group_ingress, lambda g: g.ingress_rules, "RevokeSecurityGroupIngress")
security_groups.SecurityGroupBackend.revoke_security_group_egress = _revoke_by_known_ids(
    security_groups.SecurityGroupBackend.revoke_security_group_egress, lambda g: g.egress_rules, "RevokeSecurityGroupEgress")

# --- Auto Scaling policies ------------------------------------------------------------------

# moto drops PutScalingPolicy's Enabled, so DescribePolicies omits it and the provider reads
# false. AWS keeps the flag (default true) and returns it.
_put_scaling_policy = AutoScalingResponse.put_scaling_policy


def _put_scaling_policy_enabled(self):
    result = _put_scaling_policy(self)
    policy = self.autoscaling_backend.policies[self._get_param("PolicyName")]
    policy.enabled = self._get_bool_param("Enabled", True)
    return result


AutoScalingResponse.put_scaling_policy = _put_scaling_policy_enabled
autoscaling_models.FakeScalingPolicy.enabled = True  # AWS's default for a policy made otherwise

# moto stores an absent PredictiveScalingConfiguration as {} and returns it as an empty element,
# so a target-tracking policy reads back with an empty predictive_scaling_configuration block.
# AWS returns PredictiveScalingConfiguration only for a PredictiveScaling policy.
_scaling_policy_init = autoscaling_models.FakeScalingPolicy.__init__


def _scaling_policy_init_without_empty_predictive(self, *args, **kwargs):
    _scaling_policy_init(self, *args, **kwargs)
    if not self.predictive_scaling_configuration:
        self.predictive_scaling_configuration = None


autoscaling_models.FakeScalingPolicy.__init__ = _scaling_policy_init_without_empty_predictive

# moto 5.2.1 drops DefaultInstanceWarmup (CreateAutoScalingGroup, UpdateAutoScalingGroup), so
# DescribeAutoScalingGroups omits it and every plan after the first updates the group's
# default_instance_warmup again. AWS keeps it and returns it.
_create_auto_scaling_group = AutoScalingResponse.create_auto_scaling_group
_update_auto_scaling_group = AutoScalingResponse.update_auto_scaling_group


def _keep_default_instance_warmup(update):
    def call(self):
        result = update(self)
        warmup = self._get_int_param("DefaultInstanceWarmup")
        group = self.autoscaling_backend.autoscaling_groups.get(self._get_param("AutoScalingGroupName"))
        if group is not None and warmup is not None:
            group.default_instance_warmup = warmup
        return result
    return call


AutoScalingResponse.create_auto_scaling_group = _keep_default_instance_warmup(_create_auto_scaling_group)
AutoScalingResponse.update_auto_scaling_group = _keep_default_instance_warmup(_update_auto_scaling_group)

# --- EFS ------------------------------------------------------------------------------------


def _put_backup_policy(self):
    """EFS PutBackupPolicy, which moto 5.2.1 lacks (aws_efs_backup_policy waits on it)."""
    file_system_id = self._get_param("FileSystemId")
    status = (self._get_param("BackupPolicy") or {}).get("Status", "DISABLED")
    self.efs_backend.describe_file_systems(file_system_id=file_system_id)  # 404s an unknown ID
    file_system = self.efs_backend.file_systems_by_id[file_system_id]
    file_system._backup = status in ("ENABLED", "ENABLING")
    file_system._backup_policy_put = True
    policy = {"Status": "ENABLED" if file_system._backup else "DISABLED"}
    return json.dumps({"BackupPolicy": policy}), {"Content-Type": "application/json"}


EFSResponse.put_backup_policy = _put_backup_policy

# moto's DescribeBackupPolicy answers PolicyNotFound whenever backups are off. AWS does that only
# for a file system that never had a backup policy; once PutBackupPolicy set DISABLED it returns
# {"Status": "DISABLED"}, and `terraform destroy` of aws_efs_backup_policy waits for exactly that.
_backup_policy = efs_models.FileSystem.backup_policy.fget


def _backup_policy_disabled_once_put(self):
    if not self._backup and getattr(self, "_backup_policy_put", False):
        return {"Status": "DISABLED"}
    return _backup_policy(self)


efs_models.FileSystem.backup_policy = property(_backup_policy_disabled_once_put)

# moto 5.2.1 has PutFileSystemPolicy and DescribeFileSystemPolicy but no
# DeleteFileSystemPolicy: `terraform destroy` of aws_efs_file_system_policy then waits until
# its timeout. AWS deletes the policy; DescribeFileSystemPolicy answers PolicyNotFound after.
def _delete_file_system_policy(self):
    file_system_id = self._get_param("FileSystemId")
    self.efs_backend.describe_file_systems(file_system_id=file_system_id)  # 404s an unknown ID
    self.efs_backend.file_systems_by_id[file_system_id].file_system_policy = None
    return "{}", {"Content-Type": "application/json"}


EFSResponse.delete_file_system_policy = _delete_file_system_policy

# --- EC2 network ACL entries -------------------------------------------------------------------

# moto finds the entry to delete by iterating the NACL's list while other request threads remove
# entries from it (the provider deletes ten at a time): the iteration can skip the entry, and a
# missing entry raises StopIteration, an HTTP 500 the provider retries until its timeout. AWS
# answers a missing entry with InvalidNetworkAclEntry.NotFound, which the provider takes as
# deleted. Entries are now looked up in a snapshot, under a lock.
_acl_entries_lock = threading.Lock()


class InvalidNetworkAclEntryNotFound(EC2ClientError):
    def __init__(self, network_acl_id, rule_number, egress):
        direction = "egress" if egress else "ingress"
        super().__init__(
            "InvalidNetworkAclEntry.NotFound",
            f"The network acl entry identified by {rule_number} ({direction}) does not exist in {network_acl_id}",
        )


def _delete_network_acl_entry_safely(self, network_acl_id, rule_number, egress):
    network_acl = self.get_network_acl(network_acl_id)
    with _acl_entries_lock:
        for entry in list(network_acl.network_acl_entries):
            if entry.egress == egress and entry.rule_number == rule_number:
                network_acl.network_acl_entries.remove(entry)
                return entry
    raise InvalidNetworkAclEntryNotFound(network_acl_id, rule_number, egress)


network_acls.NetworkAclBackend.delete_network_acl_entry = _delete_network_acl_entry_safely

# --- RDS -------------------------------------------------------------------------------------

# moto drops CreateDBInstance's EngineLifecycleSupport, so DescribeDBInstances omits it and the
# provider plans to set it again on every plan. AWS keeps it (default
# open-source-rds-extended-support: the instance is enrolled in RDS Extended Support) and
# returns it.
_db_instance_init = rds_models.DBInstance.__init__


def _db_instance_init_with_lifecycle(self, *args, **kwargs):
    _db_instance_init(self, *args, **kwargs)
    self.engine_lifecycle_support = kwargs.get("engine_lifecycle_support") or "open-source-rds-extended-support"


rds_models.DBInstance.__init__ = _db_instance_init_with_lifecycle

# moto drops CreateDBInstance's MonitoringInterval and MonitoringRoleArn (enhanced monitoring):
# DescribeDBInstances answers an interval of 0 and no role, and the provider plans to turn
# monitoring on again on every plan. AWS keeps both and returns them.
_db_instance_init_lifecycle = rds_models.DBInstance.__init__


def _db_instance_init_with_monitoring(self, *args, **kwargs):
    _db_instance_init_lifecycle(self, *args, **kwargs)
    self.monitoring_interval = int(kwargs.get("monitoring_interval") or 0)
    self.monitoring_role_arn = kwargs.get("monitoring_role_arn") if self.monitoring_interval else None


rds_models.DBInstance.__init__ = _db_instance_init_with_monitoring

# moto returns the parameters set by ModifyDBParameterGroup without their Source, and the
# provider keeps only those whose Source is "user": every plan wants to set them again. AWS
# reports a parameter a user set with Source "user".
_update_parameters = rds_models.DBParameterGroup.update_parameters


def _update_parameters_from_user(self, new_parameters):
    new_parameters = list(new_parameters)
    _update_parameters(self, new_parameters)
    for p in new_parameters:
        self.parameters[p["ParameterName"]]["Source"] = "user"


rds_models.DBParameterGroup.update_parameters = _update_parameters_from_user

# --- EC2 managed prefix lists ---------------------------------------------------------------

# AWS's prefix list com.amazonaws.REGION.s3 holds Amazon S3's address ranges in that region (the
# ones ip-ranges.json publishes for service S3 there): an S3 gateway endpoint routes it, and a
# security-group rule naming it allows exactly those addresses. moto 5.2.1 fills every region's
# list with the same three ranges (52.216.0.0/15, 3.5.0.0/19, 54.231.0.0/16), none of them
# ap-northeast-2's, so a stack read back would judge its downloads against the wrong ranges. The
# launcher fills the list with the ranges WEBTIER_S3_RANGES gives for the region (a JSON object,
# region -> CIDRs; webtier passes its repo_cidrs, the region's S3 ranges), and keeps moto's
# for the regions it does not name.
_S3_RANGES = json.loads(os.environ.get("WEBTIER_S3_RANGES") or "{}")
_create_aws_managed_prefix_list = managed_prefixes.ManagedPrefixListBackend._create_aws_managed_prefix_list


def _aws_managed_prefix_list_of_the_region(self, name, address_family, entries):
    ranges = _S3_RANGES.get(getattr(self, "region_name", ""))
    if ranges and name == f"com.amazonaws.{self.region_name}.s3":
        entries = [{"Cidr": cidr, "Description": "Amazon S3"} for cidr in ranges]
    return _create_aws_managed_prefix_list(self, name, address_family, entries)


managed_prefixes.ManagedPrefixListBackend._create_aws_managed_prefix_list = _aws_managed_prefix_list_of_the_region

# DescribePrefixLists answers each AWS-managed list with its Cidrs on AWS (the provider reads
# them into aws_vpc_endpoint.cidr_blocks); moto 5.2.1 leaves Cidrs out. They are the CIDRs of
# the list's latest entries, as GetManagedPrefixListEntries gives them.
managed_prefixes.ManagedPrefixList.cidrs = property(
    lambda self: [e["Cidr"] for e in (list(self.entries.values())[-1] if self.entries else [])])

# --- EC2 network ACL associations -----------------------------------------------------------

# moto's ReplaceNetworkAclAssociation looks for the ACL holding the association with next() and
# no default, so an association ID that no ACL holds raises StopIteration: an HTTP 500, which
# the provider's SDK retried for 17 minutes (a CI run of the deploy cycle hung on it). It also
# removes the old association before it looks up the new ACL, so an unknown NetworkAclId left
# the subnet with no ACL at all. AWS answers InvalidAssociationID.NotFound (which the provider
# takes, when it moves a subnet back to the default ACL, as "already moved") or
# InvalidNetworkAclID.NotFound, and changes nothing. Both are now checked first, and the move
# is one step under a lock with the other changes of associations.
_acl_associations_lock = threading.RLock()
_replace_network_acl_association = network_acls.NetworkAclBackend.replace_network_acl_association


def _replace_network_acl_association_like_aws(self, association_id, network_acl_id):
    with _acl_associations_lock:
        self.get_network_acl(network_acl_id)  # InvalidNetworkAclID.NotFound
        if not any(association_id in acl._associations for acl in list(self.network_acls.values())):
            raise EC2ClientError("InvalidAssociationID.NotFound",
                                 f"The association ID '{association_id}' does not exist")
        return _replace_network_acl_association(self, association_id, network_acl_id)


network_acls.NetworkAclBackend.replace_network_acl_association = _replace_network_acl_association_like_aws
for _name in ("delete_network_acl", "associate_default_network_acl_with_subnet"):
    setattr(network_acls.NetworkAclBackend, _name,
            _serialized(getattr(network_acls.NetworkAclBackend, _name), _acl_associations_lock))

# --- EFS policies of an unknown file system ---------------------------------------------------

# moto's DescribeFileSystemPolicy, PutFileSystemPolicy and DescribeBackupPolicy index the file
# systems by ID without a check: an unknown ID raises KeyError, an HTTP 500. AWS answers
# FileSystemNotFound (HTTP 404), which the provider takes as "gone" when it reads or deletes.


def _known_file_system(method):
    def file_system_not_found_like_aws(self):
        self.efs_backend.describe_file_systems(file_system_id=self._get_param("FileSystemId"))  # FileSystemNotFound
        return method(self)

    return file_system_not_found_like_aws


for _name in ("describe_file_system_policy", "put_file_system_policy", "describe_backup_policy"):
    setattr(EFSResponse, _name, _known_file_system(getattr(EFSResponse, _name)))

# --- Every request: errors and retries ----------------------------------------------------------

# An HTTP 500 is moto failing, never an answer AWS gives for the stack's calls: webtier's deploy
# session watches moto.log for the line below and stops terraform at the first one, naming the
# action, instead of letting the SDK retry it for minutes. The line is JSON after the prefix:
# service, action, attempt, invocation, the exception and the last lines of its traceback.
#
# The AWS SDKs number each attempt of a call in the amz-sdk-request header ("attempt=2; max=3")
# and keep one amz-sdk-invocation-id across its attempts. The provider's SDK sometimes repeats a
# call 0.1 s after the emulator carried out and answered its first attempt (the answer is lost
# on the way back; a soak shows a dozen in 10 cycles): a second CreateNetworkAclEntry then
# fails with NetworkAclEntryAlreadyExists and stops the apply, a second
# ReplaceNetworkAclAssociation names an association that is gone. AWS delivers its answers; a
# repeat of a call that changed something and succeeded now gets the first attempt's answer
# again, and is not carried out twice (reads are carried out again). Every attempt after the
# first gets a retry line, with the action and what the first attempt got and when.
ERROR_TRACE = "webtier-trace 500 "
_first_answers = {}  # invocation ID -> (action, HTTP status, time); the newest 10000 kept
_first_answers_lock = threading.Lock()
_call_action = BaseResponse.call_action


def _attempt(headers):
    m = re.search(r"attempt=(\d+)", headers.get("amz-sdk-request", "") or "")
    return int(m.group(1)) if m else 0


def _changes(action):
    """Whether an action changes something: a read is simply carried out again."""
    name = action.split(" ", 1)[1]
    return not name.startswith(("Describe", "List", "Get"))


def _call_action_traced(self):
    service = self.service_name or type(self).__module__.split(".")[1]
    action = f"{service} {self._get_action() or self.path}"
    attempt, invocation = _attempt(self.headers), self.headers.get("amz-sdk-invocation-id", "-")
    with _first_answers_lock:
        first = _first_answers.get(invocation) if attempt > 1 else None
    if first and first[3] is not None and first[0] == action:
        # The first attempt was carried out and answered; its answer did not reach the SDK.
        print(f"webtier-trace {time.time():.3f} retry {action} attempt={attempt} invocation={invocation} answer={first[1]}"
              f" (the first attempt's answer again: it was carried out {time.time() - first[2]:.1f}s before)",
              file=sys.stderr, flush=True)
        return first[3]
    try:
        status, headers, body = _call_action(self)
    except Exception as e:
        print(ERROR_TRACE + json.dumps({
            "action": action, "attempt": attempt, "invocation": invocation,
            "exception": "".join(traceback.format_exception_only(e)).strip(),
            "traceback": traceback.format_exc().strip().splitlines()[-12:],
        }), file=sys.stderr, flush=True)
        raise
    now = time.time()
    with _first_answers_lock:
        if attempt == 1:
            done = (status, copy.copy(headers), body) if status < 300 and _changes(action) else None
            _first_answers[invocation] = (action, status, now, done)
            if len(_first_answers) > 10000:
                del _first_answers[next(iter(_first_answers))]
        first = _first_answers.get(invocation)
    if attempt > 1:
        first_said = f"first answered {first[1]} {now - first[2]:.1f}s before" if first else "first attempt not seen"
        print(f"webtier-trace {now:.3f} retry {action} attempt={attempt} invocation={invocation} answer={status}"
              f" ({first_said})", file=sys.stderr, flush=True)
    return status, headers, body


BaseResponse.call_action = _call_action_traced

# --- IAM AWS managed policies ---------------------------------------------------------------

# AWS holds its managed policies in every account: a role can attach
# arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole (the database's
# monitoring role does) or arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore (the instance
# roles do with access ssm or both) without creating it. moto 5.2.1 loads none unless told to load all of
# them (MOTO_IAM_LOAD_MANAGED_POLICIES, ~1000 policies in every account's backend), and
# AttachRolePolicy then answers NoSuchEntity. The launcher loads, from moto's own copy of AWS's
# managed policies, the ones the stack attaches.
from moto.iam import models as iam_models
from moto.iam.aws_managed_policies import aws_managed_policies_data

STACK_MANAGED_POLICIES = ("AmazonRDSEnhancedMonitoringRole", "AmazonSSMManagedInstanceCore")
_init_aws_policies = iam_models.IAMBackend._init_aws_policies


def _init_aws_policies_the_stack_attaches(self):
    loaded = _init_aws_policies(self)
    if loaded:
        return loaded  # moto was told to load them all
    data = json.loads(aws_managed_policies_data)
    return [iam_models.AWSManagedPolicy.from_data(name, self.account_id, self.region_name, data[name])
            for name in STACK_MANAGED_POLICIES]


iam_models.IAMBackend._init_aws_policies = _init_aws_policies_the_stack_attaches

# --- Owner ----------------------------------------------------------------------------------

# With WEBTIER_EMULATOR_OWNER=PID (the process that started the launcher), the emulator ends
# when that process does, however it ends (a test killed by its timeout, a CI run killed from
# outside): nothing is left running. Without it, the emulator outlives the command that started
# it (`webtier deploy`, then `webtier destroy` stops it).
OWNER_ENV = "WEBTIER_EMULATOR_OWNER"


def _end_with_owner(owner):
    while os.getppid() == owner:
        time.sleep(0.5)
    print(f"webtier-trace {time.time():.3f} owner {owner} is gone: the emulator stops", file=sys.stderr, flush=True)
    os._exit(0)


if os.environ.get(OWNER_ENV):
    threading.Thread(target=_end_with_owner, args=(int(os.environ[OWNER_ENV]),), daemon=True).start()


if __name__ == "__main__":
    from moto.server import main

    main(sys.argv[1:])
