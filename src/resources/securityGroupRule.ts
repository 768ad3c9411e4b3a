// The shared ALB's two security groups (AWS::EC2::SecurityGroup): `upstream` is attached to the ALB and
// admits 80/443 from the given CIDRs; `downstream` is for the instances behind it and admits 80 and
// the NodePort range only from `upstream`. Found by the shared ALB name + group tag within the VPC.
// Undo records reuse the cluster security group's handler (src/resources/securityGroup.ts).
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  paginateDescribeSecurityGroups,
  type IpPermission,
  type SecurityGroup,
} from '@aws-sdk/client-ec2';
import type { AwsClients } from '../aws/clients';
import { TagKeys, type Tag } from '../aws/tags';
import { UserError } from '../core/errors';
import { journaledWrite } from '../provider/journaledWrite';
import type { RunContext, Task, TaskRef } from '../provider/types';
import { SECURITY_GROUP_TYPE, deleteSecurityGroup, ruleKey, type IngressRule } from './securityGroup';

export const NODEPORT_RANGE = { from: 30000, to: 32767 } as const;
export type AlbSecurityGroupRole = 'upstream' | 'downstream';

export interface AlbSecurityGroupState {
  groupId: string;
  vpcId: string;
  name: string;
  rules: IngressRule[];
}

export function albSecurityGroupName(alb: string, role: AlbSecurityGroupRole): string {
  return `k3sctl-alb-${alb}-${role}`;
}

export function albSecurityGroupTags(alb: string, role: AlbSecurityGroupRole): Tag[] {
  return [
    { Key: TagKeys.shared, Value: alb },
    { Key: TagKeys.role, Value: 'alb' },
    { Key: TagKeys.group, Value: role },
    { Key: TagKeys.managedBy, Value: 'k3sctl' },
    { Key: TagKeys.name, Value: albSecurityGroupName(alb, role) },
  ];
}

function rulesOf(sg: SecurityGroup): IngressRule[] {
  const out: IngressRule[] = [];
  for (const p of sg.IpPermissions ?? []) {
    const base = { protocol: p.IpProtocol as 'tcp', fromPort: p.FromPort ?? 0, toPort: p.ToPort ?? 0 };
    for (const r of p.IpRanges ?? []) out.push({ ...base, source: r.CidrIp ?? '' });
    for (const r of p.Ipv6Ranges ?? []) out.push({ ...base, source: r.CidrIpv6 ?? '' });
    for (const g of p.UserIdGroupPairs ?? [])
      out.push({ ...base, source: g.GroupId === sg.GroupId ? 'self' : (g.GroupId ?? '') });
  }
  return out;
}

function toPermissions(rules: IngressRule[]): IpPermission[] {
  return rules.map((r) => {
    const p: IpPermission = { IpProtocol: r.protocol, FromPort: r.fromPort, ToPort: r.toPort };
    if (r.source.startsWith('sg-')) p.UserIdGroupPairs = [{ GroupId: r.source, Description: r.description }];
    else if (r.source.includes(':')) p.Ipv6Ranges = [{ CidrIpv6: r.source, Description: r.description }];
    else p.IpRanges = [{ CidrIp: r.source, Description: r.description }];
    return p;
  });
}

/** The ALB's security groups of one role (any VPC). */
export async function listAlbSecurityGroups(
  clients: AwsClients,
  alb: string,
  role?: AlbSecurityGroupRole,
): Promise<AlbSecurityGroupState[]> {
  const filters = [
    { Name: `tag:${TagKeys.shared}`, Values: [alb] },
    { Name: `tag:${TagKeys.role}`, Values: ['alb'] },
  ];
  if (role) filters.push({ Name: `tag:${TagKeys.group}`, Values: [role] });
  const out: AlbSecurityGroupState[] = [];
  for await (const page of paginateDescribeSecurityGroups({ client: clients.ec2 }, { Filters: filters })) {
    for (const sg of page.SecurityGroups ?? [])
      out.push({
        groupId: sg.GroupId ?? '',
        vpcId: sg.VpcId ?? '',
        name: sg.GroupName ?? '',
        rules: rulesOf(sg),
      });
  }
  return out;
}

/** The ALB's upstream and downstream security groups (for `cluster create --ingress-alb`: instances join `downstream`). */
export async function findAlbSecurityGroups(
  clients: AwsClients,
  alb: string,
): Promise<{ upstream?: AlbSecurityGroupState; downstream?: AlbSecurityGroupState }> {
  const all = await listAlbSecurityGroups(clients, alb);
  const pick = (role: AlbSecurityGroupRole) => {
    const name = albSecurityGroupName(alb, role);
    const found = all.filter((g) => g.name === name);
    if (found.length > 1)
      throw new UserError(
        `ALB ${alb} has ${found.length} ${role} security groups: ${found.map((g) => g.groupId).join(', ')}`,
      );
    return found[0];
  };
  return { upstream: pick('upstream'), downstream: pick('downstream') };
}

