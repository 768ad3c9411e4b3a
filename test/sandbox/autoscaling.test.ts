import {
  CreateLaunchTemplateCommand,
  CreateLaunchTemplateVersionCommand,
  DescribeInstancesCommand,
  DescribeSubnetsCommand,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import {
  AttachInstancesCommand,
  AttachLoadBalancerTargetGroupsCommand,
  CompleteLifecycleActionCommand,
  DeleteLifecycleHookCommand,
  DescribeLifecycleHooksCommand,
  DescribeLoadBalancerTargetGroupsCommand,
  DetachInstancesCommand,
  DetachLoadBalancerTargetGroupsCommand,
  RecordLifecycleActionHeartbeatCommand,
  CreateAutoScalingGroupCommand,
  CreateOrUpdateTagsCommand,
  DeleteTagsCommand,
  DescribeAutoScalingInstancesCommand,
  DescribeTagsCommand,
  DeleteAutoScalingGroupCommand,
  DescribeAutoScalingGroupsCommand,
  DescribeScalingActivitiesCommand,
  PutLifecycleHookCommand,
  ResumeProcessesCommand,
  SetDesiredCapacityCommand,
  SuspendProcessesCommand,
  TerminateInstanceInAutoScalingGroupCommand,
  UpdateAutoScalingGroupCommand,
  type AutoScalingGroup,
  type CreateAutoScalingGroupCommandInput,
} from '@aws-sdk/client-auto-scaling';
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateTargetGroupCommand,
  DeleteTargetGroupCommand,
  DescribeTargetHealthCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { CreateInstanceProfileCommand } from '@aws-sdk/client-iam';
import { Sandbox, type SandboxBehavior } from '../../src/sandbox/sandbox';
import { sandboxClients } from '../../src/sandbox/clients';
import { DEFAULT_IMAGES } from '../../src/sandbox/defaults';
import { defaultTimings } from '../../src/sandbox/latency';

// Round numbers so the expected transitions are easy to follow.
const timings = {
  ...defaultTimings,
  instanceBootMs: 30_000,
  asgInServiceMs: 40_000,
  asgReconcileMs: 10_000,
  drainMs: 30_000,
  instanceShutdownMs: 20_000,
  iamPropagationMs: 8_000,
};
const MINUTE = 60_000;

async function setup(behavior: Partial<SandboxBehavior> = {}) {
  const sb = new Sandbox({ behavior: { timings, ...behavior } });
  const c = sandboxClients(sb, 'us-east-1');
  const subnets = (await c.ec2.send(new DescribeSubnetsCommand({}))).Subnets ?? [];
  const lt = await c.ec2.send(
    new CreateLaunchTemplateCommand({
      LaunchTemplateName: 'nodes',
      LaunchTemplateData: { ImageId: DEFAULT_IMAGES[0].ImageId, InstanceType: 't3.small' },
    }),
  );
  const ltId = lt.LaunchTemplate?.LaunchTemplateId as string;
  const vpcZoneIdentifier = subnets.map((s) => s.SubnetId).join(',');
  const create = (name: string, extra: Partial<CreateAutoScalingGroupCommandInput> = {}) =>
    c.autoscaling.send(
      new CreateAutoScalingGroupCommand({
        AutoScalingGroupName: name,
        LaunchTemplate: { LaunchTemplateId: ltId, Version: '$Latest' },
        MinSize: 0,
        MaxSize: 6,
        DesiredCapacity: 3,
        VPCZoneIdentifier: vpcZoneIdentifier,
        ...extra,
      }),
    );
  const group = async (name: string): Promise<AutoScalingGroup | undefined> =>
    (await c.autoscaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name] })))
      .AutoScalingGroups?.[0];
  const states = async (name: string) =>
    ((await group(name))?.Instances ?? []).map((i) => i.LifecycleState).sort();
  return { sb, c, subnets, ltId, create, group, states };
}

