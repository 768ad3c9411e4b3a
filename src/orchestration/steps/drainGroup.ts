// Removing one Auto Scaling group the graceful way: scale to 0 so every instance leaves through the
// termination lifecycle hook (cordon, drain, leave), then delete the group. Cluster delete and nodegroup
// delete share it.
import { AUTO_SCALING_GROUP_TYPE, deleteAutoScalingGroup, findAutoScalingGroup, setAutoScalingGroupCapacity } from '../../resources/autoScalingGroup';
import { journaledWrite, waitFor, type RunContext } from '../engine';

/**
 * How often a drain is polled: a termination lifecycle hook (drain and leave) and an instance's shutdown
 * each take tens of seconds, so a steady 5 s poll (no backoff) sees either end within 5 s, for one
 * DescribeAutoScalingGroups per group each time, far below its rate limit.
 */
const DRAIN_POLL_MS = 5_000;
export const STEADY_DRAIN_POLL = { intervalMs: DRAIN_POLL_MS, maxIntervalMs: DRAIN_POLL_MS };

/** Past its termination hook (drained and gone from the cluster, or abandoned): it is terminating. */
const PAST_TERMINATION_HOOK = /^(Terminating:Proceed|Terminated)$/;

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
      return { done: left.every((i) => PAST_TERMINATION_HOOK.test(i.lifecycleState)), seen: seen(left) };
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
