// What cluster create, controlplane/nodegroup add and nodegroup scale share: resolving a spec's lookups
// into the stored configuration (every lookup before the first write), the task set that converges a
// cluster to its stored configuration, the waits for InService, and out-of-date instance reporting.
import * as crypto from 'node:crypto';
import type { AwsClients } from '../../aws/clients';
import {
  checkKeyPair,
  resolveImage,
  resolveInstanceTypes,
  resolveSubnets,
  resolveVpc,
  type Architecture,
  type ResolvedImage,
  type ResolvedSubnet,
} from '../../aws/lookups';
import { clusterTags } from '../../aws/tags';
import {
  parseStoredClusterConfig,
  serializeStoredClusterConfig,
  type ClusterSpec,
  type GroupSpec,
  type StoredClusterConfig,
  type StoredGroup,
  type StoredIngress,
} from '../../config/cluster';
import { names } from '../../config/names';
import { UserError } from '../../core/errors';
import { autoScalingGroupTask, findAutoScalingGroup, type AutoScalingGroupState } from '../../resources/autoScalingGroup';
import { controlPlanePolicy, iamRoleTask, nodePolicy, SSM_MANAGED_INSTANCE_CORE } from '../../resources/iamRole';
import { instanceProfileTask, type InstanceProfileState } from '../../resources/instanceProfile';
import { launchTemplateTask } from '../../resources/launchTemplate';
import { securityGroupTask, type SecurityGroupState } from '../../resources/securityGroup';
import { getParameterValue, ssmParameterTask } from '../../resources/ssmParameter';
import { findHostedZone } from '../../resources/hostedZone';
import { findHttpsListener, findLoadBalancer } from '../../resources/loadBalancer';
import { findAlbSecurityGroups } from '../../resources/securityGroupRule';
import { targetGroupHealth, targetGroupTask, type TargetGroupState } from '../../resources/targetGroup';
import { listenerRuleTask } from '../../resources/listenerRule';
import { renderUserData } from '../../userdata/render';
import type { WorkflowDeps } from '../deps';
import { waitFor, type Run, type Task } from '../engine';

export const TASK = {
  role: (role: 'control-plane' | 'node') => `iamRole/${role}`,
  profile: (role: 'control-plane' | 'node') => `instanceProfile/${role}`,
  securityGroup: 'securityGroup',
  config: 'ssm/config',
  serverToken: 'ssm/server-token',
  agentToken: 'ssm/agent-token',
  ingressTargetGroup: 'targetGroup/ingress',
  ingressRule: 'listenerRule/ingress',
  launchTemplate: (group: string) => `launchTemplate/${group}`,
  autoScalingGroup: (group: string) => `autoScalingGroup/${group}`,
};

/** The cluster's stored configuration, or undefined when it has none. */
export async function readClusterConfig(clients: AwsClients, cluster: string): Promise<StoredClusterConfig | undefined> {
  const p = await getParameterValue(clients, names.ssmConfig(cluster));
  if (!p?.Value) return undefined;
  return parseStoredClusterConfig(p.Value, names.ssmConfig(cluster));
}

/** Like readClusterConfig, but a missing cluster is a UserError (exit 2). */
export async function requireClusterConfig(deps: WorkflowDeps, cluster: string): Promise<StoredClusterConfig> {
  const config = await readClusterConfig(deps.clients, cluster);
  if (!config) {
    throw new UserError(`cluster ${cluster} does not exist in ${deps.region} (no ${names.ssmConfig(cluster)})`, 'see k3sctl cluster list', 'cluster');
  }
  return config;
}

function typeField(g: GroupSpec): string {
  return g.role === 'control-plane' ? '--control-plane-type' : '--node-type';
}

