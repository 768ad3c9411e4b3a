// Starts and stops moto_server (an AWS emulator we did not write) for the emulator tests: a free
// loopback port, the harness workarounds of test/emulator/moto_server.py, AWS managed policies loaded
// (as a real account has them), and a stop that kills the whole process group even when tests fail.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as net from 'node:net';
import * as path from 'node:path';

const WRAPPER = path.join(__dirname, '..', 'emulator', 'moto_server.py');

/** The Python that runs moto: K3SCTL_MOTO_PYTHON, else `python3` on PATH. */
export function motoPython(): string {
  return process.env.K3SCTL_MOTO_PYTHON ?? 'python3';
}

/** Why the emulator cannot run here, or undefined when it can (moto's server importable). */
export function motoUnavailableReason(): string | undefined {
  const python = motoPython();
  const probe = spawnSync(python, ['-c', 'import moto, moto.server; print(moto.__version__)'], { encoding: 'utf8', timeout: 30_000 });
  if (probe.error) return `${python} not found (${probe.error.message})`;
  if (probe.status !== 0) return `moto's server is not importable by ${python} (pip install 'moto[server]')`;
  return undefined;
}

/** True when the emulator tests are to be skipped (set by test/emulator/globalSetup.js). */
export function emulatorSkipped(): boolean {
  return Boolean(process.env.K3SCTL_EMULATOR_SKIPPED);
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export interface Moto {
  endpoint: string;
  /** Environment for a k3sctl or AWS CLI process talking to this moto. */
  env: Record<string, string>;
  /** Forgets every resource (moto's reset API): the account as moto starts it. */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

/** Credentials and region every client of the emulator uses (moto accepts any credentials). */
export const MOTO_REGION = 'us-east-1';
export const MOTO_CREDENTIALS = { accessKeyId: 'testing', secretAccessKey: 'testing' };

async function waitUntilUp(endpoint: string, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`moto_server exited with ${child.exitCode}: ${log()}`);
    try {
      const res = await fetch(`${endpoint}/moto-api/data.json`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`moto_server did not answer on ${endpoint} within 60 s: ${log()}`);
}

export async function startMoto(): Promise<Moto> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const endpoint = `http://127.0.0.1:${port}`;
    let output = '';
    const child = spawn(motoPython(), [WRAPPER, String(port)], {
      // ACM issues a DNS-validated certificate after 2 s instead of moto's 60 (AWS takes minutes; the
      // wait itself is what is tested, not its length).
      env: { ...process.env, MOTO_IAM_LOAD_MANAGED_POLICIES: 'true', MOTO_ACM_VALIDATION_WAIT: '2', PYTHONUNBUFFERED: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-4000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    const kill = () => {
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    process.once('exit', kill);
    try {
      await waitUntilUp(endpoint, child, () => output);
    } catch (error) {
      kill();
      lastError = error;
      continue;
    }
    return {
      endpoint,
      env: {
        AWS_ACCESS_KEY_ID: MOTO_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: MOTO_CREDENTIALS.secretAccessKey,
        AWS_REGION: MOTO_REGION,
        AWS_DEFAULT_REGION: MOTO_REGION,
      },
      reset: async () => {
        const res = await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
        if (!res.ok) throw new Error(`moto reset failed: HTTP ${res.status}`);
      },
      stop: async () => {
        process.removeListener('exit', kill);
        if (child.exitCode !== null) return;
        const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        kill();
        await exited;
      },
    };
  }
  throw lastError instanceof Error ? lastError : new Error(String(lastError));
}

/**
 * One moto for the calling test file: started before its tests, stopped after them (failed or not).
 * Call at the top of the describe block, before hooks that use it (jest runs hooks in order).
 */
export function useMoto(): () => Moto {
  let moto: Moto | undefined;
  beforeAll(async () => {
    moto = await startMoto();
  }, 120_000);
  afterAll(async () => {
    await moto?.stop();
  });
  return () => {
    if (!moto) throw new Error('moto is not started: useMoto() belongs at the top of a describe block');
    return moto;
  };
}
