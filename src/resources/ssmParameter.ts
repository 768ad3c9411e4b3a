// SSM parameters under /k3sctl/clusters/NAME/: the declared configuration (String JSON, kept current)
// and the join tokens (SecureString from a CSPRNG, created once and never overwritten or read back).
// Instances write under the same path themselves (the `initialized` marker, bootstrap-failures/ID):
// a run that created the cluster's settings parameter also removes those on rollback (ownsPath).
import {
  DeleteParametersCommand,
  GetParameterCommand,
  GetParametersByPathCommand,
  PutParameterCommand,
  type Parameter,
} from '@aws-sdk/client-ssm';
import type { AwsClients } from '../aws/clients';
import { clusterTags } from '../aws/tags';
import { names } from '../aws/names';
import { awsErrorCode } from '../core/errors';
import * as crypto from 'node:crypto';
import { describeClusterAutoScalingGroups } from './clusterGroups';
import { listClusterInstances } from './instance';
import { eachLimited, PARALLEL_DELETES, type ClusterScope } from '../provider/cluster';
import { journaledWrite } from '../provider/journaledWrite';
import type { RunContext, Task, UndoRecord } from '../provider/types';
import type { Provider } from '../provider/provider';
import { taskRef } from '../provider/taskRef';
import type { ClusterView, DeclarationParameter } from '../provider/clusterView';

export const SSM_PARAMETER_TYPE = 'AWS::SSM::Parameter';
/** Undo of a cluster's settings parameter created by the run: it and everything under the cluster's path. */
export const SSM_CLUSTER_PATH_UNDO_TYPE = 'AWS::SSM::Parameter::ClusterPath';

export interface SsmParameterSpec {
  key: string;
  name: string;
  cluster: string;
  type: 'String' | 'SecureString';
  /** Computed only when the parameter is written (tokens are generated lazily, never compared). */
  value: () => string;
  /** When false the value is never compared nor overwritten (tokens). */
  managedValue: boolean;
  /** Compares values (e.g. parsed JSON); default string equality. */
  equals?: (actual: string, desired: string) => boolean;
  description?: string;
  /**
   * The parameter whose creation creates the cluster (its settings): when this run creates it, rollback
   * also deletes every parameter under `path`, including what the cluster's instances wrote there.
   * Never set when the parameter already exists (the path then belongs to a cluster older than the run).
   */
  ownsPath?: { cluster: string; path: string };
}

export interface SsmParameterState {
  name: string;
  version: number;
  type: string;
  /** Only for String parameters. */
  value?: string;
}

export async function getParameterValue(clients: AwsClients, name: string): Promise<Parameter | undefined> {
  try {
    return (await clients.ssm.send(new GetParameterCommand({ Name: name }))).Parameter;
  } catch (error) {
    if (awsErrorCode(error) === 'ParameterNotFound') return undefined;
    throw error;
  }
}

/** Parameters under a path (recursive, paginated), values of SecureStrings not decrypted. */
export async function listParametersByPath(clients: AwsClients, path: string): Promise<Parameter[]> {
  const out: Parameter[] = [];
  let NextToken: string | undefined;
  do {
    const page = await clients.ssm.send(new GetParametersByPathCommand({ Path: path, Recursive: true, NextToken }));
    out.push(...(page.Parameters ?? []));
    NextToken = page.NextToken;
  } while (NextToken);
  return out;
}

/** Deletes parameters by name (batches of 10); missing ones are fine. */
export async function deleteParameters(clients: AwsClients, names: string[]): Promise<string[]> {
  const deleted: string[] = [];
  for (let i = 0; i < names.length; i += 10) {
    const out = await clients.ssm.send(new DeleteParametersCommand({ Names: names.slice(i, i + 10) }));
    deleted.push(...(out.DeletedParameters ?? []));
  }
  return deleted;
}

/** An error rollback retries (its code is one of the "still in use" codes): the undo is tried again later. */
function stillInUse(message: string): Error {
  return Object.assign(new Error(message), { name: 'ResourceInUse', Code: 'ResourceInUse' });
}

/**
 * Deletes the cluster's settings parameter `name` and every parameter under its path once none of its
 * instances runs: a running instance may still write there (the first control plane records
 * `initialized` when k3s answers, a failed bootstrap records its reason). While the cluster's groups are
 * being deleted (the rollback deleted them just before) this is "not yet" and retried; an instance that
 * will not stop by itself (its group's deletion failed, or it is in no group) leaves the cluster in
 * place, settings included: reported, so that a later `runs rollback` finishes once it is gone.
 */
