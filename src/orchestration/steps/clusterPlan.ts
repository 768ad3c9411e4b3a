// What cluster create, controlplane/nodegroup add and nodegroup scale share once the cluster model is
// known (src/model): the task set that converges a cluster to it (its SSM parameters, baseline, launch
// templates with the user data rendered from it, Auto Scaling groups, ingress), the waits for
// InService and for the nodes Ready, and out-of-date instance reporting.
import { targetGroupNameOfArn } from '../../aws/arns';
import { setMaxListeners } from 'node:events';
import * as crypto from 'node:crypto';
import type { AwsClients } from '../../aws/clients';
import { clusterTags, TagKeys } from '../../aws/tags';
import { LEGACY_IMDS_HOP_LIMIT } from '../../config/cluster';
import { names } from '../../aws/names';
import { isAwsError, UserError, type NotReadyInstance } from '../../core/errors';
import type { PlannedChange } from '../../core/events';
import {
  checkSecurityGroupCount,
  ingressSecurityGroups,
  type StoredClusterConfig,
  type StoredGroup,
  type StoredIngress,
  type StoredIngressAlb,
} from '../../model/cluster';
import { readClusterConfig } from '../../model/read';
import { parseStoredClusterConfig, parseStoredGroup, serializeStoredClusterSettings, serializeStoredGroup } from '../../model/stored';
import {
  autoScalingGroupTask,
  findAutoScalingGroup,
  listClusterAutoScalingGroups,
  type AutoScalingGroupState,
} from '../../resources/autoScalingGroup';
import { isLeaving } from '../../resources/autoScalingInstance';
import { iamRoleTask, instanceRolePolicies, type IamRoleState, type InstanceRoleScope } from '../../resources/iamRole';
import { instanceProfileTask, type InstanceProfileState } from '../../resources/instanceProfile';
import { launchTemplateTask, type LaunchTemplateState } from '../../resources/launchTemplate';
import { securityGroupTask, type SecurityGroupState } from '../../resources/securityGroup';
import { listParametersByPath, ssmParameterTask, type SsmParameterState } from '../../resources/ssmParameter';
import {
  deleteTargetGroupJournaled,
  findTargetGroupByName,
  TARGET_GROUP_TYPE,
  targetGroupHealth,
  targetGroupTask,
  type TargetGroupState,
} from '../../resources/targetGroup';
import {
  deleteListenerRules,
  findListenerRuleByTags,
  LISTENER_RULE_TYPE,
  listenerRuleTask,
  ruleOwnerTags,
  type ListenerRuleState,
} from '../../resources/listenerRule';
import { listEndpointConfigs } from '../../resources/endpointConfig';
import { renderUserData } from '../../userdata/render';
import type { WorkflowDeps } from '../deps';
import { waitFor, type Run, type Task } from '../engine';
import { taskRef } from '../../provider/taskRef';
import { WaitTimeoutError } from '../../core/errors';
import { kubernetesNodeReadiness, ssmShellRunner, type ShellRunner } from './recycleNodeReadiness';

export const TASK = {
  role: (role: 'control-plane' | 'node') => taskRef<IamRoleState>(`iamRole/${role}`),
  profile: (role: 'control-plane' | 'node') => taskRef<InstanceProfileState>(`instanceProfile/${role}`),
  securityGroup: taskRef<SecurityGroupState>('securityGroup'),
  config: taskRef<SsmParameterState>('ssm/config'),
  groupConfig: (group: string) => taskRef<SsmParameterState>(`ssm/groups/${group}`),
  serverToken: taskRef<SsmParameterState>('ssm/server-token'),
  agentToken: taskRef<SsmParameterState>('ssm/agent-token'),
  /** The cluster's target group on one ingress ALB, by its name. */
  ingressTargetGroup: (targetGroupName: string) => taskRef<TargetGroupState>(`targetGroup/${targetGroupName}`),
  ingressRule: (targetGroupName: string) => taskRef<ListenerRuleState>(`listenerRule/${targetGroupName}`),
  launchTemplate: (group: string) => taskRef<LaunchTemplateState>(`launchTemplate/${group}`),
  autoScalingGroup: (group: string) => taskRef<AutoScalingGroupState>(`autoScalingGroup/${group}`),
};

/**
 * The reasons instances recorded for a bootstrap that failed for good, by instance id, from a
 * GetParametersByPath listing of the cluster's path (or of its bootstrap-failures path).
 */
