// `nodegroup scale`: a new instance count for a group (min = max = desired), recorded in the cluster's
// declared configuration. Scale-in goes through the termination lifecycle hook (drain).
import { UserError } from '../../core/errors';
import type { WorkflowDeps } from '../deps';
import type { WorkflowResult } from '../engine';
import type { ClusterWriteOptions } from '../steps/clusterWrite';
import { requireClusterConfig } from '../steps/clusterPlan';
import { withGroup } from '../../model/cluster';
import { convergeGroup, type GroupWriteResult } from '../steps/convergeGroup';

export async function nodegroupScale(
  deps: WorkflowDeps,
  cluster: string,
  groupName: string,
  count: number,
  options: ClusterWriteOptions = {},
): Promise<WorkflowResult<GroupWriteResult>> {
  const config = await requireClusterConfig(deps, cluster);
  const group = config.groups.find((g) => g.name === groupName);
  if (!group) {
    throw new UserError(`cluster ${cluster} has no group ${groupName}`, `groups: ${config.groups.map((g) => g.name).join(', ') || 'none'}`, 'group');
  }
  if (!Number.isInteger(count) || count < 0) throw new UserError(`--nodes must be a whole number >= 0, got ${count}`, undefined, '--nodes');
  if (group.role === 'control-plane' && count % 2 === 0) {
    throw new UserError(`${groupName} is a control-plane group: its count must be odd (etcd quorum), got ${count}`, undefined, '--nodes');
  }
  const scaled = { ...group, count };
  return convergeGroup(deps, `nodegroup scale ${cluster} ${groupName}`, withGroup(config, scaled), scaled, options);
}
