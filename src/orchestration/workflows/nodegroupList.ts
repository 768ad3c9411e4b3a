// `nodegroup list`: the groups of a cluster with their capacity, instance health and drift.
import type { WorkflowDeps } from '../deps';
import { describeCluster } from '../steps/clusterDescription';
import { isLeaving } from '../../resources/autoScalingInstance';

export interface ListedGroup {
  name: string;
  role: string;
  instanceType?: string;
  spot: boolean;
  desired: number;
  inService: number;
  outOfDate: number;
  launchTemplateVersion?: string;
  k3sVersion?: string;
}

export async function nodegroupList(deps: WorkflowDeps, cluster: string): Promise<{ cluster: string; region: string; groups: ListedGroup[] }> {
  const d = await describeCluster(deps, cluster);
  return {
    cluster,
    region: d.region,
    groups: d.groups.map((g) => ({
      name: g.name,
      role: g.role,
      instanceType: g.instanceType,
      spot: g.spot,
      desired: g.desired,
      inService: g.instances.filter((i) => i.lifecycleState === 'InService').length,
      outOfDate: g.instances.filter((i) => !i.upToDate && !isLeaving(i.lifecycleState)).length,
      launchTemplateVersion: g.launchTemplateVersion,
      k3sVersion: g.k3sVersion,
    })),
  };
}
