// Read-only lookups of external resources given by id or by human-readable values (the seed's first
// principle): VPC, subnets, AMI, instance types, key pair, ALB, hosted zone, a group's extra security
// groups and target groups. Each either returns exactly
// one match or throws a UserError naming the field and, when ambiguous, listing the candidates.
import {
  DescribeImagesCommand,
  DescribeInstanceTypeOfferingsCommand,
  DescribeInstanceTypesCommand,
  DescribeKeyPairsCommand,
  paginateDescribeSecurityGroups,
  paginateDescribeSubnets,
  paginateDescribeVpcs,
  type DescribeInstanceTypesCommandOutput,
  type Filter,
  type Image,
  type SecurityGroup,
  type Subnet,
  type Vpc,
} from '@aws-sdk/client-ec2';
import { GetParameterCommand } from '@aws-sdk/client-ssm';
import { DescribeTargetGroupsCommand, type TargetGroup } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { ListHostedZonesByNameCommandOutput } from '@aws-sdk/client-route-53';
import { GetHostedZoneCommand, ListHostedZonesByNameCommand } from '@aws-sdk/client-route-53';
import type { AwsClients } from './clients';
import { UserError, awsErrorCode, isAwsError } from '../core/errors';
import { tagValue } from './tags';

export type Architecture = 'x86_64' | 'arm64';

export interface ResolvedVpc {
  vpcId: string;
  cidr?: string;
  isDefault: boolean;
}

export interface ResolvedSubnet {
  subnetId: string;
  vpcId: string;
  availabilityZone: string;
  cidr?: string;
  /** Whether instances launched there get a public IPv4 address (they need one to use an internet gateway). */
  mapPublicIpOnLaunch?: boolean;
}

export interface ResolvedImage {
  imageId: string;
  name: string;
  architecture: Architecture;
  rootDeviceName: string;
}

function candidates(items: string[]): string {
  return items.slice(0, 10).join(', ') + (items.length > 10 ? `, ... (${items.length} in all)` : '');
}

async function describeVpcs(clients: AwsClients, input: { VpcIds?: string[]; Filters?: Filter[] }): Promise<Vpc[]> {
  const out: Vpc[] = [];
  for await (const page of paginateDescribeVpcs({ client: clients.ec2 }, input)) out.push(...(page.Vpcs ?? []));
  return out;
}

/** The VPC by id, Name tag or tags; the default VPC when nothing is given. */
export async function resolveVpc(clients: AwsClients, selector: { id?: string; name?: string; tags?: Record<string, string> }): Promise<ResolvedVpc> {
  let vpcs: Vpc[];
  let field: string;
  let what: string;
  if (selector.id) {
    field = '--vpc-id';
    what = `VPC ${selector.id}`;
    try {
      vpcs = await describeVpcs(clients, { VpcIds: [selector.id] });
    } catch (error) {
      if (awsErrorCode(error) === 'InvalidVpcID.NotFound') vpcs = [];
      else throw error;
    }
  } else if (selector.name) {
    field = '--vpc';
    what = `a VPC named '${selector.name}'`;
    vpcs = await describeVpcs(clients, { Filters: [{ Name: 'tag:Name', Values: [selector.name] }] });
  } else if (selector.tags && Object.keys(selector.tags).length) {
    field = '--vpc-tag';
    what = `a VPC tagged ${Object.entries(selector.tags).map(([k, v]) => `${k}=${v}`).join(', ')}`;
    vpcs = await describeVpcs(clients, { Filters: Object.entries(selector.tags).map(([k, v]) => ({ Name: `tag:${k}`, Values: [v] })) });
  } else {
    field = '--vpc-id';
    what = `the default VPC of ${clients.region}`;
    vpcs = await describeVpcs(clients, { Filters: [{ Name: 'is-default', Values: ['true'] }] });
  }
  if (vpcs.length === 0) throw new UserError(`${field}: found no ${what.replace(/^(a|the) /, '')} in ${clients.region}`, 'check the region and the VPC', field);
  if (vpcs.length > 1) {
    throw new UserError(
      `${field}: ${what} is ambiguous in ${clients.region}: ${candidates(vpcs.map((v) => `${v.VpcId}${tagValue(v.Tags, 'Name') ? ` (${tagValue(v.Tags, 'Name')})` : ''}`))}`,
      'give --vpc-id',
      field,
    );
  }
  const v = vpcs[0];
  return { vpcId: v.VpcId!, cidr: v.CidrBlock, isDefault: Boolean(v.IsDefault) };
}

