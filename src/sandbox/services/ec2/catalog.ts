// What EC2 offers rather than what the account owns: regions, zones, instance types, public AMIs,
// account attributes. Read-only operations over fixed data.
import { awsError } from '../../errors';
import { paginate } from '../../pagination';
import { AMAZON_OWNER_ID, DEFAULT_IMAGES, DEFAULT_ZONE_SUFFIXES, type DefaultImage } from '../../defaults';
import { applyFilters } from './filters';
import { ec2State, defaultVpc } from './state';
import type * as Ec2Sdk from '@aws-sdk/client-ec2';
import type { HandlerOf, OperationsOf, SdkOperation } from '../../service';

type Handler<Op extends SdkOperation<typeof Ec2Sdk>> = HandlerOf<typeof Ec2Sdk, Op>;

export const REGIONS = [
  'us-east-1',
  'us-east-2',
  'us-west-1',
  'us-west-2',
  'ca-central-1',
  'eu-west-1',
  'eu-west-2',
  'eu-west-3',
  'eu-central-1',
  'eu-north-1',
  'ap-southeast-1',
  'ap-southeast-2',
  'ap-northeast-1',
  'ap-south-1',
  'sa-east-1',
];

export interface InstanceTypeInfo {
  InstanceType: Ec2Sdk._InstanceType;
  vcpus: number;
  memoryMiB: number;
  architecture: 'x86_64' | 'arm64';
  burstable: boolean;
}

const SIZES: [string, number][] = [
  ['nano', 0.125],
  ['micro', 0.25],
  ['small', 0.5],
  ['medium', 1],
  ['large', 2],
  ['xlarge', 4],
  ['2xlarge', 8],
  ['4xlarge', 16],
];

function family(
  name: string,
  architecture: 'x86_64' | 'arm64',
  gibPerVcpu: number,
  sizes: string[],
): InstanceTypeInfo[] {
  const burstable = name.startsWith('t');
  return sizes.map((size) => {
    const factor = SIZES.find(([s]) => s === size)?.[1] ?? 1;
    // Burstable types all have two vCPUs up to large; memory doubles per size from nano's 0.5 GiB.
    const vcpus = burstable ? (factor <= 2 ? 2 : factor) : Math.max(2, factor);
    const memoryMiB = burstable ? Math.round(factor * 4096) : Math.round(factor * gibPerVcpu * 1024);
    // Every family and size combined below names a real EC2 instance type.
    const InstanceType = `${name}.${size}` as Ec2Sdk._InstanceType;
    return { InstanceType, vcpus, memoryMiB, architecture, burstable };
  });
}

const TSIZES = ['nano', 'micro', 'small', 'medium', 'large', 'xlarge', '2xlarge'];
const BIG = ['large', 'xlarge', '2xlarge', '4xlarge'];

export const INSTANCE_TYPES: InstanceTypeInfo[] = [
  ...family('t3', 'x86_64', 0, TSIZES),
  ...family('t3a', 'x86_64', 0, TSIZES),
  ...family('t4g', 'arm64', 0, TSIZES),
  ...family('m5', 'x86_64', 4, BIG),
  ...family('m6i', 'x86_64', 4, BIG),
  ...family('m7g', 'arm64', 4, ['medium', ...BIG]),
  ...family('c5', 'x86_64', 2, BIG),
  ...family('c6i', 'x86_64', 2, BIG),
  ...family('r5', 'x86_64', 8, BIG),
];

export function instanceTypeInfo(type: string): InstanceTypeInfo | undefined {
  return INSTANCE_TYPES.find((t) => t.InstanceType === type);
}

export function zonesOf(region: string): string[] {
  return DEFAULT_ZONE_SUFFIXES.map((s) => `${region}${s}`);
}

export function zoneId(region: string, zone: string): string {
  const short = region.replace(/-(\w)\w*-/, (_m, c: string) => c).replace(/-/g, '');
  return `${short}-az${zone.charCodeAt(zone.length - 1) - 96}`;
}

