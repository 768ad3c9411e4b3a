// `cluster delete`: discovers everything carrying the cluster's tags or deterministic names (never a
// local file) and removes it in reverse dependency order, waiting where AWS needs it: ingress traffic
// stops first (listener rule deleted, target group detached from the groups), then groups are scaled to
// 0 so every instance leaves through the termination lifecycle hook (drain), and the target group goes
// once no group lists it. A re-run after a failure continues from what is left.
import { targetGroupNameOfArn } from '../../aws/arns';
import type { AwsClients } from '../../aws/clients';
import { clusterTags, TagKeys } from '../../aws/tags';
import { names } from '../../aws/names';
import { UserError } from '../../core/errors';
import type { PlannedChange } from '../../core/events';
import {
  AUTO_SCALING_GROUP_TYPE,
  listClusterAutoScalingGroups,
  type AutoScalingGroupState,
} from '../../resources/autoScalingGroup';
import { deleteIamRole, findIamRole, IAM_ROLE_TYPE } from '../../resources/iamRole';
import { deleteInstanceProfile, findInstanceProfile, INSTANCE_PROFILE_TYPE } from '../../resources/instanceProfile';
import { INSTANCE_TYPE, listClusterInstances, terminateInstances } from '../../resources/instance';
import { deleteLaunchTemplate, LAUNCH_TEMPLATE_TYPE, listClusterLaunchTemplates, type LaunchTemplateState } from '../../resources/launchTemplate';
import { findListenerRuleByTags, LISTENER_RULE_TYPE, listenerRuleTask, ruleOwnerTags } from '../../resources/listenerRule';
import { endpointConfigTask, listEndpointConfigs, type StoredEndpointConfig } from '../../resources/endpointConfig';
import { endpointTags } from '../steps/endpointTags';
import { listListeners } from '../../resources/loadBalancer';
import { deleteSecurityGroup, listClusterSecurityGroups, SECURITY_GROUP_TYPE } from '../../resources/securityGroup';
import { deleteParameters, listParametersByPath, SSM_PARAMETER_TYPE } from '../../resources/ssmParameter';
import {
  detachTargetGroups,
  findIngressTargetGroups,
  TARGET_GROUP_ATTACHMENT_TYPE,
  TARGET_GROUP_TYPE,
} from '../../resources/targetGroup';
import type { WorkflowDeps } from '../deps';
import { journaledWrite, retryWhileNotReady, runWorkflow, waitFor, type Run, type RunContext, type Task, type WorkflowResult } from '../engine';
import { hasChanges, type ClusterWriteOptions } from '../steps/clusterWrite';
import { drainAndDeleteGroup, STEADY_DRAIN_POLL } from '../steps/drainGroup';
import { deleteIngressRules, deleteIngressTargetGroup } from '../steps/clusterPlan';

export interface ClusterInventory {
  cluster: string;
  ingressRules: { arn: string; name: string }[];
  targetGroups: { arn: string; name: string }[];
  /** The ingress target group ARNs each group lists: the live one, or one already deleted. */
  targetGroupAttachments: { group: string; targetGroupArns: string[]; targetGroupName: string }[];
  autoScalingGroups: AutoScalingGroupState[];
  strayInstances: string[];
  launchTemplates: LaunchTemplateState[];
  parameters: string[];
  instanceProfiles: string[];
  roles: string[];
  securityGroups: string[];
}

/** The cluster's target group on each of its ingress ALBs (one name per slot), and their listener rules. */
async function discoverIngress(clients: AwsClients, cluster: string) {
  const live = new Map((await findIngressTargetGroups(clients, cluster)).map((tg) => [tg.name, tg]));
  const owned = [...live.values()].filter((tg) => tg.tags[TagKeys.cluster] === cluster);
  const owner = ruleOwnerTags(clusterTags(cluster, 'ingress'));
  const found = await Promise.all(
    owned.flatMap((tg) =>
      tg.loadBalancerArns.map(async (lbArn) => {
        const listeners = await listListeners(clients, lbArn);
        return Promise.all(listeners.map((l) => findListenerRuleByTags(clients, l.ListenerArn!, owner)));
      }),
    ),
  );
  const rules: { arn: string; name: string }[] = [];
  for (const rule of found.flat()) {
    if (rule && !rules.some((r) => r.arn === rule.arn)) {
      rules.push({ arn: rule.arn, name: rule.hostHeaders.join(',') || rule.arn });
    }
  }
  return { live, owned, rules };
}

