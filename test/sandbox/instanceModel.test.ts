import { gzipSync } from 'node:zlib';
import { RunInstancesCommand } from '@aws-sdk/client-ec2';
import { CreateInstanceProfileCommand } from '@aws-sdk/client-iam';
import { Sandbox, type SandboxOptions } from '../../src/sandbox/sandbox';
import { sandboxClients } from '../../src/sandbox/clients';
import { DEFAULT_IMAGES } from '../../src/sandbox/defaults';
import { getInstance } from '../../src/sandbox/services/ec2';
import {
  clusterNodes,
  kubeconfigFor,
  k3sVersionOf,
  nodeReadyAt,
  runShellScript,
} from '../../src/sandbox/instanceModel';
import { clusterTags } from '../../src/aws/tags';

async function cluster(options: SandboxOptions = {}) {
  const sb = new Sandbox(options);
  const { ec2, iam } = sandboxClients(sb, 'us-east-1');
  const profile = await iam.send(new CreateInstanceProfileCommand({ InstanceProfileName: 'alpha' }));
  sb.advance(sb.behavior.timings.iamPropagationMs);
  const launch = async (role: 'control-plane' | 'node', userData?: string) => {
    const res = await ec2.send(
      new RunInstancesCommand({
        ImageId: DEFAULT_IMAGES[0].ImageId,
        InstanceType: 't3.small',
        MinCount: 1,
        MaxCount: 1,
        UserData: userData,
        IamInstanceProfile: { Arn: profile.InstanceProfile?.Arn },
        TagSpecifications: [
          {
            ResourceType: 'instance',
            Tags: clusterTags('alpha', role, { group: role === 'node' ? 'workers' : 'cp' }),
          },
        ],
      }),
    );
    return res.Instances?.[0].InstanceId as string;
  };
  return { sb, ec2, launch, ctx: () => sb.context('us-east-1') };
}

