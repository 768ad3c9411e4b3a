// Security groups and their rules. A rule is stored per peer (one CIDR or one referenced group), as
// DescribeSecurityGroupRules shows them; IpPermissions are regrouped on output.
import { awsError, required } from '../../errors';
import { paginate } from '../../pagination';
import type { SandboxContext } from '../../account';
import { applyFilters } from './filters';
import { getVpc } from './network';
import { validateTagSpecifications } from './tagging';
import {
  allowAllEgressRule,
  defaultVpc,
  ec2State,
  parseCidr,
  tagsFrom,
  type Ec2State,
  type SecurityGroup,
  type SecurityGroupRule,
} from './state';
import type * as Ec2Sdk from '@aws-sdk/client-ec2';
import type { HandlerOf, OperationsOf, SdkOperation } from '../../service';

type Handler<Op extends SdkOperation<typeof Ec2Sdk>> = HandlerOf<typeof Ec2Sdk, Op>;

export function getSecurityGroup(s: Ec2State, groupId: string): SecurityGroup {
  if (!/^sg-[0-9a-f]{8,17}$/.test(groupId))
    throw awsError('InvalidGroupId.Malformed', `Invalid id: "${groupId}" (expecting "sg-...")`);
  const g = s.securityGroups[groupId];
  if (!g) throw awsError('InvalidGroup.NotFound', `The security group '${groupId}' does not exist`);
  return g;
}

function groupByName(s: Ec2State, name: string, vpcId?: string): SecurityGroup {
  const vpc = vpcId ?? defaultVpc(s)?.VpcId;
  const g = Object.values(s.securityGroups).find((x) => x.GroupName === name && x.VpcId === vpc);
  if (!g)
    throw awsError(
      'InvalidGroup.NotFound',
      `The security group '${name}' does not exist in default VPC '${vpc ?? 'none'}'`,
    );
  return g;
}

const PROTOCOLS: Record<string, string> = {
  tcp: 'tcp',
  '6': 'tcp',
  udp: 'udp',
  '17': 'udp',
  icmp: 'icmp',
  '1': 'icmp',
  '-1': '-1',
  all: '-1',
};

interface IpPermission {
  IpProtocol?: string;
  FromPort?: number;
  ToPort?: number;
  IpRanges?: { CidrIp?: string; Description?: string }[];
  Ipv6Ranges?: { CidrIpv6?: string; Description?: string }[];
  UserIdGroupPairs?: { GroupId?: string; GroupName?: string; Description?: string }[];
  PrefixListIds?: unknown[];
}

/** Expands IpPermissions into one rule per peer, validating as AWS does. */
function expandPermissions(
  ctx: SandboxContext,
  s: Ec2State,
  group: SecurityGroup,
  perms: IpPermission[],
  egress: boolean,
): SecurityGroupRule[] {
  const rules: SecurityGroupRule[] = [];
  for (const p of perms) {
    const raw = String(required(p.IpProtocol, 'IpPermissions.IpProtocol')).toLowerCase();
    const protocol = PROTOCOLS[raw];
    if (!protocol)
      throw awsError(
        'InvalidParameterValue',
        `Invalid value '${p.IpProtocol}' for IP protocol. Unknown protocol.`,
      );
    let from = p.FromPort ?? -1;
    let to = p.ToPort ?? -1;
    if (protocol === '-1') {
      from = -1;
      to = -1;
    } else if (protocol !== 'icmp') {
      if (p.FromPort === undefined || p.ToPort === undefined)
        throw awsError(
          'MissingParameter',
          'The request must contain the parameter FromPort and ToPort for TCP/UDP',
        );
      if (from < 0 || to > 65535 || from > to)
        throw awsError('InvalidParameterValue', `Invalid TCP/UDP port range ${from}-${to}`);
    }
    const base = { IsEgress: egress, IpProtocol: protocol, FromPort: from, ToPort: to };
    const peers = (p.IpRanges?.length ?? 0) + (p.Ipv6Ranges?.length ?? 0) + (p.UserIdGroupPairs?.length ?? 0);
    if (peers === 0)
      throw awsError(
        'MissingParameter',
        'The request must contain the parameter ipPermissions.source (IpRanges, Ipv6Ranges or UserIdGroupPairs)',
      );
    for (const r of p.IpRanges ?? []) {
      const cidr = required(r.CidrIp, 'CidrIp');
      if (!parseCidr(cidr)) throw awsError('InvalidParameterValue', `CIDR block ${cidr} is malformed`);
      rules.push({ ...base, SecurityGroupRuleId: '', CidrIpv4: cidr, Description: r.Description });
    }
    for (const r of p.Ipv6Ranges ?? []) {
      const cidr = required(r.CidrIpv6, 'CidrIpv6');
      if (!/^[0-9a-f:]+\/\d{1,3}$/i.test(cidr))
        throw awsError('InvalidParameterValue', `CIDR block ${cidr} is malformed`);
      rules.push({ ...base, SecurityGroupRuleId: '', CidrIpv6: cidr, Description: r.Description });
    }
    for (const pair of p.UserIdGroupPairs ?? []) {
      const ref = pair.GroupId
        ? getSecurityGroup(s, pair.GroupId)
        : groupByName(s, required(pair.GroupName, 'GroupId'), group.VpcId);
      if (ref.VpcId !== group.VpcId) {
        throw awsError(
          'InvalidGroup.NotFound',
          `You have specified two resources that belong to different networks.`,
        );
      }
      rules.push({
        ...base,
        SecurityGroupRuleId: '',
        ReferencedGroupId: ref.GroupId,
        Description: pair.Description,
      });
    }
  }
  void ctx;
  return rules;
}

