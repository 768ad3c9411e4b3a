// A replacement of an Auto Scaling group's instances (recycle, upgrade) as AWS records it. Before its
// first change a run tags the group with `k3sctl.io/replacement`: the capacity the group had before
// any replacement began and the processes k3sctl suspended. The tag outlives the run, so a re-run (from
// any machine) resumes from the true baseline instead of a surged capacity, `cluster describe` shows
// the unfinished replacement, and rollback knows what to return to. The tag's write carries the one
// undo of the whole replacement: remove the instances the run added (chosen, never left to the group's
// termination policy), put back the instances of an undone launch template version one at a time
// (quorum), restore capacity, resume processes, remove the tag — and say what it could not.
import {
  CreateOrUpdateTagsCommand,
  DeleteTagsCommand,
  ResumeProcessesCommand,
  SuspendProcessesCommand,
  TerminateInstanceInAutoScalingGroupCommand,
  UpdateAutoScalingGroupCommand,
} from '@aws-sdk/client-auto-scaling';
import { DeleteLaunchTemplateVersionsCommand, ModifyLaunchTemplateCommand } from '@aws-sdk/client-ec2';
import type { AwsClients } from '../aws/clients';
import { awsErrorCode, errorText } from '../core/errors';
import { journaledWrite } from '../provider/journaledWrite';
import type { RunContext } from '../provider/types';
import { waitFor, type WaitContext } from '../core/wait';
import { AUTO_SCALING_GROUP_TYPE } from './autoScalingGroup';
import { describeGroup, isActive, isDrained, type GroupInventory, type InventoryInstance } from './autoScalingInstance';
import { INSTANCE_TYPE } from './instance';
import { formatReplacementRecord, REPLACEMENT_TAG, type ReplacementRecord } from './replacementRecord';
import { UndoIncompleteError, type Provider } from '../provider/provider';

export const REPLACEMENT_UNDO_TYPE = 'AWS::AutoScaling::AutoScalingGroup::Replacement';

/**
 * Processes that would fight a replacement: AZRebalance terminates instances to rebalance zones while
 * we surge; ScheduledActions and AlarmNotification (scaling policies) change desired capacity.
 */
export const RECYCLE_SUSPENDED_PROCESSES = ['AZRebalance', 'ScheduledActions', 'AlarmNotification'];

export interface Capacity {
  desired: number;
  min: number;
  max: number;
}

export function capacityOf(group: Capacity): Capacity {
  return { desired: group.desired, min: group.min, max: group.max };
}

/** What rollback needs to put a group back where the replacement found it (the undo data of the record). */
export interface ReplacementUndo {
  groupName: string;
  role: 'control-plane' | 'node';
  baseline: Capacity;
  /** Processes k3sctl suspended (this run or the run it resumed). */
  suspended: string[];
  /** Active instances when this run began: the others are the run's (its surge, its replacements). */
  original: string[];
  /** An upgrade's launch template change: rollback points the group back and replaces what runs `newVersion`. */
  revert?: LaunchTemplateRevert;
}

export interface LaunchTemplateRevert {
  templateId: string;
  /** The version instances must run after rollback. */
  version: number;
  /** The version the run created (undone). */
  newVersion: number;
  /** The group pins a version number (else it follows the template's default). */
  pinned: boolean;
}

function write<T>(
  ctx: RunContext,
  groupName: string,
  send: () => Promise<T>,
  undo?: ReplacementUndo,
): Promise<T> {
  return journaledWrite(
    ctx,
    {
      action: 'update',
      type: AUTO_SCALING_GROUP_TYPE,
      name: groupName,
      id: groupName,
      ...(undo
        ? { undo: { type: REPLACEMENT_UNDO_TYPE, action: 'restore' as const, data: { ...undo } } }
        : {}),
    },
    send,
  );
}

/** Tags the group with the record; journaled with the undo of the whole replacement. */
export async function recordReplacement(
  ctx: RunContext,
  groupName: string,
  record: ReplacementRecord,
  undo: ReplacementUndo,
): Promise<void> {
  await write(
    ctx,
    groupName,
    () =>
      ctx.clients.autoscaling.send(
        new CreateOrUpdateTagsCommand({
          Tags: [
            {
              ResourceId: groupName,
              ResourceType: 'auto-scaling-group',
              Key: REPLACEMENT_TAG,
              Value: formatReplacementRecord(record),
              PropagateAtLaunch: false,
            },
          ],
        }),
      ),
    undo,
  );
}

/** Removes the record: the replacement is finished (the last write of a group's replacement). */
export async function clearReplacement(ctx: RunContext, groupName: string): Promise<void> {
  await write(ctx, groupName, () => ctx.clients.autoscaling.send(deleteTag(groupName)));
}

