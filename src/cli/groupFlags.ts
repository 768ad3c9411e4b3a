// The flags of an instance group, shared by `cluster create`, `controlplane add` and `nodegroup add`:
// how its instances are chosen (subnets, AMI, k3s), their CPU credits, extra security and target groups.
import { Flags } from '@oclif/core';
import { dryRunFlag, specFileFlag } from './flags';

/** Flags a group takes in `cluster create`, `controlplane add` and `nodegroup add`. */
export const groupSelectionFlags = {
  'subnet-id': Flags.string({ description: 'subnet by id (repeatable); default: the VPC\'s subnets', multiple: true }),
  'subnet-filter': Flags.string({ description: 'subnets by EC2 filter NAME=VALUE (repeatable), e.g. availability-zone=us-east-1a', multiple: true }),
  ami: Flags.string({ description: 'AMI id', env: 'K3SCTL_AMI' }),
  'ami-name': Flags.string({ description: 'AMI name regular expression (newest match)', env: 'K3SCTL_AMI_NAME' }),
  'ami-owner': Flags.string({ description: 'AMI owner (account id or alias) for --ami-name', env: 'K3SCTL_AMI_OWNER' }),
  os: Flags.string({ description: 'OS alias resolved through the public SSM AMI parameters (default al2023)', options: ['al2023', 'ubuntu-24.04'], env: 'K3SCTL_OS' }),
  'k3s-version': Flags.string({ description: 'k3s version, e.g. v1.31.6+k3s1', env: 'K3SCTL_K3S_VERSION' }),
  'k3s-arg': Flags.string({ description: 'extra k3s argument (repeatable)', multiple: true }),
  label: Flags.string({ description: 'node label KEY=VALUE (repeatable)', multiple: true }),
  taint: Flags.string({ description: 'node taint KEY[=VALUE]:EFFECT (repeatable)', multiple: true }),
  'root-volume-size': Flags.integer({ description: 'root volume size in GiB (default 20)', env: 'K3SCTL_ROOT_VOLUME_SIZE' }),
  'root-volume-type': Flags.string({ description: 'root volume type (default gp3)', env: 'K3SCTL_ROOT_VOLUME_TYPE' }),
  'imds-hop-limit': Flags.integer({
    description: 'IMDSv2 hop limit, 1-64 (default 1: pods cannot reach the node role\'s credentials; 2 lets pods in pod networking reach IMDS)',
    env: 'K3SCTL_IMDS_HOP_LIMIT',
  }),
  file: specFileFlag('YAML file with the same fields as the flags (flags override it); schema: schema/cluster.schema.json'),
  wait: Flags.boolean({ description: 'wait until instances are InService (--no-wait returns after the writes)', default: true, allowNo: true, env: 'K3SCTL_WAIT' }),
  'dry-run': dryRunFlag(),
};

/** `--control-plane-cpu-credits` / `--node-cpu-credits`: also in `controlplane add` / `nodegroup add`. */
export const controlPlaneCpuCreditsFlag = Flags.string({
  description: 'CPU credits of burstable control-plane types (t2/t3/t3a/t4g): standard or unlimited (default: EC2\'s for the family)',
  env: 'K3SCTL_CONTROL_PLANE_CPU_CREDITS',
});
export const nodeCpuCreditsFlag = Flags.string({
  description: 'CPU credits of burstable node types (t2/t3/t3a/t4g): standard or unlimited (default: EC2\'s for the family)',
  env: 'K3SCTL_NODE_CPU_CREDITS',
});

/**
 * `--control-plane-security-group` / `--node-security-group` and the target-group flags: the group's
 * extra security groups and target groups (repeatable). Also in `controlplane add` / `nodegroup add`,
 * where `--security-group` / `--target-group` are aliases.
 */
export function extraSecurityGroupFlag(role: 'control planes' | 'nodes', aliases: string[] = []) {
  return Flags.string({
    description: `extra security group of the ${role}, by id (sg-...) or name (GroupName or Name tag) in the cluster VPC (repeatable; at most 4 beside the cluster's own, one fewer per ingress ALB)`,
    multiple: true,
    ...(aliases.length ? { aliases } : {}),
  });
}
export function extraTargetGroupFlag(role: 'control planes' | 'nodes', aliases: string[] = []) {
  return Flags.string({
    description: `extra target group the ${role} are registered in, by ARN or name (target type instance, cluster VPC) (repeatable)`,
    multiple: true,
    ...(aliases.length ? { aliases } : {}),
  });
}
