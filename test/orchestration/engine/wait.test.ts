import { PutParameterCommand } from '@aws-sdk/client-ssm';
import { InterruptedError, WaitTimeoutError } from '../../../src/core/errors';
import { isNotYetError, retryWhileNotReady, runWorkflow, waitFor } from '../../../src/orchestration/engine';
import { awsError } from '../../../src/sandbox/errors';
import { Sandbox } from '../../../src/sandbox/sandbox';
import { collectingEvents, removeTestHomes, sandboxDeps } from '../../helpers/sandboxDeps';
import { parameterTask, readParameter } from '../fixtures/parameterTask';

afterAll(removeTestHomes);

describe('waitFor', () => {
  it('polls with backoff on the clock until done', async () => {
    const sb = new Sandbox();
    const events = collectingEvents();
    const start = sb.now();
    const polls: number[] = [];
    const value = await waitFor(
      { clock: sb.clock, events },
      { what: 'the answer', timeoutMs: 600_000, key: 'w' },
      async () => {
        polls.push(sb.now() - start);
        return polls.length < 5
          ? { done: false, seen: `poll ${polls.length}` }
          : { done: true, value: 42, seen: 'ready' };
      },
    );
    expect(value).toBe(42);
    // 5 s, then x1.5 each time
    expect(polls).toEqual([0, 5000, 12500, 23750, 40625]);
    expect(events.of('step-update').map((e) => e.message)).toEqual(
      [1, 2, 3, 4].map((n) => `waiting for the answer; seen: poll ${n}`),
    );
    expect(events.of('step-update').every((e) => e.key === 'w')).toBe(true);
  });

  it('caps the interval at maxIntervalMs', async () => {
    const sb = new Sandbox();
    const polls: number[] = [];
    const start = sb.now();
    await waitFor(
      { clock: sb.clock, events: collectingEvents() },
      { what: 'x', timeoutMs: 600_000, intervalMs: 10_000, maxIntervalMs: 12_000 },
      async () => {
        polls.push(sb.now() - start);
        return { done: polls.length === 4, seen: '' };
      },
    );
    expect(polls).toEqual([0, 10_000, 22_000, 34_000]);
  });

  it('times out with a message naming what was awaited and what was seen last', async () => {
    const sb = new Sandbox();
    const start = sb.now();
    let n = 0;
    const err = await waitFor<never>(
      { clock: sb.clock, events: collectingEvents() },
      { what: '3 instances InService', timeoutMs: 60_000 },
      async () => ({
        done: false,
        seen: `${++n} of 3 InService`,
      }),
    ).catch((e: WaitTimeoutError) => e);
    expect(err).toBeInstanceOf(WaitTimeoutError);
    expect(err.message).toBe(
      `timed out after 60s waiting for 3 instances InService; last seen: ${n} of 3 InService`,
    );
    expect(err.lastSeen).toBe(`${n} of 3 InService`);
    expect(sb.now() - start).toBeGreaterThanOrEqual(60_000);
    // the last poll happens at the deadline, not after it
    expect(sb.now() - start).toBeLessThan(61_000);
  });

  it('stops with InterruptedError when the signal aborts', async () => {
    const sb = new Sandbox();
    const controller = new AbortController();
    let polls = 0;
    const err = await waitFor(
      { clock: sb.clock, events: collectingEvents() },
      { what: 'x', timeoutMs: 600_000, signal: controller.signal },
      async () => {
        if (++polls === 3) controller.abort();
        return { done: false, seen: '' };
      },
    ).catch((e) => e);
    expect(err).toBeInstanceOf(InterruptedError);
    expect(polls).toBe(3);
  });
});