describe('sandbox Auto Scaling', () => {
  it('reconciles capacity across zones and replaces an instance terminated through EC2', async () => {
    const { sb, c, create, group, ltId } = await setup();
    await create('nodes', {
      Tags: [
        { Key: 'k3sctl.io/cluster', Value: 'alpha', PropagateAtLaunch: true },
        { Key: 'private', Value: 'x', PropagateAtLaunch: false },
      ],
    });
    const created = await group('nodes');
    expect(created?.AutoScalingGroupARN).toMatch(
      /^arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:[0-9a-f-]{36}:autoScalingGroupName\/nodes$/,
    );
    expect(created?.LaunchTemplate).toEqual({
      LaunchTemplateId: ltId,
      LaunchTemplateName: 'nodes',
      Version: '$Latest',
    });
    sb.advance(MINUTE);
    const g = await group('nodes');
    expect(g?.Instances?.map((i) => [i.LifecycleState, i.HealthStatus])).toEqual([
      ['InService', 'Healthy'],
      ['InService', 'Healthy'],
      ['InService', 'Healthy'],
    ]);
    expect(new Set(g?.Instances?.map((i) => i.AvailabilityZone)).size).toBe(3);
    expect(g?.Instances?.[0].LaunchTemplate).toEqual({
      LaunchTemplateId: ltId,
      LaunchTemplateName: 'nodes',
      Version: '1',
    });
    const ids = g!.Instances!.map((i) => i.InstanceId as string);
    const described = await c.ec2.send(new DescribeInstancesCommand({ InstanceIds: [ids[0]] }));
    const tags = described.Reservations?.[0].Instances?.[0].Tags ?? [];
    expect(tags).toEqual(
      expect.arrayContaining([
        { Key: 'k3sctl.io/cluster', Value: 'alpha' },
        { Key: 'aws:autoscaling:groupName', Value: 'nodes' },
      ]),
    );
    expect(tags.find((t) => t.Key === 'private')).toBeUndefined();

    await c.ec2.send(new TerminateInstancesCommand({ InstanceIds: [ids[0]] }));
    sb.advance(10_000);
    const marked = (await group('nodes'))?.Instances?.find((i) => i.InstanceId === ids[0]);
    expect(marked?.HealthStatus).toBe('Unhealthy');
    sb.advance(2 * MINUTE);
    const after = await group('nodes');
    const afterIds = after!.Instances!.map((i) => i.InstanceId);
    expect(afterIds).toHaveLength(3);
    expect(afterIds).not.toContain(ids[0]);
    expect(afterIds).toEqual(expect.arrayContaining(ids.slice(1)));
    expect(after!.Instances!.every((i) => i.LifecycleState === 'InService')).toBe(true);
    const activities =
      (await c.autoscaling.send(new DescribeScalingActivitiesCommand({ AutoScalingGroupName: 'nodes' })))
        .Activities ?? [];
    expect(activities.filter((a) => a.StatusCode === 'Successful').length).toBeGreaterThanOrEqual(5); // 4 launches + 1 termination (page of 5)
  });

  it('drains through the termination hook: the instance model completes with CONTINUE', async () => {
    const { sb, c, create, group, states } = await setup();
    await create('workers', {
      LifecycleHookSpecificationList: [
        {
          LifecycleHookName: 'drain',
          LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING',
          HeartbeatTimeout: 600,
          DefaultResult: 'ABANDON',
        },
      ],
    });
    sb.advance(MINUTE);
    await c.autoscaling.send(
      new SetDesiredCapacityCommand({ AutoScalingGroupName: 'workers', DesiredCapacity: 2 }),
    );
    sb.advance(10_000);
    expect(await states('workers')).toEqual(['InService', 'InService', 'Terminating:Wait']);
    const leaving = (await group('workers'))!.Instances!.find((i) => i.LifecycleState === 'Terminating:Wait')!
      .InstanceId as string;
    sb.advance(25_000); // drain (30 s from the start of the termination) done: CONTINUE, EC2 shutting down
    expect(await states('workers')).toEqual(['InService', 'InService', 'Terminating:Proceed']);
    const ec2 = await c.ec2.send(new DescribeInstancesCommand({ InstanceIds: [leaving] }));
    expect(ec2.Reservations?.[0].Instances?.[0].State?.Name).toBe('shutting-down');
    sb.advance(30_000);
    expect(await states('workers')).toEqual(['InService', 'InService']);
    const activities =
      (await c.autoscaling.send(new DescribeScalingActivitiesCommand({ AutoScalingGroupName: 'workers' })))
        .Activities ?? [];
    const termination = activities.find((a) => a.Description === `Terminating EC2 instance: ${leaving}`);
    expect(termination?.StatusCode).toBe('Successful');
    expect(JSON.parse(termination?.Details ?? '{}')['Lifecycle action result']).toBe('CONTINUE');
    await expect(
      c.autoscaling.send(
        new CompleteLifecycleActionCommand({
          AutoScalingGroupName: 'workers',
          LifecycleHookName: 'drain',
          InstanceId: leaving,
          LifecycleActionResult: 'CONTINUE',
        }),
      ),
    ).rejects.toMatchObject({
      name: 'ValidationError',
      message: `No active Lifecycle Action found with instance ID ${leaving}`,
    });
  });

  it('records ABANDON when the drain fails, and honours explicit completion and heartbeat timeouts', async () => {
    const { sb, c, create, group, states } = await setup({ failDrain: ['failing'] });
    await create('failing', { DesiredCapacity: 1 });
    await c.autoscaling.send(
      new PutLifecycleHookCommand({
        AutoScalingGroupName: 'failing',
        LifecycleHookName: 'drain',
        LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING',
        HeartbeatTimeout: 300,
      }),
    );
    sb.advance(MINUTE);
    const id = (await group('failing'))!.Instances![0].InstanceId as string;
    const out = await c.autoscaling.send(
      new TerminateInstanceInAutoScalingGroupCommand({
        InstanceId: id,
        ShouldDecrementDesiredCapacity: true,
      }),
    );
    expect(out.Activity?.Description).toBe(`Terminating EC2 instance: ${id}`);
    expect(await states('failing')).toEqual(['Terminating:Wait']);
    sb.advance(60_000);
    expect(await states('failing')).toEqual([]);
    const activities =
      (await c.autoscaling.send(new DescribeScalingActivitiesCommand({ AutoScalingGroupName: 'failing' })))
        .Activities ?? [];
    expect(
      JSON.parse(activities.find((a) => a.ActivityId === out.Activity?.ActivityId)?.Details ?? '{}')[
        'Lifecycle action result'
      ],
    ).toBe('ABANDON');
    expect((await group('failing'))?.DesiredCapacity).toBe(0);

    // A drain slower than the heartbeat timeout: the hook's DefaultResult applies; an operator can complete it first.
    const slow = await setup({ timings: { ...timings, drainMs: 20 * MINUTE } });
    await slow.create('slow', {
      DesiredCapacity: 2,
      LifecycleHookSpecificationList: [
        {
          LifecycleHookName: 'drain',
          LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING',
          HeartbeatTimeout: 120,
          DefaultResult: 'CONTINUE',
        },
      ],
    });
    slow.sb.advance(MINUTE);
    const [a, b] = (await slow.group('slow'))!.Instances!.map((i) => i.InstanceId as string);
    await slow.c.autoscaling.send(
      new TerminateInstanceInAutoScalingGroupCommand({ InstanceId: a, ShouldDecrementDesiredCapacity: true }),
    );
    await slow.c.autoscaling.send(
      new TerminateInstanceInAutoScalingGroupCommand({ InstanceId: b, ShouldDecrementDesiredCapacity: true }),
    );
    await slow.c.autoscaling.send(
      new CompleteLifecycleActionCommand({
        AutoScalingGroupName: 'slow',
        LifecycleHookName: 'drain',
        InstanceId: a,
        LifecycleActionResult: 'CONTINUE',
      }),
    );
    const mid = Object.fromEntries(
      (await slow.group('slow'))!.Instances!.map((i) => [i.InstanceId, i.LifecycleState]),
    );
    expect(mid).toEqual({ [a]: 'Terminating:Proceed', [b]: 'Terminating:Wait' });
    slow.sb.advance(110_000);
    expect(
      Object.fromEntries((await slow.group('slow'))!.Instances!.map((i) => [i.InstanceId, i.LifecycleState])),
    ).toEqual({ [b]: 'Terminating:Wait' });
    slow.sb.advance(15_000);
    expect(
      Object.fromEntries((await slow.group('slow'))!.Instances!.map((i) => [i.InstanceId, i.LifecycleState])),
    ).toEqual({ [b]: 'Terminating:Proceed' });
  });

  it('holds a launching instance in Pending:Wait until its launch hook is completed', async () => {
    const { sb, c, create, group, states } = await setup();
    await create('launchhook', {
      DesiredCapacity: 1,
      LifecycleHookSpecificationList: [
        {
          LifecycleHookName: 'ready',
          LifecycleTransition: 'autoscaling:EC2_INSTANCE_LAUNCHING',
          HeartbeatTimeout: 900,
          DefaultResult: 'ABANDON',
        },
      ],
    });
    sb.advance(2 * MINUTE);
    expect(await states('launchhook')).toEqual(['Pending:Wait']);
    const id = (await group('launchhook'))!.Instances![0].InstanceId as string;
    await c.autoscaling.send(
      new CompleteLifecycleActionCommand({
        AutoScalingGroupName: 'launchhook',
        LifecycleHookName: 'ready',
        InstanceId: id,
        LifecycleActionResult: 'CONTINUE',
      }),
    );
    expect(await states('launchhook')).toEqual(['InService']);
  });

  it('stops launching while Launch is suspended and validates capacities', async () => {
    const { sb, c, create, group, states } = await setup();
    await create('paused', { MinSize: 1, MaxSize: 3, DesiredCapacity: 1 });
    sb.advance(MINUTE);
    await c.autoscaling.send(
      new SuspendProcessesCommand({ AutoScalingGroupName: 'paused', ScalingProcesses: ['Launch'] }),
    );
    await c.autoscaling.send(
      new SetDesiredCapacityCommand({ AutoScalingGroupName: 'paused', DesiredCapacity: 3 }),
    );
    sb.advance(5 * MINUTE);
    expect(await states('paused')).toEqual(['InService']);
    expect((await group('paused'))?.SuspendedProcesses?.map((p) => p.ProcessName)).toEqual(['Launch']);
    await c.autoscaling.send(
      new ResumeProcessesCommand({ AutoScalingGroupName: 'paused', ScalingProcesses: ['Launch'] }),
    );
    sb.advance(MINUTE);
    expect(await states('paused')).toEqual(['InService', 'InService', 'InService']);

    await expect(
      c.autoscaling.send(
        new SetDesiredCapacityCommand({ AutoScalingGroupName: 'paused', DesiredCapacity: 4 }),
      ),
    ).rejects.toMatchObject({
      name: 'ValidationError',
      message: 'New SetDesiredCapacity value 4 is above max value 3 for the AutoScalingGroup.',
    });
    await expect(
      c.autoscaling.send(
        new SetDesiredCapacityCommand({ AutoScalingGroupName: 'paused', DesiredCapacity: 0 }),
      ),
    ).rejects.toMatchObject({
      name: 'ValidationError',
      message: 'New SetDesiredCapacity value 0 is below min value 1 for the AutoScalingGroup.',
    });
    await expect(
      c.autoscaling.send(new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: 'paused', MinSize: 4 })),
    ).rejects.toMatchObject({ name: 'ValidationError' });
    await expect(
      c.autoscaling.send(
        new SetDesiredCapacityCommand({ AutoScalingGroupName: 'ghost', DesiredCapacity: 1 }),
      ),
    ).rejects.toMatchObject({ name: 'ValidationError' });
    await expect(create('paused')).rejects.toMatchObject({ name: 'AlreadyExistsFault' });
    await expect(create('bad', { MinSize: 3, MaxSize: 2, DesiredCapacity: 2 })).rejects.toMatchObject({
      name: 'ValidationError',
    });
    // Lowering max below desired without a desired clamps desired, as AWS does.
    await c.autoscaling.send(
      new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: 'paused', MaxSize: 2 }),
    );
    expect((await group('paused'))?.DesiredCapacity).toBe(2);
  });

  it('refuses DeleteAutoScalingGroup while instances remain; ForceDelete lingers in Delete in progress', async () => {
    const { sb, c, create, group } = await setup();
    await create('doomed', { DesiredCapacity: 2 });
    sb.advance(MINUTE);
    await expect(
      c.autoscaling.send(new DeleteAutoScalingGroupCommand({ AutoScalingGroupName: 'doomed' })),
    ).rejects.toMatchObject({ name: 'ResourceInUseFault' });
    await c.autoscaling.send(
      new DeleteAutoScalingGroupCommand({ AutoScalingGroupName: 'doomed', ForceDelete: true }),
    );
    const deleting = await group('doomed');
    expect(deleting?.Status).toBe('Delete in progress');
    expect(deleting?.Instances?.map((i) => i.LifecycleState)).toEqual([
      'Terminating:Proceed',
      'Terminating:Proceed',
    ]);
    sb.advance(30_000);
    expect(await group('doomed')).toBeUndefined();
    expect(sb.inventory().filter((i) => i.type === 'AWS::AutoScaling::AutoScalingGroup')).toEqual([]);
    await create('empty', { DesiredCapacity: 0 });
    await c.autoscaling.send(new DeleteAutoScalingGroupCommand({ AutoScalingGroupName: 'empty' }));
    expect(await group('empty')).toBeUndefined();
  });

  it('registers InService instances with attached target groups and deregisters them on scale-in', async () => {
    const { sb, c, subnets, create, group } = await setup({
      timings: { ...timings, albProvisioningMs: 30_000, targetHealthyMs: 30_000 },
    });
    const lb = await c.elbv2.send(
      new CreateLoadBalancerCommand({
        Name: 'alb',
        Subnets: subnets.slice(0, 2).map((s) => s.SubnetId as string),
      }),
    );
    const tg = (
      await c.elbv2.send(
        new CreateTargetGroupCommand({
          Name: 'alpha-ingress',
          Protocol: 'HTTP',
          Port: 80,
          VpcId: subnets[0].VpcId,
        }),
      )
    ).TargetGroups![0].TargetGroupArn as string;
    await c.elbv2.send(
      new CreateListenerCommand({
        LoadBalancerArn: lb.LoadBalancers![0].LoadBalancerArn,
        Protocol: 'HTTP',
        Port: 80,
        DefaultActions: [{ Type: 'forward', TargetGroupArn: tg }],
      }),
    );
    await expect(
      create('bad-tg', { TargetGroupARNs: [tg.replace(/[0-9a-f]{16}$/, '0123456789abcdef')] }),
    ).rejects.toMatchObject({ name: 'ValidationError' });
    await create('ingress', {
      DesiredCapacity: 2,
      TargetGroupARNs: [tg],
      HealthCheckType: 'ELB',
      HealthCheckGracePeriod: 60,
    });
    const health = async () =>
      Object.fromEntries(
        (
          (await c.elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: tg })))
            .TargetHealthDescriptions ?? []
        ).map((d) => [d.Target?.Id, d.TargetHealth?.State]),
      );
    expect(await health()).toEqual({});
    sb.advance(MINUTE);
    const ids = (await group('ingress'))!.Instances!.map((i) => i.InstanceId as string);
    expect(await health()).toEqual({ [ids[0]]: 'initial', [ids[1]]: 'initial' });
    sb.advance(30_000);
    expect(await health()).toEqual({ [ids[0]]: 'healthy', [ids[1]]: 'healthy' });
    await c.autoscaling.send(
      new SetDesiredCapacityCommand({ AutoScalingGroupName: 'ingress', DesiredCapacity: 1 }),
    );
    sb.advance(5_000);
    expect(Object.values(await health()).sort()).toEqual(['draining', 'healthy']);
    // ELB connection draining: the leaving instance waits in Terminating for the deregistration delay
    // (300 s by default) before it is terminated.
    const leaving = (await group('ingress'))!.Instances!.find((i) => i.LifecycleState !== 'InService')!;
    expect(leaving.LifecycleState).toBe('Terminating');
    const activities = await c.autoscaling.send(new DescribeScalingActivitiesCommand({ AutoScalingGroupName: 'ingress' }));
    expect(activities.Activities![0].StatusCode).toBe('WaitingForELBConnectionDraining');
    sb.advance(290_000);
    expect((await group('ingress'))!.Instances!.map((i) => i.InstanceId)).toContain(leaving.InstanceId);
    sb.advance(20_000);
    // Drained: EC2 terminates it (no hook on this group), and it leaves the group once terminated.
    const after = (await group('ingress'))!.Instances!.find((i) => i.InstanceId === leaving.InstanceId);
    expect(after?.LifecycleState ?? 'gone').not.toBe('Terminating');
    sb.advance(2 * MINUTE);
    expect((await group('ingress'))!.Instances!.map((i) => i.InstanceId)).not.toContain(leaving.InstanceId);
    const remaining = (await group('ingress'))!
      .Instances!.filter((i) => i.LifecycleState === 'InService')
      .map((i) => i.InstanceId as string);
    expect(await health()).toEqual({ [remaining[0]]: 'healthy' });
  });

  it('replaces instances that fail ELB health checks', async () => {
    const { sb, c, subnets, create, group } = await setup({
      timings: { ...timings, albProvisioningMs: 10_000, targetHealthyMs: 30_000 },
      neverHealthy: ['sick'],
    });
    const lb = await c.elbv2.send(
      new CreateLoadBalancerCommand({
        Name: 'alb',
        Subnets: subnets.slice(0, 2).map((s) => s.SubnetId as string),
      }),
    );
    const tg = (
      await c.elbv2.send(
        new CreateTargetGroupCommand({ Name: 'sick', Protocol: 'HTTP', Port: 80, VpcId: subnets[0].VpcId }),
      )
    ).TargetGroups![0].TargetGroupArn as string;
    await c.elbv2.send(
      new CreateListenerCommand({
        LoadBalancerArn: lb.LoadBalancers![0].LoadBalancerArn,
        Protocol: 'HTTP',
        Port: 80,
        DefaultActions: [{ Type: 'forward', TargetGroupArn: tg }],
      }),
    );
    await create('sick', {
      DesiredCapacity: 1,
      TargetGroupARNs: [tg],
      HealthCheckType: 'ELB',
      HealthCheckGracePeriod: 30,
    });
    sb.advance(MINUTE);
    const first = (await group('sick'))!.Instances![0].InstanceId;
    // Marked unhealthy, then out of the group once its target group's deregistration delay (300 s) passed.
    sb.advance(2 * MINUTE + 5 * MINUTE);
    const ids = (await group('sick'))!.Instances!.map((i) => i.InstanceId);
    expect(ids).not.toContain(first);
    expect(ids.length).toBeGreaterThanOrEqual(1);
  });

  it('records a failed launch while an instance profile propagates, then launches', async () => {
    const { sb, c, subnets } = await setup();
    await c.iam.send(new CreateInstanceProfileCommand({ InstanceProfileName: 'fresh' }));
    const lt = await c.ec2.send(
      new CreateLaunchTemplateCommand({
        LaunchTemplateName: 'with-profile',
        LaunchTemplateData: {
          ImageId: DEFAULT_IMAGES[0].ImageId,
          InstanceType: 't3.small',
          IamInstanceProfile: { Name: 'fresh' },
        },
      }),
    );
    await c.autoscaling.send(
      new CreateAutoScalingGroupCommand({
        AutoScalingGroupName: 'fresh',
        LaunchTemplate: { LaunchTemplateName: lt.LaunchTemplate?.LaunchTemplateName, Version: '$Default' },
        MinSize: 1,
        MaxSize: 1,
        VPCZoneIdentifier: subnets[0].SubnetId,
      }),
    );
    sb.advance(MINUTE);
    const activities =
      (await c.autoscaling.send(new DescribeScalingActivitiesCommand({ AutoScalingGroupName: 'fresh' })))
        .Activities ?? [];
    const failed = activities.filter((a) => a.StatusCode === 'Failed');
    expect(failed.length).toBeGreaterThanOrEqual(1);
    expect(failed[0].StatusMessage).toMatch(/Invalid IAM Instance Profile name/);
    const group = (
      await c.autoscaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ['fresh'] }))
    ).AutoScalingGroups![0];
    expect(group.Instances?.map((i) => i.LifecycleState)).toEqual(['InService']);
  });

  it('pages DescribeAutoScalingGroups, filters by tag, and survives injected throttling', async () => {
    const { sb, c, create } = await setup();
    for (let i = 0; i < 7; i++) {
      await create(`g${i}`, {
        DesiredCapacity: 0,
        Tags: [{ Key: 'k3sctl.io/cluster', Value: i % 2 ? 'odd' : 'even', PropagateAtLaunch: true }],
      });
    }
    sb.faults.add({ op: 'DescribeAutoScalingGroups', percent: 50, code: 'Throttling' });
    const names: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const out = await c.autoscaling.send(new DescribeAutoScalingGroupsCommand({ NextToken: token }));
      names.push(...(out.AutoScalingGroups ?? []).map((g) => g.AutoScalingGroupName as string));
      token = out.NextToken;
      pages++;
    } while (token);
    expect(pages).toBe(2);
    expect(names).toEqual(['g0', 'g1', 'g2', 'g3', 'g4', 'g5', 'g6']);
    expect(sb.state.calls.byOperation.DescribeAutoScalingGroups).toBeGreaterThan(2); // throttled attempts retried by the SDK
    const odd = await c.autoscaling.send(
      new DescribeAutoScalingGroupsCommand({ Filters: [{ Name: 'tag:k3sctl.io/cluster', Values: ['odd'] }] }),
    );
    expect(odd.AutoScalingGroups?.map((g) => g.AutoScalingGroupName)).toEqual(['g1', 'g3', 'g5']);
    await expect(
      c.autoscaling.send(
        new DescribeAutoScalingGroupsCommand({ Filters: [{ Name: 'bogus', Values: ['x'] }] }),
      ),
    ).rejects.toMatchObject({ name: 'ValidationError' });
  });
});

