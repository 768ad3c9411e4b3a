// Running control-plane instances of a cluster (AWS::EC2::Instance, read-only): found by the
// cluster and role tags through DescribeInstances, ranked by their Auto Scaling lifecycle state
// (DescribeAutoScalingInstances) so that an InService, healthy instance is used first; and the
// login user of an instance's AMI (DescribeImages) for SSH.
import { DescribeImagesCommand, paginateDescribeInstances, type Instance } from '@aws-sdk/client-ec2';
import { paginateDescribeAutoScalingInstances } from '@aws-sdk/client-auto-scaling';
import type { AwsClients } from '../aws/clients';
import { awsErrorCode } from '../core/errors';
import { TagKeys, clusterFilters, tagValue } from '../aws/tags';

export interface ControlPlaneInstance {
  instanceId: string;
  imageId?: string;
  privateIp?: string;
  publicIp?: string;
  keyName?: string;
  availabilityZone?: string;
  /** ms since the epoch. */
  launchTime?: number;
  group?: string;
  /** From Auto Scaling; undefined for instances outside any group. */
  autoScalingGroup?: string;
  lifecycleState?: string;
  healthStatus?: string;
}

/** Lower is better: InService and healthy first, then instances outside a group, then the rest. */
export function controlPlaneRank(i: ControlPlaneInstance): number {
  if (i.lifecycleState === 'InService' && (i.healthStatus ?? 'HEALTHY').toUpperCase() === 'HEALTHY') return 0;
  if (i.lifecycleState === undefined) return 1;
  return 2;
}

function toControlPlane(i: Instance): ControlPlaneInstance {
  const launch = i.LaunchTime as Date | string | undefined;
  return {
    instanceId: i.InstanceId ?? '',
    imageId: i.ImageId,
    privateIp: i.PrivateIpAddress,
    publicIp: i.PublicIpAddress,
    keyName: i.KeyName,
    availabilityZone: i.Placement?.AvailabilityZone,
    launchTime: launch === undefined ? undefined : new Date(launch).getTime(),
    group: tagValue(i.Tags, TagKeys.group),
  };
}

/**
 * The cluster's running control-plane instances, best first (see controlPlaneRank; then earliest
 * launch, then instance id, the same order the instances use to elect the first server).
 * Instances that Auto Scaling is terminating are left out: they are being drained.
 */
export async function findControlPlaneInstances(
  clients: AwsClients,
  cluster: string,
): Promise<ControlPlaneInstance[]> {
  const found: ControlPlaneInstance[] = [];
  const pages = paginateDescribeInstances(
    { client: clients.ec2 },
    { Filters: [...clusterFilters(cluster, 'control-plane'), { Name: 'instance-state-name', Values: ['running'] }] },
  );
  for await (const res of pages) {
    for (const r of res.Reservations ?? []) for (const i of r.Instances ?? []) found.push(toControlPlane(i));
  }
  await addAutoScalingState(clients, found);
  return found
    .filter((i) => !i.lifecycleState?.startsWith('Terminating'))
    .sort(
      (a, b) =>
        controlPlaneRank(a) - controlPlaneRank(b) ||
        (a.launchTime ?? 0) - (b.launchTime ?? 0) ||
        a.instanceId.localeCompare(b.instanceId),
    );
}

async function addAutoScalingState(clients: AwsClients, instances: ControlPlaneInstance[]): Promise<void> {
  const byId = new Map(instances.map((i) => [i.instanceId, i]));
  const ids = [...byId.keys()];
  // DescribeAutoScalingInstances takes at most 50 instance ids per call.
  for (let start = 0; start < ids.length; start += 50) {
    const pages = paginateDescribeAutoScalingInstances(
      { client: clients.autoscaling },
      { InstanceIds: ids.slice(start, start + 50), MaxRecords: 50 },
    );
    for await (const res of pages) {
      for (const a of res.AutoScalingInstances ?? []) {
        const target = byId.get(a.InstanceId ?? '');
        if (!target) continue;
        target.autoScalingGroup = a.AutoScalingGroupName;
        target.lifecycleState = a.LifecycleState;
        target.healthStatus = a.HealthStatus;
      }
    }
  }
}

/** The name of an AMI, or undefined when it is gone (deregistered) or not visible. */
export async function findImageName(clients: AwsClients, imageId: string): Promise<string | undefined> {
  try {
    const res = await clients.ec2.send(new DescribeImagesCommand({ ImageIds: [imageId] }));
    return res.Images?.[0]?.Name;
  } catch (error) {
    if (/^InvalidAMIID\./.test(awsErrorCode(error) ?? '')) return undefined;
    throw error;
  }
}

/** The default SSH login user of an AMI, from its name (as the AMI publishers document them). */
export function defaultLoginUser(imageName: string | undefined): string {
  const name = (imageName ?? '').toLowerCase();
  if (name.includes('ubuntu')) return 'ubuntu';
  if (name.includes('debian')) return 'admin';
  if (name.includes('centos')) return 'centos';
  if (/fedora-coreos|flatcar/.test(name)) return 'core';
  return 'ec2-user';
}
