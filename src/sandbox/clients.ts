// Wires the real SDK clients to a sandbox: the sandbox plugin, fake static credentials, and the
// SDK's own retry strategy with its backoff spent in virtual time instead of real time.
import { StandardRetryStrategy } from '@smithy/util-retry';
import type { RetryErrorInfo, RetryStrategyV2, RetryToken, StandardRetryToken } from '@smithy/types';
import { AwsClients } from '../aws/clients';
import type { Clock } from '../core/clock';
import type { Sandbox } from './sandbox';

/** The SDK's standard retry decisions (throttling, transient errors, retry quota); backoff on `clock`. */
export class VirtualBackoffRetryStrategy implements RetryStrategyV2 {
  private readonly inner: StandardRetryStrategy;

  constructor(
    private readonly clock: Clock,
    maxAttempts = 10,
  ) {
    this.inner = new StandardRetryStrategy(maxAttempts);
  }

  acquireInitialRetryToken(scope: string): Promise<RetryToken> {
    return this.inner.acquireInitialRetryToken(scope);
  }

  async refreshRetryTokenForRetry(token: RetryToken, errorInfo: RetryErrorInfo): Promise<RetryToken> {
    const next = (await this.inner.refreshRetryTokenForRetry(token as StandardRetryToken, errorInfo)) as StandardRetryToken;
    await this.clock.sleep(next.getRetryDelay());
    return Object.assign(Object.create(Object.getPrototypeOf(next)), next, { getRetryDelay: () => 0 });
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
