import { Args } from '@oclif/core';
import { BaseCommand } from '../../cli/command';
import { dryRunFlag } from '../../cli/flags';
import { renderChanges } from '../../cli/output';

export default class CertificateDelete extends BaseCommand<typeof CertificateDelete> {
  static override description =
    'Delete a k3sctl certificate and its DNS validation records (refused while a listener uses it); shows the plan and asks first, or needs --yes without a terminal';
  static override examples = [
    '<%= config.bin %> certificate delete example.com --dry-run',
    '<%= config.bin %> certificate delete example.com --yes',
    '<%= config.bin %> certificate delete arn:aws:acm:us-east-1:123456789012:certificate/... --yes',
  ];
  static override args = {
    certificate: Args.string({ description: 'certificate ARN or domain', required: true }),
  };
  static override flags = { 'dry-run': dryRunFlag() };

  async run(): Promise<object> {
    const f = this.flags;
    const certificate = this.args.certificate!;
    const { validateCertificateRef } = await import('../../config/formats');
    validateCertificateRef(certificate, 'CERTIFICATE', await this.resolveRegion());
    const confirm = this.confirmPlan(
      f['dry-run'],
      `Delete certificate ${certificate} and its validation records above?`,
    );
    const deps = await this.deps();
    const { certificateDelete } = await import('../../orchestration/workflows/certificateDelete');
    const result = await certificateDelete(deps, certificate, {
      dryRun: f['dry-run'],
      confirm,
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
