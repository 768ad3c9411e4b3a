// The engine's public API used by workflows. (Contract fixed by the lead; bodies in engine/*.ts.)
//
//   const result = await runWorkflow(deps, 'cluster create demo', async (run) => {
//     const changes = await run.plan(tasks);                 // find + diff every task, emits 'plan'
//     if (options.dryRun) return { planned: changes };
//     if (options.confirm && !(await options.confirm(changes))) throw new UserError('cancelled');
//     await run.apply(tasks);                                // DAG, bounded concurrency, journaled
//     await run.step('wait for instances', (ctx) => waitFor(ctx, {...}, probe));
//     return { cluster: 'demo' };
//   }, { signal });
//   // result = { run, changes, apiCalls: { read, write }, ...body's return }
//   // on failure: rollback from the journal, then throws RunFailedError (exit 1, or 3 with leftovers)
export type { Task, RunContext } from '../../provider/types';
export { runWorkflow, Run, openRun, type WorkflowResult, type RunOptions } from './run';
export { journalPath } from './journal';
export { journaledWrite } from '../../provider/journaledWrite';
export {
  waitFor,
  retryWhileNotReady,
  isNotYetError,
  isStillInUseError,
  sleepUnlessAborted,
} from '../../core/wait';
export {
  rollbackRun,
  listRuns,
  describeRun,
  type RecordedRun,
  type RunSummary,
  type UndoItem,
} from './rollback';
