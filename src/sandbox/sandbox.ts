// The simulated AWS account: state, virtual clock, latency, faults, rate limits, and dispatch of
// SDK commands to the simulated services (src/sandbox/services). See docs/ARCHITECTURE.md, The sandbox.
import { FaultInjector, type FaultRule } from './faults';
import { VirtualClock } from './virtualClock';
import { awsError, SandboxAwsError } from './errors';
import { callLatencyMs } from './latency';
import { isReadOperation } from '../aws/apiCalls';
import {
  GLOBAL_SERVICES,
  newSandboxState,
  type SandboxAccount,
  type SandboxBehavior,
  type SandboxContext,
  type SandboxState,
  type ServiceName,
} from './account';
import type { InventoryItem, ServiceModule } from './service';
import { serviceModules } from './services';
import type { Pluggable } from '@smithy/types';

export type { SandboxBehavior, SandboxState } from './account';

export interface SandboxOptions {
  state?: SandboxState;
  faults?: FaultRule[];
  seed?: number;
  behavior?: Partial<SandboxBehavior>;
}

const CLIENT_SERVICES: Record<string, ServiceName> = {
  STSClient: 'sts',
  ServiceQuotasClient: 'servicequotas',
  EC2Client: 'ec2',
  AutoScalingClient: 'autoscaling',
  ElasticLoadBalancingV2Client: 'elbv2',
  Route53Client: 'route53',
  ACMClient: 'acm',
  IAMClient: 'iam',
  SSMClient: 'ssm',
};

/** Token buckets of EC2's request throttling (per account and region): burst, refill per second. */
const RATE_BUCKETS: Record<string, [number, number]> = {
  RunInstances: [5, 2],
  mutating: [50, 5],
  describe: [100, 20],
};

export class Sandbox implements SandboxAccount {
  readonly state: SandboxState;
  readonly clock: VirtualClock;
  readonly faults: FaultInjector;
  private readonly modules: Map<ServiceName, ServiceModule>;
  private buckets = new Map<string, { tokens: number; at: number }>();
  /**
   * Called synchronously after every write operation reached a service (the CLI persists the account
   * there, so a killed process leaves exactly the writes AWS would have applied).
   */
  onWrite?: () => void;
  private ticking = false;

  constructor(options: SandboxOptions = {}) {
    this.state = options.state ?? newSandboxState(options.behavior);
    if (options.state && options.behavior) Object.assign(this.state.behavior, options.behavior);
    this.clock = new VirtualClock(this.state.now);
    this.clock.onAdvance = (now) => {
      this.state.now = now;
    };
    this.faults = new FaultInjector(options.faults ?? [], options.seed ?? 42);
    this.modules = new Map(serviceModules.map((m) => [m.service, m]));
  }

  get behavior(): SandboxBehavior {
    return this.state.behavior;
  }

  now(): number {
    return this.clock.now();
  }

  /** A new unique hex id with the given prefix: `sb.newId('i-')` -> `i-0a1b2c3d4e5f60718`. */
  newId(prefix: string, hexLength = 17): string {
    const n = this.state.seq++;
    const hex = (n * 2654435761 + 0x9e3779b9).toString(16).padStart(8, '0');
    const body = (hex + n.toString(16).padStart(hexLength, '0')).slice(-hexLength);
    return `${prefix}${body}`;
  }

  /** The state bag of one service, created on first use (`region` ignored for global services). */
  serviceState<T>(service: ServiceName, region: string, init: () => T): T {
    if (GLOBAL_SERVICES.has(service)) {
      if (this.state.global[service] === undefined) this.state.global[service] = init();
      return this.state.global[service] as T;
    }
    const r = (this.state.regions[region] ??= {});
    if (r[service] === undefined) r[service] = init();
    return r[service] as T;
  }

  /** The state bag of one service if an operation has created it (ticks, inventories, internal APIs). */
  existingServiceState<T>(service: ServiceName, region: string): T | undefined {
    return this.serviceState<T | undefined>(service, region, () => undefined);
  }

  /** Regions that have been touched. */
  get regions(): string[] {
    return Object.keys(this.state.regions);
  }

  context(region: string): SandboxContext {
    return { sb: this, region, now: this.now() };
  }

  /** Runs every service's time-driven transitions up to now, in every touched region. */
  tick(): void {
    if (this.ticking) return;
    this.ticking = true;
    try {
      const regions = this.regions.length ? this.regions : [];
      for (const region of regions) {
        for (const m of this.modules.values()) {
          if (!GLOBAL_SERVICES.has(m.service)) m.tick?.(this.context(region));
        }
      }
      for (const m of this.modules.values()) {
        if (GLOBAL_SERVICES.has(m.service)) m.tick?.(this.context(regions[0] ?? 'us-east-1'));
      }
    } finally {
      this.ticking = false;
    }
  }

  /** Advances virtual time by `ms` (tests) and applies transitions. */
  advance(ms: number): void {
    this.clock.advance(ms);
    this.tick();
  }

