// cluster create runs its lookups side by side (instance types, AMIs, key pair, ALBs and hosted zone do
// not wait for the VPC), yet reports like one after another: the VPC's error first, an ALB outside the
// cluster's VPC refused, and no write before every lookup succeeded.
import { CreateSubnetCommand, CreateVpcCommand } from '@aws-sdk/client-ec2';
import { Sandbox } from '../../../src/sandbox/sandbox';
import { buildClusterSpec, type ClusterFile } from '../../../src/config/cluster';
import { UserError } from '../../../src/core/errors';
import { clusterCreate } from '../../../src/orchestration/workflows/clusterCreate';
import { removeTestHomes, sandboxDeps } from '../../helpers/sandboxDeps';
import { createAlb, createCertificate } from './endpointFixture';

afterAll(() => removeTestHomes());

let sb: Sandbox;
beforeAll(async () => {
  sb = new Sandbox();
  const { deps } = sandboxDeps(sb);
  const other = await deps.clients.ec2.send(
    new CreateVpcCommand({
      CidrBlock: '10.3.0.0/16',
      TagSpecifications: [{ ResourceType: 'vpc', Tags: [{ Key: 'Name', Value: 'other' }] }],
    }),
  );
  await deps.clients.ec2.send(
    new CreateSubnetCommand({ VpcId: other.Vpc!.VpcId!, CidrBlock: '10.3.0.0/24' }),
  );
  await createAlb(sb, await createCertificate(sb));
}, 60_000);

async function refused(input: Partial<ClusterFile>): Promise<{ error: UserError; writes: number }> {
  const { deps } = sandboxDeps(sb);
  const spec = buildClusterSpec({ name: 'order', region: 'us-east-1', ...input } as ClusterFile & {
    name: string;
    region: string;
  });
  const error = await clusterCreate(deps, spec).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(UserError);
  return { error: error as UserError, writes: deps.clients.calls.write };
}

describe('cluster create lookups side by side', () => {
  it('reports a missing VPC first, whatever else is wrong, with no write', async () => {
    const { error, writes } = await refused({
      vpc: 'nope',
      ami: 'ami-0123456789abcdef0',
      keyName: 'nokey',
      ingress: { alb: 'no-such-alb', zone: 'example.com' },
    });
    expect(error.field).toBe('--vpc');
    expect(writes).toBe(0);
  });

  it('refuses an ALB outside the cluster VPC, found before the VPC was known, with no write', async () => {
    const { error, writes } = await refused({
      vpc: 'other',
      ingress: { alb: 'shared', zone: 'example.com' },
    });
    expect(error.field).toBe('--ingress-alb');
    expect(error.message).toMatch(/^ALB shared is in VPC vpc-\w+, the cluster in vpc-\w+/);
    expect(writes).toBe(0);
  });

  it('refuses a bad AMI found alongside good lookups, with no write', async () => {
    const { error, writes } = await refused({
      ami: 'ami-0123456789abcdef0',
      ingress: { alb: 'shared', zone: 'example.com' },
    });
    expect(error.field).toBe('--ami');
    expect(writes).toBe(0);
  });
});