/** Everything the cluster owns in the region (reads only). */
export async function discoverCluster(clients: AwsClients, cluster: string, region: string): Promise<ClusterInventory> {
  const roleNames = [names.controlPlaneRole(cluster, region), names.nodeRole(cluster, region)];
  // Independent reads run together: the lists, each role and its instance profile, the ingress target groups.
  const [lists, identities, ingress] = await Promise.all([
    Promise.all([
      listClusterAutoScalingGroups(clients, cluster),
      listClusterLaunchTemplates(clients, cluster),
      listParametersByPath(clients, names.ssmPrefix(cluster)),
      listClusterSecurityGroups(clients, cluster),
      listClusterInstances(clients, cluster),
    ]),
    Promise.all(
      roleNames.map((r) => Promise.all([findInstanceProfile(clients, r), findIamRole(clients, r)])),
    ),
    discoverIngress(clients, cluster),
  ]);
  const [autoScalingGroups, launchTemplates, parameters, securityGroups, instances] = lists;
  const inv: ClusterInventory = {
    cluster,
    ingressRules: ingress.rules,
    targetGroups: ingress.owned.map((tg) => ({ arn: tg.arn, name: tg.name })),
    targetGroupAttachments: [],
    autoScalingGroups,
    strayInstances: instances.filter((i) => !i.autoScalingGroup && i.state !== 'shutting-down').map((i) => i.instanceId),
    launchTemplates,
    parameters: parameters.map((p) => p.Name!).filter((n) => n.startsWith(`${names.ssmPrefix(cluster)}/`)),
    instanceProfiles: roleNames.filter((_, i) => identities[i][0]?.tags[TagKeys.cluster] === cluster),
    roles: roleNames.filter((_, i) => identities[i][1]?.owner === cluster),
    securityGroups: securityGroups.map((g) => g.groupId),
  };
  // By ARN, not by the target group: an earlier run may have deleted it while groups still list it, and
  // a group listing a target group that no longer exists cannot scale (TargetGroupNotFound).
  for (const g of autoScalingGroups) {
    const arns = g.targetGroupArns.filter((arn) => {
      const name = targetGroupNameOfArn(arn);
      if (names.ingressSlot(cluster, name) === undefined) return false;
      const tg = ingress.live.get(name!);
      return arn !== tg?.arn || tg.tags[TagKeys.cluster] === cluster;
    });
    if (arns.length)
      inv.targetGroupAttachments.push({
        group: g.name,
        targetGroupArns: arns,
        targetGroupName: arns.map(targetGroupNameOfArn).join(', '),
      });
  }
  return inv;
}

export function inventoryChanges(inv: ClusterInventory): PlannedChange[] {
  const del = (type: string, name: string, id?: string): PlannedChange => ({ action: 'delete', type, name, ...(id ? { id } : {}) });
  return [
    ...inv.ingressRules.map((r) => del(LISTENER_RULE_TYPE, r.name, r.arn)),
    ...inv.targetGroupAttachments.map((a): PlannedChange => ({ action: 'update', type: TARGET_GROUP_ATTACHMENT_TYPE, name: a.group, id: a.group, details: [`detach ${a.targetGroupName}`] })),
    ...inv.autoScalingGroups.map((g) => del(AUTO_SCALING_GROUP_TYPE, g.name, g.name)),
    ...inv.targetGroups.map((t) => del(TARGET_GROUP_TYPE, t.name, t.arn)),
    ...inv.strayInstances.map((i) => del(INSTANCE_TYPE, i, i)),
    ...inv.launchTemplates.map((t) => del(LAUNCH_TEMPLATE_TYPE, t.name, t.id)),
    ...inv.parameters.map((p) => del(SSM_PARAMETER_TYPE, p, p)),
    ...inv.instanceProfiles.map((p) => del(INSTANCE_PROFILE_TYPE, p, p)),
    ...inv.roles.map((r) => del(IAM_ROLE_TYPE, r, r)),
    ...inv.securityGroups.map((g) => del(SECURITY_GROUP_TYPE, names.securityGroup(inv.cluster), g)),
  ];
}

/** Deletes of one kind in flight at once (an SSM DeleteParameters batch holds 10 names). */
const PARALLEL_DELETES = 10;

