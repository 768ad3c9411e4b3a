// Specs of the shared ingress pieces: the ALB (`alb create`), certificates (`certificate request`) and
// shared endpoints (`endpoint create` / `endpoint weight`): zod schemas of their YAML files (strict),
// defaults, derived names, and every check that needs no AWS call (AWS limits included), so that bad
// input fails with exit 2 before anything is written.
import * as crypto from 'node:crypto';
import * as net from 'node:net';
import { z } from 'zod';
import { UserError } from '../core/errors';
import { validateClusterName, validateServiceName } from './names';
import { parseDuration } from './duration';

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

/**
 * Parses the YAML (or JSON) file of `alb create`, `certificate request` or `endpoint create`. Any
 * unknown field or wrong type is invalid input (exit 2) naming the field and citing the kind's schema.
 */
export function parseIngressFile<K extends IngressFileKind>(
  kind: K,
  text: string,
  fileName: string,
): z.infer<(typeof INGRESS_FILES)[K]['schema']> {
  const { schema, schemaFile } = INGRESS_FILES[kind];
  const YAML = require('yaml') as typeof import('yaml');
  let raw: unknown;
  try {
    raw = YAML.parse(text);
  } catch (error) {
    throw new UserError(
      `${fileName} is not valid YAML: ${(error as Error).message}`,
      `see ${schemaFile}`,
      '--file',
    );
  }
  raw ??= {};
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new UserError(`${fileName} is not a mapping of fields`, `see ${schemaFile}`, '--file');
  }
  const parsed = (schema as z.ZodType).safeParse(raw);
  if (parsed.success) return parsed.data as z.infer<(typeof INGRESS_FILES)[K]['schema']>;
  const problems: { field: string; text: string }[] = [];
  for (const issue of parsed.error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        const field = [...issue.path, key].map(String).join('.');
        problems.push({ field, text: `unknown field '${field}'` });
      }
    } else {
      const field = issue.path.map(String).join('.');
      problems.push({
        field: field || '--file',
        text: field ? `field '${field}': ${issue.message}` : issue.message,
      });
    }
  }
  const unknown = problems.some((p) => p.text.startsWith('unknown field'));
  throw new UserError(
    `${fileName}: ${problems.map((p) => p.text).join('; ')}`,
    unknown
      ? `the fields of a ${kind} file are ${Object.keys(schema.shape).join(', ')} (see ${schemaFile})`
      : `see ${schemaFile}`,
    problems[0]?.field ?? '--file',
  );
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

/** `alpha=3 bravo=1` -> { alpha: 3, bravo: 1 }; each value a whole number 0-999. */
export function parseWeights(items: string[], field = '--weight'): Record<string, number> {
  const out: Record<string, number> = {};
  for (const item of items) {
    const m = /^([^=\s]+)=(-?\d+)$/.exec(item.trim());
    if (!m) throw new UserError(`'${item}' is not CLUSTER=WEIGHT`, 'e.g. alpha=3', field);
    const w = Number(m[2]);
    if (w < 0 || w > MAX_WEIGHT)
      throw new UserError(
        `weight ${w} of ${m[1]} is out of range: weights are 0-${MAX_WEIGHT}`,
        undefined,
        field,
      );
    if (m[1] in out) throw new UserError(`cluster ${m[1]} is weighted twice`, undefined, field);
    out[m[1]] = w;
  }
  return out;
}

/** Weights valid for a forward action: 0-999 each, at least one above 0, at most 5 groups. */
export function validateWeights(weights: Record<string, number>, field = '--weight'): void {
  const entries = Object.entries(weights);
  if (entries.length > MAX_FORWARD_TARGET_GROUPS) {
    throw new UserError(
      `${entries.length} clusters in one weighted forward; an ALB rule forwards to at most ${MAX_FORWARD_TARGET_GROUPS} target groups`,
      'use --mode nodeport (one service target group for all clusters), or fewer clusters',
      field,
    );
  }
  for (const [c, w] of entries) {
    if (!Number.isInteger(w) || w < 0 || w > MAX_WEIGHT)
      throw new UserError(
        `weight ${w} of ${c} is out of range: weights are 0-${MAX_WEIGHT}`,
        undefined,
        field,
      );
  }
  if (entries.length > 0 && !entries.some(([, w]) => w > 0)) {
    throw new UserError('every weight is 0: at least one cluster must receive traffic', undefined, field);
  }
}

export function validateCidr(cidr: string, field: string): void {
  const m = /^(.+)\/(\d{1,3})$/.exec(cidr);
  const version = m ? net.isIP(m[1]) : 0;
  if (!m || version === 0 || Number(m[2]) > (version === 4 ? 32 : 128)) {
    throw new UserError(`'${cidr}' is not a CIDR block`, 'e.g. 203.0.113.0/24 or ::/0', field);
  }
}