export async function deleteClusterPath(clients: AwsClients, cluster: string, path: string, name: string): Promise<string[]> {
  const live = (await listClusterInstances(clients, cluster)).filter((i) => /^(pending|running|stopping|stopped)$/.test(i.state));
  if (live.length) {
    const groups = new Map((await describeClusterAutoScalingGroups(clients, cluster)).map((g) => [g.AutoScalingGroupName, g]));
    const staying = live.filter((i) => {
      const g = i.autoScalingGroup ? groups.get(i.autoScalingGroup) : undefined;
      return !g || !/delete/i.test(g.Status ?? '');
    });
    if (staying.length) {
      throw new Error(
        `instances ${staying.map((i) => i.instanceId).join(', ')} of cluster ${cluster} still run outside a group being deleted and may write under ${path}/; ` +
          `${name} and that path are deleted once they are gone (run this rollback again)`,
      );
    }
    throw stillInUse(`instances ${live.map((i) => i.instanceId).join(', ')} of cluster ${cluster} are still running (their groups are being deleted)`);
  }
  const under = (await listParametersByPath(clients, path)).map((p) => p.Name!).filter((n) => n.startsWith(`${path}/`));
  return deleteParameters(clients, [...new Set([name, ...under])]);
}

export const ssmClusterPathProvider: Provider = {
  type: SSM_CLUSTER_PATH_UNDO_TYPE,
  dependsOn: [],
  undo: {
    delete: async (clients, data) => {
      await deleteClusterPath(clients, String(data.cluster), String(data.path), String(data.name));
    },
  },
};

/**
 * The parameters under the cluster's SSM path, listed once per discovery: the model is read from the same
 * listing (model/read.ts), so a workflow that read the model finds its parameters without another call.
 */
export function clusterParameterListing(scope: ClusterScope): Promise<Parameter[]> {
  return scope.shared('cluster parameters', () => listParametersByPath(scope.clients, names.ssmPrefix(scope.cluster)));
}

/** The names under the cluster's SSM path (its settings and what its instances wrote there). */
async function clusterParameters(clients: AwsClients, cluster: string): Promise<string[]> {
  const prefix = names.ssmPrefix(cluster);
  return (await listParametersByPath(clients, prefix)).map((p) => p.Name!).filter((n) => n.startsWith(`${prefix}/`));
}

/** The tasks of the cluster's parameters, in the runs that converge a cluster: its settings and each group's declaration. */
export const clusterSettingsRef = taskRef<SsmParameterState>('ssm/config');
export const groupDeclarationRef = (group: string) => taskRef<SsmParameterState>(`ssm/groups/${group}`);
/** The join tokens' tasks: instances read them at boot, so their groups are created after them. */
export const serverTokenRef = taskRef<SsmParameterState>('ssm/server-token');
export const agentTokenRef = taskRef<SsmParameterState>('ssm/agent-token');

/** The parameters that store the declaration the model serialised (kept current: a differing one is rewritten). */
export function declarationTasks(cluster: string, declaration: readonly DeclarationParameter[]): Task[] {
  return declaration.map((p) =>
    ssmParameterTask({
      key: (p.part === 'settings' ? clusterSettingsRef : groupDeclarationRef(p.group!)).key,
      name: p.name,
      cluster,
      type: 'String',
      value: () => p.value,
      managedValue: true,
      equals: (actual) => p.sameAs(actual),
      description: p.description,
      // A run that creates the settings creates the cluster: what its instances write under the path is its own.
      ...(p.part === 'settings' ? { ownsPath: { cluster, path: names.ssmPrefix(cluster) } } : {}),
    }),
  );
}

function newToken(): string {
  // 32 bytes from the CSPRNG, hex. Not `K10...`: k3s parses that prefix as a full secure token (CA hash).
  // Never printed, logged or journaled.
  return crypto.randomBytes(32).toString('hex');
}

/** The declaration and the join tokens (created once, never compared or overwritten). */
function clusterParameterTasks(view: ClusterView): Task[] {
  const token = (ref: typeof serverTokenRef, name: string) =>
    ssmParameterTask({ key: ref.key, name, cluster: view.name, type: 'SecureString', value: newToken, managedValue: false });
  return [
    ...declarationTasks(view.name, view.declaration),
    token(serverTokenRef, names.ssmServerToken(view.name)),
    token(agentTokenRef, names.ssmAgentToken(view.name)),
  ];
}

