// The cluster security group: k3s traffic between the cluster's own instances (self rules) and SSH /
// API access only from the CIDRs the user names. Found by the cluster + role tags; two matches is an error.
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  CreateTagsCommand,
  DeleteSecurityGroupCommand,
  RevokeSecurityGroupIngressCommand,
  paginateDescribeSecurityGroups,
  type IpPermission,
  type SecurityGroup,
} from '@aws-sdk/client-ec2';
import type { AwsClients } from '../aws/clients';
import { ignoringNotFound } from '../aws/notFound';
import { clusterTags, managedTagMap, TagKeys, tagMapOf, tagsToUpdate, type Tag } from '../aws/tags';
import { UserError, awsErrorCode } from '../core/errors';
import { names } from '../aws/names';
import { retryWhileNotReady } from '../core/wait';
import { deleteEachOwned } from '../provider/cluster';
import { journaledWrite } from '../provider/journaledWrite';
import type { RunContext, Task, UndoRecord } from '../provider/types';
import { tagChanges, type FieldChange } from '../provider/fieldChange';
import type { Provider } from '../provider/provider';
import { taskRef } from '../provider/taskRef';
import type { ClusterView } from '../provider/clusterView';

export const SECURITY_GROUP_TYPE = 'AWS::EC2::SecurityGroup';

/** One ingress rule, flattened: protocol, port range and one source (the group itself or a CIDR). */
export interface IngressRule {
  protocol: 'tcp' | 'udp';
  fromPort: number;
  toPort: number;
  /** `self`, a CIDR, or another security group id (`sg-...`). */
  source: string;
  description?: string;
}

export interface SecurityGroupSpec {
  key: string;
  cluster: string;
  name: string;
  vpcId: string;
  sshCidrs: string[];
  apiCidrs: string[];
  /** Extra sources of HTTP/HTTPS traffic to instances (the ingress ALB's security groups). */
  ingressSources?: { securityGroupId: string; ports: number[] }[];
}

export interface SecurityGroupState {
  groupId: string;
  vpcId: string;
  name: string;
  rules: IngressRule[];
  tags: Record<string, string>;
}

/** The k3s ports between cluster members (k3s docs "Inbound Rules for K3s Nodes"). */
export function desiredRules(spec: SecurityGroupSpec): IngressRule[] {
  const rules: IngressRule[] = [
    { protocol: 'tcp', fromPort: 6443, toPort: 6443, source: 'self', description: 'k3s API server' },
    { protocol: 'tcp', fromPort: 2379, toPort: 2380, source: 'self', description: 'etcd' },
    { protocol: 'tcp', fromPort: 10250, toPort: 10250, source: 'self', description: 'kubelet metrics' },
    { protocol: 'udp', fromPort: 8472, toPort: 8472, source: 'self', description: 'flannel VXLAN' },
  ];
  for (const c of spec.sshCidrs) rules.push({ protocol: 'tcp', fromPort: 22, toPort: 22, source: c, description: 'SSH' });
  for (const c of spec.apiCidrs) rules.push({ protocol: 'tcp', fromPort: 6443, toPort: 6443, source: c, description: 'Kubernetes API' });
  for (const s of spec.ingressSources ?? []) {
    for (const p of s.ports) rules.push({ protocol: 'tcp', fromPort: p, toPort: p, source: s.securityGroupId, description: 'ingress load balancer' });
  }
  return rules;
}

export function ruleKey(r: IngressRule): string {
  return `${r.protocol}:${r.fromPort}-${r.toPort}:${r.source}`;
}

function rulesOf(sg: SecurityGroup): IngressRule[] {
  const out: IngressRule[] = [];
  for (const p of sg.IpPermissions ?? []) {
    const protocol = p.IpProtocol as 'tcp' | 'udp';
    const base = { protocol, fromPort: p.FromPort ?? 0, toPort: p.ToPort ?? 0 };
    for (const r of p.IpRanges ?? []) out.push({ ...base, source: r.CidrIp!, description: r.Description });
    for (const r of p.Ipv6Ranges ?? []) out.push({ ...base, source: r.CidrIpv6!, description: r.Description });
    for (const g of p.UserIdGroupPairs ?? []) out.push({ ...base, source: g.GroupId === sg.GroupId ? 'self' : g.GroupId!, description: g.Description });
  }
  return out;
}

function toPermissions(rules: IngressRule[], groupId: string): IpPermission[] {
  return rules.map((r) => {
    const p: IpPermission = { IpProtocol: r.protocol, FromPort: r.fromPort, ToPort: r.toPort };
    if (r.source === 'self' || r.source.startsWith('sg-')) p.UserIdGroupPairs = [{ GroupId: r.source === 'self' ? groupId : r.source, Description: r.description }];
    else if (r.source.includes(':')) p.Ipv6Ranges = [{ CidrIpv6: r.source, Description: r.description }];
    else p.IpRanges = [{ CidrIp: r.source, Description: r.description }];
    return p;
  });
}

