// Auto Scaling groups of a cluster (one per control-plane or node group): fixed capacity, the group's
// launch template at an explicit version, tags propagated to instances, the graceful-leave termination
// lifecycle hook, target groups, and spot through a MixedInstancesPolicy.
import {
  AttachLoadBalancerTargetGroupsCommand,
  CreateAutoScalingGroupCommand,
  CreateOrUpdateTagsCommand,
  DeleteAutoScalingGroupCommand,
  DescribeLifecycleHooksCommand,
  DetachLoadBalancerTargetGroupsCommand,
  PutLifecycleHookCommand,
  UpdateAutoScalingGroupCommand,
  type AutoScalingGroup,
  type MixedInstancesPolicy,
} from '@aws-sdk/client-auto-scaling';
import type { AwsClients } from '../aws/clients';
import { describeAutoScalingGroups, describeClusterAutoScalingGroups, discoveredClusterGroups } from './clusterGroups';
import { parseReplacementRecord, REPLACEMENT_TAG } from './replacementRecord';
import { clusterTags, managedTagMap, TagKeys, tagsToUpdate, type Tag } from '../aws/tags';
import { UserError, awsErrorCode } from '../core/errors';
import { journaledWrite } from '../provider/journaledWrite';
import { requiredOutput, taskRef } from '../provider/taskRef';
import type { ClusterView } from '../provider/clusterView';
import { names } from '../aws/names';
import { agentTokenRef, clusterSettingsRef, serverTokenRef } from './ssmParameter';
import { renderChanges, tagChanges, type FieldChange } from '../provider/fieldChange';
import type { RunContext, Task, TaskRef, UndoRecord } from '../provider/types';
import { retryWhileNotReady, waitFor } from '../core/wait';
import { groupLaunchTemplateRef, waitForInstanceProfileUsable, type LaunchTemplateState } from './launchTemplate';
import { ingressTargetGroupRef, TARGET_GROUP_ATTACHMENT_TYPE } from './targetGroup';
import { targetGroupNameOfArn } from '../aws/arns';
import { listClusterInstances } from './instance';
import { isDrained } from './autoScalingInstance';
import { allSettledOrThrow, DRAIN_POLL_MS, STEADY_DRAIN_POLL, type ClusterDeleteOptions, type Owned, type StepRunner } from '../provider/cluster';
import type { Provider } from '../provider/provider';

export const AUTO_SCALING_GROUP_TYPE = 'AWS::AutoScaling::AutoScalingGroup';
/** Long enough for a drain of a busy node; DefaultResult CONTINUE so a dead drainer never blocks a scale-in. */
export const LIFECYCLE_HEARTBEAT_SECONDS = 900;

export interface AutoScalingGroupSpec {
  key: string;
  name: string;
  cluster: string;
  role: 'control-plane' | 'node';
  group: string;
  count: number;
  subnetIds: string[];
  instanceType: string;
  spot: boolean;
  lifecycleHookName: string;
  /** The group's launch template (its default version is used). */
  launchTemplate: TaskRef<LaunchTemplateState>;
  /** Tasks the group is created after besides its launch template. */
  dependsOn: readonly TaskRef<unknown>[];
  targetGroupArns: (ctx: RunContext) => string[];
  /** Settings the user chose, shown under the group's create in the plan (see Task.settings). */
  settings?: string[];
}

export interface AutoScalingInstance {
  instanceId: string;
  lifecycleState: string;
  healthStatus: string;
  availabilityZone: string;
  launchTemplateVersion?: string;
  instanceType?: string;
}

export interface AutoScalingGroupState {
  name: string;
  arn: string;
  min: number;
  max: number;
  desired: number;
  subnetIds: string[];
  launchTemplateId?: string;
  launchTemplateVersion?: string;
  spot: boolean;
  targetGroupArns: string[];
  tags: Record<string, string>;
  hooks: string[];
  instances: AutoScalingInstance[];
  status?: string;
  role?: string;
  group?: string;
}

