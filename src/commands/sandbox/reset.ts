import * as path from 'node:path';
import { BaseCommand } from '../../cli/command';

export default class SandboxReset extends BaseCommand<typeof SandboxReset> {
  static override description = 'Forget the simulated AWS account (a fresh default account is created on next use)';
  static override examples = ['<%= config.bin %> sandbox reset --yes'];

  async run(): Promise<void> {
    const { SandboxStore } = await import('../../sandbox/store');
    const store = new SandboxStore(path.join(this.home, 'sandbox'));
    await store.open();
    try {
      store.reset();
    } finally {
      store.release();
    }
    this.output({ reset: true, stateFile: store.statePath }, () => `sandbox reset (${store.statePath})`);
  }
}
