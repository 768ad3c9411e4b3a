// SSM Parameter Store: parameters with versions, SecureString "encryption", hierarchy queries, tags,
// and the public AMI parameters every region serves (read-only, never part of the inventory).
import { createHash } from 'node:crypto';
import { awsError, required } from '../../errors';
import { paginate } from '../../pagination';
import type { SandboxContext } from '../../account';
import { DEFAULT_IMAGES, PUBLIC_PARAMETER_MODIFIED } from '../../defaults';
import type * as SsmSdk from '@aws-sdk/client-ssm';
import type { HandlerOf, InventoryItem, OperationsOf, SdkOperation } from '../../service';

type Handler<Op extends SdkOperation<typeof SsmSdk>> = HandlerOf<typeof SsmSdk, Op>;

type ParameterType = 'String' | 'StringList' | 'SecureString';

interface StoredParameter {
  Name: string;
  Type: ParameterType;
  Value: string;
  Version: number;
  modifiedAt: number;
  Description?: string;
  DataType: string;
  KeyId?: string;
  Tags: { Key: string; Value: string }[];
}

export interface SsmParameterState {
  parameters: Record<string, StoredParameter>;
}

const MAX_VALUE_LENGTH = 4096;
const MAX_TAGS = 50;

export function parameterState(ctx: SandboxContext): SsmParameterState {
  const s = ctx.sb.serviceState<Record<string, unknown>>('ssm', ctx.region, () => ({}));
  if (s.parameters === undefined) s.parameters = {};
  return s as unknown as SsmParameterState;
}

function publicParameters(): StoredParameter[] {
  return DEFAULT_IMAGES.map((img) => ({
    Name: img.ssmParameter,
    Type: 'String' as const,
    Value: img.ImageId,
    Version: 1,
    modifiedAt: PUBLIC_PARAMETER_MODIFIED,
    DataType: 'aws:ec2:image',
    Tags: [],
  }));
}

/** A parameter the caller can read: its own, or a public one. */
function lookup(ctx: SandboxContext, name: string): StoredParameter | undefined {
  return parameterState(ctx).parameters[name] ?? publicParameters().find((p) => p.Name === name);
}

function arn(ctx: SandboxContext, p: StoredParameter): string {
  const isPublic = p.Name.startsWith('/aws/');
  const path = p.Name.startsWith('/') ? p.Name.slice(1) : p.Name;
  return `arn:aws:ssm:${ctx.region}:${isPublic ? '' : ctx.sb.state.accountId}:parameter/${path}`;
}

/** What AWS returns for a SecureString read without decryption: an opaque KMS ciphertext blob. */
function ciphertext(p: StoredParameter): string {
  const digest = createHash('sha256').update(`${p.Name}\n${p.Version}\n${p.Value}`).digest();
  return `AQICAHh${Buffer.concat([digest, digest]).toString('base64')}`;
}

function present(ctx: SandboxContext, p: StoredParameter, withDecryption: boolean): SsmSdk.Parameter {
  return {
    Name: p.Name,
    Type: p.Type,
    Value: p.Type === 'SecureString' && !withDecryption ? ciphertext(p) : p.Value,
    Version: p.Version,
    LastModifiedDate: new Date(p.modifiedAt),
    ARN: arn(ctx, p),
    DataType: p.DataType,
  };
}

function metadata(ctx: SandboxContext, p: StoredParameter): SsmSdk.ParameterMetadata {
  return {
    Name: p.Name,
    ARN: arn(ctx, p),
    Type: p.Type,
    KeyId: p.Type === 'SecureString' ? (p.KeyId ?? 'alias/aws/ssm') : undefined,
    LastModifiedDate: new Date(p.modifiedAt),
    LastModifiedUser: `arn:aws:iam::${ctx.sb.state.accountId}:user/sandbox`,
    Description: p.Description,
    Version: p.Version,
    Tier: 'Standard',
    Policies: [],
    DataType: p.DataType,
  };
}

function validateName(name: string): void {
  if (name.length > 2048)
    throw awsError('ValidationException', 'Parameter name must be 2048 characters or less.');
  if (name.includes('/') && !name.startsWith('/')) {
    throw awsError(
      'ValidationException',
      'Parameter name: can\'t be prefixed with "aws" or "ssm" (case-insensitive). If formed as a path, it can consist of sub-paths divided by slash symbol; each sub-path can be formed as a mix of letters, numbers and the following 3 symbols .-_',
    );
  }
  if (/^\/?(aws|ssm)/i.test(name)) {
    throw awsError('ValidationException', `No access to reserved parameter name: ${name}.`);
  }
  if (!/^[a-zA-Z0-9_.\-/]+$/.test(name)) {
    throw awsError(
      'ValidationException',
      `Parameter name: ${name} contains characters that are not allowed.`,
    );
  }
  if (name.split('/').filter(Boolean).length > 15) {
    throw awsError('HierarchyLevelLimitExceededException', 'A hierarchy can have a maximum of 15 levels.');
  }
}

