// IAM roles of a cluster's instances (control-plane, node): the role, its inline least-privilege policies
// and the documents of those policies. No AWS managed policy is attached: AmazonSSMManagedInstanceCore
// (attached by earlier versions, detached on converge) allows ssm:GetParameter(s) on "*", which would
// let any node read the server token. Found by deterministic name, owned when tagged with the cluster.
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
  type Role,
} from '@aws-sdk/client-iam';
import type { AwsClients } from '../aws/clients';
import { ignoringNotFound } from '../aws/notFound';
import { clusterTags, managedTagMap, TagKeys, tagMapOf, tagsToUpdate, tagValue, type Tag } from '../aws/tags';
import { UserError, awsErrorCode } from '../core/errors';
import { names } from '../aws/names';
import { deleteEachOwned, type ClusterScope } from '../provider/cluster';
import { journaledWrite } from '../provider/journaledWrite';
import type { RunContext, Task, UndoRecord } from '../provider/types';
import { tagChanges, type FieldChange } from '../provider/fieldChange';
import type { Provider } from '../provider/provider';
import { taskRef } from '../provider/taskRef';
import type { ClusterView } from '../provider/clusterView';

export const IAM_ROLE_TYPE = 'AWS::IAM::Role';
/** Attached to instance roles by earlier k3sctl versions; detached when found (see the module header). */
export const SSM_MANAGED_INSTANCE_CORE = 'arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore';
/** Managed policies k3sctl once attached and now detaches; any other attachment is the user's and is left alone. */
const RETIRED_MANAGED_POLICIES = [SSM_MANAGED_INSTANCE_CORE];

export const SSM_AGENT_POLICY_NAME = 'k3sctl-ssm-agent';
export const NODE_SERVER_TOKEN_DENY_POLICY_NAME = 'k3sctl-node-deny-server-token';

const EC2_TRUST = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }],
});

export interface PolicyStatement {
  Sid: string;
  Effect: 'Allow' | 'Deny';
  Action: string[];
  Resource: string | string[];
  Condition?: Record<string, Record<string, string>>;
}

export interface PolicyDocument {
  Version: '2012-10-17';
  Statement: PolicyStatement[];
}

/** The account and partition of a role, known from its ARN once it exists. */
export interface RoleAccount {
  partition: string;
  accountId: string;
}

/** An inline policy for the role's account and partition. */
export type PolicyBuilder = (account: RoleAccount) => PolicyDocument;

export interface IamRoleSpec {
  key: string;
  roleName: string;
  cluster: string;
  role: 'control-plane' | 'node';
  /** The role's inline policies by name; inline policies of other names are left alone. */
  policies: Record<string, PolicyBuilder>;
  /** Managed policy ARNs to attach (`arn:aws:` is rewritten to the role's partition). */
  managedPolicies: string[];
}

export interface IamRoleState {
  roleName: string;
  arn: string;
  tags: Record<string, string>;
  /** Normalised JSON of each inline policy asked for that exists, by name. */
  policies: Record<string, string>;
  attached: string[];
}

