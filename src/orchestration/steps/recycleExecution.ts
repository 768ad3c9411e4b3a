// The body of a recycle (README.md, Rolling replacement and upgrades), run inside a run that `recycle`
// or `upgrade` opened: plans with recyclePlan.ts, then per group: suspend the processes that would
// fight us, raise max when a surge needs it, run the batches (surge, terminate through the ASG so the
// termination hook drains the node, health gates), and give everything back. Every capacity and process
// change is journaled with a restore undo, so a failed gate or Ctrl-C rolls the group back.
import type { AwsClients } from '../../aws/clients';
import { UserError, WaitTimeoutError } from '../../core/errors';
import type { PlannedChange } from '../../core/events';
import {
  capacityOf,
  chooseRemovals,
  clearReplacement,
  RECYCLE_SUSPENDED_PROCESSES,
  recordReplacement,
  setCapacity,
  setProcessesSuspended,
  type Capacity,
  type LaunchTemplateRevert,
} from '../../resources/groupReplacement';
import {
  describeClusterGroups,
  describeGroup,
  describeTargetStates,
  isActive,
  isDrained,
  terminateInstanceInGroup,
  terminationsAbandoned,
} from '../../resources/autoScalingInstance';
import { longestDeregistrationDelay } from '../../resources/targetGroup';
import { targetGroupNameOfArn } from '../../aws/arns';
import { listRuns, waitFor, type Run, type RunContext } from '../engine';
import {
  planGroup,
  planRecycle,
  type GroupInventory,
  type GroupPlan,
  type InventoryInstance,
  type RecycleOptions,
} from './recyclePlan';
import { kubernetesNodeReadiness, type NodeReadiness } from './recycleNodeReadiness';

export interface RecycleSpec extends RecycleOptions {
  cluster: string;
  /** Only these groups (`k3sctl.io/group` tag or ASG name); all of the cluster's groups when empty. */
  groups?: string[];
  /** How long a terminated instance may take to drain and leave (default 15 minutes). */
  drainTimeoutMs?: number;
  /** How long a new instance may take to be InService and healthy (default 15 minutes). */
  healthTimeoutMs?: number;
  dryRun?: boolean;
  /** Asked with the plan before any write (the command's prompt); false cancels. */
  confirm?: (plan: GroupPlan[]) => Promise<boolean>;
  /** The Kubernetes node Ready gate; default: SSM Run Command on a control plane, skipped when none answers. */
  nodeReadiness?: NodeReadiness | false;
  /** By Auto Scaling group name: the launch template change a rollback must undo (upgrade). */
  revert?: Record<string, LaunchTemplateRevert>;
}

export interface Replacement {
  group: string;
  autoScalingGroupName: string;
  oldInstanceId: string;
  newInstanceId?: string;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  /** Set when the termination lifecycle action was abandoned (the drain failed). */
  drainFailure?: string;
}

export interface RecycleGroupSummary {
  group: string;
  autoScalingGroupName: string;
  role: string;
  strategy: string;
  outdated: string[];
  upToDate: string[];
  batches: { surge: number; reuse?: number; terminate: string[]; decrement: number }[];
  minInService: number;
  /** The capacity the group ends at (its capacity before any replacement began). */
  original: Capacity;
  /** Set when this run finishes an earlier run's unfinished replacement. */
  resuming?: { run: string; since: string };
  /**
   * The longest deregistration delay of the group's target groups (seconds): a terminated instance
   * waits that long in Terminating (ELB connection draining) before its drain hook runs, so the drain
   * gate allows it on top of --drain-timeout.
   */
  deregistrationDelaySeconds?: number;
}

export interface RecycleResult {
  cluster: string;
  strategy: string;
  dryRun: boolean;
  groups: RecycleGroupSummary[];
  replacements: Replacement[];
  drainFailures: { instanceId: string; group: string; message: string }[];
  /** Gates that could not be evaluated (e.g. no control plane answered for node readiness). */
  skippedGates: string[];
}

