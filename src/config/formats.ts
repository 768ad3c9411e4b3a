// Formats of the values a user types whose shape AWS (or k3s) documents, checked here so that a
// malformed one is invalid input (exit 2) naming the field before any AWS call, instead of an AWS
// error mid-run: CIDR blocks in their canonical form (IPv4 and IPv6, no host bits), regions, ARNs
// (ACM and IAM server certificates, application load balancers, target groups), EC2 instance types,
// AMI, instance, security-group and hosted-zone ids, security group and target group names, AMI owners,
// endpoint URLs. Every check names `field` in its message.
import ipaddr from 'ipaddr.js';
import { arnRegion } from '../aws/arns';
import { UserError } from '../core/errors';

// ---- CIDR blocks ----------------------------------------------------------------------------------

/** The canonical form of an IPv4 or IPv6 CIDR block (host bits cleared, RFC 5952 text), or undefined when `text` is none. */
export function canonicalCidr(text: string): { canonical: string; hostBits: boolean } | undefined {
  const m = /^([^/\s]+)\/(\d{1,3})$/.exec(text);
  if (!m) return undefined;
  const prefix = Number(m[2]);
  // IPv4 only as four decimal parts (ipaddr.js would also read 10.1 or octal 010.0.0.1, as inet_aton does).
  const family = ipaddr.IPv4.isValidFourPartDecimal(m[1]) ? ipaddr.IPv4 : ipaddr.IPv6.isValid(m[1]) ? ipaddr.IPv6 : undefined;
  if (!family || prefix > (family === ipaddr.IPv4 ? 32 : 128)) return undefined;
  // ipaddr.js prints IPv6 addresses in their RFC 5952 form.
  const network = family.networkAddressFromCIDR(text).toString();
  return { canonical: `${network}/${prefix}`, hostBits: network !== ipaddr.parse(m[1]).toString() };
}

/**
 * A CIDR block exactly as AWS stores it (AuthorizeSecurityGroupIngress and listener rule conditions
 * refuse host bits): anything else is invalid input showing the canonical block.
 */
export function validateCidr(cidr: string, field: string): string {
  const c = canonicalCidr(cidr.trim());
  if (!c) throw new UserError(`${field} '${cidr}' is not a CIDR block`, 'e.g. 203.0.113.0/24 or 2001:db8::/32', field);
  if (c.canonical === cidr) return cidr;
  throw new UserError(
    c.hostBits
      ? `${field} ${cidr} has host bits set; did you mean ${c.canonical}?`
      : `${field} ${cidr} is not in canonical form; did you mean ${c.canonical}?`,
    `give ${c.canonical}`,
    field,
  );
}

// ---- names and ids ---------------------------------------------------------------------------------

/** AWS region names: us-east-1, us-gov-west-1, cn-north-1, eu-isoe-west-1. */
export const REGION_PATTERN = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}$/;

export function isRegion(region: string): boolean {
  return REGION_PATTERN.test(region);
}

export function validateRegion(region: string, field: string): string {
  if (!isRegion(region)) throw new UserError(`${field} '${region}' is not an AWS region`, 'e.g. us-east-1 or eu-west-1', field);
  return region;
}

/**
 * EC2 instance types are FAMILY.SIZE: a family with its generation (t3, m7i-flex, u-6tb1, mac2-m2pro;
 * the digit may follow the first '-') and a size (nano ... 48xlarge, metal, metal-24xl).
 */
const INSTANCE_TYPE = /^(?=[a-z-]*\d)[a-z][a-z0-9]*(-[a-z0-9]+)*\.(nano|micro|small|medium|large|\d*xlarge|metal(-\d+xl)?)$/;

export function validateInstanceType(type: string, field: string): string {
  if (!INSTANCE_TYPE.test(type)) {
    throw new UserError(`${field} '${type}' is not an EC2 instance type (FAMILY.SIZE, e.g. t3.medium or m7g.2xlarge)`, undefined, field);
  }
  return type;
}

/** EC2 resource ids: a prefix and 8 or 17 hexadecimal digits. */
export function validateEc2Id(id: string, prefix: 'ami' | 'i' | 'vpc' | 'subnet', field: string): string {
  if (!new RegExp(`^${prefix}-([0-9a-f]{8}|[0-9a-f]{17})$`).test(id)) {
    const what = { ami: 'an AMI', i: 'an instance', vpc: 'a VPC', subnet: 'a subnet' }[prefix];
    throw new UserError(`${field} '${id}' is not ${what} id (${prefix}- and 8 or 17 hexadecimal digits)`, undefined, field);
  }
  return id;
}

