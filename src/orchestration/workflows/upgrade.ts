// `k3sctl upgrade CLUSTER --k3s-version V`: edits the cluster's stored model (src/model) and
// re-renders. The model read back from SSM gives every group's k3s version and everything its user data
// is rendered from; the upgraded groups get the new version in the model, their user data is rendered
// from it by the same function `cluster create` builds launch templates with, and a group whose launch
// template does not boot that yet gets a new launch template version carrying it (made the default,
// or the version the group pins). Then the model is written back (journaled: a failed upgrade puts it
// back) and a recycle replaces the instances (control planes first, quorum-safe). Version skew is
// checked before any write: no downgrade across minor versions, no skipping a minor version, unless
// forced. A cluster or group the stored model does not describe (made before k3sctl stored it) is
// refused (exit 2, nothing written): nothing is read back from user data.
import { isK3sVersion } from '../../config/k3s';
import { names } from '../../aws/names';
import { UserError } from '../../core/errors';
import { withK3sVersion, type StoredClusterConfig, type StoredGroup } from '../../model/cluster';
import { readClusterConfig } from '../../model/read';
import { describeClusterGroups, type GroupInventory } from '../../resources/autoScalingInstance';
import {
  createUserDataVersion,
  readLaunchTemplateVersion,
  setGroupLaunchTemplateVersion,
  type LaunchTemplateVersionState,
} from '../../resources/launchTemplateVersion';
import type { WorkflowDeps } from '../deps';
import { runWorkflow, type WorkflowResult } from '../engine';
import { storedConfigTasks } from '../steps/clusterPlan';
import { groupUserData } from '../../model/view';
import { executeRecycle, plannedChanges, summarize, type RecycleResult, type RecycleSpec } from '../steps/recycleExecution';
import { planRecycle } from '../steps/recyclePlan';

export interface UpgradeSpec extends RecycleSpec {
  k3sVersion: string;
}

export interface UpgradeGroupVersion {
  group: string;
  autoScalingGroupName: string;
  fromK3sVersion: string;
  toK3sVersion: string;
  launchTemplateId: string;
  fromLaunchTemplateVersion: number;
  /** The new version (undefined in a dry run, or when the group already boots the target version). */
  toLaunchTemplateVersion?: number;
}

export interface UpgradeResult extends RecycleResult {
  k3sVersion: string;
  launchTemplateVersions: UpgradeGroupVersion[];
}

// ---- k3s version skew ----------------------------------------------------------------------------

export function parseK3sVersion(v: string): { major: number; minor: number; patch: number } {
  const m = /^v(\d+)\.(\d+)\.(\d+)/.exec(v);
  if (!m) throw new UserError(`'${v}' is not a k3s version`, 'use the form v1.31.4+k3s1', '--k3s-version');
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]) };
}

/**
 * Kubernetes supports upgrading one minor version at a time and no downgrade across minor versions
 * (etcd and API storage versions move forward). Returns why `from -> to` is refused, or undefined.
 */
export function versionSkewProblem(from: string, to: string): string | undefined {
  const a = parseK3sVersion(from);
  const b = parseK3sVersion(to);
  if (b.major !== a.major) return `${from} -> ${to} changes the major version`;
  if (b.minor < a.minor) return `${from} -> ${to} is a downgrade across minor versions`;
  if (b.minor > a.minor + 1) return `${from} -> ${to} skips ${b.minor - a.minor - 1} minor version(s)`;
  return undefined;
}

// ---- the model and the groups it describes -------------------------------------------------------

interface GroupUpgrade {
  inventory: GroupInventory;
  /** The group as the stored model declares it (its k3s version: the one it runs). */
  declared: StoredGroup;
  source: LaunchTemplateVersionState;
  /** The user data of the group at the target version, rendered from the model. */
  userDataBase64: string;
}

/**
 * The stored model of the cluster, or a UserError (exit 2) when there is none: a cluster created
 * before k3sctl stored its model cannot be upgraded until the model is recorded.
 */
