// The link from a RunContext back to the run that owns it, so journaledWrite (which only receives
// the context) can add its change to the run's JSON result.
import type { PlannedChange } from '../core/events';
import type { RunContext } from './types';

export interface ChangeRecorder {
  record(change: PlannedChange): void;
}

const owners = new WeakMap<RunContext, ChangeRecorder>();

export function bindContext(ctx: RunContext, owner: ChangeRecorder): void {
  owners.set(ctx, owner);
}

export function runOf(ctx: RunContext): ChangeRecorder | undefined {
  return owners.get(ctx);
}
