import * as fs from 'node:fs';
import { PutParameterCommand } from '@aws-sdk/client-ssm';
import { ExitCode, InterruptedError } from '../../../src/core/errors';
import { exitCodeFor } from '../../../src/cli/errors';
import { RunFailedError } from '../../../src/orchestration/deps';
import {
  journaledWrite,
  journalPath,
  listRuns,
  openRun,
  rollbackRun,
  runWorkflow,
} from '../../../src/orchestration/engine';
import { Sandbox } from '../../../src/sandbox/sandbox';
import { removeTestHomes, sandboxDeps } from '../../helpers/sandboxDeps';
import { PARAMETER_TYPE, readParameter, sixTasks } from '../fixtures/parameterTask';

afterAll(removeTestHomes);

/** An account with one pre-existing parameter that the six-task workflow will update (b). */
async function seededSandbox(): Promise<Sandbox> {
  const sb = new Sandbox();
  const { deps } = sandboxDeps(sb);
  await deps.clients.ssm.send(new PutParameterCommand({ Name: '/rb/b', Value: 'old-bravo', Type: 'String' }));
  await deps.clients.ssm.send(
    new PutParameterCommand({ Name: '/other/keep', Value: 'not ours', Type: 'String' }),
  );
  return sb;
}

describe('rollback on failure', () => {
  // Six tasks: five creates and one update (b exists with another value) = six writes.
  for (const concurrency of [1, 8])
    for (let k = 1; k <= 6; k++) {
      it(`leaves the account exactly as before when write #${k} fails (concurrency ${concurrency})`, async () => {
        const sb = await seededSandbox();
        const before = sb.inventory();
        const { deps, home, events } = sandboxDeps(sb);
        // ValidationError: not a "not yet" error, neither retried by the SDK nor by the engine.
        sb.faults.add({ op: 'write', nth: k, code: 'ValidationError', message: `injected at write ${k}` });
        const err = await runWorkflow(deps, 'rb', (run) => run.apply(sixTasks('/rb')).then(() => ({})), {
          concurrency,
        }).catch((e) => e);

        expect(err).toBeInstanceOf(RunFailedError);
        expect(err.message).toBe(`injected at write ${k}`);
        expect(err.leftovers).toEqual([]);
        // In parallel, writes already in flight when write k fails complete and are rolled back too.
        if (concurrency === 1) expect(err.rolledBack).toHaveLength(k - 1);
        else expect(err.rolledBack.length).toBeGreaterThanOrEqual(k - 1);
        expect(exitCodeFor(err)).toBe(ExitCode.failedRolledBack);
        expect(sb.inventory()).toEqual(before);
        expect((await readParameter(deps.clients, '/rb/b'))?.value).toBe('old-bravo');
        expect(events.of('step-fail')).toHaveLength(1);
        // One successful rollback step per write made before the failure (none when write #1 failed).
        const steps = events.of('rollback-step');
        expect(steps).toHaveLength(err.rolledBack.length);
        expect(steps.filter((e) => e.ok)).toHaveLength(err.rolledBack.length);
        const journal = fs.readFileSync(journalPath(home, deps.runId), 'utf8');
        expect(journal).toMatch(err.rolledBack.length > 0 ? /"outcome":"rolled-back"/ : /"outcome":"failed"/);
      });
    }

  it('restores an updated value on rollback and never touches what existed before', async () => {
    const sb = await seededSandbox();
    const { deps } = sandboxDeps(sb);
    const err = await runWorkflow(deps, 'upd', async (run) => {
      await run.apply(sixTasks('/rb').slice(0, 2)); // creates a, updates b
      expect((await readParameter(deps.clients, '/rb/b'))?.value).toBe('bravo');
      throw new Error('later step failed');
    }).catch((e) => e);
    expect(err.rolledBack.map((r: { name: string }) => r.name).sort()).toEqual(['/rb/a', '/rb/b']);
    expect(err.changes.map((c: { action: string; name: string }) => `${c.action} ${c.name}`).sort()).toEqual([
      'create /rb/a',
      'update /rb/b',
    ]);
    expect((await readParameter(deps.clients, '/rb/b'))?.value).toBe('old-bravo');
    expect((await readParameter(deps.clients, '/other/keep'))?.value).toBe('not ours');
    expect(await readParameter(deps.clients, '/rb/a')).toBeUndefined();
  });

  it('lists what it could not undo as leftovers (exit 3), and a later rollbackRun finishes the job', async () => {
    const sb = new Sandbox();
    const before = sb.inventory();
    const { deps, home } = sandboxDeps(sb);
    const err = await runWorkflow(
      deps,
      'leftovers',
      async (run) => {
        await run.apply(sixTasks('/lo').slice(0, 2));
        sb.faults.add({
          op: 'DeleteParameter',
          nth: 1,
          code: 'AccessDeniedException',
          message: 'not allowed',
        });
        throw new Error('boom');
      },
      { undoTimeoutMs: 60_000 },
    ).catch((e) => e);
    expect(err).toBeInstanceOf(RunFailedError);
    expect(err.leftovers).toEqual([
      {
        type: PARAMETER_TYPE,
        name: '/lo/b',
        id: '/lo/b',
        error: expect.stringMatching(/^AccessDenied(Exception)?: not allowed$/),
      },
    ]);
    expect(err.rolledBack).toEqual([{ type: PARAMETER_TYPE, name: '/lo/a', id: '/lo/a' }]);
    expect(exitCodeFor(err)).toBe(ExitCode.rollbackIncomplete);
    expect(sb.inventory().map((i) => i.id)).toEqual(['/lo/b']);
    expect(listRuns(home).find((r) => r.runId === deps.runId)).toMatchObject({
      status: 'rollback-incomplete',
      pendingUndo: 1,
    });

    const again = await rollbackRun(sandboxDeps(sb, { home }).deps, deps.runId);
    expect(again).toEqual({
      rolledBack: [{ type: PARAMETER_TYPE, name: '/lo/b', id: '/lo/b' }],
      leftovers: [],
    });
    expect(sb.inventory()).toEqual(before);
    expect(listRuns(home).find((r) => r.runId === deps.runId)).toMatchObject({
      status: 'rolled-back',
      pendingUndo: 0,
    });
  });

  it('retries an undo that fails with "still in use" until it succeeds', async () => {
    const sb = new Sandbox();
    const { deps } = sandboxDeps(sb);
    const err = await runWorkflow(deps, 'busy', async (run) => {
      await run.apply(sixTasks('/busy').slice(0, 1));
      sb.faults.add({ op: 'DeleteParameter', nth: 1, code: 'ResourceInUse' });
      sb.faults.add({ op: 'DeleteParameter', nth: 2, code: 'DependencyViolation' });
      throw new Error('boom');
    }).catch((e) => e);
    expect(err.leftovers).toEqual([]);
    expect(err.rolledBack).toHaveLength(1);
    expect(sb.state.calls.byOperation.DeleteParameter).toBe(3);
    expect(sb.inventory()).toEqual([]);
  });

  it('gives up on a "still in use" undo at the deadline and reports it', async () => {
    const sb = new Sandbox();
    const { deps } = sandboxDeps(sb);
    const start = sb.now();
    const err = await runWorkflow(
      deps,
      'stuck',
      async (run) => {
        await run.apply(sixTasks('/stuck').slice(0, 1));
        sb.faults.add({ op: 'DeleteParameter', code: 'DependencyViolation', message: 'still used' });
        throw new Error('boom');
      },
      { undoTimeoutMs: 120_000 },
    ).catch((e) => e);
    expect(err.leftovers).toEqual([
      { type: PARAMETER_TYPE, name: '/stuck/a', id: '/stuck/a', error: 'DependencyViolation: still used' },
    ]);
    expect(sb.now() - start).toBeGreaterThanOrEqual(120_000);
    expect(sb.state.calls.byOperation.DeleteParameter).toBeGreaterThan(3);
  });

  it('rolls back when interrupted through the AbortSignal, with InterruptedError as the cause', async () => {
    const sb = new Sandbox();
    const { deps, events } = sandboxDeps(sb);
    const controller = new AbortController();
    const tasks = sixTasks('/int', {
      c: {
        afterCreate: () => controller.abort(new InterruptedError()),
      },
    });
    const err = await runWorkflow(deps, 'interrupted', (run) => run.apply(tasks).then(() => ({})), {
      signal: controller.signal,
      concurrency: 1,
    }).catch((e) => e);
    expect(err).toBeInstanceOf(RunFailedError);
    expect(err.cause).toBeInstanceOf(InterruptedError);
    expect(exitCodeFor(err)).toBe(ExitCode.interrupted);
    expect(sb.inventory()).toEqual([]);
    // Nothing after the interrupt started: e and f never ran.
    expect(events.of('step-start').map((e) => e.key)).not.toContain('e');
    expect(events.of('step-start').map((e) => e.key)).not.toContain('f');
    expect(err.rolledBack.length).toBeGreaterThanOrEqual(3);
  });
});

