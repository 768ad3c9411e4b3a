// Bad input and unmet preconditions of certificate/ALB/endpoint workflows: each a UserError (exit 2)
// raised before any write call.
import { CreateRuleCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { UserError } from '../../../src/core/errors';
import { findHttpsListener, findLoadBalancer } from '../../../src/resources/loadBalancer';
import {
  buildAlbSpec,
  buildCertificateSpec,
  buildEndpointSpec,
  parseWeights,
  type EndpointSpec,
} from '../../../src/config/ingress';
import { Sandbox } from '../../../src/sandbox/sandbox';
import { albCreate } from '../../../src/orchestration/workflows/albCreate';
import { certificateRequest } from '../../../src/orchestration/workflows/certificateRequest';
import { endpointCreate } from '../../../src/orchestration/workflows/endpointCreate';
import { endpointWeight } from '../../../src/orchestration/workflows/endpointWeight';
import { removeTestHomes } from '../../helpers/sandboxDeps';
import { createAlb, createCertificate, createClusterIngress, next, ZONE } from './endpointFixture';

afterAll(removeTestHomes);

let sb: Sandbox;
beforeAll(async () => {
  sb = new Sandbox();
  await createAlb(sb, await createCertificate(sb));
  await createClusterIngress(sb, 'alpha');
  await createClusterIngress(sb, 'bravo');
  // An ALB without a certificate has no HTTPS listener.
  await albCreate(next(sb), buildAlbSpec({ name: 'plain' }));
  await endpointCreate(
    next(sb),
    buildEndpointSpec({ service: 'blog', zone: ZONE, alb: 'shared', clusters: ['alpha', 'bravo'] }),
  );
});

/** Runs `fn` and expects a UserError and no write call against the account. */
async function rejectsWithoutWrites(fn: () => Promise<unknown>, message: RegExp): Promise<UserError> {
  const writes = sb.state.calls.write;
  const error = await fn().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(UserError);
  expect((error as Error).message).toMatch(message);
  expect(sb.state.calls.write).toBe(writes);
  return error as UserError;
}

function spec(overrides: Partial<Parameters<typeof buildEndpointSpec>[0]> = {}): EndpointSpec {
  return buildEndpointSpec({ service: 'shop', zone: ZONE, alb: 'shared', clusters: ['alpha'], ...overrides });
}

describe('endpoint create input', () => {
  it('refuses a hosted zone that does not exist', async () => {
    await rejectsWithoutWrites(
      () => endpointCreate(next(sb), spec({ zone: 'nowhere.org' })),
      /hosted zone 'nowhere.org' does not exist/,
    );
  });

  it('refuses more than 5 clusters in ingress mode', async () => {
    await rejectsWithoutWrites(
      async () => spec({ clusters: ['a1', 'a2', 'a3', 'a4', 'a5', 'a6'] }),
      /6 clusters in one weighted forward; an ALB rule forwards to at most 5/,
    );
  });

  it('refuses weights out of range or all zero', async () => {
    await rejectsWithoutWrites(
      async () => spec({ clusters: ['alpha', 'bravo'], weights: { alpha: 1000 } }),
      /out of range/,
    );
    await rejectsWithoutWrites(
      async () => spec({ clusters: ['alpha', 'bravo'], weights: { alpha: 0, bravo: 0 } }),
      /every weight is 0/,
    );
    await rejectsWithoutWrites(async () => parseWeights(['alpha=-1']), /out of range|not CLUSTER=WEIGHT/);
  });

  it('refuses an unknown cluster', async () => {
    const e = await rejectsWithoutWrites(
      () => endpointCreate(next(sb), spec({ clusters: ['alpha', 'charlie'] })),
      /unknown cluster charlie/,
    );
    expect(e.field).toBe('--cluster');
    await rejectsWithoutWrites(async () => spec({ weights: { bravo: 2 } }), /not behind the endpoint/);
  });

  it('refuses service names that are not DNS labels or contain --', async () => {
    await rejectsWithoutWrites(async () => spec({ service: 'Shop_1' }), /^SERVICE 'Shop_1' is not a valid service name/);
    await rejectsWithoutWrites(async () => spec({ service: 'shop--alpha' }), /may not contain '--'/);
  });

  it('refuses an ALB without an HTTPS listener on 443', async () => {
    await rejectsWithoutWrites(
      () => endpointCreate(next(sb), spec({ alb: 'plain' })),
      /ALB plain has no HTTPS listener on 443/,
    );
  });

  it('refuses an ALB that does not exist, naming the candidates', async () => {
    const e = await rejectsWithoutWrites(
      () => endpointCreate(next(sb), spec({ alb: 'nope' })),
      /no application load balancer 'nope'/,
    );
    expect(e.suggestion).toMatch(/plain, shared|shared, plain/);
  });

  it('refuses a host already routed by a rule that is not this endpoint', async () => {
    const deps = next(sb);
    const lb = await findLoadBalancer(deps.clients, 'shared');
    const listener = await findHttpsListener(deps.clients, lb.arn);
    await deps.clients.elbv2.send(
      new CreateRuleCommand({
        ListenerArn: listener.ListenerArn,
        Priority: 900,
        Conditions: [{ Field: 'host-header', HostHeaderConfig: { Values: ['legacy.example.com'] } }],
        Actions: [{ Type: 'fixed-response', FixedResponseConfig: { StatusCode: '200' } }],
      }),
    );
    await rejectsWithoutWrites(
      () => endpointCreate(next(sb), spec({ service: 'legacy' })),
      /host legacy.example.com is already routed by listener rule priority 900 \(not managed by k3sctl\)/,
    );
  });

  it('validates nodeport options', async () => {
    await rejectsWithoutWrites(async () => spec({ mode: 'nodeport' }), /needs --port/);
    await rejectsWithoutWrites(
      async () => spec({ mode: 'nodeport', port: 8080 }),
      /outside the NodePort range/,
    );
    await rejectsWithoutWrites(async () => spec({ sourceIps: ['10.0.0.0/33'] }), /not a CIDR/);
    await rejectsWithoutWrites(async () => spec({ stickiness: '8d' }), /out of range/);
  });
});

describe('endpoint weight input', () => {
  it('refuses unknown clusters, all-zero weights and unknown endpoints before any write', async () => {
    await rejectsWithoutWrites(
      () => endpointWeight(next(sb), { service: 'blog', weights: { charlie: 1 } }),
      /cluster charlie is not behind endpoint blog/,
    );
    await rejectsWithoutWrites(
      () => endpointWeight(next(sb), { service: 'blog', weights: { alpha: 0, bravo: 0 } }),
      /every weight is 0/,
    );
    await rejectsWithoutWrites(
      () => endpointWeight(next(sb), { service: 'blog', weights: { alpha: 1000 } }),
      /out of range/,
    );
    await rejectsWithoutWrites(
      () => endpointWeight(next(sb), { service: 'nothing', weights: { alpha: 1 } }),
      /^SERVICE nothing: no endpoint of that name/,
    );
  });
});

describe('certificate and ALB input', () => {
  it('refuses a certificate domain outside the zone', async () => {
    await rejectsWithoutWrites(
      () => certificateRequest(next(sb), buildCertificateSpec({ domain: 'www.example.org', zone: ZONE })),
      /certificate domain www.example.org is outside the hosted zone example.com/,
    );
    await rejectsWithoutWrites(
      () =>
        certificateRequest(
          next(sb),
          buildCertificateSpec({ domain: 'a.example.com', sans: ['b.example.net'], zone: ZONE }),
        ),
      /b.example.net is outside the hosted zone/,
    );
  });

  it('refuses a certificate that is not issued and bad ALB names', async () => {
    await rejectsWithoutWrites(async () => buildAlbSpec({ name: 'bad_name' }), /^NAME 'bad_name' is not a valid ALB name/);
    await rejectsWithoutWrites(async () => buildAlbSpec({ name: 'x', ingressCidrs: ['nope'] }), /not a CIDR/);
    await rejectsWithoutWrites(
      () =>
        albCreate(
          next(sb),
          buildAlbSpec({
            name: 'other',
            certificate:
              'arn:aws:acm:us-east-1:123456789012:certificate/00000000-0000-0000-0000-000000000000',
          }),
        ),
      /does not exist/,
    );
  });

  it('an existing ALB with the other scheme is refused', async () => {
    const refused = await rejectsWithoutWrites(
      () => albCreate(next(sb), buildAlbSpec({ name: 'plain', internal: true })),
      /plain: scheme cannot be changed in place \(scheme: internet-facing -> internal\)/,
    );
    expect(refused.field).toBe('--internal');
    expect(refused.suggestion).toMatch(/k3sctl alb delete plain/);
  });
});

describe('dry runs', () => {
  it('plan without writing', async () => {
    const writes = sb.state.calls.write;
    const create = await endpointCreate(next(sb), spec({ service: 'dry', clusters: ['alpha', 'bravo'] }), {
      dryRun: true,
    });
    expect(create.planned?.map((c) => `${c.action} ${c.type}`)).toEqual([
      'create AWS::ElasticLoadBalancingV2::ListenerRule',
      'create AWS::Route53::RecordSet',
      'create AWS::SSM::Parameter',
    ]);
    const weight = await endpointWeight(next(sb), { service: 'blog', weights: { alpha: 4 }, dryRun: true });
    expect(weight.planned).toEqual([
      expect.objectContaining({ action: 'update', details: ['weights: alpha=1,bravo=1 -> alpha=4,bravo=1'] }),
    ]);
    const cert = await certificateRequest(next(sb), buildCertificateSpec({ domain: 'dry.example.com' }), {
      dryRun: true,
    });
    expect(cert.planned?.map((c) => c.type)).toEqual([
      'AWS::CertificateManager::Certificate',
      'AWS::Route53::RecordSet',
    ]);
    expect(sb.state.calls.write).toBe(writes);
  });
});