function deleteTag(groupName: string): DeleteTagsCommand {
  return new DeleteTagsCommand({
    Tags: [{ ResourceId: groupName, ResourceType: 'auto-scaling-group', Key: REPLACEMENT_TAG }],
  });
}

function describeChange(from: Capacity, to: Partial<Capacity>): string[] {
  return (['desired', 'min', 'max'] as const)
    .filter((k) => to[k] !== undefined && to[k] !== from[k])
    .map((k) => `${k}: ${from[k]} -> ${to[k]}`);
}

function capacityCommand(
  groupName: string,
  from: Capacity,
  to: Partial<Capacity>,
): UpdateAutoScalingGroupCommand {
  const changed = (k: keyof Capacity) => to[k] !== undefined && to[k] !== from[k];
  return new UpdateAutoScalingGroupCommand({
    AutoScalingGroupName: groupName,
    ...(changed('min') ? { MinSize: to.min } : {}),
    ...(changed('max') ? { MaxSize: to.max } : {}),
    ...(changed('desired') ? { DesiredCapacity: to.desired } : {}),
  });
}

/**
 * Sets some of desired/min/max (no call when nothing differs). No undo of its own: the replacement
 * record's undo restores the baseline, choosing which instances go.
 */
export async function setCapacity(
  ctx: RunContext,
  groupName: string,
  current: Capacity,
  target: Partial<Capacity>,
): Promise<Capacity> {
  const details = describeChange(current, target);
  if (details.length === 0) return current;
  await write(ctx, groupName, () =>
    ctx.clients.autoscaling.send(capacityCommand(groupName, current, target)),
  );
  ctx.events.emit({ kind: 'log', level: 'debug', message: `${groupName}: ${details.join(', ')}` });
  return { ...current, ...target };
}

/** Suspends (or resumes) scaling processes of the group; no call for an empty list. */
export async function setProcessesSuspended(
  ctx: RunContext,
  groupName: string,
  processes: string[],
  suspended: boolean,
): Promise<void> {
  if (processes.length === 0) return;
  const input = { AutoScalingGroupName: groupName, ScalingProcesses: processes };
  await write(ctx, groupName, () =>
    ctx.clients.autoscaling.send(
      suspended ? new SuspendProcessesCommand(input) : new ResumeProcessesCommand(input),
    ),
  );
}

/**
 * The `count` instances to remove when a group must shrink, instead of leaving the choice to its
 * termination policy (which removed an old InService control plane while the surge one was still
 * Pending): first those not on `version`, then those not in `original` (a run's own), then those not
 * yet serving; within a rank, the zone with the most instances first (keeps zones balanced), then by id.
 */
export function chooseRemovals(
  instances: InventoryInstance[],
  count: number,
  prefer: { version?: string; original?: string[] } = {},
): string[] {
  const active = instances.filter(isActive);
  const perZone = new Map<string, number>();
  for (const i of active) perZone.set(i.availabilityZone, (perZone.get(i.availabilityZone) ?? 0) + 1);
  const key = (i: InventoryInstance): number[] => [
    prefer.version !== undefined && i.version !== prefer.version ? 0 : 1,
    prefer.original !== undefined && !prefer.original.includes(i.instanceId) ? 0 : 1,
    i.lifecycleState === 'InService' && i.healthStatus === 'Healthy' ? 1 : 0,
    -(perZone.get(i.availabilityZone) ?? 0),
  ];
  return active
    .map((i) => ({ i, k: key(i) }))
    .sort((a, b) => {
      for (let n = 0; n < a.k.length; n++) if (a.k[n] !== b.k[n]) return a.k[n] - b.k[n];
      return a.i.instanceId.localeCompare(b.i.instanceId);
    })
    .slice(0, Math.max(0, count))
    .map((x) => x.i.instanceId);
}

const UNDO_WAIT = { timeoutMs: 15 * 60_000, intervalMs: 5_000, maxIntervalMs: 15_000 };

/**
 * Rollback of a replacement, with plain calls (a later process may run it from the journal). Idempotent:
 * run again, it finds the group at its baseline and does nothing.
 */
