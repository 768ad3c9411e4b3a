// Simulated Route 53 (global): hosted zones, record sets with simple, weighted and latency routing
// and alias targets, atomic change batches whose status goes PENDING -> INSYNC, and tags. The
// default account holds the public zone `example.com.` so sandbox examples work out of the box.
// ACM's DNS validation reads records through `findRecords`.
import type { SandboxContext } from '../account';
import { awsError } from '../errors';
import { uniqueUpperAlnum } from '../ids';
import type * as Route53Sdk from '@aws-sdk/client-route-53';
import type { HandlerOf, InventoryItem, OperationsOf, SdkOperation, ServiceModule } from '../service';

type Handler<Op extends SdkOperation<typeof Route53Sdk>> = HandlerOf<typeof Route53Sdk, Op>;

interface RecordSet {
  Name: string;
  Type: Route53Sdk.RRType;
  SetIdentifier?: string;
  Weight?: number;
  Region?: Route53Sdk.ResourceRecordSetRegion;
  TTL?: number;
  ResourceRecords?: { Value: string }[];
  AliasTarget?: { HostedZoneId: string; DNSName: string; EvaluateTargetHealth: boolean };
  /** When this version of the record set was written (virtual ms). */
  writtenAt: number;
}

interface HostedZone {
  id: string;
  name: string;
  callerReference: string;
  comment?: string;
  privateZone: boolean;
  vpcs: { VPCRegion: Route53Sdk.VPCRegion; VPCId: string }[];
  nameServers: string[];
  records: RecordSet[];
  tags: { Key: string; Value: string }[];
  isDefault?: boolean;
}

interface Change {
  id: string;
  submittedAt: number;
  comment?: string;
}

interface Route53State {
  zones: Record<string, HostedZone>;
  changes: Record<string, Change>;
}

export const DEFAULT_ZONE_NAME = 'example.com.';
export const DEFAULT_ZONE_ID = 'Z0SANDBOXEXAMPLE01';
const DEFAULT_ZONE_CREATED = Date.UTC(2025, 0, 1);
const ROUTING_REGIONS = new Set([
  'us-east-1',
  'us-east-2',
  'us-west-1',
  'us-west-2',
  'ca-central-1',
  'ca-west-1',
  'eu-west-1',
  'eu-west-2',
  'eu-west-3',
  'eu-central-1',
  'eu-central-2',
  'eu-north-1',
  'eu-south-1',
  'eu-south-2',
  'ap-south-1',
  'ap-south-2',
  'ap-northeast-1',
  'ap-northeast-2',
  'ap-northeast-3',
  'ap-southeast-1',
  'ap-southeast-2',
  'ap-southeast-3',
  'ap-southeast-4',
  'ap-east-1',
  'sa-east-1',
  'me-south-1',
  'me-central-1',
  'af-south-1',
  'il-central-1',
  'mx-central-1',
]);
const RECORD_TYPES = new Set([
  'A',
  'AAAA',
  'CNAME',
  'TXT',
  'MX',
  'NS',
  'SOA',
  'SRV',
  'PTR',
  'CAA',
  'SPF',
  'NAPTR',
  'DS',
]);
const MAX_TAGS = 50;

function nameServersFor(seed: string): string[] {
  let h = 0;
  for (const ch of seed) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return [
    `ns-${h % 512}.awsdns-${h % 64}.com.`,
    `ns-${512 + (h % 512)}.awsdns-${(h >> 3) % 64}.net.`,
    `ns-${1024 + (h % 512)}.awsdns-${(h >> 6) % 64}.org.`,
    `ns-${1536 + (h % 512)}.awsdns-${(h >> 9) % 64}.co.uk.`,
  ];
}

