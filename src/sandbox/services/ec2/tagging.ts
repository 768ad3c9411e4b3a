// EC2 tags: TagSpecifications validation, CreateTags / DeleteTags / DescribeTags over every taggable
// kind the sandbox holds.
import { awsError, required } from '../../errors';
import { paginate } from '../../pagination';
import { applyFilters } from './filters';
import { ec2State, mergeTag, type Ec2State, type Tag } from './state';
import type * as Ec2Sdk from '@aws-sdk/client-ec2';
import type { HandlerOf, OperationsOf, SdkOperation } from '../../service';

type Handler<Op extends SdkOperation<typeof Ec2Sdk>> = HandlerOf<typeof Ec2Sdk, Op>;

const MAX_TAGS = 50;

interface TagSpecification {
  ResourceType?: string;
  Tags?: { Key?: string; Value?: string }[];
}

function checkTagList(tags: { Key?: string; Value?: string }[], allowAwsPrefix = false): void {
  if (tags.length > MAX_TAGS)
    throw awsError('TagLimitExceeded', `The maximum number of tags per resource is ${MAX_TAGS}.`);
  for (const t of tags) {
    if (!t.Key) throw awsError('InvalidParameterValue', 'Tag key must not be empty');
    if (t.Key.length > 128)
      throw awsError('InvalidParameterValue', `Tag key exceeds the maximum length of 128 characters`);
    if ((t.Value ?? '').length > 256)
      throw awsError('InvalidParameterValue', `Tag value exceeds the maximum length of 256 characters`);
    if (!allowAwsPrefix && t.Key.toLowerCase().startsWith('aws:')) {
      throw awsError(
        'InvalidParameterValue',
        `Value ( ${t.Key} ) for parameter key is invalid. Tag keys starting with 'aws:' are reserved for internal use`,
      );
    }
  }
}

/** Rejects TagSpecifications for resource types the operation does not create, and oversized tag lists. */
export function validateTagSpecifications(specs: TagSpecification[] | undefined, ...allowed: string[]): void {
  for (const spec of specs ?? []) {
    if (!spec.ResourceType || !allowed.includes(spec.ResourceType)) {
      throw awsError(
        'InvalidParameterValue',
        `'${spec.ResourceType ?? ''}' is not a valid taggable resource type for this operation.`,
      );
    }
    checkTagList(spec.Tags ?? []);
  }
}

interface Taggable {
  resourceType: Ec2Sdk.ResourceType;
  tags: Tag[];
  setTags(tags: Tag[]): void;
}

function findTaggable(s: Ec2State, id: string): Taggable | undefined {
  const wrap = (resourceType: Ec2Sdk.ResourceType, holder: { Tags: Tag[] } | undefined): Taggable | undefined =>
    holder && { resourceType, tags: holder.Tags, setTags: (tags) => (holder.Tags = tags) };
  if (id.startsWith('i-')) return wrap('instance', s.instances[id]);
  if (id.startsWith('sg-')) return wrap('security-group', s.securityGroups[id]);
  if (id.startsWith('vpc-')) return wrap('vpc', s.vpcs[id]);
  if (id.startsWith('subnet-')) return wrap('subnet', s.subnets[id]);
  if (id.startsWith('lt-')) return wrap('launch-template', s.launchTemplates[id]);
  if (id.startsWith('key-'))
    return wrap(
      'key-pair',
      Object.values(s.keyPairs).find((k) => k.KeyPairId === id),
    );
  return undefined;
}

function notFound(id: string): never {
  const kinds: [string, string][] = [
    ['i-', 'InvalidInstanceID.NotFound'],
    ['sg-', 'InvalidGroup.NotFound'],
    ['vpc-', 'InvalidVpcID.NotFound'],
    ['subnet-', 'InvalidSubnetID.NotFound'],
    ['lt-', 'InvalidLaunchTemplateId.NotFound'],
    ['key-', 'InvalidKeyPair.NotFound'],
  ];
  const kind = kinds.find(([prefix]) => id.startsWith(prefix));
  if (!kind) throw awsError('InvalidID', `The ID '${id}' is not valid`);
  throw awsError(kind[1], `The ID '${id}' does not exist`);
}

const createTags: Handler<'CreateTags'> = (ctx, input) => {
  const ids: string[] = required(input.Resources, 'Resources');
  const tags: { Key?: string; Value?: string }[] = required(input.Tags, 'Tags');
  checkTagList(tags);
  const s = ec2State(ctx);
  const targets = ids.map((id) => findTaggable(s, id) ?? notFound(id));
  for (const target of targets) {
    const next = target.tags.map((t) => ({ ...t }));
    for (const t of tags) mergeTag(next, { Key: t.Key as string, Value: t.Value ?? '' });
    if (next.length > MAX_TAGS)
      throw awsError('TagLimitExceeded', `The maximum number of tags per resource is ${MAX_TAGS}.`);
    target.setTags(next);
  }
  return {};
};

const deleteTags: Handler<'DeleteTags'> = (ctx, input) => {
  const ids: string[] = required(input.Resources, 'Resources');
  const tags: { Key?: string; Value?: string }[] | undefined = input.Tags;
  const s = ec2State(ctx);
  const targets = ids.map((id) => findTaggable(s, id) ?? notFound(id));
  for (const target of targets) {
    // No Tags: delete all user tags. A tag with a Value only matches that value; without one, any value.
    const next =
      tags === undefined
        ? target.tags.filter((t) => t.Key.startsWith('aws:'))
        : target.tags.filter(
            (t) => !tags.some((d) => d.Key === t.Key && (d.Value === undefined || d.Value === t.Value)),
          );
    target.setTags(next);
  }
  return {};
};

const describeTags: Handler<'DescribeTags'> = (ctx, input) => {
  const s = ec2State(ctx);
  // Tags: not in the SDK's TagDescription shape; every row has always carried an empty list.
  const rows: { ResourceId: string; ResourceType: Ec2Sdk.ResourceType; Key: string; Value: string; Tags: Tag[] }[] = [];
  const add = (id: string) => {
    const t = findTaggable(s, id);
    if (t)
      for (const tag of t.tags)
        rows.push({ ResourceId: id, ResourceType: t.resourceType, Key: tag.Key, Value: tag.Value, Tags: [] });
  };
  for (const id of Object.keys(s.instances)) add(id);
  for (const id of Object.keys(s.securityGroups)) add(id);
  for (const id of Object.keys(s.vpcs)) add(id);
  for (const id of Object.keys(s.subnets)) add(id);
  for (const id of Object.keys(s.launchTemplates)) add(id);
  for (const k of Object.values(s.keyPairs)) add(k.KeyPairId);
  const filtered = applyFilters(
    rows,
    input.Filters,
    (r, name) =>
      ({ 'resource-id': [r.ResourceId], 'resource-type': [r.ResourceType], key: [r.Key], value: [r.Value] })[
        name
      ],
  );
  const { page, nextToken } = paginate(filtered, input.NextToken, input.MaxResults);
  return { Tags: page.map(({ Tags: _t, ...r }) => r), NextToken: nextToken };
};

export const taggingOperations = {
  CreateTags: createTags,
  DeleteTags: deleteTags,
  DescribeTags: describeTags,
} satisfies OperationsOf<typeof Ec2Sdk>;
