// Simulated AWS Certificate Manager: DNS-validated public certificates. A certificate is ISSUED
// `timings.acmValidationMs` after every one of its validation CNAMEs exists in a public Route 53 zone
// of the account (read through route53's `findRecords`); InUseBy comes from ELBv2 listeners.
import { createHash } from 'node:crypto';
import type { SandboxContext } from '../account';
import { awsError } from '../errors';
import { paginate } from '../pagination';
import { findRecords } from './route53';
import { listenersUsingCertificate } from './elbv2';
import { uniqueUuid } from '../ids';
import { acmState, type AcmState, type Certificate } from './acm/certificates';
import type * as AcmSdk from '@aws-sdk/client-acm';
import type { HandlerOf, InventoryItem, OperationsOf, SdkOperation, ServiceModule } from '../service';

type Handler<Op extends SdkOperation<typeof AcmSdk>> = HandlerOf<typeof AcmSdk, Op>;

const ACCOUNT = '123456789012';
const MAX_TAGS = 50;
const MAX_SANS = 100;
const IDEMPOTENCY_WINDOW_MS = 60 * 60 * 1000;
/** Unvalidated certificates time out after 72 hours. */
const VALIDATION_TIMEOUT_MS = 72 * 60 * 60 * 1000;
const VALIDITY_MS = 395 * 24 * 60 * 60 * 1000;

/**
 * The validation CNAME of a domain. Deterministic per name, and `*.x.com` shares the record of
 * `x.com` (ACM validates the wildcard through the base name).
 */
export function validationRecord(domain: string): { Name: string; Type: 'CNAME'; Value: string } {
  const base = domain.toLowerCase().replace(/^\*\./, '').replace(/\.$/, '');
  const h = createHash('sha256').update(`acm-validation/${base}`).digest('hex');
  return {
    Name: `_${h.slice(0, 32)}.${base}.`,
    Type: 'CNAME',
    Value: `_${h.slice(32, 64)}.${h.slice(0, 10).replace(/\d/g, (d) => 'abcdefghij'[Number(d)])}.acm-validations.aws.`,
  };
}

function validateDomain(d: unknown, field: string): string {
  if (typeof d !== 'string' || d === '')
    throw awsError('InvalidParameterException', `${field} must be specified`);
  const n = d.toLowerCase().replace(/\.$/, '');
  if (n.length > 253 || !/^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$/.test(n)) {
    throw awsError('InvalidDomainValidationOptionsException', `Domain name '${d}' is not valid`);
  }
  return n;
}

function validateArn(arn: unknown): string {
  if (typeof arn !== 'string' || !/^arn:aws:acm:[a-z0-9-]+:\d{12}:certificate\/[0-9a-f-]{36}$/.test(arn)) {
    throw awsError('InvalidArnException', `String '${String(arn)}' is not a valid ARN`);
  }
  return arn;
}

function getCert(ctx: SandboxContext, arn: unknown): Certificate {
  const c = acmState(ctx).certificates[validateArn(arn)];
  if (!c) throw awsError('ResourceNotFoundException', `Could not find certificate ${arn}.`);
  return c;
}

function validateTags(
  tags: { Key?: string; Value?: string }[] | undefined,
): { Key: string; Value?: string }[] {
  const out: { Key: string; Value?: string }[] = [];
  for (const t of tags ?? []) {
    if (!t.Key || t.Key.length > 128)
      throw awsError('InvalidTagException', `Tag key '${t.Key}' must be 1-128 characters`);
    if (t.Key.startsWith('aws:'))
      throw awsError('InvalidTagException', `Tag keys starting with 'aws:' are reserved: '${t.Key}'`);
    out.push({ Key: t.Key, Value: t.Value });
  }
  return out;
}

/** When the certificate's validation records all became visible (undefined while one is missing). */
function validatedSince(ctx: SandboxContext, c: Certificate): number | undefined {
  if (c.validationMethod !== 'DNS') return undefined;
  let since = c.createdAt;
  for (const domain of c.sans) {
    const want = validationRecord(domain);
    const found = findRecords(ctx, want.Name, 'CNAME').filter((r) =>
      r.values.some((v) => v.toLowerCase().replace(/\.?$/, '.') === want.Value),
    );
    if (found.length === 0) return undefined;
    since = Math.max(since, Math.min(...found.map((r) => r.writtenAt)));
  }
  return since;
}

