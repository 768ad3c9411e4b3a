// What a run reports and keeps at the edges mutation testing found untested: tasks without a diff,
// writes of other resources made by a task, a task failing late after another failed, the changes of
// a failed run, the undo deadline a workflow asks for, and what stays made after a rollback.
import { PutParameterCommand } from '@aws-sdk/client-ssm';
import { RunFailedError } from '../../../src/orchestration/deps';
import { journaledWrite, openRun, runWorkflow, type Task } from '../../../src/orchestration/engine';
import { notRolledBack } from '../../../src/orchestration/engine/run';
import type { JournalEntry, UndoRecord } from '../../../src/provider/types';
import { awsError } from '../../../src/sandbox/errors';
import { Sandbox } from '../../../src/sandbox/sandbox';
import { removeTestHomes, sandboxDeps, testProviders } from '../../helpers/sandboxDeps';
import { PARAMETER_TYPE, parameterRef, parameterTask, readParameter, type ParameterState } from '../fixtures/parameterTask';

afterAll(removeTestHomes);

async function put(sb: Sandbox, name: string, value: string): Promise<void> {
  await sandboxDeps(sb).deps.clients.ssm.send(
    new PutParameterCommand({ Name: name, Value: value, Type: 'String' }),
  );
}

describe('tasks that cannot compare or update', () => {
  it('a found task without a diff is unchanged in the plan and in the apply, with no write', async () => {
    const sb = new Sandbox();
    await put(sb, '/nodiff/p', 'anything');
    const { deps } = sandboxDeps(sb);
    const {
      diff: _diff,
      update: _update,
      ...task
    } = parameterTask({ key: 'p', name: '/nodiff/p', value: 'other' });
    const result = await runWorkflow(deps, 'no diff', async (run) => ({
      plan: await run.plan([task]),
      applied: await run.apply([task]),
    }));
    const noop = { action: 'noop', type: PARAMETER_TYPE, name: '/nodiff/p', id: '/nodiff/p' };
    expect(result.plan).toStrictEqual([noop]);
    expect(result.applied).toStrictEqual([noop]);
    expect(result.apiCalls.write).toBe(0);
    expect((await readParameter(deps.clients, '/nodiff/p'))?.value).toBe('anything');
  });

  it('names every difference of a task that has no in-place update', async () => {
    const sb = new Sandbox();
    await put(sb, '/two/p', 'v');
    const { deps } = sandboxDeps(sb);
    const { update: _update, ...task } = parameterTask({ key: 'p', name: '/two/p', value: 'v' });
    const twoDiffs: Task<ParameterState> = { ...task, diff: () => [
      { field: 'size', from: '1', to: '2' },
      { field: 'kind', from: 'a', to: 'b' },
    ] };
    const err = await runWorkflow(deps, 'two', (run) => run.apply([twoDiffs]).then(() => ({}))).catch(
      (e) => e,
    );
    expect(err.message).toBe(
      `${PARAMETER_TYPE} /two/p differs (size: 1 -> 2, kind: a -> b) but ${PARAMETER_TYPE} has no in-place update`,
    );
  });

  it('a create completed by an update after a "not yet" error is one create, without update details', async () => {
    const sb = new Sandbox();
    const { deps } = sandboxDeps(sb);
    let attempts = 0;
    const task = parameterTask({
      key: 'p',
      name: '/cu/p',
      value: () => (attempts === 0 ? 'first' : 'second'),
      afterCreate: () => {
        if (++attempts === 1) throw awsError('Throttling', 'Rate exceeded');
      },
    });
    const result = await runWorkflow(deps, 'create then update', (run) => run.apply([task]).then(() => ({})));
    expect((await readParameter(deps.clients, '/cu/p'))?.value).toBe('second');
    expect(result.changes).toStrictEqual([
      { action: 'create', type: PARAMETER_TYPE, name: '/cu/p', id: '/cu/p' },
    ]);
  });
});

describe('a plan standing in for a find', () => {
  it('a dependency applied but never planned makes its dependents look again', async () => {
    const { deps } = sandboxDeps();
    const d = parameterTask({ key: 'd', name: '/np/d', value: 'dv' });
    const a = parameterTask({
      key: 'a',
      name: '/np/a',
      value: (ctx) => `${ctx.get(parameterRef('d'))!.value}+a`,
      dependsOn: ['d'],
    });
    const result = await runWorkflow(deps, 'never planned', async (run) => {
      await run.apply([d]);
      const plan = await run.plan([a]);
      return { plan, applied: await run.apply([a, d]) };
    });
    expect(result.plan.map((c) => `${c.action} ${c.name}`)).toEqual(['create /np/a']);
    expect(result.applied.map((c) => `${c.action} ${c.name}`)).toEqual(['create /np/a', 'noop /np/d']);
    expect((await readParameter(deps.clients, '/np/a'))?.value).toBe('dv+a');
  });
});