/** Resolves subnets, instance types and AMIs of groups; nothing is written. */
export async function resolveGroups(
  clients: AwsClients,
  vpcId: string,
  clusterSubnets: ResolvedSubnet[],
  groups: GroupSpec[],
): Promise<StoredGroup[]> {
  const types = await resolveInstanceTypes(
    clients,
    groups.map((g) => ({ type: g.instanceType, field: typeField(g) })),
  );
  const images = new Map<string, Promise<ResolvedImage>>();
  const out: StoredGroup[] = [];
  for (const g of groups) {
    const info = types.get(g.instanceType)!;
    const subnets = g.subnets ? await resolveSubnets(clients, vpcId, g.subnets) : clusterSubnets;
    let image: ResolvedImage;
    if ('id' in g.ami) {
      image = await (images.get(`id:${g.ami.id}`) ?? resolveImage(clients, g.ami, info.architectures[0]));
      if (!info.architectures.includes(image.architecture)) {
        throw new UserError(
          `AMI ${image.imageId} is ${image.architecture} but ${g.instanceType} runs ${info.architectures.join('/')}`,
          'pick an AMI of the instance type\'s architecture, or use --os',
          '--ami',
        );
      }
    } else {
      const arch: Architecture = info.architectures.includes('x86_64') ? 'x86_64' : info.architectures[0];
      const key = `${JSON.stringify(g.ami)}/${arch}`;
      if (!images.has(key)) images.set(key, resolveImage(clients, g.ami, arch));
      image = await images.get(key)!;
    }
    out.push({
      name: g.name,
      role: g.role,
      count: g.count,
      instanceType: g.instanceType,
      subnetIds: subnets.map((s) => s.subnetId),
      imageId: image.imageId,
      rootDeviceName: image.rootDeviceName,
      k3sVersion: g.k3sVersion,
      k3sArgs: g.k3sArgs,
      labels: g.labels,
      taints: g.taints,
      spot: g.spot,
      rootVolumeSize: g.rootVolumeSize,
      rootVolumeType: g.rootVolumeType,
    });
  }
  return out;
}

async function resolveIngress(clients: AwsClients, cluster: string, region: string, vpcId: string, ingress: { alb: string; zone: string }): Promise<StoredIngress> {
  const lb = await findLoadBalancer(clients, ingress.alb, '--ingress-alb');
  if (lb.vpcId && lb.vpcId !== vpcId) {
    throw new UserError(`ALB ${lb.name} is in VPC ${lb.vpcId}, the cluster in ${vpcId}`, 'use an ALB of the cluster VPC', '--ingress-alb');
  }
  const listener = await findHttpsListener(clients, lb.arn, lb.name);
  const zone = await findHostedZone(clients, ingress.zone, '--ingress-zone');
  const { downstream } = await findAlbSecurityGroups(clients, lb.name);
  return {
    albName: lb.name,
    loadBalancerArn: lb.arn,
    listenerArn: listener.ListenerArn!,
    zoneId: zone.zoneId,
    zoneName: zone.name,
    host: names.ingressHost(cluster, region, zone.name),
    instanceSecurityGroupId: downstream?.groupId,
  };
}

/**
 * Resolves every lookup of a `cluster create` spec into the stored configuration. Groups of an existing
 * configuration that the spec does not name (added by `nodegroup add`) are kept.
 */
export async function resolveClusterConfig(deps: WorkflowDeps, spec: ClusterSpec, existing?: StoredClusterConfig): Promise<StoredClusterConfig> {
  const clients = deps.clients;
  const vpc = await resolveVpc(clients, spec.vpc);
  if (existing && existing.vpcId !== vpc.vpcId) {
    throw new UserError(
      `cluster ${spec.name} already exists in ${deps.region} in VPC ${existing.vpcId}, not ${vpc.vpcId}`,
      `pick another cluster name, or delete it first (k3sctl cluster delete ${spec.name})`,
      'name',
    );
  }
  // The lookups below are independent of each other (all reads): run side by side.
  const [{ subnets, resolved }, , ingress] = await Promise.all([
    (async () => {
      const subnets = await resolveSubnets(clients, vpc.vpcId, spec.subnets);
      return { subnets, resolved: await resolveGroups(clients, vpc.vpcId, subnets, spec.groups) };
    })(),
    spec.keyName ? checkKeyPair(clients, spec.keyName) : undefined,
    spec.ingress ? resolveIngress(clients, spec.name, deps.region, vpc.vpcId, spec.ingress) : undefined,
  ]);
  const current = new Map((existing?.groups ?? []).map((g) => [g.name, g]));
  const groups = resolved.map((g) => {
    const was = current.get(g.name);
    if (!was) return g;
    const keepImage = !spec.explicit?.ami && was.instanceType.split('.')[0] === g.instanceType.split('.')[0];
    return {
      ...g,
      k3sVersion: spec.explicit?.k3sVersion === false ? was.k3sVersion : g.k3sVersion,
      ...(keepImage ? { imageId: was.imageId, rootDeviceName: was.rootDeviceName } : {}),
    };
  });
  const named = new Set(groups.map((g) => g.name));
  for (const g of existing?.groups ?? []) if (!named.has(g.name)) groups.push(g);
  return {
    version: 1,
    name: spec.name,
    region: deps.region,
    vpcId: vpc.vpcId,
    subnetIds: subnets.map((s) => s.subnetId),
    k3sVersion: spec.explicit?.k3sVersion === false && existing ? existing.k3sVersion : spec.k3sVersion,
    keyName: spec.keyName,
    sshCidrs: spec.sshCidrs,
    apiCidrs: spec.apiCidrs,
    tlsSans: spec.tlsSans,
    groups: groups.sort((a, b) => a.name.localeCompare(b.name)),
    ingress,
  };
}

