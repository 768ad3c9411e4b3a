// The one place tag keys are spelled. Tags are the source of truth for ownership (docs/ARCHITECTURE.md, Ownership).

export const TagKeys = {
  cluster: 'k3sctl.io/cluster',
  role: 'k3sctl.io/role',
  group: 'k3sctl.io/group',
  /** Shared resources (ALB, endpoint, certificate) carry this instead of a cluster. */
  shared: 'k3sctl.io/shared',
  service: 'k3sctl.io/service',
  managedBy: 'k3sctl.io/managed-by',
  name: 'Name',
} as const;

/** The Kubernetes node label the instance side sets to the EC2 instance id (userdata/bin/k3sctl-k3s-exec). */
export const INSTANCE_ID_NODE_LABEL = 'k3sctl.io/instance-id';

export type Role = 'control-plane' | 'node' | 'ingress' | 'cluster' | 'alb' | 'endpoint' | 'certificate';

export interface Tag {
  Key: string;
  Value: string;
}

/** The `kubernetes.io/cluster/NAME` key the AWS cloud tooling looks for. */
export function kubernetesClusterTagKey(cluster: string): string {
  return `kubernetes.io/cluster/${cluster}`;
}

/** Tags of a resource owned by a cluster. */
export function clusterTags(cluster: string, role: Role, extra: { group?: string; name?: string } = {}): Tag[] {
  const tags: Tag[] = [
    { Key: TagKeys.cluster, Value: cluster },
    { Key: TagKeys.role, Value: role },
    { Key: TagKeys.managedBy, Value: 'k3sctl' },
    { Key: kubernetesClusterTagKey(cluster), Value: 'owned' },
  ];
  if (extra.group) tags.push({ Key: TagKeys.group, Value: extra.group });
  if (extra.name) tags.push({ Key: TagKeys.name, Value: extra.name });
  return tags;
}

/** Tags of a shared (cluster-independent) resource: ALB, endpoint, certificate. */
export function sharedTags(role: Role, name: string, extra: Record<string, string> = {}): Tag[] {
  return [
    { Key: TagKeys.shared, Value: name },
    { Key: TagKeys.role, Value: role },
    { Key: TagKeys.managedBy, Value: 'k3sctl' },
    { Key: TagKeys.name, Value: name },
    ...Object.entries(extra).map(([Key, Value]) => ({ Key, Value })),
  ];
}

/** Reads a tag from any AWS tag list ({Key, Value} shaped). */
export function tagValue(tags: { Key?: string; Value?: string }[] | undefined, key: string): string | undefined {
  return tags?.find((t) => t.Key === key)?.Value;
}

/** The subset of `tags` that k3sctl manages (never `aws:*`), as a map for diffing. */
export function managedTagMap(tags: { Key?: string; Value?: string }[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const t of tags ?? []) {
    if (!t.Key || t.Key.startsWith('aws:')) continue;
    if (t.Key.startsWith('k3sctl.io/') || t.Key === TagKeys.name || t.Key.startsWith('kubernetes.io/cluster/')) {
      out[t.Key] = t.Value ?? '';
    }
  }
  return out;
}

/** A tag list as a key -> value map (a later duplicate key wins), the shape resource states keep. */
export function tagMapOf(tags: Tag[]): Record<string, string> {
  return Object.fromEntries(tags.map((t) => [t.Key, t.Value]));
}

/** The tags of `desired` that `actual` (a resource's tag map) lacks or holds with another value. */
export function tagsToUpdate(desired: Tag[], actual: Record<string, string>): Tag[] {
  return desired.filter((t) => actual[t.Key] !== t.Value);
}

/** EC2-style filters selecting a cluster's resources, e.g. for DescribeInstances. */
export function clusterFilters(cluster: string, role?: Role, group?: string): { Name: string; Values: string[] }[] {
  const f = [{ Name: `tag:${TagKeys.cluster}`, Values: [cluster] }];
  if (role) f.push({ Name: `tag:${TagKeys.role}`, Values: [role] });
  if (group) f.push({ Name: `tag:${TagKeys.group}`, Values: [group] });
  return f;
}