const DEFAULT_TIMEOUT_MS = 15 * 60_000;
/**
 * Polls start at 1 s and back off to at most 3 s: every phase a gate waits on (launch, InService,
 * drain) lasts tens of seconds, so a poll lands at most a few percent after the transition.
 */
const POLL = { intervalMs: 1_000, maxIntervalMs: 3_000 };

/** A group to act on: instances to replace, or an earlier run's unfinished replacement to finish. */
function hasWork(plan: GroupPlan): boolean {
  return plan.batches.length > 0 || plan.resuming !== undefined || plan.excess > 0;
}

export function summarize(plan: GroupPlan): RecycleGroupSummary {
  return {
    group: plan.group,
    autoScalingGroupName: plan.autoScalingGroupName,
    role: plan.role,
    strategy: plan.strategy,
    outdated: plan.outdated,
    upToDate: plan.upToDate,
    batches: plan.batches.map((b) => ({ ...b, terminate: [...b.terminate] })),
    minInService: plan.minInService,
    original: { ...plan.original },
    ...(plan.resuming ? { resuming: { ...plan.resuming } } : {}),
  };
}

/** The plan as the JSON `changes` of a dry run: one delete per instance to replace, in order. */
export function plannedChanges(plans: GroupPlan[]): PlannedChange[] {
  return plans.flatMap((p) =>
    p.outdated.map((id) => ({
      action: 'delete' as const,
      type: 'AWS::EC2::Instance',
      name: `${p.autoScalingGroupName}/${id}`,
      id,
      details: [`replaced through ${p.autoScalingGroupName} (${p.strategy})`],
    })),
  );
}

/** Reads the cluster's groups and plans; UserError (exit 2) when nothing matches. */
export async function planClusterRecycle(
  clients: AwsClients,
  spec: RecycleSpec,
): Promise<{ inventory: GroupInventory[]; plans: GroupPlan[] }> {
  const inventory = await describeClusterGroups(clients, spec.cluster, spec.groups);
  if (inventory.length === 0) {
    const what = spec.groups?.length
      ? `groups ${spec.groups.join(', ')} of cluster ${spec.cluster}`
      : `cluster ${spec.cluster}`;
    throw new UserError(
      `no Auto Scaling groups found for ${what}`,
      'check the cluster name (k3sctl cluster list) and --group',
      spec.groups?.length ? '--group' : 'cluster',
    );
  }
  if (spec.groups?.length) {
    const found = new Set(inventory.flatMap((g) => [g.group, g.autoScalingGroupName]));
    const missing = spec.groups.filter((g) => !found.has(g));
    if (missing.length)
      throw new UserError(
        `no group ${missing.join(', ')} in cluster ${spec.cluster}`,
        `groups: ${inventory.map((g) => g.group).join(', ')}`,
        '--group',
      );
  }
  return { inventory, plans: planRecycle(inventory, spec) };
}

