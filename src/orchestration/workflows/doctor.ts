// `doctor`: a preflight of the operator's AWS setup against what a `cluster create` would do, reading
// only: who the caller is (STS), then every check of steps/preflight.ts (each command's actions, the
// vCPU quota, the subnets' route to the internet), reported with where each AWS setting came from.
import { resolveInstanceTypes, resolveSubnets, resolveVpc } from '../../aws/lookups';
import type { ClusterSpec } from '../../config/cluster';
import { getCallerIdentity, type CallerIdentity } from '../../resources/callerIdentity';
import type { WorkflowDeps } from '../deps';
import {
  checkNetwork,
  checkPermissions,
  checkQuota,
  clusterCreateCommand,
  networkCheck,
  notChecked,
  permissionsCheck,
  quotaCheck,
  type DoctorCheck,
  type NetworkReport,
  type PermissionsReport,
  type QuotaReport,
} from '../steps/preflight';
import { requiredActions } from '../steps/requiredActions';

/** The run's AWS settings and where each came from (`--region`, `AWS_REGION`, `profile lab in ~/.aws/config`, ...), resolved by the CLI. */
export interface DoctorSetup {
  region: string;
  regionSource: string;
  profile?: string;
  profileSource?: string;
  endpointUrl?: string;
  endpointSource: string;
}

export interface DoctorResult {
  identity: CallerIdentity;
  region: { name: string; source: string };
  profile?: { name: string; source: string };
  endpoint: { url?: string; source: string };
  cluster: { name: string; vpcId: string; subnetIds: string[]; groups: { name: string; count: number; instanceType: string; spot: boolean }[] };
  checks: DoctorCheck[];
  permissions: PermissionsReport;
  quota: QuotaReport;
  network: NetworkReport;
  /** No check failed. */
  ok: boolean;
}

/** Every check, for the cluster `spec` describes (its name only places cluster-scoped actions). */
export async function doctor(deps: WorkflowDeps, spec: ClusterSpec, setup: DoctorSetup): Promise<DoctorResult> {
  const clients = deps.clients;
  const identity = await getCallerIdentity(clients);
  const vpc = await resolveVpc(clients, spec.vpc);
  const [subnets] = await Promise.all([
    resolveSubnets(clients, vpc.vpcId, spec.subnets),
    resolveInstanceTypes(clients, spec.groups.map((g) => ({ type: g.instanceType, field: g.role === 'control-plane' ? '--control-plane-type' : '--node-type' }))),
  ]);
  const groupSubnets = (await Promise.all(spec.groups.filter((g) => g.subnets).map((g) => resolveSubnets(clients, vpc.vpcId, g.subnets!)))).flat();
  const allSubnets = [...new Map([...subnets, ...groupSubnets].map((s) => [s.subnetId, s])).values()];
  const required = requiredActions(deps.providers);
  const commands = Object.keys(required);
  // What the cluster described needs: to be created, and to be deleted again.
  const essential = [clusterCreateCommand(spec), 'cluster delete'];
  const groups = spec.groups.map((g) => ({ name: g.name, count: g.count, instanceType: g.instanceType, spot: g.spot }));
  const [permissions, quota, network] = await Promise.all([
    checkPermissions(clients, identity, required, commands, { region: deps.region, cluster: spec.name }, essential),
    checkQuota(clients, groups, spec.name),
    notChecked(
      () => checkNetwork(clients, vpc.vpcId, allSubnets),
      (reason): NetworkReport => ({ status: 'not-checked', vpcId: vpc.vpcId, subnets: [], reason }),
    ),
  ]);
  const checks: DoctorCheck[] = [
    { check: 'identity', status: 'ok', summary: `${identity.arn} (account ${identity.account})`, details: [] },
    permissionsCheck(permissions, essential),
    quotaCheck(quota),
    networkCheck(network),
  ];
  return {
    identity,
    region: { name: setup.region, source: setup.regionSource },
    ...(setup.profile ? { profile: { name: setup.profile, source: setup.profileSource ?? '--profile' } } : {}),
    endpoint: { ...(setup.endpointUrl ? { url: setup.endpointUrl } : {}), source: setup.endpointSource },
    cluster: { name: spec.name, vpcId: vpc.vpcId, subnetIds: allSubnets.map((s) => s.subnetId), groups },
    checks,
    permissions,
    quota,
    network,
    ok: !checks.some((c) => c.status === 'fail'),
  };
}
