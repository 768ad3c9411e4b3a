// Sandbox integration: cluster create waits for the Kubernetes nodes Ready after InService (asked with
// `k3s kubectl get nodes -o json` over SSM Run Command on a control plane), only when the run changed
// something; goes on with a warning when no control plane answers within the reachability window;
// fails (and rolls back) when a reachable cluster's nodes are not Ready in time.
import '../../../src/resources';
import { buildClusterSpec } from '../../../src/config/cluster';
import { WaitTimeoutError } from '../../../src/core/errors';
import { RunFailedError } from '../../../src/orchestration/deps';
import { clusterCreate } from '../../../src/orchestration/workflows/clusterCreate';
import { defaultTimings } from '../../../src/sandbox/latency';
import { Sandbox } from '../../../src/sandbox/sandbox';
import { removeTestHomes, sandboxDeps } from '../../helpers/sandboxDeps';

afterAll(() => removeTestHomes());

const spec = buildClusterSpec({ name: 'rdy', region: 'us-east-1', controlPlanes: 1, nodes: 2 });

describe('cluster create: Kubernetes nodes Ready', () => {
  it('returns when every instance is a Ready node, so kubeconfig works right away; a re-run does not ask', async () => {
    const sb = new Sandbox();
    const first = sandboxDeps(sb);
    const created = await clusterCreate(first.deps, spec);
    expect(created.nodesReady).toBe(true);
    expect(sb.state.calls.byOperation.SendCommand).toBeGreaterThan(0);
    const probes = sb.state.calls.byOperation.SendCommand;
    const again = await clusterCreate(sandboxDeps(sb, { home: first.home }).deps, spec);
    expect(again.apiCalls.write).toBe(0);
    expect(again.nodesReady).toBeNull();
    expect(sb.state.calls.byOperation.SendCommand).toBe(probes);
    const noWait = await clusterCreate(sandboxDeps(sb, { home: first.home }).deps, { ...spec, groups: spec.groups.map((g) => ({ ...g, count: g.role === 'node' ? 3 : g.count })) }, { wait: false });
    expect(noWait.nodesReady).toBeNull();
    expect(sb.state.calls.byOperation.SendCommand).toBe(probes);
  });

  it('goes on with a warning (nodesReady null) when no control plane answers', async () => {
    // k3s servers that take an hour: InService, but nothing answers kubectl.
    const sb = new Sandbox({ behavior: { timings: { ...defaultTimings, k3sServerReadyMs: 3_600_000 } } });
    const { deps, events } = sandboxDeps(sb);
    const t0 = sb.now();
    const created = await clusterCreate(deps, spec);
    expect(created.nodesReady).toBeNull();
    const warnings = events.of('log').filter((e) => e.level === 'warn').map((e) => e.message);
    expect(warnings).toEqual([expect.stringMatching(/^nodes not checked: no control plane answered .*refused/)]);
    // Bounded: the InService wait plus the 5-minute reachability window (and one poll).
    expect(sb.now() - t0).toBeLessThan(10 * 60_000);
  });

  it('fails naming the instances that are not Ready when the cluster answers', async () => {
    // Agents that never get Ready within the timeout; the server answers.
    const sb = new Sandbox({ behavior: { timings: { ...defaultTimings, k3sAgentReadyMs: 3 * 3_600_000 } } });
    const before = sb.inventory({ includeDefaults: false });
    const { deps } = sandboxDeps(sb, { timeoutScale: 0.2 });
    const error = await clusterCreate(deps, spec).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RunFailedError);
    const cause = (error as RunFailedError & { cause?: unknown }).cause;
    expect(cause).toBeInstanceOf(WaitTimeoutError);
    expect((cause as WaitTimeoutError).lastSeen).toMatch(/^not Ready: (i-[0-9a-f]{17} \(no node\)(, )?){2}$/);
    expect((error as RunFailedError).leftovers).toEqual([]);
    sb.advance(2 * 3_600_000);
    expect(sb.inventory({ includeDefaults: false })).toEqual(before);
  });
});
