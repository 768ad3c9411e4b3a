import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/command';
import { dryRunFlag, specFileFlag } from '../../cli/flags';
import { renderChanges } from '../../cli/output';
import type { EndpointFile } from '../../config/ingress';

export default class EndpointCreate extends BaseCommand<typeof EndpointCreate> {
  static override description =
    "Create a shared endpoint SERVICE.ZONE (or converge it): a latency-based alias record to the ALB and a listener rule routing to the clusters (ingress mode: weighted cluster target groups; nodeport mode: one service target group attached to the clusters' groups)";

  static override examples = [
    '<%= config.bin %> endpoint create blog --zone example.com --alb shared --cluster alpha --cluster bravo --weight alpha=3',
    '<%= config.bin %> endpoint create api --zone example.com --alb shared --cluster alpha --mode nodeport --port 30080 --health-path /ping',
  ];

  static override args = {
    service: Args.string({ description: 'service name, a DNS label (or `service` in the file)' }),
  };

  static override flags = {
    zone: Flags.string({ description: 'hosted zone (id or name) holding SERVICE.ZONE', env: 'K3SCTL_ZONE' }),
    alb: Flags.string({ description: 'shared ALB (name or ARN)', env: 'K3SCTL_ALB' }),
    cluster: Flags.string({ description: 'cluster behind the endpoint (repeatable)', multiple: true }),
    weight: Flags.string({
      description: 'CLUSTER=WEIGHT, 0-999 (repeatable; default 1 each; ingress mode)',
      multiple: true,
    }),
    mode: Flags.string({ description: 'ingress (default) or nodeport', options: ['ingress', 'nodeport'] }),
    port: Flags.integer({ description: 'NodePort of the service (nodeport mode, 30000-32767)' }),
    'health-path': Flags.string({
      description: 'health check path of the service target group (nodeport mode; default /)',
    }),
    stickiness: Flags.string({ description: 'target group stickiness duration, e.g. 1h' }),
    'source-ip': Flags.string({ description: 'only requests from this CIDR (repeatable)', multiple: true }),
    dns: Flags.boolean({
      description: 'create the latency-based alias record (--no-dns to skip)',
      default: true,
      allowNo: true,
    }),
    file: specFileFlag(),
    'dry-run': dryRunFlag(),
  };

  async run(): Promise<object> {
    const f = this.flags;
    const ingress = await import('../../config/ingress');
    const { input, field, relabel } = await this.specInput<EndpointFile>({
      parse: (text, name, flag) => ingress.parseIngressSpecFile('endpoint', text, name, flag),
      flagOf: ingress.INGRESS_FLAGS.endpoint,
      argument: 'service',
      fromFlags: {
        service: this.args.service,
        region: f.region,
        zone: f.zone,
        alb: f.alb,
        clusters: f.cluster,
        weights: f.weight?.length ? ingress.parseWeights(f.weight, this.asGiven('--weight')) : undefined,
        mode: f.mode as 'ingress' | 'nodeport' | undefined,
        port: f.port,
        healthPath: f['health-path'],
        stickiness: f.stickiness,
        sourceIps: f['source-ip'],
        dns: f.dns === false ? false : undefined,
      },
    });
    const missing = [
      !input.service && 'SERVICE',
      !input.zone && '--zone',
      !input.alb && '--alb',
      !input.clusters?.length && '--cluster',
    ].filter(Boolean) as string[];
    this.requireFlags(missing, 'these are neither flags nor in the file');
    const spec = ingress.buildEndpointSpec({ ...input, service: input.service! }, field, await this.resolveRegion());
    const deps = await this.deps();
    const { endpointCreate } = await import('../../orchestration/workflows/endpointCreate');
    const result = await endpointCreate(deps, spec, { dryRun: f['dry-run'], signal: this.interruptSignal() }).catch(
      (error: unknown) => {
        throw relabel(error);
      },
    );
    this.output(result, () => {
      if (result.dryRun) return renderChanges(result.planned ?? [], true);
      const e = result.endpoint;
      const behind = e.clusters
        .map((c) => (c.weight !== undefined ? `${c.cluster}=${c.weight}` : c.cluster))
        .join(', ');
      return [
        `endpoint ${e.host} (${e.mode}) on ALB ${e.alb}, rule priority ${e.priority}: ${behind}`,
        e.dns ? `DNS: latency alias ${e.host} (${deps.region})` : 'DNS: not managed (--no-dns)',
      ].join('\n');
    });
    return result;
  }
}
