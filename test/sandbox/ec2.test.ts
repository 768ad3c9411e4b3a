import {
  AuthorizeSecurityGroupIngressCommand,
  CreateLaunchTemplateCommand,
  CreateLaunchTemplateVersionCommand,
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateTagsCommand,
  CreateVpcCommand,
  DeleteLaunchTemplateVersionsCommand,
  DeleteSecurityGroupCommand,
  DeleteTagsCommand,
  DeleteVpcCommand,
  DescribeAvailabilityZonesCommand,
  DescribeImagesCommand,
  DescribeInstanceStatusCommand,
  DescribeInstanceTypesCommand,
  DescribeInstanceTypeOfferingsCommand,
  DescribeRegionsCommand,
  DescribeAccountAttributesCommand,
  DescribeTagsCommand,
  ImportKeyPairCommand,
  DeleteKeyPairCommand,
  DescribeInstancesCommand,
  DescribeKeyPairsCommand,
  DescribeLaunchTemplateVersionsCommand,
  DescribeLaunchTemplatesCommand,
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  DescribeVpcsCommand,
  GetConsoleOutputCommand,
  ModifyLaunchTemplateCommand,
  ModifyInstanceMetadataOptionsCommand,
  StopInstancesCommand,
  StartInstancesCommand,
  DeleteLaunchTemplateCommand,
  RevokeSecurityGroupIngressCommand,
  RunInstancesCommand,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import {
  CreateLoadBalancerCommand,
  DeleteLoadBalancerCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { Sandbox } from '../../src/sandbox/sandbox';
import { sandboxClients } from '../../src/sandbox/clients';
import { DEFAULT_IMAGES } from '../../src/sandbox/defaults';
import {
  getInstance,
  isInstanceHealthy,
  launchInstanceFromTemplate,
  mapInstanceToSsh,
  resolveLaunchTemplateVersion,
  terminateInstanceInternal,
} from '../../src/sandbox/services/ec2';

/** The SDK's error name for an AWS error code: the code itself, or the client's modeled `<code>Exception` class. */
const code = (c: string) => expect.stringMatching(new RegExp(`^${c.replace(/\./g, '\\.')}(Exception)?$`));

const AL2023_X86 = DEFAULT_IMAGES[0].ImageId;
const AL2023_ARM = DEFAULT_IMAGES[1].ImageId;

function setup(behavior?: ConstructorParameters<typeof Sandbox>[0]) {
  const sb = new Sandbox(behavior);
  const { ec2 } = sandboxClients(sb, 'us-east-1');
  return { sb, ec2 };
}

async function defaultSubnets(ec2: ReturnType<typeof setup>['ec2']) {
  const res = await ec2.send(
    new DescribeSubnetsCommand({ Filters: [{ Name: 'default-for-az', Values: ['true'] }] }),
  );
  return res.Subnets ?? [];
}

describe('sandbox EC2 default account', () => {
  it('has a default VPC with three default subnets, a default group, public AMIs and the sandbox key pair', async () => {
    const { sb, ec2 } = setup();
    const vpcs = await ec2.send(
      new DescribeVpcsCommand({ Filters: [{ Name: 'is-default', Values: ['true'] }] }),
    );
    expect(vpcs.Vpcs).toHaveLength(1);
    expect(vpcs.Vpcs?.[0]).toMatchObject({ CidrBlock: '172.31.0.0/16', IsDefault: true });
    const subnets = await defaultSubnets(ec2);
    expect(subnets.map((s) => [s.AvailabilityZone, s.CidrBlock, s.MapPublicIpOnLaunch])).toEqual([
      ['us-east-1a', '172.31.0.0/20', true],
      ['us-east-1b', '172.31.16.0/20', true],
      ['us-east-1c', '172.31.32.0/20', true],
    ]);
    const groups = await ec2.send(
      new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'group-name', Values: ['default'] }] }),
    );
    expect(groups.SecurityGroups?.map((g) => g.VpcId)).toEqual([vpcs.Vpcs?.[0].VpcId]);
    const al = await ec2.send(
      new DescribeImagesCommand({
        Owners: ['137112412989'],
        Filters: [{ Name: 'name', Values: ['al2023-ami-2023.*-kernel-6.1-arm64'] }],
      }),
    );
    expect(al.Images?.map((i) => i.ImageId)).toEqual([AL2023_ARM]);
    const ubuntu = await ec2.send(
      new DescribeImagesCommand({
        Owners: ['099720109477'],
        Filters: [{ Name: 'name', Values: ['ubuntu/images/*noble*'] }],
      }),
    );
    expect(ubuntu.Images).toHaveLength(2);
    await expect(ec2.send(new DescribeImagesCommand({ ImageIds: ['ami-nope'] }))).rejects.toHaveProperty(
      'name',
      code('InvalidAMIID.Malformed'),
    );
    await expect(
      ec2.send(new DescribeImagesCommand({ ImageIds: ['ami-0123456789abcdef0'] })),
    ).rejects.toHaveProperty('name', code('InvalidAMIID.NotFound'));
    expect((await ec2.send(new DescribeKeyPairsCommand({ KeyNames: ['sandbox'] }))).KeyPairs).toHaveLength(1);
    await expect(ec2.send(new DescribeKeyPairsCommand({ KeyNames: ['mine'] }))).rejects.toHaveProperty(
      'name',
      code('InvalidKeyPair.NotFound'),
    );
    const zones = await ec2.send(new DescribeAvailabilityZonesCommand({}));
    expect(zones.AvailabilityZones?.map((z) => z.ZoneName)).toEqual([
      'us-east-1a',
      'us-east-1b',
      'us-east-1c',
    ]);
    expect(sb.inventory()).toEqual([]);
    expect(sb.inventory({ includeDefaults: true }).map((i) => i.type)).toEqual(
      expect.arrayContaining([
        'AWS::EC2::VPC',
        'AWS::EC2::Subnet',
        'AWS::EC2::SecurityGroup',
        'AWS::EC2::KeyPair',
      ]),
    );
  });

  it('rejects unknown ids and unknown filter names, and supports tag filters with wildcards', async () => {
    const { ec2 } = setup();
    await expect(
      ec2.send(new DescribeVpcsCommand({ VpcIds: ['vpc-0123456789abcdef0'] })),
    ).rejects.toHaveProperty('name', code('InvalidVpcID.NotFound'));
    await expect(
      ec2.send(new DescribeSubnetsCommand({ SubnetIds: ['subnet-0123456789abcdef0'] })),
    ).rejects.toHaveProperty('name', code('InvalidSubnetID.NotFound'));
    await expect(
      ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: ['sg-0123456789abcdef0'] })),
    ).rejects.toHaveProperty('name', code('InvalidGroup.NotFound'));
    await expect(
      ec2.send(new DescribeInstancesCommand({ InstanceIds: ['i-0123456789abcdef0'] })),
    ).rejects.toHaveProperty('name', code('InvalidInstanceID.NotFound'));
    await expect(
      ec2.send(new DescribeVpcsCommand({ Filters: [{ Name: 'colour', Values: ['blue'] }] })),
    ).rejects.toHaveProperty('name', code('InvalidParameterValue'));
    await expect(
      ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: 'bogus', Values: ['x'] }] })),
    ).rejects.toHaveProperty('name', code('InvalidParameterValue'));
    await expect(
      ec2.send(new DescribeInstanceTypesCommand({ InstanceTypes: ['t9.huge' as never] })),
    ).rejects.toHaveProperty('name', code('InvalidInstanceType'));

    const vpc = await ec2.send(
      new CreateVpcCommand({
        CidrBlock: '10.0.0.0/16',
        TagSpecifications: [{ ResourceType: 'vpc', Tags: [{ Key: 'Name', Value: 'prod-east' }] }],
      }),
    );
    await ec2.send(
      new CreateVpcCommand({
        CidrBlock: '10.1.0.0/16',
        TagSpecifications: [{ ResourceType: 'vpc', Tags: [{ Key: 'Name', Value: 'staging' }] }],
      }),
    );
    const byWildcard = await ec2.send(
      new DescribeVpcsCommand({ Filters: [{ Name: 'tag:Name', Values: ['prod-*'] }] }),
    );
    expect(byWildcard.Vpcs?.map((v) => v.VpcId)).toEqual([vpc.Vpc?.VpcId]);
    const byKey = await ec2.send(
      new DescribeVpcsCommand({ Filters: [{ Name: 'tag-key', Values: ['Name'] }] }),
    );
    expect(byKey.Vpcs).toHaveLength(2);
    const anded = await ec2.send(
      new DescribeVpcsCommand({
        Filters: [
          { Name: 'tag:Name', Values: ['prod-*', 'staging'] },
          { Name: 'cidr-block', Values: ['10.1.*'] },
        ],
      }),
    );
    expect(anded.Vpcs?.map((v) => v.CidrBlock)).toEqual(['10.1.0.0/16']);

    await ec2.send(
      new CreateTagsCommand({ Resources: [vpc.Vpc?.VpcId as string], Tags: [{ Key: 'team', Value: 'k3s' }] }),
    );
    await ec2.send(new DeleteTagsCommand({ Resources: [vpc.Vpc?.VpcId as string], Tags: [{ Key: 'Name' }] }));
    const [tagged] =
      (await ec2.send(new DescribeVpcsCommand({ VpcIds: [vpc.Vpc?.VpcId as string] }))).Vpcs ?? [];
    expect(tagged.Tags).toEqual([{ Key: 'team', Value: 'k3s' }]);
    await expect(
      ec2.send(
        new CreateTagsCommand({ Resources: ['vpc-0123456789abcdef0'], Tags: [{ Key: 'a', Value: 'b' }] }),
      ),
    ).rejects.toHaveProperty('name', code('InvalidVpcID.NotFound'));
  });

  it('creates subnets, refuses overlaps and deleting a VPC that still has subnets', async () => {
    const { sb, ec2 } = setup();
    const vpc = await ec2.send(new CreateVpcCommand({ CidrBlock: '10.0.0.0/16' }));
    const vpcId = vpc.Vpc?.VpcId as string;
    const subnet = await ec2.send(
      new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: '10.0.1.0/24', AvailabilityZone: 'us-east-1b' }),
    );
    await expect(
      ec2.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: '10.0.1.128/25' })),
    ).rejects.toHaveProperty('name', code('InvalidSubnet.Conflict'));
    await expect(
      ec2.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: '192.168.0.0/24' })),
    ).rejects.toHaveProperty('name', code('InvalidSubnet.Range'));
    await expect(ec2.send(new DeleteVpcCommand({ VpcId: vpcId }))).rejects.toHaveProperty(
      'name',
      code('DependencyViolation'),
    );
    expect(sb.inventory().map((i) => [i.type, i.id])).toEqual([
      ['AWS::EC2::Subnet', subnet.Subnet?.SubnetId],
      ['AWS::EC2::VPC', vpcId],
    ]);
  });

  it('imports and deletes key pairs', async () => {
    const { sb, ec2 } = setup();
    const material = new TextEncoder().encode(
      'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeKeyForTheSandbox me@laptop',
    );
    const imported = await ec2.send(
      new ImportKeyPairCommand({ KeyName: 'mine', PublicKeyMaterial: material }),
    );
    expect(imported.KeyFingerprint).toBeDefined();
    await expect(
      ec2.send(new ImportKeyPairCommand({ KeyName: 'mine', PublicKeyMaterial: material })),
    ).rejects.toHaveProperty('name', code('InvalidKeyPair.Duplicate'));
    await expect(
      ec2.send(
        new ImportKeyPairCommand({ KeyName: 'bad', PublicKeyMaterial: new TextEncoder().encode('nonsense') }),
      ),
    ).rejects.toHaveProperty('name', code('InvalidKey.Format'));
    expect(sb.inventory()).toEqual([{ type: 'AWS::EC2::KeyPair', id: 'mine' }]);
    await ec2.send(new DeleteKeyPairCommand({ KeyName: 'mine' }));
    await expect(ec2.send(new DescribeKeyPairsCommand({ KeyNames: ['mine'] }))).rejects.toHaveProperty(
      'name',
      code('InvalidKeyPair.NotFound'),
    );
    expect(sb.inventory()).toEqual([]);
  });

  it('pages DescribeSecurityGroups five at a time', async () => {
    const { ec2 } = setup();
    for (let i = 0; i < 7; i++)
      await ec2.send(new CreateSecurityGroupCommand({ GroupName: `g${i}`, Description: 'x' }));
    const first = await ec2.send(new DescribeSecurityGroupsCommand({}));
    expect(first.SecurityGroups).toHaveLength(5);
    expect(first.NextToken).toBeDefined();
    const second = await ec2.send(new DescribeSecurityGroupsCommand({ NextToken: first.NextToken }));
    expect(second.SecurityGroups).toHaveLength(3);
    expect(second.NextToken).toBeUndefined();
  });
});

