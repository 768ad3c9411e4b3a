// certificate delete ARN|DOMAIN: deletes a k3sctl certificate and its DNS validation records (those no
// other certificate still uses). Refused while a load balancer listener uses it (ACM InUseBy).
import { TagKeys } from '../../aws/tags';
import { UserError } from '../../core/errors';
import type { PlannedChange } from '../../core/events';
import {
  CERTIFICATE_TYPE,
  deleteCertificate,
  listCertificates,
  resolveCertificate,
} from '../../resources/certificate';
import { findHostedZone, type HostedZoneRef } from '../../resources/hostedZone';
import {
  RECORD_SET_TYPE,
  deleteRecordJournaled,
  findRecord,
  normalizeDnsName,
} from '../../resources/recordSet';
import type { WorkflowDeps } from '../deps';
import { journaledWrite, runWorkflow, type RunOptions, type WorkflowResult } from '../engine';
import { deleteInWaves, inDeletionOrder } from '../steps/deleteInWaves';

export interface CertificateDeleteResult {
  dryRun: boolean;
  planned: PlannedChange[];
  certificate: { arn: string; domain: string };
}

export async function certificateDelete(
  deps: WorkflowDeps,
  arnOrDomain: string,
  options: { dryRun?: boolean; confirm?: (changes: PlannedChange[]) => Promise<boolean> } & RunOptions = {},
): Promise<WorkflowResult<CertificateDeleteResult>> {
  return runWorkflow(
    deps,
    `certificate delete ${arnOrDomain}`,
    async (run) => {
      const clients = run.ctx.clients;
      const cert = await resolveCertificate(clients, arnOrDomain, 'CERTIFICATE');
      if (cert.tags[TagKeys.role] !== 'certificate' || cert.tags[TagKeys.managedBy] !== 'k3sctl') {
        throw new UserError(
          `certificate ${cert.arn} (${cert.domain}) was not created by k3sctl; k3sctl deletes only its own`,
          'delete it with the AWS console or CLI',
        );
      }
      if (cert.inUseBy.length > 0) {
        throw new UserError(
          `certificate ${cert.arn} (${cert.domain}) is in use by ${cert.inUseBy.join(', ')}`,
          'delete the ALB (k3sctl alb delete NAME) or move its listener to another certificate first',
        );
      }
      // Validation records other certificates still rely on stay (the same name validates every certificate of that domain).
      const others = (await listCertificates(clients)).filter((c) => c.arn !== cert.arn);
      const shared = new Set(others.flatMap((c) => c.validation.map((v) => normalizeDnsName(v.name))));
      const zoneCache = new Map<string, HostedZoneRef | undefined>();
      const zoneOf = async (recordName: string): Promise<HostedZoneRef | undefined> => {
        const labels = recordName.split('.');
        for (let i = 1; i < labels.length - 1; i++) {
          const candidate = labels.slice(i).join('.');
          if (!zoneCache.has(candidate)) {
            try {
              zoneCache.set(candidate, await findHostedZone(clients, candidate));
            } catch (error) {
              if (!(error instanceof UserError)) throw error;
              zoneCache.set(candidate, undefined);
            }
          }
          const z = zoneCache.get(candidate);
          if (z) return z;
        }
        return undefined;
      };
      const records: { zone: HostedZoneRef; name: string }[] = [];
      const seen = new Set<string>();
      for (const v of cert.validation) {
        const name = normalizeDnsName(v.name);
        if (seen.has(name) || shared.has(name)) continue;
        seen.add(name);
        const zone = await zoneOf(name);
        if (zone && (await findRecord(clients, zone.zoneId, { name, type: 'CNAME' })))
          records.push({ zone, name });
      }
      const planned = inDeletionOrder(deps.providers, [
        ...records.map((r) => ({
          action: 'delete' as const,
          type: RECORD_SET_TYPE,
          name: `${r.name} CNAME`,
          id: `${r.zone.zoneId}/${r.name}/CNAME`,
        })),
        { action: 'delete', type: CERTIFICATE_TYPE, name: cert.domain, id: cert.arn },
      ]);
      deps.events.emit({ kind: 'plan', changes: planned });
      if (options.dryRun)
        return { dryRun: true, planned, certificate: { arn: cert.arn, domain: cert.domain } };
      if (options.confirm && !(await options.confirm(planned)))
        throw new UserError('cancelled: nothing was deleted');
      // The order is the kinds': the certificate first, its validation records after it (ACM validates
      // and renews it through them for as long as it exists).
      const deletes = new Map<string, () => Promise<unknown>>([
        [
          CERTIFICATE_TYPE,
          () =>
            run.step(`delete certificate ${cert.domain}`, (ctx) =>
              journaledWrite(ctx, { action: 'delete', type: CERTIFICATE_TYPE, name: cert.domain, id: cert.arn }, () => deleteCertificate(ctx.clients, cert.arn)),
            ),
        ],
      ]);
      if (records.length) {
        deletes.set(RECORD_SET_TYPE, () =>
          run.step('delete the validation records', async (ctx) => {
            for (const r of records) await deleteRecordJournaled(ctx, r.zone.zoneId, { name: r.name, type: 'CNAME' });
          }),
        );
      }
      await deleteInWaves(deps.providers, deletes);
      return { dryRun: false, planned, certificate: { arn: cert.arn, domain: cert.domain } };
    },
    options,
  );
}