  /** Executes one API operation as AWS would, after its simulated latency. */
  async call(service: ServiceName, operation: string, region: string, input: unknown): Promise<object> {
    const read = isReadOperation(operation);
    const calls = this.state.calls;
    if (read) calls.read++;
    else calls.write++;
    calls.byOperation[operation] = (calls.byOperation[operation] ?? 0) + 1;

    const fault = this.faults.check(operation);
    const module = this.modules.get(service);
    const handler = module?.operations[operation];
    await this.clock.sleep(callLatencyMs(operation, input));
    this.tick();
    if (fault) throw awsError(fault.code, fault.message ?? `Injected fault for ${operation} (sandbox)`);
    if (service === 'ec2' && this.behavior.rateLimits) this.takeRateToken(region, operation, read);
    if (!handler) throw awsError('InvalidAction', `The sandbox does not implement ${service}:${operation}`);
    let output;
    try {
      // `input` is what the SDK client built for this very command, which is what the handler of the
      // command's name is typed to take.
      output = handler(this.context(region), structuredClone(input ?? {}) as never) ?? {};
    } finally {
      if (!read) this.onWrite?.();
    }
    return structuredClone(output);
  }

  /** Every resource in the account, for "exactly as before" comparisons. Sorted. */
  inventory(options: { includeDefaults?: boolean } = {}): InventoryItem[] {
    this.tick();
    const items: InventoryItem[] = [];
    const regions = this.regions;
    for (const m of this.modules.values()) {
      if (!m.inventory) continue;
      const rs = GLOBAL_SERVICES.has(m.service) ? [regions[0] ?? 'us-east-1'] : regions;
      for (const region of rs) {
        items.push(...m.inventory(this.context(region), { includeDefaults: options.includeDefaults ?? false }));
      }
    }
    return items.sort((a, b) => (a.type + a.id).localeCompare(b.type + b.id));
  }

  /** Resource counts by CloudFormation type. */
  resourceCounts(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const item of this.inventory()) counts[item.type] = (counts[item.type] ?? 0) + 1;
    return counts;
  }

  /** The SDK plugin that routes a client's commands to this sandbox. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  plugin(region: string): Pluggable<any, any> {
    return {
      applyToStack: (stack) => {
        stack.add(
          (_next, context) => async (args) => {
            const service = CLIENT_SERVICES[context.clientName ?? ''];
            const operation = (context.commandName ?? '').replace(/Command$/, '');
            if (!service) throw awsError('InvalidAction', `The sandbox does not simulate ${context.clientName}`);
            let output;
            try {
              output = await this.call(service, operation, region, args.input);
            } catch (error) {
              throw error instanceof SandboxAwsError ? toSdkException(context.clientName ?? '', error) : error;
            }
            return {
              output: {
                ...output,
                $metadata: { httpStatusCode: 200, requestId: 'sandbox', attempts: 1, totalRetryDelay: 0 },
              },
              response: { statusCode: 200, headers: {}, body: undefined },
            } as never;
          },
          // Inside the retry middleware and after serialization: the SDK's retry strategy sees our errors.
          { step: 'deserialize', priority: 'high', name: 'k3sctlSandbox' },
        );
      },
    };
  }

  private takeRateToken(region: string, operation: string, read: boolean): void {
    const bucketName = operation === 'RunInstances' ? 'RunInstances' : read ? 'describe' : 'mutating';
    const [burst, perSecond] = RATE_BUCKETS[bucketName];
    const key = `${region}/${bucketName}`;
    const now = this.now();
    const b = this.buckets.get(key) ?? { tokens: burst, at: now };
    b.tokens = Math.min(burst, b.tokens + ((now - b.at) / 1000) * perSecond);
    b.at = now;
    this.buckets.set(key, b);
    if (b.tokens < 1) throw awsError('RequestLimitExceeded', 'Request limit exceeded.', 503);
    b.tokens -= 1;
  }
}

// Literal require()s (not require(name)), so a bundler (scripts/bundle-commands.js) sees them and the
// exception classes come from the same copy of the client as the one the resources use.
const CLIENT_PACKAGES: Record<string, () => Record<string, unknown>> = {
  STSClient: () => require('@aws-sdk/client-sts'),
  ServiceQuotasClient: () => require('@aws-sdk/client-service-quotas'),
  EC2Client: () => require('@aws-sdk/client-ec2'),
  AutoScalingClient: () => require('@aws-sdk/client-auto-scaling'),
  ElasticLoadBalancingV2Client: () => require('@aws-sdk/client-elastic-load-balancing-v2'),
  Route53Client: () => require('@aws-sdk/client-route-53'),
  ACMClient: () => require('@aws-sdk/client-acm'),
  IAMClient: () => require('@aws-sdk/client-iam'),
  SSMClient: () => require('@aws-sdk/client-ssm'),
};

/**
 * Turns a wire error code into what the SDK's deserializer would throw: the client's modeled
 * exception class when the service models one for that code (`PriorityInUse` ->
 * PriorityInUseException, `ResourceInUse` -> ResourceInUseFault), else a generic error named after
 * the code (EC2 models none), so code under test meets the same error names as against AWS.
 */
function toSdkException(clientName: string, error: SandboxAwsError): Error {
  const loadClientPackage = CLIENT_PACKAGES[clientName];
  if (!loadClientPackage) return error;
  const exports = loadClientPackage();
  for (const name of [error.Code, `${error.Code}Exception`, `${error.Code}Fault`]) {
    const Ctor = exports[name] as (new (opts: Record<string, unknown>) => Error) | undefined;
    if (typeof Ctor === 'function' && name !== 'ServiceException' && /Exception$|Fault$|^[A-Z]/.test(name)) {
      try {
        const e = new Ctor({ message: error.message, Message: error.message, $metadata: error.$metadata });
        if (e instanceof Error && (e as { $fault?: string }).$fault !== undefined) return e;
      } catch {
        // not an exception class
      }
    }
  }
  return error;
}