describe('retryWhileNotReady', () => {
  it('retries DependencyViolation, then succeeds', async () => {
    const sb = new Sandbox();
    const events = collectingEvents();
    let attempts = 0;
    const result = await retryWhileNotReady(
      { clock: sb.clock, events },
      { what: 'delete sg', timeoutMs: 60_000 },
      async () => {
        if (++attempts < 3) throw awsError('DependencyViolation', 'resource sg-1 has a dependent object');
        return 'deleted';
      },
    );
    expect(result).toBe('deleted');
    expect(attempts).toBe(3);
    expect(events.of('step-update').map((e) => e.message)).toEqual([
      'retrying delete sg (DependencyViolation: not ready yet)',
      'retrying delete sg (DependencyViolation: not ready yet)',
    ]);
  });

  it('throws other errors at once, and the last "not yet" error at the deadline', async () => {
    const sb = new Sandbox();
    const ctx = { clock: sb.clock, events: collectingEvents() };
    let attempts = 0;
    await expect(
      retryWhileNotReady(ctx, { what: 'x', timeoutMs: 60_000 }, async () => {
        attempts++;
        throw awsError('ValidationError', 'bad');
      }),
    ).rejects.toMatchObject({ name: 'ValidationError' });
    expect(attempts).toBe(1);
    const start = sb.now();
    await expect(
      retryWhileNotReady(ctx, { what: 'x', timeoutMs: 30_000 }, async () => {
        throw awsError('InvalidGroup.NotFound', 'no such group');
      }),
    ).rejects.toMatchObject({ name: 'InvalidGroup.NotFound' });
    expect(sb.now() - start).toBeGreaterThanOrEqual(30_000);
    // a custom classification
    let tries = 0;
    await retryWhileNotReady(
      ctx,
      { what: 'x', timeoutMs: 30_000, retryable: (e) => (e as Error).message === 'again' },
      async () => {
        if (++tries < 2) throw new Error('again');
      },
    );
    expect(tries).toBe(2);
  });

  it('classifies "not yet" errors', () => {
    const notYet = [
      awsError(
        'InvalidParameterValue',
        'Value (k3sctl-demo-node) for parameter iamInstanceProfile.name is invalid. Invalid IAM Instance Profile name',
      ),
      awsError('ValidationError', 'Invalid IAM Instance Profile name'),
      awsError(
        'ValidationError',
        'User: arn:aws:sts::1:assumed-role/x is not authorized to perform: iam:PassRole on resource',
      ),
      awsError('InvalidInstanceID.NotFound', 'x'),
      awsError('ParameterNotFound', 'x'),
      awsError('DependencyViolation', 'x'),
      awsError('ResourceInUse', 'x'),
      awsError('PriorityInUse', 'x'),
      awsError('ScalingActivityInProgress', 'x'),
      awsError('Throttling', 'x'),
      awsError('ThrottlingException', 'x'),
      awsError('RequestLimitExceeded', 'x'),
      awsError('TooManyRequestsException', 'x'),
      awsError('InternalError', 'x'),
      awsError('InternalFailure', 'x'),
      awsError('ServiceUnavailable', 'x'),
    ];
    for (const e of notYet) expect([e.name, isNotYetError(e)]).toEqual([e.name, true]);
    const no = [
      awsError('InvalidParameterValue', 'Value for parameter instanceType is invalid'),
      awsError('ValidationError', 'Desired capacity 9 is greater than max 3'),
      awsError('AccessDenied', 'x'),
      // Denied for good, whatever the message says: only a ValidationError names PassRole while IAM settles.
      awsError('UnauthorizedOperation', 'You are not authorized to perform: iam:PassRole'),
      awsError('AccessDenied', 'User: x is not authorized to perform: iam:PassRole on resource'),
      new Error('plain'),
      undefined,
    ];
    for (const e of no) expect(isNotYetError(e)).toBe(false);
  });
});

