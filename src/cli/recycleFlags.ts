// The flags `recycle` and `upgrade` share (which groups, the strategy, batch sizes, timeouts) and the
// recycle spec built from them; every check is local, before any AWS call.
import { Flags } from '@oclif/core';
import { parseTimeout } from '../config/duration';
import { UserError } from '../core/errors';
import type { RecycleStrategy } from '../orchestration/workflows/recycle';
import type { RecycleSpec } from '../orchestration/workflows/recycle';
import { dryRunFlag } from './flags';

/** Flags shared by `recycle` and `upgrade`. */
export const recycleFlags = {
  group: Flags.string({
    char: 'g',
    description: 'only this group (repeatable); default: every group of the cluster',
    multiple: true,
  }),
  strategy: Flags.string({
    description: 'how instances are replaced (control planes are always surge-first, one at a time)',
    options: ['serial', 'canary', 'slow-canary', 'rolling'],
    default: 'rolling',
    env: 'K3SCTL_RECYCLE_STRATEGY',
  }),
  batch: Flags.string({
    description: 'batch size for canary and rolling: a count or a percentage of the group (e.g. 20%)',
    env: 'K3SCTL_RECYCLE_BATCH',
  }),
  'max-surge': Flags.string({
    description: 'rolling: extra instances launched before a batch is terminated (count or %)',
  }),
  'max-unavailable': Flags.string({
    description: 'rolling: instances that may be missing while a batch is replaced (count or %)',
  }),
  'drain-timeout': Flags.string({
    description: 'how long a terminated instance may take to drain and leave (plus its target groups\' deregistration delay, which it waits out first)',
    default: '15m',
  }),
  'health-timeout': Flags.string({
    description: 'how long a new instance may take to be InService and healthy',
    default: '15m',
  }),
  'dry-run': dryRunFlag('list what would be replaced, in which order, and change nothing'),
};

type RecycleFlagValues = {
  group?: string[];
  strategy: string;
  batch?: string;
  'max-surge'?: string;
  'max-unavailable'?: string;
  'drain-timeout': string;
  'health-timeout': string;
  'dry-run': boolean;
};

/**
 * Builds the recycle part of a spec from the shared flags; every check is local (no AWS call).
 * `asGiven` names a flag as the user typed it (the base command's asGiven()).
 */
export async function recycleSpecFromFlags(
  cluster: string,
  f: RecycleFlagValues,
  force: boolean,
  asGiven: (flag: string) => string = (flag) => flag,
): Promise<RecycleSpec> {
  const { parseBatchSize, validateRecycleOptions } = await import('../orchestration/workflows/recycle');
  const { validateClusterName, validateGroupName } = await import('../config/names');
  validateClusterName(cluster, 'CLUSTER');
  for (const g of f.group ?? []) validateGroupName(g, asGiven('--group'));
  const spec: RecycleSpec = {
    cluster,
    strategy: f.strategy as RecycleStrategy,
    force,
    dryRun: f['dry-run'],
    drainTimeoutMs: parseTimeout(f['drain-timeout'], asGiven('--drain-timeout')),
    healthTimeoutMs: parseTimeout(f['health-timeout'], asGiven('--health-timeout')),
    ...(f.group?.length ? { groups: f.group } : {}),
    ...(f.batch ? { batch: parseBatchSize(f.batch, asGiven('--batch')) } : {}),
    ...(f['max-surge'] ? { maxSurge: parseBatchSize(f['max-surge'], asGiven('--max-surge')) } : {}),
    ...(f['max-unavailable']
      ? { maxUnavailable: parseBatchSize(f['max-unavailable'], asGiven('--max-unavailable')) }
      : {}),
  };
  const rollingOnly = [f['max-surge'] && '--max-surge', f['max-unavailable'] && '--max-unavailable'].filter(Boolean) as string[];
  if (spec.strategy !== 'rolling' && rollingOnly.length) {
    const field = asGiven(rollingOnly[0]);
    throw new UserError(`${field} applies to --strategy rolling, not --strategy ${spec.strategy}`, 'drop it, or use --strategy rolling', field);
  }
  validateRecycleOptions(spec);
  return spec;
}
