// Simulated EC2: the operations (split by kind under ./ec2/), time-driven instance transitions, the
// inventory, and the internal API the other simulated services (Auto Scaling, ELBv2) call.
import type { InventoryItem, ServiceModule } from '../service';
import { behaviorApplies, type SandboxAccount, type SandboxContext } from '../account';
import { catalogOperations } from './ec2/catalog';
import { networkOperations } from './ec2/network';
import { routeTableOperations } from './ec2/routeTables';
import { securityGroupOperations } from './ec2/securityGroups';
import { launchTemplateOperations } from './ec2/launchTemplates';
import { taggingOperations } from './ec2/tagging';
import {
  applyInstanceTransitions,
  applyTransitionsTo,
  asgNameOf,
  beginTermination,
  instanceOperations,
  launchInstances,
  mergeLaunchRequests,
  requestFromTemplateData,
  resolveTemplate,
} from './ec2/instances';
import { digest, ec2State, type SbInstance, type SshEndpoint, type StoredInstance } from './ec2/state';

export type { SbInstance } from './ec2/state';

function toSbInstance(ctx: SandboxContext, inst: StoredInstance): SbInstance {
  const copy = structuredClone(inst) as SbInstance;
  const mapped = ec2State(ctx).sshEndpoints[inst.InstanceId];
  if (mapped) copy.PublicIpAddress = mapped.host;
  return copy;
}

/** Launches one instance from a launch template version (resolving $Latest/$Default), as Auto Scaling does. Throws the same AWS errors RunInstances would. */
export function launchInstanceFromTemplate(
  ctx: SandboxContext,
  p: {
    launchTemplateId?: string;
    launchTemplateName?: string;
    version?: string;
    subnetId: string;
    tags: { Key: string; Value: string }[];
    instanceType?: string;
    spot?: boolean;
  },
): SbInstance {
  const lt = resolveTemplate(ctx, {
    launchTemplateId: p.launchTemplateId,
    launchTemplateName: p.launchTemplateName,
    version: p.version,
  });
  const request = mergeLaunchRequests(requestFromTemplateData(lt, lt.data), {
    SubnetId: p.subnetId,
    InstanceType: p.instanceType,
    spot: p.spot,
    Tags: p.tags,
  });
  // An instance launched into a subnet chosen by the group never keeps the template's zone.
  request.AvailabilityZone = undefined;
  const [inst] = launchInstances(ctx, request, 1);
  return toSbInstance(ctx, inst);
}

/** Starts terminating an instance (-> shutting-down); unknown or already terminated ids are ignored. */
export function terminateInstanceInternal(ctx: SandboxContext, instanceId: string): void {
  const s = ec2State(ctx);
  const inst = s.instances[instanceId];
  if (inst && applyTransitionsTo(s, inst, ctx.sb.now())) beginTermination(ctx, inst);
}

/** The instance after applying transitions up to ctx.now (a copy), or undefined once it has vanished. */
export function getInstance(ctx: SandboxContext, instanceId: string): SbInstance | undefined {
  const s = ec2State(ctx);
  const inst = s.instances[instanceId];
  return inst && applyTransitionsTo(s, inst, ctx.sb.now()) ? toSbInstance(ctx, inst) : undefined;
}

/** Every instance of the region (copies, transitions applied), terminated ones included while visible. */
export function listInstances(ctx: SandboxContext): SbInstance[] {
  applyInstanceTransitions(ctx);
  return Object.values(ec2State(ctx).instances).map((i) => toSbInstance(ctx, i));
}

/** A launch template version by id or name and version (`$Latest`, `$Default` or a number), as Auto Scaling resolves it. */
export { resolveTemplate as resolveLaunchTemplateVersion };

/** Running, and not named (by id, Auto Scaling group or `*`) in behavior.neverHealthy or bootstrapFails. */
export function isInstanceHealthy(ctx: SandboxContext, instanceId: string, groupName?: string): boolean {
  const inst = getInstance(ctx, instanceId);
  if (!inst || inst.state !== 'running') return false;
  const group = groupName ?? asgNameOf(inst);
  return !behaviorApplies(ctx.sb.behavior.neverHealthy, instanceId, group) && !behaviorApplies(ctx.sb.behavior.bootstrapFails, instanceId, group);
}

/** Points an instance at a real SSH server (tests): DescribeInstances reports `host`, the console prints the fingerprint. */
export function mapInstanceToSsh(
  sb: SandboxAccount,
  region: string,
  instanceId: string,
  endpoint: SshEndpoint,
): void {
  ec2State(sb.context(region)).sshEndpoints[instanceId] = { ...endpoint };
}

const ec2Operations = {
  ...catalogOperations,
  ...networkOperations,
  ...routeTableOperations,
  ...securityGroupOperations,
  ...launchTemplateOperations,
  ...taggingOperations,
  ...instanceOperations,
};

export const ec2Module: ServiceModule = {
  service: 'ec2',
  operations: ec2Operations,
  tick: applyInstanceTransitions,
  inventory(ctx, { includeDefaults }): InventoryItem[] {
    const s = ec2State(ctx);
    const items: InventoryItem[] = [];
    const tagPrint = (tags: { Key: string; Value: string }[]) =>
      digest([...tags].sort((a, b) => a.Key.localeCompare(b.Key)));
    for (const v of Object.values(s.vpcs)) {
      if (includeDefaults || !v.IsDefault)
        items.push({ type: 'AWS::EC2::VPC', id: v.VpcId, fingerprint: tagPrint(v.Tags) });
    }
    for (const sn of Object.values(s.subnets)) {
      if (includeDefaults || !sn.DefaultForAz)
        items.push({ type: 'AWS::EC2::Subnet', id: sn.SubnetId, fingerprint: tagPrint(sn.Tags) });
    }
    for (const g of Object.values(s.securityGroups)) {
      // Every VPC's `default` group comes and goes with its VPC, which is listed itself.
      if (g.GroupName === 'default' && !includeDefaults) continue;
      const rules = g.rules
        .map(
          (r) =>
            `${r.IsEgress ? 'out' : 'in'}:${r.IpProtocol}:${r.FromPort}-${r.ToPort}:${r.CidrIpv4 ?? r.CidrIpv6 ?? r.ReferencedGroupId}`,
        )
        .sort();
      items.push({
        type: 'AWS::EC2::SecurityGroup',
        id: g.GroupId,
        fingerprint: digest({ rules, tags: tagPrint(g.Tags) }),
      });
    }
    for (const k of Object.values(s.keyPairs)) {
      if (includeDefaults || !k.isDefault) items.push({ type: 'AWS::EC2::KeyPair', id: k.KeyName });
    }
    for (const lt of Object.values(s.launchTemplates)) {
      items.push({
        type: 'AWS::EC2::LaunchTemplate',
        id: lt.LaunchTemplateId,
        fingerprint: `default=${lt.DefaultVersionNumber};latest=${lt.LatestVersionNumber};versions=${Object.keys(lt.versions).join(',')}`,
      });
    }
    for (const i of Object.values(s.instances)) {
      // A shutting-down instance is irreversibly on its way out: for "as before" comparisons it is gone.
      if (i.state === 'terminated' || i.state === 'shutting-down') continue;
      items.push({
        type: 'AWS::EC2::Instance',
        id: i.InstanceId,
        fingerprint: i.state === 'stopped' ? 'stopped' : 'live',
      });
    }
    return items;
  },
};
