// `cluster list`: the clusters of a region, from the SSM path /k3sctl/clusters/ (declared settings in
// NAME/config, groups in NAME/groups/GROUP, tokens beside them) and the cluster security groups' tags (so
// half-created or half-deleted clusters show up too).
import { listParametersByPath } from '../../resources/ssmParameter';
import { listAllClusterSecurityGroups } from '../../resources/securityGroup';
import type { WorkflowDeps } from '../deps';
import { assembleClusterConfigs } from '../../model/stored';

export interface ListedCluster {
  name: string;
  region: string;
  vpcId?: string;
  k3sVersion?: string;
  groups: { name: string; role: string; count: number; instanceType: string }[];
  /** `ok`, or `incomplete` when the settings parameter is missing or malformed. */
  status: 'ok' | 'incomplete';
}

export async function clusterList(deps: WorkflowDeps): Promise<{ region: string; clusters: ListedCluster[]; apiCalls: { read: number; write: number } }> {
  const [params, groups] = await Promise.all([listParametersByPath(deps.clients, '/k3sctl/clusters'), listAllClusterSecurityGroups(deps.clients)]);
  const clusters = new Map<string, ListedCluster>();
  const byCluster = new Map<string, typeof params>();
  for (const p of params) {
    const m = /^\/k3sctl\/clusters\/([^/]+)\//.exec(p.Name ?? '');
    if (m) byCluster.set(m[1], [...(byCluster.get(m[1]) ?? []), p]);
  }
  for (const [name, own] of byCluster) {
    try {
      const c = assembleClusterConfigs(own).get(name);
      if (!c) {
        // Tokens or group declarations without settings: a half-created or half-deleted cluster.
        clusters.set(name, { name, region: deps.region, groups: [], status: 'incomplete' });
        continue;
      }
      clusters.set(name, {
        name,
        region: deps.region,
        vpcId: c.vpcId,
        k3sVersion: c.k3sVersion,
        groups: c.groups.map((g) => ({ name: g.name, role: g.role, count: g.count, instanceType: g.instanceType })),
        status: 'ok',
      });
    } catch {
      clusters.set(name, { name, region: deps.region, groups: [], status: 'incomplete' });
    }
  }
  for (const g of groups) {
    if (!clusters.has(g.cluster)) clusters.set(g.cluster, { name: g.cluster, region: deps.region, vpcId: g.vpcId, groups: [], status: 'incomplete' });
  }
  return { region: deps.region, clusters: [...clusters.values()].sort((a, b) => a.name.localeCompare(b.name)), apiCalls: deps.clients.calls.snapshot() };
}
