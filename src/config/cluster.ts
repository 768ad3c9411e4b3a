// The cluster file (`-f cluster.yaml`) and the validated specs built from it and from flags: the zod
// schemas (strict: unknown fields are errors), the defaults, and every check that needs no AWS call.
// Lookups (VPC, subnets, AMI, instance types) happen later (model/resolve.ts); the result of both is
// the cluster model of src/model, stored as JSON in SSM.
import { z } from 'zod';
import { UserError } from '../core/errors';
import { MAX_INGRESS_ALBS } from '../aws/names';
import { validateClusterName, validateGroupName } from './names';
import {
  validateAlbRef,
  validateAmiOwner,
  validateCidr,
  validateEc2Id,
  validateHostedZoneRef,
  validateInstanceType,
  validateRegion,
  validateSecurityGroupRef,
  validateTargetGroupRef,
} from './formats';
import { flagNames, parseSpecFile, type FieldNames, type SpecFile } from './specFile';
import { isK3sVersion, isLabelKey, isLabelValue, isTlsSan, k3sArgProblem, taintProblem } from './k3s';

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
/** Launch template CreditSpecification.CpuCredits: what burstable instances do past their baseline. */
export const CPU_CREDITS = ['standard', 'unlimited'] as const;
/** Instance families that take a CPU credit specification (EC2 burstable performance instances). */
export const BURSTABLE_FAMILIES = ['t2', 't3', 't3a', 't4g'] as const;
/**
 * Deregistration delay of the ingress target group, in seconds: what the seed modules use, instead of
 * ELBv2's 300 s default (k3s' ingress closes connections well before; every recycle batch waits for it).
 */
export const DEFAULT_DEREGISTRATION_DELAY = 60;
/** ELBv2 deregistration_delay.timeout_seconds: 0-3600. */
export const MAX_DEREGISTRATION_DELAY = 3600;
/**
 * ALB: at most 5 condition values per rule in total; the ingress rule's host header takes one, so at
 * most 4 source CIDRs.
 */
export const MAX_INGRESS_SOURCE_CIDRS = 4;
/**
 * Security groups per network interface: 5, EC2's default quota (VPC "Security groups per network
 * interface"). The launch template already gives each instance the cluster's security group and, with
 * the automatic ingress, the ALB's downstream group: the rest is what a group's extra ones may use.
 */
export const MAX_SECURITY_GROUPS_PER_INTERFACE = 5;
const TAINT = /^[A-Za-z0-9]([A-Za-z0-9._/-]*[A-Za-z0-9])?(=[A-Za-z0-9._-]*)?:(NoSchedule|PreferNoSchedule|NoExecute)$/;

export type OsAlias = (typeof OS_ALIASES)[number];
export type CpuCredits = (typeof CPU_CREDITS)[number];
export type GroupRole = 'control-plane' | 'node';

