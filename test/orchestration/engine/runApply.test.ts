// Run.plan / apply / step beyond the happy path: when a plan's find may stand in for a fresh one,
// retries after "not yet" errors, tasks stopped by another's failure, concurrency, the events and the
// changes a run reports.
import { PutParameterCommand } from '@aws-sdk/client-ssm';
import { InternalError, InterruptedError } from '../../../src/core/errors';
import { journaledWrite, openRun, runWorkflow, type Task } from '../../../src/orchestration/engine';
import { awsError } from '../../../src/sandbox/errors';
import { Sandbox } from '../../../src/sandbox/sandbox';
import { removeTestHomes, sandboxDeps } from '../../helpers/sandboxDeps';
import {
  PARAMETER_TYPE,
  parameterRef,
  parameterTask,
  readParameter,
  sixTasks,
  type ParameterState,
} from '../fixtures/parameterTask';

afterAll(removeTestHomes);

async function put(sb: Sandbox, name: string, value: string): Promise<void> {
  await sandboxDeps(sb).deps.clients.ssm.send(
    new PutParameterCommand({ Name: name, Value: value, Type: 'String' }),
  );
}

describe('apply: finding again what the plan could not know', () => {
  it('finds a task again when a dependency it is found through was created by this apply', async () => {
    const sb = new Sandbox();
    // /z/alpha exists, but z is found through a's value, and a does not exist yet.
    await put(sb, '/z/alpha', 'zed');
    const { deps } = sandboxDeps(sb);
    const a = parameterTask({ key: 'a', name: '/z/a', value: 'alpha' });
    const z: Task<ParameterState> = {
      ...parameterTask({ key: 'z', name: '/z/unknown', value: 'zed', dependsOn: ['a'] }),
      find: async (ctx) => {
        const via = ctx.get(a);
        return via ? readParameter(ctx.clients, `/z/${via.value}`) : undefined;
      },
    };
    const result = await runWorkflow(deps, 'found through a', async (run) => {
      const plan = await run.plan([a, z]);
      await run.apply([a, z]);
      return { plan };
    });
    expect(result.plan.map((c) => c.action)).toEqual(['create', 'create']);
    expect(result.changes).toEqual([
      { action: 'create', type: PARAMETER_TYPE, name: '/z/a', id: '/z/a' },
      { action: 'noop', type: PARAMETER_TYPE, name: '/z/unknown', id: '/z/alpha' },
    ]);
    expect(deps.clients.calls.write).toBe(1);
  });

  it('after a "not yet" error of a create that went through, finds it instead of creating it twice', async () => {
    const sb = new Sandbox();
    const { deps, events } = sandboxDeps(sb);
    let attempts = 0;
    const task = parameterTask({
      key: 'p',
      name: '/retry/p',
      value: 'v',
      afterCreate: () => {
        attempts++;
        if (attempts === 1) throw awsError('Throttling', 'Rate exceeded');
      },
    });
    const result = await runWorkflow(deps, 'retry', async (run) => {
      await run.plan([task]);
      await run.apply([task]);
      return {};
    });
    expect(attempts).toBe(1);
    expect(deps.clients.calls.byOperation.get('PutParameter')).toBe(1);
    // It was created by this run, so it is reported as created although the last attempt found it.
    expect(result.changes).toEqual([
      { action: 'create', type: PARAMETER_TYPE, name: '/retry/p', id: '/retry/p' },
    ]);
    expect(events.of('step-done')).toEqual([
      { kind: 'step-done', key: 'p', title: `${PARAMETER_TYPE} /retry/p`, action: 'create', id: '/retry/p' },
    ]);
    expect(events.of('step-update').map((e) => [e.key, e.message])).toEqual([
      ['p', `retrying ${PARAMETER_TYPE} /retry/p (Throttling: not ready yet)`],
    ]);
  });

  it('an update after a "not yet" error of its create is still reported as the create', async () => {
    const sb = new Sandbox();
    const { deps } = sandboxDeps(sb);
    let attempts = 0;
    const task = parameterTask({
      key: 'p',
      name: '/retry2/p',
      value: (ctx) => (ctx.get(parameterRef('p')) ? 'second' : 'first'),
      afterCreate: () => {
        if (++attempts === 1) throw awsError('Throttling', 'Rate exceeded');
      },
    });
    const result = await runWorkflow(deps, 'retry then update', (run) => run.apply([task]).then(() => ({})));
    expect((await readParameter(deps.clients, '/retry2/p'))?.value).toBe('first');
    expect(result.changes.map((c) => c.action)).toEqual(['create']);
  });

  it('refuses a task that differs and cannot be updated in place, naming the differences', async () => {
    const sb = new Sandbox();
    await put(sb, '/fixed/p', 'old');
    const { deps } = sandboxDeps(sb);
    const { update: _update, ...fixed } = parameterTask({ key: 'p', name: '/fixed/p', value: 'new' });
    const err = await runWorkflow(deps, 'fixed', (run) => run.apply([fixed]).then(() => ({}))).catch(
      (e) => e,
    );
    expect(err.cause).toBeInstanceOf(InternalError);
    expect(err.message).toBe(
      `${PARAMETER_TYPE} /fixed/p differs (value: old -> new) but ${PARAMETER_TYPE} has no in-place update`,
    );
    expect((await readParameter(deps.clients, '/fixed/p'))?.value).toBe('old');
  });

  it('reports in-place updates with their details and the plan with the differences', async () => {
    const sb = new Sandbox();
    await put(sb, '/upd/p', 'old');
    const { deps, events } = sandboxDeps(sb);
    const task = parameterTask({ key: 'p', name: '/upd/p', value: 'new' });
    const result = await runWorkflow(deps, 'update', async (run) => ({
      plan: await run.plan([task]),
      applied: await run.apply([task]),
    }));
    const change = {
      action: 'update',
      type: PARAMETER_TYPE,
      name: '/upd/p',
      id: '/upd/p',
      details: ['value: old -> new'],
    };
    expect(result.plan).toEqual([change]);
    expect(result.applied).toEqual([change]);
    expect(result.changes).toEqual([change]);
    expect(events.of('plan')).toEqual([{ kind: 'plan', changes: [change] }]);
  });

  it('a task writing other resources lists them as changes of their own', async () => {
    const sb = new Sandbox();
    const { deps } = sandboxDeps(sb);
    const base = parameterTask({ key: 'p', name: '/side/p', value: 'v' });
    const task: Task<ParameterState> = {
      ...base,
      create: async (ctx) => {
        await journaledWrite(ctx, { action: 'update', type: 'Test::Tag', name: 'side' }, async () => 'ok');
        return base.create(ctx);
      },
    };
    const result = await runWorkflow(deps, 'side', (run) => run.apply([task]).then(() => ({})));
    expect(result.changes).toEqual([
      { action: 'update', type: 'Test::Tag', name: 'side' },
      { action: 'create', type: PARAMETER_TYPE, name: '/side/p', id: '/side/p' },
    ]);
  });
});