async function describeSubnets(clients: AwsClients, input: { SubnetIds?: string[]; Filters?: Filter[] }): Promise<Subnet[]> {
  const out: Subnet[] = [];
  for await (const page of paginateDescribeSubnets({ client: clients.ec2 }, input)) out.push(...(page.Subnets ?? []));
  return out;
}

function toResolvedSubnet(s: Subnet): ResolvedSubnet {
  return { subnetId: s.SubnetId!, vpcId: s.VpcId!, availabilityZone: s.AvailabilityZone!, cidr: s.CidrBlock, mapPublicIpOnLaunch: s.MapPublicIpOnLaunch };
}

/** Subnets by ids (each must exist and be in the VPC) or by EC2 filters within the VPC; default: all of the VPC's. */
export async function resolveSubnets(
  clients: AwsClients,
  vpcId: string,
  selector: { ids?: string[]; filters?: Record<string, string[]> },
): Promise<ResolvedSubnet[]> {
  if (selector.ids?.length) {
    let found: Subnet[] = [];
    try {
      found = await describeSubnets(clients, { SubnetIds: selector.ids });
    } catch (error) {
      if (awsErrorCode(error) !== 'InvalidSubnetID.NotFound') throw error;
      // Find which one is missing, for the message.
      for (const id of selector.ids) {
        try {
          found.push(...(await describeSubnets(clients, { SubnetIds: [id] })));
        } catch (e) {
          if (awsErrorCode(e) === 'InvalidSubnetID.NotFound') throw new UserError(`--subnet-id: subnet ${id} does not exist in ${clients.region}`, undefined, '--subnet-id');
          throw e;
        }
      }
    }
    const missing = selector.ids.filter((id) => !found.some((s) => s.SubnetId === id));
    if (missing.length) throw new UserError(`--subnet-id: subnet ${missing.join(', ')} does not exist in ${clients.region}`, undefined, '--subnet-id');
    const outside = found.filter((s) => s.VpcId !== vpcId);
    if (outside.length) {
      throw new UserError(
        `--subnet-id: subnet ${outside.map((s) => `${s.SubnetId} (${s.VpcId})`).join(', ')} is not in VPC ${vpcId}`,
        'give subnets of the cluster VPC',
        '--subnet-id',
      );
    }
    return selector.ids.map((id) => toResolvedSubnet(found.find((s) => s.SubnetId === id)!));
  }
  const filters: Filter[] = [{ Name: 'vpc-id', Values: [vpcId] }];
  for (const [name, values] of Object.entries(selector.filters ?? {})) {
    if (name === 'vpc-id') continue;
    filters.push({ Name: name, Values: values });
  }
  let found: Subnet[];
  try {
    found = await describeSubnets(clients, { Filters: filters });
  } catch (error) {
    if (awsErrorCode(error) === 'InvalidParameterValue') {
      throw new UserError(`--subnet-filter: ${(error as Error).message}`, 'use EC2 DescribeSubnets filter names, e.g. availability-zone=us-east-1a', '--subnet-filter');
    }
    throw error;
  }
  if (found.length === 0) {
    const desc = selector.filters ? ` matching ${Object.entries(selector.filters).map(([k, v]) => `${k}=${v.join(',')}`).join(' ')}` : '';
    const field = selector.filters ? '--subnet-filter' : '--subnet-id';
    throw new UserError(`${field}: VPC ${vpcId} has no subnets${desc}`, undefined, field);
  }
  return found.map(toResolvedSubnet).sort((a, b) => a.availabilityZone.localeCompare(b.availabilityZone) || a.subnetId.localeCompare(b.subnetId));
}

