// Certificates and record sets: names and idempotency tokens, finding the existing certificate,
// record sets created / updated (restore on rollback) / deleted.
import { buildCertificateSpec } from '../../src/config/ingress';
import { runWorkflow } from '../../src/orchestration/engine';
import { RunFailedError } from '../../src/orchestration/deps';
import { WaitTimeoutError } from '../../src/core/errors';
import { certificateRequest } from '../../src/orchestration/workflows/certificateRequest';
import {
  certificateIdempotencyToken,
  certificateNames,
  findCertificateForNames,
  resolveCertificate,
} from '../../src/resources/certificate';
import { deleteRecord, findRecord, recordSetTask } from '../../src/resources/recordSet';
import { Sandbox } from '../../src/sandbox/sandbox';
import { DEFAULT_ZONE_ID } from '../../src/sandbox/services/route53';
import { removeTestHomes, sandboxDeps } from '../helpers/sandboxDeps';

afterAll(removeTestHomes);

describe('certificates', () => {
  it('normalises names and derives a stable idempotency token', () => {
    expect(certificateNames('Example.COM.', ['*.example.com', 'example.com'])).toEqual([
      'example.com',
      '*.example.com',
    ]);
    const a = certificateIdempotencyToken(['example.com', 'a.example.com', 'b.example.com']);
    expect(a).toMatch(/^\w{32}$/);
    expect(certificateIdempotencyToken(['example.com', 'b.example.com', 'a.example.com'])).toBe(a);
    expect(certificateIdempotencyToken(['a.example.com', 'example.com', 'b.example.com'])).not.toBe(a);
  });

  it('finds the existing certificate for the same names instead of requesting another', async () => {
    const sb = new Sandbox();
    const spec = buildCertificateSpec({ domain: 'app.example.com', sans: ['*.app.example.com'] });
    const first = await certificateRequest(sandboxDeps(sb).deps, spec);
    expect(first.certificate.status).toBe('ISSUED');
    const second = await certificateRequest(sandboxDeps(sb).deps, spec);
    expect(second.apiCalls.write).toBe(0);
    expect(second.certificate.arn).toBe(first.certificate.arn);
    const { deps } = sandboxDeps(sb);
    expect((await findCertificateForNames(deps.clients, ['app.example.com', '*.app.example.com']))?.arn).toBe(
      first.certificate.arn,
    );
    expect((await resolveCertificate(deps.clients, 'app.example.com')).arn).toBe(first.certificate.arn);
    await expect(resolveCertificate(deps.clients, 'other.example.com')).rejects.toThrow(
      /no certificate for other.example.com/,
    );
    // A certificate for other names is another certificate.
    const other = await certificateRequest(
      sandboxDeps(sb).deps,
      buildCertificateSpec({ domain: 'app.example.com' }),
    );
    expect(other.certificate.arn).not.toBe(first.certificate.arn);
  });
});

describe('certificate validation timeout', () => {
  it('says what it waited for, and rolls back the certificate and its records', async () => {
    const sb = new Sandbox({ behavior: { timings: { acmValidationMs: 3 * 3_600_000 } as never } });
    const before = sb.inventory();
    const error = await certificateRequest(
      sandboxDeps(sb).deps,
      buildCertificateSpec({ domain: 'slow.example.com' }),
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RunFailedError);
    expect((error as RunFailedError).cause).toBeInstanceOf(WaitTimeoutError);
    expect((error as Error).message).toMatch(
      /timed out after 2700s waiting for certificate .* \(slow.example.com\) ISSUED through DNS validation .*; last seen: PENDING_VALIDATION/,
    );
    expect((error as RunFailedError).leftovers).toEqual([]);
    expect(sb.inventory()).toEqual(before);
  });
});

describe('record sets', () => {
  it('creates, leaves alone, updates with a restore on rollback, and deletes', async () => {
    const sb = new Sandbox();
    const before = sb.inventory();
    const record = { name: 'x.example.com', type: 'CNAME' as const, ttl: 60, values: ['a.example.net'] };
    const converge = (r: typeof record, fail = false) =>
      runWorkflow(sandboxDeps(sb).deps, 'record', async (run) => {
        const t = recordSetTask(DEFAULT_ZONE_ID, r, 'r');
        await run.plan([t]);
        await run.apply([t]);
        if (fail) throw new Error('later failure');
        return {};
      });
    expect((await converge(record)).apiCalls.write).toBe(1);
    expect((await converge(record)).apiCalls.write).toBe(0);
    await expect(converge({ ...record, values: ['b.example.net'] }, true)).rejects.toThrow('later failure');
    const { deps } = sandboxDeps(sb);
    expect((await findRecord(deps.clients, DEFAULT_ZONE_ID, record))?.values).toEqual(['a.example.net']);
    expect(await deleteRecord(deps.clients, DEFAULT_ZONE_ID, record)).toBe(true);
    expect(await deleteRecord(deps.clients, DEFAULT_ZONE_ID, record)).toBe(false);
    expect(sb.inventory()).toEqual(before);
  });
});
