// `controlplane add` / `nodegroup add`: another group for an existing cluster, reusing its baseline
// (roles, profiles, security group, tokens) found by tags and names, with the cluster's declared
// configuration kept current: only the group's own parameter /k3sctl/clusters/NAME/groups/GROUP is
// written (two concurrent `nodegroup add` never overwrite each other's declaration). New Auto Scaling
// groups attach the target groups of the cluster's nodeport endpoints and the group's own extra ones.
// Re-running changes nothing.
import type { GroupSpec } from '../../config/cluster';
import { UserError } from '../../core/errors';
import type { ResolvedSubnet } from '../../aws/lookups';
import type { WorkflowDeps } from '../deps';
import type { WorkflowResult } from '../engine';
import type { ClusterWriteOptions } from '../steps/clusterWrite';
import { ingressSecurityGroups, withGroup } from '../../model/cluster';
import { resolveGroups } from '../../model/resolve';
import { requireClusterConfig } from '../steps/clusterPlan';
import { convergeGroup, type GroupWriteResult } from '../steps/convergeGroup';

export type { GroupWriteResult } from '../steps/convergeGroup';

/** Adds (or converges) a control-plane or node group of an existing cluster. */
export async function groupAdd(deps: WorkflowDeps, cluster: string, spec: GroupSpec, options: ClusterWriteOptions = {}): Promise<WorkflowResult<GroupWriteResult>> {
  const config = await requireClusterConfig(deps, cluster);
  const existing = config.groups.find((g) => g.name === spec.name);
  if (existing && existing.role !== spec.role) {
    throw new UserError(`group ${spec.name} of cluster ${cluster} is a ${existing.role} group, not a ${spec.role} group`, 'pick another group name', 'group');
  }
  const clusterSubnets: ResolvedSubnet[] = config.subnetIds.map((subnetId) => ({ subnetId, vpcId: config.vpcId, availabilityZone: '' }));
  const [group] = await resolveGroups(deps.clients, config.vpcId, clusterSubnets, [{ ...spec, k3sVersion: spec.k3sVersion || existing?.k3sVersion || config.k3sVersion }], {
    ingressSecurityGroups: ingressSecurityGroups(config.ingress).length,
  });
  const role = spec.role === 'control-plane' ? 'controlplane' : 'nodegroup';
  return convergeGroup(deps, `${role} add ${cluster} ${spec.name}`, withGroup(config, group), group, options);
}
