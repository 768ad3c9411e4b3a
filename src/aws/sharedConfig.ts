// The user's shared AWS configuration as the AWS CLI reads it: the config file (AWS_CONFIG_FILE, else
// ~/.aws/config) and the credentials file (AWS_SHARED_CREDENTIALS_FILE, else ~/.aws/credentials),
// parsed by the SDK's own loader. k3sctl reads them for what the SDK's clients do not do the AWS CLI's
// way: a profile's `region` after AWS_DEFAULT_REGION (the JavaScript SDK ignores that variable), a
// named profile that exists in neither file (a local error, before any call), and a profile's
// `endpoint_url` for `doctor`. Credentials themselves are left to the SDK's provider chain.
import * as path from 'node:path';
import { getHomeDir, loadSharedConfigFiles } from '@smithy/core/config';
import { CredentialsError } from '../core/errors';

export type ProfileSettings = Record<string, string | undefined>;

export interface SharedConfig {
  /** The files as read (absolute; they may not exist). */
  configFile: string;
  credentialsFile: string;
  /** Profiles of the config file (`[profile x]` and `[default]`), by name. */
  config: Record<string, ProfileSettings>;
  /** Profiles of the credentials file, by name. */
  credentials: Record<string, ProfileSettings>;
}

function expandHome(file: string): string {
  return file.startsWith('~/') ? path.join(getHomeDir(), file.slice(2)) : file;
}

/** Loads both files (a missing file is an empty one), honouring AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE of `env`. */
export async function loadSharedConfig(env: NodeJS.ProcessEnv): Promise<SharedConfig> {
  const configFile = expandHome(env.AWS_CONFIG_FILE || path.join(getHomeDir(), '.aws', 'config'));
  const credentialsFile = expandHome(env.AWS_SHARED_CREDENTIALS_FILE || path.join(getHomeDir(), '.aws', 'credentials'));
  const files = await loadSharedConfigFiles({ configFilepath: configFile, filepath: credentialsFile, ignoreCache: true });
  // `[sso-session x]` and `[services x]` sections come back as `sso-session.x` / `services.x`: not profiles.
  const profiles = (data: Record<string, ProfileSettings>) =>
    Object.fromEntries(Object.entries(data).filter(([name]) => !/^(sso-session|services)\./.test(name)));
  return { configFile, credentialsFile, config: profiles(files.configFile), credentials: profiles(files.credentialsFile) };
}

/** Every profile name defined in either file, sorted. */
export function profileNames(shared: SharedConfig): string[] {
  return [...new Set([...Object.keys(shared.config), ...Object.keys(shared.credentials)])].sort();
}

/**
 * Fails (CredentialsError, exit 2) when `profile` is defined in neither file, naming the profile, the
 * files read and the profiles they do define. `field` is the input as given (`--profile`, `AWS_PROFILE`).
 */
export function requireProfile(shared: SharedConfig, profile: string, field: string): void {
  if (shared.config[profile] || shared.credentials[profile]) return;
  const known = profileNames(shared);
  throw new CredentialsError(
    `${field}: profile '${profile}' is not defined in ${shared.configFile} nor in ${shared.credentialsFile}` +
      (known.length ? ` (profiles there: ${known.join(', ')})` : ' (no profile is defined there)'),
    `create it with aws configure --profile ${profile} (or aws configure sso --profile ${profile}), or name one of the profiles above; ` +
      'AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE point at other files',
    profile,
    undefined,
    field,
  );
}

/** A setting of a profile as the config file gives it (`region`, `endpoint_url`, `mfa_serial`, ...). */
export function profileSetting(shared: SharedConfig, profile: string, key: string): string | undefined {
  const value = shared.config[profile]?.[key];
  return value === undefined || value === '' ? undefined : value;
}
