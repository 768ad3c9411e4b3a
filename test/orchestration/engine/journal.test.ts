// The write-ahead journal's promises, read back from what the account and the journal file hold:
// a write that may have happened keeps its undo record, a refused one does not; no write starts after
// an interrupt or once rollback began; the file says, line by line, what a later rollback acts on.
import * as fs from 'node:fs';
import * as os from 'node:os';
import { PutParameterCommand } from '@aws-sdk/client-ssm';
import { errorText, InterruptedError } from '../../../src/core/errors';
import { RunFailedError } from '../../../src/orchestration/deps';
import { journaledWrite, journalPath, openRun, runWorkflow } from '../../../src/orchestration/engine';
import { FileJournal, parseJournal } from '../../../src/orchestration/engine/journal';
import type { RunContext, UndoRecord } from '../../../src/provider/types';
import { awsError } from '../../../src/sandbox/errors';
import { Sandbox } from '../../../src/sandbox/sandbox';
import { removeTestHomes, sandboxDeps, testHome } from '../../helpers/sandboxDeps';
import { PARAMETER_TYPE, readParameter } from '../fixtures/parameterTask';

afterAll(removeTestHomes);

const undoOf = (name: string): UndoRecord => ({ type: PARAMETER_TYPE, action: 'delete', data: { name } });

/** Creates parameter `name` through journaledWrite; `after` runs once the parameter exists (throw to fail the call). */
function putParameter(ctx: RunContext, name: string, after?: () => void) {
  return journaledWrite(
    ctx,
    { action: 'create', type: PARAMETER_TYPE, name, undo: undoOf(name) },
    async () => {
      const out = await ctx.clients.ssm.send(
        new PutParameterCommand({ Name: name, Value: 'v', Type: 'String' }),
      );
      after?.();
      return out;
    },
    () => ({ id: name }),
  );
}

