// Reliability of `cluster create` beyond single failures (docs/ARCHITECTURE.md (undo, tests)): a run killed at a
// random point (no rollback: the process is gone) converges when run again and deletes to nothing, or is
// undone from its journal; 30% throttling; IAM propagation delay; two clusters racing for one ALB.
import { DescribeScalingActivitiesCommand } from '@aws-sdk/client-auto-scaling';
import { DescribeRulesCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { Pluggable } from '@smithy/types';
import { AwsClients } from '../../../src/aws/clients';
import { isReadOperation } from '../../../src/aws/apiCalls';
import { buildClusterSpec, type ClusterSpec } from '../../../src/config/cluster';
import { listRuns, rollbackRun } from '../../../src/orchestration/engine';
import { clusterCreate } from '../../../src/orchestration/workflows/clusterCreate';
import { clusterDelete } from '../../../src/orchestration/workflows/clusterDelete';
import { clusterDescribe } from '../../../src/orchestration/workflows/clusterDescribe';
import { VirtualBackoffRetryStrategy } from '../../../src/sandbox/clients';
import { Sandbox, type SandboxState } from '../../../src/sandbox/sandbox';
import type { InventoryItem } from '../../../src/sandbox/service';
import { findHttpsListener, findLoadBalancer } from '../../../src/resources/loadBalancer';
import { removeTestHomes, sandboxDeps } from '../../helpers/sandboxDeps';
import { sharedAlbState } from './endpointFixture';

afterAll(() => removeTestHomes());

// EC2 keeps terminated instances visible for an hour; past that the account is comparable item by item.
const AGE_OUT_MS = 2 * 3_600_000;

function ingressSpec(name: string, controlPlanes = 1, nodes = 1): ClusterSpec {
  return buildClusterSpec({
    name,
    region: 'us-east-1',
    controlPlanes,
    nodes,
    ingress: { alb: 'shared', zone: 'example.com' },
  });
}

/** The account with the shared ALB (certificate, security groups, listeners): the start of every case. */
let start: SandboxState;
beforeAll(async () => {
  start = await sharedAlbState();
}, 60_000);

function fresh(): Sandbox {
  return new Sandbox({ state: structuredClone(start) });
}

function aged(sb: Sandbox): InventoryItem[] {
  sb.advance(AGE_OUT_MS);
  return sb.inventory({ includeDefaults: false });
}

/** xorshift32, seeded: the kill points are random but the same on every run. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x100000000;
  };
}

interface Killer {
  /** Resolves when the simulated process died. */
  dead: Promise<void>;
  isDead(): boolean;
}

/**
 * Clients whose process dies at a point: after the sandbox executed the `afterWrites`-th write (its
 * response is never seen), or once virtual time reaches `atTime`. From then on every call of these
 * clients hangs forever: no journal update, no rollback, nothing more reaches the account — while
 * requests already sent complete on the AWS side, as they would.
 */
function killableClients(
  sb: Sandbox,
  kill: { afterWrites?: number; atTime?: number },
): { clients: AwsClients; killer: Killer } {
  let dead = false;
  let markDead!: () => void;
  const deadPromise = new Promise<void>((resolve) => (markDead = resolve));
  const die = () => {
    if (!dead) {
      dead = true;
      markDead();
    }
  };
  const hang = () => new Promise<never>(() => undefined);
  let writes = 0;
  const crash: Pluggable<object, object> = {
    applyToStack: (stack) => {
      stack.add(
        ((next: (a: unknown) => Promise<unknown>, context: { commandName?: string }) =>
          async (args: unknown) => {
            if (kill.atTime !== undefined && sb.now() >= kill.atTime) die();
            if (dead) return hang();
            const op = (context.commandName ?? '').replace(/Command$/, '');
            const last = !isReadOperation(op) && ++writes === kill.afterWrites;
            let result: unknown;
            try {
              result = await next(args);
            } finally {
              if (last) die();
              if (kill.atTime !== undefined && sb.now() >= kill.atTime) die();
            }
            if (dead) return hang();
            return result;
          }) as never,
        { step: 'initialize', priority: 'high', name: 'testProcessKill' },
      );
    },
  };
  const clients = new AwsClients({
    region: 'us-east-1',
    plugins: [sb.plugin('us-east-1'), crash],
    credentials: { accessKeyId: 'AKIASANDBOX000000000', secretAccessKey: 'sandbox-secret' },
    retryStrategy: new VirtualBackoffRetryStrategy(sb.clock),
  });
  return { clients, killer: { dead: deadPromise, isDead: () => dead } };
}

