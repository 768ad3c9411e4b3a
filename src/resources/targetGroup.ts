// Target groups (AWS::ElasticLoadBalancingV2::TargetGroup): a cluster's ingress target group and the
// per-service target groups of nodeport endpoints. Found by name (unique per region) and refused when
// the group of that name does not carry the expected ownership tags.
import {
  CreateTargetGroupCommand,
  DeleteTargetGroupCommand,
  DescribeTargetGroupAttributesCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  ModifyTargetGroupAttributesCommand,
  ModifyTargetGroupCommand,
  type TargetGroup,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import type { AwsClients } from '../aws/clients';
import { systemClock, type Clock } from '../core/clock';
import { UserError, isAwsError } from '../core/errors';
import {
  AttachLoadBalancerTargetGroupsCommand,
  DescribeAutoScalingGroupsCommand,
  DetachLoadBalancerTargetGroupsCommand,
  type AutoScalingGroup,
} from '@aws-sdk/client-auto-scaling';
import { clusterTags, TagKeys, type Tag } from '../aws/tags';
import { MAX_INGRESS_ALBS, names } from '../aws/names';
import { targetGroupNameOfArn } from '../aws/arns';
import { deleteEachOwned, type ClusterScope, type Owned } from '../provider/cluster';
import { journaledWrite } from '../provider/journaledWrite';
import type { RunContext, Task } from '../provider/types';
import { tagChanges, type FieldChange } from '../provider/fieldChange';
import { addElbTags, describeElbTags, hasTags } from './elbTags';
import { validateElbName } from './loadBalancer';
import { describeClusterAutoScalingGroups, discoveredClusterGroups } from './clusterGroups';
import type { Provider } from '../provider/provider';
import { taskRef } from '../provider/taskRef';
import type { ClusterView } from '../provider/clusterView';

export const TARGET_GROUP_TYPE = 'AWS::ElasticLoadBalancingV2::TargetGroup';

export interface TargetGroupState {
  arn: string;
  name: string;
  vpcId: string;
  port: number;
  protocol: string;
  healthCheckPath: string;
  loadBalancerArns: string[];
  tags: Record<string, string>;
  /** deregistration_delay.timeout_seconds; read only when the spec manages it. */
  deregistrationDelaySeconds?: number;
}

/** The target group attribute ELBv2 waits on before a deregistered target is gone (default 300 s). */
export const DEREGISTRATION_DELAY_ATTRIBUTE = 'deregistration_delay.timeout_seconds';
/** ELBv2's deregistration delay of a target group that does not set the attribute, in seconds. */
const ELB_DEFAULT_DEREGISTRATION_DELAY = 300;

export interface TargetGroupSpec {
  name: string;
  vpcId: string;
  port: number;
  protocol?: 'HTTP' | 'HTTPS';
  healthCheckPath?: string;
  /** deregistration_delay.timeout_seconds (0-3600); undefined: not managed (left as it is). */
  deregistrationDelaySeconds?: number;
  /** Ownership tags (clusterTags(...) or sharedTags(...)); a group of this name without them is refused. */
  tags: Tag[];
}

function toState(tg: TargetGroup, tags: Record<string, string>): TargetGroupState {
  return {
    arn: tg.TargetGroupArn ?? '',
    name: tg.TargetGroupName ?? '',
    vpcId: tg.VpcId ?? '',
    port: tg.Port ?? 0,
    protocol: tg.Protocol ?? 'HTTP',
    healthCheckPath: tg.HealthCheckPath ?? '/',
    loadBalancerArns: tg.LoadBalancerArns ?? [],
    tags,
  };
}

async function describeByName(clients: AwsClients, name: string): Promise<TargetGroup | undefined> {
  try {
    const res = await clients.elbv2.send(new DescribeTargetGroupsCommand({ Names: [name] }));
    return res.TargetGroups?.[0];
  } catch (error) {
    if (isAwsError(error, 'TargetGroupNotFound')) return undefined;
    throw error;
  }
}

/** The target group named `name` with its tags, or undefined. */
export async function findTargetGroupByName(
  clients: AwsClients,
  name: string,
): Promise<TargetGroupState | undefined> {
  const tg = await describeByName(clients, name);
  if (!tg) return undefined;
  const tags = (await describeElbTags(clients, [tg.TargetGroupArn ?? ''])).get(tg.TargetGroupArn ?? '') ?? {};
  return toState(tg, tags);
}

/** The target group by ARN, or undefined. */
export async function findTargetGroupByArn(
  clients: AwsClients,
  arn: string,
): Promise<TargetGroupState | undefined> {
  try {
    const res = await clients.elbv2.send(new DescribeTargetGroupsCommand({ TargetGroupArns: [arn] }));
    const tg = res.TargetGroups?.[0];
    if (!tg) return undefined;
    const tags = (await describeElbTags(clients, [arn])).get(arn) ?? {};
    return toState(tg, tags);
  } catch (error) {
    if (isAwsError(error, 'TargetGroupNotFound')) return undefined;
    throw error;
  }
}

/**
 * The cluster's ingress target groups, one per ALB slot (names.ingressTargetGroup): those that exist
 * under the slot names, whoever owns them (callers check the cluster tag). One read per slot.
 */
export async function findIngressTargetGroups(
  clients: AwsClients,
  cluster: string,
): Promise<TargetGroupState[]> {
  const slots = Array.from({ length: MAX_INGRESS_ALBS }, (_, i) => names.ingressTargetGroup(cluster, i + 1));
  return (await Promise.all(slots.map((n) => findTargetGroupByName(clients, n)))).filter(
    (tg): tg is TargetGroupState => tg !== undefined,
  );
}

/** The deregistration delay of a target group, in seconds (ELBv2's default when the attribute is absent). */
export async function targetGroupDeregistrationDelay(clients: AwsClients, arn: string): Promise<number> {
  const res = await clients.elbv2.send(new DescribeTargetGroupAttributesCommand({ TargetGroupArn: arn }));
  const value = res.Attributes?.find((a) => a.Key === DEREGISTRATION_DELAY_ATTRIBUTE)?.Value;
  const n = Number(value);
  return value !== undefined && Number.isFinite(n) ? n : ELB_DEFAULT_DEREGISTRATION_DELAY;
}

/**
 * The longest deregistration delay among target groups, in seconds (0 for none): how long an Auto
 * Scaling group holds a leaving instance in Terminating before its termination hook runs. A target
 * group deleted meanwhile counts as 0.
 */
export async function longestDeregistrationDelay(clients: AwsClients, arns: string[]): Promise<number> {
  const delays = await Promise.all(
    arns.map((arn) =>
      targetGroupDeregistrationDelay(clients, arn).catch((error: unknown) => {
        if (isAwsError(error, 'TargetGroupNotFound')) return 0;
        throw error;
      }),
    ),
  );
  return Math.max(0, ...delays);
}

function setDeregistrationDelay(clients: AwsClients, arn: string, seconds: number) {
  return clients.elbv2.send(
    new ModifyTargetGroupAttributesCommand({
      TargetGroupArn: arn,
      Attributes: [{ Key: DEREGISTRATION_DELAY_ATTRIBUTE, Value: String(seconds) }],
    }),
  );
}

export interface TargetHealthSummary {
  healthy: number;
  total: number;
  states: Record<string, number>;
}

/** Counts of targets by health state (DescribeTargetHealth). */
export async function targetGroupHealth(clients: AwsClients, arn: string): Promise<TargetHealthSummary> {
  const res = await clients.elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: arn }));
  const states: Record<string, number> = {};
  for (const d of res.TargetHealthDescriptions ?? []) {
    const s = d.TargetHealth?.State ?? 'unknown';
    states[s] = (states[s] ?? 0) + 1;
  }
  return { healthy: states.healthy ?? 0, total: res.TargetHealthDescriptions?.length ?? 0, states };
}