function arnParts(arn: string): RoleAccount {
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

/** Read-only: the role with the named inline policies and its attachments, or undefined. */
/** The role of that name (GetRole), or undefined when it does not exist. */
async function getRole(clients: AwsClients, roleName: string): Promise<Role | undefined> {
  try {
    return (await clients.iam.send(new GetRoleCommand({ RoleName: roleName }))).Role;
  } catch (error) {
    if (awsErrorCode(error) === 'NoSuchEntity') return undefined;
    throw error;
  }
}

/** The ARNs of the managed policies attached to a role (every page). */
async function attachedPolicies(clients: AwsClients, roleName: string): Promise<string[]> {
  const attached: string[] = [];
  for await (const page of paginateListAttachedRolePolicies({ client: clients.iam }, { RoleName: roleName })) {
    attached.push(...(page.AttachedPolicies ?? []).map((a) => a.PolicyArn!));
  }
  return attached;
}

async function findIamRole(clients: AwsClients, roleName: string, policyNames: string[] = []): Promise<(IamRoleState & { owner?: string }) | undefined> {
  const role = await getRole(clients, roleName);
  if (!role) return undefined;
  const policies: Record<string, string> = {};
  for (const PolicyName of policyNames) {
    try {
      const p = await clients.iam.send(new GetRolePolicyCommand({ RoleName: roleName, PolicyName }));
      if (p.PolicyDocument) policies[PolicyName] = normalizePolicy(p.PolicyDocument);
    } catch (error) {
      if (awsErrorCode(error) !== 'NoSuchEntity') throw error;
    }
  }
  const attached = await attachedPolicies(clients, roleName);
  const tags = managedTagMap(role.Tags as Tag[]);
  return { roleName, arn: role.Arn!, tags, policies, attached, owner: tags[TagKeys.cluster] };
}

/** Deletes a role with its inline policies, attachments and instance-profile memberships. NotFound is success. */
export async function deleteIamRole(clients: AwsClients, roleName: string): Promise<boolean> {
  const ignoreMissing = (call: () => Promise<unknown>) => ignoringNotFound(call, 'NoSuchEntity');
  if (!(await getRole(clients, roleName))) return false;
  const inline: string[] = [];
  for await (const page of paginateListRolePolicies({ client: clients.iam }, { RoleName: roleName })) inline.push(...(page.PolicyNames ?? []));
  // Independent of each other: the role's policies go together.
  await Promise.all(
    inline.map((PolicyName) =>
      ignoreMissing(() => clients.iam.send(new DeleteRolePolicyCommand({ RoleName: roleName, PolicyName }))),
    ),
  );
  await Promise.all(
    (await attachedPolicies(clients, roleName)).map((PolicyArn) =>
      ignoreMissing(() => clients.iam.send(new DetachRolePolicyCommand({ RoleName: roleName, PolicyArn }))),
    ),
  );
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

export type InstanceRole = 'control-plane' | 'node';
const INSTANCE_ROLES: readonly InstanceRole[] = ['control-plane', 'node'];

/** The name of the cluster's instance role for `role` (its instance profile has the same name). */
export function clusterRoleName(cluster: string, region: string, role: InstanceRole): string {
  return role === 'control-plane' ? names.controlPlaneRole(cluster, region) : names.nodeRole(cluster, region);
}

/** The cluster's two instance roles (control planes, nodes): each has an instance profile of its name. */
export function clusterRoleNames(scope: Pick<ClusterScope, 'cluster' | 'region'>): string[] {
  return INSTANCE_ROLES.map((role) => clusterRoleName(scope.cluster, scope.region, role));
}

/** The task of the cluster's instance role for `role`, in the runs that converge a cluster. */
export const clusterRoleRef = (role: InstanceRole) => taskRef<IamRoleState>(`iamRole/${role}`);

/** The parameters the cluster's instance roles may read and write (by name). */
export function instanceRoleScope(cluster: string, region: string): InstanceRoleScope {
  return {
    cluster,
    region,
    serverToken: names.ssmServerToken(cluster),
    agentToken: names.ssmAgentToken(cluster),
    initialized: names.ssmInitialized(cluster),
    bootstrapFailures: names.ssmBootstrapFailures(cluster),
  };
}

/** The cluster's two instance roles with their least-privilege inline policies. */
function clusterRoleTasks(view: ClusterView): Task[] {
  const scope = instanceRoleScope(view.name, view.region);
  return INSTANCE_ROLES.map((role) =>
    iamRoleTask({
      key: clusterRoleRef(role).key,
      roleName: clusterRoleName(view.name, view.region, role),
      cluster: view.name,
      role,
      policies: instanceRolePolicies(role, scope),
      managedPolicies: [],
    }),
  );
}

export const iamRoleProvider: Provider = {
  type: IAM_ROLE_TYPE,
  iamActions: {
    read: ['iam:GetRole', 'iam:GetRolePolicy', 'iam:ListRolePolicies', 'iam:ListAttachedRolePolicies', 'iam:ListInstanceProfilesForRole'],
    write: ['iam:CreateRole', 'iam:TagRole', 'iam:PutRolePolicy', 'iam:DeleteRolePolicy', 'iam:AttachRolePolicy', 'iam:DetachRolePolicy', 'iam:RemoveRoleFromInstanceProfile', 'iam:DeleteRole'],
    delete: ['iam:RemoveRoleFromInstanceProfile', 'iam:DeleteRolePolicy', 'iam:DetachRolePolicy', 'iam:DeleteRole'],
  },
  dependsOn: [],
  clusterTasks: clusterRoleTasks,
  async discover(scope) {
    const roles = clusterRoleNames(scope);
    // The owner tag is all discovery needs: GetRole alone.
    const found = await Promise.all(roles.map((r) => getRole(scope.clients, r)));
    return roles.filter((_, i) => tagValue(found[i]?.Tags, TagKeys.cluster) === scope.cluster).map((r) => ({ name: r, id: r }));
  },
  // After the instance profiles (they depend on the roles): IAM refuses to delete a role still in one.
  deleteOwned: deleteEachOwned('delete IAM roles', IAM_ROLE_TYPE, (ctx, name) => deleteIamRole(ctx.clients, name)),
  undo: {
    delete: async (clients, data) => {
      await deleteIamRole(clients, String(data.roleName));
    },
    // data: { roleName, policyName, policy } puts the previous document back (policy null: there was none,
    // delete it); { roleName, attach } re-attaches a detached managed policy; { roleName, detach } removes one.
    restore: async (clients, data) => {
      const RoleName = String(data.roleName);
      const ignoreMissing = (call: () => Promise<unknown>) => ignoringNotFound(call, 'NoSuchEntity');
      if (typeof data.policyName === 'string') {
        const PolicyName = data.policyName;
        if (typeof data.policy === 'string') {
          await clients.iam.send(new PutRolePolicyCommand({ RoleName, PolicyName, PolicyDocument: data.policy }));
        } else if (data.policy === null) {
          await ignoreMissing(() => clients.iam.send(new DeleteRolePolicyCommand({ RoleName, PolicyName })));
        }
      }
      if (typeof data.attach === 'string') await clients.iam.send(new AttachRolePolicyCommand({ RoleName, PolicyArn: data.attach }));
      if (typeof data.detach === 'string') {
        const PolicyArn = data.detach;
        await ignoreMissing(() => clients.iam.send(new DetachRolePolicyCommand({ RoleName, PolicyArn })));
      }
    },
  },
};

/** One journaled write of this kind (the engine's write-ahead journal; undo kept when the write may have happened). */
function write<T>(ctx: RunContext, entry: { action: 'create' | 'update'; name: string; id?: string; undo?: UndoRecord }, fn: () => Promise<T>): Promise<T> {
  return journaledWrite(ctx, { ...entry, id: entry.id, type: IAM_ROLE_TYPE }, fn);
}

function desiredTags(spec: IamRoleSpec): Tag[] {
  return clusterTags(spec.cluster, spec.role, { name: spec.roleName });
}

/** What the spec asks for in the role's account: inline documents (normalised), managed ARNs to attach and to detach. */
function desiredPolicies(spec: IamRoleSpec, account: RoleAccount) {
  const inline = Object.entries(spec.policies).map(([name, build]) => [name, normalizePolicy(build(account))] as const);
  const attach = spec.managedPolicies.map((a) => managedPolicyArn(a, account.partition));
  const retired = RETIRED_MANAGED_POLICIES.map((a) => managedPolicyArn(a, account.partition)).filter((a) => !attach.includes(a));
  return { inline, attach, retired };
}

/** The instance role of one cluster role (control-plane or node). */
export function iamRoleTask(spec: IamRoleSpec): Task<IamRoleState> {
  const restore = (data: Record<string, unknown>): UndoRecord => ({ type: IAM_ROLE_TYPE, action: 'restore', data: { roleName: spec.roleName, ...data } });
  return {
    key: spec.key,
    type: IAM_ROLE_TYPE,
    name: spec.roleName,
    async find(ctx) {
      const found = await findIamRole(ctx.clients, spec.roleName, Object.keys(spec.policies));
      if (found && found.owner !== spec.cluster) {
        throw new UserError(
          `IAM role ${spec.roleName} exists but is not owned by cluster ${spec.cluster} (tag ${TagKeys.cluster}=${found.owner ?? 'none'})`,
          'delete or rename that role, or pick another cluster name',
        );
      }
      return found;
    },
    // Policies and tags change in place (PutRolePolicy, Attach/DetachRolePolicy, TagRole): no replacement.
    diff(actual) {
      const changes: FieldChange[] = [];
      const { inline, attach, retired } = desiredPolicies(spec, arnParts(actual.arn));
      for (const [name, policy] of inline) {
        if (actual.policies[name] !== policy) changes.push({ field: `inline policy ${name}`, status: actual.policies[name] ? 'changed' : 'missing' });
      }
      for (const arn of attach) if (!actual.attached.includes(arn)) changes.push({ field: 'managed policy', attach: arn });
      for (const arn of retired) if (actual.attached.includes(arn)) changes.push({ field: 'managed policy', detach: arn });
      changes.push(...tagChanges(desiredTags(spec), actual.tags));
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
      const { inline, attach } = desiredPolicies(spec, arnParts(arn));
      // Further writes on the new role are undone by deleting the role (its policies go with it).
      for (const [PolicyName, PolicyDocument] of inline) {
        await write(ctx, { action: 'update', name: spec.roleName }, () =>
          ctx.clients.iam.send(new PutRolePolicyCommand({ RoleName: spec.roleName, PolicyName, PolicyDocument })),
        );
      }
      for (const PolicyArn of attach) {
        await write(ctx, { action: 'update', name: spec.roleName }, () => ctx.clients.iam.send(new AttachRolePolicyCommand({ RoleName: spec.roleName, PolicyArn })));
      }
      return { roleName: spec.roleName, arn, tags: tagMapOf(desiredTags(spec)), policies: Object.fromEntries(inline), attached: attach };
    },
    async update(actual, _changes, ctx) {
      const { inline, attach, retired } = desiredPolicies(spec, arnParts(actual.arn));
      const id = actual.arn;
      // Policies are put before the retired managed policy is detached, so the SSM agent never loses
      // a permission in between; rollback undoes them in reverse (re-attach first, then the puts).
      const policies = { ...actual.policies };
      for (const [PolicyName, PolicyDocument] of inline) {
        if (policies[PolicyName] === PolicyDocument) continue;
        const undo = restore({ policyName: PolicyName, policy: policies[PolicyName] ?? null });
        await write(ctx, { action: 'update', name: spec.roleName, id, undo }, () =>
          ctx.clients.iam.send(new PutRolePolicyCommand({ RoleName: spec.roleName, PolicyName, PolicyDocument })),
        );
        policies[PolicyName] = PolicyDocument;
      }
      let attached = [...actual.attached];
      for (const PolicyArn of attach) {
        if (attached.includes(PolicyArn)) continue;
        await write(ctx, { action: 'update', name: spec.roleName, id, undo: restore({ detach: PolicyArn }) }, () =>
          ctx.clients.iam.send(new AttachRolePolicyCommand({ RoleName: spec.roleName, PolicyArn })),
        );
        attached.push(PolicyArn);
      }
      for (const PolicyArn of retired) {
        if (!attached.includes(PolicyArn)) continue;
        await write(ctx, { action: 'update', name: spec.roleName, id, undo: restore({ attach: PolicyArn }) }, () =>
          ignoringNotFound(() => ctx.clients.iam.send(new DetachRolePolicyCommand({ RoleName: spec.roleName, PolicyArn })), 'NoSuchEntity'),
        );
        attached = attached.filter((a) => a !== PolicyArn);
      }
      const tags = tagsToUpdate(desiredTags(spec), actual.tags);
      if (tags.length) {
        await write(ctx, { action: 'update', name: spec.roleName, id }, () => ctx.clients.iam.send(new TagRoleCommand({ RoleName: spec.roleName, Tags: tags })));
      }
      return { ...actual, policies, attached, tags: { ...actual.tags, ...tagMapOf(tags) } };
    },
    id: (actual) => actual.arn,
  };
}

/** What an instance role's policies are scoped to: the cluster, its region and its SSM parameter names (src/config/names.ts). */
export interface InstanceRoleScope {
  cluster: string;
  region: string;
  serverToken: string;
  agentToken: string;
  initialized: string;
  /** Prefix under which an instance whose bootstrap failed records why (`PREFIX/INSTANCE_ID`). */
  bootstrapFailures: string;
}

function parameterArn(scope: InstanceRoleScope, { partition, accountId }: RoleAccount, name: string): string {
  return `arn:${partition}:ssm:${scope.region}:${accountId}:parameter${name}`;
}

/**
 * `/a/b/c` -> `/`, `/a`, `/a/`, `/a/b`, `/a/b/`: the paths whose GetParametersByPath (recursive) returns
 * the parameter, each as written and with a trailing slash (an accepted Path too).
 */
function parentPaths(name: string): string[] {
  const parents = name.split('/').filter(Boolean).slice(0, -1);
  return ['/', ...parents.flatMap((_, i) => [`/${parents.slice(0, i + 1).join('/')}`, `/${parents.slice(0, i + 1).join('/')}/`])];
}

/**
 * The cluster's Auto Scaling groups (names k3sctl-CLUSTER-GROUP), decided by their tags since a cluster
 * NAME-x shares the name prefix. Auto Scaling takes autoscaling:ResourceTag/KEY (and aws:ResourceTag/KEY)
 * for the actions on a group; the former is the one its user guide documents.
 */
function clusterGroups(scope: InstanceRoleScope, { partition, accountId }: RoleAccount, role?: 'control-plane' | 'node') {
  const tags: Record<string, string> = { [`autoscaling:ResourceTag/${TagKeys.cluster}`]: scope.cluster };
  if (role) tags[`autoscaling:ResourceTag/${TagKeys.role}`] = role;
  return {
    Resource: `arn:${partition}:autoscaling:${scope.region}:${accountId}:autoScalingGroup:*:autoScalingGroupName/k3sctl-${scope.cluster}-*`,
    Condition: { StringEquals: tags },
  };
}

/** Statements both roles share: the bootstrap-failure path (mark the instance unhealthy, record why). */
function bootstrapFailureStatements(scope: InstanceRoleScope, account: RoleAccount, role: 'control-plane' | 'node'): PolicyStatement[] {
  return [
    {
      Sid: 'RecordBootstrapFailure',
      Effect: 'Allow',
      Action: ['ssm:PutParameter'],
      Resource: parameterArn(scope, account, `${scope.bootstrapFailures}/*`),
    },
    {
      // An instance can only mark instances of its own role's groups: a node cannot take control planes out.
      Sid: 'MarkInstanceUnhealthy',
      Effect: 'Allow',
      Action: ['autoscaling:SetInstanceHealth'],
      ...clusterGroups(scope, account, role),
    },
  ];
}

/** Inline policy of control-plane instances: both tokens and `initialized` of their own cluster, the leave handler's Auto Scaling calls. */
export function controlPlanePolicy(scope: InstanceRoleScope): PolicyBuilder {
  return (account) => ({
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'ReadClusterTokens',
        Effect: 'Allow',
        Action: ['ssm:GetParameter', 'ssm:GetParameters'],
        Resource: [scope.serverToken, scope.agentToken, scope.initialized].map((name) => parameterArn(scope, account, name)),
      },
      {
        Sid: 'MarkClusterInitialized',
        Effect: 'Allow',
        Action: ['ssm:PutParameter'],
        Resource: parameterArn(scope, account, scope.initialized),
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
        ...clusterGroups(scope, account),
      },
      ...bootstrapFailureStatements(scope, account, 'control-plane'),
    ],
  });
}

