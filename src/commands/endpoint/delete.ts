import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base';
import type { PlannedChange } from '../../core/events';
import { renderChanges } from '../cluster/create';

export default class EndpointDelete extends BaseCommand<typeof EndpointDelete> {
  static override description =
    'Delete a shared endpoint: its listener rule, alias record, nodeport target group (detached from the groups first) and configuration; shows the plan and asks first, or needs --yes without a terminal';
  static override examples = [
    '<%= config.bin %> endpoint delete blog --dry-run',
    '<%= config.bin %> endpoint delete blog --yes',
  ];
  static override args = { service: Args.string({ description: 'service name', required: true }) };
  static override flags = { 'dry-run': Flags.boolean({ description: 'print the plan and change nothing' }) };

  async run(): Promise<object> {
    const f = this.flags;
    const service = this.args.service!;
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
            return ask(`Delete endpoint ${service}? Its traffic stops being routed.`);
          };
    const deps = await this.deps();
    const { endpointDelete } = await import('../../orchestration/workflows/endpointDelete');
    const result = await endpointDelete(deps, service, {
      dryRun: f['dry-run'],
      confirm,
      signal: this.interruptSignal(),
    });
    this.output(result, () =>
      result.dryRun ? renderChanges(result.planned, true) : `deleted endpoint ${result.service}`,
    );
    return result;
  }
}
