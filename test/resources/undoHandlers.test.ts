// The undo handler of every resource kind, run from the registry as `runs rollback` runs them, against a
// sandbox account: what the account holds afterwards. A delete removes what a run created and treats
// "already gone" as success; a restore puts back exactly what the run changed; other errors surface.
import {
  AttachLoadBalancerTargetGroupsCommand,
  DescribeAutoScalingGroupsCommand,
  UpdateAutoScalingGroupCommand,
} from '@aws-sdk/client-auto-scaling';
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateLaunchTemplateVersionCommand,
  CreateSecurityGroupCommand,
  DescribeInstancesCommand,
  DescribeLaunchTemplatesCommand,
  DescribeLaunchTemplateVersionsCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  DescribeVpcsCommand,
  ModifyLaunchTemplateCommand,
  RunInstancesCommand,
} from '@aws-sdk/client-ec2';
import {
  AttachRolePolicyCommand,
  CreateInstanceProfileCommand,
  CreateRoleCommand,
  GetInstanceProfileCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  ListAttachedRolePoliciesCommand,
  PutRolePolicyCommand,
} from '@aws-sdk/client-iam';
import { DescribeCertificateCommand, RequestCertificateCommand } from '@aws-sdk/client-acm';
import {
  AddTagsCommand,
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateRuleCommand,
  CreateTargetGroupCommand,
  DeleteTargetGroupCommand,
  DescribeListenersCommand,
  DescribeLoadBalancersCommand,
  DescribeRulesCommand,
  DescribeTagsCommand,
  DescribeTargetGroupAttributesCommand,
  DescribeTargetGroupsCommand,
  ModifyListenerCommand,
  ModifyRuleCommand,
  ModifyTargetGroupAttributesCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { ChangeResourceRecordSetsCommand, CreateHostedZoneCommand } from '@aws-sdk/client-route-53';
import { GetParameterCommand, GetParametersByPathCommand, PutParameterCommand } from '@aws-sdk/client-ssm';
import type { AwsClients } from '../../src/aws/clients';
import { TagKeys } from '../../src/aws/tags';
import { awsErrorCode } from '../../src/core/errors';
import { AUTO_SCALING_GROUP_TYPE, findAutoScalingGroup } from '../../src/resources/autoScalingGroup';
import { IAM_ROLE_TYPE, SSM_MANAGED_INSTANCE_CORE } from '../../src/resources/iamRole';
import { CERTIFICATE_TYPE } from '../../src/resources/certificate';
import { INSTANCE_TYPE } from '../../src/resources/instance';
import { INSTANCE_PROFILE_TYPE } from '../../src/resources/instanceProfile';
import { LAUNCH_TEMPLATE_TYPE } from '../../src/resources/launchTemplate';
import { GROUP_LAUNCH_TEMPLATE_UNDO_TYPE } from '../../src/resources/launchTemplateVersion';
import { LISTENER_TYPE } from '../../src/resources/listener';
import { LISTENER_RULE_TYPE } from '../../src/resources/listenerRule';
import { findHttpsListener, LOAD_BALANCER_TYPE } from '../../src/resources/loadBalancer';
import { findRecord, RECORD_SET_TYPE, type RecordSpec } from '../../src/resources/recordSet';
import { SECURITY_GROUP_TYPE } from '../../src/resources/securityGroup';
import { SSM_CLUSTER_PATH_UNDO_TYPE, SSM_PARAMETER_TYPE } from '../../src/resources/ssmParameter';
import { TARGET_GROUP_ATTACHMENT_TYPE, TARGET_GROUP_TYPE } from '../../src/resources/targetGroup';
import { providers } from '../../src/resources/registry';
import { sandboxClients } from '../../src/sandbox/clients';
import { DEFAULT_IMAGES } from '../../src/sandbox/defaults';
import { Sandbox } from '../../src/sandbox/sandbox';
import { createAsgFixture, describeAsg, waitSettled } from '../helpers/asgFixture';
import { collectingEvents, removeTestHomes } from '../helpers/sandboxDeps';
import { createAlb, createCertificate, ZONE } from '../orchestration/workflows/endpointFixture';

jest.setTimeout(60_000);
afterAll(removeTestHomes);

interface Account {
  sb: Sandbox;
  clients: AwsClients;
}

function account(): Account {
  const sb = new Sandbox();
  return { sb, clients: sandboxClients(sb, 'us-east-1') };
}

async function undo(a: Account, type: string, action: 'delete' | 'restore', data: Record<string, unknown>): Promise<void> {
  const handler = providers.undoHandler(type);
  const run = handler?.[action];
  if (!run) throw new Error(`no ${action} undo for ${type}`);
  await run(a.clients, data, { clock: a.sb.clock, events: collectingEvents() });
}

/** The AWS error code a call fails with (undefined when it succeeds). */
async function failure(call: Promise<unknown>): Promise<string | undefined> {
  return call.then(
    () => undefined,
    (e: unknown) => awsErrorCode(e) ?? String(e),
  );
}

const ASSUME = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }],
});
const policy = (action: string) => JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: action, Resource: '*' }] });