function sameRule(a: SecurityGroupRule, b: SecurityGroupRule): boolean {
  return (
    a.IsEgress === b.IsEgress &&
    a.IpProtocol === b.IpProtocol &&
    a.FromPort === b.FromPort &&
    a.ToPort === b.ToPort &&
    a.CidrIpv4 === b.CidrIpv4 &&
    a.CidrIpv6 === b.CidrIpv6 &&
    a.ReferencedGroupId === b.ReferencedGroupId
  );
}

function describeRule(r: SecurityGroupRule): string {
  const peer = r.CidrIpv4 ?? r.CidrIpv6 ?? r.ReferencedGroupId;
  const proto = r.IpProtocol === '-1' ? 'ALL' : r.IpProtocol.toUpperCase();
  return `peer: ${peer}, ${proto}, from port: ${r.FromPort}, to port: ${r.ToPort}, ALLOW`;
}

function ruleOutput(ctx: SandboxContext, g: SecurityGroup, r: SecurityGroupRule): Ec2Sdk.SecurityGroupRule {
  return {
    SecurityGroupRuleId: r.SecurityGroupRuleId,
    GroupId: g.GroupId,
    GroupOwnerId: ctx.sb.state.accountId,
    IsEgress: r.IsEgress,
    IpProtocol: r.IpProtocol,
    FromPort: r.FromPort,
    ToPort: r.ToPort,
    CidrIpv4: r.CidrIpv4,
    CidrIpv6: r.CidrIpv6,
    ReferencedGroupInfo: r.ReferencedGroupId
      ? { GroupId: r.ReferencedGroupId, UserId: ctx.sb.state.accountId }
      : undefined,
    Description: r.Description,
    SecurityGroupRuleArn: `arn:aws:ec2:${ctx.region}:${ctx.sb.state.accountId}:security-group-rule/${r.SecurityGroupRuleId}`,
    Tags: [],
  };
}

function permissionsOutput(ctx: SandboxContext, rules: SecurityGroupRule[]): Ec2Sdk.IpPermission[] {
  const groups = new Map<
    string,
    {
      IpProtocol: string;
      FromPort?: number;
      ToPort?: number;
      IpRanges: object[];
      Ipv6Ranges: object[];
      UserIdGroupPairs: object[];
      PrefixListIds: object[];
    }
  >();
  for (const r of rules) {
    const key = `${r.IpProtocol}/${r.FromPort}/${r.ToPort}`;
    let p = groups.get(key);
    if (!p) {
      p = {
        IpProtocol: r.IpProtocol,
        FromPort: r.IpProtocol === '-1' ? undefined : r.FromPort,
        ToPort: r.IpProtocol === '-1' ? undefined : r.ToPort,
        IpRanges: [],
        Ipv6Ranges: [],
        UserIdGroupPairs: [],
        PrefixListIds: [],
      };
      groups.set(key, p);
    }
    if (r.CidrIpv4) p.IpRanges.push({ CidrIp: r.CidrIpv4, Description: r.Description });
    if (r.CidrIpv6) p.Ipv6Ranges.push({ CidrIpv6: r.CidrIpv6, Description: r.Description });
    if (r.ReferencedGroupId)
      p.UserIdGroupPairs.push({
        GroupId: r.ReferencedGroupId,
        UserId: ctx.sb.state.accountId,
        Description: r.Description,
      });
  }
  return [...groups.values()];
}

