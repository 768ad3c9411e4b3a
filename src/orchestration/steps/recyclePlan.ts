// The recycle planner (pure): which instances of which groups are replaced, in which order and in which
// batches, for each strategy of README.md, Rolling replacement and upgrades. No AWS access; the
// workflow executes the plan and re-plans from AWS on every run, so a re-run only ever sees what is
// still out of date.
import { UserError } from '../../core/errors';

export const RECYCLE_STRATEGIES = ['serial', 'canary', 'slow-canary', 'rolling'] as const;
export type RecycleStrategy = (typeof RECYCLE_STRATEGIES)[number];

/** A count (`3`) or a percentage of the group's desired capacity (`20%`). */
export type BatchSize = { count: number } | { percent: number };

export function parseBatchSize(text: string, field: string): BatchSize {
  const m = /^(\d+)(%?)$/.exec(text.trim());
  if (!m)
    throw new UserError(`${field} '${text}' is not a count or a percentage`, 'give e.g. 2 or 25%', field);
  const n = Number(m[1]);
  if (m[2]) {
    if (n < 1 || n > 100)
      throw new UserError(`${field} '${text}' must be between 1% and 100%`, undefined, field);
    return { percent: n };
  }
  return { count: n };
}

/** The size a BatchSize stands for in a group of `total` (percentages round up, as kops does). */
export function resolveBatchSize(size: BatchSize, total: number): number {
  if ('count' in size) return size.count;
  return Math.ceil((total * size.percent) / 100);
}

export type { GroupRole, InventoryInstance, GroupInventory } from '../../resources/autoScalingInstance';
import {
  isActive,
  type GroupRole,
  type InventoryInstance,
  type GroupInventory,
} from '../../resources/autoScalingInstance';

export interface RecycleOptions {
  strategy: RecycleStrategy;
  batch?: BatchSize;
  maxSurge?: BatchSize;
  maxUnavailable?: BatchSize;
  /** Replace every instance, not only the out-of-date ones. */
  force?: boolean;
}

/**
 * One step of a group's recycle: first raise desired by `surge` and wait for that many new healthy
 * instances; then terminate `terminate` through the ASG, the first `decrement` of them with
 * ShouldDecrementDesiredCapacity (not replaced, so the surge is given back), the rest replaced;
 * then wait until the replacements are healthy and the terminated instances have drained and left.
 */
export interface RecycleBatch {
  surge: number;
  /**
   * Instances an interrupted run already surged that count toward this batch's surge (set only when
   * resuming): the batch launches `surge` more and gates on `surge + reuse`.
   */
  reuse?: number;
  terminate: string[];
  decrement: number;
}

export interface GroupPlan {
  autoScalingGroupName: string;
  group: string;
  role: GroupRole;
  /** The strategy applied (control planes are always `surge-one-at-a-time`). */
  strategy: RecycleStrategy | 'control-plane';
  /** The capacity to end at: the group's before any replacement began (its replacement record, when resuming). */
  original: { desired: number; min: number; max: number };
  /** The highest desired capacity the plan reaches; max is raised to it when lower. */
  peakDesired: number;
  /** Instances above `original.desired` once the batches are done (a resumed surge nothing reuses), removed at the end. */
  excess: number;
  /** Set when an earlier run's replacement is unfinished (the group's `k3sctl.io/replacement` record). */
  resuming?: { run: string; since: string };
  /** Out-of-date instances, in replacement order. */
  outdated: string[];
  upToDate: string[];
  batches: RecycleBatch[];
  /** The fewest InService instances of this group at any time during its recycle (the strategy's promise). */
  minInService: number;
  /** The group's resolved launch template version (what "up to date" means). */
  currentVersion?: string;
  targetGroupArns: string[];
}

/** Instances that still count as members (not leaving the group). */
export function activeInstances(group: GroupInventory): InventoryInstance[] {
  return group.instances.filter(isActive);
}

