// `cluster describe`: groups, instances (state, zone, addresses, launch-template version and whether it is
// current) and ingress of a cluster, from tags and SSM. Reads are paginated describes only: one
// DescribeAutoScalingGroups listing and one DescribeInstances listing, whatever the instance count.
import { names } from '../../config/names';
import { UserError } from '../../core/errors';
import { listClusterAutoScalingGroups } from '../../resources/autoScalingGroup';
import { listClusterInstances } from '../../resources/instance';
import type { WorkflowDeps } from '../deps';
import { isLeaving, readClusterConfig } from './clusterPlan';

export interface DescribedInstance {
  id: string;
  state: string;
  lifecycleState: string;
  health: string;
  az: string;
  privateIp?: string;
  publicIp?: string;
  instanceType?: string;
  launchTemplateVersion?: string;
  upToDate: boolean;
}

export interface DescribedGroup {
  name: string;
  role: string;
  autoScalingGroup: string;
  instanceType?: string;
  k3sVersion?: string;
  spot: boolean;
  launchTemplateVersion?: string;
  desired: number;
  min: number;
  max: number;
  instances: DescribedInstance[];
}

export interface ClusterDescription {
  name: string;
  region: string;
  vpcId?: string;
  k3sVersion?: string;
  /** False when the configuration parameter is missing (a half-created or half-deleted cluster). */
  configured: boolean;
  groups: DescribedGroup[];
  outOfDate: number;
  ingress: { host: string; alb: string; targetGroup: string } | null;
  apiCalls: { read: number; write: number };
}

export async function clusterDescribe(deps: WorkflowDeps, cluster: string): Promise<ClusterDescription> {
  const [config, groups, instances] = await Promise.all([
    readClusterConfig(deps.clients, cluster),
    listClusterAutoScalingGroups(deps.clients, cluster),
    listClusterInstances(deps.clients, cluster),
  ]);
  if (!config && groups.length === 0) {
    throw new UserError(`cluster ${cluster} does not exist in ${deps.region}`, 'see k3sctl cluster list (is the region right?)', 'name');
  }
  const byId = new Map(instances.map((i) => [i.instanceId, i]));
  const described: DescribedGroup[] = [];
  const declared = new Map((config?.groups ?? []).map((g) => [names.autoScalingGroup(cluster, g.name), g]));
  for (const asg of groups) {
    const g = declared.get(asg.name);
    described.push({
      name: asg.group ?? g?.name ?? asg.name,
      role: asg.role ?? g?.role ?? 'unknown',
      autoScalingGroup: asg.name,
      instanceType: g?.instanceType,
      k3sVersion: g?.k3sVersion,
      spot: asg.spot,
      launchTemplateVersion: asg.launchTemplateVersion,
      desired: asg.desired,
      min: asg.min,
      max: asg.max,
      instances: asg.instances.map((i) => {
        const ec2 = byId.get(i.instanceId);
        return {
          id: i.instanceId,
          state: ec2?.state ?? 'unknown',
          lifecycleState: i.lifecycleState,
          health: i.healthStatus,
          az: i.availabilityZone || ec2?.availabilityZone || '',
          privateIp: ec2?.privateIp,
          publicIp: ec2?.publicIp,
          instanceType: i.instanceType ?? ec2?.instanceType,
          launchTemplateVersion: i.launchTemplateVersion,
          upToDate: i.launchTemplateVersion === asg.launchTemplateVersion,
        };
      }),
    });
  }
  for (const [asgName, g] of declared) {
    if (!groups.some((a) => a.name === asgName)) {
      described.push({ name: g.name, role: g.role, autoScalingGroup: asgName, instanceType: g.instanceType, k3sVersion: g.k3sVersion, spot: g.spot, desired: 0, min: 0, max: 0, instances: [] });
    }
  }
  described.sort((a, b) => Number(b.role === 'control-plane') - Number(a.role === 'control-plane') || a.name.localeCompare(b.name));
  return {
    name: cluster,
    region: deps.region,
    vpcId: config?.vpcId,
    k3sVersion: config?.k3sVersion,
    configured: Boolean(config),
    groups: described,
    outOfDate: described.reduce((n, g) => n + g.instances.filter((i) => !i.upToDate && !isLeaving(i.lifecycleState)).length, 0),
    ingress: config?.ingress ? { host: config.ingress.host, alb: config.ingress.albName, targetGroup: names.ingressTargetGroup(cluster) } : null,
    apiCalls: deps.clients.calls.snapshot(),
  };
}
