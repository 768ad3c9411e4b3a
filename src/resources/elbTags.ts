// Tags on ELBv2 resources (load balancers, listeners, rules, target groups): read in batches, compared,
// and added with a journaled restore of the previous values. One kind of write shared by the ELB providers.
import { AddTagsCommand, DescribeTagsCommand, RemoveTagsCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { AwsClients } from '../aws/clients';
import { tagsToUpdate, type Tag } from '../aws/tags';
import { isAwsError } from '../core/errors';
import { journaledWrite } from '../provider/journaledWrite';
import type { Provider } from '../provider/provider';
import type { RunContext } from '../provider/types';

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
  const changed = tagsToUpdate(desired, actual);
  if (changed.length === 0) return;
  const previous = Object.fromEntries(changed.map((t) => [t.Key, actual[t.Key] ?? null]));
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
        new AddTagsCommand({ ResourceArns: [arn], Tags: changed }),
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
