// The cluster file (`-f cluster.yaml`) and the validated specs built from it and from flags: the zod
// schemas (strict: unknown fields are errors), the defaults, and every check that needs no AWS call.
// Lookups (VPC, subnets, AMI, instance types) happen later in src/aws/lookups.ts; the result of both
// is the StoredClusterConfig, kept as JSON in SSM: the cluster-level settings in /k3sctl/clusters/NAME/config
// and each group in its own /k3sctl/clusters/NAME/groups/GROUP (each parameter is at most 4096 characters).
import * as net from 'node:net';
import { z } from 'zod';
import { UserError } from '../core/errors';
import { validateClusterName, validateGroupName } from './names';
import { isK3sVersion } from '../userdata/render';

export const DEFAULT_K3S_VERSION = 'v1.31.6+k3s1';
export const DEFAULT_CONTROL_PLANE_TYPE = 't3.medium';
export const DEFAULT_NODE_TYPE = 't3.medium';
export const DEFAULT_CONTROL_PLANES = 3;
export const DEFAULT_NODES = 2;
export const DEFAULT_ROOT_VOLUME_SIZE = 20;
export const DEFAULT_ROOT_VOLUME_TYPE = 'gp3';
export const DEFAULT_OS = 'al2023';
/**
 * IMDSv2 PUT response hop limit of the instances. 1: the token response cannot cross the extra hop
 * into a pod's network namespace, so pods (other than hostNetwork ones) cannot reach the node role's
 * credentials. 1-64 is the range EC2 accepts (HttpPutResponseHopLimit).
 */
export const DEFAULT_IMDS_HOP_LIMIT = 1;
export const MAX_IMDS_HOP_LIMIT = 64;
/** The hop limit of launch templates made before the setting existed (groups stored without it). */
export const LEGACY_IMDS_HOP_LIMIT = 2;
/**
 * Label keys in the kubernetes.io / k8s.io namespaces that the kubelet sets on its own Node
 * (k8s.io/kubelet pkg/apis well_known_labels.go: kubeletLabels), and the namespaces under which it
 * may set any key (kubeletLabelNamespaces, also as `*.NAMESPACE`). The kubelet refuses every other
 * key of those namespaces given with --node-labels (k3s --node-label): it does not start.
 */
