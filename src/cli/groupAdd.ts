// What the group commands share: the body of `nodegroup add` and `controlplane add` (input from the
// flags and `-f FILE`, then the groupAdd workflow), and a group's result as text (also `nodegroup scale`'s).
import type { PlannedChange } from '../core/events';
import type { GroupFile, GroupRole } from '../config/cluster';
import type { SpecInput } from '../config/specFile';
import type { GroupWriteResult } from '../orchestration/workflows/groupAdd';
import type { WorkflowDeps } from '../orchestration/deps';
import type { groupSelectionFlags } from './groupFlags';
import { renderChanges } from './output';
import type { SpecInputOptions } from './specInput';

type GroupFlags = {
  [K in keyof typeof groupSelectionFlags]?: unknown;
} & Record<string, unknown>;

/** What the shared body needs from the command (its protected helpers). */
export interface GroupCommandContext {
  /** Asks before applying (on a terminal), from the base command's confirmPlanOnTerminal(). */
  confirm: ((changes: PlannedChange[]) => Promise<boolean>) | undefined;
  deps: () => Promise<WorkflowDeps>;
  signal: () => AbortSignal;
  /** The base command's specInput(): `-f FILE` merged under the flags, with the naming of every field. */
  specInput: (o: SpecInputOptions<GroupFile>) => Promise<SpecInput<GroupFile>>;
  /** The base command's asGiven(): a flag as the user typed it. */
  asGiven: (flag: string) => string;
}

/** Shared body of `nodegroup add` and `controlplane add`. */
export async function runGroupAdd(
  cmd: GroupCommandContext,
  role: GroupRole,
  cluster: string,
  group: string,
  f: GroupFlags,
  count: number | undefined,
  instanceType: string | undefined,
  cpuCredits?: string,
  extras: { securityGroups?: string[]; targetGroups?: string[] } = {},
): Promise<GroupWriteResult & { run: string; changes: PlannedChange[] }> {
  const cfg = await import('../config/cluster');
  const { validateClusterName } = await import('../config/names');
  validateClusterName(cluster, 'CLUSTER');
  const { input, field, relabel } = await cmd.specInput({
    parse: (text, name, flag) => cfg.parseClusterSpecFile('group', text, name, flag),
    flagOf: cfg.groupFlags(role),
    argument: 'name',
    fromFlags: {
      name: group,
      count,
      instanceType,
      cpuCredits: cpuCredits as 'standard' | undefined,
      securityGroups: extras.securityGroups,
      targetGroups: extras.targetGroups,
      subnetIds: f['subnet-id'] as string[] | undefined,
      subnetFilters: cfg.parseFilters(f['subnet-filter'] as string[] | undefined, cmd.asGiven('--subnet-filter')),
      ami: f.ami as string | undefined,
      amiName: f['ami-name'] as string | undefined,
      amiOwner: f['ami-owner'] as string | undefined,
      os: f.os as 'al2023' | undefined,
      k3sVersion: f['k3s-version'] as string | undefined,
      k3sArgs: f['k3s-arg'] as string[] | undefined,
      labels: cfg.parseKeyValues(f.label as string[] | undefined, cmd.asGiven('--label')),
      taints: f.taint as string[] | undefined,
      spot: (f.spot as boolean | undefined) || undefined,
      rootVolumeSize: f['root-volume-size'] as number | undefined,
      rootVolumeType: f['root-volume-type'] as 'gp3' | undefined,
      imdsHopLimit: f['imds-hop-limit'] as number | undefined,
    },
  });
  const spec = cfg.buildGroupSpec({ ...input, name: input.name ?? group, role }, {}, field);
  const deps = await cmd.deps();
  const confirm = cmd.confirm;
  const { groupAdd } = await import('../orchestration/workflows/groupAdd');
  return groupAdd(deps, cluster, spec, { dryRun: Boolean(f['dry-run']), wait: f.wait !== false, confirm, signal: cmd.signal() }).catch(
    (error: unknown) => {
      throw relabel(error);
    },
  );
}

export function renderGroupResult(result: GroupWriteResult & { changes: PlannedChange[] }): string {
  if (result.dryRun) return renderChanges(result.planned, true);
  const changed = result.changes.filter((c) => c.action !== 'noop').length;
  const lines = [`${result.role} group ${result.group} of ${result.cluster}: ${result.desired} instance(s); ${changed ? `${changed} change(s) applied` : 'no changes'}`];
  if (result.outOfDate.length) lines.push(`${result.outOfDate.length} instance(s) out of date: run k3sctl recycle ${result.cluster} --group ${result.group}`);
  return lines.join('\n');
}
