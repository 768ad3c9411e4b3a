// `recycle` and `upgrade` of a 3-control-plane group killed at every position of their journal, then
// recovered both ways a user would: the same command run again (from another process: a new journal),
// or `runs rollback` of the killed run. A kill is emulated in-process the way SIGKILL leaves things:
// from the chosen journal line on, the run makes no further call and writes no further line (its
// calls hang), so the account holds exactly the writes that happened. Two variants per line: killed
// before the call the line announces, and killed after AWS did it but before the journal said so.
// Every recovery must end at the capacity the group had before (3/3/3, an odd etcd member count),
// with no process left suspended, no replacement record, never more than one surge instance, and
// never fewer than 3 control planes InService while it works.
import type { Pluggable } from '@smithy/types';
import { ResumeProcessesCommand } from '@aws-sdk/client-auto-scaling';
import { DescribeLaunchTemplateVersionsCommand } from '@aws-sdk/client-ec2';
import { AwsClients } from '../../../src/aws/clients';
import { InterruptedError, UserError } from '../../../src/core/errors';
import { RunFailedError, type WorkflowDeps } from '../../../src/orchestration/deps';
import * as fs from 'node:fs';
import { FileJournal, journalPath } from '../../../src/orchestration/engine/journal';
import { rollbackRun } from '../../../src/orchestration/engine/rollback';
import type { JournalEntry } from '../../../src/provider/types';
import { recycle } from '../../../src/orchestration/workflows/recycle';
import { upgrade } from '../../../src/orchestration/workflows/upgrade';
import { clusterDescribe } from '../../../src/orchestration/workflows/clusterDescribe';
import { REPLACEMENT_TAG } from '../../../src/resources/replacementRecord';
import { Sandbox } from '../../../src/sandbox/sandbox';
import {
  bumpLaunchTemplate,
  createAsgFixture,
  describeAsg,
  fixtureK3sVersion,
  storeFixtureModel,
  waitSettled,
  type AsgFixture,
} from '../../helpers/asgFixture';
import { removeTestHomes, sandboxDeps } from '../../helpers/sandboxDeps';
import { describeGroupsHandler, groupNow, sampling } from '../../helpers/sandboxWatch';

jest.setTimeout(300_000);
afterAll(removeTestHomes);

type Workflow = 'recycle' | 'upgrade';
type Mode = 'before-call' | 'after-call';

interface Setup {
  sb: Sandbox;
  home: string;
  cp: AsgFixture;
  deps: WorkflowDeps;
}

const TARGET = 'v1.31.7+k3s1';
const spec = { cluster: 'demo', strategy: 'rolling' as const, nodeReadiness: false as const };

/** A settled 3-control-plane group; for recycle its launch template moves on (all 3 out of date), for upgrade the stored model declares it. */
async function setup(workflow: Workflow): Promise<Setup> {
  const sb = new Sandbox();
  const { deps, home } = sandboxDeps(sb);
  // A pinned version number, as `cluster create` makes them, for upgrade; `$Default` for recycle.
  const cp = await createAsgFixture(deps.clients, {
    role: 'control-plane',
    size: 3,
    minSize: 3,
    ...(workflow === 'upgrade' ? { versionRef: '1' } : {}),
  });
  await waitSettled(deps.clients, deps.clock, cp.autoScalingGroupName);
  if (workflow === 'recycle') await bumpLaunchTemplate(deps.clients, cp);
  // What upgrade edits and renders from.
  else await storeFixtureModel(deps.clients, [cp]);
  return { sb, home, cp, deps };
}

function start(workflow: Workflow, deps: WorkflowDeps): Promise<unknown> {
  return workflow === 'recycle' ? recycle(deps, spec) : upgrade(deps, { ...spec, k3sVersion: TARGET });
}

// ---- the emulated SIGKILL -------------------------------------------------------------------------

interface Kill {
  at: number;
  mode: Mode;
  lines: number;
  killed: boolean;
  /** Calls let through after the kill line (the call AWS did before the process died). */
  letThrough: number;
  frozen: () => void;
}

