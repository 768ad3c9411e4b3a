// Instances: launching (RunInstances and Auto Scaling's launches share `launchInstances`), state
// transitions in virtual time, descriptions, termination, console output.
//   pending --instanceBootMs (+ slowBoot)--> running --terminate--> shutting-down
//   --instanceShutdownMs--> terminated --1 hour--> gone from DescribeInstances.
import { createHash } from 'node:crypto';
import { awsError, required } from '../../errors';
import { paginate } from '../../pagination';
import { behaviorApplies, type SandboxContext } from '../../account';
import { instanceProfileArn, isInstanceProfileUsable } from '../iam';
import { checkImageId, instanceTypeInfo } from './catalog';
import { applyFilters } from './filters';
import { checkUserData, CPU_CREDIT_OPTIONS, getLaunchTemplate, getVersion } from './launchTemplates';
import { getSubnet } from './network';
import { getSecurityGroup } from './securityGroups';
import { validateTagSpecifications } from './tagging';
import {
  digest,
  ec2State,
  intToIp,
  mergeTag,
  parseCidr,
  tagsFrom,
  type Ec2State,
  type StoredInstance,
  type Tag,
} from './state';
import type * as Ec2Sdk from '@aws-sdk/client-ec2';
import type { HandlerOf, OperationsOf, SdkOperation } from '../../service';

type Handler<Op extends SdkOperation<typeof Ec2Sdk>> = HandlerOf<typeof Ec2Sdk, Op>;

export const TERMINATED_VISIBLE_MS = 60 * 60 * 1000;
const ASG_NAME_TAG = 'aws:autoscaling:groupName';

const STATE_CODES: Record<string, number> = {
  pending: 0,
  running: 16,
  'shutting-down': 32,
  terminated: 48,
  stopping: 64,
  stopped: 80,
};

/** Applies the due transitions of one instance up to `now`; false when it has vanished (1 h after termination). */
export function applyTransitionsTo(s: Ec2State, inst: StoredInstance, now: number): boolean {
  if (inst.state === 'pending' && now >= inst.runningAt) inst.state = 'running';
  if (inst.state === 'shutting-down' && inst.terminatedAt !== undefined && now >= inst.terminatedAt)
    inst.state = 'terminated';
  if (
    inst.state === 'terminated' &&
    inst.terminatedAt !== undefined &&
    now >= inst.terminatedAt + TERMINATED_VISIBLE_MS
  ) {
    delete s.instances[inst.InstanceId];
    delete s.sshEndpoints[inst.InstanceId];
    return false;
  }
  return true;
}

/** Applies every due transition of the region's instances up to the sandbox's current time. */
export function applyInstanceTransitions(ctx: SandboxContext): void {
  const s = ec2State(ctx);
  const now = ctx.sb.now();
  for (const inst of Object.values(s.instances)) applyTransitionsTo(s, inst, now);
}

export function asgNameOf(inst: { Tags: Tag[] }): string | undefined {
  return inst.Tags.find((t) => t.Key === ASG_NAME_TAG)?.Value;
}

function slowBootMs(ctx: SandboxContext, instanceId: string, group: string | undefined): number {
  const slow = ctx.sb.behavior.slowBoot;
  return slow[instanceId] ?? (group !== undefined ? slow[group] : undefined) ?? slow['*'] ?? 0;
}

export function privateDnsName(region: string, ip: string): string {
  const host = `ip-${ip.replace(/\./g, '-')}`;
  return region === 'us-east-1' ? `${host}.ec2.internal` : `${host}.${region}.compute.internal`;
}

/** The ed25519 host key fingerprint an instance prints on its console (or the one of its SSH mapping). */
export function hostKeyFingerprint(s: Ec2State, instanceId: string): string {
  const mapped = s.sshEndpoints[instanceId];
  if (mapped) return mapped.hostKeyFingerprint;
  return `SHA256:${createHash('sha256').update(`sandbox-host-key-${instanceId}`).digest('base64').replace(/=+$/, '')}`;
}

/** What one launch needs after the launch template and the request are merged. */
export interface LaunchRequest {
  ImageId?: string;
  InstanceType?: string;
  KeyName?: string;
  SecurityGroupIds?: string[];
  SecurityGroupNames?: string[];
  SubnetId?: string;
  AvailabilityZone?: string;
  IamInstanceProfile?: { Arn?: string; Name?: string };
  UserData?: string;
  Tags: Tag[];
  MetadataOptions?: {
    HttpTokens?: Ec2Sdk.HttpTokensState;
    HttpPutResponseHopLimit?: number;
    HttpEndpoint?: Ec2Sdk.InstanceMetadataEndpointState;
  };
  CreditSpecification?: { CpuCredits?: string };
  spot?: boolean;
  associatePublicIp?: boolean;
  launchTemplate?: { LaunchTemplateId: string; LaunchTemplateName: string; Version: string };
  clientToken?: string;
}

