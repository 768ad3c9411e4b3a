import { Args } from '@oclif/core';
import { BaseCommand } from '../../cli/command';

export default class NodegroupList extends BaseCommand<typeof NodegroupList> {
  static override description = 'List the groups of a cluster: role, type, capacity, instances InService and out of date';
  static override examples = ['<%= config.bin %> nodegroup list demo'];
  static override args = { cluster: Args.string({ description: 'cluster name', required: true }) };

  async run(): Promise<object> {
    const { validateClusterName } = await import('../../config/names');
    validateClusterName(this.args.cluster!, 'CLUSTER');
    const deps = await this.deps();
    const { nodegroupList } = await import('../../orchestration/workflows/nodegroupList');
    const result = await nodegroupList(deps, this.args.cluster!);
    const { renderTable } = await import('../../ui/table');
    this.output(result, () =>
      renderTable(
        ['GROUP', 'ROLE', 'TYPE', 'SPOT', 'DESIRED', 'IN SERVICE', 'OUT OF DATE', 'LT', 'K3S'],
        result.groups.map((g) => [g.name, g.role, g.instanceType, g.spot ? 'yes' : 'no', g.desired, g.inService, g.outOfDate, g.launchTemplateVersion, g.k3sVersion]),
      ),
    );
    return result;
  }
}