describe('sandbox EC2 catalog and persistence', () => {
  it('describes instance types, offerings per zone, regions and account attributes', async () => {
    const { ec2 } = setup();
    const t4g = await ec2.send(
      new DescribeInstanceTypesCommand({ InstanceTypes: ['t4g.small', 'm5.large'] }),
    );
    expect(
      t4g.InstanceTypes?.map((t) => [
        t.InstanceType,
        t.ProcessorInfo?.SupportedArchitectures?.[0],
        t.VCpuInfo?.DefaultVCpus,
        t.MemoryInfo?.SizeInMiB,
      ]),
    ).toEqual([
      ['t4g.small', 'arm64', 2, 2048],
      ['m5.large', 'x86_64', 2, 8192],
    ]);
    const arm = await ec2.send(
      new DescribeInstanceTypesCommand({
        Filters: [{ Name: 'processor-info.supported-architecture', Values: ['arm64'] }],
        MaxResults: 5,
      }),
    );
    expect(arm.InstanceTypes).toHaveLength(5);
    expect(arm.NextToken).toBeDefined();
    const offerings = await ec2.send(
      new DescribeInstanceTypeOfferingsCommand({
        LocationType: 'availability-zone',
        Filters: [{ Name: 'instance-type', Values: ['c6i.large'] }],
      }),
    );
    expect(offerings.InstanceTypeOfferings?.map((o) => o.Location)).toEqual([
      'us-east-1a',
      'us-east-1b',
      'us-east-1c',
    ]);
    const regions = await ec2.send(new DescribeRegionsCommand({ RegionNames: ['eu-west-1'] }));
    expect(regions.Regions?.[0].Endpoint).toBe('ec2.eu-west-1.amazonaws.com');
    const attrs = await ec2.send(new DescribeAccountAttributesCommand({ AttributeNames: ['default-vpc'] }));
    const [vpc] = (await ec2.send(new DescribeVpcsCommand({}))).Vpcs ?? [];
    expect(attrs.AccountAttributes?.[0].AttributeValues?.[0].AttributeValue).toBe(vpc.VpcId);
  });

  it('keeps working from a JSON round trip of its state (CLI persistence)', async () => {
    const { sb, ec2 } = setup();
    const run = await ec2.send(
      new RunInstancesCommand({
        ImageId: AL2023_X86,
        InstanceType: 't3.micro',
        MinCount: 1,
        MaxCount: 1,
        TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'k', Value: 'v' }] }],
      }),
    );
    const id = run.Instances?.[0].InstanceId as string;
    const restored = new Sandbox({ state: JSON.parse(JSON.stringify(sb.state)) });
    const ec2b = sandboxClients(restored, 'us-east-1').ec2;
    restored.advance(restored.behavior.timings.instanceBootMs);
    const desc = await ec2b.send(new DescribeInstancesCommand({ InstanceIds: [id] }));
    expect(desc.Reservations?.[0].Instances?.[0].State?.Name).toBe('running');
    const tags = await ec2b.send(
      new DescribeTagsCommand({ Filters: [{ Name: 'resource-id', Values: [id] }] }),
    );
    expect(tags.Tags?.map((t) => [t.Key, t.Value, t.ResourceType])).toEqual([['k', 'v', 'instance']]);
    expect(restored.inventory()).toEqual(sb.inventory());
  });
});