describe('IAM roles', () => {
  async function role(a: Account, name = 'k3sctl-demo-us-east-1-node') {
    await a.clients.iam.send(new CreateRoleCommand({ RoleName: name, AssumeRolePolicyDocument: ASSUME }));
    return name;
  }

  it('delete removes the role with its policies; a role already gone is success', async () => {
    const a = account();
    const name = await role(a);
    await a.clients.iam.send(new PutRolePolicyCommand({ RoleName: name, PolicyName: 'inline', PolicyDocument: policy('ssm:GetParameter') }));
    await a.clients.iam.send(new AttachRolePolicyCommand({ RoleName: name, PolicyArn: SSM_MANAGED_INSTANCE_CORE }));
    await undo(a, IAM_ROLE_TYPE, 'delete', { roleName: name });
    expect(await failure(a.clients.iam.send(new GetRoleCommand({ RoleName: name })))).toBe('NoSuchEntity');
    await expect(undo(a, IAM_ROLE_TYPE, 'delete', { roleName: name })).resolves.toBeUndefined();
  });

  it('restore puts the previous inline policy document back', async () => {
    const a = account();
    const name = await role(a);
    await a.clients.iam.send(new PutRolePolicyCommand({ RoleName: name, PolicyName: 'inline', PolicyDocument: policy('ssm:PutParameter') }));
    await undo(a, IAM_ROLE_TYPE, 'restore', { roleName: name, policyName: 'inline', policy: policy('ssm:GetParameter') });
    const doc = (await a.clients.iam.send(new GetRolePolicyCommand({ RoleName: name, PolicyName: 'inline' }))).PolicyDocument!;
    expect(JSON.parse(decodeURIComponent(doc))).toEqual(JSON.parse(policy('ssm:GetParameter')));
  });

  it('restore deletes an inline policy the run added (policy null), also when it is gone already', async () => {
    const a = account();
    const name = await role(a);
    await a.clients.iam.send(new PutRolePolicyCommand({ RoleName: name, PolicyName: 'added', PolicyDocument: policy('ssm:GetParameter') }));
    await a.clients.iam.send(new PutRolePolicyCommand({ RoleName: name, PolicyName: 'kept', PolicyDocument: policy('ssm:GetParameter') }));
    await undo(a, IAM_ROLE_TYPE, 'restore', { roleName: name, policyName: 'added', policy: null });
    expect(await failure(a.clients.iam.send(new GetRolePolicyCommand({ RoleName: name, PolicyName: 'added' })))).toBe('NoSuchEntity');
    expect(await failure(a.clients.iam.send(new GetRolePolicyCommand({ RoleName: name, PolicyName: 'kept' })))).toBeUndefined();
    await expect(undo(a, IAM_ROLE_TYPE, 'restore', { roleName: name, policyName: 'added', policy: null })).resolves.toBeUndefined();
    // Neither a document nor null: nothing to put back.
    await undo(a, IAM_ROLE_TYPE, 'restore', { roleName: name, policyName: 'kept' });
    expect(await failure(a.clients.iam.send(new GetRolePolicyCommand({ RoleName: name, PolicyName: 'kept' })))).toBeUndefined();
  });

  it('restore re-attaches a detached managed policy and detaches an attached one (already detached is success)', async () => {
    const a = account();
    const name = await role(a);
    const attached = async () => ((await a.clients.iam.send(new ListAttachedRolePoliciesCommand({ RoleName: name }))).AttachedPolicies ?? []).map((p) => p.PolicyArn);
    await undo(a, IAM_ROLE_TYPE, 'restore', { roleName: name, attach: SSM_MANAGED_INSTANCE_CORE });
    expect(await attached()).toEqual([SSM_MANAGED_INSTANCE_CORE]);
    await undo(a, IAM_ROLE_TYPE, 'restore', { roleName: name, detach: SSM_MANAGED_INSTANCE_CORE });
    expect(await attached()).toEqual([]);
    await expect(undo(a, IAM_ROLE_TYPE, 'restore', { roleName: name, detach: SSM_MANAGED_INSTANCE_CORE })).resolves.toBeUndefined();
  });

  it('restore of a role deleted since: a missing policy to delete is success, other failures surface', async () => {
    const a = account();
    await expect(undo(a, IAM_ROLE_TYPE, 'restore', { roleName: 'gone', policyName: 'p', policy: null })).resolves.toBeUndefined();
    expect(await failure(undo(a, IAM_ROLE_TYPE, 'restore', { roleName: 'gone', policyName: 'p', policy: policy('s3:GetObject') }))).toBe('NoSuchEntity');
    expect(await failure(undo(a, IAM_ROLE_TYPE, 'restore', { roleName: 'gone', attach: SSM_MANAGED_INSTANCE_CORE }))).toBe('NoSuchEntity');
    a.sb.faults.add({ op: 'DetachRolePolicy', code: 'ServiceFailure' });
    expect(await failure(undo(a, IAM_ROLE_TYPE, 'restore', { roleName: 'gone', detach: SSM_MANAGED_INSTANCE_CORE }))).toBe('ServiceFailure');
    a.sb.faults.add({ op: 'DeleteRolePolicy', code: 'ServiceFailure' });
    expect(await failure(undo(a, IAM_ROLE_TYPE, 'restore', { roleName: 'gone', policyName: 'p', policy: null }))).toBe('ServiceFailure');
  });
});

describe('instance profiles', () => {
  it('delete removes the profile; already gone is success', async () => {
    const a = account();
    await a.clients.iam.send(new CreateInstanceProfileCommand({ InstanceProfileName: 'k3sctl-demo' }));
    await undo(a, INSTANCE_PROFILE_TYPE, 'delete', { name: 'k3sctl-demo' });
    expect(await failure(a.clients.iam.send(new GetInstanceProfileCommand({ InstanceProfileName: 'k3sctl-demo' })))).toBe('NoSuchEntity');
    await expect(undo(a, INSTANCE_PROFILE_TYPE, 'delete', { name: 'k3sctl-demo' })).resolves.toBeUndefined();
  });
});

describe('SSM parameters', () => {
  const get = (a: Account, name: string) => a.clients.ssm.send(new GetParameterCommand({ Name: name })).then((r) => r.Parameter?.Value, () => undefined);

  it('delete removes the parameter; restore puts the previous value back', async () => {
    const a = account();
    await a.clients.ssm.send(new PutParameterCommand({ Name: '/k3sctl/clusters/demo/config', Value: 'new', Type: 'String' }));
    await undo(a, SSM_PARAMETER_TYPE, 'restore', { name: '/k3sctl/clusters/demo/config', value: 'old' });
    expect(await get(a, '/k3sctl/clusters/demo/config')).toBe('old');
    await undo(a, SSM_PARAMETER_TYPE, 'delete', { name: '/k3sctl/clusters/demo/config' });
    expect(await get(a, '/k3sctl/clusters/demo/config')).toBeUndefined();
    await expect(undo(a, SSM_PARAMETER_TYPE, 'delete', { name: '/k3sctl/clusters/demo/config' })).resolves.toBeUndefined();
    // A deleted parameter is put back as it was.
    await undo(a, SSM_PARAMETER_TYPE, 'restore', { name: '/k3sctl/clusters/demo/config', value: 'old' });
    expect(await get(a, '/k3sctl/clusters/demo/config')).toBe('old');
  });

  it('delete of a cluster path removes the parameter and everything under the path', async () => {
    const a = account();
    for (const name of ['/k3sctl/clusters/demo/server-token', '/k3sctl/clusters/demo/bootstrap-failures/i-1', '/k3sctl/clusters/demo/bootstrap-failures/i-2', '/k3sctl/clusters/other/server-token'])
      await a.clients.ssm.send(new PutParameterCommand({ Name: name, Value: 'x', Type: 'String' }));
    await undo(a, SSM_CLUSTER_PATH_UNDO_TYPE, 'delete', { cluster: 'demo', path: '/k3sctl/clusters/demo/bootstrap-failures', name: '/k3sctl/clusters/demo/server-token' });
    const left = (await a.clients.ssm.send(new GetParametersByPathCommand({ Path: '/k3sctl/clusters', Recursive: true }))).Parameters!.map((p) => p.Name).sort();
    expect(left).toEqual(['/k3sctl/clusters/other/server-token']);
  });
});