interface NetworkInterfaceSpec {
  DeviceIndex?: number;
  SubnetId?: string;
  Groups?: string[];
  AssociatePublicIpAddress?: boolean;
}

/** The launch template's data as a LaunchRequest (the request's own fields are merged on top). */
export function requestFromTemplateData(
  lt: { LaunchTemplateId: string; LaunchTemplateName: string; VersionNumber: number },
  data: Ec2Sdk.RequestLaunchTemplateData,
): LaunchRequest {
  const nic = ((data.NetworkInterfaces as NetworkInterfaceSpec[] | undefined) ?? []).find(
    (n) => (n.DeviceIndex ?? 0) === 0,
  );
  const placement = data.Placement as { AvailabilityZone?: string } | undefined;
  const market = data.InstanceMarketOptions as { MarketType?: string } | undefined;
  return {
    ImageId: data.ImageId as string | undefined,
    InstanceType: data.InstanceType as string | undefined,
    KeyName: data.KeyName as string | undefined,
    SecurityGroupIds: (data.SecurityGroupIds as string[] | undefined) ?? nic?.Groups,
    SecurityGroupNames: data.SecurityGroups as string[] | undefined,
    SubnetId: nic?.SubnetId,
    AvailabilityZone: placement?.AvailabilityZone,
    IamInstanceProfile: data.IamInstanceProfile as LaunchRequest['IamInstanceProfile'],
    UserData: data.UserData as string | undefined,
    Tags: tagsFrom(data.TagSpecifications as never, 'instance'),
    MetadataOptions: data.MetadataOptions as LaunchRequest['MetadataOptions'],
    CreditSpecification: data.CreditSpecification as LaunchRequest['CreditSpecification'],
    spot: market?.MarketType === 'spot',
    associatePublicIp: nic?.AssociatePublicIpAddress,
    launchTemplate: {
      LaunchTemplateId: lt.LaunchTemplateId,
      LaunchTemplateName: lt.LaunchTemplateName,
      Version: String(lt.VersionNumber),
    },
  };
}

function defined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Merges the request over the template: fields given in the request win, tags merge key by key. */
export function mergeLaunchRequests(base: LaunchRequest | undefined, over: LaunchRequest): LaunchRequest {
  if (!base) return over;
  const tags = base.Tags.map((t) => ({ ...t }));
  for (const t of over.Tags) mergeTag(tags, t);
  return { ...base, ...defined(over), Tags: tags };
}

/**
 * The CPU credit option an instance launches with (EC2: t2 defaults to standard, the other burstable
 * families to unlimited); undefined for a type without CPU credits. A CreditSpecification for such a
 * type, or with another value, is refused as RunInstances does.
 */
export function checkCreditSpecification(spec: { CpuCredits?: string } | undefined, instanceType: string, burstable: boolean): string | undefined {
  if (spec?.CpuCredits !== undefined) {
    const value = String(spec.CpuCredits).toLowerCase();
    if (!CPU_CREDIT_OPTIONS.includes(value)) {
      throw awsError('InvalidParameterValue', `Value (${spec.CpuCredits}) for parameter creditSpecification.cpuCredits is invalid. Valid values: standard, unlimited.`);
    }
    if (!burstable) {
      throw awsError(
        'InvalidParameterCombination',
        `The instance type ${instanceType} does not support CPU credits; a CreditSpecification is only valid for burstable performance instances.`,
      );
    }
    return value;
  }
  if (!burstable) return undefined;
  return instanceType.startsWith('t2.') ? 'standard' : 'unlimited';
}

/**
 * Validates a merged request and launches `count` instances in one reservation. Throws like RunInstances;
 * `dryRun`: throws DryRunOperation once every check passed, launching nothing.
 */