describe('sandbox EC2 security groups', () => {
  it('refuses duplicates per VPC, duplicate rules, and revokes rules', async () => {
    const { ec2 } = setup();
    const g = await ec2.send(
      new CreateSecurityGroupCommand({
        GroupName: 'k3s-alpha',
        Description: 'cluster alpha',
        TagSpecifications: [
          { ResourceType: 'security-group', Tags: [{ Key: 'k3sctl.io/cluster', Value: 'alpha' }] },
        ],
      }),
    );
    await expect(
      ec2.send(new CreateSecurityGroupCommand({ GroupName: 'k3s-alpha', Description: 'again' })),
    ).rejects.toHaveProperty('name', code('InvalidGroup.Duplicate'));
    const other = await ec2.send(new CreateVpcCommand({ CidrBlock: '10.9.0.0/16' }));
    await ec2.send(
      new CreateSecurityGroupCommand({
        GroupName: 'k3s-alpha',
        Description: 'other vpc',
        VpcId: other.Vpc?.VpcId,
      }),
    );

    const groupId = g.GroupId as string;
    const ssh = { IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '203.0.113.0/24' }] };
    const added = await ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: groupId,
        IpPermissions: [ssh, { IpProtocol: '-1', UserIdGroupPairs: [{ GroupId: groupId }] }],
      }),
    );
    expect(added.SecurityGroupRules).toHaveLength(2);
    await expect(
      ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions: [ssh] })),
    ).rejects.toHaveProperty('name', code('InvalidPermission.Duplicate'));
    const [desc] =
      (await ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [groupId] }))).SecurityGroups ?? [];
    expect(desc.IpPermissions).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          IpProtocol: 'tcp',
          FromPort: 22,
          ToPort: 22,
          IpRanges: [{ CidrIp: '203.0.113.0/24' }],
        }),
      ]),
    );
    expect(desc.IpPermissionsEgress?.[0].IpRanges).toEqual([{ CidrIp: '0.0.0.0/0' }]);
    expect(desc.Tags).toEqual([{ Key: 'k3sctl.io/cluster', Value: 'alpha' }]);
    await ec2.send(new RevokeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions: [ssh] }));
    await expect(
      ec2.send(new RevokeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions: [ssh] })),
    ).rejects.toHaveProperty('name', code('InvalidPermission.NotFound'));
    const rules = await ec2.send(
      new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: 'group-id', Values: [groupId] }] }),
    );
    expect(
      rules.SecurityGroupRules?.map((r) => [
        r.IsEgress,
        r.IpProtocol,
        r.ReferencedGroupInfo?.GroupId ?? r.CidrIpv4,
      ]),
    ).toEqual([
      [true, '-1', '0.0.0.0/0'],
      [false, '-1', groupId],
    ]);
  });

  it('refuses deleting a group used by an instance until the instance has terminated, or referenced by another group', async () => {
    const { sb, ec2 } = setup();
    const g = await ec2.send(new CreateSecurityGroupCommand({ GroupName: 'in-use', Description: 'x' }));
    const ref = await ec2.send(new CreateSecurityGroupCommand({ GroupName: 'referrer', Description: 'x' }));
    const run = await ec2.send(
      new RunInstancesCommand({
        ImageId: AL2023_X86,
        InstanceType: 't3.micro',
        MinCount: 1,
        MaxCount: 1,
        SecurityGroupIds: [g.GroupId as string],
      }),
    );
    const id = run.Instances?.[0].InstanceId as string;
    await expect(ec2.send(new DeleteSecurityGroupCommand({ GroupId: g.GroupId }))).rejects.toHaveProperty(
      'name',
      code('DependencyViolation'),
    );
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [id] }));
    await expect(ec2.send(new DeleteSecurityGroupCommand({ GroupId: g.GroupId }))).rejects.toHaveProperty(
      'name',
      code('DependencyViolation'),
    );
    sb.advance(sb.behavior.timings.instanceShutdownMs);
    await ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: ref.GroupId,
        IpPermissions: [
          { IpProtocol: 'tcp', FromPort: 6443, ToPort: 6443, UserIdGroupPairs: [{ GroupId: g.GroupId }] },
        ],
      }),
    );
    await expect(ec2.send(new DeleteSecurityGroupCommand({ GroupId: g.GroupId }))).rejects.toHaveProperty(
      'name',
      code('DependencyViolation'),
    );
    await ec2.send(new DeleteSecurityGroupCommand({ GroupId: ref.GroupId }));
    await ec2.send(new DeleteSecurityGroupCommand({ GroupId: g.GroupId }));
    await expect(
      ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [g.GroupId as string] })),
    ).rejects.toHaveProperty('name', code('InvalidGroup.NotFound'));
    expect(sb.inventory()).toEqual([]);
  });
});

