// Simulated Elastic Load Balancing v2 (application load balancers): load balancers, target groups and
// target health, listeners, listener rules and tags. Auto Scaling registers its instances through
// `registerTargetsInternal` / `deregisterTargetsInternal`; ACM asks `listenersUsingCertificate`.
import type { SandboxContext } from '../account';
import { awsError, required } from '../errors';
import { paginate } from '../pagination';
import { getInstance, isInstanceHealthy } from './ec2';
import { ec2State } from './ec2/state';
import { certificateExists } from './acm/certificates';
import { uniqueHex } from '../ids';
import type * as Elbv2Sdk from '@aws-sdk/client-elastic-load-balancing-v2';
import type { HandlerOf, InventoryItem, OperationsOf, SdkOperation, ServiceModule } from '../service';

type Handler<Op extends SdkOperation<typeof Elbv2Sdk>> = HandlerOf<typeof Elbv2Sdk, Op>;

type Tag = { Key: string; Value?: string };
type Action = Elbv2Sdk.Action;
type Condition = Elbv2Sdk.RuleCondition;

interface LoadBalancer {
  arn: string;
  name: string;
  scheme: Elbv2Sdk.LoadBalancerSchemeEnum;
  type: Elbv2Sdk.LoadBalancerTypeEnum;
  vpcId: string;
  subnets: { SubnetId: string; ZoneName: string }[];
  securityGroups: string[];
  ipAddressType: Elbv2Sdk.IpAddressType;
  dnsName: string;
  createdAt: number;
  attributes: Record<string, string>;
  tags: Tag[];
}

interface RegisteredTarget {
  id: string;
  port: number;
  registeredAt: number;
  deregisteredAt?: number;
}

interface TargetGroup {
  arn: string;
  name: string;
  protocol: Elbv2Sdk.ProtocolEnum;
  port: number;
  vpcId: string;
  targetType: Elbv2Sdk.TargetTypeEnum;
  protocolVersion: string;
  healthCheck: Record<string, unknown>;
  attributes: Record<string, string>;
  targets: RegisteredTarget[];
  createdAt: number;
  tags: Tag[];
}

interface Listener {
  arn: string;
  lbArn: string;
  protocol: Elbv2Sdk.ProtocolEnum;
  port: number;
  sslPolicy?: string;
  certificates: string[];
  defaultActions: Action[];
  tags: Tag[];
}

interface Rule {
  arn: string;
  listenerArn: string;
  /** undefined for the default rule. */
  priority?: number;
  conditions: Condition[];
  actions: Action[];
  tags: Tag[];
}

interface Elbv2State {
  loadBalancers: Record<string, LoadBalancer>;
  targetGroups: Record<string, TargetGroup>;
  listeners: Record<string, Listener>;
  rules: Record<string, Rule>;
}

const ACCOUNT = '123456789012';
const MAX_RULES_PER_LB = 100;
const MAX_TARGET_GROUPS_PER_FORWARD = 5;
const MAX_TAGS = 50;

/** The Route 53 hosted zone of ALB DNS names, per region (alias targets use it). */
const ALB_HOSTED_ZONES: Record<string, string> = {
  'us-east-1': 'Z35SXDOTRQ7X7K',
  'us-east-2': 'Z3AADJGX6KTTL2',
  'us-west-1': 'Z368ELLRRE2KJ0',
  'us-west-2': 'Z1H1FL5HABSF5',
  'ca-central-1': 'ZQSVJUPU6J1EY',
  'eu-west-1': 'Z32O12XQLNTSW2',
  'eu-west-2': 'ZHURV8PSTC4K8',
  'eu-west-3': 'Z3Q77PNBQS71R4',
  'eu-central-1': 'Z215JYRZR1TBD5',
  'eu-north-1': 'Z23TAZ7KFP5DU8',
  'ap-south-1': 'ZP97RAFLXTNZK',
  'ap-northeast-1': 'Z14GRHDCWA56QT',
  'ap-northeast-2': 'ZWKZPGTI48KDX',
  'ap-southeast-1': 'Z1LMS91P8CMLE5',
  'ap-southeast-2': 'Z1GM3OXH4ZPM65',
  'sa-east-1': 'Z2P70J7HTTTPLU',
};

export function albCanonicalHostedZoneId(region: string): string {
  return ALB_HOSTED_ZONES[region] ?? 'Z35SXDOTRQ7X7K';
}

function state(ctx: SandboxContext): Elbv2State {
  return ctx.sb.serviceState<Elbv2State>('elbv2', ctx.region, () => ({
    loadBalancers: {},
    targetGroups: {},
    listeners: {},
    rules: {},
  }));
}

function arnPrefix(ctx: SandboxContext): string {
  return `arn:aws:elasticloadbalancing:${ctx.region}:${ACCOUNT}`;
}

function hexId(ctx: SandboxContext): string {
  return uniqueHex(ctx, 16);
}

/** ELB names: 1-32 characters, alphanumerics and hyphens, not starting or ending with a hyphen. */
function validateName(name: unknown, what: 'load balancer' | 'target group'): string {
  if (typeof name !== 'string' || name === '')
    throw awsError('ValidationError', `A ${what} name must be specified`);
  if (name.length > 32)
    throw awsError('ValidationError', `The ${what} name '${name}' cannot be longer than '32' characters`);
  if (!/^[A-Za-z0-9-]+$/.test(name)) {
    throw awsError(
      'ValidationError',
      `The ${what} name '${name}' can only contain characters that are alphanumeric characters and hyphens(-)`,
    );
  }
  if (name.startsWith('-') || name.endsWith('-')) {
    throw awsError('ValidationError', `The ${what} name '${name}' cannot begin or end with a hyphen(-)`);
  }
  if (what === 'load balancer' && name.startsWith('internal-')) {
    throw awsError('ValidationError', `The load balancer name '${name}' cannot begin with 'internal-'`);
  }
  return name;
}

function validateTags(tags: Elbv2Sdk.Tag[] | undefined): Tag[] {
  const list = (tags ?? []).map((t) => ({ Key: t.Key ?? '', Value: t.Value ?? '' }));
  for (const t of list) {
    if (!t.Key) throw awsError('ValidationError', 'A tag key must be specified');
    if (t.Key.startsWith('aws:'))
      throw awsError('ValidationError', `Tag keys starting with 'aws:' are reserved: '${t.Key}'`);
  }
  if (list.length > MAX_TAGS)
    throw awsError('TooManyTags', 'You have reached the limit on the number of tags for this resource');
  return list;
}

function mergeTags(existing: Tag[], add: Tag[]): Tag[] {
  const map = new Map(existing.map((t) => [t.Key, t.Value ?? '']));
  for (const t of add) map.set(t.Key, t.Value ?? '');
  if (map.size > MAX_TAGS)
    throw awsError('TooManyTags', 'You have reached the limit on the number of tags for this resource');
  return [...map].map(([Key, Value]) => ({ Key, Value }));
}

// ---------------------------------------------------------------------------------------------
// Lookups shared with Auto Scaling: subnets and security groups, read from EC2's state in the account.

/** Subnet id -> {VpcId, AvailabilityZone}, from the EC2 state; throws InvalidSubnet like ELB. */
export function describeSubnetsInternal(
  ctx: SandboxContext,
  subnetIds: string[],
  notFoundCode = 'SubnetNotFound',
): { SubnetId: string; VpcId: string; AvailabilityZone: string }[] {
  const out: { SubnetId: string; VpcId: string; AvailabilityZone: string }[] = [];
  const subnets = ec2State(ctx).subnets;
  for (const id of subnetIds) {
    const s = subnets[id];
    if (!s) throw awsError(notFoundCode, `The subnet ID '${id}' is not valid`);
    out.push({ SubnetId: s.SubnetId, VpcId: s.VpcId, AvailabilityZone: s.AvailabilityZone });
  }
  return out;
}

