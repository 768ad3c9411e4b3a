// The undo of an interrupted replacement (the `k3sctl.io/replacement` record's restore), run from the
// registry as `runs rollback` runs it, against a sandbox account left as a killed recycle or upgrade
// leaves it. What the account holds afterwards: the instances the run found (the run's own chosen for
// removal, never left to the group's termination policy), every instance back on the launch template
// version it ran before an upgrade, the baseline capacity, only the processes k3sctl suspended resumed,
// and no record; or, when an instance cannot be removed, an UndoIncompleteError naming it.
import {
  CreateOrUpdateTagsCommand,
  DeleteAutoScalingGroupCommand,
  SuspendProcessesCommand,
  TerminateInstanceInAutoScalingGroupCommand,
  UpdateAutoScalingGroupCommand,
  type AutoScalingGroup,
  type Instance,
} from '@aws-sdk/client-auto-scaling';
import {
  CreateLaunchTemplateVersionCommand,
  DescribeLaunchTemplatesCommand,
  DescribeLaunchTemplateVersionsCommand,
  ModifyLaunchTemplateCommand,
} from '@aws-sdk/client-ec2';
import type { AwsClients } from '../../src/aws/clients';
import { INSTANCE_TYPE } from '../../src/resources/instance';
import {
  capacityOf,
  clearReplacement,
  RECYCLE_SUSPENDED_PROCESSES,
  recordReplacement,
  REPLACEMENT_UNDO_TYPE,
  setCapacity,
  setProcessesSuspended,
  type ReplacementUndo,
} from '../../src/resources/groupReplacement';
import { formatReplacementRecord, REPLACEMENT_TAG } from '../../src/resources/replacementRecord';
import { UndoIncompleteError } from '../../src/provider/provider';
import { providers } from '../../src/resources/registry';
import { sandboxClients } from '../../src/sandbox/clients';
import { Sandbox } from '../../src/sandbox/sandbox';
import { createAsgFixture, describeAsg, waitSettled, type AsgFixture } from '../helpers/asgFixture';
import { groupNow, sampling } from '../helpers/sandboxWatch';
import { RunFailedError } from '../../src/orchestration/deps';
import { runWorkflow } from '../../src/orchestration/engine';
import { collectingEvents, removeTestHomes, sandboxDeps } from '../helpers/sandboxDeps';

jest.setTimeout(120_000);
afterAll(removeTestHomes);

interface Account {
  sb: Sandbox;
  clients: AwsClients;
  cp: AsgFixture;
  name: string;
  /** The instances before the interrupted run began. */
  original: string[];
}

const BASELINE = { desired: 3, min: 3, max: 3 };

/** A settled group of 3 (3/3/3), its launch template at version 1 (`versionRef` as the group asks for it). */
async function settledGroup(role: 'control-plane' | 'node', versionRef = '$Default'): Promise<Account> {
  const sb = new Sandbox();
  const clients = sandboxClients(sb, 'us-east-1');
  const cp = await createAsgFixture(clients, { role, size: 3, minSize: 3, versionRef });
  const name = cp.autoScalingGroupName;
  const g = await waitSettled(clients, sb.clock, name);
  return { sb, clients, cp, name, original: ids(g) };
}

function ids(g: Pick<AutoScalingGroup, 'Instances'>): string[] {
  return (g.Instances ?? []).map((i) => i.InstanceId!).sort();
}

function active(g: AutoScalingGroup): Instance[] {
  return (g.Instances ?? []).filter((i) => !/^(Terminat|Detach)/.test(i.LifecycleState ?? ''));
}

/** What a run does before its first change: the record, then the suspended processes. */
async function beginReplacement(a: Account, suspended = RECYCLE_SUSPENDED_PROCESSES): Promise<void> {
  const record = { run: 'killed-run', since: '2025-01-01T00:00:00.000Z', ...BASELINE, suspended };
  await a.clients.autoscaling.send(
    new CreateOrUpdateTagsCommand({
      Tags: [
        {
          ResourceId: a.name,
          ResourceType: 'auto-scaling-group',
          Key: REPLACEMENT_TAG,
          Value: formatReplacementRecord(record),
          PropagateAtLaunch: false,
        },
      ],
    }),
  );
  if (suspended.length)
    await a.clients.autoscaling.send(
      new SuspendProcessesCommand({ AutoScalingGroupName: a.name, ScalingProcesses: suspended }),
    );
}

