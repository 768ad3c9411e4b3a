// `nodegroup delete`: deletes what one group owns of each kind a cluster has per group (Provider.perGroup:
// its Auto Scaling group, drained through the termination lifecycle hook first, its launch template, and
// its declaration /k3sctl/clusters/NAME/groups/GROUP; the other groups' declarations are never
// rewritten), in the kinds' order. The last control-plane group of a cluster that still has other
// groups is refused.
import { names } from '../../aws/names';
import { UserError } from '../../core/errors';
import type { PlannedChange } from '../../core/events';
import { clusterScope } from '../../provider/cluster';
import type { WorkflowDeps } from '../deps';
import { runWorkflow, type WorkflowResult } from '../engine';
import { SSM_PARAMETER_TYPE } from '../../resources/ssmParameter';
import { hasChanges, type ClusterWriteOptions } from '../steps/clusterWrite';
import { requireClusterConfig, storedConfigTasks } from '../steps/clusterPlan';
import { deleteInventory, discoverInventory, inventoryChanges } from '../steps/deleteInWaves';

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
  // The model and the group's declaration come from one listing of the cluster's parameters.
  const scope = clusterScope(deps.clients, cluster, deps.region);
  const config = await requireClusterConfig(deps, cluster, scope);
  // What the group owns of each kind a cluster has per group (its Auto Scaling group, launch template, declaration).
  const providers = deps.providers;
  const kinds = providers.types.filter((t) => providers.provider(t)!.perGroup);
  const found = await discoverInventory(kinds, (t) => providers.provider(t)!.perGroup!.discover(scope, groupName));
  const declared = config.groups.find((g) => g.name === groupName);
  if (!declared && found.size === 0) {
    throw new UserError(`cluster ${cluster} has no group ${groupName}`, `groups: ${config.groups.map((g) => g.name).join(', ') || 'none'}`, 'group');
  }
  const role = declared?.role ?? [...found.values()].flat().find((o) => o.role)?.role;
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
  // A version-1 configuration holds the groups inline: it is rewritten (settings + remaining groups).
  const legacyTasks = config.legacyGroups ? storedConfigTasks(remaining) : [];
  const planned = [
    ...inventoryChanges(providers, found),
    ...(config.legacyGroups ? [{ action: 'update' as const, type: SSM_PARAMETER_TYPE, name: names.ssmConfig(cluster), details: [`remove group ${groupName}`] }] : []),
  ];
  return runWorkflow(
    deps,
    `nodegroup delete ${cluster} ${groupName}`,
    async (run) => {
      deps.events.emit({ kind: 'plan', changes: planned });
      const base = { cluster, group: groupName, planned };
      if (options.dryRun) return { ...base, dryRun: true };
      if (hasChanges(planned) && options.confirm && !(await options.confirm(planned))) throw new UserError('cancelled: nothing was deleted');
      // Each kind's delete is its provider's; the order (the group, then its launch template and declaration) is the kinds'.
      const deleteOptions = { cluster, timeoutScale: deps.timeoutScale ?? 1 };
      await deleteInventory(providers, found, (type, owned) => providers.provider(type)!.perGroup!.deleteOwned(run, owned, deleteOptions));
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
