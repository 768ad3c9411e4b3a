import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { parse } from 'yaml';
import { UserError } from '../../src/core/errors';
import { names } from '../../src/aws/names';
import { OS_ALIASES } from '../../src/config/cluster';
import { isK3sVersion } from '../../src/config/k3s';
import {
  CONFIG_ENV_PATH,
  InstanceBootstrapConfig,
  MAX_USER_DATA_BYTES,
  MIME_BOUNDARY,
  renderConfigEnv,
  renderMultipart,
  renderUserData,
  STATIC_FILES,
  validateBootstrapConfig,
} from '../../src/userdata/render';

const USERDATA = path.resolve(__dirname, '../../userdata');
const GOLDEN = path.join(__dirname, 'golden');

function config(overrides: Partial<InstanceBootstrapConfig> = {}): InstanceBootstrapConfig {
  return {
    cluster: 'alpha',
    role: 'control-plane',
    group: 'cp',
    region: 'us-east-1',
    k3sVersion: 'v1.31.4+k3s1',
    k3sArgs: ['--disable=traefik'],
    labels: { 'team.example.com/owner': 'platform' },
    taints: ['dedicated=system:NoSchedule'],
    tlsSans: ['api.alpha.example.com'],
    serverTokenParameter: names.ssmServerToken('alpha'),
    agentTokenParameter: names.ssmAgentToken('alpha'),
    initializedParameter: names.ssmInitialized('alpha'),
    bootstrapFailurePrefix: names.ssmBootstrapFailures('alpha'),
    lifecycleHookName: names.lifecycleHook(),
    ...overrides,
  };
}

/** Many labels, taints, args and SANs: more than any real group carries. */
function largestRealisticConfig(role: InstanceBootstrapConfig['role']): InstanceBootstrapConfig {
  const labels: Record<string, string> = {};
  for (let i = 0; i < 40; i++)
    labels[`workloads.k3sctl.example.com/label-number-${i}`] = `value-${i}-${'x'.repeat(30)}`;
  return config({
    cluster: 'a-long-cluster-name1',
    group: 'a-long-group-name-12',
    role,
    region: 'ap-southeast-2',
    k3sVersion: 'v1.31.12-rc1+k3s2',
    labels,
    taints: Array.from({ length: 20 }, (_, i) => `dedicated.example.com/pool-${i}=tenant-${i}:NoSchedule`),
    k3sArgs: Array.from(
      { length: 40 },
      (_, i) => `--kube-apiserver-arg=feature-gates=SomeLongFeatureGateName${i}=true`,
    ),
    tlsSans: [
      ...Array.from({ length: 20 }, (_, i) => `api-${i}.a-long-cluster-name1.ap-southeast-2.k8s.example.com`),
      '10.0.0.10',
      '2001:db8::10',
    ],
    serverTokenParameter: names.ssmServerToken('a-long-cluster-name1'),
    agentTokenParameter: names.ssmAgentToken('a-long-cluster-name1'),
    initializedParameter: names.ssmInitialized('a-long-cluster-name1'),
    bootstrapFailurePrefix: names.ssmBootstrapFailures('a-long-cluster-name1'),
  });
}

function decode(base64: string): { raw: Buffer; text: string } {
  const raw = Buffer.from(base64, 'base64');
  return { raw, text: gunzipSync(raw).toString('utf8') };
}

interface WriteFile {
  path: string;
  owner: string;
  permissions: string;
  content: string;
}

function parts(text: string): { headers: string; body: string }[] {
  return text
    .split(`--${MIME_BOUNDARY}`)
    .slice(1, -1)
    .map((p) => {
      const [headers, ...rest] = p.replace(/^\n/, '').split('\n\n');
      return { headers, body: rest.join('\n\n') };
    });
}

function writeFiles(text: string): WriteFile[] {
  const cloud = parts(text).find((p) => p.headers.includes('text/cloud-config'));
  if (!cloud) throw new Error('no cloud-config part');
  expect(cloud.body.startsWith('#cloud-config\n')).toBe(true);
  return (parse(cloud.body) as { write_files: WriteFile[] }).write_files;
}

/** Sources a config.env with bash in a temp dir and returns the named arrays/values NUL-split. */
function sourceConfigEnv(content: string, expression: string): { values: string[]; dir: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'k3sctl-env-'));
  writeFileSync(path.join(dir, 'config.env'), content);
  const r = spawnSync('bash', ['-c', `set -eu; source ./config.env; printf '%s\\0' ${expression}`], {
    cwd: dir,
    encoding: 'utf8',
  });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return { values: r.stdout.split('\0').slice(0, -1), dir };
}