/** The journal file's lines, parsed. */
function lines(home: string, runId: string): Record<string, unknown>[] {
  return fs
    .readFileSync(journalPath(home, runId), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
}

describe('a write that failed: undo kept only when it may have happened', () => {
  for (const [status, code] of [
    [500, 'InternalError'],
    [503, 'ServiceUnavailable'],
  ] as const) {
    it(`a ${status} answer (the write may have been applied) is undone by the rollback`, async () => {
      const sb = new Sandbox();
      const { deps, home } = sandboxDeps(sb);
      const err = await runWorkflow(deps, '5xx', async (run) => {
        await run.step('put', (ctx) =>
          putParameter(ctx, '/5xx/p', () => {
            throw awsError(code, 'We encountered an internal error', status);
          }),
        );
        return {};
      }).catch((e) => e);
      expect(err).toBeInstanceOf(RunFailedError);
      expect(err.rolledBack).toEqual([{ type: PARAMETER_TYPE, name: '/5xx/p' }]);
      expect(sb.inventory()).toEqual([]);
      const entries = lines(home, deps.runId).filter((l) => l.kind === 'entry');
      expect(entries.map((e) => e.status)).toEqual(['intended', 'failed', 'undone']);
      expect(entries[1]).toMatchObject({
        undo: undoOf('/5xx/p'),
        error: `${code}: We encountered an internal error`,
      });
    });
  }

  it('a 4xx answer (AWS refused the write) leaves nothing to undo', async () => {
    const sb = new Sandbox();
    const { deps, home } = sandboxDeps(sb);
    const err = await runWorkflow(deps, '4xx', async (run) => {
      await run.step('put', (ctx) =>
        journaledWrite(
          ctx,
          { action: 'create', type: PARAMETER_TYPE, name: '/4xx/p', undo: undoOf('/4xx/p') },
          async () => {
            throw awsError('ValidationError', 'refused', 499);
          },
        ),
      );
      return {};
    }).catch((e) => e);
    expect(err.rolledBack).toEqual([]);
    expect(err.leftovers).toEqual([]);
    expect(sb.state.calls.byOperation.DeleteParameter).toBeUndefined();
    const failed = lines(home, deps.runId).find((l) => l.status === 'failed');
    expect(failed).toMatchObject({ error: 'ValidationError: refused' });
    expect(failed).not.toHaveProperty('undo');
    expect(lines(home, deps.runId).at(-1)).toMatchObject({
      kind: 'end',
      outcome: 'failed',
      error: 'ValidationError: refused',
    });
  });

  it('a write that fails with no error at all may have happened', async () => {
    const { deps } = sandboxDeps();
    const run = openRun(deps, 'no error');
    const thrown = await run
      .step('put', (ctx) =>
        journaledWrite(
          ctx,
          { action: 'create', type: PARAMETER_TYPE, name: '/none/p', undo: undoOf('/none/p') },
          () => Promise.reject(undefined),
        ),
      )
      .then(
        () => 'resolved',
        (e: unknown) => e,
      );
    expect(thrown).toBeUndefined();
    expect(run.journal.entries()).toEqual([
      expect.objectContaining({ status: 'failed', undo: undoOf('/none/p'), error: 'undefined' }),
    ]);
  });

  it('a write stopped by an interrupt before it was sent leaves nothing to undo', async () => {
    const sb = new Sandbox();
    const { deps, home } = sandboxDeps(sb);
    const err = await runWorkflow(deps, 'interrupted write', async (run) => {
      await run.step('put', (ctx) =>
        journaledWrite(
          ctx,
          { action: 'create', type: PARAMETER_TYPE, name: '/int/p', undo: undoOf('/int/p') },
          async () => {
            throw new InterruptedError();
          },
        ),
      );
      return {};
    }).catch((e) => e);
    expect(err.cause).toBeInstanceOf(InterruptedError);
    expect(err.rolledBack).toEqual([]);
    expect(sb.state.calls.byOperation.DeleteParameter).toBeUndefined();
    expect(lines(home, deps.runId).find((l) => l.status === 'failed')).not.toHaveProperty('undo');
  });

  it('an undo record given only with the failure (a timeout mid-write) replaces the intended one', async () => {
    const { deps, home } = sandboxDeps();
    const run = openRun(deps, 'manual');
    const pending = run.journal.intend({
      action: 'create',
      type: PARAMETER_TYPE,
      name: '/x',
      undo: undoOf('/x'),
    });
    pending.failed(new Error('timed out'), undoOf('/x-by-token'));
    pending.done({ id: 'ignored' });
    pending.failed(new Error('ignored'));
    expect(run.journal.entries()).toEqual([
      expect.objectContaining({ seq: 1, status: 'failed', undo: undoOf('/x-by-token'), error: 'timed out' }),
    ]);
    expect(lines(home, deps.runId).filter((l) => l.kind === 'entry')).toHaveLength(2);
  });
});

describe('no write starts after an interrupt or once rollback began', () => {
  it('a write attempted after the interrupt is refused before it reaches AWS', async () => {
    const sb = new Sandbox();
    const { deps, home } = sandboxDeps(sb);
    const controller = new AbortController();
    let sent = false;
    const err = await runWorkflow(
      deps,
      'interrupted',
      async (run) => {
        await run.step('put after Ctrl-C', async (ctx) => {
          controller.abort();
          return journaledWrite(
            ctx,
            { action: 'create', type: PARAMETER_TYPE, name: '/late/p', undo: undoOf('/late/p') },
            async () => {
              sent = true;
              return ctx.clients.ssm.send(
                new PutParameterCommand({ Name: '/late/p', Value: 'v', Type: 'String' }),
              );
            },
          );
        });
        return {};
      },
      { signal: controller.signal },
    ).catch((e) => e);
    expect(err.cause).toBeInstanceOf(InterruptedError);
    expect(sent).toBe(false);
    expect(sb.state.calls.write).toBe(0);
    expect(lines(home, deps.runId).filter((l) => l.kind === 'entry')).toEqual([]);
  });

  it('a write still in flight when another step fails is refused once rollback began, so nothing is left behind', async () => {
    const sb = new Sandbox();
    const { deps, home } = sandboxDeps(sb);
    let straggler: Promise<unknown> = Promise.resolve();
    const err = await runWorkflow(deps, 'two at once', async (run) => {
      straggler = run
        .step('slow put', async (ctx) => {
          await ctx.clock.sleep(60_000);
          return putParameter(ctx, '/slow/p');
        })
        .catch((e: unknown) => e);
      await run.step('fast put', (ctx) => putParameter(ctx, '/fast/p'));
      throw new Error('a check failed');
    }).catch((e) => e);
    expect(err.rolledBack).toEqual([{ type: PARAMETER_TYPE, name: '/fast/p', id: '/fast/p' }]);
    const late = await straggler;
    expect(late).toMatchObject({
      name: 'InternalError',
      message: `run ${deps.runId} is rolling back: no new write may start`,
    });
    expect(await readParameter(deps.clients, '/slow/p')).toBeUndefined();
    expect(sb.inventory()).toEqual([]);
    expect(lines(home, deps.runId).filter((l) => l.name === '/slow/p')).toEqual([]);
  });
});

describe('the journal file', () => {
  it('starts with a header naming the run, its region, process, host and account', async () => {
    const sb = new Sandbox();
    const { deps, home } = sandboxDeps(sb);
    openRun(deps, 'cluster create demo');
    expect(lines(home, deps.runId)).toEqual([
      {
        kind: 'header',
        runId: deps.runId,
        title: 'cluster create demo',
        region: 'us-east-1',
        startedAt: new Date(sb.now()).toISOString(),
        pid: process.pid,
        host: os.hostname(),
        target: 'sandbox',
      },
    ]);
    expect(fs.statSync(journalPath(home, deps.runId)).mode & 0o777).toBe(0o600);
    expect(() => openRun(deps, 'the same run id again')).toThrow(/already exists/);
  });

  it('records intent before the write and the result after it, with the id AWS gave and the clock time', async () => {
    const sb = new Sandbox();
    const { deps, home } = sandboxDeps(sb);
    const run = openRun(deps, 'ids');
    const start = sb.now();
    await run.step('put', (ctx) =>
      journaledWrite(
        ctx,
        { action: 'create', type: PARAMETER_TYPE, name: '/ids/p', undo: undoOf('/ids/p') },
        async () => {
          await ctx.clock.sleep(1000);
          return { arn: 'arn:p' };
        },
        (out) => ({ id: out.arn, undo: undoOf('/ids/p-final') }),
      ),
    );
    await run.step('update', (ctx) =>
      journaledWrite(
        ctx,
        { action: 'update', type: PARAMETER_TYPE, name: '/ids/q', id: 'q-1' },
        async () => 'ok',
      ),
    );
    const entries = lines(home, deps.runId).filter((l) => l.kind === 'entry');
    expect(entries).toEqual([
      {
        kind: 'entry',
        seq: 1,
        status: 'intended',
        action: 'create',
        type: PARAMETER_TYPE,
        name: '/ids/p',
        region: 'us-east-1',
        at: start,
        undo: undoOf('/ids/p'),
      },
      {
        kind: 'entry',
        seq: 1,
        status: 'done',
        action: 'create',
        type: PARAMETER_TYPE,
        name: '/ids/p',
        region: 'us-east-1',
        at: start + 1000,
        id: 'arn:p',
        undo: undoOf('/ids/p-final'),
      },
      {
        kind: 'entry',
        seq: 2,
        status: 'intended',
        action: 'update',
        type: PARAMETER_TYPE,
        name: '/ids/q',
        region: 'us-east-1',
        at: start + 1000,
        id: 'q-1',
      },
      {
        kind: 'entry',
        seq: 2,
        status: 'done',
        action: 'update',
        type: PARAMETER_TYPE,
        name: '/ids/q',
        region: 'us-east-1',
        at: start + 1000,
        id: 'q-1',
      },
    ]);
    expect(run.changes()).toEqual([
      { action: 'create', type: PARAMETER_TYPE, name: '/ids/p', id: 'arn:p' },
      { action: 'update', type: PARAMETER_TYPE, name: '/ids/q', id: 'q-1' },
    ]);
  });

  it('a write whose result cannot be described is still journaled as done (it happened) and undone on rollback', async () => {
    const sb = new Sandbox();
    const { deps } = sandboxDeps(sb);
    const err = await runWorkflow(deps, 'describe fails', async (run) => {
      await run.step('put', (ctx) =>
        journaledWrite(
          ctx,
          { action: 'create', type: PARAMETER_TYPE, name: '/d/p', id: 'given', undo: undoOf('/d/p') },
          () => ctx.clients.ssm.send(new PutParameterCommand({ Name: '/d/p', Value: 'v', Type: 'String' })),
          () => {
            throw new Error('unexpected answer');
          },
        ),
      );
      return {};
    }).catch((e) => e);
    expect(err.message).toBe('unexpected answer');
    expect(err.rolledBack).toEqual([{ type: PARAMETER_TYPE, name: '/d/p', id: 'given' }]);
    expect(err.changes).toEqual([{ action: 'create', type: PARAMETER_TYPE, name: '/d/p', id: 'given' }]);
    expect(sb.inventory()).toEqual([]);
  });

  it('reopens a journal: the last status of each entry wins, torn and blank lines are skipped, new entries follow', () => {
    const home = testHome();
    const now = () => 5;
    const journal = FileJournal.create(home, 'run-1', 'title', 'eu-west-1', now);
    journal.intend({ action: 'create', type: 'T', name: 'b' }).done({ id: 'b-1' });
    journal.intend({ action: 'create', type: 'T', name: 'a', undo: undoOf('a') });
    journal.mark(2, 'undo-failed', new Error('busy'));
    journal.mark(2, 'undone');
    journal.mark(99, 'undone');
    fs.appendFileSync(journalPath(home, 'run-1'), '\n   \n{"kind":"entry","seq":3,"sta');

    const reopened = FileJournal.open(home, 'run-1', now)!;
    expect(reopened.header).toMatchObject({ runId: 'run-1', title: 'title', region: 'eu-west-1' });
    expect(reopened.region).toBe('eu-west-1');
    expect(reopened.outcome).toBeUndefined();
    expect(reopened.entries()).toEqual([
      {
        seq: 1,
        status: 'done',
        action: 'create',
        type: 'T',
        name: 'b',
        region: 'eu-west-1',
        at: 5,
        id: 'b-1',
      },
      {
        seq: 2,
        status: 'undone',
        action: 'create',
        type: 'T',
        name: 'a',
        region: 'eu-west-1',
        at: 5,
        undo: undoOf('a'),
      },
    ]);
    // A copy: changing what entries() returned changes nothing in the journal.
    reopened.entries()[0].status = 'failed';
    expect(reopened.entries()[0].status).toBe('done');
    reopened.intend({ action: 'delete', type: 'T', name: 'c' });
    expect(reopened.entries().map((e) => `${e.seq} ${e.name}`)).toEqual(['1 b', '2 a', '3 c']);
    reopened.end('rolled-back');
    // What is written after the torn line is read back whole (the torn line does not swallow it).
    const again = FileJournal.open(home, 'run-1', now)!;
    expect(again.outcome).toBe('rolled-back');
    expect(again.entries().map((e) => `${e.seq} ${e.name} ${e.status}`)).toEqual([
      '1 b done',
      '2 a undone',
      '3 c intended',
    ]);
    const text = fs.readFileSync(journalPath(home, 'run-1'), 'utf8');
    expect(text.split('\n').at(-2)).toBe(JSON.stringify({ kind: 'end', outcome: 'rolled-back', at: 5 }));
  });

  it('opens nothing for an unknown run or a run id that is not a plain file name', () => {
    const home = testHome();
    FileJournal.create(home, 'ok', 'title', 'r', () => 0);
    fs.writeFileSync(`${home}/outside.jsonl`, fs.readFileSync(journalPath(home, 'ok')));
    expect(FileJournal.open(home, 'nope', () => 0)).toBeUndefined();
    expect(FileJournal.open(home, '../outside', () => 0)).toBeUndefined();
    expect(FileJournal.open(home, 'ok', () => 0)).toBeDefined();
  });

  it('reads a journal without a header as a run of unknown title and region', () => {
    const home = testHome();
    fs.mkdirSync(`${home}/runs`, { recursive: true });
    fs.writeFileSync(
      journalPath(home, 'headless'),
      '{"kind":"entry","seq":4,"status":"done","action":"create","type":"T","name":"x","region":"r","at":1}\n',
    );
    const journal = FileJournal.open(home, 'headless', () => 0)!;
    expect(journal.header).toEqual({
      kind: 'header',
      runId: 'headless',
      title: '(unknown)',
      region: '',
      startedAt: '',
    });
    expect(journal.intend({ action: 'create', type: 'T', name: 'y' })).toBeDefined();
    expect(journal.entries().map((e) => e.seq)).toEqual([4, 5]);
  });

  it('records the result of a write once: a second done or a late failure changes nothing', () => {
    const home = testHome();
    const journal = FileJournal.create(home, 'once', 't', 'r', () => 1);
    const pending = journal.intend({ action: 'create', type: 'T', name: 'x', undo: undoOf('x') });
    pending.done({ id: 'first' });
    pending.done({ id: 'second' });
    pending.failed(new Error('late'));
    expect(journal.entries()).toEqual([
      {
        seq: 1,
        status: 'done',
        action: 'create',
        type: 'T',
        name: 'x',
        region: 'r',
        at: 1,
        id: 'first',
        undo: undoOf('x'),
      },
    ]);
    expect(lines(home, 'once').filter((l) => l.kind === 'entry')).toHaveLength(2);
  });

  it('leaves no file open after its writes', () => {
    const home = testHome();
    const open = () => fs.readdirSync('/proc/self/fd').length;
    const before = open();
    const journal = FileJournal.create(home, 'fds', 't', 'r', () => 1);
    for (let i = 0; i < 20; i++) journal.intend({ action: 'create', type: 'T', name: `x${i}` }).done({});
    journal.end('succeeded');
    expect(open()).toBe(before);
  });

  it('records the outcome with the error, and discards only a journal that recorded no write', () => {
    const home = testHome();
    const journal = FileJournal.create(home, 'r1', 't', 'r', () => 7);
    journal.end('failed', awsError('Throttling', 'Rate exceeded'));
    expect(parseJournal(fs.readFileSync(journalPath(home, 'r1'), 'utf8')).end).toEqual({
      kind: 'end',
      outcome: 'failed',
      at: 7,
      error: 'Throttling: Rate exceeded',
    });
    expect(journal.outcome).toBe('failed');

    const dry = FileJournal.create(home, 'dry', 't', 'r', () => 7);
    dry.discard();
    expect(fs.existsSync(journalPath(home, 'dry'))).toBe(false);
    // A second discard (or one after the file was removed by hand) is not an error.
    expect(() => dry.discard()).not.toThrow();

    const wet = FileJournal.create(home, 'wet', 't', 'r', () => 7);
    wet.intend({ action: 'create', type: 'T', name: 'x' });
    expect(() => wet.discard()).toThrow(/records writes; it cannot be discarded/);
    expect(fs.existsSync(journalPath(home, 'wet'))).toBe(true);
  });

  it('parses lines of any order: the header, the end and the entries by seq', () => {
    const text = [
      '{"kind":"entry","seq":2,"status":"intended","action":"create","type":"T","name":"b","region":"r","at":1}',
      'not json',
      '{"kind":"end","outcome":"succeeded","at":3}',
      '{"kind":"mystery","seq":9}',
      '{"kind":"header","runId":"x","title":"t","region":"r","startedAt":"s"}',
      '{"kind":"entry","seq":1,"status":"done","action":"create","type":"T","name":"a","region":"r","at":1}',
    ].join('\n');
    const parsed = parseJournal(text);
    expect(parsed.header).toEqual({ kind: 'header', runId: 'x', title: 't', region: 'r', startedAt: 's' });
    expect(parsed.end).toEqual({ kind: 'end', outcome: 'succeeded', at: 3 });
    expect(parsed.entries.map((e) => [e.seq, e.name])).toEqual([
      [1, 'a'],
      [2, 'b'],
    ]);
    expect(parsed.entries[0]).not.toHaveProperty('kind');
  });

  it('writes error text with the AWS code once', () => {
    expect(errorText(awsError('DependencyViolation', 'still used'))).toBe('DependencyViolation: still used');
    expect(errorText(awsError('Throttling', 'Throttling: slow down'))).toBe('Throttling: slow down');
    expect(errorText(new Error('plain'))).toBe('plain');
    expect(errorText('a string')).toBe('a string');
    expect(errorText(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }))).toBe(
      'ECONNRESET: socket hang up',
    );
  });
});
