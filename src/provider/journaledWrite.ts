// The one way a provider writes to AWS: journaledWrite records the intent in the run's write-ahead
// journal, performs the write, records the result and its undo, and adds the change to the run's result.
import { InterruptedError } from '../core/errors';
import { runOf } from './context';
import type { JournalIntent, RunContext, UndoRecord } from './types';

/**
 * A write whose error carries no AWS answer (socket reset, timeout, a crash of the client) or a 5xx
 * answer may have happened anyway: keep its undo record so rollback looks the resource up by name or
 * token (handlers treat NotFound as success). A 4xx answer means AWS refused it: nothing to undo.
 */
function mayHaveHappened(error: unknown): boolean {
  if (error instanceof InterruptedError) return false;
  const status = (error as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata
    ?.httpStatusCode;
  return status === undefined || status >= 500;
}

/**
 * Performs one AWS write with journaling: records the intent (with `undo` known beforehand, e.g. a
 * name or client token), runs `write`, then records the result (`describe(result)` gives the id and
 * the final undo record). Also records the change for the run's JSON result, with `details` (what the
 * change did, for the result only: the journal keeps what undo needs).
 */
export async function journaledWrite<T>(
  ctx: RunContext,
  entry: JournalIntent & { details?: string[] },
  write: () => Promise<T>,
  describe?: (result: T) => { id?: string; undo?: UndoRecord },
): Promise<T> {
  const { details, ...intent } = entry;
  const pending = ctx.journal.intend(intent);
  let result: T;
  try {
    result = await write();
  } catch (error) {
    pending.failed(error, mayHaveHappened(error) ? entry.undo : undefined);
    throw error;
  }
  let described: { id?: string; undo?: UndoRecord } = {};
  try {
    described = describe?.(result) ?? {};
  } finally {
    const id = described.id ?? entry.id;
    pending.done({ id, undo: described.undo ?? entry.undo });
    runOf(ctx)?.record({
      action: entry.action,
      type: entry.type,
      name: entry.name,
      ...(id !== undefined ? { id } : {}),
      ...(details?.length ? { details } : {}),
    });
  }
  return result;
}