function apexRecords(name: string, nameServers: string[], at: number): RecordSet[] {
  return [
    {
      Name: name,
      Type: 'NS',
      TTL: 172800,
      ResourceRecords: nameServers.map((Value) => ({ Value })),
      writtenAt: at,
    },
    {
      Name: name,
      Type: 'SOA',
      TTL: 900,
      ResourceRecords: [
        { Value: `${nameServers[0]} awsdns-hostmaster.amazon.com. 1 7200 900 1209600 86400` },
      ],
      writtenAt: at,
    },
  ];
}

function state(ctx: SandboxContext): Route53State {
  return ctx.sb.serviceState<Route53State>('route53', ctx.region, () => {
    const ns = nameServersFor(DEFAULT_ZONE_NAME);
    return {
      zones: {
        [DEFAULT_ZONE_ID]: {
          id: DEFAULT_ZONE_ID,
          name: DEFAULT_ZONE_NAME,
          callerReference: 'sandbox-default-zone',
          comment: 'Default public zone of the sandbox account',
          privateZone: false,
          vpcs: [],
          nameServers: ns,
          records: apexRecords(DEFAULT_ZONE_NAME, ns, DEFAULT_ZONE_CREATED),
          tags: [],
          isDefault: true,
        },
      },
      changes: {},
    };
  });
}

/** Lowercase, trailing dot, `*` stored as `\052` (as Route 53 returns names). */
export function normaliseName(name: string): string {
  let n = name.trim().toLowerCase();
  if (!n.endsWith('.')) n += '.';
  return n.replace(/\*/g, '\\052');
}

function validateDomainName(raw: unknown, code = 'InvalidDomainName'): string {
  if (typeof raw !== 'string' || raw === '') throw awsError(code, 'A domain name must be specified');
  const n = normaliseName(raw);
  if (
    n.length > 1024 ||
    !/^((\\052|[a-z0-9_-]{1,63})\.)+$/.test(n) ||
    n.split('.').some((l) => l.length > 63)
  ) {
    throw awsError(code, `${raw} is not a valid domain name`);
  }
  return n;
}

/** Route 53's name ordering: labels reversed (`www.example.com.` sorts as `com.example.www`). */
function reversedLabels(name: string): string {
  return name.replace(/\.$/, '').split('.').reverse().join('.');
}

