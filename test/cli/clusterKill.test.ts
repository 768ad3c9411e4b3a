// CLI end to end: `cluster create` killed with SIGKILL mid-run (no rollback, no cleanup: the sandbox
// keeps exactly the writes that happened, as AWS would), then either run again to completion — which
// converges, re-runs without writes, and deletes to nothing — or undone from its journal with
// `runs rollback`. The sandbox's calls are slowed in real time (K3SCTL_SANDBOX_BEHAVIOR realCallDelayMs)
// so that a kill lands inside the run rather than after it.
// (The killed runs are spawned CLIs; the runs around them run in process, test/helpers/inProcessCli.ts.)
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BIN, tempHomes } from '../helpers/cli';
import { runCliInProcess } from '../helpers/inProcessCli';

const home = tempHomes();

const SLOW = { K3SCTL_SANDBOX_BEHAVIOR: JSON.stringify({ realCallDelayMs: 40 }) };
const CREATE = [
  'cluster',
  'create',
  'demo',
  '--sandbox',
  '--json',
  '--yes',
  '--control-planes',
  '1',
  '--nodes',
  '1',
];

/** Starts the CLI and SIGKILLs it once `when` says so (checked every 5 ms); resolves when it is dead. */
function runAndKill(
  args: string[],
  h: string,
  when: (elapsedMs: number) => boolean,
): Promise<{ killed: boolean; code: number | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { ...process.env, K3SCTL_HOME: h, CI: 'true', ...SLOW },
      stdio: ['ignore', 'ignore', 'ignore'],
    });
    const started = Date.now();
    let killed = false;
    const timer = setInterval(() => {
      if (!killed && when(Date.now() - started)) {
        killed = true;
        child.kill('SIGKILL');
      }
    }, 5);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearInterval(timer);
      resolve({ killed, code });
    });
  });
}

function journalEntries(h: string): { status: string }[] {
  const dir = path.join(h, 'runs');
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .flatMap((f) => fs.readFileSync(path.join(dir, f), 'utf8').split('\n'))
    .filter(Boolean)
    .map((l) => {
      try {
        return JSON.parse(l) as { kind: string; status: string };
      } catch {
        return { kind: 'torn', status: '' };
      }
    })
    .filter((l) => l.kind === 'entry');
}

/** Nothing left in the account but terminated instances (visible for an hour, as in EC2). */
async function expectEmptyAccount(h: string): Promise<void> {
  const status = await runCliInProcess(['sandbox', 'status', '--json'], { home: h });
  expect(status.code).toBe(0);
  const resources = JSON.parse(status.stdout).resources as Record<string, number>;
  expect(Object.keys(resources).filter((t) => t !== 'AWS::EC2::Instance')).toEqual([]);
  const state = JSON.parse(fs.readFileSync(path.join(h, 'sandbox', 'state.json'), 'utf8'));
  const instances = Object.values(state.regions['us-east-1']?.ec2?.instances ?? {}) as { state: string }[];
  expect(instances.filter((i) => !/^(shutting-down|terminated)$/.test(i.state))).toEqual([]);
}

/** xorshift32, seeded: random kill delays that are the same on every run. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x100000000;
  };
}

describe('k3sctl cluster create killed with SIGKILL (CLI, sandbox)', () => {
  // Delays counted from the moment the run's journal appears (process start-up and lookups take ~1.5 s
  // here): with 40 ms per call the writes happen ~250-850 ms later, the waits after that.
  const random = rng(0x4b1117);
  const delays = [0, 1, 2, 3].map(() => 100 + Math.floor(random() * 800));

  it.each(delays)(
    'killed %d ms into the run: runs again to completion, then deletes to nothing',
    async (delay) => {
      const h = home();
      let runStarted: number | undefined;
      const killed = await runAndKill(CREATE, h, (ms) => {
        if (
          runStarted === undefined &&
          fs.existsSync(path.join(h, 'runs')) &&
          fs.readdirSync(path.join(h, 'runs')).length
        )
          runStarted = ms;
        return runStarted !== undefined && ms - runStarted >= delay;
      });
      expect(killed.killed).toBe(true);
      // Writes made before the kill are in the account (persisted per write), as many as the journal says.
      const done = journalEntries(h).filter((e) => e.status === 'done').length;
      if (done > 0)
        expect(
          JSON.parse(fs.readFileSync(path.join(h, 'sandbox', 'state.json'), 'utf8')).calls.write,
        ).toBeGreaterThanOrEqual(done);
      const again = await runCliInProcess(CREATE, { home: h });
      expect(again.code).toBe(0);
      const noop = await runCliInProcess(CREATE, { home: h });
      expect(noop.code).toBe(0);
      expect(JSON.parse(noop.stdout).apiCalls.write).toBe(0);
      const described = JSON.parse(
        (await runCliInProcess(['cluster', 'describe', 'demo', '--sandbox', '--json'], { home: h })).stdout,
      );
      expect(
        described.groups.map((g: { name: string; instances: { lifecycleState: string }[] }) => [
          g.name,
          g.instances.filter((i) => i.lifecycleState === 'InService').length,
        ]),
      ).toEqual([
        ['control-plane', 1],
        ['nodes', 1],
      ]);
      const deleted = await runCliInProcess(['cluster', 'delete', 'demo', '--sandbox', '--yes', '--json'], {
        home: h,
      });
      expect(deleted.code).toBe(0);
      await expectEmptyAccount(h);
    },
    120_000,
  );

  it('killed mid-write: the writes it made are in the account and `runs rollback` undoes them', async () => {
    const h = home();
    // Killed once at least 6 writes are journaled as done.
    const killed = await runAndKill(
      CREATE,
      h,
      () => journalEntries(h).filter((e) => e.status === 'done').length >= 6,
    );
    expect(killed.killed).toBe(true);
    const runs = JSON.parse((await runCliInProcess(['runs', 'list', '--json'], { home: h })).stdout).runs as {
      runId: string;
      status: string;
      pendingUndo: number;
    }[];
    expect(runs).toHaveLength(1);
    expect(runs[0].status).toBe('crashed');
    expect(runs[0].pendingUndo).toBeGreaterThanOrEqual(6);
    // The sandbox persisted each write as it happened: the account holds them although the process died.
    const before = JSON.parse((await runCliInProcess(['sandbox', 'status', '--json'], { home: h })).stdout);
    expect(before.calls.write).toBeGreaterThanOrEqual(6);
    expect(Object.keys(before.resources).length).toBeGreaterThan(0);

    const rolledBack = await runCliInProcess(['runs', 'rollback', runs[0].runId, '--sandbox', '--yes', '--json'], {
      home: h,
    });
    expect(rolledBack.code).toBe(0);
    const result = JSON.parse(rolledBack.stdout);
    expect(result.leftovers).toEqual([]);
    expect(result.rolledBack.length).toBeGreaterThanOrEqual(6);
    await expectEmptyAccount(h);
    const after = JSON.parse((await runCliInProcess(['runs', 'list', '--json'], { home: h })).stdout).runs;
    expect(after[0]).toMatchObject({ runId: runs[0].runId, status: 'rolled-back', pendingUndo: 0 });
  }, 120_000);
});
