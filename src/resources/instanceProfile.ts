// IAM instance profiles of a cluster's roles: same name as the role, holding exactly that role.
import {
  AddRoleToInstanceProfileCommand,
  CreateInstanceProfileCommand,
  DeleteInstanceProfileCommand,
  GetInstanceProfileCommand,
  RemoveRoleFromInstanceProfileCommand,
} from '@aws-sdk/client-iam';
import type { AwsClients } from '../aws/clients';
import { ignoringNotFound } from '../aws/notFound';
import { clusterTags, managedTagMap, TagKeys, tagMapOf, type Tag } from '../aws/tags';
import { UserError, awsErrorCode } from '../core/errors';
import { deleteEachOwned } from '../provider/cluster';
import { clusterRoleName, clusterRoleNames, clusterRoleRef, type InstanceRole } from './iamRole';
import { journaledWrite } from '../provider/journaledWrite';
import type { RunContext, Task, TaskRef, UndoRecord } from '../provider/types';
import type { IamRoleState } from './iamRole';
import type { FieldChange } from '../provider/fieldChange';
import type { Provider } from '../provider/provider';
import { taskRef } from '../provider/taskRef';
import type { ClusterView } from '../provider/clusterView';

export const INSTANCE_PROFILE_TYPE = 'AWS::IAM::InstanceProfile';

export interface InstanceProfileSpec {
  key: string;
  name: string;
  cluster: string;
  role: 'control-plane' | 'node';
  /** The role's task: the profile is created after it. */
  roleTask: TaskRef<IamRoleState>;
  roleName: string;
}

export interface InstanceProfileState {
  name: string;
  arn: string;
  roles: string[];
  tags: Record<string, string>;
}

async function findInstanceProfile(clients: AwsClients, name: string): Promise<InstanceProfileState | undefined> {
  try {
    const p = (await clients.iam.send(new GetInstanceProfileCommand({ InstanceProfileName: name }))).InstanceProfile;
    if (!p) return undefined;
    return { name, arn: p.Arn!, roles: (p.Roles ?? []).map((r) => r.RoleName!), tags: managedTagMap(p.Tags as Tag[]) };
  } catch (error) {
    if (awsErrorCode(error) === 'NoSuchEntity') return undefined;
    throw error;
  }
}

/** Removes the roles, then deletes the profile. NotFound is success; returns false when it did not exist. */
export async function deleteInstanceProfile(clients: AwsClients, name: string): Promise<boolean> {
  const p = await findInstanceProfile(clients, name);
  if (!p) return false;
  for (const RoleName of p.roles) {
    await ignoringNotFound(() => clients.iam.send(new RemoveRoleFromInstanceProfileCommand({ InstanceProfileName: name, RoleName })), 'NoSuchEntity');
  }
  await ignoringNotFound(() => clients.iam.send(new DeleteInstanceProfileCommand({ InstanceProfileName: name })), 'NoSuchEntity');
  return true;
}

/** The task of the instance profile of the cluster's role `role` (the launch templates name it). */
export const clusterInstanceProfileRef = (role: InstanceRole) => taskRef<InstanceProfileState>(`instanceProfile/${role}`);

/** One profile per instance role, of the role's name. */
function clusterProfileTasks(view: ClusterView): Task[] {
  return (['control-plane', 'node'] as const).map((role) => {
    const name = clusterRoleName(view.name, view.region, role);
    return instanceProfileTask({ key: clusterInstanceProfileRef(role).key, name, cluster: view.name, role, roleTask: clusterRoleRef(role), roleName: name });
  });
}