export const ssmParameterProvider: Provider = {
  type: SSM_PARAMETER_TYPE,
  dependsOn: [],
  clusterTasks: clusterParameterTasks,
  // The rollback of a created cluster path waits until no instance of the cluster runs (deleteClusterPath).
  iamActions: {
    read: ['ssm:GetParameter', 'ssm:GetParametersByPath', 'ec2:DescribeInstances', 'autoscaling:DescribeAutoScalingGroups'],
    write: ['ssm:PutParameter', 'ssm:DeleteParameters'],
    delete: ['ssm:DeleteParameters'],
  },
  async discover(scope) {
    return (await clusterParameters(scope.clients, scope.cluster)).map((p) => ({ name: p, id: p }));
  },
  // Listed again now that no instance runs (groups and instances depend on the parameters, so they are
  // gone): instances write under the path themselves (the `initialized` marker, bootstrap-failures/ID),
  // also while their groups drain.
  deleteOwned: (run, owned, options) =>
    run.step('delete SSM parameters', async (ctx) => {
      const now = await clusterParameters(ctx.clients, options.cluster);
      await eachLimited([...new Set([...owned.map((p) => p.id), ...now])], PARALLEL_DELETES, (p) =>
        journaledWrite(ctx, { action: 'delete', type: SSM_PARAMETER_TYPE, name: p, id: p }, () => deleteParameters(ctx.clients, [p])),
      );
    }),
  // A group's declaration /k3sctl/clusters/NAME/groups/GROUP (the other groups' are never rewritten).
  perGroup: {
    async discover(scope, group) {
      const name = names.ssmGroupConfig(scope.cluster, group);
      return (await clusterParameterListing(scope)).some((p) => p.Name === name) ? [{ name, id: name }] : [];
    },
    deleteOwned: (run, owned) =>
      run.step(`delete ${owned.map((p) => p.name).join(', ')}`, async (ctx) => {
        for (const p of owned) {
          const current = await getParameterValue(ctx.clients, p.id);
          if (!current) continue;
          // Rollback puts the declaration back as it was.
          const undo: UndoRecord = { type: SSM_PARAMETER_TYPE, action: 'restore', data: { name: p.id, value: current.Value } };
          await journaledWrite(ctx, { action: 'delete', type: SSM_PARAMETER_TYPE, name: p.name, id: p.id, undo }, () => deleteParameters(ctx.clients, [p.id]));
        }
      }),
  },
  undo: {
    delete: async (clients, data) => {
      await deleteParameters(clients, [String(data.name)]);
    },
    restore: async (clients, data) => {
      await clients.ssm.send(new PutParameterCommand({ Name: String(data.name), Value: String(data.value), Type: 'String', Overwrite: true }));
    },
  },
};

/** One journaled write of this kind (the engine's write-ahead journal; undo kept when the write may have happened). */
function write<T>(ctx: RunContext, entry: { action: 'create' | 'update'; name: string; undo?: UndoRecord }, fn: () => Promise<T>): Promise<T> {
  return journaledWrite(ctx, { ...entry, id: entry.name, type: SSM_PARAMETER_TYPE }, fn);
}

export function ssmParameterTask(spec: SsmParameterSpec): Task<SsmParameterState> {
  const equals = spec.equals ?? ((a: string, b: string) => a === b);
  return {
    key: spec.key,
    type: SSM_PARAMETER_TYPE,
    name: spec.name,
    async find(ctx) {
      const p = await getParameterValue(ctx.clients, spec.name);
      if (!p) return undefined;
      return { name: spec.name, version: p.Version ?? 1, type: p.Type ?? 'String', value: p.Type === 'SecureString' ? undefined : p.Value };
    },
    // Value and type change in place (PutParameter with Overwrite, as CloudFormation's "no interruption"
    // update of Type and Value): no replacement.
    diff(actual) {
      if (!spec.managedValue) return [];
      if (actual.type !== spec.type) return [{ field: 'type', from: actual.type, to: spec.type }];
      return equals(actual.value ?? '', spec.value()) ? [] : [{ field: 'value', changed: true }];
    },
    async create(ctx) {
      const value = spec.value();
      // Overwrite:false: a parameter created concurrently is never replaced (ParameterAlreadyExists).
      const undo: UndoRecord = spec.ownsPath
        ? { type: SSM_CLUSTER_PATH_UNDO_TYPE, action: 'delete', data: { name: spec.name, cluster: spec.ownsPath.cluster, path: spec.ownsPath.path } }
        : { type: SSM_PARAMETER_TYPE, action: 'delete', data: { name: spec.name } };
      const out = await write(ctx, { action: 'create', name: spec.name, undo }, () =>
        ctx.clients.ssm.send(
          new PutParameterCommand({
            Name: spec.name,
            Value: value,
            Type: spec.type,
            Overwrite: false,
            Description: spec.description,
            Tags: clusterTags(spec.cluster, 'cluster'),
          }),
        ),
      );
      return { name: spec.name, version: out.Version ?? 1, type: spec.type, value: spec.type === 'SecureString' ? undefined : value };
    },
    async update(actual, _changes, ctx) {
      const value = spec.value();
      const undo: UndoRecord | undefined =
        actual.type === 'String' && actual.value !== undefined ? { type: SSM_PARAMETER_TYPE, action: 'restore', data: { name: spec.name, value: actual.value } } : undefined;
      const out = await write(ctx, { action: 'update', name: spec.name, undo }, () =>
        ctx.clients.ssm.send(new PutParameterCommand({ Name: spec.name, Value: value, Type: spec.type, Overwrite: true })),
      );
      return { name: spec.name, version: out.Version ?? actual.version + 1, type: spec.type, value: spec.type === 'SecureString' ? undefined : value };
    },
    id: (actual) => actual.name,
  };
}