export function launchInstances(
  ctx: SandboxContext,
  req: LaunchRequest,
  count: number,
  dryRun = false,
): StoredInstance[] {
  const s = ec2State(ctx);
  const imageId = required(req.ImageId, 'ImageId');
  const image = checkImageId(imageId);
  const instanceType = req.InstanceType ?? 'm1.small';
  const typeInfo = instanceTypeInfo(instanceType);
  if (!typeInfo) throw awsError('InvalidParameterValue', `Invalid value '${instanceType}' for InstanceType.`);
  if (typeInfo.architecture !== image.Architecture) {
    throw awsError(
      'InvalidParameterValue',
      `The architecture '${typeInfo.architecture}' of the specified instance type does not match the architecture '${image.Architecture}' of the specified AMI. Specify an instance type and an AMI that have matching architectures, and try again.`,
    );
  }
  if (req.KeyName !== undefined && !s.keyPairs[req.KeyName]) {
    throw awsError('InvalidKeyPair.NotFound', `The key pair '${req.KeyName}' does not exist`);
  }
  checkUserData(req.UserData, 'UserData');
  const cpuCredits = checkCreditSpecification(req.CreditSpecification, instanceType, typeInfo.burstable);

  let subnet;
  if (req.SubnetId) {
    subnet = getSubnet(s, req.SubnetId);
  } else {
    const defaults = Object.values(s.subnets).filter(
      (sn) => sn.DefaultForAz && (!req.AvailabilityZone || sn.AvailabilityZone === req.AvailabilityZone),
    );
    subnet = defaults[0];
    if (!subnet)
      throw awsError(
        'VPCIdNotSpecified',
        'No default VPC for this user. GroupName is only supported for EC2-Classic and default VPC.',
      );
  }
  if (req.AvailabilityZone && req.AvailabilityZone !== subnet.AvailabilityZone) {
    throw awsError(
      'InvalidParameterValue',
      `Value (${req.AvailabilityZone}) for parameter availabilityZone is invalid. Subnet ${subnet.SubnetId} is in ${subnet.AvailabilityZone}.`,
    );
  }

  const groupIds = [...(req.SecurityGroupIds ?? [])];
  for (const name of req.SecurityGroupNames ?? []) {
    const g = Object.values(s.securityGroups).find((x) => x.GroupName === name && x.VpcId === subnet.VpcId);
    if (!g)
      throw awsError(
        'InvalidGroup.NotFound',
        `The security group '${name}' does not exist in VPC '${subnet.VpcId}'`,
      );
    groupIds.push(g.GroupId);
  }
  // VPC quota "Security groups per network interface": 5 by default.
  if (new Set(groupIds).size > 5) {
    throw awsError('SecurityGroupsPerInterfaceLimitExceeded', 'The maximum number of security groups per interface has been reached.');
  }
  for (const id of groupIds) {
    const g = getSecurityGroup(s, id);
    if (g.VpcId !== subnet.VpcId) {
      throw awsError(
        'InvalidParameter',
        `Security group ${id} and subnet ${subnet.SubnetId} belong to different networks.`,
      );
    }
  }
  if (groupIds.length === 0) {
    const def = Object.values(s.securityGroups).find(
      (g) => g.VpcId === subnet.VpcId && g.GroupName === 'default',
    );
    if (def) groupIds.push(def.GroupId);
  }

  let profileArn: string | undefined;
  if (req.IamInstanceProfile && (req.IamInstanceProfile.Arn || req.IamInstanceProfile.Name)) {
    const byArn = req.IamInstanceProfile.Arn !== undefined;
    const ref = (req.IamInstanceProfile.Arn ?? req.IamInstanceProfile.Name) as string;
    // IAM is eventually consistent: a new profile is refused for a few seconds, and the SDK does not retry this.
    if (!isInstanceProfileUsable(ctx, ref)) {
      throw awsError(
        'InvalidParameterValue',
        byArn
          ? `Value (${ref}) for parameter iamInstanceProfile.arn is invalid. Invalid IAM Instance Profile ARN`
          : `Value (${ref}) for parameter iamInstanceProfile.name is invalid. Invalid IAM Instance Profile name`,
      );
    }
    profileArn = instanceProfileArn(ctx, ref);
  }

  const cidr = parseCidr(subnet.CidrBlock);
  if (!cidr) throw awsError('InternalError', `subnet ${subnet.SubnetId} has an invalid CIDR`);
  if (subnet.nextHost + count > cidr.size - 1) {
    throw awsError(
      'InsufficientFreeAddressesInSubnet',
      `There are not enough free addresses in subnet '${subnet.SubnetId}' to satisfy the requested number of instances.`,
    );
  }
  if (dryRun) throw awsError('DryRunOperation', 'Request would have succeeded, but DryRun flag is set.', 412);
  const mapPublic = req.associatePublicIp ?? subnet.MapPublicIpOnLaunch;
  const ReservationId = ctx.sb.newId('r-');
  const imdsDefault = image.Name.startsWith('al2023') ? 'required' : 'optional';
  const launched: StoredInstance[] = [];
  for (let i = 0; i < count; i++) {
    const InstanceId = ctx.sb.newId('i-');
    const tags = req.Tags.map((t) => ({ ...t }));
    if (req.launchTemplate) {
      mergeTag(tags, { Key: 'aws:ec2launchtemplate:id', Value: req.launchTemplate.LaunchTemplateId });
      mergeTag(tags, { Key: 'aws:ec2launchtemplate:version', Value: req.launchTemplate.Version });
    }
    const group = asgNameOf({ Tags: tags });
    let PublicIpAddress: string | undefined;
    if (mapPublic) {
      const n = s.publicIpSeq++;
      PublicIpAddress = `54.${160 + (Math.floor(n / 65536) % 40)}.${Math.floor(n / 256) % 256}.${(n % 254) + 1}`;
    }
    const inst: StoredInstance = {
      InstanceId,
      ImageId: imageId,
      InstanceType: typeInfo.InstanceType,
      state: 'pending',
      launchedAt: ctx.now,
      runningAt: ctx.now + ctx.sb.behavior.timings.instanceBootMs + slowBootMs(ctx, InstanceId, group),
      SubnetId: subnet.SubnetId,
      VpcId: subnet.VpcId,
      AvailabilityZone: subnet.AvailabilityZone,
      PrivateIpAddress: intToIp(cidr.base + subnet.nextHost++),
      PublicIpAddress,
      SecurityGroupIds: groupIds,
      IamInstanceProfileArn: profileArn,
      KeyName: req.KeyName,
      Tags: tags,
      LaunchTemplate: req.launchTemplate,
      UserData: req.UserData,
      Spot: req.spot === true ? true : undefined,
      ReservationId,
      ClientToken: req.clientToken,
      AmiLaunchIndex: i,
      ...(cpuCredits ? { CpuCredits: cpuCredits } : {}),
      MetadataOptions: {
        HttpTokens: req.MetadataOptions?.HttpTokens ?? imdsDefault,
        HttpPutResponseHopLimit:
          req.MetadataOptions?.HttpPutResponseHopLimit ?? (imdsDefault === 'required' ? 2 : 1),
        HttpEndpoint: req.MetadataOptions?.HttpEndpoint ?? 'enabled',
      },
    };
    s.instances[InstanceId] = inst;
    launched.push(inst);
  }
  return launched;
}

