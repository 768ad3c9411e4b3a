// IAM roles of a cluster's instances (control-plane, node): the role, its one inline least-privilege
// policy and its attached managed policies. Found by deterministic name, owned when tagged with the cluster.
import {
  AttachRolePolicyCommand,
  CreateRoleCommand,
  DeleteRoleCommand,
  DeleteRolePolicyCommand,
  DetachRolePolicyCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  PutRolePolicyCommand,
  RemoveRoleFromInstanceProfileCommand,
  TagRoleCommand,
  paginateListAttachedRolePolicies,
  paginateListInstanceProfilesForRole,
  paginateListRolePolicies,
} from '@aws-sdk/client-iam';
import type { AwsClients } from '../aws/clients';
import { ignoringNotFound } from '../aws/notFound';
import { clusterTags, describeTagChanges, managedTagMap, TagKeys, tagMapOf, tagsToUpdate, type Tag } from '../aws/tags';
import { UserError, awsErrorCode } from '../core/errors';
import { journaledWrite } from '../orchestration/engine/journal';
import type { RunContext, Task, UndoRecord } from '../orchestration/engine/types';
import { registerUndo } from './undo';

export const IAM_ROLE_TYPE = 'AWS::IAM::Role';
export const SSM_MANAGED_INSTANCE_CORE = 'arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore';

const EC2_TRUST = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }],
});

export interface IamRoleSpec {
  key: string;
  roleName: string;
  cluster: string;
  role: 'control-plane' | 'node';
  policyName: string;
  /** The inline policy for an account and partition (known from the role's ARN). */
  policy: (arn: { partition: string; accountId: string }) => object;
  managedPolicies: string[];
}

export interface IamRoleState {
  roleName: string;
  arn: string;
  tags: Record<string, string>;
  /** Normalised JSON of the inline policy, or undefined when missing. */
  policy?: string;
  attached: string[];
}

function arnParts(arn: string): { partition: string; accountId: string } {
  const p = arn.split(':');
  return { partition: p[1] ?? 'aws', accountId: p[4] ?? '' };
}

function managedPolicyArn(arn: string, partition: string): string {
  return arn.replace(/^arn:aws:/, `arn:${partition}:`);
}

/** Canonical form of a policy document (IAM returns it URL-encoded). */
export function normalizePolicy(doc: string | object): string {
  let text = typeof doc === 'string' ? doc : JSON.stringify(doc);
  if (/^%7B/i.test(text)) text = decodeURIComponent(text);
  try {
    return JSON.stringify(JSON.parse(text));
  } catch {
    return text;
  }
}

/** Read-only: the role with its inline policy and attachments, or undefined. */
export async function findIamRole(clients: AwsClients, roleName: string, policyName?: string): Promise<(IamRoleState & { owner?: string }) | undefined> {
  let role;
  try {
    role = (await clients.iam.send(new GetRoleCommand({ RoleName: roleName }))).Role;
  } catch (error) {
    if (awsErrorCode(error) === 'NoSuchEntity') return undefined;
    throw error;
  }
  if (!role) return undefined;
  let policy: string | undefined;
  if (policyName) {
    try {
      const p = await clients.iam.send(new GetRolePolicyCommand({ RoleName: roleName, PolicyName: policyName }));
      policy = p.PolicyDocument ? normalizePolicy(p.PolicyDocument) : undefined;
    } catch (error) {
      if (awsErrorCode(error) !== 'NoSuchEntity') throw error;
    }
  }
  const attached: string[] = [];
  for await (const page of paginateListAttachedRolePolicies({ client: clients.iam }, { RoleName: roleName })) {
    attached.push(...(page.AttachedPolicies ?? []).map((a) => a.PolicyArn!));
  }
  const tags = managedTagMap(role.Tags as Tag[]);
  return { roleName, arn: role.Arn!, tags, policy, attached, owner: tags[TagKeys.cluster] };
}

