import { Args } from '@oclif/core';
import { BaseCommand } from '../../cli/command';
import { dryRunFlag } from '../../cli/flags';
import { renderChanges } from '../../cli/output';

export default class NodegroupDelete extends BaseCommand<typeof NodegroupDelete> {
  static override description = 'Delete a group: scale to 0 (each instance drains through the lifecycle hook), then its Auto Scaling group and launch template';
  static override examples = ['<%= config.bin %> nodegroup delete demo gpu --yes'];
  static override args = {
    cluster: Args.string({ description: 'cluster name', required: true }),
    group: Args.string({ description: 'group name', required: true }),
  };
  static override flags = {
    'dry-run': dryRunFlag('list what would be deleted and change nothing'),
  };

  async run(): Promise<object> {
    const f = this.flags;
    const { validateClusterName, validateGroupName } = await import('../../config/names');
    validateClusterName(this.args.cluster!, 'CLUSTER');
    validateGroupName(this.args.group!, 'GROUP');
    const confirm = this.confirmPlan(f['dry-run'], `Delete group ${this.args.group} of ${this.args.cluster}?`);
    const deps = await this.deps();
    const { nodegroupDelete } = await import('../../orchestration/workflows/nodegroupDelete');
    const result = await nodegroupDelete(deps, this.args.cluster!, this.args.group!, { dryRun: f['dry-run'], confirm, signal: this.interruptSignal() });
    this.output(result, () => (result.dryRun ? renderChanges(result.planned, true) : `deleted group ${result.group} of ${result.cluster}`));
    return result;
  }
}
