import { BaseCommand } from '../../cli/command';
import { resetSandbox } from '../../cli/setup/sandboxAccount';

export default class SandboxReset extends BaseCommand<typeof SandboxReset> {
  static override description = 'Forget the simulated AWS account (a fresh default account is created on next use)';
  static override examples = ['<%= config.bin %> sandbox reset --yes'];

  async run(): Promise<void> {
    const stateFile = await resetSandbox(this.home);
    this.output({ reset: true, stateFile }, () => `sandbox reset (${stateFile})`);
  }
}
