// The simulated account's data, the shared store every simulated service reads and writes: its
// persisted state (one state bag per service and region), the behaviour knobs, the identity of the
// account and its caller, and the view of the account a service handler is given (SandboxAccount).
// It sits below the services and the dispatcher (sandbox.ts, which loads the services), so no service imports the dispatcher.
import { defaultTimings, type TransitionTimings } from './latency';

export type ServiceName = 'ec2' | 'autoscaling' | 'elbv2' | 'route53' | 'acm' | 'iam' | 'ssm' | 'sts' | 'servicequotas';

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


/** Services whose state is account-wide: their state bag ignores the region. */
export const GLOBAL_SERVICES: ReadonlySet<ServiceName> = new Set(['iam', 'route53']);


/** What a service handler may use of the account (the Sandbox implements it). */
export interface SandboxAccount {
  readonly state: SandboxState;
  readonly behavior: SandboxBehavior;
  /** Virtual time, ms since the epoch. */
  now(): number;
  /** A new unique hex id with the given prefix: `newId('i-')` -> `i-0a1b2c3d4e5f60718`. */
  newId(prefix: string, hexLength?: number): string;
  /** The state bag of one service, created on first use (`region` ignored for global services). */
  serviceState<T>(service: ServiceName, region: string, init: () => T): T;
  /** The state bag of one service if an operation has created it (ticks, inventories, internal APIs). */
  existingServiceState<T>(service: ServiceName, region: string): T | undefined;
  /** The context a handler of `region` runs in, at the current virtual time. */
  context(region: string): SandboxContext;
}

export interface SandboxContext {
  sb: SandboxAccount;
  /** The region of the client that made the call (global services get it too). */
  region: string;
  /** Virtual time of the call, ms since the epoch. */
  now: number;
}

/** True when a behaviour list (`neverHealthy`, `failDrain`, `ssmNoOutput`, `bootstrapFails`) names this instance or its group. */
export function behaviorApplies(list: string[] | undefined, instanceId: string, groupName?: string): boolean {
  if (!list) return false;
  return list.includes('*') || list.includes(instanceId) || (groupName !== undefined && list.includes(groupName));
}

