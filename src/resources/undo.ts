// The undo registry: how to delete what a run created or restore what it changed, by resource type.
// Resource modules register their handlers when imported (src/resources/index.ts imports them all),
// so a crashed run's journal can be rolled back by a later process.
import type { AwsClients } from '../aws/clients';
import type { WaitContext } from '../orchestration/engine/wait';

export interface UndoHandler {
  /** Deletes a resource this run created; NotFound is success. */
  delete?(clients: AwsClients, data: Record<string, unknown>, env: WaitContext): Promise<void>;
  /** Restores previous values this run changed (`env` for undos that must wait on AWS state). */
  restore?(clients: AwsClients, data: Record<string, unknown>, env: WaitContext): Promise<void>;
}

/**
 * An undo that did part of its work and knows exactly what it could not put back: rollback reports
 * each of `remaining` as a leftover (kind and id), not only the journal entry it was undoing.
 */
export class UndoIncompleteError extends Error {
  override readonly name = 'UndoIncompleteError';
  constructor(
    message: string,
    readonly remaining: { type: string; name: string; id?: string }[],
  ) {
    super(message);
  }
}

const handlers = new Map<string, UndoHandler>();

export function registerUndo(type: string, handler: UndoHandler): void {
  handlers.set(type, { ...handlers.get(type), ...handler });
}

export function undoHandler(type: string): UndoHandler | undefined {
  return handlers.get(type);
}