export function findImage(imageId: string): DefaultImage | undefined {
  return DEFAULT_IMAGES.find((i) => i.ImageId === imageId);
}

export function checkImageId(imageId: string): DefaultImage {
  if (!/^ami-[0-9a-f]{8,17}$/.test(imageId))
    throw awsError('InvalidAMIID.Malformed', `Invalid id: "${imageId}" (expecting "ami-...")`);
  const image = findImage(imageId);
  if (!image) throw awsError('InvalidAMIID.NotFound', `The image id '[${imageId}]' does not exist`);
  return image;
}

function imageOutput(img: DefaultImage): Ec2Sdk.Image {
  return {
    ImageId: img.ImageId,
    Name: img.Name,
    Description: img.Description,
    OwnerId: img.OwnerId,
    ImageOwnerAlias: img.OwnerId === AMAZON_OWNER_ID ? 'amazon' : undefined,
    Architecture: img.Architecture,
    CreationDate: img.creationDate,
    Public: true,
    State: 'available',
    ImageType: 'machine',
    Hypervisor: 'xen',
    VirtualizationType: 'hvm',
    RootDeviceType: 'ebs',
    RootDeviceName: img.Name.startsWith('ubuntu') ? '/dev/sda1' : '/dev/xvda',
    EnaSupport: true,
    SriovNetSupport: 'simple',
    BootMode: img.Architecture === 'arm64' ? 'uefi' : 'uefi-preferred',
    ImdsSupport: img.Name.startsWith('al2023') ? 'v2.0' : undefined,
    PlatformDetails: 'Linux/UNIX',
    UsageOperation: 'RunInstances',
    BlockDeviceMappings: [
      {
        DeviceName: img.Name.startsWith('ubuntu') ? '/dev/sda1' : '/dev/xvda',
        Ebs: {
          DeleteOnTermination: true,
          SnapshotId: `snap-${img.ImageId.slice(4)}`,
          VolumeSize: 8,
          VolumeType: 'gp3',
          Encrypted: false,
        },
      },
    ],
    Tags: [],
  };
}

const describeImages: Handler<'DescribeImages'> = (_ctx, input) => {
  const ids: string[] = input.ImageIds ?? [];
  for (const id of ids) {
    if (!/^ami-[0-9a-f]{8,17}$/.test(id))
      throw awsError('InvalidAMIID.Malformed', `Invalid id: "${id}" (expecting "ami-...")`);
  }
  const missing = ids.filter((id) => !findImage(id));
  if (missing.length)
    throw awsError('InvalidAMIID.NotFound', `The image id '[${missing.join(', ')}]' does not exist`);
  const owners: string[] = input.Owners ?? [];
  let images = DEFAULT_IMAGES.filter((i) => ids.length === 0 || ids.includes(i.ImageId));
  if (owners.length) {
    images = images.filter((i) =>
      owners.some((o) => o === i.OwnerId || (o === 'amazon' && i.OwnerId === AMAZON_OWNER_ID)),
    );
  }
  const filtered = applyFilters(
    images.map((i) => ({ ...i, Tags: [] })),
    input.Filters,
    (i, name) =>
      ({
        name: [i.Name],
        'image-id': [i.ImageId],
        'owner-id': [i.OwnerId],
        'owner-alias': [i.OwnerId === AMAZON_OWNER_ID ? 'amazon' : undefined],
        architecture: [i.Architecture],
        state: ['available'],
        'is-public': ['true'],
        'root-device-type': ['ebs'],
        'virtualization-type': ['hvm'],
        'image-type': ['machine'],
        description: [i.Description],
        'creation-date': [i.creationDate],
      })[name],
  );
  // DescribeImages is only paginated when MaxResults is given.
  if (input.MaxResults !== undefined || input.NextToken !== undefined) {
    const { page, nextToken } = paginate(filtered, input.NextToken, input.MaxResults);
    return { Images: page.map(imageOutput), NextToken: nextToken };
  }
  return { Images: filtered.map(imageOutput) };
};

