import { UserError } from '../../../src/core/errors';
import {
  parseBatchSize,
  planGroup,
  planRecycle,
  replacementOrder,
  type GroupInventory,
  type GroupPlan,
  type RecycleOptions,
} from '../../../src/orchestration/steps/recyclePlan';

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

/**
 * Executes a plan on counts only, as the workflow does: each batch raises desired by its surge (the
 * reused instances are already in desired), waits for them InService, terminates its instances (the
 * first `decrement` without replacement), then waits for the replacements. Starts from the group's
 * desired capacity now (surged when resuming).
 */
function simulate(
  plan: GroupPlan,
  start = plan.original.desired,
): {
  minInService: number;
  peakDesired: number;
  finalDesired: number;
  replaced: string[];
} {
  let desired = start;
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
  return { minInService: min, peakDesired: peak, finalDesired: desired - plan.excess, replaced };
}

/**
 * Each strategy's promise on 1, 3 and 10 out-of-date instances, worked out by hand from README.md,
 * Rolling replacement and upgrades: [fewest InService at any instant, highest desired capacity].
 */
const promises: [RecycleOptions, Record<1 | 3 | 10, [number, number]>][] = [
  // one at a time, no surge: one instance down at a time
  [{ strategy: 'serial' }, { 1: [0, 1], 3: [2, 3], 10: [9, 10] }],
  // one canary first, then batches of 25% (rounded up): capacity n + 1 - batch
  [{ strategy: 'canary' }, { 1: [1, 2], 3: [3, 4], 10: [8, 11] }],
  // a batch of 3 larger than the group of 1 takes down only the one instance there is
  [
    { strategy: 'canary', batch: { count: 3 } },
    { 1: [1, 2], 3: [1, 4], 10: [8, 11] },
  ],
  // one extra instance for the whole recycle: never below n
  [{ strategy: 'slow-canary' }, { 1: [1, 2], 3: [3, 4], 10: [10, 11] }],
  // each batch (20%, rounded up) surged before it is terminated
  [
    { strategy: 'rolling', batch: { percent: 20 } },
    { 1: [1, 2], 3: [3, 4], 10: [10, 12] },
  ],
  // batches of surge 2 + unavailable 1 = 3 (a group of 1 has nothing to keep: surge only)
  [
    { strategy: 'rolling', batch: { count: 4 }, maxSurge: { count: 2 }, maxUnavailable: { count: 1 } },
    { 1: [1, 2], 3: [2, 5], 10: [9, 12] },
  ],
  // no surge, 2 unavailable: a group of 3 keeps one in service; a group of 1 has to go to 0
  [
    { strategy: 'rolling', batch: { count: 2 }, maxUnavailable: { count: 2 } },
    { 1: [0, 1], 3: [1, 3], 10: [8, 10] },
  ],
];

