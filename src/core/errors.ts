// Error types and the exit codes of the CLI contract (DESIGN.md section 1).
export const ExitCode = {
  ok: 0,
  failedRolledBack: 1,
  invalidInput: 2,
  rollbackIncomplete: 3,
  interrupted: 130,
} as const;

/** An expected failure caused by input or a precondition: nothing was changed (exit 2). */
export class UserError extends Error {
  override readonly name = 'UserError';
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
