// How a failed run ends: the cause it reports, the outcome its journal records, what stays made after
// its rollback (a delete, an update without undo) and the command that finishes instead; dry runs and
// the account a journal names.
import * as fs from 'node:fs';
import { AwsClients } from '../../../src/aws/clients';
import { InterruptedError, UserError } from '../../../src/core/errors';
import type { ProgressEvent } from '../../../src/core/events';
import { RunFailedError } from '../../../src/orchestration/deps';
import { journaledWrite, journalPath, listRuns, runWorkflow } from '../../../src/orchestration/engine';
import { notRolledBack, runTarget } from '../../../src/orchestration/engine/run';
import type { JournalEntry, UndoRecord } from '../../../src/provider/types';
import { Sandbox } from '../../../src/sandbox/sandbox';
import { collectingEvents, removeTestHomes, sandboxDeps } from '../../helpers/sandboxDeps';
import { PARAMETER_TYPE, sixTasks } from '../fixtures/parameterTask';

afterAll(removeTestHomes);

const endOf = (home: string, runId: string) =>
  fs
    .readFileSync(journalPath(home, runId), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
    .find((l) => l.kind === 'end');

describe('the cause and outcome of a failed run', () => {
  it('an error after an interrupt is reported as the interrupt, and the run is rolled back', async () => {
    const sb = new Sandbox();
    const { deps, home } = sandboxDeps(sb);
    const controller = new AbortController();
    const err = await runWorkflow(
      deps,
      'interrupted',
      async (run) => {
        await run.apply(sixTasks('/ic').slice(0, 1));
        controller.abort();
        throw new Error('socket closed while stopping');
      },
      { signal: controller.signal },
    ).catch((e) => e);
    expect(err).toBeInstanceOf(RunFailedError);
    expect(err.cause).toBeInstanceOf(InterruptedError);
    expect(err.rolledBack).toHaveLength(1);
    expect(sb.inventory()).toEqual([]);
    expect(endOf(home, deps.runId)).toMatchObject({ outcome: 'rolled-back', error: 'interrupted' });
  });

  it('a user error after an interrupt stays the user error; with writes made it is rolled back', async () => {
    const sb = new Sandbox();
    const { deps } = sandboxDeps(sb);
    const controller = new AbortController();
    const err = await runWorkflow(
      deps,
      'user error',
      async (run) => {
        await run.apply(sixTasks('/ue').slice(0, 1));
        controller.abort();
        throw new UserError('the cluster is being deleted');
      },
      { signal: controller.signal },
    ).catch((e) => e);
    expect(err).toBeInstanceOf(RunFailedError);
    expect(err.cause).toBeInstanceOf(UserError);
    expect(sb.inventory()).toEqual([]);
  });

  it('a run interrupted before it starts writes nothing and ends failed', async () => {
    const sb = new Sandbox();
    const { deps, home } = sandboxDeps(sb);
    const controller = new AbortController();
    controller.abort();
    let started = false;
    const err = await runWorkflow(
      deps,
      'too late',
      async () => {
        started = true;
        return {};
      },
      { signal: controller.signal },
    ).catch((e) => e);
    expect(started).toBe(false);
    expect(err).toBeInstanceOf(RunFailedError);
    expect(err.cause).toBeInstanceOf(InterruptedError);
    expect(endOf(home, deps.runId)).toMatchObject({ outcome: 'failed', error: 'interrupted' });
    expect(listRuns(home)[0]).toMatchObject({ status: 'failed', writes: 0, pendingUndo: 0 });
  });

  it('a rollback that cannot go on ends the journal rollback-incomplete and names the run as left over', async () => {
    const sb = new Sandbox();
    const events = collectingEvents();
    const { deps, home } = sandboxDeps(sb, {
      events: {
        emit: (event: ProgressEvent) => {
          if (event.kind === 'rollback-start') throw new Error('terminal gone');
          events.emit(event);
        },
      },
    });
    const err = await runWorkflow(deps, 'broken rollback', async (run) => {
      await run.apply(sixTasks('/br').slice(0, 1));
      await run.step('delete something', (ctx) =>
        journaledWrite(ctx, { action: 'delete', type: 'Test::Gone', name: 'gone' }, async () => 'ok'),
      );
      throw new Error('boom');
    }).catch((e) => e);
    expect(err).toBeInstanceOf(RunFailedError);
    expect(err.message).toBe('boom');
    expect(err.rolledBack).toEqual([]);
    expect(err.leftovers).toEqual([{ type: 'k3sctl::Run', name: deps.runId, error: 'terminal gone' }]);
    expect(err.notRolledBack).toEqual([
      {
        action: 'delete',
        type: 'Test::Gone',
        name: 'gone',
        reason: 'deleted: a delete cannot be rolled back',
      },
    ]);
    expect(err.suggestion).toBe(
      'run the command again (broken rollback): it converges from what is there now; 1 change(s) of this run cannot be rolled back (see notRolledBack)',
    );
    expect(err.changes).toEqual([
      { action: 'create', type: PARAMETER_TYPE, name: '/br/a', id: '/br/a' },
      { action: 'delete', type: 'Test::Gone', name: 'gone' },
    ]);
    expect(endOf(home, deps.runId)).toMatchObject({ outcome: 'rollback-incomplete', error: 'terminal gone' });
    expect(sb.inventory()).toHaveLength(1);
  });

  it('lists what stays made after the rollback and says how to finish instead', async () => {
    const sb = new Sandbox();
    const { deps } = sandboxDeps(sb);
    const err = await runWorkflow(deps, 'cluster delete demo', async (run) => {
      await run.step('forward-only writes', async (ctx) => {
        await journaledWrite(
          ctx,
          { action: 'update', type: 'AWS::AutoScaling::AutoScalingGroup', name: 'g', id: 'g' },
          async () => 'ok',
        );
        await journaledWrite(
          ctx,
          { action: 'delete', type: 'AWS::EC2::SecurityGroup', name: 'sg', id: 'sg-1' },
          async () => 'ok',
        );
        // Journaled without going through the run's changes: still listed.
        ctx.journal.intend({ action: 'delete', type: 'AWS::EC2::Instance', name: 'i-1', id: 'i-1' }).done({});
      });
      throw new Error('a delete failed');
    }).catch((e) => e);
    expect(err.notRolledBack).toEqual([
      {
        action: 'update',
        type: 'AWS::AutoScaling::AutoScalingGroup',
        name: 'g',
        id: 'g',
        reason: 'update without undo: rollback leaves it as it is',
      },
      {
        action: 'delete',
        type: 'AWS::EC2::SecurityGroup',
        name: 'sg',
        id: 'sg-1',
        reason: 'deleted: a delete cannot be rolled back',
      },
      {
        action: 'delete',
        type: 'AWS::EC2::Instance',
        name: 'i-1',
        id: 'i-1',
        reason: 'deleted: a delete cannot be rolled back',
      },
    ]);
    expect(err.changes).toEqual([
      { action: 'update', type: 'AWS::AutoScaling::AutoScalingGroup', name: 'g', id: 'g' },
      { action: 'delete', type: 'AWS::EC2::SecurityGroup', name: 'sg', id: 'sg-1' },
      { action: 'delete', type: 'AWS::EC2::Instance', name: 'i-1', id: 'i-1' },
    ]);
    expect(err.suggestion).toMatch(
      /^run the command again \(cluster delete demo\): .*; 3 change\(s\) of this run cannot be rolled back/,
    );
  });

  it('a failed run that changed nothing lasting suggests nothing', async () => {
    const { deps } = sandboxDeps();
    const err = await runWorkflow(deps, 'clean failure', async (run) => {
      await run.apply(sixTasks('/cf').slice(0, 1));
      throw new Error('boom');
    }).catch((e) => e);
    expect(err.notRolledBack).toEqual([]);
    expect(err.suggestion).toBeUndefined();
  });
});

describe('what stays made after a rollback', () => {
  const undo: UndoRecord = { type: 'T', action: 'delete', data: {} };
  const restore: UndoRecord = { type: 'T', action: 'restore', data: {} };
  let seq = 0;
  const e = (
    action: JournalEntry['action'],
    name: string,
    status: JournalEntry['status'] = 'done',
    extra: Partial<JournalEntry> = {},
  ): JournalEntry => ({ seq: ++seq, status, action, type: 'T', name, region: 'r', at: 0, ...extra });

  it('an update of a resource the run created, restored with, or deleted afterwards is said by that entry', () => {
    seq = 0;
    const entries = [
      e('create', 'made', 'undone', { undo }),
      e('update', 'made'),
      e('update', 'restored', 'done', { undo: restore }),
      e('update', 'restored'),
      e('update', 'deleted-later'),
      e('delete', 'deleted-later'),
      e('noop', 'nothing'),
    ];
    expect(notRolledBack(entries)).toEqual([
      {
        action: 'delete',
        type: 'T',
        name: 'deleted-later',
        reason: 'deleted: a delete cannot be rolled back',
      },
    ]);
  });

  it('an update is kept when what could have said it failed, came in the wrong order or is another resource', () => {
    seq = 0;
    const entries = [
      e('update', 'created-after'),
      e('create', 'created-after', 'done', { undo }),
      e('create', 'failed-create', 'failed'),
      e('update', 'failed-create'),
      e('update', 'failed-restore', 'failed', { undo: restore }),
      e('update', 'failed-restore'),
      e('update', 'delete-refused'),
      e('delete', 'delete-refused', 'failed'),
      e('delete', 'deleted-before'),
      e('update', 'deleted-before'),
      e('update', 'delete-undo', 'done', { undo }),
      e('update', 'delete-undo'),
      { ...e('create', 'other-type', 'done', { undo }), type: 'U' },
      e('update', 'other-type'),
    ];
    expect(notRolledBack(entries).map((k) => `${k.action} ${k.name}`)).toEqual([
      'update created-after',
      'update failed-create',
      'update failed-restore',
      'update delete-refused',
      'delete deleted-before',
      'update deleted-before',
      'update delete-undo',
      'update other-type',
    ]);
  });

  it('lists a write once however often it was journaled, and only writes that were done', () => {
    seq = 0;
    const entries = [
      e('delete', 'twice', 'done', { id: 'x' }),
      e('delete', 'twice', 'done', { id: 'x' }),
      e('delete', 'twice', 'done', { id: 'y' }),
      e('update', 'twice', 'done', { id: 'x' }),
      e('delete', 'intended', 'intended'),
      e('delete', 'failed', 'failed'),
      e('delete', 'undone', 'undone'),
    ];
    expect(notRolledBack(entries).map((k) => `${k.action} ${k.name} ${k.id}`)).toEqual([
      'delete twice x',
      'delete twice y',
      'update twice x',
    ]);
  });
});

describe('dry runs and the account a run names', () => {
  it('a dry run that wrote something keeps its journal as succeeded', async () => {
    const { deps, home } = sandboxDeps();
    const result = await runWorkflow(deps, 'dry but wrote', async (run) => {
      await run.apply(sixTasks('/dw').slice(0, 1));
      return { dryRun: true };
    });
    expect(result).toMatchObject({ dryRun: true, run: deps.runId });
    expect(endOf(home, deps.runId)).toMatchObject({ outcome: 'succeeded' });
  });

  it('a run that returns dryRun other than true keeps its journal', async () => {
    const { deps, home } = sandboxDeps();
    await runWorkflow(deps, 'truthy', async () => ({ dryRun: 'yes' }));
    expect(endOf(home, deps.runId)).toMatchObject({ outcome: 'succeeded' });
  });

  it('names the sandbox, an endpoint or AWS as the account of the run', () => {
    const { deps } = sandboxDeps();
    expect(runTarget(deps)).toBe('sandbox');
    expect(runTarget({ ...deps, sandbox: false, clients: new AwsClients({ region: 'us-east-1' }) })).toBe(
      'aws',
    );
    const atEndpoint = new AwsClients({ region: 'us-east-1', endpointUrl: 'http://127.0.0.1:5000' });
    expect(runTarget({ ...deps, sandbox: false, clients: atEndpoint })).toBe(
      'endpoint:http://127.0.0.1:5000',
    );
    expect(runTarget({ ...deps, sandbox: undefined, clients: atEndpoint })).toBe(
      'endpoint:http://127.0.0.1:5000',
    );
  });
});
