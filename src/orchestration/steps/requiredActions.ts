// The IAM actions each command's workflow needs from the operator's credentials, in one place: `doctor`
// simulates them for the caller, `cluster create` checks its own before its first write, and the
// README's "AWS credentials and region" section points here. Every mutating workflow's list includes
// what its rollback calls (a create that cannot undo itself leaves resources behind). The sandbox
// proves the lists (test/orchestration/steps/requiredActions.test.ts): every call a command makes
// is an action of its list.
//
// Actions on a cluster's own resources are simulated on those resources' ARNs (`scope` below), so a
// policy that allows them only on `k3sctl-*` names is seen as allowing them; the others on `*`.
import { names } from '../../aws/names';

/** What a cluster-scoped action is authorised on. */
export type ActionScope = 'role' | 'instanceProfile' | 'parameter' | 'autoScalingGroup';

const SCOPES: Record<string, ActionScope> = {};
for (const a of ['CreateRole', 'GetRole', 'DeleteRole', 'TagRole', 'PutRolePolicy', 'GetRolePolicy', 'DeleteRolePolicy', 'ListRolePolicies', 'ListAttachedRolePolicies', 'DetachRolePolicy', 'ListInstanceProfilesForRole', 'PassRole']) SCOPES[`iam:${a}`] = 'role';
for (const a of ['CreateInstanceProfile', 'GetInstanceProfile', 'DeleteInstanceProfile', 'AddRoleToInstanceProfile', 'RemoveRoleFromInstanceProfile']) SCOPES[`iam:${a}`] = 'instanceProfile';
for (const a of ['GetParameter', 'PutParameter', 'DeleteParameters', 'GetParametersByPath']) SCOPES[`ssm:${a}`] = 'parameter';
for (const a of ['CreateAutoScalingGroup', 'UpdateAutoScalingGroup', 'DeleteAutoScalingGroup', 'PutLifecycleHook', 'CreateOrUpdateTags', 'DeleteTags', 'SuspendProcesses', 'ResumeProcesses', 'TerminateInstanceInAutoScalingGroup', 'AttachLoadBalancerTargetGroups', 'DetachLoadBalancerTargetGroups'])
  SCOPES[`autoscaling:${a}`] = 'autoScalingGroup';

const ec2 = (...a: string[]) => a.map((x) => `ec2:${x}`);
const asg = (...a: string[]) => a.map((x) => `autoscaling:${x}`);
const elb = (...a: string[]) => a.map((x) => `elasticloadbalancing:${x}`);
const iam = (...a: string[]) => a.map((x) => `iam:${x}`);
const ssm = (...a: string[]) => a.map((x) => `ssm:${x}`);
const acm = (...a: string[]) => a.map((x) => `acm:${x}`);
const route53 = (...a: string[]) => a.map((x) => `route53:${x}`);