function groupOutput(ctx: SandboxContext, g: SecurityGroup): Ec2Sdk.SecurityGroup {
  return {
    GroupId: g.GroupId,
    GroupName: g.GroupName,
    Description: g.Description,
    VpcId: g.VpcId,
    OwnerId: ctx.sb.state.accountId,
    SecurityGroupArn: `arn:aws:ec2:${ctx.region}:${ctx.sb.state.accountId}:security-group/${g.GroupId}`,
    IpPermissions: permissionsOutput(
      ctx,
      g.rules.filter((r) => !r.IsEgress),
    ),
    IpPermissionsEgress: permissionsOutput(
      ctx,
      g.rules.filter((r) => r.IsEgress),
    ),
    Tags: g.Tags.length ? g.Tags : undefined,
  };
}

const createSecurityGroup: Handler<'CreateSecurityGroup'> = (ctx, input) => {
  const name = required<string>(input.GroupName, 'GroupName');
  const description = required<string>(input.Description, 'GroupDescription');
  if (name.length > 255 || description.length > 255)
    throw awsError(
      'InvalidParameterValue',
      'Security group name and description are limited to 255 characters',
    );
  if (name.toLowerCase().startsWith('sg-'))
    throw awsError('InvalidParameterValue', 'Group names may not be in the format sg-*');
  const s = ec2State(ctx);
  const vpcId: string | undefined = input.VpcId ?? defaultVpc(s)?.VpcId;
  if (!vpcId) throw awsError('VPCIdNotSpecified', 'No default VPC for this user');
  getVpc(s, vpcId);
  if (Object.values(s.securityGroups).some((g) => g.VpcId === vpcId && g.GroupName === name)) {
    throw awsError(
      'InvalidGroup.Duplicate',
      `The security group '${name}' already exists for VPC '${vpcId}'`,
    );
  }
  validateTagSpecifications(input.TagSpecifications, 'security-group');
  const GroupId = ctx.sb.newId('sg-');
  const group: SecurityGroup = {
    GroupId,
    GroupName: name,
    Description: description,
    VpcId: vpcId,
    Tags: tagsFrom(input.TagSpecifications, 'security-group'),
    rules: [allowAllEgressRule(ctx)],
  };
  s.securityGroups[GroupId] = group;
  return {
    GroupId,
    Tags: group.Tags.length ? group.Tags : undefined,
    SecurityGroupArn: `arn:aws:ec2:${ctx.region}:${ctx.sb.state.accountId}:security-group/${GroupId}`,
  };
};

function resolveGroup(ctx: SandboxContext, input: { GroupId?: string; GroupName?: string }): SecurityGroup {
  const s = ec2State(ctx);
  if (input.GroupId) return getSecurityGroup(s, input.GroupId);
  if (input.GroupName) return groupByName(s, input.GroupName);
  throw awsError('MissingParameter', 'The request must contain the parameter groupName or groupId');
}

/**
 * Whether an ELBv2 load balancer still lists the group. Reads the elbv2 module's state defensively
 * (any `securityGroups` / `SecurityGroups` array under its `loadBalancers`), without importing it.
 */
function usedByLoadBalancer(ctx: SandboxContext, groupId: string): boolean {
  const elbv2 = (ctx.sb.state.regions[ctx.region]?.elbv2 as { loadBalancers?: unknown } | undefined)
    ?.loadBalancers;
  const seen = new Set<unknown>();
  const visit = (node: unknown): boolean => {
    if (!node || typeof node !== 'object' || seen.has(node)) return false;
    seen.add(node);
    if (Array.isArray(node)) return node.some(visit);
    return Object.entries(node as Record<string, unknown>).some(([key, value]) =>
      (key === 'SecurityGroups' || key === 'securityGroups') && Array.isArray(value)
        ? value.includes(groupId)
        : visit(value),
    );
  };
  return visit(elbv2);
}