describe('sandbox Auto Scaling (policies, tags, persistence)', () => {
  it('scales in from the most populated zone, oldest launch template version first', async () => {
    const { sb, c, create, group, ltId } = await setup();
    await create('policy', { DesiredCapacity: 3 });
    sb.advance(MINUTE);
    const v1 = (await group('policy'))!.Instances!.map((i) => i.InstanceId as string);
    await c.ec2.send(
      new CreateLaunchTemplateVersionCommand({
        LaunchTemplateId: ltId,
        SourceVersion: '1',
        LaunchTemplateData: { InstanceType: 't3.medium' },
      }),
    );
    await c.autoscaling.send(
      new SetDesiredCapacityCommand({ AutoScalingGroupName: 'policy', DesiredCapacity: 6 }),
    );
    sb.advance(MINUTE);
    const six = (await group('policy'))!.Instances!;
    expect(six.filter((i) => i.LaunchTemplate?.Version === '2').map((i) => i.InstanceType)).toEqual([
      't3.medium',
      't3.medium',
      't3.medium',
    ]);
    await c.autoscaling.send(
      new SetDesiredCapacityCommand({ AutoScalingGroupName: 'policy', DesiredCapacity: 3 }),
    );
    sb.advance(MINUTE);
    const left = (await group('policy'))!.Instances!;
    expect(left.map((i) => i.LaunchTemplate?.Version)).toEqual(['2', '2', '2']);
    expect(left.map((i) => i.InstanceId)).not.toEqual(expect.arrayContaining([v1[0]]));
    expect(new Set(left.map((i) => i.AvailabilityZone)).size).toBe(3);
  });

  it('launches spot instances of the override types for a 0% on-demand mixed instances policy', async () => {
    const { sb, c, subnets, ltId } = await setup();
    await c.autoscaling.send(
      new CreateAutoScalingGroupCommand({
        AutoScalingGroupName: 'spot',
        MixedInstancesPolicy: {
          LaunchTemplate: {
            LaunchTemplateSpecification: { LaunchTemplateId: ltId, Version: '$Default' },
            Overrides: [{ InstanceType: 't3.large' }, { InstanceType: 't3a.large' }],
          },
          InstancesDistribution: {
            OnDemandBaseCapacity: 0,
            OnDemandPercentageAboveBaseCapacity: 0,
            SpotAllocationStrategy: 'price-capacity-optimized',
          },
        },
        MinSize: 2,
        MaxSize: 2,
        VPCZoneIdentifier: subnets.map((s) => s.SubnetId).join(','),
      }),
    );
    sb.advance(MINUTE);
    const g = (
      await c.autoscaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ['spot'] }))
    ).AutoScalingGroups![0];
    expect(g.MixedInstancesPolicy?.LaunchTemplate?.LaunchTemplateSpecification).toEqual({
      LaunchTemplateId: ltId,
      LaunchTemplateName: 'nodes',
      Version: '$Default',
    });
    expect(g.Instances?.map((i) => i.InstanceType).sort()).toEqual(['t3.large', 't3a.large']);
    const ec2 = await c.ec2.send(
      new DescribeInstancesCommand({ InstanceIds: g.Instances!.map((i) => i.InstanceId as string) }),
    );
    const instances = ec2.Reservations!.flatMap((r) => r.Instances ?? []);
    expect(instances.map((i) => i.InstanceLifecycle)).toEqual(['spot', 'spot']);
  });

  it('manages group tags, lists instances, and keeps reconciling after a JSON round trip of the state', async () => {
    const { sb, c, create } = await setup();
    await create('tagged', { DesiredCapacity: 2, Tags: [{ Key: 'a', Value: '1', PropagateAtLaunch: true }] });
    await c.autoscaling.send(
      new CreateOrUpdateTagsCommand({
        Tags: [
          {
            ResourceId: 'tagged',
            ResourceType: 'auto-scaling-group',
            Key: 'b',
            Value: '2',
            PropagateAtLaunch: false,
          },
        ],
      }),
    );
    await c.autoscaling.send(
      new DeleteTagsCommand({
        Tags: [{ ResourceId: 'tagged', ResourceType: 'auto-scaling-group', Key: 'a' }],
      }),
    );
    const tags = await c.autoscaling.send(
      new DescribeTagsCommand({ Filters: [{ Name: 'auto-scaling-group', Values: ['tagged'] }] }),
    );
    expect(tags.Tags).toEqual([
      {
        ResourceId: 'tagged',
        ResourceType: 'auto-scaling-group',
        Key: 'b',
        Value: '2',
        PropagateAtLaunch: false,
      },
    ]);
    const before = sb.inventory().find((i) => i.id === 'tagged')?.fingerprint;
    await c.autoscaling.send(
      new SuspendProcessesCommand({ AutoScalingGroupName: 'tagged', ScalingProcesses: ['AZRebalance'] }),
    );
    expect(sb.inventory().find((i) => i.id === 'tagged')?.fingerprint).not.toBe(before);

    const restored = new Sandbox({ state: JSON.parse(JSON.stringify(sb.state)) });
    const rc = sandboxClients(restored, 'us-east-1');
    restored.advance(MINUTE);
    const instances = await rc.autoscaling.send(new DescribeAutoScalingInstancesCommand({}));
    expect(instances.AutoScalingInstances?.map((i) => [i.AutoScalingGroupName, i.LifecycleState])).toEqual([
      ['tagged', 'InService'],
      ['tagged', 'InService'],
    ]);
    // After a day of idle virtual time the group is still at capacity, with the same instances.
    restored.advance(24 * 60 * MINUTE);
    const after = await rc.autoscaling.send(new DescribeAutoScalingInstancesCommand({}));
    expect(after.AutoScalingInstances?.map((i) => i.InstanceId)).toEqual(
      instances.AutoScalingInstances?.map((i) => i.InstanceId),
    );
  });
});