function toState(g: AutoScalingGroup, hooks: string[]): AutoScalingGroupState {
  const lt = g.LaunchTemplate ?? g.MixedInstancesPolicy?.LaunchTemplate?.LaunchTemplateSpecification;
  const tags = managedTagMap(g.Tags as Tag[]);
  return {
    name: g.AutoScalingGroupName!,
    arn: g.AutoScalingGroupARN!,
    min: g.MinSize ?? 0,
    max: g.MaxSize ?? 0,
    desired: g.DesiredCapacity ?? 0,
    subnetIds: (g.VPCZoneIdentifier ?? '').split(',').filter(Boolean).sort(),
    launchTemplateId: lt?.LaunchTemplateId,
    launchTemplateVersion: lt?.Version,
    spot: (g.MixedInstancesPolicy?.InstancesDistribution?.OnDemandPercentageAboveBaseCapacity ?? 100) === 0,
    targetGroupArns: [...(g.TargetGroupARNs ?? [])].sort(),
    tags,
    hooks,
    instances: (g.Instances ?? []).map((i) => ({
      instanceId: i.InstanceId!,
      lifecycleState: String(i.LifecycleState),
      healthStatus: i.HealthStatus ?? '',
      availabilityZone: i.AvailabilityZone ?? '',
      launchTemplateVersion: i.LaunchTemplate?.Version,
      instanceType: i.InstanceType,
    })),
    status: g.Status,
    role: tags[TagKeys.role],
    group: tags[TagKeys.group],
  };
}

/** The group by name with its lifecycle hooks, or undefined. */
export async function findAutoScalingGroup(clients: AwsClients, name: string, options: { hooks?: boolean } = {}): Promise<AutoScalingGroupState | undefined> {
  const [g] = await describeAutoScalingGroups(clients, { AutoScalingGroupNames: [name] });
  if (!g) return undefined;
  let hooks: string[] = [];
  if (options.hooks !== false) {
    const out = await clients.autoscaling.send(new DescribeLifecycleHooksCommand({ AutoScalingGroupName: name }));
    hooks = (out.LifecycleHooks ?? []).map((h) => h.LifecycleHookName!);
  }
  return toState(g, hooks);
}

/** Every group tagged as the cluster's (instances included; no per-group calls). */
export async function listClusterAutoScalingGroups(clients: AwsClients, cluster: string): Promise<AutoScalingGroupState[]> {
  return (await describeClusterAutoScalingGroups(clients, cluster)).map((g) => toState(g, []));
}

/** Sets min/max/desired (scale to 0 before deleting, so the termination hook drains every instance). */
export async function setAutoScalingGroupCapacity(clients: AwsClients, name: string, capacity: { min: number; max: number; desired: number }): Promise<void> {
  await clients.autoscaling.send(
    new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: name, MinSize: capacity.min, MaxSize: capacity.max, DesiredCapacity: capacity.desired }),
  );
}

function isGroupNotFound(error: unknown): boolean {
  return awsErrorCode(error) === 'ValidationError' && /not found|does not exist/i.test((error as Error).message);
}

/** Deletes the group (ForceDelete terminates what is left without waiting for hooks). NotFound is success. */
export async function deleteAutoScalingGroup(clients: AwsClients, name: string, options: { force?: boolean } = {}): Promise<boolean> {
  try {
    await clients.autoscaling.send(new DeleteAutoScalingGroupCommand({ AutoScalingGroupName: name, ForceDelete: options.force ?? true }));
    return true;
  } catch (error) {
    if (isGroupNotFound(error)) return false;
    if (awsErrorCode(error) === 'ResourceInUse' && /delete/i.test((error as Error).message)) return true;
    throw error;
  }
}


/**
 * Scales a group to 0 (each instance drains through the termination hook), waits until it has no
 * instances, deletes it and waits until it is gone. Used by cluster delete and nodegroup delete.
 * `onDrained` is called once every instance is past its termination hook (drained, or the group was
 * already empty or gone), before the instances' shutdown is awaited.
 */