/**
 * Deletes a target group; NotFound is success. `ResourceInUse` (a listener rule that was just deleted
 * still references it for a moment) is retried for up to `timeoutMs` on `clock`.
 */
export async function deleteTargetGroup(
  clients: AwsClients,
  arn: string,
  clock: Clock = systemClock,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = clock.now() + timeoutMs;
  for (let delay = 1_000; ; delay = Math.min(delay * 2, 10_000)) {
    try {
      await clients.elbv2.send(new DeleteTargetGroupCommand({ TargetGroupArn: arn }));
      return;
    } catch (error) {
      if (isAwsError(error, 'TargetGroupNotFound')) return;
      if (!isAwsError(error, 'ResourceInUse') || clock.now() + delay > deadline) throw error;
      await clock.sleep(delay);
    }
  }
}

/** The target groups under the cluster's ingress slot names, by name, whoever owns them: one read per discovery. */
function liveIngressTargetGroups(scope: ClusterScope): Promise<Map<string, TargetGroupState>> {
  return scope.shared('ingress target groups', async () =>
    new Map((await findIngressTargetGroups(scope.clients, scope.cluster)).map((tg) => [tg.name, tg])),
  );
}

/** The cluster's own ingress target groups (its cluster tag): what cluster delete deletes, and its rules' ALBs. */
export async function ownedIngressTargetGroups(scope: ClusterScope): Promise<TargetGroupState[]> {
  return [...(await liveIngressTargetGroups(scope)).values()].filter((tg) => tg.tags[TagKeys.cluster] === scope.cluster);
}