function toState(sg: SecurityGroup): SecurityGroupState {
  return { groupId: sg.GroupId!, vpcId: sg.VpcId!, name: sg.GroupName!, rules: rulesOf(sg), tags: managedTagMap(sg.Tags as Tag[]) };
}

/** Security groups carrying the cluster's tag (role `cluster`), in any VPC. */
async function listClusterSecurityGroups(clients: AwsClients, cluster: string): Promise<SecurityGroupState[]> {
  const out: SecurityGroupState[] = [];
  const pages = paginateDescribeSecurityGroups(
    { client: clients.ec2 },
    {
      Filters: [
        { Name: `tag:${TagKeys.cluster}`, Values: [cluster] },
        { Name: `tag:${TagKeys.role}`, Values: ['cluster'] },
      ],
    },
  );
  for await (const page of pages) out.push(...(page.SecurityGroups ?? []).map(toState));
  return out;
}

/** Every cluster security group of the region (any cluster), with its cluster name. */
export async function listAllClusterSecurityGroups(clients: AwsClients): Promise<(SecurityGroupState & { cluster: string })[]> {
  const out: (SecurityGroupState & { cluster: string })[] = [];
  const pages = paginateDescribeSecurityGroups(
    { client: clients.ec2 },
    {
      Filters: [
        { Name: 'tag-key', Values: [TagKeys.cluster] },
        { Name: `tag:${TagKeys.role}`, Values: ['cluster'] },
      ],
    },
  );
  for await (const page of pages) {
    for (const sg of page.SecurityGroups ?? []) out.push({ ...toState(sg), cluster: toState(sg).tags[TagKeys.cluster] ?? '' });
  }
  return out.filter((g) => g.cluster);
}

/** The cluster's security group, or undefined; more than one is ambiguous and an error. */
export async function findClusterSecurityGroup(clients: AwsClients, cluster: string): Promise<SecurityGroupState | undefined> {
  const found = await listClusterSecurityGroups(clients, cluster);
  if (found.length > 1) {
    throw new UserError(
      `cluster ${cluster} has ${found.length} security groups tagged as its own: ${found.map((g) => `${g.groupId} (${g.vpcId})`).join(', ')}`,
      'delete the one that should not be there',
    );
  }
  return found[0];
}

/** Deletes a security group; NotFound is success. DependencyViolation is thrown (callers retry while instances terminate). */
export async function deleteSecurityGroup(clients: AwsClients, groupId: string): Promise<boolean> {
  return ignoringNotFound(() => clients.ec2.send(new DeleteSecurityGroupCommand({ GroupId: groupId })), 'InvalidGroup.NotFound');
}

/** The task of the cluster's security group (the launch templates name it). */
export const clusterSecurityGroupRef = taskRef<SecurityGroupState>('securityGroup');

/** The cluster's own group: SSH and the Kubernetes API from the allowed CIDRs, everything between its instances. */
function clusterSecurityGroupTasks(view: ClusterView): Task[] {
  return [
    securityGroupTask({
      key: clusterSecurityGroupRef.key,
      cluster: view.name,
      name: names.securityGroup(view.name),
      vpcId: view.vpcId,
      sshCidrs: view.sshCidrs,
      apiCidrs: view.apiCidrs,
    }),
  ];
}

export const securityGroupProvider: Provider = {
  type: SECURITY_GROUP_TYPE,
  iamActions: {
    read: ['ec2:DescribeSecurityGroups'],
    write: ['ec2:CreateSecurityGroup', 'ec2:AuthorizeSecurityGroupIngress', 'ec2:RevokeSecurityGroupIngress', 'ec2:CreateTags', 'ec2:DeleteSecurityGroup'],
    delete: ['ec2:DeleteSecurityGroup'],
  },
  dependsOn: [],
  clusterTasks: clusterSecurityGroupTasks,
  async discover(scope) {
    return (await listClusterSecurityGroups(scope.clients, scope.cluster)).map((g) => ({ name: names.securityGroup(scope.cluster), id: g.groupId }));
  },
  // DependencyViolation while network interfaces of terminated instances are released.
  deleteOwned: deleteEachOwned('delete the security group', SECURITY_GROUP_TYPE, (ctx, groupId) =>
    retryWhileNotReady(
      ctx,
      {
        what: `security group ${groupId} free of instances`,
        timeoutMs: 15 * 60_000 * (ctx.timeoutScale ?? 1),
        intervalMs: 5_000,
        retryable: (e) => (e as { name?: string })?.name === 'DependencyViolation',
      },
      () => deleteSecurityGroup(ctx.clients, groupId),
    ),
  ),
  undo: {
    delete: async (clients, data) => {
      await deleteSecurityGroup(clients, String(data.groupId));
    },
    restore: async (clients, data) => {
      const groupId = String(data.groupId);
      const added = (data.added as IngressRule[] | undefined) ?? [];
      const removed = (data.removed as IngressRule[] | undefined) ?? [];
      if (added.length) {
        try {
          await clients.ec2.send(new RevokeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions: toPermissions(added, groupId) }));
        } catch (error) {
          if (!/NotFound/.test(awsErrorCode(error) ?? '')) throw error;
        }
      }
      if (removed.length) {
        try {
          await clients.ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions: toPermissions(removed, groupId) }));
        } catch (error) {
          if (awsErrorCode(error) !== 'InvalidPermission.Duplicate') throw error;
        }
      }
    },
  },
};

