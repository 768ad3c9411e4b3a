// Small pages by default, so callers that forget to follow NextToken are caught in tests.
import { awsError } from './errors';

export const DEFAULT_PAGE_SIZE = 5;

export function paginate<T>(
  items: T[],
  nextToken: string | undefined,
  maxResults: number | undefined,
  pageSize = DEFAULT_PAGE_SIZE,
): { page: T[]; nextToken?: string } {
  let start = 0;
  if (nextToken) {
    const m = /^sbtoken-(\d+)$/.exec(nextToken);
    if (!m || Number(m[1]) > items.length) throw awsError('InvalidNextToken', `The token '${nextToken}' is invalid`);
    start = Number(m[1]);
  }
  const size = Math.max(1, Math.min(maxResults ?? pageSize, pageSize));
  const page = items.slice(start, start + size);
  const end = start + page.length;
  return { page, nextToken: end < items.length ? `sbtoken-${end}` : undefined };
}
