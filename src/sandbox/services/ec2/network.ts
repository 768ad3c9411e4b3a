// VPCs, subnets and key pairs.
import { createHash } from 'node:crypto';
import { awsError, required } from '../../errors';
import { paginate } from '../../pagination';
import type { SandboxContext } from '../../account';
import { applyFilters } from './filters';
import { zoneId, zonesOf } from './catalog';
import {
  cidrContains,
  cidrsOverlap,
  createDefaultSecurityGroup,
  ec2State,
  parseCidr,
  tagsFrom,
  type Ec2State,
  type KeyPair,
  type Subnet,
  type Tag,
  type Vpc,
} from './state';
import { validateTagSpecifications } from './tagging';
import type * as Ec2Sdk from '@aws-sdk/client-ec2';
import type { HandlerOf, OperationsOf, SdkOperation } from '../../service';

type Handler<Op extends SdkOperation<typeof Ec2Sdk>> = HandlerOf<typeof Ec2Sdk, Op>;

export function getVpc(s: Ec2State, vpcId: string): Vpc {
  const vpc = s.vpcs[vpcId];
  if (!vpc) throw awsError('InvalidVpcID.NotFound', `The vpc ID '${vpcId}' does not exist`);
  return vpc;
}

export function getSubnet(s: Ec2State, subnetId: string): Subnet {
  const subnet = s.subnets[subnetId];
  if (!subnet) throw awsError('InvalidSubnetID.NotFound', `The subnet ID '${subnetId}' does not exist`);
  return subnet;
}

function vpcOutput(ctx: SandboxContext, v: Vpc): Ec2Sdk.Vpc {
  return {
    VpcId: v.VpcId,
    CidrBlock: v.CidrBlock,
    State: 'available',
    DhcpOptionsId: v.DhcpOptionsId,
    InstanceTenancy: 'default',
    IsDefault: v.IsDefault,
    OwnerId: ctx.sb.state.accountId,
    CidrBlockAssociationSet: [
      {
        AssociationId: v.CidrBlockAssociationId,
        CidrBlock: v.CidrBlock,
        CidrBlockState: { State: 'associated' },
      },
    ],
    Tags: v.Tags.length ? v.Tags : undefined,
  };
}

function subnetOutput(ctx: SandboxContext, s: Ec2State, sn: Subnet): Ec2Sdk.Subnet {
  const cidr = parseCidr(sn.CidrBlock);
  const used = Object.values(s.instances).filter(
    (i) => i.SubnetId === sn.SubnetId && i.state !== 'terminated',
  ).length;
  return {
    SubnetId: sn.SubnetId,
    VpcId: sn.VpcId,
    CidrBlock: sn.CidrBlock,
    AvailabilityZone: sn.AvailabilityZone,
    AvailabilityZoneId: zoneId(ctx.region, sn.AvailabilityZone),
    AvailableIpAddressCount: (cidr ? cidr.size - 5 : 0) - used,
    DefaultForAz: sn.DefaultForAz,
    MapPublicIpOnLaunch: sn.MapPublicIpOnLaunch,
    State: 'available',
    OwnerId: ctx.sb.state.accountId,
    SubnetArn: `arn:aws:ec2:${ctx.region}:${ctx.sb.state.accountId}:subnet/${sn.SubnetId}`,
    AssignIpv6AddressOnCreation: false,
    Ipv6CidrBlockAssociationSet: [],
    Tags: sn.Tags.length ? sn.Tags : undefined,
  };
}

const describeVpcs: Handler<'DescribeVpcs'> = (ctx, input) => {
  const s = ec2State(ctx);
  const ids: string[] = input.VpcIds ?? [];
  for (const id of ids) getVpc(s, id);
  const vpcs = applyFilters(
    Object.values(s.vpcs).filter((v) => ids.length === 0 || ids.includes(v.VpcId)),
    input.Filters,
    (v, name) =>
      ({
        'vpc-id': [v.VpcId],
        'cidr-block': [v.CidrBlock],
        cidr: [v.CidrBlock],
        'cidr-block-association.cidr-block': [v.CidrBlock],
        'is-default': [String(v.IsDefault)],
        isDefault: [String(v.IsDefault)],
        state: ['available'],
        'owner-id': [ctx.sb.state.accountId],
        'dhcp-options-id': [v.DhcpOptionsId],
      })[name],
  );
  const { page, nextToken } = paginate(vpcs, input.NextToken, input.MaxResults);
  return { Vpcs: page.map((v) => vpcOutput(ctx, v)), NextToken: nextToken };
};

