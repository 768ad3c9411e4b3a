// certificate request DOMAIN: an ACM certificate for DOMAIN (+ SANs) with DNS validation: the
// validation CNAMEs are upserted in the Route 53 zone of each name (one record per distinct name, as
// a wildcard and its apex share one), then the workflow waits until ACM reports ISSUED.
import { sharedTags } from '../../aws/tags';
import type { AwsClients } from '../../aws/clients';
import { UserError } from '../../core/errors';
import type { PlannedChange } from '../../core/events';
import type { CertificateSpec } from '../../config/ingress';
import {
  certificateNames,
  certificateTask,
  describeCertificate,
  type CertificateState,
  type ValidationRecord,
} from '../../resources/certificate';
import { findHostedZone, isInZone, type HostedZoneRef } from '../../resources/hostedZone';
import { normalizeDnsName, recordSetTask } from '../../resources/recordSet';
import type { WorkflowDeps } from '../deps';
import { runWorkflow, waitFor, type RunOptions, type WorkflowResult } from '../engine';
import type { Task } from '../../provider/types';
import { requiredOutput } from '../../provider/taskRef';

export interface CertificateSummary {
  arn?: string;
  domain: string;
  names: string[];
  status: string;
  validationRecords: (ValidationRecord & { zone: string })[];
  inUseBy?: string[];
}

export interface CertificateRequestResult {
  dryRun: boolean;
  planned?: PlannedChange[];
  certificate: CertificateSummary;
}

const VALIDATION_OPTIONS_TIMEOUT_MS = 5 * 60_000;
const ISSUED_TIMEOUT_MS = 45 * 60_000;

/** The hosted zone of every name: --validation-zone DOMAIN=ZONE, else --zone, else the closest parent zone that exists. */
export async function resolveValidationZones(
  clients: AwsClients,
  spec: CertificateSpec,
  names: string[],
): Promise<Map<string, HostedZoneRef>> {
  const out = new Map<string, HostedZoneRef>();
  const cache = new Map<string, HostedZoneRef | undefined>();
  const lookup = async (idOrName: string, field: string) => {
    if (!cache.has(idOrName)) cache.set(idOrName, await findHostedZone(clients, idOrName, field));
    return cache.get(idOrName) as HostedZoneRef;
  };
  for (const name of names) {
    const bare = name.replace(/^\*\./, '');
    const explicit = spec.validationZones[name] ?? spec.validationZones[bare];
    let zone: HostedZoneRef | undefined;
    if (explicit) zone = await lookup(explicit, '--validation-zone');
    else if (spec.zone) zone = await lookup(spec.zone, '--zone');
    else {
      const labels = bare.split('.');
      for (let i = 0; i < labels.length - 1 && !zone; i++) {
        const candidate = labels.slice(i).join('.');
        if (!cache.has(candidate)) {
          try {
            cache.set(candidate, await findHostedZone(clients, candidate, '--zone'));
          } catch (error) {
            if (!(error instanceof UserError)) throw error;
            cache.set(candidate, undefined);
          }
        }
        zone = cache.get(candidate);
      }
      if (!zone)
        throw new UserError(
          `no hosted zone holds ${name}`,
          'give --zone or --validation-zone DOMAIN=ZONE',
          '--zone',
        );
    }
    if (!isInZone(bare, zone.name)) {
      throw new UserError(
        `certificate domain ${name} is outside the hosted zone ${zone.name}`,
        `give --validation-zone ${name}=ZONE for names outside ${zone.name}`,
        explicit ? '--validation-zone' : '--zone',
      );
    }
    out.set(name, zone);
  }
  return out;
}

