// `cluster list`: the clusters of a region, from the SSM path /k3sctl/clusters/ (declared configuration)
// and the cluster security groups' tags (so half-created or half-deleted clusters show up too).
import { parseStoredClusterConfig } from '../../config/cluster';
import { listParametersByPath } from '../../resources/ssmParameter';
import { listAllClusterSecurityGroups } from '../../resources/securityGroup';
import type { WorkflowDeps } from '../deps';

export interface ListedCluster {
  name: string;
  region: string;
  vpcId?: string;
  k3sVersion?: string;
  groups: { name: string; role: string; count: number; instanceType: string }[];
  /** `ok`, or `incomplete` when the configuration parameter is missing. */
  status: 'ok' | 'incomplete';
}

export async function clusterList(deps: WorkflowDeps): Promise<{ region: string; clusters: ListedCluster[]; apiCalls: { read: number; write: number } }> {
  const [params, groups] = await Promise.all([listParametersByPath(deps.clients, '/k3sctl/clusters'), listAllClusterSecurityGroups(deps.clients)]);
  const clusters = new Map<string, ListedCluster>();
  for (const p of params) {
    const m = /^\/k3sctl\/clusters\/([^/]+)\/config$/.exec(p.Name ?? '');
    if (!m || !p.Value) continue;
    try {
      const c = parseStoredClusterConfig(p.Value, p.Name!);
      clusters.set(m[1], {
        name: m[1],
        region: deps.region,
        vpcId: c.vpcId,
        k3sVersion: c.k3sVersion,
        groups: c.groups.map((g) => ({ name: g.name, role: g.role, count: g.count, instanceType: g.instanceType })),
        status: 'ok',
      });
    } catch {
      clusters.set(m[1], { name: m[1], region: deps.region, groups: [], status: 'incomplete' });
    }
  }
  for (const g of groups) {
    if (!clusters.has(g.cluster)) clusters.set(g.cluster, { name: g.cluster, region: deps.region, vpcId: g.vpcId, groups: [], status: 'incomplete' });
  }
  return { region: deps.region, clusters: [...clusters.values()].sort((a, b) => a.name.localeCompare(b.name)), apiCalls: deps.clients.calls.snapshot() };
}
