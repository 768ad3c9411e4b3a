// Specs of the shared ingress pieces: the ALB (`alb create`), certificates (`certificate request`) and
// shared endpoints (`endpoint create` / `endpoint weight`): zod schemas of their YAML files (strict),
// defaults, derived names, and every check that needs no AWS call (AWS limits included), so that bad
// input fails with exit 2 before anything is written.
import * as crypto from 'node:crypto';
import { z } from 'zod';
import { UserError } from '../core/errors';
import { validateClusterName, validateServiceName } from './names';
import { parseDuration } from './duration';
import {
  isDomainName,
  validateAlbRef,
  validateCertificateArn,
  validateCidr,
  validateEc2Id,
  validateHostedZoneRef,
} from './formats';
import { flagNames, parseSpecFile, type FieldNames, type SpecFile } from './specFile';

/** ELBv2: at most 5 target groups per forward action, weights 0-999. */
export const MAX_FORWARD_TARGET_GROUPS = 5;
export const MAX_WEIGHT = 999;
export const DEFAULT_INGRESS_CIDRS = ['0.0.0.0/0', '::/0'];
export const NODEPORT_MIN = 30000;
export const NODEPORT_MAX = 32767;
export const MAX_STICKINESS_SECONDS = 7 * 24 * 3600;

export const AlbFileSchema = z
  .strictObject({
    name: z.string().optional().describe('ALB name (argument NAME)'),
    region: z.string().optional().describe('AWS region (--region)'),
    internal: z.boolean().optional().describe('internal scheme (--internal)'),
    certificate: z.string().optional().describe('certificate ARN (--certificate)'),
    certificateDomain: z
      .string()
      .optional()
      .describe('domain of an existing certificate (--certificate-domain)'),
    ingressCidrs: z.array(z.string()).optional().describe('CIDRs allowed to 80/443 (--ingress-cidr)'),
    vpcId: z.string().optional().describe('VPC id (--vpc-id; default: the default VPC)'),
    vpc: z.string().optional().describe('VPC by Name tag (--vpc)'),
    subnetIds: z.array(z.string()).optional().describe('subnets by id (--subnet-id)'),
    subnetFilters: z
      .record(z.string(), z.union([z.string(), z.array(z.string())]))
      .optional()
      .describe('subnets by EC2 filter name -> value(s) (--subnet-filter NAME=VALUE)'),
  })
  .describe('k3sctl alb file (k3sctl alb create NAME -f alb.yaml)');

export const CertificateFileSchema = z
  .strictObject({
    domain: z.string().optional().describe('primary domain (argument DOMAIN)'),
    region: z.string().optional().describe('AWS region (--region)'),
    sans: z.array(z.string()).optional().describe('subject alternative names (--san)'),
    zone: z.string().optional().describe('hosted zone for the validation records (--zone)'),
    validationZones: z
      .record(z.string(), z.string())
      .optional()
      .describe('per-domain validation zone (--validation-zone DOMAIN=ZONE)'),
  })
  .describe('k3sctl certificate file (k3sctl certificate request DOMAIN -f certificate.yaml)');

export const EndpointFileSchema = z
  .strictObject({
    service: z.string().optional().describe('service name (argument SERVICE)'),
    region: z.string().optional().describe('AWS region (--region)'),
    zone: z.string().optional().describe('hosted zone id or name (--zone)'),
    alb: z.string().optional().describe('ALB name or ARN (--alb)'),
    clusters: z.array(z.string()).optional().describe('clusters behind the endpoint (--cluster)'),
    weights: z
      .record(z.string(), z.number().int().min(0).max(MAX_WEIGHT))
      .optional()
      .describe(`cluster -> weight 0-${MAX_WEIGHT} (--weight CLUSTER=N)`),
    mode: z.enum(['ingress', 'nodeport']).optional().describe('ingress (default) or nodeport (--mode)'),
    port: z
      .number()
      .int()
      .min(NODEPORT_MIN)
      .max(NODEPORT_MAX)
      .optional()
      .describe('NodePort of the service (--port, nodeport mode)'),
    healthPath: z.string().optional().describe('health check path (--health-path, nodeport mode)'),
    stickiness: z.string().optional().describe('target group stickiness duration, e.g. 1h (--stickiness)'),
    sourceIps: z.array(z.string()).optional().describe('CIDRs allowed (--source-ip)'),
    dns: z.boolean().optional().describe('create the latency alias record (default true; --no-dns)'),
  })
  .describe('k3sctl endpoint file (k3sctl endpoint create SERVICE -f endpoint.yaml)');

