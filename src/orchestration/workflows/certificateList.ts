// certificate list: k3sctl's ACM certificates of the region (all certificates with `all`).
import { TagKeys } from '../../aws/tags';
import { listCertificates } from '../../resources/certificate';
import type { WorkflowDeps } from '../deps';

export interface CertificateListItem {
  arn: string;
  domain: string;
  names: string[];
  status: string;
  inUseBy: string[];
  notAfter?: string;
  managed: boolean;
}

export async function certificateList(
  deps: WorkflowDeps,
  options: { all?: boolean } = {},
): Promise<{ certificates: CertificateListItem[] }> {
  const certs = await listCertificates(deps.clients, { managedOnly: !options.all });
  return {
    certificates: certs
      .map((c) => ({
        arn: c.arn,
        domain: c.domain,
        names: c.names,
        status: c.status,
        inUseBy: c.inUseBy,
        ...(c.notAfter ? { notAfter: c.notAfter } : {}),
        managed: c.tags[TagKeys.role] === 'certificate' && c.tags[TagKeys.managedBy] === 'k3sctl',
      }))
      .sort((a, b) => a.domain.localeCompare(b.domain) || a.arn.localeCompare(b.arn)),
  };
}