/** Lookups of a group's VPC, subnets, AMI (public SSM parameters), instance types and key pair. */
const LOOKUPS = [...ec2('DescribeVpcs', 'DescribeSubnets', 'DescribeImages', 'DescribeInstanceTypes', 'DescribeInstanceTypeOfferings', 'DescribeKeyPairs'), ...ssm('GetParameter')];
/** Reading a cluster's stored configuration and the state of its resources. */
const CLUSTER_READS = [
  ...ssm('GetParametersByPath', 'GetParameter'),
  ...ec2('DescribeSecurityGroups', 'DescribeInstances', 'DescribeLaunchTemplates', 'DescribeLaunchTemplateVersions'),
  ...asg('DescribeAutoScalingGroups', 'DescribeLifecycleHooks'),
  ...iam('GetRole', 'GetRolePolicy', 'ListRolePolicies', 'ListAttachedRolePolicies', 'GetInstanceProfile'),
];
/** Reading a cluster's automatic ingress (its target group and listener rule on a shared ALB, the hosted zone). */
const INGRESS_READS = [...elb('DescribeLoadBalancers', 'DescribeListeners', 'DescribeRules', 'DescribeTargetGroups', 'DescribeTargetGroupAttributes', 'DescribeTargetHealth', 'DescribeTags'), ...route53('ListHostedZonesByName', 'GetHostedZone')];
/** Writing (and undoing) a cluster's automatic ingress. */
const INGRESS_WRITES = elb('CreateTargetGroup', 'ModifyTargetGroup', 'ModifyTargetGroupAttributes', 'DeleteTargetGroup', 'CreateRule', 'ModifyRule', 'DeleteRule', 'AddTags');
/** Writing a group (launch template + Auto Scaling group launching it) and undoing that. */
const GROUP_WRITES = [
  ...ec2('CreateLaunchTemplate', 'CreateLaunchTemplateVersion', 'ModifyLaunchTemplate', 'DeleteLaunchTemplate', 'DeleteLaunchTemplateVersions', 'CreateTags', 'RunInstances'),
  // Auto Scaling launches with the caller's permission to pass the instance role.
  ...iam('PassRole'),
  ...asg('CreateAutoScalingGroup', 'UpdateAutoScalingGroup', 'DeleteAutoScalingGroup', 'PutLifecycleHook', 'CreateOrUpdateTags', 'AttachLoadBalancerTargetGroups', 'DetachLoadBalancerTargetGroups'),
  ...ssm('PutParameter', 'DeleteParameters'),
];
/** Asking the Kubernetes API through SSM Run Command on a control plane (readiness, drains, kubeconfig). */
const RUN_COMMAND = [...ssm('SendCommand', 'GetCommandInvocation', 'DescribeInstanceInformation'), ...asg('DescribeAutoScalingInstances')];
/** Rolling replacement of a group's instances. */
const REPLACEMENT = [
  ...asg('DescribeAutoScalingGroups', 'DescribeAutoScalingInstances', 'DescribeScalingActivities', 'UpdateAutoScalingGroup', 'SuspendProcesses', 'ResumeProcesses', 'TerminateInstanceInAutoScalingGroup', 'CreateOrUpdateTags', 'DeleteTags'),
  ...ec2('DescribeInstances', 'DescribeLaunchTemplates', 'DescribeLaunchTemplateVersions'),
  // The target groups' deregistration delay: how long a leaving instance stays in Terminating.
  ...elb('DescribeTargetHealth', 'DescribeTargetGroupAttributes'),
  ...ssm('GetParametersByPath', 'GetParameter'),
  ...RUN_COMMAND,
];
const CERTIFICATE_READS = acm('ListCertificates', 'DescribeCertificate', 'ListTagsForCertificate');
const ALB_READS = elb('DescribeLoadBalancers', 'DescribeListeners', 'DescribeRules', 'DescribeTags', 'DescribeTargetGroups', 'DescribeTargetHealth');
const DNS = route53('ListHostedZonesByName', 'GetHostedZone', 'ListResourceRecordSets', 'ChangeResourceRecordSets', 'GetChange');

/**
 * The actions of each command, by its command line (`cluster create`; with the automatic ingress,
 * `cluster create --ingress-alb`; with extra target groups but no ingress, `cluster create --node-target-group`).
 */
const CLUSTER_CREATE = [
  ...LOOKUPS,
  ...CLUSTER_READS,
  ...iam('CreateRole', 'TagRole', 'PutRolePolicy', 'DeleteRolePolicy', 'DetachRolePolicy', 'DeleteRole', 'CreateInstanceProfile', 'AddRoleToInstanceProfile', 'RemoveRoleFromInstanceProfile', 'DeleteInstanceProfile'),
  ...ec2('CreateSecurityGroup', 'AuthorizeSecurityGroupIngress', 'RevokeSecurityGroupIngress', 'DeleteSecurityGroup'),
  ...GROUP_WRITES,
  ...RUN_COMMAND,
];