export function bootstrapFailuresOf(params: { Name?: string; Value?: string; LastModifiedDate?: Date }[], cluster: string): Map<string, { reason: string; at?: Date }> {
  const prefix = `${names.ssmBootstrapFailures(cluster)}/`;
  const out = new Map<string, { reason: string; at?: Date }>();
  for (const p of params) {
    if (!p.Name?.startsWith(prefix)) continue;
    const instanceId = p.Name.slice(prefix.length);
    if (instanceId && !instanceId.includes('/')) out.set(instanceId, { reason: p.Value ?? '', at: p.LastModifiedDate });
  }
  return out;
}

/** Like readClusterConfig, but a missing cluster is a UserError (exit 2). */
export async function requireClusterConfig(deps: WorkflowDeps, cluster: string): Promise<StoredClusterConfig> {
  const config = await readClusterConfig(deps.clients, cluster);
  if (!config) {
    throw new UserError(`cluster ${cluster} does not exist in ${deps.region} (no ${names.ssmConfig(cluster)})`, 'see k3sctl cluster list', 'cluster');
  }
  return config;
}

/** What is left of the ingress on ALBs the declaration dropped: deleted by the run that drops them. */
export interface IngressRemoval {
  rules: { arn: string; name: string }[];
  targetGroups: { arn: string; name: string }[];
}

/**
 * The rule and target group of each ALB the stored ingress has and `config` no longer declares (reads
 * only). Refused (exit 2, before any write) while an ingress endpoint on such an ALB forwards to the
 * cluster: its target group cannot go (ELBv2 ResourceInUse), and the endpoint would lose the cluster.
 */
export async function findIngressRemoval(
  clients: AwsClients,
  existing: StoredClusterConfig | undefined,
  config: StoredClusterConfig,
): Promise<IngressRemoval> {
  const kept = new Set((config.ingress?.albs ?? []).map((a) => a.targetGroupName));
  const removed = (existing?.ingress?.albs ?? []).filter((a) => !kept.has(a.targetGroupName));
  const removal: IngressRemoval = { rules: [], targetGroups: [] };
  if (!removed.length) return removal;
  const cluster = config.name;
  const listeners = new Set(removed.map((a) => a.listenerArn));
  const endpoints = (await listEndpointConfigs(clients)).filter(
    (e) => e.mode === 'ingress' && e.clusters.includes(cluster) && listeners.has(e.listenerArn),
  );
  if (endpoints.length) {
    throw new UserError(
      `--ingress-alb: endpoint(s) ${endpoints.map((e) => `${e.service} (${e.host})`).join(', ')} forward to ${cluster}'s target group on an ALB the run would drop (${removed.map((a) => a.albName).join(', ')})`,
      `take ${cluster} out of them first (k3sctl endpoint create SERVICE ... without --cluster ${cluster}), or keep the ALB`,
      '--ingress-alb',
    );
  }
  const owner = ruleOwnerTags(clusterTags(cluster, 'ingress'));
  await Promise.all(
    removed.map(async (alb) => {
      const [rule, tg] = await Promise.all([
        // The ALB (and with it the rule) may be gone already.
        findListenerRuleByTags(clients, alb.listenerArn, owner).catch((error: unknown) => {
          if (isAwsError(error, 'ListenerNotFound', 'LoadBalancerNotFound')) return undefined;
          throw error;
        }),
        findTargetGroupByName(clients, alb.targetGroupName),
      ]);
      if (rule) removal.rules.push({ arn: rule.arn, name: ingressRuleName(cluster, existing!.ingress!.host, alb) });
      if (tg && tg.tags[TagKeys.cluster] === cluster)
        removal.targetGroups.push({ arn: tg.arn, name: tg.name });
    }),
  );
  return removal;
}

export function ingressRemovalChanges(removal: IngressRemoval): PlannedChange[] {
  return [
    ...removal.rules.map((r): PlannedChange => ({
      action: 'delete',
      type: LISTENER_RULE_TYPE,
      name: r.name,
      id: r.arn,
    })),
    ...removal.targetGroups.map((t): PlannedChange => ({
      action: 'delete',
      type: TARGET_GROUP_TYPE,
      name: t.name,
      id: t.arn,
    })),
  ];
}

/**
 * Deletes the rules of the dropped ALBs: before apply, so that traffic there stops before the groups
 * detach the target groups. What the user asked to remove stays removed.
 */
export async function deleteRemovedIngressRules(run: Run, removal: IngressRemoval): Promise<void> {
  if (!removal.rules.length) return;
  await run.step('stop ingress traffic on the dropped ALBs: delete their listener rules', (ctx) => deleteListenerRules(ctx, removal.rules));
}

