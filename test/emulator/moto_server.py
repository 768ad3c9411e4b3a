"""moto_server for k3sctl's emulator tests, with the harness-only workarounds listed below.

Usage: python3 moto_server.py PORT

Each workaround corrects a place where moto 5.2.1 differs from AWS's documented behaviour. They live
here, in the test harness, and never in k3sctl. Each names the moto source it patches.

1. EC2 CreateLaunchTemplateVersion stores LaunchTemplateData.UserData unparsed (a str, where
   CreateLaunchTemplate stores a Base64EncodedString), so launching an instance from version 2 or
   later fails with HTTP 500.            moto/ec2/responses/launch_templates.py create_launch_template_version
3. ACM InUseBy gets the listener's ARN when an HTTPS listener is created, and the entry is never
   removed when the listener or its load balancer is deleted, so the certificate stays "in use" for
   good. The harness drops entries naming listeners that no longer exist whenever a certificate is
   read.            moto/elbv2/models.py create_listener -> moto/elb/models.py register_certificate
4. An Auto Scaling instance's LaunchTemplate.Version is reported as the template's *default* version,
   not the version the instance was launched from, so every instance looks up to date after a new
   version (recycle and upgrade then replace nothing). The harness records the version the group
   launched the instance from.          moto/autoscaling/models.py InstanceState.launch_template
2. Auto Scaling CreateAutoScalingGroup ignores LifecycleHookSpecificationList: the hooks AWS creates
   with the group are never created.    moto/autoscaling/responses.py create_auto_scaling_group
5. Service Quotas knows only the `vpc` service: GetServiceQuota of EC2's Running On-Demand Standard
   instances (ec2 / L-1216C47A, in vCPUs), which every AWS account has, raises NoSuchResource. The
   harness answers it with an applied value of K3SCTL_MOTO_EC2_VCPU_QUOTA (default 1152), so the quota
   check of `doctor` and of `cluster create` runs against moto too.
                                        moto/servicequotas/models.py get_service_quota

Lacking entirely in moto (no workaround; the tests skip just the assertion that needs it and say so):
SSM Run Command output (SendCommand never produces output); IMDS options and instance profiles of a
launch template applied to Auto Scaling instances, ASG instances spread over the group's subnets.
"""

import sys

from moto.core.types import Base64EncodedString
from moto.ec2.responses.launch_templates import LaunchTemplates
from moto.ec2.utils import parse_user_data
from moto.autoscaling.responses import AutoScalingResponse


def patch_launch_template_version_user_data() -> None:
    original = LaunchTemplates.create_launch_template_version

    def create_launch_template_version(self):  # type: ignore[no-untyped-def]
        get_param = self._get_param

        def parsed(name, *args, **kwargs):  # type: ignore[no-untyped-def]
            value = get_param(name, *args, **kwargs)
            if name == "LaunchTemplateData" and isinstance(value, dict):
                user_data = value.get("UserData")
                if user_data is not None and not isinstance(user_data, Base64EncodedString):
                    value["UserData"] = parse_user_data(user_data)
            return value

        self._get_param = parsed
        try:
            return original(self)
        finally:
            del self._get_param

    LaunchTemplates.create_launch_template_version = create_launch_template_version


def patch_asg_lifecycle_hook_specifications() -> None:
    original = AutoScalingResponse.create_auto_scaling_group

    def create_auto_scaling_group(self):  # type: ignore[no-untyped-def]
        result = original(self)
        name = self._get_param("AutoScalingGroupName")
        for spec in self._get_param("LifecycleHookSpecificationList", []) or []:
            self.autoscaling_backend.create_lifecycle_hook(
                name=spec.get("LifecycleHookName"),
                as_name=name,
                transition=spec.get("LifecycleTransition"),
                timeout=int(spec["HeartbeatTimeout"]) if spec.get("HeartbeatTimeout") else None,
                result=spec.get("DefaultResult"),
            )
        return result

    AutoScalingResponse.create_auto_scaling_group = create_auto_scaling_group


def patch_acm_in_use_by() -> None:
    from moto.acm.models import AWSCertificateManagerBackend
    from moto.elbv2.models import elbv2_backends

    original = AWSCertificateManagerBackend.get_certificate

    def get_certificate(self, arn):  # type: ignore[no-untyped-def]
        bundle = original(self, arn)
        elbv2 = elbv2_backends[self.account_id][self.region_name]
        listeners = {a for lb in elbv2.load_balancers.values() for a in lb.listeners}
        bundle.in_use_by = [u for u in bundle.in_use_by if ":listener/" not in u or u in listeners]
        return bundle

    AWSCertificateManagerBackend.get_certificate = get_certificate


def patch_asg_instance_launch_template_version() -> None:
    from moto.autoscaling.models import InstanceState

    original_init = InstanceState.__init__

    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        original_init(self, *args, **kwargs)
        group = self.auto_scaling_group
        self.launched_version = None
        try:
            if group is not None and group.ec2_launch_template is not None:
                self.launched_version = str(group.ec2_launch_template.get_version(group.launch_template_version).number)
        except Exception:  # an instance attached from outside: no version of its own
            self.launched_version = None

    def launch_template(self):  # type: ignore[no-untyped-def]
        group = self.auto_scaling_group
        if group is None or group.ec2_launch_template is None:
            return None
        return {
            "LaunchTemplateId": group.ec2_launch_template.id,
            "LaunchTemplateName": group.ec2_launch_template.name,
            "Version": self.launched_version or str(group.ec2_launch_template.default_version_number),
        }

    InstanceState.__init__ = __init__
    InstanceState.launch_template = property(launch_template)


def patch_ec2_vcpu_quota() -> None:
    import os

    from moto.servicequotas.models import ServiceQuotasBackend

    original = ServiceQuotasBackend.get_service_quota

    def get_service_quota(self, service_code, quota_code):  # type: ignore[no-untyped-def]
        if service_code == "ec2" and quota_code == "L-1216C47A":
            return {
                "ServiceCode": "ec2",
                "ServiceName": "Amazon Elastic Compute Cloud (Amazon EC2)",
                "QuotaArn": f"arn:aws:servicequotas:{self.region_name}:{self.account_id}:ec2/L-1216C47A",
                "QuotaCode": "L-1216C47A",
                "QuotaName": "Running On-Demand Standard (A, C, D, H, I, M, R, T, Z) instances",
                "Value": float(os.environ.get("K3SCTL_MOTO_EC2_VCPU_QUOTA", "1152")),
                "Unit": "None",
                "Adjustable": True,
                "GlobalQuota": False,
            }
        return original(self, service_code, quota_code)

    ServiceQuotasBackend.get_service_quota = get_service_quota


def main() -> None:
    port = sys.argv[1] if len(sys.argv) > 1 else "5000"
    patch_launch_template_version_user_data()
    patch_asg_lifecycle_hook_specifications()
    patch_acm_in_use_by()
    patch_asg_instance_launch_template_version()
    patch_ec2_vcpu_quota()
    from moto.server import main as moto_main

    moto_main(["-H", "127.0.0.1", "-p", port])


if __name__ == "__main__":
    main()
