// SSM parameters under /k3sctl/clusters/NAME/: the declared configuration (String JSON, kept current)
// and the join tokens (SecureString from a CSPRNG, created once and never overwritten or read back).
import {
  DeleteParametersCommand,
  GetParameterCommand,
  GetParametersByPathCommand,
  PutParameterCommand,
  type Parameter,
} from '@aws-sdk/client-ssm';
import type { AwsClients } from '../aws/clients';
import { clusterTags } from '../aws/tags';
import { awsErrorCode } from '../core/errors';
import { journaledWrite } from '../orchestration/engine/journal';
import type { RunContext, Task, UndoRecord } from '../orchestration/engine/types';
import { registerUndo } from './undo';

export const SSM_PARAMETER_TYPE = 'AWS::SSM::Parameter';

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

registerUndo(SSM_PARAMETER_TYPE, {
  delete: async (clients, data) => {
    await deleteParameters(clients, [String(data.name)]);
  },
  restore: async (clients, data) => {
    await clients.ssm.send(new PutParameterCommand({ Name: String(data.name), Value: String(data.value), Type: 'String', Overwrite: true }));
  },
});

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
    diff(actual) {
      if (!spec.managedValue) return [];
      if (actual.type !== spec.type) return [`type: ${actual.type} -> ${spec.type}`];
      return equals(actual.value ?? '', spec.value()) ? [] : ['value changed'];
    },
    async create(ctx) {
      const value = spec.value();
      // Overwrite:false: a parameter created concurrently is never replaced (ParameterAlreadyExists).
      const out = await write(ctx, { action: 'create', name: spec.name, undo: { type: SSM_PARAMETER_TYPE, action: 'delete', data: { name: spec.name } } }, () =>
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
