import { Args } from '@oclif/core';
import { BaseCommand } from '../../cli/command';

export default class ClusterDescribe extends BaseCommand<typeof ClusterDescribe> {
  static override description =
    'Show a cluster: groups, instances (state, zone, IPs, launch template version, up to date or not), ingress';
  static override examples = [
    '<%= config.bin %> cluster describe demo',
    '<%= config.bin %> cluster describe demo --json',
  ];
  static override args = { name: Args.string({ description: 'cluster name', required: true }) };

  async run(): Promise<object> {
    const { validateClusterName } = await import('../../config/names');
    validateClusterName(this.args.name!, 'NAME');
    const deps = await this.deps();
    const { clusterDescribe } = await import('../../orchestration/workflows/clusterDescribe');
    const result = await clusterDescribe(deps, this.args.name!);
    const { renderTable } = await import('../../ui/table');
    this.output(result, () => {
      const lines = [
        `cluster ${result.name} (${result.region}, ${result.vpcId ?? 'no configuration'}), k3s ${result.k3sVersion ?? '?'}`,
      ];
      if (result.ingress) {
        const from = result.ingress.sourceCidrs.length ? result.ingress.sourceCidrs.join(', ') : 'any source';
        const delay =
          result.ingress.deregistrationDelaySeconds === undefined
            ? ''
            : `, deregistration delay ${result.ingress.deregistrationDelaySeconds}s`;
        lines.push(
          `ingress: ${result.ingress.host} via ${result.ingress.albs.map((a) => a.alb).join(', ')} (from ${from}${delay})`,
        );
      }
      lines.push(
        renderTable(
          ['GROUP', 'ROLE', 'TYPE', 'DESIRED', 'LT VERSION', 'INSTANCES'],
          result.groups.map((g) => [
            g.name,
            g.role,
            g.instanceType,
            g.desired,
            g.launchTemplateVersion,
            g.instances.length,
          ]),
        ),
      );
      for (const g of result.groups.filter((x) => x.securityGroupIds.length || x.targetGroupArns.length)) {
        const parts = [
          ...(g.securityGroupIds.length ? [`security groups ${g.securityGroupIds.join(', ')}`] : []),
          ...(g.targetGroupArns.length ? [`target groups ${g.targetGroupNames.join(', ')}`] : []),
        ];
        lines.push(`${g.name}: extra ${parts.join('; ')}`);
      }
      const rows = result.groups.flatMap((g) =>
        g.instances.map((i) => [
          g.name,
          i.id,
          i.state,
          i.lifecycleState,
          i.az,
          i.privateIp,
          i.publicIp,
          i.launchTemplateVersion,
          i.leaving ? 'leaving' : i.upToDate ? 'yes' : 'NO',
        ]),
      );
      if (rows.length)
        lines.push(
          '',
          renderTable(
            ['GROUP', 'INSTANCE', 'STATE', 'LIFECYCLE', 'AZ', 'PRIVATE IP', 'PUBLIC IP', 'LT', 'UP TO DATE'],
            rows,
          ),
        );
      if (result.outOfDate)
        lines.push('', `${result.outOfDate} instance(s) out of date: k3sctl recycle ${result.name}`);
      for (const g of result.groups.filter((x) => x.replacement)) {
        const r = g.replacement!;
        lines.push(
          '',
          `${g.name}: replacement unfinished (run ${r.run}, since ${r.since}); the group returns to desired ${r.desired}, min ${r.min}, max ${r.max}`,
          `  finish it: k3sctl recycle ${result.name} --group ${g.name}; or undo it: k3sctl runs rollback ${r.run}`,
        );
      }
      if (result.bootstrapFailures.length) {
        // Newest first; instances still in a group are Unhealthy and being replaced.
        const shown = result.bootstrapFailures.slice(0, 10);
        lines.push('', `${result.bootstrapFailures.length} instance(s) failed their bootstrap:`);
        for (const f of shown)
          lines.push(
            `  ${f.instanceId} (${f.inGroup ? 'Unhealthy, being replaced' : 'replaced'}${f.at ? `, ${f.at}` : ''}): ${f.reason}`,
          );
        if (result.bootstrapFailures.length > shown.length)
          lines.push(`  ... and ${result.bootstrapFailures.length - shown.length} earlier (see --json)`);
      }
      return lines.join('\n');
    });
    return result;
  }
}