async function requireModel(deps: WorkflowDeps, cluster: string): Promise<StoredClusterConfig> {
  const model = await readClusterConfig(deps.clients, cluster);
  if (!model) {
    throw new UserError(
      `cluster ${cluster} has no stored configuration (${names.ssmConfig(cluster)}), which upgrade renders the new user data from`,
      `record it by running k3sctl cluster create ${cluster} again with the flags it was created with (k3sctl cluster describe ${cluster} shows what it runs), then upgrade again`,
      'cluster',
    );
  }
  return model;
}

/**
 * Each group to upgrade (its Auto Scaling group, its declaration in the model, its launch template now,
 * its user data at the target version) and the model as the upgrade leaves it: the upgraded groups at
 * the target version, and the cluster's own version too when every group is upgraded (no --group).
 */
async function readGroupUpgrades(
  deps: WorkflowDeps,
  spec: UpgradeSpec,
  model: StoredClusterConfig,
): Promise<{ groups: GroupUpgrade[]; upgraded: StoredClusterConfig }> {
  const inventory = await describeClusterGroups(deps.clients, spec.cluster, spec.groups);
  if (inventory.length === 0)
    throw new UserError(
      `no Auto Scaling groups found for cluster ${spec.cluster}`,
      'check the cluster name (k3sctl cluster list)',
      'cluster',
    );
  const undeclared = inventory.filter((g) => !model.groups.some((d) => d.name === g.group));
  if (undeclared.length > 0) {
    const add = (g: GroupInventory) => `k3sctl ${g.role === 'control-plane' ? 'controlplane' : 'nodegroup'} add ${spec.cluster} ${g.group}`;
    throw new UserError(
      `group(s) ${undeclared.map((g) => g.group).join(', ')} of cluster ${spec.cluster} are not in its stored configuration (${names.ssmPrefix(spec.cluster)}/groups/), which upgrade renders the new user data from`,
      `declare them with the settings they run (${undeclared.map(add).join('; ')}), then upgrade again`,
      'cluster',
    );
  }
  const upgraded = withK3sVersion(model, spec.groups?.length ? inventory.map((g) => g.group) : 'all', spec.k3sVersion);
  const groups = await Promise.all(
    inventory.map(async (g) => {
      if (!g.launchTemplateId || g.currentVersion === undefined) {
        throw new UserError(
          `group ${g.autoScalingGroupName} has no launch template; k3sctl cannot upgrade it`,
        );
      }
      const declared = model.groups.find((d) => d.name === g.group)!;
      // Rendered before any write: an invalid configuration or a too-large user data is exit 2.
      const userDataBase64 = groupUserData(upgraded, upgraded.groups.find((d) => d.name === g.group)!);
      const source = await readLaunchTemplateVersion(deps.clients, g.launchTemplateId, g.currentVersion);
      return { inventory: g, declared, source, userDataBase64 };
    }),
  );
  return { groups, upgraded };
}

// ---- the workflow ---------------------------------------------------------------------------------

