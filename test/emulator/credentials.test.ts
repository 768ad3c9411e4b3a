// The user's AWS setup read as the AWS CLI reads it, against moto (which has STS): a temporary HOME
// with ~/.aws/config and ~/.aws/credentials, and the CLI's commands run in process with a user's
// environment (test/helpers/inProcessCli.ts; no AWS_* variable of the developer's leaks in; the files
// are written once: the SDK caches a shared file's text by path for the life of the process). The region comes from --region, AWS_REGION, AWS_DEFAULT_REGION, then
// the profile (AWS_CONFIG_FILE honoured); an assume-role profile and a credential_process profile give
// credentials; an unknown profile, no credentials at all, an expired SSO session and an MFA profile
// without a terminal are exit 2 with a message that says what to do; with a terminal the MFA code is
// asked (in process, the prompt stubbed).
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tempHomes, type CliResult } from '../helpers/cli';
import { emulatorSkipped, useMoto } from '../helpers/moto';
import { runCliInProcess, runInProcess } from '../helpers/inProcessCli';

jest.mock('../../src/ui/prompts', () => ({
  ...jest.requireActual('../../src/ui/prompts'),
  mfaCode: jest.fn(async () => '123456'),
}));

const describeMoto = emulatorSkipped() ? describe.skip : describe;

/** A HOME with the given ~/.aws files (and any other files, relative to HOME). */
function awsHome(makeHome: () => string, files: Record<string, string>): string {
  const home = makeHome();
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(home, name)), { recursive: true });
    fs.writeFileSync(path.join(home, name), text.replace(/\{home\}/g, home), { mode: 0o700 });
  }
  return home;
}

const CONFIG = `[profile lab]
region = eu-west-1

[profile admin]
role_arn = arn:aws:iam::123456789012:role/k3sctl-admin
source_profile = lab
region = eu-central-1

[profile mfa]
role_arn = arn:aws:iam::123456789012:role/k3sctl-admin
source_profile = lab
mfa_serial = arn:aws:iam::123456789012:mfa/alice
region = us-east-1

[profile proc]
credential_process = {home}/creds.sh
region = us-west-2

[profile noregion]
credential_process = {home}/creds.sh

[profile sso]
sso_start_url = https://example.awsapps.com/start
sso_region = us-east-1
sso_account_id = 123456789012
sso_role_name = Admin
region = us-east-1
`;
const CREDENTIALS = '[lab]\naws_access_key_id = AKIAIOSFODNN7LAB0001\naws_secret_access_key = lab-secret\n';
// A credential_process that says it ran, then prints credentials in the documented JSON.
const CREDS_SH = '#!/bin/sh\ntouch "{home}/creds-ran"\necho \'{"Version": 1, "AccessKeyId": "AKIAIOSFODNN7PROC001", "SecretAccessKey": "proc-secret"}\'\n';

