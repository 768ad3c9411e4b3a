// The checks of the operator's AWS setup that `doctor` reports and `cluster create` runs before its
// first write, reading only: whether the caller may perform a command's actions (IAM's policy simulator
// on the caller, requiredActions), the EC2 On-Demand vCPU quota against the instances the cluster
// would launch (Service Quotas), and whether the VPC's subnets route to the internet (instances
// download k3s at boot). A check that cannot run (no permission to simulate, a quota the endpoint does
// not know) is `not-checked`, never a failure.
//
// `preflight` is the cheap part `cluster create` runs after its plan and before its first write: a
// denied action or an exceeded quota is a PreflightError (exit 2, nothing changed); a subnet without a
// route to the internet is a warning.
import type { AwsClients } from '../../aws/clients';
import { instanceTypeVcpus, resolveSubnets, type ResolvedSubnet } from '../../aws/lookups';
import type { ClusterSpec } from '../../config/cluster';
import type { StoredClusterConfig } from '../../model/cluster';
import { UserError } from '../../core/errors';
import { getCallerIdentity, simulationPrincipal, type CallerIdentity } from '../../resources/callerIdentity';
import { listRunningInstances } from '../../resources/instance';
import { simulatePrincipalPolicy, type SimulatedAction } from '../../resources/policySimulation';
import { listVpcRouteTables, subnetInternetRoutes, type SubnetRoute } from '../../resources/routeTable';
import { getServiceQuota, ON_DEMAND_STANDARD_VCPUS } from '../../resources/serviceQuota';
import type { WorkflowDeps } from '../deps';
import { actionResource, requiredActions, type ActionContext } from './requiredActions';

export type CheckStatus = 'ok' | 'warn' | 'fail' | 'not-checked';

export interface DoctorCheck {
  check: 'identity' | 'permissions' | 'quota' | 'network';
  status: CheckStatus;
  summary: string;
  details: string[];
}

export interface CommandPermissions {
  command: string;
  status: CheckStatus;
  /** Actions the caller may not perform (`explicitDeny` or `implicitDeny`), with the resource simulated. */
  denied: { action: string; resource: string; decision: string }[];
  /** Actions whose decision depends on conditions the simulation could not know. */
  undecided: { action: string; resource: string; missingContext: string[] }[];
}

export interface PermissionsReport {
  status: CheckStatus;
  /** The IAM user or role simulated. */
  principal?: string;
  reason?: string;
  commands: CommandPermissions[];
}

export interface LaunchedGroup {
  group: string;
  count: number;
  instanceType: string;
  spot: boolean;
  vcpus?: number;
  /** Counted against L-1216C47A; otherwise why not (spot, another instance family). */
  counted: boolean;
  note?: string;
}

export interface QuotaReport {
  status: CheckStatus;
  quotaCode: string;
  name?: string;
  /** The applied quota in vCPUs; undefined when it could not be read. */
  quota?: number;
  /** vCPUs of running On-Demand Standard instances outside the cluster. */
  inUseVcpus?: number;
  /** vCPUs the cluster's groups run (On-Demand Standard only). */
  launchVcpus: number;
  groups: LaunchedGroup[];
  reason?: string;
}

export interface NetworkReport {
  status: CheckStatus;
  vpcId: string;
  reason?: string;
  subnets: (SubnetRoute & { mapPublicIpOnLaunch?: boolean; problem?: string })[];
}

/** A preflight check of `cluster create` failed: nothing was written (exit 2). */
export class PreflightError extends UserError {
  override readonly name: string = 'PreflightError';
  constructor(
    message: string,
    suggestion: string,
    readonly checks: DoctorCheck[],
  ) {
    super(message, suggestion);
  }
}

