// The cluster resource kinds on their own against the sandbox: create tagged, re-run without writes,
// targeted updates, ownership conflicts refused, deletes idempotent (NotFound is success).
import { CreateRoleCommand, GetRoleCommand } from '@aws-sdk/client-iam';
import { DescribeSecurityGroupsCommand } from '@aws-sdk/client-ec2';
import { GetParameterCommand } from '@aws-sdk/client-ssm';
import { Sandbox } from '../../src/sandbox/sandbox';
import { runWorkflow, type Task } from '../../src/orchestration/engine';
import type { WorkflowDeps } from '../../src/orchestration/deps';
import { taskRef } from '../../src/provider/taskRef';
import { UserError } from '../../src/core/errors';
import { deleteIamRole, iamRoleTask, instanceRolePolicies } from '../../src/resources/iamRole';
import { deleteInstanceProfile, instanceProfileTask } from '../../src/resources/instanceProfile';
import { deleteSecurityGroup, findClusterSecurityGroup, securityGroupTask } from '../../src/resources/securityGroup';
import { deleteParameters, ssmParameterTask } from '../../src/resources/ssmParameter';
import { deleteLaunchTemplate, findLaunchTemplate, launchTemplateTask } from '../../src/resources/launchTemplate';
import { deleteAutoScalingGroup } from '../../src/resources/autoScalingGroup';
import { removeTestHomes, sandboxDeps } from '../helpers/sandboxDeps';

afterAll(() => removeTestHomes());

async function converge(deps: WorkflowDeps, tasks: Task[]) {
  return runWorkflow(deps, 'test', async (run) => {
    await run.plan(tasks);
    await run.apply(tasks);
    return { outputs: tasks.map((t) => run.ctx.get(t)) };
  });
}

function account() {
  const sb = new Sandbox();
  const home = sandboxDeps(sb).home;
  return { sb, next: () => sandboxDeps(sb, { home }).deps };
}

const roleSpec = (cluster = 'res') => ({
  key: 'role',
  roleName: `k3sctl-${cluster}-us-east-1-node`,
  cluster,
  role: 'node' as const,
  policies: instanceRolePolicies('node', {
    cluster,
    region: 'us-east-1',
    serverToken: `/k3sctl/clusters/${cluster}/server-token`,
    agentToken: `/k3sctl/clusters/${cluster}/agent-token`,
    initialized: `/k3sctl/clusters/${cluster}/initialized`,
    bootstrapFailures: `/k3sctl/clusters/${cluster}/bootstrap-failures`,
  }),
  managedPolicies: [],
});

describe('IAM role and instance profile', () => {
  it('creates tagged, re-runs without writes, deletes idempotently', async () => {
    const { next } = account();
    const tasks = [
      iamRoleTask(roleSpec()) as Task,
      instanceProfileTask({ key: 'profile', name: 'k3sctl-res-us-east-1-node', cluster: 'res', role: 'node', roleTask: taskRef('role'), roleName: 'k3sctl-res-us-east-1-node' }) as Task,
    ];
    const created = await converge(next(), tasks);
    expect(created.changes.map((c) => c.action)).toEqual(['create', 'create']);
    const deps = next();
    const role = (await deps.clients.iam.send(new GetRoleCommand({ RoleName: 'k3sctl-res-us-east-1-node' }))).Role!;
    expect(role.Tags).toEqual(expect.arrayContaining([{ Key: 'k3sctl.io/cluster', Value: 'res' }]));
    expect((await converge(next(), tasks)).apiCalls.write).toBe(0);
    const d = next();
    expect(await deleteInstanceProfile(d.clients, 'k3sctl-res-us-east-1-node')).toBe(true);
    expect(await deleteIamRole(d.clients, 'k3sctl-res-us-east-1-node')).toBe(true);
    expect(await deleteInstanceProfile(d.clients, 'k3sctl-res-us-east-1-node')).toBe(false);
    expect(await deleteIamRole(d.clients, 'k3sctl-res-us-east-1-node')).toBe(false);
  });

  it('refuses a role of the same name it does not own, before writing', async () => {
    const { next } = account();
    const deps = next();
    await deps.clients.iam.send(new CreateRoleCommand({ RoleName: 'k3sctl-res-us-east-1-node', AssumeRolePolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }] }) }));
    const run = next();
    await expect(converge(run, [iamRoleTask(roleSpec()) as Task])).rejects.toBeInstanceOf(UserError);
    expect(run.clients.calls.write).toBe(0);
  });
});

