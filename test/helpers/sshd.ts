// A throwaway OpenSSH server on 127.0.0.1 for the kubeconfig-over-SSH tests: its own temp dir,
// host key and user key (ssh-keygen), `sshd -D -e` on a free high port, key authentication for
// the current user only. Runs as root or as an ordinary user (then it can only log that user in).
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

export const SSHD_PATH = '/usr/sbin/sshd';

export function sshdAvailable(): boolean {
  try {
    fs.accessSync(SSHD_PATH, fs.constants.X_OK);
    execFileSync('ssh-keygen', ['-?'], { stdio: 'ignore' });
    return true;
  } catch (error) {
    // ssh-keygen -? exits 1 after printing usage: it exists.
    return (error as { status?: number }).status === 1 && fs.existsSync(SSHD_PATH);
  }
}

export interface KeyPair {
  privateKeyPath: string;
  publicKey: string;
  /** SHA256:... of the public key. */
  fingerprint: string;
  /** Raw public key blob. */
  blob: Buffer;
}

export interface TestSshd {
  host: string;
  port: number;
  user: string;
  dir: string;
  hostKey: KeyPair;
  userKey: KeyPair;
  /** Writes a file readable by the test user and returns its path. */
  writeFile(name: string, content: string): string;
  stop(): Promise<void>;
}

/** Generates an ed25519 key pair with ssh-keygen (no passphrase). */
export function generateKey(
  dir: string,
  name: string,
  type: 'ed25519' | 'ecdsa' | 'rsa' = 'ed25519',
): KeyPair {
  const privateKeyPath = path.join(dir, name);
  execFileSync('ssh-keygen', ['-q', '-t', type, '-N', '', '-C', name, '-f', privateKeyPath], {
    stdio: 'ignore',
  });
  fs.chmodSync(privateKeyPath, 0o600);
  const publicKey = fs.readFileSync(`${privateKeyPath}.pub`, 'utf8').trim();
  const blob = Buffer.from(publicKey.split(/\s+/)[1], 'base64');
  const fingerprint = `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
  return { privateKeyPath, publicKey, fingerprint, blob };
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Resolves when something on host:port answers with an SSH banner. */
async function waitForBanner(
  host: string,
  port: number,
  child: ChildProcess,
  log: () => string,
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`sshd exited with ${child.exitCode}: ${log()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ host, port });
      const done = (v: boolean) => {
        socket.destroy();
        resolve(v);
      };
      socket.setTimeout(1000, () => done(false));
      socket.once('data', (d) => done(d.toString().startsWith('SSH-')));
      socket.once('error', () => done(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`sshd did not answer on ${host}:${port}: ${log()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function startSshd(
  options: {
    hostKeyType?: 'ed25519' | 'ecdsa' | 'rsa';
    hostKey?: KeyPair;
    userKey?: KeyPair;
    /** More host keys (of other types) the server offers as well. */
    extraHostKeys?: KeyPair[];
  } = {},
): Promise<TestSshd> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'k3sctl-sshd-'));
  const hostKey = options.hostKey ?? generateKey(dir, 'host_key', options.hostKeyType ?? 'ed25519');
  const userKey = options.userKey ?? generateKey(dir, 'user_key');
  const authorizedKeys = path.join(dir, 'authorized_keys');
  fs.writeFileSync(authorizedKeys, `${userKey.publicKey}\n`, { mode: 0o600 });
  const user = os.userInfo().username;
  // The privilege-separation directory sshd insists on when started as root.
  if (process.getuid?.() === 0) fs.mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const config = path.join(dir, 'sshd_config');
  fs.writeFileSync(
    config,
    [
      `HostKey ${hostKey.privateKeyPath}`,
      ...(options.extraHostKeys ?? []).map((k) => `HostKey ${k.privateKeyPath}`),
      `AuthorizedKeysFile ${authorizedKeys}`,
      `PidFile ${path.join(dir, 'sshd.pid')}`,
      'ListenAddress 127.0.0.1',
      'StrictModes no',
      'UsePAM no',
      'PubkeyAuthentication yes',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PermitRootLogin prohibit-password',
      'AllowTcpForwarding yes',
      'LogLevel VERBOSE',
      '',
    ].join('\n'),
  );
  let lastError: Error | undefined;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    let stderr = '';
    const child = spawn(SSHD_PATH, ['-D', '-e', '-f', config, '-p', String(port)], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child.stderr!.on('data', (d) => (stderr += d));
    try {
      await waitForBanner('127.0.0.1', port, child, () => stderr);
    } catch (error) {
      lastError = error as Error;
      child.kill('SIGKILL');
      continue;
    }
    return {
      host: '127.0.0.1',
      port,
      user,
      dir,
      hostKey,
      userKey,
      writeFile(name, content) {
        const file = path.join(dir, name);
        fs.writeFileSync(file, content, { mode: 0o600 });
        return file;
      },
      stop: () =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null) {
            fs.rmSync(dir, { recursive: true, force: true });
            resolve();
            return;
          }
          child.once('exit', () => {
            fs.rmSync(dir, { recursive: true, force: true });
            resolve();
          });
          child.kill('SIGTERM');
        }),
    };
  }
  throw lastError ?? new Error('sshd did not start');
}