describeMoto('AWS credentials and region against moto', () => {
  const moto = useMoto();
  const homes = tempHomes();
  let home: string;

  beforeAll(() => {
    home = awsHome(homes, { '.aws/config': CONFIG, '.aws/credentials': CREDENTIALS, 'creds.sh': CREDS_SH, 'alt/config': '[profile alt]\nregion = ap-south-1\n' });
    // The AWS CLI's SSO token cache of that start URL (named by its sha1), expired.
    const key = crypto.createHash('sha1').update('https://example.awsapps.com/start').digest('hex');
    fs.mkdirSync(path.join(home, '.aws/sso/cache'), { recursive: true });
    fs.writeFileSync(
      path.join(home, '.aws/sso/cache', `${key}.json`),
      JSON.stringify({ startUrl: 'https://example.awsapps.com/start', region: 'us-east-1', accessToken: 'expired', expiresAt: '2020-01-01T00:00:00Z' }),
    );
  });

  /** `k3sctl ARGS --endpoint-url MOTO` with HOME and exactly the AWS variables given. */
  const k3sctl = (args: string[], env: Record<string, string> = {}, h = home): Promise<CliResult & { json: Record<string, any> }> => // eslint-disable-line @typescript-eslint/no-explicit-any
    runCliInProcess([...args, '--endpoint-url', moto().endpoint], {
      home: path.join(h, 'k3sctl'),
      env: { HOME: h, ...env },
      unsetEnv: Object.keys(process.env).filter((k) => k.startsWith('AWS_') && !(k in env)),
    }).then((r) => {
      let json = {};
      try {
        json = JSON.parse(r.stdout);
      } catch {
        // not JSON: the assertions say so
      }
      return { ...r, json };
    });

  it('takes the region of the profile from ~/.aws/config, and --verbose says so', async () => {
    const r = await k3sctl(['cluster', 'list', '--profile', 'lab', '--json', '--verbose']);
    expect({ code: r.code, region: r.json.region }).toEqual({ code: 0, region: 'eu-west-1' });
    expect(r.stderr).toContain(`AWS: region eu-west-1 (from profile lab in ${home}/.aws/config); profile lab (from --profile)`);
    // AWS_PROFILE is the same input, named as given.
    const env = await k3sctl(['cluster', 'list', '--json', '-v'], { AWS_PROFILE: 'lab' });
    expect(env.json.region).toBe('eu-west-1');
    expect(env.stderr).toContain('profile lab (from AWS_PROFILE)');
  });

  it('resolves the region in the AWS CLI\'s order: --region, AWS_REGION, AWS_DEFAULT_REGION, the profile', async () => {
    const region = async (args: string[], env: Record<string, string>) => {
      const r = await k3sctl(['cluster', 'list', '--profile', 'lab', '--json', '-v', ...args], env);
      expect(r.code).toBe(0);
      return [r.json.region, /AWS: region \S+ \(from ([^)]+)\)/.exec(r.stderr)?.[1]];
    };
    expect(await region([], { AWS_DEFAULT_REGION: 'eu-north-1' })).toEqual(['eu-north-1', 'AWS_DEFAULT_REGION']);
    expect(await region([], { AWS_DEFAULT_REGION: 'eu-north-1', AWS_REGION: 'eu-south-1' })).toEqual(['eu-south-1', 'AWS_REGION']);
    expect(await region(['--region', 'sa-east-1'], { AWS_DEFAULT_REGION: 'eu-north-1', AWS_REGION: 'eu-south-1' })).toEqual(['sa-east-1', '--region']);
  });

  it('honours AWS_CONFIG_FILE for the profile and its region', async () => {
    const r = await k3sctl(['cluster', 'list', '--profile', 'alt', '--json', '-v'], {
      AWS_CONFIG_FILE: path.join(home, 'alt/config'),
      AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7ENV0001',
      AWS_SECRET_ACCESS_KEY: 'env-secret',
    });
    // The profile has a region but no credentials: the region is found, then the credentials are not.
    expect(r.stderr).toContain(`AWS: region ap-south-1 (from profile alt in ${home}/alt/config)`);
    expect(r.code).toBe(2);
    expect(r.json.error).toMatchObject({
      type: 'CredentialsError',
      profile: 'alt',
      message: `profile alt gives no AWS credentials: it has none of aws_access_key_id, sso_session (or sso_start_url), role_arn, credential_process, web_identity_token_file (read ${home}/alt/config and ${home}/.aws/credentials)`,
    });
    // The profile of the default file is unknown there.
    const lab = await k3sctl(['cluster', 'list', '--profile', 'proc', '--json'], { AWS_CONFIG_FILE: path.join(home, 'alt/config') });
    expect(lab.code).toBe(2);
    expect(lab.json.error.message).toContain(`profile 'proc' is not defined in ${home}/alt/config nor in ${home}/.aws/credentials (profiles there: alt, lab)`);
  });

  it('assumes the role of an assume-role profile (role_arn + source_profile)', async () => {
    const r = await k3sctl(['cluster', 'list', '--profile', 'admin', '--json']);
    expect({ code: r.code, region: r.json.region, stderr: r.stderr }).toEqual({ code: 0, region: 'eu-central-1', stderr: '' });
    // Who the run was, as STS says (doctor reports it; here read through moto's STS with the same profile).
    const doctor = await k3sctl(['doctor', '--profile', 'admin', '--region', 'us-east-1', '--json']);
    const identity = (doctor.json.identity ?? doctor.json.error?.report?.identity) as { arn: string };
    expect(identity.arn).toMatch(/^arn:aws:sts::123456789012:assumed-role\/k3sctl-admin\/aws-sdk-js-\d+$/);
  });

  it('runs the credential_process of a profile', async () => {
    const r = await k3sctl(['cluster', 'list', '--profile', 'proc', '--json']);
    expect({ code: r.code, region: r.json.region }).toEqual({ code: 0, region: 'us-west-2' });
    expect(fs.existsSync(path.join(home, 'creds-ran'))).toBe(true);
    // A profile without a region and nothing else giving one: exit 2 naming where it may be set.
    const noRegion = await k3sctl(['cluster', 'list', '--profile', 'noregion', '--json']);
    expect(noRegion.code).toBe(2);
    expect(noRegion.json.error).toMatchObject({
      type: 'UserError',
      field: '--region',
      message: '--region: no AWS region given',
      suggestion: expect.stringContaining(`set region in profile noregion in ${home}/.aws/config (aws configure set region REGION --profile noregion)`),
    });
  });

  it('an unknown profile is exit 2 naming it and the files read, before any call', async () => {
    const r = await k3sctl(['cluster', 'list', '--profile', 'nosuch', '--json']);
    expect(r.code).toBe(2);
    expect(r.json.error).toMatchObject({
      type: 'CredentialsError',
      field: '--profile',
      profile: 'nosuch',
      message: `--profile: profile 'nosuch' is not defined in ${home}/.aws/config nor in ${home}/.aws/credentials (profiles there: admin, lab, mfa, noregion, proc, sso)`,
      suggestion: expect.stringContaining('aws configure --profile nosuch'),
    });
    const env = await k3sctl(['cluster', 'list', '--json'], { AWS_PROFILE: 'nosuch' });
    expect({ code: env.code, field: env.json.error?.field }).toEqual({ code: 2, field: 'AWS_PROFILE' });
  });

  it('no credentials anywhere is exit 2 listing the sources tried and the fixes', async () => {
    const empty = awsHome(homes, {});
    const r = await k3sctl(['cluster', 'list', '--json'], { AWS_REGION: 'us-east-1', AWS_EC2_METADATA_DISABLED: 'true' }, empty);
    expect(r.code).toBe(2);
    expect(r.json.error).toMatchObject({
      type: 'CredentialsError',
      message: `no AWS credentials found; looked in: environment variables AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY; profile default in ${empty}/.aws/credentials and ${empty}/.aws/config (access keys, SSO, role_arn, credential_process); a web identity token (AWS_WEB_IDENTITY_TOKEN_FILE); container credentials (ECS, EKS Pod Identity); the EC2 instance metadata service`,
      suggestion: 'run aws configure (access keys) or aws sso login --profile NAME (IAM Identity Center), then give that profile with --profile (or AWS_PROFILE); or try k3sctl without AWS: --sandbox',
    });
    expect(r.stderr).toMatch(/^Error: no AWS credentials found; looked in: /m);
    expect(r.stderr).not.toMatch(/InternalError|Could not load credentials/);
  });

  it('an expired SSO session is exit 2 with the exact aws sso login command', async () => {
    const r = await k3sctl(['cluster', 'list', '--profile', 'sso', '--json']);
    expect(r.code).toBe(2);
    expect(r.json.error).toMatchObject({
      type: 'CredentialsError',
      profile: 'sso',
      message: expect.stringMatching(/^the AWS SSO session of profile sso has expired or was never started/),
      suggestion: 'run: aws sso login --profile sso',
    });
  });

  it('an assume-role profile that needs MFA fails clearly without a terminal (CI)', async () => {
    const r = await k3sctl(['cluster', 'list', '--profile', 'mfa', '--json']);
    expect(r.code).toBe(2);
    expect(r.json.error).toMatchObject({
      type: 'CredentialsError',
      profile: 'mfa',
      message:
        'profile mfa assumes a role that requires an MFA code (mfa_serial arn:aws:iam::123456789012:mfa/alice), and none can be asked: stdin is not a terminal, or CI, --yes or --json is set',
      suggestion: expect.stringContaining('aws configure export-credentials --profile mfa --format env'),
    });
  });

  it('asks for the MFA code on a terminal, once, and assumes the role with it', async () => {
    const { mfaCode } = jest.requireMock('../../src/ui/prompts') as { mfaCode: jest.Mock };
    const r = await runInProcess(
      ['doctor', '--profile', 'mfa', '--endpoint-url', moto().endpoint],
      { HOME: home, K3SCTL_HOME: path.join(home, 'k3sctl'), CI: '' },
      { terminal: true },
    );
    expect(r.stdout).toMatch(/^ {2}identity {5}ok {10}arn:aws:sts::123456789012:assumed-role\/k3sctl-admin\/aws-sdk-js-\d+ \(account 123456789012\)$/m);
    expect(mfaCode.mock.calls).toEqual([['MFA code for arn:aws:iam::123456789012:mfa/alice (profile mfa)']]);
  });
});
