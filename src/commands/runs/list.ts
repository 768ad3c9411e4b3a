import { BaseCommand } from '../../cli/command';

export default class RunsList extends BaseCommand<typeof RunsList> {
  static override description =
    'List the runs recorded under $K3SCTL_HOME/runs (newest first) with their outcome; a crashed run can be rolled back with `runs rollback`';
  static override examples = ['<%= config.bin %> runs list', '<%= config.bin %> runs list --json'];

  async run(): Promise<object> {
    const { runsList } = await import('../../orchestration/workflows/runs');
    const { renderTable } = await import('../../ui/table');
    const result = { runs: runsList(this.home) };
    this.output(result, () => {
      if (result.runs.length === 0) return 'no runs recorded';
      const table = renderTable(
        ['RUN', 'STARTED', 'STATUS', 'REGION', 'WRITES', 'TO UNDO', 'TITLE'],
        result.runs.map((r) => [r.runId, r.startedAt, r.status, r.region, r.writes, r.pendingUndo, r.title]),
        { align: ['left', 'left', 'left', 'left', 'right', 'right', 'left'] },
      );
      const crashed = result.runs.filter((r) => r.status === 'crashed' || r.status === 'rollback-incomplete');
      const hint = crashed.length
        ? `\n\nroll back with: ${crashed.map((r) => `k3sctl runs rollback ${r.runId}`).join('; ')}`
        : '';
      return table + hint;
    });
    return result;
  }
}
