import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/command';
import { dryRunFlag } from '../../cli/flags';
import { UserError } from '../../core/errors';
import type { PlannedChange } from '../../core/events';

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
    const { describeRun, rollbackRun } = await import('../../orchestration/engine');
    const run = describeRun(this.home, runId);
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
    const outcome = await rollbackRun(deps, runId, { force: this.flags.force });
    const changes = undoneChanges(run.undo, outcome.rolledBack);
    if (outcome.leftovers.length) {
      // Exit 3 like a failed run whose rollback is incomplete; the error document lists the leftovers.
      const { RunFailedError } = await import('../../orchestration/deps');
      const incomplete = new RunFailedError(
        new Error(`rollback of run ${runId} is incomplete`),
        outcome.rolledBack,
        outcome.leftovers,
        changes,
      );
      incomplete.run = runId;
      throw incomplete;
    }
    const result = {
      run: run.runId,
      dryRun: false,
      undo: run.undo,
      ...outcome,
      changes,
      apiCalls: deps.clients.calls.snapshot(),
    };
    this.output(result, () => `rolled back ${outcome.rolledBack.length} change(s) of run ${run.runId}`);
    return result;
  }
}

type UndoItem = { action: 'delete' | 'restore'; type: string; name: string; id?: string };

/** The undone entries as the `changes` of the JSON contract: a deletion, or an update restoring a value. */
export function undoneChanges(
  undo: UndoItem[],
  rolledBack: { type: string; name: string; id?: string }[],
): PlannedChange[] {
  const pending = [...undo];
  return rolledBack.map((r) => {
    const i = pending.findIndex((u) => u.type === r.type && u.name === r.name && u.id === r.id);
    const action = i === -1 ? 'delete' : pending.splice(i, 1)[0].action;
    return {
      action: action === 'restore' ? 'update' : 'delete',
      type: r.type,
      name: r.name,
      ...(r.id !== undefined ? { id: r.id } : {}),
    };
  });
}
