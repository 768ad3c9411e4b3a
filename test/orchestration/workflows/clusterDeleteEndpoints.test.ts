// Sandbox integration: `cluster delete` while ingress endpoints still forward to the cluster's ingress
// target group is refused before any write (naming the endpoints and what to run); `--force` takes the
// cluster out of endpoints other clusters still serve, and is refused for one it serves alone.
import { buildClusterSpec } from '../../../src/config/cluster';
import { buildEndpointSpec } from '../../../src/config/ingress';
import { UserError } from '../../../src/core/errors';
import { clusterCreate } from '../../../src/orchestration/workflows/clusterCreate';
import { clusterDelete } from '../../../src/orchestration/workflows/clusterDelete';
import { endpointCreate } from '../../../src/orchestration/workflows/endpointCreate';
import { endpointDelete } from '../../../src/orchestration/workflows/endpointDelete';
import { getEndpointConfig } from '../../../src/resources/endpointConfig';
import { findListenerRuleByTags, ruleOwnerTags } from '../../../src/resources/listenerRule';
import { findTargetGroupByName } from '../../../src/resources/targetGroup';
import { endpointTags } from '../../../src/orchestration/steps/endpointTags';
import { Sandbox } from '../../../src/sandbox/sandbox';
import { removeTestHomes } from '../../helpers/sandboxDeps';
import { createAlb, createCertificate, next, ZONE } from './endpointFixture';

afterAll(() => removeTestHomes());

const ingress = { alb: 'shared', zone: ZONE };

describe('cluster delete and the endpoints that forward to it', () => {
  it('refuses before any write; --force takes it out of shared endpoints only', async () => {
    const sb = new Sandbox();
    await createAlb(sb, await createCertificate(sb));
    for (const name of ['alpha', 'bravo']) {
      await clusterCreate(next(sb), buildClusterSpec({ name, region: 'us-east-1', controlPlanes: 1, nodes: 0, ingress }), { wait: false });
    }
    await endpointCreate(next(sb), buildEndpointSpec({ service: 'web', zone: ZONE, alb: 'shared', clusters: ['alpha', 'bravo'], weights: { alpha: 3, bravo: 1 } }));
    await endpointCreate(next(sb), buildEndpointSpec({ service: 'solo', zone: ZONE, alb: 'shared', clusters: ['alpha'] }));

    const refused = next(sb);
    const error = await clusterDelete(refused, 'alpha').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).message).toMatch(/endpoint\(s\) solo \(solo\.example\.com\), web \(web\.example\.com\)/);
    expect(String((error as UserError).suggestion)).toMatch(/k3sctl endpoint delete solo/);
    expect(String((error as UserError).suggestion)).toMatch(/k3sctl endpoint create web \.\.\. without --cluster alpha/);
    expect(refused.clients.calls.write).toBe(0);

    // Forced, but alpha is all `solo` has: still refused, nothing written.
    const forcedSolo = next(sb);
    const soloError = await clusterDelete(forcedSolo, 'alpha', { force: true }).catch((e: unknown) => e);
    expect(soloError).toBeInstanceOf(UserError);
    expect((soloError as UserError).message).toMatch(/only cluster behind endpoint\(s\) solo/);
    expect(forcedSolo.clients.calls.write).toBe(0);

    await endpointDelete(next(sb), 'solo');
    const deleted = await clusterDelete(next(sb), 'alpha', { force: true });
    // The endpoint's rule and configuration, and the ingress target group detached from alpha's two groups.
    expect(deleted.changes.filter((c) => c.action === 'update').map((c) => c.type).sort()).toEqual([
      'AWS::AutoScaling::AutoScalingGroup::TargetGroupAttachment',
      'AWS::AutoScaling::AutoScalingGroup::TargetGroupAttachment',
      'AWS::ElasticLoadBalancingV2::ListenerRule',
      'AWS::SSM::Parameter',
    ]);
    const deps = next(sb);
    expect(await findTargetGroupByName(deps.clients, 'k3s-alpha-ing')).toBeUndefined();
    const bravoTg = (await findTargetGroupByName(deps.clients, 'k3s-bravo-ing'))!;
    const web = (await getEndpointConfig(deps.clients, 'web'))!;
    expect(web).toMatchObject({ clusters: ['bravo'], weights: { bravo: 1 } });
    const rule = (await findListenerRuleByTags(deps.clients, web.listenerArn, ruleOwnerTags(endpointTags('web'))))!;
    expect(rule.forward).toEqual([{ targetGroupArn: bravoTg.arn, weight: 1 }]);
  });
});
