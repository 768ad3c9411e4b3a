import { BaseCommand } from '../../cli/command';

export default class EndpointList extends BaseCommand<typeof EndpointList> {
  static override description = 'List the shared endpoints of a region';
  static override examples = ['<%= config.bin %> endpoint list', '<%= config.bin %> endpoint list --json'];

  async run(): Promise<object> {
    const deps = await this.deps();
    const { endpointList } = await import('../../orchestration/workflows/endpointList');
    const result = await endpointList(deps);
    const { renderTable } = await import('../../ui/table');
    this.output(result, () =>
      result.endpoints.length === 0
        ? `no endpoints in ${deps.region}`
        : renderTable(
            ['SERVICE', 'HOST', 'MODE', 'ALB', 'CLUSTERS', 'DNS'],
            result.endpoints.map((e) => [
              e.service,
              e.host,
              e.mode,
              e.alb,
              e.clusters.map((c) => (e.mode === 'ingress' ? `${c}=${e.weights[c] ?? 1}` : c)).join(' '),
              e.dns ? 'yes' : 'no',
            ]),
          ),
    );
    return result;
  }
}
