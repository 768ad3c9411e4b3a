// One group of an existing cluster converged in a run of its own, with the cluster's baseline (a noop
// unless the declared configuration changed): what controlplane/nodegroup add and nodegroup scale share.
import type { StoredClusterConfig, StoredGroup } from '../../model/cluster';
import { UserError } from '../../core/errors';
import type { PlannedChange } from '../../core/events';
import { endpointTargetGroupsForCluster } from '../../resources/endpointConfig';
import type { WorkflowDeps } from '../deps';
import { runWorkflow, type WorkflowResult } from '../engine';
import { clusterView } from '../../model/view';
import { outOfDate, waitForGroups, type OutOfDateInstance } from './clusterPlan';
import { hasChanges, type ClusterWriteOptions } from './clusterWrite';

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

/** Converges the baseline (noop unless the configuration changed) and one group. */
export async function convergeGroup(
  deps: WorkflowDeps,
  title: string,
  config: StoredClusterConfig,
  group: StoredGroup,
  options: ClusterWriteOptions,
): Promise<WorkflowResult<GroupWriteResult>> {
  const endpointTargetGroups = (await endpointTargetGroupsForCluster(deps.clients, config.name)).map((e) => e.targetGroupArn);
  const view = clusterView(config, {
    groups: [group],
    // A version-1 configuration held every group inline: rewriting the settings moves the others out too.
    declared: config.legacyGroups ? config.groups : [group],
    endpointTargetGroupArns: endpointTargetGroups,
  });
  const tasks = deps.providers.clusterTasks(view);
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
