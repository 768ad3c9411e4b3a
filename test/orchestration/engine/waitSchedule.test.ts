// When waits poll and retries retry (on the virtual clock), where their progress goes, how they stop,
// and which errors rollback keeps retrying.
import { getEventListeners } from 'node:events';
import { InterruptedError, WaitTimeoutError } from '../../../src/core/errors';
import {
  isNotYetError,
  isStillInUseError,
  retryWhileNotReady,
  sleepUnlessAborted,
  waitFor,
} from '../../../src/orchestration/engine';
import { awsError } from '../../../src/sandbox/errors';
import { Sandbox } from '../../../src/sandbox/sandbox';
import { collectingEvents } from '../../helpers/sandboxDeps';

/** A probe that is never done, recording when it was polled (relative to the start). */
function neverDone(sb: Sandbox, polls: number[], start = sb.now()) {
  return async () => {
    polls.push(sb.now() - start);
    return { done: false, seen: `poll ${polls.length}` };
  };
}

describe('waitFor', () => {
  it('polls last exactly at the deadline and then gives up', async () => {
    const sb = new Sandbox();
    const polls: number[] = [];
    const err = await waitFor(
      { clock: sb.clock, events: collectingEvents() },
      { what: 'x', timeoutMs: 60_000 },
      neverDone(sb, polls),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WaitTimeoutError);
    expect((err as WaitTimeoutError).lastSeen).toBe('poll 6');
    expect(polls).toEqual([0, 5000, 12_500, 23_750, 40_625, 60_000]);
  });

  it('grows the interval to 30 s unless told otherwise, and starts at most at the cap', async () => {
    const sb = new Sandbox();
    const polls: number[] = [];
    await waitFor(
      { clock: sb.clock, events: collectingEvents() },
      { what: 'x', timeoutMs: 200_000 },
      neverDone(sb, polls),
    ).catch(() => undefined);
    const gaps = polls.slice(1).map((t, i) => t - polls[i]);
    expect(gaps.slice(0, 5)).toEqual([5000, 7500, 11_250, 16_875, 25_312.5]);
    expect(gaps.slice(5, -1).every((g) => g === 30_000)).toBe(true);
    expect(gaps.length).toBeGreaterThan(7);

    const capped: number[] = [];
    await waitFor(
      { clock: sb.clock, events: collectingEvents() },
      { what: 'x', timeoutMs: 50_000, intervalMs: 60_000, maxIntervalMs: 20_000 },
      neverDone(sb, capped),
    ).catch(() => undefined);
    expect(capped).toEqual([0, 20_000, 40_000, 50_000]);
  });

  it('reports progress under the given key, under no key, or as debug detail', async () => {
    const sb = new Sandbox();
    const events = collectingEvents();
    const ctx = { clock: sb.clock, events };
    await waitFor(ctx, { what: 'a', timeoutMs: 5000, key: 'k' }, neverDone(sb, [])).catch(() => undefined);
    await waitFor(ctx, { what: 'b', timeoutMs: 5000 }, neverDone(sb, [])).catch(() => undefined);
    await waitFor(ctx, { what: 'c', timeoutMs: 5000, detail: true }, neverDone(sb, [])).catch(
      () => undefined,
    );
    expect(events.list).toEqual([
      { kind: 'step-update', key: 'k', message: 'waiting for a; seen: poll 1' },
      { kind: 'step-update', key: '', message: 'waiting for b; seen: poll 1' },
      { kind: 'log', level: 'debug', message: 'waiting for c; seen: poll 1' },
    ]);
  });

  it("stops on the run's signal when the options give none, and leaves no listener behind", async () => {
    const sb = new Sandbox();
    const controller = new AbortController();
    let polls = 0;
    const err = await waitFor(
      { clock: sb.clock, events: collectingEvents(), signal: controller.signal },
      { what: 'x', timeoutMs: 600_000 },
      async () => {
        if (++polls === 4) controller.abort();
        return { done: false, seen: '' };
      },
    ).catch((e) => e);
    expect(err).toBeInstanceOf(InterruptedError);
    expect(polls).toBe(4);

    const other = new AbortController();
    let n = 0;
    await waitFor(
      { clock: sb.clock, events: collectingEvents(), signal: other.signal },
      { what: 'x', timeoutMs: 600_000 },
      async () => ({ done: ++n === 5, value: n, seen: '' }),
    );
    expect(getEventListeners(other.signal, 'abort')).toHaveLength(0);
  });

  it('a sleep wakes at once with InterruptedError when the signal aborts, and not at all once aborted', async () => {
    const sb = new Sandbox();
    const controller = new AbortController();
    const start = sb.now();
    const sleeping = sleepUnlessAborted(sb.clock, 60_000, controller.signal).catch((e) => e);
    await new Promise((resolve) => setImmediate(resolve));
    controller.abort();
    expect(await sleeping).toBeInstanceOf(InterruptedError);
    expect(sb.now() - start).toBe(0);
    await expect(sleepUnlessAborted(sb.clock, 1000, controller.signal)).rejects.toBeInstanceOf(
      InterruptedError,
    );
    await sleepUnlessAborted(sb.clock, 1000);
    expect(sb.now() - start).toBe(1000);
  });
});

