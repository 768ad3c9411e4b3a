// `runs rollback` of a recorded run: when it refuses (another region, a run still in progress, a run
// that succeeded), what it undoes and in which order, what it reports, and `runs list` / describe.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { PutParameterCommand } from '@aws-sdk/client-ssm';
import { UserError } from '../../../src/core/errors';
import {
  describeRun,
  journaledWrite,
  journalPath,
  listRuns,
  openRun,
  rollbackRun,
} from '../../../src/orchestration/engine';
import { parseJournal } from '../../../src/orchestration/engine/journal';
import { undoableEntries, undoJournal } from '../../../src/orchestration/engine/rollback';
import type { JournalEntry } from '../../../src/provider/types';
import { UndoIncompleteError, type Provider } from '../../../src/provider/provider';
import { Sandbox } from '../../../src/sandbox/sandbox';
import { removeTestHomes, sandboxDeps, testHome, testProviders } from '../../helpers/sandboxDeps';
import { PARAMETER_TYPE, readParameter, sixTasks } from '../fixtures/parameterTask';

afterAll(removeTestHomes);

/** A run that created /NAME/a and then "crashed" (no end line); returns its id. */
async function crashedRun(sb: Sandbox, home: string, prefix: string, title = 'crashing'): Promise<string> {
  const { deps } = sandboxDeps(sb, { home });
  const run = openRun(deps, title);
  await run.apply(sixTasks(prefix).slice(0, 1));
  return deps.runId;
}

/** Rewrites the header line of a journal (as if written by another process, host or region). */
function patchHeader(home: string, runId: string, patch: Record<string, unknown>): void {
  const file = journalPath(home, runId);
  const [header, ...rest] = fs.readFileSync(file, 'utf8').split('\n');
  const next = { ...JSON.parse(header), ...patch };
  for (const [k, v] of Object.entries(patch)) if (v === undefined) delete next[k];
  fs.writeFileSync(file, [JSON.stringify(next), ...rest].join('\n'));
}

/** A process that lives until killed (another k3sctl still running). */
function liveProcess(): ChildProcess {
  return spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
}

async function refusal(promise: Promise<unknown>): Promise<UserError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(UserError);
  return err as UserError;
}

