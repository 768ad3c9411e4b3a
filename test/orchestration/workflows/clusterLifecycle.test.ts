// Sandbox integration: cluster create (3 control planes + 2 nodes), re-run with zero writes, an update
// in place, then delete back to the starting inventory.
import { DescribeAutoScalingGroupsCommand, DescribeLifecycleHooksCommand } from '@aws-sdk/client-auto-scaling';
import { DescribeLaunchTemplateVersionsCommand, DescribeSecurityGroupsCommand } from '@aws-sdk/client-ec2';
import { GetRolePolicyCommand, GetInstanceProfileCommand } from '@aws-sdk/client-iam';
import { GetParameterCommand } from '@aws-sdk/client-ssm';
import { Sandbox } from '../../../src/sandbox/sandbox';
import { buildClusterSpec } from '../../../src/config/cluster';
import { clusterCreate } from '../../../src/orchestration/workflows/clusterCreate';
import { clusterDelete } from '../../../src/orchestration/workflows/clusterDelete';
import { removeTestHomes, sandboxDeps } from '../../helpers/sandboxDeps';
import { UserError } from '../../../src/core/errors';

afterAll(() => removeTestHomes());

describe('cluster lifecycle in the sandbox', () => {
  it('creates, re-runs without writes, updates in place, deletes back to the start', async () => {
    const sb = new Sandbox();
    const before = sb.inventory();
    const spec = buildClusterSpec({ name: 'demo', region: 'us-east-1', sshCidrs: ['203.0.113.0/24'] });
    const dry = sandboxDeps(sb);
    const planned = await clusterCreate(dry.deps, spec, { dryRun: true });
    expect(planned.dryRun).toBe(true);
    expect(planned.planned.every((c) => c.action === 'create')).toBe(true);
    // 2 roles, 2 profiles, security group, settings + 2 tokens, and per group: declaration, LT, ASG.
    expect(planned.planned).toHaveLength(14);
    expect(dry.deps.clients.calls.write).toBe(0);
    const declined = sandboxDeps(sb);
    await expect(clusterCreate(declined.deps, spec, { confirm: async () => false })).rejects.toBeInstanceOf(UserError);
    expect(declined.deps.clients.calls.write).toBe(0);

    const first = sandboxDeps(sb);
    const created = await clusterCreate(first.deps, spec);
    expect(created.waited).toBe(true);
    expect(created.changes.filter((c) => c.action === 'create').map((c) => c.type)).toEqual(
      expect.arrayContaining(['AWS::IAM::Role', 'AWS::IAM::InstanceProfile', 'AWS::EC2::SecurityGroup', 'AWS::SSM::Parameter', 'AWS::EC2::LaunchTemplate', 'AWS::AutoScaling::AutoScalingGroup']),
    );
    const c = first.deps.clients;

    const groups = (await c.autoscaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ['k3sctl-demo-control-plane', 'k3sctl-demo-nodes'] })))
      .AutoScalingGroups!;
    const cp = groups.find((g) => g.AutoScalingGroupName === 'k3sctl-demo-control-plane')!;
    const nodes = groups.find((g) => g.AutoScalingGroupName === 'k3sctl-demo-nodes')!;
    expect([cp.MinSize, cp.MaxSize, cp.DesiredCapacity]).toEqual([3, 3, 3]);
    expect([nodes.MinSize, nodes.MaxSize, nodes.DesiredCapacity]).toEqual([2, 2, 2]);
    expect(cp.Instances!.filter((i) => i.LifecycleState === 'InService')).toHaveLength(3);
    expect(nodes.Instances!.filter((i) => i.LifecycleState === 'InService')).toHaveLength(2);
    expect(cp.Tags).toEqual(expect.arrayContaining([expect.objectContaining({ Key: 'k3sctl.io/cluster', Value: 'demo', PropagateAtLaunch: true })]));
    expect(cp.Tags).toEqual(expect.arrayContaining([expect.objectContaining({ Key: 'kubernetes.io/cluster/demo', Value: 'owned' })]));
    const hooks = (await c.autoscaling.send(new DescribeLifecycleHooksCommand({ AutoScalingGroupName: 'k3sctl-demo-nodes' }))).LifecycleHooks!;
    expect(hooks).toEqual([expect.objectContaining({ LifecycleHookName: 'k3sctl-graceful-leave', HeartbeatTimeout: 900, DefaultResult: 'CONTINUE' })]);

    const lt = (await c.ec2.send(new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateName: 'k3sctl-demo-nodes', Versions: ['$Default'] })))
      .LaunchTemplateVersions![0].LaunchTemplateData!;
    expect(lt.MetadataOptions).toMatchObject({ HttpTokens: 'required', HttpPutResponseHopLimit: 1 });
    expect(lt.BlockDeviceMappings![0].Ebs).toMatchObject({ Encrypted: true, VolumeType: 'gp3', VolumeSize: 20 });
    expect(lt.IamInstanceProfile?.Arn).toMatch(/instance-profile\/k3sctl-demo-us-east-1-node$/);
    expect(lt.UserData).toBeTruthy();

    const sg = (await c.ec2.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'tag:k3sctl.io/cluster', Values: ['demo'] }] }))).SecurityGroups!;
    expect(sg).toHaveLength(1);
    const ports = sg[0].IpPermissions!.map((p) => `${p.IpProtocol}:${p.FromPort}-${p.ToPort}`).sort();
    expect(ports).toEqual(expect.arrayContaining(['tcp:22-22', 'tcp:6443-6443', 'tcp:2379-2380', 'tcp:10250-10250', 'udp:8472-8472']));
    const ssh = sg[0].IpPermissions!.find((p) => p.FromPort === 22)!;
    expect(ssh.IpRanges!.map((r) => r.CidrIp)).toEqual(['203.0.113.0/24']);

    const token = await c.ssm.send(new GetParameterCommand({ Name: '/k3sctl/clusters/demo/server-token' }));
    expect(token.Parameter?.Type).toBe('SecureString');
    // Settings in NAME/config, each group's declaration in its own parameter.
    const config = JSON.parse((await c.ssm.send(new GetParameterCommand({ Name: '/k3sctl/clusters/demo/config' }))).Parameter!.Value!);
    expect(config).toMatchObject({ version: 2, name: 'demo' });
    expect(config.groups).toBeUndefined();
    const nodesDecl = JSON.parse((await c.ssm.send(new GetParameterCommand({ Name: '/k3sctl/clusters/demo/groups/nodes' }))).Parameter!.Value!);
    expect(nodesDecl).toMatchObject({ name: 'nodes', role: 'node', count: 2 });
    expect(created.nodesReady).toBe(true);
    const nodePolicy = await c.iam.send(new GetRolePolicyCommand({ RoleName: 'k3sctl-demo-us-east-1-node', PolicyName: 'k3sctl-node' }));
    expect(decodeURIComponent(nodePolicy.PolicyDocument!)).toContain('/k3sctl/clusters/demo/agent-token');
    expect(decodeURIComponent(nodePolicy.PolicyDocument!)).not.toContain('server-token');
    const profile = await c.iam.send(new GetInstanceProfileCommand({ InstanceProfileName: 'k3sctl-demo-us-east-1-control-plane' }));
    expect(profile.InstanceProfile!.Roles!.map((r) => r.RoleName)).toEqual(['k3sctl-demo-us-east-1-control-plane']);

    // Same input again: no write at all.
    const again = await clusterCreate(sandboxDeps(sb, { home: first.home }).deps, spec);
    expect(again.apiCalls.write).toBe(0);
    expect(again.changes.filter((ch) => ch.action !== 'noop')).toEqual([]);
    expect(again.nodesReady).toBeNull();

    // Changed input: new launch template version + capacity, instances reported out of date.
    const changed = buildClusterSpec({ name: 'demo', region: 'us-east-1', sshCidrs: ['203.0.113.0/24'], nodes: 3, nodeType: 't3.large' });
    const updated = await clusterCreate(sandboxDeps(sb, { home: first.home }).deps, changed);
    expect(updated.changes.filter((ch) => ch.action === 'update').map((ch) => ch.name).sort()).toEqual(
      ['/k3sctl/clusters/demo/groups/nodes', 'k3sctl-demo-nodes', 'k3sctl-demo-nodes'].sort(),
    );
    expect(updated.outOfDate.map((o) => o.group)).toEqual(['nodes', 'nodes']);
    const again2 = await clusterCreate(sandboxDeps(sb, { home: first.home }).deps, changed);
    expect(again2.apiCalls.write).toBe(0);

    // A different VPC under the same name is refused before any write.
    const other = sandboxDeps(sb, { home: first.home });
    await expect(clusterCreate(other.deps, buildClusterSpec({ name: 'demo', region: 'us-east-1', vpcId: 'vpc-0123456789abcdef0' }))).rejects.toBeInstanceOf(UserError);
    expect(other.deps.clients.calls.write).toBe(0);

    const deleted = await clusterDelete(sandboxDeps(sb, { home: first.home }).deps, 'demo');
    expect(deleted.changes.every((ch) => ch.action === 'delete' || ch.action === 'update')).toBe(true);
    expect(deleted.changes.filter((ch) => ch.action === 'delete').map((ch) => ch.type)).toEqual(
      expect.arrayContaining(['AWS::AutoScaling::AutoScalingGroup', 'AWS::EC2::SecurityGroup', 'AWS::IAM::Role', 'AWS::SSM::Parameter']),
    );
    expect(sb.inventory().filter((i) => i.type !== 'AWS::EC2::Instance')).toEqual(before);
    expect(sb.inventory().filter((i) => i.type === 'AWS::EC2::Instance' && !/terminated/.test(i.fingerprint ?? ''))).toEqual([]);

    await expect(clusterDelete(sandboxDeps(sb, { home: first.home }).deps, 'demo')).rejects.toBeInstanceOf(UserError);
  });

  it('keeps the running k3s version and AMI unless they are given again', async () => {
    const sb = new Sandbox();
    const home = sandboxDeps(sb).home;
    const next = () => sandboxDeps(sb, { home }).deps;
    await clusterCreate(next(), buildClusterSpec({ name: 'ver', region: 'us-east-1', controlPlanes: 1, nodes: 1, k3sVersion: 'v1.31.5+k3s1' }));
    const plain = await clusterCreate(next(), buildClusterSpec({ name: 'ver', region: 'us-east-1', controlPlanes: 1, nodes: 1 }), { wait: false });
    expect(plain.apiCalls.write).toBe(0);
    const upgraded = await clusterCreate(
      next(),
      buildClusterSpec({ name: 'ver', region: 'us-east-1', controlPlanes: 1, nodes: 1, k3sVersion: 'v1.31.6+k3s1' }),
      { wait: false },
    );
    expect(upgraded.changes.filter((c) => c.type === 'AWS::EC2::LaunchTemplate').map((c) => [c.action, c.details])).toEqual([
      ['update', ['userData changed']],
      ['update', ['userData changed']],
    ]);
    expect(upgraded.outOfDate.length).toBeGreaterThan(0);
    const ubuntu = await clusterCreate(next(), buildClusterSpec({ name: 'ver', region: 'us-east-1', controlPlanes: 1, nodes: 1, os: 'ubuntu-24.04' }), { wait: false });
    expect(ubuntu.changes.filter((c) => c.type === 'AWS::EC2::LaunchTemplate').flatMap((c) => c.details ?? [])).toEqual(
      expect.arrayContaining(['imageId: "ami-0a3c5e7f9b1d2f401" -> "ami-0b4d6f8a0c2e3a501"']),
    );
  });
});