export async function drainAndDeleteGroup(
  ctx: RunContext,
  name: string,
  timeoutScale = 1,
  onDrained?: () => void,
): Promise<void> {
  const current = await findAutoScalingGroup(ctx.clients, name, { hooks: false });
  if (!current) {
    onDrained?.();
    return;
  }
  if (current.min !== 0 || current.max !== 0 || current.desired !== 0) {
    // Not a change of its own in the result: the group's deletion is.
    const w = ctx.journal.intend({ action: 'update', type: AUTO_SCALING_GROUP_TYPE, name, id: name });
    try {
      await setAutoScalingGroupCapacity(ctx.clients, name, { min: 0, max: 0, desired: 0 });
      w.done({ id: name });
    } catch (error) {
      w.failed(error);
      throw error;
    }
  }
  const poll = { timeoutMs: 40 * 60_000 * timeoutScale, ...STEADY_DRAIN_POLL };
  const instancesOf = async () =>
    (await findAutoScalingGroup(ctx.clients, name, { hooks: false }))?.instances ?? [];
  const seen = (left: { instanceId: string; lifecycleState: string }[]) =>
    left.length ? left.map((i) => `${i.instanceId} ${i.lifecycleState}`).join(', ') : 'none';
  if (onDrained) {
    await waitFor(ctx, { what: `instances of ${name} drained`, ...poll }, async () => {
      const left = await instancesOf();
      return { done: left.every((i) => isDrained(i.lifecycleState)), seen: seen(left) };
    });
    onDrained();
  }
  await waitFor(ctx, { what: `instances of ${name} drained and terminated`, ...poll }, async () => {
    const left = await instancesOf();
    return { done: left.length === 0, seen: seen(left) };
  });
  await journaledWrite(ctx, { action: 'delete', type: AUTO_SCALING_GROUP_TYPE, name, id: name }, () => deleteAutoScalingGroup(ctx.clients, name, { force: true }));
  const deleted = {
    what: `Auto Scaling group ${name} deleted`,
    timeoutMs: 10 * 60_000 * timeoutScale,
    intervalMs: 2_000,
    maxIntervalMs: DRAIN_POLL_MS,
  };
  await waitFor(ctx, deleted, async () => {
    const g = await findAutoScalingGroup(ctx.clients, name, { hooks: false });
    return { done: !g, seen: g ? (g.status ?? 'present') : 'gone' };
  });
}

/**
 * Drains and deletes the cluster's groups, control planes last: nodes drain through them. A control-plane
 * group starts scaling in once every node is past its termination hook (drained and gone from the
 * cluster), while the nodes shut down; a node group that failed before it drained keeps them (its nodes
 * may still be in the cluster). Then waits until the groups' instances are terminated (not only out of
 * their groups): what they used (security group, instance profile, parameters) goes after the groups.
 */
async function deleteClusterGroups(run: StepRunner, owned: Owned[], options: ClusterDeleteOptions): Promise<void> {
  const scale = options.timeoutScale;
  const drainAndDelete = (g: Owned, onDrained?: () => void) =>
    run.step(`drain and delete ${g.name}`, (ctx) => drainAndDeleteGroup(ctx, g.name, scale, onDrained));
  const nodeSteps = owned
    .filter((g) => g.role !== 'control-plane')
    .map((g) => {
      let drained!: () => void;
      const isDrained = new Promise<void>((resolve) => (drained = resolve));
      const step = drainAndDelete(g, drained);
      const drainedOrFailed = Promise.race([
        isDrained.then(() => true),
        step.then(
          () => true,
          () => false,
        ),
      ]);
      return { step, drainedOrFailed };
    });
  const cpGroups = owned.filter((g) => g.role === 'control-plane');
  const cpSteps = Promise.all(nodeSteps.map((n) => n.drainedOrFailed)).then((drained) =>
    drained.every(Boolean) ? allSettledOrThrow(cpGroups.map((g) => drainAndDelete(g))) : undefined,
  );
  // Every group settles before a failure is reported, so the result lists all that was done.
  await allSettledOrThrow([...nodeSteps.map((n) => n.step), cpSteps]);
  const groups = new Set(owned.map((g) => g.name));
  await run.step('wait for the instances of the groups to terminate', (ctx) =>
    waitFor(ctx, { what: `instances of ${[...groups].join(', ')} terminated`, timeoutMs: 20 * 60_000 * scale, ...STEADY_DRAIN_POLL }, async () => {
      const left = (await listClusterInstances(ctx.clients, options.cluster)).filter((i) => groups.has(i.autoScalingGroup ?? ''));
      return { done: left.length === 0, seen: left.map((i) => `${i.instanceId} ${i.state}`).join(', ') || 'none' };
    }),
  );
}

/** The task of one group's Auto Scaling group. */
export const groupAutoScalingGroupRef = (group: string) => taskRef<AutoScalingGroupState>(`autoScalingGroup/${group}`);

