// The AWS client factory: the seven SDK v3 clients, built lazily (so `--help` never loads the SDK)
// from one resolved region/profile/endpoint, with adaptive retry, and a middleware that counts
// every call attempt into one ApiCallCounter per run, and one that names the failed call on its error
// (`$service`, `$operation`). The sandbox plugs in here (src/sandbox).
import type { EC2Client } from '@aws-sdk/client-ec2';
import type { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import type { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { Route53Client } from '@aws-sdk/client-route-53';
import type { ACMClient } from '@aws-sdk/client-acm';
import type { IAMClient } from '@aws-sdk/client-iam';
import type { SSMClient } from '@aws-sdk/client-ssm';
import type { Pluggable } from '@smithy/types';
import { ApiCallCounter } from './apiCalls';

export interface AwsClientOptions {
  region: string;
  profile?: string;
  endpointUrl?: string;
  /** Extra SDK plugins (the sandbox installs itself this way). */
  plugins?: Pluggable<any, any>[]; // eslint-disable-line @typescript-eslint/no-explicit-any
  /** Static credentials (the sandbox uses fake ones so no credential chain is consulted). */
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** Overrides the retry strategy (the sandbox retries without real-time backoff). */
  retryStrategy?: unknown;
  maxAttempts?: number;
}

type ClientCtor = new (config: Record<string, unknown>) => {
  middlewareStack: { add: (mw: unknown, opts: unknown) => void; use: (p: unknown) => void };
};

export class AwsClients {
  readonly calls = new ApiCallCounter();
  private readonly cache = new Map<string, unknown>();

  constructor(readonly options: AwsClientOptions) {
    // The pinned SDK warns on every process start that releases after January 2027 will need Node 22;
    // our lockfile pins a release that supports Node 20, so the warning is noise on stderr.
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  }

  get region(): string {
    return this.options.region;
  }

  get ec2(): EC2Client {
    return this.client('ec2', () => require('@aws-sdk/client-ec2').EC2Client);
  }
  get autoscaling(): AutoScalingClient {
    return this.client('autoscaling', () => require('@aws-sdk/client-auto-scaling').AutoScalingClient);
  }
  get elbv2(): ElasticLoadBalancingV2Client {
    return this.client('elbv2', () => require('@aws-sdk/client-elastic-load-balancing-v2').ElasticLoadBalancingV2Client);
  }
  get route53(): Route53Client {
    return this.client('route53', () => require('@aws-sdk/client-route-53').Route53Client);
  }
  get acm(): ACMClient {
    return this.client('acm', () => require('@aws-sdk/client-acm').ACMClient);
  }
  get iam(): IAMClient {
    return this.client('iam', () => require('@aws-sdk/client-iam').IAMClient);
  }
  get ssm(): SSMClient {
    return this.client('ssm', () => require('@aws-sdk/client-ssm').SSMClient);
  }

  /** Releases sockets held by the clients. */
  destroy(): void {
    for (const c of this.cache.values()) (c as { destroy?: () => void }).destroy?.();
    this.cache.clear();
  }

  private client<T>(service: string, load: () => ClientCtor): T {
    const existing = this.cache.get(service);
    if (existing) return existing as T;
    const o = this.options;
    const config: Record<string, unknown> = {
      // IAM and Route 53 are global services; their SDK clients pick the right endpoint from any region.
      region: o.region,
      maxAttempts: o.maxAttempts ?? 10,
    };
    if (o.retryStrategy) config.retryStrategy = o.retryStrategy;
    else config.retryMode = 'adaptive';
    if (o.endpointUrl) config.endpoint = o.endpointUrl;
    if (o.credentials) config.credentials = o.credentials;
    else if (o.profile) config.profile = o.profile;
    const Ctor = load();
    const client = new Ctor(config);
    const counter = this.calls;
    // Counted below the retry middleware: every attempt, retries included, is one call.
    client.middlewareStack.add(
      (next: (a: unknown) => Promise<unknown>, context: { commandName?: string }) => async (args: unknown) => {
        counter.record((context.commandName ?? 'Unknown').replace(/Command$/, ''));
        return next(args);
      },
      { step: 'finalizeRequest', priority: 'low', name: 'k3sctlApiCallCounter' },
    );
    // Outermost (after the retries): the error that reaches the caller says which call it answered,
    // as `$service` / `$operation` (the CLI prints `AWS ec2:DescribeInstances failed: ...`).
    client.middlewareStack.add(
      (next: (a: unknown) => Promise<unknown>, context: { commandName?: string }) => async (args: unknown) => {
        try {
          return await next(args);
        } catch (error) {
          nameTheCall(error, service, (context.commandName ?? 'Unknown').replace(/Command$/, ''));
          throw error;
        }
      },
      { step: 'initialize', priority: 'high', name: 'k3sctlNameTheCall' },
    );
    for (const plugin of o.plugins ?? []) client.middlewareStack.use(plugin);
    this.cache.set(service, client);
    return client as unknown as T;
  }
}

/** Marks an SDK error with the service and operation it answered, unless a deeper layer already did. */
function nameTheCall(error: unknown, service: string, operation: string): void {
  if (!error || typeof error !== 'object' || Object.isFrozen(error)) return;
  const e = error as { $service?: string; $operation?: string };
  e.$service ??= service;
  e.$operation ??= operation;
}