describe('sandbox Auto Scaling (attachments and hooks API)', () => {
  it('detaches and attaches instances and target groups, and extends a lifecycle action with heartbeats', async () => {
    const { sb, c, subnets, create, group, states } = await setup();
    const tg = (
      await c.elbv2.send(
        new CreateTargetGroupCommand({ Name: 'late', Protocol: 'HTTP', Port: 80, VpcId: subnets[0].VpcId }),
      )
    ).TargetGroups![0].TargetGroupArn as string;
    await create('attach', { DesiredCapacity: 2, MinSize: 1 });
    sb.advance(MINUTE);
    const [a, b] = (await group('attach'))!.Instances!.map((i) => i.InstanceId as string);

    await c.autoscaling.send(
      new AttachLoadBalancerTargetGroupsCommand({ AutoScalingGroupName: 'attach', TargetGroupARNs: [tg] }),
    );
    const registered = await c.elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: tg }));
    expect(registered.TargetHealthDescriptions?.map((d) => d.Target?.Id).sort()).toEqual([a, b].sort());
    const lbtgs = await c.autoscaling.send(
      new DescribeLoadBalancerTargetGroupsCommand({ AutoScalingGroupName: 'attach' }),
    );
    expect(lbtgs.LoadBalancerTargetGroups?.map((t) => t.LoadBalancerTargetGroupARN)).toEqual([tg]);

    const detached = await c.autoscaling.send(
      new DetachInstancesCommand({
        AutoScalingGroupName: 'attach',
        InstanceIds: [a],
        ShouldDecrementDesiredCapacity: true,
      }),
    );
    expect(detached.Activities?.[0].Description).toBe(`Detaching EC2 instance: ${a}`);
    expect((await group('attach'))?.DesiredCapacity).toBe(1);
    await expect(
      c.autoscaling.send(
        new DetachInstancesCommand({
          AutoScalingGroupName: 'attach',
          InstanceIds: [b],
          ShouldDecrementDesiredCapacity: true,
        }),
      ),
    ).rejects.toMatchObject({ name: 'ValidationError' });
    await c.autoscaling.send(
      new AttachInstancesCommand({ AutoScalingGroupName: 'attach', InstanceIds: [a] }),
    );
    expect((await group('attach'))?.DesiredCapacity).toBe(2);
    expect(await states('attach')).toEqual(['InService', 'InService']);

    await c.autoscaling.send(
      new DetachLoadBalancerTargetGroupsCommand({ AutoScalingGroupName: 'attach', TargetGroupARNs: [tg] }),
    );
    const draining = await c.elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: tg }));
    expect(draining.TargetHealthDescriptions?.map((d) => d.TargetHealth?.State)).toEqual([
      'draining',
      'draining',
    ]);

    await c.autoscaling.send(
      new PutLifecycleHookCommand({
        AutoScalingGroupName: 'attach',
        LifecycleHookName: 'hold',
        LifecycleTransition: 'autoscaling:EC2_INSTANCE_LAUNCHING',
        HeartbeatTimeout: 60,
        DefaultResult: 'CONTINUE',
      }),
    );
    await expect(
      c.autoscaling.send(
        new PutLifecycleHookCommand({
          AutoScalingGroupName: 'attach',
          LifecycleHookName: 'bad',
          LifecycleTransition: 'autoscaling:EC2_INSTANCE_LAUNCHING',
          HeartbeatTimeout: 10,
        }),
      ),
    ).rejects.toMatchObject({ name: 'ValidationError' });
    const hooks = await c.autoscaling.send(
      new DescribeLifecycleHooksCommand({ AutoScalingGroupName: 'attach' }),
    );
    expect(
      hooks.LifecycleHooks?.map((h) => [
        h.LifecycleHookName,
        h.HeartbeatTimeout,
        h.GlobalTimeout,
        h.DefaultResult,
      ]),
    ).toEqual([['hold', 60, 6000, 'CONTINUE']]);
    await c.autoscaling.send(
      new SetDesiredCapacityCommand({ AutoScalingGroupName: 'attach', DesiredCapacity: 3 }),
    );
    sb.advance(50_000);
    const waiting = (await group('attach'))!.Instances!.find((i) => i.LifecycleState === 'Pending:Wait')!
      .InstanceId as string;
    await c.autoscaling.send(
      new RecordLifecycleActionHeartbeatCommand({
        AutoScalingGroupName: 'attach',
        LifecycleHookName: 'hold',
        InstanceId: waiting,
      }),
    );
    sb.advance(50_000); // past the original timeout, within the extended one
    expect(await states('attach')).toEqual(['InService', 'InService', 'Pending:Wait']);
    sb.advance(20_000); // heartbeat timeout: DefaultResult CONTINUE
    expect(await states('attach')).toEqual(['InService', 'InService', 'InService']);
    await c.autoscaling.send(
      new DeleteLifecycleHookCommand({ AutoScalingGroupName: 'attach', LifecycleHookName: 'hold' }),
    );
    await expect(
      c.autoscaling.send(
        new DeleteLifecycleHookCommand({ AutoScalingGroupName: 'attach', LifecycleHookName: 'hold' }),
      ),
    ).rejects.toMatchObject({ name: 'ValidationError' });
  });
});