const deleteSecurityGroup: Handler<'DeleteSecurityGroup'> = (ctx, input) => {
  const s = ec2State(ctx);
  const g = resolveGroup(ctx, input);
  if (g.GroupName === 'default')
    throw awsError(
      'CannotDelete',
      `the specified group: "${g.GroupId}" name: "default" cannot be deleted by a user`,
    );
  const usedByInstance = Object.values(s.instances).some(
    (i) => i.state !== 'terminated' && i.SecurityGroupIds.includes(g.GroupId),
  );
  const referenced = Object.values(s.securityGroups).some(
    (o) => o.GroupId !== g.GroupId && o.rules.some((r) => r.ReferencedGroupId === g.GroupId),
  );
  if (usedByInstance || referenced || usedByLoadBalancer(ctx, g.GroupId)) {
    throw awsError('DependencyViolation', `resource ${g.GroupId} has a dependent object`);
  }
  delete s.securityGroups[g.GroupId];
  return { Return: true, GroupId: g.GroupId };
};

const describeSecurityGroups: Handler<'DescribeSecurityGroups'> = (ctx, input) => {
  const s = ec2State(ctx);
  const ids: string[] = input.GroupIds ?? [];
  const names: string[] = input.GroupNames ?? [];
  for (const id of ids) getSecurityGroup(s, id);
  for (const n of names) groupByName(s, n);
  const dv = defaultVpc(s)?.VpcId;
  const groups = applyFilters(
    Object.values(s.securityGroups).filter(
      (g) =>
        (ids.length === 0 || ids.includes(g.GroupId)) &&
        (names.length === 0 || (names.includes(g.GroupName) && g.VpcId === dv)),
    ),
    input.Filters,
    (g, name) => {
      const ingress = (g.rules ?? []).filter((r) => !r.IsEgress);
      const egress = (g.rules ?? []).filter((r) => r.IsEgress);
      return (
        {
          'group-id': [g.GroupId],
          'group-name': [g.GroupName],
          'vpc-id': [g.VpcId],
          description: [g.Description],
          'owner-id': [ctx.sb.state.accountId],
          'ip-permission.cidr': ingress.map((r) => r.CidrIpv4),
          'ip-permission.from-port': ingress.map((r) => r.FromPort),
          'ip-permission.to-port': ingress.map((r) => r.ToPort),
          'ip-permission.protocol': ingress.map((r) => r.IpProtocol),
          'ip-permission.group-id': ingress.map((r) => r.ReferencedGroupId),
          'egress.ip-permission.cidr': egress.map((r) => r.CidrIpv4),
        } as Record<string, (string | number | undefined)[]>
      )[name];
    },
  );
  const { page, nextToken } = paginate(groups, input.NextToken, input.MaxResults);
  return { SecurityGroups: page.map((g) => groupOutput(ctx, g)), NextToken: nextToken };
};

/** What the Ingress and Egress variants of Authorize/RevokeSecurityGroup* take, as far as the sandbox reads them. */
interface RuleChangeInput {
  GroupId?: string;
  GroupName?: string;
  IpPermissions?: IpPermission[];
  CidrIp?: string;
  IpProtocol?: string;
  FromPort?: number;
  ToPort?: number;
  SecurityGroupRuleIds?: string[];
}