describe('apply: failures and concurrency', () => {
  it('never runs more tasks at once than its concurrency, and at least one', async () => {
    for (const [concurrency, expected] of [
      [2, 2],
      [0, 1],
    ]) {
      const sb = new Sandbox();
      const { deps } = sandboxDeps(sb);
      let inFlight = 0;
      let most = 0;
      const tasks = ['a', 'b', 'c', 'd'].map((k) =>
        parameterTask({
          key: k,
          name: `/conc${concurrency}/${k}`,
          value: k,
          beforeCreate: async (ctx) => {
            most = Math.max(most, ++inFlight);
            await ctx.clock.sleep(1000);
            inFlight--;
          },
        }),
      );
      await runWorkflow(deps, 'concurrency', (run) => run.apply(tasks).then(() => ({})), { concurrency });
      expect(most).toBe(expected);
      expect(sb.inventory()).toHaveLength(4);
    }
  });

  it('runs eight tasks at once by default', async () => {
    const sb = new Sandbox();
    const { deps } = sandboxDeps(sb);
    let inFlight = 0;
    let most = 0;
    const tasks = Array.from({ length: 10 }, (_, i) =>
      parameterTask({
        key: `t${i}`,
        name: `/eight/${i}`,
        value: 'v',
        beforeCreate: async (ctx) => {
          most = Math.max(most, ++inFlight);
          await ctx.clock.sleep(1000);
          inFlight--;
        },
      }),
    );
    await runWorkflow(deps, 'default concurrency', (run) => run.apply(tasks).then(() => ({})));
    expect(most).toBe(8);
  });

  it('stops the other tasks when one fails: waiting ones are skipped, unstarted ones never start', async () => {
    const sb = new Sandbox();
    const { deps, events } = sandboxDeps(sb);
    const tasks = [
      parameterTask({
        key: 'waits',
        name: '/stop/waits',
        value: 'v',
        beforeCreate: async () => {
          // Keeps retrying a "not yet" error until stopped.
          throw awsError('DependencyViolation', 'busy');
        },
      }),
      parameterTask({
        key: 'fails',
        name: '/stop/fails',
        value: 'v',
        beforeCreate: async (ctx) => {
          await ctx.clock.sleep(10_000);
          throw awsError('ValidationError', 'bad value');
        },
      }),
      parameterTask({ key: 'later', name: '/stop/later', value: 'v', dependsOn: ['fails'] }),
    ];
    const start = sb.now();
    const err = await runWorkflow(deps, 'stop', (run) => run.apply(tasks).then(() => ({})), {
      concurrency: 2,
    }).catch((e) => e);
    expect(err.message).toBe('bad value');
    expect(sb.now() - start).toBeLessThan(60_000);
    expect(events.of('step-fail')).toEqual([
      {
        kind: 'step-fail',
        key: 'fails',
        title: `${PARAMETER_TYPE} /stop/fails`,
        error: 'ValidationError: bad value',
      },
    ]);
    expect(events.of('step-skip')).toEqual([
      {
        kind: 'step-skip',
        key: 'waits',
        title: `${PARAMETER_TYPE} /stop/waits`,
        reason: 'stopped after another task failed',
      },
    ]);
    expect(events.of('step-start').map((e) => e.key)).not.toContain('later');
  });

  it('an interrupt stops waiting tasks as failed (interrupted), not as skipped', async () => {
    const sb = new Sandbox();
    const { deps, events } = sandboxDeps(sb);
    const controller = new AbortController();
    const tasks = [
      parameterTask({
        key: 'waits',
        name: '/ctrlc/waits',
        value: 'v',
        beforeCreate: async () => {
          controller.abort();
          throw awsError('DependencyViolation', 'busy');
        },
      }),
    ];
    const err = await runWorkflow(deps, 'ctrl-c', (run) => run.apply(tasks).then(() => ({})), {
      signal: controller.signal,
    }).catch((e) => e);
    expect(err.cause).toBeInstanceOf(InterruptedError);
    expect(events.of('step-skip')).toEqual([]);
    expect(events.of('step-fail')).toEqual([
      { kind: 'step-fail', key: 'waits', title: `${PARAMETER_TYPE} /ctrlc/waits`, error: 'interrupted' },
    ]);
  });

  it('an apply that starts after the interrupt starts no task', async () => {
    const sb = new Sandbox();
    const { deps, events } = sandboxDeps(sb);
    const controller = new AbortController();
    const run = openRun(deps, 'late apply', { signal: controller.signal });
    controller.abort();
    await expect(run.apply(sixTasks('/late'))).rejects.toBeInstanceOf(InterruptedError);
    await expect(run.plan(sixTasks('/late'))).rejects.toBeInstanceOf(InterruptedError);
    await expect(run.step('late step', async () => 'ran')).rejects.toBeInstanceOf(InterruptedError);
    expect(events.of('step-start')).toEqual([]);
    expect(sb.state.calls.read + sb.state.calls.write).toBe(0);
  });

  it('rejects a task key used twice before any call', async () => {
    const { deps, sb } = sandboxDeps();
    const twice = [
      parameterTask({ key: 'x', name: '/x1', value: '1' }),
      parameterTask({ key: 'x', name: '/x2', value: '1' }),
    ];
    const err = await runWorkflow(deps, 'twice', (run) => run.apply(twice).then(() => ({}))).catch((e) => e);
    expect(err.cause).toBeInstanceOf(InternalError);
    expect(err.message).toBe('task key x is used twice');
    expect(sb.state.calls.read).toBe(0);
  });

  it('names the whole cycle, from the first task on it', async () => {
    const { deps } = sandboxDeps();
    const tasks = [
      parameterTask({ key: 'root', name: '/r', value: '1' }),
      parameterTask({ key: 'a', name: '/a', value: '1', dependsOn: ['root', 'c'] }),
      parameterTask({ key: 'b', name: '/b', value: '1', dependsOn: ['a'] }),
      parameterTask({ key: 'c', name: '/c', value: '1', dependsOn: ['b'] }),
    ];
    const err = await runWorkflow(deps, 'cycle', (run) => run.plan(tasks).then(() => ({}))).catch((e) => e);
    expect(err.message).toBe('task dependencies form a cycle: a -> c -> b -> a');
  });

  it('a dependency found by an earlier plan of the same run is known', async () => {
    const { deps } = sandboxDeps();
    const result = await runWorkflow(deps, 'planned dependency', async (run) => {
      await run.plan([parameterTask({ key: 'a', name: '/pd/a', value: 'alpha' })]);
      await run.plan([parameterTask({ key: 'b', name: '/pd/b', value: 'b', dependsOn: ['a'] })]);
      return {};
    });
    expect(result.changes).toEqual([]);
  });
});