/** The YAML file of each create command, and the JSON Schema published for it (generated from the zod schema). */
export const INGRESS_FILES = {
  alb: { schema: AlbFileSchema, schemaFile: 'schema/alb.schema.json' },
  certificate: { schema: CertificateFileSchema, schemaFile: 'schema/certificate.schema.json' },
  endpoint: { schema: EndpointFileSchema, schemaFile: 'schema/endpoint.schema.json' },
} as const;

export type IngressFileKind = keyof typeof INGRESS_FILES;
export type AlbFile = z.infer<typeof AlbFileSchema>;
export type CertificateFile = z.infer<typeof CertificateFileSchema>;
export type EndpointFile = z.infer<typeof EndpointFileSchema>;

/** The flag (or argument) of each field of the ingress files; fields without one are named as in the file. */
export const INGRESS_FLAGS: Record<IngressFileKind, Record<string, string | undefined>> = {
  alb: {
    name: 'NAME',
    region: '--region',
    internal: '--internal',
    certificate: '--certificate',
    certificateDomain: '--certificate-domain',
    ingressCidrs: '--ingress-cidr',
    vpcId: '--vpc-id',
    vpc: '--vpc',
    subnetIds: '--subnet-id',
    subnetFilters: '--subnet-filter',
  },
  certificate: {
    domain: 'DOMAIN',
    region: '--region',
    sans: '--san',
    zone: '--zone',
    validationZones: '--validation-zone',
  },
  endpoint: {
    service: 'SERVICE',
    region: '--region',
    zone: '--zone',
    alb: '--alb',
    clusters: '--cluster',
    weights: '--weight',
    mode: '--mode',
    port: '--port',
    healthPath: '--health-path',
    stickiness: '--stickiness',
    sourceIps: '--source-ip',
    dns: '--dns',
  },
};

/**
 * Parses the YAML (or JSON) file of `alb create`, `certificate request` or `endpoint create`, keeping
 * the line of every field. Any unknown field or wrong type is invalid input (exit 2) reported as
 * `FILE:LINE field`, citing the kind's schema.
 */
export function parseIngressSpecFile<K extends IngressFileKind>(
  kind: K,
  text: string,
  fileName: string,
  flag = '--file',
): SpecFile<z.infer<(typeof INGRESS_FILES)[K]['schema']>> {
  const { schema, schemaFile } = INGRESS_FILES[kind];
  return parseSpecFile(schema as unknown as z.ZodType<z.infer<(typeof INGRESS_FILES)[K]['schema']>>, text, fileName, { kind, schemaFile, flag });
}

/** The data of an ingress file (parseIngressSpecFile without the lines). */
export function parseIngressFile<K extends IngressFileKind>(
  kind: K,
  text: string,
  fileName: string,
): z.infer<(typeof INGRESS_FILES)[K]['schema']> {
  return parseIngressSpecFile(kind, text, fileName).data;
}

function namesOf(fields: FieldNames | Record<string, string>, flags: Record<string, string | undefined>): FieldNames {
  return typeof fields === 'function' ? fields : flagNames(flags, fields);
}

export type EndpointMode = 'ingress' | 'nodeport';

export interface EndpointSpec {
  service: string;
  zone: string;
  alb: string;
  clusters: string[];
  weights: Record<string, number>;
  mode: EndpointMode;
  port?: number;
  healthPath?: string;
  stickinessSeconds?: number;
  sourceIps: string[];
  dns: boolean;
}

