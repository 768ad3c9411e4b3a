// `runs list` and `runs rollback`: the runs recorded under $K3SCTL_HOME/runs (from their journals),
// and undoing what one of them did, newest first, reported as the `changes` of the JSON contract.
import type { PlannedChange } from '../../core/events';
import { RunFailedError, type WorkflowDeps } from '../deps';
import { describeRun, listRuns, rollbackRun, type RecordedRun, type RunSummary, type UndoItem } from '../engine';

/** The recorded runs, newest first. */
export function runsList(home: string): RunSummary[] {
  return listRuns(home);
}

/** One recorded run, for the preview of its rollback; undefined when there is none by that id. */
export function runDescribe(home: string, runId: string): RecordedRun | undefined {
  return describeRun(home, runId);
}

/**
 * Undoes what `run` did from its journal. A rollback that leaves something behind fails like a run
 * whose rollback is incomplete (RunFailedError with the leftovers: exit 3).
 */
export async function runRollback(deps: WorkflowDeps, run: RecordedRun, options: { force?: boolean }) {
  const outcome = await rollbackRun(deps, run.runId, { force: options.force });
  const changes = undoneChanges(run.undo, outcome.rolledBack);
  if (outcome.leftovers.length) {
    const incomplete = new RunFailedError(
      new Error(`rollback of run ${run.runId} is incomplete`),
      outcome.rolledBack,
      outcome.leftovers,
      changes,
    );
    incomplete.run = run.runId;
    throw incomplete;
  }
  return {
    run: run.runId,
    dryRun: false,
    undo: run.undo,
    ...outcome,
    changes,
    apiCalls: deps.clients.calls.snapshot(),
  };
}

/** The undone entries as the `changes` of the JSON contract: a deletion, or an update restoring a value. */
function undoneChanges(
  undo: UndoItem[],
  rolledBack: { type: string; name: string; id?: string }[],
): PlannedChange[] {
  const pending = [...undo];
  return rolledBack.map((r) => {
    const i = pending.findIndex((u) => u.type === r.type && u.name === r.name && u.id === r.id);
    const action = i === -1 ? 'delete' : pending.splice(i, 1)[0].action;
    return {
      action: action === 'restore' ? 'update' : 'delete',
      type: r.type,
      name: r.name,
      ...(r.id !== undefined ? { id: r.id } : {}),
    };
  });
}