function stripZoneId(id: unknown): string {
  if (typeof id !== 'string' || id === '')
    throw awsError('InvalidInput', 'The parameter HostedZoneId must be specified');
  return id.replace(/^\/?hostedzone\//, '');
}

function getZone(ctx: SandboxContext, id: unknown): HostedZone {
  const zid = stripZoneId(id);
  const z = state(ctx).zones[zid];
  if (!z) throw awsError('NoSuchHostedZone', `No hosted zone found with ID: ${zid}`);
  return z;
}

function newChange(ctx: SandboxContext, comment?: string): Change {
  const c: Change = { id: `C${uniqueUpperAlnum(ctx, 20)}`, submittedAt: ctx.now, comment };
  state(ctx).changes[c.id] = c;
  return c;
}

function changeInfo(ctx: SandboxContext, c: Change): Route53Sdk.ChangeInfo {
  const insync = ctx.now >= c.submittedAt + ctx.sb.behavior.timings.route53SyncMs;
  return {
    Id: `/change/${c.id}`,
    Status: insync ? 'INSYNC' : 'PENDING',
    SubmittedAt: new Date(c.submittedAt),
    Comment: c.comment,
  };
}

function zoneOutput(z: HostedZone): Route53Sdk.HostedZone {
  return {
    Id: `/hostedzone/${z.id}`,
    Name: z.name,
    CallerReference: z.callerReference,
    Config: { Comment: z.comment, PrivateZone: z.privateZone },
    ResourceRecordSetCount: z.records.length,
  };
}

// ---------------------------------------------------------------------------------------------
// Zones

const createHostedZone: Handler<'CreateHostedZone'> = (ctx, input) => {
  const name = validateDomainName(input.Name);
  const ref = input.CallerReference;
  if (typeof ref !== 'string' || ref === '' || ref.length > 128)
    throw awsError('InvalidInput', 'CallerReference must be 1-128 characters');
  const st = state(ctx);
  const existing = Object.values(st.zones).find((z) => z.callerReference === ref);
  if (existing) {
    // A retried request (same caller reference, same name) gets the zone it created.
    if (existing.name !== name) {
      throw awsError(
        'HostedZoneAlreadyExists',
        `A hosted zone has already been created with the specified caller reference '${ref}'.`,
      );
    }
    return {
      Location: `https://route53.amazonaws.com/2013-04-01/hostedzone/${existing.id}`,
      HostedZone: zoneOutput(existing),
      ChangeInfo: changeInfo(ctx, { id: `C${existing.id}`, submittedAt: 0 }),
      DelegationSet: { NameServers: [...existing.nameServers] },
    };
  }
  const vpc = input.VPC;
  const privateZone = vpc !== undefined;
  if (privateZone && (!vpc.VPCId || !vpc.VPCRegion))
    throw awsError('InvalidVPCId', 'A private hosted zone needs a VPC id and region');
  const id = `Z${uniqueUpperAlnum(ctx, 17)}`;
  const ns = nameServersFor(id);
  const z: HostedZone = {
    id,
    name,
    callerReference: ref,
    comment: input.HostedZoneConfig?.Comment,
    privateZone: privateZone || input.HostedZoneConfig?.PrivateZone === true,
    vpcs: privateZone ? [{ VPCRegion: vpc.VPCRegion as Route53Sdk.VPCRegion, VPCId: vpc.VPCId as string }] : [],
    nameServers: ns,
    records: apexRecords(name, ns, ctx.now),
    tags: [],
  };
  st.zones[id] = z;
  const change = newChange(ctx);
  return {
    Location: `https://route53.amazonaws.com/2013-04-01/hostedzone/${id}`,
    HostedZone: zoneOutput(z),
    ChangeInfo: changeInfo(ctx, change),
    DelegationSet: privateZone ? undefined : { NameServers: [...ns] },
    VPC: privateZone ? { ...z.vpcs[0] } : undefined,
  };
};

const getHostedZone: Handler<'GetHostedZone'> = (ctx, input) => {
  const z = getZone(ctx, input.Id);
  return {
    HostedZone: zoneOutput(z),
    DelegationSet: z.privateZone ? undefined : { NameServers: [...z.nameServers] },
    VPCs: z.privateZone ? z.vpcs.map((v) => ({ ...v })) : undefined,
  };
};

function maxItems(raw: unknown, fallback: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1)
    throw awsError('InvalidInput', `MaxItems '${raw}' must be a positive integer`);
  return Math.min(n, fallback);
}

const ZONE_PAGE = 5;

const listHostedZones: Handler<'ListHostedZones'> = (ctx, input) => {
  const zones = Object.values(state(ctx).zones).sort((a, b) => byteCompare(a.id, b.id));
  const max = maxItems(input.MaxItems, ZONE_PAGE);
  let start = 0;
  if (input.Marker) {
    start = zones.findIndex((z) => z.id === input.Marker);
    if (start < 0) throw awsError('InvalidInput', `The marker '${input.Marker}' is not valid`);
  }
  const page = zones.slice(start, start + max);
  const next = zones[start + max];
  return {
    HostedZones: page.map(zoneOutput),
    Marker: input.Marker,
    IsTruncated: next !== undefined,
    NextMarker: next?.id,
    MaxItems: max,
  };
};