export const instanceProfileProvider: Provider = {
  type: INSTANCE_PROFILE_TYPE,
  iamActions: {
    read: ['iam:GetInstanceProfile'],
    write: ['iam:CreateInstanceProfile', 'iam:AddRoleToInstanceProfile', 'iam:RemoveRoleFromInstanceProfile', 'iam:DeleteInstanceProfile'],
    delete: ['iam:RemoveRoleFromInstanceProfile', 'iam:DeleteInstanceProfile'],
  },
  dependsOn: ['AWS::IAM::Role'],
  clusterTasks: clusterProfileTasks,
  async discover(scope) {
    const roles = clusterRoleNames(scope);
    const profiles = await Promise.all(roles.map((r) => findInstanceProfile(scope.clients, r)));
    return roles.filter((_, i) => profiles[i]?.tags[TagKeys.cluster] === scope.cluster).map((p) => ({ name: p, id: p }));
  },
  deleteOwned: deleteEachOwned('delete instance profiles', INSTANCE_PROFILE_TYPE, (ctx, name) => deleteInstanceProfile(ctx.clients, name)),
  undo: {
    delete: async (clients, data) => {
      await deleteInstanceProfile(clients, String(data.name));
    },
  },
};

/** One journaled write of this kind (the engine's write-ahead journal; undo kept when the write may have happened). */
function write<T>(ctx: RunContext, entry: { action: 'create' | 'update'; name: string; id?: string; undo?: UndoRecord }, fn: () => Promise<T>): Promise<T> {
  return journaledWrite(ctx, { ...entry, id: entry.id, type: INSTANCE_PROFILE_TYPE }, fn);
}

export function instanceProfileTask(spec: InstanceProfileSpec): Task<InstanceProfileState> {
  const tags = (): Tag[] => clusterTags(spec.cluster, spec.role, { name: spec.name });
  return {
    key: spec.key,
    type: INSTANCE_PROFILE_TYPE,
    name: spec.name,
    dependsOn: [spec.roleTask],
    async find(ctx) {
      const found = await findInstanceProfile(ctx.clients, spec.name);
      if (found && found.tags[TagKeys.cluster] !== undefined && found.tags[TagKeys.cluster] !== spec.cluster) {
        throw new UserError(`instance profile ${spec.name} belongs to cluster ${found.tags[TagKeys.cluster]}, not ${spec.cluster}`);
      }
      return found;
    },
    // The role changes in place (Add/RemoveRoleFromInstanceProfile): no replacement.
    diff(actual) {
      const changes: FieldChange[] = [];
      if (actual.roles.length !== 1 || actual.roles[0] !== spec.roleName) changes.push({ field: 'roles', from: `[${actual.roles.join(', ')}]`, to: `[${spec.roleName}]` });
      return changes;
    },
    async create(ctx) {
      const undo: UndoRecord = { type: INSTANCE_PROFILE_TYPE, action: 'delete', data: { name: spec.name } };
      const created = await write(ctx, { action: 'create', name: spec.name, undo }, () =>
        ctx.clients.iam.send(new CreateInstanceProfileCommand({ InstanceProfileName: spec.name, Tags: tags() })),
      );
      await write(ctx, { action: 'update', name: spec.name }, () =>
        ctx.clients.iam.send(new AddRoleToInstanceProfileCommand({ InstanceProfileName: spec.name, RoleName: spec.roleName })),
      );
      return { name: spec.name, arn: created.InstanceProfile!.Arn!, roles: [spec.roleName], tags: tagMapOf(tags()) };
    },
    async update(actual, _changes, ctx) {
      for (const RoleName of actual.roles.filter((r) => r !== spec.roleName)) {
        await write(ctx, { action: 'update', name: spec.name, id: actual.arn }, () =>
          ctx.clients.iam.send(new RemoveRoleFromInstanceProfileCommand({ InstanceProfileName: spec.name, RoleName })),
        );
      }
      if (!actual.roles.includes(spec.roleName)) {
        await write(ctx, { action: 'update', name: spec.name, id: actual.arn }, () =>
          ctx.clients.iam.send(new AddRoleToInstanceProfileCommand({ InstanceProfileName: spec.name, RoleName: spec.roleName })),
        );
      }
      return { ...actual, roles: [spec.roleName] };
    },
    id: (actual) => actual.arn,
  };
}