describe('sandbox EC2 security groups and load balancers', () => {
  it('refuses deleting a group an ALB uses until the ALB is deleted', async () => {
    const sb = new Sandbox();
    const { ec2, elbv2 } = sandboxClients(sb, 'us-east-1');
    const g = await ec2.send(new CreateSecurityGroupCommand({ GroupName: 'alb', Description: 'x' }));
    const subnets = await defaultSubnets(ec2);
    const lb = await elbv2.send(
      new CreateLoadBalancerCommand({
        Name: 'shared',
        Subnets: subnets.map((s) => s.SubnetId as string),
        SecurityGroups: [g.GroupId as string],
      }),
    );
    await expect(ec2.send(new DeleteSecurityGroupCommand({ GroupId: g.GroupId }))).rejects.toHaveProperty(
      'name',
      code('DependencyViolation'),
    );
    await elbv2.send(
      new DeleteLoadBalancerCommand({ LoadBalancerArn: lb.LoadBalancers?.[0].LoadBalancerArn }),
    );
    await ec2.send(new DeleteSecurityGroupCommand({ GroupId: g.GroupId }));
    await expect(
      ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [g.GroupId as string] })),
    ).rejects.toHaveProperty('name', code('InvalidGroup.NotFound'));
  });
});

describe('sandbox EC2 launch templates', () => {
  const userData = Buffer.from('#!/bin/bash\necho hi\n').toString('base64');

  it('creates versions, resolves $Latest/$Default, refuses duplicates and oversized user data', async () => {
    const { sb, ec2 } = setup();
    const created = await ec2.send(
      new CreateLaunchTemplateCommand({
        LaunchTemplateName: 'alpha-cp',
        ClientToken: 'tok-1',
        LaunchTemplateData: {
          ImageId: AL2023_X86,
          InstanceType: 't3.small',
          UserData: userData,
          MetadataOptions: { HttpTokens: 'required', HttpPutResponseHopLimit: 2 },
        },
        TagSpecifications: [
          { ResourceType: 'launch-template', Tags: [{ Key: 'k3sctl.io/cluster', Value: 'alpha' }] },
        ],
      }),
    );
    const id = created.LaunchTemplate?.LaunchTemplateId as string;
    const again = await ec2.send(
      new CreateLaunchTemplateCommand({
        LaunchTemplateName: 'alpha-cp',
        ClientToken: 'tok-1',
        LaunchTemplateData: {
          ImageId: AL2023_X86,
          InstanceType: 't3.small',
          UserData: userData,
          MetadataOptions: { HttpTokens: 'required', HttpPutResponseHopLimit: 2 },
        },
        TagSpecifications: [
          { ResourceType: 'launch-template', Tags: [{ Key: 'k3sctl.io/cluster', Value: 'alpha' }] },
        ],
      }),
    );
    expect(again.LaunchTemplate?.LaunchTemplateId).toBe(id);
    await expect(
      ec2.send(
        new CreateLaunchTemplateCommand({
          LaunchTemplateName: 'alpha-cp',
          LaunchTemplateData: { ImageId: AL2023_X86 },
        }),
      ),
    ).rejects.toHaveProperty('name', code('InvalidLaunchTemplateName.AlreadyExistsException'));
    const big = Buffer.alloc(16385, 'a').toString('base64');
    await expect(
      ec2.send(
        new CreateLaunchTemplateCommand({
          LaunchTemplateName: 'too-big',
          LaunchTemplateData: { ImageId: AL2023_X86, UserData: big },
        }),
      ),
    ).rejects.toHaveProperty('name', code('InvalidParameterValue'));

    const v2 = await ec2.send(
      new CreateLaunchTemplateVersionCommand({
        LaunchTemplateId: id,
        SourceVersion: '1',
        LaunchTemplateData: { InstanceType: 't3.medium' },
      }),
    );
    expect(v2.LaunchTemplateVersion?.VersionNumber).toBe(2);
    expect(v2.LaunchTemplateVersion?.LaunchTemplateData).toMatchObject({
      ImageId: AL2023_X86,
      InstanceType: 't3.medium',
      UserData: userData,
    });
    expect(
      resolveLaunchTemplateVersion(sb.context('us-east-1'), {
        launchTemplateName: 'alpha-cp',
        version: '$Latest',
      }).VersionNumber,
    ).toBe(2);
    expect(
      resolveLaunchTemplateVersion(sb.context('us-east-1'), { launchTemplateId: id }).VersionNumber,
    ).toBe(1);
    await ec2.send(new ModifyLaunchTemplateCommand({ LaunchTemplateId: id, DefaultVersion: '2' }));
    const defaults = await ec2.send(
      new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId: id, Versions: ['$Default'] }),
    );
    expect(defaults.LaunchTemplateVersions?.map((v) => [v.VersionNumber, v.DefaultVersion])).toEqual([
      [2, true],
    ]);
    const del = await ec2.send(
      new DeleteLaunchTemplateVersionsCommand({ LaunchTemplateId: id, Versions: ['1', '2'] }),
    );
    expect(del.SuccessfullyDeletedLaunchTemplateVersions?.map((v) => v.VersionNumber)).toEqual([1]);
    expect(del.UnsuccessfullyDeletedLaunchTemplateVersions?.[0].ResponseError?.Code).toBe(
      'launchTemplateVersionIsDefaultVersion',
    );
    await expect(
      ec2.send(new DescribeLaunchTemplatesCommand({ LaunchTemplateNames: ['nope'] })),
    ).rejects.toHaveProperty('name', code('InvalidLaunchTemplateName.NotFoundException'));
    const listed = await ec2.send(
      new DescribeLaunchTemplatesCommand({ Filters: [{ Name: 'tag:k3sctl.io/cluster', Values: ['alpha'] }] }),
    );
    expect(
      listed.LaunchTemplates?.map((t) => [
        t.LaunchTemplateName,
        t.DefaultVersionNumber,
        t.LatestVersionNumber,
      ]),
    ).toEqual([['alpha-cp', 2, 2]]);
    expect(sb.inventory().map((i) => [i.type, i.id])).toEqual([['AWS::EC2::LaunchTemplate', id]]);
    await ec2.send(new DeleteLaunchTemplateCommand({ LaunchTemplateName: 'alpha-cp' }));
    await expect(ec2.send(new DeleteLaunchTemplateCommand({ LaunchTemplateId: id }))).rejects.toHaveProperty(
      'name',
      code('InvalidLaunchTemplateId.NotFound'),
    );
    expect(sb.inventory()).toEqual([]);
  });

  it('pages DescribeLaunchTemplateVersions', async () => {
    const { ec2 } = setup();
    const lt = await ec2.send(
      new CreateLaunchTemplateCommand({
        LaunchTemplateName: 'many',
        LaunchTemplateData: { ImageId: AL2023_X86 },
      }),
    );
    for (let i = 0; i < 6; i++) {
      await ec2.send(
        new CreateLaunchTemplateVersionCommand({
          LaunchTemplateName: 'many',
          LaunchTemplateData: { ImageId: AL2023_X86, InstanceType: 't3.micro' },
        }),
      );
    }
    const first = await ec2.send(
      new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId: lt.LaunchTemplate?.LaunchTemplateId }),
    );
    expect(first.LaunchTemplateVersions?.map((v) => v.VersionNumber)).toEqual([7, 6, 5, 4, 3]);
    const second = await ec2.send(
      new DescribeLaunchTemplateVersionsCommand({
        LaunchTemplateId: lt.LaunchTemplate?.LaunchTemplateId,
        NextToken: first.NextToken,
      }),
    );
    expect(second.LaunchTemplateVersions?.map((v) => v.VersionNumber)).toEqual([2, 1]);
    expect(second.NextToken).toBeUndefined();
  });
});