function refresh(ctx: SandboxContext, c: Certificate): void {
  if (c.status !== 'PENDING_VALIDATION') return;
  const since = validatedSince(ctx, c);
  const issueAt = since === undefined ? undefined : since + ctx.sb.behavior.timings.acmValidationMs;
  if (issueAt !== undefined && issueAt <= ctx.now && issueAt <= c.createdAt + VALIDATION_TIMEOUT_MS) {
    c.status = 'ISSUED';
    c.issuedAt = issueAt;
  } else if (ctx.now > c.createdAt + VALIDATION_TIMEOUT_MS) {
    c.status = 'VALIDATION_TIMED_OUT';
  }
}

const requestCertificate: Handler<'RequestCertificate'> = (ctx, input) => {
  const domainName = validateDomain(input.DomainName, 'DomainName');
  const sans = [domainName];
  for (const s of (input.SubjectAlternativeNames ?? []) as string[]) {
    const n = validateDomain(s, 'SubjectAlternativeNames');
    if (!sans.includes(n)) sans.push(n);
  }
  if (sans.length > MAX_SANS)
    throw awsError('LimitExceededException', `A certificate can have at most ${MAX_SANS} domain names`);
  const method = input.ValidationMethod ?? 'EMAIL';
  if (method !== 'DNS' && method !== 'EMAIL')
    throw awsError('InvalidParameterException', `ValidationMethod '${method}' must be DNS or EMAIL`);
  const token = input.IdempotencyToken;
  if (token !== undefined && (typeof token !== 'string' || !/^\w{1,32}$/.test(token))) {
    throw awsError('InvalidParameterException', 'IdempotencyToken must be 1-32 word characters');
  }
  const tags = validateTags(input.Tags);
  if (tags.length > MAX_TAGS)
    throw awsError('TooManyTagsException', `A certificate can have at most ${MAX_TAGS} tags`);
  const keyAlgorithm = input.KeyAlgorithm ?? 'RSA_2048';
  const requestKey = JSON.stringify({ sans, method, keyAlgorithm });
  const st = acmState(ctx);
  if (token) {
    // Same token and same parameters within an hour: the same certificate.
    const previous = Object.values(st.certificates).find(
      (c) =>
        c.idempotencyToken === token &&
        c.requestKey === requestKey &&
        ctx.now - c.createdAt < IDEMPOTENCY_WINDOW_MS,
    );
    if (previous) return { CertificateArn: previous.arn };
  }
  const arn = `arn:aws:acm:${ctx.region}:${ACCOUNT}:certificate/${uniqueUuid(ctx)}`;
  st.certificates[arn] = {
    arn,
    domainName,
    sans,
    validationMethod: method,
    status: 'PENDING_VALIDATION',
    createdAt: ctx.now,
    idempotencyToken: token,
    requestKey,
    keyAlgorithm,
    tags,
  };
  return { CertificateArn: arn };
};

const describeCertificate: Handler<'DescribeCertificate'> = (ctx, input) => {
  const c = getCert(ctx, input.CertificateArn);
  refresh(ctx, c);
  const issued = c.status === 'ISSUED';
  return {
    Certificate: {
      CertificateArn: c.arn,
      DomainName: c.domainName,
      SubjectAlternativeNames: [...c.sans],
      DomainValidationOptions: c.sans.map((d) => ({
        DomainName: d,
        ValidationDomain: d,
        ValidationStatus: issued
          ? 'SUCCESS'
          : c.status === 'VALIDATION_TIMED_OUT'
            ? 'FAILED'
            : 'PENDING_VALIDATION',
        ValidationMethod: c.validationMethod,
        ResourceRecord: c.validationMethod === 'DNS' ? validationRecord(d) : undefined,
      })),
      Subject: `CN=${c.domainName}`,
      Issuer: issued ? 'Amazon' : undefined,
      CreatedAt: new Date(c.createdAt),
      IssuedAt: c.issuedAt !== undefined ? new Date(c.issuedAt) : undefined,
      NotBefore: c.issuedAt !== undefined ? new Date(c.issuedAt) : undefined,
      NotAfter: c.issuedAt !== undefined ? new Date(c.issuedAt + VALIDITY_MS) : undefined,
      Status: c.status,
      KeyAlgorithm: c.keyAlgorithm,
      SignatureAlgorithm: 'SHA256WITHRSA',
      InUseBy: listenersUsingCertificate(ctx, c.arn),
      Type: 'AMAZON_ISSUED',
      RenewalEligibility:
        issued && listenersUsingCertificate(ctx, c.arn).length > 0 ? 'ELIGIBLE' : 'INELIGIBLE',
      Options: { CertificateTransparencyLoggingPreference: 'ENABLED' },
    },
  };
};

