import { BaseCommand } from '../../cli/command';

export default class AlbList extends BaseCommand<typeof AlbList> {
  static override description =
    'List the shared ALBs k3sctl manages in a region, with the clusters and endpoints routed through each';
  static override examples = ['<%= config.bin %> alb list', '<%= config.bin %> alb list --json'];

  async run(): Promise<object> {
    const deps = await this.deps();
    const { albList } = await import('../../orchestration/workflows/albList');
    const result = await albList(deps);
    const { renderTable } = await import('../../ui/table');
    this.output(result, () =>
      result.albs.length === 0
        ? `no k3sctl ALBs in ${deps.region}`
        : renderTable(
            ['NAME', 'STATE', 'SCHEME', 'LISTENERS', 'CLUSTERS', 'ENDPOINTS', 'DNS'],
            result.albs.map((a) => [
              a.name,
              a.state,
              a.scheme,
              a.listeners.join(','),
              a.clusters.join(',') || '-',
              a.endpoints.join(',') || '-',
              a.dnsName,
            ]),
          ),
    );
    return result;
  }
}
