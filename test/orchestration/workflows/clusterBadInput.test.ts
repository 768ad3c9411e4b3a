// Bad input: each case is a UserError naming the field, and no write call is made (every check and
// lookup happens before the first write).
import { CreateSubnetCommand, CreateVpcCommand } from '@aws-sdk/client-ec2';
import { Sandbox } from '../../../src/sandbox/sandbox';
import { buildClusterSpec, buildGroupSpec, ClusterFileSchema, parseFile, type ClusterFile } from '../../../src/config/cluster';
import { UserError } from '../../../src/core/errors';
import { clusterCreate } from '../../../src/orchestration/workflows/clusterCreate';
import { groupAdd } from '../../../src/orchestration/workflows/groupAdd';
import { removeTestHomes, sandboxDeps } from '../../helpers/sandboxDeps';
import { createAlb, createCertificate } from './endpointFixture';
import { userError } from '../../helpers/userError';

afterAll(() => removeTestHomes());


const base = { name: 'demo', region: 'us-east-1' };

describe('cluster input validation (no AWS calls)', () => {
  const cases: [string, Partial<ClusterFile> & { name?: string }, string][] = [
    ['upper-case name', { name: 'Demo' }, 'NAME'],
    ['too long name', { name: 'a'.repeat(21) }, 'NAME'],
    ['name with --', { name: 'a--b' }, 'NAME'],
    ['even control-plane count', { controlPlanes: 2 }, '--control-planes'],
    ['zero control planes', { controlPlanes: 0 }, '--control-planes'],
    ['negative nodes', { nodes: -1 }, '--nodes'],
    ['bad ssh CIDR', { sshCidrs: ['10.0.0.0/33'] }, '--ssh-cidr'],
    ['ssh CIDR with host bits set', { sshCidrs: ['10.0.0.5/16'] }, '--ssh-cidr'],
    ['node type that is not FAMILY.SIZE', { nodeType: 't3' }, '--node-type'],
    ['bad region', { region: 'us-east' }, '--region'],
    ['target group ARN as the ingress ALB', { ingress: { alb: 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/x/0123456789abcdef', zone: 'example.com' } }, '--ingress-alb'],
    ['k3s argument k3sctl manages', { k3sArgs: ['--token=x'] }, '--k3s-arg'],
    ['bad api CIDR', { apiCidrs: ['everywhere'] }, '--api-cidr'],
    ['not a k3s version', { k3sVersion: '1.31' }, '--k3s-version'],
    ['bad taint', { taints: ['oops'] }, '--taint'],
    ['ami and os together', { ami: 'ami-0123456789abcdef0', os: 'al2023' }, '--os'],
    ['ingress without zone', { ingress: { alb: 'shared', zone: '' } }, '--ingress-zone'],
    ['root volume too small', { rootVolumeSize: 4 }, '--root-volume-size'],
  ];
  it.each(cases)('%s', (_title, input, field) => {
    const e = userError(() => buildClusterSpec({ ...base, ...input } as ClusterFile & { name: string; region: string }));
    expect(e.field).toBe(field);
    expect(e.message).toContain(field);
  });

  it('rejects unknown fields and wrong types in the file', () => {
    expect(userError(() => parseFile(ClusterFileSchema, 'name: demo\nnodez: 3\n', 'cluster.yaml')).message).toMatch(/nodez/);
    const wrongType = userError(() => parseFile(ClusterFileSchema, 'name: demo\nnodes: three\n', 'cluster.yaml'));
    expect(wrongType.field).toBe('cluster.yaml:2 nodes');
    expect(wrongType.message).toMatch(/^cluster\.yaml:2 nodes: /);
    expect(parseFile(ClusterFileSchema, 'name: demo\nnodes: 3\nsubnetFilters:\n  availability-zone: us-east-1a\n', 'c.yaml')).toEqual({
      name: 'demo',
      nodes: 3,
      subnetFilters: { 'availability-zone': 'us-east-1a' },
    });
  });

  it('validates group specs', () => {
    expect(userError(() => buildGroupSpec({ name: 'cp', role: 'control-plane', count: 2 })).field).toBe('--control-planes');
    expect(userError(() => buildGroupSpec({ name: 'x--y', role: 'node' })).field).toBe('GROUP');
    expect(userError(() => buildGroupSpec({ name: 'ng', role: 'node', rootVolumeSize: 4 })).field).toBe('--root-volume-size');
    expect(userError(() => buildGroupSpec({ name: 'cp', role: 'control-plane', spot: true })).field).toBe('spot');
  });
});

describe('cluster lookups before any write', () => {
  let sb: Sandbox;
  let otherSubnet: string;
  beforeAll(async () => {
    sb = new Sandbox();
    const { deps } = sandboxDeps(sb);
    for (const cidr of ['10.1.0.0/16', '10.2.0.0/16']) {
      const vpc = await deps.clients.ec2.send(
        new CreateVpcCommand({ CidrBlock: cidr, TagSpecifications: [{ ResourceType: 'vpc', Tags: [{ Key: 'Name', Value: 'twin' }] }] }),
      );
      const subnet = await deps.clients.ec2.send(new CreateSubnetCommand({ VpcId: vpc.Vpc!.VpcId!, CidrBlock: cidr.replace('/16', '/24') }));
      otherSubnet = subnet.Subnet!.SubnetId!;
    }
    // A second VPC of its own name, a cluster `taken` in the default VPC, and a shared ALB with its zone.
    const other = await deps.clients.ec2.send(
      new CreateVpcCommand({ CidrBlock: '10.3.0.0/16', TagSpecifications: [{ ResourceType: 'vpc', Tags: [{ Key: 'Name', Value: 'other' }] }] }),
    );
    await deps.clients.ec2.send(new CreateSubnetCommand({ VpcId: other.Vpc!.VpcId!, CidrBlock: '10.3.0.0/24' }));
    await clusterCreate(sandboxDeps(sb).deps, buildClusterSpec({ name: 'taken', region: 'us-east-1', controlPlanes: 1, nodes: 0 }), { wait: false });
    await createAlb(sb, await createCertificate(sb));
  });

  const cases: [string, () => Partial<ClusterFile>, string, RegExp][] = [
    ['unknown node type', () => ({ nodeType: 't3.48xlarge' }), '--node-type', /^--node-type 't3\.48xlarge': instance type not offered/],
    ['unknown control-plane type', () => ({ controlPlaneType: 'zz9.large' }), '--control-plane-type', /zz9/],
    ['missing VPC id', () => ({ vpcId: 'vpc-0123456789abcdef0' }), '--vpc-id', /vpc-0123456789abcdef0/],
    ['missing VPC name', () => ({ vpc: 'nope' }), '--vpc', /nope/],
    ['ambiguous VPC name', () => ({ vpc: 'twin' }), '--vpc', /ambiguous.*vpc-.*vpc-/],
    ['missing subnet', () => ({ subnetIds: ['subnet-0123456789abcdef0'] }), '--subnet-id', /subnet-0123456789abcdef0/],
    ['subnet outside the VPC', () => ({ subnetIds: [otherSubnet] }), '--subnet-id', /not in VPC/],
    ['subnet filter matching nothing', () => ({ subnetFilters: { 'availability-zone': 'us-east-1z' } }), '--subnet-filter', /us-east-1z/],
    ['missing AMI', () => ({ ami: 'ami-0123456789abcdef0' }), '--ami', /ami-0123456789abcdef0/],
    ['AMI name matching nothing', () => ({ amiName: '^nothing-like-this' }), '--ami-name', /nothing-like-this/],
    ['missing key pair', () => ({ keyName: 'nokey' }), '--key-name', /nokey/],
    ['missing ALB', () => ({ ingress: { alb: 'no-such-alb', zone: 'example.com' } }), '--ingress-alb', /no-such-alb/],
    ['missing ingress hosted zone', () => ({ ingress: { alb: 'shared', zone: 'no-such-zone.example' } }), '--ingress-zone', /no-such-zone\.example/],
    ['cluster name taken in another VPC', () => ({ name: 'taken', vpc: 'other' }), 'name', /taken already exists in us-east-1 in VPC vpc-\w+, not vpc-\w+/],
  ];
  it.each(cases)('%s', async (_title, input, field, message) => {
    const { deps } = sandboxDeps(sb);
    const spec = buildClusterSpec({ ...base, ...input() } as ClusterFile & { name: string; region: string });
    const error = await clusterCreate(deps, spec).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).field).toBe(field);
    expect((error as UserError).message).toMatch(message);
    expect(deps.clients.calls.write).toBe(0);
  });

  it('refuses a group declaration larger than its SSM parameter holds, before any write', async () => {
    const { deps } = sandboxDeps(sb);
    const base = buildClusterSpec({ name: 'wide', region: 'us-east-1', controlPlanes: 1, nodes: 1 });
    const labels = Object.fromEntries(Array.from({ length: 80 }, (_, i) => [`example.com/label-${i}`, `value-${'x'.repeat(40)}`]));
    const big = buildGroupSpec({ name: 'labelled', role: 'node', count: 1, labels }, { k3sVersion: base.k3sVersion });
    const error = await clusterCreate(deps, { ...base, groups: [...base.groups, big] }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).message).toMatch(/group labelled is \d+ characters; \/k3sctl\/clusters\/wide\/groups\/labelled holds at most 4096/);
    expect(deps.clients.calls.write).toBe(0);
  });

  it('refuses a group for a cluster that does not exist', async () => {
    const { deps } = sandboxDeps(sb);
    await expect(groupAdd(deps, 'ghost', buildGroupSpec({ name: 'extra', role: 'node' }))).rejects.toBeInstanceOf(UserError);
    expect(deps.clients.calls.write).toBe(0);
  });
});
