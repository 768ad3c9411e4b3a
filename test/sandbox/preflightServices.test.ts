// The parts of the simulated account that `doctor` and the preflight of `cluster create` read: STS's
// caller, Service Quotas' On-Demand vCPU quota, IAM's policy simulator (with the deniedActions knob)
// and EC2's route tables (the default VPC routes to an internet gateway, a new VPC only `local`).
import { CreateSubnetCommand, CreateVpcCommand, DescribeRouteTablesCommand, DescribeVpcsCommand } from '@aws-sdk/client-ec2';
import { SimulatePrincipalPolicyCommand } from '@aws-sdk/client-iam';
import { GetAWSDefaultServiceQuotaCommand, GetServiceQuotaCommand } from '@aws-sdk/client-service-quotas';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { sandboxClients } from '../../src/sandbox/clients';
import { Sandbox } from '../../src/sandbox/sandbox';

const clients = (sb: Sandbox) => sandboxClients(sb, 'us-east-1');

describe('sandbox: STS and Service Quotas', () => {
  it('answers the fixed caller, and the vCPU quota (applied value from the knob, AWS default 5); another quota is NoSuchResource', async () => {
    const sb = new Sandbox();
    const c = clients(sb);
    expect(await c.sts.send(new GetCallerIdentityCommand({}))).toMatchObject({
      Account: '123456789012',
      Arn: 'arn:aws:iam::123456789012:user/sandbox',
      UserId: 'AIDASANDBOXUSER000001',
    });
    const applied = await c.serviceQuotas.send(new GetServiceQuotaCommand({ ServiceCode: 'ec2', QuotaCode: 'L-1216C47A' }));
    expect(applied.Quota).toMatchObject({ QuotaCode: 'L-1216C47A', Value: 1152, QuotaName: 'Running On-Demand Standard (A, C, D, H, I, M, R, T, Z) instances' });
    const aws = await c.serviceQuotas.send(new GetAWSDefaultServiceQuotaCommand({ ServiceCode: 'ec2', QuotaCode: 'L-1216C47A' }));
    expect(aws.Quota?.Value).toBe(5);
    await expect(c.serviceQuotas.send(new GetServiceQuotaCommand({ ServiceCode: 'ec2', QuotaCode: 'L-34B43A08' }))).rejects.toMatchObject({ name: 'NoSuchResourceException' });
    sb.behavior.onDemandVcpuQuota = 32;
    expect((await c.serviceQuotas.send(new GetServiceQuotaCommand({ ServiceCode: 'ec2', QuotaCode: 'L-1216C47A' }))).Quota?.Value).toBe(32);
  });
});

describe('sandbox: SimulatePrincipalPolicy', () => {
  const caller = 'arn:aws:iam::123456789012:user/sandbox';

  it('allows every action but the denied ones (exact, service:* or *), one result per action and resource, in pages', async () => {
    const sb = new Sandbox({ behavior: { deniedActions: ['iam:CreateRole', 'elasticloadbalancing:*'] } });
    const c = clients(sb);
    const actions = Array.from({ length: 25 }, (_, i) => `ec2:Describe${String.fromCharCode(65 + i)}`).concat(['iam:createrole', 'elasticloadbalancing:CreateRule']);
    const results = [];
    let Marker: string | undefined;
    let pages = 0;
    do {
      const page = await c.iam.send(new SimulatePrincipalPolicyCommand({ PolicySourceArn: caller, ActionNames: actions, ResourceArns: ['arn:aws:iam::123456789012:role/x'], Marker }));
      results.push(...page.EvaluationResults!);
      Marker = page.IsTruncated ? page.Marker : undefined;
      pages++;
    } while (Marker);
    expect(pages).toBe(2);
    expect(results).toHaveLength(27);
    expect(results.filter((r) => r.EvalDecision !== 'allowed').map((r) => [r.EvalActionName, r.EvalDecision, r.EvalResourceName])).toEqual([
      ['iam:createrole', 'implicitDeny', 'arn:aws:iam::123456789012:role/x'],
      ['elasticloadbalancing:CreateRule', 'implicitDeny', 'arn:aws:iam::123456789012:role/x'],
    ]);
  });

  it('knows only the caller and the account\'s roles as principals', async () => {
    const c = clients(new Sandbox());
    await expect(
      c.iam.send(new SimulatePrincipalPolicyCommand({ PolicySourceArn: 'arn:aws:iam::123456789012:user/someone', ActionNames: ['ec2:RunInstances'] })),
    ).rejects.toMatchObject({ name: expect.stringMatching(/^NoSuchEntity(Exception)?$/) });
    await expect(c.iam.send(new SimulatePrincipalPolicyCommand({ PolicySourceArn: caller, ActionNames: ['not an action'] }))).rejects.toMatchObject({
      name: expect.stringMatching(/^InvalidInput(Exception)?$/),
    });
  });
});

describe('sandbox: route tables', () => {
  it('derives each VPC\'s main table: the default VPC routes 0.0.0.0/0 to its internet gateway, a new VPC has only local', async () => {
    const sb = new Sandbox();
    const c = clients(sb);
    await c.ec2.send(new DescribeVpcsCommand({})); // the region's default resources take their ids first
    const seq = sb.state.seq;
    const all = (await c.ec2.send(new DescribeRouteTablesCommand({}))).RouteTables!;
    expect(all).toHaveLength(1);
    expect(all[0].Associations).toEqual([expect.objectContaining({ Main: true })]);
    expect(all[0].Routes).toEqual([
      expect.objectContaining({ DestinationCidrBlock: '172.31.0.0/16', GatewayId: 'local', State: 'active' }),
      expect.objectContaining({ DestinationCidrBlock: '0.0.0.0/0', GatewayId: expect.stringMatching(/^igw-[0-9a-f]{17}$/), State: 'active' }),
    ]);
    // Reading route tables takes no id from the account's allocator (the ids of later resources do not move).
    expect(sb.state.seq).toBe(seq);

    const vpc = (await c.ec2.send(new CreateVpcCommand({ CidrBlock: '10.9.0.0/16' }))).Vpc!.VpcId!;
    await c.ec2.send(new CreateSubnetCommand({ VpcId: vpc, CidrBlock: '10.9.0.0/24' }));
    const mine = (await c.ec2.send(new DescribeRouteTablesCommand({ Filters: [{ Name: 'vpc-id', Values: [vpc] }] }))).RouteTables!;
    expect(mine.map((t) => [t.VpcId, t.Associations?.map((a) => a.Main), t.Routes?.map((r) => `${r.DestinationCidrBlock}>${r.GatewayId}`)])).toEqual([
      [vpc, [true], ['10.9.0.0/16>local']],
    ]);
    expect((await c.ec2.send(new DescribeRouteTablesCommand({ Filters: [{ Name: 'association.main', Values: ['true'] }] }))).RouteTables).toHaveLength(2);
    await expect(c.ec2.send(new DescribeRouteTablesCommand({ Filters: [{ Name: 'no-such-filter', Values: ['x'] }] }))).rejects.toMatchObject({ name: 'InvalidParameterValue' });
    await expect(c.ec2.send(new DescribeRouteTablesCommand({ RouteTableIds: ['rtb-00000000000000000'] }))).rejects.toMatchObject({ name: 'InvalidRouteTableID.NotFound' });
  });
});