export function instanceOutput(
  ctx: SandboxContext,
  s: Ec2State,
  inst: StoredInstance,
): Ec2Sdk.Instance {
  const gone = inst.state === 'terminated';
  const mapped = s.sshEndpoints[inst.InstanceId];
  const publicIp = gone || inst.state === 'stopped' ? undefined : (mapped?.host ?? inst.PublicIpAddress);
  const dns = privateDnsName(ctx.region, inst.PrivateIpAddress);
  const groups = inst.SecurityGroupIds.map((id) => ({
    GroupId: id,
    GroupName: s.securityGroups[id]?.GroupName,
  }));
  const image = inst.ImageId;
  return {
    InstanceId: inst.InstanceId,
    ImageId: image,
    InstanceType: inst.InstanceType,
    State: { Code: STATE_CODES[inst.state], Name: inst.state },
    StateTransitionReason:
      gone || inst.state === 'shutting-down'
        ? `User initiated (${new Date(inst.shuttingDownAt ?? ctx.now).toISOString().replace('T', ' ').slice(0, 19)} GMT)`
        : '',
    StateReason:
      gone || inst.state === 'shutting-down'
        ? {
            Code: 'Client.UserInitiatedShutdown',
            Message: 'Client.UserInitiatedShutdown: User initiated shutdown',
          }
        : undefined,
    LaunchTime: new Date(inst.launchedAt),
    AmiLaunchIndex: inst.AmiLaunchIndex,
    Placement: { AvailabilityZone: inst.AvailabilityZone, GroupName: '', Tenancy: 'default' },
    PrivateDnsName: gone ? '' : dns,
    PrivateIpAddress: gone ? undefined : inst.PrivateIpAddress,
    PublicDnsName: publicIp && !mapped ? `ec2-${publicIp.replace(/\./g, '-')}.compute-1.amazonaws.com` : '',
    PublicIpAddress: publicIp,
    SubnetId: gone ? undefined : inst.SubnetId,
    VpcId: gone ? undefined : inst.VpcId,
    SecurityGroups: gone ? [] : groups,
    IamInstanceProfile: inst.IamInstanceProfileArn
      ? { Arn: inst.IamInstanceProfileArn, Id: `AIPA${inst.InstanceId.slice(2, 19).toUpperCase()}` }
      : undefined,
    KeyName: inst.KeyName,
    Tags: inst.Tags.length ? inst.Tags : undefined,
    InstanceLifecycle: inst.Spot ? 'spot' : undefined,
    ClientToken: inst.ClientToken ?? '',
    Architecture: instanceTypeInfo(inst.InstanceType)?.architecture ?? 'x86_64',
    Hypervisor: 'xen',
    VirtualizationType: 'hvm',
    RootDeviceType: 'ebs',
    RootDeviceName: '/dev/xvda',
    EbsOptimized: true,
    EnaSupport: true,
    SourceDestCheck: true,
    Monitoring: { State: 'disabled' },
    BlockDeviceMappings: gone
      ? []
      : [
          {
            DeviceName: '/dev/xvda',
            Ebs: {
              AttachTime: new Date(inst.launchedAt),
              DeleteOnTermination: true,
              Status: 'attached',
              VolumeId: `vol-${inst.InstanceId.slice(2)}`,
            },
          },
        ],
    NetworkInterfaces: gone
      ? []
      : [
          {
            NetworkInterfaceId: `eni-${inst.InstanceId.slice(2)}`,
            SubnetId: inst.SubnetId,
            VpcId: inst.VpcId,
            PrivateIpAddress: inst.PrivateIpAddress,
            PrivateDnsName: dns,
            Groups: groups,
            Status: 'in-use',
            Attachment: {
              DeviceIndex: 0,
              Status: 'attached',
              DeleteOnTermination: true,
              AttachTime: new Date(inst.launchedAt),
            },
            Association: publicIp ? { PublicIp: publicIp, IpOwnerId: 'amazon' } : undefined,
          },
        ],
    MetadataOptions: {
      State: inst.state === 'pending' ? 'pending' : 'applied',
      HttpTokens: inst.MetadataOptions.HttpTokens,
      HttpPutResponseHopLimit: inst.MetadataOptions.HttpPutResponseHopLimit,
      HttpEndpoint: inst.MetadataOptions.HttpEndpoint,
      HttpProtocolIpv6: 'disabled',
      InstanceMetadataTags: 'disabled',
    },
    PlatformDetails: 'Linux/UNIX',
    UsageOperation: 'RunInstances',
    BootMode: 'uefi-preferred',
    CurrentInstanceBootMode: 'uefi',
  };
}