const kills = new Map<string, Kill>();
const put = (FileJournal.prototype as unknown as { put: (e: JournalEntry) => void }).put;
beforeAll(() => {
  jest
    .spyOn(FileJournal.prototype as unknown as { put: (e: JournalEntry) => void }, 'put')
    .mockImplementation(function (this: FileJournal, entry: JournalEntry) {
      const kill = kills.get(this.runId);
      if (kill?.killed) return; // a dead process writes nothing
      put.call(this, entry);
      if (!kill) return;
      kill.lines += 1;
      if (kill.lines === kill.at) {
        kill.killed = true;
        kill.letThrough = kill.mode === 'after-call' && entry.status === 'intended' ? 1 : 0;
      }
    });
  // Nor does it record an outcome: killed after its last line, it still ends without one (crashed).
  const end = FileJournal.prototype.end;
  jest.spyOn(FileJournal.prototype, 'end').mockImplementation(function (this: FileJournal, ...args) {
    if (kills.get(this.runId)?.killed) return;
    end.apply(this, args);
  });
});
afterAll(() => jest.restoreAllMocks());

/** Deps of a run that dies at journal line `at`; resolves with its run id once it is frozen, or when it ended first. */
async function runKilled(
  s: Setup,
  workflow: Workflow,
  at: number,
  mode: Mode,
): Promise<{ runId: string; killed: boolean; lines: number }> {
  const { deps } = sandboxDeps(s.sb, { home: s.home });
  let frozen!: () => void;
  const isFrozen = new Promise<void>((resolve) => (frozen = resolve));
  const kill: Kill = { at, mode, lines: 0, killed: false, letThrough: 0, frozen };
  kills.set(deps.runId, kill);
  const hang: Pluggable<object, object> = {
    applyToStack: (stack) =>
      stack.add(
        (next) => async (args) => {
          if (kill.killed) {
            if (kill.letThrough > 0) {
              kill.letThrough -= 1;
              await next(args).catch(() => undefined);
            }
            kill.frozen();
            return new Promise(() => undefined);
          }
          return next(args);
        },
        { step: 'initialize', priority: 'high', name: 'emulatedSigkill' },
      ),
  };
  const clients = new AwsClients({
    ...deps.clients.options,
    plugins: [...(deps.clients.options.plugins ?? []), hang],
  });
  const running = start(workflow, { ...deps, clients }).then(
    () => undefined,
    () => undefined,
  );
  await Promise.race([running, isFrozen]);
  if (kill.killed) buryProcess(deps);
  return { runId: deps.runId, killed: kill.killed, lines: kill.lines };
}

/** The kill's last part: the journal's process (this one, as the run was in-process) is a dead one now. */
function buryProcess(deps: WorkflowDeps): void {
  const file = journalPath(deps.home, deps.runId);
  const [header, ...rest] = fs.readFileSync(file, 'utf8').split('\n');
  const dead = { ...JSON.parse(header), pid: DEAD_PID };
  fs.writeFileSync(file, [JSON.stringify(dead), ...rest].join('\n'));
}

/** Above Linux's pid_max (4194304): no process has it. */
const DEAD_PID = 4_194_305;

// ---- what must hold after recovery ---------------------------------------------------------------

async function expectOriginal(s: Setup, workflow: Workflow, recovery: 'rerun' | 'rollback'): Promise<void> {
  const name = s.cp.autoScalingGroupName;
  await waitSettled(s.deps.clients, s.deps.clock, name);
  const g = await describeAsg(s.deps.clients, name);
  const active = (g.Instances ?? []).filter((i) => !/^(Terminat|Detach)/.test(String(i.LifecycleState)));
  expect({
    desired: g.DesiredCapacity,
    min: g.MinSize,
    max: g.MaxSize,
    members: active.length,
    inService: active.filter((i) => i.LifecycleState === 'InService').length,
    suspended: (g.SuspendedProcesses ?? []).map((p) => p.ProcessName),
    record: (g.Tags ?? []).filter((t) => t.Key === REPLACEMENT_TAG).length,
  }).toEqual({ desired: 3, min: 3, max: 3, members: 3, inService: 3, suspended: [], record: 0 });
  const versions = [...new Set(active.map((i) => i.LaunchTemplate?.Version))];
  if (workflow === 'recycle') {
    // Rolled back or not, every member runs the template's current version (2, made in setup).
    if (recovery === 'rerun') expect(versions).toEqual(['2']);
    return;
  }
  // Upgrade: every member on the version the group pins; a re-run's boots the new k3s, a rollback's is
  // back at version 1 (no instance left on a version the rollback undid).
  const pinned = g.LaunchTemplate?.Version;
  expect(versions).toEqual([pinned]);
  if (recovery === 'rollback') expect(pinned).toBe('1');
  else expect(await k3sVersionOf(s, pinned!)).toBe(TARGET);
}

