// What every workflow that writes a cluster's groups takes (cluster create, cluster delete, controlplane
// and nodegroup add/scale/delete), and the test they share for "the plan changes something".
import type { PlannedChange } from '../../core/events';

export interface ClusterWriteOptions {
  dryRun?: boolean;
  /** Wait for InService and for the nodes Ready (default true). */
  wait?: boolean;
  /** The readiness window of `cluster create` (default 15 min x timeoutScale): see waitForNodesReady. */
  waitTimeoutMs?: number;
  signal?: AbortSignal;
  /** Asked with the plan before any write when something would change; false cancels (UserError). */
  confirm?: (changes: PlannedChange[]) => Promise<boolean>;
  /** Check permissions and the vCPU quota before the first write (default true; `cluster create` only). */
  preflight?: boolean;
}

/** Whether a plan does anything: asked before a confirm prompt (a no-op run asks nothing). */
export function hasChanges(changes: PlannedChange[]): boolean {
  return changes.some((c) => c.action !== 'noop');
}
