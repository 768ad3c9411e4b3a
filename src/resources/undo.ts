// The undo registry: how to delete what a run created or restore what it changed, by resource type.
// Resource modules register their handlers when imported (src/resources/index.ts imports them all),
// so a crashed run's journal can be rolled back by a later process.
import type { AwsClients } from '../aws/clients';

export interface UndoHandler {
  /** Deletes a resource this run created; NotFound is success. */
  delete?(clients: AwsClients, data: Record<string, unknown>): Promise<void>;
  /** Restores previous values this run changed. */
  restore?(clients: AwsClients, data: Record<string, unknown>): Promise<void>;
}

const handlers = new Map<string, UndoHandler>();

export function registerUndo(type: string, handler: UndoHandler): void {
  handlers.set(type, { ...handlers.get(type), ...handler });
}

export function undoHandler(type: string): UndoHandler | undefined {
  return handlers.get(type);
}
