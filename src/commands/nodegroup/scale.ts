import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/command';
import { dryRunFlag } from '../../cli/flags';
import { renderGroupResult } from '../../cli/groupAdd';
import { UserError } from '../../core/errors';

export default class NodegroupScale extends BaseCommand<typeof NodegroupScale> {
  static override description = 'Set the instance count of a group (scale-in drains through the termination lifecycle hook)';
  static override examples = ['<%= config.bin %> nodegroup scale demo nodes --nodes 5'];
  static override args = {
    cluster: Args.string({ description: 'cluster name', required: true }),
    group: Args.string({ description: 'group name', required: true }),
  };
  static override flags = {
    nodes: Flags.integer({ description: 'new instance count', aliases: ['count'], required: true, env: 'K3SCTL_NODES' }),
    wait: Flags.boolean({ description: 'wait until the group has its new count InService', default: true, allowNo: true, env: 'K3SCTL_WAIT' }),
    'dry-run': dryRunFlag(),
  };

  async run(): Promise<object> {
    const f = this.flags;
    const { validateClusterName, validateGroupName } = await import('../../config/names');
    validateClusterName(this.args.cluster!, 'CLUSTER');
    validateGroupName(this.args.group!, 'GROUP');
    if (f.nodes < 0) throw new UserError(`${this.asGiven('--nodes')} must be a whole number >= 0, got ${f.nodes}`, undefined, this.asGiven('--nodes'));
    const deps = await this.deps();
    const { nodegroupScale } = await import('../../orchestration/workflows/nodegroupScale');
    const result = await nodegroupScale(deps, this.args.cluster!, this.args.group!, f.nodes, { dryRun: f['dry-run'], wait: f.wait, signal: this.interruptSignal() });
    this.output(result, () => renderGroupResult(result));
    return result;
  }
}