/** The public SSM parameter of an OS alias for an architecture. */
export function osImageParameter(os: 'al2023' | 'ubuntu-24.04', arch: Architecture): string {
  if (os === 'al2023') return `/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-${arch}`;
  return `/aws/service/canonical/ubuntu/server/24.04/stable/current/${arch === 'arm64' ? 'arm64' : 'amd64'}/hvm/ebs-gp3/ami-id`;
}

async function describeImage(clients: AwsClients, imageId: string, field: string): Promise<ResolvedImage> {
  let images: Image[];
  try {
    images = (await clients.ec2.send(new DescribeImagesCommand({ ImageIds: [imageId] }))).Images ?? [];
  } catch (error) {
    if (/^InvalidAMIID\./.test(awsErrorCode(error) ?? '')) images = [];
    else throw error;
  }
  if (images.length === 0) throw new UserError(`${field}: AMI ${imageId} does not exist in ${clients.region}`, undefined, field);
  const i = images[0];
  return { imageId: i.ImageId!, name: i.Name ?? '', architecture: (i.Architecture as Architecture) ?? 'x86_64', rootDeviceName: i.RootDeviceName ?? '/dev/xvda' };
}

/** The AMI by id, by name regex (+ owner; newest match), or by OS alias for an architecture. */
export async function resolveImage(
  clients: AwsClients,
  selector: { id: string } | { name: string; owner?: string } | { os: 'al2023' | 'ubuntu-24.04' },
  arch: Architecture,
): Promise<ResolvedImage> {
  if ('id' in selector) return describeImage(clients, selector.id, '--ami');
  if ('os' in selector) {
    const name = osImageParameter(selector.os, arch);
    let id: string | undefined;
    try {
      id = (await clients.ssm.send(new GetParameterCommand({ Name: name }))).Parameter?.Value;
    } catch (error) {
      if (awsErrorCode(error) !== 'ParameterNotFound') throw error;
    }
    if (!id) throw new UserError(`--os: no ${selector.os} AMI for ${arch} in ${clients.region} (public parameter ${name} not found)`, undefined, '--os');
    return describeImage(clients, id, '--os');
  }
  let re: RegExp;
  try {
    re = new RegExp(selector.name);
  } catch {
    throw new UserError(`--ami-name '${selector.name}' is not a regular expression`, undefined, '--ami-name');
  }
  const images: Image[] = [];
  let NextToken: string | undefined;
  do {
    const page = await clients.ec2.send(
      new DescribeImagesCommand({
        Owners: selector.owner ? [selector.owner] : undefined,
        Filters: [
          { Name: 'architecture', Values: [arch] },
          { Name: 'state', Values: ['available'] },
        ],
        NextToken,
      }),
    );
    images.push(...(page.Images ?? []));
    NextToken = page.NextToken;
  } while (NextToken);
  const matches = images.filter((i) => re.test(i.Name ?? '')).sort((a, b) => (b.CreationDate ?? '').localeCompare(a.CreationDate ?? ''));
  if (matches.length === 0) {
    throw new UserError(
      `--ami-name: no ${arch} AMI named like /${selector.name}/${selector.owner ? ` owned by ${selector.owner}` : ''} in ${clients.region}`,
      undefined,
      '--ami-name',
    );
  }
  if (!selector.owner) {
    const owners = [...new Set(matches.map((m) => m.OwnerId))];
    if (owners.length > 1) {
      throw new UserError(
        `--ami-name /${selector.name}/ matches AMIs of several owners: ${candidates(matches.map((m) => `${m.ImageId} ${m.Name} (owner ${m.OwnerId})`))}`,
        'give --ami-owner',
        '--ami-name',
      );
    }
  }
  const i = matches[0];
  return { imageId: i.ImageId!, name: i.Name ?? '', architecture: (i.Architecture as Architecture) ?? arch, rootDeviceName: i.RootDeviceName ?? '/dev/xvda' };
}