function getInstanceOrThrow(s: Ec2State, id: string): StoredInstance {
  if (!/^i-[0-9a-f]{8,17}$/.test(id)) throw awsError('InvalidInstanceID.Malformed', `Invalid id: "${id}"`);
  const inst = s.instances[id];
  if (!inst) throw awsError('InvalidInstanceID.NotFound', `The instance ID '${id}' does not exist`);
  return inst;
}

function checkInstanceIds(s: Ec2State, ids: string[]): void {
  for (const id of ids)
    if (!/^i-[0-9a-f]{8,17}$/.test(id)) throw awsError('InvalidInstanceID.Malformed', `Invalid id: "${id}"`);
  const missing = ids.filter((id) => !s.instances[id]);
  if (missing.length === 1)
    throw awsError('InvalidInstanceID.NotFound', `The instance ID '${missing[0]}' does not exist`);
  if (missing.length > 1)
    throw awsError('InvalidInstanceID.NotFound', `The instance IDs '${missing.join(', ')}' do not exist`);
}

const runInstances: Handler<'RunInstances'> = (ctx, input) => {
  const min = required<number>(input.MinCount, 'MinCount');
  const max = required<number>(input.MaxCount, 'MaxCount');
  if (min < 1 || max < min)
    throw awsError(
      'InvalidParameterValue',
      `Value (${min}) for parameter minCount is invalid. Expected a value of at least 1 and at most maxCount (${max}).`,
    );
  const s = ec2State(ctx);
  const { ClientToken, ...rest } = input;
  const requestDigest = digest(rest);
  // A dry run launches nothing, so it neither uses nor records a client token's reservation.
  if (ClientToken && input.DryRun !== true) {
    const seen = s.runTokens[ClientToken];
    if (seen) {
      if (seen.digest !== requestDigest) {
        throw awsError(
          'IdempotentParameterMismatch',
          'The client token you have provided is associated with a resource that is already deleted or with different parameters.',
        );
      }
      const instances = seen.instanceIds.map((id) => s.instances[id]).filter(Boolean);
      return reservationOutput(ctx, s, seen.reservationId, instances);
    }
  }
  validateTagSpecifications(
    input.TagSpecifications,
    'instance',
    'volume',
    'network-interface',
    'spot-instances-request',
  );
  let base: LaunchRequest | undefined;
  if (input.LaunchTemplate) {
    const lt = resolveTemplate(ctx, {
      launchTemplateId: input.LaunchTemplate.LaunchTemplateId,
      launchTemplateName: input.LaunchTemplate.LaunchTemplateName,
      version: input.LaunchTemplate.Version,
    });
    base = requestFromTemplateData(lt, lt.data);
  }
  const nic = ((input.NetworkInterfaces as NetworkInterfaceSpec[] | undefined) ?? []).find(
    (n) => (n.DeviceIndex ?? 0) === 0,
  );
  const request = mergeLaunchRequests(base, {
    ImageId: input.ImageId,
    InstanceType: input.InstanceType,
    KeyName: input.KeyName,
    SecurityGroupIds: input.SecurityGroupIds ?? nic?.Groups,
    SecurityGroupNames: input.SecurityGroups,
    SubnetId: input.SubnetId ?? nic?.SubnetId,
    AvailabilityZone: input.Placement?.AvailabilityZone,
    IamInstanceProfile: input.IamInstanceProfile,
    UserData: input.UserData,
    Tags: tagsFrom(input.TagSpecifications, 'instance'),
    MetadataOptions: input.MetadataOptions,
    CreditSpecification: input.CreditSpecification,
    spot: input.InstanceMarketOptions?.MarketType === 'spot' ? true : undefined,
    associatePublicIp: nic?.AssociatePublicIpAddress,
    clientToken: ClientToken,
  });
  const instances = launchInstances(ctx, request, max, input.DryRun === true);
  if (ClientToken)
    s.runTokens[ClientToken] = {
      reservationId: instances[0].ReservationId,
      instanceIds: instances.map((i) => i.InstanceId),
      digest: requestDigest,
    };
  return reservationOutput(ctx, s, instances[0].ReservationId, instances);
};

