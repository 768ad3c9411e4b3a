// Wires the real SDK clients to a sandbox: the sandbox plugin, fake static credentials, and the
// SDK's own retry strategy with its backoff spent in virtual time instead of real time.
import { StandardRetryStrategy } from '@smithy/util-retry';
import type { RetryErrorInfo, RetryStrategyV2, RetryToken, StandardRetryToken } from '@smithy/types';
import { AwsClients } from '../aws/clients';
import type { Clock } from '../core/clock';
import type { Sandbox } from './sandbox';

/**
 * The SDK's backoff computation (jittered exponential, capped at 20 s) with the wait taken out: the
 * computed delay is handed to the virtual clock instead of a real timer.
 */
class VirtualBackoff {
  private base = 100;
  private rng = 0x2545f491;
  pending = 0;

  computeNextBackoffDelay(attempt: number): number {
    this.rng ^= this.rng << 13;
    this.rng ^= this.rng >>> 17;
    this.rng ^= this.rng << 5;
    const jitter = (this.rng >>> 0) / 0x100000000;
    this.pending = Math.floor(jitter * Math.min(this.base * 2 ** attempt, 20_000));
    return 0;
  }

  setDelayBase(delay: number): void {
    this.base = delay;
  }
}

/** The SDK's standard retry decisions (throttling, transient errors, retry quota); backoff on `clock`. */
export class VirtualBackoffRetryStrategy implements RetryStrategyV2 {
  private readonly inner: StandardRetryStrategy;
  private readonly backoff = new VirtualBackoff();

  constructor(
    private readonly clock: Clock,
    maxAttempts = 10,
  ) {
    this.inner = new StandardRetryStrategy({ maxAttempts, backoff: this.backoff } as never);
  }

  acquireInitialRetryToken(scope: string): Promise<RetryToken> {
    return this.inner.acquireInitialRetryToken(scope);
  }

  async refreshRetryTokenForRetry(token: RetryToken, errorInfo: RetryErrorInfo): Promise<RetryToken> {
    const next = await this.inner.refreshRetryTokenForRetry(token as StandardRetryToken, errorInfo);
    await this.clock.sleep(this.backoff.pending);
    return next;
  }

  recordSuccess(token: RetryToken): void {
    this.inner.recordSuccess(token as StandardRetryToken);
  }
}

export function sandboxClients(sandbox: Sandbox, region: string): AwsClients {
  return new AwsClients({
    region,
    plugins: [sandbox.plugin(region)],
    credentials: { accessKeyId: 'AKIASANDBOX000000000', secretAccessKey: 'sandbox-secret' },
    retryStrategy: new VirtualBackoffRetryStrategy(sandbox.clock),
  });
}