export interface InstanceTypeInfo {
  instanceType: string;
  architectures: Architecture[];
}

/** Checks that every type exists and is offered in the region; returns their architectures. */
export async function resolveInstanceTypes(clients: AwsClients, types: { type: string; field: string }[]): Promise<Map<string, InstanceTypeInfo>> {
  const unique = [...new Set(types.map((t) => t.type))];
  const out = new Map<string, InstanceTypeInfo>();
  if (unique.length === 0) return out;
  const offered = new Set<string>();
  let NextToken: string | undefined;
  do {
    const page = await clients.ec2.send(
      new DescribeInstanceTypeOfferingsCommand({ LocationType: 'region', Filters: [{ Name: 'instance-type', Values: unique }], NextToken }),
    );
    for (const o of page.InstanceTypeOfferings ?? []) if (o.InstanceType) offered.add(o.InstanceType);
    NextToken = page.NextToken;
  } while (NextToken);
  for (const t of types) {
    if (!offered.has(t.type)) {
      throw new UserError(`${t.field} '${t.type}': instance type not offered in ${clients.region}`, 'check the type name, e.g. t3.medium', t.field);
    }
  }
  NextToken = undefined;
  do {
    const page: DescribeInstanceTypesCommandOutput = await clients.ec2.send(new DescribeInstanceTypesCommand({ InstanceTypes: unique as never[], NextToken }));
    for (const it of page.InstanceTypes ?? []) {
      const archs = (it.ProcessorInfo?.SupportedArchitectures ?? []).filter((a): a is Architecture => a === 'x86_64' || a === 'arm64');
      out.set(String(it.InstanceType), { instanceType: String(it.InstanceType), architectures: archs.length ? archs : ['x86_64'] });
    }
    NextToken = page.NextToken;
  } while (NextToken);
  for (const t of types) {
    if (!out.has(t.type)) throw new UserError(`${t.field} '${t.type}': instance type not known in ${clients.region}`, undefined, t.field);
  }
  return out;
}

/** The default vCPU count of each instance type (types EC2 does not know are left out). */
export async function instanceTypeVcpus(clients: AwsClients, types: string[]): Promise<Map<string, number>> {
  const unique = [...new Set(types)];
  const out = new Map<string, number>();
  // DescribeInstanceTypes takes at most 100 types per call.
  for (let i = 0; i < unique.length; i += 100) {
    let NextToken: string | undefined;
    do {
      let page: DescribeInstanceTypesCommandOutput;
      try {
        page = await clients.ec2.send(new DescribeInstanceTypesCommand({ InstanceTypes: unique.slice(i, i + 100) as never[], NextToken }));
      } catch (error) {
        // One unknown type fails the whole call: ask for the types one by one.
        if (awsErrorCode(error) !== 'InvalidInstanceType' || unique.slice(i, i + 100).length === 1) throw error;
        for (const t of unique.slice(i, i + 100)) {
          try {
            for (const [k, v] of await instanceTypeVcpus(clients, [t])) out.set(k, v);
          } catch (e) {
            if (awsErrorCode(e) !== 'InvalidInstanceType') throw e;
          }
        }
        break;
      }
      for (const it of page.InstanceTypes ?? []) {
        if (it.InstanceType && it.VCpuInfo?.DefaultVCpus) out.set(String(it.InstanceType), it.VCpuInfo.DefaultVCpus);
      }
      NextToken = page.NextToken;
    } while (NextToken);
  }
  return out;
}

