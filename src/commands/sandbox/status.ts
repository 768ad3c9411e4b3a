import * as path from 'node:path';
import { BaseCommand } from '../../cli/command';

export default class SandboxStatus extends BaseCommand<typeof SandboxStatus> {
  static override description = 'Show the embedded simulated AWS account: resources by type, virtual time, calls made';
  static override examples = ['<%= config.bin %> sandbox status', '<%= config.bin %> sandbox status --json'];

  async run(): Promise<void> {
    const { SandboxStore } = await import('../../sandbox/store');
    const store = new SandboxStore(path.join(this.home, 'sandbox'));
    const sandbox = await store.open();
    try {
      const result = {
        stateFile: store.statePath,
        virtualTime: new Date(sandbox.now()).toISOString(),
        regions: sandbox.regions,
        resources: sandbox.resourceCounts(),
        // By operation name: calls made side by side reach the sandbox in no fixed order.
        calls: { ...sandbox.state.calls, byOperation: Object.fromEntries(Object.entries(sandbox.state.calls.byOperation).sort(([a], [b]) => a.localeCompare(b))) },
      };
      this.output(result, () => {
        const lines = [`virtual time: ${result.virtualTime}`, `state: ${result.stateFile}`, 'resources:'];
        const entries = Object.entries(result.resources);
        if (entries.length === 0) lines.push('  (none besides the defaults)');
        for (const [type, n] of entries) lines.push(`  ${type.padEnd(44)} ${n}`);
        lines.push(`calls: ${result.calls.read} read, ${result.calls.write} write`);
        return lines.join('\n');
      });
    } finally {
      store.release();
    }
  }
}
