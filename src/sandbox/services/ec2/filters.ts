// EC2 Describe* filters, generically: each resource kind says which values a filter name yields for
// one resource; tag filters are shared. Values within a filter are ORed, filters ANDed, `*` and `?`
// are wildcards. An unknown filter name is `InvalidParameterValue`, as AWS answers.
import { awsError } from '../../errors';
import type { Tag } from './state';

export interface Filter {
  Name?: string;
  Values?: string[];
}

/** Values a resource has for a filter name, or `undefined` when the kind has no such filter. */
export type FilterFields<T> = (
  resource: T,
  name: string,
) => (string | number | boolean | undefined)[] | undefined;

const wildcardCache = new Map<string, RegExp>();

export function wildcardMatch(pattern: string, value: string): boolean {
  if (!pattern.includes('*') && !pattern.includes('?')) return pattern === value;
  let re = wildcardCache.get(pattern);
  if (!re) {
    const body = pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.');
    re = new RegExp(`^${body}$`, 's');
    wildcardCache.set(pattern, re);
  }
  return re.test(value);
}

function tagFilterValues(tags: Tag[], name: string): string[] | undefined {
  if (name.startsWith('tag:')) {
    const key = name.slice(4);
    return tags.filter((t) => t.Key === key).map((t) => t.Value);
  }
  if (name === 'tag-key') return tags.map((t) => t.Key);
  if (name === 'tag-value') return tags.map((t) => t.Value);
  return undefined;
}

/** Applies `filters` to `items`; throws InvalidParameterValue on a filter name the kind does not know. */
export function applyFilters<T extends { Tags?: Tag[] }>(
  items: T[],
  filters: Filter[] | undefined,
  fields: FilterFields<T>,
): T[] {
  const list = filters ?? [];
  for (const f of list) {
    if (!f.Name) throw awsError('InvalidParameterValue', 'The filter name must not be empty');
    if (!f.Values || f.Values.length === 0) {
      throw awsError('InvalidParameterValue', `The filter '${f.Name}' requires at least one value`);
    }
  }
  if (list.length === 0) return items;
  // Validated up front, so a typo fails even when nothing would match.
  for (const f of list) checkKnown(fields, f.Name as string);
  return items.filter((item) =>
    list.every((f) => {
      const name = f.Name as string;
      const values = tagFilterValues(item.Tags ?? [], name) ?? fields(item, name);
      if (values === undefined) throw awsError('InvalidParameterValue', `The filter '${name}' is invalid`);
      const actual = values.filter((v) => v !== undefined).map(String);
      return (f.Values as string[]).some((pattern) => actual.some((v) => wildcardMatch(pattern, v)));
    }),
  );
}

function checkKnown<T>(fields: FilterFields<T>, name: string): void {
  if (name.startsWith('tag:') || name === 'tag-key' || name === 'tag-value') return;
  // A throwaway proxy answers every property read with undefined, so `fields` reveals whether it knows `name`.
  const blank = new Proxy({}, { get: () => undefined }) as T;
  let known: boolean;
  try {
    known = fields(blank, name) !== undefined;
  } catch {
    known = true;
  }
  if (!known) throw awsError('InvalidParameterValue', `The filter '${name}' is invalid`);
}
