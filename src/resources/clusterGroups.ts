// The Auto Scaling groups as AWS describes them: by name, or every group of a cluster (tag
// k3sctl.io/cluster, every page). The group, instance and attachment modules read them through here; a
// cluster delete's discovery reads the cluster's groups once for every kind that needs them.
import { paginateDescribeAutoScalingGroups, type AutoScalingGroup, type Filter } from '@aws-sdk/client-auto-scaling';
import type { AwsClients } from '../aws/clients';
import { TagKeys, tagValue } from '../aws/tags';
import type { ClusterScope } from '../provider/cluster';

/** The groups named in `input` or matching its filters (every page). */
export async function describeAutoScalingGroups(clients: AwsClients, input: { AutoScalingGroupNames?: string[]; Filters?: Filter[] }): Promise<AutoScalingGroup[]> {
  const out: AutoScalingGroup[] = [];
  for await (const page of paginateDescribeAutoScalingGroups({ client: clients.autoscaling }, { ...input })) out.push(...(page.AutoScalingGroups ?? []));
  return out;
}

/** Every group tagged as the cluster's (instances and target groups included; no per-group calls). */
export async function describeClusterAutoScalingGroups(clients: AwsClients, cluster: string): Promise<AutoScalingGroup[]> {
  const groups = await describeAutoScalingGroups(clients, { Filters: [{ Name: `tag:${TagKeys.cluster}`, Values: [cluster] }] });
  return groups.filter((g) => tagValue(g.Tags, TagKeys.cluster) === cluster);
}

/** The cluster's groups, read once per discovery whichever kinds ask. */
export function discoveredClusterGroups(scope: ClusterScope): Promise<AutoScalingGroup[]> {
  return scope.shared('auto scaling groups', () => describeClusterAutoScalingGroups(scope.clients, scope.cluster));
}