/** Out of date: launched from another template or another version than the group's current one. */
export function isOutdated(instance: InventoryInstance, group: GroupInventory): boolean {
  if (group.currentVersion === undefined) return false;
  if (
    group.launchTemplateId &&
    instance.launchTemplateId &&
    instance.launchTemplateId !== group.launchTemplateId
  )
    return true;
  return instance.version !== group.currentVersion;
}

/**
 * Replacement order: unhealthy instances first (they give no capacity anyway), then round-robin over
 * availability zones so the group stays balanced while AZRebalance is suspended, then by id.
 */
export function replacementOrder(instances: InventoryInstance[]): InventoryInstance[] {
  const byZone = new Map<string, InventoryInstance[]>();
  const sorted = [...instances].sort((a, b) => a.instanceId.localeCompare(b.instanceId));
  const unhealthy = sorted.filter((i) => i.healthStatus !== 'Healthy');
  for (const i of sorted.filter((x) => x.healthStatus === 'Healthy')) {
    const list = byZone.get(i.availabilityZone) ?? [];
    list.push(i);
    byZone.set(i.availabilityZone, list);
  }
  const zones = [...byZone.keys()].sort();
  const out = [...unhealthy];
  for (let round = 0; out.length < sorted.length; round++) {
    for (const z of zones) {
      const i = byZone.get(z)![round];
      if (i) out.push(i);
    }
  }
  return out;
}

function chunk<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Validates options once (exit 2 before anything is read or written). */
export function validateRecycleOptions(options: RecycleOptions): void {
  if (!RECYCLE_STRATEGIES.includes(options.strategy)) {
    throw new UserError(
      `unknown strategy '${options.strategy}'`,
      `use one of ${RECYCLE_STRATEGIES.join(', ')}`,
      '--strategy',
    );
  }
  if (options.batch && 'count' in options.batch && options.batch.count < 1) {
    throw new UserError('--batch must be at least 1', undefined, '--batch');
  }
  if (options.strategy === 'rolling') {
    const surge = options.maxSurge;
    const unavailable = options.maxUnavailable;
    const zero = (s?: BatchSize) => s !== undefined && ('count' in s ? s.count === 0 : s.percent === 0);
    // Either one given makes the other 0 when absent (planBatches): --max-unavailable 0 alone is no surge either.
    const noSurge = zero(surge) || (surge === undefined && unavailable !== undefined);
    if (noSurge && (unavailable === undefined || zero(unavailable))) {
      throw new UserError(
        '--max-surge and --max-unavailable cannot both be 0: no instance could ever be replaced',
        undefined,
        '--max-surge',
      );
    }
  } else if (options.maxSurge || options.maxUnavailable) {
    throw new UserError(
      `--max-surge and --max-unavailable apply to the rolling strategy, not ${options.strategy}`,
      undefined,
      '--strategy',
    );
  }
}

