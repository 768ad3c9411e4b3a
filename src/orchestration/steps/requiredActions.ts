// The IAM actions each command's workflow needs from the operator's credentials, in one place: `doctor`
// simulates them for the caller, `cluster create` checks its own before its first write, and the
// README's "AWS credentials and region" section points here. Every mutating workflow's list includes
// what its rollback calls (a create that cannot undo itself leaves resources behind). The sandbox
// proves the lists (test/orchestration/steps/requiredActions.test.ts): every call a command makes
// is an action of its list. What the cluster commands do to each AWS kind is not listed here but
// taken from the kind's provider (`iamActions`), for the kinds a cluster has.
//
// Actions on a cluster's own resources are simulated on those resources' ARNs (`scope` below), so a
// policy that allows them only on `k3sctl-*` names is seen as allowing them; the others on `*`.
import { names } from '../../aws/names';
import type { ClusterView, GroupView } from '../../provider/clusterView';
import type { ProviderRegistry } from '../../provider/provider';

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
/** Reading a cluster's stored model, and the endpoints' configurations (which name its target groups). */
const MODEL_READS = ssm('GetParametersByPath', 'GetParameter');
/** Resolving and waiting on a cluster's automatic ingress (the shared ALB, its listener and rules, the hosted zone, target health). */
const INGRESS_READS = [...elb('DescribeLoadBalancers', 'DescribeListeners', 'DescribeRules', 'DescribeTargetGroups', 'DescribeTargetGroupAttributes', 'DescribeTargetHealth', 'DescribeTags'), ...route53('ListHostedZonesByName', 'GetHostedZone')];
/** Waiting for a cluster's groups InService (and naming the instances whose bootstrap failed). */
const GROUP_WAITS = [...asg('DescribeAutoScalingGroups'), ...ssm('GetParametersByPath')];
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
 * A cluster as its permissions see it: one group of each role, with or without the automatic ingress.
 * The kinds whose providers contribute tasks to it are the kinds a cluster has (no AWS call is made).
 */
function sampleView(ingress: boolean): ClusterView {
  const group = (name: string, role: GroupView['role']): GroupView => ({
    name,
    role,
    count: 1,
    imageId: 'ami-00000000',
    instanceType: 't3.medium',
    subnetIds: ['subnet-00000000'],
    spot: false,
    rootDeviceName: '/dev/xvda',
    rootVolumeSize: 20,
    rootVolumeType: 'gp3',
    imdsHopLimit: 1,
    extraSecurityGroupIds: [],
    targetGroupArns: [],
    userDataBase64: '',
  });
  const cluster = 'sample';
  return {
    name: cluster,
    region: 'us-east-1',
    vpcId: 'vpc-00000000',
    sshCidrs: [],
    apiCidrs: [],
    declaration: [{ part: 'settings', name: names.ssmConfig(cluster), value: '{}', sameAs: () => true, description: cluster }],
    ingressSecurityGroupIds: [],
    groups: [group('control-plane', 'control-plane'), group('nodes', 'node')],
    endpointTargetGroupArns: [],
    ...(ingress
      ? {
          ingress: {
            host: `*--${cluster}.us-east-1.example.com`,
            sourceCidrs: [],
            albs: [{ albName: 'shared', listenerArn: 'arn:aws:elasticloadbalancing:us-east-1:000000000000:listener/app/shared/0/0', targetGroupName: names.ingressTargetGroup(cluster), ruleName: cluster }],
          },
        }
      : {}),
  };
}

/** What `kinds` need (their providers' iamActions): to be read, converged (read and written), or deleted. */
function kindActions(providers: ProviderRegistry, kinds: Iterable<string>, work: 'read' | 'converge' | 'delete'): string[] {
  return [...kinds].flatMap((t) => {
    const actions = providers.provider(t)?.iamActions;
    if (!actions) return [];
    return [...actions.read, ...(work === 'converge' ? actions.write : work === 'delete' ? (actions.delete ?? []) : [])];
  });
}

/** The kinds a cluster has (with or without the automatic ingress): those whose providers contribute its tasks. */
function clusterKinds(providers: ProviderRegistry, ingress: boolean): Set<string> {
  return new Set(providers.clusterTasks(sampleView(ingress)).map((t) => t.type));
}

/**
 * The actions of each command, by its command line (`cluster create`; with the automatic ingress,
 * `cluster create --ingress-alb`; with extra target groups but no ingress, `cluster create --node-target-group`).
 * What a command does to a cluster's kinds is what their providers say (`iamActions`): cluster create and
 * the group commands converge every kind a cluster has, cluster delete deletes every kind it owns.
 */
function buildRequiredActions(providers: ProviderRegistry): Record<string, readonly string[]> {
  const plain = clusterKinds(providers, false);
  const withIngress = clusterKinds(providers, true);
  const owned = providers.types.filter((t) => providers.provider(t)!.discover);
  const perGroup = providers.types.filter((t) => providers.provider(t)!.perGroup);
  const clusterCreate = [...LOOKUPS, ...MODEL_READS, ...kindActions(providers, plain, 'converge'), ...GROUP_WAITS, ...RUN_COMMAND];
  // A group is converged with the cluster's baseline: what drifted there is converged too.
  const groupAdd = [...LOOKUPS, ...MODEL_READS, ...INGRESS_READS, ...kindActions(providers, withIngress, 'converge'), ...GROUP_WAITS];
  return {
    'cluster create': clusterCreate,
    'cluster create --ingress-alb': [...clusterCreate, ...INGRESS_READS, ...kindActions(providers, withIngress, 'converge')],
    // A group's extra target groups are looked up (the group kind attaches them).
    'cluster create --node-target-group': [...clusterCreate, ...elb('DescribeTargetGroups')],
    'cluster delete': [...MODEL_READS, ...INGRESS_READS, ...kindActions(providers, owned, 'delete')],
    'cluster list': [...ssm('GetParametersByPath'), ...ec2('DescribeSecurityGroups')],
    'cluster describe': [...ssm('GetParametersByPath'), ...asg('DescribeAutoScalingGroups'), ...ec2('DescribeInstances', 'DescribeLaunchTemplateVersions'), ...elb('DescribeTargetHealth')],
    'nodegroup add': groupAdd,
    'controlplane add': groupAdd,
    // Every kind is found; a count changes the group and its declaration.
    'nodegroup scale': [...MODEL_READS, ...INGRESS_READS, ...kindActions(providers, withIngress, 'read'), ...asg('UpdateAutoScalingGroup'), ...ssm('PutParameter')],
    // What the group owns of each kind a cluster has per group; rollback puts its declaration back, and a
    // version-1 configuration (groups inline) is rewritten.
    'nodegroup delete': [...MODEL_READS, ...kindActions(providers, perGroup, 'delete'), ...ssm('PutParameter')],
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
}

const built = new WeakMap<ProviderRegistry, Record<string, readonly string[]>>();

/** The IAM actions of each command with the kinds of `providers` (computed once per registry). */
export function requiredActions(providers: ProviderRegistry): Record<string, readonly string[]> {
  let table = built.get(providers);
  if (!table) {
    table = buildRequiredActions(providers);
    built.set(providers, table);
  }
  return table;
}

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
export function actionsOf(providers: ProviderRegistry, commands?: string[]): string[] {
  const table = requiredActions(providers);
  return [...new Set((commands ?? Object.keys(table)).flatMap((c) => table[c] ?? []))].sort();
}