const listHostedZonesByName: Handler<'ListHostedZonesByName'> = (ctx, input) => {
  if (input.HostedZoneId && !input.DNSName) throw awsError('InvalidInput', 'HostedZoneId requires DNSName');
  const key = (z: HostedZone) => [reversedLabels(z.name), z.id] as const;
  const zones = Object.values(state(ctx).zones).sort((a, b) => {
    const [an, ai] = key(a);
    const [bn, bi] = key(b);
    return byteCompare(an, bn) || byteCompare(ai, bi);
  });
  const max = maxItems(input.MaxItems, ZONE_PAGE);
  let start = 0;
  if (input.DNSName) {
    const from = reversedLabels(validateDomainName(input.DNSName));
    const fromId = input.HostedZoneId ? stripZoneId(input.HostedZoneId) : '';
    start = zones.findIndex((z) => {
      const [n, i] = key(z);
      return byteCompare(n, from) > 0 || (n === from && byteCompare(i, fromId) >= 0);
    });
    if (start < 0) start = zones.length;
  }
  const page = zones.slice(start, start + max);
  const next = zones[start + max];
  return {
    HostedZones: page.map(zoneOutput),
    DNSName: input.DNSName,
    HostedZoneId: input.HostedZoneId,
    IsTruncated: next !== undefined,
    NextDNSName: next?.name,
    NextHostedZoneId: next?.id,
    MaxItems: max,
  };
};

const deleteHostedZone: Handler<'DeleteHostedZone'> = (ctx, input) => {
  const z = getZone(ctx, input.Id);
  if (z.records.some((r) => !(r.Name === z.name && (r.Type === 'NS' || r.Type === 'SOA')))) {
    throw awsError(
      'HostedZoneNotEmpty',
      'The specified hosted zone contains non-required resource record sets and so cannot be deleted.',
    );
  }
  delete state(ctx).zones[z.id];
  return { ChangeInfo: changeInfo(ctx, newChange(ctx)) };
};

// ---------------------------------------------------------------------------------------------
// Record sets

function describeSet(r: { Name: string; Type: string; SetIdentifier?: string }): string {
  return `[name='${r.Name}', type='${r.Type}'${r.SetIdentifier !== undefined ? `, set-identifier='${r.SetIdentifier}'` : ''}]`;
}

function sameSet(
  a: { Name: string; Type: string; SetIdentifier?: string },
  b: { Name: string; Type: string; SetIdentifier?: string },
) {
  return a.Name === b.Name && a.Type === b.Type && (a.SetIdentifier ?? null) === (b.SetIdentifier ?? null);
}

