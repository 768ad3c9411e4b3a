// What a credential failure means for the user. The SDK's provider chain reports a missing, unknown or
// expired credential as a CredentialsProviderError or TokenProviderError (`Could not load credentials
// from any providers`), and AWS answers a rejected or expired key with an error code; here each becomes
// a CredentialsError (exit 2) that names the profile and the files read, what was tried, and the
// command that fixes it.
import { awsErrorCode, CredentialsError } from '../core/errors';

export interface CredentialsContext {
  /** The profile named by `--profile` or AWS_PROFILE (undefined: the SDK's default chain). */
  profile?: string;
  /** How the profile was given: `--profile` or `AWS_PROFILE`. */
  profileField?: string;
  configFile: string;
  credentialsFile: string;
  /** The settings of the profile in use (config and credentials files merged), to say which source failed. */
  profileSettings?: Record<string, string | undefined>;
}

/** The sources of the SDK's default chain, in its order, as a user would look for them. */
export function credentialSources(ctx: CredentialsContext): string[] {
  const profile = ctx.profile ?? 'default';
  return [
    ...(ctx.profile ? [] : ['environment variables AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY']),
    `profile ${profile} in ${ctx.credentialsFile} and ${ctx.configFile} (access keys, SSO, role_arn, credential_process)`,
    ...(ctx.profile ? [] : ['a web identity token (AWS_WEB_IDENTITY_TOKEN_FILE)', 'container credentials (ECS, EKS Pod Identity)', 'the EC2 instance metadata service']),
  ];
}

/** AWS error codes that mean the credentials were found but AWS refuses them. */
const REJECTED = new Set(['ExpiredToken', 'InvalidClientTokenId', 'UnrecognizedClient', 'AuthFailure', 'InvalidAccessKeyId', 'SignatureDoesNotMatch']);

function isProviderError(error: unknown): error is Error {
  const name = (error as { name?: unknown } | undefined)?.name;
  return error instanceof Error && (name === 'CredentialsProviderError' || name === 'TokenProviderError');
}

/** The CredentialsError a credential failure stands for, or undefined when `error` is something else. */
export function credentialsErrorOf(error: unknown, ctx: CredentialsContext): CredentialsError | undefined {
  if (error instanceof CredentialsError) return undefined;
  const profile = ctx.profile ?? 'default';
  const named = ctx.profile ? `profile ${ctx.profile}` : 'the default profile';
  const sources = credentialSources(ctx);
  const code = awsErrorCode(error);
  if (code && REJECTED.has(code)) {
    // AWS's own words and the call it answered stay (code, service, operation), with what to do added.
    const e = error as Error & { $service?: string; $operation?: string };
    const expired = code === 'ExpiredToken';
    const rejected = new CredentialsError(
      `${e.message} (AWS ${expired ? 'says the credentials have expired' : 'rejected the credentials'}; they came from ${ctx.profile ? named : 'the SDK\'s default chain'})`,
      expired
        ? `refresh them: aws sso login --profile ${profile} for an SSO profile, or new temporary credentials for the environment`
        : `check the access key (aws configure list --profile ${profile} shows which one is used), or pick another profile with --profile`,
      ctx.profile,
      sources,
      ctx.profileField,
    );
    return Object.assign(rejected, { code, ...(e.$service ? { service: e.$service } : {}), ...(e.$operation ? { operation: e.$operation } : {}) });
  }
  if (!isProviderError(error)) return undefined;
  const message = error.message;
  if (/SSO session|SSO Token|Token is expired|sso_session|aws sso login/i.test(message)) {
    return new CredentialsError(
      `the AWS SSO session of ${named} has expired or was never started (${message.replace(/\s*To refresh.*$/i, '')})`,
      `run: aws sso login --profile ${profile}`,
      ctx.profile,
      sources,
      ctx.profileField,
    );
  }
  if (/requires multi-factor authentication/.test(message)) {
    return new CredentialsError(
      `${named} assumes a role that requires an MFA code, and none could be asked`,
      `run k3sctl in a terminal (without --yes, --json or CI), or export temporary credentials first: eval "$(aws configure export-credentials --profile ${profile} --format env)"`,
      ctx.profile,
      sources,
      ctx.profileField,
    );
  }
  if (/credential_process/i.test(message)) {
    return new CredentialsError(
      `the credential_process of ${named} failed: ${message}`,
      `run the command of credential_process in ${ctx.configFile} by hand; it must print {"Version": 1, "AccessKeyId": ..., "SecretAccessKey": ...}`,
      ctx.profile,
      sources,
      ctx.profileField,
    );
  }
  if (/Could not load credentials from any providers|Could not resolve credentials using profile/.test(message)) {
    // The chain keeps only its last error; what the profile declares says which source failed.
    const settings = ctx.profileSettings ?? {};
    if (settings.credential_process) {
      return new CredentialsError(
        `the credential_process of ${named} gave no credentials (command: ${settings.credential_process})`,
        'run that command by hand: it must exit 0 and print {"Version": 1, "AccessKeyId": ..., "SecretAccessKey": ...}',
        ctx.profile,
        sources,
        ctx.profileField,
      );
    }
    if (settings.role_arn) {
      const via = settings.source_profile ? `source_profile ${settings.source_profile}` : `credential_source ${settings.credential_source ?? '(none)'}`;
      return new CredentialsError(
        `${named} assumes role ${settings.role_arn} but its ${via} gives no credentials (read ${ctx.configFile} and ${ctx.credentialsFile})`,
        settings.source_profile
          ? `give profile ${settings.source_profile} credentials: aws configure --profile ${settings.source_profile} (or aws sso login --profile ${settings.source_profile})`
          : 'credential_source must be Environment, Ec2InstanceMetadata or EcsContainer, with credentials there',
        ctx.profile,
        sources,
        ctx.profileField,
      );
    }
    if (ctx.profile) {
      return new CredentialsError(
        `${named} gives no AWS credentials: it has none of aws_access_key_id, sso_session (or sso_start_url), role_arn, credential_process, web_identity_token_file (read ${ctx.configFile} and ${ctx.credentialsFile})`,
        `aws configure --profile ${ctx.profile} (access keys) or aws configure sso --profile ${ctx.profile} (IAM Identity Center); or pick another profile with --profile; or try k3sctl without AWS: --sandbox`,
        ctx.profile,
        sources,
        ctx.profileField,
      );
    }
    return new CredentialsError(
      `no AWS credentials found; looked in: ${sources.join('; ')}`,
      'run aws configure (access keys) or aws sso login --profile NAME (IAM Identity Center), then give that profile with --profile (or AWS_PROFILE); or try k3sctl without AWS: --sandbox',
      undefined,
      sources,
    );
  }
  return new CredentialsError(
    `could not get AWS credentials from ${named}: ${message}`,
    `check ${named} in ${ctx.configFile} and ${ctx.credentialsFile} (aws configure list --profile ${profile}); or try k3sctl without AWS: --sandbox`,
    ctx.profile,
    sources,
    ctx.profileField,
  );
}