export const stringMap = z.record(z.string(), z.string());
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
    controlPlaneCpuCredits: z
      .enum(CPU_CREDITS)
      .optional()
      .describe('CPU credits of the control planes, burstable types only (t2/t3/t3a/t4g): standard or unlimited (--control-plane-cpu-credits)'),
    controlPlaneSecurityGroups: z
      .array(z.string())
      .optional()
      .describe('extra security groups of the control planes, by id (sg-...) or name (GroupName or Name tag) in the cluster VPC (--control-plane-security-group)'),
    controlPlaneTargetGroups: z
      .array(z.string())
      .optional()
      .describe('extra target groups (ARN or name; instance target type, cluster VPC) the control planes are registered in (--control-plane-target-group)'),
    nodes: count.optional().describe('node count (--nodes)'),
    nodeType: z.string().optional().describe('node instance type (--node-type)'),
    nodeCpuCredits: z
      .enum(CPU_CREDITS)
      .optional()
      .describe('CPU credits of the nodes, burstable types only (t2/t3/t3a/t4g): standard or unlimited (--node-cpu-credits)'),
    nodeSecurityGroups: z
      .array(z.string())
      .optional()
      .describe('extra security groups of the nodes, by id (sg-...) or name (GroupName or Name tag) in the cluster VPC (--node-security-group)'),
    nodeTargetGroups: z
      .array(z.string())
      .optional()
      .describe('extra target groups (ARN or name; instance target type, cluster VPC) the nodes are registered in (--node-target-group)'),
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
        alb: z
          .union([z.string(), z.array(z.string())])
          .describe(
            `ALB ARN or name, or a list of up to ${MAX_INGRESS_ALBS} (--ingress-alb, repeatable): the cluster gets a target group and a rule on each`,
          ),
        zone: z.string().describe('hosted zone id or name (--ingress-zone)'),
        deregistrationDelay: z
          .number()
          .int()
          .min(0)
          .max(MAX_DEREGISTRATION_DELAY)
          .optional()
          .describe(`deregistration delay of the ingress target group in seconds, 0-${MAX_DEREGISTRATION_DELAY} (--ingress-deregistration-delay; default ${DEFAULT_DEREGISTRATION_DELAY})`),
        sourceCidrs: z
          .array(z.string())
          .optional()
          .describe(`client CIDRs (IPv4 or IPv6) the ingress rule accepts, at most ${MAX_INGRESS_SOURCE_CIDRS} (--ingress-source-cidr; default: any)`),
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
    cpuCredits: z
      .enum(CPU_CREDITS)
      .optional()
      .describe('CPU credits, burstable types only (t2/t3/t3a/t4g): standard or unlimited (--node-cpu-credits / --control-plane-cpu-credits)'),
    securityGroups: z
      .array(z.string())
      .optional()
      .describe('extra security groups, by id (sg-...) or name (GroupName or Name tag) in the cluster VPC (--node-security-group / --control-plane-security-group)'),
    targetGroups: z
      .array(z.string())
      .optional()
      .describe('extra target groups (ARN or name; instance target type, cluster VPC) the instances are registered in (--node-target-group / --control-plane-target-group)'),
    ...groupSelectionFields,
    labels: stringMap.optional(),
    taints: z.array(z.string()).optional(),
    spot: z.boolean().optional(),
  })
  .describe('k3sctl group file (k3sctl nodegroup add CLUSTER GROUP -f group.yaml)');

export type GroupFile = z.infer<typeof GroupFileSchema>;

/** How to find the AMI of a group. */
export type AmiSelector = { id: string } | { name: string; owner?: string } | { os: OsAlias };

/** What a group runs, the same before and after its lookups are resolved (model/cluster.ts StoredGroup too). */
export interface GroupSettings {
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
  /** Launch template CreditSpecification; undefined: EC2's default of the family (t2 standard, others unlimited). */
  cpuCredits?: CpuCredits;
}