/** Deletes the target groups of the dropped ALBs, once apply has detached them from every group. */
export async function deleteRemovedIngressTargetGroups(run: Run, removal: IngressRemoval): Promise<void> {
  if (!removal.targetGroups.length) return;
  await run.step('delete the target groups of the dropped ALBs', async (ctx) => {
    for (const t of removal.targetGroups) await deleteTargetGroupJournaled(ctx, t);
  });
}

function newToken(): string {
  // 32 bytes from the CSPRNG, hex. Not `K10...`: k3s parses that prefix as a full secure token (CA hash).
  // Never printed, logged or journaled.
  return crypto.randomBytes(32).toString('hex');
}

function sameSettings(actualJson: string, desiredJson: string): boolean {
  try {
    const actual = parseStoredClusterConfig(actualJson, 'config');
    // A version-1 parameter (groups inline) is rewritten even when its settings are the same.
    return !actual.legacyGroups && serializeStoredClusterSettings(actual) === desiredJson;
  } catch {
    return false;
  }
}

function sameGroup(actualJson: string, desiredJson: string): boolean {
  try {
    return serializeStoredGroup(parseStoredGroup(actualJson, 'group')) === desiredJson;
  } catch {
    return false;
  }
}

/** The user data of one group (validated; UserError before any write when it is not valid). */
export function groupUserData(config: StoredClusterConfig, group: StoredGroup): string {
  return renderUserData({
    cluster: config.name,
    role: group.role,
    group: group.name,
    region: config.region,
    k3sVersion: group.k3sVersion,
    k3sArgs: group.k3sArgs,
    labels: group.labels,
    taints: group.taints,
    tlsSans: config.tlsSans,
    serverTokenParameter: names.ssmServerToken(config.name),
    agentTokenParameter: names.ssmAgentToken(config.name),
    initializedParameter: names.ssmInitialized(config.name),
    bootstrapFailurePrefix: names.ssmBootstrapFailures(config.name),
    lifecycleHookName: names.lifecycleHook(),
  }).base64;
}

/** SSM Parameter Store: a standard parameter's value is at most 4 KB. */
const SSM_STANDARD_VALUE_MAX = 4096;

/**
 * Checked before any write: PutParameter refuses a standard-tier value over 4096 characters
 * (ValidationException), which would fail the run halfway and roll it back.
 */
function checkParameterSize(name: string, value: string, what: string, hint: string, field: string): void {
  if (value.length > SSM_STANDARD_VALUE_MAX) {
    throw new UserError(`${what} is ${value.length} characters; ${name} holds at most ${SSM_STANDARD_VALUE_MAX} (SSM standard parameter)`, hint, field);
  }
}

/** The cluster-level settings parameter /k3sctl/clusters/NAME/config (no groups). */
export function storedSettingsTask(config: StoredClusterConfig): Task {
  const name = names.ssmConfig(config.name);
  const json = serializeStoredClusterSettings(config);
  checkParameterSize(name, json, `the settings of cluster ${config.name}`, 'use fewer --tls-san / CIDR values', 'name');
  return ssmParameterTask({
    key: TASK.config.key,
    name,
    cluster: config.name,
    type: 'String',
    value: () => json,
    managedValue: true,
    equals: sameSettings,
    description: `k3sctl cluster ${config.name}: declared settings`,
    // A run that creates the settings creates the cluster: what its instances write under the path is its own.
    ownsPath: { cluster: config.name, path: names.ssmPrefix(config.name) },
  }) as Task;
}

/** One group's declaration /k3sctl/clusters/NAME/groups/GROUP. */
export function storedGroupTask(config: StoredClusterConfig, group: StoredGroup): Task {
  const name = names.ssmGroupConfig(config.name, group.name);
  const json = serializeStoredGroup(group);
  checkParameterSize(name, json, `the declaration of group ${group.name}`, 'use fewer labels, taints, k3s arguments or subnets', 'group');
  return ssmParameterTask({
    key: TASK.groupConfig(group.name).key,
    name,
    cluster: config.name,
    type: 'String',
    value: () => json,
    managedValue: true,
    equals: sameGroup,
    description: `k3sctl cluster ${config.name}: group ${group.name}`,
  }) as Task;
}

/**
 * The stored configuration's parameters: the settings and every group. Used when a version-1
 * configuration (groups inline) is rewritten, and by upgrade.
 */
export function storedConfigTasks(config: StoredClusterConfig): Task[] {
  return [storedSettingsTask(config), ...config.groups.map((g) => storedGroupTask(config, g))];
}