/** The body of a recycle inside an existing run (upgrade runs it after writing launch-template versions). */
export async function executeRecycle(run: Run, spec: RecycleSpec): Promise<RecycleResult> {
  const ctx = run.ctx;
  const { plans } = await planClusterRecycle(ctx.clients, spec);
  const result: RecycleResult = {
    cluster: spec.cluster,
    strategy: spec.strategy,
    dryRun: Boolean(spec.dryRun),
    groups: plans.map(summarize),
    replacements: [],
    drainFailures: [],
    skippedGates: [],
  };
  ctx.events.emit({ kind: 'plan', changes: plannedChanges(plans) });
  if (spec.dryRun) {
    // What a real run's drain gate allows on top of --drain-timeout (reads only).
    await Promise.all(
      plans.map(async (p, i) => {
        if (hasWork(p) && p.targetGroupArns.length) {
          result.groups[i] = { ...result.groups[i]!, deregistrationDelaySeconds: await longestDeregistrationDelay(ctx.clients, p.targetGroupArns) };
        }
      }),
    );
    return result;
  }
  refuseLiveReplacements(run, plans);
  const work = plans.filter(hasWork);
  if (work.length === 0) return result;
  if (spec.confirm && !(await spec.confirm(plans)))
    throw new UserError('recycle cancelled; nothing was changed');

  const readiness =
    spec.nodeReadiness === false ? undefined : (spec.nodeReadiness ?? kubernetesNodeReadiness(spec.cluster));
  const runner = new GroupRecycler(run, spec, result, readiness);
  try {
    for (const plan of work) await runner.recycleGroup(plan);
  } catch (error) {
    if (result.replacements.length > 0) {
      const list = result.replacements
        .map((r) => `${r.oldInstanceId} -> ${r.newInstanceId ?? '(none)'}`)
        .join(', ');
      ctx.events.emit({ kind: 'log', level: 'warn', message: `recycle stopped; already replaced: ${list}` });
    }
    throw error;
  }
  return result;
}

/**
 * Two runs replacing one group at once would each take the other's surge for their own: a replacement
 * whose run is still alive on this machine is refused (exit 2) before any write. (A run on another
 * machine cannot be seen from here; its record is resumed as an interrupted one.)
 */
function refuseLiveReplacements(run: Run, plans: GroupPlan[]): void {
  const live = plans.filter(
    (p) =>
      p.resuming &&
      p.resuming.run !== run.ctx.runId &&
      listRuns(run.deps.home).some((r) => r.runId === p.resuming!.run && r.status === 'running'),
  );
  if (live.length === 0) return;
  throw new UserError(
    `${live.map((p) => `${p.autoScalingGroupName} is being replaced by run ${p.resuming!.run}`).join('; ')}, which is still running`,
    'wait for it to finish (k3sctl runs list), or stop it first',
    '--group',
  );
}

interface GateTarget {
  /** New instances to wait for: not among `known` when the batch began. */
  known: Set<string>;
  count: number;
}

class GroupRecycler {
  private readonly healthTimeoutMs: number;
  private readonly drainTimeoutMs: number;
  /** By Auto Scaling group: the longest deregistration delay of its target groups, in ms. */
  private readonly connectionDrainingMs = new Map<string, number>();
  private readinessSkipped = false;

  constructor(
    private readonly run: Run,
    private readonly spec: RecycleSpec,
    private readonly result: RecycleResult,
    private readonly readiness: NodeReadiness | undefined,
  ) {
    const scale = run.ctx.timeoutScale ?? 1;
    this.healthTimeoutMs = (spec.healthTimeoutMs ?? DEFAULT_TIMEOUT_MS) * scale;
    this.drainTimeoutMs = (spec.drainTimeoutMs ?? DEFAULT_TIMEOUT_MS) * scale;
  }