describe('sandbox Auto Scaling (a target group deleted while attached)', () => {
  it('refuses capacity changes and deletion while a group lists a deleted target group, until it is detached', async () => {
    const { sb, c, subnets, create, group } = await setup();
    const tg = (
      await c.elbv2.send(
        new CreateTargetGroupCommand({ Name: 'gone', Protocol: 'HTTP', Port: 80, VpcId: subnets[0].VpcId }),
      )
    ).TargetGroups![0].TargetGroupArn as string;
    await create('dangling', { DesiredCapacity: 1, TargetGroupARNs: [tg] });
    sb.advance(MINUTE);
    // ELBv2: only listener actions block DeleteTargetGroup; the group keeps listing the ARN.
    await c.elbv2.send(new DeleteTargetGroupCommand({ TargetGroupArn: tg }));
    expect((await group('dangling'))?.TargetGroupARNs).toEqual([tg]);

    const notFound = { name: 'TargetGroupNotFound', message: 'One or more target groups not found' };
    await expect(
      c.autoscaling.send(
        new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: 'dangling', MinSize: 0, MaxSize: 0, DesiredCapacity: 0 }),
      ),
    ).rejects.toMatchObject(notFound);
    await expect(
      c.autoscaling.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: 'dangling', DesiredCapacity: 0 })),
    ).rejects.toMatchObject(notFound);
    await expect(
      c.autoscaling.send(new DeleteAutoScalingGroupCommand({ AutoScalingGroupName: 'dangling', ForceDelete: true })),
    ).rejects.toMatchObject(notFound);
    expect((await group('dangling'))?.DesiredCapacity).toBe(1);

    await c.autoscaling.send(
      new DetachLoadBalancerTargetGroupsCommand({ AutoScalingGroupName: 'dangling', TargetGroupARNs: [tg] }),
    );
    expect((await group('dangling'))?.TargetGroupARNs).toEqual([]);
    await c.autoscaling.send(
      new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: 'dangling', MinSize: 0, MaxSize: 0, DesiredCapacity: 0 }),
    );
    expect((await group('dangling'))?.DesiredCapacity).toBe(0);
    await c.autoscaling.send(new DeleteAutoScalingGroupCommand({ AutoScalingGroupName: 'dangling', ForceDelete: true }));
  });
});