/** Tasks of the baseline (roles, profiles, security group, parameters, ingress). */
export function baselineTasks(config: StoredClusterConfig): Task[] {
  const cluster = config.name;
  const region = config.region;
  const tasks: Task[] = [];
  const scope: InstanceRoleScope = {
    cluster,
    region,
    serverToken: names.ssmServerToken(cluster),
    agentToken: names.ssmAgentToken(cluster),
    initialized: names.ssmInitialized(cluster),
    bootstrapFailures: names.ssmBootstrapFailures(cluster),
  };
  for (const role of ['control-plane', 'node'] as const) {
    const roleName = role === 'control-plane' ? names.controlPlaneRole(cluster, region) : names.nodeRole(cluster, region);
    tasks.push(
      iamRoleTask({ key: TASK.role(role).key, roleName, cluster, role, policies: instanceRolePolicies(role, scope), managedPolicies: [] }) as Task,
      instanceProfileTask({ key: TASK.profile(role).key, name: roleName, cluster, role, roleTask: TASK.role(role), roleName }) as Task,
    );
  }
  tasks.push(
    securityGroupTask({
      key: TASK.securityGroup.key,
      cluster,
      name: names.securityGroup(cluster),
      vpcId: config.vpcId,
      sshCidrs: config.sshCidrs,
      apiCidrs: config.apiCidrs,
    }) as Task,
  );
  tasks.push(
    storedSettingsTask(config),
    ssmParameterTask({ key: TASK.serverToken.key, name: names.ssmServerToken(cluster), cluster, type: 'SecureString', value: newToken, managedValue: false }) as Task,
    ssmParameterTask({ key: TASK.agentToken.key, name: names.ssmAgentToken(cluster), cluster, type: 'SecureString', value: newToken, managedValue: false }) as Task,
  );
  for (const alb of config.ingress?.albs ?? []) tasks.push(...ingressTasks(config, config.ingress!, alb));
  return tasks;
}

/**
 * The name plans and journals give the cluster's rule on `alb`. Every ALB's rule has the same host, so
 * the rule of a further ALB (not slot 1, which single-ALB clusters have) is named with its ALB too.
 */
function ingressRuleName(cluster: string, host: string, alb: StoredIngressAlb): string {
  return alb.targetGroupName === names.ingressTargetGroup(cluster) ? host : `${host} on ${alb.albName}`;
}

/** The cluster's target group on one ingress ALB and the `*--NAME.REGION.ZONE` rule forwarding to it. */
function ingressTasks(config: StoredClusterConfig, ingress: StoredIngress, alb: StoredIngressAlb): Task[] {
  const cluster = config.name;
  return [
    targetGroupTask(
      {
        name: alb.targetGroupName,
        vpcId: config.vpcId,
        port: 80,
        protocol: 'HTTP',
        healthCheckPath: '/ping',
        deregistrationDelaySeconds: ingress.deregistrationDelaySeconds,
        tags: clusterTags(cluster, 'ingress', { name: alb.targetGroupName }),
      },
      TASK.ingressTargetGroup(alb.targetGroupName).key,
    ) as Task,
    listenerRuleTask(
      {
        name: ingressRuleName(cluster, ingress.host, alb),
        listenerArn: alb.listenerArn,
        hostHeaders: [ingress.host],
        sourceIps: ingress.sourceCidrs ?? [],
        forward: [{ targetGroup: TASK.ingressTargetGroup(alb.targetGroupName), weight: 1 }],
        tags: clusterTags(cluster, 'ingress', { name: ingress.host }),
      },
      TASK.ingressRule(alb.targetGroupName).key,
    ) as Task,
  ];
}

/**
 * Tasks of one group: its declaration parameter, launch template and Auto Scaling group.
 * `extraTargetGroupArns`: nodeport endpoint target groups of the cluster, attached to every group; the
 * group's own extra target groups (group.targetGroupArns) are attached beside them.
 */
