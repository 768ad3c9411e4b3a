// Renders a plan (the engine's PlannedChange list) the way eksctl and terraform show one: a line per
// resource with its action sign, the fields an update changes, and a summary of counts.
import type { ChangeAction, PlannedChange } from '../core/events';

const SIGN: Record<ChangeAction, string> = { create: '+', update: '~', delete: '-', noop: '=' };
const ORDER: ChangeAction[] = ['create', 'update', 'delete', 'noop'];

export interface RenderPlanOptions {
  /** List unchanged resources one by one too (they are only counted otherwise). */
  showNoop?: boolean;
}

/** The plan as text; ends with `Plan: 2 to create, 1 to update, 0 to delete, 3 unchanged.` */
export function renderPlan(changes: PlannedChange[], options: RenderPlanOptions = {}): string {
  const shown = changes.filter((c) => c.action !== 'noop' || options.showNoop);
  const typeWidth = Math.max(0, ...shown.map((c) => c.type.length));
  const lines: string[] = [];
  for (const c of shown) {
    const id = c.id ? ` (${c.id})` : '';
    lines.push(`${SIGN[c.action]} ${c.action.padEnd(6)} ${c.type.padEnd(typeWidth)}  ${c.name}${id}`);
    for (const d of c.details ?? []) lines.push(`      ${d}`);
  }
  const count = (a: ChangeAction) => changes.filter((c) => c.action === a).length;
  const pending = ORDER.slice(0, 3).some((a) => count(a) > 0);
  if (!pending) {
    lines.push(`No changes: ${count('noop')} resource${count('noop') === 1 ? '' : 's'} up to date.`);
  } else {
    if (lines.length > 0) lines.push('');
    lines.push(
      `Plan: ${count('create')} to create, ${count('update')} to update, ${count('delete')} to delete, ${count('noop')} unchanged.`,
    );
  }
  return lines.join('\n');
}
