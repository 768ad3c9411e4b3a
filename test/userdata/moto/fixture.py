"""Sets up and inspects, with boto3 (an independent client), what the instance scripts read and write
in moto. Usage: python3 fixture.py ENDPOINT COMMAND ARGS...

  cluster NAME GROUP:ROLE:COUNT...   launch template, one Auto Scaling group k3sctl-NAME-GROUP per spec,
                                     tagged (and propagated to instances) as k3sctl tags them, each with
                                     the k3sctl-graceful-leave termination hook; the token parameters
                                     (SecureString, values from $TOKEN_SERVER and $TOKEN_AGENT). Prints
                                     "GROUP ROLE INSTANCE-ID PRIVATE-IP" per instance.
  param NAME                          the parameter's value, or nothing (exit 1) when it does not exist
  put-param NAME VALUE                a String parameter (created or overwritten)
  health ID                           "HEALTH LIFECYCLE-STATE" of the instance in its group, or "gone"
  state ID                            the EC2 state of the instance
  terminate ID                        TerminateInstanceInAutoScalingGroup (Terminating:Wait with the hook)
  ec2-terminate ID                    EC2 TerminateInstances (the instance is gone for good)
"""

import os
import sys

import boto3

REGION = "us-east-1"
HOOK = "k3sctl-graceful-leave"


def main() -> int:
    endpoint, command, args = sys.argv[1], sys.argv[2], sys.argv[3:]
    kw = {"endpoint_url": endpoint, "region_name": REGION, "aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
    ec2, asg, ssm = boto3.client("ec2", **kw), boto3.client("autoscaling", **kw), boto3.client("ssm", **kw)
    if command == "cluster":
        name, specs = args[0], args[1:]
        image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
        subnet = ec2.describe_subnets()["Subnets"][0]["SubnetId"]
        ec2.create_launch_template(LaunchTemplateName=f"k3sctl-{name}", LaunchTemplateData={"ImageId": image, "InstanceType": "t3.small"})
        for spec in specs:
            group, role, count = spec.split(":")
            group_name = f"k3sctl-{name}-{group}"
            tags = {"k3sctl.io/cluster": name, "k3sctl.io/role": role, "k3sctl.io/group": group}
            asg.create_auto_scaling_group(
                AutoScalingGroupName=group_name,
                LaunchTemplate={"LaunchTemplateName": f"k3sctl-{name}", "Version": "$Latest"},
                MinSize=0, MaxSize=10, DesiredCapacity=int(count), VPCZoneIdentifier=subnet,
                Tags=[{"Key": k, "Value": v, "PropagateAtLaunch": True} for k, v in tags.items()],
            )
            asg.put_lifecycle_hook(
                LifecycleHookName=HOOK, AutoScalingGroupName=group_name,
                LifecycleTransition="autoscaling:EC2_INSTANCE_TERMINATING", HeartbeatTimeout=900, DefaultResult="CONTINUE",
            )
            ids = [i["InstanceId"] for i in asg.describe_auto_scaling_groups(AutoScalingGroupNames=[group_name])["AutoScalingGroups"][0]["Instances"]]
            found = [i for r in ec2.describe_instances(InstanceIds=ids)["Reservations"] for i in r["Instances"]] if ids else []
            for i in sorted(found, key=lambda i: i["InstanceId"]):
                print(group, role, i["InstanceId"], i["PrivateIpAddress"])
        for param, env in (("server-token", "TOKEN_SERVER"), ("agent-token", "TOKEN_AGENT")):
            ssm.put_parameter(Name=f"/k3sctl/clusters/{name}/{param}", Type="SecureString", Value=os.environ[env])
    elif command == "param":
        try:
            print(ssm.get_parameter(Name=args[0])["Parameter"]["Value"])
        except ssm.exceptions.ParameterNotFound:
            return 1
    elif command == "put-param":
        ssm.put_parameter(Name=args[0], Type="String", Value=args[1], Overwrite=True)
    elif command == "health":
        found = asg.describe_auto_scaling_instances(InstanceIds=[args[0]])["AutoScalingInstances"]
        print(f"{found[0]['HealthStatus']} {found[0]['LifecycleState']}" if found else "gone")
    elif command == "state":
        print(ec2.describe_instances(InstanceIds=[args[0]])["Reservations"][0]["Instances"][0]["State"]["Name"])
    elif command == "terminate":
        asg.terminate_instance_in_auto_scaling_group(InstanceId=args[0], ShouldDecrementDesiredCapacity=False)
    elif command == "ec2-terminate":
        ec2.terminate_instances(InstanceIds=[args[0]])
    else:
        print(f"unknown command {command}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
