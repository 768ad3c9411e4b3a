// `cluster create`: resolves every lookup first (no write before the input is known to be good), then
// converges the baseline and the groups to the declared configuration (groups attach the target groups
// of the cluster's nodeport endpoints), waits for InService and, when the run changed something and a
// control plane answers, for the Kubernetes nodes Ready, and reports instances left on older
// launch-template versions (they need `k3sctl recycle`).
import type { ClusterSpec } from '../../config/cluster';
import type { PlannedChange } from '../../core/events';
import { UserError } from '../../core/errors';
import type { WorkflowDeps } from '../deps';
import { runWorkflow, type WorkflowResult } from '../engine';
import { endpointTargetGroupsForCluster } from '../../resources/endpointConfig';
import { clusterTasks, outOfDate, readClusterConfig, resolveClusterConfig, waitForGroups, waitForNodesReady, type OutOfDateInstance } from './clusterPlan';

export interface ClusterWriteOptions {
  dryRun?: boolean;
  /** Wait for InService and for the nodes Ready (default true). */
  wait?: boolean;
  signal?: AbortSignal;
  /** Asked with the plan before any write when something would change; false cancels (UserError). */
  confirm?: (changes: PlannedChange[]) => Promise<boolean>;
}

export interface ClusterCreateResult {
  cluster: string;
  region: string;
  dryRun: boolean;
  /** The plan (also for non-dry runs: what was found to do). */
  planned: PlannedChange[];
  groups: { name: string; role: string; desired: number; instanceType: string }[];
  outOfDate: OutOfDateInstance[];
  ingressHost?: string;
  waited: boolean;
  /**
   * true: every InService instance was seen a Ready Kubernetes node; null: not checked (no-op run,
   * --no-wait, or no control plane answered: a warning says why).
   */
  nodesReady: boolean | null;
}

export function hasChanges(changes: PlannedChange[]): boolean {
  return changes.some((c) => c.action !== 'noop');
}

export async function clusterCreate(deps: WorkflowDeps, spec: ClusterSpec, options: ClusterWriteOptions = {}): Promise<WorkflowResult<ClusterCreateResult>> {
  if (spec.region !== deps.region) throw new UserError(`the spec is for ${spec.region} but the run is in ${deps.region}`, undefined, '--region');
  const [existing, endpoints] = await Promise.all([
    readClusterConfig(deps.clients, spec.name),
    endpointTargetGroupsForCluster(deps.clients, spec.name),
  ]);
  const config = await resolveClusterConfig(deps, spec, existing);
  const tasks = clusterTasks(config, endpoints.map((e) => e.targetGroupArn));
  return runWorkflow(
    deps,
    `cluster create ${spec.name}`,
    async (run) => {
      const planned = await run.plan(tasks);
      const base = {
        cluster: config.name,
        region: config.region,
        planned,
        groups: config.groups.map((g) => ({ name: g.name, role: g.role, desired: g.count, instanceType: g.instanceType })),
        ingressHost: config.ingress?.host,
      };
      if (options.dryRun) return { ...base, dryRun: true, outOfDate: [], waited: false, nodesReady: null };
      if (hasChanges(planned) && options.confirm && !(await options.confirm(planned))) {
        throw new UserError('cancelled: nothing was changed');
      }
      await run.apply(tasks);
      const stale = outOfDate(run, config.groups);
      if (stale.length) {
        deps.events.emit({
          kind: 'log',
          level: 'warn',
          message: `${stale.length} instance(s) run an older launch template version (${stale.map((s) => s.instanceId).join(', ')}); replace them with: k3sctl recycle ${config.name}`,
        });
      }
      const wait = options.wait !== false;
      if (wait) await waitForGroups(run, deps, config, config.groups);
      // Never on a no-op re-run: every readiness poll is an SSM SendCommand (a write).
      const nodesReady = wait && hasChanges(planned) ? await waitForNodesReady(run, deps, config) : null;
      return { ...base, dryRun: false, outOfDate: stale, waited: wait, nodesReady };
    },
    { signal: options.signal },
  );
}