function validateRecordSet(
  ctx: SandboxContext,
  z: HostedZone,
  raw: Route53Sdk.ResourceRecordSet | undefined,
  action: string,
): RecordSet {
  if (!raw) throw awsError('InvalidInput', 'A change must contain a ResourceRecordSet');
  const Name = validateDomainName(raw.Name, 'InvalidInput');
  const Type = raw.Type;
  if (Type === undefined || !RECORD_TYPES.has(Type))
    throw awsError('InvalidInput', `Invalid request: unknown record type '${Type}'`);
  if (Name !== z.name && !Name.endsWith(`.${z.name}`)) {
    throw awsError('InvalidChangeBatch', `[RRSet with DNS name ${Name} is not permitted in zone ${z.name}]`);
  }
  const a = raw.AliasTarget;
  const hasAlias = a !== undefined;
  const hasRecords = raw.ResourceRecords !== undefined || raw.TTL !== undefined;
  if (hasAlias === hasRecords || (!hasAlias && (raw.TTL === undefined || !raw.ResourceRecords?.length))) {
    throw awsError(
      'InvalidInput',
      `Invalid request: Expected exactly one of [AliasTarget, all of [TTL, and ResourceRecords], or TrafficPolicyInstanceId], but found ${hasAlias && hasRecords ? 'more than one' : 'none'} in Change with [Action=${action}, Name=${Name}, Type=${Type}, SetIdentifier=${raw.SetIdentifier ?? null}]`,
    );
  }
  const r: RecordSet = { Name, Type, writtenAt: ctx.now };
  if (hasAlias) {
    if (!a.HostedZoneId || !a.DNSName || typeof a.EvaluateTargetHealth !== 'boolean') {
      throw awsError('InvalidInput', 'An alias target needs HostedZoneId, DNSName and EvaluateTargetHealth');
    }
    if (Type === 'NS' || Type === 'SOA')
      throw awsError('InvalidChangeBatch', `[Alias targets are not supported for ${Type} records]`);
    r.AliasTarget = {
      HostedZoneId: stripZoneId(a.HostedZoneId),
      DNSName: normaliseName(a.DNSName),
      EvaluateTargetHealth: a.EvaluateTargetHealth,
    };
  } else {
    const ttl = Number(raw.TTL);
    if (!Number.isInteger(ttl) || ttl < 0 || ttl > 2147483647)
      throw awsError('InvalidInput', `Invalid TTL '${raw.TTL}'`);
    r.TTL = ttl;
    r.ResourceRecords = (raw.ResourceRecords as { Value?: string }[]).map((v) => {
      if (typeof v.Value !== 'string' || v.Value === '')
        throw awsError('InvalidInput', 'A resource record must have a value');
      return { Value: v.Value };
    });
    for (const { Value } of r.ResourceRecords) {
      if (Type === 'A' && !/^(\d{1,3})(\.\d{1,3}){3}$/.test(Value)) {
        throw awsError(
          'InvalidChangeBatch',
          `[Invalid Resource Record: 'FATAL problem: ARRDATAIllegalIPv4Address (Value is not a valid IPv4 address) encountered with '${Value}'']`,
        );
      }
      if (Type === 'AAAA' && !/^[0-9a-fA-F:]+$/.test(Value)) {
        throw awsError(
          'InvalidChangeBatch',
          `[Invalid Resource Record: 'FATAL problem: AAAARRDATAIllegalIPv6Address encountered with '${Value}'']`,
        );
      }
      if (Type === 'TXT' && !/^".*"$/.test(Value)) {
        throw awsError(
          'InvalidChangeBatch',
          `[Invalid Resource Record: 'FATAL problem: InvalidCharacterString (Value should be enclosed in quotation marks) encountered with '${Value}'']`,
        );
      }
    }
    if (Type === 'CNAME' && r.ResourceRecords.length !== 1) {
      throw awsError(
        'InvalidChangeBatch',
        `[RRSet of type CNAME with DNS name ${Name} must have exactly one resource record]`,
      );
    }
  }
  if (raw.SetIdentifier !== undefined) {
    r.SetIdentifier = String(raw.SetIdentifier);
    if (r.SetIdentifier.length < 1 || r.SetIdentifier.length > 128)
      throw awsError('InvalidInput', 'SetIdentifier must be 1-128 characters');
    const policies = [
      raw.Weight !== undefined,
      raw.Region !== undefined,
      raw.Failover !== undefined,
      raw.GeoLocation !== undefined,
      raw.MultiValueAnswer !== undefined,
    ].filter(Boolean).length;
    if (policies !== 1) {
      throw awsError(
        'InvalidInput',
        `Invalid request: a record set with a SetIdentifier needs exactly one routing policy (Weight, Region, Failover, GeoLocation or MultiValueAnswer): ${describeSet(r)}`,
      );
    }
    if (raw.Weight !== undefined) {
      const w = Number(raw.Weight);
      if (!Number.isInteger(w) || w < 0 || w > 255)
        throw awsError('InvalidInput', `Weight '${raw.Weight}' must be between 0 and 255`);
      r.Weight = w;
    }
    if (raw.Region !== undefined) {
      if (!ROUTING_REGIONS.has(raw.Region))
        throw awsError(
          'InvalidInput',
          `Invalid request: '${raw.Region}' is not a valid latency routing region`,
        );
      r.Region = raw.Region;
    }
    if (raw.Failover !== undefined || raw.GeoLocation !== undefined || raw.MultiValueAnswer !== undefined) {
      throw awsError('InvalidInput', 'The sandbox simulates simple, weighted and latency routing only');
    }
  } else if (raw.Weight !== undefined || raw.Region !== undefined) {
    throw awsError(
      'InvalidInput',
      `Invalid request: a weighted or latency record set needs a SetIdentifier: ${describeSet(r)}`,
    );
  }
  return r;
}

