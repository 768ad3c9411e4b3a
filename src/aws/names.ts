// Derived AWS names of a cluster's resources, built only here (the rules for the names users give are
// in src/config/names.ts).

/** ALBs one cluster's automatic ingress can use: one target group each, named by slot (one digit). */
export const MAX_INGRESS_ALBS = 4;

export const names = {
  ssmPrefix: (cluster: string) => `/k3sctl/clusters/${cluster}`,
  ssmConfig: (cluster: string) => `/k3sctl/clusters/${cluster}/config`,
  ssmGroupConfig: (cluster: string, group: string) => `/k3sctl/clusters/${cluster}/groups/${group}`,
  ssmServerToken: (cluster: string) => `/k3sctl/clusters/${cluster}/server-token`,
  ssmAgentToken: (cluster: string) => `/k3sctl/clusters/${cluster}/agent-token`,
  ssmInitialized: (cluster: string) => `/k3sctl/clusters/${cluster}/initialized`,
  /** Where an instance whose bootstrap failed for good records why (`PREFIX/INSTANCE_ID`), for `cluster describe`. */
  ssmBootstrapFailures: (cluster: string) => `/k3sctl/clusters/${cluster}/bootstrap-failures`,
  controlPlaneRole: (cluster: string, region: string) => `k3sctl-${cluster}-${region}-control-plane`,
  nodeRole: (cluster: string, region: string) => `k3sctl-${cluster}-${region}-node`,
  securityGroup: (cluster: string) => `k3sctl-${cluster}`,
  launchTemplate: (cluster: string, group: string) => `k3sctl-${cluster}-${group}`,
  autoScalingGroup: (cluster: string, group: string) => `k3sctl-${cluster}-${group}`,
  lifecycleHook: () => 'k3sctl-graceful-leave',
  /**
   * The ingress target group of the cluster on its `slot`-th ALB (1 to MAX_INGRESS_ALBS): slot 1 keeps
   * the name of single-ALB clusters. At most 32 characters: `k3s-` + 20 + `-ing` + one digit = 29.
   */
  ingressTargetGroup: (cluster: string, slot = 1) => `k3s-${cluster}-ing${slot === 1 ? '' : String(slot)}`,
  /** The slot of `targetGroupName` when it is one of the cluster's ingress target group names. */
  ingressSlot: (cluster: string, targetGroupName: string | undefined): number | undefined => {
    for (let slot = 1; slot <= MAX_INGRESS_ALBS; slot++)
      if (targetGroupName === names.ingressTargetGroup(cluster, slot)) return slot;
    return undefined;
  },
  ingressHost: (cluster: string, region: string, zone: string) =>
    `*--${cluster}.${region}.${zone.replace(/\.$/, '')}`,
};
