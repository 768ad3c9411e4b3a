import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base';
import type { PlannedChange } from '../../core/events';
import { renderChanges } from '../cluster/create';

export default class NodegroupDelete extends BaseCommand<typeof NodegroupDelete> {
  static override description = 'Delete a group: scale to 0 (each instance drains through the lifecycle hook), then its Auto Scaling group and launch template';
  static override examples = ['<%= config.bin %> nodegroup delete demo gpu --yes'];
  static override args = {
    cluster: Args.string({ description: 'cluster name', required: true }),
    group: Args.string({ description: 'group name', required: true }),
  };
  static override flags = {
    'dry-run': Flags.boolean({ description: 'list what would be deleted and change nothing' }),
  };

  async run(): Promise<object> {
    const f = this.flags;
    const { validateClusterName, validateGroupName } = await import('../../config/names');
    validateClusterName(this.args.cluster!, 'cluster');
    validateGroupName(this.args.group!, 'group');
    if (!f['dry-run'] && !f.yes && !this.canPrompt()) this.requireFlags(['--yes (or --dry-run to preview)']);
    const deps = await this.deps();
    const confirm = !f['dry-run'] && !f.yes
      ? async (changes: PlannedChange[]) => {
          process.stderr.write(`${renderChanges(changes, false)}\n`);
          const { confirm: ask } = await import('../../ui/prompts');
          return ask(`Delete group ${this.args.group} of ${this.args.cluster}?`);
        }
      : undefined;
    const { nodegroupDelete } = await import('../../orchestration/workflows/nodegroupDelete');
    const result = await nodegroupDelete(deps, this.args.cluster!, this.args.group!, { dryRun: f['dry-run'], confirm, signal: this.interruptSignal() });
    this.output(result, () => (result.dryRun ? renderChanges(result.planned, true) : `deleted group ${result.group} of ${result.cluster}`));
    return result;
  }
}