export interface AlbSpec {
  name: string;
  internal: boolean;
  certificate?: string;
  certificateDomain?: string;
  ingressCidrs: string[];
  vpcId?: string;
  vpc?: string;
  subnetIds?: string[];
  subnetFilters?: Record<string, string[]>;
}

export interface CertificateSpec {
  domain: string;
  sans: string[];
  zone?: string;
  validationZones: Record<string, string>;
}

/** `SERVICE.ZONE`, without a trailing dot. */
export function endpointHost(service: string, zone: string): string {
  return `${service}.${zone.replace(/\.$/, '')}`.toLowerCase();
}

/** The nodeport endpoint's target group: `k3s-svc-SERVICE`, shortened with a hash to fit 32 characters. */
export function serviceTargetGroupName(service: string): string {
  const plain = `k3s-svc-${service}`;
  if (plain.length <= 32) return plain;
  const hash = crypto.createHash('sha256').update(service).digest('hex').slice(0, 6);
  return `k3s-svc-${service.slice(0, 17).replace(/-+$/, '')}-${hash}`;
}

/** `alpha=3 bravo=1` -> { alpha: 3, bravo: 1 }; each value a whole number 0-999 and each cluster a valid name. */
export function parseWeights(items: string[], field = '--weight'): Record<string, number> {
  const out: Record<string, number> = {};
  for (const item of items) {
    const m = /^([^=\s]+)=(-?\d+)$/.exec(item.trim());
    if (!m) throw new UserError(`${field} '${item}' is not CLUSTER=WEIGHT`, 'e.g. alpha=3', field);
    validateClusterName(m[1], field);
    const w = Number(m[2]);
    if (w < 0 || w > MAX_WEIGHT)
      throw new UserError(`${field} ${item}: weight ${w} of ${m[1]} is out of range: weights are 0-${MAX_WEIGHT}`, undefined, field);
    if (m[1] in out) throw new UserError(`${field}: cluster ${m[1]} is weighted twice`, undefined, field);
    out[m[1]] = w;
  }
  return out;
}

/** Weights valid for a forward action: 0-999 each, at least one above 0, at most 5 groups. */
export function validateWeights(weights: Record<string, number>, field = '--weight'): void {
  const entries = Object.entries(weights);
  if (entries.length > MAX_FORWARD_TARGET_GROUPS) {
    throw new UserError(
      `${field}: ${entries.length} clusters in one weighted forward; an ALB rule forwards to at most ${MAX_FORWARD_TARGET_GROUPS} target groups`,
      'use --mode nodeport (one service target group for all clusters), or fewer clusters',
      field,
    );
  }
  for (const [c, w] of entries) {
    if (!Number.isInteger(w) || w < 0 || w > MAX_WEIGHT)
      throw new UserError(`${field}: weight ${w} of ${c} is out of range: weights are 0-${MAX_WEIGHT}`, undefined, field);
  }
  if (entries.length > 0 && !entries.some(([, w]) => w > 0)) {
    throw new UserError(`${field}: every weight is 0: at least one cluster must receive traffic`, undefined, field);
  }
}

export function validateDomainName(domain: string, field: string): void {
  if (!isDomainName(domain)) {
    throw new UserError(`${field} '${domain}' is not a domain name`, 'e.g. example.com or *.us-east-1.example.com', field);
  }
}

