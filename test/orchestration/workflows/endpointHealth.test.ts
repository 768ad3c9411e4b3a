// Endpoints with real targets: nodeport mode (a service target group attached to the clusters'
// Auto Scaling groups) and gradual weight shifts gated on the receiving cluster's target health.
import { AttachLoadBalancerTargetGroupsCommand } from '@aws-sdk/client-auto-scaling';
import { buildEndpointSpec } from '../../../src/config/ingress';
import { names } from '../../../src/aws/names';
import { RunFailedError } from '../../../src/orchestration/deps';
import { Sandbox } from '../../../src/sandbox/sandbox';
import { endpointCreate } from '../../../src/orchestration/workflows/endpointCreate';
import { endpointDelete } from '../../../src/orchestration/workflows/endpointDelete';
import { endpointDescribe } from '../../../src/orchestration/workflows/endpointDescribe';
import { endpointWeight, intermediateWeights } from '../../../src/orchestration/workflows/endpointWeight';
import { endpointTargetGroupsForCluster, getEndpointConfig } from '../../../src/resources/endpointConfig';
import { findTargetGroupByName, targetGroupHealth } from '../../../src/resources/targetGroup';
import { createAsgFixture, describeAsg, waitSettled } from '../../helpers/asgFixture';
import { removeTestHomes } from '../../helpers/sandboxDeps';
import { createAlb, createCertificate, createClusterIngress, next, ZONE } from './endpointFixture';

afterAll(removeTestHomes);

async function waitHealthy(sb: Sandbox, arn: string): Promise<void> {
  const deps = next(sb);
  for (let i = 0; i < 200; i++) {
    if ((await targetGroupHealth(deps.clients, arn)).healthy > 0) return;
    await sb.clock.sleep(15_000);
  }
  throw new Error(`no healthy target in ${arn}`);
}

describe('nodeport endpoints', () => {
  it('attaches a service target group to the clusters groups, records it, and detaches it on delete', async () => {
    const sb = new Sandbox();
    await createAlb(sb, await createCertificate(sb));
    const deps = next(sb);
    const alpha = await createAsgFixture(deps.clients, { cluster: 'alpha', group: 'workers', size: 1 });
    const bravo = await createAsgFixture(deps.clients, { cluster: 'bravo', group: 'workers', size: 1 });
    await waitSettled(deps.clients, sb.clock, alpha.autoScalingGroupName);
    await waitSettled(deps.clients, sb.clock, bravo.autoScalingGroupName);
    const before = sb.inventory();

    const spec = buildEndpointSpec({
      service: 'api',
      zone: ZONE,
      alb: 'shared',
      clusters: ['alpha', 'bravo'],
      mode: 'nodeport',
      port: 30080,
      healthPath: '/ping',
    });
    const created = await endpointCreate(next(sb), spec);
    const tg = await findTargetGroupByName(next(sb).clients, 'k3s-svc-api');
    expect(tg).toMatchObject({
      port: 30080,
      healthCheckPath: '/ping',
      tags: expect.objectContaining({ 'k3sctl.io/service': 'api' }),
    });
    expect(created.endpoint.targetGroupArn).toBe(tg?.arn);
    for (const f of [alpha, bravo])
      expect((await describeAsg(next(sb).clients, f.autoScalingGroupName)).TargetGroupARNs).toEqual([
        tg?.arn,
      ]);
    // Future groups of these clusters find the target group through the endpoint's configuration.
    expect(await endpointTargetGroupsForCluster(next(sb).clients, 'alpha')).toEqual([
      { service: 'api', targetGroupArn: tg?.arn },
    ]);
    expect((await getEndpointConfig(next(sb).clients, 'api'))?.mode).toBe('nodeport');

    const again = await endpointCreate(next(sb), spec);
    expect(again.apiCalls.write).toBe(0);

    await waitHealthy(sb, tg?.arn as string);
    const described = (await endpointDescribe(next(sb), 'api')).endpoint;
    expect(described.targetGroup?.health.healthy).toBe(2);
    expect(described.clusters.map((c) => c.groups)).toEqual([
      [alpha.autoScalingGroupName],
      [bravo.autoScalingGroupName],
    ]);
    expect(described.problems).toEqual([]);

    // Weights do not apply to nodeport endpoints.
    await expect(endpointWeight(next(sb), { service: 'api', weights: { alpha: 2 } })).rejects.toThrow(
      /nodeport mode/,
    );

    // Dropping bravo from the endpoint detaches its groups.
    await endpointCreate(
      next(sb),
      buildEndpointSpec({
        service: 'api',
        zone: ZONE,
        alb: 'shared',
        clusters: ['alpha'],
        mode: 'nodeport',
        port: 30080,
        healthPath: '/ping',
      }),
    );
    expect((await describeAsg(next(sb).clients, bravo.autoScalingGroupName)).TargetGroupARNs ?? []).toEqual(
      [],
    );
    expect((await describeAsg(next(sb).clients, alpha.autoScalingGroupName)).TargetGroupARNs).toEqual([
      tg?.arn,
    ]);
    expect(await endpointTargetGroupsForCluster(next(sb).clients, 'bravo')).toEqual([]);

    await endpointDelete(next(sb), 'api');
    for (const f of [alpha, bravo])
      expect((await describeAsg(next(sb).clients, f.autoScalingGroupName)).TargetGroupARNs ?? []).toEqual([]);
    expect(sb.inventory()).toEqual(before);
  });
});

