import * as path from 'node:path';
import { runCli, tempHome } from '../helpers/cli';

const preload = path.resolve(__dirname, '../helpers/reportLoadedModules.js');

function sdkModules(stderr: string): number {
  const m = /LOADED_SDK_MODULES=(\d+)/.exec(stderr);
  if (!m) throw new Error(`no module report in stderr: ${stderr}`);
  return Number(m[1]);
}

describe('CLI contract', () => {
  it.each([[['--version']], [['--help']], [['cluster', '--help']], [['sandbox', 'status', '--help']]])(
    '%j does not load the AWS SDK',
    async (args) => {
      const r = await runCli(args, { nodeArgs: ['-r', preload] });
      expect(r.code).toBe(0);
      expect(sdkModules(r.stderr)).toBe(0);
    },
  );

  it('--version prints the package version', async () => {
    const r = await runCli(['--version']);
    expect(r.stdout).toMatch(/^k3sctl\/\d+\.\d+\.\d+ /);
  });

  it('sandbox status --json prints exactly one JSON document on stdout', async () => {
    const r = await runCli(['sandbox', 'status', '--json']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc).toMatchObject({ virtualTime: expect.any(String), resources: expect.any(Object) });
    expect(doc.calls).toMatchObject({ read: expect.any(Number), write: expect.any(Number) });
  });

  it('an unknown flag is invalid input: exit 2, message on stderr, nothing on stdout', async () => {
    const r = await runCli(['sandbox', 'status', '--bogus']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/Nonexistent flag: --bogus/);
    expect(r.stdout).toBe('');
  });

  it('a malformed K3SCTL_SANDBOX_FAULTS is invalid input naming the variable (exit 2)', async () => {
    const r = await runCli(['cluster', 'list', '--sandbox', '--json'], { env: { K3SCTL_SANDBOX_FAULTS: 'RunInstances#0=X' } });
    expect(r.code).toBe(2);
    const doc = JSON.parse(r.stdout);
    expect(doc.error).toMatchObject({ type: 'UserError', field: 'K3SCTL_SANDBOX_FAULTS' });
    expect(doc.error.message).toMatch(/N must be 1 or more/);
  });

  it('sandbox reset forgets the simulated account', async () => {
    const home = tempHome();
    const status = await runCli(['sandbox', 'status', '--json'], { home });
    expect(status.code).toBe(0);
    const reset = await runCli(['sandbox', 'reset', '--json', '--yes'], { home });
    expect(reset.code).toBe(0);
    expect(JSON.parse(reset.stdout)).toMatchObject({ reset: true });
  });
});
