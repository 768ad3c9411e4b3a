// Sandbox integration: what instances write under their cluster's SSM path. The first control plane
// records the cluster as initialised; a bootstrap that fails for good records its reason in
// bootstrap-failures/INSTANCE_ID and marks the instance Unhealthy (K3SCTL_SANDBOX_BEHAVIOR bootstrapFails).
// A create that fails after instances booted rolls all of it back (a re-created cluster of the same
// name then initialises), the create wait and `cluster describe` name the recorded reason, and
// `cluster delete` removes everything under the path.
import { GetParametersByPathCommand } from '@aws-sdk/client-ssm';
import type { AwsClients } from '../../../src/aws/clients';
import { buildClusterSpec, buildGroupSpec } from '../../../src/config/cluster';
import { names } from '../../../src/aws/names';
import { RunFailedError } from '../../../src/orchestration/deps';
import { rollbackRun } from '../../../src/orchestration/engine/rollback';
import { clusterCreate } from '../../../src/orchestration/workflows/clusterCreate';
import { clusterDelete } from '../../../src/orchestration/workflows/clusterDelete';
import { clusterDescribe } from '../../../src/orchestration/workflows/clusterDescribe';
import { groupAdd } from '../../../src/orchestration/workflows/groupAdd';
import { defaultTimings } from '../../../src/sandbox/latency';
import { Sandbox } from '../../../src/sandbox/sandbox';
import { removeTestHomes, sandboxDeps } from '../../helpers/sandboxDeps';

afterAll(() => removeTestHomes());

const live = (sb: Sandbox) => sb.inventory().filter((i) => !(i.type === 'AWS::EC2::Instance' && /terminated/.test(i.fingerprint ?? '')));

async function parametersUnder(c: AwsClients, path: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  let NextToken: string | undefined;
  do {
    const page = await c.ssm.send(new GetParametersByPathCommand({ Path: path, Recursive: true, NextToken }));
    for (const p of page.Parameters ?? []) out[p.Name!] = p.Value!;
    NextToken = page.NextToken;
  } while (NextToken);
  return out;
}

