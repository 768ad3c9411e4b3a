// `k3sctl recycle`: bouncer-style replacement of a cluster's out-of-date instances (README.md, Rolling
// replacement and upgrades), in a run of its own. The work is the shared step steps/recycleExecution.ts
// (upgrade runs it too); the planner's types and flag parsers are re-exported here for the command.
import type { WorkflowDeps } from '../deps';
import { runWorkflow, type WorkflowResult } from '../engine';
import { executeRecycle, type RecycleResult, type RecycleSpec } from '../steps/recycleExecution';

export type { RecycleResult, RecycleSpec } from '../steps/recycleExecution';
export { parseBatchSize, validateRecycleOptions, type GroupPlan, type RecycleStrategy } from '../steps/recyclePlan';

export function recycle(
  deps: WorkflowDeps,
  spec: RecycleSpec,
  options: { signal?: AbortSignal } = {},
): Promise<WorkflowResult<RecycleResult>> {
  return runWorkflow(deps, `recycle ${spec.cluster}`, (run) => executeRecycle(run, spec), options);
}