/** Checks security groups in the EC2 state: they must exist and live in the load balancer's VPC. */
function validateSecurityGroups(ctx: SandboxContext, groupIds: string[], vpcId: string): void {
  if (groupIds.length === 0) return;
  const groups = ec2State(ctx).securityGroups;
  for (const id of groupIds) {
    const found = Object.hasOwn(groups, id) ? groups[id] : undefined;
    if (!found) throw awsError('InvalidSecurityGroup', `Security group '${id}' does not exist`);
    if (found.VpcId !== vpcId) {
      throw awsError(
        'InvalidConfigurationRequest',
        `Security group '${id}' does not belong to VPC '${vpcId}'`,
      );
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Load balancers

function lbState(ctx: SandboxContext, lb: LoadBalancer): 'provisioning' | 'active' {
  return ctx.now >= lb.createdAt + ctx.sb.behavior.timings.albProvisioningMs ? 'active' : 'provisioning';
}

function lbOutput(ctx: SandboxContext, lb: LoadBalancer): Elbv2Sdk.LoadBalancer {
  return {
    LoadBalancerArn: lb.arn,
    DNSName: lb.dnsName,
    CanonicalHostedZoneId: albCanonicalHostedZoneId(ctx.region),
    CreatedTime: new Date(lb.createdAt),
    LoadBalancerName: lb.name,
    Scheme: lb.scheme,
    VpcId: lb.vpcId,
    State: { Code: lbState(ctx, lb) },
    Type: lb.type,
    AvailabilityZones: lb.subnets.map((s) => ({
      ZoneName: s.ZoneName,
      SubnetId: s.SubnetId,
      LoadBalancerAddresses: [],
    })),
    SecurityGroups: [...lb.securityGroups],
    IpAddressType: lb.ipAddressType,
  };
}

function getLb(ctx: SandboxContext, arn: string | undefined): LoadBalancer {
  const lb = arn === undefined ? undefined : state(ctx).loadBalancers[arn];
  if (!lb) throw awsError('LoadBalancerNotFound', `Load balancer '${arn}' not found`);
  return lb;
}

const createLoadBalancer: Handler<'CreateLoadBalancer'> = (ctx, input) => {
  const name = validateName(input.Name, 'load balancer');
  const type = input.Type ?? 'application';
  if (type !== 'application')
    throw awsError('ValidationError', `The sandbox only simulates application load balancers, not '${type}'`);
  const scheme = input.Scheme ?? 'internet-facing';
  if (scheme !== 'internet-facing' && scheme !== 'internal')
    throw awsError('ValidationError', `Invalid scheme '${scheme}'`);
  const subnetIds: string[] =
    // A mapping without a SubnetId fails the subnet lookup below, as the id 'undefined'.
    input.Subnets ?? (input.SubnetMappings ?? []).map((m) => String(m.SubnetId));
  if (subnetIds.length === 0)
    throw awsError(
      'ValidationError',
      'At least two subnets in two different Availability Zones must be specified',
    );
  const subnets = describeSubnetsInternal(ctx, subnetIds);
  const vpcs = new Set(subnets.map((s) => s.VpcId));
  if (vpcs.size > 1) throw awsError('InvalidConfigurationRequest', 'All subnets must belong to the same VPC');
  const zones = new Set(subnets.map((s) => s.AvailabilityZone));
  if (zones.size !== subnets.length) {
    throw awsError(
      'InvalidConfigurationRequest',
      'A load balancer cannot be attached to multiple subnets in the same Availability Zone',
    );
  }
  if (zones.size < 2)
    throw awsError(
      'ValidationError',
      'At least two subnets in two different Availability Zones must be specified',
    );
  const securityGroups: string[] = input.SecurityGroups ?? [];
  validateSecurityGroups(ctx, securityGroups, subnets[0].VpcId);
  const tags = validateTags(input.Tags);
  const st = state(ctx);
  const existing = Object.values(st.loadBalancers).find((l) => l.name === name);
  if (existing) {
    const same =
      existing.scheme === scheme &&
      JSON.stringify(existing.subnets.map((s) => s.SubnetId).sort()) ===
        JSON.stringify([...subnetIds].sort()) &&
      (input.SecurityGroups === undefined ||
        JSON.stringify([...existing.securityGroups].sort()) === JSON.stringify([...securityGroups].sort()));
    if (!same)
      throw awsError('DuplicateLoadBalancerName', `A load balancer with the name '${name}' already exists`);
    return { LoadBalancers: [lbOutput(ctx, existing)] };
  }
  const id = hexId(ctx);
  const dnsNumber = (parseInt(id.slice(-8), 16) % 900_000_000) + 100_000_000;
  const lb: LoadBalancer = {
    arn: `${arnPrefix(ctx)}:loadbalancer/app/${name}/${id}`,
    name,
    scheme,
    type,
    vpcId: subnets[0].VpcId,
    subnets: subnets.map((s) => ({ SubnetId: s.SubnetId, ZoneName: s.AvailabilityZone })),
    securityGroups,
    ipAddressType: input.IpAddressType ?? 'ipv4',
    dnsName:
      `${scheme === 'internal' ? 'internal-' : ''}${name}-${dnsNumber}.${ctx.region}.elb.amazonaws.com`.toLowerCase(),
    createdAt: ctx.now,
    attributes: {
      'deletion_protection.enabled': 'false',
      'idle_timeout.timeout_seconds': '60',
      'routing.http2.enabled': 'true',
      'access_logs.s3.enabled': 'false',
      'routing.http.drop_invalid_header_fields.enabled': 'false',
    },
    tags,
  };
  st.loadBalancers[lb.arn] = lb;
  return { LoadBalancers: [lbOutput(ctx, lb)] };
};

const describeLoadBalancers: Handler<'DescribeLoadBalancers'> = (ctx, input) => {
  const st = state(ctx);
  let lbs = Object.values(st.loadBalancers);
  if (input.LoadBalancerArns?.length && input.Names?.length) {
    throw awsError(
      'ValidationError',
      'Load balancer names and load balancer ARNs cannot be specified at the same time',
    );
  }
  if (input.LoadBalancerArns?.length) {
    const arns: string[] = input.LoadBalancerArns;
    const missing = arns.filter((a) => !st.loadBalancers[a]);
    if (missing.length) throw awsError('LoadBalancerNotFound', `One or more load balancers not found`);
    lbs = arns.map((a) => st.loadBalancers[a]);
  } else if (input.Names?.length) {
    const names: string[] = input.Names;
    const found = names.map((n) => lbs.find((l) => l.name === n));
    if (found.some((l) => !l))
      throw awsError(
        'LoadBalancerNotFound',
        `Load balancers '[${names.filter((_, i) => !found[i]).join(', ')}]' not found`,
      );
    lbs = found as LoadBalancer[];
  }
  const { page, nextToken } = paginate(lbs, input.Marker, input.PageSize);
  return { LoadBalancers: page.map((lb) => lbOutput(ctx, lb)), NextMarker: nextToken };
};

/** ELBv2's answer to a request without a required member, before it looks anything up. */
function requiredMember<I, K extends keyof I & string>(input: I, member: K): NonNullable<I[K]> {
  const field = `${member[0].toLowerCase()}${member.slice(1)}`;
  return required(input[member], member, 'ValidationError', `1 validation error detected: Value null at '${field}' failed to satisfy constraint: Member must not be null`) as NonNullable<I[K]>;
}

const deleteLoadBalancer: Handler<'DeleteLoadBalancer'> = (ctx, input) => {
  const st = state(ctx);
  const lb = st.loadBalancers[requiredMember(input, 'LoadBalancerArn')];
  if (!lb) return {}; // DeleteLoadBalancer of an unknown ARN succeeds (AWS is idempotent here).
  if (lb.attributes['deletion_protection.enabled'] === 'true') {
    throw awsError(
      'OperationNotPermitted',
      `Load balancer '${lb.arn}' cannot be deleted because deletion protection is enabled`,
    );
  }
  for (const l of Object.values(st.listeners).filter((x) => x.lbArn === lb.arn))
    deleteListenerAndRules(st, l.arn);
  delete st.loadBalancers[lb.arn];
  return {};
};

function attributesOutput(attrs: Record<string, string>) {
  return Object.entries(attrs).map(([Key, Value]) => ({ Key, Value }));
}

function modifyAttributes(
  target: Record<string, string>,
  attrs: { Key?: string; Value?: string }[] | undefined,
  allowed: RegExp,
) {
  if (!attrs?.length) throw awsError('ValidationError', 'At least one attribute must be specified');
  for (const a of attrs) {
    if (!a.Key || !allowed.test(a.Key))
      throw awsError('InvalidConfigurationRequest', `Attribute key '${a.Key}' is not recognized`);
    if (/\.enabled$/.test(a.Key) && a.Value !== 'true' && a.Value !== 'false') {
      throw awsError('InvalidConfigurationRequest', `Attribute '${a.Key}' value must be 'true' or 'false'`);
    }
    if (/seconds$/.test(a.Key) && !/^\d+$/.test(a.Value ?? '')) {
      throw awsError('InvalidConfigurationRequest', `Attribute '${a.Key}' value must be an integer`);
    }
  }
  for (const a of attrs) target[a.Key as string] = a.Value ?? '';
}

// ---------------------------------------------------------------------------------------------
// Target groups

const TG_SETTINGS = ['protocol', 'port', 'vpcId', 'targetType', 'protocolVersion', 'healthCheck'] as const;

function tgOutput(ctx: SandboxContext, tg: TargetGroup): Elbv2Sdk.TargetGroup {
  return {
    TargetGroupArn: tg.arn,
    TargetGroupName: tg.name,
    Protocol: tg.protocol,
    Port: tg.port,
    VpcId: tg.vpcId,
    TargetType: tg.targetType,
    ProtocolVersion: tg.protocolVersion,
    IpAddressType: 'ipv4',
    ...tg.healthCheck,
    Matcher: { ...(tg.healthCheck.Matcher as object) },
    LoadBalancerArns: loadBalancersOfTargetGroup(ctx, tg.arn),
  };
}

function getTg(ctx: SandboxContext, arn: string | undefined): TargetGroup {
  const tg = arn === undefined ? undefined : state(ctx).targetGroups[arn];
  if (!tg) throw awsError('TargetGroupNotFound', `Target groups '${arn}' not found`);
  return tg;
}

/** The health check fields CreateTargetGroup and ModifyTargetGroup both take. */
const HEALTH_CHECK_FIELDS = [
  'HealthCheckProtocol',
  'HealthCheckPort',
  'HealthCheckEnabled',
  'HealthCheckIntervalSeconds',
  'HealthCheckTimeoutSeconds',
  'HealthyThresholdCount',
  'UnhealthyThresholdCount',
  'HealthCheckPath',
  'Matcher',
] as const;

function healthCheckSettings(
  input: Pick<Elbv2Sdk.ModifyTargetGroupInput, (typeof HEALTH_CHECK_FIELDS)[number]>,
  protocol: string,
  base?: Record<string, unknown>,
): Record<string, unknown> {
  const hc: Record<string, unknown> = {
    HealthCheckProtocol: protocol,
    HealthCheckPort: 'traffic-port',
    HealthCheckEnabled: true,
    HealthCheckIntervalSeconds: 30,
    HealthCheckTimeoutSeconds: 5,
    HealthyThresholdCount: 5,
    UnhealthyThresholdCount: 2,
    HealthCheckPath: '/',
    Matcher: { HttpCode: '200' },
    ...(base ?? {}),
  };
  for (const k of HEALTH_CHECK_FIELDS) {
    if (input[k] !== undefined) hc[k] = input[k];
  }
  const interval = hc.HealthCheckIntervalSeconds as number;
  const timeout = hc.HealthCheckTimeoutSeconds as number;
  if (interval < 5 || interval > 300)
    throw awsError('ValidationError', 'Health check interval must be between 5 and 300 seconds');
  if (timeout < 2 || timeout > 120)
    throw awsError('ValidationError', 'Health check timeout must be between 2 and 120 seconds');
  if (timeout >= interval) {
    throw awsError('ValidationError', 'Health check interval must be greater than the timeout.');
  }
  for (const k of ['HealthyThresholdCount', 'UnhealthyThresholdCount']) {
    const v = hc[k] as number;
    if (v < 2 || v > 10) throw awsError('ValidationError', `${k} must be between 2 and 10`);
  }
  if (typeof hc.HealthCheckPath === 'string' && !(hc.HealthCheckPath as string).startsWith('/')) {
    throw awsError('ValidationError', "Health check path must begin with a '/' character");
  }
  return hc;
}

const createTargetGroup: Handler<'CreateTargetGroup'> = (ctx, input) => {
  const name = validateName(input.Name, 'target group');
  const targetType = input.TargetType ?? 'instance';
  if (!['instance', 'ip', 'lambda', 'alb'].includes(targetType))
    throw awsError('ValidationError', `Invalid target type '${targetType}'`);
  if (targetType !== 'lambda') {
    if (!input.Protocol) throw awsError('ValidationError', 'A protocol must be specified');
    if (input.Port === undefined) throw awsError('ValidationError', 'A port must be specified');
    if (!input.VpcId) throw awsError('ValidationError', 'A VPC ID must be specified');
  }
  const protocol: Elbv2Sdk.ProtocolEnum = input.Protocol ?? 'HTTP';
  if (!['HTTP', 'HTTPS', 'TCP', 'TLS', 'UDP', 'TCP_UDP', 'GENEVE'].includes(protocol)) {
    throw awsError('ValidationError', `Protocol '${protocol}' is not supported`);
  }
  const port = Number(input.Port ?? 80);
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw awsError('ValidationError', `Port '${input.Port}' must be between 1 and 65535`);
  const settings = {
    protocol,
    port,
    vpcId: input.VpcId as string,
    targetType,
    protocolVersion: input.ProtocolVersion ?? 'HTTP1',
    healthCheck: healthCheckSettings(input, protocol),
  };
  const tags = validateTags(input.Tags);
  const st = state(ctx);
  const existing = Object.values(st.targetGroups).find((t) => t.name === name);
  if (existing) {
    // CreateTargetGroup is idempotent: same name and settings returns the existing group.
    const same = TG_SETTINGS.every((k) => JSON.stringify(existing[k]) === JSON.stringify(settings[k]));
    if (!same)
      throw awsError(
        'DuplicateTargetGroupName',
        `A target group with the same name '${name}' exists, but with different settings`,
      );
    return { TargetGroups: [tgOutput(ctx, existing)] };
  }
  const tg: TargetGroup = {
    arn: `${arnPrefix(ctx)}:targetgroup/${name}/${hexId(ctx)}`,
    name,
    ...settings,
    attributes: {
      'deregistration_delay.timeout_seconds': '300',
      'stickiness.enabled': 'false',
      'stickiness.type': 'lb_cookie',
      'stickiness.lb_cookie.duration_seconds': '86400',
      'slow_start.duration_seconds': '0',
      'load_balancing.algorithm.type': 'round_robin',
    },
    targets: [],
    createdAt: ctx.now,
    tags,
  };
  st.targetGroups[tg.arn] = tg;
  return { TargetGroups: [tgOutput(ctx, tg)] };
};

const describeTargetGroups: Handler<'DescribeTargetGroups'> = (ctx, input) => {
  const st = state(ctx);
  let tgs = Object.values(st.targetGroups);
  if (input.TargetGroupArns?.length) {
    const arns: string[] = input.TargetGroupArns;
    if (arns.some((a) => !st.targetGroups[a]))
      throw awsError('TargetGroupNotFound', 'One or more target groups not found');
    tgs = arns.map((a) => st.targetGroups[a]);
  } else if (input.Names?.length) {
    const names: string[] = input.Names;
    const found = names.map((n) => tgs.find((t) => t.name === n));
    if (found.some((t) => !t)) throw awsError('TargetGroupNotFound', 'One or more target groups not found');
    tgs = found as TargetGroup[];
  }
  const lbArn = input.LoadBalancerArn;
  if (lbArn) {
    getLb(ctx, lbArn);
    tgs = tgs.filter((t) => loadBalancersOfTargetGroup(ctx, t.arn).includes(lbArn));
  }
  const { page, nextToken } = paginate(tgs, input.Marker, input.PageSize);
  return { TargetGroups: page.map((t) => tgOutput(ctx, t)), NextMarker: nextToken };
};

const modifyTargetGroup: Handler<'ModifyTargetGroup'> = (ctx, input) => {
  const tg = getTg(ctx, input.TargetGroupArn);
  tg.healthCheck = healthCheckSettings(input, tg.protocol, tg.healthCheck);
  return { TargetGroups: [tgOutput(ctx, tg)] };
};

const deleteTargetGroup: Handler<'DeleteTargetGroup'> = (ctx, input) => {
  const st = state(ctx);
  const tg = st.targetGroups[requiredMember(input, 'TargetGroupArn')];
  if (!tg) return {};
  // Only listener actions block it (API reference, DeleteTargetGroup: "You can delete a target group if
  // it is not referenced by any actions"): Auto Scaling groups that list it keep the ARN (autoscaling.ts).
  if (actionsUsing(st, tg.arn).length > 0) {
    throw awsError('ResourceInUse', `Target group '${tg.arn}' is currently in use by a listener or a rule`);
  }
  delete st.targetGroups[tg.arn];
  return {};
};

/** Target group ARNs a list of actions forwards to. */
function forwardTargets(actions: Action[]): string[] {
  const out = new Set<string>();
  for (const a of actions) {
    if (a.Type !== 'forward') continue;
    if (typeof a.TargetGroupArn === 'string') out.add(a.TargetGroupArn);
    const fc = a.ForwardConfig as { TargetGroups?: { TargetGroupArn?: string }[] } | undefined;
    for (const t of fc?.TargetGroups ?? []) if (t.TargetGroupArn) out.add(t.TargetGroupArn);
  }
  return [...out];
}

/** Listeners and rules (by their load balancer) forwarding to a target group. */
function actionsUsing(st: Elbv2State, tgArn: string): { lbArn: string; ruleArn: string }[] {
  const out: { lbArn: string; ruleArn: string }[] = [];
  for (const r of Object.values(st.rules)) {
    if (!forwardTargets(r.actions).includes(tgArn)) continue;
    const l = st.listeners[r.listenerArn];
    if (l) out.push({ lbArn: l.lbArn, ruleArn: r.arn });
  }
  return out;
}

function loadBalancersOfTargetGroup(ctx: SandboxContext, tgArn: string): string[] {
  return [...new Set(actionsUsing(state(ctx), tgArn).map((x) => x.lbArn))];
}

// ---------------------------------------------------------------------------------------------
// Targets and their health

type HealthState = 'initial' | 'healthy' | 'unhealthy' | 'unused' | 'draining' | 'unavailable';

export interface TargetHealthView {
  State: HealthState;
  Reason?: Elbv2Sdk.TargetHealthReasonEnum;
  Description?: string;
  /** Since when the target is in this state (virtual ms). */
  since: number;
}

function asgNameOf(instance: { Tags: { Key: string; Value: string }[] } | undefined): string | undefined {
  return instance?.Tags.find((t) => t.Key === 'aws:autoscaling:groupName')?.Value;
}

/** The health of one registered target at ctx.now, derived from registration and instance state. */
function healthOf(ctx: SandboxContext, tg: TargetGroup, t: RegisteredTarget): TargetHealthView {
  const timings = ctx.sb.behavior.timings;
  if (t.deregisteredAt !== undefined) {
    return {
      State: 'draining',
      Reason: 'Target.DeregistrationInProgress',
      Description: 'Target deregistration is in progress',
      since: t.deregisteredAt,
    };
  }
  const st = state(ctx);
  const activeLbs = loadBalancersOfTargetGroup(ctx, tg.arn)
    .map((a) => st.loadBalancers[a])
    .filter((lb): lb is LoadBalancer => !!lb && lbState(ctx, lb) === 'active');
  if (activeLbs.length === 0) {
    return {
      State: 'unused',
      Reason: 'Target.NotInUse',
      Description: 'Target group is not configured to receive traffic from the load balancer',
      since: t.registeredAt,
    };
  }
  const instance = getInstance(ctx, t.id);
  if (
    !instance ||
    instance.state === 'terminated' ||
    instance.state === 'shutting-down' ||
    instance.state === 'stopped'
  ) {
    return {
      State: 'unused',
      Reason: 'Target.InvalidState',
      Description: `Target is in the ${instance?.state ?? 'terminated'} state`,
      since: instance?.terminatedAt ?? t.registeredAt,
    };
  }
  const lbActiveAt = Math.min(...activeLbs.map((lb) => lb.createdAt + timings.albProvisioningMs));
  const checksFrom = Math.max(t.registeredAt, lbActiveAt, instance.runningAt);
  const decidedAt = checksFrom + timings.targetHealthyMs;
  if (ctx.now < decidedAt || instance.state !== 'running') {
    return {
      State: 'initial',
      Reason: 'Elb.InitialHealthChecking',
      Description: 'Initial health checks in progress',
      since: t.registeredAt,
    };
  }
  if (isInstanceHealthy(ctx, t.id, asgNameOf(instance))) return { State: 'healthy', since: decidedAt };
  return {
    State: 'unhealthy',
    Reason: 'Target.FailedHealthChecks',
    Description: 'Health checks failed',
    since: decidedAt,
  };
}

/** How long a deregistered target of `tg` stays draining: its deregistration_delay.timeout_seconds. */
function deregistrationDelayMs(tg: TargetGroup): number {
  const seconds = Number(tg.attributes['deregistration_delay.timeout_seconds']);
  return (Number.isFinite(seconds) ? seconds : 300) * 1000;
}

function pruneDrained(ctx: SandboxContext, tg: TargetGroup): void {
  const delay = deregistrationDelayMs(tg);
  tg.targets = tg.targets.filter((t) => t.deregisteredAt === undefined || ctx.now < t.deregisteredAt + delay);
}

/** Checks RegisterTargets / DeregisterTargets' targets and returns them (each with its Id). */
function validateTargets(
  ctx: SandboxContext,
  tg: TargetGroup,
  targets: { Id?: string; Port?: number }[] | undefined,
  checkState: boolean,
): { Id: string; Port?: number }[] {
  if (!targets?.length) throw awsError('ValidationError', 'At least one target must be specified');
  for (const t of targets) {
    if (!t.Id) throw awsError('ValidationError', 'A target ID must be specified');
    if (tg.targetType === 'instance' && checkState) {
      const inst = getInstance(ctx, t.Id);
      if (!inst) throw awsError('InvalidTarget', `The following targets are not valid instances: '${t.Id}'`);
      if (inst.state !== 'running' && inst.state !== 'pending') {
        throw awsError(
          'InvalidTarget',
          `The following targets are not in a running state and cannot be registered: '${t.Id}'`,
        );
      }
      if (inst.VpcId !== tg.vpcId) {
        throw awsError(
          'InvalidTarget',
          `The following targets are not in the target group VPC '${tg.vpcId}': '${t.Id}'`,
        );
      }
    }
  }
  // Every target has an Id: checked above.
  return targets as { Id: string; Port?: number }[];
}

function register(ctx: SandboxContext, tg: TargetGroup, targets: { Id: string; Port?: number }[]): void {
  pruneDrained(ctx, tg);
  for (const t of targets) {
    const port = t.Port ?? tg.port;
    const existing = tg.targets.find((x) => x.id === t.Id && x.port === port);
    if (existing && existing.deregisteredAt === undefined) continue;
    if (existing) {
      existing.deregisteredAt = undefined;
      existing.registeredAt = ctx.now;
    } else {
      tg.targets.push({ id: t.Id, port, registeredAt: ctx.now });
    }
  }
}

function deregister(ctx: SandboxContext, tg: TargetGroup, targets: { Id: string; Port?: number }[]): void {
  pruneDrained(ctx, tg);
  for (const t of targets) {
    for (const x of tg.targets) {
      if (x.id === t.Id && (t.Port === undefined || x.port === t.Port) && x.deregisteredAt === undefined)
        x.deregisteredAt = ctx.now;
    }
  }
}

const registerTargets: Handler<'RegisterTargets'> = (ctx, input) => {
  const tg = getTg(ctx, input.TargetGroupArn);
  register(ctx, tg, validateTargets(ctx, tg, input.Targets, true));
  return {};
};

const deregisterTargets: Handler<'DeregisterTargets'> = (ctx, input) => {
  const tg = getTg(ctx, input.TargetGroupArn);
  const targets = validateTargets(ctx, tg, input.Targets, false);
  for (const t of targets) {
    if (!tg.targets.some((x) => x.id === t.Id && x.deregisteredAt === undefined)) {
      throw awsError(
        'InvalidTarget',
        `The following targets are not registered in target group '${tg.arn}': '${t.Id}'`,
      );
    }
  }
  deregister(ctx, tg, targets);
  return {};
};

const describeTargetHealth: Handler<'DescribeTargetHealth'> = (ctx, input) => {
  const tg = getTg(ctx, input.TargetGroupArn);
  pruneDrained(ctx, tg);
  const wanted = input.Targets as { Id: string; Port?: number }[] | undefined;
  const out: Elbv2Sdk.TargetHealthDescription[] = [];
  const describe = (t: RegisteredTarget) => {
    const h = healthOf(ctx, tg, t);
    out.push({
      Target: { Id: t.id, Port: t.port },
      HealthCheckPort:
        tg.healthCheck.HealthCheckPort === 'traffic-port'
          ? String(t.port)
          : String(tg.healthCheck.HealthCheckPort),
      TargetHealth: { State: h.State, Reason: h.Reason, Description: h.Description },
    });
  };
  if (wanted?.length) {
    for (const w of wanted) {
      const matches = tg.targets.filter((t) => t.id === w.Id && (w.Port === undefined || t.port === w.Port));
      if (matches.length === 0) {
        out.push({
          Target: { Id: w.Id, Port: w.Port ?? tg.port },
          TargetHealth: {
            State: 'unused',
            Reason: 'Target.NotRegistered',
            Description: 'Target is not registered to the target group',
          },
        });
      }
      matches.forEach(describe);
    }
  } else {
    tg.targets.forEach(describe);
  }
  return { TargetHealthDescriptions: out };
};

// ---------------------------------------------------------------------------------------------
// Listeners and rules

function validateActions(
  ctx: SandboxContext,
  lb: LoadBalancer,
  actions: Action[] | undefined,
  excludeRule?: string,
): Action[] {
  if (!actions?.length) throw awsError('ValidationError', 'At least one action must be specified');
  const st = state(ctx);
  const normalised: Action[] = [];
  for (const raw of actions) {
    const a: Action = structuredClone(raw);
    switch (a.Type) {
      case 'forward': {
        const fc = a.ForwardConfig as
          | {
              TargetGroups?: { TargetGroupArn?: string; Weight?: number }[];
              TargetGroupStickinessConfig?: Record<string, unknown>;
            }
          | undefined;
        const groups = fc?.TargetGroups ?? [];
        if (!a.TargetGroupArn && groups.length === 0)
          throw awsError('ValidationError', 'A target group ARN must be specified for a forward action');
        if (groups.length > MAX_TARGET_GROUPS_PER_FORWARD) {
          throw awsError(
            'ValidationError',
            `You cannot specify more than ${MAX_TARGET_GROUPS_PER_FORWARD} target groups in a forward action`,
          );
        }
        for (const g of groups) {
          const w = g.Weight ?? 1;
          if (!Number.isInteger(w) || w < 0 || w > 999)
            throw awsError(
              'ValidationError',
              'The weight for each target group must be between 0 and 999, inclusive',
            );
        }
        if (
          a.TargetGroupArn &&
          groups.length > 0 &&
          !(groups.length === 1 && groups[0].TargetGroupArn === a.TargetGroupArn)
        ) {
          throw awsError(
            'ValidationError',
            'You cannot specify both a target group ARN and a forward config with different target groups',
          );
        }
        const arns = forwardTargets([a]);
        if (new Set(groups.map((g) => g.TargetGroupArn)).size !== groups.length) {
          throw awsError('ValidationError', 'A target group can be specified only once in a forward action');
        }
        for (const arn of arns) {
          const tg = st.targetGroups[arn];
          if (!tg) throw awsError('TargetGroupNotFound', `Target group '${arn}' not found`);
          if (tg.vpcId !== lb.vpcId) {
            throw awsError(
              'ValidationError',
              `Target group '${arn}' is in VPC '${tg.vpcId}', not in the load balancer's VPC '${lb.vpcId}'`,
            );
          }
          const others = actionsUsing(st, arn).filter((u) => u.lbArn !== lb.arn && u.ruleArn !== excludeRule);
          if (others.length > 0) {
            throw awsError(
              'TargetGroupAssociationLimit',
              `The following target groups cannot be associated with more than one load balancer: ${arn}`,
            );
          }
        }
        const stickiness = { Enabled: false, ...(fc?.TargetGroupStickinessConfig ?? {}) };
        const targetGroups = groups.length
          ? groups.map((g) => ({ TargetGroupArn: g.TargetGroupArn as string, Weight: g.Weight ?? 1 }))
          : [{ TargetGroupArn: a.TargetGroupArn as string, Weight: 1 }];
        const out: Action = {
          Type: 'forward',
          ForwardConfig: { TargetGroups: targetGroups, TargetGroupStickinessConfig: stickiness },
        };
        if (targetGroups.length === 1) out.TargetGroupArn = targetGroups[0].TargetGroupArn;
        if (a.Order !== undefined) out.Order = a.Order;
        normalised.push(out);
        break;
      }
      case 'redirect': {
        const rc = a.RedirectConfig;
        if (!rc?.StatusCode)
          throw awsError(
            'ValidationError',
            'A redirect action requires a status code (HTTP_301 or HTTP_302)',
          );
        if (rc.StatusCode !== 'HTTP_301' && rc.StatusCode !== 'HTTP_302')
          throw awsError('ValidationError', `Invalid redirect status code '${rc.StatusCode}'`);
        normalised.push({
          Type: 'redirect',
          RedirectConfig: {
            Protocol: '#{protocol}',
            Port: '#{port}',
            Host: '#{host}',
            Path: '/#{path}',
            Query: '#{query}',
            ...rc,
          },
          ...(a.Order !== undefined ? { Order: a.Order } : {}),
        });
        break;
      }
      case 'fixed-response': {
        const fr = a.FixedResponseConfig as Record<string, unknown> | undefined;
        if (!fr?.StatusCode || !/^[2-5]\d\d$/.test(String(fr.StatusCode))) {
          throw awsError(
            'ValidationError',
            'A fixed-response action requires a status code between 200 and 599',
          );
        }
        normalised.push(a);
        break;
      }
      default:
        throw awsError('ValidationError', `The sandbox does not simulate the action type '${a.Type}'`);
    }
  }
  return normalised;
}

function listenerOutput(l: Listener): Elbv2Sdk.Listener {
  return {
    ListenerArn: l.arn,
    LoadBalancerArn: l.lbArn,
    Port: l.port,
    Protocol: l.protocol,
    Certificates: l.certificates.length ? [{ CertificateArn: l.certificates[0] }] : undefined,
    SslPolicy: l.sslPolicy,
    DefaultActions: structuredClone(l.defaultActions),
  };
}

function getListener(ctx: SandboxContext, arn: string | undefined): Listener {
  const l = arn === undefined ? undefined : state(ctx).listeners[arn];
  if (!l) throw awsError('ListenerNotFound', `Listener '${arn}' not found`);
  return l;
}

function validateCertificates(
  ctx: SandboxContext,
  protocol: string,
  certs: { CertificateArn?: string }[] | undefined,
): string[] {
  const arns = (certs ?? []).map((c) => c.CertificateArn).filter((a): a is string => !!a);
  if (protocol === 'HTTPS' && arns.length === 0)
    throw awsError('ValidationError', 'A certificate must be specified for HTTPS listeners');
  for (const arn of arns) {
    if (!certificateExists(ctx, arn)) throw awsError('CertificateNotFound', `Certificate '${arn}' not found`);
  }
  return arns;
}

function validateProtocolPort(protocol: unknown, port: unknown): asserts port is number {
  if (protocol !== 'HTTP' && protocol !== 'HTTPS')
    throw awsError('ValidationError', `Listener protocol '${protocol}' must be one of 'HTTPS, HTTP'`);
  if (!Number.isInteger(port) || (port as number) < 1 || (port as number) > 65535) {
    throw awsError('ValidationError', `Listener port '${port}' must be between 1 and 65535`);
  }
}

const createListener: Handler<'CreateListener'> = (ctx, input) => {
  const lb = getLb(ctx, input.LoadBalancerArn);
  const protocol = input.Protocol ?? 'HTTP';
  validateProtocolPort(protocol, input.Port);
  const certificates = validateCertificates(ctx, protocol, input.Certificates);
  if (protocol === 'HTTP' && certificates.length)
    throw awsError('ValidationError', 'Certificates can only be specified for HTTPS listeners');
  const defaultActions = validateActions(ctx, lb, input.DefaultActions);
  const tags = validateTags(input.Tags);
  const st = state(ctx);
  const existing = Object.values(st.listeners).find((l) => l.lbArn === lb.arn && l.port === input.Port);
  if (existing) {
    const same =
      existing.protocol === protocol &&
      JSON.stringify(existing.defaultActions) === JSON.stringify(defaultActions) &&
      JSON.stringify(existing.certificates.slice(0, 1)) === JSON.stringify(certificates.slice(0, 1));
    if (!same)
      throw awsError('DuplicateListener', 'A listener already exists on this port for this load balancer');
    return { Listeners: [listenerOutput(existing)] };
  }
  const id = hexId(ctx);
  const lbPath = lb.arn.split(':loadbalancer/')[1];
  const listener: Listener = {
    arn: `${arnPrefix(ctx)}:listener/${lbPath}/${id}`,
    lbArn: lb.arn,
    protocol,
    port: input.Port,
    sslPolicy: protocol === 'HTTPS' ? (input.SslPolicy ?? 'ELBSecurityPolicy-2016-08') : undefined,
    certificates,
    defaultActions,
    tags,
  };
  st.listeners[listener.arn] = listener;
  const ruleArn = `${arnPrefix(ctx)}:listener-rule/${lbPath}/${id}/${hexId(ctx)}`;
  st.rules[ruleArn] = {
    arn: ruleArn,
    listenerArn: listener.arn,
    conditions: [],
    actions: defaultActions,
    tags: [],
  };
  return { Listeners: [listenerOutput(listener)] };
};

const describeListeners: Handler<'DescribeListeners'> = (ctx, input) => {
  const st = state(ctx);
  let listeners: Listener[];
  if (input.ListenerArns?.length) {
    const arns: string[] = input.ListenerArns;
    if (arns.some((a) => !st.listeners[a]))
      throw awsError('ListenerNotFound', 'One or more listeners not found');
    listeners = arns.map((a) => st.listeners[a]);
  } else if (input.LoadBalancerArn) {
    getLb(ctx, input.LoadBalancerArn);
    listeners = Object.values(st.listeners).filter((l) => l.lbArn === input.LoadBalancerArn);
  } else {
    throw awsError('ValidationError', 'You must specify either listener ARNs or a load balancer ARN');
  }
  const { page, nextToken } = paginate(listeners, input.Marker, input.PageSize);
  return { Listeners: page.map(listenerOutput), NextMarker: nextToken };
};

function defaultRuleOf(st: Elbv2State, listenerArn: string): Rule | undefined {
  return Object.values(st.rules).find((r) => r.listenerArn === listenerArn && r.priority === undefined);
}

const modifyListener: Handler<'ModifyListener'> = (ctx, input) => {
  const st = state(ctx);
  const l = getListener(ctx, input.ListenerArn);
  const lb = getLb(ctx, l.lbArn);
  const protocol = input.Protocol ?? l.protocol;
  const port = input.Port ?? l.port;
  validateProtocolPort(protocol, port);
  if (port !== l.port && Object.values(st.listeners).some((x) => x.lbArn === l.lbArn && x.port === port)) {
    throw awsError('DuplicateListener', 'A listener already exists on this port for this load balancer');
  }
  const certificates = input.Certificates
    ? validateCertificates(ctx, protocol, input.Certificates)
    : protocol === 'HTTP'
      ? []
      : l.certificates;
  if (protocol === 'HTTPS' && certificates.length === 0)
    throw awsError('ValidationError', 'A certificate must be specified for HTTPS listeners');
  const defaultRule = defaultRuleOf(st, l.arn);
  const defaultActions = input.DefaultActions
    ? validateActions(ctx, lb, input.DefaultActions, defaultRule?.arn)
    : l.defaultActions;
  l.protocol = protocol;
  l.port = port;
  l.certificates = [...certificates, ...l.certificates.slice(1).filter((c) => !certificates.includes(c))];
  if (protocol === 'HTTP') l.certificates = [];
  l.sslPolicy =
    protocol === 'HTTPS' ? (input.SslPolicy ?? l.sslPolicy ?? 'ELBSecurityPolicy-2016-08') : undefined;
  l.defaultActions = defaultActions;
  if (defaultRule) defaultRule.actions = defaultActions;
  return { Listeners: [listenerOutput(l)] };
};

function deleteListenerAndRules(st: Elbv2State, arn: string): void {
  for (const r of Object.values(st.rules)) if (r.listenerArn === arn) delete st.rules[r.arn];
  delete st.listeners[arn];
}

const deleteListener: Handler<'DeleteListener'> = (ctx, input) => {
  const st = state(ctx);
  const listener = getListener(ctx, requiredMember(input, 'ListenerArn'));
  deleteListenerAndRules(st, listener.arn);
  return {};
};

const describeListenerCertificates: Handler<'DescribeListenerCertificates'> = (ctx, input) => {
  const l = getListener(ctx, input.ListenerArn);
  const certs = l.certificates.map((c, i) => ({ CertificateArn: c, IsDefault: i === 0 }));
  const { page, nextToken } = paginate(certs, input.Marker, input.PageSize);
  return { Certificates: page, NextMarker: nextToken };
};

const addListenerCertificates: Handler<'AddListenerCertificates'> = (ctx, input) => {
  const l = getListener(ctx, input.ListenerArn);
  if (l.protocol !== 'HTTPS')
    throw awsError('ValidationError', 'Certificates can only be added to HTTPS listeners');
  const arns = validateCertificates(ctx, 'HTTPS', input.Certificates);
  for (const a of arns) if (!l.certificates.includes(a)) l.certificates.push(a);
  return { Certificates: arns.map((a) => ({ CertificateArn: a, IsDefault: a === l.certificates[0] })) };
};

const removeListenerCertificates: Handler<'RemoveListenerCertificates'> = (ctx, input) => {
  const l = getListener(ctx, input.ListenerArn);
  const arns = validateCertificates(ctx, 'HTTP', input.Certificates);
  if (arns.includes(l.certificates[0]))
    throw awsError('OperationNotPermitted', 'The default certificate cannot be removed from a listener');
  l.certificates = l.certificates.filter((c) => !arns.includes(c));
  return {};
};

function validateConditions(conditions: Condition[] | undefined): Condition[] {
  if (!conditions?.length) throw awsError('ValidationError', 'A rule must have at least one condition');
  const out: Condition[] = [];
  let values = 0;
  const fields = new Set<string>();
  for (const c of conditions) {
    const field = c.Field;
    if (!field) throw awsError('ValidationError', 'A condition field must be specified');
    if (fields.has(field) && field !== 'http-header' && field !== 'query-string') {
      throw awsError('ValidationError', `A rule can only have one '${field}' condition`);
    }
    fields.add(field);
    const configKey: Record<string, 'HostHeaderConfig' | 'PathPatternConfig' | 'SourceIpConfig' | 'HttpRequestMethodConfig'> = {
      'host-header': 'HostHeaderConfig',
      'path-pattern': 'PathPatternConfig',
      'source-ip': 'SourceIpConfig',
      'http-request-method': 'HttpRequestMethodConfig',
    };
    const key = configKey[field];
    if (!key)
      throw awsError('ValidationError', `The sandbox does not simulate the condition field '${field}'`);
    const cfg = c[key] as { Values?: string[] } | undefined;
    const legacy = c.Values as string[] | undefined;
    if (cfg?.Values && legacy?.length)
      throw awsError('ValidationError', `You cannot specify both 'Values' and '${key}' in a condition`);
    const list = cfg?.Values ?? legacy ?? [];
    if (list.length === 0)
      throw awsError('ValidationError', `A '${field}' condition must have at least one value`);
    for (const v of list) {
      if (field === 'host-header') {
        if (v.length > 128 || !/^[A-Za-z0-9.*?-]+$/.test(v))
          throw awsError('ValidationError', `Invalid host header value '${v}'`);
      } else if (field === 'path-pattern') {
        if (v.length > 128)
          throw awsError('ValidationError', `Path pattern '${v}' is longer than 128 characters`);
      } else if (field === 'source-ip') {
        if (!/^(\d{1,3}\.){3}\d{1,3}\/\d{1,2}$|^[0-9a-fA-F:]+\/\d{1,3}$/.test(v))
          throw awsError('ValidationError', `Invalid CIDR '${v}' in a source-ip condition`);
      }
    }
    values += list.length;
    const normalised: Condition = { Field: field, [key]: { Values: [...list] } };
    if (field === 'host-header' || field === 'path-pattern') normalised.Values = [...list];
    out.push(normalised);
  }
  // ALB quota: five condition values per rule.
  if (values > 5) throw awsError('ValidationError', 'A rule can only have 5 condition values in total');
  return out;
}

function validatePriority(p: unknown): number {
  const n = Number(p);
  if (!Number.isInteger(n) || n < 1 || n > 50000)
    throw awsError('ValidationError', `Priority '${p}' must be between 1 and 50000`);
  return n;
}

function ruleOutput(r: Rule): Elbv2Sdk.Rule {
  return {
    RuleArn: r.arn,
    Priority: r.priority === undefined ? 'default' : String(r.priority),
    Conditions: structuredClone(r.conditions),
    Actions: structuredClone(r.actions),
    IsDefault: r.priority === undefined,
  };
}

function getRule(ctx: SandboxContext, arn: string | undefined): Rule {
  const r = arn === undefined ? undefined : state(ctx).rules[arn];
  if (!r) throw awsError('RuleNotFound', `Rule '${arn}' not found`);
  return r;
}

const createRule: Handler<'CreateRule'> = (ctx, input) => {
  const st = state(ctx);
  const l = getListener(ctx, input.ListenerArn);
  const lb = getLb(ctx, l.lbArn);
  if (input.Priority === undefined) throw awsError('ValidationError', 'A priority must be specified');
  const priority = validatePriority(input.Priority);
  const conditions = validateConditions(input.Conditions);
  const actions = validateActions(ctx, lb, input.Actions);
  const tags = validateTags(input.Tags);
  const listenerRules = Object.values(st.rules).filter((r) => r.listenerArn === l.arn);
  if (listenerRules.some((r) => r.priority === priority))
    throw awsError('PriorityInUse', `Priority '${priority}' is currently in use`);
  const lbListeners = new Set(
    Object.values(st.listeners)
      .filter((x) => x.lbArn === lb.arn)
      .map((x) => x.arn),
  );
  const lbRules = Object.values(st.rules).filter(
    (r) => lbListeners.has(r.listenerArn) && r.priority !== undefined,
  );
  if (lbRules.length >= MAX_RULES_PER_LB) {
    throw awsError(
      'TooManyRules',
      `You've reached the limit on the number of rules per load balancer (${MAX_RULES_PER_LB})`,
    );
  }
  const lbPath = l.arn.split(':listener/')[1];
  const rule: Rule = {
    arn: `${arnPrefix(ctx)}:listener-rule/${lbPath}/${hexId(ctx)}`,
    listenerArn: l.arn,
    priority,
    conditions,
    actions,
    tags,
  };
  st.rules[rule.arn] = rule;
  return { Rules: [ruleOutput(rule)] };
};

const describeRules: Handler<'DescribeRules'> = (ctx, input) => {
  const st = state(ctx);
  let rules: Rule[];
  if (input.RuleArns?.length) {
    const arns: string[] = input.RuleArns;
    if (arns.some((a) => !st.rules[a])) throw awsError('RuleNotFound', 'One or more rules not found');
    rules = arns.map((a) => st.rules[a]);
  } else if (input.ListenerArn) {
    getListener(ctx, input.ListenerArn);
    rules = Object.values(st.rules)
      .filter((r) => r.listenerArn === input.ListenerArn)
      .sort((a, b) => (a.priority ?? Infinity) - (b.priority ?? Infinity));
  } else {
    throw awsError('ValidationError', 'You must specify either rule ARNs or a listener ARN');
  }
  const { page, nextToken } = paginate(rules, input.Marker, input.PageSize);
  return { Rules: page.map(ruleOutput), NextMarker: nextToken };
};

const modifyRule: Handler<'ModifyRule'> = (ctx, input) => {
  const r = getRule(ctx, input.RuleArn);
  const l = getListener(ctx, r.listenerArn);
  const lb = getLb(ctx, l.lbArn);
  if (r.priority === undefined && input.Conditions)
    throw awsError('OperationNotPermitted', 'The conditions of a default rule cannot be modified');
  const conditions = input.Conditions ? validateConditions(input.Conditions) : r.conditions;
  const actions = input.Actions ? validateActions(ctx, lb, input.Actions, r.arn) : r.actions;
  r.conditions = conditions;
  r.actions = actions;
  if (r.priority === undefined) l.defaultActions = actions;
  return { Rules: [ruleOutput(r)] };
};

const setRulePriorities: Handler<'SetRulePriorities'> = (ctx, input) => {
  const st = state(ctx);
  const changes = (input.RulePriorities ?? []) as { RuleArn: string; Priority: number }[];
  if (changes.length === 0) throw awsError('ValidationError', 'At least one rule priority must be specified');
  const rules = changes.map((c) => getRule(ctx, c.RuleArn));
  const next = new Map<string, number>();
  rules.forEach((r, i) => {
    if (r.priority === undefined)
      throw awsError(
        'OperationNotPermitted',
        `The priority of the default rule '${r.arn}' cannot be changed`,
      );
    next.set(r.arn, validatePriority(changes[i].Priority));
  });
  for (const r of rules) {
    const p = next.get(r.arn) as number;
    const clash = Object.values(st.rules).find(
      (o) => o.listenerArn === r.listenerArn && o.arn !== r.arn && (next.get(o.arn) ?? o.priority) === p,
    );
    if (clash) throw awsError('PriorityInUse', `Priority '${p}' is currently in use`);
  }
  for (const r of rules) r.priority = next.get(r.arn);
  return { Rules: rules.map(ruleOutput) };
};

const deleteRule: Handler<'DeleteRule'> = (ctx, input) => {
  const r = getRule(ctx, requiredMember(input, 'RuleArn'));
  if (r.priority === undefined) throw awsError('OperationNotPermitted', 'Default rules cannot be deleted');
  delete state(ctx).rules[r.arn];
  return {};
};

// ---------------------------------------------------------------------------------------------
// Tags

function taggable(ctx: SandboxContext, arn: string): { tags: Tag[] } {
  const st = state(ctx);
  const r = st.loadBalancers[arn] ?? st.targetGroups[arn] ?? st.listeners[arn] ?? st.rules[arn];
  if (r) return r;
  if (arn.includes(':loadbalancer/'))
    throw awsError('LoadBalancerNotFound', `Load balancer '${arn}' not found`);
  if (arn.includes(':targetgroup/')) throw awsError('TargetGroupNotFound', `Target group '${arn}' not found`);
  if (arn.includes(':listener-rule/')) throw awsError('RuleNotFound', `Rule '${arn}' not found`);
  if (arn.includes(':listener/')) throw awsError('ListenerNotFound', `Listener '${arn}' not found`);
  throw awsError('ValidationError', `'${arn}' is not a valid Elastic Load Balancing resource ARN`);
}

function resourceArns(input: { ResourceArns?: string[] }): string[] {
  const arns: string[] = input.ResourceArns ?? [];
  if (arns.length === 0) throw awsError('ValidationError', 'At least one resource ARN must be specified');
  if (arns.length > 20) throw awsError('ValidationError', 'You can specify up to 20 resource ARNs');
  return arns;
}

const addTags: Handler<'AddTags'> = (ctx, input) => {
  const tags = validateTags(input.Tags);
  if (tags.length === 0) throw awsError('ValidationError', 'At least one tag must be specified');
  const targets = resourceArns(input).map((a) => taggable(ctx, a));
  const merged = targets.map((t) => mergeTags(t.tags, tags));
  targets.forEach((t, i) => (t.tags = merged[i]));
  return {};
};

const removeTags: Handler<'RemoveTags'> = (ctx, input) => {
  const keys = requiredMember(input, 'TagKeys');
  for (const t of resourceArns(input).map((a) => taggable(ctx, a)))
    t.tags = t.tags.filter((x) => !keys.includes(x.Key));
  return {};
};

const describeTags: Handler<'DescribeTags'> = (ctx, input) => {
  return {
    TagDescriptions: resourceArns(input).map((a) => ({
      ResourceArn: a,
      Tags: taggable(ctx, a).tags.map((t) => ({ ...t })),
    })),
  };
};

// ---------------------------------------------------------------------------------------------
// Internal API (Auto Scaling, ACM)

/** Instances as targets on the group's own port (Auto Scaling registers instances, never ports). */
function instanceTargets(instanceIds: string[]): { Id: string }[] {
  return instanceIds.map((Id) => ({ Id }));
}

export function targetGroupExists(ctx: SandboxContext, arn: string): boolean {
  return state(ctx).targetGroups[arn] !== undefined;
}

/** Registers instances the way Auto Scaling does when they enter InService (no API-level checks). */
export function registerTargetsInternal(
  ctx: SandboxContext,
  targetGroupArn: string,
  instanceIds: string[],
): void {
  const tg = state(ctx).targetGroups[targetGroupArn];
  if (tg) register(ctx, tg, instanceTargets(instanceIds));
}

/** Deregisters instances (Auto Scaling: termination start, detach): they drain, then disappear. */
/**
 * How long Auto Scaling must wait, after deregistering `instanceId` from these target groups, before the
 * instance's termination goes on (ELB connection draining): the longest deregistration delay among the
 * groups where it is registered and not yet draining, in ms (0 when it is registered nowhere).
 */
export function connectionDrainingMs(ctx: SandboxContext, tgArns: string[], instanceId: string): number {
  const st = state(ctx);
  let longest = 0;
  for (const arn of tgArns) {
    const tg = st.targetGroups[arn];
    if (!tg?.targets.some((t) => t.id === instanceId && t.deregisteredAt === undefined)) continue;
    // A target group no load balancer uses has no connections to drain: deregistration is immediate.
    if (loadBalancersOfTargetGroup(ctx, arn).length === 0) continue;
    longest = Math.max(longest, deregistrationDelayMs(tg));
  }
  return longest;
}

export function deregisterTargetsInternal(
  ctx: SandboxContext,
  targetGroupArn: string,
  instanceIds: string[],
): void {
  const tg = state(ctx).targetGroups[targetGroupArn];
  if (tg) deregister(ctx, tg, instanceTargets(instanceIds));
}

/** The health of an instance in a target group (undefined when not registered). */
export function targetHealthInternal(
  ctx: SandboxContext,
  targetGroupArn: string,
  instanceId: string,
): TargetHealthView | undefined {
  const tg = state(ctx).targetGroups[targetGroupArn];
  const t = tg?.targets.find((x) => x.id === instanceId && x.deregisteredAt === undefined);
  return tg && t ? healthOf(ctx, tg, t) : undefined;
}

/** Listener ARNs that use a certificate (ACM's InUseBy). */
export function listenersUsingCertificate(ctx: SandboxContext, certificateArn: string): string[] {
  const st = ctx.sb.existingServiceState<Elbv2State>('elbv2', ctx.region);
  if (!st) return [];
  return Object.values(st.listeners)
    .filter((l) => l.certificates.includes(certificateArn))
    .map((l) => l.arn);
}

// ---------------------------------------------------------------------------------------------

function tick(ctx: SandboxContext): void {
  const st = ctx.sb.existingServiceState<Elbv2State>('elbv2', ctx.region);
  if (!st) return;
  for (const tg of Object.values(st.targetGroups)) pruneDrained(ctx, tg);
}

function fingerprint(value: unknown): string {
  return JSON.stringify(value);
}

function inventory(ctx: SandboxContext): InventoryItem[] {
  const st = ctx.sb.existingServiceState<Elbv2State>('elbv2', ctx.region);
  if (!st) return [];
  const items: InventoryItem[] = [];
  const tagMap = (tags: Tag[]) => Object.fromEntries(tags.map((t) => [t.Key, t.Value]).sort());
  for (const lb of Object.values(st.loadBalancers)) {
    items.push({
      type: 'AWS::ElasticLoadBalancingV2::LoadBalancer',
      id: lb.arn,
      fingerprint: fingerprint({
        scheme: lb.scheme,
        subnets: lb.subnets,
        sgs: lb.securityGroups,
        attrs: lb.attributes,
        tags: tagMap(lb.tags),
      }),
    });
  }
  for (const tg of Object.values(st.targetGroups)) {
    items.push({
      type: 'AWS::ElasticLoadBalancingV2::TargetGroup',
      id: tg.arn,
      fingerprint: fingerprint({
        port: tg.port,
        protocol: tg.protocol,
        hc: tg.healthCheck,
        attrs: tg.attributes,
        tags: tagMap(tg.tags),
      }),
    });
  }
  for (const l of Object.values(st.listeners)) {
    items.push({
      type: 'AWS::ElasticLoadBalancingV2::Listener',
      id: l.arn,
      fingerprint: fingerprint({
        port: l.port,
        protocol: l.protocol,
        certs: l.certificates,
        actions: l.defaultActions,
      }),
    });
  }
  for (const r of Object.values(st.rules)) {
    if (r.priority === undefined) continue;
    items.push({
      type: 'AWS::ElasticLoadBalancingV2::ListenerRule',
      id: r.arn,
      fingerprint: fingerprint({
        priority: r.priority,
        conditions: r.conditions,
        actions: r.actions,
        tags: tagMap(r.tags),
      }),
    });
  }
  return items;
}

export const elbv2Module: ServiceModule = {
  service: 'elbv2',
  operations: {
    CreateLoadBalancer: createLoadBalancer,
    DescribeLoadBalancers: describeLoadBalancers,
    DeleteLoadBalancer: deleteLoadBalancer,
    DescribeLoadBalancerAttributes: (ctx, input) => ({
      Attributes: attributesOutput(getLb(ctx, input.LoadBalancerArn).attributes),
    }),
    ModifyLoadBalancerAttributes: (ctx, input) => {
      const lb = getLb(ctx, input.LoadBalancerArn);
      modifyAttributes(
        lb.attributes,
        input.Attributes,
        /^(deletion_protection\.enabled|idle_timeout\.timeout_seconds|routing\.http2\.enabled|access_logs\.s3\.(enabled|bucket|prefix)|routing\.http\.drop_invalid_header_fields\.enabled)$/,
      );
      return { Attributes: attributesOutput(lb.attributes) };
    },
    SetSecurityGroups: (ctx, input) => {
      const lb = getLb(ctx, input.LoadBalancerArn);
      validateSecurityGroups(ctx, input.SecurityGroups ?? [], lb.vpcId);
      lb.securityGroups = [...(input.SecurityGroups ?? [])];
      return { SecurityGroupIds: [...lb.securityGroups] };
    },
    CreateTargetGroup: createTargetGroup,
    DescribeTargetGroups: describeTargetGroups,
    ModifyTargetGroup: modifyTargetGroup,
    DeleteTargetGroup: deleteTargetGroup,
    DescribeTargetGroupAttributes: (ctx, input) => ({
      Attributes: attributesOutput(getTg(ctx, input.TargetGroupArn).attributes),
    }),
    ModifyTargetGroupAttributes: (ctx, input) => {
      const tg = getTg(ctx, input.TargetGroupArn);
      const candidate = { ...tg.attributes };
      modifyAttributes(
        candidate,
        input.Attributes,
        /^(deregistration_delay\.timeout_seconds|stickiness\.(enabled|type|lb_cookie\.duration_seconds|app_cookie\.(cookie_name|duration_seconds))|slow_start\.duration_seconds|load_balancing\.algorithm\.type)$/,
      );
      if (!['lb_cookie', 'app_cookie'].includes(candidate['stickiness.type'])) {
        throw awsError(
          'InvalidConfigurationRequest',
          `Stickiness type '${candidate['stickiness.type']}' must be 'lb_cookie' or 'app_cookie'`,
        );
      }
      const delay = Number(candidate['deregistration_delay.timeout_seconds']);
      if (!/^\d+$/.test(candidate['deregistration_delay.timeout_seconds']) || delay < 0 || delay > 3600)
        throw awsError(
          'InvalidConfigurationRequest',
          'Deregistration delay must be between 0 and 3600 seconds',
        );
      tg.attributes = candidate;
      return { Attributes: attributesOutput(tg.attributes) };
    },
    RegisterTargets: registerTargets,
    DeregisterTargets: deregisterTargets,
    DescribeTargetHealth: describeTargetHealth,
    CreateListener: createListener,
    DescribeListeners: describeListeners,
    ModifyListener: modifyListener,
    DeleteListener: deleteListener,
    DescribeListenerCertificates: describeListenerCertificates,
    AddListenerCertificates: addListenerCertificates,
    RemoveListenerCertificates: removeListenerCertificates,
    CreateRule: createRule,
    DescribeRules: describeRules,
    ModifyRule: modifyRule,
    SetRulePriorities: setRulePriorities,
    DeleteRule: deleteRule,
    AddTags: addTags,
    RemoveTags: removeTags,
    DescribeTags: describeTags,
  } satisfies OperationsOf<typeof Elbv2Sdk>,
  tick,
  inventory,
};
