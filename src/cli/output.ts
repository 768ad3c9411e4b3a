// What a command prints: its result (one JSON document on stdout with --json, otherwise the human
// rendering), a plan as text, and a failure (the JSON error document on stdout with --json, the human
// lines on stderr always).
import type { PlannedChange } from '../core/events';
import { humanError, type ShownFailure } from './errorDocument';

/** A plan as text (ui/plan), with the dry-run note when nothing was changed. */
export function renderChanges(planned: PlannedChange[], dryRun: boolean): string {
  const { renderPlan } = require('../ui/plan') as typeof import('../ui/plan');
  return `${renderPlan(planned)}${dryRun ? '\n(dry run: nothing was changed)' : ''}`;
}

/** Prints a command's result: JSON on stdout with --json, otherwise the human rendering. */
export function printResult(json: boolean, result: object, human: () => string): void {
  if (json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  else {
    const text = human();
    if (text) process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  }
}

/** Prints a failure: the `{ error }` document on stdout with --json, and the human lines on stderr. */
export function printError(json: boolean, payload: Record<string, unknown>, exit: number, shownFailures: ShownFailure[]): void {
  if (json) {
    process.stdout.write(`${JSON.stringify({ error: payload }, null, 2)}\n`);
  }
  process.stderr.write(`${humanError(payload, exit, shownFailures).join('\n')}\n`);
}