export function groupTasks(config: StoredClusterConfig, group: StoredGroup, extraTargetGroupArns: string[] = []): Task[] {
  const cluster = config.name;
  const userData = groupUserData(config, group);
  // Same Name as the group's propagated ASG tag (the ASG's value would override a different one).
  const instanceName = names.autoScalingGroup(cluster, group.name);
  const profile = TASK.profile(group.role);
  const ingressSgs = ingressSecurityGroups(config.ingress);
  const ingressTgs = (config.ingress?.albs ?? []).map((a) => TASK.ingressTargetGroup(a.targetGroupName));
  // A group stored before the cluster got (more of) the automatic ingress may hold more than fit now.
  const extraSgs = (group.securityGroupIds ?? []).filter((id) => !ingressSgs.includes(id));
  checkSecurityGroupCount(group, extraSgs, ingressSgs.length);
  const lt = launchTemplateTask({
    key: TASK.launchTemplate(group.name).key,
    name: names.launchTemplate(cluster, group.name),
    cluster,
    role: group.role,
    group: group.name,
    dependsOn: [profile, TASK.securityGroup],
    settings: [
      ...(group.cpuCredits ? [`cpuCredits: ${group.cpuCredits}`] : []),
      ...(extraSgs.length ? [`extra securityGroups: ${extraSgs.join(', ')}`] : []),
    ],
    input: (ctx) => {
      const profileState = ctx.get(profile);
      const sg = ctx.get(TASK.securityGroup);
      if (!profileState || !sg) return undefined;
      return {
        imageId: group.imageId,
        instanceType: group.instanceType,
        keyName: config.keyName,
        instanceProfileArn: profileState.arn,
        // The cluster's own, the ingress ones, then the user's (the template stores them sorted).
        securityGroupIds: [...new Set([sg.groupId, ...ingressSgs, ...extraSgs])],
        userDataBase64: userData,
        rootDeviceName: group.rootDeviceName,
        rootVolumeSize: group.rootVolumeSize,
        rootVolumeType: group.rootVolumeType,
        imdsHopLimit: group.imdsHopLimit ?? LEGACY_IMDS_HOP_LIMIT,
        cpuCredits: group.cpuCredits,
        instanceTags: clusterTags(cluster, group.role, { group: group.name, name: instanceName }),
      };
    },
  });
  // After the settings: a run that creates the cluster journals them before any instance can write
  // under the cluster's path, so rollback deletes the groups (and their instances) before that path.
  const deps = [TASK.config, TASK.serverToken, TASK.agentToken, ...ingressTgs];
  const asg = autoScalingGroupTask({
    key: TASK.autoScalingGroup(group.name).key,
    name: names.autoScalingGroup(cluster, group.name),
    cluster,
    role: group.role,
    group: group.name,
    count: group.count,
    subnetIds: group.subnetIds,
    instanceType: group.instanceType,
    spot: group.spot,
    lifecycleHookName: names.lifecycleHook(),
    launchTemplate: lt,
    settings: group.targetGroupArns?.length ? [`extra targetGroups: ${group.targetGroupArns.map((a) => targetGroupNameOfArn(a) ?? a).join(', ')}`] : [],
    dependsOn: deps,
    targetGroupArns: (ctx) => {
      const ingress = ingressTgs.flatMap((tg) => ctx.get(tg)?.arn ?? []);
      return [...new Set([...ingress, ...extraTargetGroupArns, ...(group.targetGroupArns ?? [])])];
    },
  });
  return [storedGroupTask(config, group), lt as Task, asg as Task];
}

/** Every task that converges the cluster to `config`. */
export function clusterTasks(config: StoredClusterConfig, extraTargetGroupArns: string[] = []): Task[] {
  return [...baselineTasks(config), ...config.groups.flatMap((g) => groupTasks(config, g, extraTargetGroupArns))];
}

export interface OutOfDateInstance {
  instanceId: string;
  group: string;
  launchTemplateVersion?: string;
  currentVersion?: string;
}

/** Instances of the converged groups launched from another launch template version than the group's. */
export function outOfDate(run: Run, groups: StoredGroup[]): OutOfDateInstance[] {
  const out: OutOfDateInstance[] = [];
  for (const g of groups) {
    const asg = run.ctx.get(TASK.autoScalingGroup(g.name));
    if (!asg) continue;
    for (const i of asg.instances) {
      if (isLeaving(i.lifecycleState)) continue;
      if (i.launchTemplateVersion !== asg.launchTemplateVersion) {
        out.push({ instanceId: i.instanceId, group: g.name, launchTemplateVersion: i.launchTemplateVersion, currentVersion: asg.launchTemplateVersion });
      }
    }
  }
  return out;
}

// Poll period of the InService / target-health waits. The awaited transitions take a minute or more and
// one poll is one read per group, so a short fixed period is cheap and bounds how late the end is seen
// (a backoff to 30 s made `cluster create` report up to 30 s after the cluster was ready).
const GROUP_POLL_MS = 5_000;

/**
 * Waits until every group has its desired count InService and, with ingress, the ingress target group
 * has that many healthy targets. The waits run side by side (targets register when instances go
 * InService, so the health wait ends last without waiting for the group waits to be observed first);
 * the first to fail stops the others.
 */
