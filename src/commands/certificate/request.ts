import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/command';
import { dryRunFlag, specFileFlag } from '../../cli/flags';
import { renderChanges } from '../../cli/output';
import type { CertificateFile } from '../../config/ingress';

export default class CertificateRequest extends BaseCommand<typeof CertificateRequest> {
  static override description =
    'Request an ACM certificate validated through Route 53 DNS records and wait until it is ISSUED (finds the existing one for the same names)';
  static override examples = [
    '<%= config.bin %> certificate request example.com --san "*.example.com" --san "*.us-east-1.example.com" --sandbox',
    '<%= config.bin %> certificate request www.example.org --zone example.com --validation-zone www.example.org=example.org',
  ];
  static override args = { domain: Args.string({ description: 'primary domain (or `domain` in the file)' }) };
  static override flags = {
    san: Flags.string({ description: 'subject alternative name (repeatable)', multiple: true }),
    zone: Flags.string({
      description: 'hosted zone (id or name) of the validation records (default: the closest parent zone)',
      env: 'K3SCTL_ZONE',
    }),
    'validation-zone': Flags.string({
      description: "DOMAIN=ZONE: zone of one name's validation record (repeatable)",
      multiple: true,
    }),
    file: specFileFlag(),
    'dry-run': dryRunFlag(),
  };

  async run(): Promise<object> {
    const f = this.flags;
    const ingress = await import('../../config/ingress');
    const { input, field, relabel } = await this.specInput<CertificateFile>({
      parse: (text, name, flag) => ingress.parseIngressSpecFile('certificate', text, name, flag),
      flagOf: ingress.INGRESS_FLAGS.certificate,
      argument: 'domain',
      fromFlags: {
        domain: this.args.domain,
        region: f.region,
        sans: f.san,
        zone: f.zone,
        validationZones: f['validation-zone']?.length
          ? ingress.parseValidationZones(f['validation-zone'], this.asGiven('--validation-zone'))
          : undefined,
      },
    });
    if (!input.domain) this.requireFlags(['DOMAIN'], 'the domain is neither an argument nor in the file');
    const spec = ingress.buildCertificateSpec({ ...input, domain: input.domain! }, field);
    await this.resolveRegion();
    const deps = await this.deps();
    const { certificateRequest } = await import('../../orchestration/workflows/certificateRequest');
    const result = await certificateRequest(deps, spec, {
      dryRun: f['dry-run'],
      signal: this.interruptSignal(),
    }).catch((error: unknown) => {
      throw relabel(error);
    });
    this.output(result, () => {
      if (result.dryRun) return renderChanges(result.planned ?? [], true);
      const c = result.certificate;
      return [
        `certificate ${c.arn} ${c.status}: ${c.names.join(', ')}`,
        ...c.validationRecords.map((r) => `  ${r.type} ${r.name} -> ${r.value} (${r.zone})`),
      ].join('\n');
    });
    return result;
  }
}