describe('journal edge cases', () => {
  it('undoes a write whose outcome is unknown (no AWS response) and reports a type without undo handler', async () => {
    const sb = new Sandbox();
    const { deps } = sandboxDeps(sb);
    const err = await runWorkflow(deps, 'unknown outcome', async (run) => {
      await run.step('orphan', (ctx) =>
        journaledWrite(
          ctx,
          {
            action: 'create',
            type: 'Test::Unregistered',
            name: 'orphan',
            undo: { type: 'Test::Unregistered', action: 'delete', data: {} },
          },
          async () => 'ok',
        ),
      );
      await run.step('put with a lost response', (ctx) =>
        journaledWrite(
          ctx,
          {
            action: 'create',
            type: PARAMETER_TYPE,
            name: '/lost/p',
            undo: { type: PARAMETER_TYPE, action: 'delete', data: { name: '/lost/p' } },
          },
          async () => {
            await ctx.clients.ssm.send(
              new PutParameterCommand({ Name: '/lost/p', Value: 'v', Type: 'String' }),
            );
            // The request reached AWS, the response did not: a socket error carries no AWS code.
            throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
          },
        ),
      );
      return {};
    }).catch((e) => e);
    expect(err.message).toBe('socket hang up');
    expect(err.rolledBack).toEqual([{ type: PARAMETER_TYPE, name: '/lost/p' }]);
    expect(err.leftovers).toEqual([
      {
        type: 'Test::Unregistered',
        name: 'orphan',
        error: 'no delete handler is registered for Test::Unregistered',
      },
    ]);
    expect(sb.inventory()).toEqual([]);
  });

  it('reads a journal whose last line was torn by a crash', async () => {
    const sb = new Sandbox();
    const { deps, home } = sandboxDeps(sb);
    const run = openRun(deps, 'torn');
    await run.apply(sixTasks('/torn').slice(0, 1));
    fs.appendFileSync(journalPath(home, deps.runId), '{"kind":"entry","seq":2,"status":"inten');
    expect(listRuns(home)[0]).toMatchObject({ runId: deps.runId, writes: 1, pendingUndo: 1 });
    expect((await rollbackRun(sandboxDeps(sb, { home }).deps, deps.runId)).rolledBack).toHaveLength(1);
    expect(sb.inventory()).toEqual([]);
    // The rollback's own lines, written after the torn one, are read back: nothing is left to undo.
    expect(listRuns(home)[0]).toMatchObject({ status: 'rolled-back', pendingUndo: 0 });
  });
});