/** Fails unless the key pair exists. */
export async function checkKeyPair(clients: AwsClients, keyName: string): Promise<void> {
  try {
    const out = await clients.ec2.send(new DescribeKeyPairsCommand({ KeyNames: [keyName] }));
    if ((out.KeyPairs ?? []).length === 1) return;
  } catch (error) {
    if (awsErrorCode(error) !== 'InvalidKeyPair.NotFound') throw error;
  }
  throw new UserError(`--key-name '${keyName}': key pair does not exist in ${clients.region}`, 'create or import it first (aws ec2 import-key-pair)', '--key-name');
}

/** A public hosted zone by id or name; several zones of that name are ambiguous. */
export async function resolveHostedZone(clients: AwsClients, idOrName: string, field = '--ingress-zone'): Promise<{ zoneId: string; name: string }> {
  const id = idOrName.replace(/^\/hostedzone\//, '');
  if (/^Z[A-Z0-9]{4,32}$/.test(id)) {
    try {
      const z = await clients.route53.send(new GetHostedZoneCommand({ Id: id }));
      return { zoneId: id, name: (z.HostedZone?.Name ?? '').replace(/\.$/, '') };
    } catch (error) {
      if (awsErrorCode(error) !== 'NoSuchHostedZone') throw error;
      throw new UserError(`${field}: hosted zone ${id} does not exist`, undefined, field);
    }
  }
  const name = idOrName.replace(/\.$/, '');
  const found: { zoneId: string; name: string; private: boolean }[] = [];
  let DNSName: string | undefined = `${name}.`;
  let HostedZoneId: string | undefined;
  for (;;) {
    const page: ListHostedZonesByNameCommandOutput = await clients.route53.send(new ListHostedZonesByNameCommand({ DNSName, HostedZoneId }));
    let done = false;
    for (const z of page.HostedZones ?? []) {
      if ((z.Name ?? '').replace(/\.$/, '') !== name) {
        done = true;
        break;
      }
      found.push({ zoneId: (z.Id ?? '').replace(/^\/hostedzone\//, ''), name, private: Boolean(z.Config?.PrivateZone) });
    }
    if (done || !page.IsTruncated) break;
    DNSName = page.NextDNSName;
    HostedZoneId = page.NextHostedZoneId;
  }
  const publicZones = found.filter((z) => !z.private);
  const pick = publicZones.length ? publicZones : found;
  if (pick.length === 0) throw new UserError(`${field}: hosted zone '${name}' does not exist`, undefined, field);
  if (pick.length > 1) throw new UserError(`${field}: hosted zone '${name}' is ambiguous: ${candidates(pick.map((z) => z.zoneId))}`, 'give the zone id', field);
  return { zoneId: pick[0].zoneId, name };
}

async function describeSecurityGroups(clients: AwsClients, input: { GroupIds?: string[]; Filters?: Filter[] }): Promise<SecurityGroup[]> {
  const out: SecurityGroup[] = [];
  for await (const page of paginateDescribeSecurityGroups({ client: clients.ec2 }, input)) out.push(...(page.SecurityGroups ?? []));
  return out;
}

function describeSecurityGroup(g: SecurityGroup): string {
  const name = tagValue(g.Tags, 'Name');
  return `${g.GroupId} (${g.GroupName}${name && name !== g.GroupName ? `, Name ${name}` : ''})`;
}

/**
 * A group's extra security groups, each by id or by name (its GroupName or its Name tag) in `vpcId`:
 * their ids, in the order given, duplicates removed. A name that matches none or several groups, or an
 * id that does not exist or is in another VPC, is a UserError naming `field`.
 */
export async function resolveSecurityGroups(clients: AwsClients, vpcId: string, refs: string[], field: string): Promise<string[]> {
  const ids: string[] = [];
  for (const ref of refs) {
    let id: string;
    if (ref.startsWith('sg-')) {
      let found: SecurityGroup[];
      try {
        found = await describeSecurityGroups(clients, { GroupIds: [ref] });
      } catch (error) {
        if (isAwsError(error, 'InvalidGroup.NotFound', 'InvalidGroupId.Malformed')) found = [];
        else throw error;
      }
      if (found.length === 0) throw new UserError(`${field}: security group ${ref} does not exist in ${clients.region}`, undefined, field);
      if (found[0].VpcId !== vpcId) {
        throw new UserError(`${field}: security group ${ref} is in VPC ${found[0].VpcId}, the cluster in ${vpcId}`, 'give a security group of the cluster VPC', field);
      }
      id = ref;
    } else {
      const inVpc = { Name: 'vpc-id', Values: [vpcId] };
      // EC2 ORs values within a filter but ANDs filters: GroupName and the Name tag are asked separately.
      const [byGroupName, byNameTag] = await Promise.all([
        describeSecurityGroups(clients, { Filters: [inVpc, { Name: 'group-name', Values: [ref] }] }),
        describeSecurityGroups(clients, { Filters: [inVpc, { Name: 'tag:Name', Values: [ref] }] }),
      ]);
      const found = [...new Map([...byGroupName, ...byNameTag].map((g) => [g.GroupId!, g])).values()].sort((a, b) => a.GroupId!.localeCompare(b.GroupId!));
      if (found.length === 0) {
        throw new UserError(`${field}: found no security group named '${ref}' (GroupName or Name tag) in VPC ${vpcId}`, 'check the name, or give the id (sg-...)', field);
      }
      if (found.length > 1) {
        throw new UserError(`${field}: security group name '${ref}' is ambiguous in VPC ${vpcId}: ${candidates(found.map(describeSecurityGroup))}`, 'give the id (sg-...)', field);
      }
      id = found[0].GroupId!;
    }
    if (!ids.includes(id)) ids.push(id);
  }
  return ids;
}

/**
 * A group's extra target groups, each by ARN or by name (unique in a region): their ARNs, in the order
 * given, duplicates removed. Auto Scaling registers instances by id, so only target groups of target
 * type `instance` in the cluster VPC fit; anything else is a UserError naming `field`.
 */
export async function resolveTargetGroups(clients: AwsClients, vpcId: string, refs: string[], field: string): Promise<string[]> {
  const arns: string[] = [];
  for (const ref of refs) {
    const byArn = ref.startsWith('arn:');
    const arnRegion = byArn ? ref.split(':')[3] : undefined;
    if (arnRegion && arnRegion !== clients.region) {
      throw new UserError(`${field} ${ref} is in ${arnRegion}, but this run is in ${clients.region}`, `give --region ${arnRegion}, or a target group of ${clients.region}`, field);
    }
    let found: TargetGroup[];
    try {
      found = (await clients.elbv2.send(new DescribeTargetGroupsCommand(byArn ? { TargetGroupArns: [ref] } : { Names: [ref] }))).TargetGroups ?? [];
    } catch (error) {
      if (isAwsError(error, 'TargetGroupNotFound')) found = [];
      else throw error;
    }
    if (found.length === 0) throw new UserError(`${field}: target group ${byArn ? ref : `'${ref}'`} does not exist in ${clients.region}`, undefined, field);
    if (found.length > 1) throw new UserError(`${field}: target group '${ref}' is ambiguous: ${candidates(found.map((t) => t.TargetGroupArn!))}`, 'give the ARN', field);
    const tg = found[0];
    if (tg.TargetType && tg.TargetType !== 'instance') {
      throw new UserError(
        `${field}: target group ${tg.TargetGroupName} has target type ${tg.TargetType}; an Auto Scaling group registers instances, so it needs target type instance`,
        'create a target group with target type instance',
        field,
      );
    }
    if (tg.VpcId !== vpcId) {
      throw new UserError(`${field}: target group ${tg.TargetGroupName} is in VPC ${tg.VpcId ?? '(none)'}, the cluster in ${vpcId}`, 'give a target group of the cluster VPC', field);
    }
    if (!arns.includes(tg.TargetGroupArn!)) arns.push(tg.TargetGroupArn!);
  }
  return arns;
}