/**
 * Deletes a target group, journaled; forward only. Only once no group lists it: ELBv2 would delete it
 * while a group does, leaving the group unable to scale.
 */
export function deleteTargetGroupJournaled(ctx: RunContext, t: { arn: string; name: string }): Promise<unknown> {
  return journaledWrite(ctx, { action: 'delete', type: TARGET_GROUP_TYPE, name: t.name, id: t.arn }, () => deleteTargetGroup(ctx.clients, t.arn, ctx.clock));
}

/** The task of the cluster's target group on one ingress ALB, by its name (its rule and the groups name it). */
export const ingressTargetGroupRef = (targetGroupName: string) => taskRef<TargetGroupState>(`targetGroup/${targetGroupName}`);

/** The cluster's target group on each ingress ALB: k3s' ingress on port 80 of every instance. */
function ingressTargetGroupTasks(view: ClusterView): Task[] {
  const ingress = view.ingress;
  return (ingress?.albs ?? []).map((alb) =>
    targetGroupTask(
      {
        name: alb.targetGroupName,
        vpcId: view.vpcId,
        port: 80,
        protocol: 'HTTP',
        healthCheckPath: '/ping',
        deregistrationDelaySeconds: ingress!.deregistrationDelaySeconds,
        tags: clusterTags(view.name, 'ingress', { name: alb.targetGroupName }),
      },
      ingressTargetGroupRef(alb.targetGroupName).key,
    ),
  );
}

export const targetGroupProvider: Provider = {
  type: TARGET_GROUP_TYPE,
  dependsOn: [],
  clusterTasks: ingressTargetGroupTasks,
  iamActions: {
    read: ['elasticloadbalancing:DescribeTargetGroups', 'elasticloadbalancing:DescribeTargetGroupAttributes', 'elasticloadbalancing:DescribeTags', 'autoscaling:DescribeAutoScalingGroups'],
    write: ['elasticloadbalancing:CreateTargetGroup', 'elasticloadbalancing:ModifyTargetGroup', 'elasticloadbalancing:ModifyTargetGroupAttributes', 'elasticloadbalancing:AddTags', 'elasticloadbalancing:DeleteTargetGroup'],
    delete: ['elasticloadbalancing:DeleteTargetGroup'],
  },
  async discover(scope) {
    return (await ownedIngressTargetGroups(scope)).map((tg) => ({ name: tg.name, id: tg.arn }));
  },
  // Forward only, like every cluster delete: nothing re-creates a cluster being deleted. The groups that
  // listed it are gone (they depend on it), so its targets had their drain to deregister.
  deleteOwned: deleteEachOwned('delete the ingress target groups', TARGET_GROUP_TYPE, (ctx, arn) => deleteTargetGroup(ctx.clients, arn, ctx.clock)),
  undo: {
    async delete(clients, data) {
      let arn = data.arn as string | undefined;
      if (!arn && data.name) arn = (await describeByName(clients, data.name as string))?.TargetGroupArn;
      if (arn) await deleteTargetGroup(clients, arn);
    },
    async restore(clients, data) {
      try {
        // One undo record restores one field: the health check path, or the deregistration delay.
        if (typeof data.deregistrationDelaySeconds === 'number') {
          await setDeregistrationDelay(clients, data.arn as string, data.deregistrationDelaySeconds);
          return;
        }
        await clients.elbv2.send(
          new ModifyTargetGroupCommand({
            TargetGroupArn: data.arn as string,
            HealthCheckPath: data.healthCheckPath as string,
          }),
        );
      } catch (error) {
        if (!isAwsError(error, 'TargetGroupNotFound')) throw error;
      }
    },
  },
};

