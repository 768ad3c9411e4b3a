// Route 53 record sets (AWS::Route53::RecordSet) of k3sctl: ACM validation CNAMEs and the endpoints'
// latency-based alias A records. A record set is identified by zone + name + type + set identifier.
// Route 53 has no tags on records: ownership comes from the name k3sctl derives, and a record that
// exists with other values is never overwritten silently (the plan shows the update).
import { isAwsError } from '../core/errors';
import {
  ChangeResourceRecordSetsCommand,
  ListResourceRecordSetsCommand,
  type ResourceRecordSet,
} from '@aws-sdk/client-route-53';
import type { AwsClients } from '../aws/clients';
import { journaledWrite } from '../provider/journaledWrite';
import type { RunContext, Task, TaskRef } from '../provider/types';
import type { FieldChange } from '../provider/fieldChange';
import type { Provider } from '../provider/provider';

export const RECORD_SET_TYPE = 'AWS::Route53::RecordSet';

export interface RecordSpec {
  name: string;
  type: 'A' | 'AAAA' | 'CNAME' | 'TXT';
  ttl?: number;
  values?: string[];
  alias?: { hostedZoneId: string; dnsName: string; evaluateTargetHealth: boolean };
  /** Latency routing: the set identifier and the region. */
  setIdentifier?: string;
  region?: string;
}

/** How a record set is named in plans and journals: `blog.example.com A (us-east-1)`. */
export function recordLabel(r: { name: string; type: string; setIdentifier?: string }): string {
  return `${normalizeDnsName(r.name)} ${r.type}${r.setIdentifier ? ` (${r.setIdentifier})` : ''}`;
}

/** `a.example.com.` / `\052.x` -> `a.example.com` / `*.x`, lowercase. */
export function normalizeDnsName(name: string): string {
  return name.replace(/\\052/g, '*').replace(/\.$/, '').toLowerCase();
}

function toSpec(r: ResourceRecordSet): RecordSpec {
  return {
    name: normalizeDnsName(r.Name ?? ''),
    type: r.Type as RecordSpec['type'],
    ttl: r.TTL,
    values: r.ResourceRecords?.map((v) => v.Value ?? ''),
    alias: r.AliasTarget
      ? {
          hostedZoneId: r.AliasTarget.HostedZoneId ?? '',
          dnsName: normalizeDnsName(r.AliasTarget.DNSName ?? ''),
          evaluateTargetHealth: Boolean(r.AliasTarget.EvaluateTargetHealth),
        }
      : undefined,
    setIdentifier: r.SetIdentifier,
    region: r.Region,
  };
}

function toRecordSet(spec: RecordSpec): ResourceRecordSet {
  const r: ResourceRecordSet = { Name: spec.name, Type: spec.type };
  if (spec.alias) {
    r.AliasTarget = {
      HostedZoneId: spec.alias.hostedZoneId,
      DNSName: spec.alias.dnsName,
      EvaluateTargetHealth: spec.alias.evaluateTargetHealth,
    };
  } else {
    r.TTL = spec.ttl ?? 300;
    r.ResourceRecords = (spec.values ?? []).map((Value) => ({ Value }));
  }
  if (spec.setIdentifier) r.SetIdentifier = spec.setIdentifier;
  if (spec.region) r.Region = spec.region as ResourceRecordSet['Region'];
  return r;
}

type RecordListPosition = { name?: string; type?: string; id?: string };

/**
 * The record sets of a zone in Route 53's order (name, type, set identifier) from `start` on, one
 * ListResourceRecordSets page at a time: its paging takes three Next* fields, so there is no SDK paginator.
 */
async function* recordSetsFrom(
  clients: AwsClients,
  zoneId: string,
  start: RecordListPosition,
): AsyncGenerator<ResourceRecordSet> {
  let position = start;
  for (;;) {
    const res = await clients.route53.send(
      new ListResourceRecordSetsCommand({
        HostedZoneId: zoneId,
        StartRecordName: position.name,
        StartRecordType: position.type as never,
        StartRecordIdentifier: position.id,
      }),
    );
    yield* res.ResourceRecordSets ?? [];
    if (!res.IsTruncated) return;
    position = { name: res.NextRecordName, type: res.NextRecordType, id: res.NextRecordIdentifier };
  }
}

