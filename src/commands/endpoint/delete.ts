import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base';
import { renderChanges } from '../cluster/create';

export default class EndpointDelete extends BaseCommand<typeof EndpointDelete> {
  static override description =
    'Delete a shared endpoint: its listener rule, alias record, nodeport target group (detached from the groups first) and configuration';
  static override examples = ['<%= config.bin %> endpoint delete blog'];
  static override args = { service: Args.string({ description: 'service name', required: true }) };
  static override flags = { 'dry-run': Flags.boolean({ description: 'print the plan and change nothing' }) };

  async run(): Promise<object> {
    const deps = await this.deps();
    const { endpointDelete } = await import('../../orchestration/workflows/endpointDelete');
    const result = await endpointDelete(deps, this.args.service!, {
      dryRun: this.flags['dry-run'],
      signal: this.interruptSignal(),
    });
    this.output(result, () =>
      result.dryRun ? renderChanges(result.planned, true) : `deleted endpoint ${result.service}`,
    );
    return result;
  }
}
