// Builds, directly with SDK commands against a sandbox, what `cluster create` leaves behind for a
// group: a launch template (real k3sctl user data), an Auto Scaling group tagged for the cluster, the
// termination lifecycle hook (the graceful-leave path), and optionally a target group. Then helpers to
// wait (on the virtual clock) until the group is settled and to make its instances out of date.
import {
  AutoScalingClient,
  CreateAutoScalingGroupCommand,
  DescribeAutoScalingGroupsCommand,
  PutLifecycleHookCommand,
  type AutoScalingGroup,
} from '@aws-sdk/client-auto-scaling';
import {
  CreateLaunchTemplateCommand,
  CreateLaunchTemplateVersionCommand,
  DescribeSubnetsCommand,
  DescribeVpcsCommand,
  ModifyLaunchTemplateCommand,
} from '@aws-sdk/client-ec2';
import {
  AddRoleToInstanceProfileCommand,
  CreateInstanceProfileCommand,
  CreateRoleCommand,
} from '@aws-sdk/client-iam';
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateTargetGroupCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { gunzipSync } from 'node:zlib';
import { PutParameterCommand } from '@aws-sdk/client-ssm';
import type { AwsClients } from '../../src/aws/clients';
import { clusterTags } from '../../src/aws/tags';
import { names } from '../../src/aws/names';
import { renderUserData } from '../../src/userdata/render';
import { DEFAULT_IMAGES } from '../../src/sandbox/defaults';
import type { StoredClusterConfig, StoredGroup } from '../../src/model/cluster';
import { serializeStoredClusterSettings, serializeStoredGroup } from '../../src/model/stored';
import { storedCluster, storedGroup } from './storedModel';

export interface AsgFixtureOptions {
  cluster?: string;
  group?: string;
  role?: 'control-plane' | 'node';
  size: number;
  /** Default 1 (0 for an empty group); `cluster create` makes min = max = desired. */
  minSize?: number;
  maxSize?: number;
  targetGroup?: boolean;
  /** Version reference of the group: `$Default` (default), `$Latest` or a number. */
  versionRef?: string;
  k3sVersion?: string;
  /** Give instances an instance profile (the SSM agent needs one to register: Run Command works). */
  instanceProfile?: boolean;
}

export interface AsgFixture {
  cluster: string;
  group: string;
  role: 'control-plane' | 'node';
  /** The desired capacity it was made with. */
  size: number;
  autoScalingGroupName: string;
  launchTemplateId: string;
  targetGroupArn?: string;
}

export function fixtureUserData(
  cluster: string,
  group: string,
  role: 'control-plane' | 'node',
  k3sVersion: string,
  region = 'us-east-1',
): string {
  return renderUserData({
    cluster,
    role,
    group,
    region,
    k3sVersion,
    k3sArgs: [],
    labels: { 'k3sctl.io/group': group },
    taints: [],
    tlsSans: role === 'control-plane' ? ['control-plane.cluster.local'] : [],
    serverTokenParameter: names.ssmServerToken(cluster),
    agentTokenParameter: names.ssmAgentToken(cluster),
    initializedParameter: names.ssmInitialized(cluster),
    bootstrapFailurePrefix: names.ssmBootstrapFailures(cluster),
    lifecycleHookName: names.lifecycleHook(),
  }).base64;
}

/** The k3s version a user data (as rendered by src/userdata/render.ts) installs, read from its config.env line. */
export function fixtureK3sVersion(userDataBase64: string): string {
  let raw = Buffer.from(userDataBase64, 'base64');
  if (raw[0] === 0x1f && raw[1] === 0x8b) raw = gunzipSync(raw);
  const m = /K3SCTL_K3S_VERSION='([^']*)'/.exec(raw.toString('utf8'));
  if (!m) throw new Error('no K3SCTL_K3S_VERSION in the user data');
  return m[1];
}

