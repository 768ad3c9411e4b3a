// Simulated EC2 Auto Scaling: groups, capacity reconciliation (launch through EC2's launch-template
// path, replacement of unhealthy instances, default termination policy), lifecycle hooks and their
// actions, suspended processes, target group attachments, tags and scaling activities.
//
// The instance side of a termination hook lives here too: a k3s node whose termination waits on an
// EC2_INSTANCE_TERMINATING hook cordons, drains and leaves the cluster (userdata's graceful leave),
// which takes `timings.drainMs`, then calls CompleteLifecycleAction itself: CONTINUE, or ABANDON when
// `behavior.failDrain` names the instance or its group. An instance that never got to run cannot
// drain, so its action waits for the heartbeat timeout and the hook's DefaultResult.
import type { SandboxContext } from '../account';
import { awsError } from '../errors';
import { paginate } from '../pagination';
import { behaviorApplies } from '../account';
import {
  getInstance,
  launchInstanceFromTemplate,
  resolveLaunchTemplateVersion,
  terminateInstanceInternal,
  type SbInstance,
} from './ec2';
import {
  connectionDrainingMs,
  deregisterTargetsInternal,
  describeSubnetsInternal,
  registerTargetsInternal,
  targetGroupExists,
  targetHealthInternal,
} from './elbv2';
import { uniqueUuid } from '../ids';
import { applyTransitionsTo } from './ec2/instances';
import { ec2State as ec2Account } from './ec2/state';
import type * as AutoScalingSdk from '@aws-sdk/client-auto-scaling';
import type { HandlerOf, InventoryItem, OperationsOf, SdkOperation, ServiceModule } from '../service';

type Handler<Op extends SdkOperation<typeof AutoScalingSdk>> = HandlerOf<typeof AutoScalingSdk, Op>;

const ACCOUNT = '123456789012';
const LAUNCHING = 'autoscaling:EC2_INSTANCE_LAUNCHING';
const TERMINATING = 'autoscaling:EC2_INSTANCE_TERMINATING';
const PROCESSES = [
  'Launch',
  'Terminate',
  'HealthCheck',
  'ReplaceUnhealthy',
  'AZRebalance',
  'AlarmNotification',
  'ScheduledActions',
  'AddToLoadBalancer',
  'InstanceRefresh',
] as const;
const MAX_TAGS = 50;
const MAX_HOOKS = 50;
const MAX_ACTIVITIES_PER_GROUP = 100;
const LAUNCH_BACKOFF_MAX_MS = 5 * 60_000;

type LifecycleState =
  | 'Pending'
  | 'Pending:Wait'
  | 'Pending:Proceed'
  | 'InService'
  | 'Terminating'
  | 'Terminating:Wait'
  | 'Terminating:Proceed';

interface LaunchTemplateRef {
  LaunchTemplateId?: string;
  LaunchTemplateName?: string;
  Version?: string;
}

interface GroupTag {
  Key: string;
  Value: string;
  PropagateAtLaunch: boolean;
}

interface Hook {
  LifecycleHookName: string;
  LifecycleTransition: string;
  HeartbeatTimeout: number;
  DefaultResult: 'CONTINUE' | 'ABANDON';
  NotificationMetadata?: string;
  NotificationTargetARN?: string;
  RoleARN?: string;
}

interface PendingAction {
  hookName: string;
  token: string;
  transition: string;
  startedAt: number;
  timeoutAt: number;
  globalTimeoutAt: number;
  defaultResult: 'CONTINUE' | 'ABANDON';
  result?: 'CONTINUE' | 'ABANDON';
  /** When the instance-side model completes the action (termination drain). */
  modelCompletesAt?: number;
  modelResult?: 'CONTINUE' | 'ABANDON';
}

interface GroupInstance {
  InstanceId: string;
  AvailabilityZone: string;
  InstanceType: string;
  lifecycle: LifecycleState;
  health: 'Healthy' | 'Unhealthy';
  launchTemplate: { LaunchTemplateId: string; LaunchTemplateName: string; Version: string };
  protectedFromScaleIn: boolean;
  launchedAt: number;
  inServiceAt?: number;
  /** When the launch lifecycle actions completed. */
  proceedAt?: number;
  actions: PendingAction[];
  activityId: string;
  /** Termination skips the EC2 call (the instance is already gone or going). */
  ec2Gone?: boolean;
  /**
   * ELB connection draining: until then the instance stays in Terminating (its target groups'
   * deregistration delay), then its termination hooks run (unless `skipHooks`) or EC2 terminates it.
   */
  connectionDraining?: { until: number; skipHooks: boolean };
}

interface Activity {
  ActivityId: string;
  AutoScalingGroupName: string;
  AutoScalingGroupARN: string;
  Description: string;
  Cause: string;
  StartTime: number;
  EndTime?: number;
  StatusCode:
    | 'InProgress'
    | 'Successful'
    | 'Failed'
    | 'Cancelled'
    | 'WaitingForSpotInstanceId'
    | 'PreInService'
    | 'WaitingForELBConnectionDraining';
  StatusMessage?: string;
  Progress: number;
  Details: string;
}

interface Group {
  name: string;
  arn: string;
  createdAt: number;
  launchTemplate?: LaunchTemplateRef;
  mixedInstancesPolicy?: AutoScalingSdk.MixedInstancesPolicy;
  min: number;
  max: number;
  desired: number;
  defaultCooldown: number;
  subnets: { SubnetId: string; AvailabilityZone: string; VpcId: string }[];
  targetGroupArns: string[];
  healthCheckType: 'EC2' | 'ELB';
  healthCheckGracePeriod: number;
  newInstancesProtectedFromScaleIn: boolean;
  capacityRebalance: boolean;
  terminationPolicies: string[];
  tags: GroupTag[];
  hooks: Hook[];
  suspended: { ProcessName: string; SuspensionReason: string }[];
  deleting?: { force: boolean };
  instances: GroupInstance[];
  nextReconcileAt: number;
  launches: number;
  /** Consecutive failed launches, and no new attempt before this time (Auto Scaling backs off). */
  launchFailures?: number;
  nextLaunchAt?: number;
}

interface AsgState {
  groups: Record<string, Group>;
  activities: Activity[];
}

function state(ctx: SandboxContext): AsgState {
  return ctx.sb.serviceState<AsgState>('autoscaling', ctx.region, () => ({ groups: {}, activities: [] }));
}

function at(ctx: SandboxContext, t: number): SandboxContext {
  return { sb: ctx.sb, region: ctx.region, now: t };
}