const createVpc: Handler<'CreateVpc'> = (ctx, input) => {
  const cidr = required<string>(input.CidrBlock, 'CidrBlock');
  const parsed = parseCidr(cidr);
  if (!parsed)
    throw awsError(
      'InvalidParameterValue',
      `Value (${cidr}) for parameter cidrBlock is invalid. This is not a valid CIDR block.`,
    );
  if (parsed.prefix < 16 || parsed.prefix > 28)
    throw awsError('InvalidVpc.Range', `The CIDR '${cidr}' is invalid.`);
  validateTagSpecifications(input.TagSpecifications, 'vpc');
  const s = ec2State(ctx);
  const VpcId = ctx.sb.newId('vpc-');
  const vpc: Vpc = {
    VpcId,
    CidrBlock: cidr,
    IsDefault: false,
    Tags: tagsFrom(input.TagSpecifications, 'vpc'),
    CidrBlockAssociationId: ctx.sb.newId('vpc-cidr-assoc-'),
    DhcpOptionsId: Object.values(s.vpcs)[0]?.DhcpOptionsId ?? ctx.sb.newId('dopt-'),
  };
  s.vpcs[VpcId] = vpc;
  createDefaultSecurityGroup(ctx, s, VpcId);
  return { Vpc: { ...vpcOutput(ctx, vpc), State: 'pending' } };
};

const deleteVpc: Handler<'DeleteVpc'> = (ctx, input) => {
  const id = required<string>(input.VpcId, 'VpcId');
  const s = ec2State(ctx);
  getVpc(s, id);
  const dependents = [
    ...Object.values(s.subnets).filter((sn) => sn.VpcId === id),
    ...Object.values(s.securityGroups).filter((g) => g.VpcId === id && g.GroupName !== 'default'),
    ...Object.values(s.instances).filter((i) => i.VpcId === id && i.state !== 'terminated'),
  ];
  if (dependents.length) {
    throw awsError('DependencyViolation', `The vpc '${id}' has dependencies and cannot be deleted.`);
  }
  for (const g of Object.values(s.securityGroups)) if (g.VpcId === id) delete s.securityGroups[g.GroupId];
  delete s.vpcs[id];
  return {};
};

const describeSubnets: Handler<'DescribeSubnets'> = (ctx, input) => {
  const s = ec2State(ctx);
  const ids: string[] = input.SubnetIds ?? [];
  for (const id of ids) getSubnet(s, id);
  const subnets = applyFilters(
    Object.values(s.subnets).filter((sn) => ids.length === 0 || ids.includes(sn.SubnetId)),
    input.Filters,
    (sn, name) =>
      ({
        'subnet-id': [sn.SubnetId],
        'vpc-id': [sn.VpcId],
        vpcId: [sn.VpcId],
        'availability-zone': [sn.AvailabilityZone],
        availabilityZone: [sn.AvailabilityZone],
        'availability-zone-id': [zoneId(ctx.region, sn.AvailabilityZone)],
        'cidr-block': [sn.CidrBlock],
        cidr: [sn.CidrBlock],
        cidrBlock: [sn.CidrBlock],
        'default-for-az': [String(sn.DefaultForAz)],
        defaultForAz: [String(sn.DefaultForAz)],
        'map-public-ip-on-launch': [String(sn.MapPublicIpOnLaunch)],
        state: ['available'],
        'owner-id': [ctx.sb.state.accountId],
      })[name],
  );
  const { page, nextToken } = paginate(subnets, input.NextToken, input.MaxResults);
  return { Subnets: page.map((sn) => subnetOutput(ctx, s, sn)), NextToken: nextToken };
};

