// Polling waits and "not yet" retries on the injectable clock: exponential backoff (x1.5, capped),
// a deadline that names what was awaited and what was seen last, and cancellation by AbortSignal.
import type { Clock } from './clock';
import { awsErrorCode, InterruptedError, WaitTimeoutError } from './errors';
import type { EventSink } from './events';

export interface WaitOptions {
  /** What is awaited, for messages: `3 instances of k3sctl-demo-cp InService`. */
  what: string;
  timeoutMs: number;
  /** First poll interval; grows with backoff up to maxIntervalMs. */
  intervalMs?: number;
  maxIntervalMs?: number;
  signal?: AbortSignal;
  /** Progress key for `step-update` events; inside Run.step the step's own key is used. */
  key?: string;
  /** A short inner wait (one SSM command inside a readiness poll): its polls are debug detail (--verbose). */
  detail?: boolean;
}

/** One poll: done or not, the value when done, and a description of what was seen (for messages). */
export type Probe<T> = () => Promise<{ done: boolean; value?: T; seen: string }>;

/** What waits need from a run context (a RunContext qualifies). */
export interface WaitContext {
  clock: Clock;
  events: EventSink;
  /** The run's interrupt signal, used when the options give none. */
  signal?: AbortSignal;
}

const BACKOFF = 1.5;

/** Throws InterruptedError when `signal` has aborted. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new InterruptedError();
}

/** Sleeps on `clock`, waking early (with InterruptedError) when `signal` aborts. */
export async function sleepUnlessAborted(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  throwIfAborted(signal);
  if (!signal) return clock.sleep(ms);
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(new InterruptedError());
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    await Promise.race([clock.sleep(ms), aborted]);
  } finally {
    signal.removeEventListener('abort', onAbort!);
  }
}

/** Polls `probe` with backoff on ctx.clock until done; throws WaitTimeoutError naming what and last seen. */
export async function waitFor<T>(ctx: WaitContext, options: WaitOptions, probe: Probe<T>): Promise<T> {
  const signal = options.signal ?? ctx.signal;
  const start = ctx.clock.now();
  const deadline = start + options.timeoutMs;
  const maxInterval = options.maxIntervalMs ?? 30_000;
  let interval = Math.min(options.intervalMs ?? 5_000, maxInterval);
  for (;;) {
    throwIfAborted(signal);
    const result = await probe();
    if (result.done) return result.value as T;
    const lastSeen = result.seen;
    const now = ctx.clock.now();
    if (now >= deadline) throw new WaitTimeoutError(options.what, lastSeen, options.timeoutMs);
    const message = `waiting for ${options.what}; seen: ${lastSeen}`;
    ctx.events.emit(
      options.detail ? { kind: 'log', level: 'debug', message } : { kind: 'step-update', key: options.key ?? '', message },
    );
    await sleepUnlessAborted(ctx.clock, Math.max(1, Math.min(interval, deadline - now)), signal);
    interval = Math.min(interval * BACKOFF, maxInterval);
  }
}

// Compared canonically (awsErrorCode drops a trailing Exception/Fault: ThrottlingException -> Throttling).
const NOT_YET_CODES = new Set(
  [
    'DependencyViolation',
    'ResourceInUse',
    'PriorityInUse',
    'ScalingActivityInProgress',
    'Throttling', // also ThrottlingException: compared canonically
    'RequestLimitExceeded',
    'TooManyRequestsException',
    'InternalError',
    'InternalFailure',
    'ServiceUnavailable',
  ].map(canonical),
);

function canonical(code: string): string {
  return code.replace(/(?<=.)(Exception|Fault)$/, '');
}

/**
 * True for the errors that mean "not yet" rather than "no": eventual consistency (IAM instance
 * profiles refused by EC2/ASG for seconds after creation, fresh ids NotFound), resources still in use,
 * throttling beyond the SDK's own retries, and transient server errors.
 */
export function isNotYetError(error: unknown): boolean {
  const raw = awsErrorCode(error);
  if (!raw) return false;
  const code = canonical(raw);
  if (NOT_YET_CODES.has(code)) return true;
  if (code.endsWith('NotFound')) return true; // InvalidInstanceID.NotFound, ParameterNotFound, ...
  const message =
    error instanceof Error ? error.message : String((error as { message?: unknown })?.message ?? '');
  if (code === 'InvalidParameterValue')
    return /iamInstanceProfile|Invalid IAM Instance Profile/i.test(message);
  if (code === 'ValidationError')
    return /Invalid IAM Instance Profile|not authorized to perform: iam:PassRole/i.test(message);
  return false;
}

/** The narrower set rollback retries: the resource is busy or AWS is, not missing. */
export function isStillInUseError(error: unknown): boolean {
  const code = awsErrorCode(error);
  if (!code) return false;
  return NOT_YET_CODES.has(canonical(code)) && canonical(code) !== 'PriorityInUse';
}

/**
 * Runs `fn`, retrying while it fails with a "not yet" error (eventual consistency: IAM propagation's
 * InvalidParameterValue, fresh ids NotFound, DependencyViolation, PriorityInUse, throttling) until the
 * deadline; other errors are thrown at once. `retryable` overrides the default classification.
 * At the deadline the last error is thrown as it is (its AWS code intact).
 */
export async function retryWhileNotReady<T>(
  ctx: WaitContext,
  options: WaitOptions & { retryable?: (error: unknown) => boolean },
  fn: () => Promise<T>,
): Promise<T> {
  const signal = options.signal ?? ctx.signal;
  const retryable = options.retryable ?? isNotYetError;
  const deadline = ctx.clock.now() + options.timeoutMs;
  const maxInterval = options.maxIntervalMs ?? 30_000;
  let interval = Math.min(options.intervalMs ?? 2_000, maxInterval);
  for (;;) {
    throwIfAborted(signal);
    try {
      return await fn();
    } catch (error) {
      if (!retryable(error)) throw error;
      const now = ctx.clock.now();
      if (now >= deadline) throw error;
      const code = awsErrorCode(error) ?? 'error';
      ctx.events.emit({
        kind: 'step-update',
        key: options.key ?? '',
        message: `retrying ${options.what} (${code}: not ready yet)`,
      });
      await sleepUnlessAborted(ctx.clock, Math.max(1, Math.min(interval, deadline - now)), signal);
      interval = Math.min(interval * BACKOFF, maxInterval);
    }
  }
}