export const KUBELET_ALLOWED_LABELS = [
  'beta.kubernetes.io/arch',
  'beta.kubernetes.io/instance-type',
  'beta.kubernetes.io/os',
  'failure-domain.beta.kubernetes.io/region',
  'failure-domain.beta.kubernetes.io/zone',
  'kubernetes.io/arch',
  'kubernetes.io/hostname',
  'kubernetes.io/os',
  'node.kubernetes.io/instance-type',
  'topology.kubernetes.io/region',
  'topology.kubernetes.io/zone',
] as const;
export const KUBELET_ALLOWED_LABEL_NAMESPACES = ['kubelet.kubernetes.io', 'node.kubernetes.io'] as const;
export const CONTROL_PLANE_GROUP = 'control-plane';
export const NODE_GROUP = 'nodes';
export const OS_ALIASES = ['al2023', 'ubuntu-24.04'] as const;
export const ROOT_VOLUME_TYPES = ['gp3', 'gp2', 'io1', 'io2', 'st1', 'sc1', 'standard'] as const;
const TAINT = /^[A-Za-z0-9]([A-Za-z0-9._/-]*[A-Za-z0-9])?(=[A-Za-z0-9._-]*)?:(NoSchedule|PreferNoSchedule|NoExecute)$/;
const LABEL_KEY = /^([a-z0-9]([a-z0-9.-]*[a-z0-9])?\/)?[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$/;
const LABEL_VALUE = /^([A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?)?$/;

export type OsAlias = (typeof OS_ALIASES)[number];
export type GroupRole = 'control-plane' | 'node';

const stringMap = z.record(z.string(), z.string());
const filterMap = z.record(z.string(), z.union([z.string(), z.array(z.string())]));
const count = z.number().int().min(0);

/** Fields a group shares between the cluster file and the group file. */
const groupSelectionFields = {
  subnetIds: z.array(z.string()).optional().describe('subnets by id (--subnet-id)'),
  subnetFilters: filterMap.optional().describe('subnets by EC2 filters, e.g. {availability-zone: us-east-1a} (--subnet-filter)'),
  ami: z.string().optional().describe('AMI id (--ami)'),
  amiName: z.string().optional().describe('AMI name regular expression (--ami-name), with amiOwner'),
  amiOwner: z.string().optional().describe('AMI owner account or alias (--ami-owner)'),
  os: z.enum(OS_ALIASES).optional().describe('OS alias resolved through the public SSM AMI parameters (--os)'),
  k3sVersion: z.string().optional().describe('k3s version, e.g. v1.31.6+k3s1 (--k3s-version)'),
  k3sArgs: z.array(z.string()).optional().describe('extra k3s arguments (--k3s-arg)'),
  rootVolumeSize: z.number().int().min(8).max(16384).optional().describe('root volume GiB (--root-volume-size)'),
  rootVolumeType: z.enum(ROOT_VOLUME_TYPES).optional().describe('root volume type (--root-volume-type)'),
  imdsHopLimit: z
    .number()
    .int()
    .min(1)
    .max(MAX_IMDS_HOP_LIMIT)
    .optional()
    .describe('IMDSv2 hop limit, 1-64 (--imds-hop-limit; default 1: pods cannot reach the node role\'s credentials; 2 lets pods in pod networking reach IMDS)'),
};

export const ClusterFileSchema = z
  .strictObject({
    name: z.string().optional().describe('cluster name (argument NAME)'),
    region: z.string().optional().describe('AWS region (--region)'),
    vpcId: z.string().optional().describe('VPC id (--vpc-id)'),
    vpc: z.string().optional().describe('VPC Name tag (--vpc)'),
    vpcTags: stringMap.optional().describe('VPC tags (--vpc-tag KEY=VALUE)'),
    ...groupSelectionFields,
    controlPlanes: count.optional().describe('control-plane count, odd (--control-planes)'),
    controlPlaneType: z.string().optional().describe('control-plane instance type (--control-plane-type)'),
    nodes: count.optional().describe('node count (--nodes)'),
    nodeType: z.string().optional().describe('node instance type (--node-type)'),
    keyName: z.string().optional().describe('EC2 key pair (--key-name)'),
    sshCidrs: z.array(z.string()).optional().describe('CIDRs allowed to SSH (--ssh-cidr)'),
    apiCidrs: z.array(z.string()).optional().describe('CIDRs allowed to reach the Kubernetes API on 6443 (--api-cidr)'),
    tlsSans: z.array(z.string()).optional().describe('extra TLS SANs of the API server certificate (--tls-san)'),
    labels: stringMap.optional().describe('node labels of the node group (--label KEY=VALUE)'),
    taints: z.array(z.string()).optional().describe('node taints of the node group, KEY[=VALUE]:EFFECT (--taint)'),
    controlPlaneLabels: stringMap.optional().describe('node labels of the control-plane group'),
    controlPlaneTaints: z.array(z.string()).optional().describe('node taints of the control-plane group'),
    spot: z.boolean().optional().describe('run the node group on spot instances (--spot)'),
    ingress: z
      .strictObject({
        alb: z.string().describe('ALB ARN or name (--ingress-alb)'),
        zone: z.string().describe('hosted zone id or name (--ingress-zone)'),
      })
      .optional()
      .describe('automatic ingress: target group + listener rule *--NAME.REGION.ZONE'),
  })
  .describe('k3sctl cluster file (k3sctl cluster create NAME -f cluster.yaml)');

export type ClusterFile = z.infer<typeof ClusterFileSchema>;

export const GroupFileSchema = z
  .strictObject({
    name: z.string().optional().describe('group name (argument GROUP)'),
    count: count.optional().describe('instance count (--nodes / --control-planes)'),
    instanceType: z.string().optional().describe('instance type (--node-type / --control-plane-type)'),
    ...groupSelectionFields,
    labels: stringMap.optional(),
    taints: z.array(z.string()).optional(),
    spot: z.boolean().optional(),
  })
  .describe('k3sctl group file (k3sctl nodegroup add CLUSTER GROUP -f group.yaml)');

export type GroupFile = z.infer<typeof GroupFileSchema>;

/** How to find the AMI of a group. */
export type AmiSelector = { id: string } | { name: string; owner?: string } | { os: OsAlias };

/** What a group runs, the same before and after its lookups are resolved. */
interface GroupSettings {
  name: string;
  role: GroupRole;
  count: number;
  instanceType: string;
  k3sVersion: string;
  k3sArgs: string[];
  labels: Record<string, string>;
  taints: string[];
  spot: boolean;
  rootVolumeSize: number;
  rootVolumeType: string;
  /** IMDSv2 hop limit of the launch template (HttpPutResponseHopLimit). */
  imdsHopLimit: number;
}

/** A group as asked for, validated; lookups not yet resolved. */
export interface GroupSpec extends GroupSettings {
  /** Undefined: the cluster's subnets. */
  subnets?: SubnetSelector;
  ami: AmiSelector;
}

export interface SubnetSelector {
  ids?: string[];
  filters?: Record<string, string[]>;
}

export interface VpcSelector {
  id?: string;
  name?: string;
  tags?: Record<string, string>;
}

/** `cluster create` input, validated; lookups not yet resolved. */
export interface ClusterSpec {
  name: string;
  region: string;
  vpc: VpcSelector;
  subnets: SubnetSelector;
  k3sVersion: string;
  keyName?: string;
  sshCidrs: string[];
  apiCidrs: string[];
  tlsSans: string[];
  groups: GroupSpec[];
  ingress?: { alb: string; zone: string };
  /**
   * Which defaults the user overrode. On an existing cluster, a default does not replace what the
   * cluster runs (an upgraded k3s version, the AMI an alias resolved to when the group was made).
   */
  explicit?: { k3sVersion: boolean; ami: boolean };
}

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
}

export interface StoredIngress {
  albName: string;
  loadBalancerArn: string;
  listenerArn: string;
  zoneId: string;
  zoneName: string;
  /** The listener rule's host header: `*--NAME.REGION.ZONE`. */
  host: string;
  /** The ALB's downstream security group, which the cluster's instances join. */
  instanceSecurityGroupId?: string;
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
});

