// What a provider needs to find and delete what one cluster owns of its kind (`cluster delete`): the
// scope its discovery reads in, what it found, and how its delete runs steps. The workflow only walks the
// registry's deletion waves; what is owned, and how it goes, is the kind's own knowledge.
import type { AwsClients } from '../aws/clients';
import type { PlannedChange } from '../core/events';
import { journaledWrite } from './journaledWrite';
import type { RunContext } from './types';

/** One thing of a kind that the cluster owns, as the plan shows it and the kind's delete needs it. */
export interface Owned {
  /** The name the plan and the run's result show. */
  name: string;
  /** The AWS id (ARN, id or name) the delete uses. */
  id: string;
  /** Planned as an update with these details, not as a delete (a target group detached from a group). */
  update?: string[];
  /** The cluster role it serves (its k3sctl.io/role tag: `control-plane`, `node`), where it has one. */
  role?: string;
}

/** The planned change of one owned thing of `type`. */
export function ownedChange(type: string, o: Owned): PlannedChange {
  return o.update
    ? { action: 'update', type, name: o.name, id: o.id, details: o.update }
    : { action: 'delete', type, name: o.name, id: o.id };
}

/** Where a cluster's discovery reads: kinds that need the same listing share one read through `shared`. */
export interface ClusterScope {
  clients: AwsClients;
  cluster: string;
  region: string;
  /** The result of `read` for `key`, read once per discovery (kinds of one module share a listing). */
  shared<T>(key: string, read: () => Promise<T>): Promise<T>;
}

export function clusterScope(clients: AwsClients, cluster: string, region: string): ClusterScope {
  const reads = new Map<string, Promise<unknown>>();
  return {
    clients,
    cluster,
    region,
    shared<T>(key: string, read: () => Promise<T>): Promise<T> {
      if (!reads.has(key)) reads.set(key, read());
      return reads.get(key) as Promise<T>;
    },
  };
}

/** The part of a run a kind's delete uses: titled steps, each with its own context (the engine's Run). */
export interface StepRunner {
  step<T>(title: string, fn: (ctx: RunContext) => Promise<T>): Promise<T>;
}

/**
 * The `deleteOwned` of a kind whose things go independently of each other, one journaled call each
 * (`del` treats NotFound as success), at most PARALLEL_DELETES at a time, in one step titled `title`.
 */
export function deleteEachOwned(
  title: string,
  type: string,
  del: (ctx: RunContext, id: string) => Promise<unknown>,
): (run: StepRunner, owned: Owned[]) => Promise<void> {
  return (run, owned) =>
    run.step(title, (ctx) =>
      eachLimited(owned, PARALLEL_DELETES, (o) => journaledWrite(ctx, { action: 'delete', type, name: o.name, id: o.id }, () => del(ctx, o.id))),
    );
}

export interface ClusterDeleteOptions {
  cluster: string;
  /** Multiplies every wait's timeout (tests shrink it). */
  timeoutScale: number;
}

/** Waits for every promise, then throws the first failure: what the others did is done and recorded. */
export async function allSettledOrThrow(work: Promise<unknown>[]): Promise<void> {
  const settled = await Promise.allSettled(work);
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

/** Runs `fn` on every item, `limit` at a time; every item is tried, then the first failure is thrown. */
export async function eachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<unknown>): Promise<void> {
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

/**
 * How often a drain is polled: a termination lifecycle hook (drain and leave) and an instance's shutdown
 * each take tens of seconds, so a steady 5 s poll (no backoff) sees either end within 5 s, for one
 * DescribeAutoScalingGroups per group each time, far below its rate limit.
 */
export const DRAIN_POLL_MS = 5_000;
export const STEADY_DRAIN_POLL = { intervalMs: DRAIN_POLL_MS, maxIntervalMs: DRAIN_POLL_MS };

/** Deletes of one kind in flight at once (an SSM DeleteParameters batch holds 10 names). */
export const PARALLEL_DELETES = 10;