/** A group as asked for, validated; lookups not yet resolved. */
export interface GroupSpec extends GroupSettings {
  /** Undefined: the cluster's subnets. */
  subnets?: SubnetSelector;
  ami: AmiSelector;
  /** Extra security groups by id or name (distinct; absent: none). */
  securityGroups?: string[];
  /** Extra target groups by ARN or name (distinct; absent: none). */
  targetGroups?: string[];
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

/** The automatic ingress as asked for (lookups not yet resolved). */
export interface IngressSpec {
  /** ALB names or ARNs, distinct, in the order given: each gets its own target group and rule. */
  albs: string[];
  zone: string;
  /** deregistration_delay.timeout_seconds of the ingress target group. */
  deregistrationDelaySeconds: number;
  /** `source-ip` condition values of the ingress rule; empty: any client. */
  sourceCidrs: string[];
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
  ingress?: IngressSpec;
  /**
   * Which defaults the user overrode. On an existing cluster, a default does not replace what the
   * cluster runs (an upgraded k3s version, the AMI an alias resolved to when the group was made).
   */
  explicit?: { k3sVersion: boolean; ami: boolean };
}

/** The YAML files of `cluster create` and of `nodegroup add` / `controlplane add`, with their published JSON Schemas. */
export const CLUSTER_FILES = {
  cluster: { schema: ClusterFileSchema, schemaFile: 'schema/cluster.schema.json' },
  group: { schema: GroupFileSchema, schemaFile: 'schema/group.schema.json' },
} as const;

/** Parses a cluster or group file (YAML or JSON) against its schema, keeping the line of every field for messages. */
export function parseClusterSpecFile<K extends keyof typeof CLUSTER_FILES>(
  kind: K,
  text: string,
  fileName: string,
  flag = '--file',
): SpecFile<z.infer<(typeof CLUSTER_FILES)[K]['schema']>> {
  const { schema, schemaFile } = CLUSTER_FILES[kind];
  return parseSpecFile(schema as unknown as z.ZodType<z.infer<(typeof CLUSTER_FILES)[K]['schema']>>, text, fileName, { kind, schemaFile, flag });
}

/** Parses a YAML/JSON file against `schema` (the cluster or the group file); a bad field is reported as `FILE:LINE field`. */
export function parseFile<T>(schema: z.ZodType<T>, text: string, fileName: string): T {
  const kind = (schema as unknown) === GroupFileSchema ? 'group' : 'cluster';
  return parseSpecFile(schema, text, fileName, { kind, schemaFile: CLUSTER_FILES[kind].schemaFile }).data;
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
    if (i <= 0 || i === v.length - 1) throw new UserError(`${field} '${v}' is not NAME=VALUE (e.g. availability-zone=us-east-1a)`, undefined, field);
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

export function validateK3sVersion(v: string, field: string): string {
  if (!isK3sVersion(v)) {
    throw new UserError(`${field} '${v}' is not a k3s version (vMAJOR.MINOR.PATCH+k3sN)`, `use a k3s release such as ${DEFAULT_K3S_VERSION}`, field);
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

/** The flag (or argument) of each field of the cluster file; fields without one are named as in the file. */
export const CLUSTER_FLAGS: Record<string, string | undefined> = {
  name: 'NAME',
  region: '--region',
  vpcId: '--vpc-id',
  vpc: '--vpc',
  vpcTags: '--vpc-tag',
  subnetIds: '--subnet-id',
  subnetFilters: '--subnet-filter',
  ami: '--ami',
  amiName: '--ami-name',
  amiOwner: '--ami-owner',
  os: '--os',
  k3sVersion: '--k3s-version',
  k3sArgs: '--k3s-arg',
  rootVolumeSize: '--root-volume-size',
  rootVolumeType: '--root-volume-type',
  imdsHopLimit: '--imds-hop-limit',
  controlPlanes: '--control-planes',
  controlPlaneType: '--control-plane-type',
  controlPlaneCpuCredits: '--control-plane-cpu-credits',
  nodes: '--nodes',
  nodeType: '--node-type',
  nodeCpuCredits: '--node-cpu-credits',
  controlPlaneSecurityGroups: '--control-plane-security-group',
  controlPlaneTargetGroups: '--control-plane-target-group',
  nodeSecurityGroups: '--node-security-group',
  nodeTargetGroups: '--node-target-group',
  keyName: '--key-name',
  sshCidrs: '--ssh-cidr',
  apiCidrs: '--api-cidr',
  tlsSans: '--tls-san',
  labels: '--label',
  taints: '--taint',
  spot: '--spot',
  'ingress.alb': '--ingress-alb',
  'ingress.zone': '--ingress-zone',
  'ingress.deregistrationDelay': '--ingress-deregistration-delay',
  'ingress.sourceCidrs': '--ingress-source-cidr',
};

/** The flag (or argument) of each field of a group file, for a group of `role`. */
export function groupFlags(role: GroupRole): Record<string, string | undefined> {
  const { subnetIds, subnetFilters, ami, amiName, amiOwner, os, k3sVersion, k3sArgs, rootVolumeSize, rootVolumeType, imdsHopLimit, labels, taints, spot } = CLUSTER_FLAGS;
  return {
    name: 'GROUP',
    count: role === 'control-plane' ? '--control-planes' : '--nodes',
    instanceType: role === 'control-plane' ? '--control-plane-type' : '--node-type',
    cpuCredits: role === 'control-plane' ? '--control-plane-cpu-credits' : '--node-cpu-credits',
    securityGroups: role === 'control-plane' ? '--control-plane-security-group' : '--node-security-group',
    targetGroups: role === 'control-plane' ? '--control-plane-target-group' : '--node-target-group',
    ...{ subnetIds, subnetFilters, ami, amiName, amiOwner, os, k3sVersion, k3sArgs, rootVolumeSize, rootVolumeType, imdsHopLimit, labels, taints },
    // `controlplane add` has no --spot: a control-plane group file's `spot` is named as in the file.
    spot: role === 'control-plane' ? undefined : spot,
  };
}

/**
 * How a spec names its input fields: a FieldNames function (flags, or `FILE:LINE field` for values
 * from a file; see config/specFile.ts), or names that replace the flags of some fields.
 */
export type InputFields = FieldNames | Record<string, string>;

function namesOf(fields: InputFields, flags: Record<string, string | undefined>): FieldNames {
  return typeof fields === 'function' ? fields : flagNames(flags, fields);
}

function validateLabels(labels: Record<string, string>, f: FieldNames, key: string): Record<string, string> {
  for (const [k, v] of Object.entries(labels)) {
    const field = f(key, k);
    if (!isLabelKey(k) || !isLabelValue(v)) {
      throw new UserError(
        `${field} '${k}=${v}' is not a valid Kubernetes label`,
        'a key is [DNS-prefix/]name; name and value are at most 63 of A-Z a-z 0-9 - _ . (alphanumeric at both ends)',
        field,
      );
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

/** True for the instance families EC2 accepts a CPU credit specification for (t2, t3, t3a, t4g). */
export function isBurstableType(instanceType: string): boolean {
  return (BURSTABLE_FAMILIES as readonly string[]).includes(instanceType.split('.')[0]);
}

/**
 * The CPU credit option of a group: standard or unlimited, and only for a burstable type (EC2 refuses
 * a CreditSpecification for any other at launch, so the group would never get an instance).
 */
function validateCpuCredits(value: string | undefined, instanceType: string, field: string, typeField: string): CpuCredits | undefined {
  if (value === undefined) return undefined;
  if (!(CPU_CREDITS as readonly string[]).includes(value)) {
    throw new UserError(`${field} '${value}' is not one of ${CPU_CREDITS.join(', ')}`, undefined, field);
  }
  if (!isBurstableType(instanceType)) {
    throw new UserError(
      `${field} applies to burstable instance types only (${BURSTABLE_FAMILIES.join(', ')} families); ${typeField} is ${instanceType}, which has no CPU credits`,
      `drop ${field}, or pick a burstable type such as t3.medium`,
      field,
    );
  }
  return value as CpuCredits;
}

/**
 * Refuses (UserError naming `field`) more extra security groups than fit on a network interface beside
 * k3sctl's own: the cluster's, and with the automatic ingress the downstream group of each of its ALBs
 * (`ingressGroups`). Checked on the input, on the resolved ids, and when the tasks are built.
 */
export function checkExtraSecurityGroupCount(field: string, given: number, ingressGroups: number): void {
  const allowed = MAX_SECURITY_GROUPS_PER_INTERFACE - 1 - ingressGroups;
  if (given <= allowed) return;
  const own = ingressGroups
    ? `the cluster's security group and ${ingressGroups === 1 ? "the ALB's downstream group" : `the downstream groups of ${ingressGroups} ALBs`}`
    : "the cluster's security group";
  throw new UserError(
    `${field}: ${given} extra security groups, but at most ${allowed} are allowed: a network interface takes at most ${MAX_SECURITY_GROUPS_PER_INTERFACE} ` +
      `(EC2's default quota) and k3sctl adds ${own}`,
    allowed > 0 ? `give at most ${allowed} (or merge their rules into fewer groups)` : 'use fewer ingress ALBs, or merge the rules into fewer groups',
    field,
  );
}

/**
 * A group's extra security groups and target groups, format-checked (no AWS call) and without
 * duplicates. `ingressGroups`: how many ALB downstream groups the instances get at least (unknown to
 * `nodegroup add` here: 0; the count is checked again once the ALBs and the configuration are known).
 */
function extraGroups(
  input: { securityGroups?: string[]; targetGroups?: string[] },
  keys: { securityGroups: string; targetGroups: string },
  f: FieldNames,
  region: string | undefined,
  ingressGroups: number,
): Pick<GroupSpec, 'securityGroups' | 'targetGroups'> {
  const securityGroups = [...new Set((input.securityGroups ?? []).map((v, i) => validateSecurityGroupRef(v, f(keys.securityGroups, i))))];
  const targetGroups = [...new Set((input.targetGroups ?? []).map((v, i) => validateTargetGroupRef(v, f(keys.targetGroups, i), region)))];
  checkExtraSecurityGroupCount(f(keys.securityGroups), securityGroups.length, ingressGroups);
  return { ...(securityGroups.length ? { securityGroups } : {}), ...(targetGroups.length ? { targetGroups } : {}) };
}

/** The automatic ingress of `cluster create`: ALB and zone, deregistration delay, source CIDRs. */
function validateIngress(
  input: NonNullable<ClusterFile['ingress']>,
  f: FieldNames,
  region: string,
): IngressSpec {
  const given = typeof input.alb === 'string' ? [input.alb] : (input.alb ?? []);
  if (!given.length || given.some((a) => !a)) {
    throw new UserError(
      `${f('ingress.alb')} is required with ${f('ingress.zone')}`,
      undefined,
      f('ingress.alb'),
    );
  }
  if (!input.zone)
    throw new UserError(
      `${f('ingress.zone')} is required with ${f('ingress.alb')}`,
      undefined,
      f('ingress.zone'),
    );
  const albs = [
    ...new Set(
      given.map((a, i) =>
        validateAlbRef(a, typeof input.alb === 'string' ? f('ingress.alb') : f('ingress.alb', i), region),
      ),
    ),
  ];
  if (albs.length > MAX_INGRESS_ALBS) {
    throw new UserError(
      `${f('ingress.alb')}: ${albs.length} ALBs, but a cluster's ingress takes at most ${MAX_INGRESS_ALBS} (one target group each, and every ALB's downstream security group joins the instances, which take at most 5)`,
      `give at most ${MAX_INGRESS_ALBS} ALBs`,
      f('ingress.alb'),
    );
  }
  validateHostedZoneRef(input.zone, f('ingress.zone'));
  const delay = input.deregistrationDelay ?? DEFAULT_DEREGISTRATION_DELAY;
  if (!Number.isInteger(delay) || delay < 0 || delay > MAX_DEREGISTRATION_DELAY) {
    throw new UserError(
      `${f('ingress.deregistrationDelay')} must be a whole number of seconds 0-${MAX_DEREGISTRATION_DELAY} (ELBv2's range), got ${delay}`,
      `${DEFAULT_DEREGISTRATION_DELAY} (the default) lets in-flight requests finish; 0 drops them at once`,
      f('ingress.deregistrationDelay'),
    );
  }
  const sourceCidrs = [
    ...new Set((input.sourceCidrs ?? []).map((c, i) => validateCidr(c, f('ingress.sourceCidrs', i)))),
  ];
  if (sourceCidrs.length > MAX_INGRESS_SOURCE_CIDRS) {
    throw new UserError(
      `${f('ingress.sourceCidrs')}: ${sourceCidrs.length} CIDRs, but the ingress rule takes at most ${MAX_INGRESS_SOURCE_CIDRS}: ` +
        `an ALB rule has at most 5 condition values and its host header uses one`,
      `give at most ${MAX_INGRESS_SOURCE_CIDRS} CIDRs (merge neighbouring ranges into a shorter prefix)`,
      f('ingress.sourceCidrs'),
    );
  }
  return { albs, zone: input.zone, deregistrationDelaySeconds: delay, sourceCidrs };
}

function validateTaints(taints: string[], f: FieldNames, key: string): string[] {
  taints.forEach((t, i) => {
    const field = f(key, i);
    const problem = TAINT.test(t) ? taintProblem(t) : `'${t}' is not KEY[=VALUE]:NoSchedule|PreferNoSchedule|NoExecute`;
    if (problem) throw new UserError(`${field} ${problem}`, 'e.g. dedicated=gpu:NoSchedule', field);
  });
  return taints;
}

function validateK3sArgs(args: string[], f: FieldNames): string[] {
  args.forEach((arg, i) => {
    const problem = k3sArgProblem(arg);
    if (problem) throw new UserError(`${f('k3sArgs', i)} ${problem}`, undefined, f('k3sArgs', i));
  });
  return args;
}

/** A whole number >= 0; `odd` for control planes (which also rules out 0). */
function validateCount(n: number, field: string, odd = false): number {
  if (!Number.isInteger(n) || n < 0) throw new UserError(`${field} must be a whole number >= 0, got ${n}`, undefined, field);
  if (odd && n % 2 === 0) {
    throw new UserError(
      `${field} must be odd (1, 3, 5...) so that etcd keeps a quorum, got ${n}`,
      'use 1 for a test cluster or 3 for high availability',
      field,
    );
  }
  return n;
}

function validateRootVolume(input: { rootVolumeSize?: number; rootVolumeType?: string }, f: FieldNames): { rootVolumeSize: number; rootVolumeType: string } {
  const rootVolumeSize = input.rootVolumeSize ?? DEFAULT_ROOT_VOLUME_SIZE;
  if (!Number.isInteger(rootVolumeSize) || rootVolumeSize < 8 || rootVolumeSize > 16384) {
    throw new UserError(`${f('rootVolumeSize')} must be 8-16384 GiB, got ${rootVolumeSize}`, undefined, f('rootVolumeSize'));
  }
  const rootVolumeType = input.rootVolumeType ?? DEFAULT_ROOT_VOLUME_TYPE;
  if (!(ROOT_VOLUME_TYPES as readonly string[]).includes(rootVolumeType)) {
    throw new UserError(`${f('rootVolumeType')} '${rootVolumeType}' is not one of ${ROOT_VOLUME_TYPES.join(', ')}`, undefined, f('rootVolumeType'));
  }
  return { rootVolumeSize, rootVolumeType };
}

function amiSelector(input: { ami?: string; amiName?: string; amiOwner?: string; os?: string }, fallback: AmiSelector, f: FieldNames): AmiSelector {
  const given = [input.ami && f('ami'), input.amiName && f('amiName'), input.os && f('os')].filter(Boolean);
  if (given.length > 1) throw new UserError(`give only one of ${given.join(', ')}`, undefined, String(given[1]));
  if (input.amiOwner && !input.amiName) throw new UserError(`${f('amiOwner')} needs --ami-name`, undefined, f('amiOwner'));
  if (input.ami) return { id: validateEc2Id(input.ami, 'ami', f('ami')) };
  if (input.amiName) {
    try {
      new RegExp(input.amiName);
    } catch {
      throw new UserError(`${f('amiName')} '${input.amiName}' is not a regular expression`, undefined, f('amiName'));
    }
    if (input.amiOwner) validateAmiOwner(input.amiOwner, f('amiOwner'));
    return { name: input.amiName, owner: input.amiOwner };
  }
  if (input.os) {
    if (!(OS_ALIASES as readonly string[]).includes(input.os)) {
      throw new UserError(`${f('os')} '${input.os}' is not one of ${OS_ALIASES.join(', ')}`, undefined, f('os'));
    }
    return { os: input.os as OsAlias };
  }
  return fallback;
}

function subnetSelector(ids: string[] | undefined, filters: Record<string, string | string[]> | undefined, f: FieldNames): SubnetSelector | undefined {
  if (ids?.length && filters && Object.keys(filters).length) {
    throw new UserError(`give subnets by ${f('subnetIds')} or by ${f('subnetFilters')}, not both`, undefined, f('subnetFilters'));
  }
  (ids ?? []).forEach((id, i) => validateEc2Id(id, 'subnet', f('subnetIds', i)));
  if (ids?.length) return { ids: [...new Set(ids)] };
  const normalized = normalizeFilters(filters);
  for (const [name, values] of Object.entries(normalized ?? {})) {
    if (!/^[A-Za-z0-9:._/-]+$/.test(name) || values.some((v) => v === '')) {
      throw new UserError(`${f('subnetFilters', name)} '${name}=${values.join(',')}' is not an EC2 filter NAME=VALUE`, 'e.g. availability-zone=us-east-1a', f('subnetFilters', name));
    }
  }
  if (normalized && Object.keys(normalized).length) return { filters: normalized };
  return undefined;
}

/** The settings every group validates the same way, in the cluster file and in a group file. */
function groupCommon(
  input: { ami?: string; amiName?: string; amiOwner?: string; os?: string; k3sArgs?: string[]; rootVolumeSize?: number; rootVolumeType?: string; imdsHopLimit?: number },
  f: FieldNames,
): Pick<GroupSpec, 'ami' | 'k3sArgs' | 'rootVolumeSize' | 'rootVolumeType' | 'imdsHopLimit'> {
  return {
    ami: amiSelector(input, { os: DEFAULT_OS }, f),
    k3sArgs: validateK3sArgs(input.k3sArgs ?? [], f),
    ...validateRootVolume(input, f),
    imdsHopLimit: validateImdsHopLimit(input.imdsHopLimit ?? DEFAULT_IMDS_HOP_LIMIT, f('imdsHopLimit')),
  };
}

/**
 * Builds and validates the `cluster create` spec (no AWS calls). `fields` names the inputs in
 * messages (by default their flags).
 */
export function buildClusterSpec(input: ClusterFile & { name: string; region: string }, fields: InputFields = {}): ClusterSpec {
  const f = namesOf(fields, CLUSTER_FLAGS);
  validateClusterName(input.name, f('name'));
  validateRegion(input.region, f('region'));
  const vpcGiven = [input.vpcId && f('vpcId'), input.vpc && f('vpc'), input.vpcTags && Object.keys(input.vpcTags).length && f('vpcTags')].filter(Boolean);
  if (vpcGiven.length > 1) throw new UserError(`give only one of ${vpcGiven.join(', ')}`, undefined, String(vpcGiven[1]));
  if (input.vpcId) validateEc2Id(input.vpcId, 'vpc', f('vpcId'));
  const k3sVersion = validateK3sVersion(input.k3sVersion ?? DEFAULT_K3S_VERSION, f('k3sVersion'));
  const common = { k3sVersion, ...groupCommon(input, f) };
  const controlPlanes = validateCount(input.controlPlanes ?? DEFAULT_CONTROL_PLANES, f('controlPlanes'), true);
  const nodes = validateCount(input.nodes ?? DEFAULT_NODES, f('nodes'));
  const controlPlaneType = validateInstanceType(input.controlPlaneType ?? DEFAULT_CONTROL_PLANE_TYPE, f('controlPlaneType'));
  const nodeType = validateInstanceType(input.nodeType ?? DEFAULT_NODE_TYPE, f('nodeType'));
  const controlPlaneCpuCredits = validateCpuCredits(input.controlPlaneCpuCredits, controlPlaneType, f('controlPlaneCpuCredits'), f('controlPlaneType'));
  const nodeCpuCredits = validateCpuCredits(input.nodeCpuCredits, nodeType, f('nodeCpuCredits'), f('nodeType'));
  // At least one ALB downstream group with the ingress (ALBs may share one): checked with the real
  // count once the ALBs are resolved.
  const withIngress = input.ingress ? 1 : 0;
  const controlPlaneExtras = extraGroups(
    { securityGroups: input.controlPlaneSecurityGroups, targetGroups: input.controlPlaneTargetGroups },
    { securityGroups: 'controlPlaneSecurityGroups', targetGroups: 'controlPlaneTargetGroups' },
    f,
    input.region,
    withIngress,
  );
  const nodeExtras = extraGroups(
    { securityGroups: input.nodeSecurityGroups, targetGroups: input.nodeTargetGroups },
    { securityGroups: 'nodeSecurityGroups', targetGroups: 'nodeTargetGroups' },
    f,
    input.region,
    withIngress,
  );
  const groups: GroupSpec[] = [
    {
      name: CONTROL_PLANE_GROUP,
      role: 'control-plane',
      count: controlPlanes,
      instanceType: controlPlaneType,
      labels: validateLabels(input.controlPlaneLabels ?? {}, f, 'controlPlaneLabels'),
      taints: validateTaints(input.controlPlaneTaints ?? [], f, 'controlPlaneTaints'),
      spot: false,
      ...common,
      ...(controlPlaneCpuCredits ? { cpuCredits: controlPlaneCpuCredits } : {}),
      ...controlPlaneExtras,
    },
    {
      name: NODE_GROUP,
      role: 'node',
      count: nodes,
      instanceType: nodeType,
      labels: validateLabels(input.labels ?? {}, f, 'labels'),
      taints: validateTaints(input.taints ?? [], f, 'taints'),
      spot: input.spot ?? false,
      ...common,
      ...(nodeCpuCredits ? { cpuCredits: nodeCpuCredits } : {}),
      ...nodeExtras,
    },
  ];
  if (input.keyName !== undefined && !/^[\x20-\x7e]{1,255}$/.test(input.keyName)) {
    throw new UserError(`${f('keyName')} '${input.keyName}' is not a key pair name (1-255 printable ASCII characters)`, undefined, f('keyName'));
  }
  (input.tlsSans ?? []).forEach((san, i) => {
    if (!isTlsSan(san)) throw new UserError(`${f('tlsSans', i)} '${san}' is neither a DNS name nor an IP address`, undefined, f('tlsSans', i));
  });
  const ingress = input.ingress ? validateIngress(input.ingress, f, input.region) : undefined;
  return {
    name: input.name,
    region: input.region,
    vpc: { id: input.vpcId, name: input.vpc, tags: input.vpcTags && Object.keys(input.vpcTags).length ? input.vpcTags : undefined },
    subnets: subnetSelector(input.subnetIds, input.subnetFilters, f) ?? {},
    k3sVersion,
    keyName: input.keyName,
    sshCidrs: [...new Set((input.sshCidrs ?? []).map((c, i) => validateCidr(c, f('sshCidrs', i))))],
    apiCidrs: [...new Set((input.apiCidrs ?? []).map((c, i) => validateCidr(c, f('apiCidrs', i))))],
    tlsSans: [...new Set(input.tlsSans ?? [])],
    groups,
    ingress,
    explicit: { k3sVersion: input.k3sVersion !== undefined, ami: Boolean(input.ami || input.amiName || input.os) },
  };
}

/** Builds and validates a `controlplane add` / `nodegroup add` group spec (no AWS calls). */
export function buildGroupSpec(
  input: GroupFile & { name: string; role: GroupRole },
  defaults: { k3sVersion?: string; region?: string } = {},
  fields: InputFields = {},
): GroupSpec {
  const f = namesOf(fields, groupFlags(input.role));
  validateGroupName(input.name, f('name'));
  const n = validateCount(input.count ?? (input.role === 'control-plane' ? 1 : DEFAULT_NODES), f('count'), input.role === 'control-plane');
  if (input.role === 'control-plane' && input.spot) throw new UserError(`${f('spot')}: control-plane groups cannot run on spot instances`, undefined, f('spot'));
  const k3sVersion = input.k3sVersion ?? defaults.k3sVersion;
  const instanceType = validateInstanceType(input.instanceType ?? (input.role === 'control-plane' ? DEFAULT_CONTROL_PLANE_TYPE : DEFAULT_NODE_TYPE), f('instanceType'));
  const cpuCredits = validateCpuCredits(input.cpuCredits, instanceType, f('cpuCredits'), f('instanceType'));
  return {
    name: input.name,
    role: input.role,
    count: n,
    instanceType,
    subnets: subnetSelector(input.subnetIds, input.subnetFilters, f),
    // Empty: the cluster's version (filled in by the workflow from the stored configuration).
    k3sVersion: k3sVersion ? validateK3sVersion(k3sVersion, f('k3sVersion')) : '',
    labels: validateLabels(input.labels ?? {}, f, 'labels'),
    taints: validateTaints(input.taints ?? [], f, 'taints'),
    spot: input.spot ?? false,
    ...groupCommon(input, f),
    ...(cpuCredits ? { cpuCredits } : {}),
    ...extraGroups(input, { securityGroups: 'securityGroups', targetGroups: 'targetGroups' }, f, defaults.region, 0),
  };
}
