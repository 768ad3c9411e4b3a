import {
  ChangeResourceRecordSetsCommand,
  CreateHostedZoneCommand,
  DeleteHostedZoneCommand,
  GetChangeCommand,
  GetHostedZoneCommand,
  ListHostedZonesByNameCommand,
  ListHostedZonesCommand,
  ListResourceRecordSetsCommand,
  ChangeTagsForResourceCommand,
  ListTagsForResourceCommand,
  type ResourceRecordSet,
} from '@aws-sdk/client-route-53';
import { Sandbox } from '../../src/sandbox/sandbox';
import { sandboxClients } from '../../src/sandbox/clients';
import type { AwsClients } from '../../src/aws/clients';

function setup() {
  const sb = new Sandbox({ behavior: { timings: { route53SyncMs: 30_000 } as never } });
  return { sb, c: sandboxClients(sb, 'us-east-1') };
}

async function defaultZoneId(c: AwsClients): Promise<string> {
  const zones = await c.route53.send(new ListHostedZonesByNameCommand({ DNSName: 'example.com' }));
  expect(zones.HostedZones?.[0].Name).toBe('example.com.');
  return zones.HostedZones![0].Id!.replace('/hostedzone/', '');
}

async function allRecords(
  c: AwsClients,
  zoneId: string,
): Promise<{ records: ResourceRecordSet[]; pages: number }> {
  const records: ResourceRecordSet[] = [];
  let start: { StartRecordName?: string; StartRecordType?: string; StartRecordIdentifier?: string } = {};
  let pages = 0;
  for (;;) {
    const out = await c.route53.send(
      new ListResourceRecordSetsCommand({ HostedZoneId: zoneId, ...start } as never),
    );
    records.push(...(out.ResourceRecordSets ?? []));
    pages++;
    if (!out.IsTruncated) break;
    start = {
      StartRecordName: out.NextRecordName,
      StartRecordType: out.NextRecordType,
      StartRecordIdentifier: out.NextRecordIdentifier,
    };
  }
  return { records, pages };
}

const latencyAlias = (
  name: string,
  region: string,
  dns: string,
  action: 'CREATE' | 'UPSERT' | 'DELETE' = 'UPSERT',
) => ({
  Action: action,
  ResourceRecordSet: {
    Name: name,
    Type: 'A' as const,
    SetIdentifier: region,
    Region: region as never,
    AliasTarget: { HostedZoneId: 'Z35SXDOTRQ7X7K', DNSName: dns, EvaluateTargetHealth: true },
  },
});