describe('runs rollback refuses what it must not undo', () => {
  let child: ChildProcess | undefined;
  afterEach(() => {
    child?.kill('SIGKILL');
    child = undefined;
  });

  it('refuses a run made in another region, even with --force, and names the command that works', async () => {
    const sb = new Sandbox();
    const home = testHome();
    const runId = await crashedRun(sb, home, '/region');
    for (const force of [false, true]) {
      const err = await refusal(
        rollbackRun(sandboxDeps(sb, { home, region: 'eu-west-1' }).deps, runId, { force }),
      );
      expect(err).toMatchObject({
        message: `run ${runId} made its changes in us-east-1, not eu-west-1`,
        suggestion: `run \`k3sctl runs rollback ${runId} --region us-east-1\``,
        field: '--region',
      });
    }
    expect(sb.inventory().map((i) => i.id)).toEqual(['/region/a']);
    expect(fs.readFileSync(journalPath(home, runId), 'utf8')).not.toMatch(/"kind":"end"/);
  });

  it('rolls back a run whose journal names no region in whatever region it is given', async () => {
    const sb = new Sandbox();
    const home = testHome();
    const runId = await crashedRun(sb, home, '/noregion');
    patchHeader(home, runId, { region: '' });
    const result = await rollbackRun(sandboxDeps(sb, { home }).deps, runId);
    expect(result.rolledBack).toEqual([{ type: PARAMETER_TYPE, name: '/noregion/a', id: '/noregion/a' }]);
    expect(sb.inventory()).toEqual([]);
  });

  it('refuses a run whose process is still alive on this host, unless forced', async () => {
    const sb = new Sandbox();
    const home = testHome();
    const runId = await crashedRun(sb, home, '/alive');
    child = liveProcess();
    patchHeader(home, runId, { pid: child.pid, host: os.hostname() });
    const err = await refusal(rollbackRun(sandboxDeps(sb, { home }).deps, runId));
    expect(err).toMatchObject({
      message: `run ${runId} is still in progress (process ${child.pid})`,
      suggestion: 'wait for it to finish, or stop it first; --force overrides',
    });
    expect(sb.inventory()).toHaveLength(1);
    expect(listRuns(home)[0]).toMatchObject({ runId, status: 'running' });

    // A journal from before hosts were recorded is judged by its pid alone.
    patchHeader(home, runId, { host: undefined });
    await refusal(rollbackRun(sandboxDeps(sb, { home }).deps, runId));

    expect(
      (await rollbackRun(sandboxDeps(sb, { home }).deps, runId, { force: true })).rolledBack,
    ).toHaveLength(1);
    expect(sb.inventory()).toEqual([]);
  });

  it('rolls back a run whose process is gone, or ran on another host, or is unknown', async () => {
    const sb = new Sandbox();
    const home = testHome();
    child = liveProcess();
    const dead = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
    await new Promise((resolve) => dead.on('exit', resolve));
    for (const [prefix, header] of [
      ['/gone', { pid: dead.pid, host: os.hostname() }],
      ['/elsewhere', { pid: child.pid, host: `${os.hostname()}-other` }],
      ['/nopid', { pid: undefined, host: os.hostname() }],
    ] as const) {
      const runId = await crashedRun(sb, home, prefix);
      patchHeader(home, runId, header);
      expect(listRuns(home).find((r) => r.runId === runId)?.status).toBe('crashed');
      expect((await rollbackRun(sandboxDeps(sb, { home }).deps, runId)).rolledBack).toEqual([
        { type: PARAMETER_TYPE, name: `${prefix}/a`, id: `${prefix}/a` },
      ]);
    }
    expect(sb.inventory()).toEqual([]);
  });

  it('treats a process it may not signal (EPERM) as alive, any other answer as gone', async () => {
    const sb = new Sandbox();
    const home = testHome();
    const runId = await crashedRun(sb, home, '/eperm');
    patchHeader(home, runId, { pid: 4_000_000, host: os.hostname() });
    const kill = jest.spyOn(process, 'kill');
    try {
      kill.mockImplementation(() => {
        throw Object.assign(new Error('operation not permitted'), { code: 'EPERM' });
      });
      await refusal(rollbackRun(sandboxDeps(sb, { home }).deps, runId));
      expect(listRuns(home)[0].status).toBe('running');
      kill.mockImplementation(() => {
        throw Object.assign(new Error('no such process'), { code: 'ESRCH' });
      });
      expect(listRuns(home)[0].status).toBe('crashed');
      expect((await rollbackRun(sandboxDeps(sb, { home }).deps, runId)).rolledBack).toHaveLength(1);
    } finally {
      kill.mockRestore();
    }
  });

  it('a run that ended (failed, rollback incomplete) is rolled back even while its process lives', async () => {
    const sb = new Sandbox();
    const home = testHome();
    const runId = await crashedRun(sb, home, '/ended');
    fs.appendFileSync(
      journalPath(home, runId),
      `${JSON.stringify({ kind: 'end', outcome: 'rollback-incomplete', at: 1 })}\n`,
    );
    child = liveProcess();
    patchHeader(home, runId, { pid: child.pid, host: os.hostname() });
    expect((await rollbackRun(sandboxDeps(sb, { home }).deps, runId)).rolledBack).toHaveLength(1);
    expect(listRuns(home)[0]).toMatchObject({ status: 'rolled-back', pendingUndo: 0 });
  });

  it('refuses a run that succeeded unless forced, naming it and what to use instead', async () => {
    const sb = new Sandbox();
    const home = testHome();
    const { deps } = sandboxDeps(sb, { home });
    const run = openRun(deps, 'parameter create');
    await run.apply(sixTasks('/done').slice(0, 1));
    run.journal.end('succeeded');
    const err = await refusal(rollbackRun(sandboxDeps(sb, { home }).deps, deps.runId));
    expect(err).toMatchObject({
      message: `run ${deps.runId} (parameter create) succeeded; rolling it back would undo a finished change`,
      suggestion: 'use the matching delete command, or --force to undo it anyway',
    });
    expect(listRuns(home)[0]).toMatchObject({ status: 'succeeded', writes: 1, pendingUndo: 0 });
    expect(sb.inventory()).toHaveLength(1);
  });
});

