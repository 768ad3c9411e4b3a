// Tags on ELBv2 resources (load balancers, listeners, rules, target groups): read in batches, compared,
// and added with a journaled restore of the previous values. One kind of write shared by the ELB providers.
import { AddTagsCommand, DescribeTagsCommand, RemoveTagsCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { AwsClients } from '../aws/clients';
import { managedTagMap, type Tag } from '../aws/tags';
import { isAwsError } from '../core/errors';
import { journaledWrite } from '../provider/journaledWrite';
import type { Provider } from '../provider/provider';
import type { RunContext } from '../provider/types';
import type { FieldChange } from '../provider/fieldChange';

export const ELB_TAGS_TYPE = 'AWS::ElasticLoadBalancingV2::Tags';

/** Tags of ELBv2 resources (DescribeTags takes at most 20 ARNs per call). */
export async function describeElbTags(
  clients: AwsClients,
  arns: string[],
): Promise<Map<string, Record<string, string>>> {
  const out = new Map<string, Record<string, string>>();
  for (let i = 0; i < arns.length; i += 20) {
    const chunk = arns.slice(i, i + 20);
    const res = await clients.elbv2.send(new DescribeTagsCommand({ ResourceArns: chunk }));
    for (const d of res.TagDescriptions ?? []) {
      const all: Record<string, string> = {};
      for (const t of d.Tags ?? []) if (t.Key) all[t.Key] = t.Value ?? '';
      out.set(d.ResourceArn ?? '', all);
    }
  }
  return out;
}

/** The k3sctl-managed subset of a tag list that differs from `actual` (for diffs; ELB tags are added in place). */
export function tagDiff(desired: Tag[], actual: Record<string, string>): FieldChange[] {
  const want = managedTagMap(desired);
  const changes: FieldChange[] = [];
  for (const [k, v] of Object.entries(want)) {
    if (actual[k] !== v) changes.push({ field: `tag ${k}`, from: actual[k] ?? '(none)', to: v });
  }
  return changes;
}

/** True when `actual` carries every tag of `required`. */
export function hasTags(actual: Record<string, string>, required: Tag[]): boolean {
  return required.every((t) => actual[t.Key] === t.Value);
}

/** Adds/overwrites k3sctl-managed tags on an ELBv2 resource, journaling a restore of the previous values. */
export async function addElbTags(
  ctx: RunContext,
  type: string,
  name: string,
  arn: string,
  desired: Tag[],
  actual: Record<string, string>,
): Promise<void> {
  const want = managedTagMap(desired);
  const changed = Object.entries(want).filter(([k, v]) => actual[k] !== v);
  if (changed.length === 0) return;
  const previous = Object.fromEntries(changed.map(([k]) => [k, actual[k] ?? null]));
  await journaledWrite(
    ctx,
    {
      action: 'update',
      type,
      name,
      id: arn,
      undo: { type: ELB_TAGS_TYPE, action: 'restore', data: { arn, previous } },
    },
    () =>
      ctx.clients.elbv2.send(
        new AddTagsCommand({ ResourceArns: [arn], Tags: changed.map(([Key, Value]) => ({ Key, Value })) }),
      ),
  );
}

export const elbTagsProvider: Provider = {
  type: ELB_TAGS_TYPE,
  dependsOn: [],
  undo: {
    async restore(clients, data) {
      const arn = data.arn as string;
      const previous = data.previous as Record<string, string | null>;
      const put = Object.entries(previous).filter(([, v]) => v !== null) as [string, string][];
      const drop = Object.entries(previous)
        .filter(([, v]) => v === null)
        .map(([k]) => k);
      try {
        if (put.length)
          await clients.elbv2.send(
            new AddTagsCommand({ ResourceArns: [arn], Tags: put.map(([Key, Value]) => ({ Key, Value })) }),
          );
        if (drop.length)
          await clients.elbv2.send(new RemoveTagsCommand({ ResourceArns: [arn], TagKeys: drop }));
      } catch (error) {
        if (
          !isAwsError(error, 'LoadBalancerNotFound', 'TargetGroupNotFound', 'ListenerNotFound', 'RuleNotFound')
        )
          throw error;
      }
    },
  },
};