async function undoReplacement(clients: AwsClients, data: ReplacementUndo, env: WaitContext): Promise<void> {
  const name = data.groupName;
  const read = () => describeGroup(clients, name);
  // DescribeAutoScalingGroups lists no group for a name that does not exist (no error): nothing to undo.
  let group = await read();
  if (!group) return;
  const wanted = data.revert ? String(data.revert.version) : undefined;
  if (data.revert) await revertLaunchTemplate(clients, name, group, data.revert);

  const terminate = async (id: string): Promise<string | undefined> => {
    try {
      await clients.autoscaling.send(
        new TerminateInstanceInAutoScalingGroupCommand({
          InstanceId: id,
          ShouldDecrementDesiredCapacity: true,
        }),
      );
      return undefined;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (awsErrorCode(error) === 'ValidationError' && /not found|already terminat/i.test(message))
        return undefined;
      return errorText(error);
    }
  };
  /** Waits until `id` has drained and left (a control plane leaves etcd before the next one goes). */
  const drained = (id: string) =>
    waitFor(env, { what: `${id} of ${name} to drain and leave (rollback)`, ...UNDO_WAIT }, async () => {
      const g = await read();
      const i = g?.instances.find((x) => x.instanceId === id);
      return {
        done: !i || isDrained(i.lifecycleState),
        value: undefined,
        seen: i?.lifecycleState ?? 'gone',
      };
    });

  const failed = new Map<string, string>();
  // 1. Remove what the run added above the baseline: chosen, one at a time for control planes.
  const excess = group.desired - data.baseline.desired;
  for (const id of chooseRemovals(group.instances, excess, { version: wanted, original: data.original })) {
    const error = await terminate(id);
    if (error) failed.set(id, error);
    else if (data.role === 'control-plane') await drained(id);
  }

  // 2. An undone launch template version: replace its instances surge-first, one at a time (quorum).
  if (wanted !== undefined && failed.size === 0) {
    group = (await read()) ?? group;
    const wrong = group.instances.filter((i) => isActive(i) && i.version !== wanted).map((i) => i.instanceId);
    for (const id of wrong) {
      const now = (await read()) ?? group;
      const known = new Set(now.instances.map((i) => i.instanceId));
      const target = { desired: now.desired + 1, max: Math.max(now.max, now.desired + 1) };
      await clients.autoscaling.send(capacityCommand(name, capacityOf(now), target));
      await waitFor(
        env,
        {
          what: `a replacement for ${id} of ${name} on launch template version ${wanted} (rollback)`,
          ...UNDO_WAIT,
        },
        async () => {
          const g = await read();
          const fresh = (g?.instances ?? []).filter(
            (i) =>
              !known.has(i.instanceId) && i.lifecycleState === 'InService' && i.healthStatus === 'Healthy',
          );
          return { done: fresh.length > 0, value: undefined, seen: `${fresh.length} new InService` };
        },
      );
      const error = await terminate(id);
      if (error) {
        failed.set(id, error);
        break;
      }
      await drained(id);
    }
  }

  if (failed.size > 0) {
    // The baseline cannot be reached without letting the group choose what goes: stop and say so.
    throw new UndoIncompleteError(
      `${name} could not be put back to desired ${data.baseline.desired}: ${[...failed].map(([id, e]) => `${id}: ${e}`).join('; ')}`,
      [...failed.keys()].map((id) => ({ type: INSTANCE_TYPE, name: `${name}/${id}`, id })),
    );
  }

  // 3. Capacity, processes, then the record: the group is as the replacement found it.
  const now = (await read()) ?? group;
  if (describeChange(capacityOf(now), data.baseline).length > 0)
    await clients.autoscaling.send(capacityCommand(name, capacityOf(now), data.baseline));
  if (data.suspended.length > 0)
    await clients.autoscaling.send(
      new ResumeProcessesCommand({ AutoScalingGroupName: name, ScalingProcesses: data.suspended }),
    );
  await clients.autoscaling.send(deleteTag(name));
}

/** Points the group (pinned) or the template's default back at `revert.version`; drops the undone version when the group follows `$Latest`. */
async function revertLaunchTemplate(
  clients: AwsClients,
  groupName: string,
  group: GroupInventory,
  revert: LaunchTemplateRevert,
): Promise<void> {
  if (revert.pinned) {
    if (group.launchTemplateVersionSpec !== String(revert.version))
      await clients.autoscaling.send(
        new UpdateAutoScalingGroupCommand({
          AutoScalingGroupName: groupName,
          LaunchTemplate: { LaunchTemplateId: revert.templateId, Version: String(revert.version) },
        }),
      );
    return;
  }
  await clients.ec2.send(
    new ModifyLaunchTemplateCommand({
      LaunchTemplateId: revert.templateId,
      DefaultVersion: String(revert.version),
    }),
  );
  if (group.launchTemplateVersionSpec === '$Latest')
    await clients.ec2.send(
      new DeleteLaunchTemplateVersionsCommand({
        LaunchTemplateId: revert.templateId,
        Versions: [String(revert.newVersion)],
      }),
    );
}

export const groupReplacementProvider: Provider = {
  type: REPLACEMENT_UNDO_TYPE,
  dependsOn: ['AWS::AutoScaling::AutoScalingGroup'],
  undo: {
    restore: (clients, data, env) => undoReplacement(clients, data as unknown as ReplacementUndo, env),
  },
};
