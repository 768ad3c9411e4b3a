import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base';
import type { PlannedChange } from '../../core/events';
import { renderChanges } from '../cluster/create';

export default class AlbDelete extends BaseCommand<typeof AlbDelete> {
  static override description =
    'Delete a shared ALB, its listeners and security groups (refused while clusters or endpoints still route through it, unless --force); shows the plan and asks first, or needs --yes without a terminal';
  static override examples = [
    '<%= config.bin %> alb delete shared --dry-run',
    '<%= config.bin %> alb delete shared --yes',
    '<%= config.bin %> alb delete shared --force --yes',
  ];
  static override args = { name: Args.string({ description: 'ALB name or ARN', required: true }) };
  static override flags = {
    force: Flags.boolean({ description: 'also delete the listener rules of clusters and endpoints' }),
    'dry-run': Flags.boolean({ description: 'print the plan and change nothing' }),
  };

  async run(): Promise<object> {
    const f = this.flags;
    const name = this.args.name!;
    if (!f['dry-run'] && !f.yes && !this.canPrompt())
      this.requireFlags(
        ['--yes'],
        'stdin is not a terminal (or CI/--json is set); --dry-run previews without it',
      );
    const confirm =
      f['dry-run'] || f.yes
        ? undefined
        : async (changes: PlannedChange[]) => {
            process.stderr.write(`${renderChanges(changes, false)}\n`);
            const { confirm: ask } = await import('../../ui/prompts');
            return ask(`Delete ALB ${name} and everything above?`);
          };
    const deps = await this.deps();
    const { albDelete } = await import('../../orchestration/workflows/albDelete');
    const result = await albDelete(deps, name, {
      dryRun: f['dry-run'],
      force: f.force,
      confirm,
      signal: this.interruptSignal(),
    });
    this.output(result, () =>
      result.dryRun ? renderChanges(result.planned, true) : `deleted ALB ${result.alb.name}`,
    );
    return result;
  }
}
