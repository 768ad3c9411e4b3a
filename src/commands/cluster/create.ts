import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/command';
import { controlPlaneCpuCreditsFlag, extraSecurityGroupFlag, extraTargetGroupFlag, groupSelectionFlags, nodeCpuCreditsFlag } from '../../cli/groupFlags';
import { renderChanges } from '../../cli/output';
import { parseTimeout } from '../../config/duration';
import type { ClusterFile } from '../../config/cluster';

export default class ClusterCreate extends BaseCommand<typeof ClusterCreate> {
  static override description =
    'Create a k3s cluster (or converge it to the given input): IAM roles, security group, SSM parameters, launch templates and Auto Scaling groups for control planes and nodes';

  static override examples = [
    '<%= config.bin %> cluster create demo --sandbox',
    '<%= config.bin %> cluster create demo --vpc main --subnet-filter availability-zone=us-east-1a --nodes 3 --ssh-cidr 203.0.113.0/24',
    '<%= config.bin %> cluster create -f cluster.yaml --dry-run',
  ];

  static override args = { name: Args.string({ description: 'cluster name (or `name` in the file)' }) };

  static override flags = {
    'vpc-id': Flags.string({ description: 'VPC id (default: the default VPC)', env: 'K3SCTL_VPC_ID' }),
    vpc: Flags.string({ description: 'VPC by Name tag', env: 'K3SCTL_VPC' }),
    'vpc-tag': Flags.string({ description: 'VPC by tag KEY=VALUE (repeatable)', multiple: true }),
    ...groupSelectionFlags,
    'control-planes': Flags.integer({ description: 'control-plane count, odd (default 3)', env: 'K3SCTL_CONTROL_PLANES' }),
    'control-plane-type': Flags.string({ description: 'control-plane instance type (default t3.medium)', env: 'K3SCTL_CONTROL_PLANE_TYPE' }),
    'control-plane-cpu-credits': controlPlaneCpuCreditsFlag,
    'control-plane-security-group': extraSecurityGroupFlag('control planes'),
    'control-plane-target-group': extraTargetGroupFlag('control planes'),
    nodes: Flags.integer({ description: 'node count (default 2)', env: 'K3SCTL_NODES' }),
    'node-type': Flags.string({ description: 'node instance type (default t3.medium)', env: 'K3SCTL_NODE_TYPE' }),
    'node-cpu-credits': nodeCpuCreditsFlag,
    'node-security-group': extraSecurityGroupFlag('nodes'),
    'node-target-group': extraTargetGroupFlag('nodes'),
    'key-name': Flags.string({ description: 'EC2 key pair for SSH', env: 'K3SCTL_KEY_NAME' }),
    'ssh-cidr': Flags.string({ description: 'CIDR allowed to SSH (22) (repeatable; none by default)', multiple: true }),
    'api-cidr': Flags.string({ description: 'CIDR allowed to the Kubernetes API (6443) (repeatable; none by default)', multiple: true }),
    'tls-san': Flags.string({ description: 'extra TLS SAN of the API server certificate (repeatable)', multiple: true }),
    spot: Flags.boolean({ description: 'run the node group on spot instances', env: 'K3SCTL_SPOT' }),
    'ingress-alb': Flags.string({
      description:
        'ALB (ARN or name) for the automatic ingress *--NAME.REGION.ZONE (repeatable, at most 4: a target group and a rule on each)',
      env: 'K3SCTL_INGRESS_ALB',
      multiple: true,
    }),
    'ingress-zone': Flags.string({
      description: 'hosted zone (id or name) of the automatic ingress',
      env: 'K3SCTL_INGRESS_ZONE',
    }),
    'ingress-deregistration-delay': Flags.integer({
      description: 'seconds the ingress target group lets in-flight requests finish on a leaving instance, 0-3600 (default 60)',
      env: 'K3SCTL_INGRESS_DEREGISTRATION_DELAY',
    }),
    'ingress-source-cidr': Flags.string({
      description: 'client CIDR (IPv4 or IPv6) the automatic ingress rule accepts (repeatable, at most 4; default: any)',
      multiple: true,
    }),
    preflight: Flags.boolean({
      description: 'before the first write, check the caller\'s permissions and the EC2 vCPU quota (as k3sctl doctor does); --no-preflight skips it',
      default: true,
      allowNo: true,
      env: 'K3SCTL_PREFLIGHT',
    }),
    'wait-timeout': Flags.string({
      description: 'how long to wait, after InService, for every instance to be a Ready Kubernetes node (90s, 15m, 1h; default 15m); past it: exit 4, the cluster is kept',
      env: 'K3SCTL_WAIT_TIMEOUT',
    }),
  };

