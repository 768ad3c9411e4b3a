// The model as the providers see it (src/provider/clusterView.ts): every value a kind's tasks need,
// derived here once. The groups' user data is rendered from the model (cluster create and upgrade
// render with the same function), the declaration serialised and size-checked, the security groups
// counted: a model that cannot be applied is refused here, before any write.
import { names } from '../aws/names';
import { LEGACY_IMDS_HOP_LIMIT } from '../config/cluster';
import { UserError } from '../core/errors';
import type { ClusterView, DeclarationParameter, GroupView, IngressView } from '../provider/clusterView';
import { renderUserData } from '../userdata/render';
import { checkSecurityGroupCount, ingressSecurityGroups, type StoredClusterConfig, type StoredGroup, type StoredIngressAlb } from './cluster';
import { parseStoredClusterConfig, parseStoredGroup, serializeStoredClusterSettings, serializeStoredGroup } from './stored';

/** The user data of one group (validated; UserError before any write when it is not valid). */
export function groupUserData(config: StoredClusterConfig, group: StoredGroup): string {
  return renderUserData({
    cluster: config.name,
    role: group.role,
    group: group.name,
    region: config.region,
    k3sVersion: group.k3sVersion,
    k3sArgs: group.k3sArgs,
    labels: group.labels,
    taints: group.taints,
    tlsSans: config.tlsSans,
    serverTokenParameter: names.ssmServerToken(config.name),
    agentTokenParameter: names.ssmAgentToken(config.name),
    initializedParameter: names.ssmInitialized(config.name),
    bootstrapFailurePrefix: names.ssmBootstrapFailures(config.name),
    lifecycleHookName: names.lifecycleHook(),
  }).base64;
}

/** SSM Parameter Store: a standard parameter's value is at most 4 KB. */
const SSM_STANDARD_VALUE_MAX = 4096;

/**
 * Checked before any write: PutParameter refuses a standard-tier value over 4096 characters
 * (ValidationException), which would fail the run halfway and roll it back.
 */
function checkParameterSize(name: string, value: string, what: string, hint: string, field: string): void {
  if (value.length > SSM_STANDARD_VALUE_MAX) {
    throw new UserError(`${what} is ${value.length} characters; ${name} holds at most ${SSM_STANDARD_VALUE_MAX} (SSM standard parameter)`, hint, field);
  }
}

function sameSettings(actualJson: string, desiredJson: string): boolean {
  try {
    const actual = parseStoredClusterConfig(actualJson, 'config');
    // A version-1 parameter (groups inline) is rewritten even when its settings are the same.
    return !actual.legacyGroups && serializeStoredClusterSettings(actual) === desiredJson;
  } catch {
    return false;
  }
}

function sameGroup(actualJson: string, desiredJson: string): boolean {
  try {
    return serializeStoredGroup(parseStoredGroup(actualJson, 'group')) === desiredJson;
  } catch {
    return false;
  }
}

/** The stored declaration: the settings in /k3sctl/clusters/NAME/config, and each of `groups` in its own parameter. */
export function declarationParameters(config: StoredClusterConfig, groups: readonly StoredGroup[]): DeclarationParameter[] {
  const settingsName = names.ssmConfig(config.name);
  const settings = serializeStoredClusterSettings(config);
  checkParameterSize(settingsName, settings, `the settings of cluster ${config.name}`, 'use fewer --tls-san / CIDR values', 'name');
  return [
    {
      part: 'settings',
      name: settingsName,
      value: settings,
      sameAs: (stored) => sameSettings(stored, settings),
      description: `k3sctl cluster ${config.name}: declared settings`,
    },
    ...groups.map((group): DeclarationParameter => {
      const name = names.ssmGroupConfig(config.name, group.name);
      const value = serializeStoredGroup(group);
      checkParameterSize(name, value, `the declaration of group ${group.name}`, 'use fewer labels, taints, k3s arguments or subnets', 'group');
      return { part: 'group', group: group.name, name, value, sameAs: (stored) => sameGroup(stored, value), description: `k3sctl cluster ${config.name}: group ${group.name}` };
    }),
  ];
}

/**
 * The name plans and journals give the cluster's rule on `alb`. Every ALB's rule has the same host, so
 * the rule of a further ALB (not slot 1, which single-ALB clusters have) is named with its ALB too.
 */
export function ingressRuleName(cluster: string, host: string, alb: Pick<StoredIngressAlb, 'albName' | 'targetGroupName'>): string {
  return alb.targetGroupName === names.ingressTargetGroup(cluster) ? host : `${host} on ${alb.albName}`;
}

function ingressView(config: StoredClusterConfig): IngressView | undefined {
  const ingress = config.ingress;
  if (!ingress) return undefined;
  return {
    host: ingress.host,
    sourceCidrs: ingress.sourceCidrs ?? [],
    deregistrationDelaySeconds: ingress.deregistrationDelaySeconds,
    albs: ingress.albs.map((alb) => ({
      albName: alb.albName,
      listenerArn: alb.listenerArn,
      targetGroupName: alb.targetGroupName,
      ruleName: ingressRuleName(config.name, ingress.host, alb),
    })),
  };
}

function groupView(config: StoredClusterConfig, group: StoredGroup, ingressSgs: string[]): GroupView {
  // A group stored before the cluster got (more of) the automatic ingress may hold more than fit now.
  const extraSecurityGroupIds = (group.securityGroupIds ?? []).filter((id) => !ingressSgs.includes(id));
  checkSecurityGroupCount(group, extraSecurityGroupIds, ingressSgs.length);
  return {
    name: group.name,
    role: group.role,
    count: group.count,
    imageId: group.imageId,
    instanceType: group.instanceType,
    subnetIds: group.subnetIds,
    spot: group.spot,
    rootDeviceName: group.rootDeviceName,
    rootVolumeSize: group.rootVolumeSize,
    rootVolumeType: group.rootVolumeType,
    imdsHopLimit: group.imdsHopLimit ?? LEGACY_IMDS_HOP_LIMIT,
    cpuCredits: group.cpuCredits,
    extraSecurityGroupIds,
    targetGroupArns: group.targetGroupArns ?? [],
    userDataBase64: groupUserData(config, group),
  };
}

export interface ClusterViewOptions {
  /** The groups the run converges (default: every group). */
  groups?: readonly StoredGroup[];
  /** The groups whose declaration the run writes (default: `groups`). */
  declared?: readonly StoredGroup[];
  /** Target groups of the cluster's nodeport endpoints, attached to every group. */
  endpointTargetGroupArns?: string[];
}

/** What the providers build the cluster's tasks from (UserError, before any write, for a model that cannot be applied). */
export function clusterView(config: StoredClusterConfig, options: ClusterViewOptions = {}): ClusterView {
  const groups = options.groups ?? config.groups;
  const ingressSecurityGroupIds = ingressSecurityGroups(config.ingress);
  return {
    name: config.name,
    region: config.region,
    vpcId: config.vpcId,
    keyName: config.keyName,
    sshCidrs: config.sshCidrs,
    apiCidrs: config.apiCidrs,
    declaration: declarationParameters(config, options.declared ?? groups),
    ingress: ingressView(config),
    ingressSecurityGroupIds,
    groups: groups.map((g) => groupView(config, g, ingressSecurityGroupIds)),
    endpointTargetGroupArns: options.endpointTargetGroupArns ?? [],
  };
}
