// From the input to the model: every lookup of a ClusterSpec or GroupSpec (VPC, subnets, instance
// types, AMIs, key pair, extra security and target groups, ingress ALBs and hosted zone) resolved into
// the stored configuration, reading only; nothing is written before all of them succeeded.
import type { AwsClients } from '../aws/clients';
import {
  checkKeyPair,
  resolveImage,
  resolveInstanceTypes,
  resolveSecurityGroups,
  resolveSubnets,
  resolveTargetGroups,
  resolveVpc,
  type Architecture,
  type ResolvedImage,
  type ResolvedSubnet,
} from '../aws/lookups';
import { DEFAULT_IMDS_HOP_LIMIT, groupFlags, type ClusterSpec, type GroupSpec, type IngressSpec } from '../config/cluster';
import { MAX_INGRESS_ALBS, names } from '../aws/names';
import { UserError } from '../core/errors';
import { findHostedZone } from '../resources/hostedZone';
import { findHttpsListener, findLoadBalancer } from '../resources/loadBalancer';
import { findAlbSecurityGroups } from '../resources/securityGroupRule';
import {
  checkSecurityGroupCount,
  ingressSecurityGroups,
  STORED_CONFIG_VERSION,
  type StoredClusterConfig,
  type StoredGroup,
  type StoredIngress,
  type StoredIngressAlb,
} from './cluster';

function typeField(g: GroupSpec): string {
  return g.role === 'control-plane' ? '--control-plane-type' : '--node-type';
}

/**
 * A group's extra security groups and target groups resolved to ids and ARNs (sorted, so the stored
 * group compares equal however they were given); empty lists are left out of the stored group.
 * `ingressGroups`: how many ALB downstream groups the instances join at least (counted against the limit).
 */
async function resolveExtraGroups(
  clients: AwsClients,
  vpcId: string,
  g: GroupSpec,
  ingressGroups: number,
): Promise<Pick<StoredGroup, 'securityGroupIds' | 'targetGroupArns'>> {
  const flags = groupFlags(g.role);
  const [securityGroupIds, targetGroupArns] = await Promise.all([
    resolveSecurityGroups(clients, vpcId, g.securityGroups ?? [], flags.securityGroups!),
    resolveTargetGroups(clients, vpcId, g.targetGroups ?? [], flags.targetGroups!),
  ]);
  checkSecurityGroupCount(g, securityGroupIds, ingressGroups);
  return {
    ...(securityGroupIds.length ? { securityGroupIds: securityGroupIds.sort() } : {}),
    ...(targetGroupArns.length ? { targetGroupArns: targetGroupArns.sort() } : {}),
  };
}

/**
 * Resolves subnets, instance types, AMIs and extra security/target groups of groups; nothing is written.
 * The VPC and the cluster's subnets may still be resolving: instance types and AMIs do not need them.
 * `options.ingressSecurityGroups`: how many ALB downstream groups the instances join at least (the
 * exact count is checked when the tasks are built, before any write).
 */
