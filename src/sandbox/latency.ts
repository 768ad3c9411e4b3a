// The sandbox's latency model: how long simulated calls and state transitions take, in virtual
// milliseconds. Benchmarks compute critical paths from these same numbers.

/** An ordinary write's time in flight. */
const DEFAULT_WRITE_MS = 250;

/**
 * Virtual time one API call spends in flight. A dry run (EC2 `DryRun: true`) only validates and
 * authorises the request, placing nothing: it takes what an ordinary write takes.
 */
export function callLatencyMs(operation: string, input?: unknown): number {
  if ((input as { DryRun?: unknown } | undefined)?.DryRun === true) return DEFAULT_WRITE_MS;
  const special: Record<string, number> = {
    RunInstances: 1500,
    CreateLoadBalancer: 1200,
    CreateAutoScalingGroup: 800,
    CreateLaunchTemplate: 400,
    CreateLaunchTemplateVersion: 400,
    RequestCertificate: 600,
    ChangeResourceRecordSets: 400,
    CreateRole: 400,
    CreateInstanceProfile: 400,
    SendCommand: 300,
  };
  if (special[operation] !== undefined) return special[operation];
  return /^(Describe|List|Get|Lookup)/.test(operation) ? 120 : DEFAULT_WRITE_MS;
}

/** Timings of simulated asynchronous transitions (overridable per sandbox through `behavior`). */
export interface TransitionTimings {
  /** RunInstances -> running. */
  instanceBootMs: number;
  /** running -> k3s server Ready (control plane). */
  k3sServerReadyMs: number;
  /** running -> k3s agent Ready (node). */
  k3sAgentReadyMs: number;
  /** ASG: running -> InService (health check grace passed). */
  asgInServiceMs: number;
  /** Drain + leave on a termination lifecycle hook before CompleteLifecycleAction. */
  drainMs: number;
  /** shutting-down -> terminated. */
  instanceShutdownMs: number;
  /** Target registration -> healthy (interval x healthy threshold). */
  targetHealthyMs: number;
  /**
   * Unused: a deregistered target drains for its target group's own `deregistration_delay.timeout_seconds`
   * (elbv2.ts), as in ELBv2. Kept so that saved sandbox behaviours and fault files still parse.
   */
  deregistrationMs: number;
  /** New IAM instance profile / role usable by EC2 and Auto Scaling. */
  iamPropagationMs: number;
  /** Route 53 change PENDING -> INSYNC. */
  route53SyncMs: number;
  /** ACM: validation record visible -> ISSUED. */
  acmValidationMs: number;
  /** ALB provisioning -> active. */
  albProvisioningMs: number;
  /** SSM Run Command: Pending -> Success. */
  ssmCommandMs: number;
  /** ASG capacity reconciliation period. */
  asgReconcileMs: number;
}

export const defaultTimings: TransitionTimings = {
  instanceBootMs: 35_000,
  k3sServerReadyMs: 45_000,
  k3sAgentReadyMs: 25_000,
  asgInServiceMs: 40_000,
  drainMs: 30_000,
  instanceShutdownMs: 20_000,
  targetHealthyMs: 30_000,
  deregistrationMs: 10_000,
  iamPropagationMs: 8_000,
  route53SyncMs: 30_000,
  acmValidationMs: 60_000,
  albProvisioningMs: 90_000,
  ssmCommandMs: 2_000,
  asgReconcileMs: 10_000,
};