export const StoredClusterConfigSchema = z.object({
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
      albName: z.string(),
      loadBalancerArn: z.string(),
      listenerArn: z.string(),
      zoneId: z.string(),
      zoneName: z.string(),
      host: z.string(),
      instanceSecurityGroupId: z.string().optional(),
    })
    .optional(),
});

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
  return { ...parsed.data, groups: (parsed.data.groups ?? []) as StoredGroup[], ...(legacy ? { legacyGroups: true } : {}) } as StoredClusterConfig;
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
  const { groups: _groups, legacyGroups: _legacy, ...settings } = config;
  return JSON.stringify(sortKeys({ ...settings, version: STORED_CONFIG_VERSION }));
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

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
        .map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}

/** Parses a YAML/JSON file against `schema`, naming the offending field on error. */
export function parseFile<T>(schema: z.ZodType<T>, text: string, fileName: string): T {
  const YAML = require('yaml') as typeof import('yaml');
  let raw: unknown;
  try {
    raw = YAML.parse(text);
  } catch (error) {
    throw new UserError(`${fileName} is not valid YAML: ${(error as Error).message}`, undefined, '--file');
  }
  const parsed = schema.safeParse(raw ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue.path.length ? issue.path.join('.') : issue.code === 'unrecognized_keys' ? (issue as { keys?: string[] }).keys?.[0] : undefined;
    throw new UserError(`${fileName}: ${z.prettifyError(parsed.error).replace(/\n/g, '; ')}`, 'see schema/cluster.schema.json', field ?? '--file');
  }
  return parsed.data;
}

