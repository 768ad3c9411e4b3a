// What cluster create, controlplane/nodegroup add and nodegroup scale share around the cluster's tasks
// (those come from the providers: ProviderRegistry.clusterTasks over the model's view): the ingress a
// new declaration drops, the stored declaration's tasks alone (upgrade, a version-1 rewrite), the waits
// for InService and for the nodes Ready, and out-of-date instance reporting.
import { setMaxListeners } from 'node:events';
import type { AwsClients } from '../../aws/clients';
import { clusterTags, TagKeys } from '../../aws/tags';
import { names } from '../../aws/names';
import { isAwsError, UserError, type NotReadyInstance } from '../../core/errors';
import type { PlannedChange } from '../../core/events';
import type { StoredClusterConfig, StoredGroup } from '../../model/cluster';
import { readClusterConfig } from '../../model/read';
import type { ClusterScope } from '../../provider/cluster';
import { declarationParameters, ingressRuleName } from '../../model/view';
import { findAutoScalingGroup, groupAutoScalingGroupRef, listClusterAutoScalingGroups } from '../../resources/autoScalingGroup';
import { isLeaving } from '../../resources/autoScalingInstance';
import { declarationTasks, listParametersByPath } from '../../resources/ssmParameter';
import {
  deleteTargetGroupJournaled,
  findTargetGroupByName,
  ingressTargetGroupRef,
  TARGET_GROUP_TYPE,
  targetGroupHealth,
} from '../../resources/targetGroup';
import { deleteListenerRules, findListenerRuleByTags, LISTENER_RULE_TYPE, ruleOwnerTags } from '../../resources/listenerRule';
import { listEndpointConfigs } from '../../resources/endpointConfig';
import type { WorkflowDeps } from '../deps';
import { waitFor, type Run, type Task } from '../engine';
import { WaitTimeoutError } from '../../core/errors';
import { kubernetesNodeReadiness, ssmShellRunner, type ShellRunner } from './recycleNodeReadiness';

/**
 * The reasons instances recorded for a bootstrap that failed for good, by instance id, from a
 * GetParametersByPath listing of the cluster's path (or of its bootstrap-failures path).
 */
export function bootstrapFailuresOf(params: { Name?: string; Value?: string; LastModifiedDate?: Date }[], cluster: string): Map<string, { reason: string; at?: Date }> {
  const prefix = `${names.ssmBootstrapFailures(cluster)}/`;
  const out = new Map<string, { reason: string; at?: Date }>();
  for (const p of params) {
    if (!p.Name?.startsWith(prefix)) continue;
    const instanceId = p.Name.slice(prefix.length);
    if (instanceId && !instanceId.includes('/')) out.set(instanceId, { reason: p.Value ?? '', at: p.LastModifiedDate });
  }
  return out;
}

/** Like readClusterConfig, but a missing cluster is a UserError (exit 2). */
export async function requireClusterConfig(deps: WorkflowDeps, cluster: string, scope?: ClusterScope): Promise<StoredClusterConfig> {
  const config = await readClusterConfig(deps.clients, cluster, scope);
  if (!config) {
    throw new UserError(`cluster ${cluster} does not exist in ${deps.region} (no ${names.ssmConfig(cluster)})`, 'see k3sctl cluster list', 'cluster');
  }
  return config;
}

/** What is left of the ingress on ALBs the declaration dropped: deleted by the run that drops them. */
export interface IngressRemoval {
  rules: { arn: string; name: string }[];
  targetGroups: { arn: string; name: string }[];
}

/**
 * The rule and target group of each ALB the stored ingress has and `config` no longer declares (reads
 * only). Refused (exit 2, before any write) while an ingress endpoint on such an ALB forwards to the
 * cluster: its target group cannot go (ELBv2 ResourceInUse), and the endpoint would lose the cluster.
 */
