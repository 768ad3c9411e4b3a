// The instances of a cluster's Auto Scaling groups, as recycle sees them: each group found by its
// cluster tag, its launch template version with `$Latest`/`$Default` resolved to a number, every
// instance's lifecycle state and version, target health; and termination through the group
// (TerminateInstanceInAutoScalingGroup, so the termination lifecycle hook drains the node first;
// never a raw EC2 TerminateInstances).
import {
  DescribeScalingActivitiesCommand,
  TerminateInstanceInAutoScalingGroupCommand,
  type AutoScalingGroup,
  type LaunchTemplateSpecification,
} from '@aws-sdk/client-auto-scaling';
import { DescribeLaunchTemplateVersionsCommand } from '@aws-sdk/client-ec2';
import { DescribeTargetHealthCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { AwsClients } from '../aws/clients';
import { TagKeys, tagValue } from '../aws/tags';
import { awsErrorCode } from '../core/errors';
import { journaledWrite } from '../provider/journaledWrite';
import type { RunContext } from '../provider/types';
import { describeAutoScalingGroups, describeClusterAutoScalingGroups } from './clusterGroups';
import { parseReplacementRecord, REPLACEMENT_TAG, type ReplacementRecord } from './replacementRecord';
import { INSTANCE_TYPE } from './instance';

export type GroupRole = 'control-plane' | 'node';

export interface InventoryInstance {
  instanceId: string;
  lifecycleState: string;
  healthStatus: string;
  availabilityZone: string;
  /** Launch template id and resolved version number the instance was launched from. */
  launchTemplateId?: string;
  version?: string;
}

/** One Auto Scaling group as the planner needs it (read here, planned by orchestration/workflows/recyclePlan.ts). */
export interface GroupInventory {
  autoScalingGroupName: string;
  group: string;
  role: GroupRole;
  desired: number;
  min: number;
  max: number;
  launchTemplateId?: string;
  /** The version the group asks for: `$Latest`, `$Default` or a number. */
  launchTemplateVersionSpec?: string;
  /** The group's launch template version, `$Latest`/`$Default` resolved to a number. */
  currentVersion?: string;
  targetGroupArns: string[];
  suspendedProcesses: string[];
  instances: InventoryInstance[];
  /** An unfinished replacement (the `k3sctl.io/replacement` tag): the capacity before it began. */
  replacement?: ReplacementRecord;
}

/** Past its termination lifecycle hook (drained): the hook completed, or the instance is terminated. */
export function isDrained(lifecycleState: string | undefined): boolean {
  return lifecycleState === 'Terminating:Proceed' || lifecycleState === 'Terminated';
}

/** Leaving the group: terminating (draining or drained) or detaching. */
export function isLeaving(lifecycleState: string | undefined): boolean {
  return /^(Terminat|Detach)/.test(lifecycleState ?? '');
}

/** Still a member (launching, serving or on standby), not leaving. */
export function isActive(instance: { lifecycleState: string }): boolean {
  return !isLeaving(instance.lifecycleState);
}

function templateOf(group: AutoScalingGroup): LaunchTemplateSpecification | undefined {
  return group.LaunchTemplate ?? group.MixedInstancesPolicy?.LaunchTemplate?.LaunchTemplateSpecification;
}

/** Resolves `$Latest`, `$Default` or a number to the version number, as a string. */
export async function resolveLaunchTemplateVersion(
  clients: AwsClients,
  template: { id?: string; name?: string },
  version: string | undefined,
): Promise<string | undefined> {
  const v = version ?? '$Default';
  if (/^\d+$/.test(v)) return v;
  const res = await clients.ec2.send(
    new DescribeLaunchTemplateVersionsCommand({
      ...(template.id ? { LaunchTemplateId: template.id } : { LaunchTemplateName: template.name }),
      Versions: [v],
    }),
  );
  const found = res.LaunchTemplateVersions?.[0]?.VersionNumber;
  return found === undefined ? undefined : String(found);
}

function toInventory(group: AutoScalingGroup, currentVersion: string | undefined): GroupInventory {
  const template = templateOf(group);
  const role: GroupRole = tagValue(group.Tags, TagKeys.role) === 'control-plane' ? 'control-plane' : 'node';
  const name = group.AutoScalingGroupName ?? '';
  const replacement = parseReplacementRecord(tagValue(group.Tags, REPLACEMENT_TAG), name);
  return {
    autoScalingGroupName: name,
    group: tagValue(group.Tags, TagKeys.group) ?? name,
    role,
    desired: group.DesiredCapacity ?? 0,
    min: group.MinSize ?? 0,
    max: group.MaxSize ?? 0,
    ...(template?.LaunchTemplateId ? { launchTemplateId: template.LaunchTemplateId } : {}),
    ...(template ? { launchTemplateVersionSpec: template.Version ?? '$Default' } : {}),
    ...(currentVersion !== undefined ? { currentVersion } : {}),
    targetGroupArns: group.TargetGroupARNs ?? [],
    suspendedProcesses: (group.SuspendedProcesses ?? []).map((p) => p.ProcessName ?? '').filter(Boolean),
    instances: (group.Instances ?? []).map((i): InventoryInstance => ({
      instanceId: i.InstanceId ?? '',
      lifecycleState: i.LifecycleState ?? '',
      healthStatus: i.HealthStatus ?? '',
      availabilityZone: i.AvailabilityZone ?? '',
      ...(i.LaunchTemplate?.LaunchTemplateId ? { launchTemplateId: i.LaunchTemplate.LaunchTemplateId } : {}),
      ...(i.LaunchTemplate?.Version !== undefined ? { version: i.LaunchTemplate.Version } : {}),
    })),
    ...(replacement ? { replacement } : {}),
  };
}

/**
 * The cluster's groups (found by the `k3sctl.io/cluster` tag), optionally only those whose
 * `k3sctl.io/group` tag (or ASG name) is in `only`, with versions resolved.
 */
export async function describeClusterGroups(
  clients: AwsClients,
  cluster: string,
  only?: string[],
): Promise<GroupInventory[]> {
  const groups = await describeClusterAutoScalingGroups(clients, cluster);
  const selected = only?.length
    ? groups.filter(
        (g) =>
          only.includes(tagValue(g.Tags, TagKeys.group) ?? '') || only.includes(g.AutoScalingGroupName ?? ''),
      )
    : groups;
  const resolved = new Map<string, Promise<string | undefined>>();
  return Promise.all(
    selected.map(async (g) => {
      const t = templateOf(g);
      let version: string | undefined;
      if (t) {
        const key = `${t.LaunchTemplateId ?? t.LaunchTemplateName}/${t.Version ?? '$Default'}`;
        if (!resolved.has(key))
          resolved.set(
            key,
            resolveLaunchTemplateVersion(
              clients,
              { id: t.LaunchTemplateId, name: t.LaunchTemplateName },
              t.Version,
            ),
          );
        version = await resolved.get(key);
      }
      return toInventory(g, version);
    }),
  );
}

/** One group, re-read (with its already resolved version: the version does not change during a recycle). */
export async function describeGroup(
  clients: AwsClients,
  name: string,
  currentVersion?: string,
): Promise<GroupInventory | undefined> {
  const [g] = await describeAutoScalingGroups(clients, { AutoScalingGroupNames: [name] });
  return g ? toInventory(g, currentVersion) : undefined;
}

export type TargetState = { targetGroupArn: string; instanceId: string; state: string; reason?: string };

/** Health of `instanceIds` in each target group (instances not registered are reported as `unregistered`). */
export async function describeTargetStates(
  clients: AwsClients,
  targetGroupArns: string[],
  instanceIds: string[],
): Promise<TargetState[]> {
  const out: TargetState[] = [];
  for (const arn of targetGroupArns) {
    const res = await clients.elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: arn }));
    const byId = new Map(
      (res.TargetHealthDescriptions ?? []).map((d) => [d.Target?.Id ?? '', d.TargetHealth]),
    );
    for (const id of instanceIds) {
      const h = byId.get(id);
      out.push({
        targetGroupArn: arn,
        instanceId: id,
        state: h?.State ?? 'unregistered',
        ...(h?.Reason ? { reason: h.Reason } : {}),
      });
    }
  }
  return out;
}