/**
 * A security group by id (`sg-` and 8 or 17 hexadecimal digits) or by name: its GroupName (which EC2
 * refuses to start with `sg-`) or its Name tag (at most 256 characters).
 */
export function validateSecurityGroupRef(value: string, field: string): string {
  if (value.startsWith('sg-')) {
    if (!/^sg-([0-9a-f]{8}|[0-9a-f]{17})$/.test(value)) {
      throw new UserError(
        `${field} '${value}' is not a security group id (sg- and 8 or 17 hexadecimal digits)`,
        'give the id as EC2 shows it (sg-0123456789abcdef0), or the group\'s name',
        field,
      );
    }
    return value;
  }
  // eslint-disable-next-line no-control-regex
  if (value.trim() === '' || value.length > 256 || /[\u0000-\u001f\u007f]/.test(value)) {
    throw new UserError(`${field} '${value}' is neither a security group id (sg-...) nor a security group name`, 'e.g. sg-0123456789abcdef0 or monitoring', field);
  }
  return value;
}

/** DescribeImages Owners: an account id, self, amazon, aws-marketplace or aws-backup-vault. */
export function validateAmiOwner(owner: string, field: string): string {
  if (!/^(\d{12}|self|amazon|aws-marketplace|aws-backup-vault)$/.test(owner)) {
    throw new UserError(`${field} '${owner}' is not an AMI owner`, 'give a 12-digit account id, self, amazon or aws-marketplace', field);
  }
  return owner;
}