/**
 * The cluster's stored model for groups made by createAsgFixture, as `cluster create` stores it (the
 * settings and one parameter per group): what upgrade reads. A control-plane group's user data rendered
 * from it is the fixture's own.
 */
export async function storeFixtureModel(
  clients: AwsClients,
  groups: AsgFixture[],
  k3sVersion = 'v1.31.6+k3s1',
): Promise<StoredClusterConfig> {
  const cluster = groups[0].cluster;
  const declared: StoredGroup[] = groups.map((g) =>
    storedGroup(g.group, { role: g.role, count: g.size, instanceType: 't3.small', imageId: DEFAULT_IMAGES[0].ImageId, k3sVersion, labels: { 'k3sctl.io/group': g.group } }),
  );
  const config = storedCluster(declared, { name: cluster, vpcId: 'vpc-fixture', k3sVersion, tlsSans: ['control-plane.cluster.local'] });
  const put = (Name: string, Value: string) => clients.ssm.send(new PutParameterCommand({ Name, Value, Type: 'String' }));
  await put(names.ssmConfig(cluster), serializeStoredClusterSettings(config));
  for (const g of declared) await put(names.ssmGroupConfig(cluster, g.name), serializeStoredGroup(g));
  return config;
}

export async function createAsgFixture(clients: AwsClients, o: AsgFixtureOptions): Promise<AsgFixture> {
  const cluster = o.cluster ?? 'demo';
  const group = o.group ?? (o.role === 'control-plane' ? 'control-plane' : 'workers');
  const role = o.role ?? 'node';
  const name = names.autoScalingGroup(cluster, group);
  const tags = clusterTags(cluster, role, { group, name });
  const subnets =
    (
      await clients.ec2.send(
        new DescribeSubnetsCommand({ Filters: [{ Name: 'default-for-az', Values: ['true'] }] }),
      )
    ).Subnets ?? [];
  const lt = await clients.ec2.send(
    new CreateLaunchTemplateCommand({
      LaunchTemplateName: names.launchTemplate(cluster, group),
      LaunchTemplateData: {
        ImageId: DEFAULT_IMAGES[0].ImageId,
        InstanceType: 't3.small',
        UserData: fixtureUserData(cluster, group, role, o.k3sVersion ?? 'v1.31.6+k3s1'),
        TagSpecifications: [{ ResourceType: 'instance', Tags: tags }],
      },
      TagSpecifications: [{ ResourceType: 'launch-template', Tags: tags }],
    }),
  );
  const launchTemplateId = lt.LaunchTemplate!.LaunchTemplateId!;
  if (o.instanceProfile) {
    const profileName = `k3sctl-${cluster}-${group}`;
    await clients.iam.send(
      new CreateRoleCommand({
        RoleName: profileName,
        AssumeRolePolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            { Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' },
          ],
        }),
      }),
    );
    const profile = await clients.iam.send(
      new CreateInstanceProfileCommand({ InstanceProfileName: profileName }),
    );
    await clients.iam.send(
      new AddRoleToInstanceProfileCommand({ InstanceProfileName: profileName, RoleName: profileName }),
    );
    const v = await clients.ec2.send(
      new CreateLaunchTemplateVersionCommand({
        LaunchTemplateId: launchTemplateId,
        SourceVersion: '1',
        LaunchTemplateData: { IamInstanceProfile: { Arn: profile.InstanceProfile!.Arn! } },
      }),
    );
    await clients.ec2.send(
      new ModifyLaunchTemplateCommand({
        LaunchTemplateId: launchTemplateId,
        DefaultVersion: String(v.LaunchTemplateVersion!.VersionNumber),
      }),
    );
  }
  let targetGroupArn: string | undefined;
  if (o.targetGroup) {
    const vpc = (
      await clients.ec2.send(new DescribeVpcsCommand({ Filters: [{ Name: 'is-default', Values: ['true'] }] }))
    ).Vpcs![0];
    const tg = await clients.elbv2.send(
      new CreateTargetGroupCommand({
        Name: `k3s-${cluster}-${group}`.slice(0, 32),
        Protocol: 'HTTP',
        Port: 30080,
        VpcId: vpc.VpcId!,
        TargetType: 'instance',
      }),
    );
    targetGroupArn = tg.TargetGroups![0].TargetGroupArn!;
    // Targets of a target group no load balancer uses are `unused` (Target.NotInUse): never health-checked.
    const lb = await clients.elbv2.send(
      new CreateLoadBalancerCommand({
        Name: `k3s-${cluster}-${group}-alb`.slice(0, 32),
        Subnets: subnets.map((x) => x.SubnetId!),
        Type: 'application',
      }),
    );
    await clients.elbv2.send(
      new CreateListenerCommand({
        LoadBalancerArn: lb.LoadBalancers![0].LoadBalancerArn!,
        Protocol: 'HTTP',
        Port: 80,
        DefaultActions: [{ Type: 'forward', TargetGroupArn: targetGroupArn }],
      }),
    );
  }
  await clients.autoscaling.send(
    new CreateAutoScalingGroupCommand({
      AutoScalingGroupName: name,
      LaunchTemplate: { LaunchTemplateId: launchTemplateId, Version: o.versionRef ?? '$Default' },
      MinSize: o.minSize ?? Math.min(1, o.size),
      MaxSize: o.maxSize ?? o.size,
      DesiredCapacity: o.size,
      VPCZoneIdentifier: subnets.map((s) => s.SubnetId).join(','),
      HealthCheckType: 'EC2',
      ...(targetGroupArn ? { TargetGroupARNs: [targetGroupArn] } : {}),
      Tags: tags.map((t) => ({
        ...t,
        PropagateAtLaunch: false,
        ResourceId: name,
        ResourceType: 'auto-scaling-group',
      })),
    }),
  );
  await clients.autoscaling.send(
    new PutLifecycleHookCommand({
      AutoScalingGroupName: name,
      LifecycleHookName: names.lifecycleHook(),
      LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING',
      HeartbeatTimeout: 600,
      DefaultResult: 'CONTINUE',
    }),
  );
  return {
    cluster,
    group,
    role,
    size: o.size,
    autoScalingGroupName: name,
    launchTemplateId,
    ...(targetGroupArn ? { targetGroupArn } : {}),
  };
}

