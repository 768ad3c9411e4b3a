// CLI end to end with a real SIGKILL: `recycle` and `upgrade` of a 3-control-plane cluster killed once
// the first surge is under way (the sandbox persists each write as it happens, as AWS would), then
// finished by running the command again or undone by `runs rollback`; and a rollback that cannot
// remove the surge instance exits 3 naming it, with the command that finishes the job. The in-process
// tests (test/orchestration/workflows/replacementCrash.test.ts) kill at every journal line; these
// prove the same on a real process that dies without running another instruction.
// (The killed runs are spawned CLIs; the runs around them run in process, test/helpers/inProcessCli.ts.)
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tempHomes } from '../helpers/cli';
import { runCliInProcess } from '../helpers/inProcessCli';
import { runAndKill as kill, surged } from '../helpers/killCli';

jest.setTimeout(180_000);
const home = tempHomes();
const SLOW = { K3SCTL_SANDBOX_BEHAVIOR: JSON.stringify({ realCallDelayMs: 40 }) };
const runAndKill: typeof kill = (args, h, when) => kill(args, h, when, SLOW);

const CREATE = [
  'cluster',
  'create',
  'demo',
  '--sandbox',
  '--yes',
  '--json',
  '--control-planes',
  '3',
  '--nodes',
  '1',
];

async function cluster(h: string): Promise<void> {
  const created = await runCliInProcess(CREATE, { home: h });
  expect(created.code).toBe(0);
  fs.rmSync(path.join(h, 'runs'), { recursive: true, force: true });
}

async function controlPlanes(h: string): Promise<{
  desired: number;
  min: number;
  max: number;
  replacement?: unknown;
  instances: { id: string; lifecycleState: string; upToDate: boolean; launchTemplateVersion: string }[];
}> {
  const out = await runCliInProcess(['cluster', 'describe', 'demo', '--sandbox', '--json'], { home: h });
  expect(out.code).toBe(0);
  return JSON.parse(out.stdout).groups.find((g: { role: string }) => g.role === 'control-plane');
}

function crashedRun(h: string): string {
  return fs.readdirSync(path.join(h, 'runs'))[0].replace(/\.jsonl$/, '');
}

async function expectOriginal(h: string): Promise<void> {
  const cp = await controlPlanes(h);
  expect([cp.desired, cp.min, cp.max, cp.replacement]).toEqual([3, 3, 3, undefined]);
  expect(cp.instances.map((i) => [i.lifecycleState, i.upToDate])).toEqual(Array(3).fill(['InService', true]));
}

