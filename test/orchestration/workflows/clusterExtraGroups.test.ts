// Sandbox integration of a group's extra security groups and target groups (issue 17: the seed's
// security_group_* and target_group_* inputs): looked up by name or id in the cluster VPC before any
// write, stored with the group, put in the launch template (a change is a new version that recycle rolls
// out) and attached to the Auto Scaling group (a change is an in-place attach/detach that rollback
// undoes). The user's groups are only ever detached, never changed or deleted.
import { DescribeAutoScalingGroupsCommand, DeleteLifecycleHookCommand } from '@aws-sdk/client-auto-scaling';
import {
  CreateSecurityGroupCommand,
  CreateTagsCommand,
  CreateVpcCommand,
  DescribeLaunchTemplateVersionsCommand,
  DescribeLaunchTemplatesCommand,
  DescribeSecurityGroupsCommand,
  DescribeVpcsCommand,
} from '@aws-sdk/client-ec2';
import {
  CreateTargetGroupCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  ModifyTargetGroupAttributesCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { GetParameterCommand } from '@aws-sdk/client-ssm';
import { Sandbox } from '../../../src/sandbox/sandbox';
import { buildClusterSpec, buildGroupSpec, type ClusterFile } from '../../../src/config/cluster';
import { UserError } from '../../../src/core/errors';
import { RunFailedError, type WorkflowDeps } from '../../../src/orchestration/deps';
import { clusterCreate } from '../../../src/orchestration/workflows/clusterCreate';
import { clusterDelete } from '../../../src/orchestration/workflows/clusterDelete';
import { clusterDescribe } from '../../../src/orchestration/workflows/clusterDescribe';
import { groupAdd } from '../../../src/orchestration/workflows/groupAdd';
import { nodegroupDelete } from '../../../src/orchestration/workflows/nodegroupDelete';
import { recycle } from '../../../src/orchestration/workflows/recycle';
import { removeTestHomes } from '../../helpers/sandboxDeps';
import { next } from './endpointFixture';

jest.setTimeout(120_000);
afterAll(() => removeTestHomes());

const ASG = (group: string) => `k3sctl-xg-${group}`;

function spec(more: Partial<ClusterFile> = {}) {
  return buildClusterSpec({ name: 'xg', region: 'us-east-1', controlPlanes: 1, nodes: 1, ...more });
}

async function defaultVpc(deps: WorkflowDeps): Promise<string> {
  const out = await deps.clients.ec2.send(new DescribeVpcsCommand({ Filters: [{ Name: 'is-default', Values: ['true'] }] }));
  return out.Vpcs![0].VpcId!;
}

/** A security group of the user's: GroupName `name`, or a Name tag `nameTag` on a group named otherwise. */
async function userSecurityGroup(deps: WorkflowDeps, name: string, options: { nameTag?: string; vpcId?: string } = {}): Promise<string> {
  const vpcId = options.vpcId ?? (await defaultVpc(deps));
  const out = await deps.clients.ec2.send(new CreateSecurityGroupCommand({ GroupName: name, Description: 'the user\'s', VpcId: vpcId }));
  if (options.nameTag) await deps.clients.ec2.send(new CreateTagsCommand({ Resources: [out.GroupId!], Tags: [{ Key: 'Name', Value: options.nameTag }] }));
  return out.GroupId!;
}

async function userTargetGroup(deps: WorkflowDeps, name: string, options: { targetType?: 'instance' | 'ip'; vpcId?: string } = {}): Promise<string> {
  const out = await deps.clients.elbv2.send(
    new CreateTargetGroupCommand({
      Name: name,
      Protocol: 'HTTP',
      Port: 30080,
      VpcId: options.vpcId ?? (await defaultVpc(deps)),
      TargetType: options.targetType ?? 'instance',
    }),
  );
  return out.TargetGroups![0].TargetGroupArn!;
}

async function launchTemplate(deps: WorkflowDeps, group: string): Promise<{ defaultVersion: number; securityGroupIds: string[] }> {
  const lt = (await deps.clients.ec2.send(new DescribeLaunchTemplatesCommand({ LaunchTemplateNames: [`k3sctl-xg-${group}`] }))).LaunchTemplates![0];
  const v = await deps.clients.ec2.send(new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId: lt.LaunchTemplateId, Versions: ['$Default'] }));
  return { defaultVersion: Number(lt.DefaultVersionNumber), securityGroupIds: [...(v.LaunchTemplateVersions![0].LaunchTemplateData!.SecurityGroupIds ?? [])].sort() };
}

async function asgTargetGroups(deps: WorkflowDeps, group: string): Promise<string[]> {
  const g = (await deps.clients.autoscaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [ASG(group)] }))).AutoScalingGroups![0];
  return [...(g.TargetGroupARNs ?? [])].sort();
}

