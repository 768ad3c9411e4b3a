import { UserError } from '../../../src/core/errors';
import {
  parseBatchSize,
  planGroup,
  planRecycle,
  replacementOrder,
  type GroupInventory,
  type GroupPlan,
  type RecycleOptions,
} from '../../../src/orchestration/workflows/recyclePlan';

function group(n: number, opts: Partial<GroupInventory> & { upToDate?: number } = {}): GroupInventory {
  const zones = ['us-east-1a', 'us-east-1b', 'us-east-1c'];
  const instances = Array.from({ length: n }, (_, i) => ({
    instanceId: `i-${String(i).padStart(3, '0')}`,
    lifecycleState: 'InService',
    healthStatus: 'Healthy',
    availabilityZone: zones[i % 3],
    launchTemplateId: 'lt-1',
    version: i < (opts.upToDate ?? 0) ? '2' : '1',
  }));
  return {
    autoScalingGroupName: 'k3sctl-demo-workers',
    group: 'workers',
    role: 'node',
    desired: n,
    min: 1,
    max: n,
    launchTemplateId: 'lt-1',
    currentVersion: '2',
    targetGroupArns: [],
    suspendedProcesses: [],
    instances,
    ...opts,
  };
}

/** Simulates a plan on counts only: the fewest InService instances, the peak desired, the final desired. */
function simulate(plan: GroupPlan): {
  minInService: number;
  peakDesired: number;
  finalDesired: number;
  replaced: string[];
} {
  let desired = plan.original.desired;
  let inService = desired;
  let min = inService;
  let peak = desired;
  const replaced: string[] = [];
  for (const b of plan.batches) {
    desired += b.surge;
    peak = Math.max(peak, desired);
    inService += b.surge;
    inService -= b.terminate.length;
    min = Math.min(min, inService);
    desired -= b.decrement;
    inService += b.terminate.length - b.decrement;
    replaced.push(...b.terminate);
  }
  return { minInService: min, peakDesired: peak, finalDesired: desired, replaced };
}

const strategies: RecycleOptions[] = [
  { strategy: 'serial' },
  { strategy: 'canary' },
  { strategy: 'canary', batch: { count: 3 } },
  { strategy: 'slow-canary' },
  { strategy: 'rolling', batch: { percent: 20 } },
  { strategy: 'rolling', batch: { count: 4 }, maxSurge: { count: 2 }, maxUnavailable: { count: 1 } },
  { strategy: 'rolling', batch: { count: 2 }, maxUnavailable: { count: 2 } },
];

