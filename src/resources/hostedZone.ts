// Route 53 hosted zones (read-only: k3sctl never creates or deletes zones): lookup by id or name, and
// the checks that a host name belongs to a zone.
import { resolveHostedZone } from '../aws/lookups';
import type { AwsClients } from '../aws/clients';
import { UserError } from '../core/errors';

export interface HostedZoneRef {
  zoneId: string;
  /** Without the trailing dot. */
  name: string;
}

/** A public hosted zone by id or name; UserError (naming `field`) when it does not exist or is ambiguous. */
export function findHostedZone(
  clients: AwsClients,
  idOrName: string,
  field = '--zone',
): Promise<HostedZoneRef> {
  return resolveHostedZone(clients, idOrName, field);
}

/** True when `host` (wildcards allowed) is `zone` itself or a name below it. */
export function isInZone(host: string, zone: string): boolean {
  const h = host.toLowerCase().replace(/\.$/, '');
  const z = zone.toLowerCase().replace(/\.$/, '');
  return h === z || h.endsWith(`.${z}`);
}

/** UserError unless `host` is inside `zone`. */
export function assertInZone(host: string, zone: string, what: string, field: string): void {
  if (!isInZone(host, zone)) {
    throw new UserError(
      `${field}: ${what} ${host} is outside the hosted zone ${zone}`,
      `use a name ending in .${zone}, or give the zone that holds it`,
      field,
    );
  }
}