export async function waitForGroups(run: Run, deps: WorkflowDeps, config: StoredClusterConfig, groups: StoredGroup[]): Promise<void> {
  const scale = deps.timeoutScale ?? 1;
  const stop = new AbortController();
  // One wait per group listens on these signals: a cluster of many groups is not a listener leak.
  setMaxListeners(0, stop.signal);
  const signalOf = (ctx: { signal?: AbortSignal }) => {
    if (!ctx.signal) return stop.signal;
    setMaxListeners(0, ctx.signal);
    const both = AbortSignal.any([ctx.signal, stop.signal]);
    setMaxListeners(0, both);
    return both;
  };
  const waits: Promise<void>[] = groups.map((g) => {
    const asgName = names.autoScalingGroup(config.name, g.name);
    const unhealthy = new UnhealthyInstances(config.name);
    return run.step(`wait for ${g.count} instance(s) of ${asgName} InService`, (ctx) =>
      waitFor(
        ctx,
        { what: `${g.count} instance(s) of ${asgName} InService`, timeoutMs: 20 * 60_000 * scale, intervalMs: GROUP_POLL_MS, maxIntervalMs: GROUP_POLL_MS, signal: signalOf(ctx) },
        async () => {
          const asg = await findAutoScalingGroup(ctx.clients, asgName, { hooks: false });
          const live = (asg?.instances ?? []).filter((i) => !isLeaving(i.lifecycleState));
          const inService = live.filter(isServing).length;
          const states = [...new Set(live.map((i) => i.lifecycleState))].map((s) => `${live.filter((i) => i.lifecycleState === s).length} ${s}`);
          // The group replaces them, so the wait goes on; what they recorded is named meanwhile.
          await unhealthy.observe(ctx.clients, asg?.instances ?? []);
          return {
            done: inService >= g.count && live.length === g.count,
            seen: `${inService}/${g.count} InService${states.length ? ` (${states.join(', ')})` : ''}${unhealthy.describe()}`,
          };
        },
      ),
    );
  });
  const expected = groups.reduce((n, g) => n + g.count, 0);
  for (const alb of config.ingress?.albs ?? []) {
    const tg = run.ctx.get(TASK.ingressTargetGroup(alb.targetGroupName));
    if (tg && expected > 0) {
      waits.push(
        run.step(`wait for ${tg.name} targets healthy`, (ctx) =>
          waitFor(
            ctx,
            { what: `${expected} healthy target(s) in ${tg.name}`, timeoutMs: 15 * 60_000 * scale, intervalMs: GROUP_POLL_MS, maxIntervalMs: GROUP_POLL_MS, signal: signalOf(ctx) },
            async () => {
              const h = await targetGroupHealth(ctx.clients, tg.arn);
              return { done: h.healthy >= expected, seen: `${h.healthy}/${h.total} healthy (${Object.entries(h.states).map(([s, n]) => `${n} ${s}`).join(', ') || 'no targets'})` };
            },
          ),
        ),
      );
    }
  }
  try {
    await Promise.all(waits.map((w) => w.catch((error: unknown) => {
      stop.abort();
      throw error;
    })));
  } finally {
    stop.abort();
    // The stopped waits end with InterruptedError: settle them before the run goes on (rollback).
    await Promise.allSettled(waits);
  }
}

/** At most this many unhealthy instances are named in a wait's progress text (the newest). */
const UNHEALTHY_SHOWN = 3;

/**
 * Instances a wait has seen Unhealthy (an instance whose bootstrap fails for good marks itself so), with
 * the reason each recorded under the cluster's bootstrap-failures path. Kept after their group replaced
 * them, so a timeout still says what went wrong. The path is read only while a listed Unhealthy
 * instance has no reason yet: nothing is read while every instance is healthy.
 */
export class UnhealthyInstances {
  private readonly seen = new Map<string, string | undefined>();

  constructor(private readonly cluster: string) {}

  async observe(clients: AwsClients, instances: { instanceId: string; healthStatus: string }[]): Promise<void> {
    const sick = instances.filter((i) => i.healthStatus === 'Unhealthy').map((i) => i.instanceId);
    for (const id of sick) if (!this.seen.has(id)) this.seen.set(id, undefined);
    if (!sick.some((id) => this.seen.get(id) === undefined)) return;
    const failures = bootstrapFailuresOf(await listParametersByPath(clients, names.ssmBootstrapFailures(this.cluster)), this.cluster);
    for (const id of sick) if (failures.has(id)) this.seen.set(id, failures.get(id)!.reason);
  }

  get size(): number {
    return this.seen.size;
  }