/** An AWS answer (not a bug of ours): a check that gets one cannot run. */
function awsFailure(error: unknown): string | undefined {
  const e = error as { $metadata?: { httpStatusCode?: number }; name?: string; message?: string; $service?: string; $operation?: string };
  if (!e || typeof e !== 'object' || e.$metadata === undefined) return undefined;
  const call = e.$service && e.$operation ? `${e.$service}:${e.$operation}` : 'the call';
  const status = e.$metadata.httpStatusCode ? ` (HTTP ${e.$metadata.httpStatusCode})` : '';
  return `${call} failed${status}: ${e.name ?? 'Error'}: ${(e.message ?? '').split('\n')[0]}`;
}

function partitionOf(arn: string): string {
  return /^arn:([^:]+):/.exec(arn)?.[1] ?? 'aws';
}

/** Simulates the actions of `commands` for the caller, each on the resource it is authorised on. */
export async function checkPermissions(
  clients: AwsClients,
  identity: CallerIdentity,
  /** The actions of each command (requiredActions). */
  required: Readonly<Record<string, readonly string[]>>,
  commands: string[],
  ctx: Omit<ActionContext, 'partition' | 'account'>,
  /** The commands whose denied actions fail the check (default: all of `commands`). */
  essential: string[] = commands,
): Promise<PermissionsReport> {
  const principal = await simulationPrincipal(clients, identity);
  if (principal.arn === undefined) {
    const reason = principal.reason;
    return { status: principal.kind === 'root' ? 'warn' : 'not-checked', reason, commands: [] };
  }
  const full: ActionContext = { ...ctx, partition: partitionOf(identity.arn), account: identity.account };
  // One simulation per resource, of every action authorised on it.
  const byResource = new Map<string, Set<string>>();
  for (const command of commands) {
    for (const action of required[command] ?? []) {
      const resource = actionResource(command, action, full);
      if (!byResource.has(resource)) byResource.set(resource, new Set());
      byResource.get(resource)!.add(action);
    }
  }
  let results: SimulatedAction[];
  try {
    results = (await Promise.all([...byResource].map(([resource, actions]) => simulatePrincipalPolicy(clients, principal.arn, [...actions].sort(), [resource])))).flat();
  } catch (error) {
    const failure = awsFailure(error);
    if (!failure) throw error;
    return { status: 'not-checked', principal: principal.arn, reason: `could not simulate the policies of ${principal.arn}: ${failure}`, commands: [] };
  }
  const decision = new Map(results.map((r) => [`${r.action.toLowerCase()} ${r.resource}`, r]));
  const report: CommandPermissions[] = commands.map((command) => {
    const denied: CommandPermissions['denied'] = [];
    const undecided: CommandPermissions['undecided'] = [];
    for (const action of [...new Set(required[command] ?? [])].sort()) {
      const resource = actionResource(command, action, full);
      const r = decision.get(`${action.toLowerCase()} ${resource}`);
      if (!r) undecided.push({ action, resource, missingContext: ['(no result from the simulator)'] });
      else if (r.decision !== 'allowed' && r.missingContext.length > 0) undecided.push({ action, resource, missingContext: r.missingContext });
      else if (r.decision !== 'allowed') denied.push({ action, resource, decision: r.decision });
    }
    const status: CheckStatus = denied.length ? 'fail' : undecided.length ? 'warn' : 'ok';
    return { command, status, denied, undecided };
  });
  // Only the commands the check is for decide failure; others the caller cannot run are a warning.
  const decisive = report.filter((c) => essential.includes(c.command));
  const status: CheckStatus = decisive.some((c) => c.status === 'fail') ? 'fail' : report.some((c) => c.status !== 'ok') ? 'warn' : 'ok';
  return { status, principal: principal.arn, commands: report };
}

/**
 * Families that count against L-1216C47A (A, C, D, H, I, M, R, T, Z), by the letters before the
 * generation digit; `hpc`, `inf`, `dl`, `trn`, `mac`, `u-`, `vt` have quotas of their own.
 */
export function isStandardFamily(instanceType: string): boolean {
  const family = instanceType.split('.')[0].toLowerCase();
  if (/^(hpc|inf|dl|trn|mac|u-|vt)/.test(family)) return false;
  return /^[acdhimrtz]/.test(family);
}