export { deleteSecurityGroup };

export interface AlbSecurityGroupSpec {
  alb: string;
  role: AlbSecurityGroupRole;
  vpcId: string;
  /** upstream: CIDRs allowed to 80/443. */
  ingressCidrs?: string[];
  /** downstream: the upstream group's task. */
  upstream?: TaskRef<AlbSecurityGroupState>;
}

function desiredRules(spec: AlbSecurityGroupSpec, ctx?: RunContext): IngressRule[] {
  if (spec.role === 'upstream') {
    const rules: IngressRule[] = [];
    for (const c of spec.ingressCidrs ?? []) {
      rules.push({ protocol: 'tcp', fromPort: 80, toPort: 80, source: c, description: 'HTTP to the ALB' });
      rules.push({ protocol: 'tcp', fromPort: 443, toPort: 443, source: c, description: 'HTTPS to the ALB' });
    }
    return rules;
  }
  const upstream = ctx && spec.upstream ? ctx.get(spec.upstream)?.groupId : undefined;
  const source = upstream ?? '(upstream)';
  return [
    { protocol: 'tcp', fromPort: 80, toPort: 80, source, description: 'HTTP from the ALB' },
    {
      protocol: 'tcp',
      fromPort: NODEPORT_RANGE.from,
      toPort: NODEPORT_RANGE.to,
      source,
      description: 'NodePorts from the ALB',
    },
  ];
}

/** One of the ALB's security groups with exactly its rules (missing ones are added; extra ones are left). */
export function albSecurityGroupTask(
  spec: AlbSecurityGroupSpec,
  key = `securityGroup/${spec.role}`,
): Task<AlbSecurityGroupState> {
  const name = albSecurityGroupName(spec.alb, spec.role);
  return {
    key,
    type: SECURITY_GROUP_TYPE,
    name,
    dependsOn: spec.upstream ? [spec.upstream] : [],
    async find(ctx) {
      const found = (await listAlbSecurityGroups(ctx.clients, spec.alb, spec.role)).filter(
        (g) => g.vpcId === spec.vpcId,
      );
      if (found.length > 1) {
        throw new UserError(
          `ALB ${spec.alb} has ${found.length} ${spec.role} security groups in ${spec.vpcId}: ${found.map((g) => g.groupId).join(', ')}`,
        );
      }
      return found[0];
    },
    // Missing rules are authorized in place: no replacement.
    diff(actual, ctx) {
      const have = new Set(actual.rules.map(ruleKey));
      return desiredRules(spec, ctx)
        .filter((r) => !have.has(ruleKey(r)))
        .map((r) => ({ field: 'ingress', add: ruleKey(r) }));
    },
    async create(ctx) {
      const created = await journaledWrite(
        ctx,
        { action: 'create', type: SECURITY_GROUP_TYPE, name },
        () =>
          ctx.clients.ec2.send(
            new CreateSecurityGroupCommand({
              GroupName: name,
              Description: `k3sctl ALB ${spec.alb} ${spec.role}`,
              VpcId: spec.vpcId,
              TagSpecifications: [
                { ResourceType: 'security-group', Tags: albSecurityGroupTags(spec.alb, spec.role) },
              ],
            }),
          ),
        (r) => ({
          id: r.GroupId,
          undo: { type: SECURITY_GROUP_TYPE, action: 'delete', data: { groupId: r.GroupId } },
        }),
      );
      const groupId = created.GroupId ?? '';
      const rules = desiredRules(spec, ctx);
      if (rules.length) {
        await journaledWrite(ctx, { action: 'update', type: SECURITY_GROUP_TYPE, name, id: groupId }, () =>
          ctx.clients.ec2.send(
            new AuthorizeSecurityGroupIngressCommand({
              GroupId: groupId,
              IpPermissions: toPermissions(rules),
            }),
          ),
        );
      }
      return { groupId, vpcId: spec.vpcId, name, rules };
    },
    async update(actual, _changes, ctx) {
      const have = new Set(actual.rules.map(ruleKey));
      const add = desiredRules(spec, ctx).filter((r) => !have.has(ruleKey(r)));
      if (add.length) {
        await journaledWrite(
          ctx,
          {
            action: 'update',
            type: SECURITY_GROUP_TYPE,
            name,
            id: actual.groupId,
            undo: {
              type: SECURITY_GROUP_TYPE,
              action: 'restore',
              data: { groupId: actual.groupId, added: add },
            },
          },
          () =>
            ctx.clients.ec2.send(
              new AuthorizeSecurityGroupIngressCommand({
                GroupId: actual.groupId,
                IpPermissions: toPermissions(add),
              }),
            ),
        );
      }
      return { ...actual, rules: [...actual.rules, ...add] };
    },
    id: (a) => a.groupId,
  };
}
