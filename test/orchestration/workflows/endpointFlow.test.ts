// The whole shared-ingress lifecycle in the sandbox: certificate -> ALB -> two clusters' automatic
// ingress -> an endpoint over both -> weights (immediate, and a gradual shift stopped by an unhealthy
// receiver) -> delete everything in reverse, leaving the account as it was.
import { DescribeRulesCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { ListResourceRecordSetsCommand } from '@aws-sdk/client-route-53';
import { buildEndpointSpec } from '../../../src/config/ingress';
import { names } from '../../../src/aws/names';
import { RunFailedError } from '../../../src/orchestration/deps';
import { Sandbox } from '../../../src/sandbox/sandbox';
import { DEFAULT_ZONE_ID } from '../../../src/sandbox/services/route53';
import { albDelete } from '../../../src/orchestration/workflows/albDelete';
import { albList } from '../../../src/orchestration/workflows/albList';
import { certificateDelete } from '../../../src/orchestration/workflows/certificateDelete';
import { certificateList } from '../../../src/orchestration/workflows/certificateList';
import { endpointCreate } from '../../../src/orchestration/workflows/endpointCreate';
import { endpointDelete } from '../../../src/orchestration/workflows/endpointDelete';
import { endpointDescribe } from '../../../src/orchestration/workflows/endpointDescribe';
import { endpointList } from '../../../src/orchestration/workflows/endpointList';
import { endpointWeight } from '../../../src/orchestration/workflows/endpointWeight';
import { findTargetGroupByName } from '../../../src/resources/targetGroup';
import { removeTestHomes } from '../../helpers/sandboxDeps';
import {
  createAlb,
  createCertificate,
  createClusterIngress,
  deleteClusterIngress,
  next,
  ZONE,
} from './endpointFixture';

afterAll(removeTestHomes);

async function ruleWeights(sb: Sandbox, ruleArn: string): Promise<Record<string, number>> {
  const deps = next(sb);
  let marker: string | undefined;
  const alpha = await findTargetGroupByName(deps.clients, names.ingressTargetGroup('alpha'));
  const bravo = await findTargetGroupByName(deps.clients, names.ingressTargetGroup('bravo'));
  const listenerArn = ruleArn.replace(':listener-rule/', ':listener/').split('/').slice(0, -1).join('/');
  for (;;) {
    const res = await deps.clients.elbv2.send(
      new DescribeRulesCommand({ ListenerArn: listenerArn, Marker: marker }),
    );
    const rule = res.Rules?.find((r) => r.RuleArn === ruleArn);
    if (rule) {
      const out: Record<string, number> = {};
      for (const t of rule.Actions?.[0]?.ForwardConfig?.TargetGroups ?? []) {
        out[
          t.TargetGroupArn === alpha?.arn
            ? 'alpha'
            : t.TargetGroupArn === bravo?.arn
              ? 'bravo'
              : (t.TargetGroupArn ?? '')
        ] = t.Weight ?? 1;
      }
      return out;
    }
    marker = res.NextMarker;
    if (!marker) throw new Error(`rule ${ruleArn} not found`);
  }
}

describe('shared ALB + endpoint lifecycle', () => {
  it('creates, re-weights and deletes everything, leaving the account as before', async () => {
    const sb = new Sandbox();
    const before = sb.inventory();

    const certArn = await createCertificate(sb);
    expect((await certificateList(next(sb))).certificates).toEqual([
      expect.objectContaining({ arn: certArn, status: 'ISSUED', managed: true }),
    ]);
    // example.com and *.example.com share one validation record: two records for three names.
    const records = await next(sb).clients.route53.send(
      new ListResourceRecordSetsCommand({ HostedZoneId: DEFAULT_ZONE_ID }),
    );
    expect((records.ResourceRecordSets ?? []).filter((r) => r.Type === 'CNAME')).toHaveLength(2);

    await createAlb(sb, certArn);
    await createClusterIngress(sb, 'alpha');
    await createClusterIngress(sb, 'bravo');

    const spec = buildEndpointSpec({
      service: 'blog',
      zone: ZONE,
      alb: 'shared',
      clusters: ['alpha', 'bravo'],
      weights: { alpha: 3 },
    });
    const created = await endpointCreate(next(sb), spec);
    expect(created.endpoint.priority).toBe(3);
    expect(await ruleWeights(sb, created.endpoint.ruleArn as string)).toEqual({ alpha: 3, bravo: 1 });
    const alias = (
      await next(sb).clients.route53.send(
        new ListResourceRecordSetsCommand({ HostedZoneId: DEFAULT_ZONE_ID }),
      )
    ).ResourceRecordSets?.find((r) => r.Name === 'blog.example.com.' && r.Type === 'A');
    expect(alias).toMatchObject({
      SetIdentifier: 'us-east-1',
      Region: 'us-east-1',
      AliasTarget: expect.objectContaining({ EvaluateTargetHealth: true }),
    });

    // Idempotent: the same input again makes no write call.
    const again = await endpointCreate(next(sb), spec);
    expect(again.apiCalls.write).toBe(0);
    expect(again.changes.every((c) => c.action === 'noop')).toBe(true);

    expect((await endpointList(next(sb))).endpoints).toEqual([
      expect.objectContaining({
        service: 'blog',
        host: 'blog.example.com',
        clusters: ['alpha', 'bravo'],
        weights: { alpha: 3, bravo: 1 },
      }),
    ]);
    expect((await albList(next(sb))).albs).toEqual([
      expect.objectContaining({ name: 'shared', clusters: ['alpha', 'bravo'], endpoints: ['blog'] }),
    ]);

    // Immediate re-weighting, recorded in the endpoint's configuration too.
    await endpointWeight(next(sb), { service: 'blog', weights: { alpha: 1, bravo: 2 } });
    expect(await ruleWeights(sb, created.endpoint.ruleArn as string)).toEqual({ alpha: 1, bravo: 2 });
    const described = await endpointDescribe(next(sb), 'blog');
    expect(described.endpoint.clusters.map((c) => [c.cluster, c.weight])).toEqual([
      ['alpha', 1],
      ['bravo', 2],
    ]);

    // A gradual shift towards a cluster with no healthy target stops and restores the weights.
    const shiftDeps = next(sb);
    const t0 = sb.now();
    await expect(
      endpointWeight(shiftDeps, {
        service: 'blog',
        weights: { alpha: 0, bravo: 5 },
        shiftOverMs: 10 * 60_000,
        steps: 5,
      }),
    ).rejects.toBeInstanceOf(RunFailedError);
    expect(sb.now()).toBeGreaterThanOrEqual(t0);
    expect(await ruleWeights(sb, created.endpoint.ruleArn as string)).toEqual({ alpha: 1, bravo: 2 });

    // The ALB refuses deletion while rules remain.
    await expect(albDelete(next(sb), 'shared')).rejects.toThrow(/still routes for/);

    await endpointDelete(next(sb), 'blog');
    await deleteClusterIngress(sb, 'alpha');
    await deleteClusterIngress(sb, 'bravo');
    // The certificate is in use by the 443 listener.
    await expect(certificateDelete(next(sb), certArn)).rejects.toThrow(/in use by/);
    await albDelete(next(sb), 'shared');
    await certificateDelete(next(sb), certArn);
    expect(sb.inventory()).toEqual(before);
  });
});