describe('EC2 instances and launch templates', () => {
  it('instance delete terminates it; already terminated is success', async () => {
    const a = account();
    const run = await a.clients.ec2.send(new RunInstancesCommand({ ImageId: DEFAULT_IMAGES[0].ImageId, InstanceType: 't3.small', MinCount: 1, MaxCount: 1 }));
    const id = run.Instances![0].InstanceId!;
    await undo(a, INSTANCE_TYPE, 'delete', { instanceId: id });
    const state = async () => (await a.clients.ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }))).Reservations![0].Instances![0].State!.Name;
    expect(['shutting-down', 'terminated']).toContain(await state());
    await expect(undo(a, INSTANCE_TYPE, 'delete', { instanceId: id })).resolves.toBeUndefined();
  });

  async function template(a: Account) {
    const f = await createAsgFixture(a.clients, { size: 0, minSize: 0 });
    const v2 = await a.clients.ec2.send(new CreateLaunchTemplateVersionCommand({ LaunchTemplateId: f.launchTemplateId, SourceVersion: '1', LaunchTemplateData: { InstanceType: 't3.large' } }));
    return { f, v2: v2.LaunchTemplateVersion!.VersionNumber! };
  }
  const describeTemplate = async (a: Account, id: string) => (await a.clients.ec2.send(new DescribeLaunchTemplatesCommand({ LaunchTemplateIds: [id] }))).LaunchTemplates?.[0];
  const versionNumbers = async (a: Account, id: string) =>
    ((await a.clients.ec2.send(new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId: id }))).LaunchTemplateVersions ?? []).map((v) => v.VersionNumber).sort();

  it('launch template restore points the default back and deletes the version the run made', async () => {
    const a = account();
    const { f, v2 } = await template(a);
    await a.clients.ec2.send(new ModifyLaunchTemplateCommand({ LaunchTemplateId: f.launchTemplateId, DefaultVersion: String(v2) }));
    await undo(a, LAUNCH_TEMPLATE_TYPE, 'restore', { id: f.launchTemplateId, previousDefault: 1, newVersion: v2 });
    expect((await describeTemplate(a, f.launchTemplateId))!.DefaultVersionNumber).toBe(1);
    expect(await versionNumbers(a, f.launchTemplateId)).toEqual([1]);
  });

  it('launch template restore without a new version only points the default back', async () => {
    const a = account();
    const { f, v2 } = await template(a);
    await a.clients.ec2.send(new ModifyLaunchTemplateCommand({ LaunchTemplateId: f.launchTemplateId, DefaultVersion: String(v2) }));
    await undo(a, LAUNCH_TEMPLATE_TYPE, 'restore', { id: f.launchTemplateId, previousDefault: 1 });
    expect((await describeTemplate(a, f.launchTemplateId))!.DefaultVersionNumber).toBe(1);
    expect(await versionNumbers(a, f.launchTemplateId)).toEqual([1, v2]);
  });

  it('launch template delete removes it; a template gone is success for delete and restore', async () => {
    const a = account();
    const { f } = await template(a);
    await a.clients.autoscaling.send(new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: f.autoScalingGroupName, MinSize: 0 }));
    await undo(a, LAUNCH_TEMPLATE_TYPE, 'delete', { id: f.launchTemplateId });
    expect(await failure(a.clients.ec2.send(new DescribeLaunchTemplatesCommand({ LaunchTemplateIds: [f.launchTemplateId] })))).toMatch(/NotFound/);
    await expect(undo(a, LAUNCH_TEMPLATE_TYPE, 'delete', { id: f.launchTemplateId })).resolves.toBeUndefined();
    await expect(undo(a, LAUNCH_TEMPLATE_TYPE, 'restore', { id: f.launchTemplateId, previousDefault: 1, newVersion: 2 })).resolves.toBeUndefined();
    a.sb.faults.add({ op: 'ModifyLaunchTemplate', code: 'RequestLimitExceeded' });
    expect(await failure(undo(a, LAUNCH_TEMPLATE_TYPE, 'restore', { id: f.launchTemplateId, previousDefault: 1 }))).toBe('RequestLimitExceeded');
  });

  it('a group\'s launch template version is pointed back; a group gone is success, other errors surface', async () => {
    const a = account();
    const f = await createAsgFixture(a.clients, { size: 0, minSize: 0, versionRef: '1' });
    await a.clients.ec2.send(new CreateLaunchTemplateVersionCommand({ LaunchTemplateId: f.launchTemplateId, SourceVersion: '1', LaunchTemplateData: { InstanceType: 't3.large' } }));
    await a.clients.autoscaling.send(new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: f.autoScalingGroupName, LaunchTemplate: { LaunchTemplateId: f.launchTemplateId, Version: '2' } }));
    await undo(a, GROUP_LAUNCH_TEMPLATE_UNDO_TYPE, 'restore', { groupName: f.autoScalingGroupName, templateId: f.launchTemplateId, version: 1 });
    expect((await describeAsg(a.clients, f.autoScalingGroupName)).LaunchTemplate).toEqual({ LaunchTemplateId: f.launchTemplateId, LaunchTemplateName: expect.any(String), Version: '1' });
    await expect(undo(a, GROUP_LAUNCH_TEMPLATE_UNDO_TYPE, 'restore', { groupName: 'k3sctl-gone', templateId: f.launchTemplateId, version: 1 })).resolves.toBeUndefined();
    a.sb.faults.add({ op: 'UpdateAutoScalingGroup', code: 'ValidationError', message: 'Max bound exceeded' });
    expect(await failure(undo(a, GROUP_LAUNCH_TEMPLATE_UNDO_TYPE, 'restore', { groupName: f.autoScalingGroupName, templateId: f.launchTemplateId, version: 1 }))).toBe('ValidationError');
    a.sb.faults.clear();
    a.sb.faults.add({ op: 'UpdateAutoScalingGroup', code: 'ResourceContention', message: 'group not found' });
    expect(await failure(undo(a, GROUP_LAUNCH_TEMPLATE_UNDO_TYPE, 'restore', { groupName: f.autoScalingGroupName, templateId: f.launchTemplateId, version: 1 }))).toBe('ResourceContention');
  });
});