describe('sandbox Route 53', () => {
  it('holds the default example.com zone with its NS and SOA, outside the inventory', async () => {
    const { sb, c } = setup();
    const id = await defaultZoneId(c);
    expect(id).toMatch(/^Z[A-Z0-9]{13,21}$/);
    const zone = await c.route53.send(new GetHostedZoneCommand({ Id: id }));
    expect(zone.DelegationSet?.NameServers).toHaveLength(4);
    const { records } = await allRecords(c, id);
    expect(records.map((r) => r.Type)).toEqual(['NS', 'SOA']);
    expect(sb.inventory().filter((i) => i.type.startsWith('AWS::Route53'))).toEqual([]);
    expect(
      sb.inventory({ includeDefaults: true }).filter((i) => i.type === 'AWS::Route53::HostedZone'),
    ).toHaveLength(1);
  });

  it('stores latency alias records per SetIdentifier, refuses duplicate CREATEs, and syncs changes', async () => {
    const { sb, c } = setup();
    const zoneId = await defaultZoneId(c);
    const change = await c.route53.send(
      new ChangeResourceRecordSetsCommand({
        HostedZoneId: zoneId,
        ChangeBatch: {
          Changes: [
            latencyAlias('Web.Example.com', 'us-east-1', 'shared-1.us-east-1.elb.amazonaws.com', 'CREATE'),
            latencyAlias('web.example.com.', 'eu-west-1', 'shared-2.eu-west-1.elb.amazonaws.com', 'CREATE'),
          ],
        },
      }),
    );
    expect(change.ChangeInfo?.Status).toBe('PENDING');
    expect(change.ChangeInfo?.Id).toMatch(/^\/change\/C[A-Z0-9]+$/);
    await expect(
      c.route53.send(
        new ChangeResourceRecordSetsCommand({
          HostedZoneId: zoneId,
          ChangeBatch: {
            Changes: [latencyAlias('web.example.com', 'us-east-1', 'x.elb.amazonaws.com', 'CREATE')],
          },
        }),
      ),
    ).rejects.toMatchObject({
      name: 'InvalidChangeBatch',
      message: expect.stringContaining(
        "Tried to create resource record set [name='web.example.com.', type='A', set-identifier='us-east-1'] but it already exists",
      ),
    });
    sb.advance(30_000);
    expect(
      (await c.route53.send(new GetChangeCommand({ Id: change.ChangeInfo!.Id }))).ChangeInfo?.Status,
    ).toBe('INSYNC');
    await expect(c.route53.send(new GetChangeCommand({ Id: 'CNOSUCHCHANGE' }))).rejects.toMatchObject({
      name: 'NoSuchChange',
    });

    const web = (await allRecords(c, zoneId)).records.filter((r) => r.Name === 'web.example.com.');
    expect(web.map((r) => [r.SetIdentifier, r.Region, r.AliasTarget?.DNSName])).toEqual([
      ['eu-west-1', 'eu-west-1', 'shared-2.eu-west-1.elb.amazonaws.com.'],
      ['us-east-1', 'us-east-1', 'shared-1.us-east-1.elb.amazonaws.com.'],
    ]);

    // A batch is atomic: the valid UPSERT is not applied when the DELETE in the same batch fails.
    await expect(
      c.route53.send(
        new ChangeResourceRecordSetsCommand({
          HostedZoneId: zoneId,
          ChangeBatch: {
            Changes: [
              latencyAlias('web.example.com', 'us-east-1', 'moved.us-east-1.elb.amazonaws.com'),
              latencyAlias('web.example.com', 'ap-south-1', 'nope.elb.amazonaws.com', 'DELETE'),
            ],
          },
        }),
      ),
    ).rejects.toMatchObject({
      name: 'InvalidChangeBatch',
      message: expect.stringContaining('but it was not found'),
    });
    const again = (await allRecords(c, zoneId)).records.find((r) => r.SetIdentifier === 'us-east-1');
    expect(again?.AliasTarget?.DNSName).toBe('shared-1.us-east-1.elb.amazonaws.com.');

    // CNAME conflicts with other types at the same name.
    await expect(
      c.route53.send(
        new ChangeResourceRecordSetsCommand({
          HostedZoneId: zoneId,
          ChangeBatch: {
            Changes: [
              {
                Action: 'CREATE',
                ResourceRecordSet: {
                  Name: 'web.example.com',
                  Type: 'CNAME',
                  TTL: 60,
                  ResourceRecords: [{ Value: 'elsewhere.example.org' }],
                },
              },
            ],
          },
        }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidChangeBatch' });
    // DELETE must match exactly.
    await expect(
      c.route53.send(
        new ChangeResourceRecordSetsCommand({
          HostedZoneId: zoneId,
          ChangeBatch: {
            Changes: [latencyAlias('web.example.com', 'us-east-1', 'other.elb.amazonaws.com', 'DELETE')],
          },
        }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidChangeBatch' });
    await c.route53.send(
      new ChangeResourceRecordSetsCommand({
        HostedZoneId: zoneId,
        ChangeBatch: {
          Changes: [
            latencyAlias('web.example.com', 'us-east-1', 'shared-1.us-east-1.elb.amazonaws.com', 'DELETE'),
          ],
        },
      }),
    );
    expect((await allRecords(c, zoneId)).records.filter((r) => r.Name === 'web.example.com.')).toHaveLength(
      1,
    );
  });

  it('pages ListResourceRecordSets in reversed-label order and stores wildcards escaped', async () => {
    const { c } = setup();
    const created = await c.route53.send(
      new CreateHostedZoneCommand({ Name: 'k3s.example.org', CallerReference: 'ref-1' }),
    );
    const zoneId = created.HostedZone!.Id!.replace('/hostedzone/', '');
    expect(zoneId).toMatch(/^Z[A-Z0-9]{13,21}$/);
    const again = await c.route53.send(
      new CreateHostedZoneCommand({ Name: 'k3s.example.org', CallerReference: 'ref-1' }),
    );
    expect(again.HostedZone?.Id).toBe(created.HostedZone?.Id);
    await expect(
      c.route53.send(new CreateHostedZoneCommand({ Name: 'other.example.org', CallerReference: 'ref-1' })),
    ).rejects.toMatchObject({ name: 'HostedZoneAlreadyExists' });

    const names = [
      '*.k3s.example.org',
      'a.k3s.example.org',
      'b.a.k3s.example.org',
      'z.k3s.example.org',
      'm.k3s.example.org',
      'c.k3s.example.org',
      'txt.k3s.example.org',
    ];
    await c.route53.send(
      new ChangeResourceRecordSetsCommand({
        HostedZoneId: zoneId,
        ChangeBatch: {
          Changes: names.map((Name) => ({
            Action: 'CREATE' as const,
            ResourceRecordSet: Name.startsWith('txt')
              ? { Name, Type: 'TXT' as const, TTL: 300, ResourceRecords: [{ Value: '"hello"' }] }
              : { Name, Type: 'A' as const, TTL: 60, ResourceRecords: [{ Value: '10.0.0.1' }] },
          })),
        },
      }),
    );
    const { records, pages } = await allRecords(c, zoneId);
    expect(pages).toBe(2);
    expect(records.map((r) => `${r.Name} ${r.Type}`)).toEqual([
      'k3s.example.org. NS',
      'k3s.example.org. SOA',
      '\\052.k3s.example.org. A',
      'a.k3s.example.org. A',
      'b.a.k3s.example.org. A',
      'c.k3s.example.org. A',
      'm.k3s.example.org. A',
      'txt.k3s.example.org. TXT',
      'z.k3s.example.org. A',
    ]);
    await expect(c.route53.send(new DeleteHostedZoneCommand({ Id: zoneId }))).rejects.toMatchObject({
      name: 'HostedZoneNotEmpty',
    });
    await c.route53.send(
      new ChangeResourceRecordSetsCommand({
        HostedZoneId: zoneId,
        ChangeBatch: {
          Changes: names.map((Name) => ({
            Action: 'DELETE' as const,
            ResourceRecordSet: Name.startsWith('txt')
              ? { Name, Type: 'TXT' as const, TTL: 300, ResourceRecords: [{ Value: '"hello"' }] }
              : { Name, Type: 'A' as const, TTL: 60, ResourceRecords: [{ Value: '10.0.0.1' }] },
          })),
        },
      }),
    );
    await c.route53.send(
      new ChangeTagsForResourceCommand({
        ResourceType: 'hostedzone',
        ResourceId: zoneId,
        AddTags: [{ Key: 'k3sctl.io/shared', Value: 'dns' }],
      }),
    );
    expect(
      (
        await c.route53.send(
          new ListTagsForResourceCommand({ ResourceType: 'hostedzone', ResourceId: zoneId }),
        )
      ).ResourceTagSet?.Tags,
    ).toEqual([{ Key: 'k3sctl.io/shared', Value: 'dns' }]);
    await c.route53.send(new DeleteHostedZoneCommand({ Id: zoneId }));
    await expect(c.route53.send(new GetHostedZoneCommand({ Id: zoneId }))).rejects.toMatchObject({
      name: 'NoSuchHostedZone',
    });
  });

  it('lists hosted zones by name in reversed-label order, with markers', async () => {
    const { c } = setup();
    for (const [i, name] of [
      'b.example.net',
      'a.example.net',
      'example.net',
      'zz.example.com',
      'a.example.com',
      'x.io',
    ].entries()) {
      await c.route53.send(new CreateHostedZoneCommand({ Name: name, CallerReference: `ref-${i}` }));
    }
    const first = await c.route53.send(new ListHostedZonesByNameCommand({}));
    expect(first.HostedZones?.map((z) => z.Name)).toEqual([
      'example.com.',
      'a.example.com.',
      'zz.example.com.',
      'x.io.',
      'example.net.',
    ]);
    expect(first.IsTruncated).toBe(true);
    const second = await c.route53.send(
      new ListHostedZonesByNameCommand({ DNSName: first.NextDNSName, HostedZoneId: first.NextHostedZoneId }),
    );
    expect(second.HostedZones?.map((z) => z.Name)).toEqual(['a.example.net.', 'b.example.net.']);
    const all: string[] = [];
    let marker: string | undefined;
    do {
      const page = await c.route53.send(new ListHostedZonesCommand({ Marker: marker }));
      all.push(...(page.HostedZones ?? []).map((z) => z.Name as string));
      marker = page.NextMarker;
    } while (marker);
    expect(all).toHaveLength(7);
  });
});