describe('apply with "not yet" errors and bounded concurrency', () => {
  it('retries a create refused with a "not yet" error while the other tasks go on', async () => {
    const { deps, sb, events } = sandboxDeps();
    // The SDK does not retry DependencyViolation (a client fault); the engine does.
    sb.faults.add({ op: 'PutParameter', nth: 1, code: 'DependencyViolation' });
    const tasks = [
      parameterTask({ key: 'p', name: '/ny/p', value: 'v' }),
      parameterTask({ key: 'q', name: '/ny/q', value: 'w' }),
    ];
    const result = await runWorkflow(deps, 'not yet', (run) => run.apply(tasks).then(() => ({})));
    // q finished while p was waiting to retry (changes are listed in the order they happened)
    expect(result.changes.map((c) => `${c.action} ${c.name}`)).toEqual(['create /ny/q', 'create /ny/p']);
    expect(sb.state.calls.byOperation.PutParameter).toBe(3);
    expect((await readParameter(deps.clients, '/ny/p'))?.value).toBe('v');
    expect(events.of('step-update').some((e) => /DependencyViolation/.test(e.message))).toBe(true);
  });

  it('never has more creates in flight than the concurrency bound', async () => {
    const { deps, sb } = sandboxDeps();
    let inFlight = 0;
    let maxInFlight = 0;
    const slow = {
      beforeCreate: async (ctx: { clock: { sleep(ms: number): Promise<void> } }) => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await ctx.clock.sleep(10_000);
      },
      afterCreate: () => {
        inFlight--;
      },
    };
    const tasks = Array.from({ length: 12 }, (_, i) =>
      parameterTask({ key: `t${i}`, name: `/cc/t${i}`, value: 'v', ...slow }),
    );
    const start = sb.now();
    await runWorkflow(deps, 'bounded', (run) => run.apply(tasks).then(() => ({})), { concurrency: 3 });
    expect(maxInFlight).toBe(3);
    expect(sb.inventory()).toHaveLength(12);
    // 12 tasks, 3 at a time, 10 virtual seconds each: at least 4 rounds, and overlapped (not 12 rounds).
    expect(sb.now() - start).toBeGreaterThanOrEqual(40_000);
    expect(sb.now() - start).toBeLessThan(120_000);
  });

  it('stops scheduling after a failure, waits for tasks in flight, then fails', async () => {
    const { deps, sb, events } = sandboxDeps();
    let slowFinished = false;
    const tasks = [
      parameterTask({
        key: 'slow',
        name: '/stop/slow',
        value: 'v',
        beforeCreate: (ctx) => ctx.clock.sleep(30_000),
        afterCreate: () => {
          slowFinished = true;
        },
      }),
      parameterTask({
        key: 'bad',
        name: '/stop/bad',
        value: 'v',
        beforeCreate: () => Promise.reject(new Error('bad input')),
      }),
      parameterTask({ key: 'after', name: '/stop/after', value: 'v', dependsOn: ['bad'] }),
    ];
    const err = await runWorkflow(deps, 'stop', (run) => run.apply(tasks).then(() => ({}))).catch((e) => e);
    expect(err.message).toBe('bad input');
    expect(slowFinished).toBe(true);
    expect(events.of('step-start').map((e) => e.key)).not.toContain('after');
    // the slow task's write completed and was rolled back
    expect(err.rolledBack.map((r: { name: string }) => r.name)).toEqual(['/stop/slow']);
    expect(sb.inventory()).toEqual([]);
  });
});

describe('journaledWrite outside apply', () => {
  it('records the change of a write made in a step and rolls it back', async () => {
    const { deps, sb } = sandboxDeps();
    const { journaledWrite } = await import('../../../src/orchestration/engine');
    const err = await runWorkflow(deps, 'step', async (run) => {
      await run.step('put a parameter', (ctx) =>
        journaledWrite(
          ctx,
          {
            action: 'create',
            type: 'Test::SSM::Parameter',
            name: '/step/p',
            undo: { type: 'Test::SSM::Parameter', action: 'delete', data: { name: '/step/p' } },
          },
          () =>
            ctx.clients.ssm.send(new PutParameterCommand({ Name: '/step/p', Value: 'v', Type: 'String' })),
          () => ({ id: '/step/p' }),
        ),
      );
      expect(run.changes()).toEqual([
        { action: 'create', type: 'Test::SSM::Parameter', name: '/step/p', id: '/step/p' },
      ]);
      await run.step('fail', async () => {
        throw new Error('step failed');
      });
      return {};
    }).catch((e) => e);
    expect(err.changes).toEqual([
      { action: 'create', type: 'Test::SSM::Parameter', name: '/step/p', id: '/step/p' },
    ]);
    expect(err.rolledBack).toEqual([{ type: 'Test::SSM::Parameter', name: '/step/p', id: '/step/p' }]);
    expect(sb.inventory()).toEqual([]);
  });
});
