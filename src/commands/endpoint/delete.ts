import { Args } from '@oclif/core';
import { BaseCommand } from '../../cli/command';
import { dryRunFlag } from '../../cli/flags';
import { renderChanges } from '../../cli/output';

export default class EndpointDelete extends BaseCommand<typeof EndpointDelete> {
  static override description =
    'Delete a shared endpoint: its listener rule, alias record, nodeport target group (detached from the groups first) and configuration; shows the plan and asks first, or needs --yes without a terminal';
  static override examples = [
    '<%= config.bin %> endpoint delete blog --dry-run',
    '<%= config.bin %> endpoint delete blog --yes',
  ];
  static override args = { service: Args.string({ description: 'service name', required: true }) };
  static override flags = { 'dry-run': dryRunFlag() };

  async run(): Promise<object> {
    const f = this.flags;
    const service = this.args.service!;
    const { validateServiceName } = await import('../../config/names');
    validateServiceName(service, 'SERVICE');
    const confirm = this.confirmPlan(
      f['dry-run'],
      `Delete endpoint ${service}? Its traffic stops being routed.`,
    );
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