/** Builds and checks an endpoint spec (file merged with flags before): exit-2 errors only. */
export function buildEndpointSpec(
  input: {
    service: string;
    zone?: string;
    alb?: string;
    clusters?: string[];
    weights?: Record<string, number>;
    mode?: EndpointMode;
    port?: number;
    healthPath?: string;
    stickiness?: string;
    sourceIps?: string[];
    dns?: boolean;
  },
  fields: FieldNames | Record<string, string> = {},
  region?: string,
): EndpointSpec {
  const f = namesOf(fields, INGRESS_FLAGS.endpoint);
  validateServiceName(input.service, f('service'));
  if (!input.zone) throw new UserError('missing --zone', 'give the hosted zone that holds SERVICE.ZONE', '--zone');
  validateHostedZoneRef(input.zone, f('zone'));
  if (!input.alb) throw new UserError('missing --alb', 'give the shared ALB by name or ARN', '--alb');
  validateAlbRef(input.alb, f('alb'), region);
  const given = input.clusters ?? [];
  if (given.length === 0) throw new UserError('no --cluster given', 'name at least one cluster behind the endpoint', '--cluster');
  given.forEach((c, i) => validateClusterName(c, f('clusters', i)));
  const clusters = [...new Set(given)];
  const mode = input.mode ?? 'ingress';
  if (mode !== 'ingress' && mode !== 'nodeport') throw new UserError(`${f('mode')} '${String(mode)}' is not ingress or nodeport`, undefined, f('mode'));
  const weights: Record<string, number> = {};
  for (const c of Object.keys(input.weights ?? {})) {
    if (!clusters.includes(c))
      throw new UserError(`${f('weights', c)} names cluster ${c}, which is not behind the endpoint`, `add --cluster ${c}`, f('weights', c));
  }
  for (const c of clusters) weights[c] = input.weights?.[c] ?? 1;
  if (mode === 'ingress') validateWeights(weights, f('weights'));
  let port: number | undefined;
  let healthPath: string | undefined;
  if (mode === 'nodeport') {
    if (input.port === undefined)
      throw new UserError(`${f('mode')} nodeport needs --port (the NodePort of the service)`, undefined, '--port');
    if (!Number.isInteger(input.port) || input.port < NODEPORT_MIN || input.port > NODEPORT_MAX) {
      throw new UserError(`${f('port')} ${input.port} is outside the NodePort range ${NODEPORT_MIN}-${NODEPORT_MAX}`, undefined, f('port'));
    }
    port = input.port;
    healthPath = input.healthPath ?? '/';
    // ELBv2 HealthCheckPath: 1-1024 characters, starting with '/'.
    if (!/^\/[\x21-\x7e]{0,1023}$/.test(healthPath))
      throw new UserError(`${f('healthPath')} '${healthPath}' must be a path starting with '/' (at most 1024 printable characters)`, undefined, f('healthPath'));
  } else {
    if (input.port !== undefined) throw new UserError(`${f('port')} applies to --mode nodeport only`, undefined, f('port'));
    if (input.healthPath !== undefined) throw new UserError(`${f('healthPath')} applies to --mode nodeport only`, undefined, f('healthPath'));
  }
  let stickinessSeconds: number | undefined;
  if (input.stickiness !== undefined) {
    stickinessSeconds = Math.round(parseDuration(input.stickiness, f('stickiness')) / 1000);
    if (stickinessSeconds < 1 || stickinessSeconds > MAX_STICKINESS_SECONDS) {
      throw new UserError(`${f('stickiness')} ${input.stickiness} is out of range (1s to 7d)`, undefined, f('stickiness'));
    }
  }
  const sourceIps = input.sourceIps ?? [];
  sourceIps.forEach((c, i) => validateCidr(c, f('sourceIps', i)));
  if (sourceIps.length > 4)
    throw new UserError(
      `${f('sourceIps')}: ${sourceIps.length} values; an ALB rule condition takes at most 4 besides the host`,
      undefined,
      f('sourceIps'),
    );
  return {
    service: input.service,
    zone: input.zone,
    alb: input.alb,
    clusters,
    weights,
    mode,
    port,
    healthPath,
    stickinessSeconds,
    sourceIps,
    dns: input.dns ?? true,
  };
}

