// Failures: a create that fails midway rolls back to exactly the starting inventory; a delete that fails
// midway leaves a half-deleted cluster that the next delete finishes.
import { Sandbox } from '../../../src/sandbox/sandbox';
import { buildClusterSpec } from '../../../src/config/cluster';
import { RunFailedError } from '../../../src/orchestration/deps';
import { clusterCreate } from '../../../src/orchestration/workflows/clusterCreate';
import { clusterDelete } from '../../../src/orchestration/workflows/clusterDelete';
import { clusterList } from '../../../src/orchestration/workflows/clusterList';
import { removeTestHomes, sandboxDeps } from '../../helpers/sandboxDeps';

afterAll(() => removeTestHomes());

const live = (sb: Sandbox) => sb.inventory().filter((i) => !(i.type === 'AWS::EC2::Instance' && /terminated/.test(i.fingerprint ?? '')));

describe('cluster create/delete failures', () => {
  it.each([
    ['CreateAutoScalingGroup', 2],
    ['CreateLaunchTemplate', 2],
    ['AuthorizeSecurityGroupIngress', 1],
    ['AddRoleToInstanceProfile', 2],
    ['PutParameter', 3],
  ])(
    'rolls back when %s #%d fails',
    async (op, nth) => {
      const sb = new Sandbox();
      const before = live(sb);
      sb.faults.add({ op, nth, code: 'AccessDenied' });
      const { deps } = sandboxDeps(sb);
      const spec = buildClusterSpec({ name: 'rb', region: 'us-east-1', controlPlanes: 1, nodes: 1 });
      const error = await clusterCreate(deps, spec).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RunFailedError);
      expect((error as RunFailedError).leftovers).toEqual([]);
      expect(live(sb)).toEqual(before);
    },
  );

  it('finishes a half-deleted cluster on the next delete', async () => {
    const sb = new Sandbox();
    const before = live(sb);
    const first = sandboxDeps(sb);
    await clusterCreate(first.deps, buildClusterSpec({ name: 'half', region: 'us-east-1', controlPlanes: 1, nodes: 1 }));
    sb.faults.add({ op: 'DeleteInstanceProfile', nth: 1, code: 'ServiceFailure' });
    await expect(clusterDelete(sandboxDeps(sb, { home: first.home }).deps, 'half')).rejects.toBeInstanceOf(RunFailedError);
    const listed = await clusterList(sandboxDeps(sb, { home: first.home }).deps);
    expect(listed.clusters).toEqual([expect.objectContaining({ name: 'half', status: 'incomplete' })]);
    sb.faults.clear();
    const finished = await clusterDelete(sandboxDeps(sb, { home: first.home }).deps, 'half');
    expect(finished.changes.map((c) => c.type)).toEqual(expect.arrayContaining(['AWS::IAM::InstanceProfile', 'AWS::EC2::SecurityGroup']));
    expect(live(sb)).toEqual(before);
  });

  it('restores what a failed update changed (launch template default, capacity, rules, config)', async () => {
    const sb = new Sandbox();
    const first = sandboxDeps(sb);
    const spec = buildClusterSpec({ name: 'upd', region: 'us-east-1', controlPlanes: 1, nodes: 1, sshCidrs: ['203.0.113.0/24'] });
    await clusterCreate(first.deps, spec);
    const changed = buildClusterSpec({ name: 'upd', region: 'us-east-1', controlPlanes: 1, nodes: 2, nodeType: 't3.large', sshCidrs: ['198.51.100.0/24'] });
    sb.faults.add({ op: 'UpdateAutoScalingGroup', nth: 1, code: 'AccessDenied' });
    const error = await clusterCreate(sandboxDeps(sb, { home: first.home }).deps, changed).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RunFailedError);
    expect((error as RunFailedError).leftovers).toEqual([]);
    sb.faults.clear();
    const again = await clusterCreate(sandboxDeps(sb, { home: first.home }).deps, spec);
    expect(again.changes.filter((c) => c.action !== 'noop')).toEqual([]);
    expect(again.apiCalls.write).toBe(0);
  });
});