export function validateDomainName(domain: string, field: string): void {
  const d = domain.replace(/\.$/, '');
  const label = /^(\*|[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)$/i;
  const labels = d.split('.');
  if (
    d.length > 253 ||
    labels.length < 2 ||
    !labels.every((l, i) => label.test(l) && (l !== '*' || i === 0))
  ) {
    throw new UserError(
      `'${domain}' is not a domain name`,
      'e.g. example.com or *.us-east-1.example.com',
      field,
    );
  }
}

/** Builds and checks an endpoint spec (file merged with flags before): exit-2 errors only. */
export function buildEndpointSpec(input: {
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
}): EndpointSpec {
  validateServiceName(input.service, 'SERVICE');
  if (!input.zone)
    throw new UserError('missing --zone', 'give the hosted zone that holds SERVICE.ZONE', '--zone');
  if (!input.alb) throw new UserError('missing --alb', 'give the shared ALB by name or ARN', '--alb');
  const clusters = [...new Set(input.clusters ?? [])];
  if (clusters.length === 0)
    throw new UserError('no --cluster given', 'name at least one cluster behind the endpoint', '--cluster');
  for (const c of clusters) validateClusterName(c, '--cluster');
  const mode = input.mode ?? 'ingress';
  const weights: Record<string, number> = {};
  for (const c of Object.keys(input.weights ?? {})) {
    if (!clusters.includes(c))
      throw new UserError(
        `--weight names cluster ${c}, which is not behind the endpoint`,
        `add --cluster ${c}`,
        '--weight',
      );
  }
  for (const c of clusters) weights[c] = input.weights?.[c] ?? 1;
  if (mode === 'ingress') validateWeights(weights);
  let port: number | undefined;
  let healthPath: string | undefined;
  if (mode === 'nodeport') {
    if (input.port === undefined)
      throw new UserError('--mode nodeport needs --port (the NodePort of the service)', undefined, '--port');
    if (!Number.isInteger(input.port) || input.port < NODEPORT_MIN || input.port > NODEPORT_MAX) {
      throw new UserError(
        `--port ${input.port} is outside the NodePort range ${NODEPORT_MIN}-${NODEPORT_MAX}`,
        undefined,
        '--port',
      );
    }
    port = input.port;
    healthPath = input.healthPath ?? '/';
    if (!healthPath.startsWith('/'))
      throw new UserError(`--health-path '${healthPath}' must start with '/'`, undefined, '--health-path');
  } else if (input.port !== undefined) {
    throw new UserError('--port applies to --mode nodeport only', undefined, '--port');
  }
  let stickinessSeconds: number | undefined;
  if (input.stickiness) {
    stickinessSeconds = Math.round(parseDuration(input.stickiness, '--stickiness') / 1000);
    if (stickinessSeconds < 1 || stickinessSeconds > MAX_STICKINESS_SECONDS) {
      throw new UserError(
        `--stickiness ${input.stickiness} is out of range (1s to 7d)`,
        undefined,
        '--stickiness',
      );
    }
  }
  const sourceIps = input.sourceIps ?? [];
  for (const c of sourceIps) validateCidr(c, '--source-ip');
  if (sourceIps.length > 4)
    throw new UserError(
      `${sourceIps.length} --source-ip values; an ALB rule condition takes at most 4 besides the host`,
      undefined,
      '--source-ip',
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
): AlbSpec {
  if (
    !/^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?$/.test(input.name) ||
    input.name.length > 32 ||
    input.name.startsWith('internal-')
  ) {
    throw new UserError(
      `ALB name '${input.name}' is not valid: at most 32 letters, digits and '-', not starting or ending with '-'`,
      undefined,
      'NAME',
    );
  }
  if (input.certificate && input.certificateDomain) {
    throw new UserError('give --certificate or --certificate-domain, not both', undefined, '--certificate');
  }
  if (input.certificate && !input.certificate.startsWith('arn:')) {
    throw new UserError(
      `--certificate '${input.certificate}' is not an ARN`,
      'use --certificate-domain to find a certificate by its domain',
      '--certificate',
    );
  }
  const ingressCidrs = input.ingressCidrs?.length ? input.ingressCidrs : DEFAULT_INGRESS_CIDRS;
  for (const c of ingressCidrs) validateCidr(c, '--ingress-cidr');
  if (input.certificateDomain) validateDomainName(input.certificateDomain, '--certificate-domain');
  return { ...input, internal: Boolean(input.internal), ingressCidrs };
}

export function buildCertificateSpec(input: {
  domain: string;
  sans?: string[];
  zone?: string;
  validationZones?: Record<string, string>;
}): CertificateSpec {
  validateDomainName(input.domain, 'DOMAIN');
  for (const s of input.sans ?? []) validateDomainName(s, '--san');
  const validationZones: Record<string, string> = {};
  for (const [d, z] of Object.entries(input.validationZones ?? {}))
    validationZones[d.toLowerCase().replace(/\.$/, '')] = z;
  return {
    domain: input.domain.toLowerCase().replace(/\.$/, ''),
    sans: (input.sans ?? []).map((s) => s.toLowerCase().replace(/\.$/, '')),
    zone: input.zone,
    validationZones,
  };
}

/** `a.example.com=example.com` pairs -> map. */
export function parseValidationZones(items: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of items) {
    const m = /^([^=\s]+)=(\S+)$/.exec(item.trim());
    if (!m)
      throw new UserError(
        `'${item}' is not DOMAIN=ZONE`,
        'e.g. --validation-zone www.example.org=example.org',
        '--validation-zone',
      );
    out[m[1]] = m[2];
  }
  return out;
}

/** `availability-zone=us-east-1a,us-east-1b` -> { 'availability-zone': [...] }. */
export function parseFilters(items: string[], field: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const item of items) {
    const m = /^([^=\s]+)=(.+)$/.exec(item.trim());
    if (!m)
      throw new UserError(`'${item}' is not NAME=VALUE[,VALUE]`, 'e.g. availability-zone=us-east-1a', field);
    out[m[1]] = [...(out[m[1]] ?? []), ...m[2].split(',')];
  }
  return out;
}
