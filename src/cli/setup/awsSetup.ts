// The AWS settings of a run and where each came from: the region in the AWS CLI's order, the profile
// (which must exist when named), the endpoint, and the shared files read. Resolved once per command,
// before any AWS call; --verbose prints them and `doctor` reports them.
import { UserError } from '../../core/errors';
import type { DoctorSetup } from '../../orchestration/workflows/doctor';

/** The AWS settings of the run and where each came from (--verbose prints them; `doctor` reports them), and the files read. */
export interface AwsSetup extends DoctorSetup {
  /** The shared files read (not in the sandbox). */
  configFile?: string;
  credentialsFile?: string;
  /** What the profile in use declares (both files merged): says which credential source failed. */
  profileSettings?: Record<string, string | undefined>;
}

/** The global flags the settings come from, and how each is named back to the user. */
export interface AwsSetupInput {
  region?: string;
  profile?: string;
  endpointUrl?: string;
  sandbox: boolean;
  /** Where --region came from (`--region`, `AWS_REGION`, or the `-f` file's field). */
  regionSource: string;
  asGiven: (flag: string) => string;
}

/**
 * The region of the run, in the AWS CLI's order: --region, AWS_REGION, (the `-f` file's `region`),
 * AWS_DEFAULT_REGION, then the `region` of the profile (--profile, AWS_PROFILE or `default`) in the
 * shared config file; us-east-1 in the sandbox. Without one, invalid input. Checked by format, before
 * any call; a named profile that exists in neither shared file is a CredentialsError (exit 2) here.
 */
export async function resolveAwsSetup(input: AwsSetupInput): Promise<AwsSetup> {
  const regionFlag = input.region ? input.regionSource : undefined;
  if (input.sandbox) {
    return {
      region: input.region || 'us-east-1',
      regionSource: regionFlag ?? 'the sandbox\'s default',
      endpointSource: 'the embedded sandbox',
    };
  }
  const [{ validateRegion }, shared] = await Promise.all([import('../../config/formats'), import('../../aws/sharedConfig')]);
  const config = await shared.loadSharedConfig(process.env);
  const profile = input.profile || undefined;
  const profileSource = profile ? input.asGiven('--profile') : undefined;
  if (profile) shared.requireProfile(config, profile, profileSource!);
  const profileName = profile ?? 'default';
  const profileRegion = shared.profileSetting(config, profileName, 'region');
  const profileRegionSource = `profile ${profileName} in ${config.configFile}`;
  let region: string | undefined;
  let regionSource: string | undefined;
  if (input.region) [region, regionSource] = [input.region, regionFlag];
  else if (process.env.AWS_DEFAULT_REGION) [region, regionSource] = [validateRegion(process.env.AWS_DEFAULT_REGION, 'AWS_DEFAULT_REGION'), 'AWS_DEFAULT_REGION'];
  else if (profileRegion) [region, regionSource] = [validateRegion(profileRegion, `region of ${profileRegionSource}`), profileRegionSource];
  if (!region) {
    throw new UserError(
      '--region: no AWS region given',
      `give --region, or set AWS_REGION or AWS_DEFAULT_REGION, or set region in ${profileRegionSource} (aws configure set region REGION${profile ? ` --profile ${profile}` : ''}); use --sandbox to try k3sctl without AWS`,
      '--region',
    );
  }
  const endpointUrl = input.endpointUrl || undefined;
  const profileEndpoint = shared.profileSetting(config, profileName, 'endpoint_url');
  return {
    region,
    regionSource: regionSource!,
    profile,
    profileSource,
    endpointUrl: endpointUrl ?? profileEndpoint,
    endpointSource: endpointUrl ? input.asGiven('--endpoint-url') : profileEndpoint ? `endpoint_url of profile ${profileName} in ${config.configFile}` : 'AWS (the SDK\'s endpoints for the region)',
    configFile: config.configFile,
    credentialsFile: config.credentialsFile,
    profileSettings: credentialSettings({ ...config.credentials[profileName], ...config.config[profileName] }),
  };
}

/** One line for --verbose: the region, profile and endpoint of the run and where each came from. */
export function describeAwsSetup(setup: AwsSetup): string {
  const profile = setup.profile ? `profile ${setup.profile} (from ${setup.profileSource})` : 'no profile named (the SDK\'s default chain)';
  const endpoint = setup.endpointUrl ? `endpoint ${setup.endpointUrl} (from ${setup.endpointSource})` : `endpoint ${setup.endpointSource}`;
  return `AWS: region ${setup.region} (from ${setup.regionSource}); ${profile}; ${endpoint}`;
}

/** The settings of a profile that say where its credentials come from; never a key or a secret. */
function credentialSettings(settings: Record<string, string | undefined>): Record<string, string | undefined> {
  const keep = ['credential_process', 'role_arn', 'source_profile', 'credential_source', 'mfa_serial', 'sso_session', 'sso_start_url', 'web_identity_token_file'];
  return Object.fromEntries(Object.entries(settings).filter(([key]) => keep.includes(key)));
}