/** `KEY=VALUE` strings (repeatable flags) to a map; the flag is named in the error. */
export function parseKeyValues(values: string[] | undefined, field: string): Record<string, string> | undefined {
  if (!values || values.length === 0) return undefined;
  const out: Record<string, string> = {};
  for (const v of values) {
    const i = v.indexOf('=');
    if (i <= 0) throw new UserError(`${field} '${v}' is not KEY=VALUE`, undefined, field);
    out[v.slice(0, i)] = v.slice(i + 1);
  }
  return out;
}

/** `NAME=VALUE` subnet filters (repeatable; values may be comma-separated) to EC2 filter values. */
export function parseFilters(values: string[] | undefined, field: string): Record<string, string[]> | undefined {
  const kv = values?.map((v) => {
    const i = v.indexOf('=');
    if (i <= 0) throw new UserError(`${field} '${v}' is not NAME=VALUE (e.g. availability-zone=us-east-1a)`, undefined, field);
    return [v.slice(0, i), v.slice(i + 1).split(',')] as const;
  });
  if (!kv || kv.length === 0) return undefined;
  const out: Record<string, string[]> = {};
  for (const [k, vs] of kv) out[k] = [...(out[k] ?? []), ...vs];
  return out;
}

function normalizeFilters(filters: Record<string, string | string[]> | undefined): Record<string, string[]> | undefined {
  if (!filters) return undefined;
  return Object.fromEntries(Object.entries(filters).map(([k, v]) => [k, Array.isArray(v) ? v : [v]]));
}

/** Accepts IPv4 and IPv6 CIDR blocks; returns the block or throws naming the field. */
export function validateCidr(cidr: string, field: string): string {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(cidr);
  const ok = m && ((net.isIPv4(m[1]) && Number(m[2]) <= 32) || (net.isIPv6(m[1]) && Number(m[2]) <= 128));
  if (!ok) throw new UserError(`${field} '${cidr}' is not a CIDR block (e.g. 203.0.113.0/24)`, undefined, field);
  return cidr;
}

export function isK3sVersionString(v: string): boolean {
  return isK3sVersion(v);
}

export function validateK3sVersion(v: string, field: string): string {
  if (!isK3sVersionString(v)) {
    throw new UserError(`${field} '${v}' is not a k3s version`, `use a k3s release such as ${DEFAULT_K3S_VERSION}`, field);
  }
  return v;
}

/**
 * True when the kubelet refuses to set label `key` on its own Node (kubelet ValidateKubeletFlags and
 * the NodeRestriction admission plugin): a key whose prefix is or ends with kubernetes.io or k8s.io,
 * unless it is one the kubelet sets itself or lies under kubelet.kubernetes.io / node.kubernetes.io.
 */
export function isKubeletRefusedLabel(key: string): boolean {
  const slash = key.indexOf('/');
  if (slash < 0) return false;
  const prefix = key.slice(0, slash);
  const under = (domain: string) => prefix === domain || prefix.endsWith(`.${domain}`);
  if (!under('kubernetes.io') && !under('k8s.io')) return false;
  if ((KUBELET_ALLOWED_LABELS as readonly string[]).includes(key)) return false;
  return !KUBELET_ALLOWED_LABEL_NAMESPACES.some(under);
}

function validateLabels(labels: Record<string, string>, field: string): Record<string, string> {
  for (const [k, v] of Object.entries(labels)) {
    if (!LABEL_KEY.test(k) || !LABEL_VALUE.test(v)) {
      throw new UserError(`${field} '${k}=${v}' is not a valid Kubernetes label`, undefined, field);
    }
    if (isKubeletRefusedLabel(k)) {
      throw new UserError(
        `${field} '${k}' is in the reserved kubernetes.io / k8s.io namespace: the kubelet refuses to set it on its own node, so k3s would not start`,
        `under kubernetes.io and k8s.io only keys under ${KUBELET_ALLOWED_LABEL_NAMESPACES.map((n) => `${n}/`).join(' and ')} (or a subdomain of them) and ${KUBELET_ALLOWED_LABELS.join(', ')} are allowed; ` +
          `use your own prefix (e.g. example.com/role=worker), or set the label with kubectl label node after the node joined`,
        field,
      );
    }
  }
  return labels;
}

