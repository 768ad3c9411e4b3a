// The shared-ingress acceptance scenario through the CLI's commands (one K3SCTL_HOME, each step a
// separate `k3sctl ... --sandbox --json --yes` run in process through oclif, test/helpers/inProcessCli.ts,
// CI=true, no TTY; test/cli/scenario.test.ts is the spawned session): a wildcard certificate, a shared ALB
// using it, two clusters with the automatic ingress, an endpoint weighted across them, then
// everything deleted in reverse order until the account holds nothing.
import { Scenario, type Json } from '../helpers/scenario';

const STEP_TIMEOUT = 180_000;
const DOMAIN = '*.us-east-1.example.com';

const sc = new Scenario({ inProcess: true });
afterAll(() => {
  console.log(sc.report('scenario (ingress)'));
  sc.dispose();
});

describe('acceptance scenario: shared ingress across two clusters (CLI, sandbox)', () => {
  let albArn: string;

  it('certificate request validates through Route 53 and is ISSUED', async () => {
    expect((await sc.status()).resources).toEqual({});
    const { json } = await sc.run(['certificate', 'request', DOMAIN, '--zone', 'example.com']);
    expect(json.certificate).toMatchObject({ domain: DOMAIN, status: 'ISSUED' });
    expect(json.certificate.validationRecords).toEqual([expect.objectContaining({ type: 'CNAME', zone: 'example.com' })]);
    expect(json.changes).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ action: 'create', type: 'AWS::CertificateManager::Certificate' }),
        expect.objectContaining({ action: 'create', type: 'AWS::Route53::RecordSet' }),
      ]),
    );
  }, STEP_TIMEOUT);

  it('alb create finds the certificate by its domain', async () => {
    const { json } = await sc.run(['alb', 'create', 'shared', '--certificate-domain', DOMAIN]);
    expect(json.alb).toMatchObject({ name: 'shared', state: 'active', scheme: 'internet-facing' });
    expect(json.alb.listeners.map((l: Json) => l.port).sort()).toEqual([443, 80]);
    albArn = json.alb.arn;
    const { json: list } = await sc.run(['alb', 'list']);
    expect(list.albs).toEqual([expect.objectContaining({ name: 'shared', arn: albArn })]);
  }, STEP_TIMEOUT);

  it.each(['alpha', 'bravo'])('cluster create %s with the automatic ingress', async (name) => {
    const { json } = await sc.run(['cluster', 'create', name, '--ingress-alb', 'shared', '--ingress-zone', 'example.com', '--control-planes', '1', '--nodes', '1']);
    expect(json.ingressHost).toBe(`*--${name}.us-east-1.example.com`);
    expect(json.changes).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ action: 'create', type: 'AWS::ElasticLoadBalancingV2::TargetGroup' }),
        expect.objectContaining({ action: 'create', type: 'AWS::ElasticLoadBalancingV2::ListenerRule' }),
      ]),
    );
    const { json: d } = await sc.run(['cluster', 'describe', name]);
    expect(d.ingress).toMatchObject({ host: `*--${name}.us-east-1.example.com`, alb: 'shared' });
    for (const g of d.groups) for (const i of g.instances) expect(i).toMatchObject({ lifecycleState: 'InService', upToDate: true });
  }, STEP_TIMEOUT);

  it('endpoint create blog across alpha and bravo, weight 3:1, describe shows the weights', async () => {
    const { json: created } = await sc.run(['endpoint', 'create', 'blog', '--zone', 'example.com', '--alb', 'shared', '--cluster', 'alpha', '--cluster', 'bravo']);
    expect(created.endpoint).toMatchObject({ service: 'blog', host: 'blog.example.com', mode: 'ingress', alb: 'shared' });
    expect(created.endpoint.clusters.map((c: Json) => [c.cluster, c.weight])).toEqual([
      ['alpha', 1],
      ['bravo', 1],
    ]);
    const { json: weighted } = await sc.run(['endpoint', 'weight', 'blog', 'alpha=3', 'bravo=1']);
    expect(weighted.to).toEqual({ alpha: 3, bravo: 1 });
    const { json: d } = await sc.run(['endpoint', 'describe', 'blog']);
    expect(d.endpoint.clusters.map((c: Json) => [c.cluster, c.weight])).toEqual([
      ['alpha', 3],
      ['bravo', 1],
    ]);
    for (const c of d.endpoint.clusters) expect(c.health.healthy).toBe(c.health.total);
    const { json: list } = await sc.run(['endpoint', 'list']);
    expect(list.endpoints).toEqual([expect.objectContaining({ service: 'blog', weights: { alpha: 3, bravo: 1 } })]);
    expect(d.endpoint.dns).toMatchObject({ enabled: true, present: true });
    expect(d.endpoint.problems).toEqual([]);
    // Re-weighting to the same weights writes nothing.
    expect((await sc.run(['endpoint', 'weight', 'blog', 'alpha=3', 'bravo=1'])).json.apiCalls.write).toBe(0);
  }, STEP_TIMEOUT);

  it('deleting everything in reverse order leaves an empty account', async () => {
    await sc.run(['endpoint', 'delete', 'blog']);
    expect((await sc.run(['endpoint', 'list'])).json.endpoints.map((e: Json) => e.service)).not.toContain('blog');
    await sc.run(['cluster', 'delete', 'bravo']);
    await sc.run(['cluster', 'delete', 'alpha']);
    expect((await sc.run(['cluster', 'list'])).json.clusters).toEqual([]);
    await sc.run(['alb', 'delete', 'shared']);
    await sc.run(['certificate', 'delete', DOMAIN]);
    const status = await sc.status();
    expect(status.resources).toEqual({});
    const times = sc.virtualTimes.map((v) => Date.parse(v.time));
    expect(times[1]).toBeGreaterThan(times[0]);
  }, STEP_TIMEOUT);
});