function validateTags(tags: { Key?: string; Value?: string }[]): { Key: string; Value: string }[] {
  for (const t of tags) {
    if (!t.Key) throw awsError('ValidationException', 'Tag keys must not be empty.');
    if (t.Key.toLowerCase().startsWith('aws:'))
      throw awsError('InvalidParameterValue', 'Tag keys beginning with aws: are reserved.');
  }
  return tags.map((t) => ({ Key: t.Key as string, Value: t.Value ?? '' }));
}

function notFound(name: string): never {
  throw awsError('ParameterNotFound', `Parameter ${name} not found.`);
}

const putParameter: Handler<'PutParameter'> = (ctx, input) => {
  const name = required<string>(input.Name, 'Name', 'ValidationException');
  const value = required<string>(input.Value, 'Value', 'ValidationException');
  validateName(name);
  if (value.length > MAX_VALUE_LENGTH) {
    throw awsError(
      'ValidationException',
      `Standard tier parameters support a maximum parameter value of ${MAX_VALUE_LENGTH} characters.`,
    );
  }
  if (input.Type !== undefined && !['String', 'StringList', 'SecureString'].includes(input.Type)) {
    throw awsError(
      'ValidationException',
      `1 validation error detected: Value '${input.Type}' at 'type' failed to satisfy constraint`,
    );
  }
  const tags: { Key?: string; Value?: string }[] = input.Tags ?? [];
  if (tags.length > 0 && input.Overwrite) {
    throw awsError(
      'ValidationException',
      "Invalid request: tags and overwrite can't be used together. To create a parameter with tags, please remove overwrite flag. To update tags for an existing parameter, please use AddTagsToResource or RemoveTagsFromResource.",
    );
  }
  if (tags.length > MAX_TAGS)
    throw awsError('TooManyTagsError', `A parameter can have at most ${MAX_TAGS} tags.`);
  const state = parameterState(ctx);
  const existing = state.parameters[name];
  if (existing) {
    if (!input.Overwrite) {
      throw awsError(
        'ParameterAlreadyExists',
        'The parameter already exists. To overwrite this value, set the overwrite option in the request to true.',
      );
    }
    if (input.Type !== undefined && input.Type !== existing.Type && existing.Type === 'SecureString') {
      throw awsError(
        'HierarchyTypeMismatchException',
        'The parameter type cannot be changed from SecureString.',
      );
    }
    existing.Value = value;
    existing.Type = input.Type ?? existing.Type;
    existing.Version += 1;
    existing.modifiedAt = ctx.now;
    if (input.Description !== undefined) existing.Description = input.Description;
    if (input.KeyId !== undefined) existing.KeyId = input.KeyId;
    return { Version: existing.Version, Tier: 'Standard' };
  }
  if (input.Type === undefined)
    throw awsError('ValidationException', 'A parameter type is required when you create a parameter.');
  state.parameters[name] = {
    Name: name,
    Type: input.Type,
    Value: value,
    Version: 1,
    modifiedAt: ctx.now,
    Description: input.Description,
    DataType: input.DataType ?? 'text',
    KeyId: input.KeyId,
    Tags: validateTags(tags),
  };
  return { Version: 1, Tier: 'Standard' };
};

/**
 * A String parameter written by the instance side at time `at` (what `aws ssm put-parameter
 * --overwrite` on an instance does), without an API call of k3sctl's.
 */
export function putParameterInternal(ctx: SandboxContext, name: string, value: string, at: number): void {
  const parameters = parameterState(ctx).parameters;
  const existing = parameters[name];
  if (existing) {
    existing.Value = value;
    existing.Version += 1;
    existing.modifiedAt = at;
    return;
  }
  parameters[name] = { Name: name, Type: 'String', Value: value, Version: 1, modifiedAt: at, DataType: 'text', Tags: [] };
}

/** A parameter's value and last modification time, without an API call; undefined when missing. */
export function peekParameter(ctx: SandboxContext, name: string): { value: string; modifiedAt: number } | undefined {
  const p = ctx.sb.existingServiceState<Partial<SsmParameterState>>('ssm', ctx.region)?.parameters?.[name];
  return p ? { value: p.Value, modifiedAt: p.modifiedAt } : undefined;
}

