import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/command';
import { dryRunFlag } from '../../cli/flags';
import { UserError } from '../../core/errors';

export default class RunsRollback extends BaseCommand<typeof RunsRollback> {
  static override description =
    'Undo what a crashed or partly rolled-back run did, from its journal: deletes what it created and restores what it changed, newest first; never touches what existed before';
  static override examples = [
    '<%= config.bin %> runs rollback 20260101T120000-a1b2c3',
    '<%= config.bin %> runs rollback 20260101T120000-a1b2c3 --dry-run',
    '<%= config.bin %> runs rollback 20260101T120000-a1b2c3 --yes --json',
  ];
  static override args = {
    runId: Args.string({ description: 'run id (see `k3sctl runs list`)', required: true }),
  };
  static override flags = {
    'dry-run': dryRunFlag('list what would be undone and change nothing'),
    force: Flags.boolean({
      description: 'also roll back a run that succeeded or whose process still looks alive',
    }),
  };

  async run(): Promise<object> {
    const runId = this.args.runId!;
    // Run ids are the journals' file names (YYYYMMDDTHHMMSS-xxxxxx): anything else, a path above all, is no run.
    if (!/^\d{8}T\d{6}-[0-9a-f]{6}$/.test(runId))
      throw new UserError(
        `RUN_ID '${runId}' is not a run id (YYYYMMDDTHHMMSS-xxxxxx)`,
        'list the recorded runs with `k3sctl runs list`',
        'RUN_ID',
      );
    const { runDescribe, runRollback } = await import('../../orchestration/workflows/runs');
    const run = runDescribe(this.home, runId);
    if (!run)
      throw new UserError(
        `RUN_ID ${runId}: no such run under ${this.home}/runs`,
        'list the recorded runs with `k3sctl runs list`',
        'RUN_ID',
      );
    // The journal knows its region and account: default to them, and refuse to undo a sandbox run
    // against AWS or the other way round.
    if (!this.flags.region && run.region) (this.flags as { region?: string }).region = run.region;
    if (run.target === 'sandbox') (this.flags as { sandbox?: boolean }).sandbox = true;
    else if (run.target && this.sandboxMode) {
      throw new UserError(
        `run ${runId} wrote to ${run.target}, not to the sandbox`,
        'run `k3sctl runs rollback` without --sandbox (and without K3SCTL_SANDBOX)',
        '--sandbox',
      );
    }
    if (run.target?.startsWith('endpoint:') && !this.flags['endpoint-url']) {
      (this.flags as { 'endpoint-url'?: string })['endpoint-url'] = run.target.slice('endpoint:'.length);
    }
    const preview = () =>
      [
        `run ${run.runId} (${run.title}), ${run.status}: ${run.undo.length} change(s) to undo`,
        ...run.undo.map(
          (u) =>
            `  ${u.action === 'delete' ? '-' : '~'} ${u.action} ${u.type} ${u.name}${u.id ? ` (${u.id})` : ''}`,
        ),
      ].join('\n');
    if (this.flags['dry-run'] || run.undo.length === 0) {
      const result = {
        run: run.runId,
        dryRun: Boolean(this.flags['dry-run']),
        undo: run.undo,
        rolledBack: [],
        leftovers: [],
        changes: [],
        apiCalls: { read: 0, write: 0 },
      };
      this.output(result, preview);
      return result;
    }
    await this.confirmOrRequireYes(
      preview(),
      `Undo these ${run.undo.length} change(s)?`,
      'cancelled; nothing was changed',
    );
    const deps = await this.deps();
    const result = await runRollback(deps, run, { force: this.flags.force });
    this.output(result, () => `rolled back ${result.rolledBack.length} change(s) of run ${run.runId}`);
    return result;
  }
}