export const REQUIRED_ACTIONS: Record<string, readonly string[]> = {
  'cluster create': CLUSTER_CREATE,
  'cluster create --ingress-alb': [...CLUSTER_CREATE, ...INGRESS_READS, ...INGRESS_WRITES],
  // A group's extra target groups are looked up (attaching them is in GROUP_WRITES).
  'cluster create --node-target-group': [...CLUSTER_CREATE, ...elb('DescribeTargetGroups')],
  'cluster delete': [
    ...CLUSTER_READS,
    ...INGRESS_READS,
    ...asg('UpdateAutoScalingGroup', 'DeleteAutoScalingGroup', 'DetachLoadBalancerTargetGroups'),
    ...ec2('DeleteLaunchTemplate', 'DeleteSecurityGroup', 'TerminateInstances'),
    ...iam('ListInstanceProfilesForRole', 'RemoveRoleFromInstanceProfile', 'DeleteInstanceProfile', 'DeleteRolePolicy', 'DetachRolePolicy', 'DeleteRole'),
    ...ssm('DeleteParameters'),
    ...elb('DeleteRule', 'DeleteTargetGroup'),
  ],
  'cluster list': [...ssm('GetParametersByPath'), ...ec2('DescribeSecurityGroups')],
  'cluster describe': [...ssm('GetParametersByPath'), ...asg('DescribeAutoScalingGroups'), ...ec2('DescribeInstances', 'DescribeLaunchTemplateVersions'), ...elb('DescribeTargetHealth')],
  // (A group of a cluster with the automatic ingress is attached to its target group.)
  'nodegroup add': [...LOOKUPS, ...CLUSTER_READS, ...INGRESS_READS, ...GROUP_WRITES],
  'controlplane add': [...LOOKUPS, ...CLUSTER_READS, ...INGRESS_READS, ...GROUP_WRITES],
  'nodegroup scale': [...CLUSTER_READS, ...INGRESS_READS, ...asg('UpdateAutoScalingGroup'), ...ssm('PutParameter')],
  'nodegroup delete': [
    ...ssm('GetParametersByPath', 'GetParameter', 'DeleteParameters'),
    ...asg('DescribeAutoScalingGroups', 'UpdateAutoScalingGroup', 'DeleteAutoScalingGroup'),
    ...ec2('DescribeLaunchTemplates', 'DescribeLaunchTemplateVersions', 'DeleteLaunchTemplate'),
  ],
  'nodegroup list': [...ssm('GetParametersByPath'), ...asg('DescribeAutoScalingGroups'), ...ec2('DescribeInstances')],
  recycle: REPLACEMENT,
  upgrade: [...REPLACEMENT, ...ec2('CreateLaunchTemplateVersion', 'ModifyLaunchTemplate', 'DeleteLaunchTemplateVersions'), ...iam('PassRole'), ...ssm('PutParameter')],
  kubeconfig: [...ec2('DescribeInstances', 'GetConsoleOutput'), ...RUN_COMMAND],
  'alb create': [
    ...ec2('DescribeVpcs', 'DescribeSubnets', 'DescribeSecurityGroups', 'CreateSecurityGroup', 'AuthorizeSecurityGroupIngress', 'RevokeSecurityGroupIngress', 'CreateTags', 'DeleteSecurityGroup'),
    ...ALB_READS,
    ...elb('CreateLoadBalancer', 'CreateListener', 'ModifyListener', 'AddTags', 'RemoveTags', 'DeleteListener', 'DeleteLoadBalancer'),
    ...CERTIFICATE_READS,
  ],
  'alb delete': [...ALB_READS, ...elb('DeleteListener', 'DeleteLoadBalancer'), ...ec2('DescribeSecurityGroups', 'RevokeSecurityGroupIngress', 'DeleteSecurityGroup')],
  'alb list': ALB_READS,
  'certificate request': [...CERTIFICATE_READS, ...acm('RequestCertificate', 'AddTagsToCertificate', 'DeleteCertificate'), ...DNS],
  'certificate delete': [...CERTIFICATE_READS, ...acm('DeleteCertificate'), ...DNS],
  'certificate list': CERTIFICATE_READS,
  'endpoint create': [
    ...DNS,
    ...ALB_READS,
    ...elb('CreateRule', 'ModifyRule', 'DeleteRule', 'AddTags', 'CreateTargetGroup', 'ModifyTargetGroup', 'DeleteTargetGroup'),
    ...asg('DescribeAutoScalingGroups', 'AttachLoadBalancerTargetGroups', 'DetachLoadBalancerTargetGroups'),
    ...CERTIFICATE_READS,
    ...ssm('GetParameter', 'GetParametersByPath', 'PutParameter', 'DeleteParameters'),
  ],
  'endpoint weight': [...ALB_READS, ...elb('ModifyRule'), ...ssm('GetParameter', 'PutParameter')],
  'endpoint delete': [
    ...DNS,
    ...ALB_READS,
    ...elb('DeleteRule', 'DeleteTargetGroup'),
    ...asg('DescribeAutoScalingGroups', 'DetachLoadBalancerTargetGroups'),
    ...ssm('GetParameter', 'GetParametersByPath', 'DeleteParameters'),
  ],
  'endpoint list': ssm('GetParametersByPath'),
  'endpoint describe': [...ALB_READS, ...ssm('GetParameter'), ...route53('ListResourceRecordSets')],
  // The checks themselves (also the preflight of cluster create, which skips a check it may not make).
  // sts:GetCallerIdentity needs no permission: it is never denied.
  doctor: [
    ...iam('SimulatePrincipalPolicy', 'GetRole'),
    'servicequotas:GetServiceQuota',
    ...ec2('DescribeVpcs', 'DescribeSubnets', 'DescribeInstances', 'DescribeInstanceTypes', 'DescribeInstanceTypeOfferings', 'DescribeRouteTables'),
  ],
};

