// `k3sctl upgrade CLUSTER --k3s-version V`: for every group whose launch template still boots
// another k3s version, a new launch template version whose user data is re-rendered from the
// current one with only the version changed (made the default), the cluster's stored configuration
// updated, then a recycle (control planes first, quorum-safe). Version skew is checked before any
// write: no downgrade across minor versions, no skipping a minor version, unless forced.
import { gunzipSync } from 'node:zlib';
import { parse as parseYaml } from 'yaml';
import { isK3sVersion } from '../../config/k3s';
import { names } from '../../config/names';
import { UserError } from '../../core/errors';
import { describeClusterGroups } from '../../resources/autoScalingInstance';
import {
  createUserDataVersion,
  readLaunchTemplateVersion,
  setGroupLaunchTemplateVersion,
  type LaunchTemplateVersionState,
} from '../../resources/launchTemplateVersion';
import {
  CONFIG_ENV_PATH,
  renderUserData,
  type InstanceBootstrapConfig,
} from '../../userdata/render';
import type { WorkflowDeps } from '../deps';
import { runWorkflow, type WorkflowResult } from '../engine';
import { executeRecycle, plannedChanges, summarize, type RecycleResult, type RecycleSpec } from '../steps/recycleExecution';
import { planRecycle, type GroupInventory } from '../steps/recyclePlan';
import { readClusterConfig } from '../../model/read';
import { storedConfigTasks } from '../steps/clusterPlan';

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

// ---- reading the bootstrap configuration back from user data ------------------------------------

/** Splits one shell word list of single-quoted strings (what render.ts shellQuote writes). */
function unquoteWords(text: string): string[] {
  const words: string[] = [];
  let i = 0;
  while (i < text.length) {
    while (text[i] === ' ') i++;
    if (i >= text.length) break;
    let word = '';
    while (i < text.length && text[i] !== ' ') {
      if (text[i] === "'") {
        const end = text.indexOf("'", i + 1);
        if (end < 0) throw new UserError('unterminated quote in the user data configuration');
        word += text.slice(i + 1, end);
        i = end + 1;
      } else if (text[i] === '\\' && i + 1 < text.length) {
        word += text[i + 1];
        i += 2;
      } else {
        word += text[i];
        i++;
      }
    }
    words.push(word);
  }
  return words;
}

/** Parses /etc/k3sctl/config.env as rendered by src/userdata/render.ts. */
export function parseConfigEnv(text: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line);
    if (!m) continue;
    const raw = m[2];
    out[m[1]] =
      raw.startsWith('(') && raw.endsWith(')') ? unquoteWords(raw.slice(1, -1)) : unquoteWords(raw).join('');
  }
  return out;
}

/** The bootstrap configuration a launch template's user data was rendered from. */
export function bootstrapConfigFromUserData(userDataBase64: string, where: string): InstanceBootstrapConfig {
  let raw = Buffer.from(userDataBase64, 'base64');
  if (raw[0] === 0x1f && raw[1] === 0x8b) raw = gunzipSync(raw);
  const text = raw.toString('utf8');
  const start = text.indexOf('#cloud-config');
  if (start < 0)
    throw new UserError(
      `${where}: user data is not k3sctl's (no cloud-config part)`,
      'recreate the group with k3sctl',
    );
  const boundary = text.indexOf('\n--', start);
  const cloudConfig = parseYaml(text.slice(start, boundary < 0 ? undefined : boundary)) as {
    write_files?: { path?: string; content?: string }[];
  };
  const env = cloudConfig.write_files?.find((f) => f.path === CONFIG_ENV_PATH)?.content;
  if (!env)
    throw new UserError(`${where}: user data has no ${CONFIG_ENV_PATH}`, 'recreate the group with k3sctl');
  const v = parseConfigEnv(env);
  const s = (k: string) => (typeof v[k] === 'string' ? (v[k] as string) : '');
  const a = (k: string) => (Array.isArray(v[k]) ? (v[k] as string[]) : []);
  const labels = Object.fromEntries(
    a('K3SCTL_NODE_LABELS').map((kv) => {
      const i = kv.indexOf('=');
      return [kv.slice(0, i), kv.slice(i + 1)];
    }),
  );
  const role = s('K3SCTL_ROLE') === 'control-plane' ? 'control-plane' : 'node';
  const cluster = s('K3SCTL_CLUSTER');
  return {
    cluster,
    role,
    group: s('K3SCTL_GROUP'),
    region: s('K3SCTL_REGION'),
    k3sVersion: s('K3SCTL_K3S_VERSION'),
    k3sArgs: a('K3SCTL_K3S_ARGS'),
    labels,
    taints: a('K3SCTL_NODE_TAINTS'),
    tlsSans: a('K3SCTL_TLS_SANS'),
    // A node's config.env carries no server token parameter; the renderer leaves it out for nodes anyway.
    serverTokenParameter: s('K3SCTL_SERVER_TOKEN_PARAMETER') || names.ssmServerToken(cluster),
    agentTokenParameter: s('K3SCTL_AGENT_TOKEN_PARAMETER'),
    initializedParameter: s('K3SCTL_INITIALIZED_PARAMETER'),
    // Launch templates rendered before the failure path existed carry no prefix: the cluster's own.
    bootstrapFailurePrefix: s('K3SCTL_FAILURE_PARAMETER_PREFIX') || names.ssmBootstrapFailures(cluster),
    lifecycleHookName: s('K3SCTL_LIFECYCLE_HOOK_NAME'),
  };
}

