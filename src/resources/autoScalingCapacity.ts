// Temporary changes to an Auto Scaling group during a recycle: desired/min/max capacity and
// suspended processes. Each change is journaled with a `restore` undo carrying the values the group
// had before this run touched it, so rollback (in any order, any number of times) returns the group
// to exactly that, and resumes only the processes this run suspended.
import {
  DescribeAutoScalingGroupsCommand,
  ResumeProcessesCommand,
  SuspendProcessesCommand,
  UpdateAutoScalingGroupCommand,
} from '@aws-sdk/client-auto-scaling';
import type { AwsClients } from '../aws/clients';
import { awsErrorCode } from '../core/errors';
import { journaledWrite } from '../orchestration/engine/journal';
import type { RunContext } from '../orchestration/engine/types';
import { AUTO_SCALING_GROUP_TYPE } from './autoScalingGroup';
import { registerUndo } from './undo';

/** Undo types of this module (distinct from the group's own create/delete undo). */
export const CAPACITY_UNDO_TYPE = 'AWS::AutoScaling::AutoScalingGroup::Capacity';
export const PROCESSES_UNDO_TYPE = 'AWS::AutoScaling::AutoScalingGroup::SuspendedProcesses';

/**
 * Processes that would fight a recycle: AZRebalance terminates instances to rebalance zones while
 * we surge; ScheduledActions and AlarmNotification (scaling policies) change desired capacity.
 */
export const RECYCLE_SUSPENDED_PROCESSES = ['AZRebalance', 'ScheduledActions', 'AlarmNotification'];

export interface Capacity {
  desired: number;
  min: number;
  max: number;
}

function isGroupGone(error: unknown): boolean {
  const message = error instanceof Error ? error.message : '';
  return awsErrorCode(error) === 'ValidationError' && /not found|does not exist/i.test(message);
}

async function readCapacity(clients: AwsClients, groupName: string): Promise<Capacity | undefined> {
  const res = await clients.autoscaling.send(
    new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [groupName] }),
  );
  const g = res.AutoScalingGroups?.[0];
  if (!g) return undefined;
  return { desired: g.DesiredCapacity ?? 0, min: g.MinSize ?? 0, max: g.MaxSize ?? 0 };
}

function describeChange(from: Capacity, to: Partial<Capacity>): string[] {
  const details: string[] = [];
  for (const k of ['desired', 'min', 'max'] as const) {
    if (to[k] !== undefined && to[k] !== from[k]) details.push(`${k}: ${from[k]} -> ${to[k]}`);
  }
  return details;
}

/**
 * Sets some of desired/min/max. `current` is the group's capacity now, `baseline` what it had before
 * this run changed it (the undo restores `baseline`). No call when nothing differs.
 */
export async function setCapacity(
  ctx: RunContext,
  groupName: string,
  current: Capacity,
  target: Partial<Capacity>,
  baseline: Capacity,
): Promise<Capacity> {
  const next: Capacity = { ...current, ...target };
  const details = describeChange(current, target);
  if (details.length === 0) return current;
  const changed = (k: keyof Capacity) => target[k] !== undefined && target[k] !== current[k];
  await journaledWrite(
    ctx,
    {
      action: 'update',
      type: AUTO_SCALING_GROUP_TYPE,
      name: groupName,
      id: groupName,
      undo: { type: CAPACITY_UNDO_TYPE, action: 'restore', data: { groupName, ...baseline } },
    },
    () =>
      ctx.clients.autoscaling.send(
        new UpdateAutoScalingGroupCommand({
          AutoScalingGroupName: groupName,
          ...(changed('min') ? { MinSize: next.min } : {}),
          ...(changed('max') ? { MaxSize: next.max } : {}),
          ...(changed('desired') ? { DesiredCapacity: next.desired } : {}),
        }),
      ),
  );
  ctx.events.emit({ kind: 'log', level: 'debug', message: `${groupName}: ${details.join(', ')}` });
  return next;
}

/**
 * Suspends those of `processes` that are not suspended yet (`alreadySuspended`); the undo resumes
 * exactly those. Returns the processes this call suspended.
 */
export async function suspendProcesses(
  ctx: RunContext,
  groupName: string,
  processes: string[],
  alreadySuspended: string[],
): Promise<string[]> {
  const toSuspend = processes.filter((p) => !alreadySuspended.includes(p));
  if (toSuspend.length === 0) return [];
  await journaledWrite(
    ctx,
    {
      action: 'update',
      type: AUTO_SCALING_GROUP_TYPE,
      name: groupName,
      id: groupName,
      undo: { type: PROCESSES_UNDO_TYPE, action: 'restore', data: { groupName, processes: toSuspend } },
    },
    () =>
      ctx.clients.autoscaling.send(
        new SuspendProcessesCommand({ AutoScalingGroupName: groupName, ScalingProcesses: toSuspend }),
      ),
  );
  return toSuspend;
}

/**
 * Resumes processes this run suspended, at the end of a group's recycle. Journaled without undo: the
 * earlier suspend's undo (resume) is idempotent, so a later rollback stays correct.
 */
export async function resumeProcesses(
  ctx: RunContext,
  groupName: string,
  processes: string[],
): Promise<void> {
  if (processes.length === 0) return;
  await journaledWrite(
    ctx,
    { action: 'update', type: AUTO_SCALING_GROUP_TYPE, name: groupName, id: groupName },
    () =>
      ctx.clients.autoscaling.send(
        new ResumeProcessesCommand({ AutoScalingGroupName: groupName, ScalingProcesses: processes }),
      ),
  );
}

registerUndo(CAPACITY_UNDO_TYPE, {
  async restore(clients, data) {
    const groupName = data.groupName as string;
    const baseline = { desired: Number(data.desired), min: Number(data.min), max: Number(data.max) };
    let current: Capacity | undefined;
    try {
      current = await readCapacity(clients, groupName);
    } catch (error) {
      if (isGroupGone(error)) return;
      throw error;
    }
    if (!current || describeChange(current, baseline).length === 0) return;
    try {
      await clients.autoscaling.send(
        new UpdateAutoScalingGroupCommand({
          AutoScalingGroupName: groupName,
          MinSize: baseline.min,
          MaxSize: baseline.max,
          DesiredCapacity: baseline.desired,
        }),
      );
    } catch (error) {
      if (!isGroupGone(error)) throw error;
    }
  },
});

registerUndo(PROCESSES_UNDO_TYPE, {
  async restore(clients, data) {
    try {
      await clients.autoscaling.send(
        new ResumeProcessesCommand({
          AutoScalingGroupName: data.groupName as string,
          ScalingProcesses: data.processes as string[],
        }),
      );
    } catch (error) {
      if (!isGroupGone(error)) throw error;
    }
  },
});