describe('recycle and upgrade killed with SIGKILL mid-surge (CLI, sandbox)', () => {
  it('recycle: the re-run finishes at 3/3/3 (no second surge), from another process', async () => {
    const h = home();
    await cluster(h);
    const recycle = ['recycle', 'demo', '--sandbox', '--yes', '--json', '--group', 'control-plane'];
    expect(await runAndKill([...recycle, '--force'], h, surged)).toBe(true);
    const during = await controlPlanes(h);
    expect(during.replacement).toMatchObject({ desired: 3, min: 3, max: 3, run: crashedRun(h) });
    // Converging the group now would let it choose which instance goes: refused, nothing written.
    const writes = async () =>
      JSON.parse((await runCliInProcess(['sandbox', 'status', '--json'], { home: h })).stdout).calls.write;
    const before = await writes();
    const create = await runCliInProcess(CREATE, { home: h });
    expect(create.code).toBe(2);
    expect(create.stderr).toMatch(/k3sctl-demo-control-plane has an unfinished replacement \(run \S+\)/);
    expect(create.stderr).toMatch(/finish it with k3sctl recycle demo/);
    expect(await writes()).toBe(before);
    const again = await runCliInProcess(recycle, { home: h });
    expect(again.code).toBe(0);
    await expectOriginal(h);
  });

  it('recycle: `runs rollback` that cannot remove the surge instance exits 3 naming it; run again, it finishes', async () => {
    const h = home();
    await cluster(h);
    expect(
      await runAndKill(
        ['recycle', 'demo', '--sandbox', '--yes', '--force', '--group', 'control-plane'],
        h,
        surged,
      ),
    ).toBe(true);
    const run = crashedRun(h);
    const denied = await runCliInProcess(['runs', 'rollback', run, '--yes', '--json'], {
      home: h,
      env: { K3SCTL_SANDBOX_FAULTS: 'TerminateInstanceInAutoScalingGroup=AccessDenied' },
    });
    expect(denied.code).toBe(3);
    const error = JSON.parse(denied.stdout).error;
    expect(error.leftovers).toEqual([
      {
        type: 'AWS::EC2::Instance',
        name: expect.stringMatching(/^k3sctl-demo-control-plane\/i-\w+$/),
        id: expect.stringMatching(/^i-\w+$/),
        error: expect.stringMatching(/AccessDenied/),
      },
    ]);
    expect(error.cleanup).toBe(`k3sctl runs rollback ${run}`);
    expect(denied.stderr).toContain(`AWS::EC2::Instance k3sctl-demo-control-plane/${error.leftovers[0].id}`);
    expect(denied.stderr).toContain(`Retry the cleanup with: k3sctl runs rollback ${run}`);
    expect(denied.stderr).not.toMatch(/nothing this run created is left/);

    const finished = await runCliInProcess(['runs', 'rollback', run, '--yes', '--json'], { home: h });
    expect(finished.code).toBe(0);
    expect(JSON.parse(finished.stdout).leftovers).toEqual([]);
    const cp = await controlPlanes(h);
    expect([cp.desired, cp.min, cp.max, cp.replacement]).toEqual([3, 3, 3, undefined]);
    expect(cp.instances.filter((i) => i.lifecycleState === 'InService').map((i) => i.id)).not.toContain(
      error.leftovers[0].id,
    );
  });

  it('upgrade: the re-run finishes with every instance up to date; a rollback of another kill puts the old version back', async () => {
    const h = home();
    await cluster(h);
    const before = await controlPlanes(h);
    const described = JSON.parse(
      (await runCliInProcess(['cluster', 'describe', 'demo', '--sandbox', '--json'], { home: h })).stdout,
    );
    const [major, minor, patch] = /^v(\d+)\.(\d+)\.(\d+)/.exec(described.k3sVersion)!.slice(1).map(Number);
    const next = `v${major}.${minor}.${patch + 1}+k3s1`;
    const upgrade = [
      'upgrade',
      'demo',
      '--k3s-version',
      next,
      '--sandbox',
      '--yes',
      '--json',
      '--group',
      'control-plane',
    ];
    expect(await runAndKill(upgrade, h, surged)).toBe(true);
    const again = await runCliInProcess(upgrade, { home: h });
    expect(again.code).toBe(0);
    await expectOriginal(h);

    // Killed again mid-surge (to the patch after), then rolled back: every member back on the version it had.
    const upgraded = await controlPlanes(h);
    fs.rmSync(path.join(h, 'runs'), { recursive: true, force: true });
    const further = upgrade.map((a) => (a === next ? `v${major}.${minor}.${patch + 2}+k3s1` : a));
    expect(await runAndKill(further, h, surged)).toBe(true);
    const rolledBack = await runCliInProcess(['runs', 'rollback', crashedRun(h), '--yes', '--json'], { home: h });
    expect(rolledBack.code).toBe(0);
    await expectOriginal(h);
    const after = await controlPlanes(h);
    expect(after.instances.map((i) => i.launchTemplateVersion)).toEqual(
      Array(3).fill(upgraded.instances[0].launchTemplateVersion),
    );
    expect(before.instances[0].launchTemplateVersion).not.toBe(upgraded.instances[0].launchTemplateVersion);
  });
});