/** A domain name (example.com, *.example.com; `minLabels` 1 for hosted zones). */
export function isDomainName(domain: string, minLabels = 2): boolean {
  const d = domain.replace(/\.$/, '');
  const label = /^(\*|[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)$/i;
  const labels = d.split('.');
  return d.length <= 253 && labels.length >= minLabels && labels.every((l, i) => label.test(l) && (l !== '*' || i === 0));
}

/** A Route 53 hosted zone by id (Z..., /hostedzone/Z...) or by name. */
export function validateHostedZoneRef(zone: string, field: string): string {
  const id = zone.replace(/^\/hostedzone\//, '');
  if (/^Z[A-Z0-9]{4,32}$/.test(id)) return zone;
  // A zone name has no wildcard label (isDomainName allows a leading `*`); `/hostedzone/...` is no name.
  if (zone.includes('*') || !isDomainName(zone, 1)) {
    throw new UserError(`${field} '${zone}' is neither a hosted zone id (Z...) nor a zone name`, 'e.g. example.com or Z0123456789ABCDEFGHIJ', field);
  }
  return zone;
}

// ---- ARNs --------------------------------------------------------------------------------------------

const PARTITION = '(aws|aws-cn|aws-us-gov|aws-iso|aws-iso-[a-z]|aws-eusc)';
const ACCOUNT = '\\d{12}';
const REGION = '([a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\\d{1,2})';
const ACM_CERTIFICATE_ARN = new RegExp(`^arn:${PARTITION}:acm:${REGION}:${ACCOUNT}:certificate/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`);
const IAM_SERVER_CERTIFICATE_ARN = new RegExp(`^arn:${PARTITION}:iam::${ACCOUNT}:server-certificate/[\\w+=,.@/-]{1,512}$`);
const ALB_ARN = new RegExp(`^arn:${PARTITION}:elasticloadbalancing:${REGION}:${ACCOUNT}:loadbalancer/app/[A-Za-z0-9-]{1,32}/[0-9a-f]{1,32}$`);
const ALB_NAME = /^[A-Za-z0-9]([A-Za-z0-9-]{0,30}[A-Za-z0-9])?$/;
const TARGET_GROUP_ARN = new RegExp(`^arn:${PARTITION}:elasticloadbalancing:${REGION}:${ACCOUNT}:targetgroup/[A-Za-z0-9-]{1,32}/[0-9a-f]{1,32}$`);

/** What kind of ARN `arn` looks like, for messages (`a target group`, `an ACM certificate`); empty when it names no service. */
function arnKind(arn: string): string {
  const [, , service, , , resource] = arn.split(':');
  if (service === 'elasticloadbalancing' && resource) {
    if (resource.startsWith('targetgroup/')) return 'a target group';
    if (resource.startsWith('loadbalancer/net/')) return 'a network load balancer';
    if (resource.startsWith('loadbalancer/gwy/')) return 'a gateway load balancer';
    if (resource.startsWith('listener')) return 'a listener';
  }
  if (service === 'acm') return 'an ACM certificate';
  return service ? `a ${service} resource` : '';
}

function checkArnRegion(arn: string, region: string | undefined, field: string): void {
  const r = arnRegion(arn);
  if (region && r && r !== region) {
    throw new UserError(`${field} ${arn} is in ${r}, but this run is in ${region}`, `give --region ${r}, or a resource of ${region}`, field);
  }
}

/**
 * The certificate of an HTTPS listener: an ACM certificate ARN (of the run's region) or an IAM
 * server certificate ARN.
 */
export function validateCertificateArn(arn: string, field: string, region?: string): string {
  if (IAM_SERVER_CERTIFICATE_ARN.test(arn)) return arn;
  if (!ACM_CERTIFICATE_ARN.test(arn)) {
    const kind = arn.startsWith('arn:') ? arnKind(arn) : '';
    throw new UserError(
      `${field} '${arn}' is not a certificate ARN${kind && kind !== 'an ACM certificate' ? ` (it names ${kind})` : ''}`,
      'an ACM certificate ARN is arn:aws:acm:REGION:ACCOUNT:certificate/UUID; use --certificate-domain to find one by its domain',
      field,
    );
  }
  checkArnRegion(arn, region, field);
  return arn;
}

/** An application load balancer by name (1-32 letters, digits, '-') or by ARN (of the run's region). */
export function validateAlbRef(value: string, field: string, region?: string): string {
  if (value.startsWith('arn:')) {
    if (!ALB_ARN.test(value)) {
      const kind = arnKind(value);
      throw new UserError(
        `${field} '${value}' is not an application load balancer ARN${kind ? ` (it names ${kind})` : ''}`,
        'give the ALB name, or an ARN arn:aws:elasticloadbalancing:REGION:ACCOUNT:loadbalancer/app/NAME/ID',
        field,
      );
    }
    checkArnRegion(value, region, field);
    return value;
  }
  if (!ALB_NAME.test(value) || value.startsWith('internal-')) {
    throw new UserError(
      `${field} '${value}' is not an ALB name or ARN`,
      "a name is at most 32 letters, digits and '-', not starting or ending with '-' nor starting with internal-",
      field,
    );
  }
  return value;
}

/** A target group by name (1-32 letters, digits, '-') or by ARN (of the run's region). */
export function validateTargetGroupRef(value: string, field: string, region?: string): string {
  if (value.startsWith('arn:')) {
    if (!TARGET_GROUP_ARN.test(value)) {
      const kind = arnKind(value);
      throw new UserError(
        `${field} '${value}' is not a target group ARN${kind && kind !== 'a target group' ? ` (it names ${kind})` : ''}`,
        'give the target group name, or an ARN arn:aws:elasticloadbalancing:REGION:ACCOUNT:targetgroup/NAME/ID',
        field,
      );
    }
    checkArnRegion(value, region, field);
    return value;
  }
  if (!ALB_NAME.test(value)) {
    throw new UserError(
      `${field} '${value}' is not a target group name or ARN`,
      "a name is at most 32 letters, digits and '-', not starting or ending with '-'",
      field,
    );
  }
  return value;
}

/** An ACM certificate by ARN (of the run's region) or by its domain name. */
export function validateCertificateRef(value: string, field: string, region?: string): string {
  if (value.startsWith('arn:')) return validateCertificateArn(value, field, region);
  if (!isDomainName(value)) {
    throw new UserError(`${field} '${value}' is neither an ACM certificate ARN nor a domain name`, 'e.g. example.com', field);
  }
  return value;
}

/** `--endpoint-url`: an http(s) URL. */
export function validateEndpointUrl(url: string, field: string): string {
  const parsed = URL.canParse(url) ? new URL(url) : undefined;
  if (!parsed || !['http:', 'https:'].includes(parsed.protocol) || !parsed.hostname) {
    throw new UserError(`${field} '${url}' is not an http(s) URL`, 'e.g. http://localhost:4566', field);
  }
  return url;
}
