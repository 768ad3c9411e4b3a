// The EC2 state of one region (JSON-serialisable: times are ms numbers) and the default account
// every region starts with: default VPC, three default subnets, the VPC's default security group and
// the `sandbox` key pair. Public AMIs are not state: they come from src/sandbox/defaults.ts.
import { createHash } from 'node:crypto';
import type * as Ec2Sdk from '@aws-sdk/client-ec2';
import type { SandboxContext } from '../../account';
import {
  DEFAULT_KEY_PAIR_NAME,
  DEFAULT_SUBNET_CIDRS,
  DEFAULT_VPC_CIDR,
  DEFAULT_ZONE_SUFFIXES,
} from '../../defaults';

export interface Tag {
  Key: string;
  Value: string;
}

export interface Vpc {
  VpcId: string;
  CidrBlock: string;
  IsDefault: boolean;
  Tags: Tag[];
  CidrBlockAssociationId: string;
  DhcpOptionsId: string;
}

export interface Subnet {
  SubnetId: string;
  VpcId: string;
  CidrBlock: string;
  AvailabilityZone: string;
  DefaultForAz: boolean;
  MapPublicIpOnLaunch: boolean;
  Tags: Tag[];
  /** Next host offset handed out for a private IP (AWS reserves the first four addresses). */
  nextHost: number;
}

export interface SecurityGroupRule {
  SecurityGroupRuleId: string;
  IsEgress: boolean;
  IpProtocol: string;
  FromPort: number;
  ToPort: number;
  CidrIpv4?: string;
  CidrIpv6?: string;
  ReferencedGroupId?: string;
  Description?: string;
}

export interface SecurityGroup {
  GroupId: string;
  GroupName: string;
  Description: string;
  VpcId: string;
  Tags: Tag[];
  rules: SecurityGroupRule[];
}

export interface KeyPair {
  KeyPairId: string;
  KeyName: string;
  KeyFingerprint: string;
  KeyType: Ec2Sdk.KeyType;
  createdAt: number;
  Tags: Tag[];
  isDefault: boolean;
}

export interface LaunchTemplateVersion {
  VersionNumber: number;
  VersionDescription?: string;
  createdAt: number;
  data: Ec2Sdk.RequestLaunchTemplateData;
}

export interface LaunchTemplate {
  LaunchTemplateId: string;
  LaunchTemplateName: string;
  createdAt: number;
  DefaultVersionNumber: number;
  LatestVersionNumber: number;
  Tags: Tag[];
  versions: Record<string, LaunchTemplateVersion>;
}

/** An instance as the internal API (Auto Scaling, ELBv2, SSM, the instance model) sees it. */
export interface SbInstance {
  InstanceId: string;
  ImageId: string;
  InstanceType: Ec2Sdk._InstanceType;
  state: 'pending' | 'running' | 'shutting-down' | 'terminated' | 'stopped';
  launchedAt: number;
  runningAt: number;
  /** When the instance reaches (or reached) `terminated`; set when termination is requested. */
  terminatedAt?: number;
  SubnetId: string;
  VpcId: string;
  AvailabilityZone: string;
  PrivateIpAddress: string;
  PublicIpAddress?: string;
  SecurityGroupIds: string[];
  IamInstanceProfileArn?: string;
  KeyName?: string;
  Tags: Tag[];
  LaunchTemplate?: { LaunchTemplateId: string; LaunchTemplateName: string; Version: string };
  UserData?: string;
  Spot?: boolean;
  /**
   * Instance side (src/sandbox/instanceModel.ts), decided once the instance runs: whether this control
   * plane is a member of its cluster (it initialised it or joins a server) or refused to initialise.
   */
  k3sJoin?: 'member' | 'refused';
}

/** A simulated instance: the internal API's SbInstance plus what only DescribeInstances needs. */
export interface StoredInstance extends SbInstance {
  ReservationId: string;
  ClientToken?: string;
  AmiLaunchIndex: number;
  MetadataOptions: {
    HttpTokens: Ec2Sdk.HttpTokensState;
    HttpPutResponseHopLimit: number;
    HttpEndpoint: Ec2Sdk.InstanceMetadataEndpointState;
  };
  /** CPU credit option of a burstable instance (DescribeInstanceCreditSpecifications); undefined for other types. */
  CpuCredits?: string;
  /** When a termination was requested (shutting-down began). */
  shuttingDownAt?: number;
  stateReason?: string;
}

export interface SshEndpoint {
  host: string;
  port: number;
  hostKeyFingerprint: string;
}

export interface Ec2State {
  vpcs: Record<string, Vpc>;
  subnets: Record<string, Subnet>;
  securityGroups: Record<string, SecurityGroup>;
  keyPairs: Record<string, KeyPair>;
  launchTemplates: Record<string, LaunchTemplate>;
  instances: Record<string, StoredInstance>;
  /** RunInstances ClientToken -> reservation, with a digest of the request for mismatch detection. */
  runTokens: Record<string, { reservationId: string; instanceIds: string[]; digest: string }>;
  /** CreateLaunchTemplate(Version) ClientToken -> launch template id and version. */
  templateTokens: Record<string, { launchTemplateId: string; version: number; digest: string }>;
  /** Public IPv4 allocator. */
  publicIpSeq: number;
  /** Instances mapped to a real SSH server (tests of the SSH kubeconfig path). */
  sshEndpoints: Record<string, SshEndpoint>;
}