async function clusterSecurityGroup(deps: WorkflowDeps): Promise<string> {
  const out = await deps.clients.ec2.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'group-name', Values: ['k3sctl-xg'] }] }));
  return out.SecurityGroups![0].GroupId!;
}

describe('extra security groups and target groups of a group', () => {
  it('looks them up by name, puts them in the launch template and the Auto Scaling group, stores them, and re-runs with 0 writes', async () => {
    const sb = new Sandbox();
    const monitoring = await userSecurityGroup(next(sb), 'monitoring');
    const tagged = await userSecurityGroup(next(sb), 'legacy-0042', { nameTag: 'bastion-access' });
    const metrics = await userTargetGroup(next(sb), 'metrics');
    const asked = spec({ nodeSecurityGroups: ['monitoring', 'bastion-access', monitoring], nodeTargetGroups: ['metrics', metrics], controlPlaneSecurityGroups: [tagged] });
    const created = await clusterCreate(next(sb), asked);
    expect(created.changes.filter((c) => c.action !== 'noop').length).toBeGreaterThan(0);

    const own = await clusterSecurityGroup(next(sb));
    expect((await launchTemplate(next(sb), 'nodes')).securityGroupIds).toEqual([own, monitoring, tagged].sort());
    expect((await launchTemplate(next(sb), 'control-plane')).securityGroupIds).toEqual([own, tagged].sort());
    expect(await asgTargetGroups(next(sb), 'nodes')).toEqual([metrics]);
    expect(await asgTargetGroups(next(sb), 'control-plane')).toEqual([]);
    // The node instance is registered in the user's target group.
    const health = await next(sb).clients.elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: metrics }));
    expect(health.TargetHealthDescriptions).toHaveLength(1);

    const stored = JSON.parse((await next(sb).clients.ssm.send(new GetParameterCommand({ Name: '/k3sctl/clusters/xg/groups/nodes' }))).Parameter!.Value!);
    expect(stored).toMatchObject({ securityGroupIds: [monitoring, tagged].sort(), targetGroupArns: [metrics] });
    const described = await clusterDescribe(next(sb), 'xg');
    expect(described.groups.find((g) => g.name === 'nodes')).toMatchObject({ securityGroupIds: [monitoring, tagged].sort(), targetGroupArns: [metrics] });
    expect(described.groups.find((g) => g.name === 'control-plane')).toMatchObject({ securityGroupIds: [tagged], targetGroupArns: [] });

    const again = await clusterCreate(next(sb), asked);
    expect(again.apiCalls.write).toBe(0);
    expect(again.changes.every((c) => c.action === 'noop')).toBe(true);
  });

  it('changes the target groups in place (no new launch template version) and the security groups by a new version', async () => {
    const sb = new Sandbox();
    const a = await userSecurityGroup(next(sb), 'group-a');
    const b = await userSecurityGroup(next(sb), 'group-b');
    const one = await userTargetGroup(next(sb), 'tg-one');
    const two = await userTargetGroup(next(sb), 'tg-two');
    await clusterCreate(next(sb), spec({ nodeSecurityGroups: ['group-a'], nodeTargetGroups: ['tg-one'] }));
    const before = await launchTemplate(next(sb), 'nodes');
    const instancesBefore = (await next(sb).clients.autoscaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [ASG('nodes')] }))).AutoScalingGroups![0].Instances!.map((i) => i.InstanceId);

    // Target groups: one -> two, in place.
    const tgChange = spec({ nodeSecurityGroups: ['group-a'], nodeTargetGroups: ['tg-two'] });
    const planned = await clusterCreate(next(sb), tgChange, { dryRun: true });
    const plannedAsg = planned.planned.find((c) => c.type === 'AWS::AutoScaling::AutoScalingGroup' && c.name === ASG('nodes'));
    expect(plannedAsg).toMatchObject({ action: 'update' });
    expect(plannedAsg!.details).toEqual(expect.arrayContaining(['targetGroups: 1 -> 1 (+tg-two -tg-one)']));
    expect(planned.planned.filter((c) => c.type === 'AWS::EC2::LaunchTemplate' && c.action !== 'noop')).toEqual([]);
    const tgRun = await clusterCreate(next(sb), tgChange);
    expect(await asgTargetGroups(next(sb), 'nodes')).toEqual([two]);
    expect((await launchTemplate(next(sb), 'nodes')).defaultVersion).toBe(before.defaultVersion);
    expect(tgRun.outOfDate).toEqual([]);
    const asgAfter = (await next(sb).clients.autoscaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [ASG('nodes')] }))).AutoScalingGroups![0];
    expect(asgAfter.Instances!.map((i) => i.InstanceId)).toEqual(instancesBefore);
    expect((await next(sb).clients.elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: two }))).TargetHealthDescriptions).toHaveLength(1);
    expect((await next(sb).clients.elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: one }))).TargetHealthDescriptions!.filter((t) => t.TargetHealth?.State !== 'draining')).toEqual([]);
    expect((await clusterCreate(next(sb), tgChange)).apiCalls.write).toBe(0);

    // Security groups: a -> b, a new launch template version; the running instance is out of date.
    const sgChange = spec({ nodeSecurityGroups: ['group-b'], nodeTargetGroups: ['tg-two'] });
    const sgRun = await clusterCreate(next(sb), sgChange);
    const after = await launchTemplate(next(sb), 'nodes');
    expect(after.defaultVersion).toBe(before.defaultVersion + 1);
    expect(after.securityGroupIds).toContain(b);
    expect(after.securityGroupIds).not.toContain(a);
    expect(sgRun.outOfDate.map((o) => o.group)).toEqual(['nodes']);
    expect((await clusterDescribe(next(sb), 'xg')).outOfDate).toBe(1);
    await recycle(next(sb), { cluster: 'xg', strategy: 'serial', nodeReadiness: false });
    expect((await clusterDescribe(next(sb), 'xg')).outOfDate).toBe(0);
    expect((await clusterCreate(next(sb), sgChange)).apiCalls.write).toBe(0);
  });

  it('keeps a group added by nodegroup add with its own extra groups; cluster create does not drop them', async () => {
    const sb = new Sandbox();
    const sg = await userSecurityGroup(next(sb), 'web-extra');
    const tg = await userTargetGroup(next(sb), 'web-tg');
    const clusterSpec = spec();
    await clusterCreate(next(sb), clusterSpec);
    const web = buildGroupSpec({ name: 'web', role: 'node', count: 1, securityGroups: ['web-extra'], targetGroups: [tg] });
    await groupAdd(next(sb), 'xg', web);
    expect((await launchTemplate(next(sb), 'web')).securityGroupIds).toContain(sg);
    expect(await asgTargetGroups(next(sb), 'web')).toEqual([tg]);
    expect((await groupAdd(next(sb), 'xg', web)).apiCalls.write).toBe(0);
    expect((await clusterCreate(next(sb), clusterSpec)).apiCalls.write).toBe(0);
    expect(await asgTargetGroups(next(sb), 'web')).toEqual([tg]);
  });

  it('refuses an ambiguous name, listing both groups, before any write', async () => {
    const sb = new Sandbox();
    const first = await userSecurityGroup(next(sb), 'shared');
    const second = await userSecurityGroup(next(sb), 'other', { nameTag: 'shared' });
    const deps = next(sb);
    const error = await clusterCreate(deps, spec({ nodeSecurityGroups: ['shared'] })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).field).toBe('--node-security-group');
    expect((error as UserError).message).toContain(first);
    expect((error as UserError).message).toContain(second);
    expect((error as UserError).message).toMatch(/ambiguous/);
    expect(deps.clients.calls.write).toBe(0);
  });

  it('refuses what does not fit, naming the field, before any write', async () => {
    const sb = new Sandbox();
    const other = (await next(sb).clients.ec2.send(new CreateVpcCommand({ CidrBlock: '10.90.0.0/16' }))).Vpc!.VpcId!;
    await userSecurityGroup(next(sb), 'elsewhere', { vpcId: other });
    const elsewhereId = await userSecurityGroup(next(sb), 'elsewhere-by-id', { vpcId: other });
    await userTargetGroup(next(sb), 'ip-targets', { targetType: 'ip' });
    await userTargetGroup(next(sb), 'far-tg', { vpcId: other });
    const cases: [Partial<ClusterFile>, string, RegExp][] = [
      [{ nodeSecurityGroups: ['nope'] }, '--node-security-group', /found no security group named 'nope'/],
      // By name only in the cluster VPC: one of another VPC is not found.
      [{ nodeSecurityGroups: ['elsewhere'] }, '--node-security-group', /found no security group named 'elsewhere'/],
      [{ controlPlaneSecurityGroups: [elsewhereId] }, '--control-plane-security-group', new RegExp(`${elsewhereId} is in VPC ${other}`)],
      [{ nodeSecurityGroups: ['sg-0123456789abcdef0'] }, '--node-security-group', /does not exist/],
      [{ nodeTargetGroups: ['missing-tg'] }, '--node-target-group', /target group 'missing-tg' does not exist/],
      [{ nodeTargetGroups: ['ip-targets'] }, '--node-target-group', /target type ip/],
      [{ controlPlaneTargetGroups: ['far-tg'] }, '--control-plane-target-group', new RegExp(`far-tg is in VPC ${other}`)],
    ];
    for (const [more, field, message] of cases) {
      const deps = next(sb);
      const error = await clusterCreate(deps, spec(more)).catch((e: unknown) => e);
      expect([field, error]).toEqual([field, expect.any(UserError)]);
      expect((error as UserError).field).toBe(field);
      expect((error as UserError).message).toMatch(message);
      expect(deps.clients.calls.write).toBe(0);
    }
    // nodegroup add knows the cluster's ingress only from its stored configuration: 4 fit without it.
    await clusterCreate(next(sb), spec());
    const five = await Promise.all(['s1', 's2', 's3', 's4', 's5'].map((n) => userSecurityGroup(next(sb), n)));
    const deps = next(sb);
    const error = await groupAdd(deps, 'xg', buildGroupSpec({ name: 'many', role: 'node', count: 1, securityGroups: five.slice(0, 4) })).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeUndefined();
    expect((await launchTemplate(next(sb), 'many')).securityGroupIds).toHaveLength(5);
    expect(deps.clients.calls.write).toBeGreaterThan(0);
  });

  it('rolls the target groups back to the previous set when a later write of the update fails', async () => {
    const sb = new Sandbox();
    const one = await userTargetGroup(next(sb), 'tg-one');
    await userTargetGroup(next(sb), 'tg-two');
    await clusterCreate(next(sb), spec({ nodeTargetGroups: ['tg-one'] }));
    // The lifecycle hook is put again after the attach and detach: its failure rolls both back.
    await next(sb).clients.autoscaling.send(new DeleteLifecycleHookCommand({ AutoScalingGroupName: ASG('nodes'), LifecycleHookName: 'k3sctl-graceful-leave' }));
    sb.faults.add({ op: 'PutLifecycleHook', nth: 1, code: 'AccessDenied' });
    const error = await clusterCreate(next(sb), spec({ nodeTargetGroups: ['tg-two'] })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RunFailedError);
    expect((error as RunFailedError).leftovers).toEqual([]);
    expect(await asgTargetGroups(next(sb), 'nodes')).toEqual([one]);
  });

  it('recycle allows for the deregistration delay of a group\'s extra target groups', async () => {
    const sb = new Sandbox();
    const slow = await userTargetGroup(next(sb), 'slow-drain');
    await next(sb).clients.elbv2.send(
      new ModifyTargetGroupAttributesCommand({ TargetGroupArn: slow, Attributes: [{ Key: 'deregistration_delay.timeout_seconds', Value: '240' }] }),
    );
    await clusterCreate(next(sb), spec({ nodeTargetGroups: ['slow-drain'] }));
    await clusterCreate(next(sb), spec({ nodeTargetGroups: ['slow-drain'], nodeType: 't3.large' }));
    // The drain gate's allowance is the longest delay of the group's target groups, the extra one
    // included. (A target group behind no load balancer holds its targets `unused`, so ELB lets them go
    // at once: the replacement itself need not take the 240 s here.)
    const result = await recycle(next(sb), { cluster: 'xg', groups: ['nodes'], strategy: 'serial', nodeReadiness: false, drainTimeoutMs: 120_000 });
    expect(result.groups).toEqual([expect.objectContaining({ group: 'nodes', deregistrationDelaySeconds: 240 })]);
    expect(result.replacements).toHaveLength(1);
  });

  it('only detaches the user\'s groups: nodegroup delete and cluster delete leave them in place', async () => {
    const sb = new Sandbox();
    const sg = await userSecurityGroup(next(sb), 'keep-me');
    const tg = await userTargetGroup(next(sb), 'keep-tg');
    const before = sb.inventory();
    await clusterCreate(next(sb), spec({ nodeSecurityGroups: ['keep-me'], nodeTargetGroups: ['keep-tg'], controlPlaneTargetGroups: ['keep-tg'] }));
    await groupAdd(next(sb), 'xg', buildGroupSpec({ name: 'web', role: 'node', count: 1, securityGroups: [sg], targetGroups: ['keep-tg'] }));
    await nodegroupDelete(next(sb), 'xg', 'web');
    await clusterDelete(next(sb), 'xg');
    const sgs = await next(sb).clients.ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [sg] }));
    expect(sgs.SecurityGroups!.map((g) => g.GroupName)).toEqual(['keep-me']);
    const tgs = await next(sb).clients.elbv2.send(new DescribeTargetGroupsCommand({ TargetGroupArns: [tg] }));
    expect(tgs.TargetGroups!.map((t) => t.TargetGroupName)).toEqual(['keep-tg']);
    // Exactly the account as before the cluster: the user's groups unchanged (same rules, no targets left).
    expect(sb.inventory()).toEqual(before);
  });
});