/** The commands whose actions are on one cluster's resources (simulated on that cluster's ARNs). */
const CLUSTER_COMMANDS = new Set(['cluster create', 'cluster create --ingress-alb', 'cluster create --node-target-group', 'cluster delete', 'cluster describe', 'nodegroup add', 'controlplane add', 'nodegroup scale', 'nodegroup delete', 'nodegroup list', 'recycle', 'upgrade', 'kubeconfig']);

/** Where the simulation places the actions of a cluster's commands. */
export interface ActionContext {
  partition: string;
  account: string;
  region: string;
  cluster: string;
}

/** The resource an action of `command` is simulated on: the cluster's own resource when it has one, else `*`. */
export function actionResource(command: string, action: string, ctx: ActionContext): string {
  const scope = CLUSTER_COMMANDS.has(command) ? SCOPES[action] : undefined;
  const { partition, account, region, cluster } = ctx;
  switch (scope) {
    case 'role':
      return `arn:${partition}:iam::${account}:role/${names.nodeRole(cluster, region)}`;
    case 'instanceProfile':
      return `arn:${partition}:iam::${account}:instance-profile/${names.nodeRole(cluster, region)}`;
    case 'parameter':
      return `arn:${partition}:ssm:${region}:${account}:parameter${names.ssmConfig(cluster)}`;
    case 'autoScalingGroup':
      // The group's id is not known before it exists; policies name groups by `autoScalingGroup:*:autoScalingGroupName/NAME`.
      return `arn:${partition}:autoscaling:${region}:${account}:autoScalingGroup:00000000-0000-0000-0000-000000000000:autoScalingGroupName/${names.autoScalingGroup(cluster, 'nodes')}`;
    default:
      return '*';
  }
}

/** Every distinct action of the given commands (all of them by default), sorted. */
export function actionsOf(commands: string[] = Object.keys(REQUIRED_ACTIONS)): string[] {
  return [...new Set(commands.flatMap((c) => REQUIRED_ACTIONS[c] ?? []))].sort();
}