function validateImdsHopLimit(n: number, field: string): number {
  if (!Number.isInteger(n) || n < 1 || n > MAX_IMDS_HOP_LIMIT) {
    throw new UserError(
      `${field} must be a whole number 1-${MAX_IMDS_HOP_LIMIT} (EC2's range), got ${n}`,
      '1 (the default) keeps pods away from the node role; 2 lets pods in pod networking reach IMDS',
      field,
    );
  }
  return n;
}

function validateTaints(taints: string[], field: string): string[] {
  for (const t of taints) {
    if (!TAINT.test(t)) throw new UserError(`${field} '${t}' is not KEY[=VALUE]:NoSchedule|PreferNoSchedule|NoExecute`, undefined, field);
  }
  return taints;
}

function validateCount(n: number, role: GroupRole, field: string): number {
  if (!Number.isInteger(n) || n < 0) throw new UserError(`${field} must be a whole number >= 0, got ${n}`, undefined, field);
  if (role === 'control-plane' && n % 2 === 0) {
    throw new UserError(
      `${field} must be odd (1, 3, 5...) so that etcd keeps a quorum, got ${n}`,
      'use 1 for a test cluster or 3 for high availability',
      field,
    );
  }
  return n;
}

function validateInstanceTypeName(t: string, field: string): string {
  if (!/^[a-z0-9-]+\.[a-z0-9-]+$/.test(t)) throw new UserError(`${field} '${t}' is not an instance type (e.g. t3.medium)`, undefined, field);
  return t;
}

function amiSelector(input: { ami?: string; amiName?: string; amiOwner?: string; os?: string }, fallback: AmiSelector): AmiSelector {
  const given = [input.ami && '--ami', input.amiName && '--ami-name', input.os && '--os'].filter(Boolean);
  if (given.length > 1) throw new UserError(`give only one of ${given.join(', ')}`, undefined, String(given[1]));
  if (input.amiOwner && !input.amiName) throw new UserError('--ami-owner needs --ami-name', undefined, '--ami-owner');
  if (input.ami) {
    if (!/^ami-[0-9a-f]{8,17}$/.test(input.ami)) throw new UserError(`--ami '${input.ami}' is not an AMI id`, undefined, '--ami');
    return { id: input.ami };
  }
  if (input.amiName) {
    try {
      new RegExp(input.amiName);
    } catch {
      throw new UserError(`--ami-name '${input.amiName}' is not a regular expression`, undefined, '--ami-name');
    }
    return { name: input.amiName, owner: input.amiOwner };
  }
  if (input.os) {
    if (!(OS_ALIASES as readonly string[]).includes(input.os)) {
      throw new UserError(`--os '${input.os}' is not one of ${OS_ALIASES.join(', ')}`, undefined, '--os');
    }
    return { os: input.os as OsAlias };
  }
  return fallback;
}

function subnetSelector(ids: string[] | undefined, filters: Record<string, string | string[]> | undefined): SubnetSelector | undefined {
  if (ids?.length && filters && Object.keys(filters).length) {
    throw new UserError('give subnets by --subnet-id or by --subnet-filter, not both', undefined, '--subnet-filter');
  }
  for (const id of ids ?? []) {
    if (!/^subnet-[0-9a-f]{8,17}$/.test(id)) throw new UserError(`--subnet-id '${id}' is not a subnet id`, undefined, '--subnet-id');
  }
  if (ids?.length) return { ids: [...new Set(ids)] };
  const f = normalizeFilters(filters);
  if (f && Object.keys(f).length) return { filters: f };
  return undefined;
}

function undefinedIfEmpty<T>(a: T[] | undefined): T[] | undefined {
  return a && a.length ? a : undefined;
}