export async function findIngressRemoval(
  clients: AwsClients,
  existing: StoredClusterConfig | undefined,
  config: StoredClusterConfig,
): Promise<IngressRemoval> {
  const kept = new Set((config.ingress?.albs ?? []).map((a) => a.targetGroupName));
  const removed = (existing?.ingress?.albs ?? []).filter((a) => !kept.has(a.targetGroupName));
  const removal: IngressRemoval = { rules: [], targetGroups: [] };
  if (!removed.length) return removal;
  const cluster = config.name;
  const listeners = new Set(removed.map((a) => a.listenerArn));
  const endpoints = (await listEndpointConfigs(clients)).filter(
    (e) => e.mode === 'ingress' && e.clusters.includes(cluster) && listeners.has(e.listenerArn),
  );
  if (endpoints.length) {
    throw new UserError(
      `--ingress-alb: endpoint(s) ${endpoints.map((e) => `${e.service} (${e.host})`).join(', ')} forward to ${cluster}'s target group on an ALB the run would drop (${removed.map((a) => a.albName).join(', ')})`,
      `take ${cluster} out of them first (k3sctl endpoint create SERVICE ... without --cluster ${cluster}), or keep the ALB`,
      '--ingress-alb',
    );
  }
  const owner = ruleOwnerTags(clusterTags(cluster, 'ingress'));
  await Promise.all(
    removed.map(async (alb) => {
      const [rule, tg] = await Promise.all([
        // The ALB (and with it the rule) may be gone already.
        findListenerRuleByTags(clients, alb.listenerArn, owner).catch((error: unknown) => {
          if (isAwsError(error, 'ListenerNotFound', 'LoadBalancerNotFound')) return undefined;
          throw error;
        }),
        findTargetGroupByName(clients, alb.targetGroupName),
      ]);
      if (rule) removal.rules.push({ arn: rule.arn, name: ingressRuleName(cluster, existing!.ingress!.host, alb) });
      if (tg && tg.tags[TagKeys.cluster] === cluster)
        removal.targetGroups.push({ arn: tg.arn, name: tg.name });
    }),
  );
  return removal;
}

export function ingressRemovalChanges(removal: IngressRemoval): PlannedChange[] {
  return [
    ...removal.rules.map((r): PlannedChange => ({
      action: 'delete',
      type: LISTENER_RULE_TYPE,
      name: r.name,
      id: r.arn,
    })),
    ...removal.targetGroups.map((t): PlannedChange => ({
      action: 'delete',
      type: TARGET_GROUP_TYPE,
      name: t.name,
      id: t.arn,
    })),
  ];
}

/**
 * Deletes the rules of the dropped ALBs: before apply, so that traffic there stops before the groups
 * detach the target groups. What the user asked to remove stays removed.
 */
export async function deleteRemovedIngressRules(run: Run, removal: IngressRemoval): Promise<void> {
  if (!removal.rules.length) return;
  await run.step('stop ingress traffic on the dropped ALBs: delete their listener rules', (ctx) => deleteListenerRules(ctx, removal.rules));
}

/** Deletes the target groups of the dropped ALBs, once apply has detached them from every group. */
export async function deleteRemovedIngressTargetGroups(run: Run, removal: IngressRemoval): Promise<void> {
  if (!removal.targetGroups.length) return;
  await run.step('delete the target groups of the dropped ALBs', async (ctx) => {
    for (const t of removal.targetGroups) await deleteTargetGroupJournaled(ctx, t);
  });
}

/** The stored declaration's parameters: the settings and every group (a version-1 configuration rewritten, upgrade). */
export function storedConfigTasks(config: StoredClusterConfig): Task[] {
  return declarationTasks(config.name, declarationParameters(config, config.groups));
}

export interface OutOfDateInstance {
  instanceId: string;
  group: string;
  launchTemplateVersion?: string;
  currentVersion?: string;
}

/** Instances of the converged groups launched from another launch template version than the group's. */
export function outOfDate(run: Run, groups: StoredGroup[]): OutOfDateInstance[] {
  const out: OutOfDateInstance[] = [];
  for (const g of groups) {
    const asg = run.ctx.get(groupAutoScalingGroupRef(g.name));
    if (!asg) continue;
    for (const i of asg.instances) {
      if (isLeaving(i.lifecycleState)) continue;
      if (i.launchTemplateVersion !== asg.launchTemplateVersion) {
        out.push({ instanceId: i.instanceId, group: g.name, launchTemplateVersion: i.launchTemplateVersion, currentVersion: asg.launchTemplateVersion });
      }
    }
  }
  return out;
}

// Poll period of the InService / target-health waits. The awaited transitions take a minute or more and
// one poll is one read per group, so a short fixed period is cheap and bounds how late the end is seen
// (a backoff to 30 s made `cluster create` report up to 30 s after the cluster was ready).
const GROUP_POLL_MS = 5_000;

/**
 * Waits until every group has its desired count InService and, with ingress, the ingress target group
 * has that many healthy targets. The waits run side by side (targets register when instances go
 * InService, so the health wait ends last without waiting for the group waits to be observed first);
 * the first to fail stops the others.
 */
