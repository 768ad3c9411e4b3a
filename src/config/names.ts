// Naming rules: cluster and group names are DNS labels short enough for every derived AWS name
// (target groups and ALBs: 32 characters), and never contain `--`, the service/cluster delimiter
// of the automatic ingress host names. Derived names are built only here.
import { UserError } from '../core/errors';

export const MAX_CLUSTER_NAME = 20;
export const MAX_GROUP_NAME = 20;
/** ALBs one cluster's automatic ingress can use: one target group each, named by slot (one digit). */
export const MAX_INGRESS_ALBS = 4;
const LABEL = /^[a-z]([a-z0-9-]*[a-z0-9])?$/;

function checkLabel(kind: string, field: string, value: string, max: number): void {
  if (!LABEL.test(value)) {
    throw new UserError(
      `${field} '${value}' is not a valid ${kind} name: use lowercase letters, digits and '-', starting with a letter and not ending with '-'`,
      undefined,
      field,
    );
  }
  if (value.includes('--')) {
    throw new UserError(`${field} '${value}' is not a valid ${kind} name: it may not contain '--' (it separates service and cluster in ingress host names)`, undefined, field);
  }
  if (value.length > max) {
    throw new UserError(`${field} '${value}' is not a valid ${kind} name: it is ${value.length} characters; at most ${max} are allowed`, undefined, field);
  }
}

export function validateClusterName(name: string, field = 'name'): void {
  checkLabel('cluster', field, name, MAX_CLUSTER_NAME);
}

export function validateGroupName(name: string, field = 'group'): void {
  checkLabel('group', field, name, MAX_GROUP_NAME);
}

/** Service names of shared endpoints: a DNS label without `--`. */
export function validateServiceName(name: string, field = 'service'): void {
  checkLabel('service', field, name, 63);
}

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