/**
 * One Auto Scaling group per group, of fixed size, launching from its template, registering its
 * instances in the ingress target groups, the cluster's endpoint target groups and the user's.
 */
function clusterAutoScalingGroupTasks(view: ClusterView): Task[] {
  const cluster = view.name;
  const ingressTgs = (view.ingress?.albs ?? []).map((a) => ingressTargetGroupRef(a.targetGroupName));
  // After the settings: a run that creates the cluster journals them before any instance can write
  // under the cluster's path, so rollback deletes the groups (and their instances) before that path.
  // After the tokens, which its instances read at boot.
  const dependsOn = [clusterSettingsRef, serverTokenRef, agentTokenRef, ...ingressTgs];
  return view.groups.map((group) =>
    autoScalingGroupTask({
      key: groupAutoScalingGroupRef(group.name).key,
      name: names.autoScalingGroup(cluster, group.name),
      cluster,
      role: group.role,
      group: group.name,
      count: group.count,
      subnetIds: group.subnetIds,
      instanceType: group.instanceType,
      spot: group.spot,
      lifecycleHookName: names.lifecycleHook(),
      launchTemplate: groupLaunchTemplateRef(group.name),
      settings: group.targetGroupArns.length ? [`extra targetGroups: ${group.targetGroupArns.map((a) => targetGroupNameOfArn(a) ?? a).join(', ')}`] : [],
      dependsOn,
      targetGroupArns: (ctx) => {
        const ingress = ingressTgs.flatMap((tg) => ctx.get(tg)?.arn ?? []);
        return [...new Set([...ingress, ...view.endpointTargetGroupArns, ...group.targetGroupArns])];
      },
    }),
  );
}

export const autoScalingGroupProvider: Provider = {
  type: AUTO_SCALING_GROUP_TYPE,
  clusterTasks: clusterAutoScalingGroupTasks,
  // Auto Scaling launches with the caller's permission to pass the instance role (probed by a RunInstances dry run).
  iamActions: {
    read: ['autoscaling:DescribeAutoScalingGroups', 'autoscaling:DescribeLifecycleHooks', 'ec2:DescribeInstances'],
    write: ['autoscaling:CreateAutoScalingGroup', 'autoscaling:UpdateAutoScalingGroup', 'autoscaling:DeleteAutoScalingGroup', 'autoscaling:PutLifecycleHook', 'autoscaling:CreateOrUpdateTags', 'autoscaling:AttachLoadBalancerTargetGroups', 'autoscaling:DetachLoadBalancerTargetGroups', 'iam:PassRole', 'ec2:RunInstances'],
    delete: ['autoscaling:UpdateAutoScalingGroup', 'autoscaling:DeleteAutoScalingGroup'],
  },
  // A group is created with its ingress target groups listed; its instances run with the template's
  // instance profile and read and write the cluster's parameters: all of these outlive it.
  dependsOn: ['AWS::EC2::LaunchTemplate', 'AWS::ElasticLoadBalancingV2::TargetGroup', 'AWS::IAM::InstanceProfile', 'AWS::SSM::Parameter'],
  async discover(scope): Promise<Owned[]> {
    return (await discoveredClusterGroups(scope)).map((g) => toState(g, [])).map((g) => ({ name: g.name, id: g.name, role: g.role }));
  },
  deleteOwned: deleteClusterGroups,
  perGroup: {
    async discover(scope, group) {
      const asg = await findAutoScalingGroup(scope.clients, names.autoScalingGroup(scope.cluster, group), { hooks: false });
      return asg ? [{ name: asg.name, id: asg.name, role: asg.role }] : [];
    },
    // Drained through the termination lifecycle hook (scale to 0, wait), then deleted.
    deleteOwned: (run, owned, options) =>
      allSettledOrThrow(owned.map((g) => run.step(`drain and delete ${g.name}`, (ctx) => drainAndDeleteGroup(ctx, g.name, options.timeoutScale)))),
  },
  undo: {
    delete: async (clients, data, env) => {
      const name = String(data.name);
      await deleteAutoScalingGroup(clients, name, { force: true });
      // Rolled back means gone: a group with instances stays "Delete in progress" while they terminate.
      await waitFor(env, { what: `Auto Scaling group ${name} deleted`, timeoutMs: 15 * 60_000, intervalMs: 5_000, maxIntervalMs: 5_000 }, async () => {
        const g = await findAutoScalingGroup(clients, name, { hooks: false });
        return { done: !g, seen: g ? `${g.status ?? 'present'}, ${g.instances.length} instance(s)` : 'gone' };
      });
    },
    restore: async (clients, data) => {
      const prev = data.previous as { min: number; max: number; desired: number; launchTemplateId?: string; launchTemplateVersion?: string; subnetIds?: string[] };
      const lt = prev.launchTemplateId ? { LaunchTemplateId: prev.launchTemplateId, Version: prev.launchTemplateVersion } : undefined;
      // A group that was on spot goes back to a spot policy (its instance type is the template's).
      const spot = { OnDemandBaseCapacity: 0, OnDemandPercentageAboveBaseCapacity: 0, SpotAllocationStrategy: 'price-capacity-optimized' };
      try {
        await clients.autoscaling.send(
          new UpdateAutoScalingGroupCommand({
            AutoScalingGroupName: String(data.name),
            MinSize: prev.min,
            MaxSize: prev.max,
            DesiredCapacity: prev.desired,
            VPCZoneIdentifier: prev.subnetIds?.join(','),
            ...(lt ? (data.spot ? { MixedInstancesPolicy: { LaunchTemplate: { LaunchTemplateSpecification: lt }, InstancesDistribution: spot } } : { LaunchTemplate: lt }) : {}),
          }),
        );
      } catch (error) {
        if (!isGroupNotFound(error)) throw error;
      }
    },
  },
};