function sameContent(a: RecordSet, b: RecordSet): boolean {
  const strip = (r: RecordSet) => JSON.stringify({ ...r, writtenAt: 0 });
  return strip(a) === strip(b);
}

function checkConflicts(z: HostedZone, records: RecordSet[], r: RecordSet): string | undefined {
  const sameName = records.filter((x) => x.Name === r.Name && !sameSet(x, r));
  if (r.Type === 'CNAME' && r.Name === z.name)
    return `RRSet of type CNAME with DNS name ${r.Name} is not permitted at apex in zone ${z.name}`;
  if (r.Type === 'CNAME' && sameName.some((x) => x.Type !== 'CNAME')) {
    return `RRSet of type CNAME with DNS name ${r.Name} is not permitted as it conflicts with other records with the same DNS name in zone ${z.name}`;
  }
  if (r.Type !== 'CNAME' && sameName.some((x) => x.Type === 'CNAME')) {
    return `RRSet of type ${r.Type} with DNS name ${r.Name} is not permitted because a conflicting RRSet of type CNAME with the same DNS name already exists in zone ${z.name}`;
  }
  const sameType = sameName.filter((x) => x.Type === r.Type);
  if (sameType.some((x) => (x.SetIdentifier === undefined) !== (r.SetIdentifier === undefined))) {
    return `RRSet with DNS name ${r.Name}, type ${r.Type}${r.SetIdentifier ? `, SetIdentifier ${r.SetIdentifier}` : ''} cannot be created as a ${r.SetIdentifier ? 'non-' : ''}routed set with the same name and type exists`;
  }
  const policy = (x: RecordSet) =>
    x.Weight !== undefined ? 'weighted' : x.Region !== undefined ? 'latency' : 'simple';
  if (sameType.some((x) => x.SetIdentifier !== undefined && policy(x) !== policy(r))) {
    return `RRSet with DNS name ${r.Name}, type ${r.Type} cannot mix ${policy(r)} and other routing policies`;
  }
  return undefined;
}

const changeResourceRecordSets: Handler<'ChangeResourceRecordSets'> = (ctx, input) => {
  const z = getZone(ctx, input.HostedZoneId);
  const changes = input.ChangeBatch?.Changes;
  if (!changes?.length) throw awsError('InvalidInput', 'A change batch must contain at least one change');
  if (changes.length > 1000)
    throw awsError('InvalidChangeBatch', '[Number of records in the change batch exceeds 1000]');
  // The batch is atomic: work on a copy, fail with every problem found, commit at the end.
  let records = z.records.map((r) => ({ ...r }));
  const problems: string[] = [];
  for (const c of changes) {
    const action = c.Action;
    if (action !== 'CREATE' && action !== 'DELETE' && action !== 'UPSERT')
      throw awsError('InvalidInput', `Invalid action '${action}'`);
    const r = validateRecordSet(ctx, z, c.ResourceRecordSet, action);
    const existing = records.find((x) => sameSet(x, r));
    if (action === 'DELETE') {
      if (!existing)
        problems.push(`Tried to delete resource record set ${describeSet(r)} but it was not found`);
      else if (!sameContent({ ...existing, writtenAt: 0 }, { ...r, writtenAt: 0 })) {
        problems.push(
          `Tried to delete resource record set ${describeSet(r)} but the values provided do not match the current values`,
        );
      } else if (r.Name === z.name && (r.Type === 'SOA' || r.Type === 'NS')) {
        problems.push(
          `A HostedZone must contain at least one NS record and one SOA record for the zone itself`,
        );
      } else records = records.filter((x) => x !== existing);
      continue;
    }
    if (action === 'CREATE' && existing) {
      problems.push(`Tried to create resource record set ${describeSet(r)} but it already exists`);
      continue;
    }
    const conflict = checkConflicts(z, records, r);
    if (conflict) {
      problems.push(conflict);
      continue;
    }
    if (existing && sameContent(existing, r)) continue; // An UPSERT with the same values changes nothing.
    records = records.filter((x) => x !== existing);
    records.push(r);
  }
  if (problems.length) throw awsError('InvalidChangeBatch', `[${problems.join(', ')}]`);
  z.records = records;
  return { ChangeInfo: changeInfo(ctx, newChange(ctx, input.ChangeBatch?.Comment)) };
};

