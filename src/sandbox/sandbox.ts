// The simulated AWS account: state, virtual clock, latency, faults, rate limits, and dispatch of
// SDK commands to the simulated services (src/sandbox/services). See DESIGN.md section 5.
import { FaultInjector, type FaultRule } from './faults';
import { VirtualClock } from './virtualClock';
import { awsError, SandboxAwsError } from './errors';
import { callLatencyMs, defaultTimings, type TransitionTimings } from './latency';
import { isReadOperation } from '../aws/apiCalls';
import type { InventoryItem, SandboxContext, ServiceModule, ServiceName } from './service';
import type { Pluggable } from '@smithy/types';

export const SANDBOX_ACCOUNT_ID = '123456789012';
export const SANDBOX_START_TIME = Date.UTC(2026, 0, 1, 0, 0, 0);

export interface SandboxBehavior {
  timings: TransitionTimings;
  /** Instance ids, ASG names or `*`: these instances never pass health checks (target group, k3s Ready). */
  neverHealthy: string[];
  /** Instance ids, ASG names or `*`: the drain on termination fails (lifecycle action ABANDON). */
  failDrain: string[];
  /** Instance ids, ASG names or `*`: boot takes this many extra ms. */
  slowBoot: Record<string, number>;
  /** Enforce EC2-style request rate limits (RequestLimitExceeded). */
  rateLimits: boolean;
  /**
   * Instance ids, ASG names or `*`: SSM Run Command on these instances ends `Success` with empty
   * output, whatever the script (as moto's emulated Run Command does). Optional: older saved accounts lack it.
   */
  ssmNoOutput?: string[];
  /**
   * Instance ids, ASG names or `*`: the bootstrap of these instances fails for good when k3s would have
   * been Ready. The instance records why in SSM (`K3SCTL_FAILURE_PARAMETER_PREFIX/INSTANCE_ID` of its
   * config) and marks itself Unhealthy in its group, which replaces it. Optional: older saved accounts lack it.
   */
  bootstrapFails?: string[];
  /**
   * IAM actions (`ec2:RunInstances`, `iam:*`, `*`) the caller is not allowed: SimulatePrincipalPolicy
   * answers `implicitDeny` for them (the simulated account enforces nothing else). Optional.
   */
  deniedActions?: string[];
  /**
   * The account's applied quota of Running On-Demand Standard instances (vCPUs, Service Quotas
   * L-1216C47A); DEFAULT_ON_DEMAND_VCPU_QUOTA when unset. Optional.
   */
  onDemandVcpuQuota?: number;
}

/** The caller every sandbox client is (STS GetCallerIdentity; the principal SimulatePrincipalPolicy knows). */
export const SANDBOX_CALLER = { userName: 'sandbox', userId: 'AIDASANDBOXUSER000001' };

/**
 * The applied L-1216C47A quota of the simulated account: what an account that has run instances for
 * a while commonly has (a new account starts at the AWS default of 5 vCPUs, which GetAWSDefaultServiceQuota
 * answers). K3SCTL_SANDBOX_BEHAVIOR {"onDemandVcpuQuota": 8} lowers it.
 */
export const DEFAULT_ON_DEMAND_VCPU_QUOTA = 1152;

export interface SandboxState {
  version: 1;
  accountId: string;
  /** Id allocator. */
  seq: number;
  /** Virtual time, ms since the epoch. */
  now: number;
  regions: Record<string, Record<string, unknown>>;
  global: Record<string, unknown>;
  behavior: SandboxBehavior;
  calls: { read: number; write: number; byOperation: Record<string, number> };
}

export interface SandboxOptions {
  state?: SandboxState;
  faults?: FaultRule[];
  seed?: number;
  behavior?: Partial<SandboxBehavior>;
}

const GLOBAL_SERVICES: ReadonlySet<ServiceName> = new Set(['iam', 'route53']);

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

export function newSandboxState(behavior?: Partial<SandboxBehavior>): SandboxState {
  return {
    version: 1,
    accountId: SANDBOX_ACCOUNT_ID,
    seq: 1,
    now: SANDBOX_START_TIME,
    regions: {},
    global: {},
    behavior: {
      timings: { ...defaultTimings, ...(behavior?.timings ?? {}) },
      neverHealthy: behavior?.neverHealthy ?? [],
      failDrain: behavior?.failDrain ?? [],
      slowBoot: behavior?.slowBoot ?? {},
      rateLimits: behavior?.rateLimits ?? true,
      ssmNoOutput: behavior?.ssmNoOutput ?? [],
      bootstrapFails: behavior?.bootstrapFails ?? [],
      deniedActions: behavior?.deniedActions ?? [],
      ...(behavior?.onDemandVcpuQuota !== undefined ? { onDemandVcpuQuota: behavior.onDemandVcpuQuota } : {}),
    },
    calls: { read: 0, write: 0, byOperation: {} },
  };
}

/** Token buckets of EC2's request throttling (per account and region): burst, refill per second. */
const RATE_BUCKETS: Record<string, [number, number]> = {
  RunInstances: [5, 2],
  mutating: [50, 5],
  describe: [100, 20],
};

export class Sandbox {
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
    // Loaded here, not at the top: the service modules import helpers from this file, and a test
    // may import a service module first.
    const { serviceModules } = require('./services') as typeof import('./services');
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
  async call(service: ServiceName, operation: string, region: string, input: unknown): Promise<Record<string, unknown>> {
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
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      output = handler(this.context(region), structuredClone(input ?? {}) as any) ?? {};
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

/** True when a behaviour list (`neverHealthy`, `failDrain`, `ssmNoOutput`, `bootstrapFails`) names this instance or its group. */
export function behaviorApplies(list: string[] | undefined, instanceId: string, groupName?: string): boolean {
  if (!list) return false;
  return list.includes('*') || list.includes(instanceId) || (groupName !== undefined && list.includes(groupName));
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