/** The vCPUs the groups would run against the On-Demand Standard quota and what other instances already use. */
export async function checkQuota(
  clients: AwsClients,
  groups: { name: string; count: number; instanceType: string; spot: boolean }[],
  cluster: string,
): Promise<QuotaReport> {
  const base = { quotaCode: ON_DEMAND_STANDARD_VCPUS.quotaCode };
  const launched: LaunchedGroup[] = groups.map((g) => {
    const standard = isStandardFamily(g.instanceType);
    const note = g.spot ? 'spot: counted against the Spot quota, not checked' : standard ? undefined : `${g.instanceType.split('.')[0]} instances count against another quota, not checked`;
    return { group: g.name, count: g.count, instanceType: g.instanceType, spot: g.spot, counted: !g.spot && standard, ...(note ? { note } : {}) };
  });
  let quota, running, vcpus;
  try {
    [quota, running] = await Promise.all([getServiceQuota(clients, ON_DEMAND_STANDARD_VCPUS), listRunningInstances(clients)]);
    const others = running.filter((i) => !i.spot && i.cluster !== cluster && isStandardFamily(i.instanceType));
    vcpus = await instanceTypeVcpus(clients, [...launched.filter((g) => g.counted).map((g) => g.instanceType), ...others.map((i) => i.instanceType)]);
    running = others;
  } catch (error) {
    const failure = awsFailure(error);
    if (!failure) throw error;
    return { ...base, status: 'not-checked', launchVcpus: 0, groups: launched, reason: `could not read the quota or the running instances: ${failure}` };
  }
  const others = running;
  for (const g of launched) g.vcpus = vcpus.get(g.instanceType);
  const launchVcpus = launched.filter((g) => g.counted).reduce((n, g) => n + g.count * (g.vcpus ?? 0), 0);
  const inUseVcpus = others.reduce((n, i) => n + (vcpus.get(i.instanceType) ?? 0), 0);
  const status: CheckStatus = inUseVcpus + launchVcpus > quota.value ? 'fail' : 'ok';
  return { ...base, status, name: quota.name, quota: quota.value, inUseVcpus, launchVcpus, groups: launched };
}

/** Whether each subnet routes to the internet, and whether its instances get the public IP an internet gateway needs. */
export async function checkNetwork(clients: AwsClients, vpcId: string, subnets: ResolvedSubnet[]): Promise<NetworkReport> {
  const tables = await listVpcRouteTables(clients, vpcId);
  const routes = subnetInternetRoutes(tables, subnets.map((s) => s.subnetId)).map((r): NetworkReport['subnets'][number] => {
    const subnet = subnets.find((s) => s.subnetId === r.subnetId);
    const out = { ...r, mapPublicIpOnLaunch: subnet?.mapPublicIpOnLaunch };
    if (r.route.kind === 'none') return { ...out, problem: `no route to the internet (route table ${r.routeTableId ?? '(none)'} has no 0.0.0.0/0 route to an internet or NAT gateway)` };
    if (r.route.kind === 'internet-gateway' && subnet?.mapPublicIpOnLaunch === false) {
      return { ...out, problem: `routes to internet gateway ${r.route.target}, but instances launched there get no public IPv4 address (MapPublicIpOnLaunch is false)` };
    }
    if (r.route.kind === 'unknown') return { ...out, problem: `0.0.0.0/0 goes to ${r.route.target}, which may or may not reach the internet` };
    return out;
  });
  const status: CheckStatus = routes.some((r) => r.problem && r.route.kind !== 'unknown') ? 'fail' : routes.some((r) => r.problem) ? 'warn' : 'ok';
  return { status, vpcId, subnets: routes };
}

