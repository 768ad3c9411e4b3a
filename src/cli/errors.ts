// Which exit code (README.md, Scripting and CI) an error ends a command with, which errors are expected
// failures rather than bugs, and how oclif's parse errors and the SDK's credential failures are told
// in k3sctl's terms.
import {
  ClusterNotReadyError,
  ExitCode,
  UserError,
  WaitTimeoutError,
  InterruptedError,
  AwsOperationError,
} from '../core/errors';
import { RunFailedError } from '../orchestration/deps';
import type { AwsSetup } from './setup/awsSetup';

export function exitCodeFor(error: unknown, interrupted = false): number {
  if (error instanceof UserError) return ExitCode.invalidInput;
  // Raised after the run succeeded: nothing was rolled back, so an interrupt after it changes nothing.
  if (error instanceof ClusterNotReadyError) return ExitCode.notReady;
  if (error instanceof RunFailedError) {
    if (error.leftovers.length > 0) return ExitCode.rollbackIncomplete;
    if (interrupted || error.cause instanceof InterruptedError) return ExitCode.interrupted;
    return ExitCode.failedRolledBack;
  }
  if (interrupted || error instanceof InterruptedError) return ExitCode.interrupted;
  return ExitCode.failedRolledBack;
}

/** A failure k3sctl expects (an AWS call, a wait, readiness, an interrupt), as opposed to a bug. */
export function isExpected(error: Error): boolean {
  return (
    error instanceof AwsOperationError ||
    error instanceof WaitTimeoutError ||
    error instanceof ClusterNotReadyError ||
    error instanceof InterruptedError
  );
}

/** The argument or flag an oclif parse error is about: `NAME` for an argument, `--flag` for a flag. */
export function parseErrorField(error: Error): string | undefined {
  const e = error as Error & { args?: unknown[]; flags?: unknown[] };
  const arg = e.args?.find((a): a is { name: string } => typeof (a as { name?: unknown })?.name === 'string');
  if (arg) return arg.name.toUpperCase();
  const flag = e.flags?.find((f): f is string => typeof f === 'string');
  if (flag) return flag.startsWith('-') ? flag : `--${flag}`;
  const missing = /Missing required flag:?\s+-*([\w-]+)/i.exec(error.message);
  if (missing) return `--${missing[1]}`;
  return /(--[a-z0-9][\w-]*)/i.exec(error.message)?.[1];
}

/** The error document of an oclif parse error (unknown flag, missing argument): invalid input. */
export function parseErrorPayload(error: Error, bin: string, commandId: string | undefined): Record<string, unknown> {
  const field = parseErrorField(error);
  const message = error.message.replace(/\n+See more help with --help\s*$/, '');
  return {
    type: 'UserError',
    // The field as the user knows it (`CLUSTER`, `--nodes`) is in the message, whatever oclif wrote.
    message: field && !message.includes(field) ? `${field}: ${message}` : message,
    ...(field ? { field } : {}),
    suggestion: `see ${bin} ${(commandId ?? '').replace(/:/g, ' ')} --help`,
  };
}

/**
 * A credential failure (the SDK found no credentials, an SSO session expired, AWS rejected the key) as
 * the CredentialsError that says what to do; also when it ended a run that changed nothing yet.
 * Undefined without shared files read (the sandbox, or before the AWS settings were resolved).
 */
export async function credentialsFailure(error: Error, setup: AwsSetup | undefined): Promise<Error | undefined> {
  if (!setup?.configFile) return undefined;
  const cause = error instanceof RunFailedError && error.changes.length === 0 && error.leftovers.length === 0 ? error.cause : error;
  const { credentialsErrorOf } = await import('../aws/credentials');
  return credentialsErrorOf(cause, {
    profile: setup.profile,
    profileField: setup.profileSource,
    configFile: setup.configFile,
    credentialsFile: setup.credentialsFile!,
    profileSettings: setup.profileSettings,
  });
}
