// `cluster delete`: discovers everything carrying the cluster's tags or deterministic names (never a
// local file) through every provider that can find what a cluster owns of its kind, and deletes it in the
// registry's deletion waves: each kind once every kind that must go before it is gone, the kinds of a wave
// together. What a kind needs (drains, waits, retries) is its provider's; this workflow names no kind but
// the ingress target groups endpoints may forward to. A re-run after a failure continues from what is left.
//
// The order the dependencies give, among what a cluster owns: the listener rules (they depend on the
// groups' target group attachments), then the detach (attachments depend on the groups), so ingress
// traffic stops before any instance drains; then the groups (drained through their lifecycle hook, and
// waited for until their instances are terminated), then what instances used (target groups, launch
// templates, parameters, instance profiles), the roles after their profiles, and the security group last
// (the anchor: with the settings parameter it is how `cluster list` finds a cluster), so a delete that
// fails halfway leaves the cluster listed. Instances outside any group depend on nothing the cluster keeps running: they go in the first
// wave, and what they used waits for them too.
import { UserError } from '../../core/errors';
import type { PlannedChange } from '../../core/events';
import { findListenerRuleByTags, listenerRuleTask, ruleOwnerTags } from '../../resources/listenerRule';
import { endpointConfigTask, listEndpointConfigs, type StoredEndpointConfig } from '../../resources/endpointConfig';
import { TARGET_GROUP_TYPE } from '../../resources/targetGroup';
import { SECURITY_GROUP_TYPE } from '../../resources/securityGroup';
import { deleteInventory, discoverInventory, inventoryChanges } from '../steps/deleteInWaves';
import { clusterScope, type Owned } from '../../provider/cluster';
import { endpointTags } from '../steps/endpointTags';
import type { WorkflowDeps } from '../deps';
import { runWorkflow, type Run, type Task, type WorkflowResult } from '../engine';
import type { ClusterWriteOptions } from '../steps/clusterWrite';

/** How `cluster list` finds a cluster (with its settings parameter): deleted once everything else is gone. */
const CLUSTER_ANCHOR = SECURITY_GROUP_TYPE;

export interface ClusterDeleteResult {
  cluster: string;
  region: string;
  dryRun: boolean;
  planned: PlannedChange[];
}

/** Ingress-mode endpoints whose listener rule forwards to the cluster's ingress target group. */
async function endpointsForwardingTo(deps: WorkflowDeps, cluster: string, targetGroups: Owned[]): Promise<StoredEndpointConfig[]> {
  if (targetGroups.length === 0) return [];
  return (await listEndpointConfigs(deps.clients)).filter((e) => e.mode === 'ingress' && e.clusters.includes(cluster));
}

/**
 * --force: takes the cluster out of endpoints that other clusters still serve (the rule forwards to
 * the others; the endpoint's configuration no longer names it), journaled with restores. An endpoint
 * the cluster serves alone cannot forward to nothing: it is refused even then.
 */
async function detachFromEndpoints(run: Run, cluster: string, tgArns: string[], endpoints: StoredEndpointConfig[]): Promise<void> {
  const tasks: Task[] = [];
  for (const e of endpoints) {
    const rule = await findListenerRuleByTags(run.ctx.clients, e.listenerArn, ruleOwnerTags(endpointTags(e.service)));
    if (rule) {
      const forward = rule.forward.filter((t) => !tgArns.includes(t.targetGroupArn));
      tasks.push(
        listenerRuleTask(
          {
            name: rule.hostHeaders.join(',') || e.host,
            listenerArn: e.listenerArn,
            hostHeaders: rule.hostHeaders,
            sourceIps: rule.sourceIps.length ? rule.sourceIps : undefined,
            forward: forward.map((t) => ({ targetGroupArn: t.targetGroupArn, weight: t.weight })),
            stickinessSeconds: rule.stickinessSeconds,
            tags: endpointTags(e.service),
          },
          `endpointRule/${e.service}`,
        ) as Task,
      );
    }
    const { [cluster]: _dropped, ...weights } = e.weights;
    tasks.push(endpointConfigTask(() => ({ ...e, clusters: e.clusters.filter((c) => c !== cluster), weights }), [], `endpointConfig/${e.service}`) as Task);
  }
  await run.plan(tasks);
  await run.apply(tasks);
}

export async function clusterDelete(
  deps: WorkflowDeps,
  cluster: string,
  options: Omit<ClusterWriteOptions, 'wait'> & { force?: boolean } = {},
): Promise<WorkflowResult<ClusterDeleteResult>> {
  // Everything the cluster owns in the region, every kind a provider can find and delete, at once.
  const providers = deps.providers;
  const scope = clusterScope(deps.clients, cluster, deps.region);
  const kinds = providers.types.filter((t) => providers.provider(t)?.discover && providers.provider(t)?.deleteOwned);
  const inv = await discoverInventory(kinds, (t) => providers.provider(t)!.discover!(scope));
  const planned = inventoryChanges(providers, inv, CLUSTER_ANCHOR);
  const targetGroups = inv.get(TARGET_GROUP_TYPE) ?? [];
  if (planned.length === 0) {
    throw new UserError(`cluster ${cluster} does not exist in ${deps.region}`, 'see k3sctl cluster list (is the region right?)', 'name');
  }
  // Before any write: the ingress target group cannot be deleted while an endpoint's rule forwards to it
  // (ELBv2 ResourceInUse), and deleting the cluster would take it out of the endpoint's traffic.
  const endpoints = await endpointsForwardingTo(deps, cluster, targetGroups);
  const alone = endpoints.filter((e) => e.clusters.every((c) => c === cluster));
  if (endpoints.length && (!options.force || alone.length)) {
    const list = (options.force ? alone : endpoints).map((e) => `${e.service} (${e.host})`).join(', ');
    const others = (e: StoredEndpointConfig) => e.clusters.filter((c) => c !== cluster);
    throw new UserError(
      options.force
        ? `cluster ${cluster} is the only cluster behind endpoint(s) ${list}; an endpoint cannot forward to nothing`
        : `cluster ${cluster} still receives traffic from endpoint(s) ${list}: their listener rules forward to its ingress target group (${targetGroups.map((t) => t.name).join(', ')})`,
      [
        ...(options.force ? alone : endpoints).map((e) =>
          others(e).length
            ? `k3sctl endpoint create ${e.service} ... without --cluster ${cluster} (still: ${others(e).join(', ')})`
            : `k3sctl endpoint delete ${e.service}`,
        ),
        ...(options.force ? [] : ['or k3sctl cluster delete ' + cluster + ' --force to take it out of endpoints other clusters still serve']),
      ].join('; '),
      'name',
    );
  }
  return runWorkflow(
    deps,
    `cluster delete ${cluster}`,
    async (run) => {
      deps.events.emit({ kind: 'plan', changes: planned });
      const base = { cluster, region: deps.region, planned };
      if (options.dryRun) return { ...base, dryRun: true };
      // Never empty (a cluster with nothing found does not exist, above): every change is a delete or detach.
      if (options.confirm && !(await options.confirm(planned))) throw new UserError('cancelled: nothing was deleted');
      if (endpoints.length) await detachFromEndpoints(run, cluster, targetGroups.map((t) => t.id), endpoints);
      const deleteOptions = { cluster, timeoutScale: deps.timeoutScale ?? 1 };
      await deleteInventory(providers, inv, (type, owned) => providers.provider(type)!.deleteOwned!(run, owned, deleteOptions), CLUSTER_ANCHOR);
      return { ...base, dryRun: false };
    },
    { signal: options.signal },
  );
}
