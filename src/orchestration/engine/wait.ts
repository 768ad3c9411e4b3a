// Polling waits and "not yet" retries on the injectable clock (stub; implemented by the engine work).
import type { Clock } from '../../core/clock';
import type { EventSink } from '../../core/events';

export interface WaitOptions {
  /** What is awaited, for messages: `3 instances of k3sctl-demo-cp InService`. */
  what: string;
  timeoutMs: number;
  /** First poll interval; grows with backoff up to maxIntervalMs. */
  intervalMs?: number;
  maxIntervalMs?: number;
  signal?: AbortSignal;
}

/** One poll: done or not, the value when done, and a description of what was seen (for messages). */
export type Probe<T> = () => Promise<{ done: boolean; value?: T; seen: string }>;

/** Polls `probe` with backoff on ctx.clock until done; throws WaitTimeoutError naming what and last seen. */
export function waitFor<T>(
  _ctx: { clock: Clock; events: EventSink },
  _options: WaitOptions,
  _probe: Probe<T>,
): Promise<T> {
  throw new Error('not implemented');
}

/**
 * Runs `fn`, retrying while it fails with a "not yet" error (eventual consistency: IAM propagation's
 * InvalidParameterValue, fresh ids NotFound, DependencyViolation, PriorityInUse, throttling) until the
 * deadline; other errors are thrown at once. `retryable` overrides the default classification.
 */
export function retryWhileNotReady<T>(
  _ctx: { clock: Clock; events: EventSink },
  _options: WaitOptions & { retryable?: (error: unknown) => boolean },
  _fn: () => Promise<T>,
): Promise<T> {
  throw new Error('not implemented');
}