describe('Auto Scaling groups', () => {
  async function subnets(a: Account): Promise<string[]> {
    const out = await a.clients.ec2.send(new DescribeSubnetsCommand({ Filters: [{ Name: 'default-for-az', Values: ['true'] }] }));
    return out.Subnets!.map((s) => s.SubnetId!).sort();
  }

  it('restore puts back capacity, subnets and the launch template version of an on-demand group', async () => {
    const a = account();
    const f = await createAsgFixture(a.clients, { size: 1, minSize: 1, maxSize: 1, versionRef: '1' });
    const all = await subnets(a);
    await a.clients.ec2.send(new CreateLaunchTemplateVersionCommand({ LaunchTemplateId: f.launchTemplateId, SourceVersion: '1', LaunchTemplateData: { InstanceType: 't3.large' } }));
    await a.clients.autoscaling.send(
      new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: f.autoScalingGroupName, MinSize: 2, MaxSize: 2, DesiredCapacity: 2, VPCZoneIdentifier: all[0], LaunchTemplate: { LaunchTemplateId: f.launchTemplateId, Version: '2' } }),
    );
    await undo(a, AUTO_SCALING_GROUP_TYPE, 'restore', {
      name: f.autoScalingGroupName,
      previous: { min: 1, max: 1, desired: 1, launchTemplateId: f.launchTemplateId, launchTemplateVersion: '1', subnetIds: all.slice(0, 2) },
      spot: false,
    });
    const g = await describeAsg(a.clients, f.autoScalingGroupName);
    expect({ min: g.MinSize, max: g.MaxSize, desired: g.DesiredCapacity, version: g.LaunchTemplate?.Version }).toEqual({ min: 1, max: 1, desired: 1, version: '1' });
    expect(g.VPCZoneIdentifier!.split(',').sort()).toEqual(all.slice(0, 2));
  });

  it('restore of a group that was on spot puts it back on spot (the run made it on demand)', async () => {
    const a = account();
    const f = await createAsgFixture(a.clients, { size: 1, minSize: 1, maxSize: 1, versionRef: '1' });
    await a.clients.autoscaling.send(new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: f.autoScalingGroupName, LaunchTemplate: { LaunchTemplateId: f.launchTemplateId, Version: '$Latest' }, MaxSize: 3 }));
    await undo(a, AUTO_SCALING_GROUP_TYPE, 'restore', {
      name: f.autoScalingGroupName,
      previous: { min: 1, max: 1, desired: 1, launchTemplateId: f.launchTemplateId, launchTemplateVersion: '1' },
      spot: true,
    });
    const g = await describeAsg(a.clients, f.autoScalingGroupName);
    expect(g.MaxSize).toBe(1);
    expect(g.LaunchTemplate).toBeUndefined();
    expect(g.MixedInstancesPolicy?.LaunchTemplate?.LaunchTemplateSpecification).toMatchObject({ LaunchTemplateId: f.launchTemplateId, Version: '1' });
    expect(g.MixedInstancesPolicy?.InstancesDistribution).toMatchObject({ OnDemandBaseCapacity: 0, OnDemandPercentageAboveBaseCapacity: 0, SpotAllocationStrategy: 'price-capacity-optimized' });
    // The state k3sctl reads back: spot again, nothing to converge.
    expect((await findAutoScalingGroup(a.clients, f.autoScalingGroupName))!.spot).toBe(true);
  });

  it('restore of a group stored without a launch template changes only capacity and subnets', async () => {
    const a = account();
    const f = await createAsgFixture(a.clients, { size: 1, minSize: 1, maxSize: 1, versionRef: '1' });
    await a.clients.autoscaling.send(new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: f.autoScalingGroupName, MaxSize: 3 }));
    await undo(a, AUTO_SCALING_GROUP_TYPE, 'restore', { name: f.autoScalingGroupName, previous: { min: 1, max: 2, desired: 1 }, spot: true });
    const g = await describeAsg(a.clients, f.autoScalingGroupName);
    expect(g.MaxSize).toBe(2);
    expect(g.LaunchTemplate?.Version).toBe('1');
    expect(g.MixedInstancesPolicy).toBeUndefined();
  });

  it('restore of a group gone is success; other errors surface', async () => {
    const a = account();
    await expect(undo(a, AUTO_SCALING_GROUP_TYPE, 'restore', { name: 'k3sctl-gone', previous: { min: 0, max: 0, desired: 0 }, spot: false })).resolves.toBeUndefined();
    a.sb.faults.add({ op: 'UpdateAutoScalingGroup', code: 'ScalingActivityInProgress' });
    expect(await failure(undo(a, AUTO_SCALING_GROUP_TYPE, 'restore', { name: 'k3sctl-gone', previous: { min: 0, max: 0, desired: 0 }, spot: false }))).toBe('ScalingActivityInProgress');
  });

  it('delete removes the group with its instances; a group gone is success', async () => {
    const a = account();
    const f = await createAsgFixture(a.clients, { size: 2 });
    await waitSettled(a.clients, a.sb.clock, f.autoScalingGroupName);
    await undo(a, AUTO_SCALING_GROUP_TYPE, 'delete', { name: f.autoScalingGroupName });
    for (let i = 0; i < 100; i++) {
      const out = await a.clients.autoscaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [f.autoScalingGroupName] }));
      if (!out.AutoScalingGroups?.length) break;
      await a.sb.clock.sleep(5_000);
    }
    expect((await a.clients.autoscaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [f.autoScalingGroupName] }))).AutoScalingGroups).toEqual([]);
    await expect(undo(a, AUTO_SCALING_GROUP_TYPE, 'delete', { name: f.autoScalingGroupName })).resolves.toBeUndefined();
  });

  it('a target group attachment is detached (delete) and attached again (restore)', async () => {
    const a = account();
    const f = await createAsgFixture(a.clients, { size: 0, minSize: 0, targetGroup: true });
    const arns = async () => (await describeAsg(a.clients, f.autoScalingGroupName)).TargetGroupARNs ?? [];
    expect(await arns()).toEqual([f.targetGroupArn]);
    await undo(a, TARGET_GROUP_ATTACHMENT_TYPE, 'delete', { groupName: f.autoScalingGroupName, targetGroupArn: f.targetGroupArn });
    expect(await arns()).toEqual([]);
    await undo(a, TARGET_GROUP_ATTACHMENT_TYPE, 'restore', { groupName: f.autoScalingGroupName, targetGroupArn: f.targetGroupArn });
    expect(await arns()).toEqual([f.targetGroupArn]);
    await a.clients.autoscaling.send(new AttachLoadBalancerTargetGroupsCommand({ AutoScalingGroupName: f.autoScalingGroupName, TargetGroupARNs: [f.targetGroupArn!] }));
    expect(await arns()).toEqual([f.targetGroupArn]);
  });
});

