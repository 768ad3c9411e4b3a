import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/command';
import { dryRunFlag, specFileFlag } from '../../cli/flags';
import { renderChanges } from '../../cli/output';
import type { AlbFile } from '../../config/ingress';

export default class AlbCreate extends BaseCommand<typeof AlbCreate> {
  static override description =
    'Create a shared ALB (or converge it): upstream/downstream security groups, listener 80 redirecting to 443, listener 443 with the certificate and a 404 default';

  static override examples = [
    '<%= config.bin %> alb create shared --certificate-domain example.com --sandbox',
    '<%= config.bin %> alb create edge --internal --vpc main --subnet-filter tag:tier=private --certificate arn:aws:acm:...',
  ];

  static override args = { name: Args.string({ description: 'ALB name (or `name` in the file)' }) };

  static override flags = {
    internal: Flags.boolean({
      description: 'internal scheme (default internet-facing)',
      env: 'K3SCTL_ALB_INTERNAL',
    }),
    certificate: Flags.string({
      description: 'certificate ARN for the 443 listener',
      env: 'K3SCTL_CERTIFICATE',
    }),
    'certificate-domain': Flags.string({
      description: 'find the certificate by its domain',
      env: 'K3SCTL_CERTIFICATE_DOMAIN',
    }),
    'ingress-cidr': Flags.string({
      description: 'CIDR allowed to 80/443 (repeatable; default 0.0.0.0/0 and ::/0)',
      multiple: true,
    }),
    'vpc-id': Flags.string({ description: 'VPC id (default: the default VPC)', env: 'K3SCTL_VPC_ID' }),
    vpc: Flags.string({ description: 'VPC by Name tag', env: 'K3SCTL_VPC' }),
    'subnet-id': Flags.string({
      description: "subnet by id (repeatable; default: the VPC's subnets)",
      multiple: true,
    }),
    'subnet-filter': Flags.string({
      description: 'subnets by EC2 filter NAME=VALUE (repeatable)',
      multiple: true,
    }),
    file: specFileFlag(),
    'dry-run': dryRunFlag(),
  };

  async run(): Promise<object> {
    const f = this.flags;
    const cfg = await import('../../config/cluster');
    const ingress = await import('../../config/ingress');
    const { input, field, relabel } = await this.specInput<AlbFile>({
      parse: (text, name, flag) => ingress.parseIngressSpecFile('alb', text, name, flag),
      flagOf: ingress.INGRESS_FLAGS.alb,
      argument: 'name',
      fromFlags: {
        name: this.args.name,
        region: f.region,
        internal: f.internal || undefined,
        certificate: f.certificate,
        certificateDomain: f['certificate-domain'],
        ingressCidrs: f['ingress-cidr'],
        vpcId: f['vpc-id'],
        vpc: f.vpc,
        subnetIds: f['subnet-id'],
        subnetFilters: cfg.parseFilters(f['subnet-filter'], this.asGiven('--subnet-filter')),
      },
    });
    if (!input.name) this.requireFlags(['NAME'], 'the ALB name is neither an argument nor in the file');
    const filters = input.subnetFilters
      ? Object.fromEntries(
          Object.entries(input.subnetFilters).map(([k, v]) => [k, Array.isArray(v) ? v : [v]]),
        )
      : undefined;
    const { region: _region, ...albInput } = input;
    const spec = ingress.buildAlbSpec({ ...albInput, name: input.name!, subnetFilters: filters }, field, await this.resolveRegion());
    const deps = await this.deps();
    const { albCreate } = await import('../../orchestration/workflows/albCreate');
    const result = await albCreate(deps, spec, { dryRun: f['dry-run'], signal: this.interruptSignal() }).catch((error: unknown) => {
      throw relabel(error);
    });
    this.output(result, () => {
      if (result.dryRun) return renderChanges(result.planned ?? [], true);
      const a = result.alb;
      return [
        `ALB ${a.name} (${a.scheme}, ${a.state}): ${a.dnsName}`,
        `security groups: upstream ${a.securityGroups.upstream}, downstream ${a.securityGroups.downstream} (attach downstream to instances)`,
        `listeners: ${a.listeners.map((l) => l.port).join(', ')}${a.certificateArn ? `; certificate ${a.certificateArn}` : ''}`,
      ].join('\n');
    });
    return result;
  }
}