/**
 * Terminates an instance through its group: the termination lifecycle hook runs (drain, leave).
 * With `decrement` the group's desired capacity drops by one (no replacement); otherwise the group
 * launches a replacement. Journaled without undo: a termination cannot be taken back.
 */
export async function terminateInstanceInGroup(
  ctx: RunContext,
  groupName: string,
  instanceId: string,
  decrement: boolean,
): Promise<void> {
  await journaledWrite(
    ctx,
    { action: 'delete', type: INSTANCE_TYPE, name: `${groupName}/${instanceId}`, id: instanceId },
    async () => {
      try {
        await ctx.clients.autoscaling.send(
          new TerminateInstanceInAutoScalingGroupCommand({
            InstanceId: instanceId,
            ShouldDecrementDesiredCapacity: decrement,
          }),
        );
      } catch (error) {
        // Already gone or already terminating (a re-run after a crash): the goal is reached.
        const message = error instanceof Error ? error.message : '';
        if (awsErrorCode(error) === 'ValidationError' && /not found|terminat/i.test(message)) return;
        throw error;
      }
    },
  );
}

/**
 * Terminations among `instanceIds` whose lifecycle action was abandoned (the instance-side drain
 * failed), with the message: read from the group's scaling activities, where Auto Scaling records
 * the result of the termination hook. One call for a whole batch.
 */
export async function terminationsAbandoned(
  clients: AwsClients,
  groupName: string,
  instanceIds: string[],
): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const res = await clients.autoscaling.send(
    new DescribeScalingActivitiesCommand({ AutoScalingGroupName: groupName, MaxRecords: 100 }),
  );
  for (const a of res.Activities ?? []) {
    const text = `${a.Description ?? ''} ${a.Cause ?? ''} ${a.StatusMessage ?? ''} ${a.Details ?? ''}`;
    if (!/ABANDON/i.test(text)) continue;
    for (const id of instanceIds) {
      if (text.includes(id) && !out.has(id))
        out.set(id, (a.StatusMessage || a.Description || 'lifecycle action ABANDON').trim());
    }
  }
  return out;
}