describe('renderUserData', () => {
  test('is gzip (magic 1f 8b) with rawBytes and sha256 of the raw bytes', () => {
    const out = renderUserData(config());
    const { raw } = decode(out.base64);
    expect([raw[0], raw[1]]).toEqual([0x1f, 0x8b]);
    expect(out.rawBytes).toBe(raw.length);
    expect(out.sha256).toBe(createHash('sha256').update(raw).digest('hex'));
  });

  test('is deterministic', () => {
    expect(renderUserData(config()).sha256).toBe(renderUserData(config()).sha256);
    expect(renderUserData(config()).sha256).not.toBe(renderUserData(config({ group: 'other' })).sha256);
  });

  test('is a cloud-init multipart message: cloud-config then the bootstrap script', () => {
    const { text } = decode(renderUserData(config()).base64);
    expect(text.split('\n').slice(0, 2)).toEqual([
      `Content-Type: multipart/mixed; boundary="${MIME_BOUNDARY}"`,
      'MIME-Version: 1.0',
    ]);
    expect(text.trimEnd().endsWith(`--${MIME_BOUNDARY}--`)).toBe(true);
    const p = parts(text);
    expect(p).toHaveLength(2);
    expect(p[0].headers).toContain('Content-Type: text/cloud-config; charset="us-ascii"');
    expect(p[0].headers).toContain('MIME-Version: 1.0');
    expect(p[1].headers).toContain('Content-Type: text/x-shellscript; charset="us-ascii"');
    expect(p[1].body).toMatch(/^#!\/bin\/bash\n/);
    expect(p[1].body).toContain('exec /usr/local/bin/k3sctl-bootstrap');
  });

  test.each(['control-plane', 'node'] as const)(
    'write_files of a %s: the static files verbatim, modes 0755/0644, config.env 0600',
    (role) => {
      const files = writeFiles(decode(renderUserData(config({ role })).base64).text);
      const expected = STATIC_FILES.filter((f) => f.roles.includes(role));
      expect(files.map((f) => f.path).sort()).toEqual(
        [...expected.map((f) => f.target), CONFIG_ENV_PATH].sort(),
      );
      for (const f of expected) {
        const written = files.find((w) => w.path === f.target)!;
        expect(written.content).toBe(readFileSync(path.join(USERDATA, f.source), 'utf8'));
        expect(written.owner).toBe('root:root');
        expect(written.permissions).toBe(f.target.startsWith('/usr/local/bin/') ? '0755' : '0644');
      }
      const env = files.find((w) => w.path === CONFIG_ENV_PATH)!;
      expect(env.permissions).toBe('0600');
      expect(env.content).toBe(renderConfigEnv(config({ role })));
      // Every script in userdata/bin is delivered to some role.
      const delivered = new Set(STATIC_FILES.map((f) => f.source));
      for (const f of readdirSync(path.join(USERDATA, 'bin'))) expect(delivered).toContain(`bin/${f}`);
    },
  );

  test('nodes get the agent unit with the discovery drop-in, control planes the server unit and leave handler', () => {
    const node = writeFiles(decode(renderUserData(config({ role: 'node' })).base64).text).map((f) => f.path);
    expect(node).toContain('/etc/systemd/system/k3s-agent.service.d/10-k3sctl-discover.conf');
    expect(node).not.toContain('/usr/local/bin/k3sctl-leave-handler');
    const dropIn = readFileSync(path.join(USERDATA, 'systemd/k3s-agent-discover.conf'), 'utf8');
    expect(dropIn).toMatch(/^ExecStartPre=\/usr\/local\/bin\/k3sctl-discover-control-plane$/m);
    const cp = writeFiles(decode(renderUserData(config()).base64).text).map((f) => f.path);
    expect(cp).toEqual(
      expect.arrayContaining([
        '/etc/systemd/system/k3s.service',
        '/etc/systemd/system/k3sctl-leave-handler.timer',
      ]),
    );
  });

  test.each(['control-plane', 'node'] as const)(
    'every k3sctl program a %s unit runs is delivered to that role',
    (role) => {
      const files = writeFiles(decode(renderUserData(config({ role })).base64).text);
      const delivered = new Set(files.map((f) => f.path));
      const units = files.filter((f) => f.path.startsWith('/etc/systemd/system/'));
      expect(units.length).toBeGreaterThan(0);
      for (const unit of units) {
        for (const m of unit.content.matchAll(/^Exec\w+=-?(\/usr\/local\/bin\/k3sctl-[\w-]+)/gm))
          expect(delivered).toContain(m[1]);
      }
    },
  );

  test('config.env carries the tag keys and parameter names; a node gets no server-token parameter', () => {
    const { values } = sourceConfigEnv(
      renderConfigEnv(config({ role: 'node' })),
      '"$K3SCTL_TAG_CLUSTER" "$K3SCTL_TAG_ROLE" "$K3SCTL_TAG_GROUP" "$K3SCTL_AGENT_TOKEN_PARAMETER" "$K3SCTL_SERVER_TOKEN_PARAMETER" "$K3SCTL_LIFECYCLE_HOOK_NAME"',
    );
    expect(values).toEqual([
      'k3sctl.io/cluster',
      'k3sctl.io/role',
      'k3sctl.io/group',
      '/k3sctl/clusters/alpha/agent-token',
      '',
      'k3sctl-graceful-leave',
    ]);
  });

  test('values with quotes, spaces and $(...) stay inert when bash sources config.env', () => {
    const hostile = [
      `--kube-apiserver-arg=x='quoted' "dq" $(touch pwned) \`touch pwned2\` $HOME \\ ;|&`,
      `--flag=it's`,
    ];
    const rendered = renderUserData(config({ k3sArgs: hostile }));
    const env = writeFiles(decode(rendered.base64).text).find((f) => f.path === CONFIG_ENV_PATH)!.content;
    const { values, dir } = sourceConfigEnv(env, '"${K3SCTL_K3S_ARGS[@]}"');
    try {
      expect(values).toEqual(hostile);
      expect(readdirSync(dir)).toEqual(['config.env']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    // The quoting itself, for a label value validation would reject:
    const label = `it's a "label" $(touch pwned)`;
    const { values: labels, dir: dir2 } = sourceConfigEnv(
      renderConfigEnv(config({ labels: { k: label } })),
      '"${K3SCTL_NODE_LABELS[@]}"',
    );
    try {
      expect(labels).toEqual([`k=${label}`]);
      expect(readdirSync(dir2)).toEqual(['config.env']);
    } finally {
      rmSync(dir2, { recursive: true, force: true });
    }
    expect(() => validateBootstrapConfig(config({ labels: { k: label } }))).toThrow(/labels\["k"\]/);
  });

  test.each(['control-plane', 'node'] as const)(
    'the largest realistic %s config fits the 16 KB EC2 limit',
    (role) => {
      const out = renderUserData(largestRealisticConfig(role));
      expect(out.rawBytes).toBeLessThanOrEqual(MAX_USER_DATA_BYTES);
      expect(MAX_USER_DATA_BYTES).toBe(16384);
    },
  );

  test('refuses user data above 16 KB', () => {
    // Incompressible (random-looking) arguments push the gzip size over the limit.
    const args = Array.from(
      { length: 300 },
      (_, i) => `--node-arg=${createHash('sha256').update(String(i)).digest('base64url')}`,
    );
    try {
      renderUserData(config({ k3sArgs: args }));
      throw new Error('expected a UserError');
    } catch (e) {
      expect(e).toBeInstanceOf(UserError);
      expect((e as UserError).field).toBe('userData');
      expect((e as Error).message).toMatch(/EC2 allows 16384/);
    }
  });

  test.each(['control-plane', 'node'] as const)(
    'matches the golden file for a %s (UPDATE_GOLDEN=1 regenerates)',
    (role) => {
      const file = path.join(GOLDEN, `${role}.txt`);
      const text = renderMultipart(config({ role }));
      if (process.env.UPDATE_GOLDEN === '1') writeFileSync(file, text);
      expect(text).toBe(readFileSync(file, 'utf8'));
    },
  );
});

describe('every OS image k3sctl offers', () => {
  // The renderer has no OS input: one user data boots every image, and the bootstrap tells the images
  // apart by /etc/os-release (bats: bootstrap-os.bats runs the delivered scripts, which the
  // "static files verbatim" test above ties to this user data, against each image's os-release).
  test.each(OS_ALIASES)('%s: its /etc/os-release is a fixture and the bootstrap is tested on it', (os) => {
    const osRelease = readFileSync(path.join(__dirname, 'fixtures/os-release', os), 'utf8');
    expect(osRelease).toMatch(/^ID="?(amzn|ubuntu)"?$/m);
    const bats = readFileSync(path.join(__dirname, 'bats/bootstrap-os.bats'), 'utf8');
    expect(bats).toContain(`@test "bootstrap on ${os}: `);
    expect(bats).toContain(`os_release ${os}`);
  });

  test.each(['control-plane', 'node'] as const)(
    'the %s bootstrap makes sure of the AWS CLI (Ubuntu has none) before its first AWS call',
    (role) => {
      const files = writeFiles(decode(renderUserData(config({ role })).base64).text);
      const bootstrap = files.find((f) => f.path === '/usr/local/bin/k3sctl-bootstrap')!.content;
      const common = files.find((f) => f.path === '/usr/local/lib/k3sctl/common.sh')!.content;
      expect(common).toContain('snap install aws-cli --classic');
      const ensure = bootstrap.indexOf('\nensure_aws_cli ');
      expect(ensure).toBeGreaterThan(0);
      for (const awsUse of ['install_k3s ', 'ssm_fetch_secret ', 'exec "${K3SCTL_BIN_PREFIX'])
        expect(bootstrap.indexOf(awsUse)).toBeGreaterThan(ensure);
    },
  );
});

describe('validateBootstrapConfig', () => {
  const cases: [string, Partial<InstanceBootstrapConfig>][] = [
    ['cluster', { cluster: 'Bad_Name' }],
    ['role', { role: 'master' as never }],
    ['group', { group: 'a--b' }],
    ['region', { region: 'useast1' }],
    ['k3sVersion', { k3sVersion: '1.31.4' }],
    ['k3sArgs[1]', { k3sArgs: ['--ok', 'no-dashes'] }],
    ['k3sArgs[0]', { k3sArgs: ['--token=abc'] }],
    ['k3sArgs[0]', { k3sArgs: ['--server=https://x:6443'] }],
    ['k3sArgs[0]', { k3sArgs: ['--a=b\nc'] }],
    ['labels["bad key!"]', { labels: { 'bad key!': 'v' } }],
    ['labels["k"]', { labels: { k: 'x'.repeat(64) } }],
    ['taints[0]', { taints: ['nokeyeffect'] }],
    ['taints[0]', { taints: ['k=v:Sometimes'] }],
    ['tlsSans[0]', { tlsSans: ['not a host'] }],
    ['serverTokenParameter', { serverTokenParameter: '/k3sctl/clusters/other/server-token' }],
    ['agentTokenParameter', { agentTokenParameter: 'no-slash' }],
    ['initializedParameter', { initializedParameter: '/elsewhere/initialized' }],
    ['lifecycleHookName', { lifecycleHookName: 'has space' }],
  ];

  test.each(cases)('names the field %s', (field, overrides) => {
    try {
      validateBootstrapConfig(config(overrides));
      throw new Error('expected a UserError');
    } catch (e) {
      expect(e).toBeInstanceOf(UserError);
      expect((e as UserError).field).toBe(field);
      if (!['cluster', 'group'].includes(field))
        expect((e as Error).message.startsWith(`${field}: `)).toBe(true);
    }
  });

  test('accepts taints without a value, IPv4/IPv6/wildcard SANs and empty label values', () => {
    expect(() =>
      validateBootstrapConfig(
        config({
          taints: ['node-role.kubernetes.io/control-plane:NoSchedule'],
          tlsSans: ['10.1.2.3', 'fd00::1', '*.alpha.example.com'],
          labels: { empty: '' },
        }),
      ),
    ).not.toThrow();
  });

  test('renderUserData validates first', () => {
    expect(() => renderUserData(config({ k3sVersion: 'latest' }))).toThrow(UserError);
  });
});

describe('isK3sVersion', () => {
  test.each(['v1.31.4+k3s1', 'v1.28.15+k3s2', 'v1.32.0-rc1+k3s1'])('accepts %s', (v) =>
    expect(isK3sVersion(v)).toBe(true),
  );
  test.each([
    '1.31.4+k3s1',
    'v1.31+k3s1',
    'v1.31.4',
    'v1.31.4+rke2r1',
    'latest',
    'stable',
    'v1.31.4+k3s1; rm -rf /',
    'v01.31.4+k3s1',
  ])('rejects %s', (v) => expect(isK3sVersion(v)).toBe(false));
});