describe('a crashed run', () => {
  /** Runs the six tasks but "kills the process" inside d's create, after some writes: no rollback, no end line. */
  async function crash(sb: Sandbox, home: string, kind: 'after-done' | 'mid-write') {
    const { deps } = sandboxDeps(sb, { home });
    const run = openRun(deps, 'crashing', { concurrency: 1 });
    const killed = new Error('killed');
    const tasks = sixTasks('/crash', {
      d:
        kind === 'after-done'
          ? { afterCreate: () => Promise.reject(killed) }
          : {
              // The write reached AWS but the process died before journaling `done`.
              beforeCreate: async (ctx) => {
                ctx.journal.intend({
                  action: 'create',
                  type: PARAMETER_TYPE,
                  name: '/crash/d',
                  undo: { type: PARAMETER_TYPE, action: 'delete', data: { name: '/crash/d' } },
                });
                await ctx.clients.ssm.send(
                  new PutParameterCommand({ Name: '/crash/d', Value: 'half', Type: 'String' }),
                );
                throw killed;
              },
            },
    });
    await expect(run.apply(tasks)).rejects.toBe(killed);
    return deps.runId;
  }

  it('converges when run again', async () => {
    const sb = new Sandbox();
    const { home } = sandboxDeps(sb);
    await crash(sb, home, 'after-done');
    expect(sb.inventory().map((i) => i.id)).toEqual(['/crash/a', '/crash/b', '/crash/c', '/crash/d']);
    const { deps } = sandboxDeps(sb, { home });
    const result = await runWorkflow(deps, 'again', (run) => run.apply(sixTasks('/crash')).then(() => ({})));
    expect(result.changes.map((c) => c.action)).toEqual(['noop', 'noop', 'noop', 'noop', 'create', 'create']);
    expect(deps.clients.calls.write).toBe(2);
    expect((await readParameter(deps.clients, '/crash/f'))?.value).toBe('alpha+c|alpha+bravo+d!');
  });

  for (const kind of ['after-done', 'mid-write'] as const) {
    it(`is rolled back later from its journal (${kind})`, async () => {
      const sb = new Sandbox();
      const { home } = sandboxDeps(sb);
      const runId = await crash(sb, home, kind);
      expect(sb.inventory()).toHaveLength(4);
      expect(listRuns(home)[0]).toMatchObject({
        runId,
        title: 'crashing',
        status: 'running',
        pendingUndo: 4,
      });

      const { deps, events } = sandboxDeps(sb, { home });
      const result = await rollbackRun(deps, runId);
      expect(result.leftovers).toEqual([]);
      expect(result.rolledBack.map((r) => r.name)).toEqual(['/crash/d', '/crash/c', '/crash/b', '/crash/a']);
      expect(sb.inventory()).toEqual([]);
      expect(events.of('rollback-start')).toEqual([{ kind: 'rollback-start', entries: 4 }]);
      expect(listRuns(home)[0]).toMatchObject({ runId, status: 'rolled-back', pendingUndo: 0 });

      // Entries already undone are skipped: a second rollback does nothing.
      const second = sandboxDeps(sb, { home });
      expect(await rollbackRun(second.deps, runId)).toEqual({ rolledBack: [], leftovers: [] });
      expect(second.deps.clients.calls.write).toBe(0);
    });
  }

  it('refuses an unknown run, another region, and a run that succeeded', async () => {
    const sb = new Sandbox();
    const { deps, home } = sandboxDeps(sb);
    await runWorkflow(deps, 'ok', (run) => run.apply(sixTasks('/ok').slice(0, 1)).then(() => ({})));
    await expect(rollbackRun(sandboxDeps(sb, { home }).deps, 'no-such-run')).rejects.toMatchObject({
      name: 'UserError',
      message: expect.stringMatching(/^no run no-such-run under /),
      suggestion: 'list the recorded runs with `k3sctl runs list`',
      field: 'RUN_ID',
    });
    await expect(
      rollbackRun(sandboxDeps(sb, { home, region: 'eu-west-1' }).deps, deps.runId),
    ).rejects.toMatchObject({
      name: 'UserError',
      message: `run ${deps.runId} made its changes in us-east-1, not eu-west-1`,
      suggestion: `run \`k3sctl runs rollback ${deps.runId} --region us-east-1\``,
    });
    await expect(rollbackRun(sandboxDeps(sb, { home }).deps, deps.runId)).rejects.toMatchObject({
      name: 'UserError',
      message: expect.stringMatching(
        /^run \S+ \(ok\) succeeded; rolling it back would undo a finished change$/,
      ),
    });
    expect(sb.inventory()).toHaveLength(1);
    expect(
      (await rollbackRun(sandboxDeps(sb, { home }).deps, deps.runId, { force: true })).rolledBack,
    ).toHaveLength(1);
    expect(sb.inventory()).toEqual([]);
  });

  it('lists runs newest first with their status, a dead process being reported as crashed', async () => {
    const sb = new Sandbox();
    const { deps, home } = sandboxDeps(sb);
    await runWorkflow(deps, 'first ok', async () => ({}));
    sb.advance(1000);
    await runWorkflow(sandboxDeps(sb, { home }).deps, 'second fails', async () => {
      throw new Error('nope');
    }).catch(() => undefined);
    sb.advance(1000);
    const crashed = sandboxDeps(sb, { home }).deps;
    openRun(crashed, 'third crashed');
    // Pretend the journal was written by a process that no longer exists.
    const file = journalPath(home, crashed.runId);
    const [header, ...rest] = fs.readFileSync(file, 'utf8').split('\n');
    fs.writeFileSync(file, [JSON.stringify({ ...JSON.parse(header), pid: 2 ** 22 + 7 }), ...rest].join('\n'));
    expect(listRuns(home).map((r) => [r.title, r.status])).toEqual([
      ['third crashed', 'crashed'],
      ['second fails', 'failed'],
      ['first ok', 'succeeded'],
    ]);
    expect(listRuns(`${home}/nowhere`)).toEqual([]);
  });
});
