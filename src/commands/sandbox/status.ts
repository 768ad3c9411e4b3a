import { BaseCommand } from '../../cli/command';
import { sandboxStatus } from '../../cli/setup/sandboxAccount';

export default class SandboxStatus extends BaseCommand<typeof SandboxStatus> {
  static override description = 'Show the embedded simulated AWS account: resources by type, virtual time, calls made';
  static override examples = ['<%= config.bin %> sandbox status', '<%= config.bin %> sandbox status --json'];

  async run(): Promise<void> {
    const result = await sandboxStatus(this.home);
    this.output(result, () => {
      const lines = [`virtual time: ${result.virtualTime}`, `state: ${result.stateFile}`, 'resources:'];
      const entries = Object.entries(result.resources);
      if (entries.length === 0) lines.push('  (none besides the defaults)');
      for (const [type, n] of entries) lines.push(`  ${type.padEnd(44)} ${n}`);
      lines.push(`calls: ${result.calls.read} read, ${result.calls.write} write`);
      return lines.join('\n');
    });
  }
}