export function buildAlbSpec(
  input: Omit<AlbSpec, 'ingressCidrs' | 'internal'> & { ingressCidrs?: string[]; internal?: boolean },
  fields: FieldNames | Record<string, string> = {},
  region?: string,
): AlbSpec {
  const f = namesOf(fields, INGRESS_FLAGS.alb);
  if (
    !/^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?$/.test(input.name) ||
    input.name.length > 32 ||
    input.name.startsWith('internal-')
  ) {
    throw new UserError(
      `${f('name')} '${input.name}' is not a valid ALB name: at most 32 letters, digits and '-', not starting or ending with '-' nor starting with internal-`,
      undefined,
      f('name'),
    );
  }
  if (input.certificate && input.certificateDomain) {
    throw new UserError(`give ${f('certificate')} or ${f('certificateDomain')}, not both`, undefined, f('certificate'));
  }
  if (input.certificate) validateCertificateArn(input.certificate, f('certificate'), region);
  const ingressCidrs = input.ingressCidrs?.length ? input.ingressCidrs : DEFAULT_INGRESS_CIDRS;
  ingressCidrs.forEach((c, i) => validateCidr(c, f('ingressCidrs', i)));
  if (input.certificateDomain) validateDomainName(input.certificateDomain, f('certificateDomain'));
  if (input.vpcId && input.vpc) throw new UserError(`give only one of ${f('vpcId')}, ${f('vpc')}`, undefined, f('vpc'));
  if (input.vpcId) validateEc2Id(input.vpcId, 'vpc', f('vpcId'));
  if (input.subnetIds?.length && input.subnetFilters && Object.keys(input.subnetFilters).length)
    throw new UserError(`give subnets by ${f('subnetIds')} or by ${f('subnetFilters')}, not both`, undefined, f('subnetFilters'));
  (input.subnetIds ?? []).forEach((id, i) => validateEc2Id(id, 'subnet', f('subnetIds', i)));
  for (const [name, values] of Object.entries(input.subnetFilters ?? {})) {
    if (!/^[A-Za-z0-9:._/-]+$/.test(name) || values.some((v) => v === ''))
      throw new UserError(`${f('subnetFilters', name)} '${name}=${values.join(',')}' is not an EC2 filter NAME=VALUE`, 'e.g. availability-zone=us-east-1a', f('subnetFilters', name));
  }
  return { ...input, internal: Boolean(input.internal), ingressCidrs };
}

export function buildCertificateSpec(
  input: {
    domain: string;
    sans?: string[];
    zone?: string;
    validationZones?: Record<string, string>;
  },
  fields: FieldNames | Record<string, string> = {},
): CertificateSpec {
  const f = namesOf(fields, INGRESS_FLAGS.certificate);
  validateDomainName(input.domain, f('domain'));
  (input.sans ?? []).forEach((s, i) => validateDomainName(s, f('sans', i)));
  if (input.zone !== undefined) validateHostedZoneRef(input.zone, f('zone'));
  const domain = input.domain.toLowerCase().replace(/\.$/, '');
  const sans = (input.sans ?? []).map((s) => s.toLowerCase().replace(/\.$/, ''));
  const validationZones: Record<string, string> = {};
  for (const [d, z] of Object.entries(input.validationZones ?? {})) {
    const name = d.toLowerCase().replace(/\.$/, '');
    if (name !== domain && !sans.includes(name))
      throw new UserError(
        `${f('validationZones', d)} names ${d}, which is not a name of the certificate (${[domain, ...sans].join(', ')})`,
        'give DOMAIN=ZONE for the domain or one of its --san names',
        f('validationZones', d),
      );
    validateHostedZoneRef(z, f('validationZones', d));
    validationZones[name] = z;
  }
  return { domain, sans, zone: input.zone, validationZones };
}

/** `a.example.com=example.com` pairs -> map. */
export function parseValidationZones(items: string[], field = '--validation-zone'): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of items) {
    const m = /^([^=\s]+)=(\S+)$/.exec(item.trim());
    if (!m) throw new UserError(`${field} '${item}' is not DOMAIN=ZONE`, 'e.g. --validation-zone www.example.org=example.org', field);
    out[m[1]] = m[2];
  }
  return out;
}
