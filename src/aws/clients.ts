// The AWS client factory: the SDK v3 clients, built lazily (so `--help` never loads the SDK) from one
// resolved region/profile/endpoint and one credential provider shared by every client (so an MFA code
// is asked once per run), with adaptive retry, and a middleware that counts
// every call attempt into one ApiCallCounter per run, and one that names the failed call on its error
// (`$service`, `$operation`). The sandbox plugs in here (src/sandbox).
import type { EC2Client } from '@aws-sdk/client-ec2';
import type { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import type { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { Route53Client } from '@aws-sdk/client-route-53';
import type { ACMClient } from '@aws-sdk/client-acm';
import type { IAMClient } from '@aws-sdk/client-iam';
import type { SSMClient } from '@aws-sdk/client-ssm';
import type { STSClient } from '@aws-sdk/client-sts';
import type { ServiceQuotasClient } from '@aws-sdk/client-service-quotas';
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
  /**
   * Asked for the code when a profile assumes a role with `mfa_serial` (the SDK's mfaCodeProvider);
   * without it such a profile fails. The CLI prompts on a terminal and fails clearly elsewhere.
   */
  mfaCodeProvider?: (mfaSerial: string) => Promise<string>;
}

type ClientCtor = new (config: Record<string, unknown>) => {
  middlewareStack: { add: (mw: unknown, opts: unknown) => void; use: (p: unknown) => void };
};

export class AwsClients {
  readonly calls: ApiCallCounter;
  private readonly cache = new Map<string, unknown>();
  private credentialProvider?: unknown;
  private readonly derived = new Map<number, AwsClients>();

  constructor(
    readonly options: AwsClientOptions,
    shared?: { calls: ApiCallCounter; credentialProvider?: unknown },
  ) {
    this.calls = shared?.calls ?? new ApiCallCounter();
    this.credentialProvider = shared?.credentialProvider;
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
  get sts(): STSClient {
    return this.client('sts', () => require('@aws-sdk/client-sts').STSClient);
  }
  get serviceQuotas(): ServiceQuotasClient {
    return this.client('servicequotas', () => require('@aws-sdk/client-service-quotas').ServiceQuotasClient);
  }

  /**
   * The same account, region, credentials and call counter, with at most `maxAttempts` attempts per
   * call: for checks that only inform (a preflight), which must not wait through ten retries of an
   * endpoint that does not implement them (moto answers SimulatePrincipalPolicy with HTTP 500).
   */
  withMaxAttempts(maxAttempts: number): AwsClients {
    let clients = this.derived.get(maxAttempts);
    if (!clients) {
      clients = new AwsClients({ ...this.options, maxAttempts }, { calls: this.calls, credentialProvider: this.credentials() });
      this.derived.set(maxAttempts, clients);
    }
    return clients;
  }

  /**
   * The credentials of every client: the static ones given, else one SDK default provider chain
   * (environment, the profile's keys / SSO / role / credential_process, web identity, container,
   * instance metadata), memoized by the SDK and shared, so it resolves (and asks for an MFA code) once.
   * An assume-role profile's STS calls go to --endpoint-url too.
   */
  credentials(): unknown {
    const o = this.options;
    if (o.credentials) return o.credentials;
    if (!this.credentialProvider) {
      const { defaultProvider } = require('@aws-sdk/credential-provider-node') as typeof import('@aws-sdk/credential-provider-node');
      this.credentialProvider = defaultProvider({
        profile: o.profile,
        mfaCodeProvider: o.mfaCodeProvider,
        ...(o.endpointUrl ? { clientConfig: { endpoint: o.endpointUrl } } : {}),
      });
    }
    return this.credentialProvider;
  }

  /** Releases sockets held by the clients. */
  destroy(): void {
    for (const c of this.cache.values()) (c as { destroy?: () => void }).destroy?.();
    this.cache.clear();
    for (const d of this.derived.values()) d.destroy();
    this.derived.clear();
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
    config.credentials = this.credentials();
    // Still given: the profile's other settings (endpoint_url, retry settings) are the client's to read.
    if (!o.credentials && o.profile) config.profile = o.profile;
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