async function k3sVersionOf(s: Setup, version: string): Promise<string> {
  const out = await s.deps.clients.ec2.send(
    new DescribeLaunchTemplateVersionsCommand({
      LaunchTemplateId: s.cp.launchTemplateId,
      Versions: [version],
    }),
  );
  return fixtureK3sVersion(out.LaunchTemplateVersions![0].LaunchTemplateData!.UserData!);
}

/** Runs `recover` while sampling the group at every instant: never below 3 InService, never above 4 desired. */
async function watched(s: Setup, recover: () => Promise<void>): Promise<void> {
  let lowest = Infinity;
  let highest = 0;
  await sampling(
    s.sb,
    () => {
      const g = groupNow(s.sb, s.cp.autoScalingGroupName);
      lowest = Math.min(lowest, g.instances.filter((i) => i.LifecycleState === 'InService').length);
      highest = Math.max(highest, g.DesiredCapacity);
    },
    () => recover(),
  );
  expect(lowest).toBeGreaterThanOrEqual(3);
  expect(highest).toBeLessThanOrEqual(4);
}

async function journalLines(workflow: Workflow): Promise<number> {
  const s = await setup(workflow);
  const run = await runKilled(s, workflow, Number.MAX_SAFE_INTEGER, 'before-call');
  expect(run.killed).toBe(false);
  return run.lines;
}

const trials: Record<Workflow, { rerun: number; rollback: number }> = {
  recycle: { rerun: 0, rollback: 0 },
  upgrade: { rerun: 0, rollback: 0 },
};

afterAll(() => {
  // The closing note's trial counts.
  process.stdout.write(`replacement crash trials: ${JSON.stringify(trials)}\n`);
});

describe.each(['recycle', 'upgrade'] as Workflow[])(
  '%s of 3 control planes killed at every journal line',
  (workflow) => {
    it('a re-run and `runs rollback` both end at 3/3/3 with 3 members, from every kill point', async () => {
      const total = await journalLines(workflow);
      // Every line of a 3-control-plane replacement: 3 batches of surge + terminate, plus prepare and restore.
      expect(total).toBeGreaterThanOrEqual(24);
      for (let at = 1; at <= total; at++) {
        for (const mode of ['before-call', 'after-call'] as Mode[]) {
          for (const recovery of ['rerun', 'rollback'] as const) {
            const s = await setup(workflow);
            const killed = await runKilled(s, workflow, at, mode);
            expect(killed.killed).toBe(true);
            const { deps } = sandboxDeps(s.sb, { home: s.home });
            await watched(s, async () => {
              if (recovery === 'rerun') await start(workflow, deps);
              else expect((await rollbackRun(deps, killed.runId)).leftovers).toEqual([]);
            });
            try {
              await expectOriginal(s, workflow, recovery);
            } catch (error) {
              throw new Error(
                `killed at journal line ${at}/${total} (${mode}), ${recovery}: ${String(error)}`,
              );
            }
            trials[workflow][recovery] += 1;
          }
        }
      }
    });
  },
);

