// ACM certificates (AWS::CertificateManager::Certificate) validated through DNS. A certificate is ours
// when it carries k3sctl.io/role=certificate; it is "the same" when its domain and SANs equal the
// requested names. RequestCertificate uses an IdempotencyToken derived from the names, so a run
// killed after the request converges on the same certificate.
import {
  DeleteCertificateCommand,
  DescribeCertificateCommand,
  ListTagsForCertificateCommand,
  RequestCertificateCommand,
  paginateListCertificates,
  type CertificateDetail,
} from '@aws-sdk/client-acm';
import * as crypto from 'node:crypto';
import type { AwsClients } from '../aws/clients';
import { ignoringNotFound } from '../aws/notFound';
import { TagKeys, type Tag } from '../aws/tags';
import { UserError, isAwsError } from '../core/errors';
import { journaledWrite } from '../provider/journaledWrite';
import type { RunContext, Task } from '../provider/types';
import type { Provider } from '../provider/provider';

export const CERTIFICATE_TYPE = 'AWS::CertificateManager::Certificate';

export interface ValidationRecord {
  /** The domain it validates. */
  domain: string;
  name: string;
  type: string;
  value: string;
}

export interface CertificateState {
  arn: string;
  domain: string;
  names: string[];
  status: string;
  inUseBy: string[];
  validation: ValidationRecord[];
  notAfter?: string;
  tags: Record<string, string>;
}

/** Domain first, then the SANs, lowercase, without trailing dots or duplicates. */
export function certificateNames(domain: string, sans: string[] = []): string[] {
  const norm = (d: string) => d.trim().toLowerCase().replace(/\.$/, '');
  const out = [norm(domain)];
  for (const s of sans.map(norm)) if (!out.includes(s)) out.push(s);
  return out;
}

/** ACM IdempotencyToken (\w{1,32}) derived from the names: the same request twice is one certificate. */
export function certificateIdempotencyToken(names: string[]): string {
  return crypto
    .createHash('sha256')
    .update([names[0], ...names.slice(1).sort()].join(','))
    .digest('hex')
    .slice(0, 32);
}

function toState(c: CertificateDetail, tags: Record<string, string>): CertificateState {
  const validation: ValidationRecord[] = [];
  for (const o of c.DomainValidationOptions ?? []) {
    const r = o.ResourceRecord;
    if (r?.Name && r.Value)
      validation.push({ domain: o.DomainName ?? '', name: r.Name, type: r.Type ?? 'CNAME', value: r.Value });
  }
  const names = [c.DomainName ?? '', ...(c.SubjectAlternativeNames ?? []).filter((n) => n !== c.DomainName)];
  return {
    arn: c.CertificateArn ?? '',
    domain: c.DomainName ?? '',
    names,
    status: c.Status ?? 'UNKNOWN',
    inUseBy: c.InUseBy ?? [],
    validation,
    notAfter: c.NotAfter?.toISOString?.() ?? (c.NotAfter as unknown as string | undefined),
    tags,
  };
}

export async function describeCertificate(
  clients: AwsClients,
  arn: string,
): Promise<CertificateState | undefined> {
  try {
    const res = await clients.acm.send(new DescribeCertificateCommand({ CertificateArn: arn }));
    if (!res.Certificate) return undefined;
    const tags = await clients.acm.send(new ListTagsForCertificateCommand({ CertificateArn: arn }));
    return toState(
      res.Certificate,
      Object.fromEntries((tags.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? ''])),
    );
  } catch (error) {
    if (isAwsError(error, 'ResourceNotFound')) return undefined;
    throw error;
  }
}

/** Every certificate of the region (paginated), described, with tags. */
export async function listCertificates(
  clients: AwsClients,
  options: { managedOnly?: boolean } = {},
): Promise<CertificateState[]> {
  const arns: string[] = [];
  for await (const res of paginateListCertificates({ client: clients.acm }, {})) {
    for (const s of res.CertificateSummaryList ?? []) if (s.CertificateArn) arns.push(s.CertificateArn);
  }
  const out: CertificateState[] = [];
  for (const arn of arns) {
    const c = await describeCertificate(clients, arn);
    if (!c) continue;
    if (
      options.managedOnly &&
      (c.tags[TagKeys.role] !== 'certificate' || c.tags[TagKeys.managedBy] !== 'k3sctl')
    )
      continue;
    out.push(c);
  }
  return out;
}

const USABLE = new Set(['PENDING_VALIDATION', 'ISSUED']);

function sameNames(a: string[], b: string[]): boolean {
  return a[0] === b[0] && [...a].sort().join(',') === [...b].sort().join(',');
}

