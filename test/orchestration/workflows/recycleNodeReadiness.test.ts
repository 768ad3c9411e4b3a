// The node readiness probe shared by recycle's node Ready gate and cluster create's readiness wait: the
// compact node listing, the SSM runner and the probe. An empty SSM output (moto's Run Command) or a
// command still pending is no answer; only output that is there and unreadable is a parse error.
import { gzipSync } from 'node:zlib';
import { buildClusterSpec } from '../../../src/config/cluster';
import type { RunContext } from '../../../src/provider/types';
import { clusterCreate } from '../../../src/orchestration/workflows/clusterCreate';
import {
  kubernetesNodeReadiness,
  nodeReadinessRows,
  NODE_READINESS_COMMAND,
  ssmShellRunner,
  type ShellRunner,
} from '../../../src/orchestration/steps/recycleNodeReadiness';
import { describeClusterGroups } from '../../../src/resources/autoScalingInstance';
import { Sandbox } from '../../../src/sandbox/sandbox';
import { removeTestHomes, sandboxDeps } from '../../helpers/sandboxDeps';

afterAll(() => removeTestHomes());

const listing = (text: string) => gzipSync(Buffer.from(text)).toString('base64');

describe('nodeReadinessRows', () => {
  it('reads the compact listing: instance id and Ready condition per node', () => {
    const out = listing('i-0abc True\ni-0def False\ni-0123 Unknown\n<none> True\n');
    expect(nodeReadinessRows(`${out}\n`)).toEqual({ 'i-0abc': 'Ready', 'i-0def': 'NotReady', 'i-0123': 'Unknown' });
    // A cluster with no node yet answers an empty list, which is not an empty output.
    expect(nodeReadinessRows(listing(''))).toEqual({});
  });

  it('reads an empty or missing output as no answer, not as a gzip stream', () => {
    expect(nodeReadinessRows('')).toBeUndefined();
    expect(nodeReadinessRows(' \n')).toBeUndefined();
    expect(nodeReadinessRows(undefined)).toBeUndefined();
  });

  it('reports output that is there but unreadable as a parse error, with a sample of it', () => {
    expect(() => nodeReadinessRows('error: You must be logged in to the server')).toThrow(
      /^the node list is not gzip \+ base64 \(.+\): 'error: You must be logged in to the server'$/,
    );
    // A listing cut short is unreadable too.
    const cut = listing('i-0abc True\n'.repeat(50)).slice(0, 30);
    expect(() => nodeReadinessRows(cut)).toThrow(/not gzip \+ base64 \(unexpected end of file\)/);
  });
});

/** A one-control-plane cluster in `sb`, InService, with its control plane's instance id and a run context. */
async function cluster(sb: Sandbox) {
  const { deps } = sandboxDeps(sb);
  await clusterCreate(deps, buildClusterSpec({ name: 'probe', region: 'us-east-1', controlPlanes: 1, nodes: 1 }), { wait: false });
  sb.advance(10 * 60_000);
  const groups = await describeClusterGroups(deps.clients, 'probe');
  const cp = groups.find((g) => g.role === 'control-plane')!.instances[0].instanceId;
  const ctx = { ...deps, journal: undefined as never, get: () => undefined as never } as unknown as RunContext;
  return { cp, ctx };
}

describe('ssmShellRunner', () => {
  it('answers the node listing of a running cluster', async () => {
    const sb = new Sandbox();
    const { cp, ctx } = await cluster(sb);
    const res = await ssmShellRunner(ctx, cp, NODE_READINESS_COMMAND);
    expect(res.ok).toBe(true);
    expect(Object.values(nodeReadinessRows(res.stdout)!)).toEqual(['Ready', 'Ready']);
  });

  it('reports a command that succeeded with empty output as no answer', async () => {
    const sb = new Sandbox({ behavior: { ssmNoOutput: ['*'] } });
    const { cp, ctx } = await cluster(sb);
    expect(await ssmShellRunner(ctx, cp, NODE_READINESS_COMMAND)).toEqual({ ok: false, stdout: '', error: 'SSM command output empty' });
  });

  it('reports a command still pending when its time is up as no answer (not an error thrown)', async () => {
    const sb = new Sandbox();
    const { cp, ctx } = await cluster(sb);
    sb.behavior.timings.ssmCommandMs = 10 * 60_000;
    const t0 = sb.now();
    const res = await ssmShellRunner(ctx, cp, NODE_READINESS_COMMAND, 20_000);
    expect(res).toEqual({ ok: false, stdout: '', error: expect.stringMatching(/^SSM command not finished after 20s \((Pending|InProgress)\)$/) });
    expect(sb.now() - t0).toBeLessThan(30_000);
  });
});

describe('kubernetesNodeReadiness', () => {
  it('reports empty output as an unanswered control plane (with why), never a gzip error', async () => {
    const sb = new Sandbox({ behavior: { ssmNoOutput: ['*'] } });
    const { cp, ctx } = await cluster(sb);
    const answer = await kubernetesNodeReadiness('probe')(ctx, []);
    expect(answer).toEqual({ unreachable: `no control plane answered (${cp}: SSM command output empty)`, answers: { [cp]: 'SSM command output empty' } });
  });

  it('still reports garbage output as a parse error', async () => {
    const sb = new Sandbox();
    const { cp, ctx } = await cluster(sb);
    const garbage: ShellRunner = async () => ({ ok: true, stdout: 'Welcome to k3s!' });
    const answer = await kubernetesNodeReadiness('probe', garbage)(ctx, []);
    expect('unreachable' in answer && answer.answers?.[cp]).toMatch(/^the node list is not gzip \+ base64/);
  });
});
