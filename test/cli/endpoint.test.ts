// CLI end to end (in process through oclif, test/helpers/inProcessCli.ts; sandbox, no TTY):
// certificate -> ALB -> cluster with automatic ingress -> endpoint -> weights -> delete, with the
// JSON contract, dry runs, exit codes 2 for bad input and 1 for an injected failure that is rolled
// back.
import { tempHomes } from '../helpers/cli';
import { runCliInProcess } from '../helpers/inProcessCli';

const newHome = tempHomes();

describe('k3sctl certificate / alb / endpoint (CLI, sandbox)', () => {
  it('runs the shared-ingress lifecycle', async () => {
    const home = newHome();
    const cli = (args: string[], env?: Record<string, string>) =>
      runCliInProcess([...args, '--sandbox'], { home, env });
    const json = async (args: string[], expectedCode = 0, env?: Record<string, string>) => {
      const r = await cli([...args, '--json'], env);
      if (r.code !== expectedCode)
        throw new Error(`${args.join(' ')}: exit ${r.code}\n${r.stderr}\n${r.stdout}`);
      return JSON.parse(r.stdout);
    };

    const cert = await json([
      'certificate',
      'request',
      'example.com',
      '--san',
      '*.example.com',
      '--san',
      '*.us-east-1.example.com',
    ]);
    expect(cert.certificate).toMatchObject({
      status: 'ISSUED',
      names: ['example.com', '*.example.com', '*.us-east-1.example.com'],
    });
    expect(cert.certificate.validationRecords).toHaveLength(2);
    expect(cert.changes).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ action: 'create', type: 'AWS::CertificateManager::Certificate' }),
      ]),
    );
    expect(
      (
        await json([
          'certificate',
          'request',
          'example.com',
          '--san',
          '*.example.com',
          '--san',
          '*.us-east-1.example.com',
        ])
      ).apiCalls.write,
    ).toBe(0);

    const dry = await json(['alb', 'create', 'shared', '--certificate-domain', 'example.com', '--dry-run']);
    expect(dry.dryRun).toBe(true);
    expect(dry.planned.map((c: { type: string }) => c.type)).toEqual([
      'AWS::EC2::SecurityGroup',
      'AWS::EC2::SecurityGroup',
      'AWS::ElasticLoadBalancingV2::LoadBalancer',
      'AWS::ElasticLoadBalancingV2::Listener',
      'AWS::ElasticLoadBalancingV2::Listener',
    ]);
    expect((await json(['alb', 'list'])).albs).toEqual([]);
    const alb = await json(['alb', 'create', 'shared', '--certificate-domain', 'example.com']);
    expect(alb.alb).toMatchObject({
      name: 'shared',
      state: 'active',
      listeners: [{ port: 80 }, { port: 443 }],
    });

    const unknown = await json(
      ['endpoint', 'create', 'blog', '--zone', 'example.com', '--alb', 'shared', '--cluster', 'alpha'],
      2,
    );
    expect(unknown.error).toMatchObject({ type: 'UserError', field: '--cluster' });

    const cluster = await cli([
      'cluster',
      'create',
      'alpha',
      '--ingress-alb',
      'shared',
      '--ingress-zone',
      'example.com',
      '--control-planes',
      '1',
      '--nodes',
      '1',
    ]);
    expect(cluster.code).toBe(0);

    const created = await json([
      'endpoint',
      'create',
      'blog',
      '--zone',
      'example.com',
      '--alb',
      'shared',
      '--cluster',
      'alpha',
      '--weight',
      'alpha=2',
    ]);
    expect(created.endpoint).toMatchObject({
      host: 'blog.example.com',
      mode: 'ingress',
      clusters: [expect.objectContaining({ cluster: 'alpha', weight: 2 })],
    });
    expect(created.changes.map((c: { type: string }) => c.type).sort()).toEqual([
      'AWS::ElasticLoadBalancingV2::ListenerRule',
      'AWS::Route53::RecordSet',
      'AWS::SSM::Parameter',
    ]);

    expect((await json(['endpoint', 'weight', 'blog', 'alpha=5', '--yes'])).to).toEqual({ alpha: 5 });
    for (const bad of [
      ['endpoint', 'weight', 'blog', 'alpha=1000'],
      ['endpoint', 'weight', 'blog', 'alpha=0'],
      ['endpoint', 'weight', 'blog', 'charlie=1'],
      ['endpoint', 'create', 'bad--name', '--zone', 'example.com', '--alb', 'shared', '--cluster', 'alpha'],
      ['endpoint', 'create', 'shop', '--zone', 'nowhere.org', '--alb', 'shared', '--cluster', 'alpha'],
      ['alb', 'delete', 'shared'],
    ]) {
      const r = await cli([...bad, '--yes']);
      expect({ args: bad, code: r.code }).toEqual({ args: bad, code: 2 });
    }
    const described = await json(['endpoint', 'describe', 'blog']);
    expect(described.endpoint.clusters).toEqual([expect.objectContaining({ cluster: 'alpha', weight: 5 })]);

    // An injected failure at the record write: exit 1, the rule created before it rolled back.
    const failed = await json(
      ['endpoint', 'create', 'shop', '--zone', 'example.com', '--alb', 'shared', '--cluster', 'alpha'],
      1,
      {
        K3SCTL_SANDBOX_FAULTS: 'ChangeResourceRecordSets=AccessDenied',
      },
    );
    expect(failed.error.rolledBack).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ type: 'AWS::ElasticLoadBalancingV2::ListenerRule' }),
      ]),
    );
    expect(failed.error.leftovers).toEqual([]);
    expect((await json(['endpoint', 'list'])).endpoints.map((e: { service: string }) => e.service)).toEqual([
      'blog',
    ]);
    expect((await json(['alb', 'list'])).albs[0]).toMatchObject({ clusters: ['alpha'], endpoints: ['blog'] });

    const dryDelete = await json(['endpoint', 'delete', 'blog', '--dry-run']);
    expect(dryDelete.planned.map((c: { action: string }) => c.action)).toEqual([
      'delete',
      'delete',
      'delete',
    ]);
    expect((await json(['endpoint', 'list'])).endpoints).toHaveLength(1);
    await json(['endpoint', 'delete', 'blog', '--yes']);
    expect((await json(['endpoint', 'list'])).endpoints).toEqual([]);

    await json(['cluster', 'delete', 'alpha', '--yes']);
    expect((await cli(['certificate', 'delete', 'example.com', '--yes'])).code).toBe(2);
    await json(['alb', 'delete', 'shared', '--yes']);
    await json(['certificate', 'delete', 'example.com', '--yes']);
    expect((await json(['certificate', 'list'])).certificates).toEqual([]);
    expect((await json(['sandbox', 'status'])).resources).toEqual({});
  }, 300_000);
});