export async function waitForGroups(run: Run, deps: WorkflowDeps, config: StoredClusterConfig, groups: StoredGroup[]): Promise<void> {
  const scale = deps.timeoutScale ?? 1;
  const stop = new AbortController();
  // One wait per group listens on these signals: a cluster of many groups is not a listener leak.
  setMaxListeners(0, stop.signal);
  const signalOf = (ctx: { signal?: AbortSignal }) => {
    if (!ctx.signal) return stop.signal;
    setMaxListeners(0, ctx.signal);
    const both = AbortSignal.any([ctx.signal, stop.signal]);
    setMaxListeners(0, both);
    return both;
  };
  const waits: Promise<void>[] = groups.map((g) => {
    const asgName = names.autoScalingGroup(config.name, g.name);
    const unhealthy = new UnhealthyInstances(config.name);
    return run.step(`wait for ${g.count} instance(s) of ${asgName} InService`, (ctx) =>
      waitFor(
        ctx,
        { what: `${g.count} instance(s) of ${asgName} InService`, timeoutMs: 20 * 60_000 * scale, intervalMs: GROUP_POLL_MS, maxIntervalMs: GROUP_POLL_MS, signal: signalOf(ctx) },
        async () => {
          const asg = await findAutoScalingGroup(ctx.clients, asgName, { hooks: false });
          const live = (asg?.instances ?? []).filter((i) => !isLeaving(i.lifecycleState));
          const inService = live.filter(isServing).length;
          const states = [...new Set(live.map((i) => i.lifecycleState))].map((s) => `${live.filter((i) => i.lifecycleState === s).length} ${s}`);
          // The group replaces them, so the wait goes on; what they recorded is named meanwhile.
          await unhealthy.observe(ctx.clients, asg?.instances ?? []);
          return {
            done: inService >= g.count && live.length === g.count,
            seen: `${inService}/${g.count} InService${states.length ? ` (${states.join(', ')})` : ''}${unhealthy.describe()}`,
          };
        },
      ),
    );
  });
  const expected = groups.reduce((n, g) => n + g.count, 0);
  for (const alb of config.ingress?.albs ?? []) {
    const tg = run.ctx.get(ingressTargetGroupRef(alb.targetGroupName));
    if (tg && expected > 0) {
      waits.push(
        run.step(`wait for ${tg.name} targets healthy`, (ctx) =>
          waitFor(
            ctx,
            { what: `${expected} healthy target(s) in ${tg.name}`, timeoutMs: 15 * 60_000 * scale, intervalMs: GROUP_POLL_MS, maxIntervalMs: GROUP_POLL_MS, signal: signalOf(ctx) },
            async () => {
              const h = await targetGroupHealth(ctx.clients, tg.arn);
              return { done: h.healthy >= expected, seen: `${h.healthy}/${h.total} healthy (${Object.entries(h.states).map(([s, n]) => `${n} ${s}`).join(', ') || 'no targets'})` };
            },
          ),
        ),
      );
    }
  }
  try {
    await Promise.all(waits.map((w) => w.catch((error: unknown) => {
      stop.abort();
      throw error;
    })));
  } finally {
    stop.abort();
    // The stopped waits end with InterruptedError: settle them before the run goes on (rollback).
    await Promise.allSettled(waits);
  }
}

/** At most this many unhealthy instances are named in a wait's progress text (the newest). */
const UNHEALTHY_SHOWN = 3;

/**
 * Instances a wait has seen Unhealthy (an instance whose bootstrap fails for good marks itself so), with
 * the reason each recorded under the cluster's bootstrap-failures path. Kept after their group replaced
 * them, so a timeout still says what went wrong. The path is read only while a listed Unhealthy
 * instance has no reason yet: nothing is read while every instance is healthy.
 */
export class UnhealthyInstances {
  private readonly seen = new Map<string, string | undefined>();

  constructor(private readonly cluster: string) {}

  async observe(clients: AwsClients, instances: { instanceId: string; healthStatus: string }[]): Promise<void> {
    const sick = instances.filter((i) => i.healthStatus === 'Unhealthy').map((i) => i.instanceId);
    for (const id of sick) if (!this.seen.has(id)) this.seen.set(id, undefined);
    if (!sick.some((id) => this.seen.get(id) === undefined)) return;
    const failures = bootstrapFailuresOf(await listParametersByPath(clients, names.ssmBootstrapFailures(this.cluster)), this.cluster);
    for (const id of sick) if (failures.has(id)) this.seen.set(id, failures.get(id)!.reason);
  }

  get size(): number {
    return this.seen.size;
  }