  async recycleGroup(initial: GroupPlan): Promise<void> {
    const name = initial.autoScalingGroupName;
    let capacity: Capacity = { ...initial.original };
    /** Processes k3sctl suspended for this replacement (this run, or the interrupted run it resumes). */
    let suspended: string[] = [];
    /** Surge instances not yet matched with an instance they replace. */
    const pendingSurge: string[] = [];
    const plan = await this.run.step(
      `prepare ${name}: ${initial.outdated.length} to replace (${initial.strategy})`,
      async (ctx) => {
        // A killed earlier run may have left a replacement still launching: start from a settled group,
        // and plan it again from what it is now (earlier groups took time; the group may have changed).
        const group = await this.waitSettled(ctx, initial);
        const fresh = planGroup(group, this.spec);
        const index = this.result.groups.findIndex((g) => g.autoScalingGroupName === name);
        if (!hasWork(fresh)) {
          if (index >= 0) this.result.groups[index] = summarize(fresh);
          return fresh;
        }
        const delaySeconds = await longestDeregistrationDelay(ctx.clients, fresh.targetGroupArns);
        this.connectionDrainingMs.set(name, delaySeconds * 1000);
        if (index >= 0) this.result.groups[index] = { ...summarize(fresh), ...(fresh.targetGroupArns.length ? { deregistrationDelaySeconds: delaySeconds } : {}) };
        capacity = capacityOf(group);
        const toSuspend = RECYCLE_SUSPENDED_PROCESSES.filter((p) => !group.suspendedProcesses.includes(p));
        suspended = [...new Set([...(group.replacement?.suspended ?? []), ...toSuspend])];
        // Recorded in AWS before the first change: a re-run from anywhere resumes from this baseline.
        await recordReplacement(
          ctx,
          name,
          {
            run: ctx.runId,
            since: group.replacement?.since ?? new Date(ctx.clock.now()).toISOString(),
            ...fresh.original,
            suspended,
          },
          {
            groupName: name,
            role: group.role,
            baseline: fresh.original,
            suspended,
            original: group.instances.filter(isActive).map((i) => i.instanceId),
            ...(this.spec.revert?.[name] ? { revert: this.spec.revert[name] } : {}),
          },
        );
        await setProcessesSuspended(ctx, name, toSuspend, true);
        if (fresh.peakDesired > capacity.max)
          capacity = await setCapacity(ctx, name, capacity, { max: fresh.peakDesired });
        return fresh;
      },
    );
    if (!hasWork(plan)) return;
    const version = plan.currentVersion;
    /** Instances an interrupted run surged, counted as this run's surge by the batches that reuse them. */
    const reused = new Set<string>();

    for (const [index, batch] of plan.batches.entries()) {
      const title =
        `${name}: batch ${index + 1}/${plan.batches.length}` +
        (batch.terminate.length ? ` (${batch.terminate.join(', ')})` : ' (canary)');
      await this.run.step(title, async (ctx) => {
        const started = ctx.clock.now();
        const before = await this.mustDescribe(ctx, name, version);
        const known = new Set(before.instances.map((i) => i.instanceId));
        const reuse = batch.reuse ?? 0;
        let surged: string[] = [];
        if (batch.surge + reuse > 0) {
          // The leftover surge is up to date and already counted in desired: it passes the same gates.
          const leftover = before.instances
            .filter((i) => isActive(i) && i.version === version)
            .filter((i) => !reused.has(i.instanceId) && !pendingSurge.includes(i.instanceId))
            .slice(0, reuse);
          for (const i of leftover) {
            known.delete(i.instanceId);
            reused.add(i.instanceId);
          }
          if (batch.surge > 0)
            capacity = await setCapacity(ctx, name, capacity, { desired: capacity.desired + batch.surge });
          this.phase(ctx, batch.terminate, `surge +${batch.surge + reuse}: waiting for new instances`);
          surged = await this.gates(
            ctx,
            plan,
            version,
            { known, count: batch.surge + reuse },
            started,
            batch.terminate[0] ?? '(canary)',
          );
          for (const id of surged) known.add(id);
        }
        pendingSurge.push(...surged);
        if (batch.terminate.length === 0) return;
        // Issued together: the batch's instances drain in parallel, as the plan's capacity promise assumes.
        const terminatedAt = ctx.clock.now();
        this.phase(
          ctx,
          batch.terminate,
          'terminating through the group (the lifecycle hook drains the node)',
        );
        await Promise.all(
          batch.terminate.map((id, i) => terminateInstanceInGroup(ctx, name, id, i < batch.decrement)),
        );
        capacity = { ...capacity, desired: capacity.desired - batch.decrement };
        const elbDraining = this.connectionDrainingMs.get(name) ?? 0;
        this.phase(
          ctx,
          batch.terminate,
          elbDraining > 0
            ? `draining (the target groups' ${elbDraining / 1000}s deregistration delay, then the node drain)`
            : 'draining',
        );
        const replaced = batch.terminate.length - batch.decrement;
        let fresh: string[] = [];
        // Replacements launch while the old instances drain: one poll watches both.
        const drain = { ids: batch.terminate, since: terminatedAt };
        if (replaced > 0)
          fresh = await this.gates(
            ctx,
            plan,
            version,
            { known, count: replaced },
            terminatedAt,
            batch.terminate[batch.decrement],
            drain,
          );
        else await this.waitDrained(ctx, plan, batch.terminate, version);
        // Instances removed with decrement are succeeded by surge instances (the canary's included).
        const successors = [...pendingSurge.splice(0, batch.decrement), ...fresh];
        const abandoned = await terminationsAbandoned(ctx.clients, name, batch.terminate);
        const finished = ctx.clock.now();
        for (const [i, oldId] of batch.terminate.entries()) {
          const drainFailure = abandoned.get(oldId);
          const startedAt = i < batch.decrement ? started : terminatedAt;
          const r: Replacement = {
            group: plan.group,
            autoScalingGroupName: name,
            oldInstanceId: oldId,
            ...(successors[i] ? { newInstanceId: successors[i] } : {}),
            startedAt: new Date(startedAt).toISOString(),
            finishedAt: new Date(finished).toISOString(),
            durationMs: finished - startedAt,
            ...(drainFailure ? { drainFailure } : {}),
          };
          this.result.replacements.push(r);
          if (drainFailure) {
            this.result.drainFailures.push({ instanceId: oldId, group: plan.group, message: drainFailure });
            ctx.events.emit({
              kind: 'log',
              level: 'warn',
              message: `${oldId}: drain failed (${drainFailure}); the instance was terminated anyway`,
            });
          }
          ctx.events.emit({
            kind: 'step-update',
            key: '',
            message: `${oldId} -> ${r.newInstanceId ?? '(removed)'} replaced in ${Math.round(r.durationMs / 1000)}s`,
          });
        }
      });
    }

    await this.run.step(`restore ${name}`, async (ctx) => {
      let now = await this.mustDescribe(ctx, name, version);
      // A surge no batch gave back (an interrupted run's, under a strategy that never decrements):
      // removed by choice, out-of-date instances first, one control plane at a time.
      const excess = chooseRemovals(now.instances, now.desired - plan.original.desired, { version });
      for (const id of excess) {
        await terminateInstanceInGroup(ctx, name, id, true);
        if (plan.role === 'control-plane') await this.waitDrained(ctx, plan, [id], version);
      }
      if (excess.length) now = await this.mustDescribe(ctx, name, version);
      await setCapacity(ctx, name, capacityOf(now), plan.original);
      await setProcessesSuspended(ctx, name, suspended, false);
      // Replaced instances leave before the run returns: a `cluster describe` right after sees only current ones.
      await this.waitLeft(ctx, plan, version);
      await clearReplacement(ctx, name);
    });
  }