describe('sandbox EC2 instances', () => {
  it('moves instances pending -> running -> shutting-down -> terminated -> gone in virtual time', async () => {
    const { sb, ec2 } = setup();
    const [subnet] = await defaultSubnets(ec2);
    const run = await ec2.send(
      new RunInstancesCommand({
        ImageId: AL2023_X86,
        InstanceType: 't3.small',
        MinCount: 1,
        MaxCount: 1,
        SubnetId: subnet.SubnetId,
        KeyName: 'sandbox',
        TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'Name', Value: 'web' }] }],
      }),
    );
    const inst = run.Instances?.[0];
    expect(inst?.State?.Name).toBe('pending');
    expect(inst?.Placement?.AvailabilityZone).toBe('us-east-1a');
    expect(inst?.PrivateIpAddress).toMatch(/^172\.31\.(\d|1[0-5])\.\d+$/);
    expect(inst?.PrivateDnsName).toBe(`ip-${inst?.PrivateIpAddress?.replace(/\./g, '-')}.ec2.internal`);
    expect(inst?.PublicIpAddress).toBeDefined();
    const id = inst?.InstanceId as string;
    const state = async () =>
      (await ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }))).Reservations?.[0]?.Instances?.[0]
        ?.State?.Name;
    sb.advance(sb.behavior.timings.instanceBootMs - 1000);
    expect(await state()).toBe('pending');
    sb.advance(1000);
    expect(await state()).toBe('running');
    const status = await ec2.send(new DescribeInstanceStatusCommand({ InstanceIds: [id] }));
    expect(status.InstanceStatuses?.[0].InstanceStatus?.Status).toBe('ok');
    const term = await ec2.send(new TerminateInstancesCommand({ InstanceIds: [id] }));
    expect(term.TerminatingInstances?.[0]).toMatchObject({
      PreviousState: { Name: 'running' },
      CurrentState: { Name: 'shutting-down' },
    });
    sb.advance(sb.behavior.timings.instanceShutdownMs);
    expect(await state()).toBe('terminated');
    expect(sb.inventory()).toEqual([]);
    sb.advance(60 * 60 * 1000);
    await expect(ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }))).rejects.toHaveProperty(
      'name',
      code('InvalidInstanceID.NotFound'),
    );
  });

  it('returns the same reservation for a repeated ClientToken and refuses a changed request', async () => {
    const { ec2 } = setup();
    const params = {
      ImageId: AL2023_X86,
      InstanceType: 't3.micro' as const,
      MinCount: 2,
      MaxCount: 2,
      ClientToken: 'run-1',
    };
    const a = await ec2.send(new RunInstancesCommand(params));
    const b = await ec2.send(new RunInstancesCommand(params));
    expect(b.ReservationId).toBe(a.ReservationId);
    expect(b.Instances?.map((i) => i.InstanceId)).toEqual(a.Instances?.map((i) => i.InstanceId));
    await expect(
      ec2.send(new RunInstancesCommand({ ...params, InstanceType: 't3.large' })),
    ).rejects.toHaveProperty('name', code('IdempotentParameterMismatch'));
    const all = await ec2.send(new DescribeInstancesCommand({}));
    expect(all.Reservations?.flatMap((r) => r.Instances ?? [])).toHaveLength(2);
  });

  it('validates RunInstances like AWS', async () => {
    const { ec2 } = setup();
    const base = { ImageId: AL2023_X86, InstanceType: 't3.micro' as const, MinCount: 1, MaxCount: 1 };
    await expect(
      ec2.send(new RunInstancesCommand({ ...base, ImageId: 'ami-0123456789abcdef0' })),
    ).rejects.toHaveProperty('name', code('InvalidAMIID.NotFound'));
    await expect(
      ec2.send(new RunInstancesCommand({ ...base, InstanceType: 't4g.small' })),
    ).rejects.toHaveProperty('name', code('InvalidParameterValue'));
    await expect(ec2.send(new RunInstancesCommand({ ...base, KeyName: 'missing' }))).rejects.toHaveProperty(
      'name',
      code('InvalidKeyPair.NotFound'),
    );
    await expect(
      ec2.send(new RunInstancesCommand({ ...base, SubnetId: 'subnet-0123456789abcdef0' })),
    ).rejects.toHaveProperty('name', code('InvalidSubnetID.NotFound'));
    await expect(
      ec2.send(new RunInstancesCommand({ ...base, SecurityGroupIds: ['sg-0123456789abcdef0'] })),
    ).rejects.toHaveProperty('name', code('InvalidGroup.NotFound'));
    await expect(
      ec2.send(new RunInstancesCommand({ ...base, LaunchTemplate: { LaunchTemplateName: 'nope' } })),
    ).rejects.toHaveProperty('name', code('InvalidLaunchTemplateName.NotFoundException'));
    const arm = await ec2.send(
      new RunInstancesCommand({ ...base, ImageId: AL2023_ARM, InstanceType: 't4g.small' }),
    );
    expect(arm.Instances?.[0].Architecture).toBe('arm64');
    // At most 5 security groups per network interface (the VPC quota's default); 5 are fine.
    const vpcId = (await ec2.send(new DescribeVpcsCommand({ Filters: [{ Name: 'is-default', Values: ['true'] }] }))).Vpcs![0].VpcId;
    const groups: string[] = [];
    for (let i = 0; i < 6; i++) {
      groups.push((await ec2.send(new CreateSecurityGroupCommand({ GroupName: `g${i}`, Description: 'd', VpcId: vpcId }))).GroupId!);
    }
    await expect(ec2.send(new RunInstancesCommand({ ...base, SecurityGroupIds: groups }))).rejects.toHaveProperty(
      'name',
      code('SecurityGroupsPerInterfaceLimitExceeded'),
    );
    const five = await ec2.send(new RunInstancesCommand({ ...base, SecurityGroupIds: groups.slice(0, 5) }));
    expect(five.Instances?.[0].SecurityGroups).toHaveLength(5);
  });

  it('pages DescribeInstances and filters by tag, state and subnet', async () => {
    const { sb, ec2 } = setup();
    const subnets = await defaultSubnets(ec2);
    for (let i = 0; i < 7; i++) {
      await ec2.send(
        new RunInstancesCommand({
          ImageId: AL2023_X86,
          InstanceType: 't3.micro',
          MinCount: 1,
          MaxCount: 1,
          SubnetId: subnets[i % 3].SubnetId,
          TagSpecifications: [
            {
              ResourceType: 'instance',
              Tags: [{ Key: 'k3sctl.io/cluster', Value: i < 6 ? 'alpha' : 'beta' }],
            },
          ],
        }),
      );
    }
    const filters = [{ Name: 'tag:k3sctl.io/cluster', Values: ['alpha'] }];
    const first = await ec2.send(new DescribeInstancesCommand({ Filters: filters }));
    const count = (r: typeof first) =>
      (r.Reservations ?? []).reduce((n, res) => n + (res.Instances?.length ?? 0), 0);
    expect(count(first)).toBe(5);
    expect(first.NextToken).toBeDefined();
    const second = await ec2.send(
      new DescribeInstancesCommand({ Filters: filters, NextToken: first.NextToken }),
    );
    expect(count(second)).toBe(1);
    expect(second.NextToken).toBeUndefined();
    const inB = await ec2.send(
      new DescribeInstancesCommand({
        Filters: [...filters, { Name: 'subnet-id', Values: [subnets[1].SubnetId as string] }],
      }),
    );
    expect(count(inB)).toBe(2);
    expect(
      inB.Reservations?.flatMap((r) => r.Instances ?? []).every(
        (i) => i.Placement?.AvailabilityZone === 'us-east-1b',
      ),
    ).toBe(true);
    sb.advance(sb.behavior.timings.instanceBootMs);
    const running = await ec2.send(
      new DescribeInstancesCommand({
        Filters: [
          { Name: 'instance-state-name', Values: ['running'] },
          { Name: 'tag:k3sctl.io/cluster', Values: ['b*'] },
        ],
      }),
    );
    expect(count(running)).toBe(1);
  });

  it('prints the SSH host key fingerprints on the console once running, and honours an SSH mapping', async () => {
    const { sb, ec2 } = setup();
    const run = await ec2.send(
      new RunInstancesCommand({ ImageId: AL2023_X86, InstanceType: 't3.micro', MinCount: 2, MaxCount: 2 }),
    );
    const [a, b] = (run.Instances ?? []).map((i) => i.InstanceId as string);
    expect((await ec2.send(new GetConsoleOutputCommand({ InstanceId: a }))).Output).toBeUndefined();
    mapInstanceToSsh(sb, 'us-east-1', b, {
      host: '127.0.0.1',
      port: 2222,
      hostKeyFingerprint: 'SHA256:testkeyfingerprint',
    });
    sb.advance(sb.behavior.timings.instanceBootMs);
    const text = (id: string) =>
      ec2
        .send(new GetConsoleOutputCommand({ InstanceId: id }))
        .then((r) => Buffer.from(r.Output ?? '', 'base64').toString());
    const consoleA = await text(a);
    const block =
      /-----BEGIN SSH HOST KEY FINGERPRINTS-----\n256 (SHA256:\S+) root@\S+ \(ED25519\)\n-----END SSH HOST KEY FINGERPRINTS-----/.exec(
        consoleA,
      );
    expect(block?.[1]).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
    expect(await text(a)).toBe(consoleA);
    expect(await text(b)).toContain('256 SHA256:testkeyfingerprint root@');
    const desc = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [b] }));
    expect(desc.Reservations?.[0].Instances?.[0].PublicIpAddress).toBe('127.0.0.1');
    expect(getInstance(sb.context('us-east-1'), b)?.PublicIpAddress).toBe('127.0.0.1');
  });

  it('stops, starts and changes metadata options; DescribeInstanceStatus lists running instances unless asked for all', async () => {
    const { sb, ec2 } = setup();
    const run = await ec2.send(
      new RunInstancesCommand({ ImageId: AL2023_X86, InstanceType: 't3.micro', MinCount: 1, MaxCount: 1 }),
    );
    const id = run.Instances?.[0].InstanceId as string;
    expect((await ec2.send(new DescribeInstanceStatusCommand({}))).InstanceStatuses).toEqual([]);
    const all = await ec2.send(new DescribeInstanceStatusCommand({ IncludeAllInstances: true }));
    expect(
      all.InstanceStatuses?.map((x) => [x.InstanceId, x.InstanceState?.Name, x.InstanceStatus?.Status]),
    ).toEqual([[id, 'pending', 'not-applicable']]);
    sb.advance(sb.behavior.timings.instanceBootMs);
    await ec2.send(
      new ModifyInstanceMetadataOptionsCommand({
        InstanceId: id,
        HttpTokens: 'optional',
        HttpPutResponseHopLimit: 1,
      }),
    );
    await ec2.send(new StopInstancesCommand({ InstanceIds: [id] }));
    const describe = async () =>
      (await ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }))).Reservations?.[0].Instances?.[0];
    expect(await describe()).toMatchObject({
      State: { Name: 'stopped' },
      MetadataOptions: { HttpTokens: 'optional', HttpPutResponseHopLimit: 1 },
    });
    expect((await describe())?.PublicIpAddress).toBeUndefined();
    await ec2.send(new StartInstancesCommand({ InstanceIds: [id] }));
    expect((await describe())?.State?.Name).toBe('pending');
    sb.advance(sb.behavior.timings.instanceBootMs);
    expect((await describe())?.State?.Name).toBe('running');
    await expect(
      ec2.send(new StopInstancesCommand({ InstanceIds: ['i-0123456789abcdef0'] })),
    ).rejects.toHaveProperty('name', code('InvalidInstanceID.NotFound'));
  });

  it('retries throttled calls through the SDK', async () => {
    const { sb, ec2 } = setup();
    sb.faults.add({ op: 'DescribeVpcs', percent: 50, code: 'RequestLimitExceeded' });
    // Few calls: the SDK's retry strategy currently spends its backoff in real time.
    for (let i = 0; i < 4; i++) {
      const res = await ec2.send(new DescribeVpcsCommand({}));
      expect(res.Vpcs).toHaveLength(1);
    }
    expect(sb.state.calls.byOperation.DescribeVpcs).toBeGreaterThan(4);
  });
});

