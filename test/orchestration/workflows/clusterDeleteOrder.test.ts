// `cluster delete` ordering and failures: the control planes start terminating only once every node is
// past its termination hook (drained, gone from the cluster), though before the nodes finished shutting
// down; a node group that fails before it drained keeps the control planes; the deletes after the groups
// run in parallel, each tried whatever the others do, and a failed one fails the run with every delete
// that happened in its result; the security group's DependencyViolation is retried.
import { buildClusterSpec } from '../../../src/config/cluster';
import { RunFailedError } from '../../../src/orchestration/deps';
import { clusterCreate } from '../../../src/orchestration/workflows/clusterCreate';
import { clusterDelete } from '../../../src/orchestration/workflows/clusterDelete';
import { clusterList } from '../../../src/orchestration/workflows/clusterList';
import { Sandbox } from '../../../src/sandbox/sandbox';
import { removeTestHomes, sandboxDeps } from '../../helpers/sandboxDeps';

afterAll(() => removeTestHomes());

const CP = 'k3sctl-ord-control-plane';
const NODES = 'k3sctl-ord-nodes';
const spec = buildClusterSpec({ name: 'ord', region: 'us-east-1', controlPlanes: 3, nodes: 3 });

interface SampledGroups {
  groups: Record<string, { instances: { InstanceId: string; lifecycle: string }[] }>;
}

async function withCluster() {
  const sb = new Sandbox();
  const { home } = sandboxDeps(sb);
  await clusterCreate(sandboxDeps(sb, { home }).deps, spec);
  const next = () => sandboxDeps(sb, { home }).deps;
  return { sb, next };
}

/** The lifecycle state of every instance of the group now, from the simulated account's own state. */
function lifecycles(sb: Sandbox, group: string): string[] {
  const st = sb.existingServiceState<SampledGroups>('autoscaling', 'us-east-1');
  return (st?.groups[group]?.instances ?? []).map((i) => i.lifecycle);
}

/** Calls `sample` after every API call the sandbox answers (the only moments its state changes). */
function sampleAfterEachCall(sb: Sandbox, sample: () => void): void {
  const call = sb.call.bind(sb);
  sb.call = async (...args: Parameters<Sandbox['call']>) => {
    try {
      return await call(...args);
    } finally {
      sample();
    }
  };
}

describe('cluster delete: order of the groups', () => {
  it('starts terminating the control planes once every node is past its termination hook, before the nodes are terminated', async () => {
    const { sb, next } = await withCluster();
    expect(lifecycles(sb, NODES)).toHaveLength(3);
    let cpTerminatingWhileNodes: string[] | undefined;
    const violations: string[][] = [];
    sampleAfterEachCall(sb, () => {
      if (!lifecycles(sb, CP).some((s) => s.startsWith('Terminating'))) return;
      const nodes = lifecycles(sb, NODES);
      cpTerminatingWhileNodes ??= nodes;
      // A node still in the cluster: not yet past its hook (Pending, InService, Terminating, Terminating:Wait).
      if (nodes.some((s) => s !== 'Terminating:Proceed')) violations.push(nodes);
    });
    await clusterDelete(next(), 'ord');
    expect(violations).toEqual([]);
    // The control planes did not wait for the nodes' shutdown: the nodes were still in their group.
    expect(cpTerminatingWhileNodes).toEqual([
      'Terminating:Proceed',
      'Terminating:Proceed',
      'Terminating:Proceed',
    ]);
    expect(lifecycles(sb, CP)).toEqual([]);
  });

  it('keeps the control planes when a node group fails before it drained', async () => {
    const { sb, next } = await withCluster();
    // The first capacity change is the node group's scale-in (the control planes wait for its drain).
    sb.faults.add({ op: 'UpdateAutoScalingGroup', nth: 1, code: 'AccessDenied' });
    const failed = await clusterDelete(next(), 'ord').catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(RunFailedError);
    expect(lifecycles(sb, CP)).toEqual(['InService', 'InService', 'InService']);
    expect(sb.state.calls.byOperation.UpdateAutoScalingGroup).toBe(1);
    sb.faults.clear();
    await clusterDelete(next(), 'ord');
    expect(lifecycles(sb, CP)).toEqual([]);
  });
});

describe('cluster delete: the deletes after the groups', () => {
  it('retries the security group while it is in use (DependencyViolation)', async () => {
    const { sb, next } = await withCluster();
    const before = sb.state.calls.byOperation.DeleteSecurityGroup ?? 0;
    sb.faults.add({ op: 'DeleteSecurityGroup', nth: 1, code: 'DependencyViolation' });
    const deleted = await clusterDelete(next(), 'ord');
    expect(sb.state.calls.byOperation.DeleteSecurityGroup - before).toBe(2);
    expect(deleted.changes.filter((c) => c.type === 'AWS::EC2::SecurityGroup')).toHaveLength(1);
    await expect(clusterDelete(next(), 'ord')).rejects.toThrow(/does not exist/);
  });

  it('tries every delete when one fails, reports each that happened, fails, and the next delete finishes', async () => {
    const { sb, next } = await withCluster();
    const planned = (await clusterDelete(next(), 'ord', { dryRun: true })).planned;
    const planTypes = (type: string) =>
      planned
        .filter((c) => c.type === type)
        .map((c) => c.name)
        .sort();
    expect(planTypes('AWS::EC2::LaunchTemplate')).toHaveLength(2);
    sb.faults.add({ op: 'DeleteLaunchTemplate', nth: 1, code: 'AccessDenied' });

    const failed = await clusterDelete(next(), 'ord').catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(RunFailedError);
    const changes = (failed as RunFailedError).changes;
    const deletedOf = (type: string) =>
      changes
        .filter((c) => c.action === 'delete' && c.type === type)
        .map((c) => c.name)
        .sort();
    // Alongside the failed launch template: the other one, the parameters, the profiles and roles.
    expect(deletedOf('AWS::EC2::LaunchTemplate')).toHaveLength(1);
    expect(deletedOf('AWS::AutoScaling::AutoScalingGroup')).toEqual([CP, NODES]);
    expect(deletedOf('AWS::IAM::InstanceProfile')).toEqual(planTypes('AWS::IAM::InstanceProfile'));
    expect(deletedOf('AWS::IAM::Role')).toEqual(planTypes('AWS::IAM::Role'));
    expect(deletedOf('AWS::SSM::Parameter')).toEqual(
      expect.arrayContaining(planTypes('AWS::SSM::Parameter')),
    );
    // The security group goes last, once the rest is gone: the cluster stays listed for the next delete.
    expect(deletedOf('AWS::EC2::SecurityGroup')).toEqual([]);
    const listed = await clusterList(next());
    expect(listed.clusters).toEqual([expect.objectContaining({ name: 'ord', status: 'incomplete' })]);

    sb.faults.clear();
    const finished = await clusterDelete(next(), 'ord');
    expect(finished.changes.map((c) => c.type).sort()).toEqual([
      'AWS::EC2::LaunchTemplate',
      'AWS::EC2::SecurityGroup',
    ]);
    await expect(clusterDelete(next(), 'ord')).rejects.toThrow(/does not exist/);
  });
});
