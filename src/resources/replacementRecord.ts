// The `k3sctl.io/replacement` tag of an Auto Scaling group: an unfinished replacement (recycle,
// upgrade) and the capacity the group had before it began. Read by every module that reads groups;
// written and cleared by src/resources/groupReplacement.ts.
import { z } from 'zod';
import { UserError } from '../core/errors';

export const REPLACEMENT_TAG = 'k3sctl.io/replacement';

const count = z.number().int().min(0);
const RecordSchema = z.object({
  run: z.string(),
  since: z.string(),
  desired: count,
  min: count,
  max: count,
  suspended: z.array(z.string()),
});

/** The `k3sctl.io/replacement` tag: an unfinished replacement and the group's capacity before it. */
export type ReplacementRecord = z.infer<typeof RecordSchema>;

export function formatReplacementRecord(record: ReplacementRecord): string {
  return JSON.stringify(record);
}

/** The record in a tag value; undefined when there is none, a UserError when it cannot be read. */
export function parseReplacementRecord(
  value: string | undefined,
  groupName: string,
): ReplacementRecord | undefined {
  if (value === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    // Not JSON: left undefined, which the schema refuses below.
  }
  const record = RecordSchema.safeParse(parsed);
  if (record.success) return record.data;
  throw new UserError(
    `Auto Scaling group ${groupName} has an unreadable ${REPLACEMENT_TAG} tag: ${value}`,
    `set the group's capacity back by hand, then remove the tag (aws autoscaling delete-tags --tags ResourceId=${groupName},ResourceType=auto-scaling-group,Key=${REPLACEMENT_TAG})`,
  );
}
