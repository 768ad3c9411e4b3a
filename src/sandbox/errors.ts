// AWS-shaped errors thrown by the simulated account. They carry what the SDK's retry strategy and
// our own error handling read: `name` (the AWS error code), `$fault`, `$metadata.httpStatusCode`.
export class SandboxAwsError extends Error {
  readonly $fault: 'client' | 'server';
  readonly $metadata: { httpStatusCode: number; requestId: string; attempts: number; totalRetryDelay: number };
  readonly Code: string;

  constructor(code: string, message: string, httpStatusCode?: number) {
    super(message);
    this.name = code;
    this.Code = code;
    const status = httpStatusCode ?? defaultStatus(code);
    this.$fault = status >= 500 ? 'server' : 'client';
    this.$metadata = { httpStatusCode: status, requestId: 'sandbox', attempts: 1, totalRetryDelay: 0 };
  }
}

function defaultStatus(code: string): number {
  if (/^(InternalError|InternalFailure|ServiceUnavailable|InternalServerError|Unavailable)$/.test(code)) return 500;
  if (/Throttl|RequestLimitExceeded|TooManyRequests|SlowDown/.test(code)) return 400;
  if (/NotFound|NoSuch/.test(code)) return 400;
  return 400;
}

/** Shorthand for handlers: `throw awsError('InvalidGroup.NotFound', "The security group 'sg-1' does not exist")`. */
export function awsError(code: string, message: string, httpStatusCode?: number): SandboxAwsError {
  return new SandboxAwsError(code, message, httpStatusCode);
}

/**
 * Throws `code` (default ValidationError / MissingParameter style) when a required parameter is absent
 * (undefined, null, '' or, as the query protocol sends nothing for it, an empty list).
 */
export function required<T>(
  value: T | undefined | null,
  name: string,
  code = 'MissingParameter',
  message = `The request must contain the parameter ${name}`,
): T {
  if (value === undefined || value === null || value === '' || (Array.isArray(value) && value.length === 0)) {
    throw awsError(code, message);
  }
  return value;
}