describe('gradual weight shifts', () => {
  it('computes evenly spaced intermediate weights ending exactly at the target', () => {
    const from = { alpha: 10, bravo: 0 };
    const to = { alpha: 0, bravo: 10 };
    expect([1, 2, 5].map((i) => intermediateWeights(from, to, i, 5))).toEqual([
      { alpha: 8, bravo: 2 },
      { alpha: 6, bravo: 4 },
      { alpha: 0, bravo: 10 },
    ]);
  });

  it('moves traffic step by step to a healthy cluster, and stops and restores when the receiver turns unhealthy', async () => {
    const sb = new Sandbox();
    await createAlb(sb, await createCertificate(sb));
    await createClusterIngress(sb, 'alpha');
    await createClusterIngress(sb, 'bravo');
    const deps = next(sb);
    // bravo's instances behind its ingress target group, as cluster create --ingress-alb attaches them.
    const bravo = await createAsgFixture(deps.clients, { cluster: 'bravo', group: 'workers', size: 1 });
    const bravoTg = await findTargetGroupByName(deps.clients, names.ingressTargetGroup('bravo'));
    await deps.clients.autoscaling.send(
      new AttachLoadBalancerTargetGroupsCommand({
        AutoScalingGroupName: bravo.autoScalingGroupName,
        TargetGroupARNs: [bravoTg?.arn as string],
      }),
    );
    await waitSettled(deps.clients, sb.clock, bravo.autoScalingGroupName);
    await waitHealthy(sb, bravoTg?.arn as string);

    await endpointCreate(
      next(sb),
      buildEndpointSpec({
        service: 'blog',
        zone: ZONE,
        alb: 'shared',
        clusters: ['alpha', 'bravo'],
        weights: { alpha: 10, bravo: 0 },
      }),
    );
    const shifted = await endpointWeight(next(sb), {
      service: 'blog',
      weights: { alpha: 0, bravo: 10 },
      shiftOverMs: 10 * 60_000,
      steps: 5,
    });
    expect(shifted.steps).toEqual([
      { alpha: 8, bravo: 2 },
      { alpha: 6, bravo: 4 },
      { alpha: 4, bravo: 6 },
      { alpha: 2, bravo: 8 },
      { alpha: 0, bravo: 10 },
    ]);
    const weights = async () =>
      (await endpointDescribe(next(sb), 'blog')).endpoint.clusters.map((c) => [c.cluster, c.weight]);
    expect(await weights()).toEqual([
      ['alpha', 0],
      ['bravo', 10],
    ]);
    expect((await getEndpointConfig(next(sb).clients, 'blog'))?.weights).toEqual({ alpha: 0, bravo: 10 });

    // Back to alpha... which has no healthy target: the first step is refused, nothing changes.
    await expect(
      endpointWeight(next(sb), {
        service: 'blog',
        weights: { alpha: 10, bravo: 0 },
        shiftOverMs: 60_000,
        steps: 2,
      }),
    ).rejects.toThrow(
      /cluster alpha receives traffic but its target group k3s-alpha-ing has no healthy target/,
    );
    expect(await weights()).toEqual([
      ['alpha', 0],
      ['bravo', 10],
    ]);

    // A shift towards bravo from 5/5 where bravo turns unhealthy during the shift: stopped, restored.
    await endpointWeight(next(sb), { service: 'blog', weights: { alpha: 5, bravo: 5 } });
    const shiftDeps = next(sb);
    const turnsUnhealthy = sb.clock.sleep(5 * 60_000 + 1).then(() => {
      sb.behavior.neverHealthy.push(bravo.autoScalingGroupName);
    });
    const error = await endpointWeight(shiftDeps, {
      service: 'blog',
      weights: { alpha: 0, bravo: 10 },
      shiftOverMs: 10 * 60_000,
      steps: 5,
    }).catch((e: unknown) => e);
    await turnsUnhealthy;
    expect(error).toBeInstanceOf(RunFailedError);
    expect((error as Error).message).toMatch(/shift stopped at step 4\/5: cluster bravo/);
    expect((error as RunFailedError).leftovers).toEqual([]);
    expect(await weights()).toEqual([
      ['alpha', 5],
      ['bravo', 5],
    ]);
    expect((await getEndpointConfig(next(sb).clients, 'blog'))?.weights).toEqual({ alpha: 5, bravo: 5 });
  });
});