function iso(t: number): string {
  return new Date(t).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function notFound(name: string): never {
  throw awsError('ValidationError', `AutoScalingGroup name not found - AutoScalingGroup '${name}' not found`);
}

function getGroup(ctx: SandboxContext, name: unknown): Group {
  if (typeof name !== 'string' || name === '')
    throw awsError('ValidationError', 'The parameter AutoScalingGroupName must be specified');
  const g = state(ctx).groups[name];
  if (!g) notFound(name);
  return g;
}

function isSuspended(g: Group, process: string): boolean {
  return g.suspended.some((p) => p.ProcessName === process);
}

function isTerminating(i: GroupInstance): boolean {
  return i.lifecycle.startsWith('Terminating');
}

// ---------------------------------------------------------------------------------------------
// Activities

function startActivity(
  ctx: SandboxContext,
  g: Group,
  t: number,
  description: string,
  cause: string,
): Activity {
  const st = state(ctx);
  const a: Activity = {
    ActivityId: uniqueUuid(ctx),
    AutoScalingGroupName: g.name,
    AutoScalingGroupARN: g.arn,
    Description: description,
    Cause: cause,
    StartTime: t,
    StatusCode: 'InProgress',
    Progress: 0,
    Details: JSON.stringify({
      'Subnet ID': g.subnets[0]?.SubnetId,
      'Availability Zone': g.subnets[0]?.AvailabilityZone,
    }),
  };
  st.activities.unshift(a);
  const mine = st.activities.filter((x) => x.AutoScalingGroupName === g.name);
  if (mine.length > MAX_ACTIVITIES_PER_GROUP) {
    const drop = new Set(mine.slice(MAX_ACTIVITIES_PER_GROUP));
    st.activities = st.activities.filter((x) => !drop.has(x));
  }
  return a;
}

function endActivity(
  ctx: SandboxContext,
  id: string,
  t: number,
  code: Activity['StatusCode'],
  message?: string,
): void {
  const a = state(ctx).activities.find((x) => x.ActivityId === id);
  if (!a || a.StatusCode === 'Successful' || a.StatusCode === 'Failed') return;
  a.StatusCode = code;
  a.EndTime = t;
  a.Progress = 100;
  if (message) a.StatusMessage = message;
}

/** Termination activities say how their lifecycle action ended (Details is free-form JSON in AWS too). */
function noteLifecycleResult(ctx: SandboxContext, id: string, result: string): void {
  const a = state(ctx).activities.find((x) => x.ActivityId === id);
  if (a) a.Details = JSON.stringify({ ...JSON.parse(a.Details), 'Lifecycle action result': result });
}

function activityOutput(a: Activity): AutoScalingSdk.Activity {
  return {
    ...a,
    StartTime: new Date(a.StartTime),
    EndTime: a.EndTime === undefined ? undefined : new Date(a.EndTime),
  };
}

// ---------------------------------------------------------------------------------------------
// Validation helpers

function validateSizes(min: number, max: number, desired: number): void {
  for (const [n, v] of [
    ['MinSize', min],
    ['MaxSize', max],
    ['DesiredCapacity', desired],
  ] as const) {
    if (!Number.isInteger(v) || v < 0)
      throw awsError('ValidationError', `${n} must be a non-negative integer, got ${v}`);
  }
  if (min > max)
    throw awsError(
      'ValidationError',
      `Max bound, ${max}, must be greater than or equal to min bound, ${min}`,
    );
  if (desired < min || desired > max) {
    throw awsError(
      'ValidationError',
      `Desired capacity:${desired} must be between the specified min size:${min} and max size:${max}`,
    );
  }
}

function launchTemplateSpec(
  input: Pick<AutoScalingSdk.CreateAutoScalingGroupType, 'LaunchTemplate' | 'MixedInstancesPolicy' | 'LaunchConfigurationName'>,
): {
  ref: LaunchTemplateRef;
  mixed?: AutoScalingSdk.MixedInstancesPolicy;
} {
  const mixed = input.MixedInstancesPolicy;
  const direct = input.LaunchTemplate;
  if (input.LaunchConfigurationName)
    throw awsError(
      'ValidationError',
      'The sandbox simulates launch templates only, not launch configurations',
    );
  if (direct && mixed)
    throw awsError(
      'ValidationError',
      'Valid requests must contain either LaunchTemplate, LaunchConfigurationName, InstanceId or MixedInstancesPolicy parameter.',
    );
  const ref: LaunchTemplateRef | undefined = direct ?? mixed?.LaunchTemplate?.LaunchTemplateSpecification;
  if (!ref)
    throw awsError(
      'ValidationError',
      'Valid requests must contain either LaunchTemplate, LaunchConfigurationName, InstanceId or MixedInstancesPolicy parameter.',
    );
  if (!ref.LaunchTemplateId && !ref.LaunchTemplateName)
    throw awsError(
      'ValidationError',
      'You must specify either a launch template ID or a launch template name',
    );
  if (ref.LaunchTemplateId && ref.LaunchTemplateName)
    throw awsError(
      'ValidationError',
      'You must specify either a launch template ID or a launch template name, not both',
    );
  if (mixed) {
    const overrides = (mixed.LaunchTemplate?.Overrides ?? []) as {
      InstanceType?: string;
      WeightedCapacity?: string;
    }[];
    if (overrides.length > 40) throw awsError('ValidationError', 'You can specify up to 40 overrides');
    const pct = mixed.InstancesDistribution?.OnDemandPercentageAboveBaseCapacity;
    if (pct !== undefined && (pct < 0 || pct > 100))
      throw awsError('ValidationError', 'OnDemandPercentageAboveBaseCapacity must be between 0 and 100');
  }
  return { ref: { ...ref }, mixed };
}

/** Resolves a launch template reference the way Auto Scaling validates it (ValidationError, not EC2's codes). */
function resolveTemplate(ctx: SandboxContext, ref: LaunchTemplateRef) {
  try {
    return resolveLaunchTemplateVersion(ctx, {
      launchTemplateId: ref.LaunchTemplateId,
      launchTemplateName: ref.LaunchTemplateName,
      version: ref.Version ?? '$Default',
    });
  } catch (error) {
    const what = ref.LaunchTemplateId
      ? `template ID ${ref.LaunchTemplateId}`
      : `template name ${ref.LaunchTemplateName}`;
    throw awsError(
      'ValidationError',
      `You must use a valid fully-formed launch template. The specified launch template, with ${what} and version ${ref.Version ?? '$Default'}, does not exist. (${(error as Error).message})`,
    );
  }
}

function resolveSubnets(ctx: SandboxContext, vpcZoneIdentifier: unknown) {
  if (typeof vpcZoneIdentifier !== 'string' || vpcZoneIdentifier.trim() === '') {
    throw awsError('ValidationError', 'At least one Availability Zone or VPC Subnet is required.');
  }
  const ids = vpcZoneIdentifier
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const subnets = describeSubnetsInternal(ctx, ids, 'ValidationError');
  if (new Set(subnets.map((s) => s.VpcId)).size > 1)
    throw awsError('ValidationError', 'The subnets must all be in the same VPC');
  return subnets;
}

function validateTargetGroups(ctx: SandboxContext, arns: string[] | undefined): string[] {
  const list = arns ?? [];
  for (const arn of list) {
    if (!targetGroupExists(ctx, arn))
      throw awsError(
        'ValidationError',
        `Provided Target Groups may not be valid. Please ensure they exist and try again. (TargetGroupNotFound: ${arn})`,
      );
  }
  return [...new Set(list)];
}

/**
 * A capacity change of a group that still lists a target group that no longer exists fails, as moto
 * does (moto/autoscaling/models.py FakeAutoScalingGroup.set_desired_capacity ->
 * update_attached_target_groups -> elbv2 describe_target_groups: TargetGroupNotFound "One or more
 * target groups not found"). ELBv2 lets a target group be deleted while a group lists it (only
 * listener actions block DeleteTargetGroup); AWS then fails the group's scaling activities with "One
 * or more target groups not found. Validating load balancer configuration failed." Failing the call
 * is the stricter of the two, so a workflow that leaves such an ARN behind is caught either way.
 * Detaching the ARN (DetachLoadBalancerTargetGroups) clears it.
 */
function requireAttachedTargetGroups(ctx: SandboxContext, g: Group): void {
  if (g.targetGroupArns.some((arn) => !targetGroupExists(ctx, arn)))
    throw awsError('TargetGroupNotFound', 'One or more target groups not found');
}

function validateHook(input: Partial<AutoScalingSdk.LifecycleHookSpecification>, existing?: Hook): Hook {
  const name = input.LifecycleHookName;
  if (typeof name !== 'string' || !/^[A-Za-z0-9\-_/]{1,255}$/.test(name)) {
    throw awsError(
      'ValidationError',
      `Lifecycle hook name '${name}' must be 1-255 characters of letters, digits, '-', '_' and '/'`,
    );
  }
  const transition = input.LifecycleTransition ?? existing?.LifecycleTransition;
  if (transition !== LAUNCHING && transition !== TERMINATING) {
    throw awsError(
      'ValidationError',
      `Invalid Lifecycle Transition: '${transition}'. Valid values are ${LAUNCHING} and ${TERMINATING}`,
    );
  }
  const heartbeat = input.HeartbeatTimeout ?? existing?.HeartbeatTimeout ?? 3600;
  if (!Number.isInteger(heartbeat) || heartbeat < 30 || heartbeat > 7200) {
    throw awsError('ValidationError', `Heartbeat timeout ${heartbeat} must be between 30 and 7200 seconds`);
  }
  const defaultResult = input.DefaultResult ?? existing?.DefaultResult ?? 'ABANDON';
  if (defaultResult !== 'CONTINUE' && defaultResult !== 'ABANDON') {
    throw awsError(
      'ValidationError',
      `Invalid DefaultResult '${defaultResult}'. Valid values are CONTINUE and ABANDON`,
    );
  }
  return {
    LifecycleHookName: name,
    LifecycleTransition: transition,
    HeartbeatTimeout: heartbeat,
    DefaultResult: defaultResult,
    NotificationMetadata: input.NotificationMetadata ?? existing?.NotificationMetadata,
    NotificationTargetARN: input.NotificationTargetARN ?? existing?.NotificationTargetARN,
    RoleARN: input.RoleARN ?? existing?.RoleARN,
  };
}

function groupTags(g: { name: string }, tags: AutoScalingSdk.Tag[] | undefined): GroupTag[] {
  const out: GroupTag[] = [];
  for (const t of tags ?? []) {
    if (!t.Key) throw awsError('ValidationError', 'Tag key must be specified');
    if (String(t.Key).startsWith('aws:'))
      throw awsError('ValidationError', `Tag keys starting with 'aws:' are reserved: ${t.Key}`);
    if (t.ResourceId !== undefined && t.ResourceId !== g.name) {
      throw awsError(
        'ValidationError',
        `Tag ResourceId '${t.ResourceId}' does not match the group '${g.name}'`,
      );
    }
    if (t.ResourceType !== undefined && t.ResourceType !== 'auto-scaling-group') {
      throw awsError(
        'ValidationError',
        `Invalid ResourceType '${t.ResourceType}'; only auto-scaling-group is supported`,
      );
    }
    const existing = out.find((x) => x.Key === t.Key);
    const tag = { Key: t.Key, Value: t.Value ?? '', PropagateAtLaunch: t.PropagateAtLaunch ?? false };
    if (existing) Object.assign(existing, tag);
    else out.push(tag);
  }
  if (out.length > MAX_TAGS)
    throw awsError('ValidationError', `The number of tags must not exceed ${MAX_TAGS}`);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Output shapes

function groupLaunchTemplateOutput(ctx: SandboxContext, ref: LaunchTemplateRef): AutoScalingSdk.LaunchTemplateSpecification {
  let id = ref.LaunchTemplateId;
  let name = ref.LaunchTemplateName;
  try {
    const r = resolveLaunchTemplateVersion(ctx, {
      launchTemplateId: id,
      launchTemplateName: name,
      version: ref.Version ?? '$Default',
    });
    id = r.LaunchTemplateId;
    name = r.LaunchTemplateName;
  } catch {
    // The template was deleted after the group was created; describe what the group holds.
  }
  return { LaunchTemplateId: id, LaunchTemplateName: name, Version: ref.Version ?? '$Default' };
}

function instanceOutput(i: GroupInstance): AutoScalingSdk.Instance {
  return {
    InstanceId: i.InstanceId,
    InstanceType: i.InstanceType,
    AvailabilityZone: i.AvailabilityZone,
    LifecycleState: i.lifecycle,
    HealthStatus: i.health,
    LaunchTemplate: { ...i.launchTemplate },
    ProtectedFromScaleIn: i.protectedFromScaleIn,
  };
}

function tagOutput(g: Group, t: GroupTag) {
  return {
    ResourceId: g.name,
    ResourceType: 'auto-scaling-group',
    Key: t.Key,
    Value: t.Value,
    PropagateAtLaunch: t.PropagateAtLaunch,
  };
}

function groupOutput(ctx: SandboxContext, g: Group): AutoScalingSdk.AutoScalingGroup {
  const out: AutoScalingSdk.AutoScalingGroup = {
    AutoScalingGroupName: g.name,
    AutoScalingGroupARN: g.arn,
    MinSize: g.min,
    MaxSize: g.max,
    DesiredCapacity: g.desired,
    DefaultCooldown: g.defaultCooldown,
    AvailabilityZones: [...new Set(g.subnets.map((s) => s.AvailabilityZone))],
    LoadBalancerNames: [],
    TargetGroupARNs: [...g.targetGroupArns],
    HealthCheckType: g.healthCheckType,
    HealthCheckGracePeriod: g.healthCheckGracePeriod,
    Instances: g.instances.map(instanceOutput),
    CreatedTime: new Date(g.createdAt),
    SuspendedProcesses: g.suspended.map((p) => ({ ...p })),
    VPCZoneIdentifier: g.subnets.map((s) => s.SubnetId).join(','),
    EnabledMetrics: [],
    Tags: g.tags.map((t) => tagOutput(g, t)),
    TerminationPolicies: [...g.terminationPolicies],
    NewInstancesProtectedFromScaleIn: g.newInstancesProtectedFromScaleIn,
    ServiceLinkedRoleARN: `arn:aws:iam::${ACCOUNT}:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling`,
    CapacityRebalance: g.capacityRebalance,
    TrafficSources: g.targetGroupArns.map((a) => ({ Identifier: a, Type: 'elbv2' })),
  };
  if (g.mixedInstancesPolicy) {
    const mixed = structuredClone(g.mixedInstancesPolicy);
    // A stored policy always names its template (CreateAutoScalingGroup refuses one that does not).
    if (mixed.LaunchTemplate?.LaunchTemplateSpecification) {
      mixed.LaunchTemplate.LaunchTemplateSpecification = groupLaunchTemplateOutput(
        ctx,
        mixed.LaunchTemplate.LaunchTemplateSpecification,
      );
    }
    mixed.InstancesDistribution = {
      OnDemandAllocationStrategy: 'prioritized',
      OnDemandBaseCapacity: 0,
      OnDemandPercentageAboveBaseCapacity: 100,
      SpotAllocationStrategy: 'lowest-price',
      SpotInstancePools: 2,
      ...(mixed.InstancesDistribution ?? {}),
    };
    out.MixedInstancesPolicy = mixed;
  } else if (g.launchTemplate) {
    out.LaunchTemplate = groupLaunchTemplateOutput(ctx, g.launchTemplate);
  }
  if (g.deleting) out.Status = 'Delete in progress';
  return out;
}

// ---------------------------------------------------------------------------------------------
// Reconciliation: the time-driven behaviour of a group

function hooksFor(g: Group, transition: string): Hook[] {
  return g.hooks.filter((h) => h.LifecycleTransition === transition);
}

function newAction(ctx: SandboxContext, hook: Hook, t: number): PendingAction {
  return {
    hookName: hook.LifecycleHookName,
    token: uniqueUuid(ctx),
    transition: hook.LifecycleTransition,
    startedAt: t,
    timeoutAt: t + hook.HeartbeatTimeout * 1000,
    globalTimeoutAt: t + Math.min(hook.HeartbeatTimeout * 100, 172_800) * 1000,
    defaultResult: hook.DefaultResult,
  };
}

/** Applies due lifecycle-action completions (instance model, heartbeat timeouts). True when all are done. */
function settleActions(i: GroupInstance, t: number): { done: boolean; abandoned: boolean; doneAt: number } {
  let doneAt = 0;
  for (const a of i.actions) {
    if (a.result === undefined) {
      const modelAt = a.modelCompletesAt;
      const timeout = Math.min(a.timeoutAt, a.globalTimeoutAt);
      if (modelAt !== undefined && modelAt <= t && modelAt <= timeout) {
        a.result = a.modelResult ?? 'CONTINUE';
        a.timeoutAt = modelAt;
      } else if (timeout <= t) {
        a.result = a.defaultResult;
        a.timeoutAt = timeout;
      }
    }
    if (a.result === undefined) return { done: false, abandoned: false, doneAt: 0 };
    doneAt = Math.max(doneAt, a.timeoutAt);
  }
  return { done: true, abandoned: i.actions.some((a) => a.result === 'ABANDON'), doneAt };
}

/**
 * The EC2 state of an instance at time t (EC2 applies its transitions up to the sandbox's current
 * time, while reconciliation replays earlier periods): derived from the instance's timestamps.
 */
function ec2StateAt(inst: SbInstance | undefined, t: number): string {
  if (!inst) return 'terminated';
  if (inst.state === 'stopped') return 'stopped';
  if ((inst.state === 'shutting-down' || inst.state === 'terminated') && inst.terminatedAt !== undefined) {
    const began = (inst as { shuttingDownAt?: number }).shuttingDownAt ?? inst.terminatedAt;
    if (t >= inst.terminatedAt) return 'terminated';
    if (t >= began) return 'shutting-down';
  }
  return t >= inst.runningAt ? 'running' : 'pending';
}

/**
 * The EC2 instance as stored (transitions applied), NOT a copy: read it, never change it. Reconciliation
 * looks at every member on every pass; getInstance's deep copy (user data included) made a
 * 1,000-instance cluster spend most of its CPU time cloning.
 */
function peekInstance(ctx: SandboxContext, id: string): Readonly<SbInstance> | undefined {
  const s = ec2Account(ctx);
  const inst = s.instances[id];
  return inst && applyTransitionsTo(s, inst, ctx.sb.now()) ? inst : undefined;
}

function ec2State(ctx: SandboxContext, id: string): string {
  return ec2StateAt(peekInstance(ctx, id), ctx.now);
}

/** Moves one instance through its lifecycle up to time t. Returns false when it left the group. */
function advanceInstance(ctx: SandboxContext, g: Group, i: GroupInstance, t: number): boolean {
  const c = at(ctx, t);
  const timings = ctx.sb.behavior.timings;
  const inst = peekInstance(c, i.InstanceId);
  const ec2 = ec2StateAt(inst, t);
  if (i.lifecycle === 'Pending:Wait') {
    const s = settleActions(i, t);
    if (s.done) {
      i.actions = [];
      if (s.abandoned) {
        startTermination(ctx, g, i, t, 'a launch lifecycle action was abandoned', { skipHooks: true });
        return advanceInstance(ctx, g, i, t);
      }
      i.lifecycle = 'Pending:Proceed';
      i.proceedAt = s.doneAt;
    }
  }
  if (i.lifecycle === 'Pending' || i.lifecycle === 'Pending:Proceed') {
    // InService once EC2 runs it and the launch settled (health check grace of the latency model).
    const when = Math.max(
      inst?.runningAt ?? Infinity,
      i.launchedAt + timings.asgInServiceMs,
      i.proceedAt ?? 0,
    );
    if (ec2 === 'running' && t >= when) {
      i.lifecycle = 'InService';
      i.inServiceAt = when;
      if (!isSuspended(g, 'AddToLoadBalancer'))
        for (const tg of g.targetGroupArns) registerTargetsInternal(at(ctx, when), tg, [i.InstanceId]);
      endActivity(ctx, i.activityId, when, 'Successful');
    }
  }
  if (i.lifecycle === 'Terminating' && i.connectionDraining && t >= i.connectionDraining.until) {
    const until = i.connectionDraining.until;
    const activity = state(ctx).activities.find((a) => a.ActivityId === i.activityId);
    if (activity?.StatusCode === 'WaitingForELBConnectionDraining') activity.StatusCode = 'InProgress';
    afterConnectionDraining(ctx, g, i, until, i.connectionDraining.skipHooks);
  }
  if (i.lifecycle === 'Terminating:Wait') {
    const s = settleActions(i, t);
    if (s.done) {
      i.actions = [];
      i.lifecycle = 'Terminating:Proceed';
      noteLifecycleResult(ctx, i.activityId, s.abandoned ? 'ABANDON' : 'CONTINUE');
      if (!i.ec2Gone && ec2 !== 'terminated' && ec2 !== 'shutting-down')
        terminateInstanceInternal(at(ctx, Math.max(s.doneAt, i.launchedAt)), i.InstanceId);
    }
  }
  if (i.lifecycle === 'Terminating' || i.lifecycle === 'Terminating:Proceed') {
    if (ec2State(c, i.InstanceId) === 'terminated') {
      endActivity(ctx, i.activityId, t, 'Successful');
      return false;
    }
  }
  return true;
}

/** Begins the termination of a group member: deregistration, hooks (or not), EC2 termination. */
function startTermination(
  ctx: SandboxContext,
  g: Group,
  i: GroupInstance,
  t: number,
  cause: string,
  options: { skipHooks?: boolean; activity?: Activity } = {},
): Activity {
  const c = at(ctx, t);
  const activity =
    options.activity ??
    startActivity(ctx, g, t, `Terminating EC2 instance: ${i.InstanceId}`, `At ${iso(t)} ${cause}.`);
  endActivity(ctx, i.activityId, t, 'Cancelled');
  i.activityId = activity.ActivityId;
  const inst = peekInstance(c, i.InstanceId);
  const ec2 = ec2StateAt(inst, t);
  const gone = ec2 === 'terminated' || ec2 === 'shutting-down';
  i.ec2Gone = gone;
  // Deregistered first; while its target groups drain connections (their deregistration delay) the
  // instance waits in Terminating, and only then do the termination hooks run.
  const drainingMs = gone ? 0 : connectionDrainingMs(c, g.targetGroupArns, i.InstanceId);
  for (const tg of g.targetGroupArns) deregisterTargetsInternal(c, tg, [i.InstanceId]);
  if (drainingMs > 0) {
    i.lifecycle = 'Terminating';
    i.actions = [];
    i.connectionDraining = { until: t + drainingMs, skipHooks: options.skipHooks === true };
    activity.StatusCode = 'WaitingForELBConnectionDraining';
    return activity;
  }
  afterConnectionDraining(ctx, g, i, t, options.skipHooks === true);
  return activity;
}

/** The termination after ELB connection draining: the termination hooks (or not), then EC2 termination. */
function afterConnectionDraining(ctx: SandboxContext, g: Group, i: GroupInstance, t: number, skipHooks: boolean): void {
  const c = at(ctx, t);
  i.connectionDraining = undefined;
  const inst = peekInstance(c, i.InstanceId);
  const ec2 = ec2StateAt(inst, t);
  const gone = i.ec2Gone === true || ec2 === 'terminated' || ec2 === 'shutting-down';
  i.ec2Gone = gone;
  const hooks = gone || skipHooks ? [] : hooksFor(g, TERMINATING);
  if (hooks.length > 0) {
    i.lifecycle = 'Terminating:Wait';
    i.actions = hooks.map((h) => newAction(ctx, h, t));
    // The instance side: k3s drains and leaves, then completes the action itself (only if it runs).
    if (ec2 === 'running') {
      const fails = behaviorApplies(ctx.sb.behavior.failDrain, i.InstanceId, g.name);
      for (const a of i.actions) {
        a.modelCompletesAt = t + ctx.sb.behavior.timings.drainMs;
        a.modelResult = fails ? 'ABANDON' : 'CONTINUE';
      }
    }
  } else {
    i.actions = [];
    i.lifecycle = 'Terminating:Proceed';
    if (!gone) terminateInstanceInternal(c, i.InstanceId);
  }
}

/** Marks instances unhealthy from EC2 state and, for ELB health checks, target health. */
function checkHealth(ctx: SandboxContext, g: Group, t: number): void {
  if (isSuspended(g, 'HealthCheck')) return;
  const c = at(ctx, t);
  for (const i of g.instances) {
    if (isTerminating(i) || i.health === 'Unhealthy') continue;
    const ec2 = ec2State(c, i.InstanceId);
    if (ec2 === 'terminated' || ec2 === 'shutting-down' || ec2 === 'stopped' || ec2 === 'stopping') {
      i.health = 'Unhealthy';
      continue;
    }
    if (g.healthCheckType === 'ELB' && i.lifecycle === 'InService' && i.inServiceAt !== undefined) {
      if (t < i.inServiceAt + g.healthCheckGracePeriod * 1000) continue;
      for (const tg of g.targetGroupArns) {
        if (targetHealthInternal(c, tg, i.InstanceId)?.State === 'unhealthy') {
          i.health = 'Unhealthy';
          break;
        }
      }
    }
  }
}

function azCounts(g: Group, members: GroupInstance[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const s of g.subnets) counts.set(s.AvailabilityZone, 0);
  for (const i of members) counts.set(i.AvailabilityZone, (counts.get(i.AvailabilityZone) ?? 0) + 1);
  return counts;
}

function launchOne(ctx: SandboxContext, g: Group, t: number, cause: string): boolean {
  const c = at(ctx, t);
  const members = g.instances.filter((i) => !isTerminating(i));
  const counts = azCounts(g, members);
  const subnet = [...g.subnets].sort(
    (a, b) => (counts.get(a.AvailabilityZone) ?? 0) - (counts.get(b.AvailabilityZone) ?? 0),
  )[0];
  const ref = g.mixedInstancesPolicy?.LaunchTemplate?.LaunchTemplateSpecification ?? g.launchTemplate;
  let instanceType: string | undefined;
  let spot = false;
  if (g.mixedInstancesPolicy) {
    const overrides = (g.mixedInstancesPolicy.LaunchTemplate?.Overrides ?? []) as { InstanceType?: string }[];
    if (overrides.length) instanceType = overrides[g.launches % overrides.length].InstanceType;
    const dist = g.mixedInstancesPolicy.InstancesDistribution ?? {};
    const base = dist.OnDemandBaseCapacity ?? 0;
    const pct = dist.OnDemandPercentageAboveBaseCapacity ?? 100;
    const onDemandNow = members.filter((i) => !(peekInstance(c, i.InstanceId)?.Spot ?? false)).length;
    const wantOnDemand = base + Math.ceil((Math.max(0, g.desired - base) * pct) / 100);
    spot = onDemandNow >= wantOnDemand;
  }
  const activity = startActivity(ctx, g, t, 'Launching a new EC2 instance', `At ${iso(t)} ${cause}.`);
  try {
    // Every group holds a template or a mixed policy naming one (CreateAutoScalingGroup checks it).
    const resolved = resolveLaunchTemplateVersion(c, {
      launchTemplateId: ref?.LaunchTemplateId,
      launchTemplateName: ref?.LaunchTemplateName,
      version: ref?.Version ?? '$Default',
    });
    const tags = [
      ...g.tags.filter((x) => x.PropagateAtLaunch).map((x) => ({ Key: x.Key, Value: x.Value })),
      { Key: 'aws:autoscaling:groupName', Value: g.name },
    ];
    const inst = launchInstanceFromTemplate(c, {
      launchTemplateId: resolved.LaunchTemplateId,
      version: String(resolved.VersionNumber),
      subnetId: subnet.SubnetId,
      tags,
      instanceType,
      spot,
    });
    g.launches++;
    const launchHooks = hooksFor(g, LAUNCHING);
    activity.Description = `Launching a new EC2 instance: ${inst.InstanceId}`;
    activity.Details = JSON.stringify({
      'Subnet ID': subnet.SubnetId,
      'Availability Zone': subnet.AvailabilityZone,
    });
    activity.Progress = 20;
    g.instances.push({
      InstanceId: inst.InstanceId,
      AvailabilityZone: inst.AvailabilityZone,
      InstanceType: inst.InstanceType,
      lifecycle: launchHooks.length ? 'Pending:Wait' : 'Pending',
      health: 'Healthy',
      launchTemplate: {
        LaunchTemplateId: resolved.LaunchTemplateId,
        LaunchTemplateName: resolved.LaunchTemplateName,
        Version: String(resolved.VersionNumber),
      },
      protectedFromScaleIn: g.newInstancesProtectedFromScaleIn,
      launchedAt: t,
      actions: launchHooks.map((h) => newAction(ctx, h, t)),
      activityId: activity.ActivityId,
    });
    return true;
  } catch (error) {
    const e = error as { name?: string; message?: string };
    activity.Description = 'Launching a new EC2 instance.  Status Reason: ' + (e.message ?? String(error));
    endActivity(
      ctx,
      activity.ActivityId,
      t,
      'Failed',
      `${e.message ?? String(error)} Launching EC2 instance failed.`,
    );
    return false;
  }
}

/** Default termination policy: most populated AZ, then oldest launch template version, then oldest instance. */
function pickScaleInVictim(
  g: Group,
  candidates: GroupInstance[],
  members: GroupInstance[],
): GroupInstance | undefined {
  if (candidates.length === 0) return undefined;
  const counts = azCounts(g, members);
  const maxAz = Math.max(...candidates.map((i) => counts.get(i.AvailabilityZone) ?? 0));
  const inAz = candidates.filter((i) => (counts.get(i.AvailabilityZone) ?? 0) === maxAz);
  return [...inAz].sort(
    (a, b) =>
      Number(a.launchTemplate.Version) - Number(b.launchTemplate.Version) ||
      a.launchedAt - b.launchedAt ||
      a.InstanceId.localeCompare(b.InstanceId),
  )[0];
}

function reconcile(ctx: SandboxContext, g: Group, t: number): void {
  g.instances = g.instances.filter((i) => advanceInstance(ctx, g, i, t));
  checkHealth(ctx, g, t);
  if (g.deleting) {
    for (const i of g.instances)
      if (!isTerminating(i))
        startTermination(ctx, g, i, t, 'the group is being deleted', { skipHooks: g.deleting.force });
    g.instances = g.instances.filter((i) => advanceInstance(ctx, g, i, t));
    if (g.instances.length === 0) delete state(ctx).groups[g.name];
    return;
  }
  if (!isSuspended(g, 'ReplaceUnhealthy') && !isSuspended(g, 'Terminate')) {
    for (const i of g.instances) {
      if (!isTerminating(i) && i.health === 'Unhealthy') {
        startTermination(
          ctx,
          g,
          i,
          t,
          `an instance was taken out of service in response to an EC2 health check indicating it has been terminated or stopped, or was marked unhealthy`,
        );
      }
    }
    g.instances = g.instances.filter((i) => advanceInstance(ctx, g, i, t));
  }
  const members = g.instances.filter((i) => !isTerminating(i));
  if (members.length < g.desired && !isSuspended(g, 'Launch') && t >= (g.nextLaunchAt ?? 0)) {
    const from = members.length;
    for (let n = from; n < g.desired; n++) {
      const cause = `an instance was started in response to a difference between desired and actual capacity, increasing the capacity from ${from} to ${g.desired}`;
      if (launchOne(ctx, g, t, cause)) {
        g.launchFailures = undefined;
        g.nextLaunchAt = undefined;
        continue;
      }
      // Retried next period, backing off exponentially up to five minutes while it keeps failing.
      g.launchFailures = (g.launchFailures ?? 0) + 1;
      const period = ctx.sb.behavior.timings.asgReconcileMs;
      g.nextLaunchAt =
        t + Math.min(period * 2 ** (g.launchFailures - 1), Math.max(period, LAUNCH_BACKOFF_MAX_MS));
      break;
    }
  } else if (members.length > g.desired && !isSuspended(g, 'Terminate')) {
    let current = [...members];
    while (current.length > g.desired) {
      const victim = pickScaleInVictim(
        g,
        current.filter((i) => !i.protectedFromScaleIn),
        current,
      );
      if (!victim) break;
      startTermination(
        ctx,
        g,
        victim,
        t,
        `a user request set the desired capacity, changing the desired capacity from ${members.length} to ${g.desired}; an instance was taken out of service in response to a difference between desired and actual capacity, shrinking the capacity from ${members.length} to ${g.desired}`,
      );
      current = current.filter((i) => i !== victim);
    }
    g.instances = g.instances.filter((i) => advanceInstance(ctx, g, i, t));
  }
}

function tick(ctx: SandboxContext): void {
  const st = ctx.sb.existingServiceState<AsgState>('autoscaling', ctx.region);
  if (!st) return;
  const period = ctx.sb.behavior.timings.asgReconcileMs;
  // Every group reconciles on its own period; due periods are replayed in time order, so an
  // advance of ten minutes sees the same launches and terminations as ten minutes of polling.
  for (;;) {
    const due = Object.values(st.groups)
      .filter((g) => g.nextReconcileAt <= ctx.now)
      .sort((a, b) => a.nextReconcileAt - b.nextReconcileAt)[0];
    if (!due) break;
    if (isSteady(ctx, due)) {
      // Nothing can have happened in between (terminations are irreversible, health is re-checked
      // now): skip the idle periods instead of replaying them one by one (a CLI sandbox left for a day).
      due.nextReconcileAt += Math.floor((ctx.now - due.nextReconcileAt) / period + 1) * period;
      continue;
    }
    const t = due.nextReconcileAt;
    due.nextReconcileAt = t + period;
    reconcile(ctx, due, t);
  }
  for (const g of Object.values(st.groups)) {
    g.instances = g.instances.filter((i) => advanceInstance(ctx, g, i, ctx.now));
    if (g.deleting && g.instances.length === 0) delete st.groups[g.name];
  }
}

/** At capacity, every member InService, healthy and running as of now: a period would change nothing. */
function isSteady(ctx: SandboxContext, g: Group): boolean {
  if (g.deleting || g.instances.length !== g.desired) return false;
  return g.instances.every((i) => {
    if (i.lifecycle !== 'InService' || i.health !== 'Healthy') return false;
    if (ec2State(ctx, i.InstanceId) !== 'running') return false;
    if (g.healthCheckType !== 'ELB' || isSuspended(g, 'HealthCheck')) return true;
    return g.targetGroupArns.every(
      (tg) => targetHealthInternal(ctx, tg, i.InstanceId)?.State !== 'unhealthy',
    );
  });
}

/** Asks for a reconciliation at ctx.now (capacity or processes changed). */
function reconcileSoon(ctx: SandboxContext, g: Group): void {
  g.nextReconcileAt = Math.min(g.nextReconcileAt, ctx.now);
}

// ---------------------------------------------------------------------------------------------
// Operations

const createAutoScalingGroup: Handler<'CreateAutoScalingGroup'> = (ctx, input) => {
  const name = input.AutoScalingGroupName;
  if (typeof name !== 'string' || name.length < 1 || name.length > 255) {
    throw awsError('ValidationError', 'AutoScalingGroupName must be 1-255 characters');
  }
  const st = state(ctx);
  if (st.groups[name])
    throw awsError(
      'AlreadyExists',
      `AutoScalingGroup by this name already exists - A group with the name ${name} already exists`,
    );
  if (input.MinSize === undefined)
    throw awsError('ValidationError', 'The parameter MinSize must be specified');
  if (input.MaxSize === undefined)
    throw awsError('ValidationError', 'The parameter MaxSize must be specified');
  const desired = input.DesiredCapacity ?? input.MinSize;
  validateSizes(input.MinSize, input.MaxSize, desired);
  const { ref, mixed } = launchTemplateSpec(input);
  resolveTemplate(ctx, ref);
  const subnets = resolveSubnets(ctx, input.VPCZoneIdentifier);
  const targetGroupArns = validateTargetGroups(ctx, input.TargetGroupARNs);
  const healthCheckType = input.HealthCheckType ?? 'EC2';
  if (healthCheckType !== 'EC2' && healthCheckType !== 'ELB')
    throw awsError('ValidationError', `Invalid HealthCheckType '${healthCheckType}'`);
  const hooks = (input.LifecycleHookSpecificationList ?? []).map((h) => validateHook(h));
  if (new Set(hooks.map((h) => h.LifecycleHookName)).size !== hooks.length)
    throw awsError('ValidationError', 'Lifecycle hook names must be unique');
  const g: Group = {
    name,
    arn: `arn:aws:autoscaling:${ctx.region}:${ACCOUNT}:autoScalingGroup:${uniqueUuid(ctx)}:autoScalingGroupName/${name}`,
    createdAt: ctx.now,
    launchTemplate: mixed ? undefined : ref,
    mixedInstancesPolicy: mixed ? structuredClone(mixed) : undefined,
    min: input.MinSize,
    max: input.MaxSize,
    desired,
    defaultCooldown: input.DefaultCooldown ?? 300,
    subnets,
    targetGroupArns,
    healthCheckType,
    healthCheckGracePeriod: input.HealthCheckGracePeriod ?? 0,
    newInstancesProtectedFromScaleIn: input.NewInstancesProtectedFromScaleIn ?? false,
    capacityRebalance: input.CapacityRebalance ?? false,
    terminationPolicies: input.TerminationPolicies ?? ['Default'],
    tags: [],
    hooks,
    suspended: [],
    instances: [],
    nextReconcileAt: ctx.now,
    launches: 0,
  };
  g.tags = groupTags(g, input.Tags);
  st.groups[name] = g;
  return {};
};

const updateAutoScalingGroup: Handler<'UpdateAutoScalingGroup'> = (ctx, input) => {
  const g = getGroup(ctx, input.AutoScalingGroupName);
  if (g.deleting)
    throw awsError('ScalingActivityInProgress', `The AutoScalingGroup ${g.name} is being deleted`);
  const min = input.MinSize ?? g.min;
  const max = input.MaxSize ?? g.max;
  let desired = input.DesiredCapacity;
  if (desired === undefined) desired = Math.min(Math.max(g.desired, min), max); // AWS clamps an unspecified desired.
  validateSizes(min, max, desired);
  if (input.MinSize !== undefined || input.MaxSize !== undefined || input.DesiredCapacity !== undefined)
    requireAttachedTargetGroups(ctx, g);
  let launchTemplate = g.launchTemplate;
  let mixed = g.mixedInstancesPolicy;
  if (input.LaunchTemplate || input.MixedInstancesPolicy) {
    if (
      input.MixedInstancesPolicy &&
      !input.MixedInstancesPolicy.LaunchTemplate?.LaunchTemplateSpecification &&
      mixed
    ) {
      // A partial MixedInstancesPolicy update keeps the current launch template.
      input.MixedInstancesPolicy.LaunchTemplate = {
        ...mixed.LaunchTemplate,
        ...(input.MixedInstancesPolicy.LaunchTemplate ?? {}),
      };
    }
    const spec = launchTemplateSpec(input);
    resolveTemplate(ctx, spec.ref);
    launchTemplate = spec.mixed ? undefined : spec.ref;
    mixed = spec.mixed ? structuredClone(spec.mixed) : undefined;
  }
  const subnets =
    input.VPCZoneIdentifier !== undefined ? resolveSubnets(ctx, input.VPCZoneIdentifier) : g.subnets;
  const healthCheckType = input.HealthCheckType ?? g.healthCheckType;
  if (healthCheckType !== 'EC2' && healthCheckType !== 'ELB')
    throw awsError('ValidationError', `Invalid HealthCheckType '${healthCheckType}'`);
  Object.assign(g, {
    min,
    max,
    desired,
    launchTemplate,
    mixedInstancesPolicy: mixed,
    subnets,
    healthCheckType,
    healthCheckGracePeriod: input.HealthCheckGracePeriod ?? g.healthCheckGracePeriod,
    defaultCooldown: input.DefaultCooldown ?? g.defaultCooldown,
    newInstancesProtectedFromScaleIn:
      input.NewInstancesProtectedFromScaleIn ?? g.newInstancesProtectedFromScaleIn,
    capacityRebalance: input.CapacityRebalance ?? g.capacityRebalance,
    terminationPolicies: input.TerminationPolicies ?? g.terminationPolicies,
  });
  reconcileSoon(ctx, g);
  return {};
};

const deleteAutoScalingGroup: Handler<'DeleteAutoScalingGroup'> = (ctx, input) => {
  const st = state(ctx);
  const g = getGroup(ctx, input.AutoScalingGroupName);
  const force = input.ForceDelete === true;
  if (g.deleting) {
    if (force && !g.deleting.force) g.deleting.force = true;
    else return {};
  }
  // moto scales the group to 0 first (delete_auto_scaling_group -> set_desired_capacity), which fails the same way.
  requireAttachedTargetGroups(ctx, g);
  if (!force) {
    if (g.instances.length > 0) {
      throw awsError(
        'ResourceInUse',
        'You cannot delete an AutoScalingGroup while there are instances or pending Spot instance requests still in the group.',
      );
    }
    if (st.activities.some((a) => a.AutoScalingGroupName === g.name && a.StatusCode === 'InProgress')) {
      throw awsError(
        'ScalingActivityInProgress',
        'You cannot delete an AutoScalingGroup while there are scaling activities in progress for that group.',
      );
    }
    delete st.groups[g.name];
    return {};
  }
  // ForceDelete: terminate everything without waiting on lifecycle hooks; the group lingers in
  // "Delete in progress" until its instances are terminated.
  g.deleting = { force: true };
  g.min = g.max = g.desired = 0;
  for (const i of g.instances) {
    if (i.lifecycle === 'Terminating:Wait') {
      i.actions = [];
      i.lifecycle = 'Terminating:Proceed';
      if (!i.ec2Gone) terminateInstanceInternal(ctx, i.InstanceId);
    } else if (!isTerminating(i)) {
      startTermination(ctx, g, i, ctx.now, 'the group was deleted with ForceDelete', { skipHooks: true });
    }
  }
  if (g.instances.length === 0) delete st.groups[g.name];
  return {};
};

function matchesFilters(g: Group, filters: { Name?: string; Values?: string[] }[] | undefined): boolean {
  for (const f of filters ?? []) {
    const values = f.Values ?? [];
    const name = f.Name ?? '';
    if (name.startsWith('tag:')) {
      const key = name.slice(4);
      if (!g.tags.some((t) => t.Key === key && values.includes(t.Value))) return false;
    } else if (name === 'tag-key') {
      if (!g.tags.some((t) => values.includes(t.Key))) return false;
    } else if (name === 'tag-value') {
      if (!g.tags.some((t) => values.includes(t.Value))) return false;
    } else {
      throw awsError(
        'ValidationError',
        `Filter name '${name}' is invalid. Valid filters are tag:<key>, tag-key and tag-value`,
      );
    }
  }
  return true;
}

const describeAutoScalingGroups: Handler<'DescribeAutoScalingGroups'> = (ctx, input) => {
  const st = state(ctx);
  const names: string[] | undefined = input.AutoScalingGroupNames;
  let groups = Object.values(st.groups).sort((a, b) => a.name.localeCompare(b.name));
  if (names?.length) groups = groups.filter((g) => names.includes(g.name));
  groups = groups.filter((g) => matchesFilters(g, input.Filters));
  if (input.MaxRecords !== undefined && (input.MaxRecords < 1 || input.MaxRecords > 100)) {
    throw awsError('ValidationError', 'MaxRecords must be between 1 and 100');
  }
  const { page, nextToken } = paginate(groups, input.NextToken, input.MaxRecords);
  return { AutoScalingGroups: page.map((g) => groupOutput(ctx, g)), NextToken: nextToken };
};

const describeAutoScalingInstances: Handler<'DescribeAutoScalingInstances'> = (ctx, input) => {
  const ids: string[] | undefined = input.InstanceIds;
  const rows: AutoScalingSdk.AutoScalingInstanceDetails[] = [];
  for (const g of Object.values(state(ctx).groups).sort((a, b) => a.name.localeCompare(b.name))) {
    for (const i of g.instances) {
      if (ids?.length && !ids.includes(i.InstanceId)) continue;
      rows.push({ ...instanceOutput(i), AutoScalingGroupName: g.name });
    }
  }
  const { page, nextToken } = paginate(rows, input.NextToken, input.MaxRecords);
  return { AutoScalingInstances: page, NextToken: nextToken };
};

const setDesiredCapacity: Handler<'SetDesiredCapacity'> = (ctx, input) => {
  const g = getGroup(ctx, input.AutoScalingGroupName);
  if (g.deleting)
    throw awsError('ScalingActivityInProgress', `The AutoScalingGroup ${g.name} is being deleted`);
  const d = input.DesiredCapacity;
  if (d === undefined || !Number.isInteger(d))
    throw awsError('ValidationError', 'The parameter DesiredCapacity must be specified');
  if (d > g.max)
    throw awsError(
      'ValidationError',
      `New SetDesiredCapacity value ${d} is above max value ${g.max} for the AutoScalingGroup.`,
    );
  if (d < g.min)
    throw awsError(
      'ValidationError',
      `New SetDesiredCapacity value ${d} is below min value ${g.min} for the AutoScalingGroup.`,
    );
  requireAttachedTargetGroups(ctx, g);
  g.desired = d;
  g.nextLaunchAt = undefined;
  reconcileSoon(ctx, g);
  return {};
};

function findMember(ctx: SandboxContext, instanceId: string): { g: Group; i: GroupInstance } | undefined {
  for (const g of Object.values(state(ctx).groups)) {
    const i = g.instances.find((x) => x.InstanceId === instanceId);
    if (i) return { g, i };
  }
  return undefined;
}

const terminateInstanceInAutoScalingGroup: Handler<'TerminateInstanceInAutoScalingGroup'> = (ctx, input) => {
  const id = input.InstanceId;
  if (!id) throw awsError('ValidationError', 'The parameter InstanceId must be specified');
  if (typeof input.ShouldDecrementDesiredCapacity !== 'boolean') {
    throw awsError('ValidationError', 'The parameter ShouldDecrementDesiredCapacity must be specified');
  }
  const m = findMember(ctx, id);
  if (!m)
    throw awsError(
      'ValidationError',
      `Instance Id not found - No managed instance found for instance ID: ${id}`,
    );
  const { g, i } = m;
  if (isTerminating(i)) {
    const a = state(ctx).activities.find((x) => x.ActivityId === i.activityId);
    if (a) return { Activity: activityOutput(a) };
    throw awsError('ValidationError', `The instance ${id} is already terminating`);
  }
  if (input.ShouldDecrementDesiredCapacity) {
    if (g.desired - 1 < g.min) {
      throw awsError(
        'ValidationError',
        `Currently, desiredSize equals minSize (${g.min}). Terminating instance without replacement will violate group's min size constraint. Either set shouldDecrementDesiredCapacity flag to false or lower group's min size.`,
      );
    }
    g.desired -= 1;
  }
  const cause = input.ShouldDecrementDesiredCapacity
    ? `instance ${id} was taken out of service in response to a user request, shrinking the capacity from ${g.desired + 1} to ${g.desired}`
    : `instance ${id} was taken out of service in response to a user request`;
  const activity = startTermination(ctx, g, i, ctx.now, cause);
  g.instances = g.instances.filter((x) => advanceInstance(ctx, g, x, ctx.now));
  reconcileSoon(ctx, g);
  return { Activity: activityOutput(activity) };
};

const detachInstances: Handler<'DetachInstances'> = (ctx, input) => {
  const g = getGroup(ctx, input.AutoScalingGroupName);
  const ids: string[] = input.InstanceIds ?? [];
  if (typeof input.ShouldDecrementDesiredCapacity !== 'boolean') {
    throw awsError('ValidationError', 'The parameter ShouldDecrementDesiredCapacity must be specified');
  }
  const members = ids.map((id) => {
    const i = g.instances.find((x) => x.InstanceId === id);
    if (!i)
      throw awsError('ValidationError', `The instance ${id} is not part of Auto Scaling group ${g.name}.`);
    if (i.lifecycle !== 'InService' && i.lifecycle !== 'Pending')
      throw awsError('ValidationError', `The instance ${id} is not in InService or Standby.`);
    return i;
  });
  if (input.ShouldDecrementDesiredCapacity) {
    if (g.desired - members.length < g.min) {
      throw awsError(
        'ValidationError',
        `Detaching ${members.length} instance(s) would make the desired capacity ${g.desired - members.length}, below the group's min size ${g.min}.`,
      );
    }
    g.desired -= members.length;
  }
  const activities = members.map((i) => {
    const a = startActivity(
      ctx,
      g,
      ctx.now,
      `Detaching EC2 instance: ${i.InstanceId}`,
      `At ${iso(ctx.now)} instance ${i.InstanceId} was detached in response to a user request.`,
    );
    for (const tg of g.targetGroupArns) deregisterTargetsInternal(ctx, tg, [i.InstanceId]);
    endActivity(ctx, i.activityId, ctx.now, 'Cancelled');
    endActivity(ctx, a.ActivityId, ctx.now, 'Successful');
    return activityOutput(a);
  });
  g.instances = g.instances.filter((i) => !members.includes(i));
  reconcileSoon(ctx, g);
  return { Activities: activities };
};

const attachInstances: Handler<'AttachInstances'> = (ctx, input) => {
  const g = getGroup(ctx, input.AutoScalingGroupName);
  const ids: string[] = input.InstanceIds ?? [];
  if (g.desired + ids.length > g.max) {
    throw awsError(
      'ValidationError',
      `Attaching ${ids.length} instance(s) would exceed the group's max size ${g.max}.`,
    );
  }
  for (const id of ids) {
    const inst = getInstance(ctx, id);
    if (!inst || inst.state !== 'running')
      throw awsError('ValidationError', `Instance ${id} is not in a running state.`);
    if (findMember(ctx, id))
      throw awsError('ValidationError', `The instance ${id} is already part of an Auto Scaling group.`);
    if (!g.subnets.some((s) => s.VpcId === inst.VpcId))
      throw awsError('ValidationError', `The instance ${id} is not in the group's VPC.`);
  }
  for (const id of ids) {
    const inst = getInstance(ctx, id)!;
    const a = startActivity(
      ctx,
      g,
      ctx.now,
      `Attaching an existing EC2 instance: ${id}`,
      `At ${iso(ctx.now)} a user request attached instance ${id}, changing the desired capacity from ${g.desired} to ${g.desired + 1}.`,
    );
    g.desired++;
    g.instances.push({
      InstanceId: id,
      AvailabilityZone: inst.AvailabilityZone,
      InstanceType: inst.InstanceType,
      lifecycle: 'InService',
      health: 'Healthy',
      launchTemplate: {
        LaunchTemplateId: inst.LaunchTemplate?.LaunchTemplateId ?? '',
        LaunchTemplateName: inst.LaunchTemplate?.LaunchTemplateName ?? '',
        Version: inst.LaunchTemplate?.Version ?? '',
      },
      protectedFromScaleIn: g.newInstancesProtectedFromScaleIn,
      launchedAt: inst.launchedAt,
      inServiceAt: ctx.now,
      actions: [],
      activityId: a.ActivityId,
    });
    for (const tg of g.targetGroupArns) registerTargetsInternal(ctx, tg, [id]);
    endActivity(ctx, a.ActivityId, ctx.now, 'Successful');
  }
  return {};
};

function processNames(input: { ScalingProcesses?: string[] }): string[] {
  const names: string[] = input.ScalingProcesses?.length ? input.ScalingProcesses : [...PROCESSES];
  for (const n of names) {
    if (!(PROCESSES as readonly string[]).includes(n))
      throw awsError(
        'ValidationError',
        `Process '${n}' is not a valid process. Valid processes are ${PROCESSES.join(', ')}`,
      );
  }
  return names;
}

const suspendProcesses: Handler<'SuspendProcesses'> = (ctx, input) => {
  const g = getGroup(ctx, input.AutoScalingGroupName);
  for (const n of processNames(input)) {
    if (!isSuspended(g, n))
      g.suspended.push({ ProcessName: n, SuspensionReason: `User suspended at ${iso(ctx.now)}` });
  }
  return {};
};

const resumeProcesses: Handler<'ResumeProcesses'> = (ctx, input) => {
  const g = getGroup(ctx, input.AutoScalingGroupName);
  const names = processNames(input);
  g.suspended = g.suspended.filter((p) => !names.includes(p.ProcessName));
  reconcileSoon(ctx, g);
  return {};
};

/**
 * Sets a member's health status, as SetInstanceHealth does (the instance side marks itself Unhealthy
 * when its bootstrap failed for good; reconciliation then replaces it). The health check grace period
 * is not modelled. False when no group has the instance.
 */
export function setInstanceHealthInternal(ctx: SandboxContext, instanceId: string, health: 'Healthy' | 'Unhealthy'): boolean {
  const st = ctx.sb.existingServiceState<AsgState>('autoscaling', ctx.region);
  for (const g of Object.values(st?.groups ?? {})) {
    const i = g.instances.find((x) => x.InstanceId === instanceId);
    if (!i) continue;
    if (!isTerminating(i) && i.health !== health) {
      i.health = health;
      reconcileSoon(ctx, g);
    }
    return true;
  }
  return false;
}

const setInstanceHealth: Handler<'SetInstanceHealth'> = (ctx, input) => {
  const id = input.InstanceId;
  if (!id) throw awsError('ValidationError', 'The parameter InstanceId must be specified');
  if (input.HealthStatus !== 'Healthy' && input.HealthStatus !== 'Unhealthy') {
    throw awsError('ValidationError', `Valid values for HealthStatus are 'Healthy' and 'Unhealthy', got ${String(input.HealthStatus)}`);
  }
  if (!setInstanceHealthInternal(ctx, id, input.HealthStatus)) {
    throw awsError('ValidationError', `Instance Id not found - No managed instance found for instance ID: ${id}`);
  }
  return {};
};

const setInstanceProtection: Handler<'SetInstanceProtection'> = (ctx, input) => {
  const g = getGroup(ctx, input.AutoScalingGroupName);
  if (typeof input.ProtectedFromScaleIn !== 'boolean')
    throw awsError('ValidationError', 'The parameter ProtectedFromScaleIn must be specified');
  const members = ((input.InstanceIds ?? []) as string[]).map((id) => {
    const i = g.instances.find((x) => x.InstanceId === id);
    if (!i)
      throw awsError('ValidationError', `The instance ${id} is not part of Auto Scaling group ${g.name}.`);
    return i;
  });
  for (const i of members) i.protectedFromScaleIn = input.ProtectedFromScaleIn;
  return {};
};

const putLifecycleHook: Handler<'PutLifecycleHook'> = (ctx, input) => {
  const g = getGroup(ctx, input.AutoScalingGroupName);
  const idx = g.hooks.findIndex((h) => h.LifecycleHookName === input.LifecycleHookName);
  const hook = validateHook(input, idx >= 0 ? g.hooks[idx] : undefined);
  if (idx >= 0) g.hooks[idx] = hook;
  else {
    if (g.hooks.length >= MAX_HOOKS)
      throw awsError(
        'LimitExceeded',
        `You have reached the limit of ${MAX_HOOKS} lifecycle hooks for this group`,
      );
    g.hooks.push(hook);
  }
  return {};
};

const deleteLifecycleHook: Handler<'DeleteLifecycleHook'> = (ctx, input) => {
  const g = getGroup(ctx, input.AutoScalingGroupName);
  const name = input.LifecycleHookName;
  if (!g.hooks.some((h) => h.LifecycleHookName === name))
    throw awsError('ValidationError', `No Lifecycle Hook found with name ${name} for group ${g.name}`);
  g.hooks = g.hooks.filter((h) => h.LifecycleHookName !== name);
  return {};
};

const describeLifecycleHooks: Handler<'DescribeLifecycleHooks'> = (ctx, input) => {
  const g = getGroup(ctx, input.AutoScalingGroupName);
  const names: string[] | undefined = input.LifecycleHookNames;
  return {
    LifecycleHooks: g.hooks
      .filter((h) => !names?.length || names.includes(h.LifecycleHookName))
      .map((h) => ({
        ...h,
        AutoScalingGroupName: g.name,
        GlobalTimeout: Math.min(h.HeartbeatTimeout * 100, 172_800),
      })),
  };
};

function findAction(
  ctx: SandboxContext,
  input: AutoScalingSdk.CompleteLifecycleActionType | AutoScalingSdk.RecordLifecycleActionHeartbeatType,
): { g: Group; i: GroupInstance; a: PendingAction } {
  const g = getGroup(ctx, input.AutoScalingGroupName);
  if (!input.LifecycleHookName)
    throw awsError('ValidationError', 'The parameter LifecycleHookName must be specified');
  if (!input.LifecycleActionToken && !input.InstanceId)
    throw awsError('ValidationError', 'Either LifecycleActionToken or InstanceId must be specified');
  for (const i of g.instances) {
    if (input.InstanceId && i.InstanceId !== input.InstanceId) continue;
    for (const a of i.actions) {
      if (a.hookName !== input.LifecycleHookName || a.result !== undefined) continue;
      if (input.LifecycleActionToken && a.token !== input.LifecycleActionToken) continue;
      return { g, i, a };
    }
  }
  if (input.LifecycleActionToken)
    throw awsError(
      'ValidationError',
      `No active Lifecycle Action found with token ${input.LifecycleActionToken}`,
    );
  throw awsError('ValidationError', `No active Lifecycle Action found with instance ID ${input.InstanceId}`);
}

const completeLifecycleAction: Handler<'CompleteLifecycleAction'> = (ctx, input) => {
  const result = input.LifecycleActionResult;
  if (result !== 'CONTINUE' && result !== 'ABANDON')
    throw awsError('ValidationError', `LifecycleActionResult must be CONTINUE or ABANDON, got '${result}'`);
  const { g, i, a } = findAction(ctx, input);
  a.result = result;
  a.timeoutAt = ctx.now;
  g.instances = g.instances.filter((x) => (x === i ? advanceInstance(ctx, g, x, ctx.now) : true));
  return {};
};

const recordLifecycleActionHeartbeat: Handler<'RecordLifecycleActionHeartbeat'> = (ctx, input) => {
  const { g, a } = findAction(ctx, input);
  const hook = g.hooks.find((h) => h.LifecycleHookName === a.hookName);
  a.timeoutAt = Math.min(ctx.now + (hook?.HeartbeatTimeout ?? 3600) * 1000, a.globalTimeoutAt);
  return {};
};

function tagTargets(
  ctx: SandboxContext,
  tags: AutoScalingSdk.Tag[] | undefined,
): { g: Group; t: AutoScalingSdk.Tag }[] {
  if (!tags?.length) throw awsError('ValidationError', 'The parameter Tags must be specified');
  return tags.map((t) => {
    if (t.ResourceType !== undefined && t.ResourceType !== 'auto-scaling-group')
      throw awsError('ValidationError', `Invalid ResourceType '${t.ResourceType}'`);
    return { g: getGroup(ctx, t.ResourceId), t };
  });
}

const createOrUpdateTags: Handler<'CreateOrUpdateTags'> = (ctx, input) => {
  const targets = tagTargets(ctx, input.Tags);
  const next = new Map<Group, GroupTag[]>();
  for (const { g, t } of targets) {
    const tags = next.get(g) ?? g.tags.map((x) => ({ ...x }));
    const [tag] = groupTags(g, [t]);
    const existing = tags.find((x) => x.Key === tag.Key);
    if (existing) Object.assign(existing, t.PropagateAtLaunch === undefined ? { Value: tag.Value } : tag);
    else tags.push(tag);
    if (tags.length > MAX_TAGS)
      throw awsError(
        'LimitExceeded',
        `The number of tags for ${g.name} would exceed the limit of ${MAX_TAGS}`,
      );
    next.set(g, tags);
  }
  for (const [g, tags] of next) g.tags = tags;
  return {};
};

const deleteTags: Handler<'DeleteTags'> = (ctx, input) => {
  for (const { g, t } of tagTargets(ctx, input.Tags)) {
    g.tags = g.tags.filter(
      (x) => !(x.Key === t.Key && (t.Value === undefined || t.Value === '' || x.Value === t.Value)),
    );
  }
  return {};
};

const describeTags: Handler<'DescribeTags'> = (ctx, input) => {
  const rows: ReturnType<typeof tagOutput>[] = [];
  for (const g of Object.values(state(ctx).groups).sort((a, b) => a.name.localeCompare(b.name))) {
    for (const t of g.tags) rows.push(tagOutput(g, t));
  }
  const filtered = rows.filter((r) =>
    ((input.Filters ?? []) as { Name?: string; Values?: string[] }[]).every((f) => {
      const v = f.Values ?? [];
      switch (f.Name) {
        case 'auto-scaling-group':
          return v.includes(r.ResourceId);
        case 'key':
          return v.includes(r.Key);
        case 'value':
          return v.includes(r.Value);
        case 'propagate-at-launch':
          return v.includes(String(r.PropagateAtLaunch));
        default:
          throw awsError(
            'ValidationError',
            `Filter name '${f.Name}' is invalid. Valid filters are auto-scaling-group, key, value and propagate-at-launch`,
          );
      }
    }),
  );
  const { page, nextToken } = paginate(filtered, input.NextToken, input.MaxRecords);
  return { Tags: page, NextToken: nextToken };
};

const attachTargetGroups: Handler<'AttachLoadBalancerTargetGroups'> = (ctx, input) => {
  const g = getGroup(ctx, input.AutoScalingGroupName);
  const arns = validateTargetGroups(ctx, input.TargetGroupARNs);
  if (arns.length === 0) throw awsError('ValidationError', 'The parameter TargetGroupARNs must be specified');
  for (const arn of arns) {
    if (g.targetGroupArns.includes(arn)) continue;
    g.targetGroupArns.push(arn);
    const inService = g.instances.filter((i) => i.lifecycle === 'InService').map((i) => i.InstanceId);
    if (inService.length && !isSuspended(g, 'AddToLoadBalancer'))
      registerTargetsInternal(ctx, arn, inService);
  }
  return {};
};

const detachTargetGroups: Handler<'DetachLoadBalancerTargetGroups'> = (ctx, input) => {
  const g = getGroup(ctx, input.AutoScalingGroupName);
  const arns: string[] = input.TargetGroupARNs ?? [];
  for (const arn of arns) {
    if (!g.targetGroupArns.includes(arn)) continue;
    g.targetGroupArns = g.targetGroupArns.filter((a) => a !== arn);
    deregisterTargetsInternal(
      ctx,
      arn,
      g.instances.map((i) => i.InstanceId),
    );
  }
  return {};
};

const describeLoadBalancerTargetGroups: Handler<'DescribeLoadBalancerTargetGroups'> = (ctx, input) => {
  const g = getGroup(ctx, input.AutoScalingGroupName);
  const rows = g.targetGroupArns.map((a) => ({
    LoadBalancerTargetGroupARN: a,
    State: g.instances.some((i) => i.lifecycle === 'InService') ? 'InService' : 'Added',
  }));
  const { page, nextToken } = paginate(rows, input.NextToken, input.MaxRecords);
  return { LoadBalancerTargetGroups: page, NextToken: nextToken };
};

const describeScalingActivities: Handler<'DescribeScalingActivities'> = (ctx, input) => {
  const st = state(ctx);
  let acts = st.activities;
  const ids = input.ActivityIds;
  if (ids?.length) acts = acts.filter((a) => ids.includes(a.ActivityId));
  if (input.AutoScalingGroupName) {
    if (!st.groups[input.AutoScalingGroupName] && !input.IncludeDeletedGroups) return { Activities: [] };
    acts = acts.filter((a) => a.AutoScalingGroupName === input.AutoScalingGroupName);
  }
  if (!input.IncludeDeletedGroups) acts = acts.filter((a) => st.groups[a.AutoScalingGroupName]);
  const { page, nextToken } = paginate(acts, input.NextToken, input.MaxRecords);
  return { Activities: page.map(activityOutput), NextToken: nextToken };
};

function inventory(ctx: SandboxContext): InventoryItem[] {
  const st = ctx.sb.existingServiceState<AsgState>('autoscaling', ctx.region);
  if (!st) return [];
  return Object.values(st.groups).map((g) => ({
    type: 'AWS::AutoScaling::AutoScalingGroup',
    id: g.name,
    fingerprint: JSON.stringify({
      min: g.min,
      max: g.max,
      desired: g.desired,
      launchTemplate: g.launchTemplate,
      mixed: g.mixedInstancesPolicy,
      subnets: g.subnets.map((s) => s.SubnetId),
      targetGroups: [...g.targetGroupArns].sort(),
      healthCheck: [g.healthCheckType, g.healthCheckGracePeriod],
      protect: g.newInstancesProtectedFromScaleIn,
      suspended: g.suspended.map((p) => p.ProcessName).sort(),
      hooks: [...g.hooks].sort((a, b) => a.LifecycleHookName.localeCompare(b.LifecycleHookName)),
      tags: [...g.tags].sort((a, b) => a.Key.localeCompare(b.Key)),
      deleting: g.deleting !== undefined,
    }),
  }));
}

/** Every Auto Scaling operation the sandbox answers, typed (tests read groups through them without a counted call). */
export const autoScalingOperations = {
  CreateAutoScalingGroup: createAutoScalingGroup,
  UpdateAutoScalingGroup: updateAutoScalingGroup,
  DeleteAutoScalingGroup: deleteAutoScalingGroup,
  DescribeAutoScalingGroups: describeAutoScalingGroups,
  DescribeAutoScalingInstances: describeAutoScalingInstances,
  SetDesiredCapacity: setDesiredCapacity,
  TerminateInstanceInAutoScalingGroup: terminateInstanceInAutoScalingGroup,
  DetachInstances: detachInstances,
  AttachInstances: attachInstances,
  SuspendProcesses: suspendProcesses,
  ResumeProcesses: resumeProcesses,
  SetInstanceProtection: setInstanceProtection,
  SetInstanceHealth: setInstanceHealth,
  PutLifecycleHook: putLifecycleHook,
  DeleteLifecycleHook: deleteLifecycleHook,
  DescribeLifecycleHooks: describeLifecycleHooks,
  DescribeLifecycleHookTypes: () => ({ LifecycleHookTypes: [LAUNCHING, TERMINATING] }),
  CompleteLifecycleAction: completeLifecycleAction,
  RecordLifecycleActionHeartbeat: recordLifecycleActionHeartbeat,
  CreateOrUpdateTags: createOrUpdateTags,
  DeleteTags: deleteTags,
  DescribeTags: describeTags,
  AttachLoadBalancerTargetGroups: attachTargetGroups,
  DetachLoadBalancerTargetGroups: detachTargetGroups,
  DescribeLoadBalancerTargetGroups: describeLoadBalancerTargetGroups,
  DescribeScalingActivities: describeScalingActivities,
} satisfies OperationsOf<typeof AutoScalingSdk>;

export const autoScalingModule: ServiceModule = {
  service: 'autoscaling',
  operations: autoScalingOperations,
  tick,
  inventory,
};
