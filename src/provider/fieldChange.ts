// A task's diff as typed changes, one per managed field, and the one renderer that turns them into
// the plan's lines (plan output, --json `details` and journals show exactly these strings).
import { tagsToUpdate, type Tag } from '../aws/tags';

/**
 * One managed field that differs between the actual and the desired resource. `field` names it as the
 * plan does (`capacity`, `tag Name`, `ingress`, `userData`); the rest says how it differs:
 * - `from`/`to` (values as shown): `field: from -> to`, and ` (note)` after it when there is one;
 * - `status` (`missing`, `changed`): `field: status`;
 * - `changed: true` alone: `field changed` (values too large or secret to show);
 * - `add`/`remove` (a member of a set field): `add field member`;
 * - `attach`/`detach` (a reference to a shared resource): `attach member`;
 * - `pending`: a change that cannot be computed yet (its inputs are still to be created), shown as is.
 */
export type FieldChange = {
  field: string;
  /**
   * The resource cannot apply this change in place: it must be replaced (deleted and created again).
   * The engine refuses such a plan before any write unless the task says how it replaces.
   */
  replace?: boolean;
} & (
  | { from: string; to: string; note?: string }
  | { status: string }
  | { changed: true }
  | { add: string }
  | { remove: string }
  | { attach: string }
  | { detach: string }
  | { pending: string }
);

/** The plan's line for one change (see FieldChange for the forms). */
export function renderChange(c: FieldChange): string {
  if ('from' in c) return `${c.field}: ${c.from} -> ${c.to}${c.note !== undefined ? ` (${c.note})` : ''}`;
  if ('status' in c) return `${c.field}: ${c.status}`;
  if ('changed' in c) return `${c.field} changed`;
  if ('add' in c) return `add ${c.field} ${c.add}`;
  if ('remove' in c) return `remove ${c.field} ${c.remove}`;
  if ('attach' in c) return `attach ${c.attach}`;
  if ('detach' in c) return `detach ${c.detach}`;
  return c.pending;
}

/** The plan's lines for a diff. */
export function renderChanges(changes: readonly FieldChange[]): string[] {
  return changes.map(renderChange);
}

/** One change per tag of `desired` that `actual` (a resource's tag map) lacks or holds with another value. */
export function tagChanges(desired: Tag[], actual: Record<string, string>): FieldChange[] {
  return tagsToUpdate(desired, actual).map((t) => ({ field: `tag ${t.Key}`, from: actual[t.Key] ?? '-', to: t.Value }));
}