function newToken(): string {
  // 32 bytes from the CSPRNG, hex. Not `K10...`: k3s parses that prefix as a full secure token (CA hash).
  // Never printed, logged or journaled.
  return crypto.randomBytes(32).toString('hex');
}

function sameConfig(actualJson: string, desiredJson: string): boolean {
  try {
    return serializeStoredClusterConfig(parseStoredClusterConfig(actualJson, 'config')) === desiredJson;
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
    lifecycleHookName: names.lifecycleHook(),
  }).base64;
}

/** SSM Parameter Store: a standard parameter's value is at most 4 KB. */
const SSM_STANDARD_VALUE_MAX = 4096;

/** Tasks of the baseline (roles, profiles, security group, parameters, ingress). */
export function baselineTasks(config: StoredClusterConfig): Task[] {
  const cluster = config.name;
  const region = config.region;
  const tasks: Task[] = [];
  for (const role of ['control-plane', 'node'] as const) {
    const roleName = role === 'control-plane' ? names.controlPlaneRole(cluster, region) : names.nodeRole(cluster, region);
    tasks.push(
      iamRoleTask({
        key: TASK.role(role),
        roleName,
        cluster,
        role,
        policyName: `k3sctl-${role}`,
        policy:
          role === 'control-plane'
            ? controlPlanePolicy(cluster, region, names.ssmPrefix(cluster), names.ssmInitialized(cluster))
            : nodePolicy(region, names.ssmAgentToken(cluster)),
        managedPolicies: [SSM_MANAGED_INSTANCE_CORE],
      }) as Task,
      instanceProfileTask({ key: TASK.profile(role), name: roleName, cluster, role, roleTaskKey: TASK.role(role), roleName }) as Task,
    );
  }
  tasks.push(
    securityGroupTask({
      key: TASK.securityGroup,
      cluster,
      name: names.securityGroup(cluster),
      vpcId: config.vpcId,
      sshCidrs: config.sshCidrs,
      apiCidrs: config.apiCidrs,
    }) as Task,
  );
  const configJson = serializeStoredClusterConfig(config);
  // Checked before any write: PutParameter refuses a standard-tier value over 4096 characters
  // (ValidationException), which used to fail the run halfway and roll it back.
  if (configJson.length > SSM_STANDARD_VALUE_MAX) {
    throw new UserError(
      `the configuration of cluster ${cluster} (${config.groups.length} groups) is ${configJson.length} characters; ${names.ssmConfig(cluster)} holds at most ${SSM_STANDARD_VALUE_MAX} (SSM standard parameter)`,
      'use fewer, larger groups (a group can run hundreds of instances)',
      'groups',
    );
  }
  tasks.push(
    ssmParameterTask({
      key: TASK.config,
      name: names.ssmConfig(cluster),
      cluster,
      type: 'String',
      value: () => configJson,
      managedValue: true,
      equals: sameConfig,
      description: `k3sctl cluster ${cluster}: declared configuration`,
    }) as Task,
    ssmParameterTask({ key: TASK.serverToken, name: names.ssmServerToken(cluster), cluster, type: 'SecureString', value: newToken, managedValue: false }) as Task,
    ssmParameterTask({ key: TASK.agentToken, name: names.ssmAgentToken(cluster), cluster, type: 'SecureString', value: newToken, managedValue: false }) as Task,
  );
  if (config.ingress) {
    tasks.push(
      targetGroupTask(
        { name: names.ingressTargetGroup(cluster), vpcId: config.vpcId, port: 80, protocol: 'HTTP', healthCheckPath: '/ping', tags: clusterTags(cluster, 'ingress', { name: names.ingressTargetGroup(cluster) }) },
        TASK.ingressTargetGroup,
      ) as Task,
      listenerRuleTask(
        {
          name: config.ingress.host,
          listenerArn: config.ingress.listenerArn,
          hostHeaders: [config.ingress.host],
          forward: [{ targetGroupKey: TASK.ingressTargetGroup, weight: 1 }],
          tags: clusterTags(cluster, 'ingress', { name: config.ingress.host }),
        },
        TASK.ingressRule,
      ) as Task,
    );
  }
  return tasks;
}