const getParameter: Handler<'GetParameter'> = (ctx, input) => {
  const name = required<string>(input.Name, 'Name', 'ValidationException');
  const p = lookup(ctx, name) ?? notFound(name);
  return { Parameter: present(ctx, p, input.WithDecryption === true) };
};

const getParameters: Handler<'GetParameters'> = (ctx, input) => {
  const names: string[] = required(input.Names, 'Names', 'ValidationException');
  if (names.length < 1 || names.length > 10) {
    throw awsError(
      'ValidationException',
      "1 validation error detected: Value at 'names' failed to satisfy constraint: Member must have length between 1 and 10",
    );
  }
  const found: SsmSdk.Parameter[] = [];
  const invalid: string[] = [];
  for (const name of [...new Set(names)]) {
    const p = lookup(ctx, name);
    if (p) found.push(present(ctx, p, input.WithDecryption === true));
    else invalid.push(name);
  }
  return { Parameters: found, InvalidParameters: invalid };
};

/** Names under `path`: direct children only unless recursive. */
function underPath(name: string, path: string, recursive: boolean): boolean {
  const prefix = path.endsWith('/') ? path : `${path}/`;
  if (!name.startsWith(prefix)) return false;
  return recursive || !name.slice(prefix.length).includes('/');
}

function validatePath(path: string): void {
  if (!path.startsWith('/')) {
    throw awsError(
      'ValidationException',
      'The parameter doesn\'t meet the parameter name requirements. The parameter name must begin with a forward slash "/".',
    );
  }
}

function checkMaxResults(max: number | undefined, limit: number): void {
  if (max !== undefined && (max < 1 || max > limit)) {
    throw awsError(
      'ValidationException',
      `1 validation error detected: Value '${max}' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to ${limit}`,
    );
  }
}

const getParametersByPath: Handler<'GetParametersByPath'> = (ctx, input) => {
  const path = required<string>(input.Path, 'Path', 'ValidationException');
  validatePath(path);
  checkMaxResults(input.MaxResults, 10);
  const recursive = input.Recursive === true;
  const all = [...Object.values(parameterState(ctx).parameters), ...publicParameters()]
    .filter((p) =>
      path === '/' ? recursive || !p.Name.slice(1).includes('/') : underPath(p.Name, path, recursive),
    )
    .filter((p) => matchesParameterFilters(p, input.ParameterFilters ?? [], ['Type', 'KeyId', 'Label']))
    .sort((a, b) => a.Name.localeCompare(b.Name));
  const { page, nextToken } = paginate(all, input.NextToken, input.MaxResults);
  return {
    Parameters: page.map((p) => present(ctx, p, input.WithDecryption === true)),
    NextToken: nextToken,
  };
};

interface ParameterFilter {
  Key?: string;
  Option?: string;
  Values?: string[];
}

function matchesParameterFilters(
  p: StoredParameter,
  filters: ParameterFilter[],
  allowedKeys?: string[],
): boolean {
  return filters.every((f) => {
    const key = f.Key ?? '';
    if (allowedKeys && !allowedKeys.includes(key) && !key.startsWith('tag:')) {
      throw awsError(
        'InvalidFilterKey',
        `The following filter key is not valid: ${key}. Valid filter keys include: [${allowedKeys.join(', ')}].`,
      );
    }
    const values = f.Values ?? [];
    const option = f.Option ?? 'Equals';
    switch (key) {
      case 'Name':
        if (option === 'BeginsWith')
          return values.some((v) => p.Name.startsWith(v) || p.Name.startsWith(`/${v}`));
        if (option === 'Contains') return values.some((v) => p.Name.includes(v));
        if (option !== 'Equals')
          throw awsError('InvalidFilterOption', `The filter option ${option} is not valid for key Name.`);
        return values.some((v) => p.Name === v || p.Name === `/${v}`);
      case 'Path': {
        if (option !== 'Recursive' && option !== 'OneLevel')
          throw awsError('InvalidFilterOption', `The filter option ${option} is not valid for key Path.`);
        return values.some((v) =>
          v === '/'
            ? option === 'Recursive' || !p.Name.slice(1).includes('/')
            : underPath(p.Name, v, option === 'Recursive'),
        );
      }
      case 'Type':
        return values.includes(p.Type);
      case 'KeyId':
        return p.Type === 'SecureString' && values.includes(p.KeyId ?? 'alias/aws/ssm');
      case 'DataType':
        return values.includes(p.DataType);
      case 'Tier':
        return values.includes('Standard');
      case 'Label':
        return false;
      default:
        if (key.startsWith('tag:')) {
          const tag = p.Tags.find((t) => t.Key === key.slice(4));
          return tag !== undefined && (values.length === 0 || values.includes(tag.Value));
        }
        throw awsError('InvalidFilterKey', `The following filter key is not valid: ${key}.`);
    }
  });
}