describe('what instances write under the cluster path', () => {
  it('the first control plane records the cluster as initialised', async () => {
    const sb = new Sandbox();
    const { deps } = sandboxDeps(sb);
    await clusterCreate(deps, buildClusterSpec({ name: 'init', region: 'us-east-1', controlPlanes: 3, nodes: 1 }));
    const params = await parametersUnder(deps.clients, names.ssmPrefix('init'));
    expect(params[names.ssmInitialized('init')]).toMatch(/^initialized-by=i-[0-9a-f]{17} at=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });

  it('a create that fails after instances booted leaves nothing under the path; the same name then initialises', async () => {
    // The nodes' bootstrap fails within a second of boot: before InService, so the InService wait never ends.
    const sb = new Sandbox({ behavior: { bootstrapFails: ['k3sctl-again-nodes'], timings: { ...defaultTimings, k3sAgentReadyMs: 1_000 } } });
    const before = live(sb);
    const first = sandboxDeps(sb, { timeoutScale: 0.25 });
    const spec = buildClusterSpec({ name: 'again', region: 'us-east-1', controlPlanes: 1, nodes: 1 });
    const error = await clusterCreate(first.deps, spec).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RunFailedError);
    // The wait gave up on the node group, naming the reason its instances recorded.
    expect((error as Error).message).toMatch(/k3sctl-again-nodes InService; last seen: 0\/1 InService/);
    expect((error as Error).message).toMatch(/Unhealthy so far \(the group replaces them\): i-[0-9a-f]{17} \(bootstrap failed: k3sctl-bootstrap: k3s agent did not join cluster again/);
    expect((error as RunFailedError).leftovers).toEqual([]);
    expect((error as RunFailedError).rolledBack).toEqual(expect.arrayContaining([expect.objectContaining({ type: 'AWS::SSM::Parameter', name: names.ssmConfig('again') })]));
    // The control plane had recorded `initialized`, the nodes their failures: all gone with the rest.
    expect(await parametersUnder(first.deps.clients, names.ssmPrefix('again'))).toEqual({});
    expect(live(sb)).toEqual(before);

    sb.state.behavior.bootstrapFails = [];
    sb.state.behavior.timings = { ...defaultTimings };
    const second = sandboxDeps(sb, { home: first.home });
    const created = await clusterCreate(second.deps, spec);
    expect(created.nodesReady).toBe(true);
    const marker = (await parametersUnder(second.deps.clients, names.ssmPrefix('again')))[names.ssmInitialized('again')];
    const cp = (await clusterDescribe(second.deps, 'again')).groups.find((g) => g.role === 'control-plane')!.instances[0].id;
    expect(marker).toMatch(new RegExp(`^initialized-by=${cp} `));
  });

  it('when the rollback cannot delete a group, the settings stay listed until a later rollback finds its instances gone', async () => {
    const sb = new Sandbox({ behavior: { bootstrapFails: ['k3sctl-kept-nodes'], timings: { ...defaultTimings, k3sAgentReadyMs: 1_000 } } });
    const before = live(sb);
    sb.faults.add({ op: 'DeleteAutoScalingGroup', nth: 1, code: 'AccessDenied' });
    const first = sandboxDeps(sb, { timeoutScale: 0.25 });
    const error = (await clusterCreate(first.deps, buildClusterSpec({ name: 'kept', region: 'us-east-1', controlPlanes: 1, nodes: 1 })).catch((e: unknown) => e)) as RunFailedError;
    expect(error).toBeInstanceOf(RunFailedError);
    // The group left behind still runs instances, which may write under the path after a cleanup.
    expect(error.leftovers).toEqual([
      expect.objectContaining({ type: 'AWS::AutoScaling::AutoScalingGroup', error: expect.stringMatching(/AccessDenied/) }),
      expect.objectContaining({ type: 'AWS::SSM::Parameter', name: names.ssmConfig('kept'), error: expect.stringMatching(/still run outside a group being deleted/) }),
    ]);
    sb.advance(5 * 60_000);
    sb.faults.clear();
    const again = await rollbackRun(sandboxDeps(sb, { home: first.home }).deps, first.deps.runId);
    expect(again.leftovers).toEqual([]);
    expect(await parametersUnder(first.deps.clients, names.ssmPrefix('kept'))).toEqual({});
    expect(live(sb)).toEqual(before);
  });

  it('a control plane of a cluster recorded as initialised by a server that is gone refuses to initialise and says why', async () => {
    const sb = new Sandbox();
    const { deps, home } = sandboxDeps(sb);
    // A marker from an earlier cluster of the same name (what a rollback used to leave behind).
    await deps.clients.ssm.send(
      new (await import('@aws-sdk/client-ssm')).PutParameterCommand({ Name: names.ssmInitialized('stale'), Type: 'String', Value: 'initialized-by=i-0123456789abcdef0 at=2025-12-31T00:00:00Z' }),
    );
    const created = await clusterCreate(sandboxDeps(sb, { home }).deps, buildClusterSpec({ name: 'stale', region: 'us-east-1', controlPlanes: 1, nodes: 0 }), { waitTimeoutMs: 12 * 60_000 }).catch(
      (e: unknown) => e,
    );
    expect(created).toMatchObject({ name: 'ClusterNotReadyError' });
    sb.advance(60_000);
    const described = await clusterDescribe(sandboxDeps(sb, { home }).deps, 'stale');
    expect(described.bootstrapFailures[0]).toMatchObject({
      reason: expect.stringMatching(/^k3sctl-server-join: cluster stale was initialised \(initialized-by=i-0123456789abcdef0 .*\) but no control plane answered; refusing to --cluster-init a second, empty cluster/),
    });
  });

  it('a bootstrap that fails after InService is named while create waits for the nodes Ready', async () => {
    const sb = new Sandbox({ behavior: { bootstrapFails: ['k3sctl-late-nodes'] } });
    const { deps, events } = sandboxDeps(sb);
    const error = await clusterCreate(deps, buildClusterSpec({ name: 'late', region: 'us-east-1', controlPlanes: 1, nodes: 1 }), { waitTimeoutMs: 5 * 60_000 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'ClusterNotReadyError' });
    // The node group kept replacing its node: named among the instances that are not Ready nodes.
    expect((error as { notReady: { group: string }[] }).notReady.map((i) => i.group)).toContain('k3sctl-late-nodes');
    const progress = events.of('step-update').map((e) => e.message);
    expect(progress.some((m) => /waiting for the instances of cluster late Ready .*Unhealthy so far \(the group replaces them\): i-[0-9a-f]{17} \(bootstrap failed: k3sctl-bootstrap: k3s agent did not join cluster late/.test(m))).toBe(true);
    const warned = events.of('log').filter((e) => e.level === 'warn').map((e) => e.message);
    expect(warned).toEqual(expect.arrayContaining([expect.stringMatching(/^cluster late: \d+ Unhealthy so far .*bootstrap failed: k3sctl-bootstrap: k3s agent did not join cluster late.*; see k3sctl cluster describe late$/)]));
  });

  it('describe shows the reason per instance; delete removes what instances wrote', async () => {
    const sb = new Sandbox();
    const before = live(sb);
    const home = sandboxDeps(sb).home;
    const next = (timeoutScale?: number) => sandboxDeps(sb, { home, timeoutScale }).deps;
    await clusterCreate(next(), buildClusterSpec({ name: 'desc', region: 'us-east-1', controlPlanes: 1, nodes: 1 }));
    const healthy = await clusterDescribe(next(), 'desc');
    expect(healthy.bootstrapFailures).toEqual([]);
    expect(healthy.groups.flatMap((g) => g.instances).every((i) => i.bootstrapFailure === undefined)).toBe(true);

    sb.state.behavior.bootstrapFails = ['k3sctl-desc-broken'];
    await groupAdd(next(), 'desc', buildGroupSpec({ name: 'broken', role: 'node', count: 2 }), { wait: false });
    // Until one failed instance is still in its group (Unhealthy, being replaced) and one is already replaced.
    let deps = next();
    let described = await clusterDescribe(deps, 'desc');
    for (let t = 0; t < 10 * 60_000 && !(described.bootstrapFailures.some((f) => f.inGroup) && described.bootstrapFailures.some((f) => !f.inGroup)); t += 10_000) {
      sb.advance(10_000);
      deps = next();
      described = await clusterDescribe(deps, 'desc');
    }
    const broken = described.groups.find((g) => g.name === 'broken')!;
    const failing = broken.instances.filter((i) => i.bootstrapFailure !== undefined);
    expect(failing.length).toBeGreaterThan(0);
    for (const i of failing) {
      expect(i.health).toBe('Unhealthy');
      expect(i.bootstrapFailure).toMatch(/^k3sctl-bootstrap: k3s agent did not join cluster desc/);
    }
    expect(described.bootstrapFailures.filter((f) => f.inGroup).map((f) => f.instanceId).sort()).toEqual(failing.map((i) => i.id).sort());
    expect(described.bootstrapFailures.some((f) => !f.inGroup)).toBe(true);
    // One listing of the path for the configuration and the failures, not a read per instance.
    expect(deps.clients.calls.byOperation.get('GetParameter') ?? 0).toBe(0);
    const healthyIds = described.groups.filter((g) => g.name !== 'broken').flatMap((g) => g.instances);
    expect(healthyIds.every((i) => i.bootstrapFailure === undefined)).toBe(true);

    const params = await parametersUnder(deps.clients, names.ssmBootstrapFailures('desc'));
    expect(Object.keys(params).length).toBeGreaterThanOrEqual(2);
    await clusterDelete(next(), 'desc');
    expect(await parametersUnder(deps.clients, names.ssmPrefix('desc'))).toEqual({});
    expect(live(sb)).toEqual(before);
  });
});