/** The k3sctl certificate for exactly these names (pending or issued); UserError when several exist. */
export async function findCertificateForNames(
  clients: AwsClients,
  names: string[],
): Promise<CertificateState | undefined> {
  const matches = (await listCertificates(clients, { managedOnly: true })).filter(
    (c) =>
      USABLE.has(c.status) &&
      sameNames(
        c.names.map((n) => n.toLowerCase()),
        names,
      ),
  );
  if (matches.length > 1) {
    throw new UserError(
      `${matches.length} k3sctl certificates cover ${names.join(', ')}: ${matches.map((m) => `${m.arn} (${m.status})`).join(', ')}`,
      'delete the extra ones with k3sctl certificate delete ARN',
    );
  }
  return matches[0];
}

/** A certificate by ARN or by domain name (k3sctl's, issued or pending); UserError when none or several. */
export async function resolveCertificate(
  clients: AwsClients,
  arnOrDomain: string,
  field = '--certificate',
): Promise<CertificateState> {
  if (arnOrDomain.startsWith('arn:')) {
    const c = await describeCertificate(clients, arnOrDomain);
    if (!c)
      throw new UserError(`${field}: certificate ${arnOrDomain} does not exist in ${clients.region}`, undefined, field);
    return c;
  }
  const domain = arnOrDomain.toLowerCase().replace(/\.$/, '');
  const all = (await listCertificates(clients)).filter(
    (c) => c.domain.toLowerCase() === domain && USABLE.has(c.status),
  );
  if (all.length === 0) {
    throw new UserError(
      `${field}: no certificate for ${domain} in ${clients.region}`,
      `request one with 'k3sctl certificate request ${domain}'`,
      field,
    );
  }
  if (all.length > 1) {
    const issued = all.filter((c) => c.status === 'ISSUED');
    if (issued.length === 1) return issued[0];
    throw new UserError(
      `${field}: several certificates for ${domain}: ${all.map((c) => `${c.arn} (${c.status})`).join(', ')}`,
      'give the ARN',
      field,
    );
  }
  return all[0];
}

export async function deleteCertificate(clients: AwsClients, arn: string): Promise<void> {
  await ignoringNotFound(() => clients.acm.send(new DeleteCertificateCommand({ CertificateArn: arn })), 'ResourceNotFound');
}

export const certificateProvider: Provider = {
  type: CERTIFICATE_TYPE,
  dependsOn: [],
  // ACM validates and renews a certificate through its DNS validation records: they go after it.
  outlivedBy: ['AWS::Route53::RecordSet'],
  undo: {
    async delete(clients, data) {
      let arn = data.arn as string | undefined;
      if (!arn && data.names) arn = (await findCertificateForNames(clients, data.names as string[]))?.arn;
      if (arn) await deleteCertificate(clients, arn);
    },
  },
};

/** The k3sctl certificate for `names` (DNS validation). */
export function certificateTask(
  spec: { names: string[]; tags: Tag[] },
  key = 'certificate',
): Task<CertificateState> {
  const [domain, ...sans] = spec.names;
  return {
    key,
    type: CERTIFICATE_TYPE,
    name: domain,
    find: (ctx) => findCertificateForNames(ctx.clients, spec.names),
    diff: () => [],
    async create(ctx) {
      const first = await request(ctx, certificateIdempotencyToken(spec.names));
      if (first) return first;
      // The token still maps (for an hour) to a certificate deleted since, e.g. by a rollback: a run-specific token.
      const again = await request(ctx, certificateIdempotencyToken([...spec.names, ctx.runId]));
      if (again) return again;
      throw new Error(`ACM returned a certificate for ${domain} that does not exist`);
    },
    id: (a) => a.arn,
  };

  async function request(ctx: RunContext, token: string): Promise<CertificateState | undefined> {
    const res = await journaledWrite(
      ctx,
      {
        action: 'create',
        type: CERTIFICATE_TYPE,
        name: domain,
        undo: { type: CERTIFICATE_TYPE, action: 'delete', data: { names: spec.names } },
      },
      () =>
        ctx.clients.acm.send(
          new RequestCertificateCommand({
            DomainName: domain,
            ...(sans.length ? { SubjectAlternativeNames: spec.names } : {}),
            ValidationMethod: 'DNS',
            IdempotencyToken: token,
            Tags: spec.tags,
          }),
        ),
      (out) => ({
        id: out.CertificateArn,
        undo: {
          type: CERTIFICATE_TYPE,
          action: 'delete',
          data: { arn: out.CertificateArn, names: spec.names },
        },
      }),
    );
    const arn = res.CertificateArn ?? '';
    // A certificate just requested may be NotFound for a moment (eventual consistency).
    for (let i = 0; i < 5; i++) {
      const c = await describeCertificate(ctx.clients, arn);
      if (c) return c;
      await ctx.clock.sleep(2_000);
    }
    return undefined;
  }
}
