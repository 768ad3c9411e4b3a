// A cluster as `cluster describe` and `nodegroup list` show it: groups, instances (state, zone,
// addresses, launch-template version and whether it is current, the reason a failed bootstrap recorded)
// and ingress, from tags and SSM. Reads are paginated listings only: one GetParametersByPath of the
// cluster's path (configuration and bootstrap failures), one DescribeAutoScalingGroups and one
// DescribeInstances listing, whatever the instance count.
import { targetGroupNameOfArn } from '../../aws/arns';
import { names } from '../../aws/names';
import { UserError } from '../../core/errors';
import { listClusterAutoScalingGroups } from '../../resources/autoScalingGroup';
import { listClusterInstances } from '../../resources/instance';
import { listParametersByPath } from '../../resources/ssmParameter';
import type { WorkflowDeps } from '../deps';
import { isLeaving } from '../../resources/autoScalingInstance';
import {
  parseReplacementRecord,
  REPLACEMENT_TAG,
  type ReplacementRecord,
} from '../../resources/replacementRecord';
import { assembleClusterConfigs } from '../../model/stored';
import { bootstrapFailuresOf } from './clusterPlan';

export interface DescribedInstance {
  id: string;
  state: string;
  lifecycleState: string;
  health: string;
  az: string;
  privateIp?: string;
  publicIp?: string;
  instanceType?: string;
  launchTemplateVersion?: string;
  upToDate: boolean;
  /** Terminating or detaching: on its way out of the group (never counted as out of date). */
  leaving: boolean;
  /** Why its bootstrap failed for good, as the instance recorded it (it then marked itself Unhealthy). */
  bootstrapFailure?: string;
}

/** A bootstrap failure an instance recorded under /k3sctl/clusters/NAME/bootstrap-failures/ID. */
export interface RecordedBootstrapFailure {
  instanceId: string;
  reason: string;
  /** When it was recorded (ISO 8601). */
  at?: string;
  /** Whether the instance is still in one of the cluster's groups (else the group replaced it). */
  inGroup: boolean;
}

export interface DescribedGroup {
  name: string;
  role: string;
  autoScalingGroup: string;
  instanceType?: string;
  k3sVersion?: string;
  spot: boolean;
  /** The user's security groups the instances join besides the cluster's (as declared; empty: none). */
  securityGroupIds: string[];
  /** The user's target groups the group registers its instances in (as declared; empty: none). */
  targetGroupArns: string[];
  /** Their names (read from the ARNs), in the same order. */
  targetGroupNames: string[];
  launchTemplateVersion?: string;
  desired: number;
  min: number;
  max: number;
  instances: DescribedInstance[];
  /** An unfinished replacement (recycle or upgrade interrupted): `k3sctl recycle` finishes it, `k3sctl runs rollback RUN` undoes it. */
  replacement?: ReplacementRecord;
}

export interface ClusterDescription {
  name: string;
  region: string;
  vpcId?: string;
  k3sVersion?: string;
  /** False when the configuration parameter is missing (a half-created or half-deleted cluster). */
  configured: boolean;
  groups: DescribedGroup[];
  outOfDate: number;
  /** Every recorded bootstrap failure, newest first (also of instances the groups already replaced). */
  bootstrapFailures: RecordedBootstrapFailure[];
  ingress: {
    host: string;
    /** The first ALB and its target group (as before several ALBs were possible); every one is in `albs`. */
    alb: string;
    targetGroup: string;
    /** Every ALB the cluster's rule is on, each with the cluster's target group there. */
    albs: { alb: string; targetGroup: string }[];
    /** Client CIDRs the ingress rule accepts (its `source-ip` condition); empty: any. */
    sourceCidrs: string[];
    /** The target group's deregistration delay as declared; absent for a cluster created before the setting. */
    deregistrationDelaySeconds?: number;
  } | null;
  apiCalls: { read: number; write: number };
}

/** The names of target groups, read from their ARNs (the ARN when it names none). */
function targetGroupNames(arns: string[] | undefined): string[] {
  return (arns ?? []).map((arn) => targetGroupNameOfArn(arn) ?? arn);
}