describe('a replacement and its results', () => {
  it('is shown by cluster describe, with the capacity it returns to and the run that left it', async () => {
    const s = await setup('recycle');
    // Killed just after the first surge instance was asked for.
    const killed = await runKilled(s, 'recycle', 8, 'after-call');
    expect(killed.killed).toBe(true);
    const described = await clusterDescribe(sandboxDeps(s.sb, { home: s.home }).deps, 'demo');
    const cp = described.groups.find((g) => g.role === 'control-plane')!;
    expect(cp.replacement).toEqual({
      run: killed.runId,
      since: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      desired: 3,
      min: 3,
      max: 3,
      suspended: ['AZRebalance', 'ScheduledActions', 'AlarmNotification'],
    });
  });

  it('keeps processes the user had suspended before it, and resumes only those k3sctl suspended', async () => {
    const s = await setup('recycle');
    const { SuspendProcessesCommand } = await import('@aws-sdk/client-auto-scaling');
    await s.deps.clients.autoscaling.send(
      new SuspendProcessesCommand({
        AutoScalingGroupName: s.cp.autoScalingGroupName,
        ScalingProcesses: ['AZRebalance'],
      }),
    );
    const killed = await runKilled(s, 'recycle', 10, 'before-call');
    expect(killed.killed).toBe(true);
    await start('recycle', sandboxDeps(s.sb, { home: s.home }).deps);
    const g = await describeAsg(s.deps.clients, s.cp.autoScalingGroupName);
    expect((g.SuspendedProcesses ?? []).map((p) => p.ProcessName)).toEqual(['AZRebalance']);
    await s.deps.clients.autoscaling.send(
      new ResumeProcessesCommand({ AutoScalingGroupName: s.cp.autoScalingGroupName }),
    );
  });

  it('a rollback that cannot remove the surge instance lists it by kind and id, and the record stays', async () => {
    const s = await setup('recycle');
    const name = s.cp.autoScalingGroupName;
    const controller = new AbortController();
    // Interrupted (Ctrl-C) once the first surge instance is InService: the run rolls back at once.
    s.sb.faults.add({
      op: 'TerminateInstanceInAutoScalingGroup',
      code: 'AccessDenied',
      message: 'not allowed',
    });
    const { deps } = sandboxDeps(s.sb, { home: s.home });
    const error = await sampling(
      s.sb,
      () => {
        const g = groupNow(s.sb, name);
        if (g.instances.filter((i) => i.LifecycleState === 'InService').length === 4)
          controller.abort(new InterruptedError());
      },
      () => recycle(deps, spec, { signal: controller.signal }),
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RunFailedError);
    const failure = error as RunFailedError;
    const before = new Set((await describeAsg(s.deps.clients, name)).Instances!.map((i) => i.InstanceId));
    expect(failure.leftovers).toEqual([
      {
        type: 'AWS::EC2::Instance',
        name: expect.stringMatching(new RegExp(`^${name}/i-`)),
        id: expect.stringMatching(/^i-/),
        error: expect.stringMatching(/could not be put back to desired 3: i-\w+: AccessDenied: not allowed/),
      },
    ]);
    // The capacity, process and tag writes are all put back by the record's restore: none is "kept".
    expect(failure.notRolledBack).toEqual([]);
    const surge = failure.leftovers[0].id!;
    expect(before.has(surge)).toBe(true);
    // Not lowered by hand (the group would choose what goes): still 4, still recorded as unfinished.
    const g = await describeAsg(s.deps.clients, name);
    expect(g.DesiredCapacity).toBe(4);
    expect((g.Tags ?? []).some((t) => t.Key === REPLACEMENT_TAG)).toBe(true);

    // Once the call is allowed, `runs rollback` of the same run finishes the job: the surge instance goes.
    s.sb.faults.clear();
    const again = await rollbackRun(sandboxDeps(s.sb, { home: s.home }).deps, deps.runId);
    expect(again.leftovers).toEqual([]);
    await expectOriginal(s, 'recycle', 'rollback');
    const left = (await describeAsg(s.deps.clients, name)).Instances!.filter(
      (i) => i.LifecycleState === 'InService',
    );
    expect(left.map((i) => i.InstanceId)).not.toContain(surge);
  });

  it('`cluster describe` right after an upgrade shows every remaining instance up to date, none leaving', async () => {
    const s = await setup('upgrade');
    const { deps } = sandboxDeps(s.sb, { home: s.home });
    await upgrade(deps, { ...spec, k3sVersion: TARGET });
    const described = await clusterDescribe(sandboxDeps(s.sb, { home: s.home }).deps, 'demo');
    const instances = described.groups.flatMap((g) => g.instances);
    expect(instances).toHaveLength(3);
    expect(instances.map((i) => [i.upToDate, i.leaving, i.lifecycleState])).toEqual(
      Array(3).fill([true, false, 'InService']),
    );
    expect(described.outOfDate).toBe(0);
    expect(described.groups[0].replacement).toBeUndefined();
  });

  it('a second run while the first is still replacing the group is refused before any write', async () => {
    const s = await setup('recycle');
    const name = s.cp.autoScalingGroupName;
    const first = sandboxDeps(s.sb, { home: s.home }).deps;
    const running = recycle(first, spec);
    const recorded = () => {
      const out = describeGroupsHandler(s.sb.context('us-east-1'), { AutoScalingGroupNames: [name] }) as {
        AutoScalingGroups: { Tags?: { Key: string }[] }[];
      };
      return (out.AutoScalingGroups[0].Tags ?? []).some((t) => t.Key === REPLACEMENT_TAG);
    };
    while (!recorded()) await s.sb.clock.sleep(1_000);
    const second = sandboxDeps(s.sb, { home: s.home }).deps;
    const refused = await recycle(second, spec).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(UserError);
    expect((refused as UserError).message).toMatch(
      new RegExp(`${name} is being replaced by run ${first.runId}, which is still running`),
    );
    expect(second.clients.calls.snapshot().write).toBe(0);
    await running;
    await expectOriginal(s, 'recycle', 'rerun');
  });
});