/** Flags override the file field by field (repeatable flags replace the file's list when given). */
export function mergeFileAndFlags<T extends object>(file: T | undefined, flags: Partial<T>): T {
  const out = { ...(file ?? {}) } as Record<string, unknown>;
  for (const [k, v] of Object.entries(flags)) {
    if (v === undefined) continue;
    if (Array.isArray(v) && v.length === 0) continue;
    out[k] = v;
  }
  return out as T;
}

/**
 * Which flag or file field an input came from, for error messages (flags by default). Labels from
 * the file are named `labels`, from flags `--label`.
 */
export interface InputFields {
  labels?: string;
}

/** Builds and validates the `cluster create` spec (no AWS calls). */
export function buildClusterSpec(input: ClusterFile & { name: string; region: string }, fields: InputFields = {}): ClusterSpec {
  validateClusterName(input.name, 'name');
  if (!/^[a-z]{2}(-[a-z]+)+-\d$/.test(input.region)) throw new UserError(`region '${input.region}' is not an AWS region`, undefined, '--region');
  const vpcGiven = [input.vpcId && '--vpc-id', input.vpc && '--vpc', input.vpcTags && Object.keys(input.vpcTags).length && '--vpc-tag'].filter(Boolean);
  if (vpcGiven.length > 1) throw new UserError(`give only one of ${vpcGiven.join(', ')}`, undefined, String(vpcGiven[1]));
  if (input.vpcId && !/^vpc-[0-9a-f]{8,17}$/.test(input.vpcId)) throw new UserError(`--vpc-id '${input.vpcId}' is not a VPC id`, undefined, '--vpc-id');
  const k3sVersion = validateK3sVersion(input.k3sVersion ?? DEFAULT_K3S_VERSION, '--k3s-version');
  const ami = amiSelector(input, { os: DEFAULT_OS });
  const rootVolumeSize = input.rootVolumeSize ?? DEFAULT_ROOT_VOLUME_SIZE;
  if (!Number.isInteger(rootVolumeSize) || rootVolumeSize < 8 || rootVolumeSize > 16384) {
    throw new UserError(`--root-volume-size must be 8-16384 GiB, got ${rootVolumeSize}`, undefined, '--root-volume-size');
  }
  const rootVolumeType = input.rootVolumeType ?? DEFAULT_ROOT_VOLUME_TYPE;
  if (!(ROOT_VOLUME_TYPES as readonly string[]).includes(rootVolumeType)) {
    throw new UserError(`--root-volume-type '${rootVolumeType}' is not one of ${ROOT_VOLUME_TYPES.join(', ')}`, undefined, '--root-volume-type');
  }
  const k3sArgs = input.k3sArgs ?? [];
  const imdsHopLimit = validateImdsHopLimit(input.imdsHopLimit ?? DEFAULT_IMDS_HOP_LIMIT, '--imds-hop-limit');
  const common = { ami, k3sVersion, k3sArgs, rootVolumeSize, rootVolumeType, imdsHopLimit };
  const controlPlanes = validateCount(input.controlPlanes ?? DEFAULT_CONTROL_PLANES, 'control-plane', '--control-planes');
  if (controlPlanes === 0) throw new UserError('--control-planes must be at least 1', undefined, '--control-planes');
  const nodes = validateCount(input.nodes ?? DEFAULT_NODES, 'node', '--nodes');
  const groups: GroupSpec[] = [
    {
      name: CONTROL_PLANE_GROUP,
      role: 'control-plane',
      count: controlPlanes,
      instanceType: validateInstanceTypeName(input.controlPlaneType ?? DEFAULT_CONTROL_PLANE_TYPE, '--control-plane-type'),
      labels: validateLabels(input.controlPlaneLabels ?? {}, 'controlPlaneLabels'),
      taints: validateTaints(input.controlPlaneTaints ?? [], 'controlPlaneTaints'),
      spot: false,
      ...common,
    },
    {
      name: NODE_GROUP,
      role: 'node',
      count: nodes,
      instanceType: validateInstanceTypeName(input.nodeType ?? DEFAULT_NODE_TYPE, '--node-type'),
      labels: validateLabels(input.labels ?? {}, fields.labels ?? '--label'),
      taints: validateTaints(input.taints ?? [], '--taint'),
      spot: input.spot ?? false,
      ...common,
    },
  ];
  if (input.keyName !== undefined && !/^[\x20-\x7e]{1,255}$/.test(input.keyName)) throw new UserError(`--key-name '${input.keyName}' is not a key pair name`, undefined, '--key-name');
  for (const san of input.tlsSans ?? []) {
    if (!/^[A-Za-z0-9.:*-]+$/.test(san)) throw new UserError(`--tls-san '${san}' is not a host name or IP address`, undefined, '--tls-san');
  }
  if (input.ingress) {
    if (!input.ingress.alb) throw new UserError('--ingress-alb is required with --ingress-zone', undefined, '--ingress-alb');
    if (!input.ingress.zone) throw new UserError('--ingress-zone is required with --ingress-alb', undefined, '--ingress-zone');
  }
  return {
    name: input.name,
    region: input.region,
    vpc: { id: input.vpcId, name: input.vpc, tags: input.vpcTags && Object.keys(input.vpcTags).length ? input.vpcTags : undefined },
    subnets: subnetSelector(input.subnetIds, input.subnetFilters) ?? {},
    k3sVersion,
    keyName: input.keyName,
    sshCidrs: [...new Set((input.sshCidrs ?? []).map((c) => validateCidr(c, '--ssh-cidr')))],
    apiCidrs: [...new Set((input.apiCidrs ?? []).map((c) => validateCidr(c, '--api-cidr')))],
    tlsSans: [...new Set(input.tlsSans ?? [])],
    groups,
    ingress: input.ingress,
    explicit: { k3sVersion: input.k3sVersion !== undefined, ami: Boolean(input.ami || input.amiName || input.os) },
  };
}