const describeAvailabilityZones: Handler<'DescribeAvailabilityZones'> = (ctx, input) => {
  const zones = zonesOf(ctx.region).map((ZoneName) => ({
    ZoneName,
    ZoneId: zoneId(ctx.region, ZoneName),
    RegionName: ctx.region,
    State: 'available' as const,
    OptInStatus: 'opt-in-not-required' as const,
    ZoneType: 'availability-zone',
    GroupName: ctx.region,
    NetworkBorderGroup: ctx.region,
    Messages: [],
    // Not in the SDK's AvailabilityZone shape (AWS returns no tags here); callers never read it.
    Tags: [],
  }));
  const names: string[] = input.ZoneNames ?? [];
  for (const n of names) {
    if (!zones.some((z) => z.ZoneName === n))
      throw awsError('InvalidParameterValue', `The zone '${n}' does not exist.`);
  }
  const filtered = applyFilters(
    zones.filter((z) => names.length === 0 || names.includes(z.ZoneName)),
    input.Filters,
    (z, name) =>
      ({
        'zone-name': [z.ZoneName],
        'zone-id': [z.ZoneId],
        'region-name': [z.RegionName],
        state: [z.State],
        'zone-type': [z.ZoneType],
        'opt-in-status': [z.OptInStatus],
        'group-name': [z.GroupName],
      })[name],
  );
  return { AvailabilityZones: filtered.map(({ Tags: _t, ...z }) => z) };
};

const describeRegions: Handler<'DescribeRegions'> = (_ctx, input) => {
  const names: string[] = input.RegionNames ?? [];
  for (const n of names) {
    if (!REGIONS.includes(n)) throw awsError('InvalidParameterValue', `Invalid region names: [${n}]`);
  }
  const regions = REGIONS.filter((r) => names.length === 0 || names.includes(r)).map((RegionName) => ({
    RegionName,
    Endpoint: `ec2.${RegionName}.amazonaws.com`,
    OptInStatus: 'opt-in-not-required',
    Tags: [],
  }));
  const filtered = applyFilters(
    regions,
    input.Filters,
    (r, name) =>
      ({ 'region-name': [r.RegionName], endpoint: [r.Endpoint], 'opt-in-status': [r.OptInStatus] })[name],
  );
  return { Regions: filtered.map(({ Tags: _t, ...r }) => r) };
};

const describeAccountAttributes: Handler<'DescribeAccountAttributes'> = (ctx, input) => {
  const vpc = defaultVpc(ec2State(ctx));
  const all: Record<string, string[]> = {
    'supported-platforms': ['VPC'],
    'default-vpc': [vpc?.VpcId ?? 'none'],
    'max-instances': ['20'],
    'vpc-max-security-groups-per-interface': ['5'],
    'max-elastic-ips': ['5'],
    'vpc-max-elastic-ips': ['5'],
  };
  const names: string[] = input.AttributeNames ?? Object.keys(all);
  for (const n of names)
    if (!all[n])
      throw awsError('InvalidParameterValue', `Value (${n}) for parameter attributeName is invalid.`);
  return {
    AccountAttributes: names.map((AttributeName) => ({
      AttributeName,
      AttributeValues: all[AttributeName].map((AttributeValue) => ({ AttributeValue })),
    })),
  };
};

