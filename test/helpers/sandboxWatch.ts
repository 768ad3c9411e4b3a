// Watching a sandbox account without making API calls: a group's state read straight from the
// sandbox (no call counted), and a sampler run at every instant of the virtual clock, for tests that
// check a promise (quorum, capacity) at every moment of a workflow rather than only at its end.
import type { Sandbox } from '../../src/sandbox/sandbox';
import { autoScalingOperations } from '../../src/sandbox/services/autoscaling';

export const describeGroupsHandler = autoScalingOperations.DescribeAutoScalingGroups;

/** Group state read synchronously from the sandbox (no API call counted). */
export function groupNow(
  sb: Sandbox,
  name: string,
): {
  instances: { InstanceId: string; LifecycleState: string; LaunchTemplate?: { Version?: string } }[];
  DesiredCapacity: number;
} {
  const out = describeGroupsHandler(sb.context('us-east-1'), { AutoScalingGroupNames: [name] }) as {
    AutoScalingGroups: { Instances?: never[]; DesiredCapacity: number }[];
  };
  const g = out.AutoScalingGroups[0];
  return { instances: g.Instances ?? [], DesiredCapacity: g.DesiredCapacity };
}

/** Runs `run` while `sample` is called at every instant of the virtual clock; the sampler stops when `run` settles. */
export async function sampling<T>(
  sb: Sandbox,
  sample: (now: number) => void,
  run: () => Promise<T>,
): Promise<T> {
  const stop = onEveryInstant(sb, sample);
  try {
    return await run();
  } finally {
    stop();
  }
}

/** Calls `sample` on every advance of the virtual clock (after the sandbox's own callback). Returns a stop function. */
function onEveryInstant(sb: Sandbox, sample: (now: number) => void): () => void {
  const previous = sb.clock.onAdvance;
  sb.clock.onAdvance = (now) => {
    previous?.(now);
    sb.tick();
    sample(now);
  };
  return () => {
    sb.clock.onAdvance = previous;
  };
}
