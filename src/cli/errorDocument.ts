// A failed command's outcome as told to the user: the JSON error object (type, message and every
// serialisable field of the error, with the AWS call and the cleanup command when known) and the
// human lines on stderr (one clear message, then what was rolled back and what is left).
import { AwsOperationError, CredentialsError, ExitCode, awsErrorCode } from '../core/errors';
import { RunFailedError } from '../orchestration/deps';
import { isExpected } from './errors';

/** Fields of an error that never go into the JSON error document (stack only with --verbose). */
const HIDDEN_ERROR_FIELDS = new Set([
  'name',
  'message',
  'stack',
  'oclif',
  'cause',
  '$response',
  'skipOclifErrorHandling',
]);

/** What the error document says beside the error itself. */
export interface ErrorContext {
  /** The command's binary name (`k3sctl`), for the cleanup command. */
  bin: string;
  /** The id of the run, once one was started. */
  runId?: string;
  /** --verbose: the stack too. */
  verbose: boolean;
}

/** The JSON error object: type, message, and every JSON-serialisable own field of the error. */
export function errorPayload(error: Error, exit: number, context: ErrorContext): Record<string, unknown> {
  const payload: Record<string, unknown> = { type: error.name, message: error.message };
  for (const [key, value] of Object.entries(error)) {
    if (HIDDEN_ERROR_FIELDS.has(key) || key.startsWith('$') || value === undefined) continue;
    const json = jsonValue(value);
    if (json !== undefined) payload[key] = json;
  }
  const code = awsErrorCode(error);
  // (A CredentialsError keeps the code and call of the AWS answer it explains, as its own fields.)
  if (code && !(error instanceof AwsOperationError) && !(error instanceof RunFailedError) && !(error instanceof CredentialsError)) {
    // An AWS answer that no layer wrapped: a failure of the call, not a bug in k3sctl.
    payload.type = 'AwsError';
    payload.code = code;
    Object.assign(payload, awsCallOf(error));
    const requestId = (error as { $metadata?: { requestId?: string } }).$metadata?.requestId;
    if (requestId) payload.requestId = requestId;
  }
  if (error instanceof RunFailedError) {
    if (context.runId && payload.run === undefined) payload.run = context.runId;
    const cause = error.cause as Error | undefined;
    if (cause?.message) payload.cause = cause.message;
    const causeCode = awsErrorCode(cause);
    if (causeCode) {
      payload.code = causeCode;
      Object.assign(payload, awsCallOf(cause));
    }
    if (cause instanceof Error && cause.name) payload.causeType = cause.name;
    // What is left is named (kind, id) in `leftovers`; `cleanup` is the command that finishes the job.
    const run = payload.run ?? payload.runId;
    if (error.leftovers.length > 0)
      payload.cleanup = run
        ? `${context.bin} runs rollback ${String(run)}`
        : `${context.bin} runs list, then ${context.bin} runs rollback RUN_ID`;
  }
  if (
    exit === ExitCode.failedRolledBack &&
    !(error instanceof RunFailedError) &&
    !isExpected(error) &&
    !code
  ) {
    payload.type = 'InternalError';
  }
  if (context.verbose && error.stack) payload.stack = error.stack;
  return payload;
}

/** A failure the progress display has already shown (a step-fail event). */
export interface ShownFailure {
  title: string;
  error: string;
}

/** One clear message (not repeated when the progress display already showed it), then the rollback summary. */
export function humanError(payload: Record<string, unknown>, exit: number, shownFailures: ShownFailure[]): string[] {
  const message = String(payload.message ?? '');
  const shown = message === '' ? undefined : shownFailures.find((f) => f.error.includes(message));
  const rolledBack = payload.rolledBack as unknown[] | undefined;
  const leftovers = payload.leftovers as
    { type: string; name: string; id?: string; error: string }[] | undefined;
  const notRolledBack = payload.notRolledBack as { action: string; type: string; name: string }[] | undefined;
  // `ec2:DescribeInstances` when the error is an AWS answer to a call the SDK middleware named.
  const call = payload.service && payload.operation ? `${payload.service}:${payload.operation}` : undefined;
  const lines: string[] = [];
  if (exit === ExitCode.interrupted) lines.push('Error: interrupted');
  else if (shown)
    lines.push(
      `Error: ${shown.title} failed${payload.code ? ` (${call ? `AWS ${call}: ` : ''}${payload.code})` : ''}; the error is shown above`,
    );
  else if (call && payload.code)
    lines.push(
      `Error: AWS ${call} failed: ${message.startsWith(String(payload.code)) ? '' : `${payload.code}: `}${message}`,
    );
  else
    lines.push(
      `Error: ${payload.code && !message.includes(String(payload.code)) ? `${payload.code}: ` : ''}${message}`,
    );
  if (payload.suggestion) lines.push(`Try: ${payload.suggestion}`);
  if (leftovers?.length) {
    lines.push(
      `Rollback incomplete (${rolledBack?.length ?? 0} change(s) undone); these resources remain:`,
    );
    for (const l of leftovers) lines.push(`  ${l.type} ${l.name}${l.id ? ` (${l.id})` : ''}: ${l.error}`);
    if (payload.cleanup) lines.push(`Retry the cleanup with: ${String(payload.cleanup)}`);
  } else if (rolledBack && !notRolledBack?.length) {
    lines.push(
      rolledBack.length
        ? `Rolled back: ${rolledBack.length} change(s) undone; nothing this run created is left.`
        : 'Nothing was changed.',
    );
  } else if (rolledBack) {
    lines.push(`Rolled back: ${rolledBack.length} change(s) undone.`);
  }
  // Deletes (and forward-only updates) a failed run made stay made: said, never hidden behind "nothing changed".
  if (notRolledBack?.length) {
    lines.push(`Not rolled back (${notRolledBack.length} change(s) cannot be undone):`);
    for (const c of notRolledBack) lines.push(`  ${c.action} ${c.type} ${c.name}`);
  }
  return lines;
}

/** The AWS call an SDK error answered (set by the middleware of src/aws/clients.ts): `{ service, operation }`. */
function awsCallOf(error: unknown): { service?: string; operation?: string } {
  const e = error as { $service?: unknown; $operation?: unknown } | undefined;
  const out: { service?: string; operation?: string } = {};
  if (typeof e?.$service === 'string') out.service = e.$service;
  if (typeof e?.$operation === 'string') out.operation = e.$operation;
  return out;
}

/** `value` as plain JSON (Errors become their message), or undefined when it cannot be serialised. */
function jsonValue(value: unknown): unknown {
  if (value instanceof Error) return value.message;
  if (typeof value === 'function' || typeof value === 'symbol') return undefined;
  try {
    const text = JSON.stringify(value);
    return text === undefined ? undefined : JSON.parse(text);
  } catch {
    return undefined;
  }
}
