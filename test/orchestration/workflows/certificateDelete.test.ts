// certificate delete in the order the kinds give (ProviderRegistry.deletionWaves): the certificate first,
// its DNS validation records after it (ACM validates and renews through them while it exists; the
// certificate provider is outlived by the record set kind). The plan lists the deletes in that order,
// and a failed certificate delete keeps the records.
import { ListResourceRecordSetsCommand } from '@aws-sdk/client-route-53';
import { RunFailedError } from '../../../src/orchestration/deps';
import { certificateDelete } from '../../../src/orchestration/workflows/certificateDelete';
import { Sandbox } from '../../../src/sandbox/sandbox';
import { DEFAULT_ZONE_ID } from '../../../src/sandbox/services/route53';
import { removeTestHomes } from '../../helpers/sandboxDeps';
import { createCertificate, next } from './endpointFixture';

afterAll(removeTestHomes);

const CERTIFICATE = 'AWS::CertificateManager::Certificate';
const RECORD_SET = 'AWS::Route53::RecordSet';

async function validationRecords(sb: Sandbox): Promise<string[]> {
  const out = await next(sb).clients.route53.send(new ListResourceRecordSetsCommand({ HostedZoneId: DEFAULT_ZONE_ID }));
  return (out.ResourceRecordSets ?? []).filter((r) => r.Type === 'CNAME').map((r) => r.Name!);
}

describe('certificate delete', () => {
  it('plans and deletes the certificate first, then its validation records', async () => {
    const sb = new Sandbox();
    const arn = await createCertificate(sb);
    expect((await validationRecords(sb)).length).toBeGreaterThan(0);

    const dry = await certificateDelete(next(sb), arn, { dryRun: true });
    const planned = dry.planned.map((c) => c.type);
    expect(planned[0]).toBe(CERTIFICATE);
    expect(planned.slice(1).length).toBeGreaterThan(0);
    expect(new Set(planned.slice(1))).toEqual(new Set([RECORD_SET]));

    const deleted = await certificateDelete(next(sb), arn);
    expect(deleted.changes.map((c) => `${c.action} ${c.type}`)).toEqual(dry.planned.map((c) => `${c.action} ${c.type}`));
    expect(await validationRecords(sb)).toEqual([]);
  });

  it('keeps the validation records when the certificate cannot be deleted', async () => {
    const sb = new Sandbox();
    const arn = await createCertificate(sb);
    const records = await validationRecords(sb);
    sb.faults.add({ op: 'DeleteCertificate', nth: 1, code: 'AccessDeniedException' });
    const failed = await certificateDelete(next(sb), arn).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(RunFailedError);
    expect((failed as RunFailedError).changes.map((c) => c.type)).not.toContain(RECORD_SET);
    expect(await validationRecords(sb)).toEqual(records);

    sb.faults.clear();
    await certificateDelete(next(sb), arn);
    expect(await validationRecords(sb)).toEqual([]);
  });
});