describe('security groups', () => {
  async function group(a: Account) {
    const vpc = (await a.clients.ec2.send(new DescribeVpcsCommand({ Filters: [{ Name: 'is-default', Values: ['true'] }] }))).Vpcs![0].VpcId!;
    const sg = await a.clients.ec2.send(new CreateSecurityGroupCommand({ GroupName: 'k3sctl-demo', Description: 'k3sctl demo', VpcId: vpc }));
    return sg.GroupId!;
  }
  const rules = async (a: Account, id: string) =>
    ((await a.clients.ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [id] }))).SecurityGroups![0].IpPermissions ?? [])
      .flatMap((p) => [...(p.IpRanges ?? []).map((r) => `${p.IpProtocol}:${p.FromPort}-${p.ToPort}:${r.CidrIp}`), ...(p.UserIdGroupPairs ?? []).map((g) => `${p.IpProtocol}:${p.FromPort}-${p.ToPort}:${g.GroupId === id ? 'self' : g.GroupId}`)])
      .sort();

  it('restore revokes the rules the run added and authorizes those it removed', async () => {
    const a = account();
    const id = await group(a);
    await a.clients.ec2.send(
      new AuthorizeSecurityGroupIngressCommand({ GroupId: id, IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '0.0.0.0/0' }] }, { IpProtocol: 'tcp', FromPort: 6443, ToPort: 6443, IpRanges: [{ CidrIp: '10.0.0.0/8' }] }] }),
    );
    await undo(a, SECURITY_GROUP_TYPE, 'restore', { groupId: id, added: [{ protocol: 'tcp', fromPort: 22, toPort: 22, source: '0.0.0.0/0' }] });
    expect(await rules(a, id)).toEqual(['tcp:6443-6443:10.0.0.0/8']);
    await undo(a, SECURITY_GROUP_TYPE, 'restore', { groupId: id, removed: [{ protocol: 'tcp', fromPort: 10250, toPort: 10250, source: 'self' }, { protocol: 'udp', fromPort: 8472, toPort: 8472, source: 'self' }] });
    expect(await rules(a, id)).toEqual(['tcp:10250-10250:self', 'tcp:6443-6443:10.0.0.0/8', 'udp:8472-8472:self']);
  });

  it('restore is idempotent: a rule already revoked or already there is success; other errors surface', async () => {
    const a = account();
    const id = await group(a);
    const rule = { protocol: 'tcp', fromPort: 22, toPort: 22, source: '203.0.113.0/24' };
    await undo(a, SECURITY_GROUP_TYPE, 'restore', { groupId: id, removed: [rule] });
    await undo(a, SECURITY_GROUP_TYPE, 'restore', { groupId: id, removed: [rule] });
    expect(await rules(a, id)).toEqual(['tcp:22-22:203.0.113.0/24']);
    await undo(a, SECURITY_GROUP_TYPE, 'restore', { groupId: id, added: [rule] });
    await undo(a, SECURITY_GROUP_TYPE, 'restore', { groupId: id, added: [rule] });
    expect(await rules(a, id)).toEqual([]);
    await expect(undo(a, SECURITY_GROUP_TYPE, 'restore', { groupId: 'sg-0123456789abcdef0', added: [rule] })).resolves.toBeUndefined();
    expect(await failure(undo(a, SECURITY_GROUP_TYPE, 'restore', { groupId: 'sg-0123456789abcdef0', removed: [rule] }))).toMatch(/NotFound/);
    a.sb.faults.add({ op: 'RevokeSecurityGroupIngress', code: 'UnauthorizedOperation' });
    expect(await failure(undo(a, SECURITY_GROUP_TYPE, 'restore', { groupId: id, added: [rule] }))).toBe('UnauthorizedOperation');
    // Nothing added or removed: no call at all.
    await expect(undo(a, SECURITY_GROUP_TYPE, 'restore', { groupId: id })).resolves.toBeUndefined();
  });

  it('delete removes the group; already gone is success', async () => {
    const a = account();
    const id = await group(a);
    await undo(a, SECURITY_GROUP_TYPE, 'delete', { groupId: id });
    expect(await failure(a.clients.ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [id] })))).toMatch(/NotFound/);
    await expect(undo(a, SECURITY_GROUP_TYPE, 'delete', { groupId: id })).resolves.toBeUndefined();
  });
});

