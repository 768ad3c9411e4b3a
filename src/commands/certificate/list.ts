import { Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/command';

export default class CertificateList extends BaseCommand<typeof CertificateList> {
  static override description = 'List the ACM certificates k3sctl requested (all certificates with --all)';
  static override examples = [
    '<%= config.bin %> certificate list',
    '<%= config.bin %> certificate list --all --json',
  ];
  static override flags = {
    all: Flags.boolean({ description: 'include certificates k3sctl did not request' }),
  };

  async run(): Promise<object> {
    const deps = await this.deps();
    const { certificateList } = await import('../../orchestration/workflows/certificateList');
    const result = await certificateList(deps, { all: this.flags.all });
    const { renderTable } = await import('../../ui/table');
    this.output(result, () =>
      result.certificates.length === 0
        ? `no certificates in ${deps.region}`
        : renderTable(
            ['DOMAIN', 'STATUS', 'NAMES', 'IN USE', 'ARN'],
            result.certificates.map((c) => [
              c.domain,
              c.status,
              c.names.join(','),
              c.inUseBy.length ? 'yes' : 'no',
              c.arn,
            ]),
          ),
    );
    return result;
  }
}