  /**
   * How long a terminated instance of `groupName` may take to drain and leave: --drain-timeout, plus the
   * deregistration delay its target groups hold it in Terminating first (ELB connection draining).
   */
  private drainTimeoutFor(groupName: string): number {
    return this.drainTimeoutMs + (this.connectionDrainingMs.get(groupName) ?? 0);
  }

  private phase(ctx: RunContext, ids: string[], message: string): void {
    ctx.events.emit({ kind: 'step-update', key: '', message: `${ids.join(', ') || 'canary'}: ${message}` });
  }

  private async mustDescribe(
    ctx: RunContext,
    name: string,
    version: string | undefined,
  ): Promise<GroupInventory> {
    const g = await describeGroup(ctx.clients, name, version);
    if (!g) throw new UserError(`Auto Scaling group ${name} disappeared during the recycle`);
    return g;
  }

  /** Waits until the group has its desired number of InService instances (nothing launching). */
  private async waitSettled(ctx: RunContext, plan: GroupPlan): Promise<GroupInventory> {
    return waitFor(
      ctx,
      {
        what: `${plan.autoScalingGroupName} to be settled (desired ${plan.original.desired} InService) before the recycle`,
        timeoutMs: this.healthTimeoutMs,
        signal: ctx.signal,
        ...POLL,
      },
      async () => {
        const group = await this.mustDescribe(ctx, plan.autoScalingGroupName, plan.currentVersion);
        const states = group.instances.map((i) => `${i.instanceId} ${i.lifecycleState}`);
        const inService = group.instances.filter((i) => i.lifecycleState === 'InService').length;
        const pending = group.instances.filter((i) => i.lifecycleState.startsWith('Pending')).length;
        return {
          done: inService >= group.desired && pending === 0,
          value: group,
          seen: states.join(', ') || 'no instances',
        };
      },
    );
  }

