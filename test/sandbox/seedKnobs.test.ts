// The sandbox's AWS rules behind the seed knobs (issue 17): CPU credit specifications (value checked by
// CreateLaunchTemplate, burstable type checked at launch, the option an instance runs with readable by
// DescribeInstanceCreditSpecifications), the target group deregistration delay (0-3600 whole seconds;
// a deregistered target drains that long, and Auto Scaling holds a leaving instance in Terminating
// meanwhile), and the five condition values of an ALB rule.
import {
  CreateLaunchTemplateCommand,
  DescribeInstanceCreditSpecificationsCommand,
  DescribeSubnetsCommand,
  RunInstancesCommand,
} from '@aws-sdk/client-ec2';
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateRuleCommand,
  CreateTargetGroupCommand,
  DescribeTargetGroupAttributesCommand,
  DescribeTargetHealthCommand,
  DeregisterTargetsCommand,
  ModifyTargetGroupAttributesCommand,
  RegisterTargetsCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { Sandbox } from '../../src/sandbox/sandbox';
import { sandboxClients } from '../../src/sandbox/clients';
import { DEFAULT_IMAGES } from '../../src/sandbox/defaults';

const AMI = DEFAULT_IMAGES.find((i) => i.Architecture === 'x86_64')!.ImageId;

async function setup() {
  const sb = new Sandbox({ behavior: { timings: { albProvisioningMs: 10_000, targetHealthyMs: 10_000, instanceBootMs: 10_000 } } as never });
  const c = sandboxClients(sb, 'us-east-1');
  const subnets = (await c.ec2.send(new DescribeSubnetsCommand({}))).Subnets!;
  const byZone = [...new Map(subnets.map((s) => [s.AvailabilityZone!, s])).values()].slice(0, 2);
  return { sb, c, subnets: byZone, vpcId: byZone[0].VpcId! };
}

describe('sandbox CPU credits', () => {
  it('launches burstable types with the given or the family default option, and refuses other types', async () => {
    const { c, subnets } = await setup();
    const run = (InstanceType: string, CpuCredits?: string) =>
      c.ec2.send(
        new RunInstancesCommand({
          ImageId: AMI,
          InstanceType: InstanceType as never,
          MinCount: 1,
          MaxCount: 1,
          SubnetId: subnets[0].SubnetId,
          ...(CpuCredits ? { CreditSpecification: { CpuCredits } } : {}),
        }),
      );
    const standard = (await run('t3.micro', 'standard')).Instances![0].InstanceId!;
    const byDefault = (await run('t3.micro')).Instances![0].InstanceId!;
    const m5 = (await run('m5.large')).Instances![0].InstanceId!;
    const specs = await c.ec2.send(new DescribeInstanceCreditSpecificationsCommand({ InstanceIds: [standard, byDefault, m5] }));
    expect(Object.fromEntries(specs.InstanceCreditSpecifications!.map((s) => [s.InstanceId, s.CpuCredits]))).toEqual({ [standard]: 'standard', [byDefault]: 'unlimited' });
    await expect(run('m5.large', 'unlimited')).rejects.toMatchObject({ name: 'InvalidParameterCombination', message: expect.stringContaining('m5.large') });
    await expect(run('t3.micro', 'turbo')).rejects.toMatchObject({ name: 'InvalidParameterValue' });
  });

  it('checks the value in a launch template but the instance type only at launch', async () => {
    const { c } = await setup();
    await expect(
      c.ec2.send(new CreateLaunchTemplateCommand({ LaunchTemplateName: 'bad-credits', LaunchTemplateData: { ImageId: AMI, CreditSpecification: { CpuCredits: 'boost' } } })),
    ).rejects.toMatchObject({ name: 'InvalidParameterValue' });
    const ok = await c.ec2.send(
      new CreateLaunchTemplateCommand({ LaunchTemplateName: 'm5-credits', LaunchTemplateData: { ImageId: AMI, InstanceType: 'm5.large', CreditSpecification: { CpuCredits: 'standard' } } }),
    );
    await expect(
      c.ec2.send(new RunInstancesCommand({ LaunchTemplate: { LaunchTemplateId: ok.LaunchTemplate!.LaunchTemplateId }, MinCount: 1, MaxCount: 1 })),
    ).rejects.toMatchObject({ name: 'InvalidParameterCombination' });
  });
});