function reservationOutput(
  ctx: SandboxContext,
  s: Ec2State,
  reservationId: string,
  instances: StoredInstance[],
): Ec2Sdk.Reservation {
  return {
    ReservationId: reservationId,
    OwnerId: ctx.sb.state.accountId,
    Groups: [],
    Instances: instances.map((i) => instanceOutput(ctx, s, i)),
  };
}

export function resolveTemplate(
  ctx: SandboxContext,
  ref: { launchTemplateId?: string; launchTemplateName?: string; version?: string },
): {
  LaunchTemplateId: string;
  LaunchTemplateName: string;
  VersionNumber: number;
  data: Ec2Sdk.RequestLaunchTemplateData;
} {
  const lt = getLaunchTemplate(ec2State(ctx), ref);
  const v = getVersion(lt, ref.version);
  return {
    LaunchTemplateId: lt.LaunchTemplateId,
    LaunchTemplateName: lt.LaunchTemplateName,
    VersionNumber: v.VersionNumber,
    data: structuredClone(v.data),
  };
}

function instanceFilterValues(
  ctx: SandboxContext,
  s: Ec2State,
  i: StoredInstance,
  name: string,
): (string | number | undefined)[] | undefined {
  const groups = i.SecurityGroupIds ?? [];
  const table: Record<string, (string | number | undefined)[]> = {
    'instance-id': [i.InstanceId],
    'instance-state-name': [i.state],
    'instance-state-code': [STATE_CODES[i.state]],
    'instance-type': [i.InstanceType],
    'image-id': [i.ImageId],
    'vpc-id': [i.VpcId],
    'subnet-id': [i.SubnetId],
    'network-interface.subnet-id': [i.SubnetId],
    'availability-zone': [i.AvailabilityZone],
    'placement.availability-zone': [i.AvailabilityZone] as never,
    'private-ip-address': [i.PrivateIpAddress],
    'ip-address': [s?.sshEndpoints?.[i.InstanceId]?.host ?? i.PublicIpAddress],
    'private-dns-name': [i.PrivateIpAddress && privateDnsName(ctx.region, i.PrivateIpAddress)],
    'key-name': [i.KeyName],
    'reservation-id': [i.ReservationId],
    'owner-id': [ctx.sb.state.accountId],
    'instance.group-id': groups,
    'group-id': groups,
    'instance.group-name': groups.map((g) => s?.securityGroups?.[g]?.GroupName),
    'group-name': groups.map((g) => s?.securityGroups?.[g]?.GroupName),
    'iam-instance-profile.arn': [i.IamInstanceProfileArn],
    'instance-lifecycle': [i.Spot ? 'spot' : undefined],
    'launch-template-id': [i.LaunchTemplate?.LaunchTemplateId],
    'launch-template-name': [i.LaunchTemplate?.LaunchTemplateName],
    'client-token': [i.ClientToken],
    architecture: [i.InstanceType && instanceTypeInfo(i.InstanceType)?.architecture],
    'metadata-options.http-tokens': [i.MetadataOptions?.HttpTokens],
  };
  return table[name];
}

const describeInstances: Handler<'DescribeInstances'> = (ctx, input) => {
  const s = ec2State(ctx);
  const ids: string[] = input.InstanceIds ?? [];
  if (ids.length && input.MaxResults !== undefined) {
    throw awsError(
      'InvalidParameterCombination',
      'The parameter instancesSet cannot be used with the parameter maxResults',
    );
  }
  if (input.MaxResults !== undefined && (input.MaxResults < 5 || input.MaxResults > 1000)) {
    throw awsError(
      'InvalidParameterValue',
      `Value ( ${input.MaxResults} ) for parameter maxResults is invalid. Expecting a value between 5 and 1000.`,
    );
  }
  checkInstanceIds(s, ids);
  const instances = applyFilters(
    Object.values(s.instances)
      .filter((i) => ids.length === 0 || ids.includes(i.InstanceId))
      .sort((a, b) => a.launchedAt - b.launchedAt || a.InstanceId.localeCompare(b.InstanceId)),
    input.Filters,
    (i, name) => instanceFilterValues(ctx, s, i, name),
  );
  const { page, nextToken } = paginate(instances, input.NextToken, input.MaxResults);
  const reservations: Ec2Sdk.Reservation[] = [];
  const byId = new Map<string, Ec2Sdk.Reservation & { Instances: Ec2Sdk.Instance[] }>();
  for (const inst of page) {
    let r = byId.get(inst.ReservationId);
    if (!r) {
      r = { ReservationId: inst.ReservationId, OwnerId: ctx.sb.state.accountId, Groups: [], Instances: [] };
      byId.set(inst.ReservationId, r);
      reservations.push(r);
    }
    r.Instances.push(instanceOutput(ctx, s, inst));
  }
  return { Reservations: reservations, NextToken: nextToken };
};

function statusOf(ctx: SandboxContext, inst: StoredInstance): Ec2Sdk.SummaryStatus {
  if (inst.state !== 'running') return 'not-applicable';
  if (behaviorApplies(ctx.sb.behavior.neverHealthy, inst.InstanceId, asgNameOf(inst))) return 'impaired';
  return 'ok';
}