  /** Gate: the terminated instances drained (termination hook completed) and left the group. */
  private async waitDrained(
    ctx: RunContext,
    plan: GroupPlan,
    ids: string[],
    version: string | undefined,
  ): Promise<void> {
    await waitFor(
      ctx,
      {
        what: `${ids.join(', ')} of ${plan.autoScalingGroupName} to drain and leave (gate: drain)`,
        timeoutMs: this.drainTimeoutFor(plan.autoScalingGroupName),
        signal: ctx.signal,
        ...POLL,
      },
      async () => {
        const g = await this.mustDescribe(ctx, plan.autoScalingGroupName, version);
        const still = g.instances.filter(
          (i) => ids.includes(i.instanceId) && !isDrained(i.lifecycleState),
        );
        return {
          done: still.length === 0,
          value: undefined,
          seen: still.map((i) => `${i.instanceId} ${i.lifecycleState}`).join(', ') || 'gone',
        };
      },
    );
  }

  /** Waits until no instance of the group is leaving (terminated ones gone from the group). */
  private async waitLeft(ctx: RunContext, plan: GroupPlan, version: string | undefined): Promise<void> {
    await waitFor(
      ctx,
      {
        what: `replaced instances to leave ${plan.autoScalingGroupName}`,
        timeoutMs: this.drainTimeoutFor(plan.autoScalingGroupName),
        signal: ctx.signal,
        ...POLL,
      },
      async () => {
        const g = await this.mustDescribe(ctx, plan.autoScalingGroupName, version);
        const leaving = g.instances.filter((i) => !isActive(i) && i.lifecycleState !== 'Terminated');
        return {
          done: leaving.length === 0,
          value: undefined,
          seen: leaving.map((i) => `${i.instanceId} ${i.lifecycleState}`).join(', '),
        };
      },
    );
  }

