// Reading the cluster model back from SSM: what cluster describe/list, controlplane and nodegroup
// add/scale/delete, cluster create (on an existing cluster) and upgrade start from.
import type { AwsClients } from '../aws/clients';
import { names } from '../aws/names';
import type { ClusterScope } from '../provider/cluster';
import { clusterParameterListing, listParametersByPath } from '../resources/ssmParameter';
import type { StoredClusterConfig } from './cluster';
import { assembleClusterConfigs } from './stored';

/**
 * The cluster's stored configuration (settings + one parameter per group, one paginated
 * GetParametersByPath: reads grow with the group count, never with instances), or undefined when it
 * has no settings parameter. With `scope`, the listing is the scope's (clusterParameterListing).
 */
export async function readClusterConfig(clients: AwsClients, cluster: string, scope?: ClusterScope): Promise<StoredClusterConfig | undefined> {
  // Through `scope`, the providers' discovery of the same cluster reuses the listing.
  const params = scope ? await clusterParameterListing(scope) : await listParametersByPath(clients, names.ssmPrefix(cluster));
  return assembleClusterConfigs(params).get(cluster);
}