function authorize(
  egress: boolean,
): (ctx: SandboxContext, input: RuleChangeInput) => Omit<Ec2Sdk.AuthorizeSecurityGroupIngressCommandOutput, '$metadata'> {
  return (ctx, input) => {
    const s = ec2State(ctx);
    const g = resolveGroup(ctx, input);
    const perms: IpPermission[] = input.IpPermissions ?? [];
    if (perms.length === 0 && input.CidrIp) {
      perms.push({
        IpProtocol: input.IpProtocol,
        FromPort: input.FromPort,
        ToPort: input.ToPort,
        IpRanges: [{ CidrIp: input.CidrIp }],
      });
    }
    if (perms.length === 0)
      throw awsError('MissingParameter', 'The request must contain the parameter ipPermissions');
    const rules = expandPermissions(ctx, s, g, perms, egress);
    for (const [i, r] of rules.entries()) {
      if (g.rules.some((x) => sameRule(x, r)) || rules.slice(0, i).some((x) => sameRule(x, r))) {
        throw awsError(
          'InvalidPermission.Duplicate',
          `the specified rule "${describeRule(r)}" already exists`,
        );
      }
    }
    if (g.rules.filter((r) => r.IsEgress === egress).length + rules.length > 60) {
      throw awsError(
        'RulesPerSecurityGroupLimitExceeded',
        'The maximum number of rules per security group has been reached.',
      );
    }
    for (const r of rules) r.SecurityGroupRuleId = ctx.sb.newId('sgr-');
    g.rules.push(...rules);
    return { Return: true, SecurityGroupRules: rules.map((r) => ruleOutput(ctx, g, r)) };
  };
}

function revoke(
  egress: boolean,
): (ctx: SandboxContext, input: RuleChangeInput) => Omit<Ec2Sdk.RevokeSecurityGroupIngressCommandOutput, '$metadata'> {
  return (ctx, input) => {
    const s = ec2State(ctx);
    const g = resolveGroup(ctx, input);
    const ruleIds = input.SecurityGroupRuleIds;
    if (ruleIds?.length) {
      for (const id of ruleIds) {
        if (!g.rules.some((r) => r.SecurityGroupRuleId === id && r.IsEgress === egress)) {
          throw awsError(
            'InvalidSecurityGroupRuleId.NotFound',
            `The security group rule ID '${id}' does not exist`,
          );
        }
      }
      g.rules = g.rules.filter((r) => !ruleIds.includes(r.SecurityGroupRuleId));
      return { Return: true };
    }
    const rules = expandPermissions(ctx, s, g, input.IpPermissions ?? [], egress);
    for (const r of rules) {
      if (!g.rules.some((x) => sameRule(x, r))) {
        throw awsError(
          'InvalidPermission.NotFound',
          'The specified rule does not exist in this security group.',
        );
      }
    }
    g.rules = g.rules.filter((x) => !rules.some((r) => sameRule(x, r)));
    return { Return: true };
  };
}

const describeSecurityGroupRules: Handler<'DescribeSecurityGroupRules'> = (ctx, input) => {
  const s = ec2State(ctx);
  const ruleIds: string[] = input.SecurityGroupRuleIds ?? [];
  const rows = Object.values(s.securityGroups).flatMap((g) =>
    g.rules.map((r) => ({ g, r, Tags: [] as { Key: string; Value: string }[] })),
  );
  for (const id of ruleIds) {
    if (!rows.some((x) => x.r.SecurityGroupRuleId === id))
      throw awsError(
        'InvalidSecurityGroupRuleId.NotFound',
        `The security group rule ID '${id}' does not exist`,
      );
  }
  const filtered = applyFilters(
    rows.filter((x) => ruleIds.length === 0 || ruleIds.includes(x.r.SecurityGroupRuleId)),
    input.Filters,
    (x, name) => ({ 'group-id': [x.g?.GroupId], 'security-group-rule-id': [x.r?.SecurityGroupRuleId] })[name],
  );
  const { page, nextToken } = paginate(filtered, input.NextToken, input.MaxResults);
  return { SecurityGroupRules: page.map((x) => ruleOutput(ctx, x.g, x.r)), NextToken: nextToken };
};

export const securityGroupOperations = {
  CreateSecurityGroup: createSecurityGroup,
  DeleteSecurityGroup: deleteSecurityGroup,
  DescribeSecurityGroups: describeSecurityGroups,
  AuthorizeSecurityGroupIngress: authorize(false),
  AuthorizeSecurityGroupEgress: authorize(true),
  RevokeSecurityGroupIngress: revoke(false),
  RevokeSecurityGroupEgress: revoke(true),
  DescribeSecurityGroupRules: describeSecurityGroupRules,
} satisfies OperationsOf<typeof Ec2Sdk>;
