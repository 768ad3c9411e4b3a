import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/command';
import { dryRunFlag } from '../../cli/flags';
import { renderChanges } from '../../cli/output';
import { parseTimeout } from '../../config/duration';
import { UserError } from '../../core/errors';

export default class EndpointWeight extends BaseCommand<typeof EndpointWeight> {
  static override description =
    'Re-weight the clusters behind an ingress-mode endpoint; with --shift-over, move traffic in steps and stop (restoring the previous weights) if a receiving cluster has no healthy target. Shows the change and asks first, or needs --yes without a terminal';

  static override examples = [
    '<%= config.bin %> endpoint weight blog alpha=3 bravo=1 --dry-run',
    '<%= config.bin %> endpoint weight blog alpha=3 bravo=1 --yes',
    '<%= config.bin %> endpoint weight blog alpha=0 bravo=10 --shift-over 10m --step 10 --yes',
  ];

  static override strict = false;
  static override args = { service: Args.string({ description: 'service name', required: true }) };
  static override flags = {
    'shift-over': Flags.string({ description: 'move traffic gradually over this duration, e.g. 10m' }),
    step: Flags.integer({ description: 'number of steps of a gradual shift (default 10)' }),
    'dry-run': dryRunFlag(),
  };

  async run(): Promise<object> {
    const { argv } = await this.parse({
      flags: EndpointWeight.flags,
      baseFlags: BaseCommand.baseFlags,
      args: EndpointWeight.args,
      strict: false,
    });
    const items = (argv as string[]).slice(1);
    const { validateServiceName } = await import('../../config/names');
    validateServiceName(this.args.service!, 'SERVICE');
    if (items.length === 0)
      throw new UserError('no WEIGHTS given', 'e.g. k3sctl endpoint weight blog alpha=3 bravo=1', 'WEIGHTS');
    const ingress = await import('../../config/ingress');
    const weights = ingress.parseWeights(items, 'WEIGHTS');
    const shiftOver = this.asGiven('--shift-over');
    const shiftOverMs =
      this.flags['shift-over'] !== undefined
        ? parseTimeout(this.flags['shift-over'], shiftOver, 'give e.g. 10m; without --shift-over the weights change at once')
        : undefined;
    if (this.flags.step !== undefined && shiftOverMs === undefined)
      throw new UserError('--step applies with --shift-over only', undefined, '--step');
    if (this.flags.step !== undefined && (this.flags.step < 1 || this.flags.step > 100))
      throw new UserError(`--step ${this.flags.step} is out of range (1-100)`, undefined, '--step');
    const dryRun = this.flags['dry-run'];
    const service = this.args.service!;
    const confirm = this.confirmPlan(dryRun, `Shift the live traffic of endpoint ${service} as above?`);
    const deps = await this.deps();
    const { endpointWeight } = await import('../../orchestration/workflows/endpointWeight');
    const result = await endpointWeight(
      deps,
      {
        service,
        weights,
        shiftOverMs,
        steps: this.flags.step,
        dryRun,
      },
      { confirm, signal: this.interruptSignal() },
    );
    const fmt = (w: Record<string, number>) =>
      Object.entries(w)
        .map(([c, n]) => `${c}=${n}`)
        .join(' ');
    this.output(result, () =>
      result.dryRun
        ? renderChanges(result.planned ?? [], true)
        : `endpoint ${result.service}: ${fmt(result.from)} -> ${fmt(result.to)}`,
    );
    return result;
  }
}