describe('undoing a journal', () => {
  const BUSY = 'Test::Busy';
  const PARTIAL = 'Test::Partial';
  const busy: Provider = { type: BUSY, dependsOn: [], undo: {
      async delete(clients, data) {
        await clients.ssm.send(
          new PutParameterCommand({
            Name: String(data.marker),
            Value: 'undone',
            Type: 'String',
            Overwrite: true,
          }),
        );
      },
  } };

  const partial: Provider = { type: PARTIAL, dependsOn: [], undo: {
      async restore(_clients, data) {
        throw new UndoIncompleteError(
          'could not put everything back',
          data.remaining as { type: string; name: string }[],
        );
      },
  } };
  const providers = testProviders.with(busy, partial);


  it('undoes newest first, says what it does in events, and records each outcome in the journal', async () => {
    const sb = new Sandbox();
    const home = testHome();
    const { deps } = sandboxDeps(sb, { home, providers });
    const run = openRun(deps, 'mixed');
    await run.step('writes', async (ctx) => {
      await journaledWrite(
        ctx,
        {
          action: 'create',
          type: PARAMETER_TYPE,
          name: '/m/a',
          undo: { type: PARAMETER_TYPE, action: 'delete', data: { name: '/m/a' } },
        },
        () => ctx.clients.ssm.send(new PutParameterCommand({ Name: '/m/a', Value: 'v', Type: 'String' })),
        () => ({ id: 'id-a' }),
      );
      await journaledWrite(ctx, { action: 'update', type: 'Test::NoUndo', name: 'kept' }, async () => 'ok');
      await journaledWrite(
        ctx,
        {
          action: 'update',
          type: PARTIAL,
          name: 'p',
          undo: {
            type: PARTIAL,
            action: 'restore',
            data: {
              remaining: [
                { type: 'AWS::EC2::Instance', name: 'i-1', id: 'i-1' },
                { type: 'AWS::EC2::Instance', name: 'i-2' },
              ],
            },
          },
        },
        async () => 'ok',
      );
      await journaledWrite(
        ctx,
        {
          action: 'update',
          type: PARTIAL,
          name: 'q',
          undo: { type: PARTIAL, action: 'restore', data: { remaining: [] } },
        },
        async () => 'ok',
      );
      await journaledWrite(
        ctx,
        {
          action: 'update',
          type: BUSY,
          name: 'b',
          undo: { type: BUSY, action: 'restore', data: { marker: '/m/marker' } },
        },
        async () => 'ok',
      );
    });
    const second = sandboxDeps(sb, { home, providers });
    const rollbackStart = sb.now();
    const result = await rollbackRun(second.deps, deps.runId, { timeoutMs: 60_000 });
    expect(result.rolledBack).toEqual([{ type: PARAMETER_TYPE, name: '/m/a', id: 'id-a' }]);
    expect(result.leftovers).toEqual([
      { type: BUSY, name: 'b', error: `no restore handler is registered for ${BUSY}` },
      { type: PARTIAL, name: 'q', error: 'could not put everything back' },
      { type: 'AWS::EC2::Instance', name: 'i-1', id: 'i-1', error: 'could not put everything back' },
      { type: 'AWS::EC2::Instance', name: 'i-2', error: 'could not put everything back' },
    ]);
    expect(await readParameter(second.deps.clients, '/m/marker')).toBeUndefined();
    expect(await readParameter(second.deps.clients, '/m/a')).toBeUndefined();
    expect(second.events.of('rollback-start')).toEqual([{ kind: 'rollback-start', entries: 4 }]);
    expect(second.events.of('rollback-step')).toEqual([
      {
        kind: 'rollback-step',
        title: `restore ${BUSY} b`,
        ok: false,
        error: `no restore handler is registered for ${BUSY}`,
      },
      {
        kind: 'rollback-step',
        title: `restore ${PARTIAL} q`,
        ok: false,
        error: 'could not put everything back',
      },
      {
        kind: 'rollback-step',
        title: `restore ${PARTIAL} p`,
        ok: false,
        error: 'could not put everything back',
      },
      { kind: 'rollback-step', title: `delete ${PARAMETER_TYPE} /m/a (id-a)`, ok: true },
    ]);
    expect(listRuns(home)[0]).toMatchObject({ status: 'rollback-incomplete', writes: 5, pendingUndo: 3 });
    // The journal keeps why each undo failed (and when), and forgets it once an undo succeeds.
    const undone = parseJournal(fs.readFileSync(journalPath(home, deps.runId), 'utf8')).entries;
    for (const e of undone.filter((x) => x.status !== 'done')) {
      expect(e.at).toBeGreaterThanOrEqual(rollbackStart);
      expect(e.at).toBeLessThanOrEqual(sb.now());
    }
    const statuses = undone.map((e) => [e.name, e.status, e.error]);
    expect(statuses).toEqual([
      ['/m/a', 'undone', undefined],
      ['kept', 'done', undefined],
      ['p', 'undo-failed', 'could not put everything back'],
      ['q', 'undo-failed', 'could not put everything back'],
      ['b', 'undo-failed', `no restore handler is registered for ${BUSY}`],
    ]);
    expect(describeRun(home, deps.runId)?.undo).toEqual([
      { action: 'restore', type: BUSY, name: 'b' },
      { action: 'restore', type: PARTIAL, name: 'q' },
      { action: 'restore', type: PARTIAL, name: 'p' },
    ]);
  });

  it('gives an undo the clock and events to wait with, and refuses a type nothing can undo', async () => {
    const WAITS = 'Test::Waits';
    const waits: Provider = { type: WAITS, dependsOn: [], undo: {
        async delete(_clients, data, env) {
          await env.clock.sleep(30_000);
          env.events.emit({ kind: 'log', level: 'info', message: `waited for ${String(data.name)}` });
        },
    } };

    const sb = new Sandbox();
    const home = testHome();
    const { deps } = sandboxDeps(sb, { home, providers: providers.with(waits) });
    const run = openRun(deps, 'waits');
    await run.step('writes', async (ctx) => {
      await journaledWrite(
        ctx,
        {
          action: 'create',
          type: WAITS,
          name: 'w',
          undo: { type: WAITS, action: 'delete', data: { name: 'w' } },
        },
        async () => 'ok',
      );
      await journaledWrite(
        ctx,
        {
          action: 'update',
          type: 'Test::Nothing',
          name: 'n',
          undo: { type: 'Test::Nothing', action: 'restore', data: {} },
        },
        async () => 'ok',
      );
    });
    const second = sandboxDeps(sb, { home, providers: providers.with(waits) });
    const start = sb.now();
    const result = await rollbackRun(second.deps, deps.runId);
    expect(result.rolledBack).toEqual([{ type: WAITS, name: 'w' }]);
    expect(result.leftovers).toEqual([
      { type: 'Test::Nothing', name: 'n', error: 'no restore handler is registered for Test::Nothing' },
    ]);
    expect(sb.now() - start).toBeGreaterThanOrEqual(30_000);
    expect(second.events.of('log').map((e) => e.message)).toEqual(['waited for w']);
  });

  it('retries a busy undo every 5 s growing to 30 s, for 10 minutes unless told otherwise', async () => {
    const sb = new Sandbox();
    const home = testHome();
    const runId = await crashedRun(sb, home, '/stuck');
    sb.faults.add({ op: 'DeleteParameter', code: 'DependencyViolation', message: 'still used' });
    const { deps, events } = sandboxDeps(sb, { home, providers });
    const start = sb.now();
    const result = await rollbackRun(deps, runId);
    expect(result.leftovers).toEqual([
      { type: PARAMETER_TYPE, name: '/stuck/a', id: '/stuck/a', error: 'DependencyViolation: still used' },
    ]);
    const elapsed = sb.now() - start;
    expect(elapsed).toBeGreaterThanOrEqual(600_000);
    expect(elapsed).toBeLessThan(610_000);
    const retries = events.of('step-update');
    // Waits of 5, 7.5, 11.25, 16.9 and 25.3 s (66 s), then of 30 s up to the deadline: 5 + 18.
    expect(retries).toHaveLength(23);
    expect(new Set(retries.map((e) => e.key))).toEqual(new Set(['rollback:1']));
    expect(retries[0].message).toBe(
      `retrying delete ${PARAMETER_TYPE} /stuck/a (/stuck/a) (DependencyViolation: not ready yet)`,
    );
  });

  it('does not retry an undo refused for good', async () => {
    const sb = new Sandbox();
    const home = testHome();
    const runId = await crashedRun(sb, home, '/denied');
    sb.faults.add({ op: 'DeleteParameter', code: 'AccessDenied', message: 'no' });
    const start = sb.now();
    const result = await rollbackRun(sandboxDeps(sb, { home, providers }).deps, runId);
    expect(result.leftovers).toHaveLength(1);
    expect(sb.state.calls.byOperation.DeleteParameter).toBe(1);
    expect(sb.now() - start).toBeLessThan(5_000);
  });

  it('emits nothing and records nothing when there is nothing to undo', async () => {
    const sb = new Sandbox();
    const home = testHome();
    const { deps, events } = sandboxDeps(sb, { home, providers });
    const run = openRun(deps, 'nothing');
    expect(await undoJournal(run.journal, deps)).toEqual({ rolledBack: [], leftovers: [] });
    expect(events.of('rollback-start')).toEqual([]);
  });

  it('acts on writes that happened or may have, not on undone, refused or undo-less ones', () => {
    const entry = (seq: number, status: JournalEntry['status'], undo = true): JournalEntry => ({
      seq,
      status,
      action: 'create',
      type: 'T',
      name: `n${seq}`,
      region: 'r',
      at: 0,
      ...(undo ? { undo: { type: 'T', action: 'delete', data: {} } } : {}),
    });
    const entries = [
      entry(1, 'done'),
      entry(2, 'intended'),
      entry(3, 'failed'),
      entry(4, 'undo-failed'),
      entry(5, 'undone'),
      entry(6, 'done', false),
      entry(7, 'intended', false),
    ];
    expect(undoableEntries(entries).map((e) => e.seq)).toEqual([4, 3, 2, 1]);
  });
});