describe('the changes a run reports', () => {
  it('lists writes a task makes to another resource of its type, or to one of its name of another type', async () => {
    const { deps } = sandboxDeps();
    const base = parameterTask({ key: 'p', name: '/w/p', value: 'v' });
    const task: Task<ParameterState> = {
      ...base,
      create: async (ctx) => {
        await journaledWrite(
          ctx,
          { action: 'update', type: PARAMETER_TYPE, name: '/w/other' },
          async () => 'ok',
        );
        await journaledWrite(ctx, { action: 'update', type: 'Test::Tag', name: '/w/p' }, async () => 'ok');
        return base.create(ctx);
      },
    };
    const result = await runWorkflow(deps, 'writes', (run) => run.apply([task]).then(() => ({})));
    expect(result.changes).toStrictEqual([
      { action: 'update', type: PARAMETER_TYPE, name: '/w/other' },
      { action: 'update', type: 'Test::Tag', name: '/w/p' },
      { action: 'create', type: PARAMETER_TYPE, name: '/w/p', id: '/w/p' },
    ]);
  });

  it('a change recorded with an id keeps it when recorded again without one', () => {
    const run = openRun(sandboxDeps().deps, 'ids');
    run.record({ action: 'update', type: 'T', name: 'k', id: 'id-9' });
    run.record({ action: 'update', type: 'T', name: 'k', details: ['x'] });
    expect(run.changes()).toStrictEqual([
      { action: 'update', type: 'T', name: 'k', id: 'id-9', details: ['x'] },
    ]);
  });

  it('a task that fails on its own after another failed is reported failed, not skipped', async () => {
    const { deps, events } = sandboxDeps();
    const first = parameterTask({
      key: 'first',
      name: '/late/first',
      value: 'v',
      beforeCreate: () => {
        throw new Error('first broke');
      },
    });
    const late = parameterTask({
      key: 'late',
      name: '/late/late',
      value: 'v',
      beforeCreate: async () => {
        await new Promise((resolve) => setTimeout(resolve, 20));
        throw new Error('late broke');
      },
    });
    await expect(
      runWorkflow(deps, 'late', (run) => run.apply([late, first]).then(() => ({}))),
    ).rejects.toThrow('first broke');
    expect(events.of('step-fail').map((e) => `${e.key}: ${e.error}`)).toEqual([
      'first: first broke',
      'late: late broke',
    ]);
    expect(events.of('step-skip')).toEqual([]);
  });

  it('a failed run lists writes that stay made beside what it recorded, even of a recorded kind', async () => {
    const { deps } = sandboxDeps();
    const err = await runWorkflow(deps, 'kept', async (run) => {
      await run.step('writes', async () => {
        run.record({ action: 'create', type: 'Test::Kept', name: 'recorded' });
        run.journal
          .intend({ action: 'delete', type: 'Test::Kept', name: 'gone', id: 'id-gone' })
          .done({ id: 'id-gone' });
        run.journal.intend({ action: 'update', type: 'Test::Other', name: 'recorded' }).done({});
      });
      throw new Error('after the writes');
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RunFailedError);
    const failed = err as RunFailedError;
    expect(failed.changes).toStrictEqual([
      { action: 'create', type: 'Test::Kept', name: 'recorded' },
      { action: 'delete', type: 'Test::Kept', name: 'gone', id: 'id-gone' },
      { action: 'update', type: 'Test::Other', name: 'recorded' },
    ]);
    expect(failed.notRolledBack).toStrictEqual([
      {
        action: 'delete',
        type: 'Test::Kept',
        name: 'gone',
        id: 'id-gone',
        reason: 'deleted: a delete cannot be rolled back',
      },
      {
        action: 'update',
        type: 'Test::Other',
        name: 'recorded',
        reason: 'update without undo: rollback leaves it as it is',
      },
    ]);
  });
});

describe('the rollback of a failed run', () => {
  const ALWAYS_BUSY = 'Test::AlwaysBusy';
  const providers = testProviders.with({ type: ALWAYS_BUSY, dependsOn: [], undo: {
      async delete() {
        throw awsError('DependencyViolation', 'still attached');
      },
  } });


  it('gives up a busy undo at the deadline the workflow asked for', async () => {
    const sb = new Sandbox();
    const { deps } = sandboxDeps(sb, { providers });
    let failedAt = 0;
    const err = await runWorkflow(
      deps,
      'short undo',
      async (run) => {
        await run.step('write', (ctx) =>
          journaledWrite(
            ctx,
            {
              action: 'create',
              type: ALWAYS_BUSY,
              name: 'b',
              undo: { type: ALWAYS_BUSY, action: 'delete', data: {} },
            },
            async () => 'ok',
          ),
        );
        failedAt = sb.now();
        throw new Error('boom');
      },
      { undoTimeoutMs: 60_000 },
    ).catch((e: unknown) => e as RunFailedError);
    expect(err.leftovers).toEqual([
      { type: ALWAYS_BUSY, name: 'b', error: 'DependencyViolation: still attached' },
    ]);
    const elapsed = sb.now() - failedAt;
    expect(elapsed).toBeGreaterThanOrEqual(60_000);
    expect(elapsed).toBeLessThan(90_000);
  });
});

describe('what stays made after a rollback: the order of a restore', () => {
  const restore: UndoRecord = { type: 'T', action: 'restore', data: {} };
  const entry = (seq: number, name: string, extra: Partial<JournalEntry> = {}): JournalEntry => ({
    seq,
    status: 'done',
    action: 'update',
    type: 'T',
    name,
    region: 'r',
    at: 0,
    ...extra,
  });

  it('a restore made after an update does not put that update back', () => {
    expect(notRolledBack([entry(1, 'n'), entry(2, 'n', { undo: restore })])).toStrictEqual([
      { action: 'update', type: 'T', name: 'n', reason: 'update without undo: rollback leaves it as it is' },
    ]);
  });

  it('only an update restores: a delete with a restore undo does not say a later update', () => {
    expect(
      notRolledBack([entry(1, 'n', { action: 'delete', undo: restore }), entry(2, 'n')]).map(
        (k) => `${k.action} ${k.name}`,
      ),
    ).toEqual(['update n']);
  });

  it('updates without undo of one resource are listed once; of two kinds, once each', () => {
    expect(
      notRolledBack([entry(1, 'n'), entry(2, 'n'), entry(3, 'n', { type: 'U' })]).map(
        (k) => `${k.type} ${k.name}`,
      ),
    ).toEqual(['T n', 'U n']);
  });
});
