// `k3sctl kubeconfig` as a user runs it: the CLI's commands in process
// (test/helpers/inProcessCli.ts) against a sandbox account that the test prepares on disk
// ($K3SCTL_HOME/sandbox/state.json) with a Ready control plane.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { RunInstancesCommand } from '@aws-sdk/client-ec2';
import { CreateInstanceProfileCommand } from '@aws-sdk/client-iam';
import { clusterTags } from '../../src/aws/tags';
import { Sandbox } from '../../src/sandbox/sandbox';
import { sandboxClients } from '../../src/sandbox/clients';
import { SandboxStore } from '../../src/sandbox/store';
import { DEFAULT_IMAGES } from '../../src/sandbox/defaults';
import { mapInstanceToSsh } from '../../src/sandbox/services/ec2';
import { tempHome } from '../helpers/cli';
import { runCliInProcess } from '../helpers/inProcessCli';
import { sshdAvailable, startSshd } from '../helpers/sshd';

const K3S_YAML = fs.readFileSync(path.join(__dirname, '../kube/fixtures/k3s.yaml'), 'utf8');

/** A sandbox account on disk with one Ready control plane of cluster `demo`; returns its instance id. */
async function accountWithControlPlane(
  home: string,
  ssh?: { host: string; port: number; hostKeyFingerprint: string },
): Promise<string> {
  const sb = new Sandbox();
  const clients = sandboxClients(sb, 'us-east-1');
  await clients.iam.send(new CreateInstanceProfileCommand({ InstanceProfileName: 'k3sctl-demo-cp' }));
  sb.advance(30_000);
  const res = await clients.ec2.send(
    new RunInstancesCommand({
      ImageId: DEFAULT_IMAGES[0].ImageId,
      InstanceType: 't3.small',
      MinCount: 1,
      MaxCount: 1,
      IamInstanceProfile: { Name: 'k3sctl-demo-cp' },
      TagSpecifications: [
        { ResourceType: 'instance', Tags: clusterTags('demo', 'control-plane', { group: 'cp' }) },
      ],
    }),
  );
  const id = res.Instances![0].InstanceId!;
  sb.advance(120_000);
  if (ssh) mapInstanceToSsh(sb, 'us-east-1', id, ssh);
  const store = new SandboxStore(path.join(home, 'sandbox'));
  fs.mkdirSync(store.dir, { recursive: true });
  store.save(sb);
  return id;
}

describe('k3sctl kubeconfig (CLI, sandbox)', () => {
  it('--json merges into the first $KUBECONFIG file and prints one JSON document without credentials on stderr', async () => {
    const home = tempHome();
    const id = await accountWithControlPlane(home);
    const kubeconfig = path.join(home, 'kube', 'config');
    const r = await runCliInProcess(['kubeconfig', 'demo', '--sandbox', '--json'], {
      home,
      env: { KUBECONFIG: `${kubeconfig}${path.delimiter}/nonexistent/other` },
    });
    expect(r.stderr).not.toMatch(/client-key-data|BEGIN/);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc).toMatchObject({
      cluster: 'demo',
      context: 'k3sctl-demo.us-east-1',
      instanceId: id,
      via: 'ssm',
      file: kubeconfig,
    });
    expect(doc.server).toMatch(/^https:\/\/[\d.]+:6443$/);
    expect(doc.apiCalls).toEqual({ read: expect.any(Number), write: 1 });
    expect(doc).not.toHaveProperty('kubeconfig');
    expect(fs.statSync(kubeconfig).mode & 0o777).toBe(0o600);
    expect(parse(fs.readFileSync(kubeconfig, 'utf8'))['current-context']).toBe('k3sctl-demo.us-east-1');
  });

  it('--print writes the kubeconfig to stdout only; --no-set-current and --context apply to merges', async () => {
    const home = tempHome();
    await accountWithControlPlane(home);
    const printed = await runCliInProcess(['kubeconfig', 'demo', '--sandbox', '--print', '--context', 'dev'], {
      home,
    });
    expect(printed.code).toBe(0);
    const doc = parse(printed.stdout);
    expect(doc['current-context']).toBe('dev');
    expect(doc.users[0].name).toBe('admin@dev');
    expect(printed.stderr).not.toMatch(/client-key-data/);
    expect(fs.existsSync(path.join(home, 'config'))).toBe(false);

    const file = path.join(home, 'config');
    fs.writeFileSync(
      file,
      'apiVersion: v1\nkind: Config\ncurrent-context: prod\nclusters: []\ncontexts: []\nusers: []\n',
    );
    const merged = await runCliInProcess(
      ['kubeconfig', 'demo', '--sandbox', '--no-set-current', '--kubeconfig', file],
      { home },
    );
    expect(merged.code).toBe(0);
    expect(merged.stdout).toContain('k3sctl-demo.us-east-1');
    expect(parse(fs.readFileSync(file, 'utf8'))['current-context']).toBe('prod');
  });

  it('fails with exit 2 and a suggestion when the cluster has no control plane', async () => {
    const home = tempHome();
    await accountWithControlPlane(home);
    const r = await runCliInProcess(['kubeconfig', 'nosuch', '--sandbox', '--json'], {
      home,
      env: { KUBECONFIG: path.join(home, 'cfg') },
    });
    expect(r.code).toBe(2);
    const doc = JSON.parse(r.stdout);
    expect(doc.error.message).toContain('cluster nosuch has no running control-plane instance');
    expect(doc.error.suggestion).toContain('k3sctl cluster describe nosuch');
    expect(fs.existsSync(path.join(home, 'cfg'))).toBe(false);
  });

  it('rejects --print together with --write (exit 2)', async () => {
    const r = await runCliInProcess(['kubeconfig', 'demo', '--sandbox', '--print', '--write', 'x.yaml']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--write|--print/);
  });

  (sshdAvailable() ? it : it.skip)(
    '--via ssh reads from the sshd the sandbox maps the instance to, verifying the host key by console output',
    async () => {
      const sshd = await startSshd();
      try {
        const home = tempHome();
        const fixture = sshd.writeFile('k3s.yaml', K3S_YAML);
        await accountWithControlPlane(home, {
          host: sshd.host,
          port: sshd.port,
          hostKeyFingerprint: sshd.hostKey.fingerprint,
        });
        const file = path.join(home, 'out.yaml');
        const args = [
          'kubeconfig',
          'demo',
          '--sandbox',
          '--json',
          '--identity',
          sshd.userKey.privateKeyPath,
          '--user',
          sshd.user,
        ];
        const ssh = [
          ...args,
          '--ssh-port',
          String(sshd.port),
          '--no-sudo',
          '--remote-path',
          fixture,
          '--write',
          file,
        ];
        const r = await runCliInProcess(ssh, { home });
        expect(r.stderr).not.toMatch(/client-key-data/);
        expect(r.code).toBe(0);
        expect(JSON.parse(r.stdout)).toMatchObject({
          via: 'ssh',
          server: 'https://127.0.0.1:6443',
          file,
          hostKey: { verifiedBy: 'console' },
        });
        expect(fs.readFileSync(path.join(home, 'known_hosts'), 'utf8')).toContain(
          `[127.0.0.1]:${sshd.port} ssh-ed25519 `,
        );
        expect(fs.statSync(file).mode & 0o777).toBe(0o600);
      } finally {
        await sshd.stop();
      }
    },
  );
});