function recordOutput(r: RecordSet): Route53Sdk.ResourceRecordSet {
  return {
    Name: r.Name,
    Type: r.Type,
    SetIdentifier: r.SetIdentifier,
    Weight: r.Weight,
    Region: r.Region,
    TTL: r.TTL,
    ResourceRecords: r.ResourceRecords?.map((v) => ({ ...v })),
    AliasTarget: r.AliasTarget ? { ...r.AliasTarget } : undefined,
  };
}

function recordKey(r: { Name: string; Type: string; SetIdentifier?: string }): [string, string, string] {
  return [reversedLabels(r.Name), r.Type, r.SetIdentifier ?? ''];
}

/** Byte order, not locale order: Route 53 sorts names as ASCII strings. */
function byteCompare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareKeys(a: [string, string, string], b: [string, string, string]): number {
  return byteCompare(a[0], b[0]) || byteCompare(a[1], b[1]) || byteCompare(a[2], b[2]);
}

/** Route 53 returns 300 record sets per page; the sandbox returns 5 so callers must follow NextRecordName. */
const RECORD_PAGE = 5;

const listResourceRecordSets: Handler<'ListResourceRecordSets'> = (ctx, input) => {
  const z = getZone(ctx, input.HostedZoneId);
  if (input.StartRecordType && !input.StartRecordName)
    throw awsError('InvalidInput', 'The input is not valid: StartRecordType requires StartRecordName');
  if (input.StartRecordIdentifier && !input.StartRecordType)
    throw awsError('InvalidInput', 'StartRecordIdentifier requires StartRecordType');
  const max = maxItems(input.MaxItems, RECORD_PAGE);
  const sorted = [...z.records].sort((a, b) => compareKeys(recordKey(a), recordKey(b)));
  let start = 0;
  if (input.StartRecordName) {
    const from: [string, string, string] = [
      reversedLabels(normaliseName(input.StartRecordName)),
      input.StartRecordType ?? '',
      input.StartRecordIdentifier ?? '',
    ];
    start = sorted.findIndex((r) => compareKeys(recordKey(r), from) >= 0);
    if (start < 0) start = sorted.length;
  }
  const page = sorted.slice(start, start + max);
  const next = sorted[start + max];
  return {
    ResourceRecordSets: page.map(recordOutput),
    IsTruncated: next !== undefined,
    NextRecordName: next?.Name,
    NextRecordType: next?.Type,
    NextRecordIdentifier: next?.SetIdentifier,
    MaxItems: max,
  };
};