async function surge(a: Account, desired: number): Promise<string[]> {
  await a.clients.autoscaling.send(
    new UpdateAutoScalingGroupCommand({
      AutoScalingGroupName: a.name,
      DesiredCapacity: desired,
      MaxSize: desired,
    }),
  );
  const g = await waitSettled(a.clients, a.sb.clock, a.name);
  return ids(g).filter((id) => !a.original.includes(id));
}

/** An upgrade's new launch template version 2: the group pinned to it, or (unpinned) the template's default. */
async function newVersion(a: Account, pinned: boolean): Promise<void> {
  await a.clients.ec2.send(
    new CreateLaunchTemplateVersionCommand({
      LaunchTemplateId: a.cp.launchTemplateId,
      SourceVersion: '1',
      LaunchTemplateData: { InstanceType: 't3.medium' },
    }),
  );
  if (pinned) {
    await a.clients.autoscaling.send(
      new UpdateAutoScalingGroupCommand({
        AutoScalingGroupName: a.name,
        LaunchTemplate: { LaunchTemplateId: a.cp.launchTemplateId, Version: '2' },
      }),
    );
  } else {
    await a.clients.ec2.send(
      new ModifyLaunchTemplateCommand({ LaunchTemplateId: a.cp.launchTemplateId, DefaultVersion: '2' }),
    );
  }
}

async function rollBack(a: Account, data: Partial<ReplacementUndo> = {}): Promise<void> {
  const undo: ReplacementUndo = {
    groupName: a.name,
    role: 'control-plane',
    baseline: BASELINE,
    suspended: RECYCLE_SUSPENDED_PROCESSES,
    original: a.original,
    ...data,
  };
  await providers.undoHandler(REPLACEMENT_UNDO_TYPE)!.restore!(a.clients, undo as unknown as Record<string, unknown>, {
    clock: a.sb.clock,
    events: collectingEvents(),
  });
}

/** The launch template version of each active instance. */
async function instanceVersions(a: Account): Promise<Record<string, string | undefined>> {
  const g = await describeAsg(a.clients, a.name);
  return Object.fromEntries(active(g).map((i) => [i.InstanceId!, i.LaunchTemplate?.Version]));
}

/** The versions the launch template holds. */
async function templateVersions(a: Account): Promise<number[]> {
  const out = await a.clients.ec2.send(
    new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId: a.cp.launchTemplateId }),
  );
  return (out.LaunchTemplateVersions ?? []).map((v) => v.VersionNumber!).sort();
}

async function expectBackAtBaseline(
  a: Account,
  g: AutoScalingGroup,
  suspendedByUser: string[] = [],
): Promise<void> {
  expect({ desired: g.DesiredCapacity, min: g.MinSize, max: g.MaxSize }).toEqual(BASELINE);
  expect((g.SuspendedProcesses ?? []).map((p) => p.ProcessName).sort()).toEqual([...suspendedByUser].sort());
  expect((g.Tags ?? []).some((t) => t.Key === REPLACEMENT_TAG)).toBe(false);
  expect(a.original.length).toBe(3);
}