export function permissionsCheck(p: PermissionsReport, essential: string[]): DoctorCheck {
  if (p.principal === undefined || p.status === 'not-checked') return { check: 'permissions', status: p.status, summary: `not checked: ${p.reason}`, details: [] };
  const denied = (c: CommandPermissions) => c.denied.map((d) => `${d.action}${d.resource === '*' ? '' : ` on ${d.resource}`}`).join(', ');
  const details = p.commands
    .filter((c) => c.status !== 'ok')
    .map((c) =>
      [
        c.denied.length ? `${c.command}: denied ${denied(c)}` : '',
        c.undecided.length ? `${c.command}: depends on conditions: ${c.undecided.map((d) => `${d.action} (${d.missingContext.join(', ')})`).join(', ')}` : '',
      ]
        .filter(Boolean)
        .join('; '),
    );
  const failing = p.commands.filter((c) => c.status === 'fail');
  const blocking = failing.filter((c) => essential.includes(c.command));
  const others = failing.filter((c) => !essential.includes(c.command));
  const all = `every action of ${p.commands.length === 1 ? p.commands[0].command : `the ${p.commands.length} commands`}`;
  let summary: string;
  if (p.status === 'ok') summary = `${p.principal} may perform ${all}`;
  else if (blocking.length) summary = `${p.principal} may not perform some actions of ${blocking.map((c) => c.command).join(', ')}`;
  else if (others.length) summary = `${p.principal} may perform ${essential.join(' and ')}, not every action of ${others.map((c) => c.command).join(', ')}`;
  else summary = `${p.principal}: some actions depend on conditions the simulator could not evaluate`;
  return { check: 'permissions', status: p.status, summary, details };
}

export function quotaCheck(q: QuotaReport): DoctorCheck {
  const details = q.groups.map((g) => `${g.group}: ${g.count}x ${g.instanceType}${g.vcpus ? ` (${g.vcpus} vCPUs each)` : ''}${g.note ? `: ${g.note}` : ''}`);
  if (q.quota === undefined) return { check: 'quota', status: q.status, summary: `not checked: ${q.reason}`, details };
  const summary = `${q.launchVcpus} vCPUs to run + ${q.inUseVcpus} in use by other On-Demand Standard instances ${q.status === 'fail' ? '>' : '<='} quota ${q.quota} (${q.quotaCode})`;
  return { check: 'quota', status: q.status, summary, details };
}

export function networkCheck(n: NetworkReport): DoctorCheck {
  if (n.status === 'not-checked') return { check: 'network', status: n.status, summary: `not checked: ${n.reason}`, details: [] };
  const details = n.subnets.map((s) => {
    const route = s.route.kind === 'none' ? 'no route to the internet' : `0.0.0.0/0 -> ${s.route.target}`;
    return `${s.subnetId}: ${s.problem ?? route} (${s.association === 'explicit' ? 'its own route table' : 'the main route table'} ${s.routeTableId ?? ''})`.replace(/ \)$/, ')');
  });
  const summary =
    n.status === 'ok'
      ? `every subnet of ${n.vpcId} routes to the internet (k3s is downloaded at boot)`
      : `${n.subnets.filter((s) => s.problem).length} of ${n.subnets.length} subnet(s) of ${n.vpcId} may not reach the internet: instances could not download k3s`;
  return { check: 'network', status: n.status, summary, details };
}

/** The command line whose actions a create of this cluster needs. */
function createCommand(ingress: boolean, targetGroups: boolean): string {
  if (ingress) return 'cluster create --ingress-alb';
  return targetGroups ? 'cluster create --node-target-group' : 'cluster create';
}

/** `check()`, or `fallback` with the reason when AWS refused a call it makes (a preflight never fails for that). */
export async function notChecked<T>(check: () => Promise<T>, fallback: (reason: string) => T): Promise<T> {
  try {
    return await check();
  } catch (error) {
    const failure = awsFailure(error);
    if (!failure) throw error;
    return fallback(failure);
  }
}

/** The permission check of cluster create's preflight: it needs the cluster's name and which create it is. */
export function preflightPermissions(
  deps: WorkflowDeps,
  cluster: string,
  command: string,
): Promise<PermissionsReport> {
  const clients = deps.clients;
  return notChecked(
    async (): Promise<PermissionsReport> => {
      const identity = await getCallerIdentity(clients);
      return checkPermissions(clients, identity, requiredActions(deps.providers), [command], { region: deps.region, cluster });
    },
    (reason): PermissionsReport => ({ status: 'not-checked', reason, commands: [] }),
  );
}

