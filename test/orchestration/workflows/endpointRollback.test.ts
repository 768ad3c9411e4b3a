// Reliability sweeps: a failure injected at each write of `alb create` and `endpoint create` in turn
// is rolled back exactly (the account inventory equals the one before the run); and two endpoint
// creates on one ALB at once both succeed with distinct listener-rule priorities.
import { buildAlbSpec, buildEndpointSpec } from '../../../src/config/ingress';
import { RunFailedError } from '../../../src/orchestration/deps';
import { Sandbox } from '../../../src/sandbox/sandbox';
import { albCreate } from '../../../src/orchestration/workflows/albCreate';
import { endpointCreate } from '../../../src/orchestration/workflows/endpointCreate';
import { endpointList } from '../../../src/orchestration/workflows/endpointList';
import { findHttpsListener, findLoadBalancer } from '../../../src/resources/loadBalancer';
import { listManagedListenerRules } from '../../../src/resources/listenerRule';
import { TagKeys } from '../../../src/aws/tags';
import { createAsgFixture } from '../../helpers/asgFixture';
import { removeTestHomes, sandboxDeps } from '../../helpers/sandboxDeps';
import { createAlb, createCertificate, createClusterIngress, next, ZONE } from './endpointFixture';

afterAll(removeTestHomes);

// A non-retryable error: the SDK gives up at once and the workflow fails.
const FAULT = 'AccessDenied';

async function sweep(
  setup: () => Promise<Sandbox>,
  workflow: (sb: Sandbox) => Promise<unknown>,
): Promise<number> {
  const clean = await setup();
  const w0 = clean.state.calls.write;
  await workflow(clean);
  const writes = clean.state.calls.write - w0;
  expect(writes).toBeGreaterThan(0);
  for (let n = 1; n <= writes; n++) {
    const sb = await setup();
    const before = sb.inventory();
    sb.faults.add({ op: 'write', nth: n, code: FAULT });
    const error = await workflow(sb).then(
      () => undefined,
      (e: unknown) => e,
    );
    sb.faults.clear();
    expect(error).toBeInstanceOf(RunFailedError);
    expect((error as RunFailedError).leftovers).toEqual([]);
    expect(sb.inventory()).toEqual(before);
  }
  return writes;
}

describe('rollback sweeps', () => {
  it('alb create: a failure at each write rolls back exactly', async () => {
    const setup = async () => {
      const sb = new Sandbox();
      (sb as Sandbox & { certArn?: string }).certArn = await createCertificate(sb);
      return sb;
    };
    const writes = await sweep(setup, (sb) =>
      albCreate(
        next(sb),
        buildAlbSpec({ name: 'shared', certificate: (sb as Sandbox & { certArn?: string }).certArn }),
      ),
    );
    expect(writes).toBeGreaterThanOrEqual(6);
  });

  it('endpoint create (ingress mode): a failure at each write rolls back exactly', async () => {
    const setup = async () => {
      const sb = new Sandbox();
      await createAlb(sb, await createCertificate(sb));
      await createClusterIngress(sb, 'alpha');
      await createClusterIngress(sb, 'bravo');
      return sb;
    };
    const spec = buildEndpointSpec({
      service: 'blog',
      zone: ZONE,
      alb: 'shared',
      clusters: ['alpha', 'bravo'],
      stickiness: '1h',
      sourceIps: ['10.0.0.0/8'],
    });
    const writes = await sweep(setup, (sb) => endpointCreate(next(sb), spec));
    expect(writes).toBe(3);
  });

  it('endpoint create (nodeport mode): a failure at each write rolls back exactly, attachments included', async () => {
    const setup = async () => {
      const sb = new Sandbox();
      await createAlb(sb, await createCertificate(sb));
      const deps = next(sb);
      await createAsgFixture(deps.clients, { cluster: 'alpha', group: 'workers', size: 1 });
      await createAsgFixture(deps.clients, { cluster: 'bravo', group: 'workers', size: 1 });
      return sb;
    };
    const spec = buildEndpointSpec({
      service: 'api',
      zone: ZONE,
      alb: 'shared',
      clusters: ['alpha', 'bravo'],
      mode: 'nodeport',
      port: 30080,
      healthPath: '/ping',
    });
    const writes = await sweep(setup, (sb) => endpointCreate(next(sb), spec));
    // target group, rule, record, SSM config, two attachments
    expect(writes).toBe(6);
  });
});