/** Deletes a role with its inline policies, attachments and instance-profile memberships. NotFound is success. */
export async function deleteIamRole(clients: AwsClients, roleName: string): Promise<boolean> {
  const ignoreMissing = (call: () => Promise<unknown>) => ignoringNotFound(call, 'NoSuchEntity');
  try {
    await clients.iam.send(new GetRoleCommand({ RoleName: roleName }));
  } catch (error) {
    if (awsErrorCode(error) === 'NoSuchEntity') return false;
    throw error;
  }
  const inline: string[] = [];
  for await (const page of paginateListRolePolicies({ client: clients.iam }, { RoleName: roleName })) inline.push(...(page.PolicyNames ?? []));
  for (const PolicyName of inline) await ignoreMissing(() => clients.iam.send(new DeleteRolePolicyCommand({ RoleName: roleName, PolicyName })));
  const state = await findIamRole(clients, roleName);
  for (const PolicyArn of state?.attached ?? []) await ignoreMissing(() => clients.iam.send(new DetachRolePolicyCommand({ RoleName: roleName, PolicyArn })));
  const profiles: string[] = [];
  for await (const page of paginateListInstanceProfilesForRole({ client: clients.iam }, { RoleName: roleName })) {
    profiles.push(...(page.InstanceProfiles ?? []).map((p) => p.InstanceProfileName!));
  }
  for (const InstanceProfileName of profiles) {
    await ignoreMissing(() => clients.iam.send(new RemoveRoleFromInstanceProfileCommand({ InstanceProfileName, RoleName: roleName })));
  }
  await ignoreMissing(() => clients.iam.send(new DeleteRoleCommand({ RoleName: roleName })));
  return true;
}

registerUndo(IAM_ROLE_TYPE, {
  delete: async (clients, data) => {
    await deleteIamRole(clients, String(data.roleName));
  },
  restore: async (clients, data) => {
    if (typeof data.policy === 'string' && data.policyName) {
      await clients.iam.send(new PutRolePolicyCommand({ RoleName: String(data.roleName), PolicyName: String(data.policyName), PolicyDocument: data.policy }));
    }
  },
});

/** One journaled write of this kind (the engine's write-ahead journal; undo kept when the write may have happened). */
function write<T>(ctx: RunContext, entry: { action: 'create' | 'update'; name: string; id?: string; undo?: UndoRecord }, fn: () => Promise<T>): Promise<T> {
  return journaledWrite(ctx, { ...entry, id: entry.id, type: IAM_ROLE_TYPE }, fn);
}

function desiredTags(spec: IamRoleSpec): Tag[] {
  return clusterTags(spec.cluster, spec.role, { name: spec.roleName });
}

/** The instance role of one cluster role (control-plane or node). */
export function iamRoleTask(spec: IamRoleSpec): Task<IamRoleState> {
  return {
    key: spec.key,
    type: IAM_ROLE_TYPE,
    name: spec.roleName,
    async find(ctx) {
      const found = await findIamRole(ctx.clients, spec.roleName, spec.policyName);
      if (found && found.owner !== spec.cluster) {
        throw new UserError(
          `IAM role ${spec.roleName} exists but is not owned by cluster ${spec.cluster} (tag ${TagKeys.cluster}=${found.owner ?? 'none'})`,
          'delete or rename that role, or pick another cluster name',
        );
      }
      return found;
    },
    diff(actual) {
      const changes: string[] = [];
      const { partition, accountId } = arnParts(actual.arn);
      if (actual.policy !== normalizePolicy(spec.policy({ partition, accountId }))) changes.push(`inline policy ${spec.policyName}: ${actual.policy ? 'changed' : 'missing'}`);
      for (const arn of spec.managedPolicies.map((a) => managedPolicyArn(a, partition))) {
        if (!actual.attached.includes(arn)) changes.push(`attach ${arn}`);
      }
      changes.push(...describeTagChanges(desiredTags(spec), actual.tags));
      return changes;
    },
    async create(ctx) {
      const undo: UndoRecord = { type: IAM_ROLE_TYPE, action: 'delete', data: { roleName: spec.roleName } };
      const created = await write(ctx, { action: 'create', name: spec.roleName, undo }, () =>
        ctx.clients.iam.send(
          new CreateRoleCommand({
            RoleName: spec.roleName,
            AssumeRolePolicyDocument: EC2_TRUST,
            Description: `k3sctl ${spec.role} instances of cluster ${spec.cluster}`,
            Tags: desiredTags(spec),
          }),
        ),
      );
      const arn = created.Role!.Arn!;
      const { partition, accountId } = arnParts(arn);
      const policy = normalizePolicy(spec.policy({ partition, accountId }));
      // Further writes on the new role are undone by deleting the role (its policies go with it).
      await write(ctx, { action: 'update', name: spec.roleName }, () =>
        ctx.clients.iam.send(new PutRolePolicyCommand({ RoleName: spec.roleName, PolicyName: spec.policyName, PolicyDocument: policy })),
      );
      const attached: string[] = [];
      for (const a of spec.managedPolicies) {
        const PolicyArn = managedPolicyArn(a, partition);
        await write(ctx, { action: 'update', name: spec.roleName }, () => ctx.clients.iam.send(new AttachRolePolicyCommand({ RoleName: spec.roleName, PolicyArn })));
        attached.push(PolicyArn);
      }
      return { roleName: spec.roleName, arn, tags: tagMapOf(desiredTags(spec)), policy, attached };
    },
    async update(actual, _changes, ctx) {
      const { partition, accountId } = arnParts(actual.arn);
      const policy = normalizePolicy(spec.policy({ partition, accountId }));
      if (actual.policy !== policy) {
        const undo: UndoRecord | undefined = actual.policy
          ? { type: IAM_ROLE_TYPE, action: 'restore', data: { roleName: spec.roleName, policyName: spec.policyName, policy: actual.policy } }
          : undefined;
        await write(ctx, { action: 'update', name: spec.roleName, id: actual.arn, undo }, () =>
          ctx.clients.iam.send(new PutRolePolicyCommand({ RoleName: spec.roleName, PolicyName: spec.policyName, PolicyDocument: policy })),
        );
      }
      const attached = [...actual.attached];
      for (const PolicyArn of spec.managedPolicies.map((a) => managedPolicyArn(a, partition))) {
        if (attached.includes(PolicyArn)) continue;
        await write(ctx, { action: 'update', name: spec.roleName, id: actual.arn }, () => ctx.clients.iam.send(new AttachRolePolicyCommand({ RoleName: spec.roleName, PolicyArn })));
        attached.push(PolicyArn);
      }
      const tags = tagsToUpdate(desiredTags(spec), actual.tags);
      if (tags.length) {
        await write(ctx, { action: 'update', name: spec.roleName, id: actual.arn }, () => ctx.clients.iam.send(new TagRoleCommand({ RoleName: spec.roleName, Tags: tags })));
      }
      return { ...actual, policy, attached, tags: { ...actual.tags, ...tagMapOf(tags) } };
    },
    id: (actual) => actual.arn,
  };
}