const describeParameters: Handler<'DescribeParameters'> = (ctx, input) => {
  checkMaxResults(input.MaxResults, 50);
  const legacy: ParameterFilter[] = (input.Filters ?? []).map((f: { Key?: string; Values?: string[] }) => ({
    Key: f.Key,
    Option: f.Key === 'Name' ? 'BeginsWith' : 'Equals',
    Values: f.Values,
  }));
  const filters: ParameterFilter[] = [...legacy, ...(input.ParameterFilters ?? [])];
  const all = Object.values(parameterState(ctx).parameters)
    .filter((p) => matchesParameterFilters(p, filters))
    .sort((a, b) => a.Name.localeCompare(b.Name));
  const { page, nextToken } = paginate(all, input.NextToken, input.MaxResults);
  return { Parameters: page.map((p) => metadata(ctx, p)), NextToken: nextToken };
};

const deleteParameter: Handler<'DeleteParameter'> = (ctx, input) => {
  const name = required<string>(input.Name, 'Name', 'ValidationException');
  const state = parameterState(ctx);
  if (!state.parameters[name]) notFound(name);
  delete state.parameters[name];
  return {};
};

const deleteParameters: Handler<'DeleteParameters'> = (ctx, input) => {
  const names: string[] = required(input.Names, 'Names', 'ValidationException');
  if (names.length < 1 || names.length > 10) {
    throw awsError(
      'ValidationException',
      "1 validation error detected: Value at 'names' failed to satisfy constraint: Member must have length between 1 and 10",
    );
  }
  const state = parameterState(ctx);
  const deleted: string[] = [];
  const invalid: string[] = [];
  for (const name of [...new Set(names)]) {
    if (state.parameters[name]) {
      delete state.parameters[name];
      deleted.push(name);
    } else invalid.push(name);
  }
  return { DeletedParameters: deleted, InvalidParameters: invalid };
};

function taggedParameter(
  ctx: SandboxContext,
  input: { ResourceType?: string; ResourceId?: string },
): StoredParameter {
  const type = required(input.ResourceType, 'ResourceType', 'ValidationException');
  const id = required(input.ResourceId, 'ResourceId', 'ValidationException');
  if (type !== 'Parameter') {
    throw awsError(
      'InvalidResourceType',
      `The resource type ${type} is not supported by the sandbox (only Parameter).`,
    );
  }
  const p = parameterState(ctx).parameters[id];
  if (!p)
    throw awsError('InvalidResourceId', `The resource ID "${id}" is not valid. Verify the ID and try again.`);
  return p;
}

const addTagsToResource: Handler<'AddTagsToResource'> = (ctx, input) => {
  const p = taggedParameter(ctx, input);
  const tags = validateTags(required(input.Tags, 'Tags', 'ValidationException'));
  for (const t of tags) {
    const existing = p.Tags.find((x) => x.Key === t.Key);
    if (existing) existing.Value = t.Value;
    else p.Tags.push(t);
  }
  if (p.Tags.length > MAX_TAGS)
    throw awsError('TooManyTagsError', `A parameter can have at most ${MAX_TAGS} tags.`);
  return {};
};

const removeTagsFromResource: Handler<'RemoveTagsFromResource'> = (ctx, input) => {
  const p = taggedParameter(ctx, input);
  const keys: string[] = required(input.TagKeys, 'TagKeys', 'ValidationException');
  p.Tags = p.Tags.filter((t) => !keys.includes(t.Key));
  return {};
};

const listTagsForResource: Handler<'ListTagsForResource'> = (ctx, input) => ({ TagList: taggedParameter(ctx, input).Tags });

export const parameterOperations = {
  PutParameter: putParameter,
  GetParameter: getParameter,
  GetParameters: getParameters,
  GetParametersByPath: getParametersByPath,
  DescribeParameters: describeParameters,
  DeleteParameter: deleteParameter,
  DeleteParameters: deleteParameters,
  AddTagsToResource: addTagsToResource,
  RemoveTagsFromResource: removeTagsFromResource,
  ListTagsForResource: listTagsForResource,
} satisfies OperationsOf<typeof SsmSdk>;

export function parameterInventory(ctx: SandboxContext): InventoryItem[] {
  return Object.values(parameterState(ctx).parameters).map((p) => ({
    type: 'AWS::SSM::Parameter',
    id: p.Name,
    fingerprint: `${p.Type}:${createHash('sha256').update(p.Value).digest('hex').slice(0, 16)}`,
  }));
}