function instanceTypeOutput(t: InstanceTypeInfo): Ec2Sdk.InstanceTypeInfo {
  return {
    InstanceType: t.InstanceType,
    CurrentGeneration: true,
    FreeTierEligible: t.InstanceType === 't3.micro',
    SupportedUsageClasses: ['on-demand', 'spot'],
    SupportedRootDeviceTypes: ['ebs'],
    SupportedVirtualizationTypes: ['hvm'],
    BareMetal: false,
    Hypervisor: 'nitro',
    ProcessorInfo: {
      SupportedArchitectures: [t.architecture],
      SustainedClockSpeedInGhz: t.architecture === 'arm64' ? 2.5 : 3.1,
    },
    VCpuInfo: {
      DefaultVCpus: t.vcpus,
      DefaultCores: Math.max(1, t.vcpus / 2),
      DefaultThreadsPerCore: t.architecture === 'arm64' ? 1 : 2,
    },
    MemoryInfo: { SizeInMiB: t.memoryMiB },
    InstanceStorageSupported: false,
    EbsInfo: { EbsOptimizedSupport: 'default', EncryptionSupport: 'supported', NvmeSupport: 'required' },
    NetworkInfo: {
      NetworkPerformance: 'Up to 5 Gigabit',
      MaximumNetworkInterfaces: 3,
      Ipv4AddressesPerInterface: 6,
      Ipv6Supported: true,
      EnaSupport: 'required',
    },
    PlacementGroupInfo: { SupportedStrategies: ['partition', 'spread'] },
    HibernationSupported: false,
    BurstablePerformanceSupported: t.burstable,
    DedicatedHostsSupported: !t.burstable,
    AutoRecoverySupported: true,
    SupportedBootModes: t.architecture === 'arm64' ? ['uefi'] : ['legacy-bios', 'uefi'],
  };
}

const describeInstanceTypes: Handler<'DescribeInstanceTypes'> = (_ctx, input) => {
  const names: string[] = input.InstanceTypes ?? [];
  const unknown = names.filter((n) => !instanceTypeInfo(n));
  if (unknown.length)
    throw awsError(
      'InvalidInstanceType',
      `The following supplied instance types do not exist: [${unknown.join(', ')}]`,
    );
  const types = INSTANCE_TYPES.filter((t) => names.length === 0 || names.includes(t.InstanceType)).map(
    (t) => ({ ...t, Tags: [] }),
  );
  const filtered = applyFilters(
    types,
    input.Filters,
    (t, name) =>
      ({
        'instance-type': [t.InstanceType],
        'processor-info.supported-architecture': [t.architecture],
        'current-generation': ['true'],
        'vcpu-info.default-vcpus': [t.vcpus],
        'memory-info.size-in-mib': [t.memoryMiB],
        'burstable-performance-supported': [String(t.burstable)],
        'supported-usage-class': ['on-demand', 'spot'],
      })[name],
  );
  const { page, nextToken } = paginate(filtered, input.NextToken, input.MaxResults);
  return { InstanceTypes: page.map(instanceTypeOutput), NextToken: nextToken };
};

const describeInstanceTypeOfferings: Handler<'DescribeInstanceTypeOfferings'> = (ctx, input) => {
  const locationType: Ec2Sdk.LocationType = input.LocationType ?? 'region';
  if (!['region', 'availability-zone', 'availability-zone-id'].includes(locationType)) {
    throw awsError('InvalidParameterValue', `Value (${locationType}) for parameter locationType is invalid.`);
  }
  const locations =
    locationType === 'region'
      ? [ctx.region]
      : zonesOf(ctx.region).map((z) => (locationType === 'availability-zone' ? z : zoneId(ctx.region, z)));
  const offerings = locations.flatMap((Location) =>
    INSTANCE_TYPES.map((t) => ({
      InstanceType: t.InstanceType,
      LocationType: locationType,
      Location,
      // Not in the SDK's InstanceTypeOffering shape (AWS returns no tags here); callers never read it.
      Tags: [],
    })),
  );
  const filtered = applyFilters(
    offerings,
    input.Filters,
    (o, name) => ({ 'instance-type': [o.InstanceType], location: [o.Location] })[name],
  );
  const { page, nextToken } = paginate(filtered, input.NextToken, input.MaxResults);
  return { InstanceTypeOfferings: page.map(({ Tags: _t, ...o }) => o), NextToken: nextToken };
};

export const catalogOperations = {
  DescribeImages: describeImages,
  DescribeAvailabilityZones: describeAvailabilityZones,
  DescribeRegions: describeRegions,
  DescribeAccountAttributes: describeAccountAttributes,
  DescribeInstanceTypes: describeInstanceTypes,
  DescribeInstanceTypeOfferings: describeInstanceTypeOfferings,
} satisfies OperationsOf<typeof Ec2Sdk>;
