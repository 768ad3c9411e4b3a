// `cluster create`: resolves every lookup first (no write before the input is known to be good), runs
// the preflight of doctor (steps/preflight.ts) when the plan changes something (the caller's permissions and the vCPU
// quota: a failure is exit 2 before the first write), then converges the baseline and the groups to the declared configuration (groups attach the target groups
// of the cluster's nodeport endpoints), waits for InService and, when the run changed something, for
// the Kubernetes nodes Ready within the readiness window, and reports instances left on older
// launch-template versions (they need `k3sctl recycle`). Nodes not Ready when the window closes do not
// fail the run (its resources are fine and kept, nothing is rolled back): the run ends, then
// ClusterNotReadyError (exit 4) names them.
import type { ClusterSpec } from '../../config/cluster';
import type { PlannedChange } from '../../core/events';
import { ClusterNotReadyError, UserError } from '../../core/errors';
import type { WorkflowDeps } from '../deps';
import { runWorkflow, type WorkflowResult } from '../engine';
import { endpointTargetGroupsForCluster } from '../../resources/endpointConfig';
import { clusterCreateCommand, preflight, preflightPermissions } from '../steps/preflight';
import { hasChanges, type ClusterWriteOptions } from '../steps/clusterWrite';
import { clusterView } from '../../model/view';
import { readClusterConfig } from '../../model/read';
import { resolveClusterConfig } from '../../model/resolve';
import {
  deleteRemovedIngressRules,
  deleteRemovedIngressTargetGroups,
  findIngressRemoval,
  ingressRemovalChanges,
  outOfDate,
  waitForGroups,
  waitForNodesReady,
  type NodesReadiness,
  type OutOfDateInstance,
} from '../steps/clusterPlan';

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
   * true: every InService instance was seen a Ready Kubernetes node; null: not checked (dry run, no-op
   * run, --no-wait, or a node list too long for SSM's output limit: a warning says so). Never false:
   * nodes not Ready in time are ClusterNotReadyError.
   */
  nodesReady: boolean | null;
}

export async function clusterCreate(deps: WorkflowDeps, spec: ClusterSpec, options: ClusterWriteOptions = {}): Promise<WorkflowResult<ClusterCreateResult>> {
  if (spec.region !== deps.region) throw new UserError(`the spec is for ${spec.region} but the run is in ${deps.region}`, undefined, '--region');
  const [existing, endpoints] = await Promise.all([
    readClusterConfig(deps.clients, spec.name),
    endpointTargetGroupsForCluster(deps.clients, spec.name),
  ]);
  // A cluster with no stored configuration has something to create (that configuration, at least): its
  // preflight (reads only) starts early instead of after the plan, the permission check (which needs
  // only what the spec says) alongside the lookups, the rest alongside the plan. Writes still wait for all.
  const speculate = !existing && !options.dryRun && options.preflight !== false;
  const command = clusterCreateCommand(spec);
  const permissions = speculate ? preflightPermissions(deps, spec.name, command) : undefined;
  permissions?.catch(() => undefined);
  const config = await resolveClusterConfig(deps.clients, deps.region, spec, existing);
  const early = permissions ? preflight(deps, config, { command, permissions }) : undefined;
  early?.catch(() => undefined);
  const removal = await findIngressRemoval(deps.clients, existing, config);
  const tasks = deps.providers.clusterTasks(clusterView(config, { endpointTargetGroupArns: endpoints.map((e) => e.targetGroupArn) }));
  let notReady: Extract<NodesReadiness, { ready: false }> | undefined;
  const result = await runWorkflow(
    deps,
    `cluster create ${spec.name}`,
    async (run) => {
      const planned = await run.plan(tasks, ingressRemovalChanges(removal));
      const base = {
        cluster: config.name,
        region: config.region,
        planned,
        groups: config.groups.map((g) => ({ name: g.name, role: g.role, desired: g.count, instanceType: g.instanceType })),
        ingressHost: config.ingress?.host,
      };
      if (options.dryRun) return { ...base, dryRun: true, outOfDate: [], waited: false, nodesReady: null };
      // Reads only, and only when something is to be written (a no-op re-run stays as cheap as before).
      if (hasChanges(planned) && options.preflight !== false) await (early ?? preflight(deps, config));
      if (hasChanges(planned) && options.confirm && !(await options.confirm(planned))) {
        throw new UserError('cancelled: nothing was changed');
      }
      await deleteRemovedIngressRules(run, removal);
      // The groups detach the dropped ALBs' target groups here; they are deleted after the waits.
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
      const readiness = wait && hasChanges(planned) ? await waitForNodesReady(run, deps, config, { timeoutMs: options.waitTimeoutMs }) : undefined;
      if (readiness?.ready === false) notReady = readiness;
      await deleteRemovedIngressTargetGroups(run, removal);
      return {
        ...base,
        dryRun: false,
        outOfDate: stale,
        waited: wait,
        nodesReady: readiness?.ready ? true : null,
      };
    },
    { signal: options.signal },
  );
  if (notReady) {
    throw new ClusterNotReadyError(config.name, notReady.notReady, notReady.timeoutMs, result.run, result.changes, result.apiCalls);
  }
  return result;
}
