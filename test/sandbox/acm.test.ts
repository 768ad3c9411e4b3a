import {
  AddTagsToCertificateCommand,
  DeleteCertificateCommand,
  DescribeCertificateCommand,
  GetCertificateCommand,
  ListCertificatesCommand,
  ListTagsForCertificateCommand,
  RemoveTagsFromCertificateCommand,
  RequestCertificateCommand,
} from '@aws-sdk/client-acm';
import { ChangeResourceRecordSetsCommand, ListHostedZonesByNameCommand } from '@aws-sdk/client-route-53';
import { Sandbox } from '../../src/sandbox/sandbox';
import { sandboxClients } from '../../src/sandbox/clients';
import { defaultTimings } from '../../src/sandbox/latency';
import type { AwsClients } from '../../src/aws/clients';

function setup() {
  const sb = new Sandbox({ behavior: { timings: { ...defaultTimings, acmValidationMs: 60_000 } } });
  return { sb, c: sandboxClients(sb, 'us-east-1') };
}

async function status(c: AwsClients, arn: string): Promise<string | undefined> {
  return (await c.acm.send(new DescribeCertificateCommand({ CertificateArn: arn }))).Certificate?.Status;
}

async function upsertValidation(c: AwsClients, arn: string): Promise<void> {
  const cert = (await c.acm.send(new DescribeCertificateCommand({ CertificateArn: arn }))).Certificate!;
  const zone = (await c.route53.send(new ListHostedZonesByNameCommand({ DNSName: 'example.com' })))
    .HostedZones![0];
  const records = new Map(
    cert.DomainValidationOptions!.map((o) => [o.ResourceRecord!.Name, o.ResourceRecord!]),
  );
  await c.route53.send(
    new ChangeResourceRecordSetsCommand({
      HostedZoneId: zone.Id,
      ChangeBatch: {
        Changes: [...records.values()].map((r) => ({
          Action: 'UPSERT' as const,
          ResourceRecordSet: {
            Name: r.Name,
            Type: 'CNAME' as const,
            TTL: 300,
            ResourceRecords: [{ Value: r.Value as string }],
          },
        })),
      },
    }),
  );
}

describe('sandbox ACM', () => {
  it('issues a DNS-validated certificate once its validation CNAMEs exist and time passes', async () => {
    const { sb, c } = setup();
    const arn = (
      await c.acm.send(
        new RequestCertificateCommand({
          DomainName: 'example.com',
          SubjectAlternativeNames: ['*.example.com'],
          ValidationMethod: 'DNS',
          IdempotencyToken: 'k3sctl1',
        }),
      )
    ).CertificateArn as string;
    expect(arn).toMatch(
      /^arn:aws:acm:us-east-1:123456789012:certificate\/[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    const again = await c.acm.send(
      new RequestCertificateCommand({
        DomainName: 'example.com',
        SubjectAlternativeNames: ['*.example.com'],
        ValidationMethod: 'DNS',
        IdempotencyToken: 'k3sctl1',
      }),
    );
    expect(again.CertificateArn).toBe(arn);
    const described = (await c.acm.send(new DescribeCertificateCommand({ CertificateArn: arn })))
      .Certificate!;
    expect(described.Status).toBe('PENDING_VALIDATION');
    expect(described.SubjectAlternativeNames).toEqual(['example.com', '*.example.com']);
    const [apex, wildcard] = described.DomainValidationOptions!;
    expect(apex.ResourceRecord).toEqual({
      Name: expect.stringMatching(/^_[0-9a-f]{32}\.example\.com\.$/),
      Type: 'CNAME',
      Value: expect.stringMatching(/\.acm-validations\.aws\.$/),
    });
    expect(wildcard.ResourceRecord).toEqual(apex.ResourceRecord); // the wildcard validates through its base name

    // Without the record, nothing happens however long we wait.
    sb.advance(10 * 60_000);
    expect(await status(c, arn)).toBe('PENDING_VALIDATION');

    await upsertValidation(c, arn);
    sb.advance(30_000);
    expect(await status(c, arn)).toBe('PENDING_VALIDATION');
    await expect(c.acm.send(new GetCertificateCommand({ CertificateArn: arn }))).rejects.toMatchObject({
      name: 'RequestInProgressException',
    });
    sb.advance(30_000);
    const issued = (await c.acm.send(new DescribeCertificateCommand({ CertificateArn: arn }))).Certificate!;
    expect(issued.Status).toBe('ISSUED');
    expect(issued.DomainValidationOptions?.map((o) => o.ValidationStatus)).toEqual(['SUCCESS', 'SUCCESS']);
    expect((await c.acm.send(new GetCertificateCommand({ CertificateArn: arn }))).Certificate).toMatch(
      /^-----BEGIN CERTIFICATE-----/,
    );

    // A second certificate for the same name reuses the record that is already there.
    const other = (
      await c.acm.send(new RequestCertificateCommand({ DomainName: 'example.com', ValidationMethod: 'DNS' }))
    ).CertificateArn as string;
    expect(other).not.toBe(arn);
    sb.advance(60_000);
    expect(await status(c, other)).toBe('ISSUED');
  });

  it('filters and pages ListCertificates, manages tags, and deletes unused certificates', async () => {
    const { sb, c } = setup();
    const arns: string[] = [];
    for (let i = 0; i < 6; i++) {
      arns.push(
        (
          await c.acm.send(
            new RequestCertificateCommand({
              DomainName: `svc${i}.example.com`,
              ValidationMethod: 'DNS',
              Tags: [{ Key: 'k3sctl.io/shared', Value: `svc${i}` }],
            }),
          )
        ).CertificateArn as string,
      );
    }
    await upsertValidation(c, arns[0]);
    sb.advance(60_000);
    const listed: string[] = [];
    let token: string | undefined;
    do {
      const page = await c.acm.send(
        new ListCertificatesCommand({ CertificateStatuses: ['PENDING_VALIDATION'], NextToken: token }),
      );
      listed.push(...(page.CertificateSummaryList ?? []).map((s) => s.CertificateArn as string));
      token = page.NextToken;
    } while (token);
    expect(listed).toEqual(arns.slice(1));
    const issued = await c.acm.send(new ListCertificatesCommand({ CertificateStatuses: ['ISSUED'] }));
    expect(issued.CertificateSummaryList?.map((s) => s.CertificateArn)).toEqual([arns[0]]);

    await c.acm.send(
      new AddTagsToCertificateCommand({ CertificateArn: arns[0], Tags: [{ Key: 'Name', Value: 'svc0' }] }),
    );
    await c.acm.send(
      new RemoveTagsFromCertificateCommand({ CertificateArn: arns[0], Tags: [{ Key: 'k3sctl.io/shared' }] }),
    );
    expect((await c.acm.send(new ListTagsForCertificateCommand({ CertificateArn: arns[0] }))).Tags).toEqual([
      { Key: 'Name', Value: 'svc0' },
    ]);

    await c.acm.send(new DeleteCertificateCommand({ CertificateArn: arns[0] }));
    await expect(
      c.acm.send(new DescribeCertificateCommand({ CertificateArn: arns[0] })),
    ).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    await expect(
      c.acm.send(new DescribeCertificateCommand({ CertificateArn: 'not-an-arn' })),
    ).rejects.toMatchObject({ name: 'InvalidArnException' });
    expect(sb.inventory().filter((i) => i.type === 'AWS::CertificateManager::Certificate')).toHaveLength(5);
  });
});
