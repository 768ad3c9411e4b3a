// Error types and the exit codes of the CLI contract (README.md, Scripting and CI).
import type { PlannedChange } from './events';

export const ExitCode = {
  ok: 0,
  failedRolledBack: 1,
  invalidInput: 2,
  rollbackIncomplete: 3,
  /** The AWS resources were created and kept, but the cluster did not become ready in time. */
  notReady: 4,
  interrupted: 130,
} as const;

/** An expected failure caused by input or a precondition: nothing was changed (exit 2). */
export class UserError extends Error {
  override readonly name: string = 'UserError';
  constructor(
    message: string,
    /** What to try instead. */
    readonly suggestion?: string,
    /** The input field at fault, e.g. `--control-planes` or `controlPlanes`. */
    readonly field?: string,
  ) {
    super(message);
  }
}

/**
 * No usable AWS credentials, or a profile that cannot give them (exit 2, nothing changed): says which
 * profile and files were read, what was tried, and the command that fixes it.
 */
export class CredentialsError extends UserError {
  override readonly name: string = 'CredentialsError';
  constructor(
    message: string,
    suggestion: string,
    /** The profile in use, when one was named (`--profile` or AWS_PROFILE). */
    readonly profile?: string,
    /** Where credentials were looked for, in the SDK's order. */
    readonly sourcesTried?: string[],
    field?: string,
  ) {
    super(message, suggestion, field);
  }
}

/** An AWS call failed; names the call and the resource it was about. */
export class AwsOperationError extends Error {
  override readonly name = 'AwsOperationError';
  constructor(
    readonly operation: string,
    readonly resource: string,
    readonly code: string,
    message: string,
  ) {
    super(`${operation} on ${resource} failed: ${code}: ${message}`);
  }
}

/** A wait ran out of time: says what was awaited and what was seen last. */
export class WaitTimeoutError extends Error {
  override readonly name = 'WaitTimeoutError';
  constructor(
    readonly awaited: string,
    readonly lastSeen: string,
    readonly timeoutMs: number,
  ) {
    super(`timed out after ${Math.round(timeoutMs / 1000)}s waiting for ${awaited}; last seen: ${lastSeen}`);
  }
}

/** An instance that was not a Ready Kubernetes node when the readiness window closed. */
export interface NotReadyInstance {
  instanceId: string;
  /** Its Auto Scaling group. */
  group: string;
  /** What the last poll said about it: `NotReady`, `no node`, `no answer (SSM command output empty)`, ... */
  lastAnswer: string;
}

/**
 * The run succeeded (its AWS resources are created and kept, nothing is rolled back) but not every
 * instance became a Ready Kubernetes node within the readiness window (exit 4).
 */
export class ClusterNotReadyError extends Error {
  override readonly name = 'ClusterNotReadyError';
  readonly suggestion: string;
  constructor(
    readonly cluster: string,
    readonly notReady: NotReadyInstance[],
    readonly waitTimeoutMs: number,
    /** The run that created the resources, and what it changed (kept). */
    readonly run: string,
    readonly changes: PlannedChange[],
    readonly apiCalls?: { read: number; write: number },
  ) {
    // Instances with the same answer share one entry: `i-a, i-b: no answer (SSM command output empty); i-c: NotReady`.
    const byAnswer = new Map<string, string[]>();
    for (const i of notReady.slice(0, 20)) byAnswer.set(i.lastAnswer, [...(byAnswer.get(i.lastAnswer) ?? []), i.instanceId]);
    const shown = [...byAnswer].map(([answer, ids]) => `${ids.join(', ')}: ${answer}`);
    if (notReady.length > 20) shown.push(`and ${notReady.length - 20} more`);
    super(
      `cluster ${cluster} did not become ready within ${formatDuration(waitTimeoutMs)}: ` +
        `${notReady.length} instance(s) not Ready (${shown.join('; ')}); its AWS resources were created and kept (run ${run})`,
    );
    this.suggestion =
      `see k3sctl cluster describe ${cluster}, and k3sctl kubeconfig ${cluster} then kubectl get nodes; ` +
      `remove the cluster with k3sctl cluster delete ${cluster}; give a create more time with --wait-timeout`;
  }
}

/** `90s`, `15m`, `1h30m` (whole seconds). */
export function formatDuration(ms: number): string {
  const total = Math.round(ms / 1000);
  const [h, m, s] = [Math.floor(total / 3600), Math.floor((total % 3600) / 60), total % 60];
  return [h ? `${h}h` : '', m ? `${m}m` : '', s || total === 0 ? `${s}s` : ''].join('');
}

/** The run was interrupted (SIGINT/SIGTERM); rolled back like any failure, exit 130. */
export class InterruptedError extends Error {
  override readonly name = 'InterruptedError';
  constructor() {
    super('interrupted');
  }
}

/** A bug in k3sctl. */
export class InternalError extends Error {
  override readonly name = 'InternalError';
}

/**
 * The AWS error code of an SDK or sandbox error, canonical: the SDK names modeled errors after their
 * shapes (`PriorityInUseException`, `ResourceInUseFault`, `NoSuchEntityException`) while the wire
 * code is `PriorityInUse`, `ResourceInUse`, `NoSuchEntity`; one trailing `Exception` or `Fault` is
 * dropped so callers compare against the wire code whatever the protocol.
 */
export function awsErrorCode(error: unknown): string | undefined {
  if (error && typeof error === 'object') {
    const e = error as { name?: string; Code?: string; code?: string; $metadata?: unknown };
    let code: string | undefined;
    if (e.$metadata !== undefined || e.Code !== undefined) code = e.Code ?? e.name;
    else if (typeof e.code === 'string') code = e.code;
    return code === undefined ? undefined : canonicalAwsCode(code);
  }
  return undefined;
}

export function canonicalAwsCode(code: string): string {
  return code.replace(/(?<=.)(Exception|Fault)$/, '');
}

/** True when `error` is an AWS error with one of `codes` (compared canonically). */
export function isAwsError(error: unknown, ...codes: string[]): boolean {
  const code = awsErrorCode(error);
  return code !== undefined && codes.some((c) => canonicalAwsCode(c) === code);
}

/** An error as one line: its AWS code (when the message does not start with it) and its message. */
export function errorText(error: unknown): string {
  const code = awsErrorCode(error);
  const message = error instanceof Error ? error.message : String(error);
  return code && !message.startsWith(code) ? `${code}: ${message}` : message;
}