  /** The reason instance `id` recorded, when it was seen Unhealthy and recorded one. */
  reasonOf(id: string): string | undefined {
    return this.seen.get(id);
  }

  /** `; N Unhealthy so far (...): i-1 (bootstrap failed: reason), ...`, or '' when none was seen. */
  describe(): string {
    return this.seen.size ? `; ${this.summary()}` : '';
  }

  /** `N Unhealthy so far (the group replaces them): i-1 (bootstrap failed: reason), ...`. */
  summary(): string {
    const all = [...this.seen];
    const shown = all.slice(-UNHEALTHY_SHOWN).map(([id, reason]) => {
      const text = reason === undefined ? 'no bootstrap failure recorded' : `bootstrap failed: ${reason.length > 200 ? `${reason.slice(0, 197)}...` : reason}`;
      return `${id} (${text})`;
    });
    const more = all.length > shown.length ? ` and ${all.length - shown.length} earlier` : '';
    return `${all.length} Unhealthy so far (the group replaces them): ${shown.join(', ')}${more}`;
  }
}

/** An instance that serves in its group: InService and not marked Unhealthy (a failed bootstrap marks itself so). */
function isServing(i: { lifecycleState?: string; healthStatus?: string }): boolean {
  return i.lifecycleState === 'InService' && i.healthStatus !== 'Unhealthy';
}

/** An instance on its way out of its group (terminating or detaching): never counted as out of date. */

// Readiness polls: each is an SSM command (SendCommand is a write, ~2 s to a result), started right after
// the InService waits. The servers of a new cluster turn Ready within a minute of InService, so the
// first polls come a few seconds apart; then they back off, so a cluster that never answers costs a few
// dozen commands per window, not one per second.
const NODES_POLL_MS = 2_000;
const NODES_POLL_MAX_MS = 15_000;
/** The readiness window when none is given: 15 min (x timeoutScale). */
export const DEFAULT_NODES_READY_TIMEOUT_MS = 15 * 60_000;
/** How long one SSM command may take to finish: at most this, at least SSM_COMMAND_MIN_MS, within the window. */
const SSM_COMMAND_MAX_MS = 60_000;
const SSM_COMMAND_MIN_MS = 10_000;

export interface NodesReadyOptions {
  /**
   * The readiness window: how long to wait until every InService instance is a Ready node, including
   * the time while no control plane answers (default 15 min x timeoutScale).
   */
  timeoutMs?: number;
  runner?: ShellRunner;
}

/**
 * `ready: true`: every InService instance was seen a Ready node. `ready: false`: the window closed first
 * (`notReady` names the instances and what was last heard of each). `ready: null`: not checked (the
 * node list does not fit SSM's output limit; `why` says so).
 */
export type NodesReadiness =
  | { ready: true }
  | { ready: false; notReady: NotReadyInstance[]; timeoutMs: number }
  | { ready: null; why: string };

/**
 * Waits until every InService instance of the cluster is a Ready Kubernetes node, asked through SSM Run
 * Command on an InService control plane (recycleNodeReadiness), for one readiness window. A control plane
 * that gives no answer (an empty output, a command still pending) is polled again, with backoff. When the
 * window closes first, the step fails in the progress display but the run does not: the result names
 * the instances not Ready, and the caller decides (cluster create keeps its resources, exit 4).
 */
