// K3SCTL_SANDBOX_BEHAVIOR: JSON overriding the sandbox behaviour for one invocation, e.g.
// '{"timings":{"instanceBootMs":90000},"neverHealthy":["*"],"realCallDelayMs":50}': keys of
// SandboxBehavior plus realCallDelayMs, real milliseconds every simulated call takes (sandbox time is
// virtual and a run is otherwise near-instant; tests use it to interrupt a run while it is writing).
import { UserError } from '../../core/errors';
import type { AwsClientOptions } from '../../aws/clients';
import type { SandboxBehavior } from '../../sandbox/sandbox';

const BEHAVIOR_KEYS = new Set([
  'timings',
  'neverHealthy',
  'failDrain',
  'slowBoot',
  'rateLimits',
  'ssmNoOutput',
  'bootstrapFails',
  'deniedActions',
  'onDemandVcpuQuota',
  'realCallDelayMs',
]);

/** Parses K3SCTL_SANDBOX_BEHAVIOR (see the header); a malformed value is invalid input naming the variable. */
export function parseSandboxBehavior(text: string | undefined): {
  behavior?: Partial<SandboxBehavior>;
  realCallDelayMs: number;
} {
  if (!text?.trim()) return { realCallDelayMs: 0 };
  const field = 'K3SCTL_SANDBOX_BEHAVIOR';
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new UserError(
      `${field} is not JSON: ${(error as Error).message}`,
      `e.g. ${field}='{"realCallDelayMs":50}'`,
      field,
    );
  }
  if (!value || typeof value !== 'object' || Array.isArray(value))
    throw new UserError(`${field} must be a JSON object`, undefined, field);
  const { realCallDelayMs = 0, ...behavior } = value as Record<string, unknown>;
  const unknown = Object.keys(behavior).filter((k) => !BEHAVIOR_KEYS.has(k));
  if (unknown.length) {
    throw new UserError(
      `${field}: unknown key(s) ${unknown.join(', ')}`,
      `allowed: ${[...BEHAVIOR_KEYS].join(', ')}`,
      field,
    );
  }
  if (typeof realCallDelayMs !== 'number' || !(realCallDelayMs >= 0) || realCallDelayMs > 60_000) {
    throw new UserError(
      `${field}: realCallDelayMs must be a number of milliseconds, 0-60000`,
      undefined,
      field,
    );
  }
  if (behavior.timings !== undefined && (typeof behavior.timings !== 'object' || behavior.timings === null)) {
    throw new UserError(
      `${field}: timings must be an object of milliseconds, e.g. {"instanceBootMs":90000}`,
      undefined,
      field,
    );
  }
  return { behavior: behavior as never, realCallDelayMs };
}

/** Real time spent by every simulated call (K3SCTL_SANDBOX_BEHAVIOR realCallDelayMs). */
export function realDelayPlugin(ms: number): NonNullable<AwsClientOptions['plugins']>[number] {
  return {
    applyToStack: (stack) => {
      stack.add(
        (next) => async (args) => {
          await new Promise((resolve) => setTimeout(resolve, ms));
          return next(args);
        },
        { step: 'initialize', name: 'k3sctlSandboxRealDelay' },
      );
    },
  };
}