/** Starts a create that dies at the kill point; resolves with its run id once it is dead. */
async function crashedCreate(
  sb: Sandbox,
  home: string,
  spec: ClusterSpec,
  kill: { afterWrites?: number; atTime?: number },
): Promise<string> {
  const { clients, killer } = killableClients(sb, kill);
  const { deps } = sandboxDeps(sb, { home, clients });
  let settled: unknown;
  void clusterCreate(deps, spec).then(
    () => (settled = 'succeeded'),
    (e: unknown) => (settled = e),
  );
  await killer.dead;
  // Requests already in flight finish on the account side; let virtual time run them out.
  for (let i = 0; i < 50; i++) await new Promise((r) => setImmediate(r));
  expect(settled).toBeUndefined();
  return deps.runId;
}

async function expectConverged(sb: Sandbox, home: string, spec: ClusterSpec): Promise<void> {
  const again = await clusterCreate(sandboxDeps(sb, { home }).deps, spec);
  expect(again.waited).toBe(true);
  const described = await clusterDescribe(sandboxDeps(sb, { home }).deps, spec.name);
  expect(described.configured).toBe(true);
  expect(
    described.groups.map((g) => [
      g.name,
      g.desired,
      g.instances.filter((i) => i.lifecycleState === 'InService' && i.state === 'running').length,
    ]),
  ).toEqual(spec.groups.map((g) => [g.name, g.count, g.count]));
  const noop = await clusterCreate(sandboxDeps(sb, { home }).deps, spec);
  expect(noop.apiCalls.write).toBe(0);
  expect(noop.changes.filter((c) => c.action !== 'noop')).toEqual([]);
}

describe('cluster create killed at a random point', () => {
  let writes = 0;
  beforeAll(async () => {
    const sb = fresh();
    const created = await clusterCreate(sandboxDeps(sb).deps, ingressSpec('kill'));
    writes = created.apiCalls.write;
  });

  // Seeded kill points: after a random fraction of the clean create's writes (the k-th write is executed
  // by the account but its answer is lost), or at a random virtual time (0-90 s: writes and waits).
  const random = rng(0x6b336b);
  const points: { title: string; writesFraction?: number; atMs?: number }[] = [
    { title: 'after the first write', writesFraction: 0 },
  ];
  for (let i = 0; i < 4; i++) {
    const f = random();
    points.push({ title: `after ${Math.round(f * 100)}% of the writes`, writesFraction: f });
  }
  points.push({ title: 'after the last write', writesFraction: 1 });
  for (let i = 0; i < 3; i++) {
    const ms = Math.floor(random() * 90_000);
    points.push({ title: `at ${ms} ms of virtual time`, atMs: ms });
  }

  it.each(points)('killed $title: re-run converges, delete leaves nothing', async (p) => {
    const sb = fresh();
    const before = sb.inventory({ includeDefaults: false });
    const home = sandboxDeps(sb).home;
    const spec = ingressSpec('kill');
    const kill =
      p.writesFraction !== undefined
        ? { afterWrites: Math.max(1, Math.round(p.writesFraction * writes)) }
        : { atTime: sb.now() + p.atMs! };
    const runId = await crashedCreate(sb, home, spec, kill);
    expect(listRuns(home).find((r) => r.runId === runId)?.status).toBe('running');

    await expectConverged(sb, home, spec);
    await clusterDelete(sandboxDeps(sb, { home }).deps, spec.name);
    expect(aged(sb)).toEqual(before);
  });

  it('a killed run is undone from its journal (runs rollback)', async () => {
    const sb = fresh();
    const before = sb.inventory({ includeDefaults: false });
    const home = sandboxDeps(sb).home;
    const runId = await crashedCreate(sb, home, ingressSpec('kill'), { afterWrites: writes - 1 });
    const journalled = listRuns(home).find((r) => r.runId === runId)!;
    expect(journalled.pendingUndo).toBeGreaterThan(5);
    const undone = await rollbackRun(sandboxDeps(sb, { home }).deps, runId);
    expect(undone.leftovers).toEqual([]);
    expect(undone.rolledBack.map((r) => r.type)).toEqual(
      expect.arrayContaining([
        'AWS::AutoScaling::AutoScalingGroup',
        'AWS::IAM::Role',
        'AWS::ElasticLoadBalancingV2::ListenerRule',
      ]),
    );
    expect(listRuns(home).find((r) => r.runId === runId)?.status).toBe('rolled-back');
    expect(aged(sb)).toEqual(before);
  });
});