  /** The reason instance `id` recorded, when it was seen Unhealthy and recorded one. */
  reasonOf(id: string): string | undefined {
    return this.seen.get(id);
  }

  /** `; N Unhealthy so far (...): i-1 (bootstrap failed: reason), ...`, or '' when none was seen. */
  describe(): string {
    return this.seen.size ? `; ${this.summary()}` : '';
  }

  /** `N Unhealthy so far (the group replaces them): i-1 (bootstrap failed: reason), ...`. */
  summary(): string {
    const all = [...this.seen];
    const shown = all.slice(-UNHEALTHY_SHOWN).map(([id, reason]) => {
      const text = reason === undefined ? 'no bootstrap failure recorded' : `bootstrap failed: ${reason.length > 200 ? `${reason.slice(0, 197)}...` : reason}`;
      return `${id} (${text})`;
    });
    const more = all.length > shown.length ? ` and ${all.length - shown.length} earlier` : '';
    return `${all.length} Unhealthy so far (the group replaces them): ${shown.join(', ')}${more}`;
  }
}

/** An instance that serves in its group: InService and not marked Unhealthy (a failed bootstrap marks itself so). */
function isServing(i: { lifecycleState?: string; healthStatus?: string }): boolean {
  return i.lifecycleState === 'InService' && i.healthStatus !== 'Unhealthy';
}

// Readiness polls: each is an SSM command (SendCommand is a write, ~2 s to a result), started right after
// the InService waits. The servers of a new cluster turn Ready within a minute of InService, so the
// first polls come a few seconds apart; then they back off, so a cluster that never answers costs a few
// dozen commands per window, not one per second.
const NODES_POLL_MS = 2_000;
const NODES_POLL_MAX_MS = 15_000;
/** The readiness window when none is given: 15 min (x timeoutScale). */
export const DEFAULT_NODES_READY_TIMEOUT_MS = 15 * 60_000;
/** How long one SSM command may take to finish: at most this, at least SSM_COMMAND_MIN_MS, within the window. */
const SSM_COMMAND_MAX_MS = 60_000;
const SSM_COMMAND_MIN_MS = 10_000;

export interface NodesReadyOptions {
  /**
   * The readiness window: how long to wait until every InService instance is a Ready node, including
   * the time while no control plane answers (default 15 min x timeoutScale).
   */
  timeoutMs?: number;
  runner?: ShellRunner;
}

/**
 * `ready: true`: every InService instance was seen a Ready node. `ready: false`: the window closed first
 * (`notReady` names the instances and what was last heard of each). `ready: null`: not checked (the
 * node list does not fit SSM's output limit; `why` says so).
 */
export type NodesReadiness =
  | { ready: true }
  | { ready: false; notReady: NotReadyInstance[]; timeoutMs: number }
  | { ready: null; why: string };

/**
 * Waits until every InService instance of the cluster is a Ready Kubernetes node, asked through SSM Run
 * Command on an InService control plane (recycleNodeReadiness), for one readiness window. A control plane
 * that gives no answer (an empty output, a command still pending) is polled again, with backoff. When the
 * window closes first, the step fails in the progress display but the run does not: the result names
 * the instances not Ready, and the caller decides (cluster create keeps its resources, exit 4).
 */