/** A k3sctl target group (instance targets). vpc, port and protocol are immutable: a mismatch is refused (a change that needs a replacement). */
export function targetGroupTask(
  spec: TargetGroupSpec,
  key = `targetGroup/${spec.name}`,
): Task<TargetGroupState> {
  validateElbName('target group', spec.name);
  const protocol = spec.protocol ?? 'HTTP';
  const healthCheckPath = spec.healthCheckPath ?? '/';
  return {
    key,
    type: TARGET_GROUP_TYPE,
    name: spec.name,
    async find(ctx) {
      const tg = await findTargetGroupByName(ctx.clients, spec.name);
      if (!tg) return undefined;
      const owner = spec.tags.filter((t) => t.Key.startsWith('k3sctl.io/') && t.Key !== TagKeys.managedBy);
      if (!hasTags(tg.tags, owner)) {
        throw new UserError(
          `target group '${spec.name}' exists but is not owned by this k3sctl resource (expected tags ${owner.map((t) => `${t.Key}=${t.Value}`).join(', ')})`,
          'delete or rename the existing target group',
        );
      }
      if (spec.deregistrationDelaySeconds === undefined) return tg;
      return { ...tg, deregistrationDelaySeconds: await targetGroupDeregistrationDelay(ctx.clients, tg.arn) };
    },
    settings() {
      return spec.deregistrationDelaySeconds === undefined ? [] : [`deregistrationDelay: ${spec.deregistrationDelaySeconds}s`];
    },
    replaceAdvice: { hint: 'delete the endpoint or cluster that owns it and create it again' },
    // Health check, deregistration delay and tags change in place (ModifyTargetGroup(Attributes), AddTags).
    // VPC, port and protocol cannot: the target group would have to be replaced, which k3sctl does not do
    // (its targets and the rules forwarding to it would go with it), so the engine refuses the plan.
    diff(actual) {
      const changes: FieldChange[] = [];
      if (actual.vpcId !== spec.vpcId) changes.push({ field: 'vpc', from: actual.vpcId, to: spec.vpcId, replace: true });
      if (actual.port !== spec.port) changes.push({ field: 'port', from: `${actual.port}`, to: `${spec.port}`, replace: true });
      if (actual.protocol !== protocol) changes.push({ field: 'protocol', from: actual.protocol, to: protocol, replace: true });
      if (actual.healthCheckPath !== healthCheckPath)
        changes.push({ field: 'healthCheckPath', from: `${actual.healthCheckPath}`, to: healthCheckPath });
      if (spec.deregistrationDelaySeconds !== undefined && actual.deregistrationDelaySeconds !== spec.deregistrationDelaySeconds)
        changes.push({ field: 'deregistrationDelay', from: `${actual.deregistrationDelaySeconds ?? ELB_DEFAULT_DEREGISTRATION_DELAY}s`, to: `${spec.deregistrationDelaySeconds}s` });
      return changes.concat(tagChanges(spec.tags, actual.tags));
    },
    async create(ctx) {
      const res = await journaledWrite(
        ctx,
        {
          action: 'create',
          type: TARGET_GROUP_TYPE,
          name: spec.name,
          undo: { type: TARGET_GROUP_TYPE, action: 'delete', data: { name: spec.name } },
        },
        () =>
          ctx.clients.elbv2.send(
            new CreateTargetGroupCommand({
              Name: spec.name,
              Protocol: protocol,
              Port: spec.port,
              VpcId: spec.vpcId,
              TargetType: 'instance',
              HealthCheckProtocol: protocol,
              HealthCheckPath: healthCheckPath,
              HealthCheckIntervalSeconds: 15,
              HealthyThresholdCount: 2,
              UnhealthyThresholdCount: 2,
              Matcher: { HttpCode: '200-399' },
              Tags: spec.tags,
            }),
          ),
        (out) => {
          const arn = out.TargetGroups?.[0]?.TargetGroupArn;
          return {
            id: arn,
            undo: { type: TARGET_GROUP_TYPE, action: 'delete', data: { arn, name: spec.name } },
          };
        },
      );
      const tg = res.TargetGroups?.[0];
      if (!tg) throw new Error(`CreateTargetGroup returned no target group for ${spec.name}`);
      const state = toState(tg, Object.fromEntries(spec.tags.map((t) => [t.Key, t.Value])));
      // CreateTargetGroup takes no attributes: the delay is set right after (undone with the group).
      const delay = spec.deregistrationDelaySeconds;
      if (delay === undefined) return state;
      await journaledWrite(ctx, { action: 'update', type: TARGET_GROUP_TYPE, name: spec.name, id: state.arn }, () =>
        setDeregistrationDelay(ctx.clients, state.arn, delay),
      );
      return { ...state, deregistrationDelaySeconds: delay };
    },
    async update(actual, changes, ctx) {
      // Each field changed is one journaled write whose undo restores that field only.
      const restorable = <T>(previous: Record<string, unknown>, send: () => Promise<T>) =>
        journaledWrite(
          ctx,
          {
            action: 'update',
            type: TARGET_GROUP_TYPE,
            name: spec.name,
            id: actual.arn,
            undo: { type: TARGET_GROUP_TYPE, action: 'restore', data: { arn: actual.arn, ...previous } },
          },
          send,
        );
      let state = actual;
      if (changes.some((c) => c.field === 'healthCheckPath')) {
        await restorable({ healthCheckPath: actual.healthCheckPath }, () =>
          ctx.clients.elbv2.send(new ModifyTargetGroupCommand({ TargetGroupArn: actual.arn, HealthCheckPath: healthCheckPath })),
        );
        state = { ...state, healthCheckPath };
      }
      const delay = spec.deregistrationDelaySeconds;
      if (delay !== undefined && changes.some((c) => c.field === 'deregistrationDelay')) {
        await restorable(
          { deregistrationDelaySeconds: actual.deregistrationDelaySeconds ?? ELB_DEFAULT_DEREGISTRATION_DELAY },
          () => setDeregistrationDelay(ctx.clients, actual.arn, delay),
        );
        state = { ...state, deregistrationDelaySeconds: delay };
      }
      await addElbTags(ctx, TARGET_GROUP_TYPE, spec.name, actual.arn, spec.tags, actual.tags);
      return state;
    },
    id: (a) => a.arn,
  };
}

