import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base';
import { renderChanges } from '../cluster/create';

export default class CertificateDelete extends BaseCommand<typeof CertificateDelete> {
  static override description =
    'Delete a k3sctl certificate and its DNS validation records (refused while a listener uses it)';
  static override examples = [
    '<%= config.bin %> certificate delete example.com',
    '<%= config.bin %> certificate delete arn:aws:acm:us-east-1:123456789012:certificate/...',
  ];
  static override args = {
    certificate: Args.string({ description: 'certificate ARN or domain', required: true }),
  };
  static override flags = { 'dry-run': Flags.boolean({ description: 'print the plan and change nothing' }) };

  async run(): Promise<object> {
    const deps = await this.deps();
    const { certificateDelete } = await import('../../orchestration/workflows/certificateDelete');
    const result = await certificateDelete(deps, this.args.certificate!, {
      dryRun: this.flags['dry-run'],
      signal: this.interruptSignal(),
    });
    this.output(result, () =>
      result.dryRun
        ? renderChanges(result.planned, true)
        : `deleted certificate ${result.certificate.domain} (${result.certificate.arn})`,
    );
    return result;
  }
}