describe('recycle planner', () => {
  for (const options of strategies) {
    for (const n of [1, 3, 10]) {
      it(`${JSON.stringify(options)} on ${n} instances keeps its promise and returns desired`, () => {
        const plan = planGroup(group(n), options);
        const sim = simulate(plan);
        expect(sim.replaced.sort()).toEqual(plan.outdated.slice().sort());
        expect(new Set(sim.replaced).size).toBe(n);
        expect(sim.finalDesired).toBe(n);
        expect(sim.minInService).toBeGreaterThanOrEqual(plan.minInService);
        expect(plan.peakDesired).toBe(sim.peakDesired);
      });
    }
  }

  it('serial replaces one at a time without surge', () => {
    const plan = planGroup(group(3), { strategy: 'serial' });
    expect(plan.batches).toEqual([
      { surge: 0, terminate: ['i-000'], decrement: 0 },
      { surge: 0, terminate: ['i-001'], decrement: 0 },
      { surge: 0, terminate: ['i-002'], decrement: 0 },
    ]);
    expect(plan.minInService).toBe(2);
    expect(plan.peakDesired).toBe(3);
  });

  it('canary adds one first, replaces in batches, gives the extra back in the last batch', () => {
    const plan = planGroup(group(10), { strategy: 'canary', batch: { count: 4 } });
    expect(plan.batches.map((b) => [b.surge, b.terminate.length, b.decrement])).toEqual([
      [1, 0, 0],
      [0, 4, 0],
      [0, 4, 0],
      [0, 2, 1],
    ]);
    expect(plan.minInService).toBe(7);
  });

  it('slow-canary keeps the original capacity at every instant', () => {
    const plan = planGroup(group(3), { strategy: 'slow-canary' });
    expect(plan.batches.map((b) => [b.surge, b.terminate.length, b.decrement])).toEqual([
      [1, 1, 0],
      [0, 1, 0],
      [0, 1, 1],
    ]);
    expect(plan.minInService).toBe(3);
    expect(plan.peakDesired).toBe(4);
  });

  it('rolling --batch 20% surges a batch, then terminates it with decrement', () => {
    const plan = planGroup(group(10), { strategy: 'rolling', batch: { percent: 20 } });
    expect(plan.batches.map((b) => [b.surge, b.terminate.length, b.decrement])).toEqual(
      Array(5).fill([2, 2, 2]),
    );
    expect(plan.peakDesired).toBe(12);
    expect(plan.minInService).toBe(10);
  });

  it('rolling with max-surge 2 and max-unavailable 1 caps batches at 3', () => {
    const plan = planGroup(group(10), {
      strategy: 'rolling',
      batch: { count: 5 },
      maxSurge: { count: 2 },
      maxUnavailable: { count: 1 },
    });
    expect(plan.batches.map((b) => [b.surge, b.terminate.length, b.decrement])).toEqual([
      [2, 3, 2],
      [2, 3, 2],
      [2, 3, 2],
      [1, 1, 1],
    ]);
    expect(plan.minInService).toBe(9);
  });

  it('control planes are always replaced surge-first, one at a time, whatever the strategy', () => {
    const plan = planGroup(group(3, { role: 'control-plane' }), {
      strategy: 'rolling',
      batch: { count: 3 },
      maxUnavailable: { count: 3 },
    });
    expect(plan.strategy).toBe('control-plane');
    expect(plan.batches.map((b) => [b.surge, b.terminate.length, b.decrement])).toEqual(
      Array(3).fill([1, 1, 1]),
    );
    expect(plan.minInService).toBe(3);
  });

  it('only out-of-date instances, unless forced; terminating ones are left alone', () => {
    const g = group(5, { upToDate: 2 });
    g.instances[4].lifecycleState = 'Terminating:Wait';
    expect(planGroup(g, { strategy: 'serial' }).outdated.sort()).toEqual(['i-002', 'i-003']);
    expect(planGroup(g, { strategy: 'serial', force: true }).outdated.sort()).toEqual([
      'i-000',
      'i-001',
      'i-002',
      'i-003',
    ]);
    expect(planGroup(group(3, { upToDate: 3 }), { strategy: 'canary' }).batches).toEqual([]);
  });

  it('an instance from another launch template is out of date', () => {
    const g = group(2, { upToDate: 2 });
    g.instances[1].launchTemplateId = 'lt-old';
    expect(planGroup(g, { strategy: 'serial' }).outdated).toEqual(['i-001']);
  });

  it('orders unhealthy first, then round-robin over zones', () => {
    const g = group(6);
    g.instances[5].healthStatus = 'Unhealthy';
    expect(
      replacementOrder(g.instances).map((i) => `${i.instanceId}@${i.availabilityZone.slice(-1)}`),
    ).toEqual(['i-005@c', 'i-000@a', 'i-001@b', 'i-002@c', 'i-003@a', 'i-004@b']);
  });

  it('plans control-plane groups before node groups', () => {
    const plans = planRecycle(
      [
        group(2, { autoScalingGroupName: 'k3sctl-demo-a', group: 'a' }),
        group(3, { autoScalingGroupName: 'k3sctl-demo-z', group: 'z', role: 'control-plane' }),
        group(1, { autoScalingGroupName: 'k3sctl-demo-b', group: 'b' }),
      ],
      { strategy: 'serial' },
    );
    expect(plans.map((p) => p.group)).toEqual(['z', 'a', 'b']);
  });

  it('rejects invalid options as user errors', () => {
    expect(() =>
      planRecycle([], { strategy: 'rolling', maxSurge: { count: 0 }, maxUnavailable: { count: 0 } }),
    ).toThrow(UserError);
    expect(() => planRecycle([], { strategy: 'serial', maxSurge: { count: 1 } })).toThrow(UserError);
    expect(() => planRecycle([], { strategy: 'bogus' as never })).toThrow(UserError);
    expect(() => parseBatchSize('x', '--batch')).toThrow(UserError);
    expect(() => parseBatchSize('150%', '--batch')).toThrow(UserError);
    expect(parseBatchSize('20%', '--batch')).toEqual({ percent: 20 });
    expect(parseBatchSize('3', '--batch')).toEqual({ count: 3 });
  });
});