/** One journaled write of this kind (the engine's write-ahead journal; undo kept when the write may have happened). */
function write<T>(ctx: RunContext, entry: { action: 'create' | 'update'; name: string; id?: string; undo?: UndoRecord }, fn: () => Promise<T>): Promise<T> {
  return journaledWrite(ctx, { ...entry, id: entry.id ?? entry.name, type: AUTO_SCALING_GROUP_TYPE }, fn);
}

/** IAM propagation: a fresh instance profile is refused for a few seconds (not retried by the SDK). */
function isIamNotReady(error: unknown): boolean {
  const code = awsErrorCode(error);
  const msg = (error as Error)?.message ?? '';
  return code === 'InvalidParameterValue' || ((code === 'ValidationError' || code === 'InvalidParameterCombination') && /instance ?profile|iam/i.test(msg));
}

export function autoScalingGroupTask(spec: AutoScalingGroupSpec): Task<AutoScalingGroupState> {
  const tags = (): Tag[] => clusterTags(spec.cluster, spec.role, { group: spec.group, name: spec.name });
  const ltSpec = (ctx: RunContext) => {
    const lt = ctx.get(spec.launchTemplate);
    return lt ? { LaunchTemplateId: lt.id, Version: String(lt.defaultVersion) } : undefined;
  };
  const mixed = (lt: { LaunchTemplateId: string; Version: string }): MixedInstancesPolicy => ({
    LaunchTemplate: { LaunchTemplateSpecification: lt, Overrides: [{ InstanceType: spec.instanceType }] },
    InstancesDistribution: { OnDemandBaseCapacity: 0, OnDemandPercentageAboveBaseCapacity: 0, SpotAllocationStrategy: 'price-capacity-optimized' },
  });
  const subnets = [...spec.subnetIds].sort();
  /** The settings create and update both converge: fixed capacity, subnets, and the template (or spot policy). */
  const capacityAndLaunch = (lt: { LaunchTemplateId: string; Version: string }) => ({
    MinSize: spec.count,
    MaxSize: spec.count,
    DesiredCapacity: spec.count,
    VPCZoneIdentifier: subnets.join(','),
    ...(spec.spot ? { MixedInstancesPolicy: mixed(lt) } : { LaunchTemplate: lt }),
  });
  return {
    key: spec.key,
    type: AUTO_SCALING_GROUP_TYPE,
    name: spec.name,
    dependsOn: [spec.launchTemplate, ...spec.dependsOn],
    async find(ctx) {
      const found = await findAutoScalingGroup(ctx.clients, spec.name);
      if (!found) return undefined;
      if (found.tags[TagKeys.cluster] !== spec.cluster) {
        throw new UserError(`Auto Scaling group ${spec.name} exists but is not owned by cluster ${spec.cluster}`, 'delete or rename it, or pick another cluster name');
      }
      if (found.status && /delete/i.test(found.status)) {
        throw new UserError(`Auto Scaling group ${spec.name} is being deleted`, 'wait until the deletion finished, then run again');
      }
      return found;
    },
    settings() {
      return spec.settings ?? [];
    },
    // Every field is updated in place (UpdateAutoScalingGroup, Attach/DetachLoadBalancerTargetGroups,
    // PutLifecycleHook, CreateOrUpdateTags): none forces a replacement.
    diff(actual, ctx) {
      const changes: FieldChange[] = [];
      if (actual.min !== spec.count || actual.max !== spec.count || actual.desired !== spec.count) {
        changes.push({ field: 'capacity', from: `${actual.min}/${actual.desired}/${actual.max}`, to: `${spec.count}/${spec.count}/${spec.count}` });
      }
      const lt = ltSpec(ctx);
      if (!lt || lt.LaunchTemplateId !== actual.launchTemplateId || lt.Version !== actual.launchTemplateVersion) {
        changes.push({ field: 'launchTemplateVersion', from: actual.launchTemplateVersion ?? '-', to: lt?.Version ?? 'new' });
      }
      if (actual.spot !== spec.spot) changes.push({ field: 'spot', from: `${actual.spot}`, to: `${spec.spot}` });
      if (JSON.stringify(actual.subnetIds) !== JSON.stringify(subnets)) changes.push({ field: 'subnets', from: actual.subnetIds.join(','), to: subnets.join(',') });
      const tgs = [...spec.targetGroupArns(ctx)].sort();
      if (JSON.stringify(actual.targetGroupArns) !== JSON.stringify(tgs)) {
        const name = (arn: string) => targetGroupNameOfArn(arn) ?? arn;
        const added = tgs.filter((t) => !actual.targetGroupArns.includes(t)).map((t) => `+${name(t)}`);
        const removed = actual.targetGroupArns.filter((t) => !tgs.includes(t)).map((t) => `-${name(t)}`);
        changes.push({ field: 'targetGroups', from: `${actual.targetGroupArns.length}`, to: `${tgs.length}`, note: [...added, ...removed].join(' ') });
      }
      if (!actual.hooks.includes(spec.lifecycleHookName)) changes.push({ field: `lifecycle hook ${spec.lifecycleHookName}`, status: 'missing' });
      changes.push(...tagChanges(tags(), actual.tags));
      // Mid-replacement the group's capacity is a surge, not drift: converging it would let the group
      // choose which instance goes. The replacement is finished or undone first.
      const record = actual.tags[REPLACEMENT_TAG];
      if (changes.length > 0 && record !== undefined) {
        const run = parseReplacementRecord(record, spec.name)?.run ?? 'unknown';
        throw new UserError(
          `Auto Scaling group ${spec.name} has an unfinished replacement (run ${run}); it cannot be changed now (${renderChanges(changes).join('; ')})`,
          `finish it with k3sctl recycle ${spec.cluster}, or undo it with k3sctl runs rollback ${run}; then run this again`,
        );
      }
      return changes;
    },
    async create(ctx) {
      const lt = ltSpec(ctx);
      if (!lt) throw new UserError(`internal: Auto Scaling group ${spec.name} created before its launch template`);
      const input = {
        AutoScalingGroupName: spec.name,
        ...capacityAndLaunch(lt),
        TargetGroupARNs: spec.targetGroupArns(ctx),
        HealthCheckGracePeriod: 300,
        Tags: tags().map((t) => ({ ...t, PropagateAtLaunch: true, ResourceId: spec.name, ResourceType: 'auto-scaling-group' })),
        LifecycleHookSpecificationList: [
          {
            LifecycleHookName: spec.lifecycleHookName,
            LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING',
            HeartbeatTimeout: LIFECYCLE_HEARTBEAT_SECONDS,
            DefaultResult: 'CONTINUE',
          },
        ],
      };
      // Created once its first launch can succeed (the group launches at once, and after a refused
      // launch only tries again after its launch backoff).
      await waitForInstanceProfileUsable(ctx, requiredOutput(ctx, spec.launchTemplate), {
        subnetId: subnets[0],
        instanceType: spec.instanceType,
      });
      await write(ctx, { action: 'create', name: spec.name, undo: { type: AUTO_SCALING_GROUP_TYPE, action: 'delete', data: { name: spec.name } } }, () =>
        retryWhileNotReady(
          ctx,
          { what: `instance profile usable by Auto Scaling group ${spec.name}`, timeoutMs: 120_000, intervalMs: 2_000, retryable: isIamNotReady },
          () => ctx.clients.autoscaling.send(new CreateAutoScalingGroupCommand(input)),
        ),
      );
      const created = await findAutoScalingGroup(ctx.clients, spec.name);
      if (!created) throw new UserError(`Auto Scaling group ${spec.name} was created but cannot be described yet`);
      return created;
    },
    async update(actual, _changes, ctx) {
      const lt = ltSpec(ctx)!;
      const previous = {
        min: actual.min,
        max: actual.max,
        desired: actual.desired,
        launchTemplateId: actual.launchTemplateId,
        launchTemplateVersion: actual.launchTemplateVersion,
        subnetIds: actual.subnetIds,
      };
      const needsUpdate =
        actual.min !== spec.count ||
        actual.max !== spec.count ||
        actual.desired !== spec.count ||
        lt.LaunchTemplateId !== actual.launchTemplateId ||
        lt.Version !== actual.launchTemplateVersion ||
        actual.spot !== spec.spot ||
        JSON.stringify(actual.subnetIds) !== JSON.stringify(subnets);
      if (needsUpdate) {
        await write(
          ctx,
          { action: 'update', name: spec.name, undo: { type: AUTO_SCALING_GROUP_TYPE, action: 'restore', data: { name: spec.name, previous, spot: actual.spot } } },
          () =>
            ctx.clients.autoscaling.send(
              new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: spec.name, ...capacityAndLaunch(lt) }),
            ),
        );
      }
      // In place (the instances stay): attach what is new, detach what is no longer asked for; rollback
      // detaches what this run attached and attaches again what it detached.
      const tgs = [...spec.targetGroupArns(ctx)].sort();
      const attach = tgs.filter((t) => !actual.targetGroupArns.includes(t));
      const detach = actual.targetGroupArns.filter((t) => !tgs.includes(t));
      const attachment = (action: 'delete' | 'restore', arns: string[]): UndoRecord => ({
        type: TARGET_GROUP_ATTACHMENT_TYPE,
        action,
        data: { groupName: spec.name, targetGroupArns: arns },
      });
      if (attach.length) {
        await write(ctx, { action: 'update', name: spec.name, undo: attachment('delete', attach) }, () =>
          ctx.clients.autoscaling.send(new AttachLoadBalancerTargetGroupsCommand({ AutoScalingGroupName: spec.name, TargetGroupARNs: attach })),
        );
      }
      if (detach.length) {
        await write(ctx, { action: 'update', name: spec.name, undo: attachment('restore', detach) }, () =>
          ctx.clients.autoscaling.send(new DetachLoadBalancerTargetGroupsCommand({ AutoScalingGroupName: spec.name, TargetGroupARNs: detach })),
        );
      }
      if (!actual.hooks.includes(spec.lifecycleHookName)) {
        await write(ctx, { action: 'update', name: spec.name }, () =>
          ctx.clients.autoscaling.send(
            new PutLifecycleHookCommand({
              AutoScalingGroupName: spec.name,
              LifecycleHookName: spec.lifecycleHookName,
              LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING',
              HeartbeatTimeout: LIFECYCLE_HEARTBEAT_SECONDS,
              DefaultResult: 'CONTINUE',
            }),
          ),
        );
      }
      const missingTags = tagsToUpdate(tags(), actual.tags);
      if (missingTags.length) {
        await write(ctx, { action: 'update', name: spec.name }, () =>
          ctx.clients.autoscaling.send(
            new CreateOrUpdateTagsCommand({
              Tags: missingTags.map((t) => ({ ...t, PropagateAtLaunch: true, ResourceId: spec.name, ResourceType: 'auto-scaling-group' })),
            }),
          ),
        );
      }
      return (await findAutoScalingGroup(ctx.clients, spec.name)) ?? actual;
    },
    id: (actual) => actual.name,
  };
}