describe('cluster security group', () => {
  it('adds and revokes only the rules that differ', async () => {
    const { next } = account();
    const vpcId = (await next().clients.ec2.send(new DescribeSecurityGroupsCommand({}))).SecurityGroups![0].VpcId!;
    const spec = { key: 'sg', cluster: 'res', name: 'k3sctl-res', vpcId, sshCidrs: ['203.0.113.0/24'], apiCidrs: [] };
    await converge(next(), [securityGroupTask(spec) as Task]);
    expect((await converge(next(), [securityGroupTask(spec) as Task])).apiCalls.write).toBe(0);
    const changed = await converge(next(), [securityGroupTask({ ...spec, sshCidrs: ['198.51.100.7/32'], apiCidrs: ['198.51.100.0/24'] }) as Task]);
    expect(changed.changes[0].action).toBe('update');
    expect(changed.changes[0].details).toEqual(
      expect.arrayContaining(['add ingress tcp:22-22:198.51.100.7/32', 'add ingress tcp:6443-6443:198.51.100.0/24', 'remove ingress tcp:22-22:203.0.113.0/24']),
    );
    const sg = (await findClusterSecurityGroup(next().clients, 'res'))!;
    expect(sg.rules.filter((r) => r.fromPort === 22).map((r) => r.source)).toEqual(['198.51.100.7/32']);
    expect(await deleteSecurityGroup(next().clients, sg.groupId)).toBe(true);
    expect(await deleteSecurityGroup(next().clients, sg.groupId)).toBe(false);
  });
});

describe('SSM parameters', () => {
  it('never overwrites or reveals a token; keeps the config current', async () => {
    const { next } = account();
    let generated = 0;
    const token = () => ssmParameterTask({ key: 'token', name: '/k3sctl/clusters/res/agent-token', cluster: 'res', type: 'SecureString', value: () => `secret-${++generated}`, managedValue: false }) as Task;
    const config = (v: string) => ssmParameterTask({ key: 'config', name: '/k3sctl/clusters/res/config', cluster: 'res', type: 'String', value: () => v, managedValue: true }) as Task;
    await converge(next(), [token(), config('{"a":1}')]);
    const again = await converge(next(), [token(), config('{"a":1}')]);
    expect(again.apiCalls.write).toBe(0);
    expect(generated).toBe(1);
    const updated = await converge(next(), [token(), config('{"a":2}')]);
    expect(updated.changes.map((c) => c.action)).toEqual(['noop', 'update']);
    const deps = next();
    const secret = await deps.clients.ssm.send(new GetParameterCommand({ Name: '/k3sctl/clusters/res/agent-token', WithDecryption: true }));
    expect(secret.Parameter?.Value).toBe('secret-1');
    expect(JSON.stringify(updated)).not.toContain('secret-1');
    expect(await deleteParameters(deps.clients, ['/k3sctl/clusters/res/agent-token', '/k3sctl/clusters/res/config', '/k3sctl/clusters/res/nope'])).toHaveLength(2);
  });
});

describe('launch template', () => {
  it('creates version 1, makes a new default version on change, deletes idempotently', async () => {
    const { next } = account();
    const input = (instanceType: string, imdsHopLimit = 1) => ({
      imageId: 'ami-0a3c5e7f9b1d2f401',
      instanceType,
      instanceProfileArn: 'arn:aws:iam::123456789012:instance-profile/x',
      securityGroupIds: ['sg-0123456789abcdef0'],
      userDataBase64: Buffer.from('#!/bin/sh\n').toString('base64'),
      rootDeviceName: '/dev/xvda',
      rootVolumeSize: 20,
      rootVolumeType: 'gp3',
      imdsHopLimit,
      instanceTags: [{ Key: 'k3sctl.io/cluster', Value: 'res' }],
    });
    const task = (t: string, hops?: number) =>
      launchTemplateTask({ key: 'lt', name: 'k3sctl-res-nodes', cluster: 'res', role: 'node', group: 'nodes', dependsOn: [], input: () => input(t, hops) }) as Task;
    await converge(next(), [task('t3.medium')]);
    expect((await converge(next(), [task('t3.medium')])).apiCalls.write).toBe(0);
    const changed = await converge(next(), [task('t3.large')]);
    expect(changed.changes[0].details).toEqual(['instanceType: "t3.medium" -> "t3.large"']);
    const lt = (await findLaunchTemplate(next().clients, 'k3sctl-res-nodes'))!;
    expect([lt.defaultVersion, lt.latestVersion]).toEqual([2, 2]);
    expect(lt.data).toMatchObject({ instanceType: 't3.large', httpTokens: 'required', imdsHopLimit: 1, rootEncrypted: true });
    // The hop limit is a managed field: a change is a new default version, a re-run writes nothing.
    const hops = await converge(next(), [task('t3.large', 2)]);
    expect(hops.changes[0].details).toEqual(['imdsHopLimit: 1 -> 2']);
    expect((await converge(next(), [task('t3.large', 2)])).apiCalls.write).toBe(0);
    const raised = (await findLaunchTemplate(next().clients, 'k3sctl-res-nodes'))!;
    expect([raised.defaultVersion, raised.data.imdsHopLimit]).toEqual([3, 2]);
    expect(await deleteLaunchTemplate(next().clients, lt.id)).toBe(true);
    expect(await deleteLaunchTemplate(next().clients, lt.id)).toBe(false);
    expect(await deleteAutoScalingGroup(next().clients, 'k3sctl-res-none')).toBe(false);
  });
});