  async run(): Promise<object> {
    const f = this.flags;
    const waitTimeoutMs = f['wait-timeout'] === undefined ? undefined : parseTimeout(f['wait-timeout'], this.asGiven('--wait-timeout'), 'give e.g. 90s, 15m or 1h; --no-wait skips the waits');
    const cfg = await import('../../config/cluster');
    const { input, field, relabel } = await this.specInput<ClusterFile>({
      parse: (text, name, flag) => cfg.parseClusterSpecFile('cluster', text, name, flag),
      flagOf: cfg.CLUSTER_FLAGS,
      argument: 'name',
      flagValues: {
        ingress: { alb: f['ingress-alb'], zone: f['ingress-zone'], deregistrationDelay: f['ingress-deregistration-delay'], sourceCidrs: f['ingress-source-cidr'] },
      },
      fromFlags: {
        name: this.args.name,
        region: f.region,
        vpcId: f['vpc-id'],
        vpc: f.vpc,
        vpcTags: cfg.parseKeyValues(f['vpc-tag'], this.asGiven('--vpc-tag')),
        subnetIds: f['subnet-id'],
        subnetFilters: cfg.parseFilters(f['subnet-filter'], this.asGiven('--subnet-filter')),
        ami: f.ami,
        amiName: f['ami-name'],
        amiOwner: f['ami-owner'],
        os: f.os as 'al2023' | undefined,
        controlPlanes: f['control-planes'],
        controlPlaneType: f['control-plane-type'],
        controlPlaneCpuCredits: f['control-plane-cpu-credits'] as 'standard' | undefined,
        controlPlaneSecurityGroups: f['control-plane-security-group'],
        controlPlaneTargetGroups: f['control-plane-target-group'],
        nodes: f.nodes,
        nodeType: f['node-type'],
        nodeCpuCredits: f['node-cpu-credits'] as 'standard' | undefined,
        nodeSecurityGroups: f['node-security-group'],
        nodeTargetGroups: f['node-target-group'],
        k3sVersion: f['k3s-version'],
        keyName: f['key-name'],
        sshCidrs: f['ssh-cidr'],
        apiCidrs: f['api-cidr'],
        tlsSans: f['tls-san'],
        k3sArgs: f['k3s-arg'],
        labels: cfg.parseKeyValues(f.label, this.asGiven('--label')),
        taints: f.taint,
        spot: f.spot || undefined,
        rootVolumeSize: f['root-volume-size'],
        rootVolumeType: f['root-volume-type'] as 'gp3' | undefined,
        imdsHopLimit: f['imds-hop-limit'],
      },
    });
    const ingressFlags = [f['ingress-alb'], f['ingress-zone'], f['ingress-deregistration-delay'], f['ingress-source-cidr']];
    if (ingressFlags.some((v) => v !== undefined) || input.ingress) {
      input.ingress = {
        alb: f['ingress-alb'] ?? input.ingress?.alb ?? '',
        zone: f['ingress-zone'] ?? input.ingress?.zone ?? '',
        deregistrationDelay: f['ingress-deregistration-delay'] ?? input.ingress?.deregistrationDelay,
        sourceCidrs: f['ingress-source-cidr'] ?? input.ingress?.sourceCidrs,
      };
    }
    if (!input.name) this.requireFlags(['NAME'], 'the cluster name is neither an argument nor in the file');
    // Every local check before the first call: the spec is built before the clients are.
    const spec = cfg.buildClusterSpec({ ...input, name: input.name!, region: await this.resolveRegion() }, field);
    const deps = await this.deps();
    const { clusterCreate } = await import('../../orchestration/workflows/clusterCreate');
    const confirm = this.confirmPlanOnTerminal(`Apply these changes to cluster ${spec.name}?`);
    const result = await clusterCreate(deps, spec, { dryRun: f['dry-run'], wait: f.wait, waitTimeoutMs, confirm, preflight: f.preflight, signal: this.interruptSignal() }).catch(
      (error: unknown) => {
        throw relabel(error);
      },
    );
    this.output(result, () => {
      if (result.dryRun) return renderChanges(result.planned, true);
      const lines = [`cluster ${result.cluster} (${result.region}): ${result.groups.map((g) => `${g.name} ${g.desired}x ${g.instanceType}`).join(', ')}`];
      const changed = result.changes.filter((c) => c.action !== 'noop').length;
      lines.push(changed ? `${changed} change(s) applied` : 'no changes: the cluster already matches the input');
      if (result.ingressHost) lines.push(`ingress: ${result.ingressHost}`);
      if (result.outOfDate.length) lines.push(`${result.outOfDate.length} instance(s) out of date: run k3sctl recycle ${result.cluster}`);
      if (!result.waited) lines.push('not waiting for instances (--no-wait); see k3sctl cluster describe ' + result.cluster);
      return lines.join('\n');
    });
    return result;
  }
}