describe('rollback of an interrupted replacement', () => {
  it('recycle of control planes killed after its surge: the surge instance goes (not an old one), drained before it returns', async () => {
    const a = await settledGroup('control-plane');
    // The recycle's new template version: the group's termination policy would remove an old instance.
    await newVersion(a, false);
    await beginReplacement(a);
    const [added] = await surge(a, 4);
    expect(added).toBeDefined();
    await rollBack(a);
    const g = await describeAsg(a.clients, a.name);
    await expectBackAtBaseline(a, g);
    expect(ids({ Instances: active(g) })).toEqual(a.original);
    // A control plane leaves etcd before rollback goes on: drained, not still waiting on its hook.
    const left = (g.Instances ?? []).find((i) => i.InstanceId === added);
    expect(left === undefined || ['Terminating:Proceed', 'Terminated'].includes(left.LifecycleState!)).toBe(
      true,
    );

    // Run again (a second `runs rollback`): nothing left to remove or resize.
    const again = { ...a, clients: sandboxClients(a.sb, 'us-east-1') };
    await rollBack(again);
    expect(again.clients.calls.byOperation.get('TerminateInstanceInAutoScalingGroup') ?? 0).toBe(0);
    expect(again.clients.calls.byOperation.get('UpdateAutoScalingGroup') ?? 0).toBe(0);
    expect(ids({ Instances: active(await describeAsg(a.clients, a.name)) })).toEqual(a.original);
  });

  it("a node group: surplus instances are all terminated at once, the user's own suspended processes stay suspended", async () => {
    const a = await settledGroup('node');
    await a.clients.autoscaling.send(
      new SuspendProcessesCommand({ AutoScalingGroupName: a.name, ScalingProcesses: ['ReplaceUnhealthy'] }),
    );
    await beginReplacement(a);
    const added = await surge(a, 5);
    expect(added).toHaveLength(2);
    await rollBack(a, { role: 'node' });
    const g = await describeAsg(a.clients, a.name);
    await expectBackAtBaseline(a, g, ['ReplaceUnhealthy']);
    expect(ids({ Instances: active(g) })).toEqual(a.original);
    // Nodes are not waited on one by one: both are still draining (the hook's heartbeat) when it returns.
    const leaving = (g.Instances ?? [])
      .filter((i) => added.includes(i.InstanceId!))
      .map((i) => i.LifecycleState);
    expect(leaving).toEqual(['Terminating:Wait', 'Terminating:Wait']);
  });

  it('a run that suspended nothing resumes nothing', async () => {
    const a = await settledGroup('node');
    await a.clients.autoscaling.send(
      new SuspendProcessesCommand({ AutoScalingGroupName: a.name, ScalingProcesses: ['AZRebalance'] }),
    );
    await beginReplacement(a, []);
    await rollBack(a, { role: 'node', suspended: [] });
    const g = await describeAsg(a.clients, a.name);
    await expectBackAtBaseline(a, g, ['AZRebalance']);
  });

  it('upgrade of a pinned group killed mid-surge: the group points back at version 1 and the surge instance on version 2 goes', async () => {
    const a = await settledGroup('control-plane', '1');
    await newVersion(a, true);
    await beginReplacement(a);
    const [added] = await surge(a, 4);
    expect((await instanceVersions(a))[added]).toBe('2');
    // Removing the surge instance leaves nothing on version 2: the rollback launches no instance.
    const launched = new Set<string>();
    await sampling(
      a.sb,
      () => {
        for (const i of groupNow(a.sb, a.name).instances)
          if (!a.original.includes(i.InstanceId) && i.InstanceId !== added) launched.add(i.InstanceId);
      },
      () =>
        rollBack(a, {
          revert: { templateId: a.cp.launchTemplateId, version: 1, newVersion: 2, pinned: true },
        }),
    );
    expect([...launched]).toEqual([]);
    const g = await describeAsg(a.clients, a.name);
    await expectBackAtBaseline(a, g);
    expect(g.LaunchTemplate?.Version).toBe('1');
    expect(ids({ Instances: active(g) })).toEqual(a.original);

    const again = { ...a, clients: sandboxClients(a.sb, 'us-east-1') };
    await rollBack(again, {
      revert: { templateId: a.cp.launchTemplateId, version: 1, newVersion: 2, pinned: true },
    });
    expect(again.clients.calls.byOperation.get('UpdateAutoScalingGroup') ?? 0).toBe(0);
  });

  it('upgrade of a pinned group killed after replacing an instance: it is replaced back, surge first, on version 1', async () => {
    const a = await settledGroup('control-plane', '1');
    await newVersion(a, true);
    await beginReplacement(a);
    const [added] = await surge(a, 4);
    const [gone] = a.original;
    await a.clients.autoscaling.send(
      new TerminateInstanceInAutoScalingGroupCommand({
        InstanceId: gone,
        ShouldDecrementDesiredCapacity: true,
      }),
    );
    await waitSettled(a.clients, a.sb.clock, a.name);
    // Surge first: at every instant of the rollback at least 3 instances serve, and exactly one is launched.
    let fewestInService = Infinity;
    const seen = new Set(active(await describeAsg(a.clients, a.name)).map((i) => i.InstanceId!));
    const before = seen.size;
    await sampling(
      a.sb,
      () => {
        const instances = groupNow(a.sb, a.name).instances;
        for (const i of instances) seen.add(i.InstanceId);
        fewestInService = Math.min(
          fewestInService,
          instances.filter((i) => i.LifecycleState === 'InService').length,
        );
      },
      () =>
        rollBack(a, {
          revert: { templateId: a.cp.launchTemplateId, version: 1, newVersion: 2, pinned: true },
        }),
    );
    expect(fewestInService).toBe(3);
    expect(seen.size - before).toBe(1);
    const g = await describeAsg(a.clients, a.name);
    await expectBackAtBaseline(a, g);
    const now = active(g);
    expect(now).toHaveLength(3);
    expect(now.map((i) => i.InstanceId)).not.toContain(added);
    expect(now.map((i) => i.LaunchTemplate?.Version)).toEqual(['1', '1', '1']);
    expect(now.every((i) => i.LifecycleState === 'InService')).toBe(true);
  });

  it('upgrade of a group following $Latest: the template default goes back to 1 and version 2 is deleted', async () => {
    const a = await settledGroup('node', '$Latest');
    await newVersion(a, false);
    await beginReplacement(a);
    const [added] = await surge(a, 4);
    expect((await instanceVersions(a))[added]).toBe('2');
    await rollBack(a, {
      role: 'node',
      revert: { templateId: a.cp.launchTemplateId, version: 1, newVersion: 2, pinned: false },
    });
    const g = await describeAsg(a.clients, a.name);
    await expectBackAtBaseline(a, g);
    expect(ids({ Instances: active(g) })).toEqual(a.original);
    const template = (
      await a.clients.ec2.send(
        new DescribeLaunchTemplatesCommand({ LaunchTemplateIds: [a.cp.launchTemplateId] }),
      )
    ).LaunchTemplates![0];
    expect(template.DefaultVersionNumber).toBe(1);
    expect(await templateVersions(a)).toEqual([1]);
  });

  it('upgrade of a group following $Default: the default goes back to 1, version 2 is kept', async () => {
    const a = await settledGroup('node', '$Default');
    await newVersion(a, false);
    await beginReplacement(a);
    const [added] = await surge(a, 4);
    await a.clients.autoscaling.send(
      new TerminateInstanceInAutoScalingGroupCommand({
        InstanceId: a.original[0],
        ShouldDecrementDesiredCapacity: true,
      }),
    );
    await rollBack(a, {
      role: 'node',
      revert: { templateId: a.cp.launchTemplateId, version: 1, newVersion: 2, pinned: false },
    });
    const g = await describeAsg(a.clients, a.name);
    await expectBackAtBaseline(a, g);
    expect(active(g).map((i) => i.InstanceId)).not.toContain(added);
    expect(active(g).map((i) => i.LaunchTemplate?.Version)).toEqual(['1', '1', '1']);
    const template = (
      await a.clients.ec2.send(
        new DescribeLaunchTemplatesCommand({ LaunchTemplateIds: [a.cp.launchTemplateId] }),
      )
    ).LaunchTemplates![0];
    expect(template.DefaultVersionNumber).toBe(1);
    expect(await templateVersions(a)).toEqual([1, 2]);
  });

  it('a group deleted since is nothing to roll back', async () => {
    const a = await settledGroup('node');
    await a.clients.autoscaling.send(
      new DeleteAutoScalingGroupCommand({ AutoScalingGroupName: a.name, ForceDelete: true }),
    );
    while ((await describeAsg(a.clients, a.name)) !== undefined) await a.sb.clock.sleep(5_000);
    await expect(rollBack(a, { role: 'node' })).resolves.toBeUndefined();
  });

  it('an instance that cannot be terminated: stops, names it as a leftover, keeps the record and touches nothing else', async () => {
    const a = await settledGroup('control-plane', '1');
    await newVersion(a, true);
    await beginReplacement(a);
    // One original instance already replaced on version 2, and the surge of the next one.
    await a.clients.autoscaling.send(
      new TerminateInstanceInAutoScalingGroupCommand({
        InstanceId: a.original[0],
        ShouldDecrementDesiredCapacity: false,
      }),
    );
    await waitSettled(a.clients, a.sb.clock, a.name);
    const [added] = await surge(a, 4);
    const before = ids(await describeAsg(a.clients, a.name));
    a.sb.faults.add({
      op: 'TerminateInstanceInAutoScalingGroup',
      code: 'ScalingActivityInProgress',
      message: 'Scaling activity in progress',
    });
    const error = await rollBack(a, {
      revert: { templateId: a.cp.launchTemplateId, version: 1, newVersion: 2, pinned: true },
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(UndoIncompleteError);
    expect((error as UndoIncompleteError).remaining).toEqual([
      { type: INSTANCE_TYPE, name: `${a.name}/${added}`, id: added },
    ]);
    expect((error as Error).message).toBe(
      `${a.name} could not be put back to desired 3: ${added}: ScalingActivityInProgress: Scaling activity in progress`,
    );
    const g = await describeAsg(a.clients, a.name);
    expect(ids(g)).toEqual(before);
    expect(g.DesiredCapacity).toBe(4);
    expect((g.Tags ?? []).some((t) => t.Key === REPLACEMENT_TAG)).toBe(true);
    expect((g.SuspendedProcesses ?? []).length).toBe(3);
  });

  it('a replacement that cannot be terminated while putting back version 1: stops there, naming it', async () => {
    const a = await settledGroup('node', '1');
    await newVersion(a, true);
    await beginReplacement(a);
    await a.clients.autoscaling.send(
      new TerminateInstanceInAutoScalingGroupCommand({
        InstanceId: a.original[0],
        ShouldDecrementDesiredCapacity: false,
      }),
    );
    const g0 = await waitSettled(a.clients, a.sb.clock, a.name);
    const onV2 = active(g0)
      .filter((i) => i.LaunchTemplate?.Version === '2')
      .map((i) => i.InstanceId!);
    expect(onV2).toHaveLength(1);
    a.sb.faults.add({
      op: 'TerminateInstanceInAutoScalingGroup',
      code: 'ValidationError',
      message: 'Instance is in a bad state',
    });
    const error = await rollBack(a, {
      role: 'node',
      revert: { templateId: a.cp.launchTemplateId, version: 1, newVersion: 2, pinned: true },
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(UndoIncompleteError);
    expect((error as UndoIncompleteError).remaining).toEqual([
      { type: INSTANCE_TYPE, name: `${a.name}/${onV2[0]}`, id: onV2[0] },
    ]);
    expect((error as Error).message).toMatch(/ValidationError: Instance is in a bad state$/);
  });

  it('an instance already gone when terminated is not a failure', async () => {
    const a = await settledGroup('node');
    await beginReplacement(a);
    await surge(a, 4);
    a.sb.faults.add({
      op: 'TerminateInstanceInAutoScalingGroup',
      code: 'ValidationError',
      message: 'Instance Id not found - No managed instance found for instance ID: i-0',
      nth: 1,
    });
    await expect(rollBack(a, { role: 'node' })).resolves.toBeUndefined();
    const g = await describeAsg(a.clients, a.name);
    expect({ desired: g.DesiredCapacity, min: g.MinSize, max: g.MaxSize }).toEqual(BASELINE);
    expect((g.Tags ?? []).some((t) => t.Key === REPLACEMENT_TAG)).toBe(false);
  });
});

describe('the writes of a replacement, rolled back by the run that made them', () => {
  it('a run that records, suspends and surges, then fails: rollback returns the group to where it was', async () => {
    const sb = new Sandbox();
    const { deps, home } = sandboxDeps(sb);
    const cp = await createAsgFixture(deps.clients, { role: 'node', size: 3, minSize: 3 });
    const name = cp.autoScalingGroupName;
    const g0 = await waitSettled(deps.clients, sb.clock, name);
    const original = ids(g0);
    const run = sandboxDeps(sb, { home }).deps;
    const failure = runWorkflow(run, 'recycle', async (r) => {
      const record = {
        run: run.runId,
        since: new Date(sb.clock.now()).toISOString(),
        ...BASELINE,
        suspended: RECYCLE_SUSPENDED_PROCESSES,
      };
      await recordReplacement(r.ctx, name, record, {
        groupName: name,
        role: 'node',
        baseline: BASELINE,
        suspended: RECYCLE_SUSPENDED_PROCESSES,
        original,
      });
      await setProcessesSuspended(r.ctx, name, RECYCLE_SUSPENDED_PROCESSES, true);
      await setProcessesSuspended(r.ctx, name, [], true);
      // Nothing differs: no call.
      const writes = r.ctx.clients.calls.write;
      expect(await setCapacity(r.ctx, name, capacityOf(BASELINE), { desired: 3 })).toEqual(BASELINE);
      expect(r.ctx.clients.calls.write).toBe(writes);
      const surged = await setCapacity(r.ctx, name, BASELINE, { desired: 4, max: 4 });
      expect(surged).toEqual({ desired: 4, min: 3, max: 4 });
      await waitSettled(r.ctx.clients, sb.clock, name);
      const g = await describeAsg(r.ctx.clients, name);
      expect({ desired: g.DesiredCapacity, min: g.MinSize, max: g.MaxSize }).toEqual({
        desired: 4,
        min: 3,
        max: 4,
      });
      expect((g.SuspendedProcesses ?? []).map((p) => p.ProcessName).sort()).toEqual(
        [...RECYCLE_SUSPENDED_PROCESSES].sort(),
      );
      const tag = (g.Tags ?? []).find((t) => t.Key === REPLACEMENT_TAG);
      expect(JSON.parse(tag!.Value!)).toEqual(record);
      expect(tag!.PropagateAtLaunch).toBe(false);
      throw new Error('killed mid-recycle');
    });
    const error = await failure.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(RunFailedError);
    expect(((error as RunFailedError).cause as Error).message).toBe('killed mid-recycle');
    const g = await describeAsg(deps.clients, name);
    expect({ desired: g.DesiredCapacity, min: g.MinSize, max: g.MaxSize }).toEqual(BASELINE);
    expect(ids({ Instances: active(g) })).toEqual(original);
    expect(g.SuspendedProcesses ?? []).toEqual([]);
    expect((g.Tags ?? []).some((t) => t.Key === REPLACEMENT_TAG)).toBe(false);
  });

  it('a finished replacement resumes the processes and clears the record; nothing to resume is no call', async () => {
    const sb = new Sandbox();
    const { deps } = sandboxDeps(sb);
    const cp = await createAsgFixture(deps.clients, { role: 'node', size: 1, minSize: 1 });
    const name = cp.autoScalingGroupName;
    await runWorkflow(deps, 'recycle', async (r) => {
      const record = {
        run: deps.runId,
        since: '2025-01-01T00:00:00.000Z',
        desired: 1,
        min: 1,
        max: 1,
        suspended: ['AZRebalance'],
      };
      await recordReplacement(r.ctx, name, record, {
        groupName: name,
        role: 'node',
        baseline: { desired: 1, min: 1, max: 1 },
        suspended: ['AZRebalance'],
        original: [],
      });
      await setProcessesSuspended(r.ctx, name, ['AZRebalance'], true);
      const writes = r.ctx.clients.calls.write;
      await setProcessesSuspended(r.ctx, name, [], false);
      expect(r.ctx.clients.calls.write).toBe(writes);
      await setProcessesSuspended(r.ctx, name, ['AZRebalance'], false);
      await clearReplacement(r.ctx, name);
      return {};
    });
    const g = await describeAsg(deps.clients, name);
    expect(g.SuspendedProcesses ?? []).toEqual([]);
    expect((g.Tags ?? []).some((t) => t.Key === REPLACEMENT_TAG)).toBe(false);
  });

  it('an upgrade that replaced everything but was killed before clearing its record: every instance goes back to version 1, capacity to the baseline', async () => {
    const a = await settledGroup('node', '1');
    await newVersion(a, true);
    await beginReplacement(a);
    for (const id of a.original) {
      await a.clients.autoscaling.send(
        new TerminateInstanceInAutoScalingGroupCommand({
          InstanceId: id,
          ShouldDecrementDesiredCapacity: false,
        }),
      );
    }
    await waitSettled(a.clients, a.sb.clock, a.name);
    expect(Object.values(await instanceVersions(a))).toEqual(['2', '2', '2']);
    // One at a time, surge first: never fewer than 3 serving while the three are replaced.
    let fewestInService = Infinity;
    await sampling(
      a.sb,
      () => {
        const serving = groupNow(a.sb, a.name).instances.filter((i) => i.LifecycleState === 'InService');
        fewestInService = Math.min(fewestInService, serving.length);
      },
      () =>
        rollBack(a, {
          role: 'node',
          revert: { templateId: a.cp.launchTemplateId, version: 1, newVersion: 2, pinned: true },
        }),
    );
    expect(fewestInService).toBe(3);
    const g = await describeAsg(a.clients, a.name);
    expect({ desired: g.DesiredCapacity, min: g.MinSize, max: g.MaxSize }).toEqual(BASELINE);
    expect(active(g).map((i) => i.LaunchTemplate?.Version)).toEqual(['1', '1', '1']);
    expect((g.Tags ?? []).some((t) => t.Key === REPLACEMENT_TAG)).toBe(false);
  });

  it('names every instance it could not remove', async () => {
    const a = await settledGroup('node');
    await beginReplacement(a);
    const added = (await surge(a, 5)).sort();
    a.sb.faults.add({
      op: 'TerminateInstanceInAutoScalingGroup',
      code: 'ScalingActivityInProgress',
      message: 'busy',
    });
    const error = await rollBack(a, { role: 'node' }).then(
      () => undefined,
      (e: unknown) => e as UndoIncompleteError,
    );
    expect(error?.remaining.map((r) => r.id).sort()).toEqual(added);
    const named = added.map((id) => `${id}: ScalingActivityInProgress: busy`);
    expect([
      `${a.name} could not be put back to desired 3: ${named.join('; ')}`,
      `${a.name} could not be put back to desired 3: ${[...named].reverse().join('; ')}`,
    ]).toContain(error?.message);
  });

  it.each([
    [
      'another ValidationError',
      'ValidationError',
      'The instance is in a lifecycle state that cannot be terminated',
    ],
    [
      'a "not found" of another code',
      'ResourceContention',
      'Instance state not found in the cache, try again',
    ],
  ])(
    '%s of a terminate is a failure, named with its code, not an instance gone',
    async (_what, code, message) => {
      const a = await settledGroup('node');
      await beginReplacement(a);
      const [added] = await surge(a, 4);
      a.sb.faults.add({ op: 'TerminateInstanceInAutoScalingGroup', code, message });
      const error = await rollBack(a, { role: 'node' }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(UndoIncompleteError);
      expect((error as Error).message).toBe(
        `${a.name} could not be put back to desired 3: ${added}: ${code}: ${message}`,
      );
      expect((await describeAsg(a.clients, a.name)).DesiredCapacity).toBe(4);
    },
  );
});
