// The kubeconfig workflow end to end against the sandbox: a control plane launched with the
// cluster's tags, k3s becoming Ready on the virtual clock, the file read over SSM Run Command, or
// over SSH from a real sshd the sandbox maps the instance to.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { parse } from 'yaml';
import { RunInstancesCommand, TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import { CreateInstanceProfileCommand } from '@aws-sdk/client-iam';
import { clusterTags } from '../../src/aws/tags';
import { KubeconfigError } from '../../src/kube/errors';
import { readKnownHosts } from '../../src/kube/knownHosts';
import { fetchKubeconfig, type KubeconfigSpec } from '../../src/orchestration/workflows/kubeconfig';
import type { WorkflowDeps } from '../../src/orchestration/deps';
// Loaded before services/ec2 (which it imports back): the sandbox modules must initialise in this order.
import { Sandbox } from '../../src/sandbox/sandbox';
import '../../src/sandbox/sandbox';
import { mapInstanceToSsh } from '../../src/sandbox/services/ec2';
import { DEFAULT_IMAGES } from '../../src/sandbox/defaults';
import { createAsgFixture, waitSettled } from '../helpers/asgFixture';
import { removeTestHomes, sandboxDeps, testHome } from '../helpers/sandboxDeps';
import { generateKey, sshdAvailable, startSshd, type TestSshd } from '../helpers/sshd';

const AL2023 = DEFAULT_IMAGES.find(
  (i) => i.Name.startsWith('al2023') && i.Architecture === 'x86_64',
)!.ImageId;
const K3S_YAML = fs.readFileSync(path.join(__dirname, 'fixtures/k3s.yaml'), 'utf8');
/** Boot (35 s) + k3s server Ready (45 s) with margin. */
const UNTIL_READY_MS = 120_000;

afterAll(() => removeTestHomes());

async function launchControlPlane(
  deps: WorkflowDeps,
  sb: Sandbox,
  options: { cluster?: string; profile?: boolean } = {},
): Promise<string> {
  const cluster = options.cluster ?? 'demo';
  let IamInstanceProfile: { Name: string } | undefined;
  if (options.profile ?? true) {
    const name = `k3sctl-${cluster}-cp-${sb.state.seq}`;
    await deps.clients.iam.send(new CreateInstanceProfileCommand({ InstanceProfileName: name }));
    sb.advance(30_000); // IAM propagation before EC2 accepts the profile
    IamInstanceProfile = { Name: name };
  }
  const res = await deps.clients.ec2.send(
    new RunInstancesCommand({
      ImageId: AL2023,
      InstanceType: 't3.small',
      MinCount: 1,
      MaxCount: 1,
      IamInstanceProfile,
      KeyName: 'sandbox',
      TagSpecifications: [
        {
          ResourceType: 'instance',
          Tags: clusterTags(cluster, 'control-plane', { group: 'cp', name: `k3sctl-${cluster}-cp` }),
        },
      ],
    }),
  );
  return res.Instances![0].InstanceId!;
}

function mergeSpec(deps: WorkflowDeps, extra: Partial<KubeconfigSpec> = {}): KubeconfigSpec {
  return {
    cluster: 'demo',
    destination: { mode: 'merge', file: path.join(deps.home, 'kube', 'config'), setCurrent: true },
    ...extra,
  };
}

async function failure(p: Promise<unknown>): Promise<KubeconfigError> {
  try {
    await p;
  } catch (error) {
    if (error instanceof KubeconfigError) return error;
    throw error;
  }
  throw new Error('expected a KubeconfigError');
}

describe('k3sctl kubeconfig over SSM (sandbox)', () => {
  it('reads the k3s kubeconfig of a Ready control plane and merges it; a re-run replaces its entries', async () => {
    const setup = sandboxDeps();
    const sb = setup.sb;
    const id = await launchControlPlane(setup.deps, sb);
    sb.advance(UNTIL_READY_MS);
    // Fresh clients: apiCalls counts this run only.
    const { deps } = sandboxDeps(sb, { home: setup.home });
    const result = await fetchKubeconfig(deps, mergeSpec(deps, { via: 'ssm' }));
    const file = path.join(deps.home, 'kube', 'config');
    expect(result).toMatchObject({
      cluster: 'demo',
      context: 'k3sctl-demo.us-east-1',
      instanceId: id,
      via: 'ssm',
      file,
    });
    expect(result.server).toMatch(/^https:\/\/\d+\.\d+\.\d+\.\d+:6443$/);
    expect(result.apiCalls.read).toBeGreaterThan(0);
    expect(result.apiCalls.write).toBe(1); // SendCommand
    expect(result).not.toHaveProperty('kubeconfig');
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const doc = parse(fs.readFileSync(file, 'utf8'));
    expect(doc['current-context']).toBe('k3sctl-demo.us-east-1');
    expect(doc.clusters).toEqual([
      {
        name: 'k3sctl-demo.us-east-1',
        cluster: { 'certificate-authority-data': expect.any(String), server: result.server },
      },
    ]);
    expect(doc.users[0]).toMatchObject({
      name: 'admin@k3sctl-demo.us-east-1',
      user: { 'client-key-data': expect.any(String) },
    });

    const before = fs.readFileSync(file, 'utf8');
    const again = sandboxDeps(sb, { home: deps.home });
    await fetchKubeconfig(again.deps, mergeSpec(deps, { via: 'ssm' }));
    expect(fs.readFileSync(file, 'utf8')).toBe(before);
  });

  it('uses SSM by default when no key is given, and the private IP with privateIp', async () => {
    const { deps, sb } = sandboxDeps();
    await launchControlPlane(deps, sb);
    sb.advance(UNTIL_READY_MS);
    const result = await fetchKubeconfig(
      deps,
      mergeSpec(deps, { privateIp: true, context: 'mine', destination: { mode: 'print' } }),
    );
    expect(result.via).toBe('ssm');
    expect(result.server).toMatch(/^https:\/\/172\.31\.\d+\.\d+:6443$/);
    expect(result.printed).toBe(true);
    expect(parse(result.kubeconfig!)['current-context']).toBe('mine');
    expect(fs.existsSync(path.join(deps.home, 'kube'))).toBe(false);
  });

  it('says k3s is not up yet while the control plane is still starting, and writes nothing', async () => {
    const { deps, sb } = sandboxDeps();
    const id = await launchControlPlane(deps, sb);
    sb.advance(50_000); // running and the SSM agent online, k3s not Ready yet
    const e = await failure(fetchKubeconfig(deps, mergeSpec(deps, { via: 'ssm' })));
    expect(e.reason).toBe('file-missing');
    expect(e.message).toContain(`k3s is not up yet on ${id}`);
    expect(e.suggestion).toContain('k3sctl cluster describe demo');
    expect(fs.existsSync(path.join(deps.home, 'kube', 'config'))).toBe(false);
  });

  it('reports an SSM agent that is not online', async () => {
    const { deps, sb } = sandboxDeps();
    const id = await launchControlPlane(deps, sb, { profile: false });
    sb.advance(UNTIL_READY_MS);
    const e = await failure(fetchKubeconfig(deps, mergeSpec(deps, { via: 'ssm' })));
    expect(e.reason).toBe('ssm-agent-offline');
    expect(e.message).toContain(id);
    expect(e.suggestion).toMatch(/--via ssh/);
  });

  it('reports a cluster without a running control plane and points at cluster describe', async () => {
    const { deps, sb } = sandboxDeps();
    const id = await launchControlPlane(deps, sb, { cluster: 'other' });
    sb.advance(UNTIL_READY_MS);
    const e = await failure(fetchKubeconfig(deps, mergeSpec(deps)));
    expect(e.reason).toBe('no-control-plane');
    expect(e.message).toBe('cluster demo has no running control-plane instance in us-east-1');
    expect(e.suggestion).toContain('k3sctl cluster describe demo --region us-east-1');
    await deps.clients.ec2.send(new TerminateInstancesCommand({ InstanceIds: [id] }));
  });

  it('prefers an InService control plane of an Auto Scaling group over an earlier standalone one', async () => {
    const { deps, sb, home } = sandboxDeps();
    const standalone = await launchControlPlane(deps, sb);
    const fixture = await createAsgFixture(deps.clients, {
      role: 'control-plane',
      size: 1,
      instanceProfile: true,
    });
    const group = await waitSettled(deps.clients, sb.clock, fixture.autoScalingGroupName);
    const inService = group.Instances?.find((i) => i.LifecycleState === 'InService')?.InstanceId;
    expect(inService).toBeDefined();
    sb.advance(UNTIL_READY_MS);
    const result = await fetchKubeconfig(sandboxDeps(sb, { home }).deps, mergeSpec(deps, { via: 'ssm' }));
    expect(result.instanceId).toBe(inService);
    expect(result.instanceId).not.toBe(standalone);
  });

  it('picks the instance given with instanceId, and lists the candidates for an unknown one', async () => {
    const { deps, sb } = sandboxDeps();
    const first = await launchControlPlane(deps, sb);
    const second = await launchControlPlane(deps, sb);
    sb.advance(UNTIL_READY_MS);
    const picked = await fetchKubeconfig(deps, mergeSpec(deps, { instanceId: second, via: 'ssm' }));
    expect(picked.instanceId).toBe(second);
    const byDefault = await fetchKubeconfig(
      sandboxDeps(sb, { home: deps.home }).deps,
      mergeSpec(deps, { via: 'ssm' }),
    );
    expect(byDefault.instanceId).toBe(first); // earliest launch among equals
    const e = await failure(fetchKubeconfig(deps, mergeSpec(deps, { instanceId: 'i-0000000000000000f' })));
    expect(e.message).toContain(first);
    expect(e.message).toContain(second);
  });
});

const available = sshdAvailable();
if (!available) {
  console.warn(
    'SKIPPED: kubeconfig-over-SSH workflow tests need OpenSSH at /usr/sbin/sshd (apt-get install openssh-server)',
  );
}
const describeSsh = available ? describe : describe.skip;

// A kubeconfig that already holds other clusters, as kubectl writes it.
const OTHER_CLUSTERS = `apiVersion: v1
clusters:
- cluster:
    server: https://prod.example.com:443
  name: prod
contexts:
- context:
    cluster: prod
    user: prod-admin
  name: prod
current-context: prod
kind: Config
preferences: {}
users:
- name: prod-admin
  user:
    token: abc123 # keep me
`;

describeSsh('k3sctl kubeconfig over SSH (sandbox instance mapped to a real sshd)', () => {
  let sshd: TestSshd;
  let fixture: string;
  beforeAll(async () => {
    sshd = await startSshd();
    fixture = sshd.writeFile('k3s.yaml', K3S_YAML);
  });
  afterAll(async () => {
    await sshd?.stop();
  });

  async function mappedInstance(fingerprint = sshd.hostKey.fingerprint) {
    const { deps, sb } = sandboxDeps();
    const id = await launchControlPlane(deps, sb);
    sb.advance(UNTIL_READY_MS);
    mapInstanceToSsh(sb, 'us-east-1', id, {
      host: sshd.host,
      port: sshd.port,
      hostKeyFingerprint: fingerprint,
    });
    return { deps, sb, id };
  }

  const sshSpec = (
    deps: WorkflowDeps,
    extra: Partial<KubeconfigSpec['ssh']> = {},
    spec: Partial<KubeconfigSpec> = {},
  ): KubeconfigSpec =>
    mergeSpec(deps, {
      remotePath: fixture,
      ssh: {
        identityFile: sshd.userKey.privateKeyPath,
        user: sshd.user,
        port: sshd.port,
        sudo: false,
        readyTimeoutMs: 10_000,
        ...extra,
      },
      ...spec,
    });

  it('verifies the host key against the console output, merges beside other clusters, and re-runs without duplicates', async () => {
    const { deps, sb, id } = await mappedInstance();
    const file = path.join(deps.home, 'kube', 'config');
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, OTHER_CLUSTERS, { mode: 0o644 });

    const result = await fetchKubeconfig(deps, sshSpec(deps));
    expect(result).toMatchObject({
      via: 'ssh',
      instanceId: id,
      server: 'https://127.0.0.1:6443',
      address: `${sshd.user}@127.0.0.1:${sshd.port}`,
      hostKey: { fingerprint: sshd.hostKey.fingerprint, verifiedBy: 'console' },
      file,
    });
    expect(readKnownHosts(path.join(deps.home, 'known_hosts'))).toHaveLength(1);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const text = fs.readFileSync(file, 'utf8');
    expect(text).toContain('    token: abc123 # keep me');
    const doc = parse(text);
    expect(doc.clusters.map((c: { name: string }) => c.name)).toEqual(['prod', 'k3sctl-demo.us-east-1']);
    expect(doc['current-context']).toBe('k3sctl-demo.us-east-1');
    if (fs.existsSync('/usr/bin/kubectl')) {
      const view = JSON.parse(
        execFileSync('/usr/bin/kubectl', ['config', 'view', '--kubeconfig', file, '-o', 'json'], {
          encoding: 'utf8',
        }),
      );
      expect(view.clusters.map((c: { name: string }) => c.name).sort()).toEqual([
        'k3sctl-demo.us-east-1',
        'prod',
      ]);
      expect(view.contexts.map((c: { name: string }) => c.name).sort()).toEqual([
        'k3sctl-demo.us-east-1',
        'prod',
      ]);
    }

    const again = await fetchKubeconfig(sandboxDeps(sb, { home: deps.home }).deps, sshSpec(deps));
    expect(again.hostKey?.verifiedBy).toBe('known_hosts');
    expect(fs.readFileSync(file, 'utf8')).toBe(text);
    expect(readKnownHosts(path.join(deps.home, 'known_hosts'))).toHaveLength(1);
  });

  it('refuses a host key that differs from the console fingerprint, even with acceptNewHostKey', async () => {
    const { deps } = await mappedInstance(generateKey(testHome(), 'decoy').fingerprint);
    const e = await failure(fetchKubeconfig(deps, sshSpec(deps, { acceptNewHostKey: true })));
    expect(e.reason).toBe('host-key-mismatch-console');
    expect(fs.existsSync(path.join(deps.home, 'known_hosts'))).toBe(false);
    expect(fs.existsSync(path.join(deps.home, 'kube', 'config'))).toBe(false);
  });

  it('refuses a changed host key, saying which known_hosts line to remove', async () => {
    const { deps } = await mappedInstance();
    const knownHosts = path.join(deps.home, 'known_hosts');
    const old = generateKey(testHome(), 'old');
    fs.writeFileSync(
      knownHosts,
      `[127.0.0.1]:${sshd.port} ${old.publicKey.split(' ').slice(0, 2).join(' ')}\n`,
    );
    const e = await failure(fetchKubeconfig(deps, sshSpec(deps)));
    expect(e.reason).toBe('host-key-changed');
    expect(e.suggestion).toContain(`remove line 1 from ${knownHosts}`);
    expect(fs.existsSync(path.join(deps.home, 'kube', 'config'))).toBe(false);
  });

  it('names user@host:port when the key is wrong', async () => {
    const { deps } = await mappedInstance();
    const wrong = generateKey(testHome(), 'wrong');
    const e = await failure(fetchKubeconfig(deps, sshSpec(deps, { identityFile: wrong.privateKeyPath })));
    expect(e.reason).toBe('auth-failed');
    expect(e.message).toContain(`SSH authentication failed for ${sshd.user}@127.0.0.1:${sshd.port}`);
    expect(e.suggestion).toContain("key pair 'sandbox'");
  });

  it('defaults to SSH when ssh-agent holds a key (outside the sandbox rule), with the AMI login user', async () => {
    const { spawn, execFileSync } = await import('node:child_process');
    const socket = path.join(testHome(), 'agent.sock');
    const agent = spawn('ssh-agent', ['-D', '-a', socket], { stdio: 'ignore' });
    try {
      for (let i = 0; i < 100 && !fs.existsSync(socket); i++) await new Promise((r) => setTimeout(r, 50));
      execFileSync('ssh-add', [sshd.userKey.privateKeyPath], {
        env: { ...process.env, SSH_AUTH_SOCK: socket },
        stdio: 'ignore',
      });
      const { sb, deps: setup } = await mappedInstance();
      // As against AWS: only the sandbox flag makes the default ignore the agent.
      const { deps } = sandboxDeps(sb, { home: setup.home, sandbox: false });
      const e = await failure(
        fetchKubeconfig(
          deps,
          mergeSpec(deps, {
            remotePath: fixture,
            ssh: { agentSocket: socket, port: sshd.port, sudo: false, readyTimeoutMs: 10_000 },
          }),
        ),
      );
      // No --user: the al2023 AMI's ec2-user is tried, which the test server does not know.
      expect(e.reason).toBe('auth-failed');
      expect(e.message).toContain(`ec2-user@127.0.0.1:${sshd.port}`);
      expect(e.message).toContain('ssh-agent');
      const ok = await fetchKubeconfig(
        deps,
        mergeSpec(deps, {
          remotePath: fixture,
          ssh: { agentSocket: socket, user: sshd.user, port: sshd.port, sudo: false },
        }),
      );
      expect(ok.via).toBe('ssh');
    } finally {
      agent.kill('SIGTERM');
    }
  });

  it('writes a kubeconfig of its own with destination write', async () => {
    const { deps } = await mappedInstance();
    const own = path.join(deps.home, 'demo.yaml');
    const result = await fetchKubeconfig(
      deps,
      sshSpec(deps, {}, { destination: { mode: 'write', file: own } }),
    );
    expect(result.file).toBe(own);
    expect(fs.statSync(own).mode & 0o777).toBe(0o600);
    expect(parse(fs.readFileSync(own, 'utf8'))['current-context']).toBe('k3sctl-demo.us-east-1');
  });

  it('does not write anything when the fetched file is not a kubeconfig', async () => {
    const { deps } = await mappedInstance();
    const junk = sshd.writeFile('junk.yaml', 'hello: world\n');
    const e = await failure(fetchKubeconfig(deps, sshSpec(deps, {}, { remotePath: junk })));
    expect(e.reason).toBe('not-a-kubeconfig');
    expect(fs.existsSync(path.join(deps.home, 'kube', 'config'))).toBe(false);
  });
});
