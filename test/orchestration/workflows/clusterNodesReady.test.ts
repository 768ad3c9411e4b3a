// Sandbox integration: cluster create waits for the Kubernetes nodes Ready after InService (asked with a
// compact node listing over SSM Run Command on a control plane), only when the run changed something,
// for one readiness window, polling with backoff. An empty SSM output (moto's Run Command) is no answer,
// never a parse error. When the window closes first, the run keeps its resources (nothing is rolled
// back) and ClusterNotReadyError names every instance not Ready with what was last heard of it.
import { buildClusterSpec } from '../../../src/config/cluster';
import { ClusterNotReadyError } from '../../../src/core/errors';
import { clusterCreate } from '../../../src/orchestration/workflows/clusterCreate';
import { defaultTimings } from '../../../src/sandbox/latency';
import { Sandbox } from '../../../src/sandbox/sandbox';
import { removeTestHomes, sandboxDeps, type CollectingEvents } from '../../helpers/sandboxDeps';

afterAll(() => removeTestHomes());

const spec = buildClusterSpec({ name: 'rdy', region: 'us-east-1', controlPlanes: 1, nodes: 2 });
const INSTANCE = /^i-[0-9a-f]{17}$/;

function counts(sb: Sandbox): Record<string, number> {
  const out: Record<string, number> = {};
  for (const item of sb.inventory({ includeDefaults: false })) out[item.type] = (out[item.type] ?? 0) + 1;
  return out;
}

/** Every message the run reported (progress updates, step failures, logs). */
function messages(events: CollectingEvents): string {
  return events.list.map((e) => JSON.stringify(e)).join('\n');
}

async function notReadyError(sb: Sandbox, options: { waitTimeoutMs?: number; timeoutScale?: number } = {}) {
  const { deps, events } = sandboxDeps(sb, options.timeoutScale ? { timeoutScale: options.timeoutScale } : {});
  const error = await clusterCreate(deps, spec, { waitTimeoutMs: options.waitTimeoutMs }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(ClusterNotReadyError);
  return { error: error as ClusterNotReadyError, deps, events };
}

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
    const noWait = await clusterCreate(sandboxDeps(sb, { home: first.home }).deps, { ...spec, groups: spec.groups.map((g) => ({ ...g, count: g.role === 'node' ? 3 : g.count })) }, { wait: false, waitTimeoutMs: 1000 });
    expect(noWait.nodesReady).toBeNull();
    expect(sb.state.calls.byOperation.SendCommand).toBe(probes);
  });

  it('reads an empty SSM output as no answer (not a parse error) and, when the window closes, names every instance; nothing is rolled back', async () => {
    // moto's Run Command: every command ends Success with empty output.
    const sb = new Sandbox({ behavior: { ssmNoOutput: ['*'] } });
    const t0 = sb.now();
    const { error, deps, events } = await notReadyError(sb, { waitTimeoutMs: 5 * 60_000 });
    expect(error.notReady).toHaveLength(3);
    for (const i of error.notReady) {
      expect(i).toEqual({ instanceId: expect.stringMatching(INSTANCE), group: expect.stringMatching(/^k3sctl-rdy-(control-plane|nodes)$/), lastAnswer: 'no answer (SSM command output empty)' });
    }
    expect(error.message).toBe(
      `cluster rdy did not become ready within 5m: 3 instance(s) not Ready (${error.notReady.map((i) => i.instanceId).join(', ')}: no answer (SSM command output empty)); ` +
        `its AWS resources were created and kept (run ${deps.runId})`,
    );
    expect(error.waitTimeoutMs).toBe(5 * 60_000);
    expect(messages(events)).not.toMatch(/unexpected end of file|gzip/);
    // The run succeeded and is reported: its id, and the changes it made (kept).
    expect(error.run).toBe(deps.runId);
    expect(error.changes).toEqual(expect.arrayContaining([expect.objectContaining({ action: 'create', type: 'AWS::AutoScaling::AutoScalingGroup', name: 'k3sctl-rdy-nodes' })]));
    expect(events.of('rollback-start')).toEqual([]);
    // The window is the readiness wait, bounded (InService took about a minute and a half).
    expect(sb.now() - t0).toBeLessThan(5 * 60_000 + 3 * 60_000);
    // Resources kept: the cluster is whole, and a re-run with the same input has nothing to write.
    sb.advance(3_600_000);
    expect(counts(sb)).toMatchObject({ 'AWS::AutoScaling::AutoScalingGroup': 2, 'AWS::EC2::Instance': 3, 'AWS::EC2::LaunchTemplate': 2 });
    const again = await clusterCreate(sandboxDeps(sb).deps, spec);
    expect(again.apiCalls.write).toBe(0);
  });

  it('polls with backoff: a 5-minute window in which no control plane answers costs a few dozen SSM commands, not one a second', async () => {
    // k3s servers that take an hour: InService, but kubectl is refused.
    const sb = new Sandbox({ behavior: { timings: { ...defaultTimings, k3sServerReadyMs: 3_600_000 } } });
    const { error } = await notReadyError(sb, { waitTimeoutMs: 5 * 60_000 });
    const sent = sb.state.calls.byOperation.SendCommand ?? 0;
    expect(sent).toBeGreaterThan(5);
    expect(sent).toBeLessThan(40);
    expect(error.notReady.map((i) => i.lastAnswer)).toEqual(Array(3).fill(expect.stringMatching(/^no answer \(Failed: The connection to the server .* was refused/)));
  });

  it('names instances that are not Ready when the cluster answers, with their last answer; nothing is rolled back', async () => {
    // Agents that never get Ready within the window; the server answers.
    const sb = new Sandbox({ behavior: { timings: { ...defaultTimings, k3sAgentReadyMs: 3 * 3_600_000 } } });
    const { error, events } = await notReadyError(sb, { timeoutScale: 0.2 });
    expect(error.waitTimeoutMs).toBe(3 * 60_000);
    expect(error.notReady).toEqual([
      { instanceId: expect.stringMatching(INSTANCE), group: 'k3sctl-rdy-nodes', lastAnswer: 'no node' },
      { instanceId: expect.stringMatching(INSTANCE), group: 'k3sctl-rdy-nodes', lastAnswer: 'no node' },
    ]);
    expect(events.of('rollback-start')).toEqual([]);
    // The progress display shows the wait failed (the run did not).
    expect(events.of('step-fail').map((e) => e.title)).toEqual(['wait for the nodes of rdy Ready']);
    sb.advance(2 * 3_600_000);
    expect(counts(sb)).toMatchObject({ 'AWS::AutoScaling::AutoScalingGroup': 2, 'AWS::EC2::Instance': 3 });
  });
});