  /**
   * Health gates for `target.count` new instances (not in `target.known`): InService, then healthy in
   * every target group of the group, then (when reachable) Kubernetes node Ready. Returns their ids.
   */
  private async gates(
    ctx: RunContext,
    plan: GroupPlan,
    version: string | undefined,
    target: GateTarget,
    started: number,
    forInstance: string,
    drain?: { ids: string[]; since: number },
  ): Promise<string[]> {
    const name = plan.autoScalingGroupName;
    const remaining = () => Math.max(1, started + this.healthTimeoutMs - ctx.clock.now());
    const about = `replacement of ${forInstance} in ${name}`;
    const fresh = (g: GroupInventory): InventoryInstance[] =>
      g.instances.filter((i) => !target.known.has(i.instanceId) && !/^Terminat/.test(i.lifecycleState));
    const inServiceWhat = `${target.count} new instance(s) InService (${about}; gate: InService)`;
    const drainWhat = drain ? `${drain.ids.join(', ')} of ${name} to drain and leave (gate: drain)` : '';
    const drainTimeoutMs = this.drainTimeoutFor(name);
    const deadline = Math.max(started + this.healthTimeoutMs, drain ? drain.since + drainTimeoutMs : 0);

    const inService = await waitFor<string[]>(
      ctx,
      {
        what: drain ? `${drainWhat} and ${inServiceWhat}` : inServiceWhat,
        // Each gate enforces its own deadline in the probe; this one only backs them up.
        timeoutMs: drain ? Math.max(1, deadline - ctx.clock.now()) + 60_000 : remaining(),
        signal: ctx.signal,
        ...POLL,
      },
      async () => {
        const g = await this.mustDescribe(ctx, name, version);
        const news = fresh(g);
        const ready = news.filter((i) => i.lifecycleState === 'InService' && i.healthStatus === 'Healthy');
        const seenNew =
          news.map((i) => `${i.instanceId} ${i.lifecycleState}/${i.healthStatus}`).join(', ') ||
          'no new instance yet';
        const still = drain
          ? g.instances.filter((i) => drain.ids.includes(i.instanceId) && !isDrained(i.lifecycleState))
          : [];
        const seenOld = still.map((i) => `${i.instanceId} ${i.lifecycleState}`).join(', ') || 'gone';
        const now = ctx.clock.now();
        if (drain && still.length > 0 && now >= drain.since + drainTimeoutMs)
          throw new WaitTimeoutError(drainWhat, seenOld, drainTimeoutMs);
        if (ready.length < target.count && now >= started + this.healthTimeoutMs)
          throw new WaitTimeoutError(inServiceWhat, seenNew, this.healthTimeoutMs);
        return {
          done: ready.length >= target.count && still.length === 0,
          value: ready.slice(0, target.count).map((i) => i.instanceId),
          seen: drain ? `old: ${seenOld}; new: ${seenNew}` : seenNew,
        };
      },
    );

    const arns = plan.targetGroupArns;
    if (arns.length > 0) {
      await waitFor(
        ctx,
        {
          what: `${inService.join(', ')} healthy in ${arns.length} target group(s) (${about}; gate: target health)`,
          timeoutMs: remaining(),
          signal: ctx.signal,
          ...POLL,
        },
        async () => {
          const states = await describeTargetStates(ctx.clients, arns, inService);
          // A target group that no load balancer uses never health-checks its targets: nothing to wait for.
          const bad = states.filter(
            (s) => s.state !== 'healthy' && !(s.state === 'unused' && s.reason === 'Target.NotInUse'),
          );
          return {
            done: bad.length === 0,
            value: undefined,
            seen: bad
              .map(
                (s) =>
                  `${s.instanceId} ${s.state}${s.reason ? ` (${s.reason})` : ''} in ${targetGroupNameOfArn(s.targetGroupArn) ?? s.targetGroupArn}`,
              )
              .join(', '),
          };
        },
      );
    }

    if (this.readiness && !this.readinessSkipped) {
      const readiness = this.readiness;
      let unreachable: string | undefined;
      await waitFor(
        ctx,
        {
          what: `Kubernetes nodes of ${inService.join(', ')} Ready (${about}; gate: node Ready)`,
          timeoutMs: remaining(),
          signal: ctx.signal,
          intervalMs: 2_000,
          maxIntervalMs: 5_000,
        },
        async () => {
          const seen = await readiness(ctx, inService);
          if ('unreachable' in seen) {
            unreachable = seen.unreachable;
            return { done: true, value: undefined, seen: seen.unreachable };
          }
          const notReady = inService.filter((id) => seen.nodes[id] !== 'Ready');
          return {
            done: notReady.length === 0,
            value: undefined,
            seen: notReady.map((id) => `${id} ${seen.nodes[id] ?? 'no node yet'}`).join(', '),
          };
        },
      );
      if (unreachable !== undefined) {
        // Optional gate: without a control plane that answers, the other gates decide alone.
        this.readinessSkipped = true;
        this.result.skippedGates.push(`node Ready: ${unreachable}`);
        ctx.events.emit({
          kind: 'log',
          level: 'warn',
          message: `skipping the Kubernetes node Ready gate: ${unreachable}`,
        });
      }
    }
    return inService;
  }
}