/** The record set of `zoneId` with this name, type and set identifier, or undefined. */
export async function findRecord(
  clients: AwsClients,
  zoneId: string,
  key: { name: string; type: string; setIdentifier?: string },
): Promise<RecordSpec | undefined> {
  const want = normalizeDnsName(key.name);
  const start = { name: key.name, type: key.type, id: key.setIdentifier };
  for await (const r of recordSetsFrom(clients, zoneId, start)) {
    const name = normalizeDnsName(r.Name ?? '');
    if (name !== want || r.Type !== key.type) return undefined;
    if ((r.SetIdentifier ?? undefined) === (key.setIdentifier ?? undefined)) return toSpec(r);
  }
  return undefined;
}

function sameRecord(a: RecordSpec, b: RecordSpec): boolean {
  return recordDiff(a, b).length === 0;
}

/**
 * Managed fields that differ between the actual and the desired record. All change in place (an UPSERT
 * of the same name, type and set identifier): no replacement.
 */
export function recordDiff(actual: RecordSpec, desired: RecordSpec): FieldChange[] {
  const changes: FieldChange[] = [];
  if (desired.alias) {
    const a = actual.alias;
    const d = desired.alias;
    const want = `${d.hostedZoneId}/${normalizeDnsName(d.dnsName)}/${d.evaluateTargetHealth}`;
    const have = a
      ? `${a.hostedZoneId}/${normalizeDnsName(a.dnsName)}/${a.evaluateTargetHealth}`
      : '(not an alias)';
    if (want !== have) changes.push({ field: 'alias', from: have, to: want });
  } else {
    const want = [...(desired.values ?? [])]
      .map((v) => v.toLowerCase())
      .sort()
      .join(',');
    const have = [...(actual.values ?? [])]
      .map((v) => v.toLowerCase())
      .sort()
      .join(',');
    if (want !== have) changes.push({ field: 'values', from: have, to: want });
    if ((desired.ttl ?? 300) !== actual.ttl) changes.push({ field: 'ttl', from: `${actual.ttl}`, to: `${desired.ttl ?? 300}` });
  }
  if ((desired.region ?? '') !== (actual.region ?? ''))
    changes.push({ field: 'region', from: actual.region ?? '-', to: desired.region ?? '-' });
  return changes;
}

async function change(
  clients: AwsClients,
  zoneId: string,
  action: 'CREATE' | 'UPSERT' | 'DELETE',
  record: RecordSpec,
): Promise<string | undefined> {
  const res = await clients.route53.send(
    new ChangeResourceRecordSetsCommand({
      HostedZoneId: zoneId,
      ChangeBatch: {
        Comment: 'k3sctl',
        Changes: [{ Action: action, ResourceRecordSet: toRecordSet(record) }],
      },
    }),
  );
  return res.ChangeInfo?.Id;
}

/** Deletes the record set as it currently is; absent is success. */
export async function deleteRecord(
  clients: AwsClients,
  zoneId: string,
  key: { name: string; type: string; setIdentifier?: string },
): Promise<boolean> {
  const actual = await findRecord(clients, zoneId, key);
  if (!actual) return false;
  try {
    await change(clients, zoneId, 'DELETE', actual);
    return true;
  } catch (error) {
    // Route 53 answers InvalidChangeBatch "...but it was not found" when it vanished meanwhile.
    if (isAwsError(error, 'InvalidChangeBatch') && /not found/i.test(String((error as Error).message)))
      return false;
    if (isAwsError(error, 'NoSuchHostedZone')) return false;
    throw error;
  }
}

