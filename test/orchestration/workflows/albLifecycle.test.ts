// alb create / delete in the sandbox: the security groups' rules, idempotency, subnet selection,
// dry runs, and delete refused while rules remain unless forced.
import { DescribeSecurityGroupsCommand } from '@aws-sdk/client-ec2';
import { buildAlbSpec, buildEndpointSpec } from '../../../src/config/ingress';
import { UserError } from '../../../src/core/errors';
import { Sandbox } from '../../../src/sandbox/sandbox';
import { albCreate } from '../../../src/orchestration/workflows/albCreate';
import { albDelete } from '../../../src/orchestration/workflows/albDelete';
import { albList } from '../../../src/orchestration/workflows/albList';
import { endpointCreate } from '../../../src/orchestration/workflows/endpointCreate';
import { findAlbSecurityGroups } from '../../../src/resources/securityGroupRule';
import { removeTestHomes } from '../../helpers/sandboxDeps';
import { createCertificate, createClusterIngress, next, ZONE } from './endpointFixture';

afterAll(removeTestHomes);

describe('alb create / delete', () => {
  it('creates the ALB with its security groups once, and deletes it (forced) with the rules still on it', async () => {
    const sb = new Sandbox();
    const certArn = await createCertificate(sb);
    const before = sb.inventory();

    const dry = await albCreate(next(sb), buildAlbSpec({ name: 'shared', certificate: certArn }), {
      dryRun: true,
    });
    expect(dry.planned?.map((c) => c.action)).toEqual(['create', 'create', 'create', 'create', 'create']);
    expect(dry.apiCalls.write).toBe(0);
    expect(sb.inventory()).toEqual(before);

    const created = await albCreate(
      next(sb),
      buildAlbSpec({ name: 'shared', certificate: certArn, ingressCidrs: ['203.0.113.0/24'] }),
    );
    expect(created.alb).toMatchObject({
      state: 'active',
      scheme: 'internet-facing',
      subnetIds: expect.any(Array),
    });
    expect(created.alb.subnetIds).toHaveLength(3);
    const again = await albCreate(
      next(sb),
      buildAlbSpec({ name: 'shared', certificate: certArn, ingressCidrs: ['203.0.113.0/24'] }),
    );
    expect(again.apiCalls.write).toBe(0);

    const deps = next(sb);
    const { upstream, downstream } = await findAlbSecurityGroups(deps.clients, 'shared');
    const groups =
      (
        await deps.clients.ec2.send(
          new DescribeSecurityGroupsCommand({ GroupIds: [upstream!.groupId, downstream!.groupId] }),
        )
      ).SecurityGroups ?? [];
    const up = groups.find((g) => g.GroupId === upstream!.groupId)!;
    const down = groups.find((g) => g.GroupId === downstream!.groupId)!;
    expect(up.IpPermissions?.map((p) => [p.FromPort, p.IpRanges?.map((r) => r.CidrIp)]).sort()).toEqual([
      [443, ['203.0.113.0/24']],
      [80, ['203.0.113.0/24']],
    ]);
    expect(
      down.IpPermissions?.map((p) => [
        p.FromPort,
        p.ToPort,
        p.UserIdGroupPairs?.map((g) => g.GroupId),
        p.IpRanges ?? [],
      ]).sort(),
    ).toEqual([
      [30000, 32767, [upstream!.groupId], []],
      [80, 80, [upstream!.groupId], []],
    ]);

    await createClusterIngress(sb, 'alpha');
    await endpointCreate(
      next(sb),
      buildEndpointSpec({ service: 'blog', zone: ZONE, alb: 'shared', clusters: ['alpha'] }),
    );
    const refused = await albDelete(next(sb), 'shared').catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(UserError);
    expect((refused as Error).message).toMatch(
      /still routes for cluster alpha, endpoint blog|still routes for endpoint blog, cluster alpha/,
    );

    const dryDelete = await albDelete(next(sb), 'shared', { force: true, dryRun: true });
    expect(dryDelete.planned.map((c) => c.type)).toEqual([
      'AWS::ElasticLoadBalancingV2::ListenerRule',
      'AWS::ElasticLoadBalancingV2::ListenerRule',
      'AWS::ElasticLoadBalancingV2::Listener',
      'AWS::ElasticLoadBalancingV2::Listener',
      'AWS::ElasticLoadBalancingV2::LoadBalancer',
      'AWS::EC2::SecurityGroup',
      'AWS::EC2::SecurityGroup',
    ]);
    await albDelete(next(sb), 'shared', { force: true });
    expect((await albList(next(sb))).albs).toEqual([]);
    expect(await findAlbSecurityGroups(next(sb).clients, 'shared')).toEqual({
      upstream: undefined,
      downstream: undefined,
    });
  });

  it('selects subnets by filter and refuses a single zone', async () => {
    const sb = new Sandbox();
    const error = await albCreate(
      next(sb),
      buildAlbSpec({ name: 'one', subnetFilters: { 'availability-zone': ['us-east-1a'] } }),
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).message).toMatch(/at least two Availability Zones/);
    expect(sb.state.calls.write).toBe(0);
    const two = await albCreate(
      next(sb),
      buildAlbSpec({ name: 'two', subnetFilters: { 'availability-zone': ['us-east-1a', 'us-east-1b'] } }),
    );
    expect(two.alb.subnetIds).toHaveLength(2);
    expect(two.alb.listeners).toEqual([expect.objectContaining({ port: 80 })]);
  });
});
