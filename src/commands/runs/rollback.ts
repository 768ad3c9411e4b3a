import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base';
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
    'dry-run': Flags.boolean({ description: 'list what would be undone and change nothing' }),
    force: Flags.boolean({
      description: 'also roll back a run that succeeded or whose process still looks alive',
    }),
  };

  async run(): Promise<object> {
    const runId = this.args.runId!;
    const { describeRun, rollbackRun } = await import('../../orchestration/engine');
    const run = describeRun(this.home, runId);
    if (!run)
      throw new UserError(
        `no run ${runId} under ${this.home}/runs`,
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
      };
      this.output(result, preview);
      return result;
    }
    if (!this.flags.yes) {
      if (!this.canPrompt())
        this.requireFlags(
          ['--yes'],
          'stdin is not a terminal (or CI/--json is set) and rollback deletes resources',
        );
      process.stderr.write(`${preview()}\n`);
      const { confirm } = await import('../../ui/prompts');
      if (!(await confirm(`Undo these ${run.undo.length} change(s)?`)))
        throw new UserError('cancelled; nothing was changed');
    }
    const deps = await this.deps();
    const outcome = await rollbackRun(deps, runId, { force: this.flags.force });
    if (outcome.leftovers.length) {
      // Exit 3 like a failed run whose rollback is incomplete; the error document lists the leftovers.
      const { RunFailedError } = await import('../../orchestration/deps');
      throw new RunFailedError(
        new Error(`rollback of run ${runId} is incomplete`),
        outcome.rolledBack,
        outcome.leftovers,
      );
    }
    const result = { run: run.runId, dryRun: false, undo: run.undo, ...outcome };
    this.output(result, () => `rolled back ${outcome.rolledBack.length} change(s) of run ${run.runId}`);
    return result;
  }
}