describe('recycle planner', () => {
  for (const [options, byCount] of promises) {
    for (const n of [1, 3, 10] as const) {
      it(`${JSON.stringify(options)} on ${n} instances keeps its promise and returns desired`, () => {
        const [minInService, peakDesired] = byCount[n];
        const plan = planGroup(group(n), options);
        const sim = simulate(plan);
        expect(sim.replaced.sort()).toEqual(group(n).instances.map((i) => i.instanceId));
        expect(sim.finalDesired).toBe(n);
        expect(plan.excess).toBe(0);
        expect(plan.strategy).toBe(options.strategy);
        expect([plan.minInService, sim.minInService]).toEqual([minInService, minInService]);
        expect([plan.peakDesired, sim.peakDesired]).toEqual([peakDesired, peakDesired]);
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

describe('recycle planner: what is out of date', () => {
  it('a group whose launch template version could not be resolved has nothing out of date (unless forced)', () => {
    const g = group(3, { currentVersion: undefined });
    const plan = planGroup(g, { strategy: 'rolling' });
    expect(plan.outdated).toEqual([]);
    expect(plan.batches).toEqual([]);
    expect(plan.upToDate).toEqual(['i-000', 'i-001', 'i-002']);
    expect(plan).not.toHaveProperty('currentVersion');
    expect(planGroup(g, { strategy: 'serial', force: true }).outdated.sort()).toEqual([
      'i-000',
      'i-001',
      'i-002',
    ]);
  });

  it('an instance of the current version whose template is unknown (either side) is up to date', () => {
    const g = group(3, { upToDate: 3 });
    g.instances[0].launchTemplateId = undefined;
    const noGroupTemplate = { ...group(3, { upToDate: 3 }), launchTemplateId: undefined };
    noGroupTemplate.instances[1].launchTemplateId = 'lt-other';
    expect(planGroup(g, { strategy: 'serial' }).outdated).toEqual([]);
    expect(planGroup(noGroupTemplate, { strategy: 'serial' }).outdated).toEqual([]);
  });

  it('reports up-to-date instances sorted, the current version and the target groups of the group', () => {
    const g = group(4, { upToDate: 4, targetGroupArns: ['arn:tg/b', 'arn:tg/a'] });
    g.instances.reverse();
    g.instances[3].version = '1';
    const plan = planGroup(g, { strategy: 'serial' });
    expect(plan).toMatchObject({
      autoScalingGroupName: 'k3sctl-demo-workers',
      group: 'workers',
      role: 'node',
      strategy: 'serial',
      original: { desired: 4, min: 1, max: 4 },
      outdated: ['i-000'],
      upToDate: ['i-001', 'i-002', 'i-003'],
      currentVersion: '2',
      targetGroupArns: ['arn:tg/b', 'arn:tg/a'],
    });
    expect(plan.targetGroupArns).not.toBe(g.targetGroupArns);
    expect(plan).not.toHaveProperty('resuming');
  });

  it('an up-to-date group keeps its strategy name, no batch and its full capacity', () => {
    for (const role of ['node', 'control-plane'] as const) {
      const plan = planGroup(group(3, { upToDate: 3, role }), { strategy: 'canary' });
      expect([plan.strategy, plan.batches, plan.minInService, plan.peakDesired, plan.excess]).toEqual([
        role === 'control-plane' ? 'control-plane' : 'canary',
        [],
        3,
        3,
        0,
      ]);
    }
  });

  it('orders unhealthy instances first by id, then zones in name order, then ids within a zone', () => {
    const g = group(7);
    // zones by index: a b c a b c a
    g.instances[4].healthStatus = 'Unhealthy';
    g.instances[1].healthStatus = 'Unhealthy';
    g.instances[0].availabilityZone = 'us-east-1c';
    expect(replacementOrder([...g.instances].reverse()).map((i) => i.instanceId)).toEqual([
      'i-001',
      'i-004',
      // a: 003, 006; b: none left healthy; c: 000, 002, 005
      'i-003',
      'i-000',
      'i-006',
      'i-002',
      'i-005',
    ]);
  });
});

describe('recycle planner: rolling never takes the whole group down', () => {
  // Without surge one instance stays in service: --batch 100% --max-unavailable 100% on 3 is 2, then 1.
  for (const options of [
    { strategy: 'rolling', batch: { percent: 100 }, maxUnavailable: { percent: 100 } },
    { strategy: 'rolling', batch: { percent: 100 }, maxSurge: { count: 0 }, maxUnavailable: { count: 5 } },
  ] satisfies RecycleOptions[]) {
    it(`${JSON.stringify(options)} on 3 instances terminates at most 2 at a time`, () => {
      const plan = planRecycle([group(3)], options)[0];
      expect(plan.batches.map((b) => [b.surge, b.terminate.length, b.decrement])).toEqual([
        [0, 2, 0],
        [0, 1, 0],
      ]);
      expect(simulate(plan).minInService).toBe(1);
      expect(plan.minInService).toBe(1);
    });
  }

  it('with surge, unavailable may reach the whole group: the surged instances keep it in service', () => {
    const plan = planGroup(group(3), {
      strategy: 'rolling',
      batch: { percent: 100 },
      maxSurge: { count: 3 },
      maxUnavailable: { percent: 100 },
    });
    expect(plan.batches.map((b) => [b.surge, b.terminate.length, b.decrement])).toEqual([[3, 3, 3]]);
    expect([plan.minInService, plan.peakDesired]).toEqual([3, 6]);
  });

  it('with a surge of 1 and 1 unavailable, a group of 2 is replaced in one batch of 2 without dropping below 1', () => {
    const plan = planGroup(group(2), {
      strategy: 'rolling',
      batch: { count: 5 },
      maxSurge: { count: 1 },
      maxUnavailable: { count: 1 },
    });
    expect(plan.batches.map((b) => [b.surge, b.terminate.length, b.decrement])).toEqual([[1, 2, 1]]);
    expect([plan.minInService, simulate(plan).minInService]).toEqual([1, 1]);
  });

  it('a percentage of max-surge and max-unavailable is of the group, rounded up', () => {
    const plan = planGroup(group(10), {
      strategy: 'rolling',
      batch: { percent: 100 },
      maxSurge: { percent: 15 },
      maxUnavailable: { percent: 5 },
    });
    // surge 2 (1.5 up), unavailable 1 (0.5 up): batches of 3
    expect(plan.batches.map((b) => [b.surge, b.terminate.length, b.decrement])).toEqual([
      [2, 3, 2],
      [2, 3, 2],
      [2, 3, 2],
      [1, 1, 1],
    ]);
    expect([plan.minInService, plan.peakDesired]).toEqual([9, 12]);
  });

  it('max-surge alone bounds the batch and takes nothing down', () => {
    const plan = planGroup(group(4), { strategy: 'rolling', batch: { count: 3 }, maxSurge: { count: 1 } });
    expect(plan.batches.map((b) => [b.surge, b.terminate.length, b.decrement])).toEqual(
      Array(4).fill([1, 1, 1]),
    );
    expect([plan.minInService, plan.peakDesired]).toEqual([4, 5]);
  });

  it('a group of 1 with a second member on standby surges one at a time rather than going to 0', () => {
    // Standby instances are members without counting toward desired capacity.
    const g = group(2);
    g.desired = 1;
    g.instances[1].lifecycleState = 'Standby';
    const plan = planGroup(g, {
      strategy: 'rolling',
      batch: { count: 2 },
      maxSurge: { count: 1 },
      maxUnavailable: { count: 1 },
    });
    expect(plan.batches.map((b) => [b.surge, b.terminate.length, b.decrement])).toEqual([
      [1, 1, 1],
      [1, 1, 1],
    ]);
    expect(plan.minInService).toBe(1);
  });

  it('rolling without a batch size replaces one at a time, surged', () => {
    const plan = planGroup(group(3), { strategy: 'rolling' });
    expect(plan.batches.map((b) => [b.surge, b.terminate.length, b.decrement])).toEqual(
      Array(3).fill([1, 1, 1]),
    );
  });

  it('canary without a batch size replaces 25% (rounded up) per batch', () => {
    const plan = planGroup(group(5), { strategy: 'canary' });
    expect(plan.batches.map((b) => b.terminate.length)).toEqual([0, 2, 2, 1]);
  });

  it('a percentage batch that rounds to 0 of an empty group is still 1', () => {
    // desired 0 (a group scaled to 0 with an instance still attached): nothing divides by zero.
    const g = { ...group(1), desired: 0 };
    const plan = planGroup(g, { strategy: 'rolling', batch: { percent: 50 } });
    expect(plan.batches.map((b) => b.terminate)).toEqual([['i-000']]);
  });
});

describe('recycle planner: options', () => {
  const refused = (options: RecycleOptions, field: string, message: RegExp) => {
    let caught: unknown;
    try {
      planRecycle([group(3)], options);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(UserError);
    expect(caught).toMatchObject({ field, message: expect.stringMatching(message) });
  };

  it('accepts every way of replacing with something available', () => {
    for (const options of [
      { strategy: 'rolling', maxSurge: { count: 0 }, maxUnavailable: { count: 1 } },
      { strategy: 'rolling', maxSurge: { count: 1 }, maxUnavailable: { count: 0 } },
      { strategy: 'rolling', maxSurge: { count: 1 } },
      { strategy: 'rolling', maxUnavailable: { percent: 10 } },
      { strategy: 'rolling', maxSurge: { percent: 0 }, maxUnavailable: { percent: 10 } },
      { strategy: 'rolling' },
      { strategy: 'canary', batch: { count: 1 } },
      { strategy: 'serial', batch: { percent: 10 } },
    ] satisfies RecycleOptions[]) {
      expect(planRecycle([group(3)], options)[0].batches.length).toBeGreaterThan(0);
    }
  });

  it('refuses a rolling recycle that could never replace anything', () => {
    for (const options of [
      { strategy: 'rolling', maxSurge: { count: 0 }, maxUnavailable: { count: 0 } },
      { strategy: 'rolling', maxSurge: { percent: 0 }, maxUnavailable: { percent: 0 } },
      { strategy: 'rolling', maxSurge: { count: 0 } },
      // no surge given: a recycle with max-unavailable 0 would otherwise take one down anyway
      { strategy: 'rolling', maxUnavailable: { count: 0 } },
    ] satisfies RecycleOptions[]) {
      refused(options, '--max-surge', /^--max-surge and --max-unavailable cannot both be 0/);
    }
  });

  it('refuses max-surge or max-unavailable with another strategy, a batch of 0 and an unknown strategy', () => {
    refused(
      { strategy: 'canary', maxUnavailable: { count: 1 } },
      '--strategy',
      /^--max-surge and --max-unavailable apply to the rolling strategy, not canary$/,
    );
    refused({ strategy: 'serial', maxSurge: { count: 1 } }, '--strategy', /rolling strategy, not serial$/);
    refused({ strategy: 'rolling', batch: { count: 0 } }, '--batch', /^--batch must be at least 1$/);
    refused({ strategy: 'bogus' as never }, '--strategy', /^unknown strategy 'bogus'$/);
    let caught: unknown;
    try {
      planRecycle([], { strategy: 'bogus' as never });
    } catch (error) {
      caught = error;
    }
    expect(caught).toMatchObject({ suggestion: 'use one of serial, canary, slow-canary, rolling' });
  });

  it('parses a batch size: a count, or a percentage from 1% to 100%, with the field in the error', () => {
    expect(parseBatchSize(' 7 ', '--batch')).toEqual({ count: 7 });
    expect(parseBatchSize('0', '--max-surge')).toEqual({ count: 0 });
    expect(parseBatchSize('1%', '--batch')).toEqual({ percent: 1 });
    expect(parseBatchSize('100%', '--batch')).toEqual({ percent: 100 });
    for (const [text, message] of [
      ['0%', /^--max-surge '0%' must be between 1% and 100%$/],
      ['101%', /^--max-surge '101%' must be between 1% and 100%$/],
      ['1.5', /^--max-surge '1.5' is not a count or a percentage$/],
      ['-1', /is not a count/],
      ['x2', /is not a count/],
      ['2x', /is not a count/],
      ['%', /is not a count/],
    ] as const) {
      expect(() => parseBatchSize(text, '--max-surge')).toThrow(message);
      let caught: unknown;
      try {
        parseBatchSize(text, '--max-surge');
      } catch (error) {
        caught = error;
      }
      expect(caught).toMatchObject({ name: 'UserError', field: '--max-surge' });
    }
    expect(() => parseBatchSize('x', '--batch')).toThrow(
      expect.objectContaining({ suggestion: 'give e.g. 2 or 25%' }),
    );
  });

  it('plans control planes first, then node groups, each by group name', () => {
    const plans = planRecycle(
      [
        group(1, { autoScalingGroupName: 'k3sctl-demo-n2', group: 'n2' }),
        group(1, { autoScalingGroupName: 'k3sctl-demo-cp2', group: 'cp2', role: 'control-plane' }),
        group(1, { autoScalingGroupName: 'k3sctl-demo-n1', group: 'n1' }),
        group(1, { autoScalingGroupName: 'k3sctl-demo-cp1', group: 'cp1', role: 'control-plane' }),
      ],
      { strategy: 'serial' },
    );
    expect(plans.map((p) => p.group)).toEqual(['cp1', 'cp2', 'n1', 'n2']);
  });
});

describe('recycle planner: resuming an interrupted replacement', () => {
  const record = {
    run: 'run-killed',
    since: '2026-12-07T01:00:00.000Z',
    desired: 3,
    min: 3,
    max: 3,
    suspended: ['AZRebalance'],
  };

  /** A group of 3 whose replacement was interrupted after surging `surged` new instances. */
  function interrupted(surged: number, opts: Partial<GroupInventory> = {}): GroupInventory {
    const g = group(3, { min: 3, max: 3 + surged, desired: 3 + surged, replacement: record, ...opts });
    for (let k = 0; k < surged; k++)
      g.instances.push({
        ...g.instances[0],
        instanceId: `i-new${k}`,
        version: '2',
        availabilityZone: 'us-east-1b',
      });
    return g;
  }

  it('plans a control plane from the recorded capacity and counts the surged instance as the first surge', () => {
    const plan = planGroup(interrupted(1, { role: 'control-plane' }), { strategy: 'rolling' });
    expect(plan.original).toEqual({ desired: 3, min: 3, max: 3 });
    expect(plan.resuming).toEqual({ run: 'run-killed', since: '2026-12-07T01:00:00.000Z' });
    expect(plan.outdated).toEqual(['i-000', 'i-001', 'i-002']);
    expect(plan.upToDate).toEqual(['i-new0']);
    expect(plan.batches).toEqual([
      { surge: 0, reuse: 1, terminate: ['i-000'], decrement: 1 },
      { surge: 1, terminate: ['i-001'], decrement: 1 },
      { surge: 1, terminate: ['i-002'], decrement: 1 },
    ]);
    // Never a second surge instance at once: 4 at most, and it ends at exactly 3.
    expect([plan.peakDesired, plan.excess, plan.minInService]).toEqual([4, 0, 3]);
    const sim = simulate(plan, 4);
    expect([sim.peakDesired, sim.finalDesired, sim.minInService]).toEqual([4, 3, 3]);
  });

  it('spreads a larger surge over the batches that need one and removes what none reuses at the end', () => {
    const rolling = planGroup(interrupted(3), { strategy: 'rolling', batch: { count: 2 } });
    expect(rolling.batches).toEqual([
      { surge: 0, reuse: 2, terminate: ['i-000', 'i-001'], decrement: 2 },
      { surge: 0, reuse: 1, terminate: ['i-002'], decrement: 1 },
    ]);
    expect([rolling.peakDesired, rolling.excess]).toEqual([6, 0]);
    expect(simulate(rolling, 6).finalDesired).toBe(3);

    // Serial surges nothing: all 3 surged instances are excess, removed once the batches are done.
    const serial = planGroup(interrupted(3), { strategy: 'serial' });
    expect(serial.batches.every((b) => b.reuse === undefined && b.surge === 0)).toBe(true);
    expect(serial.batches).toHaveLength(3);
    expect([serial.peakDesired, serial.excess]).toEqual([6, 3]);
    expect(simulate(serial, 6).finalDesired).toBe(3);
  });

  it('a replacement interrupted after its last batch has only the excess left', () => {
    const g = interrupted(1);
    for (const i of g.instances) i.version = '2';
    const plan = planGroup(g, { strategy: 'rolling' });
    expect(plan.batches).toEqual([]);
    expect([plan.excess, plan.peakDesired, plan.minInService]).toEqual([1, 4, 3]);
    expect(plan.resuming).toEqual({ run: 'run-killed', since: '2026-12-07T01:00:00.000Z' });
  });

  it('a group below its recorded capacity plans from the record and has no excess', () => {
    const g = group(2, { min: 3, max: 3, desired: 2, replacement: record });
    const plan = planGroup(g, { strategy: 'slow-canary' });
    expect(plan.original).toEqual({ desired: 3, min: 3, max: 3 });
    expect(plan.batches.map((b) => [b.surge, b.reuse, b.terminate.length, b.decrement])).toEqual([
      [1, undefined, 1, 0],
      [0, undefined, 1, 1],
    ]);
    expect([plan.excess, plan.peakDesired]).toEqual([0, 3]);
  });
});