describe('load balancer pieces', () => {
  const sb = new Sandbox();
  const a: Account = { sb, clients: sandboxClients(sb, 'us-east-1') };
  let lbArn: string;
  let httpsArn: string;
  let certificateArn: string;
  let vpcId: string;
  beforeAll(async () => {
    certificateArn = await createCertificate(sb);
    lbArn = await createAlb(sb, certificateArn);
    httpsArn = (await findHttpsListener(a.clients, lbArn)).ListenerArn!;
    vpcId = (await a.clients.ec2.send(new DescribeVpcsCommand({ Filters: [{ Name: 'is-default', Values: ['true'] }] }))).Vpcs![0].VpcId!;
  });
  const tagsOf = async (arn: string) =>
    Object.fromEntries(((await a.clients.elbv2.send(new DescribeTagsCommand({ ResourceArns: [arn] }))).TagDescriptions![0].Tags ?? []).map((t) => [t.Key, t.Value]));
  async function targetGroup(name: string, path = '/healthz') {
    const tg = await a.clients.elbv2.send(new CreateTargetGroupCommand({ Name: name, Protocol: 'HTTP', Port: 30080, VpcId: vpcId, TargetType: 'instance', HealthCheckPath: path }));
    return tg.TargetGroups![0].TargetGroupArn!;
  }
  const tgExists = (arn: string) => a.clients.elbv2.send(new DescribeTargetGroupsCommand({ TargetGroupArns: [arn] })).then(() => true, () => false);

  it('tags: the previous values are put back and the tags the run added removed', async () => {
    await a.clients.elbv2.send(new AddTagsCommand({ ResourceArns: [lbArn], Tags: [{ Key: 'k3sctl.io/a', Value: 'new' }, { Key: 'k3sctl.io/b', Value: 'added' }, { Key: 'other', Value: 'kept' }] }));
    await undo(a, 'AWS::ElasticLoadBalancingV2::Tags', 'restore', { arn: lbArn, previous: { 'k3sctl.io/a': 'old', 'k3sctl.io/b': null } });
    const tags = await tagsOf(lbArn);
    expect(tags['k3sctl.io/a']).toBe('old');
    expect(tags).not.toHaveProperty(['k3sctl.io/b']);
    expect(tags.other).toBe('kept');
    // Only additions, only removals: one call each.
    await undo(a, 'AWS::ElasticLoadBalancingV2::Tags', 'restore', { arn: lbArn, previous: { 'k3sctl.io/a': null } });
    expect(await tagsOf(lbArn)).not.toHaveProperty(['k3sctl.io/a']);
    await undo(a, 'AWS::ElasticLoadBalancingV2::Tags', 'restore', { arn: lbArn, previous: { 'k3sctl.io/c': 'c' } });
    expect((await tagsOf(lbArn))['k3sctl.io/c']).toBe('c');
  });

  it('tags of a resource gone are nothing to restore; other errors surface', async () => {
    const gone = lbArn.replace(/[0-9a-f]{16}$/, '0000000000000000');
    await expect(undo(a, 'AWS::ElasticLoadBalancingV2::Tags', 'restore', { arn: gone, previous: { a: 'b' } })).resolves.toBeUndefined();
    const tgGone = (await targetGroup('k3s-tags-gone')).toString();
    await a.clients.elbv2.send(new DeleteTargetGroupCommand({ TargetGroupArn: tgGone }));
    await expect(undo(a, 'AWS::ElasticLoadBalancingV2::Tags', 'restore', { arn: tgGone, previous: { a: null } })).resolves.toBeUndefined();
    await expect(undo(a, 'AWS::ElasticLoadBalancingV2::Tags', 'restore', { arn: `${httpsArn.slice(0, -4)}0000`, previous: { a: 'b' } })).resolves.toBeUndefined();
    const ruleGone = `${httpsArn.replace(':listener/', ':listener-rule/')}/0000000000000000`;
    expect(await failure(a.clients.elbv2.send(new AddTagsCommand({ ResourceArns: [ruleGone], Tags: [{ Key: 'a', Value: 'b' }] })))).toBe('RuleNotFound');
    await expect(undo(a, 'AWS::ElasticLoadBalancingV2::Tags', 'restore', { arn: ruleGone, previous: { a: 'b' } })).resolves.toBeUndefined();
    a.sb.faults.add({ op: 'AddTags', code: 'TooManyTags', nth: 1 });
    expect(await failure(undo(a, 'AWS::ElasticLoadBalancingV2::Tags', 'restore', { arn: lbArn, previous: { a: 'b' } }))).toBe('TooManyTags');
    a.sb.faults.clear();
  });

  it('target group: delete by ARN or by name (a run killed before it learned the ARN); restore puts the health check path back', async () => {
    const byArn = await targetGroup('k3s-undo-arn');
    await undo(a, TARGET_GROUP_TYPE, 'delete', { arn: byArn, name: 'ignored' });
    expect(await tgExists(byArn)).toBe(false);
    const byName = await targetGroup('k3s-undo-name');
    await undo(a, TARGET_GROUP_TYPE, 'delete', { name: 'k3s-undo-name' });
    expect(await tgExists(byName)).toBe(false);
    await expect(undo(a, TARGET_GROUP_TYPE, 'delete', { name: 'k3s-undo-name' })).resolves.toBeUndefined();
    await expect(undo(a, TARGET_GROUP_TYPE, 'delete', {})).resolves.toBeUndefined();

    const changed = await targetGroup('k3s-undo-path', '/new');
    await undo(a, TARGET_GROUP_TYPE, 'restore', { arn: changed, healthCheckPath: '/old' });
    expect((await a.clients.elbv2.send(new DescribeTargetGroupsCommand({ TargetGroupArns: [changed] }))).TargetGroups![0].HealthCheckPath).toBe('/old');
    await undo(a, TARGET_GROUP_TYPE, 'delete', { arn: changed });
    await expect(undo(a, TARGET_GROUP_TYPE, 'restore', { arn: changed, healthCheckPath: '/old' })).resolves.toBeUndefined();
    // The deregistration delay is its own undo record: only the attribute goes back.
    const delayed = await targetGroup('k3s-undo-delay', '/kept');
    const delayOf = async () =>
      (await a.clients.elbv2.send(new DescribeTargetGroupAttributesCommand({ TargetGroupArn: delayed }))).Attributes!.find((x) => x.Key === 'deregistration_delay.timeout_seconds')?.Value;
    await a.clients.elbv2.send(new ModifyTargetGroupAttributesCommand({ TargetGroupArn: delayed, Attributes: [{ Key: 'deregistration_delay.timeout_seconds', Value: '30' }] }));
    await undo(a, TARGET_GROUP_TYPE, 'restore', { arn: delayed, deregistrationDelaySeconds: 60 });
    expect(await delayOf()).toBe('60');
    expect((await a.clients.elbv2.send(new DescribeTargetGroupsCommand({ TargetGroupArns: [delayed] }))).TargetGroups![0].HealthCheckPath).toBe('/kept');

    a.sb.faults.add({ op: 'ModifyTargetGroup', code: 'ValidationError', nth: 1 });
    const other = await targetGroup('k3s-undo-fail');
    expect(await failure(undo(a, TARGET_GROUP_TYPE, 'restore', { arn: other, healthCheckPath: '/old' }))).toBe('ValidationError');
    a.sb.faults.clear();
  });

  it('listener: delete by ARN, or by its load balancer and port; restore puts the certificate back', async () => {
    const tg = await targetGroup('k3s-undo-listener');
    const http = await a.clients.elbv2.send(new CreateListenerCommand({ LoadBalancerArn: lbArn, Protocol: 'HTTP', Port: 8080, DefaultActions: [{ Type: 'forward', TargetGroupArn: tg }] }));
    const ports = async () => ((await a.clients.elbv2.send(new DescribeListenersCommand({ LoadBalancerArn: lbArn }))).Listeners ?? []).map((l) => l.Port!).sort((x, y) => x - y);
    expect(await ports()).toEqual([80, 443, 8080]);
    await undo(a, LISTENER_TYPE, 'delete', { loadBalancerArn: lbArn, port: 8443 });
    expect(await ports()).toEqual([80, 443, 8080]);
    await undo(a, LISTENER_TYPE, 'delete', { loadBalancerArn: lbArn, port: 8080 });
    expect(await ports()).toEqual([80, 443]);
    await expect(undo(a, LISTENER_TYPE, 'delete', { arn: http.Listeners![0].ListenerArn })).resolves.toBeUndefined();
    await expect(undo(a, LISTENER_TYPE, 'delete', {})).resolves.toBeUndefined();
    const again = await a.clients.elbv2.send(new CreateListenerCommand({ LoadBalancerArn: lbArn, Protocol: 'HTTP', Port: 8081, DefaultActions: [{ Type: 'forward', TargetGroupArn: tg }] }));
    await undo(a, LISTENER_TYPE, 'delete', { arn: again.Listeners![0].ListenerArn, loadBalancerArn: lbArn, port: 443 });
    expect(await ports()).toEqual([80, 443]);

    const other = await a.clients.acm.send(new RequestCertificateCommand({ DomainName: 'other.example.com', ValidationMethod: 'DNS' }));
    await a.clients.elbv2.send(new ModifyListenerCommand({ ListenerArn: httpsArn, Certificates: [{ CertificateArn: other.CertificateArn! }] }));
    await undo(a, LISTENER_TYPE, 'restore', { arn: httpsArn, certificateArn });
    const listener = (await a.clients.elbv2.send(new DescribeListenersCommand({ ListenerArns: [httpsArn] }))).Listeners![0];
    expect(listener.Certificates).toEqual([expect.objectContaining({ CertificateArn: certificateArn })]);
    await expect(undo(a, LISTENER_TYPE, 'restore', { arn: `${httpsArn.slice(0, -4)}0000`, certificateArn })).resolves.toBeUndefined();
  });

  it('listener rule: delete by ARN, or by its owner tags; restore puts its actions and conditions back', async () => {
    const one = await targetGroup('k3s-undo-rule-1');
    const two = await targetGroup('k3s-undo-rule-2');
    const owner = [{ Key: 'k3sctl.io/endpoint', Value: 'undo' }];
    const rule = async (priority: number, tags = owner) =>
      (await a.clients.elbv2.send(
        new CreateRuleCommand({ ListenerArn: httpsArn, Priority: priority, Conditions: [{ Field: 'host-header', HostHeaderConfig: { Values: [`r${priority}.example.com`] } }], Actions: [{ Type: 'forward', TargetGroupArn: one }], Tags: tags }),
      )).Rules![0].RuleArn!;
    const rules = async () => ((await a.clients.elbv2.send(new DescribeRulesCommand({ ListenerArn: httpsArn }))).Rules ?? []).filter((r) => !r.IsDefault).map((r) => r.RuleArn);
    const first = await rule(101);
    await undo(a, LISTENER_RULE_TYPE, 'delete', { arn: first });
    expect(await rules()).not.toContain(first);
    const tagged = await rule(102);
    const foreign = await rule(103, [{ Key: 'k3sctl.io/endpoint', Value: 'other' }]);
    await undo(a, LISTENER_RULE_TYPE, 'delete', { listenerArn: httpsArn, owner });
    expect(await rules()).not.toContain(tagged);
    expect(await rules()).toContain(foreign);
    await expect(undo(a, LISTENER_RULE_TYPE, 'delete', { listenerArn: httpsArn, owner })).resolves.toBeUndefined();
    await expect(undo(a, LISTENER_RULE_TYPE, 'delete', { listenerArn: `${httpsArn.slice(0, -4)}0000`, owner })).resolves.toBeUndefined();
    await expect(undo(a, LISTENER_RULE_TYPE, 'delete', { owner })).resolves.toBeUndefined();
    await expect(undo(a, LISTENER_RULE_TYPE, 'delete', { listenerArn: httpsArn })).resolves.toBeUndefined();
    expect(await rules()).toContain(foreign);

    const actions = [{ Type: 'forward', TargetGroupArn: one }];
    await a.clients.elbv2.send(new ModifyRuleCommand({ RuleArn: foreign, Actions: [{ Type: 'forward', TargetGroupArn: two }], Conditions: [{ Field: 'host-header', HostHeaderConfig: { Values: ['changed.example.com'] } }] }));
    await undo(a, LISTENER_RULE_TYPE, 'restore', { arn: foreign, actions });
    let r = (await a.clients.elbv2.send(new DescribeRulesCommand({ RuleArns: [foreign] }))).Rules![0];
    expect(r.Actions![0].TargetGroupArn).toBe(one);
    expect(r.Conditions![0].HostHeaderConfig?.Values).toEqual(['changed.example.com']);
    await undo(a, LISTENER_RULE_TYPE, 'restore', { arn: foreign, actions, conditions: [{ Field: 'host-header', HostHeaderConfig: { Values: ['r103.example.com'] } }] });
    r = (await a.clients.elbv2.send(new DescribeRulesCommand({ RuleArns: [foreign] }))).Rules![0];
    expect(r.Conditions![0].HostHeaderConfig?.Values).toEqual(['r103.example.com']);
    await undo(a, LISTENER_RULE_TYPE, 'delete', { arn: foreign });
    await expect(undo(a, LISTENER_RULE_TYPE, 'restore', { arn: foreign, actions })).resolves.toBeUndefined();
    a.sb.faults.add({ op: 'DescribeRules', code: 'Throttling' });
    expect(await failure(undo(a, LISTENER_RULE_TYPE, 'delete', { listenerArn: httpsArn, owner }))).toBe('Throttling');
    a.sb.faults.clear();
    a.sb.faults.add({ op: 'ModifyRule', code: 'TooManyTargetGroups', nth: 1 });
    expect(await failure(undo(a, LISTENER_RULE_TYPE, 'restore', { arn: foreign, actions }))).toBe('TooManyTargetGroups');
    a.sb.faults.clear();
  });

  it('load balancer: delete by ARN or by name; already gone is success', async () => {
    const subnets = (await a.clients.ec2.send(new DescribeSubnetsCommand({ Filters: [{ Name: 'default-for-az', Values: ['true'] }] }))).Subnets!.map((s) => s.SubnetId!);
    const make = async (name: string) => (await a.clients.elbv2.send(new CreateLoadBalancerCommand({ Name: name, Subnets: subnets, Type: 'application' }))).LoadBalancers![0].LoadBalancerArn!;
    const exists = (arn: string) => a.clients.elbv2.send(new DescribeLoadBalancersCommand({ LoadBalancerArns: [arn] })).then(() => true, () => false);
    const byArn = await make('undo-arn');
    await undo(a, LOAD_BALANCER_TYPE, 'delete', { arn: byArn, name: 'shared' });
    expect(await exists(byArn)).toBe(false);
    expect(await exists(lbArn)).toBe(true);
    const byName = await make('undo-name');
    await undo(a, LOAD_BALANCER_TYPE, 'delete', { name: 'undo-name' });
    expect(await exists(byName)).toBe(false);
    await expect(undo(a, LOAD_BALANCER_TYPE, 'delete', { name: 'undo-name' })).resolves.toBeUndefined();
    await expect(undo(a, LOAD_BALANCER_TYPE, 'delete', { arn: byName })).resolves.toBeUndefined();
    await expect(undo(a, LOAD_BALANCER_TYPE, 'delete', {})).resolves.toBeUndefined();
  });

  it('certificate: delete by ARN or by its names; another certificate is left alone', async () => {
    const names = ['undo.example.com', 'www.undo.example.com'];
    const k3sctl = [{ Key: TagKeys.role, Value: 'certificate' }, { Key: TagKeys.managedBy, Value: 'k3sctl' }];
    const request = async (tags?: typeof k3sctl) =>
      (await a.clients.acm.send(new RequestCertificateCommand({ DomainName: names[0], SubjectAlternativeNames: [names[1]], ValidationMethod: 'DNS', IdempotencyToken: `t${Math.random().toString(36).slice(2, 10)}`, Tags: tags }))).CertificateArn!;
    const exists = (arn: string) => a.clients.acm.send(new DescribeCertificateCommand({ CertificateArn: arn })).then(() => true, () => false);
    const foreign = await request();
    const req = await request(k3sctl);
    await undo(a, CERTIFICATE_TYPE, 'delete', { names: ['undo.example.com'] });
    expect(await exists(req)).toBe(true);
    await undo(a, CERTIFICATE_TYPE, 'delete', { names });
    expect(await exists(req)).toBe(false);
    expect(await exists(foreign)).toBe(true);
    expect(await exists(certificateArn)).toBe(true);
    const byArn = await a.clients.acm.send(new RequestCertificateCommand({ DomainName: 'arn.example.com', ValidationMethod: 'DNS' }));
    await undo(a, CERTIFICATE_TYPE, 'delete', { arn: byArn.CertificateArn, names: [ZONE] });
    expect(await exists(byArn.CertificateArn!)).toBe(false);
    expect(await exists(certificateArn)).toBe(true);
    await expect(undo(a, CERTIFICATE_TYPE, 'delete', { arn: byArn.CertificateArn })).resolves.toBeUndefined();
    await expect(undo(a, CERTIFICATE_TYPE, 'delete', {})).resolves.toBeUndefined();
  });
});

