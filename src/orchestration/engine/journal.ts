// Write-ahead journal of a run under $K3SCTL_HOME/runs/ (stub; implemented by the engine work).
import type { ChangeAction } from '../../core/events';
import type { RunContext, UndoRecord } from './types';

/**
 * Performs one AWS write with journaling: records the intent (with `undo` known beforehand, e.g. a
 * name or client token), runs `write`, then records the result (`describe(result)` gives the id and
 * the final undo record). Also records the change for the run's JSON result.
 */
export function journaledWrite<T>(
  _ctx: RunContext,
  _entry: { action: ChangeAction; type: string; name: string; id?: string; undo?: UndoRecord },
  _write: () => Promise<T>,
  _describe?: (result: T) => { id?: string; undo?: UndoRecord },
): Promise<T> {
  throw new Error('not implemented');
}