describe('retryWhileNotReady', () => {
  /** Attempt times of a call that always fails with `error`. */
  async function attempts(
    sb: Sandbox,
    options: { timeoutMs: number; intervalMs?: number; maxIntervalMs?: number },
    error: unknown,
  ) {
    const times: number[] = [];
    const start = sb.now();
    const err = await retryWhileNotReady(
      { clock: sb.clock, events: collectingEvents() },
      { what: 'x', ...options },
      async () => {
        times.push(sb.now() - start);
        throw error;
      },
    ).catch((e) => e);
    expect(err).toBe(error);
    return times;
  }

  it('retries after 2 s, then x1.5, the last attempt exactly at the deadline', async () => {
    const sb = new Sandbox();
    const busy = awsError('DependencyViolation', 'busy');
    expect(await attempts(sb, { timeoutMs: 20_000 }, busy)).toEqual([0, 2000, 5000, 9500, 16_250, 20_000]);
  });

  it('grows the retry interval to 30 s unless told otherwise', async () => {
    const sb = new Sandbox();
    const times = await attempts(sb, { timeoutMs: 300_000 }, awsError('Throttling', 'slow down'));
    const gaps = times.slice(1).map((t, i) => t - times[i]);
    expect(Math.max(...gaps)).toBe(30_000);
    expect(gaps.filter((g) => g === 30_000).length).toBeGreaterThan(3);
    expect(
      await attempts(
        sb,
        { timeoutMs: 30_000, intervalMs: 50_000, maxIntervalMs: 10_000 },
        awsError('Throttling', 'x'),
      ),
    ).toEqual([0, 10_000, 20_000, 30_000]);
  });

  it("stops on the run's signal, and names a retried error without an AWS code as an error", async () => {
    const sb = new Sandbox();
    const controller = new AbortController();
    const events = collectingEvents();
    let tries = 0;
    const err = await retryWhileNotReady(
      { clock: sb.clock, events, signal: controller.signal },
      { what: 'the thing', timeoutMs: 600_000, retryable: () => true },
      async () => {
        if (++tries === 3) controller.abort();
        throw new Error('flaky');
      },
    ).catch((e) => e);
    expect(err).toBeInstanceOf(InterruptedError);
    expect(tries).toBe(3);
    expect(events.list[0]).toEqual({
      kind: 'step-update',
      key: '',
      message: 'retrying the thing (error: not ready yet)',
    });
  });
});

describe('which errors mean "not yet"', () => {
  it('reads the message of an error object that is not an Error, case-insensitively', () => {
    const plain = { name: 'ValidationError', $metadata: {}, message: 'invalid iam instance profile name' };
    expect(isNotYetError(plain)).toBe(true);
    expect(isNotYetError({ name: 'ValidationError', $metadata: {} })).toBe(false);
    expect(isNotYetError(awsError('InvalidParameterValue', 'Invalid IAM Instance Profile name'))).toBe(true);
    expect(isNotYetError(awsError('InvalidParameterValue', 'not authorized to perform: iam:PassRole'))).toBe(
      false,
    );
    expect(
      isNotYetError(awsError('ValidationError', 'Value for parameter iamInstanceProfile.name is invalid')),
    ).toBe(false);
    expect(isNotYetError(awsError('NoSuchEntity', 'x'))).toBe(false);
    expect(isNotYetError(awsError('ResourceInUseFault', 'x'))).toBe(true);
    expect(isNotYetError(awsError('LoadBalancerNotFound', 'x'))).toBe(true);
  });

  it('rollback retries a busy resource or a busy AWS, never a missing one, a refusal or a rule priority', () => {
    for (const code of [
      'DependencyViolation',
      'ResourceInUse',
      'ScalingActivityInProgress',
      'Throttling',
      'ThrottlingException',
      'RequestLimitExceeded',
      'TooManyRequestsException',
      'InternalError',
      'InternalFailure',
      'ServiceUnavailable',
    ])
      expect([code, isStillInUseError(awsError(code, 'x'))]).toEqual([code, true]);
    for (const code of [
      'PriorityInUse',
      'InvalidGroup.NotFound',
      'ParameterNotFound',
      'AccessDenied',
      'ValidationError',
    ])
      expect([code, isStillInUseError(awsError(code, 'x'))]).toEqual([code, false]);
    expect(isStillInUseError(awsError('InvalidParameterValue', 'Invalid IAM Instance Profile name'))).toBe(
      false,
    );
    expect(isStillInUseError(new Error('DependencyViolation'))).toBe(false);
    expect(isStillInUseError(undefined)).toBe(false);
  });
});