/** Builds and validates a `controlplane add` / `nodegroup add` group spec (no AWS calls). */
export function buildGroupSpec(
  input: GroupFile & { name: string; role: GroupRole },
  defaults: { k3sVersion?: string } = {},
  fields: InputFields = {},
): GroupSpec {
  validateGroupName(input.name, 'group');
  const countField = input.role === 'control-plane' ? '--control-planes' : '--nodes';
  const typeField = input.role === 'control-plane' ? '--control-plane-type' : '--node-type';
  const n = validateCount(input.count ?? (input.role === 'control-plane' ? 1 : DEFAULT_NODES), input.role, countField);
  if (input.role === 'control-plane' && input.spot) throw new UserError('control-plane groups cannot run on spot instances', undefined, '--spot');
  const rootVolumeSize = input.rootVolumeSize ?? DEFAULT_ROOT_VOLUME_SIZE;
  return {
    name: input.name,
    role: input.role,
    count: n,
    instanceType: validateInstanceTypeName(input.instanceType ?? (input.role === 'control-plane' ? DEFAULT_CONTROL_PLANE_TYPE : DEFAULT_NODE_TYPE), typeField),
    subnets: subnetSelector(input.subnetIds, input.subnetFilters),
    ami: amiSelector(input, { os: DEFAULT_OS }),
    // Empty: the cluster's version (filled in by the workflow from the stored configuration).
    k3sVersion: input.k3sVersion ?? defaults.k3sVersion ? validateK3sVersion((input.k3sVersion ?? defaults.k3sVersion)!, '--k3s-version') : '',
    k3sArgs: input.k3sArgs ?? [],
    labels: validateLabels(input.labels ?? {}, fields.labels ?? '--label'),
    taints: validateTaints(input.taints ?? [], '--taint'),
    spot: input.spot ?? false,
    rootVolumeSize,
    rootVolumeType: input.rootVolumeType ?? DEFAULT_ROOT_VOLUME_TYPE,
    imdsHopLimit: validateImdsHopLimit(input.imdsHopLimit ?? DEFAULT_IMDS_HOP_LIMIT, '--imds-hop-limit'),
  };
}

export { undefinedIfEmpty };