export async function describeCluster(deps: WorkflowDeps, cluster: string): Promise<ClusterDescription> {
  const [params, groups, instances] = await Promise.all([
    listParametersByPath(deps.clients, names.ssmPrefix(cluster)),
    listClusterAutoScalingGroups(deps.clients, cluster),
    listClusterInstances(deps.clients, cluster),
  ]);
  const config = assembleClusterConfigs(params).get(cluster);
  const failures = bootstrapFailuresOf(params, cluster);
  if (!config && groups.length === 0) {
    throw new UserError(
      `cluster ${cluster} does not exist in ${deps.region}`,
      'see k3sctl cluster list (is the region right?)',
      'name',
    );
  }
  const byId = new Map(instances.map((i) => [i.instanceId, i]));
  const described: DescribedGroup[] = [];
  const declared = new Map((config?.groups ?? []).map((g) => [names.autoScalingGroup(cluster, g.name), g]));
  for (const asg of groups) {
    const g = declared.get(asg.name);
    const replacement = parseReplacementRecord(asg.tags[REPLACEMENT_TAG], asg.name);
    described.push({
      name: asg.group ?? g?.name ?? asg.name,
      role: asg.role ?? g?.role ?? 'unknown',
      autoScalingGroup: asg.name,
      instanceType: g?.instanceType,
      k3sVersion: g?.k3sVersion,
      spot: asg.spot,
      securityGroupIds: g?.securityGroupIds ?? [],
      targetGroupArns: g?.targetGroupArns ?? [],
      targetGroupNames: targetGroupNames(g?.targetGroupArns),
      launchTemplateVersion: asg.launchTemplateVersion,
      desired: asg.desired,
      min: asg.min,
      max: asg.max,
      instances: asg.instances.map((i) => {
        const ec2 = byId.get(i.instanceId);
        return {
          id: i.instanceId,
          state: ec2?.state ?? 'unknown',
          lifecycleState: i.lifecycleState,
          health: i.healthStatus,
          az: i.availabilityZone || ec2?.availabilityZone || '',
          privateIp: ec2?.privateIp,
          publicIp: ec2?.publicIp,
          instanceType: i.instanceType ?? ec2?.instanceType,
          launchTemplateVersion: i.launchTemplateVersion,
          upToDate: i.launchTemplateVersion === asg.launchTemplateVersion,
          leaving: isLeaving(i.lifecycleState),
          ...(failures.has(i.instanceId) ? { bootstrapFailure: failures.get(i.instanceId)!.reason } : {}),
        };
      }),
      ...(replacement ? { replacement } : {}),
    });
  }
  for (const [asgName, g] of declared) {
    if (!groups.some((a) => a.name === asgName)) {
      described.push({
        name: g.name,
        role: g.role,
        autoScalingGroup: asgName,
        instanceType: g.instanceType,
        k3sVersion: g.k3sVersion,
        spot: g.spot,
        securityGroupIds: g.securityGroupIds ?? [],
        targetGroupArns: g.targetGroupArns ?? [],
        targetGroupNames: targetGroupNames(g.targetGroupArns),
        desired: 0,
        min: 0,
        max: 0,
        instances: [],
      });
    }
  }
  described.sort(
    (a, b) =>
      Number(b.role === 'control-plane') - Number(a.role === 'control-plane') || a.name.localeCompare(b.name),
  );
  const inGroup = new Set(groups.flatMap((g) => g.instances.map((i) => i.instanceId)));
  const bootstrapFailures = [...failures]
    .map(([instanceId, f]): RecordedBootstrapFailure => ({
      instanceId,
      reason: f.reason,
      ...(f.at ? { at: new Date(f.at).toISOString() } : {}),
      inGroup: inGroup.has(instanceId),
    }))
    .sort((a, b) => (b.at ?? '').localeCompare(a.at ?? '') || a.instanceId.localeCompare(b.instanceId));
  return {
    name: cluster,
    region: deps.region,
    vpcId: config?.vpcId,
    k3sVersion: config?.k3sVersion,
    configured: Boolean(config),
    groups: described,
    outOfDate: described.reduce((n, g) => n + g.instances.filter((i) => !i.upToDate && !i.leaving).length, 0),
    bootstrapFailures,
    ingress: config?.ingress
      ? {
          host: config.ingress.host,
          alb: config.ingress.albs[0]!.albName,
          targetGroup: config.ingress.albs[0]!.targetGroupName,
          albs: config.ingress.albs.map((a) => ({ alb: a.albName, targetGroup: a.targetGroupName })),
          sourceCidrs: config.ingress.sourceCidrs ?? [],
          ...(config.ingress.deregistrationDelaySeconds !== undefined ? { deregistrationDelaySeconds: config.ingress.deregistrationDelaySeconds } : {}),
        }
      : null,
    apiCalls: deps.clients.calls.snapshot(),
  };
}