/** One journaled write of this kind (the engine's write-ahead journal; undo kept when the write may have happened). */
function write<T>(ctx: RunContext, entry: { action: 'create' | 'update'; name: string; id?: string; undo?: UndoRecord }, fn: () => Promise<T>, describe?: (r: T) => { id?: string; undo?: UndoRecord }): Promise<T> {
  return journaledWrite(ctx, { ...entry, id: entry.id, type: SECURITY_GROUP_TYPE }, fn, describe);
}

export function securityGroupTask(spec: SecurityGroupSpec): Task<SecurityGroupState> {
  const tags = (): Tag[] => clusterTags(spec.cluster, 'cluster', { name: spec.name });
  const desired = desiredRules(spec);
  return {
    key: spec.key,
    type: SECURITY_GROUP_TYPE,
    name: spec.name,
    async find(ctx) {
      const found = await findClusterSecurityGroup(ctx.clients, spec.cluster);
      if (found && found.vpcId !== spec.vpcId) {
        throw new UserError(
          `cluster ${spec.cluster} already exists in ${ctx.region} in VPC ${found.vpcId}, not ${spec.vpcId}`,
          `use another cluster name, or delete the cluster first (k3sctl cluster delete ${spec.cluster})`,
          '--vpc-id',
        );
      }
      return found;
    },
    // Rules and tags change in place (Authorize/RevokeSecurityGroupIngress, CreateTags). Name, VPC and
    // description cannot, but they identify the group (found by them), so they are never a change.
    diff(actual) {
      const have = new Set(actual.rules.map(ruleKey));
      const want = new Set(desired.map(ruleKey));
      const changes: FieldChange[] = [];
      for (const r of desired) if (!have.has(ruleKey(r))) changes.push({ field: 'ingress', add: ruleKey(r) });
      for (const r of actual.rules) if (!want.has(ruleKey(r))) changes.push({ field: 'ingress', remove: ruleKey(r) });
      changes.push(...tagChanges(tags(), actual.tags));
      return changes;
    },
    async create(ctx) {
      const created = await write(
        ctx,
        { action: 'create', name: spec.name },
        () =>
          ctx.clients.ec2.send(
            new CreateSecurityGroupCommand({
              GroupName: spec.name,
              Description: `k3sctl cluster ${spec.cluster}`,
              VpcId: spec.vpcId,
              TagSpecifications: [{ ResourceType: 'security-group', Tags: tags() }],
            }),
          ),
        (r) => ({ id: r.GroupId, undo: { type: SECURITY_GROUP_TYPE, action: 'delete', data: { groupId: r.GroupId } } }),
      );
      const groupId = created.GroupId!;
      await write(ctx, { action: 'update', name: spec.name, id: groupId }, () =>
        ctx.clients.ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions: toPermissions(desired, groupId) })),
      );
      return { groupId, vpcId: spec.vpcId, name: spec.name, rules: desired, tags: tagMapOf(tags()) };
    },
    async update(actual, _changes, ctx) {
      const have = new Set(actual.rules.map(ruleKey));
      const want = new Set(desired.map(ruleKey));
      const add = desired.filter((r) => !have.has(ruleKey(r)));
      const remove = actual.rules.filter((r) => !want.has(ruleKey(r)));
      const id = actual.groupId;
      if (add.length) {
        await write(ctx, { action: 'update', name: spec.name, id, undo: { type: SECURITY_GROUP_TYPE, action: 'restore', data: { groupId: id, added: add } } }, () =>
          ctx.clients.ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: id, IpPermissions: toPermissions(add, id) })),
        );
      }
      if (remove.length) {
        await write(ctx, { action: 'update', name: spec.name, id, undo: { type: SECURITY_GROUP_TYPE, action: 'restore', data: { groupId: id, removed: remove } } }, () =>
          ctx.clients.ec2.send(new RevokeSecurityGroupIngressCommand({ GroupId: id, IpPermissions: toPermissions(remove, id) })),
        );
      }
      const missingTags = tagsToUpdate(tags(), actual.tags);
      if (missingTags.length) {
        await write(ctx, { action: 'update', name: spec.name, id }, () => ctx.clients.ec2.send(new CreateTagsCommand({ Resources: [id], Tags: missingTags })));
      }
      return { ...actual, rules: desired, tags: { ...actual.tags, ...tagMapOf(missingTags) } };
    },
    id: (actual) => actual.groupId,
  };
}