export async function upgrade(
  deps: WorkflowDeps,
  spec: UpgradeSpec,
  options: { signal?: AbortSignal } = {},
): Promise<WorkflowResult<UpgradeResult>> {
  if (!isK3sVersion(spec.k3sVersion)) {
    throw new UserError(
      `'${spec.k3sVersion}' is not a k3s release version`,
      'use the form v1.31.4+k3s1',
      '--k3s-version',
    );
  }
  return runWorkflow(
    deps,
    `upgrade ${spec.cluster} to ${spec.k3sVersion}`,
    async (run) => {
      const model = await requireModel(deps, spec.cluster);
      const { groups, upgraded } = await readGroupUpgrades(deps, spec, model);
      const problems = groups
        .map((g) => ({ g, problem: versionSkewProblem(g.declared.k3sVersion, spec.k3sVersion) }))
        .filter((p) => p.problem !== undefined);
      if (problems.length > 0 && !spec.force) {
        throw new UserError(
          `refusing to upgrade: ${problems.map((p) => `${p.g.inventory.group}: ${p.problem}`).join('; ')}`,
          'upgrade one minor version at a time (Kubernetes version skew policy), or give --force',
          '--k3s-version',
        );
      }
      // A group needs a new launch template version when what it boots is not what the model renders.
      const changing = groups.filter((g) => g.userDataBase64 !== g.source.userDataBase64);
      const versions: UpgradeGroupVersion[] = groups.map((g) => ({
        group: g.inventory.group,
        autoScalingGroupName: g.inventory.autoScalingGroupName,
        fromK3sVersion: g.declared.k3sVersion,
        toK3sVersion: spec.k3sVersion,
        launchTemplateId: g.source.templateId,
        fromLaunchTemplateVersion: g.source.versionNumber,
      }));
      // --force (replace everything) is recycle's; for upgrade it only overrides the skew check.
      const recycleSpec: RecycleSpec = { ...spec, force: false };

      if (spec.dryRun) {
        const inventories = groups.map((g) =>
          changing.includes(g)
            ? { ...g.inventory, currentVersion: `${g.source.versionNumber}+new` }
            : g.inventory,
        );
        const plans = planRecycle(inventories, recycleSpec);
        run.ctx.events.emit({
          kind: 'plan',
          changes: [
            ...changing.map((g) => ({
              action: 'update' as const,
              type: 'AWS::EC2::LaunchTemplate',
              name: g.source.templateName,
              id: g.source.templateId,
              details: [`new version: k3s ${g.declared.k3sVersion} -> ${spec.k3sVersion}`],
            })),
            ...plannedChanges(plans),
          ],
        });
        return {
          k3sVersion: spec.k3sVersion,
          launchTemplateVersions: versions,
          cluster: spec.cluster,
          strategy: spec.strategy,
          dryRun: true,
          groups: plans.map(summarize),
          replacements: [],
          drainFailures: [],
          skippedGates: [],
        };
      }

      if (changing.length > 0 && spec.confirm) {
        const preview = planRecycle(
          groups.map((g) =>
            changing.includes(g)
              ? { ...g.inventory, currentVersion: `${g.source.versionNumber}+new` }
              : g.inventory,
          ),
          recycleSpec,
        );
        if (!(await spec.confirm(preview))) throw new UserError('upgrade cancelled; nothing was changed');
      }

      const revert: NonNullable<RecycleSpec['revert']> = {};
      for (const g of changing) {
        await run.step(
          `new launch template version for ${g.inventory.autoScalingGroupName} (k3s ${spec.k3sVersion})`,
          async (ctx) => {
            const version = await createUserDataVersion(
              ctx,
              g.source,
              g.userDataBase64,
              `k3sctl upgrade to ${spec.k3sVersion}`,
            );
            const versionSpec = g.inventory.launchTemplateVersionSpec;
            const pinned = versionSpec !== undefined && /^\d+$/.test(versionSpec);
            // What a rollback of the replacement puts back: this version, on every instance.
            revert[g.inventory.autoScalingGroupName] = {
              templateId: g.source.templateId,
              version: g.source.versionNumber,
              newVersion: version,
              pinned,
            };
            if (pinned) {
              await setGroupLaunchTemplateVersion(
                ctx,
                g.inventory.autoScalingGroupName,
                g.source.templateId,
                versionSpec,
                version,
              );
            }
            versions.find(
              (v) => v.autoScalingGroupName === g.inventory.autoScalingGroupName,
            )!.toLaunchTemplateVersion = version;
          },
        );
      }

      // Journaled like every parameter write: a failed upgrade puts the model back. A version-1 model
      // (groups inline) is rewritten in the per-group layout on the way.
      await run.apply(storedConfigTasks(upgraded));

      const recycled = await executeRecycle(run, { ...recycleSpec, confirm: undefined, revert });
      return { ...recycled, k3sVersion: spec.k3sVersion, launchTemplateVersions: versions };
    },
    options,
  );
}
