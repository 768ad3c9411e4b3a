import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base';
import { renderChanges } from '../cluster/create';

export default class AlbDelete extends BaseCommand<typeof AlbDelete> {
  static override description =
    'Delete a shared ALB, its listeners and security groups (refused while clusters or endpoints still route through it, unless --force)';
  static override examples = [
    '<%= config.bin %> alb delete shared',
    '<%= config.bin %> alb delete shared --force --yes',
  ];
  static override args = { name: Args.string({ description: 'ALB name or ARN', required: true }) };
  static override flags = {
    force: Flags.boolean({ description: 'also delete the listener rules of clusters and endpoints' }),
    'dry-run': Flags.boolean({ description: 'print the plan and change nothing' }),
  };

  async run(): Promise<object> {
    const deps = await this.deps();
    const { albDelete } = await import('../../orchestration/workflows/albDelete');
    const result = await albDelete(deps, this.args.name!, {
      dryRun: this.flags['dry-run'],
      force: this.flags.force,
      signal: this.interruptSignal(),
    });
    this.output(result, () =>
      result.dryRun ? renderChanges(result.planned, true) : `deleted ALB ${result.alb.name}`,
    );
    return result;
  }
}