// --- attachments of a target group to Auto Scaling groups (nodeport endpoints) ---

export const TARGET_GROUP_ATTACHMENT_TYPE = 'AWS::AutoScaling::AutoScalingGroup::TargetGroupAttachment';

export interface ClusterGroupAttachment {
  groupName: string;
  cluster: string;
  targetGroupArns: string[];
}

function toAttachment(g: AutoScalingGroup, cluster: string): ClusterGroupAttachment {
  return { groupName: g.AutoScalingGroupName ?? '', cluster, targetGroupArns: g.TargetGroupARNs ?? [] };
}

/** The Auto Scaling groups of a cluster (tag k3sctl.io/cluster), with the target groups each lists. */
export async function listClusterGroupAttachments(clients: AwsClients, cluster: string): Promise<ClusterGroupAttachment[]> {
  return (await describeClusterAutoScalingGroups(clients, cluster)).map((g) => toAttachment(g, cluster));
}

/**
 * Detaches target groups from an Auto Scaling group (DetachLoadBalancerTargetGroups: the API k3sctl
 * attaches with; the two attachment APIs do not mix). Already gone is done: a group or attachment that
 * no longer exists, or an ARN whose target group was deleted first (ELBv2 allows that while groups list
 * it). moto answers TargetGroupNotFound for such an ARN although it detached it, so the group is read
 * again to know whether the ARN is still listed.
 */
async function detachTargetGroups(clients: AwsClients, groupName: string, targetGroupArns: string[]): Promise<void> {
  if (targetGroupArns.length === 0) return;
  try {
    await clients.autoscaling.send(new DetachLoadBalancerTargetGroupsCommand({ AutoScalingGroupName: groupName, TargetGroupARNs: targetGroupArns }));
  } catch (error) {
    const gone =
      isAwsError(error, 'ValidationError', 'ResourceContention') && /not found|does not exist|not attached/i.test(String((error as Error).message));
    if (gone) return;
    if (!isAwsError(error, 'TargetGroupNotFound')) throw error;
    const res = await clients.autoscaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [groupName] }));
    if ((res.AutoScalingGroups?.[0]?.TargetGroupARNs ?? []).some((arn) => targetGroupArns.includes(arn))) throw error;
  }
}

/** The ARNs of an attachment undo record: one (`targetGroupArn`) or several (`targetGroupArns`). */
function undoArns(data: Record<string, unknown>): string[] {
  return (data.targetGroupArns as string[] | undefined) ?? [data.targetGroupArn as string];
}

/** A group of the cluster that lists ingress target groups: cluster delete detaches them. */
interface OwnedAttachment extends Owned {
  targetGroupArns: string[];
}