const listCertificates: Handler<'ListCertificates'> = (ctx, input) => {
  const statuses: string[] | undefined = input.CertificateStatuses;
  const certs = Object.values(acmState(ctx).certificates).sort(
    (a, b) => a.createdAt - b.createdAt || a.arn.localeCompare(b.arn),
  );
  for (const c of certs) refresh(ctx, c);
  const matching = certs.filter((c) => !statuses?.length || statuses.includes(c.status));
  if (input.MaxItems !== undefined && (input.MaxItems < 1 || input.MaxItems > 1000)) {
    throw awsError('ValidationException', 'MaxItems must be between 1 and 1000');
  }
  const { page, nextToken } = paginate(matching, input.NextToken, input.MaxItems);
  return {
    CertificateSummaryList: page.map((c) => ({
      CertificateArn: c.arn,
      DomainName: c.domainName,
      SubjectAlternativeNameSummaries: [...c.sans],
      HasAdditionalSubjectAlternativeNames: false,
      Status: c.status,
      Type: 'AMAZON_ISSUED',
      KeyAlgorithm: c.keyAlgorithm,
      InUse: listenersUsingCertificate(ctx, c.arn).length > 0,
      CreatedAt: new Date(c.createdAt),
      IssuedAt: c.issuedAt !== undefined ? new Date(c.issuedAt) : undefined,
    })),
    NextToken: nextToken,
  };
};

const deleteCertificate: Handler<'DeleteCertificate'> = (ctx, input) => {
  const c = getCert(ctx, input.CertificateArn);
  if (listenersUsingCertificate(ctx, c.arn).length > 0)
    throw awsError('ResourceInUseException', `Certificate ${c.arn} in use.`);
  delete acmState(ctx).certificates[c.arn];
  return {};
};

const addTags: Handler<'AddTagsToCertificate'> = (ctx, input) => {
  const c = getCert(ctx, input.CertificateArn);
  const add = validateTags(input.Tags);
  if (add.length === 0) throw awsError('InvalidParameterException', 'At least one tag must be specified');
  const map = new Map(c.tags.map((t) => [t.Key, t.Value]));
  for (const t of add) map.set(t.Key, t.Value);
  if (map.size > MAX_TAGS)
    throw awsError('TooManyTagsException', `A certificate can have at most ${MAX_TAGS} tags`);
  c.tags = [...map].map(([Key, Value]) => ({ Key, Value }));
  return {};
};

const removeTags: Handler<'RemoveTagsFromCertificate'> = (ctx, input) => {
  const c = getCert(ctx, input.CertificateArn);
  const remove = (input.Tags ?? []) as { Key: string; Value?: string }[];
  c.tags = c.tags.filter(
    (t) => !remove.some((r) => r.Key === t.Key && (r.Value === undefined || r.Value === t.Value)),
  );
  return {};
};

const getCertificate: Handler<'GetCertificate'> = (ctx, input) => {
  const c = getCert(ctx, input.CertificateArn);
  refresh(ctx, c);
  if (c.status !== 'ISSUED')
    throw awsError('RequestInProgressException', `Certificate ${c.arn} is not yet issued.`);
  const body = Buffer.from(`sandbox certificate ${c.arn} for ${c.sans.join(',')}`).toString('base64');
  return {
    Certificate: `-----BEGIN CERTIFICATE-----\n${body}\n-----END CERTIFICATE-----\n`,
    CertificateChain: `-----BEGIN CERTIFICATE-----\nc2FuZGJveCBBbWF6b24gUlNBIDIwNDggTTAx\n-----END CERTIFICATE-----\n`,
  };
};

function tick(ctx: SandboxContext): void {
  const st = ctx.sb.existingServiceState<AcmState>('acm', ctx.region);
  if (!st) return;
  for (const c of Object.values(st.certificates)) refresh(ctx, c);
}

function inventory(ctx: SandboxContext): InventoryItem[] {
  const st = ctx.sb.existingServiceState<AcmState>('acm', ctx.region);
  if (!st) return [];
  return Object.values(st.certificates).map((c) => ({
    type: 'AWS::CertificateManager::Certificate',
    id: c.arn,
    fingerprint: JSON.stringify({
      sans: c.sans,
      tags: [...c.tags].sort((a, b) => a.Key.localeCompare(b.Key)),
    }),
  }));
}

export const acmModule: ServiceModule = {
  service: 'acm',
  operations: {
    RequestCertificate: requestCertificate,
    DescribeCertificate: describeCertificate,
    ListCertificates: listCertificates,
    DeleteCertificate: deleteCertificate,
    AddTagsToCertificate: addTags,
    RemoveTagsFromCertificate: removeTags,
    ListTagsForCertificate: (ctx, input) => ({
      Tags: getCert(ctx, input.CertificateArn).tags.map((t) => ({ ...t })),
    }),
    GetCertificate: getCertificate,
  } satisfies OperationsOf<typeof AcmSdk>,
  tick,
  inventory,
};
