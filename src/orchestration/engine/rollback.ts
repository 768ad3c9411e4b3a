// Rollback of a run from its journal, also for a run that crashed (stub; implemented by the engine work).
import type { WorkflowDeps } from '../deps';

/** Undoes what run `runId` did (newest first) using the undo registry of src/resources. */
export function rollbackRun(
  _deps: WorkflowDeps,
  _runId: string,
): Promise<{ rolledBack: { type: string; name: string; id?: string }[]; leftovers: { type: string; name: string; id?: string; error: string }[] }> {
  throw new Error('not implemented');
}

/** Runs recorded under $K3SCTL_HOME/runs/, newest first, with their status. */
export function listRuns(_home: string): { runId: string; title: string; status: string; startedAt: string }[] {
  throw new Error('not implemented');
}