export async function resolveGroups(
  clients: AwsClients,
  vpcId: string | Promise<string>,
  clusterSubnets: ResolvedSubnet[] | Promise<ResolvedSubnet[]>,
  groups: GroupSpec[],
  options: { ingressSecurityGroups?: number } = {},
): Promise<StoredGroup[]> {
  const types = resolveInstanceTypes(
    clients,
    groups.map((g) => ({ type: g.instanceType, field: typeField(g) })),
  );
  const images = new Map<string, Promise<ResolvedImage>>();
  const imageOf = async (g: GroupSpec): Promise<ResolvedImage> => {
    const info = (await types).get(g.instanceType)!;
    if ('id' in g.ami) {
      const known = images.get(`id:${g.ami.id}`);
      const image = await (known ?? resolveImage(clients, g.ami, info.architectures[0]));
      if (!info.architectures.includes(image.architecture)) {
        throw new UserError(
          `AMI ${image.imageId} is ${image.architecture} but ${g.instanceType} runs ${info.architectures.join('/')}`,
          'pick an AMI of the instance type\'s architecture, or use --os',
          '--ami',
        );
      }
      return image;
    }
    const arch: Architecture = info.architectures.includes('x86_64') ? 'x86_64' : info.architectures[0];
    const key = `${JSON.stringify(g.ami)}/${arch}`;
    if (!images.has(key)) images.set(key, resolveImage(clients, g.ami, arch));
    return images.get(key)!;
  };
  // Every group's lookups side by side (reads only); the result keeps the groups' order.
  return Promise.all(
    groups.map(async (g): Promise<StoredGroup> => {
      const inVpc = Promise.resolve(vpcId);
      const [subnets, extras, image] = await Promise.all([
        g.subnets ? inVpc.then((id) => resolveSubnets(clients, id, g.subnets!)) : clusterSubnets,
        inVpc.then((id) => resolveExtraGroups(clients, id, g, options.ingressSecurityGroups ?? 0)),
        imageOf(g),
      ]);
      return {
        name: g.name,
        role: g.role,
        count: g.count,
        instanceType: g.instanceType,
        subnetIds: subnets.map((s) => s.subnetId),
        imageId: image.imageId,
        rootDeviceName: image.rootDeviceName,
        k3sVersion: g.k3sVersion,
        k3sArgs: g.k3sArgs,
        labels: g.labels,
        taints: g.taints,
        spot: g.spot,
        rootVolumeSize: g.rootVolumeSize,
        rootVolumeType: g.rootVolumeType,
        imdsHopLimit: g.imdsHopLimit,
        ...(g.cpuCredits ? { cpuCredits: g.cpuCredits } : {}),
        ...extras,
      };
    }),
  );
}

/** One ALB of the automatic ingress: in the cluster's VPC, with an HTTPS listener. */
async function resolveIngressAlb(
  clients: AwsClients,
  clusterVpcId: Promise<string>,
  ref: string,
): Promise<Omit<StoredIngressAlb, 'targetGroupName'>> {
  const lb = await findLoadBalancer(clients, ref, '--ingress-alb');
  // Found while the cluster's VPC may still be resolving: checked once both are known.
  const inClusterVpc = clusterVpcId.then((vpcId) => {
    if (lb.vpcId && lb.vpcId !== vpcId) {
      throw new UserError(
        `ALB ${lb.name} is in VPC ${lb.vpcId}, the cluster in ${vpcId}`,
        'use an ALB of the cluster VPC',
        '--ingress-alb',
      );
    }
  });
  const [, listener, { downstream }] = await Promise.all([
    inClusterVpc,
    findHttpsListener(clients, lb.arn, lb.name),
    findAlbSecurityGroups(clients, lb.name),
  ]);
  return {
    albName: lb.name,
    loadBalancerArn: lb.arn,
    listenerArn: listener.ListenerArn!,
    instanceSecurityGroupId: downstream?.groupId,
  };
}

/**
 * The target group of each ingress ALB. An ALB the cluster already uses keeps its target group; a new
 * one takes the lowest slot no ALB of the stored configuration holds (a target group belongs to one ALB,
 * so the name of one being removed in this run is not reused until it is gone).
 */
function assignIngressTargetGroups(
  cluster: string,
  albs: Omit<StoredIngressAlb, 'targetGroupName'>[],
  existing?: StoredIngress,
): StoredIngressAlb[] {
  const kept = new Map((existing?.albs ?? []).map((a) => [a.loadBalancerArn, a.targetGroupName]));
  const taken = new Set(kept.values());
  return albs.map((alb) => {
    let targetGroupName = kept.get(alb.loadBalancerArn);
    for (let slot = 1; !targetGroupName && slot <= MAX_INGRESS_ALBS; slot++) {
      const name = names.ingressTargetGroup(cluster, slot);
      if (!taken.has(name)) targetGroupName = name;
    }
    if (!targetGroupName) {
      throw new UserError(
        `--ingress-alb: ALB ${alb.albName} needs a target group, but the ${MAX_INGRESS_ALBS} names of ${cluster}'s ingress target groups are all held by the ALBs it uses now`,
        'remove an ALB in one run and add the new one in the next',
        '--ingress-alb',
      );
    }
    taken.add(targetGroupName);
    return { ...alb, targetGroupName };
  });
}