/** Inline policy of node instances: the agent token only. */
export function nodePolicy(scope: InstanceRoleScope): PolicyBuilder {
  return (account) => ({
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'ReadAgentToken',
        Effect: 'Allow',
        Action: ['ssm:GetParameter'],
        Resource: parameterArn(scope, account, scope.agentToken),
      },
      { Sid: 'DiscoverControlPlanes', Effect: 'Allow', Action: ['ec2:DescribeInstances'], Resource: '*' },
      ...bootstrapFailureStatements(scope, account, 'node'),
    ],
  });
}

/**
 * Defence in depth for nodes: an explicit Deny of every read of the server token, which no other policy
 * attached to the role can override. GetParametersByPath is authorised on the path, not on the parameters
 * it returns, so a Deny on the token alone would not stop a recursive read of a parent path.
 */
export function nodeServerTokenDenyPolicy(scope: InstanceRoleScope): PolicyBuilder {
  return (account) => ({
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'DenyServerTokenReads',
        Effect: 'Deny',
        Action: ['ssm:GetParameter', 'ssm:GetParameters', 'ssm:GetParameterHistory', 'ssm:GetParametersByPath'],
        Resource: parameterArn(scope, account, scope.serverToken),
      },
      {
        Sid: 'DenyServerTokenPathReads',
        Effect: 'Deny',
        Action: ['ssm:GetParametersByPath'],
        Resource: parentPaths(scope.serverToken).map((path) => parameterArn(scope, account, path)),
      },
    ],
  });
}

