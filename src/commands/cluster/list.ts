import { BaseCommand } from '../../cli/command';

export default class ClusterList extends BaseCommand<typeof ClusterList> {
  static override description = 'List the clusters of a region (from SSM /k3sctl/clusters/ and tags)';
  static override examples = ['<%= config.bin %> cluster list', '<%= config.bin %> cluster list --json'];

  async run(): Promise<object> {
    const deps = await this.deps();
    const { clusterList } = await import('../../orchestration/workflows/clusterList');
    const result = await clusterList(deps);
    const { renderTable } = await import('../../ui/table');
    this.output(result, () =>
      result.clusters.length === 0
        ? `no clusters in ${result.region}`
        : renderTable(
            ['NAME', 'REGION', 'VPC', 'K3S', 'GROUPS', 'STATUS'],
            result.clusters.map((c) => [c.name, c.region, c.vpcId, c.k3sVersion, c.groups.map((g) => `${g.name}=${g.count}`).join(' '), c.status]),
          ),
    );
    return result;
  }
}
