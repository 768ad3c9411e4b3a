import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../cli/command';
import { specFileFlag } from '../cli/flags';
import { UserError } from '../core/errors';
import type { ClusterFile } from '../config/cluster';

/** Exit 2 with the whole report: a check failed, so `cluster create` would fail or leave a broken cluster. */
class DoctorFailedError extends UserError {
  override readonly name: string = 'DoctorFailedError';
  constructor(
    message: string,
    suggestion: string,
    readonly report: object,
  ) {
    super(message, suggestion);
  }
}

export default class Doctor extends BaseCommand<typeof Doctor> {
  static override description =
    'Check the AWS setup before a cluster create: who the credentials are, the region and endpoint and where they came from, ' +
    'whether the caller may perform what each command does (IAM policy simulator), the EC2 On-Demand vCPU quota against the cluster, ' +
    'and whether the VPC\'s subnets reach the internet. Reads only; exit 2 when a check fails';

  static override examples = [
    '<%= config.bin %> doctor',
    '<%= config.bin %> doctor demo --vpc main --nodes 5 --node-type m6i.large',
    '<%= config.bin %> doctor -f cluster.yaml --json',
  ];

  static override args = { name: Args.string({ description: 'the cluster to check for (or `name` in the file; default example): places the actions on its own resources' }) };

  static override flags = {
    'vpc-id': Flags.string({ description: 'VPC id (default: the default VPC)', env: 'K3SCTL_VPC_ID' }),
    vpc: Flags.string({ description: 'VPC by Name tag', env: 'K3SCTL_VPC' }),
    'vpc-tag': Flags.string({ description: 'VPC by tag KEY=VALUE (repeatable)', multiple: true }),
    'subnet-id': Flags.string({ description: 'subnet by id (repeatable); default: the VPC\'s subnets', multiple: true }),
    'subnet-filter': Flags.string({ description: 'subnets by EC2 filter NAME=VALUE (repeatable)', multiple: true }),
    'control-planes': Flags.integer({ description: 'control-plane count, odd (default 3)', env: 'K3SCTL_CONTROL_PLANES' }),
    'control-plane-type': Flags.string({ description: 'control-plane instance type (default t3.medium)', env: 'K3SCTL_CONTROL_PLANE_TYPE' }),
    nodes: Flags.integer({ description: 'node count (default 2)', env: 'K3SCTL_NODES' }),
    'node-type': Flags.string({ description: 'node instance type (default t3.medium)', env: 'K3SCTL_NODE_TYPE' }),
    spot: Flags.boolean({ description: 'the node group runs on spot instances', env: 'K3SCTL_SPOT' }),
    file: specFileFlag('a cluster file (schema/cluster.schema.json): check for the cluster it describes'),
  };

  async run(): Promise<object> {
    const f = this.flags;
    const cfg = await import('../config/cluster');
    const { input, field } = await this.specInput<ClusterFile>({
      parse: (text, name, flag) => cfg.parseClusterSpecFile('cluster', text, name, flag),
      flagOf: cfg.CLUSTER_FLAGS,
      argument: 'name',
      fromFlags: {
        name: this.args.name,
        region: f.region,
        vpcId: f['vpc-id'],
        vpc: f.vpc,
        vpcTags: cfg.parseKeyValues(f['vpc-tag'], this.asGiven('--vpc-tag')),
        subnetIds: f['subnet-id'],
        subnetFilters: cfg.parseFilters(f['subnet-filter'], this.asGiven('--subnet-filter')),
        controlPlanes: f['control-planes'],
        controlPlaneType: f['control-plane-type'],
        nodes: f.nodes,
        nodeType: f['node-type'],
        spot: f.spot || undefined,
      },
    });
    const spec = cfg.buildClusterSpec({ ...input, name: input.name ?? 'example', region: await this.resolveRegion() }, field);
    const setup = await this.awsSetup();
    const deps = await this.deps();
    const { doctor } = await import('../orchestration/workflows/doctor');
    const result = await doctor(deps, spec, setup);
    const { renderDoctorReport } = await import('../ui/doctorReport');
    if (!result.ok) {
      if (!this.flags.json) process.stdout.write(`${renderDoctorReport(result)}\n`);
      const failed = result.checks.filter((c) => c.status === 'fail');
      throw new DoctorFailedError(
        `${failed.length} check(s) failed: ${failed.map((c) => `${c.check} (${c.summary})`).join('; ')}`,
        'fix what the report shows, then run k3sctl doctor again; cluster create checks permissions and the quota itself before its first write',
        result,
      );
    }
    this.output(result, () => renderDoctorReport(result));
    return result;
  }
}