export const targetGroupAttachmentProvider: Provider = {
  type: TARGET_GROUP_ATTACHMENT_TYPE,
  dependsOn: ['AWS::AutoScaling::AutoScalingGroup', 'AWS::ElasticLoadBalancingV2::TargetGroup'],
  iamActions: {
    read: ['autoscaling:DescribeAutoScalingGroups', 'elasticloadbalancing:DescribeTargetGroups', 'elasticloadbalancing:DescribeTags'],
    write: ['autoscaling:AttachLoadBalancerTargetGroups', 'autoscaling:DetachLoadBalancerTargetGroups'],
    delete: ['autoscaling:DetachLoadBalancerTargetGroups'],
  },
  async discover(scope): Promise<OwnedAttachment[]> {
    const [groups, live] = await Promise.all([discoveredClusterGroups(scope), liveIngressTargetGroups(scope)]);
    const out: OwnedAttachment[] = [];
    // By ARN, not by the target group: an earlier run may have deleted it while groups still list it, and
    // a group listing a target group that no longer exists cannot scale (TargetGroupNotFound).
    for (const g of groups.map((group) => toAttachment(group, scope.cluster))) {
      const arns = [...g.targetGroupArns].sort().filter((arn) => {
        const name = targetGroupNameOfArn(arn);
        if (names.ingressSlot(scope.cluster, name) === undefined) return false;
        const tg = live.get(name!);
        return arn !== tg?.arn || tg.tags[TagKeys.cluster] === scope.cluster;
      });
      if (arns.length) out.push({ name: g.groupName, id: g.groupName, update: [`detach ${arns.map(targetGroupNameOfArn).join(', ')}`], targetGroupArns: arns });
    }
    return out;
  },
  // Ingress traffic stops before any instance drains: the listener rules are gone first (they depend on
  // the attachments), then the target group leaves the groups, before they drain (the attachments depend
  // on them): its targets deregister at once instead of one scale-in at a time.
  deleteOwned: (run, owned: OwnedAttachment[]) =>
    run.step('stop ingress traffic: detach the target group from the groups', async (ctx) => {
      for (const a of owned) {
        await journaledWrite(ctx, { action: 'update', type: TARGET_GROUP_ATTACHMENT_TYPE, name: a.name, id: a.id, details: a.update }, () =>
          detachTargetGroups(ctx.clients, a.id, a.targetGroupArns),
        );
      }
    }),
  undo: {
    async delete(clients, data) {
      await detachTargetGroups(clients, data.groupName as string, undoArns(data));
    },
    async restore(clients, data) {
      try {
        await clients.autoscaling.send(
          new AttachLoadBalancerTargetGroupsCommand({
            AutoScalingGroupName: data.groupName as string,
            TargetGroupARNs: undoArns(data),
          }),
        );
      } catch (error) {
        // The group is gone (rolled back or deleted since): nothing to attach to.
        if (isAwsError(error, 'ValidationError') && /not found|does not exist/i.test(String((error as Error).message))) return;
        throw error;
      }
    },
  },
};

/** Attaches `targetGroupArn` to `groupName` unless attached already (journaled, undo: detach). */
export async function attachTargetGroup(
  ctx: RunContext,
  group: ClusterGroupAttachment,
  targetGroupArn: string,
): Promise<boolean> {
  if (group.targetGroupArns.includes(targetGroupArn)) return false;
  await journaledWrite(
    ctx,
    {
      action: 'update',
      type: TARGET_GROUP_ATTACHMENT_TYPE,
      name: group.groupName,
      id: group.groupName,
      undo: {
        type: TARGET_GROUP_ATTACHMENT_TYPE,
        action: 'delete',
        data: { groupName: group.groupName, targetGroupArn },
      },
    },
    () =>
      ctx.clients.autoscaling.send(
        new AttachLoadBalancerTargetGroupsCommand({
          AutoScalingGroupName: group.groupName,
          TargetGroupARNs: [targetGroupArn],
        }),
      ),
  );
  return true;
}

/** Detaches `targetGroupArn` from `groupName` when attached (journaled, undo: attach again). */
export async function detachTargetGroup(
  ctx: RunContext,
  group: ClusterGroupAttachment,
  targetGroupArn: string,
): Promise<boolean> {
  if (!group.targetGroupArns.includes(targetGroupArn)) return false;
  await journaledWrite(
    ctx,
    {
      action: 'update',
      type: TARGET_GROUP_ATTACHMENT_TYPE,
      name: group.groupName,
      id: group.groupName,
      undo: {
        type: TARGET_GROUP_ATTACHMENT_TYPE,
        action: 'restore',
        data: { groupName: group.groupName, targetGroupArn },
      },
    },
    () => detachTargetGroups(ctx.clients, group.groupName, [targetGroupArn]),
  );
  return true;
}
