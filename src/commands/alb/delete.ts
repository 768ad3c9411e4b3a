import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/command';
import { dryRunFlag } from '../../cli/flags';
import { renderChanges } from '../../cli/output';
import { UserError } from '../../core/errors';

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
    'dry-run': dryRunFlag(),
  };

  async run(): Promise<object> {
    const f = this.flags;
    const name = this.args.name!;
    const { validateAlbRef } = await import('../../config/formats');
    validateAlbRef(name, 'NAME', await this.resolveRegion());
    const confirm = this.confirmPlan(f['dry-run'], `Delete ALB ${name} and everything above?`);
    const deps = await this.deps();
    const { albDelete } = await import('../../orchestration/workflows/albDelete');
    const result = await albDelete(deps, name, {
      dryRun: f['dry-run'],
      force: f.force,
      confirm,
      signal: this.interruptSignal(),
    }).catch((error: unknown) => {
      // The refusal while clusters or endpoints still route through the ALB is lifted by --force.
      if (error instanceof UserError && !error.field && error.suggestion?.includes('--force'))
        throw new UserError(error.message, error.suggestion, '--force');
      throw error;
    });
    this.output(result, () =>
      result.dryRun ? renderChanges(result.planned, true) : `deleted ALB ${result.alb.name}`,
    );
    return result;
  }
}