const createSubnet: Handler<'CreateSubnet'> = (ctx, input) => {
  const vpcId = required<string>(input.VpcId, 'VpcId');
  const cidr = required<string>(input.CidrBlock, 'CidrBlock');
  const s = ec2State(ctx);
  const vpc = getVpc(s, vpcId);
  if (!parseCidr(cidr))
    throw awsError(
      'InvalidParameterValue',
      `Value (${cidr}) for parameter cidrBlock is invalid. This is not a valid CIDR block.`,
    );
  if (!cidrContains(vpc.CidrBlock, cidr))
    throw awsError('InvalidSubnet.Range', `The CIDR '${cidr}' is invalid.`);
  if (Object.values(s.subnets).some((sn) => sn.VpcId === vpcId && cidrsOverlap(sn.CidrBlock, cidr))) {
    throw awsError('InvalidSubnet.Conflict', `The CIDR '${cidr}' conflicts with another subnet`);
  }
  const zones = zonesOf(ctx.region);
  const zone: string = input.AvailabilityZone ?? zones[0];
  if (!zones.includes(zone))
    throw awsError(
      'InvalidParameterValue',
      `Value (${zone}) for parameter availabilityZone is invalid. Subnets can currently only be created in the following availability zones: ${zones.join(', ')}.`,
    );
  validateTagSpecifications(input.TagSpecifications, 'subnet');
  const SubnetId = ctx.sb.newId('subnet-');
  const subnet: Subnet = {
    SubnetId,
    VpcId: vpcId,
    CidrBlock: cidr,
    AvailabilityZone: zone,
    DefaultForAz: false,
    MapPublicIpOnLaunch: false,
    Tags: tagsFrom(input.TagSpecifications, 'subnet'),
    nextHost: 4,
  };
  s.subnets[SubnetId] = subnet;
  return { Subnet: { ...subnetOutput(ctx, s, subnet), State: 'pending' } };
};

const deleteSubnet: Handler<'DeleteSubnet'> = (ctx, input) => {
  const id = required<string>(input.SubnetId, 'SubnetId');
  const s = ec2State(ctx);
  getSubnet(s, id);
  if (Object.values(s.instances).some((i) => i.SubnetId === id && i.state !== 'terminated')) {
    throw awsError('DependencyViolation', `The subnet '${id}' has dependencies and cannot be deleted.`);
  }
  delete s.subnets[id];
  return {};
};

const modifySubnetAttribute: Handler<'ModifySubnetAttribute'> = (ctx, input) => {
  const s = ec2State(ctx);
  const subnet = getSubnet(s, required<string>(input.SubnetId, 'SubnetId'));
  if (input.MapPublicIpOnLaunch?.Value !== undefined)
    subnet.MapPublicIpOnLaunch = input.MapPublicIpOnLaunch.Value === true;
  return {};
};

const describeKeyPairs: Handler<'DescribeKeyPairs'> = (ctx, input) => {
  const s = ec2State(ctx);
  const names: string[] = input.KeyNames ?? [];
  const ids: string[] = input.KeyPairIds ?? [];
  for (const n of names)
    if (!s.keyPairs[n]) throw awsError('InvalidKeyPair.NotFound', `The key pair '${n}' does not exist`);
  for (const id of ids) {
    if (!Object.values(s.keyPairs).some((k) => k.KeyPairId === id))
      throw awsError('InvalidKeyPair.NotFound', `The key pair '${id}' does not exist`);
  }
  const pairs = applyFilters(
    Object.values(s.keyPairs).filter(
      (k) =>
        (names.length === 0 || names.includes(k.KeyName)) && (ids.length === 0 || ids.includes(k.KeyPairId)),
    ),
    input.Filters,
    (k, name) =>
      ({
        'key-name': [k.KeyName],
        'key-pair-id': [k.KeyPairId],
        fingerprint: [k.KeyFingerprint],
        'key-type': [k.KeyType],
      })[name],
  );
  return {
    KeyPairs: pairs.map((k) => ({
      KeyPairId: k.KeyPairId,
      KeyName: k.KeyName,
      KeyFingerprint: k.KeyFingerprint,
      KeyType: k.KeyType,
      CreateTime: new Date(k.createdAt),
      Tags: k.Tags,
    })),
  };
};