/**
 * What the SSM agent needs for Run Command and Session Manager: the actions of the AWS managed policy
 * AmazonSSMManagedInstanceCore minus ssm:GetParameter and ssm:GetParameters (its "*" parameter reads).
 */
export const ssmAgentPolicy: PolicyBuilder = () => ({
  Version: '2012-10-17',
  Statement: [
    {
      Sid: 'SsmAgent',
      Effect: 'Allow',
      Action: [
        'ssm:DescribeAssociation',
        'ssm:GetDeployablePatchSnapshotForInstance',
        'ssm:GetDocument',
        'ssm:DescribeDocument',
        'ssm:GetManifest',
        'ssm:ListAssociations',
        'ssm:ListInstanceAssociations',
        'ssm:PutInventory',
        'ssm:PutComplianceItems',
        'ssm:PutConfigurePackageResult',
        'ssm:UpdateAssociationStatus',
        'ssm:UpdateInstanceAssociationStatus',
        'ssm:UpdateInstanceInformation',
      ],
      Resource: '*',
    },
    {
      Sid: 'SsmAgentSessionChannels',
      Effect: 'Allow',
      Action: ['ssmmessages:CreateControlChannel', 'ssmmessages:CreateDataChannel', 'ssmmessages:OpenControlChannel', 'ssmmessages:OpenDataChannel'],
      Resource: '*',
    },
    {
      Sid: 'SsmAgentRunCommandMessages',
      Effect: 'Allow',
      Action: [
        'ec2messages:AcknowledgeMessage',
        'ec2messages:DeleteMessage',
        'ec2messages:FailMessage',
        'ec2messages:GetEndpoint',
        'ec2messages:GetMessages',
        'ec2messages:SendReply',
      ],
      Resource: '*',
    },
  ],
});

/** The inline policies of an instance role, by name. */
export function instanceRolePolicies(role: 'control-plane' | 'node', scope: InstanceRoleScope): Record<string, PolicyBuilder> {
  return role === 'control-plane'
    ? { 'k3sctl-control-plane': controlPlanePolicy(scope), [SSM_AGENT_POLICY_NAME]: ssmAgentPolicy }
    : { 'k3sctl-node': nodePolicy(scope), [NODE_SERVER_TOKEN_DENY_POLICY_NAME]: nodeServerTokenDenyPolicy(scope), [SSM_AGENT_POLICY_NAME]: ssmAgentPolicy };
}
