import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../cli/command';
import { recycleFlags, recycleSpecFromFlags } from '../cli/recycleFlags';
import { previewReplacements, renderReplacements } from '../cli/recycleOutput';
import type { UpgradeResult, UpgradeSpec } from '../orchestration/workflows/upgrade';

export default class Upgrade extends BaseCommand<typeof Upgrade> {
  static override description =
    "Upgrade a cluster's k3s version: a new launch template version per group (user data re-rendered with the new version), then a recycle, control planes first";

  static override examples = [
    '<%= config.bin %> upgrade demo --k3s-version v1.32.2+k3s1 --dry-run',
    '<%= config.bin %> upgrade demo --k3s-version v1.32.2+k3s1 --yes',
    '<%= config.bin %> upgrade demo --k3s-version v1.32.2+k3s1 --strategy canary --batch 25% --yes',
  ];

  static override args = { cluster: Args.string({ description: 'cluster name', required: true }) };

  static override flags = {
    'k3s-version': Flags.string({
      description: 'target k3s release, e.g. v1.32.2+k3s1',
      required: true,
      env: 'K3SCTL_K3S_VERSION',
    }),
    ...recycleFlags,
    force: Flags.boolean({
      description: 'allow a downgrade across minor versions or skipping a minor version',
    }),
  };

  async run(): Promise<UpgradeResult> {
    const f = this.flags;
    const { validateK3sVersion } = await import('../config/cluster');
    validateK3sVersion(f['k3s-version'], this.asGiven('--k3s-version'));
    const spec: UpgradeSpec = {
      ...(await recycleSpecFromFlags(this.args.cluster!, f, false, (flag) => this.asGiven(flag))),
      k3sVersion: f['k3s-version'],
      force: f.force,
    };
    spec.confirm = this.confirmDestructive(
      spec.dryRun,
      previewReplacements,
      `Upgrade to k3s ${spec.k3sVersion} and replace these instances?`,
    );
    const deps = await this.deps();
    const { upgrade } = await import('../orchestration/workflows/upgrade');
    const result = await upgrade(deps, spec, { signal: this.interruptSignal() });
    this.output(result, () => {
      const lines = result.launchTemplateVersions.map(
        (v) =>
          `${v.autoScalingGroupName}: k3s ${v.fromK3sVersion} -> ${v.toK3sVersion}` +
          (v.toLaunchTemplateVersion
            ? ` (launch template version ${v.fromLaunchTemplateVersion} -> ${v.toLaunchTemplateVersion})`
            : v.fromK3sVersion === v.toK3sVersion
              ? ' (already)'
              : ''),
      );
      return [...lines, renderReplacements(result)].join('\n');
    });
    return result;
  }
}
