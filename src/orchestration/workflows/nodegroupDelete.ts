// `nodegroup delete`: drains a group through the termination lifecycle hook (scale to 0, wait), deletes
// its Auto Scaling group and launch template, and deletes its declaration /k3sctl/clusters/NAME/groups/GROUP
// (only that parameter: the other groups' declarations are never rewritten). The last
// control-plane group of a cluster that still has other groups is refused.
import { names } from '../../aws/names';
import { UserError } from '../../core/errors';
import type { PlannedChange } from '../../core/events';
import { AUTO_SCALING_GROUP_TYPE, drainAndDeleteGroup, findAutoScalingGroup } from '../../resources/autoScalingGroup';
import { deleteLaunchTemplate, findLaunchTemplate, LAUNCH_TEMPLATE_TYPE } from '../../resources/launchTemplate';
import type { WorkflowDeps } from '../deps';
import { journaledWrite, runWorkflow, type WorkflowResult } from '../engine';
import { deleteParameters, getParameterValue, SSM_PARAMETER_TYPE } from '../../resources/ssmParameter';
import { hasChanges, type ClusterWriteOptions } from '../steps/clusterWrite';
import { requireClusterConfig, storedConfigTasks } from '../steps/clusterPlan';
import { deleteInWaves, inDeletionOrder } from '../steps/deleteInWaves';

export interface NodegroupDeleteResult {
  cluster: string;
  group: string;
  dryRun: boolean;
  planned: PlannedChange[];
}

export async function nodegroupDelete(
  deps: WorkflowDeps,
  cluster: string,
  groupName: string,
  options: Omit<ClusterWriteOptions, 'wait'> = {},
): Promise<WorkflowResult<NodegroupDeleteResult>> {
  const config = await requireClusterConfig(deps, cluster);
  const asgName = names.autoScalingGroup(cluster, groupName);
  const ltName = names.launchTemplate(cluster, groupName);
  const [asg, lt] = await Promise.all([findAutoScalingGroup(deps.clients, asgName, { hooks: false }), findLaunchTemplate(deps.clients, ltName)]);
  const declared = config.groups.find((g) => g.name === groupName);
  if (!declared && !asg && !lt) {
    throw new UserError(`cluster ${cluster} has no group ${groupName}`, `groups: ${config.groups.map((g) => g.name).join(', ') || 'none'}`, 'group');
  }
  const role = declared?.role ?? asg?.role;
  if (role === 'control-plane') {
    const otherCp = config.groups.filter((g) => g.role === 'control-plane' && g.name !== groupName && g.count > 0);
    const others = config.groups.filter((g) => g.name !== groupName && g.count > 0);
    if (otherCp.length === 0 && others.length > 0) {
      throw new UserError(
        `${groupName} is the last control-plane group of cluster ${cluster}, which still has node groups (${others.map((g) => g.name).join(', ')})`,
        `delete the node groups first, or delete the whole cluster (k3sctl cluster delete ${cluster})`,
        'group',
      );
    }
  }
  const remaining = { ...config, groups: config.groups.filter((g) => g.name !== groupName) };
  const parameterName = names.ssmGroupConfig(cluster, groupName);
  // A version-1 configuration holds the groups inline: it is rewritten (settings + remaining groups).
  const legacyTasks = config.legacyGroups ? storedConfigTasks(remaining) : [];
  const planned = inDeletionOrder(deps.providers, [
    ...(asg ? [{ action: 'delete' as const, type: AUTO_SCALING_GROUP_TYPE, name: asgName, id: asgName }] : []),
    ...(lt ? [{ action: 'delete' as const, type: LAUNCH_TEMPLATE_TYPE, name: ltName, id: lt.id }] : []),
    ...(declared && !config.legacyGroups ? [{ action: 'delete' as const, type: SSM_PARAMETER_TYPE, name: parameterName, id: parameterName }] : []),
    ...(config.legacyGroups ? [{ action: 'update' as const, type: SSM_PARAMETER_TYPE, name: names.ssmConfig(cluster), details: [`remove group ${groupName}`] }] : []),
  ]);
  return runWorkflow(
    deps,
    `nodegroup delete ${cluster} ${groupName}`,
    async (run) => {
      deps.events.emit({ kind: 'plan', changes: planned });
      const base = { cluster, group: groupName, planned };
      if (options.dryRun) return { ...base, dryRun: true };
      if (hasChanges(planned) && options.confirm && !(await options.confirm(planned))) throw new UserError('cancelled: nothing was deleted');
      // What goes of each kind; the order (the group, then its launch template and declaration) is the kinds'.
      const deletes = new Map<string, () => Promise<unknown>>();
      if (asg) deletes.set(AUTO_SCALING_GROUP_TYPE, () => run.step(`drain and delete ${asgName}`, (ctx) => drainAndDeleteGroup(ctx, asgName, deps.timeoutScale ?? 1)));
      if (lt) {
        deletes.set(LAUNCH_TEMPLATE_TYPE, () =>
          run.step(`delete launch template ${ltName}`, (ctx) =>
            journaledWrite(ctx, { action: 'delete', type: LAUNCH_TEMPLATE_TYPE, name: ltName, id: lt.id }, () => deleteLaunchTemplate(ctx.clients, lt.id)),
          ),
        );
      }
      if (declared && !config.legacyGroups) {
        deletes.set(SSM_PARAMETER_TYPE, () =>
          run.step(`delete ${parameterName}`, async (ctx) => {
            const current = await getParameterValue(ctx.clients, parameterName);
            if (!current) return;
            // Rollback puts the declaration back as it was.
            await journaledWrite(
              ctx,
              {
                action: 'delete',
                type: SSM_PARAMETER_TYPE,
                name: parameterName,
                id: parameterName,
                undo: { type: SSM_PARAMETER_TYPE, action: 'restore', data: { name: parameterName, value: current.Value } },
              },
              () => deleteParameters(ctx.clients, [parameterName]),
            );
          }),
        );
      }
      await deleteInWaves(deps.providers, deletes);
      // A version-1 configuration declares the group inline: rewritten once the group is gone.
      if (legacyTasks.length) {
        await run.plan(legacyTasks);
        await run.apply(legacyTasks);
      }
      return { ...base, dryRun: false };
    },
    { signal: options.signal },
  );
}