describe('Route 53 record sets', () => {
  const record: RecordSpec = { name: 'blog.example.com', type: 'A', ttl: 60, values: ['203.0.113.10'] };

  async function zone(a: Account): Promise<string> {
    const out = await a.clients.route53.send(new CreateHostedZoneCommand({ Name: 'undo.example', CallerReference: `undo-${Math.random()}` }));
    return out.HostedZone!.Id!.replace('/hostedzone/', '');
  }
  async function upsert(a: Account, zoneId: string, r: RecordSpec) {
    await a.clients.route53.send(
      new ChangeResourceRecordSetsCommand({
        HostedZoneId: zoneId,
        ChangeBatch: { Changes: [{ Action: 'UPSERT', ResourceRecordSet: { Name: r.name, Type: r.type, TTL: r.ttl, ResourceRecords: (r.values ?? []).map((Value) => ({ Value })) } }] },
      }),
    );
  }

  it('delete removes the record the run wrote, but not one changed since by someone else', async () => {
    const a = account();
    const zoneId = await zone(a);
    const r = { ...record, name: 'blog.undo.example' };
    await upsert(a, zoneId, r);
    await undo(a, RECORD_SET_TYPE, 'delete', { zoneId, record: r });
    expect(await findRecord(a.clients, zoneId, r)).toBeUndefined();
    await expect(undo(a, RECORD_SET_TYPE, 'delete', { zoneId, record: r })).resolves.toBeUndefined();
    await upsert(a, zoneId, { ...r, values: ['198.51.100.1'] });
    await undo(a, RECORD_SET_TYPE, 'delete', { zoneId, record: r });
    expect((await findRecord(a.clients, zoneId, r))?.values).toEqual(['198.51.100.1']);
  });

  it('delete in a zone gone is success; other errors surface', async () => {
    const a = account();
    await expect(undo(a, RECORD_SET_TYPE, 'delete', { zoneId: 'Z0000000000000000000', record })).resolves.toBeUndefined();
    const zoneId = await zone(a);
    a.sb.faults.add({ op: 'ListResourceRecordSets', code: 'Throttling' });
    expect(await failure(undo(a, RECORD_SET_TYPE, 'delete', { zoneId, record }))).toBe('Throttling');
  });

  it('restore puts the previous record back', async () => {
    const a = account();
    const zoneId = await zone(a);
    const r = { ...record, name: 'www.undo.example' };
    await upsert(a, zoneId, { ...r, values: ['198.51.100.1'] });
    await undo(a, RECORD_SET_TYPE, 'restore', { zoneId, previous: r });
    expect((await findRecord(a.clients, zoneId, r))?.values).toEqual(['203.0.113.10']);
  });
});
