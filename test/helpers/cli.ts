// Spawns the built CLI (bin/run.js) the way a user or a CI script would: no TTY, a temporary
// K3SCTL_HOME, and returns exit code, stdout and stderr. `npm test` builds dist/ first.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const BIN = path.resolve(__dirname, '../../bin/run.js');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function tempHome(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'k3sctl-home-'));
}

/** A maker of temporary homes for one test file; every home it made is removed after the file's tests. */
export function tempHomes(): () => string {
  const homes: string[] = [];
  afterAll(() => {
    for (const h of homes.splice(0)) fs.rmSync(h, { recursive: true, force: true });
  });
  return () => {
    const h = tempHome();
    homes.push(h);
    return h;
  };
}

export function runCli(
  args: string[],
  options: { home?: string; env?: Record<string, string>; unsetEnv?: string[]; nodeArgs?: string[]; timeoutMs?: number } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      K3SCTL_HOME: options.home ?? tempHome(),
      CI: 'true',
      ...options.env,
    };
    delete env.K3SCTL_SANDBOX_FAULTS;
    for (const name of options.unsetEnv ?? []) delete env[name];
    if (options.env?.K3SCTL_SANDBOX_FAULTS) env.K3SCTL_SANDBOX_FAULTS = options.env.K3SCTL_SANDBOX_FAULTS;
    const child = spawn(process.execPath, [...(options.nodeArgs ?? []), BIN, ...args], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}