export async function describeAsg(
  clients: AwsClients | { autoscaling: AutoScalingClient },
  name: string,
): Promise<AutoScalingGroup> {
  const res = await clients.autoscaling.send(
    new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name] }),
  );
  return res.AutoScalingGroups![0];
}

/** Sleeps on the virtual clock until every desired instance is InService (and nothing else is in flight). */
export async function waitSettled(
  clients: AwsClients,
  clock: { sleep(ms: number): Promise<void> },
  name: string,
  maxMs = 30 * 60_000,
): Promise<AutoScalingGroup> {
  for (let waited = 0; waited <= maxMs; waited += 5_000) {
    const g = await describeAsg(clients, name);
    const instances = g.Instances ?? [];
    if (instances.length === g.DesiredCapacity && instances.every((i) => i.LifecycleState === 'InService'))
      return g;
    await clock.sleep(5_000);
  }
  throw new Error(`${name} did not settle within ${maxMs} ms`);
}

/** Makes every current instance out of date: a new launch template version, made the default. */
export async function bumpLaunchTemplate(
  clients: AwsClients,
  f: AsgFixture,
  instanceType = 't3.medium',
): Promise<number> {
  const v = await clients.ec2.send(
    new CreateLaunchTemplateVersionCommand({
      LaunchTemplateId: f.launchTemplateId,
      SourceVersion: '$Default',
      LaunchTemplateData: { InstanceType: instanceType as never },
    }),
  );
  const n = v.LaunchTemplateVersion!.VersionNumber!;
  await clients.ec2.send(
    new ModifyLaunchTemplateCommand({ LaunchTemplateId: f.launchTemplateId, DefaultVersion: String(n) }),
  );
  return n;
}