const describeInstanceStatus: Handler<'DescribeInstanceStatus'> = (ctx, input) => {
  const s = ec2State(ctx);
  const ids: string[] = input.InstanceIds ?? [];
  checkInstanceIds(s, ids);
  const rows = Object.values(s.instances)
    .filter(
      (i) =>
        (ids.length === 0 || ids.includes(i.InstanceId)) &&
        (input.IncludeAllInstances === true || i.state === 'running'),
    )
    .sort((a, b) => a.launchedAt - b.launchedAt || a.InstanceId.localeCompare(b.InstanceId));
  const filtered = applyFilters(
    rows,
    input.Filters,
    (i, name) =>
      ({
        'instance-state-name': [i.state],
        'instance-state-code': [i.state && STATE_CODES[i.state]],
        'availability-zone': [i.AvailabilityZone],
        'instance-status.status': [i.state && statusOf(ctx, i)],
        'system-status.status': [i.state && (i.state === 'running' ? 'ok' : 'not-applicable')],
      })[name],
  );
  const { page, nextToken } = paginate(filtered, input.NextToken, input.MaxResults);
  return {
    InstanceStatuses: page.map((i) => {
      const status = statusOf(ctx, i);
      const detail = status === 'ok' ? 'passed' : status === 'impaired' ? 'failed' : 'initializing';
      return {
        InstanceId: i.InstanceId,
        AvailabilityZone: i.AvailabilityZone,
        InstanceState: { Code: STATE_CODES[i.state], Name: i.state },
        InstanceStatus: {
          Status: status,
          Details: status === 'not-applicable' ? [] : [{ Name: 'reachability' as const, Status: detail }],
        },
        SystemStatus: {
          Status: i.state === 'running' ? ('ok' as const) : ('not-applicable' as const),
          Details: i.state === 'running' ? [{ Name: 'reachability' as const, Status: 'passed' as const }] : [],
        },
        Events: [],
      };
    }),
    NextToken: nextToken,
  };
};

/** Starts shutting an instance down (idempotent); returns the previous state. */
export function beginTermination(ctx: SandboxContext, inst: StoredInstance): StoredInstance['state'] {
  const previous = inst.state;
  if (inst.state === 'terminated' || inst.state === 'shutting-down') return previous;
  if (inst.state === 'stopped') {
    inst.state = 'terminated';
    inst.shuttingDownAt = ctx.now;
    inst.terminatedAt = ctx.now;
    return previous;
  }
  inst.state = 'shutting-down';
  inst.shuttingDownAt = ctx.now;
  inst.terminatedAt = ctx.now + ctx.sb.behavior.timings.instanceShutdownMs;
  return previous;
}

const terminateInstances: Handler<'TerminateInstances'> = (ctx, input) => {
  const s = ec2State(ctx);
  const ids: string[] = required(input.InstanceIds, 'InstanceIds');
  checkInstanceIds(s, ids);
  return {
    TerminatingInstances: ids.map((id) => {
      const inst = s.instances[id];
      const previous = beginTermination(ctx, inst);
      return {
        InstanceId: id,
        PreviousState: { Code: STATE_CODES[previous], Name: previous },
        CurrentState: { Code: STATE_CODES[inst.state], Name: inst.state },
      };
    }),
  };
};

const stopInstances: Handler<'StopInstances'> = (ctx, input) => {
  const s = ec2State(ctx);
  const ids: string[] = required(input.InstanceIds, 'InstanceIds');
  checkInstanceIds(s, ids);
  return {
    StoppingInstances: ids.map((id) => {
      const inst = s.instances[id];
      const previous = inst.state;
      if (inst.Spot)
        throw awsError(
          'UnsupportedOperation',
          `The instance '${id}' is a spot instance and cannot be stopped.`,
        );
      if (inst.state === 'terminated' || inst.state === 'shutting-down') {
        throw awsError(
          'IncorrectInstanceState',
          `This instance '${id}' is not in a state from which it can be stopped.`,
        );
      }
      inst.state = 'stopped';
      return {
        InstanceId: id,
        PreviousState: { Code: STATE_CODES[previous], Name: previous },
        CurrentState: { Code: 64, Name: 'stopping' },
      };
    }),
  };
};

const startInstances: Handler<'StartInstances'> = (ctx, input) => {
  const s = ec2State(ctx);
  const ids: string[] = required(input.InstanceIds, 'InstanceIds');
  checkInstanceIds(s, ids);
  return {
    StartingInstances: ids.map((id) => {
      const inst = s.instances[id];
      const previous = inst.state;
      if (inst.state === 'terminated' || inst.state === 'shutting-down') {
        throw awsError(
          'IncorrectInstanceState',
          `The instance '${id}' is not in a state from which it can be started.`,
        );
      }
      if (inst.state === 'stopped') {
        inst.state = 'pending';
        inst.runningAt = ctx.now + ctx.sb.behavior.timings.instanceBootMs;
      }
      return {
        InstanceId: id,
        PreviousState: { Code: STATE_CODES[previous], Name: previous },
        CurrentState: { Code: STATE_CODES[inst.state], Name: inst.state },
      };
    }),
  };
};

