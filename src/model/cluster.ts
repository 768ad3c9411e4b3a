// The cluster as data: its settings, groups and ingress with every lookup resolved, as built from a
// ClusterSpec/GroupSpec (model/resolve.ts), stored in the cluster's SSM parameters (model/stored.ts)
// and read back by every command that needs it. The launch templates, Auto Scaling groups and user
// data of the groups are rendered from it.
import { checkExtraSecurityGroupCount, groupFlags, type GroupSettings } from '../config/cluster';

/** A group with every lookup resolved: what the launch template and ASG are built from. Stored in SSM. */
export interface StoredGroup extends Omit<GroupSettings, 'imdsHopLimit'> {
  subnetIds: string[];
  imageId: string;
  rootDeviceName: string;
  /**
   * Absent in a group stored before the setting existed: its launch template keeps
   * LEGACY_IMDS_HOP_LIMIT (so `nodegroup scale` makes no new version) until `cluster create` or
   * `nodegroup add` declares it again.
   */
  imdsHopLimit?: number;
  /**
   * The user's security groups the instances join besides the cluster's (and the ingress one), sorted;
   * absent: none (also in a group stored before the setting existed).
   */
  securityGroupIds?: string[];
  /** The user's target groups the Auto Scaling group registers its instances in, sorted; absent: none. */
  targetGroupArns?: string[];
}

/** One ALB of the automatic ingress: its HTTPS listener carries the cluster's rule to its own target group. */
export interface StoredIngressAlb {
  albName: string;
  loadBalancerArn: string;
  listenerArn: string;
  /** The ALB's downstream security group, which the cluster's instances join. */
  instanceSecurityGroupId?: string;
  /** The cluster's target group on this ALB (names.ingressTargetGroup(cluster, slot)): kept for as long as the ALB is. */
  targetGroupName: string;
}

export interface StoredIngress {
  /** At least one, at most MAX_INGRESS_ALBS, distinct ALBs and target group names. */
  albs: StoredIngressAlb[];
  zoneId: string;
  zoneName: string;
  /** The listener rules' host header: `*--NAME.REGION.ZONE`. */
  host: string;
  /**
   * deregistration_delay.timeout_seconds of the ingress target group. Absent in a configuration stored
   * before the setting existed: the attribute is left as it is until `cluster create` declares it.
   */
  deregistrationDelaySeconds?: number;
  /** The ingress rule's `source-ip` values (absent or empty: any client). */
  sourceCidrs?: string[];
}

/**
 * The cluster's declared configuration. Stored (version 2) as the settings without `groups` in
 * /k3sctl/clusters/NAME/config and one parameter per group; version 1 kept the groups inline.
 */
export interface StoredClusterConfig {
  version: 1 | 2;
  name: string;
  region: string;
  vpcId: string;
  subnetIds: string[];
  k3sVersion: string;
  keyName?: string;
  sshCidrs: string[];
  apiCidrs: string[];
  tlsSans: string[];
  groups: StoredGroup[];
  ingress?: StoredIngress;
  /** In memory only: read from a version-1 parameter (groups inline), to be rewritten in the per-group layout. */
  legacyGroups?: boolean;
}

export const STORED_CONFIG_VERSION = 2;

/** The configuration with `group` added or replaced (groups sorted by name). */
export function withGroup(config: StoredClusterConfig, group: StoredGroup): StoredClusterConfig {
  return { ...config, groups: [...config.groups.filter((g) => g.name !== group.name), group].sort((a, b) => a.name.localeCompare(b.name)) };
}

/**
 * The configuration with `groups` (by name; 'all': every group, and the cluster's own version, which
 * groups added later start from) at k3s `version`: what `upgrade` stores.
 */
export function withK3sVersion(config: StoredClusterConfig, groups: string[] | 'all', version: string): StoredClusterConfig {
  const upgraded = (g: StoredGroup) => groups === 'all' || groups.includes(g.name);
  return {
    ...config,
    k3sVersion: groups === 'all' ? version : config.k3sVersion,
    groups: config.groups.map((g) => (upgraded(g) ? { ...g, k3sVersion: version } : g)),
  };
}

/** The downstream security groups of the ingress ALBs (distinct): every instance of the cluster joins them. */
export function ingressSecurityGroups(ingress: StoredIngress | undefined): string[] {
  return [...new Set((ingress?.albs ?? []).flatMap((a) => (a.instanceSecurityGroupId ? [a.instanceSecurityGroupId] : [])))];
}

/** Refuses more extra security groups than fit beside k3sctl's own on a network interface (exit 2, before any write). */
export function checkSecurityGroupCount(g: Pick<StoredGroup, 'role'>, extraIds: string[], ingressGroups: number): void {
  checkExtraSecurityGroupCount(groupFlags(g.role).securityGroups!, extraIds.length, ingressGroups);
}
