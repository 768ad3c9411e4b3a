// Recycle against the sandbox: every strategy on groups of 1, 3 and 10 instances, sampled at every
// virtual instant for the strategy's capacity promise; control-plane quorum; failed gates and
// interruption restore capacity and processes; drain failures are reported; re-runs resume.
import { DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import { InterruptedError, WaitTimeoutError } from '../../../src/core/errors';
import { RunFailedError, type WorkflowDeps } from '../../../src/orchestration/deps';
import { recycle, type RecycleSpec } from '../../../src/orchestration/workflows/recycle';
import { planGroup, type RecycleOptions } from '../../../src/orchestration/steps/recyclePlan';
import { describeClusterGroups } from '../../../src/resources/autoScalingInstance';
import { Sandbox } from '../../../src/sandbox/sandbox';
import {
  bumpLaunchTemplate,
  createAsgFixture,
  describeAsg,
  waitSettled,
  type AsgFixture,
  type AsgFixtureOptions,
} from '../../helpers/asgFixture';
import { removeTestHomes, sandboxDeps } from '../../helpers/sandboxDeps';
import { describeGroupsHandler, groupNow, sampling } from '../../helpers/sandboxWatch';

jest.setTimeout(120_000);
afterAll(removeTestHomes);

function inService(sb: Sandbox, name: string): number {
  return groupNow(sb, name).instances.filter((i) => i.LifecycleState === 'InService').length;
}

interface Setup {
  deps: WorkflowDeps;
  sb: Sandbox;
  home: string;
  fixtures: AsgFixture[];
}

async function setup(groups: AsgFixtureOptions[], sb = new Sandbox()): Promise<Setup> {
  const { deps, home } = sandboxDeps(sb);
  const fixtures: AsgFixture[] = [];
  for (const g of groups) fixtures.push(await createAsgFixture(deps.clients, g));
  for (const f of fixtures) await waitSettled(deps.clients, deps.clock, f.autoScalingGroupName);
  for (const f of fixtures) await bumpLaunchTemplate(deps.clients, f);
  return { deps, sb, home, fixtures };
}

function again(s: Setup): WorkflowDeps {
  return sandboxDeps(s.sb, { home: s.home }).deps;
}

async function capacityOf(
  deps: WorkflowDeps,
  name: string,
): Promise<{ desired?: number; min?: number; max?: number; suspended: string[] }> {
  const g = await describeAsg(deps.clients, name);
  return {
    desired: g.DesiredCapacity,
    min: g.MinSize,
    max: g.MaxSize,
    suspended: (g.SuspendedProcesses ?? []).map((p) => p.ProcessName!).sort(),
  };
}

async function outdatedCount(deps: WorkflowDeps, cluster = 'demo'): Promise<number> {
  const groups = await describeClusterGroups(deps.clients, cluster);
  return groups.reduce((n, g) => n + planGroup(g, { strategy: 'serial' }).outdated.length, 0);
}

const base = {
  cluster: 'demo',
  nodeReadiness: false as const,
  healthTimeoutMs: 20 * 60_000,
  drainTimeoutMs: 20 * 60_000,
};

const strategies: RecycleOptions[] = [
  { strategy: 'serial' },
  { strategy: 'canary', batch: { count: 3 } },
  { strategy: 'slow-canary' },
  { strategy: 'rolling', batch: { percent: 20 } },
  { strategy: 'rolling', batch: { count: 3 }, maxSurge: { count: 1 }, maxUnavailable: { count: 1 } },
];

describe('recycle strategies keep their capacity promise', () => {
  for (const options of strategies) {
    for (const size of [1, 3, 10]) {
      it(`${JSON.stringify(options)} on ${size} instance(s)`, async () => {
        const s = await setup([{ size, maxSize: size }]);
        const name = s.fixtures[0].autoScalingGroupName;
        const before = await capacityOf(s.deps, name);
        const [inventory] = await describeClusterGroups(s.deps.clients, 'demo');
        const promise = planGroup(inventory, options).minInService;
        let lowest = Infinity;
        let samples = 0;
        const result = await sampling(
          s.sb,
          () => {
            samples++;
            lowest = Math.min(lowest, inService(s.sb, name));
          },
          () => recycle(s.deps, { ...base, ...options }),
        );
        expect(samples).toBeGreaterThan(10);
        expect(lowest).toBeGreaterThanOrEqual(promise);
        expect(result.replacements).toHaveLength(size);
        const olds = new Set(inventory.instances.map((i) => i.instanceId));
        expect(new Set(result.replacements.map((r) => r.oldInstanceId))).toEqual(olds);
        for (const r of result.replacements) {
          expect(r.newInstanceId).toBeDefined();
          expect(olds.has(r.newInstanceId!)).toBe(false);
          expect(r.durationMs).toBe(Date.parse(r.finishedAt) - Date.parse(r.startedAt));
        }
        expect(await outdatedCount(s.deps)).toBe(0);
        expect(await capacityOf(s.deps, name)).toEqual(before);
        // Nothing was replaced with raw EC2 termination.
        expect(s.sb.state.calls.byOperation.TerminateInstances ?? 0).toBe(0);

        // A second run finds nothing out of date and writes nothing.
        const second = again(s);
        const rerun = await recycle(second, { ...base, ...options });
        expect(rerun.replacements).toEqual([]);
        expect(rerun.apiCalls.write).toBe(0);
      });
    }
  }
});

describe('recycle', () => {
  it('replaces control planes first, surge-first, never below the original quorum', async () => {
    const s = await setup([
      { role: 'control-plane', size: 3 },
      { role: 'node', size: 3 },
    ]);
    const [cp, nodes] = s.fixtures;
    let lowestCp = Infinity;
    const result = await sampling(
      s.sb,
      () => {
        lowestCp = Math.min(lowestCp, inService(s.sb, cp.autoScalingGroupName));
      },
      () => recycle(s.deps, { ...base, strategy: 'serial' }),
    );
    expect(lowestCp).toBeGreaterThanOrEqual(3);
    expect(result.replacements.map((r) => r.autoScalingGroupName)).toEqual([
      ...Array(3).fill(cp.autoScalingGroupName),
      ...Array(3).fill(nodes.autoScalingGroupName),
    ]);
    expect(result.groups[0].strategy).toBe('control-plane');
    expect(await outdatedCount(s.deps)).toBe(0);
  });

  it('gates on Kubernetes node Ready through SSM Run Command on a control plane', async () => {
    const s = await setup([
      { role: 'control-plane', size: 1, instanceProfile: true },
      { role: 'node', size: 2, targetGroup: true, instanceProfile: true },
    ]);
    const { nodeReadiness: _off, ...withGate } = base;
    const result = await recycle(s.deps, { ...withGate, strategy: 'rolling' });
    expect(result.skippedGates).toEqual([]);
    expect(result.replacements).toHaveLength(3);
    expect(s.sb.state.calls.byOperation.SendCommand ?? 0).toBeGreaterThan(0);
    const events = (s.deps.events as unknown as { list: { kind: string; message?: string }[] }).list;
    expect(events.some((e) => e.kind === 'step-update' && /gate: node Ready/.test(e.message ?? ''))).toBe(
      true,
    );
    // Every new instance is a Ready node once the recycle is over.
    const { kubernetesNodeReadiness } =
      await import('../../../src/orchestration/steps/recycleNodeReadiness');
    const probe = await kubernetesNodeReadiness('demo')(
      { ...s.deps, journal: undefined as never, get: () => undefined as never, runId: 'x' },
      result.replacements.map((r) => r.newInstanceId!),
    );
    expect(
      'nodes' in probe && result.replacements.every((r) => probe.nodes[r.newInstanceId!] === 'Ready'),
    ).toBe(true);
  });

  it('skips the node Ready gate, and says so, when no control plane answers', async () => {
    const s = await setup([{ role: 'node', size: 1 }]);
    const { nodeReadiness: _off, ...withGate } = base;
    const result = await recycle(s.deps, { ...withGate, strategy: 'serial' });
    expect(result.replacements).toHaveLength(1);
    expect(result.skippedGates).toEqual([expect.stringMatching(/node Ready: no InService control plane/)]);
  });

  it('resolves $Latest and pinned version numbers when deciding what is out of date', async () => {
    const sb = new Sandbox();
    const { deps } = sandboxDeps(sb);
    const latest = await createAsgFixture(deps.clients, { group: 'latest', size: 1, versionRef: '$Latest' });
    const pinned = await createAsgFixture(deps.clients, { group: 'pinned', size: 1, versionRef: '1' });
    for (const f of [latest, pinned]) await waitSettled(deps.clients, deps.clock, f.autoScalingGroupName);
    for (const f of [latest, pinned]) await bumpLaunchTemplate(deps.clients, f);
    const dry = await recycle(deps, { ...base, strategy: 'serial', dryRun: true });
    expect(dry.groups.map((g) => [g.group, g.outdated.length])).toEqual([
      ['latest', 1],
      ['pinned', 0],
    ]);
  });

  it('--group limits the recycle to that group', async () => {
    const s = await setup([
      { group: 'a', size: 2 },
      { group: 'b', size: 2 },
    ]);
    const result = await recycle(s.deps, { ...base, strategy: 'serial', groups: ['b'] });
    expect(result.replacements.map((r) => r.group)).toEqual(['b', 'b']);
    expect(await outdatedCount(s.deps)).toBe(2);
  });

  it('--dry-run lists the replacements in order and makes no write call', async () => {
    const s = await setup([
      { role: 'node', size: 3 },
      { role: 'control-plane', size: 1 },
    ]);
    const deps = again(s);
    const result = await recycle(deps, { ...base, strategy: 'rolling', batch: { count: 2 }, dryRun: true });
    expect(result.apiCalls.write).toBe(0);
    expect(result.dryRun).toBe(true);
    expect(result.groups.map((g) => [g.role, g.outdated.length, g.batches.length])).toEqual([
      ['control-plane', 1, 1],
      ['node', 3, 2],
    ]);
    expect(await outdatedCount(deps)).toBe(4);
  });

  it('--force replaces up-to-date instances too', async () => {
    const s = await setup([{ size: 2 }]);
    await recycle(s.deps, { ...base, strategy: 'serial' });
    const result = await recycle(again(s), { ...base, strategy: 'serial', force: true });
    expect(result.replacements).toHaveLength(2);
  });

  it('a replacement that never becomes healthy stops the recycle and restores capacity and processes', async () => {
    const s = await setup([{ size: 3, targetGroup: true }]);
    const name = s.fixtures[0].autoScalingGroupName;
    const before = await capacityOf(s.deps, name);
    const events = (s.deps.events as unknown as { list: { kind: string; message?: string }[] }).list;
    // After the first replacement is done, every later instance fails its health checks.
    const error = await sampling(
      s.sb,
      () => {
        if (events.some((e) => e.kind === 'step-update' && /replaced in/.test(e.message ?? '')))
          s.sb.behavior.neverHealthy = ['*'];
      },
      () => recycle(s.deps, { ...base, strategy: 'rolling', healthTimeoutMs: 10 * 60_000 }),
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RunFailedError);
    const failure = error as RunFailedError;
    expect(failure.cause).toBeInstanceOf(WaitTimeoutError);
    expect((failure.cause as WaitTimeoutError).awaited).toMatch(/gate: target health/);
    expect(failure.leftovers).toEqual([]);
    s.sb.behavior.neverHealthy = [];
    expect(await capacityOf(s.deps, name)).toEqual(before);
    // The first replacement went through; the recycle stopped at the second one's target-health gate.
    expect(failure.changes.filter((c) => c.type === 'AWS::EC2::Instance')).toHaveLength(1);
  });

  it('a drain slower than --drain-timeout stops the recycle naming the instance, the gate and what was seen', async () => {
    for (const strategy of ['serial', 'rolling'] as const) {
      const s = await setup([{ size: 2 }]);
      const name = s.fixtures[0].autoScalingGroupName;
      const before = await capacityOf(s.deps, name);
      const error = await recycle(s.deps, { ...base, strategy, drainTimeoutMs: 10_000 }).catch((e) => e);
      expect(error).toBeInstanceOf(RunFailedError);
      const cause = (error as RunFailedError).cause as WaitTimeoutError;
      expect(cause).toBeInstanceOf(WaitTimeoutError);
      expect(cause.awaited).toMatch(/^i-\w+ of k3sctl-demo-workers to drain and leave \(gate: drain\)$/);
      expect(cause.lastSeen).toMatch(/Terminating:Wait/);
      await waitSettled(s.deps.clients, s.deps.clock, name);
      expect(await capacityOf(s.deps, name)).toEqual(before);
    }
  });

  it('reports a drain failure (lifecycle action abandoned) and goes on', async () => {
    const s = await setup([{ size: 2 }]);
    s.sb.behavior.failDrain = ['*'];
    const result = await recycle(s.deps, { ...base, strategy: 'serial' });
    expect(result.replacements).toHaveLength(2);
    expect(result.drainFailures.map((d) => d.instanceId).sort()).toEqual(
      result.replacements.map((r) => r.oldInstanceId).sort(),
    );
    expect(result.replacements.every((r) => r.drainFailure)).toBe(true);
  });

  it('an interrupted recycle rolls back capacity, and a re-run replaces only what is left', async () => {
    const s = await setup([{ size: 6 }]);
    const name = s.fixtures[0].autoScalingGroupName;
    const before = await capacityOf(s.deps, name);
    const controller = new AbortController();
    const events = s.deps.events as unknown as { list: { kind: string; message?: string }[] };
    const error = await sampling(
      s.sb,
      () => {
        const done = events.list.filter(
          (e) => e.kind === 'step-update' && /replaced in/.test(e.message ?? ''),
        ).length;
        if (done >= 2 && !controller.signal.aborted) controller.abort(new InterruptedError());
      },
      () => recycle(s.deps, { ...base, strategy: 'slow-canary' }, { signal: controller.signal }),
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RunFailedError);
    expect((error as RunFailedError).cause).toBeInstanceOf(InterruptedError);
    expect((error as RunFailedError).leftovers).toEqual([]);
    const afterAbort = await capacityOf(s.deps, name);
    expect(afterAbort).toEqual(before);
    await waitSettled(s.deps.clients, s.deps.clock, name);
    const left = await outdatedCount(s.deps);
    expect(left).toBeGreaterThan(0);
    expect(left).toBeLessThanOrEqual(4);

    const rerun = await recycle(again(s), { ...base, strategy: 'slow-canary' });
    expect(rerun.replacements).toHaveLength(left);
    expect(await outdatedCount(s.deps)).toBe(0);
    expect(await capacityOf(s.deps, name)).toEqual(before);
  });

  it('keeps processes the group had suspended before, and suspends AZRebalance during the run', async () => {
    const s = await setup([{ size: 2 }]);
    const name = s.fixtures[0].autoScalingGroupName;
    const { SuspendProcessesCommand } = await import('@aws-sdk/client-auto-scaling');
    await s.deps.clients.autoscaling.send(
      new SuspendProcessesCommand({
        AutoScalingGroupName: name,
        ScalingProcesses: ['AZRebalance', 'HealthCheck'],
      }),
    );
    const seen = new Set<string>();
    await sampling(
      s.sb,
      () => {
        const out = describeGroupsHandler(s.sb.context('us-east-1'), { AutoScalingGroupNames: [name] }) as {
          AutoScalingGroups: { SuspendedProcesses?: { ProcessName: string }[] }[];
        };
        for (const p of out.AutoScalingGroups[0].SuspendedProcesses ?? []) seen.add(p.ProcessName);
      },
      () => recycle(s.deps, { ...base, strategy: 'serial' }),
    );
    expect([...seen].sort()).toEqual(['AZRebalance', 'AlarmNotification', 'HealthCheck', 'ScheduledActions']);
    const res = await s.deps.clients.autoscaling.send(
      new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name] }),
    );
    expect((res.AutoScalingGroups![0].SuspendedProcesses ?? []).map((p) => p.ProcessName).sort()).toEqual([
      'AZRebalance',
      'HealthCheck',
    ]);
  });

  it('fails with exit-2 input errors before any write for an unknown cluster or group', async () => {
    const s = await setup([{ size: 1 }]);
    await expect(
      recycle(again(s), { ...base, cluster: 'other', strategy: 'serial' } as RecycleSpec),
    ).rejects.toThrow(/no Auto Scaling groups/);
    await expect(recycle(again(s), { ...base, strategy: 'serial', groups: ['nope'] })).rejects.toThrow(
      /no Auto Scaling groups|no group nope/,
    );
  });
});
