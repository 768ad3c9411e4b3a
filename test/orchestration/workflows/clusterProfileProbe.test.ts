// cluster create waits until EC2 accepts a new instance profile (RunInstances dry runs) before it creates
// the Auto Scaling groups that use it: one chain of dry runs per profile, however many groups share it;
// a refused dry run for any other reason fails the run before any group exists, and rollback is clean.
import { buildClusterSpec, buildGroupSpec, type ClusterSpec } from '../../../src/config/cluster';
import { RunFailedError } from '../../../src/orchestration/deps';
import { clusterCreate } from '../../../src/orchestration/workflows/clusterCreate';
import { Sandbox } from '../../../src/sandbox/sandbox';
import { removeTestHomes, sandboxDeps } from '../../helpers/sandboxDeps';

afterAll(() => removeTestHomes());

function withNodeGroups(n: number): ClusterSpec {
  const base = buildClusterSpec({ name: 'probe', region: 'us-east-1', controlPlanes: 1, nodes: 1 });
  const cp = base.groups.find((g) => g.role === 'control-plane')!;
  const nodes = Array.from({ length: n }, (_, i) =>
    buildGroupSpec({ name: `g${i + 1}`, role: 'node', count: 1 }, { k3sVersion: base.k3sVersion }),
  );
  return { ...base, groups: [cp, ...nodes] };
}

async function created(spec: ClusterSpec) {
  const sb = new Sandbox();
  await clusterCreate(sandboxDeps(sb).deps, spec, { wait: false });
  return sb.state.calls.byOperation;
}

describe('cluster create: instance profiles usable before the groups', () => {
  it('probes each profile once per run, however many groups use it', async () => {
    const one = await created(withNodeGroups(1));
    const three = await created(withNodeGroups(3));
    expect(one.CreateAutoScalingGroup).toBe(2);
    expect(three.CreateAutoScalingGroup).toBe(4);
    // Both profiles were refused at first (IAM propagation), and the node groups shared one chain.
    expect(one.RunInstances).toBeGreaterThan(2);
    expect(three.RunInstances).toBe(one.RunInstances);
  });

  it('fails before any group exists when a dry run is refused for another reason, and rolls back', async () => {
    const sb = new Sandbox();
    const before = sb.inventory({ includeDefaults: false });
    sb.faults.add({
      op: 'RunInstances',
      nth: 1,
      code: 'UnauthorizedOperation',
      message: 'not allowed to launch',
    });
    const failed = await clusterCreate(sandboxDeps(sb).deps, withNodeGroups(1)).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(RunFailedError);
    expect((failed as RunFailedError).leftovers).toEqual([]);
    expect(sb.state.calls.byOperation.CreateAutoScalingGroup ?? 0).toBe(0);
    expect(sb.inventory({ includeDefaults: false })).toEqual(before);
  });
});
