import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../cli/command';
import { recycleFlags, recycleSpecFromFlags } from '../cli/recycleFlags';
import { previewReplacements, renderReplacements } from '../cli/recycleOutput';
import type { RecycleResult } from '../orchestration/workflows/recycle';

export default class Recycle extends BaseCommand<typeof Recycle> {
  static override description =
    "Replace a cluster's out-of-date instances (launch template version differs from the group's) through their Auto Scaling groups: control planes first, surge-first and one at a time, then node groups with the chosen strategy";

  static override examples = [
    '<%= config.bin %> recycle demo --dry-run',
    '<%= config.bin %> recycle demo --strategy rolling --batch 20% --yes',
    '<%= config.bin %> recycle demo --group workers --strategy canary --batch 2',
    '<%= config.bin %> recycle demo --force --strategy serial --yes',
  ];

  static override args = { cluster: Args.string({ description: 'cluster name', required: true }) };

  static override flags = {
    ...recycleFlags,
    force: Flags.boolean({ description: 'replace every instance, not only the out-of-date ones' }),
  };

  async run(): Promise<RecycleResult> {
    const f = this.flags;
    const spec = await recycleSpecFromFlags(this.args.cluster!, f, f.force, (flag) => this.asGiven(flag));
    spec.confirm = this.confirmDestructive(spec.dryRun, previewReplacements, 'Replace these instances?');
    const deps = await this.deps();
    const { recycle } = await import('../orchestration/workflows/recycle');
    const result = await recycle(deps, spec, { signal: this.interruptSignal() });
    this.output(result, () => renderReplacements(result));
    return result;
  }
}