/** Tasks of one group: its launch template and its Auto Scaling group. */
export function groupTasks(config: StoredClusterConfig, group: StoredGroup): Task[] {
  const cluster = config.name;
  const userData = groupUserData(config, group);
  // Same Name as the group's propagated ASG tag (the ASG's value would override a different one).
  const instanceName = names.autoScalingGroup(cluster, group.name);
  const ltKey = TASK.launchTemplate(group.name);
  const profileKey = TASK.profile(group.role);
  const ingressSg = config.ingress?.instanceSecurityGroupId;
  const lt = launchTemplateTask({
    key: ltKey,
    name: names.launchTemplate(cluster, group.name),
    cluster,
    role: group.role,
    group: group.name,
    dependsOn: [profileKey, TASK.securityGroup],
    input: (ctx) => {
      const profile = ctx.get<InstanceProfileState | undefined>(profileKey);
      const sg = ctx.get<SecurityGroupState | undefined>(TASK.securityGroup);
      if (!profile || !sg) return undefined;
      return {
        imageId: group.imageId,
        instanceType: group.instanceType,
        keyName: config.keyName,
        instanceProfileArn: profile.arn,
        securityGroupIds: ingressSg ? [sg.groupId, ingressSg] : [sg.groupId],
        userDataBase64: userData,
        rootDeviceName: group.rootDeviceName,
        rootVolumeSize: group.rootVolumeSize,
        rootVolumeType: group.rootVolumeType,
        instanceTags: clusterTags(cluster, group.role, { group: group.name, name: instanceName }),
      };
    },
  });
  const deps = [TASK.serverToken, TASK.agentToken];
  if (config.ingress) deps.push(TASK.ingressTargetGroup);
  const asg = autoScalingGroupTask({
    key: TASK.autoScalingGroup(group.name),
    name: names.autoScalingGroup(cluster, group.name),
    cluster,
    role: group.role,
    group: group.name,
    count: group.count,
    subnetIds: group.subnetIds,
    instanceType: group.instanceType,
    spot: group.spot,
    lifecycleHookName: names.lifecycleHook(),
    launchTemplateKey: ltKey,
    dependsOn: deps,
    targetGroupArns: (ctx) => {
      if (!config.ingress) return [];
      const tg = ctx.get<TargetGroupState | undefined>(TASK.ingressTargetGroup);
      return tg ? [tg.arn] : [];
    },
  });
  return [lt as Task, asg as Task];
}

/** Every task that converges the cluster to `config`. */
export function clusterTasks(config: StoredClusterConfig): Task[] {
  return [...baselineTasks(config), ...config.groups.flatMap((g) => groupTasks(config, g))];
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
    const asg = run.ctx.get<AutoScalingGroupState | undefined>(TASK.autoScalingGroup(g.name));
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
  const signalOf = (ctx: { signal?: AbortSignal }) => (ctx.signal ? AbortSignal.any([ctx.signal, stop.signal]) : stop.signal);
  const waits: Promise<void>[] = groups.map((g) => {
    const asgName = names.autoScalingGroup(config.name, g.name);
    return run.step(`wait for ${g.count} instance(s) of ${asgName} InService`, (ctx) =>
      waitFor(
        ctx,
        { what: `${g.count} instance(s) of ${asgName} InService`, timeoutMs: 20 * 60_000 * scale, intervalMs: GROUP_POLL_MS, maxIntervalMs: GROUP_POLL_MS, signal: signalOf(ctx) },
        async () => {
          const asg = await findAutoScalingGroup(ctx.clients, asgName, { hooks: false });
          const live = (asg?.instances ?? []).filter((i) => !isLeaving(i.lifecycleState));
          const inService = live.filter((i) => i.lifecycleState === 'InService' && i.healthStatus !== 'Unhealthy').length;
          const states = [...new Set(live.map((i) => i.lifecycleState))].map((s) => `${live.filter((i) => i.lifecycleState === s).length} ${s}`);
          return { done: inService >= g.count && live.length === g.count, seen: `${inService}/${g.count} InService${states.length ? ` (${states.join(', ')})` : ''}` };
        },
      ),
    );
  });
  if (config.ingress) {
    const expected = groups.reduce((n, g) => n + g.count, 0);
    const tg = run.ctx.get<TargetGroupState | undefined>(TASK.ingressTargetGroup);
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

/** An instance on its way out of its group (terminating or detaching): never counted as out of date. */
export function isLeaving(lifecycleState: string | undefined): boolean {
  return /^(Terminat|Detach)/.test(lifecycleState ?? '');
}