/** Least-privilege inline policy of control-plane instances. */
export function controlPlanePolicy(cluster: string, region: string, parameterPrefix: string, initializedParameter: string) {
  return ({ partition, accountId }: { partition: string; accountId: string }) => ({
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'ReadClusterParameters',
        Effect: 'Allow',
        Action: ['ssm:GetParameter', 'ssm:GetParameters'],
        Resource: `arn:${partition}:ssm:${region}:${accountId}:parameter${parameterPrefix}/*`,
      },
      {
        Sid: 'MarkClusterInitialized',
        Effect: 'Allow',
        Action: ['ssm:PutParameter'],
        Resource: `arn:${partition}:ssm:${region}:${accountId}:parameter${initializedParameter}`,
      },
      {
        // Describe* calls support no resource-level permissions.
        Sid: 'DiscoverClusterInstances',
        Effect: 'Allow',
        Action: ['ec2:DescribeInstances', 'autoscaling:DescribeAutoScalingGroups', 'autoscaling:DescribeAutoScalingInstances'],
        Resource: '*',
      },
      {
        Sid: 'CompleteClusterLifecycleActions',
        Effect: 'Allow',
        Action: ['autoscaling:CompleteLifecycleAction', 'autoscaling:RecordLifecycleActionHeartbeat'],
        Resource: `arn:${partition}:autoscaling:${region}:${accountId}:autoScalingGroup:*:autoScalingGroupName/k3sctl-${cluster}-*`,
        Condition: { StringEquals: { [`autoscaling:ResourceTag/${TagKeys.cluster}`]: cluster } },
      },
    ],
  });
}

/** Least-privilege inline policy of node instances: the agent token only. */
export function nodePolicy(region: string, agentTokenParameter: string) {
  return ({ partition, accountId }: { partition: string; accountId: string }) => ({
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'ReadAgentToken',
        Effect: 'Allow',
        Action: ['ssm:GetParameter'],
        Resource: `arn:${partition}:ssm:${region}:${accountId}:parameter${agentTokenParameter}`,
      },
      { Sid: 'DiscoverControlPlanes', Effect: 'Allow', Action: ['ec2:DescribeInstances'], Resource: '*' },
    ],
  });
}