// ---- the workflow ---------------------------------------------------------------------------------

interface GroupUpgrade {
  inventory: GroupInventory;
  source: LaunchTemplateVersionState;
  config: InstanceBootstrapConfig;
}

async function readGroupUpgrades(deps: WorkflowDeps, spec: UpgradeSpec): Promise<GroupUpgrade[]> {
  const inventory = await describeClusterGroups(deps.clients, spec.cluster, spec.groups);
  if (inventory.length === 0)
    throw new UserError(
      `no Auto Scaling groups found for cluster ${spec.cluster}`,
      'check the cluster name (k3sctl cluster list)',
      'cluster',
    );
  return Promise.all(
    inventory.map(async (g) => {
      if (!g.launchTemplateId || g.currentVersion === undefined) {
        throw new UserError(
          `group ${g.autoScalingGroupName} has no launch template; k3sctl cannot upgrade it`,
        );
      }
      const source = await readLaunchTemplateVersion(deps.clients, g.launchTemplateId, g.currentVersion);
      return {
        inventory: g,
        source,
        config: bootstrapConfigFromUserData(
          source.userDataBase64,
          `${source.templateName} version ${source.versionNumber}`,
        ),
      };
    }),
  );
}

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
      const groups = await readGroupUpgrades(deps, spec);
      const problems = groups
        .map((g) => ({ g, problem: versionSkewProblem(g.config.k3sVersion, spec.k3sVersion) }))
        .filter((p) => p.problem !== undefined);
      if (problems.length > 0 && !spec.force) {
        throw new UserError(
          `refusing to upgrade: ${problems.map((p) => `${p.g.inventory.group}: ${p.problem}`).join('; ')}`,
          'upgrade one minor version at a time (Kubernetes version skew policy), or give --force',
          '--k3s-version',
        );
      }
      const changing = groups.filter((g) => g.config.k3sVersion !== spec.k3sVersion);
      const versions: UpgradeGroupVersion[] = groups.map((g) => ({
        group: g.inventory.group,
        autoScalingGroupName: g.inventory.autoScalingGroupName,
        fromK3sVersion: g.config.k3sVersion,
        toK3sVersion: spec.k3sVersion,
        launchTemplateId: g.source.templateId,
        fromLaunchTemplateVersion: g.source.versionNumber,
      }));
      // Rendered before any write: an invalid configuration or a too-large user data is exit 2.
      const rendered = new Map(
        changing.map((g) => [g, renderUserData({ ...g.config, k3sVersion: spec.k3sVersion })]),
      );
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
              details: [`new version: k3s ${g.config.k3sVersion} -> ${spec.k3sVersion}`],
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
              rendered.get(g)!.base64,
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

      await updateStoredConfig(
        run,
        spec,
        changing.map((g) => g.config.group),
      );

      const recycled = await executeRecycle(run, { ...recycleSpec, confirm: undefined, revert });
      return { ...recycled, k3sVersion: spec.k3sVersion, launchTemplateVersions: versions };
    },
    options,
  );
}

/** Records the new version in the cluster's stored configuration (settings and upgraded groups), when it exists. */
async function updateStoredConfig(
  run: import('../engine/run').Run,
  spec: UpgradeSpec,
  groupNames: string[],
): Promise<void> {
  const config = await readClusterConfig(run.ctx.clients, spec.cluster);
  if (!config) return;
  const all = !spec.groups?.length;
  const next = {
    ...config,
    k3sVersion: all ? spec.k3sVersion : config.k3sVersion,
    groups: config.groups.map((g) =>
      all || groupNames.includes(g.name) ? { ...g, k3sVersion: spec.k3sVersion } : g,
    ),
  };
  await run.apply(storedConfigTasks(next));
}
