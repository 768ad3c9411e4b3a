// Sandbox integration: controlplane add / nodegroup add, scale, list, delete on an existing cluster,
// each re-run with zero writes, and the guard on the last control-plane group.
import { DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import { DescribeLaunchTemplatesCommand, DescribeLaunchTemplateVersionsCommand } from '@aws-sdk/client-ec2';
import { Sandbox } from '../../../src/sandbox/sandbox';
import { buildClusterSpec, buildGroupSpec } from '../../../src/config/cluster';
import { UserError } from '../../../src/core/errors';
import { clusterCreate } from '../../../src/orchestration/workflows/clusterCreate';
import { clusterDescribe } from '../../../src/orchestration/workflows/clusterDescribe';
import { clusterList } from '../../../src/orchestration/workflows/clusterList';
import { groupAdd } from '../../../src/orchestration/workflows/groupAdd';
import { nodegroupScale } from '../../../src/orchestration/workflows/nodegroupScale';
import { nodegroupDelete } from '../../../src/orchestration/workflows/nodegroupDelete';
import { nodegroupList } from '../../../src/orchestration/workflows/nodegroupList';
import { readClusterConfig } from '../../../src/model/read';
import { removeTestHomes, sandboxDeps } from '../../helpers/sandboxDeps';

afterAll(() => removeTestHomes());

describe('cluster groups in the sandbox', () => {
  it('adds, scales, lists and deletes groups; keeps the configuration current', async () => {
    const sb = new Sandbox();
    const first = sandboxDeps(sb);
    const home = first.home;
    const next = () => sandboxDeps(sb, { home }).deps;
    await clusterCreate(first.deps, buildClusterSpec({ name: 'grp', region: 'us-east-1', controlPlanes: 1, nodes: 1 }));

    const spot = buildGroupSpec({ name: 'spot-a', role: 'node', count: 2, instanceType: 't3.large', spot: true, subnetFilters: { 'availability-zone': 'us-east-1a' }, labels: { tier: 'batch' }, taints: ['batch=true:NoSchedule'] });
    const added = await groupAdd(next(), 'grp', spot);
    // Only the group's own resources and declaration are written; the settings parameter is untouched.
    expect(added.changes.filter((c) => c.action !== 'noop').map((c) => `${c.action} ${c.name}`).sort()).toEqual([
      'create /k3sctl/clusters/grp/groups/spot-a',
      'create k3sctl-grp-spot-a',
      'create k3sctl-grp-spot-a',
    ]);
    const deps = next();
    const asg = (await deps.clients.autoscaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ['k3sctl-grp-spot-a'] }))).AutoScalingGroups![0];
    expect(asg.MixedInstancesPolicy?.InstancesDistribution?.OnDemandPercentageAboveBaseCapacity).toBe(0);
    expect(asg.VPCZoneIdentifier!.split(',')).toHaveLength(1);
    expect(asg.Instances!.filter((i) => i.LifecycleState === 'InService')).toHaveLength(2);
    expect((await readClusterConfig(deps.clients, 'grp'))!.groups.map((g) => g.name)).toEqual(['control-plane', 'nodes', 'spot-a']);

    const again = await groupAdd(next(), 'grp', spot);
    expect(again.apiCalls.write).toBe(0);

    // Graviton: the al2023 alias resolves to the arm64 AMI for a t4g type.
    const cp = await groupAdd(next(), 'grp', buildGroupSpec({ name: 'cp-b', role: 'control-plane', count: 1, instanceType: 't4g.medium' }));
    expect(cp.role).toBe('control-plane');
    const armLt = (await next().clients.ec2.send(new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateName: 'k3sctl-grp-cp-b', Versions: ['$Default'] })))
      .LaunchTemplateVersions![0].LaunchTemplateData!;
    expect(armLt.ImageId).toBe('ami-0a3c5e7f9b1d2f402');
    expect(armLt.InstanceType).toBe('t4g.medium');

    // Re-running cluster create keeps the added groups.
    const recreate = await clusterCreate(next(), buildClusterSpec({ name: 'grp', region: 'us-east-1', controlPlanes: 1, nodes: 1 }));
    expect(recreate.apiCalls.write).toBe(0);

    const scaled = await nodegroupScale(next(), 'grp', 'spot-a', 3);
    expect(scaled.changes.find((c) => c.type === 'AWS::AutoScaling::AutoScalingGroup')?.action).toBe('update');
    expect((await nodegroupScale(next(), 'grp', 'spot-a', 3)).apiCalls.write).toBe(0);
    await expect(nodegroupScale(next(), 'grp', 'cp-b', 2)).rejects.toBeInstanceOf(UserError);

    const listed = await nodegroupList(next(), 'grp');
    expect(listed.groups.find((g) => g.name === 'spot-a')).toMatchObject({ desired: 3, inService: 3, outOfDate: 0, spot: true });
    const described = await clusterDescribe(next(), 'grp');
    expect(described.groups.map((g) => g.name)).toEqual(['control-plane', 'cp-b', 'nodes', 'spot-a']);
    const inst = described.groups[0].instances[0];
    expect(inst).toMatchObject({ state: 'running', lifecycleState: 'InService', upToDate: true });
    expect(inst.az).toMatch(/^us-east-1[a-c]$/);
    expect(inst.privateIp).toMatch(/^172\.31\./);
    const list = await clusterList(next());
    expect(list.clusters.map((c) => [c.name, c.status])).toEqual([['grp', 'ok']]);

    const del = await nodegroupDelete(next(), 'grp', 'spot-a');
    expect(del.changes.filter((c) => c.action !== 'noop').map((c) => `${c.action} ${c.type} ${c.name}`).sort()).toEqual([
      'delete AWS::AutoScaling::AutoScalingGroup k3sctl-grp-spot-a',
      'delete AWS::EC2::LaunchTemplate k3sctl-grp-spot-a',
      'delete AWS::SSM::Parameter /k3sctl/clusters/grp/groups/spot-a',
    ]);
    const after = next();
    expect((await after.clients.autoscaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ['k3sctl-grp-spot-a'] }))).AutoScalingGroups).toEqual([]);
    expect((await after.clients.ec2.send(new DescribeLaunchTemplatesCommand({ Filters: [{ Name: 'launch-template-name', Values: ['k3sctl-grp-spot-a'] }] }))).LaunchTemplates).toEqual([]);
    expect((await readClusterConfig(after.clients, 'grp'))!.groups.map((g) => g.name)).toEqual(['control-plane', 'cp-b', 'nodes']);

    // Removing control-plane groups: allowed while another remains, refused for the last one with nodes.
    await nodegroupDelete(next(), 'grp', 'cp-b');
    const refused = next();
    await expect(nodegroupDelete(refused, 'grp', 'control-plane')).rejects.toBeInstanceOf(UserError);
    expect(refused.clients.calls.write).toBe(0);
    await expect(nodegroupDelete(next(), 'grp', 'nope')).rejects.toBeInstanceOf(UserError);
  });
});
