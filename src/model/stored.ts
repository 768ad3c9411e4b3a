// The cluster model as it is stored in SSM Parameter Store: the cluster-level settings as JSON in
// /k3sctl/clusters/NAME/config and each group in its own /k3sctl/clusters/NAME/groups/GROUP (each
// parameter is at most 4096 characters). Parsing checks every field (a malformed parameter is a
// UserError, never a guess); serialising is canonical (sorted keys) so a re-run compares equal.
import { z } from 'zod';
import { CPU_CREDITS, MAX_DEREGISTRATION_DELAY, MAX_IMDS_HOP_LIMIT, stringMap } from '../config/cluster';
import { names } from '../aws/names';
import { UserError } from '../core/errors';
import { STORED_CONFIG_VERSION, type StoredClusterConfig, type StoredGroup, type StoredIngress, type StoredIngressAlb } from './cluster';

const StoredGroupSchema = z.object({
  name: z.string(),
  role: z.enum(['control-plane', 'node']),
  count: z.number().int().min(0),
  instanceType: z.string(),
  subnetIds: z.array(z.string()),
  imageId: z.string(),
  rootDeviceName: z.string(),
  k3sVersion: z.string(),
  k3sArgs: z.array(z.string()),
  labels: stringMap,
  taints: z.array(z.string()),
  spot: z.boolean(),
  rootVolumeSize: z.number(),
  rootVolumeType: z.string(),
  imdsHopLimit: z.number().int().min(1).max(MAX_IMDS_HOP_LIMIT).optional(),
  cpuCredits: z.enum(CPU_CREDITS).optional(),
  securityGroupIds: z.array(z.string()).optional(),
  targetGroupArns: z.array(z.string()).optional(),
});

const StoredIngressAlbSchema = z.object({
  albName: z.string(),
  loadBalancerArn: z.string(),
  listenerArn: z.string(),
  instanceSecurityGroupId: z.string().optional(),
  targetGroupName: z.string(),
});

const StoredClusterConfigSchema = z.object({
  version: z.union([z.literal(1), z.literal(2)]),
  name: z.string(),
  region: z.string(),
  vpcId: z.string(),
  subnetIds: z.array(z.string()),
  k3sVersion: z.string(),
  keyName: z.string().optional(),
  sshCidrs: z.array(z.string()),
  apiCidrs: z.array(z.string()),
  tlsSans: z.array(z.string()),
  groups: z.array(StoredGroupSchema).optional(),
  ingress: z
    .object({
      // The first ALB stays where single-ALB configurations keep it (older k3sctl versions read those);
      // further ALBs are in `moreAlbs`. A first ALB without `targetGroupName` has slot 1's name.
      ...StoredIngressAlbSchema.shape,
      targetGroupName: z.string().optional(),
      moreAlbs: z.array(StoredIngressAlbSchema).optional(),
      zoneId: z.string(),
      zoneName: z.string(),
      host: z.string(),
      deregistrationDelaySeconds: z.number().int().min(0).max(MAX_DEREGISTRATION_DELAY).optional(),
      sourceCidrs: z.array(z.string()).optional(),
    })
    .optional(),
});

type StoredIngressJson = NonNullable<z.infer<typeof StoredClusterConfigSchema>['ingress']>;

/** The stored ingress in memory: every ALB in one list. */
function ingressFromJson(cluster: string, json: StoredIngressJson): StoredIngress {
  const {
    albName,
    loadBalancerArn,
    listenerArn,
    instanceSecurityGroupId,
    targetGroupName,
    moreAlbs,
    ...rest
  } = json;
  const first: StoredIngressAlb = {
    albName,
    loadBalancerArn,
    listenerArn,
    instanceSecurityGroupId,
    targetGroupName: targetGroupName ?? names.ingressTargetGroup(cluster),
  };
  return { ...rest, albs: [first, ...(moreAlbs ?? [])] };
}

/** The stored ingress as JSON: a single-ALB ingress slot 1 is exactly what earlier versions stored. */
function ingressToJson(cluster: string, ingress: StoredIngress): StoredIngressJson {
  const { albs, ...rest } = ingress;
  const [first, ...more] = albs;
  const { targetGroupName, ...firstAlb } = first!;
  return {
    ...rest,
    ...firstAlb,
    ...(targetGroupName === names.ingressTargetGroup(cluster) ? {} : { targetGroupName }),
    ...(more.length ? { moreAlbs: more } : {}),
  };
}