export async function waitForNodesReady(run: Run, deps: WorkflowDeps, config: StoredClusterConfig, options: NodesReadyOptions = {}): Promise<NodesReadiness> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_NODES_READY_TIMEOUT_MS * (deps.timeoutScale ?? 1);
  let tooLarge: string | undefined;
  const base = options.runner ?? ssmShellRunner;
  let deadline = Number.POSITIVE_INFINITY;
  // While k3s is still starting every control plane refuses; asking a second one in the same poll only
  // doubles the time between polls. The second is asked on every other poll (a broken first one is
  // passed over that way).
  let poll = 0;
  let asked = 0;
  // A control plane not asked in a poll repeats its last answer, so the progress line stays the same
  // (and is printed once) while nothing changes.
  const lastError = new Map<string, string>();
  const runner: ShellRunner = async (ctx, instanceId, command) => {
    if (asked > 0 && poll % 2 === 1) return { ok: false, stdout: '', error: lastError.get(instanceId) ?? 'not asked yet' };
    asked++;
    // A command still pending at the end of the window is no answer: never wait far past the window.
    const left = deadline - ctx.clock.now();
    const res = await base(ctx, instanceId, command, Math.min(SSM_COMMAND_MAX_MS, Math.max(SSM_COMMAND_MIN_MS, left)));
    if (!res.ok) lastError.set(instanceId, res.error ?? 'failed');
    // A node list cut at the SSM output limit cannot be read, however long one waits: stop asking.
    if (!res.ok && /output limit/i.test(res.error ?? '')) tooLarge = res.error;
    return res;
  };
  const readiness = kubernetesNodeReadiness(config.name, runner);
  const what = `the instances of cluster ${config.name} Ready as Kubernetes nodes`;
  // What the last poll said about each InService instance (and its group).
  let last: { instanceId: string; group: string; lastAnswer: string }[] = [];
  let expired: WaitTimeoutError | undefined;
  // Instances whose bootstrap failed for good turn Unhealthy (after InService, usually): named while waiting.
  const unhealthy = new UnhealthyInstances(config.name);
  try {
    await run.step(`wait for the nodes of ${config.name} Ready`, async (ctx) => {
      deadline = ctx.clock.now() + timeoutMs;
      try {
        await waitFor(ctx, { what, timeoutMs, intervalMs: NODES_POLL_MS, maxIntervalMs: NODES_POLL_MAX_MS }, async () => {
          poll++;
          asked = 0;
          const groups = await listClusterAutoScalingGroups(ctx.clients, config.name);
          await unhealthy.observe(ctx.clients, groups.flatMap((g) => g.instances));
          const expected = groups
            .flatMap((g) => g.instances.filter((i) => i.lifecycleState === 'InService').map((i) => ({ instanceId: i.instanceId, group: g.name })))
            .sort((a, b) => a.instanceId.localeCompare(b.instanceId));
          // A group below its desired count of healthy InService instances is not ready either (it is
          // replacing instances, e.g. ones whose bootstrap failed): its other instances are named too.
          const short = groups.map((g) => ({ g, serving: g.instances.filter(isServing).length })).filter(({ g, serving }) => serving < g.desired);
          const replacing = short.flatMap(({ g }) =>
            g.instances.filter((i) => i.lifecycleState !== 'InService' && !isLeaving(i.lifecycleState)).map((i) => ({ instanceId: i.instanceId, group: g.name, lastAnswer: i.lifecycleState })),
          );
          const shortText = short.length ? `; ${short.map(({ g, serving }) => `${g.name} ${serving}/${g.desired} InService`).join(', ')}` : '';
          const answer = await readiness(ctx, []);
          if ('unreachable' in answer) {
            if (tooLarge) {
              tooLarge = `${tooLarge} (${expected.length} instances)`;
              return { done: true, seen: tooLarge };
            }
            const heard = [...new Set(Object.values(answer.answers ?? {}))];
            const why = heard.length === 1 ? heard[0] : answer.unreachable;
            last = [...expected.map((i) => ({ ...i, lastAnswer: `no answer (${why})` })), ...replacing];
            return { done: false, seen: `${answer.unreachable}${shortText}${unhealthy.describe()}` };
          }
          last = [...expected.map((i) => ({ ...i, lastAnswer: answer.nodes[i.instanceId] ?? 'no node' })), ...replacing];
          const notReady = last.filter((i) => i.lastAnswer !== 'Ready');
          return {
            done: notReady.length === 0 && short.length === 0,
            seen: notReady.length || short.length ? `not Ready: ${notReady.map((i) => `${i.instanceId} (${i.lastAnswer})`).join(', ') || 'none'}${shortText}${unhealthy.describe()}` : 'all Ready',
          };
        });
      } catch (error) {
        if (error instanceof WaitTimeoutError) expired = error;
        throw error;
      }
    });
  } catch (error) {
    if (error !== expired || expired === undefined) throw error;
    if (unhealthy.size) {
      deps.events.emit({
        kind: 'log',
        level: 'warn',
        message: `cluster ${config.name}: ${unhealthy.summary()}; see k3sctl cluster describe ${config.name}`,
      });
    }
    const notReady = last
      .filter((i) => i.lastAnswer !== 'Ready')
      .map((i) => {
        const reason = unhealthy.reasonOf(i.instanceId);
        return reason === undefined ? i : { ...i, lastAnswer: `${i.lastAnswer}; bootstrap failed: ${reason}` };
      });
    return { ready: false, notReady, timeoutMs };
  }
  if (tooLarge) {
    deps.events.emit({ kind: 'log', level: 'warn', message: `nodes not checked: ${tooLarge}; see k3sctl kubeconfig ${config.name} and kubectl get nodes` });
    return { ready: null, why: tooLarge };
  }
  return { ready: true };
}