function keyFingerprint(seed: string): string {
  return createHash('sha256').update(seed).digest('base64').replace(/=+$/, '');
}

function addKeyPair(
  ctx: SandboxContext,
  input: { KeyName?: string; KeyType?: Ec2Sdk.KeyType; TagSpecifications?: Ec2Sdk.TagSpecification[] },
  material: string,
): KeyPair {
  const name = required<string>(input.KeyName, 'KeyName');
  if (name.length > 255)
    throw awsError('InvalidParameterValue', 'Key pair names are limited to 255 characters.');
  const s = ec2State(ctx);
  if (s.keyPairs[name]) throw awsError('InvalidKeyPair.Duplicate', `The keypair '${name}' already exists.`);
  validateTagSpecifications(input.TagSpecifications, 'key-pair');
  const pair: KeyPair = {
    KeyPairId: ctx.sb.newId('key-'),
    KeyName: name,
    KeyFingerprint: keyFingerprint(material),
    KeyType: input.KeyType ?? (material.startsWith('ssh-ed25519') ? 'ed25519' : 'rsa'),
    createdAt: ctx.now,
    Tags: tagsFrom(input.TagSpecifications, 'key-pair'),
    isDefault: false,
  };
  s.keyPairs[name] = pair;
  return pair;
}

const createKeyPair: Handler<'CreateKeyPair'> = (ctx, input) => {
  const pair = addKeyPair(ctx, input, `generated/${input.KeyName}/${ctx.now}`);
  const body = createHash('sha512').update(pair.KeyPairId).digest('base64');
  return {
    KeyPairId: pair.KeyPairId,
    KeyName: pair.KeyName,
    KeyFingerprint: pair.KeyFingerprint,
    KeyMaterial: `-----BEGIN OPENSSH PRIVATE KEY-----\n${body}\n-----END OPENSSH PRIVATE KEY-----\n`,
    Tags: resourceTags(pair.Tags),
  };
};

const importKeyPair: Handler<'ImportKeyPair'> = (ctx, input) => {
  const raw = required<Uint8Array | string>(input.PublicKeyMaterial, 'PublicKeyMaterial');
  const material = typeof raw === 'string' ? raw : Buffer.from(raw).toString('utf8');
  if (!/^(ssh-(rsa|ed25519)|ecdsa-sha2-\S+) [A-Za-z0-9+/=]+/.test(material.trim())) {
    throw awsError('InvalidKey.Format', 'Key is not in valid OpenSSH public key format');
  }
  const pair = addKeyPair(ctx, input, material.trim());
  return {
    KeyPairId: pair.KeyPairId,
    KeyName: pair.KeyName,
    KeyFingerprint: pair.KeyFingerprint,
    Tags: resourceTags(pair.Tags),
  };
};

const deleteKeyPair: Handler<'DeleteKeyPair'> = (ctx, input) => {
  const s = ec2State(ctx);
  const pair = input.KeyPairId
    ? Object.values(s.keyPairs).find((k) => k.KeyPairId === input.KeyPairId)
    : s.keyPairs[required<string>(input.KeyName, 'KeyName')];
  // DeleteKeyPair of an unknown name succeeds, as in AWS.
  if (pair) delete s.keyPairs[pair.KeyName];
  return { Return: true, KeyPairId: pair?.KeyPairId };
};

export function resourceTags(tags: Tag[]): Tag[] | undefined {
  return tags.length ? tags : undefined;
}

export const networkOperations = {
  DescribeVpcs: describeVpcs,
  CreateVpc: createVpc,
  DeleteVpc: deleteVpc,
  DescribeSubnets: describeSubnets,
  CreateSubnet: createSubnet,
  DeleteSubnet: deleteSubnet,
  ModifySubnetAttribute: modifySubnetAttribute,
  DescribeKeyPairs: describeKeyPairs,
  CreateKeyPair: createKeyPair,
  ImportKeyPair: importKeyPair,
  DeleteKeyPair: deleteKeyPair,
} satisfies OperationsOf<typeof Ec2Sdk>;
