import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/command';
import { dryRunFlag } from '../../cli/flags';
import { renderChanges } from '../../cli/output';

export default class ClusterDelete extends BaseCommand<typeof ClusterDelete> {
  static override description =
    'Delete everything a cluster owns (found by its tags and names), in reverse dependency order: ingress rule, groups (drained), launch templates, parameters, IAM, security group';

  static override examples = ['<%= config.bin %> cluster delete demo --yes', '<%= config.bin %> cluster delete demo --dry-run'];

  static override args = { name: Args.string({ description: 'cluster name', required: true }) };

  static override flags = {
    'dry-run': dryRunFlag('list what would be deleted and change nothing'),
    force: Flags.boolean({ description: 'take the cluster out of ingress endpoints that other clusters still serve, instead of refusing' }),
  };

  async run(): Promise<object> {
    const f = this.flags;
    const { validateClusterName } = await import('../../config/names');
    validateClusterName(this.args.name!, 'NAME');
    const confirm = this.confirmPlan(f['dry-run'], `Delete cluster ${this.args.name} and everything above?`);
    const deps = await this.deps();
    const { clusterDelete } = await import('../../orchestration/workflows/clusterDelete');
    const result = await clusterDelete(deps, this.args.name!, { dryRun: f['dry-run'], force: f.force, confirm, signal: this.interruptSignal() });
    this.output(result, () =>
      result.dryRun ? renderChanges(result.planned, true) : `deleted cluster ${result.cluster} (${result.changes.filter((c) => c.action === 'delete').length} resources)`,
    );
    return result;
  }
}