describe('cluster create under 30% throttling', () => {
  it('succeeds with the same end state as without throttling', async () => {
    const clean = fresh();
    const unthrottled = await clusterCreate(sandboxDeps(clean).deps, ingressSpec('thr'));
    const sb = fresh();
    sb.faults.add({ op: '*', percent: 30, code: 'Throttling' });
    const home = sandboxDeps(sb).home;
    const created = await clusterCreate(sandboxDeps(sb, { home }).deps, ingressSpec('thr'));
    expect(created.waited).toBe(true);
    // Roughly 30% more attempts: the throttled calls were retried (by the SDK, then the engine).
    const attempts = (r: { apiCalls: { read: number; write: number } }) => r.apiCalls.read + r.apiCalls.write;
    expect(attempts(created)).toBeGreaterThan(attempts(unthrottled) * 1.2);
    // Same resources, same fingerprints (tags, rules, capacities, states); only generated ids, the
    // random join tokens (SecureString values) and the `initialized` marker (it names the instance
    // that recorded it, and when) differ.
    const shape = (s: Sandbox) =>
      s
        .inventory({ includeDefaults: false })
        .map(
          (i) =>
            `${i.type} ${(i.id.endsWith('/initialized') ? 'String:initialized-by=ID' : (i.fingerprint ?? ''))
              .replace(/^SecureString:.*/, 'SecureString')
              .replace(/\b[a-z]+-[0-9a-f]{17}\b/g, 'ID')
              .replace(/(:targetgroup\/[^/]+\/)[0-9a-f]{16}/g, '$1ID')}`,
        )
        .sort();
    clean.advance(AGE_OUT_MS);
    sb.advance(AGE_OUT_MS);
    expect(shape(sb)).toEqual(shape(clean));
    const described = await clusterDescribe(sandboxDeps(sb, { home }).deps, 'thr');
    expect(
      described.groups.map((g) => [
        g.name,
        g.instances.filter((i) => i.lifecycleState === 'InService').length,
      ]),
    ).toEqual([
      ['control-plane', 1],
      ['nodes', 1],
    ]);
    const again = await clusterCreate(sandboxDeps(sb, { home }).deps, ingressSpec('thr'));
    expect(again.apiCalls.write).toBe(0);
    await clusterDelete(sandboxDeps(sb, { home }).deps, 'thr');
    sb.faults.clear();
    expect(aged(sb)).toEqual(
      new Sandbox({ state: structuredClone(start) }).inventory({ includeDefaults: false }),
    );
  });
});

describe('cluster create and IAM propagation', () => {
  it('absorbs the delay before a new instance profile is usable', async () => {
    const sb = fresh();
    expect(sb.behavior.timings.iamPropagationMs).toBe(8_000);
    const { deps } = sandboxDeps(sb);
    const before = { ...sb.state.calls.byOperation };
    const created = await clusterCreate(deps, ingressSpec('iam'));
    expect(created.waited).toBe(true);
    const made = (op: string) => (sb.state.calls.byOperation[op] ?? 0) - (before[op] ?? 0);
    // The delay was really hit, before the groups existed: EC2 refused the new profiles to the RunInstances
    // dry runs (one chain per profile, more than one dry run each) until they were usable.
    expect(made('RunInstances')).toBeGreaterThan(2);
    expect(sb.inventory().filter((i) => i.type === 'AWS::EC2::Instance')).toHaveLength(2);
    // Each group was created once, then launched at the first attempt: no failed scaling activity.
    expect(made('CreateAutoScalingGroup')).toBe(2);
    const activities = (
      await deps.clients.autoscaling.send(
        new DescribeScalingActivitiesCommand({ AutoScalingGroupName: 'k3sctl-iam-nodes' }),
      )
    ).Activities!;
    const failed = activities.filter((a) => a.StatusCode === 'Failed');
    expect(failed).toEqual([]);
    expect(activities.filter((a) => a.StatusCode === 'Successful')).toHaveLength(1);
  });
});

describe('two clusters created at once on one ALB', () => {
  it('both succeed with their own rule (distinct priorities, right host headers)', async () => {
    const sb = fresh();
    const [a, b] = await Promise.all([
      clusterCreate(sandboxDeps(sb).deps, ingressSpec('alpha')),
      clusterCreate(sandboxDeps(sb).deps, ingressSpec('bravo')),
    ]);
    expect([a.ingressHost, b.ingressHost]).toEqual([
      '*--alpha.us-east-1.example.com',
      '*--bravo.us-east-1.example.com',
    ]);
    const { deps } = sandboxDeps(sb);
    const lb = await findLoadBalancer(deps.clients, 'shared');
    const listener = await findHttpsListener(deps.clients, lb.arn);
    const rules = (
      await deps.clients.elbv2.send(new DescribeRulesCommand({ ListenerArn: listener.ListenerArn }))
    ).Rules!.filter((r) => !r.IsDefault);
    expect(rules).toHaveLength(2);
    expect(new Set(rules.map((r) => r.Priority)).size).toBe(2);
    const hosts = rules
      .map((r) => r.Conditions!.flatMap((c) => c.HostHeaderConfig?.Values ?? c.Values ?? []))
      .sort();
    expect(hosts).toEqual([['*--alpha.us-east-1.example.com'], ['*--bravo.us-east-1.example.com']]);
    for (const r of rules) {
      const name = r
        .Conditions!.flatMap((c) => c.HostHeaderConfig?.Values ?? c.Values ?? [])[0]
        .includes('alpha')
        ? 'alpha'
        : 'bravo';
      expect(JSON.stringify(r.Actions)).toContain(`targetgroup/k3s-${name}-ing/`);
    }
  });
});