export async function waitForNodesReady(run: Run, deps: WorkflowDeps, config: StoredClusterConfig, options: NodesReadyOptions = {}): Promise<NodesReadiness> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_NODES_READY_TIMEOUT_MS * (deps.timeoutScale ?? 1);
  let tooLarge: string | undefined;
  const base = options.runner ?? ssmShellRunner;
  let deadline = Number.POSITIVE_INFINITY;
  // While k3s is still starting every control plane refuses; asking a second one in the same poll only
  // doubles the time between polls. The second is asked on every other poll (a broken first one is
  // passed over that way).
  let poll = 0;
  let asked = 0;
  // A control plane not asked in a poll repeats its last answer, so the progress line stays the same
  // (and is printed once) while nothing changes.
  const lastError = new Map<string, string>();
  const runner: ShellRunner = async (ctx, instanceId, command) => {
    if (asked > 0 && poll % 2 === 1) return { ok: false, stdout: '', error: lastError.get(instanceId) ?? 'not asked yet' };
    asked++;
    // A command still pending at the end of the window is no answer: never wait far past the window.
    const left = deadline - ctx.clock.now();
    const res = await base(ctx, instanceId, command, Math.min(SSM_COMMAND_MAX_MS, Math.max(SSM_COMMAND_MIN_MS, left)));
    if (!res.ok) lastError.set(instanceId, res.error ?? 'failed');
    // A node list cut at the SSM output limit cannot be read, however long one waits: stop asking.
    if (!res.ok && /output limit/i.test(res.error ?? '')) tooLarge = res.error;
    return res;
  };
  const readiness = kubernetesNodeReadiness(config.name, runner);
  const what = `the instances of cluster ${config.name} Ready as Kubernetes nodes`;
  // What the last poll said about each InService instance (and its group).
  let last: { instanceId: string; group: string; lastAnswer: string }[] = [];
  let expired: WaitTimeoutError | undefined;
  // Instances whose bootstrap failed for good turn Unhealthy (after InService, usually): named while waiting.
  const unhealthy = new UnhealthyInstances(config.name);
  try {
    await run.step(`wait for the nodes of ${config.name} Ready`, async (ctx) => {
      deadline = ctx.clock.now() + timeoutMs;
      try {
        await waitFor(ctx, { what, timeoutMs, intervalMs: NODES_POLL_MS, maxIntervalMs: NODES_POLL_MAX_MS }, async () => {
          poll++;
          asked = 0;
          const groups = await listClusterAutoScalingGroups(ctx.clients, config.name);
          await unhealthy.observe(ctx.clients, groups.flatMap((g) => g.instances));
          const expected = groups
            .flatMap((g) => g.instances.filter((i) => i.lifecycleState === 'InService').map((i) => ({ instanceId: i.instanceId, group: g.name })))
            .sort((a, b) => a.instanceId.localeCompare(b.instanceId));
          // A group below its desired count of healthy InService instances is not ready either (it is
          // replacing instances, e.g. ones whose bootstrap failed): its other instances are named too.
          const short = groups.map((g) => ({ g, serving: g.instances.filter(isServing).length })).filter(({ g, serving }) => serving < g.desired);
          const replacing = short.flatMap(({ g }) =>
            g.instances.filter((i) => i.lifecycleState !== 'InService' && !isLeaving(i.lifecycleState)).map((i) => ({ instanceId: i.instanceId, group: g.name, lastAnswer: i.lifecycleState })),
          );
          const shortText = short.length ? `; ${short.map(({ g, serving }) => `${g.name} ${serving}/${g.desired} InService`).join(', ')}` : '';
          const answer = await readiness(ctx, []);
          if ('unreachable' in answer) {
            if (tooLarge) {
              tooLarge = `${tooLarge} (${expected.length} instances)`;
              return { done: true, seen: tooLarge };
            }
            const heard = [...new Set(Object.values(answer.answers ?? {}))];
            const why = heard.length === 1 ? heard[0] : answer.unreachable;
            last = [...expected.map((i) => ({ ...i, lastAnswer: `no answer (${why})` })), ...replacing];
            return { done: false, seen: `${answer.unreachable}${shortText}${unhealthy.describe()}` };
          }
          last = [...expected.map((i) => ({ ...i, lastAnswer: answer.nodes[i.instanceId] ?? 'no node' })), ...replacing];
          const notReady = last.filter((i) => i.lastAnswer !== 'Ready');
          return {
            done: notReady.length === 0 && short.length === 0,
            seen: notReady.length || short.length ? `not Ready: ${notReady.map((i) => `${i.instanceId} (${i.lastAnswer})`).join(', ') || 'none'}${shortText}${unhealthy.describe()}` : 'all Ready',
          };
        });
      } catch (error) {
        if (error instanceof WaitTimeoutError) expired = error;
        throw error;
      }
    });
  } catch (error) {
    if (error !== expired || expired === undefined) throw error;
    if (unhealthy.size) {
      deps.events.emit({
        kind: 'log',
        level: 'warn',
        message: `cluster ${config.name}: ${unhealthy.summary()}; see k3sctl cluster describe ${config.name}`,
      });
    }
    const notReady = last
      .filter((i) => i.lastAnswer !== 'Ready')
      .map((i) => {
        const reason = unhealthy.reasonOf(i.instanceId);
        return reason === undefined ? i : { ...i, lastAnswer: `${i.lastAnswer}; bootstrap failed: ${reason}` };
      });
    return { ready: false, notReady, timeoutMs };
  }
  if (tooLarge) {
    deps.events.emit({ kind: 'log', level: 'warn', message: `nodes not checked: ${tooLarge}; see k3sctl kubeconfig ${config.name} and kubectl get nodes` });
    return { ready: null, why: tooLarge };
  }
  return { ready: true };
}