describe('sandbox target group deregistration delay', () => {
  it('accepts whole seconds 0-3600 only and drains a deregistered target for that long', async () => {
    const { sb, c, subnets, vpcId } = await setup();
    const tg = (await c.elbv2.send(new CreateTargetGroupCommand({ Name: 'drain', Protocol: 'HTTP', Port: 80, VpcId: vpcId }))).TargetGroups![0].TargetGroupArn!;
    const attr = async () =>
      (await c.elbv2.send(new DescribeTargetGroupAttributesCommand({ TargetGroupArn: tg }))).Attributes!.find((a) => a.Key === 'deregistration_delay.timeout_seconds')?.Value;
    expect(await attr()).toBe('300');
    const set = (Value: string) =>
      c.elbv2.send(new ModifyTargetGroupAttributesCommand({ TargetGroupArn: tg, Attributes: [{ Key: 'deregistration_delay.timeout_seconds', Value }] }));
    for (const bad of ['3601', '-1', 'abc', '1.5']) await expect(set(bad)).rejects.toMatchObject({ name: 'InvalidConfigurationRequestException' });
    expect(await attr()).toBe('300');
    await set('20');
    expect(await attr()).toBe('20');

    const lb = (await c.elbv2.send(new CreateLoadBalancerCommand({ Name: 'lb', Subnets: subnets.map((s) => s.SubnetId!) }))).LoadBalancers![0];
    await c.elbv2.send(new CreateListenerCommand({ LoadBalancerArn: lb.LoadBalancerArn, Protocol: 'HTTP', Port: 80, DefaultActions: [{ Type: 'forward', TargetGroupArn: tg }] }));
    const id = (await c.ec2.send(new RunInstancesCommand({ ImageId: AMI, InstanceType: 't3.micro', MinCount: 1, MaxCount: 1, SubnetId: subnets[0].SubnetId }))).Instances![0].InstanceId!;
    await c.elbv2.send(new RegisterTargetsCommand({ TargetGroupArn: tg, Targets: [{ Id: id }] }));
    await c.elbv2.send(new DeregisterTargetsCommand({ TargetGroupArn: tg, Targets: [{ Id: id }] }));
    const states = async () => (await c.elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: tg }))).TargetHealthDescriptions!.map((d) => d.TargetHealth!.State);
    sb.advance(19_000);
    expect(await states()).toEqual(['draining']);
    sb.advance(2_000);
    expect(await states()).toEqual([]);
  });
});

describe('sandbox listener rule condition values', () => {
  it('allows five condition values per rule in total', async () => {
    const { c, subnets, vpcId } = await setup();
    const tg = (await c.elbv2.send(new CreateTargetGroupCommand({ Name: 'five', Protocol: 'HTTP', Port: 80, VpcId: vpcId }))).TargetGroups![0].TargetGroupArn!;
    const lb = (await c.elbv2.send(new CreateLoadBalancerCommand({ Name: 'lb5', Subnets: subnets.map((s) => s.SubnetId!) }))).LoadBalancers![0];
    const listener = (
      await c.elbv2.send(new CreateListenerCommand({ LoadBalancerArn: lb.LoadBalancerArn, Protocol: 'HTTP', Port: 80, DefaultActions: [{ Type: 'forward', TargetGroupArn: tg }] }))
    ).Listeners![0].ListenerArn!;
    const rule = (cidrs: string[], Priority: number) =>
      c.elbv2.send(
        new CreateRuleCommand({
          ListenerArn: listener,
          Priority,
          Conditions: [
            { Field: 'host-header', HostHeaderConfig: { Values: ['*--a.us-east-1.example.com'] } },
            { Field: 'source-ip', SourceIpConfig: { Values: cidrs } },
          ],
          Actions: [{ Type: 'forward', TargetGroupArn: tg }],
        }),
      );
    const four = ['10.0.0.0/8', '192.0.2.0/24', '198.51.100.0/24', '2001:db8::/32'];
    await expect(rule(four, 1)).resolves.toMatchObject({ Rules: [expect.objectContaining({ Priority: '1' })] });
    await expect(rule([...four, '203.0.113.0/24'], 2)).rejects.toMatchObject({ name: 'ValidationError', message: expect.stringContaining('5 condition values') });
  });
});