const getChange: Handler<'GetChange'> = (ctx, input) => {
  const id = String(input.Id ?? '').replace(/^\/?change\//, '');
  const c = state(ctx).changes[id];
  if (!c) throw awsError('NoSuchChange', `A change with the specified change ID does not exist: ${id}`);
  return { ChangeInfo: changeInfo(ctx, c) };
};

function taggedZone(ctx: SandboxContext, input: { ResourceType?: string; ResourceId?: string }): HostedZone {
  if (input.ResourceType !== 'hostedzone')
    throw awsError('InvalidInput', `The sandbox tags hosted zones only, not '${input.ResourceType}'`);
  return getZone(ctx, input.ResourceId);
}

const changeTagsForResource: Handler<'ChangeTagsForResource'> = (ctx, input) => {
  const z = taggedZone(ctx, input);
  const map = new Map(z.tags.map((t) => [t.Key, t.Value]));
  for (const k of (input.RemoveTagKeys ?? []) as string[]) map.delete(k);
  for (const t of (input.AddTags ?? []) as { Key?: string; Value?: string }[]) {
    if (!t.Key) throw awsError('InvalidInput', 'A tag key must be specified');
    map.set(t.Key, t.Value ?? '');
  }
  if (map.size > MAX_TAGS) throw awsError('InvalidInput', `A resource can have at most ${MAX_TAGS} tags`);
  z.tags = [...map].map(([Key, Value]) => ({ Key, Value }));
  return {};
};

const listTagsForResource: Handler<'ListTagsForResource'> = (ctx, input) => {
  const z = taggedZone(ctx, input);
  return {
    ResourceTagSet: { ResourceType: 'hostedzone', ResourceId: z.id, Tags: z.tags.map((t) => ({ ...t })) },
  };
};

// ---------------------------------------------------------------------------------------------
// Internal API (ACM DNS validation)

export interface FoundRecord {
  zoneId: string;
  Name: string;
  Type: string;
  values: string[];
  /** When this record set was last written (virtual ms). */
  writtenAt: number;
}

/** Record sets with this name and type in the account's public zones (what public DNS resolves). */
export function findRecords(ctx: SandboxContext, name: string, type: string): FoundRecord[] {
  const n = normaliseName(name);
  const out: FoundRecord[] = [];
  for (const z of Object.values(state(ctx).zones)) {
    if (z.privateZone) continue;
    for (const r of z.records) {
      if (r.Name !== n || r.Type !== type) continue;
      out.push({
        zoneId: z.id,
        Name: r.Name,
        Type: r.Type,
        values: r.ResourceRecords?.map((v) => v.Value) ?? (r.AliasTarget ? [r.AliasTarget.DNSName] : []),
        writtenAt: r.writtenAt,
      });
    }
  }
  return out;
}

function inventory(ctx: SandboxContext, options: { includeDefaults: boolean }): InventoryItem[] {
  const items: InventoryItem[] = [];
  for (const z of Object.values(state(ctx).zones)) {
    if (!z.isDefault || options.includeDefaults) {
      items.push({
        type: 'AWS::Route53::HostedZone',
        id: z.id,
        fingerprint: JSON.stringify({
          name: z.name,
          private: z.privateZone,
          tags: [...z.tags].sort((a, b) => a.Key.localeCompare(b.Key)),
        }),
      });
    }
    for (const r of z.records) {
      if (r.Name === z.name && (r.Type === 'NS' || r.Type === 'SOA') && !options.includeDefaults) continue;
      items.push({
        type: 'AWS::Route53::RecordSet',
        id: `${z.id}/${r.Name}/${r.Type}${r.SetIdentifier !== undefined ? `/${r.SetIdentifier}` : ''}`,
        fingerprint: JSON.stringify(recordOutput(r)),
      });
    }
  }
  return items;
}

export const route53Module: ServiceModule = {
  service: 'route53',
  operations: {
    CreateHostedZone: createHostedZone,
    GetHostedZone: getHostedZone,
    ListHostedZones: listHostedZones,
    ListHostedZonesByName: listHostedZonesByName,
    DeleteHostedZone: deleteHostedZone,
    ChangeResourceRecordSets: changeResourceRecordSets,
    ListResourceRecordSets: listResourceRecordSets,
    GetChange: getChange,
    ChangeTagsForResource: changeTagsForResource,
    ListTagsForResource: listTagsForResource,
  } satisfies OperationsOf<typeof Route53Sdk>,
  inventory,
};