export async function certificateRequest(
  deps: WorkflowDeps,
  spec: CertificateSpec,
  options: { dryRun?: boolean } & RunOptions = {},
): Promise<WorkflowResult<CertificateRequestResult>> {
  const names = certificateNames(spec.domain, spec.sans);
  return runWorkflow(
    deps,
    `certificate request ${names[0]}`,
    async (run) => {
      const zones = await resolveValidationZones(run.ctx.clients, spec, names);
      const certTask = certificateTask({ names, tags: sharedTags('certificate', names[0]) }, 'certificate');
      const planned = await run.plan([certTask]);
      const existing = run.ctx.get(certTask);
      const summarize = (c: CertificateState | undefined): CertificateSummary => ({
        arn: c?.arn,
        domain: names[0],
        names,
        status: c?.status ?? 'NOT_REQUESTED',
        validationRecords: (c?.validation ?? [])
          .filter(
            (v, i, all) => all.findIndex((o) => normalizeDnsName(o.name) === normalizeDnsName(v.name)) === i,
          )
          .map((v) => ({ ...v, zone: zones.get(v.domain)?.name ?? '' })),
        ...(c ? { inUseBy: c.inUseBy } : {}),
      });
      if (options.dryRun) {
        const more: PlannedChange[] = existing
          ? []
          : names.map((n) => ({
              action: 'create' as const,
              type: 'AWS::Route53::RecordSet',
              name: `validation CNAME of ${n} in ${zones.get(n)?.name}`,
            }));
        return { dryRun: true, planned: [...planned, ...more], certificate: summarize(existing) };
      }
      await run.apply([certTask]);
      const arn = requiredOutput(run.ctx, certTask).arn;
      const cert = await run.step('wait for the DNS validation records of ACM', (ctx) =>
        waitFor(
          ctx,
          {
            what: `validation records of certificate ${arn}`,
            timeoutMs: VALIDATION_OPTIONS_TIMEOUT_MS * (deps.timeoutScale ?? 1),
            intervalMs: 2_000,
          },
          async () => {
            const c = await describeCertificate(ctx.clients, arn);
            const have = new Set(c?.validation.map((v) => v.domain.toLowerCase()));
            const missing = names.filter((n) => !have.has(n));
            return {
              done: Boolean(c) && missing.length === 0,
              value: c,
              seen: c ? `${c.status}, records missing for ${missing.join(', ') || 'none'}` : 'not found',
            };
          },
        ),
      );
      if (!cert) throw new Error(`certificate ${arn} vanished`);
      // SANs such as example.com and *.example.com share one validation record: one task per record name.
      const byName = new Map<string, { record: ValidationRecord; zone: HostedZoneRef }>();
      for (const v of cert.validation) {
        const key = normalizeDnsName(v.name);
        if (!byName.has(key))
          byName.set(key, { record: v, zone: zones.get(v.domain.toLowerCase()) ?? [...zones.values()][0] });
      }
      const recordTasks: Task[] = [...byName.entries()].map(([name, { record, zone }]) =>
        recordSetTask(
          zone.zoneId,
          { name, type: 'CNAME', ttl: 300, values: [record.value] },
          `validation/${name}`,
        ),
      );
      await run.apply(recordTasks);
      let final = cert;
      if (cert.status !== 'ISSUED') {
        final = await run.step(`wait for certificate ${names[0]} ISSUED`, (ctx) =>
          waitFor(
            ctx,
            {
              what: `certificate ${arn} (${names.join(', ')}) ISSUED through DNS validation (records ${[...byName.keys()].join(', ')})`,
              timeoutMs: ISSUED_TIMEOUT_MS * (deps.timeoutScale ?? 1),
              intervalMs: 15_000,
              maxIntervalMs: 60_000,
            },
            async () => {
              const c = await describeCertificate(ctx.clients, arn);
              if (!c) throw new Error(`certificate ${arn} vanished while waiting for validation`);
              if (c.status === 'FAILED' || c.status === 'VALIDATION_TIMED_OUT' || c.status === 'REVOKED') {
                throw new Error(
                  `certificate ${arn} is ${c.status}: ACM could not validate ${names.join(', ')}`,
                );
              }
              return { done: c.status === 'ISSUED', value: c, seen: c.status };
            },
          ),
        );
      }
      return { dryRun: false, certificate: summarize(final) };
    },
    options,
  );
}