describe('steps and the changes of a run', () => {
  it('numbers steps, reports their progress under their own key and their failure', async () => {
    const sb = new Sandbox();
    const { deps, events } = sandboxDeps(sb);
    const err = await runWorkflow(deps, 'steps', async (run) => {
      await run.step('first', async (ctx) => {
        ctx.events.emit({ kind: 'step-update', key: '', message: 'working' });
        ctx.events.emit({ kind: 'step-update', key: 'explicit', message: 'elsewhere' });
        ctx.events.emit({ kind: 'log', level: 'info', message: 'a log line' });
      });
      await run.step('second', async () => {
        throw new Error('second failed');
      });
      return {};
    }).catch((e) => e);
    expect(err.message).toBe('second failed');
    expect(events.list.filter((e) => e.kind !== 'rollback-start')).toEqual([
      { kind: 'step-start', key: 'step-1', title: 'first' },
      { kind: 'step-update', key: 'step-1', message: 'working' },
      { kind: 'step-update', key: 'explicit', message: 'elsewhere' },
      { kind: 'log', level: 'info', message: 'a log line' },
      { kind: 'step-done', key: 'step-1', title: 'first' },
      { kind: 'step-start', key: 'step-2', title: 'second' },
      { kind: 'step-fail', key: 'step-2', title: 'second', error: 'second failed' },
    ]);
  });

  it('gives steps and tasks the run context: run id, region, clock, scaled timeouts, outputs', async () => {
    const sb = new Sandbox();
    const { deps } = sandboxDeps(sb, { timeoutScale: 3 });
    const seen: unknown[] = [];
    await runWorkflow(deps, 'context', async (run) => {
      await run.apply([parameterTask({ key: 'a', name: '/ctx/a', value: 'alpha' })]);
      await run.step('look', async (ctx) => {
        seen.push(
          ctx.runId,
          ctx.region,
          ctx.clock === deps.clock,
          ctx.timeoutScale,
          ctx.get(parameterRef('a'))!.value,
        );
      });
      return {};
    });
    expect(seen).toEqual([deps.runId, 'us-east-1', true, 3, 'alpha']);
    const unscaled = sandboxDeps(sb);
    const run = openRun(unscaled.deps, 'unscaled');
    expect(run.ctx.timeoutScale).toBe(1);
  });

  it('scales the "not yet" deadline of apply by timeoutScale', async () => {
    for (const [scale, limit] of [
      [1, 60_000],
      [2, 120_000],
    ]) {
      const sb = new Sandbox();
      const { deps } = sandboxDeps(sb, { timeoutScale: scale });
      const start = sb.now();
      const task = parameterTask({
        key: 'p',
        name: '/never/p',
        value: 'v',
        beforeCreate: () => {
          throw awsError('DependencyViolation', 'busy');
        },
      });
      await runWorkflow(deps, 'never ready', (run) => run.apply([task]).then(() => ({})), {
        notReadyTimeoutMs: 60_000,
      }).catch((e) => e);
      expect(sb.now() - start).toBeGreaterThanOrEqual(limit);
      expect(sb.now() - start).toBeLessThan(limit + 31_000);
    }
  });

  it('gives up on a task that is never ready after 10 minutes by default', async () => {
    const sb = new Sandbox();
    const { deps } = sandboxDeps(sb);
    const start = sb.now();
    const task = parameterTask({
      key: 'p',
      name: '/never10/p',
      value: 'v',
      beforeCreate: () => {
        throw awsError('DependencyViolation', 'busy');
      },
    });
    const err = await runWorkflow(deps, 'never ready', (run) => run.apply([task]).then(() => ({}))).catch(
      (e) => e,
    );
    expect(err.message).toBe('busy');
    expect(sb.now() - start).toBeGreaterThanOrEqual(600_000);
    expect(sb.now() - start).toBeLessThan(631_000);
  });

  it('records a change once, merging its id and details', () => {
    const run = openRun(sandboxDeps().deps, 'record');
    run.record({ action: 'update', type: 'T', name: 'n', details: ['a'] });
    run.record({ action: 'update', type: 'T', name: 'n', id: 'id-1', details: ['b', 'a'] });
    run.record({ action: 'update', type: 'T', name: 'n', id: 'id-1' });
    run.record({ action: 'update', type: 'T', name: 'n', id: 'id-2' });
    run.record({ action: 'create', type: 'T', name: 'n' });
    run.record({ action: 'update', type: 'U', name: 'n' });
    run.record({ action: 'update', type: 'T', name: 'm' });
    expect(run.changes()).toEqual([
      { action: 'update', type: 'T', name: 'n', id: 'id-1', details: ['a', 'b'] },
      { action: 'update', type: 'T', name: 'n', id: 'id-2' },
      { action: 'create', type: 'T', name: 'n' },
      { action: 'update', type: 'U', name: 'n' },
      { action: 'update', type: 'T', name: 'm' },
    ]);
    run.changes()[0].name = 'changed';
    expect(run.changes()[0].name).toBe('n');
  });

  it('a task whose resource has no id is reported without one', async () => {
    const sb = new Sandbox();
    const { deps } = sandboxDeps(sb);
    const task: Task<ParameterState> = {
      ...parameterTask({ key: 'p', name: '/noid/p', value: 'v' }),
      id: () => '',
    };
    const result = await runWorkflow(deps, 'no id', async (run) => ({
      plan: await run.plan([task]),
      applied: await run.apply([task]),
    }));
    expect(result.plan).toEqual([{ action: 'create', type: PARAMETER_TYPE, name: '/noid/p' }]);
    expect(result.applied).toEqual([{ action: 'create', type: PARAMETER_TYPE, name: '/noid/p' }]);
  });
});