function parseJson(json: string, parameterName: string): unknown {
  try {
    return JSON.parse(json);
  } catch {
    throw new UserError(`${parameterName} does not hold JSON`, 'delete and re-create the cluster, or fix the parameter');
  }
}

/**
 * Parses the settings parameter; a malformed one is reported, not guessed at. Groups are those a
 * version-1 parameter holds inline (then `legacyGroups`), else none: they live in their own parameters.
 */
export function parseStoredClusterConfig(json: string, parameterName: string): StoredClusterConfig {
  const parsed = StoredClusterConfigSchema.safeParse(parseJson(json, parameterName));
  if (!parsed.success) {
    throw new UserError(`${parameterName} is not a k3sctl cluster configuration: ${z.prettifyError(parsed.error)}`);
  }
  const legacy = parsed.data.version === 1;
  const { ingress, ...settings } = parsed.data;
  return {
    ...settings,
    groups: (parsed.data.groups ?? []) as StoredGroup[],
    ...(ingress ? { ingress: ingressFromJson(settings.name, ingress) } : {}),
    ...(legacy ? { legacyGroups: true } : {}),
  } as StoredClusterConfig;
}

/** Parses a group parameter (/k3sctl/clusters/NAME/groups/GROUP). */
export function parseStoredGroup(json: string, parameterName: string): StoredGroup {
  const parsed = StoredGroupSchema.safeParse(parseJson(json, parameterName));
  if (!parsed.success) {
    throw new UserError(`${parameterName} is not a k3sctl group configuration: ${z.prettifyError(parsed.error)}`);
  }
  return parsed.data as StoredGroup;
}

/** Canonical JSON of the settings parameter (version 2: no groups, stable keys) so re-runs compare equal. */
export function serializeStoredClusterSettings(config: StoredClusterConfig): string {
  const { groups: _groups, legacyGroups: _legacy, ingress, ...settings } = config;
  return JSON.stringify(
    sortKeys({
      ...settings,
      ...(ingress ? { ingress: ingressToJson(config.name, ingress) } : {}),
      version: STORED_CONFIG_VERSION,
    }),
  );
}

/** Canonical JSON of one group's parameter. */
export function serializeStoredGroup(group: StoredGroup): string {
  return JSON.stringify(sortKeys(group));
}

/**
 * The configuration from the settings and the group parameters of one cluster (GetParametersByPath
 * output). Group parameters win over groups a version-1 settings parameter holds inline.
 */
export function assembleStoredClusterConfig(settings: StoredClusterConfig, groups: StoredGroup[]): StoredClusterConfig {
  const byName = new Map(settings.groups.map((g) => [g.name, g]));
  for (const g of groups) byName.set(g.name, g);
  return { ...settings, groups: [...byName.values()].sort((a, b) => a.name.localeCompare(b.name)) };
}

/** `value` with the keys of every object sorted (JSON.stringify then drops undefined values). */
function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}

/**
 * Cluster configurations from a GetParametersByPath listing under /k3sctl/clusters/ (one cluster's or
 * all). Clusters without a settings parameter are left out; a malformed parameter is a UserError.
 */
export function assembleClusterConfigs(params: { Name?: string; Value?: string }[]): Map<string, StoredClusterConfig> {
  const settings = new Map<string, StoredClusterConfig>();
  const groups = new Map<string, StoredGroup[]>();
  for (const p of params) {
    if (!p.Name || !p.Value) continue;
    const m = /^\/k3sctl\/clusters\/([^/]+)\/(?:(config)|groups\/([^/]+))$/.exec(p.Name);
    if (!m) continue;
    if (m[2]) settings.set(m[1], parseStoredClusterConfig(p.Value, p.Name));
    else groups.set(m[1], [...(groups.get(m[1]) ?? []), parseStoredGroup(p.Value, p.Name)]);
  }
  return new Map([...settings].map(([name, s]) => [name, assembleStoredClusterConfig(s, groups.get(name) ?? [])]));
}