export const recordSetProvider: Provider = {
  type: RECORD_SET_TYPE,
  // An alias record names its ALB; a validation record is made from its certificate's validation name,
  // only when it is created: the certificate goes first (see certificateProvider.outlivedBy).
  dependsOn: ['AWS::ElasticLoadBalancingV2::LoadBalancer', 'AWS::CertificateManager::Certificate'],
  createOnly: ['AWS::CertificateManager::Certificate'],
  undo: {
    async delete(clients, data) {
      const record = data.record as RecordSpec;
      const actual = await findRecord(clients, data.zoneId as string, record).catch((error) => {
        if (isAwsError(error, 'NoSuchHostedZone')) return undefined;
        throw error;
      });
      // Only what this run wrote: a record changed since then by someone else is left alone.
      if (actual && sameRecord(actual, record)) await deleteRecord(clients, data.zoneId as string, record);
    },
    async restore(clients, data) {
      await change(clients, data.zoneId as string, 'UPSERT', data.previous as RecordSpec);
    },
  },
};

/** The record set `spec` in `zoneId`: created when missing, upserted (with a restore undo) when different. */
export function recordSetTask(
  zoneId: string,
  spec: RecordSpec | ((ctx: RunContext) => RecordSpec),
  key: string,
  dependsOn: readonly TaskRef<unknown>[] = [],
): Task<RecordSpec> {
  const resolve = (ctx: RunContext) => (typeof spec === 'function' ? spec(ctx) : spec);
  const staticSpec = typeof spec === 'function' ? undefined : spec;
  return {
    key,
    type: RECORD_SET_TYPE,
    name: staticSpec ? recordLabel(staticSpec) : key,
    dependsOn,
    async find(ctx) {
      const s = staticSpec ?? safeResolve(ctx, resolve);
      if (!s) return undefined;
      return findRecord(ctx.clients, zoneId, s);
    },
    diff(actual, ctx) {
      const s = safeResolve(ctx, resolve);
      return s ? recordDiff(actual, s) : [];
    },
    async create(ctx) {
      const s = resolve(ctx);
      const name = recordLabel(s);
      try {
        await journaledWrite(
          ctx,
          {
            action: 'create',
            type: RECORD_SET_TYPE,
            name,
            undo: { type: RECORD_SET_TYPE, action: 'delete', data: { zoneId, record: s } },
          },
          () => change(ctx.clients, zoneId, 'CREATE', s),
          () => ({ id: `${zoneId}/${s.name}/${s.type}${s.setIdentifier ? `/${s.setIdentifier}` : ''}` }),
        );
      } catch (error) {
        // Created meanwhile by a concurrent run of the same command: fine when it is exactly what we want.
        if (
          !isAwsError(error, 'InvalidChangeBatch') ||
          !/already exists/i.test(String((error as Error).message))
        )
          throw error;
        const now = await findRecord(ctx.clients, zoneId, s);
        if (!now || recordDiff(now, s).length > 0) throw error;
      }
      return s;
    },
    async update(actual, _changes, ctx) {
      const s = resolve(ctx);
      await journaledWrite(
        ctx,
        {
          action: 'update',
          type: RECORD_SET_TYPE,
          name: recordLabel(s),
          undo: { type: RECORD_SET_TYPE, action: 'restore', data: { zoneId, previous: actual } },
        },
        () => change(ctx.clients, zoneId, 'UPSERT', s),
      );
      return s;
    },
    id: (a) => `${zoneId}/${a.name}/${a.type}${a.setIdentifier ? `/${a.setIdentifier}` : ''}`,
  };
}

function safeResolve(ctx: RunContext, resolve: (ctx: RunContext) => RecordSpec): RecordSpec | undefined {
  try {
    return resolve(ctx);
  } catch {
    return undefined;
  }
}

/** Journaled delete of a record set (no undo: a deleted record is not recreated by rollback of a delete command). */
export async function deleteRecordJournaled(
  ctx: RunContext,
  zoneId: string,
  key: { name: string; type: string; setIdentifier?: string },
): Promise<boolean> {
  const actual = await findRecord(ctx.clients, zoneId, key);
  if (!actual) return false;
  await journaledWrite(
    ctx,
    {
      action: 'delete',
      type: RECORD_SET_TYPE,
      name: recordLabel(actual),
      id: `${zoneId}/${actual.name}/${actual.type}${actual.setIdentifier ? `/${actual.setIdentifier}` : ''}`,
    },
    () => deleteRecord(ctx.clients, zoneId, key),
  );
  return true;
}