/** The command whose actions a cluster create needs: with ingress, with node target groups, or plain. */
export function clusterCreateCommand(spec: Pick<ClusterSpec, 'ingress' | 'groups'>): string {
  return createCommand(Boolean(spec.ingress), spec.groups.some((g) => g.targetGroups?.length));
}

/**
 * The checks `cluster create` makes after planning and before its first write: its own actions and the
 * vCPU quota (failures: PreflightError), the subnets' route to the internet (a warning). Checks that
 * cannot run are logged at debug level and skipped.
 */
export async function preflight(
  deps: WorkflowDeps,
  config: StoredClusterConfig,
  /** The permission check already started (preflightPermissions) for `command`, from what the spec says. */
  started?: { command: string; permissions: Promise<PermissionsReport> },
): Promise<DoctorCheck[]> {
  const clients = deps.clients;
  const subnetIds = [...new Set([...config.subnetIds, ...config.groups.flatMap((g) => g.subnetIds)])];
  const groups = config.groups.map((g) => ({ name: g.name, count: g.count, instanceType: g.instanceType, spot: g.spot }));
  const command = started?.command ?? createCommand(Boolean(config.ingress), config.groups.some((g) => g.targetGroupArns?.length));
  const [permissions, quota, network] = await Promise.all([
    started?.permissions ?? preflightPermissions(deps, config.name, command),
    notChecked(
      () => checkQuota(clients, groups, config.name),
      (reason): QuotaReport => ({ status: 'not-checked', quotaCode: ON_DEMAND_STANDARD_VCPUS.quotaCode, launchVcpus: 0, groups: [], reason }),
    ),
    notChecked(
      async () => checkNetwork(clients, config.vpcId, await resolveSubnets(clients, config.vpcId, { ids: subnetIds })),
      (reason): NetworkReport => ({ status: 'not-checked', vpcId: config.vpcId, subnets: [], reason }),
    ),
  ]);
  const checks = [permissionsCheck(permissions, [command]), quotaCheck(quota), networkCheck(network)];
  for (const c of checks) {
    if (c.status === 'not-checked') deps.events.emit({ kind: 'log', level: 'debug', message: `preflight: ${c.check} ${c.summary}` });
  }
  if (network.status === 'fail' || network.status === 'warn') {
    deps.events.emit({ kind: 'log', level: 'warn', message: `${networkCheck(network).summary}: ${network.subnets.filter((s) => s.problem).map((s) => `${s.subnetId} ${s.problem}`).join('; ')}` });
  }
  const failed = checks.filter((c) => c.status === 'fail' && c.check !== 'network');
  if (failed.length) {
    const denied = permissions.commands.flatMap((c) => c.denied.map((d) => d.action));
    const named = denied.length > 12 ? `${denied.slice(0, 12).join(', ')} and ${denied.length - 12} more (all in checks)` : denied.join(', ');
    const parts = failed.map((c) => (c.check === 'permissions' ? `${permissions.principal} may not perform ${named}` : `On-Demand vCPU quota: ${c.summary}`));
    const fixes = failed.map((c) =>
      c.check === 'permissions'
        ? 'grant those actions (see README "AWS credentials and region")'
        : `lower --control-planes/--nodes or the instance types, use --spot for the nodes, or request more with: aws service-quotas request-service-quota-increase --service-code ec2 --quota-code ${ON_DEMAND_STANDARD_VCPUS.quotaCode} --desired-value N --region ${deps.region}`,
    );
    throw new PreflightError(
      `preflight of cluster create ${config.name} failed, nothing was changed: ${parts.join('; ')}`,
      `${fixes.join('; ')}; k3sctl doctor shows every check; --no-preflight skips them`,
      checks,
    );
  }
  return checks;
}
