// `recycle` and `upgrade` as text: the replacement plan (group, strategy, batches in order), the
// question's preview, and what was replaced.
import type { GroupPlan } from '../orchestration/workflows/recycle';
import type { RecycleResult } from '../orchestration/workflows/recycle';

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