describe('runs list', () => {
  it('orders runs newest first (then by id), counts writes made and undos pending', async () => {
    const sb = new Sandbox();
    const home = testHome();
    const same = sb.now();
    for (const id of ['run-a', 'run-c', 'run-b'])
      openRun({ ...sandboxDeps(sb, { home }).deps, runId: id }, id);
    sb.advance(1000);
    const { deps } = sandboxDeps(sb, { home });
    const run = openRun(deps, 'newest');
    await run.step('writes', async (ctx) => {
      await journaledWrite(ctx, { action: 'create', type: 'Test::NoUndo', name: 'done' }, async () => 'ok');
      await journaledWrite(ctx, { action: 'create', type: 'Test::NoUndo', name: 'failed' }, async () => {
        throw new Error('no');
      }).catch(() => undefined);
      ctx.journal.intend({ action: 'create', type: 'Test::NoUndo', name: 'intended' });
    });
    expect(listRuns(home).map((r) => [r.runId, r.startedAt])).toEqual([
      [deps.runId, new Date(same + 1000).toISOString()],
      ['run-c', new Date(same).toISOString()],
      ['run-b', new Date(same).toISOString()],
      ['run-a', new Date(same).toISOString()],
    ]);
    expect(listRuns(home)[0]).toEqual({
      runId: deps.runId,
      title: 'newest',
      status: 'running',
      startedAt: new Date(same + 1000).toISOString(),
      region: 'us-east-1',
      target: 'sandbox',
      writes: 1,
      pendingUndo: 0,
    });
  });

  it('skips what is not a journal, and shows a journal without a header as unknown', () => {
    const home = testHome();
    fs.mkdirSync(`${home}/runs/folder.jsonl`, { recursive: true });
    fs.writeFileSync(`${home}/runs/notes.txt`, 'not a run');
    fs.writeFileSync(`${home}/runs/headless.jsonl`, '{"kind":"end","outcome":"failed","at":1}\n');
    // Neither header nor end (the first line was torn): a crashed run, since no process can be named.
    fs.writeFileSync(`${home}/runs/torn.jsonl`, '{"kind":"head');
    expect(listRuns(home).find((r) => r.runId === 'torn')).toMatchObject({ title: '(unknown)', status: 'crashed' });
    fs.rmSync(`${home}/runs/torn.jsonl`);
    expect(listRuns(home)).toEqual([
      {
        runId: 'headless',
        title: '(unknown)',
        status: 'failed',
        startedAt: '',
        region: '',
        target: undefined,
        writes: 0,
        pendingUndo: 0,
      },
    ]);
    expect(describeRun(home, 'folder')).toBeUndefined();
    expect(describeRun(home, 'headless')).toMatchObject({ runId: 'headless', undo: [] });
  });
});