describe('sandbox instance-side model', () => {
  it('makes a control plane Ready after boot + k3sServerReadyMs, and agents only once a server is Ready', async () => {
    const { sb, launch, ctx } = await cluster();
    const t = sb.behavior.timings;
    const cp = await launch('control-plane');
    const agent = await launch('node');
    expect(clusterNodes(ctx(), 'alpha')).toEqual([]);
    const cpInst = getInstance(ctx(), cp);
    const agentInst = getInstance(ctx(), agent);
    if (!cpInst || !agentInst) throw new Error('instances missing');
    expect(nodeReadyAt(ctx(), cpInst)).toBe(cpInst.runningAt + t.k3sServerReadyMs);
    // The agent's own readiness (boot + 25 s) comes before the server's (boot + 45 s): it waits for the server.
    expect(nodeReadyAt(ctx(), agentInst)).toBe(cpInst.runningAt + t.k3sServerReadyMs);
    sb.advance(cpInst.runningAt + t.k3sServerReadyMs - 1 - sb.now());
    expect(clusterNodes(ctx(), 'alpha')).toEqual([]);
    expect(kubeconfigFor(ctx(), getInstance(ctx(), cp)!)).toBeUndefined();
    sb.advance(1);
    const nodes = clusterNodes(ctx(), 'alpha');
    expect(nodes).toHaveLength(2);
    const cpNode = nodes.find((n) => n.spec.providerID.endsWith(`/${cp}`));
    expect(cpNode?.metadata.name).toBe(`ip-${cpInst.PrivateIpAddress.replace(/\./g, '-')}.ec2.internal`);
    expect(cpNode?.spec.providerID).toBe(`aws:///${cpInst.AvailabilityZone}/${cp}`);
    expect(cpNode?.metadata.labels).toMatchObject({
      'topology.kubernetes.io/zone': cpInst.AvailabilityZone,
      'node-role.kubernetes.io/control-plane': 'true',
    });
    const agentNode = nodes.find((n) => n.spec.providerID.endsWith(`/${agent}`));
    expect(agentNode?.metadata.labels['node-role.kubernetes.io/control-plane']).toBeUndefined();
    expect(agentNode?.status.conditions[0]).toMatchObject({ type: 'Ready', status: 'True' });
  });

  it('holds a realistic k3s kubeconfig on a ready control plane only', async () => {
    const { sb, launch, ctx } = await cluster();
    const cp = await launch('control-plane');
    const agent = await launch('node');
    sb.advance(sb.behavior.timings.instanceBootMs + sb.behavior.timings.k3sServerReadyMs);
    const kubeconfig = kubeconfigFor(ctx(), getInstance(ctx(), cp)!);
    expect(kubeconfig).toContain('server: https://127.0.0.1:6443');
    expect(kubeconfig).toContain('current-context: default');
    const ca = /certificate-authority-data: (\S+)/.exec(kubeconfig ?? '')?.[1] ?? '';
    expect(Buffer.from(ca, 'base64').toString()).toMatch(
      /^-----BEGIN CERTIFICATE-----\n[A-Za-z0-9+/=\n]+-----END CERTIFICATE-----\n$/,
    );
    const key = /client-key-data: (\S+)/.exec(kubeconfig ?? '')?.[1] ?? '';
    expect(Buffer.from(key, 'base64').toString()).toContain('-----BEGIN EC PRIVATE KEY-----');
    // Deterministic: the same cluster always yields the same file.
    expect(kubeconfigFor(ctx(), getInstance(ctx(), cp)!)).toBe(kubeconfig);
    expect(kubeconfigFor(ctx(), getInstance(ctx(), agent)!)).toBeUndefined();
  });

  it('never readies instances named in behavior.neverHealthy, and drops terminating instances from the node list', async () => {
    const { sb, launch, ctx } = await cluster();
    const cp = await launch('control-plane');
    const sick = await launch('node');
    sb.behavior.neverHealthy.push(sick);
    const healthy = await launch('node');
    sb.advance(sb.behavior.timings.instanceBootMs + sb.behavior.timings.k3sServerReadyMs + 5000);
    const providers = () => clusterNodes(ctx(), 'alpha').map((n) => n.spec.providerID.split('/').pop());
    expect(providers().sort()).toEqual([cp, healthy].sort());
    sb.context('us-east-1');
    const { terminateInstanceInternal } = await import('../../src/sandbox/services/ec2');
    terminateInstanceInternal(ctx(), healthy);
    expect(providers()).toEqual([cp]);
  });

  it('interprets the shell commands the kubeconfig fetch uses', async () => {
    const { sb, launch, ctx } = await cluster();
    const cp = await launch('control-plane');
    sb.advance(sb.behavior.timings.instanceBootMs);
    expect(runShellScript(ctx(), cp, ['sudo cat /etc/rancher/k3s/k3s.yaml'])).toMatchObject({
      exitCode: 1,
      stderr: expect.stringContaining('No such file'),
    });
    expect(runShellScript(ctx(), cp, ['k3s kubectl get nodes -o json'])).toMatchObject({
      exitCode: 1,
      stderr: expect.stringContaining('refused'),
    });
    sb.advance(sb.behavior.timings.k3sServerReadyMs);
    expect(
      runShellScript(ctx(), cp, ['test -f /etc/rancher/k3s/k3s.yaml && sudo cat /etc/rancher/k3s/k3s.yaml'])
        .stdout,
    ).toContain('client-certificate-data');
    const nodes = JSON.parse(runShellScript(ctx(), cp, ['kubectl get nodes -o json']).stdout);
    expect(nodes.kind).toBe('List');
    expect(nodes.items).toHaveLength(1);
    const kubeconfig = runShellScript(ctx(), cp, ['sudo cat /etc/rancher/k3s/k3s.yaml']).stdout;
    expect(
      Buffer.from(
        runShellScript(ctx(), cp, ['sudo base64 -w0 /etc/rancher/k3s/k3s.yaml']).stdout.trim(),
        'base64',
      ).toString(),
    ).toBe(kubeconfig);
    expect(
      runShellScript(ctx(), cp, ['sudo k3s kubectl --kubeconfig /etc/rancher/k3s/k3s.yaml get nodes']).stdout,
    ).toMatch(
      /^NAME\s+STATUS\s+ROLES\s+AGE\s+VERSION\nip-172-31-\d+-\d+\.ec2\.internal\s+Ready\s+control-plane,etcd,master\s+\d+m\s+v1\.31\.4\+k3s1\n$/,
    );
    expect(runShellScript(ctx(), cp, ['hostname']).stdout).toMatch(/^ip-172-31-\d+-\d+\.ec2\.internal\n$/);
    expect(
      runShellScript(ctx(), cp, ['test -f /nope || echo missing', 'systemctl status k3s']),
    ).toMatchObject({ exitCode: 0, stdout: '' });
  });

  it('reads the k3s version from (gzipped) user data', () => {
    const env = 'K3SCTL_K3S_VERSION="v1.30.8+k3s1"\nK3SCTL_ROLE=server\n';
    expect(k3sVersionOf({ UserData: gzipSync(Buffer.from(env)).toString('base64') })).toBe('v1.30.8+k3s1');
    expect(k3sVersionOf({ UserData: Buffer.from(env).toString('base64') })).toBe('v1.30.8+k3s1');
    expect(k3sVersionOf({})).toBe('v1.31.4+k3s1');
  });
});

describe('compact node readiness listing', () => {
  it('answers the readiness gates\' command for 40 nodes within SSM\'s 24,000-character output limit', async () => {
    const { NODE_READINESS_COMMAND, nodeReadinessRows } = await import('../../src/orchestration/steps/recycleNodeReadiness');
    const { sb, launch, ctx } = await cluster();
    const cp = await launch('control-plane');
    const nodes: string[] = [];
    for (let i = 0; i < 40; i++) nodes.push(await launch('node'));
    sb.advance(10 * 60_000);
    const res = runShellScript(ctx(), cp, [NODE_READINESS_COMMAND]);
    expect(res.exitCode).toBe(0);
    expect(res.stdout.length).toBeLessThan(24_000);
    const rows = nodeReadinessRows(res.stdout) ?? {};
    expect(Object.keys(rows).sort()).toEqual([cp, ...nodes].sort());
    expect(Object.values(rows).every((s) => s === 'Ready')).toBe(true);
    // The JSON listing of the same cluster would not fit: that is why the gates use the compact form.
    expect(runShellScript(ctx(), cp, ['k3s kubectl get nodes -o json']).stdout.length).toBeGreaterThan(24_000);
  });
});
