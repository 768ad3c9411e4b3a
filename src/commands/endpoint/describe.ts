import { Args } from '@oclif/core';
import { BaseCommand } from '../../cli/command';

export default class EndpointDescribe extends BaseCommand<typeof EndpointDescribe> {
  static override description = 'Show a shared endpoint: rule, clusters, weights, target health, DNS record';
  static override examples = [
    '<%= config.bin %> endpoint describe blog',
    '<%= config.bin %> endpoint describe blog --json',
  ];
  static override args = { service: Args.string({ description: 'service name', required: true }) };

  async run(): Promise<object> {
    const { validateServiceName } = await import('../../config/names');
    validateServiceName(this.args.service!, 'SERVICE');
    const deps = await this.deps();
    const { endpointDescribe } = await import('../../orchestration/workflows/endpointDescribe');
    const result = await endpointDescribe(deps, this.args.service!);
    const { renderTable } = await import('../../ui/table');
    this.output(result, () => {
      const e = result.endpoint;
      const lines = [
        `endpoint ${e.host} (${e.mode}) on ALB ${e.alb}${e.rule ? `, rule priority ${e.rule.priority}` : ''}`,
        `DNS: ${e.dns.enabled ? (e.dns.present ? 'latency alias present' : 'alias record MISSING') : 'not managed'}`,
      ];
      if (e.targetGroup)
        lines.push(
          `target group ${e.targetGroup.name} (port ${e.targetGroup.port}, ${e.targetGroup.healthPath}): ${e.targetGroup.health.healthy}/${e.targetGroup.health.total} healthy`,
        );
      lines.push(
        renderTable(
          ['CLUSTER', 'WEIGHT', 'HEALTHY', 'GROUPS'],
          e.clusters.map((c) => [
            c.cluster,
            c.weight,
            c.health ? `${c.health.healthy}/${c.health.total}` : undefined,
            c.groups?.join(','),
          ]),
        ),
      );
      for (const p of e.problems) lines.push(`problem: ${p}`);
      return lines.join('\n');
    });
    return result;
  }
}
