import { Args, Flags } from '@oclif/core';
import { BaseCommand, dryRunFlag } from '../cli/base';
import { parseDuration } from '../config/duration';
import { UserError } from '../core/errors';
import type { GroupPlan, RecycleResult, RecycleSpec, RecycleStrategy } from '../orchestration/workflows/recycle';

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

/** A timeout flag: a duration of at least a second. */
function parseTimeout(text: string, field: string): number {
  const ms = parseDuration(text, field);
  if (ms < 1000) throw new UserError(`${field} '${text}' is shorter than a second`, 'give e.g. 90s, 15m or 1h', field);
  return ms;
}

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

/** The plan as lines: group, strategy, batches in order. */
export function renderRecyclePlan(plans: GroupPlan[] | RecycleResult['groups']): string {
  const lines: string[] = [];
  for (const p of plans) {
    const delay = 'deregistrationDelaySeconds' in p ? p.deregistrationDelaySeconds : undefined;
    lines.push(
      `${p.autoScalingGroupName} (${p.role}, ${p.strategy}): ${p.outdated.length} to replace, ${p.upToDate.length} up to date, never fewer than ${p.minInService} InService` +
        (delay ? `; a leaving instance first drains ${delay}s from its target groups (deregistration delay)` : ''),
    );
    p.batches.forEach((b, i) => {
      const parts = [
        b.surge ? `add ${b.surge}` : '',
        b.terminate.length ? `replace ${b.terminate.join(', ')}` : '',
        b.decrement ? `remove ${b.decrement} extra` : '',
      ].filter(Boolean);
      lines.push(`  ${i + 1}. ${parts.join(', ')}`);
    });
  }
  return lines.join('\n');
}

/** What a recycle or upgrade asks about: the groups with something to replace. */
export function previewReplacements(plans: GroupPlan[]): string {
  return renderRecyclePlan(plans.filter((p) => p.batches.length));
}

export function renderReplacements(result: RecycleResult): string {
  const lines = [renderRecyclePlan(result.groups)];
  if (result.dryRun) return `${lines[0]}\n(dry run: nothing was changed)`;
  if (result.replacements.length === 0)
    lines.push("Nothing to replace: every instance runs its group's current launch template version.");
  for (const r of result.replacements) {
    lines.push(
      `${r.group}: ${r.oldInstanceId} -> ${r.newInstanceId ?? '(removed)'} in ${Math.round(r.durationMs / 1000)}s${r.drainFailure ? ` (drain failed: ${r.drainFailure})` : ''}`,
    );
  }
  for (const g of result.skippedGates) lines.push(`skipped gate: ${g}`);
  return lines.join('\n');
}

export default class Recycle extends BaseCommand<typeof Recycle> {
  static override description =
    "Replace a cluster's out-of-date instances (launch template version differs from the group's) through their Auto Scaling groups: control planes first, surge-first and one at a time, then node groups with the chosen strategy";

  static override examples = [
    '<%= config.bin %> recycle demo --dry-run',
    '<%= config.bin %> recycle demo --strategy rolling --batch 20% --yes',
    '<%= config.bin %> recycle demo --group workers --strategy canary --batch 2',
    '<%= config.bin %> recycle demo --force --strategy serial --yes',
  ];

  static override args = { cluster: Args.string({ description: 'cluster name', required: true }) };

  static override flags = {
    ...recycleFlags,
    force: Flags.boolean({ description: 'replace every instance, not only the out-of-date ones' }),
  };

  async run(): Promise<RecycleResult> {
    const f = this.flags;
    const spec = await recycleSpecFromFlags(this.args.cluster!, f, f.force, (flag) => this.asGiven(flag));
    spec.confirm = this.confirmDestructive(spec.dryRun, previewReplacements, 'Replace these instances?');
    const deps = await this.deps();
    const { recycle } = await import('../orchestration/workflows/recycle');
    const result = await recycle(deps, spec, { signal: this.interruptSignal() });
    this.output(result, () => renderReplacements(result));
    return result;
  }
}
