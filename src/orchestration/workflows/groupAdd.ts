// `controlplane add` / `nodegroup add`: another group for an existing cluster, reusing its baseline
// (roles, profiles, security group, tokens) found by tags and names, with the cluster's declared
// configuration kept current: only the group's own parameter /k3sctl/clusters/NAME/groups/GROUP is
// written (two concurrent `nodegroup add` never overwrite each other's declaration). New Auto Scaling
// groups attach the target groups of the cluster's nodeport endpoints and the group's own extra ones.
// Re-running changes nothing.
import type { GroupSpec, StoredClusterConfig, StoredGroup } from '../../config/cluster';
import { UserError } from '../../core/errors';
import type { ResolvedSubnet } from '../../aws/lookups';
import type { WorkflowDeps } from '../deps';
import { runWorkflow, type Task, type WorkflowResult } from '../engine';
import { endpointTargetGroupsForCluster } from '../../resources/endpointConfig';
import { hasChanges, type ClusterWriteOptions } from './clusterCreate';
import {
  baselineTasks,
  groupTasks,
  ingressSecurityGroups,
  outOfDate,
  requireClusterConfig,
  resolveGroups,
  storedGroupTask,
  waitForGroups,
  type OutOfDateInstance,
} from './clusterPlan';
import type { PlannedChange } from '../../core/events';

export interface GroupWriteResult {
  cluster: string;
  group: string;
  role: string;
  desired: number;
  dryRun: boolean;
  planned: PlannedChange[];
  outOfDate: OutOfDateInstance[];
  waited: boolean;
}

/** The configuration with `group` added or replaced (groups sorted by name). */
export function withGroup(config: StoredClusterConfig, group: StoredGroup): StoredClusterConfig {
  return { ...config, groups: [...config.groups.filter((g) => g.name !== group.name), group].sort((a, b) => a.name.localeCompare(b.name)) };
}

/** Converges the baseline (noop unless the configuration changed) and one group. */
export async function convergeGroup(
  deps: WorkflowDeps,
  title: string,
  config: StoredClusterConfig,
  group: StoredGroup,
  options: ClusterWriteOptions,
): Promise<WorkflowResult<GroupWriteResult>> {
  const endpointTargetGroups = (await endpointTargetGroupsForCluster(deps.clients, config.name)).map((e) => e.targetGroupArn);
  // A version-1 configuration held every group inline: rewriting the settings moves the others out too.
  const others: Task[] = config.legacyGroups ? config.groups.filter((g) => g.name !== group.name).map((g) => storedGroupTask(config, g)) : [];
  const tasks = [...baselineTasks(config), ...groupTasks(config, group, endpointTargetGroups), ...others];
  return runWorkflow(
    deps,
    title,
    async (run) => {
      const planned = await run.plan(tasks);
      const base = { cluster: config.name, group: group.name, role: group.role, desired: group.count, planned };
      if (options.dryRun) return { ...base, dryRun: true, outOfDate: [], waited: false };
      if (hasChanges(planned) && options.confirm && !(await options.confirm(planned))) throw new UserError('cancelled: nothing was changed');
      await run.apply(tasks);
      const stale = outOfDate(run, [group]);
      if (stale.length) {
        deps.events.emit({
          kind: 'log',
          level: 'warn',
          message: `${stale.length} instance(s) of ${group.name} run an older launch template version; replace them with: k3sctl recycle ${config.name} --group ${group.name}`,
        });
      }
      const wait = options.wait !== false;
      if (wait) await waitForGroups(run, deps, config, [group]);
      return { ...base, dryRun: false, outOfDate: stale, waited: wait };
    },
    { signal: options.signal },
  );
}

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