async function resolveIngress(
  clients: AwsClients,
  cluster: string,
  region: string,
  vpcId: Promise<string>,
  ingress: IngressSpec,
  existing?: StoredIngress,
): Promise<StoredIngress> {
  const [zone, ...resolved] = await Promise.all([
    findHostedZone(clients, ingress.zone, '--ingress-zone'),
    ...ingress.albs.map((ref) => resolveIngressAlb(clients, vpcId, ref)),
  ]);
  // The same ALB given by name and by ARN is one ALB.
  const albs = [...new Map(resolved.map((a) => [a.loadBalancerArn, a])).values()];
  return {
    // In target group order, not as given: reordering --ingress-alb changes nothing.
    albs: assignIngressTargetGroups(cluster, albs, existing).sort((a, b) => a.targetGroupName.localeCompare(b.targetGroupName)),
    zoneId: zone.zoneId,
    zoneName: zone.name,
    host: names.ingressHost(cluster, region, zone.name),
    deregistrationDelaySeconds: ingress.deregistrationDelaySeconds,
    ...(ingress.sourceCidrs.length ? { sourceCidrs: ingress.sourceCidrs } : {}),
  };
}

/**
 * Resolves every lookup of a `cluster create` spec into the stored configuration. Groups of an existing
 * configuration that the spec does not name (added by `nodegroup add`) are kept.
 */
export async function resolveClusterConfig(
  clients: AwsClients,
  region: string,
  spec: ClusterSpec,
  existing?: StoredClusterConfig,
): Promise<StoredClusterConfig> {
  // Every lookup starts at once (reads only); those that need the VPC wait for it, the others (instance
  // types, AMIs, key pair, ALBs, hosted zone) do not. Errors keep their order: the VPC's first.
  const vpcLookup = resolveVpc(clients, spec.vpc);
  const vpcId = vpcLookup.then((v) => v.vpcId);
  const subnetsLookup = vpcId.then((id) => resolveSubnets(clients, id, spec.subnets));
  const lookups = Promise.all([
    subnetsLookup,
    resolveGroups(clients, vpcId, subnetsLookup, spec.groups, {
      ingressSecurityGroups: spec.ingress ? 1 : ingressSecurityGroups(existing?.ingress).length,
    }),
    spec.keyName ? checkKeyPair(clients, spec.keyName) : undefined,
    // Without ingress flags an existing ingress is kept, like groups the spec does not name.
    spec.ingress
      ? resolveIngress(clients, spec.name, region, vpcId, spec.ingress, existing?.ingress)
      : existing?.ingress,
  ]);
  // Reported after the VPC's own error or the VPC check below, if any.
  lookups.catch(() => undefined);
  const vpc = await vpcLookup;
  if (existing && existing.vpcId !== vpc.vpcId) {
    throw new UserError(
      `cluster ${spec.name} already exists in ${region} in VPC ${existing.vpcId}, not ${vpc.vpcId}`,
      `pick another cluster name, or delete it first (k3sctl cluster delete ${spec.name})`,
      'name',
    );
  }
  const [subnets, resolved, , ingress] = await lookups;
  const current = new Map((existing?.groups ?? []).map((g) => [g.name, g]));
  const groups = resolved.map((g) => {
    const was = current.get(g.name);
    if (!was) return g;
    const keepImage = !spec.explicit?.ami && was.instanceType.split('.')[0] === g.instanceType.split('.')[0];
    return {
      ...g,
      k3sVersion: spec.explicit?.k3sVersion === false ? was.k3sVersion : g.k3sVersion,
      ...(keepImage ? { imageId: was.imageId, rootDeviceName: was.rootDeviceName } : {}),
    };
  });
  const named = new Set(groups.map((g) => g.name));
  // Groups added by `nodegroup add` keep their settings; one stored before the hop limit existed
  // (launch template at hop limit 2) converges to the default here, and only here.
  for (const g of existing?.groups ?? []) if (!named.has(g.name)) groups.push({ ...g, imdsHopLimit: g.imdsHopLimit ?? DEFAULT_IMDS_HOP_LIMIT });
  return {
    version: STORED_CONFIG_VERSION,
    name: spec.name,
    region: region,
    vpcId: vpc.vpcId,
    subnetIds: subnets.map((s) => s.subnetId),
    k3sVersion: spec.explicit?.k3sVersion === false && existing ? existing.k3sVersion : spec.k3sVersion,
    keyName: spec.keyName,
    sshCidrs: spec.sshCidrs,
    apiCidrs: spec.apiCidrs,
    tlsSans: spec.tlsSans,
    groups: groups.sort((a, b) => a.name.localeCompare(b.name)),
    ingress,
  };
}