describe('concurrency', () => {
  it('two endpoint creates on one ALB at once both succeed with distinct priorities', async () => {
    const sb = new Sandbox();
    await createAlb(sb, await createCertificate(sb));
    await createClusterIngress(sb, 'alpha');
    const [a, b] = await Promise.all([
      endpointCreate(
        next(sb),
        buildEndpointSpec({ service: 'blog', zone: ZONE, alb: 'shared', clusters: ['alpha'] }),
      ),
      endpointCreate(
        next(sb),
        buildEndpointSpec({ service: 'shop', zone: ZONE, alb: 'shared', clusters: ['alpha'] }),
      ),
    ]);
    expect(a.endpoint.priority).not.toBe(b.endpoint.priority);
    const deps = next(sb);
    const lb = await findLoadBalancer(deps.clients, 'shared');
    const rules = await listManagedListenerRules(
      deps.clients,
      (await findHttpsListener(deps.clients, lb.arn)).ListenerArn as string,
    );
    expect(rules.map((r) => r.tags[TagKeys.service] ?? r.tags[TagKeys.cluster]).sort()).toEqual([
      'alpha',
      'blog',
      'shop',
    ]);
    expect(new Set(rules.map((r) => r.priority)).size).toBe(3);
    expect((await endpointList(deps)).endpoints.map((e) => e.service)).toEqual(['blog', 'shop']);
  });

  it('the same endpoint created twice at once ends with one rule', async () => {
    const sb = new Sandbox();
    await createAlb(sb, await createCertificate(sb));
    await createClusterIngress(sb, 'alpha');
    const spec = buildEndpointSpec({ service: 'blog', zone: ZONE, alb: 'shared', clusters: ['alpha'] });
    const results = await Promise.allSettled([
      endpointCreate(next(sb), spec),
      endpointCreate(next(sb), spec),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled']);
    const deps = next(sb);
    const lb = await findLoadBalancer(deps.clients, 'shared');
    const rules = await listManagedListenerRules(
      deps.clients,
      (await findHttpsListener(deps.clients, lb.arn)).ListenerArn as string,
    );
    expect(rules.filter((r) => r.tags[TagKeys.service] === 'blog')).toHaveLength(1);
    // and it converges: running again is a no-op
    const again = await endpointCreate(next(sb), spec);
    expect(again.apiCalls.write).toBe(0);
  });
});

describe('crashed runs', () => {
  it('a crashed endpoint create (nodeport) is rolled back later from its journal', async () => {
    const sb = new Sandbox();
    await createAlb(sb, await createCertificate(sb));
    const setupDeps = next(sb);
    await createAsgFixture(setupDeps.clients, { cluster: 'alpha', group: 'workers', size: 1 });
    const before = sb.inventory();
    const { openRun, rollbackRun } = await import('../../../src/orchestration/engine');
    const { endpointTasks, resolveEndpoint } =
      await import('../../../src/orchestration/workflows/endpointCreate');
    const { attachTargetGroup } = await import('../../../src/resources/targetGroup');
    const crashed = sandboxDeps(sb);
    const spec = buildEndpointSpec({
      service: 'api',
      zone: ZONE,
      alb: 'shared',
      clusters: ['alpha'],
      mode: 'nodeport',
      port: 30080,
    });
    // The process "dies" after the writes: the run never ends, nothing is rolled back by it.
    const run = openRun(crashed.deps, 'endpoint create api');
    const resolved = await resolveEndpoint(run.ctx, spec);
    const endpoint = endpointTasks(spec, resolved, 'us-east-1');
    await run.apply(endpoint.tasks);
    const tg = run.ctx.get(endpoint.targetGroup!)!;
    for (const g of resolved.groups.get('alpha') ?? []) await attachTargetGroup(run.ctx, g, tg.arn);
    expect(sb.inventory()).not.toEqual(before);

    const later = sandboxDeps(sb, { home: crashed.home });
    const result = await rollbackRun(later.deps, crashed.deps.runId, { force: true });
    expect(result.leftovers).toEqual([]);
    expect(result.rolledBack.map((r) => r.type)).toEqual(
      expect.arrayContaining([
        'AWS::ElasticLoadBalancingV2::TargetGroup',
        'AWS::ElasticLoadBalancingV2::ListenerRule',
        'AWS::Route53::RecordSet',
        'AWS::SSM::Parameter',
      ]),
    );
    expect(sb.inventory()).toEqual(before);
  });
});
