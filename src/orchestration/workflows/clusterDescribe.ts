// `cluster describe`: the cluster as steps/clusterDescription.ts reads it (groups, instances and their
// launch-template drift, recorded bootstrap failures, ingress), from tags and SSM.
import type { WorkflowDeps } from '../deps';
import { describeCluster, type ClusterDescription } from '../steps/clusterDescription';

export function clusterDescribe(deps: WorkflowDeps, cluster: string): Promise<ClusterDescription> {
  return describeCluster(deps, cluster);
}