/** Waits for every promise, then throws the first failure: what the others did is done and recorded. */
async function allSettledOrThrow(work: Promise<unknown>[]): Promise<void> {
  const settled = await Promise.allSettled(work);
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

/** Runs `fn` on every item, `limit` at a time; every item is tried, then the first failure is thrown. */
async function eachLimited<T>(items: T[], limit: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  const queue = [...items];
  const failures: unknown[] = [];
  const worker = async (): Promise<void> => {
    while (queue.length) {
      const item = queue.shift()!;
      try {
        await fn(item);
      } catch (error) {
        failures.push(error);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failures.length) throw failures[0];
}

export interface ClusterDeleteResult {
  cluster: string;
  region: string;
  dryRun: boolean;
  planned: PlannedChange[];
}

/** Ingress-mode endpoints whose listener rule forwards to the cluster's ingress target group. */
async function endpointsForwardingTo(deps: WorkflowDeps, cluster: string, inv: ClusterInventory): Promise<StoredEndpointConfig[]> {
  if (inv.targetGroups.length === 0) return [];
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
  const inv = await discoverCluster(deps.clients, cluster, deps.region);
  const planned = inventoryChanges(inv);
  if (planned.length === 0) {
    throw new UserError(`cluster ${cluster} does not exist in ${deps.region}`, 'see k3sctl cluster list (is the region right?)', 'name');
  }
  // Before any write: the ingress target group cannot be deleted while an endpoint's rule forwards to it
  // (ELBv2 ResourceInUse), and deleting the cluster would take it out of the endpoint's traffic.
  const endpoints = await endpointsForwardingTo(deps, cluster, inv);
  const alone = endpoints.filter((e) => e.clusters.every((c) => c === cluster));
  if (endpoints.length && (!options.force || alone.length)) {
    const list = (options.force ? alone : endpoints).map((e) => `${e.service} (${e.host})`).join(', ');
    const others = (e: StoredEndpointConfig) => e.clusters.filter((c) => c !== cluster);
    throw new UserError(
      options.force
        ? `cluster ${cluster} is the only cluster behind endpoint(s) ${list}; an endpoint cannot forward to nothing`
        : `cluster ${cluster} still receives traffic from endpoint(s) ${list}: their listener rules forward to its ingress target group (${inv.targetGroups.map((t) => t.name).join(', ')})`,
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
  const scale = deps.timeoutScale ?? 1;
  return runWorkflow(
    deps,
    `cluster delete ${cluster}`,
    async (run) => {
      deps.events.emit({ kind: 'plan', changes: planned });
      const base = { cluster, region: deps.region, planned };
      if (options.dryRun) return { ...base, dryRun: true };
      if (hasChanges(planned) && options.confirm && !(await options.confirm(planned))) throw new UserError('cancelled: nothing was deleted');
      if (endpoints.length) await detachFromEndpoints(run, cluster, inv.targetGroups.map((t) => t.arn), endpoints);

      // Ingress traffic stops before any instance drains: the rule goes (no new requests reach the
      // cluster), then the target group leaves the groups (its targets deregister at once instead of one
      // scale-in at a time). Forward only, like the deletes: no undo re-attaches a cluster being deleted.
      if (inv.ingressRules.length || inv.targetGroupAttachments.length) {
        await run.step('stop ingress traffic: delete the listener rule, detach the target group', async (ctx) => {
          await deleteIngressRules(ctx, inv.ingressRules);
          for (const a of inv.targetGroupAttachments) {
            await journaledWrite(ctx, { action: 'update', type: TARGET_GROUP_ATTACHMENT_TYPE, name: a.group, id: a.group }, () =>
              detachTargetGroups(ctx.clients, a.group, a.targetGroupArns),
            );
            run.record({ action: 'update', type: TARGET_GROUP_ATTACHMENT_TYPE, name: a.group, id: a.group, details: [`detach ${a.targetGroupName}`] });
          }
        });
      }
      // Control planes last: nodes drain through them. A control-plane group starts scaling in once every
      // node is past its termination hook (drained and gone from the cluster), while the nodes shut down.
      const nodeGroups = inv.autoScalingGroups.filter((g) => g.role !== 'control-plane');
      const cpGroups = inv.autoScalingGroups.filter((g) => g.role === 'control-plane');
      const drainAndDelete = (g: AutoScalingGroupState, onDrained?: () => void) =>
        run.step(`drain and delete ${g.name}`, (ctx) => drainAndDeleteGroup(ctx, g.name, scale, onDrained));
      const nodeSteps = nodeGroups.map((g) => {
        let drained!: () => void;
        const isDrained = new Promise<void>((resolve) => (drained = resolve));
        const step = drainAndDelete(g, drained);
        const drainedOrFailed = Promise.race([
          isDrained.then(() => true),
          step.then(
            () => true,
            () => false,
          ),
        ]);
        return { step, drainedOrFailed };
      });
      // A node group that failed before it drained: its nodes may still be in the cluster.
      const cpSteps = Promise.all(nodeSteps.map((n) => n.drainedOrFailed)).then((drained) =>
        drained.every(Boolean) ? allSettledOrThrow(cpGroups.map((g) => drainAndDelete(g))) : undefined,
      );
      // Every group settles before a failure is reported, so the result lists all that was done.
      await allSettledOrThrow([...nodeSteps.map((n) => n.step), cpSteps]);
      await run.step('terminate instances outside any group', async (ctx) => {
        const strays = (await listClusterInstances(ctx.clients, cluster)).filter((i) => !/^(shutting-down|terminated)$/.test(i.state));
        for (const i of strays) {
          await journaledWrite(ctx, { action: 'delete', type: INSTANCE_TYPE, name: i.instanceId, id: i.instanceId }, () => terminateInstances(ctx.clients, [i.instanceId]));
        }
        const poll = { timeoutMs: 20 * 60_000 * scale, ...STEADY_DRAIN_POLL };
        await waitFor(ctx, { what: `instances of cluster ${cluster} terminated`, ...poll }, async () => {
          const left = await listClusterInstances(ctx.clients, cluster);
          return { done: left.length === 0, seen: left.map((i) => `${i.instanceId} ${i.state}`).join(', ') || 'none' };
        });
      });
      const remove = (ctx: RunContext, type: string, name: string, id: string, del: () => Promise<unknown>) =>
        journaledWrite(ctx, { action: 'delete', type, name, id }, del);
      // No instance is left: what remains is independent of each other (a role goes after its instance
      // profile), and every delete is tried before a failure is reported. The security group goes last,
      // once the rest is gone: with the settings parameter it is how `cluster list` finds a cluster, so a
      // delete that fails halfway leaves the cluster listed (incomplete) for the next delete.
      await allSettledOrThrow([
        // After its targets had the groups' drain to deregister.
        ...(inv.targetGroups.length
          ? [run.step('delete the ingress target groups', (ctx) => eachLimited(inv.targetGroups, PARALLEL_DELETES, (t) => deleteIngressTargetGroup(ctx, t)))]
          : []),
        run.step('delete launch templates', (ctx) =>
          eachLimited(inv.launchTemplates, PARALLEL_DELETES, (lt) =>
            remove(ctx, LAUNCH_TEMPLATE_TYPE, lt.name, lt.id, () => deleteLaunchTemplate(ctx.clients, lt.id)),
          ),
        ),
        run.step('delete SSM parameters', async (ctx) => {
          // Listed again now that no instance runs: instances write under the path themselves (the
          // `initialized` marker, bootstrap-failures/ID), also while their groups drain.
          const prefix = `${names.ssmPrefix(cluster)}/`;
          const listed = await listParametersByPath(ctx.clients, names.ssmPrefix(cluster));
          const now = listed.map((p) => p.Name!).filter((n) => n.startsWith(prefix));
          await eachLimited([...new Set([...inv.parameters, ...now])], PARALLEL_DELETES, (p) =>
            remove(ctx, SSM_PARAMETER_TYPE, p, p, () => deleteParameters(ctx.clients, [p])),
          );
        }),
        run.step('delete instance profiles and roles', (ctx) =>
          // IAM refuses to delete a role still in an instance profile (DeleteConflict): each profile first.
          eachLimited([...new Set([...inv.instanceProfiles, ...inv.roles])], PARALLEL_DELETES, async (n) => {
            if (inv.instanceProfiles.includes(n)) {
              await remove(ctx, INSTANCE_PROFILE_TYPE, n, n, () => deleteInstanceProfile(ctx.clients, n));
            }
            if (inv.roles.includes(n)) {
              await remove(ctx, IAM_ROLE_TYPE, n, n, () => deleteIamRole(ctx.clients, n));
            }
          }),
        ),
      ]);
      await run.step('delete the security group', (ctx) =>
        eachLimited(inv.securityGroups, PARALLEL_DELETES, (id) =>
          // DependencyViolation while network interfaces of terminated instances are released.
          remove(ctx, SECURITY_GROUP_TYPE, names.securityGroup(cluster), id, () =>
            retryWhileNotReady(
              ctx,
              {
                what: `security group ${id} free of instances`,
                timeoutMs: 15 * 60_000 * scale,
                intervalMs: 5_000,
                retryable: (e) => (e as { name?: string })?.name === 'DependencyViolation',
              },
              () => deleteSecurityGroup(ctx.clients, id),
            ),
          ),
        ),
      );
      return { ...base, dryRun: false };
    },
    { signal: options.signal },
  );
}