export function digest(value: unknown): string {
  return createHash('sha256')
    .update(JSON.stringify(value ?? null))
    .digest('hex')
    .slice(0, 32);
}

export function ipToInt(ip: string): number {
  return ip.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
}

export function intToIp(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

export function parseCidr(cidr: string): { base: number; prefix: number; size: number } | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr);
  if (!m || m.slice(1, 5).some((o) => Number(o) > 255) || Number(m[5]) > 32) return undefined;
  const prefix = Number(m[5]);
  const size = 2 ** (32 - prefix);
  const base = ipToInt(m.slice(1, 5).join('.'));
  if (base % size !== 0) return undefined;
  return { base, prefix, size };
}

export function cidrContains(outer: string, inner: string): boolean {
  const o = parseCidr(outer);
  const i = parseCidr(inner);
  return !!o && !!i && i.prefix >= o.prefix && i.base >= o.base && i.base + i.size <= o.base + o.size;
}

export function cidrsOverlap(a: string, b: string): boolean {
  const x = parseCidr(a);
  const y = parseCidr(b);
  return !!x && !!y && x.base < y.base + y.size && y.base < x.base + x.size;
}

/** The egress rule every new security group starts with: all traffic to 0.0.0.0/0. */
export function allowAllEgressRule(ctx: SandboxContext): SecurityGroupRule {
  return {
    SecurityGroupRuleId: ctx.sb.newId('sgr-'),
    IsEgress: true,
    IpProtocol: '-1',
    FromPort: -1,
    ToPort: -1,
    CidrIpv4: '0.0.0.0/0',
  };
}

export function defaultSecurityGroupRules(ctx: SandboxContext, groupId: string): SecurityGroupRule[] {
  return [
    {
      SecurityGroupRuleId: ctx.sb.newId('sgr-'),
      IsEgress: false,
      IpProtocol: '-1',
      FromPort: -1,
      ToPort: -1,
      ReferencedGroupId: groupId,
    },
    allowAllEgressRule(ctx),
  ];
}

/** A VPC's `default` security group (created with every VPC, deleted with it). */
export function createDefaultSecurityGroup(ctx: SandboxContext, s: Ec2State, vpcId: string): SecurityGroup {
  const GroupId = ctx.sb.newId('sg-');
  const group: SecurityGroup = {
    GroupId,
    GroupName: 'default',
    Description: 'default VPC security group',
    VpcId: vpcId,
    Tags: [],
    rules: defaultSecurityGroupRules(ctx, GroupId),
  };
  s.securityGroups[GroupId] = group;
  return group;
}

function initEc2State(ctx: SandboxContext): Ec2State {
  const s: Ec2State = {
    vpcs: {},
    subnets: {},
    securityGroups: {},
    keyPairs: {},
    launchTemplates: {},
    instances: {},
    runTokens: {},
    templateTokens: {},
    publicIpSeq: 1,
    sshEndpoints: {},
  };
  const VpcId = ctx.sb.newId('vpc-');
  s.vpcs[VpcId] = {
    VpcId,
    CidrBlock: DEFAULT_VPC_CIDR,
    IsDefault: true,
    Tags: [],
    CidrBlockAssociationId: ctx.sb.newId('vpc-cidr-assoc-'),
    DhcpOptionsId: ctx.sb.newId('dopt-'),
  };
  DEFAULT_SUBNET_CIDRS.forEach((CidrBlock, i) => {
    const SubnetId = ctx.sb.newId('subnet-');
    s.subnets[SubnetId] = {
      SubnetId,
      VpcId,
      CidrBlock,
      AvailabilityZone: `${ctx.region}${DEFAULT_ZONE_SUFFIXES[i]}`,
      DefaultForAz: true,
      MapPublicIpOnLaunch: true,
      Tags: [],
      nextHost: 4,
    };
  });
  createDefaultSecurityGroup(ctx, s, VpcId);
  const fingerprint = createHash('sha256')
    .update(`sandbox-key-${ctx.region}`)
    .digest('base64')
    .replace(/=+$/, '');
  s.keyPairs[DEFAULT_KEY_PAIR_NAME] = {
    KeyPairId: ctx.sb.newId('key-'),
    KeyName: DEFAULT_KEY_PAIR_NAME,
    KeyFingerprint: fingerprint,
    KeyType: 'ed25519',
    createdAt: ctx.sb.state.now,
    Tags: [],
    isDefault: true,
  };
  return s;
}

export function ec2State(ctx: SandboxContext): Ec2State {
  return ctx.sb.serviceState<Ec2State>('ec2', ctx.region, () => initEc2State(ctx));
}

export function defaultVpc(s: Ec2State): Vpc | undefined {
  return Object.values(s.vpcs).find((v) => v.IsDefault);
}

export function tagsFrom(
  specs: { ResourceType?: string; Tags?: { Key?: string; Value?: string }[] }[] | undefined,
  resourceType: string,
): Tag[] {
  const out: Tag[] = [];
  for (const spec of specs ?? []) {
    if (spec.ResourceType !== resourceType) continue;
    for (const t of spec.Tags ?? []) mergeTag(out, { Key: t.Key ?? '', Value: t.Value ?? '' });
  }
  return out;
}

export function mergeTag(tags: Tag[], tag: Tag): void {
  const existing = tags.find((t) => t.Key === tag.Key);
  if (existing) existing.Value = tag.Value;
  else tags.push({ ...tag });
}