/** Console output once the instance has booted: cloud-init's banner and the SSH host key fingerprints. */
export function consoleText(ctx: SandboxContext, s: Ec2State, inst: StoredInstance): string {
  const host = privateDnsName(ctx.region, inst.PrivateIpAddress).split('.')[0];
  const bootSeconds = ((inst.runningAt - inst.launchedAt) / 1000).toFixed(2);
  return [
    `[    0.000000] Linux version 6.1.119-129.201.amzn2023.x86_64 (mockbuild@sandbox)`,
    `[    2.412871] cloud-init[1602]: Cloud-init v. 22.2.2 running 'init' at ${new Date(inst.launchedAt).toUTCString()}.`,
    `ci-info: ++++++++++++++++++++++++Net device info++++++++++++++++++++++++`,
    `ci-info: | ens5 | True | ${inst.PrivateIpAddress} |`,
    `<14>Dec  1 00:00:00 cloud-init: #############################################################`,
    `<14>Dec  1 00:00:00 cloud-init: -----BEGIN SSH HOST KEY FINGERPRINTS-----`,
    `<14>Dec  1 00:00:00 cloud-init: 256 ${hostKeyFingerprint(s, inst.InstanceId)} root@${host} (ED25519)`,
    `<14>Dec  1 00:00:00 cloud-init: -----END SSH HOST KEY FINGERPRINTS-----`,
    `<14>Dec  1 00:00:00 cloud-init: #############################################################`,
    `-----BEGIN SSH HOST KEY FINGERPRINTS-----`,
    `256 ${hostKeyFingerprint(s, inst.InstanceId)} root@${host} (ED25519)`,
    `-----END SSH HOST KEY FINGERPRINTS-----`,
    `Cloud-init v. 22.2.2 finished. Datasource DataSourceEc2.  Up ${bootSeconds} seconds`,
    '',
  ].join('\n');
}

const getConsoleOutput: Handler<'GetConsoleOutput'> = (ctx, input) => {
  const s = ec2State(ctx);
  const inst = getInstanceOrThrow(s, required<string>(input.InstanceId, 'InstanceId'));
  // Console output is captured only after boot, and stays available after termination.
  const booted = inst.state !== 'pending' && ctx.now >= inst.runningAt;
  return {
    InstanceId: inst.InstanceId,
    Timestamp: new Date(booted ? inst.runningAt : ctx.now),
    Output: booted ? Buffer.from(consoleText(ctx, s, inst)).toString('base64') : undefined,
  };
};

/** DescribeInstanceCreditSpecifications: the CPU credit option of burstable instances (others are left out). */
const describeInstanceCreditSpecifications: Handler<'DescribeInstanceCreditSpecifications'> = (ctx, input) => {
  const s = ec2State(ctx);
  const ids: string[] = input.InstanceIds ?? [];
  for (const id of ids) {
    if (!s.instances[id]) throw awsError('InvalidInstanceID.NotFound', `The instance ID '${id}' does not exist`);
  }
  const chosen = ids.length ? ids.map((id) => s.instances[id]) : Object.values(s.instances);
  return {
    InstanceCreditSpecifications: chosen
      .filter((i) => i.CpuCredits !== undefined)
      .map((i) => ({ InstanceId: i.InstanceId, CpuCredits: i.CpuCredits })),
  };
};

const modifyInstanceMetadataOptions: Handler<'ModifyInstanceMetadataOptions'> = (ctx, input) => {
  const s = ec2State(ctx);
  const inst = getInstanceOrThrow(s, required<string>(input.InstanceId, 'InstanceId'));
  if (input.HttpTokens !== undefined) inst.MetadataOptions.HttpTokens = input.HttpTokens;
  if (input.HttpPutResponseHopLimit !== undefined)
    inst.MetadataOptions.HttpPutResponseHopLimit = input.HttpPutResponseHopLimit;
  if (input.HttpEndpoint !== undefined) inst.MetadataOptions.HttpEndpoint = input.HttpEndpoint;
  return {
    InstanceId: inst.InstanceId,
    InstanceMetadataOptions: { State: 'pending' as const, ...inst.MetadataOptions },
  };
};

export const instanceOperations = {
  RunInstances: runInstances,
  DescribeInstances: describeInstances,
  DescribeInstanceStatus: describeInstanceStatus,
  TerminateInstances: terminateInstances,
  StopInstances: stopInstances,
  StartInstances: startInstances,
  GetConsoleOutput: getConsoleOutput,
  ModifyInstanceMetadataOptions: modifyInstanceMetadataOptions,
  DescribeInstanceCreditSpecifications: describeInstanceCreditSpecifications,
} satisfies OperationsOf<typeof Ec2Sdk>;