describe('sandbox EC2 internal API', () => {
  it('launches from a template like Auto Scaling, reports health and terminates', async () => {
    const { sb, ec2 } = setup({ behavior: { neverHealthy: ['sick-asg'] } });
    const [, subnet] = await defaultSubnets(ec2);
    await ec2.send(
      new CreateLaunchTemplateCommand({
        LaunchTemplateName: 'alpha-nodes',
        LaunchTemplateData: {
          ImageId: AL2023_X86,
          InstanceType: 't3.small',
          MetadataOptions: { HttpTokens: 'required', HttpPutResponseHopLimit: 2 },
          TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'k3sctl.io/role', Value: 'node' }] }],
        },
      }),
    );
    await ec2.send(
      new CreateLaunchTemplateVersionCommand({
        LaunchTemplateName: 'alpha-nodes',
        SourceVersion: '1',
        LaunchTemplateData: { InstanceType: 't3.large' },
      }),
    );
    const ctx = () => sb.context('us-east-1');
    const inst = launchInstanceFromTemplate(ctx(), {
      launchTemplateName: 'alpha-nodes',
      version: '$Latest',
      subnetId: subnet.SubnetId as string,
      tags: [{ Key: 'aws:autoscaling:groupName', Value: 'alpha-asg' }],
    });
    expect(inst).toMatchObject({
      state: 'pending',
      InstanceType: 't3.large',
      SubnetId: subnet.SubnetId,
      AvailabilityZone: 'us-east-1b',
      LaunchTemplate: { LaunchTemplateName: 'alpha-nodes', Version: '2' },
    });
    expect(inst.Tags).toEqual(
      expect.arrayContaining([
        { Key: 'k3sctl.io/role', Value: 'node' },
        { Key: 'aws:autoscaling:groupName', Value: 'alpha-asg' },
        { Key: 'aws:ec2launchtemplate:version', Value: '2' },
      ]),
    );
    const sick = launchInstanceFromTemplate(ctx(), {
      launchTemplateName: 'alpha-nodes',
      subnetId: subnet.SubnetId as string,
      tags: [],
      instanceType: 't3.micro',
      spot: true,
    });
    expect(sick).toMatchObject({ InstanceType: 't3.micro', Spot: true, LaunchTemplate: { Version: '1' } });
    expect(() =>
      launchInstanceFromTemplate(ctx(), {
        launchTemplateName: 'nope',
        subnetId: subnet.SubnetId as string,
        tags: [],
      }),
    ).toThrow(expect.objectContaining({ name: 'InvalidLaunchTemplateName.NotFoundException' }));
    expect(isInstanceHealthy(ctx(), inst.InstanceId)).toBe(false);
    sb.advance(sb.behavior.timings.instanceBootMs);
    expect(getInstance(ctx(), inst.InstanceId)?.state).toBe('running');
    expect(isInstanceHealthy(ctx(), inst.InstanceId)).toBe(true);
    expect(isInstanceHealthy(ctx(), sick.InstanceId, 'sick-asg')).toBe(false);
    const desc = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [inst.InstanceId] }));
    expect(desc.Reservations?.[0].Instances?.[0].MetadataOptions).toMatchObject({
      HttpTokens: 'required',
      HttpPutResponseHopLimit: 2,
    });
    terminateInstanceInternal(ctx(), inst.InstanceId);
    expect(getInstance(ctx(), inst.InstanceId)?.state).toBe('shutting-down');
    sb.advance(sb.behavior.timings.instanceShutdownMs);
    expect(getInstance(ctx(), inst.InstanceId)?.state).toBe('terminated');
  });
});