function planBatches(
  ordered: string[],
  n: number,
  options: RecycleOptions,
  role: GroupRole,
): { strategy: GroupPlan['strategy']; batches: RecycleBatch[]; minInService: number } {
  if (ordered.length === 0)
    return {
      strategy: role === 'control-plane' ? 'control-plane' : options.strategy,
      batches: [],
      minInService: n,
    };
  // etcd quorum: a control plane is only ever removed after its successor is healthy.
  if (role === 'control-plane') {
    return {
      strategy: 'control-plane',
      batches: ordered.map((id) => ({ surge: 1, terminate: [id], decrement: 1 })),
      minInService: n,
    };
  }
  switch (options.strategy) {
    case 'serial':
      return {
        strategy: 'serial',
        batches: ordered.map((id) => ({ surge: 0, terminate: [id], decrement: 0 })),
        minInService: n - 1,
      };
    case 'slow-canary': {
      const batches = ordered.map((id, i) => ({
        surge: i === 0 ? 1 : 0,
        terminate: [id],
        decrement: i === ordered.length - 1 ? 1 : 0,
      }));
      return { strategy: 'slow-canary', batches, minInService: n };
    }
    case 'canary': {
      const size = Math.max(1, resolveBatchSize(options.batch ?? { percent: 25 }, n));
      const batches: RecycleBatch[] = [{ surge: 1, terminate: [], decrement: 0 }];
      for (const ids of chunk(ordered, size)) batches.push({ surge: 0, terminate: ids, decrement: 0 });
      batches[batches.length - 1].decrement = 1;
      // The largest batch there is, not the batch size: fewer out-of-date instances take fewer down.
      const largest = Math.min(size, ordered.length);
      return { strategy: 'canary', batches, minInService: Math.min(n, n + 1 - largest) };
    }
    case 'rolling': {
      const batchSize = Math.max(1, resolveBatchSize(options.batch ?? { count: 1 }, n));
      let surge: number;
      let unavailable: number;
      if (options.maxSurge === undefined && options.maxUnavailable === undefined) {
        surge = batchSize;
        unavailable = 0;
      } else {
        surge = options.maxSurge ? resolveBatchSize(options.maxSurge, n) : 0;
        unavailable = options.maxUnavailable ? resolveBatchSize(options.maxUnavailable, n) : 0;
      }
      // Never take away more than the group has: at least one instance stays up when surge is 0.
      unavailable = Math.min(unavailable, Math.max(n - 1, surge > 0 ? 0 : 1));
      const size = Math.max(1, Math.min(batchSize, surge + unavailable));
      const batches = chunk(ordered, size).map((ids) => {
        const s = Math.min(surge, ids.length);
        return { surge: s, terminate: ids, decrement: s };
      });
      const worst = Math.max(...batches.map((b) => b.terminate.length - b.surge));
      return {
        strategy: 'rolling',
        batches,
        minInService: n - worst,
      };
    }
  }
}

/**
 * Plans one group: what is out of date and how it is replaced. A group with an unfinished replacement
 * is planned from the capacity recorded before it began, not from its surged capacity: the surge an
 * interrupted run left counts toward the first batches' surge (never launched twice) and what no batch
 * reuses is removed at the end, so the group ends at exactly its original capacity.
 */
export function planGroup(group: GroupInventory, options: RecycleOptions): GroupPlan {
  const active = activeInstances(group);
  const outdated = replacementOrder(active.filter((i) => options.force || isOutdated(i, group))).map(
    (i) => i.instanceId,
  );
  const upToDate = active
    .filter((i) => !outdated.includes(i.instanceId))
    .map((i) => i.instanceId)
    .sort();
  const record = group.replacement;
  const original = record
    ? { desired: record.desired, min: record.min, max: record.max }
    : { desired: group.desired, min: group.min, max: group.max };
  const n = original.desired;
  const { strategy, batches, minInService } = planBatches(outdated, n, options, group.role);
  let carried = Math.max(0, group.desired - n);
  for (const b of batches) {
    const reuse = Math.min(carried, b.surge);
    if (reuse === 0) continue;
    b.surge -= reuse;
    b.reuse = reuse;
    carried -= reuse;
  }
  let desired = group.desired;
  let peakDesired = desired;
  for (const b of batches) {
    desired += b.surge;
    peakDesired = Math.max(peakDesired, desired);
    desired -= b.decrement;
  }
  return {
    autoScalingGroupName: group.autoScalingGroupName,
    group: group.group,
    role: group.role,
    strategy,
    original,
    peakDesired,
    excess: Math.max(0, desired - n),
    ...(record ? { resuming: { run: record.run, since: record.since } } : {}),
    outdated,
    upToDate,
    batches,
    minInService: Math.max(0, minInService),
    ...(group.currentVersion !== undefined ? { currentVersion: group.currentVersion } : {}),
    targetGroupArns: [...group.targetGroupArns],
  };
}

/** Plans every group: control planes first (quorum-safe), then node groups, each by name. */
export function planRecycle(groups: GroupInventory[], options: RecycleOptions): GroupPlan[] {
  validateRecycleOptions(options);
  const rank = (g: GroupInventory) => (g.role === 'control-plane' ? 0 : 1);
  return [...groups]
    .sort((a, b) => rank(a) - rank(b) || a.autoScalingGroupName.localeCompare(b.autoScalingGroupName))
    .map((g) => planGroup(g, options));
}
