// kubeconfig over SSH against a real OpenSSH server on 127.0.0.1 (test/helpers/sshd.ts).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { InterruptedError } from '../../src/core/errors';
import { KubeconfigError } from '../../src/kube/errors';
import { formatKnownHostsLine, readKnownHosts, lookupHostKey } from '../../src/kube/knownHosts';
import { parseBastion, readFileOverSsh, type SshReadOptions } from '../../src/kube/ssh';
import { countAgentIdentities } from '../../src/kube/sshAgent';
import { generateKey, sshdAvailable, startSshd, type TestSshd } from '../helpers/sshd';

const K3S_YAML = fs.readFileSync(path.join(__dirname, 'fixtures/k3s.yaml'), 'utf8');
const available = sshdAvailable();
if (!available) {
  console.warn(
    'SKIPPED: kubeconfig-over-SSH tests need OpenSSH at /usr/sbin/sshd (apt-get install openssh-server)',
  );
}
const describeSsh = available ? describe : describe.skip;

async function failure(p: Promise<unknown>): Promise<KubeconfigError> {
  try {
    await p;
  } catch (error) {
    if (error instanceof KubeconfigError) return error;
    throw error;
  }
  throw new Error('expected a KubeconfigError');
}

describeSsh('reading a file over SSH (real sshd)', () => {
  let sshd: TestSshd;
  let work: string;
  let fixture: string;

  beforeAll(async () => {
    sshd = await startSshd();
    fixture = sshd.writeFile('k3s.yaml', K3S_YAML);
  });
  afterAll(async () => {
    await sshd?.stop();
  });
  beforeEach(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'k3sctl-ssh-'));
  });

  const options = (overrides: Partial<SshReadOptions> = {}): SshReadOptions => ({
    target: { host: sshd.host, port: sshd.port, user: sshd.user },
    privateKey: {
      pem: fs.readFileSync(sshd.userKey.privateKeyPath, 'utf8'),
      path: sshd.userKey.privateKeyPath,
    },
    sudo: false,
    remotePath: fixture,
    hostKeys: { knownHostsFile: path.join(work, 'known_hosts'), acceptNew: false },
    readyTimeoutMs: 10_000,
    ...overrides,
  });

  it('refuses an unknown host key without acceptance and records nothing', async () => {
    const e = await failure(readFileOverSsh(options()));
    expect(e.reason).toBe('host-key-unknown');
    expect(e.message).toContain(sshd.hostKey.fingerprint);
    expect(e.message).toContain(`${sshd.user}@127.0.0.1:${sshd.port}`);
    expect(e.suggestion).toMatch(/--accept-new-host-key/);
    expect(fs.existsSync(path.join(work, 'known_hosts'))).toBe(false);
  });

  it('accepts a new key with acceptNew, records it as [host]:port, then reads with it known', async () => {
    const first = await readFileOverSsh(
      options({ hostKeys: { knownHostsFile: path.join(work, 'known_hosts'), acceptNew: true } }),
    );
    expect(first.content).toBe(K3S_YAML);
    expect(first.hostKey).toEqual({ fingerprint: sshd.hostKey.fingerprint, verifiedBy: 'accepted' });
    const text = fs.readFileSync(path.join(work, 'known_hosts'), 'utf8');
    expect(text).toBe(`[127.0.0.1]:${sshd.port} ssh-ed25519 ${sshd.hostKey.blob.toString('base64')}\n`);
    expect(fs.statSync(path.join(work, 'known_hosts')).mode & 0o777).toBe(0o600);
    const second = await readFileOverSsh(options());
    expect(second.hostKey.verifiedBy).toBe('known_hosts');
    expect(fs.readFileSync(path.join(work, 'known_hosts'), 'utf8')).toBe(text);
  });

  it('accepts a first-contact key that matches the console fingerprints, and refuses one that does not', async () => {
    const ok = await readFileOverSsh(
      options({
        hostKeys: {
          knownHostsFile: path.join(work, 'known_hosts'),
          acceptNew: false,
          consoleFingerprints: ['SHA256:other', sshd.hostKey.fingerprint],
        },
      }),
    );
    expect(ok.hostKey.verifiedBy).toBe('console');
    expect(readKnownHosts(path.join(work, 'known_hosts'))).toHaveLength(1);

    const other = path.join(work, 'other_known_hosts');
    const e = await failure(
      readFileOverSsh(
        options({
          hostKeys: {
            knownHostsFile: other,
            acceptNew: true,
            consoleFingerprints: ['SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'],
          },
        }),
      ),
    );
    expect(e.reason).toBe('host-key-mismatch-console');
    expect(fs.existsSync(other)).toBe(false);
  });

  it('refuses a changed host key even with acceptNew, naming the line to remove', async () => {
    const file = path.join(work, 'known_hosts');
    const stale = generateKey(work, 'old_host_key');
    fs.writeFileSync(file, `# first line\n${formatKnownHostsLine('127.0.0.1', sshd.port, stale.blob)}\n`);
    const e = await failure(
      readFileOverSsh(options({ hostKeys: { knownHostsFile: file, acceptNew: true } })),
    );
    expect(e.reason).toBe('host-key-changed');
    expect(e.message).toContain(sshd.hostKey.fingerprint);
    expect(e.message).toContain(stale.fingerprint);
    expect(e.suggestion).toContain(`remove line 2 from ${file}`);
    expect(readKnownHosts(file)).toHaveLength(1);
  });

  it('treats a host known only by another key type as changed', async () => {
    const file = path.join(work, 'known_hosts');
    const rsa = generateKey(work, 'rsa_host_key', 'rsa');
    fs.writeFileSync(file, `${formatKnownHostsLine('127.0.0.1', sshd.port, rsa.blob)}\n`);
    const e = await failure(
      readFileOverSsh(options({ hostKeys: { knownHostsFile: file, acceptNew: true } })),
    );
    expect(e.reason).toBe('host-key-changed');
    expect(e.message).toContain(`ssh-rsa ${rsa.fingerprint}`);
  });

  it('checks a host with several keys against the type already recorded (as ssh does)', async () => {
    const keys = fs.mkdtempSync(path.join(os.tmpdir(), 'k3sctl-keys-'));
    const ecdsa = generateKey(keys, 'ecdsa_host_key', 'ecdsa');
    const multi = await startSshd({ extraHostKeys: [ecdsa], userKey: sshd.userKey });
    try {
      const file = path.join(work, 'known_hosts');
      fs.writeFileSync(file, `${formatKnownHostsLine('127.0.0.1', multi.port, ecdsa.blob)}\n`);
      const r = await readFileOverSsh(
        options({
          target: { host: multi.host, port: multi.port, user: multi.user },
          remotePath: multi.writeFile('k3s.yaml', K3S_YAML),
          hostKeys: { knownHostsFile: file, acceptNew: false },
        }),
      );
      expect(r.hostKey).toEqual({ fingerprint: ecdsa.fingerprint, verifiedBy: 'known_hosts' });
    } finally {
      await multi.stop();
      fs.rmSync(keys, { recursive: true, force: true });
    }
  });

  it('asks the confirmation callback on first contact and records the key only when confirmed', async () => {
    const file = path.join(work, 'known_hosts');
    const asked: string[] = [];
    const no = await failure(
      readFileOverSsh(
        options({
          hostKeys: {
            knownHostsFile: file,
            acceptNew: false,
            confirm: async (fp) => (asked.push(fp), false),
          },
        }),
      ),
    );
    expect(no.reason).toBe('host-key-unknown');
    expect(fs.existsSync(file)).toBe(false);
    const yes = await readFileOverSsh(
      options({
        hostKeys: { knownHostsFile: file, acceptNew: false, confirm: async (fp) => (asked.push(fp), true) },
      }),
    );
    expect(yes.content).toBe(K3S_YAML);
    expect(asked).toEqual([sshd.hostKey.fingerprint, sshd.hostKey.fingerprint]);
    expect(lookupHostKey(readKnownHosts(file), '127.0.0.1', sshd.port, sshd.hostKey.blob).status).toBe(
      'known',
    );
  });

  it('reads a hashed known_hosts entry', async () => {
    const file = path.join(work, 'known_hosts');
    fs.writeFileSync(
      file,
      `${formatKnownHostsLine('127.0.0.1', sshd.port, sshd.hostKey.blob, { hash: true })}\n`,
    );
    const r = await readFileOverSsh(options({ hostKeys: { knownHostsFile: file, acceptNew: false } }));
    expect(r.hostKey.verifiedBy).toBe('known_hosts');
  });

  it('names user@host:port when authentication fails with the wrong key', async () => {
    const wrong = generateKey(work, 'wrong_key');
    const e = await failure(
      readFileOverSsh(
        options({
          privateKey: { pem: fs.readFileSync(wrong.privateKeyPath, 'utf8'), path: wrong.privateKeyPath },
          hostKeys: { knownHostsFile: path.join(work, 'known_hosts'), acceptNew: true },
          hints: { keyName: 'demo-key' },
        }),
      ),
    );
    expect(e.reason).toBe('auth-failed');
    expect(e.message).toContain(`${sshd.user}@127.0.0.1:${sshd.port}`);
    expect(e.message).toContain(wrong.privateKeyPath);
    expect(e.suggestion).toMatch(/--user .*--identity.*demo-key/);
  });

  it('says k3s is not up yet when the file is missing', async () => {
    const e = await failure(
      readFileOverSsh(
        options({
          remotePath: path.join(sshd.dir, 'absent.yaml'),
          hostKeys: { knownHostsFile: path.join(work, 'known_hosts'), acceptNew: true },
          hints: { instanceId: 'i-0123', describeCommand: 'k3sctl cluster describe demo' },
        }),
      ),
    );
    expect(e.reason).toBe('file-missing');
    expect(e.message).toMatch(/k3s is not up yet on i-0123/);
    expect(e.suggestion).toContain('k3sctl cluster describe demo');
  });

  it('reports a refused connection with the address', async () => {
    const { freePort } = await import('../helpers/sshd');
    const port = await freePort();
    const e = await failure(
      readFileOverSsh(options({ target: { host: '127.0.0.1', port, user: 'ec2-user' } })),
    );
    expect(e.reason).toBe('connection-refused');
    expect(e.message).toContain(`ec2-user@127.0.0.1:${port}`);
  });

  it('reports a handshake timeout', async () => {
    const net = await import('node:net');
    // A server that accepts and never speaks SSH.
    const silent = net.createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as import('node:net').AddressInfo).port;
    try {
      const e = await failure(
        readFileOverSsh(
          options({ target: { host: '127.0.0.1', port, user: 'ec2-user' }, readyTimeoutMs: 500 }),
        ),
      );
      expect(e.reason).toBe('timeout');
      expect(e.message).toContain(`ec2-user@127.0.0.1:${port}`);
      expect(e.suggestion).toMatch(/security group/);
    } finally {
      silent.close();
    }
  });

  // The handshake would wait readyTimeoutMs (10 s) and fail with a timeout: InterruptedError says the abort cut it.
  it('stops with InterruptedError when the signal aborts mid-handshake', async () => {
    const net = await import('node:net');
    const silent = net.createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as import('node:net').AddressInfo).port;
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 200);
    try {
      await expect(
        readFileOverSsh(
          options({
            target: { host: '127.0.0.1', port, user: 'ec2-user' },
            readyTimeoutMs: 10_000,
            signal: controller.signal,
          }),
        ),
      ).rejects.toBeInstanceOf(InterruptedError);
    } finally {
      silent.close();
    }
  });

  it('goes through a bastion (forwardOut), verifying both host keys', async () => {
    const file = path.join(work, 'known_hosts');
    const r = await readFileOverSsh(
      options({
        bastion: parseBastion(`${sshd.user}@127.0.0.1:${sshd.port}`, 'unused'),
        hostKeys: { knownHostsFile: file, acceptNew: true },
      }),
    );
    expect(r.content).toBe(K3S_YAML);
    // The bastion and the target are the same server here: one line, recorded once.
    expect(readKnownHosts(file)).toHaveLength(1);
  });
});

describeSsh('ssh-agent', () => {
  let sshd: TestSshd;
  let agent: import('node:child_process').ChildProcess | undefined;
  let socket: string;
  beforeAll(async () => {
    sshd = await startSshd();
    socket = path.join(sshd.dir, 'agent.sock');
    const { spawn } = await import('node:child_process');
    agent = spawn('ssh-agent', ['-D', '-a', socket], { stdio: 'ignore' });
    for (let i = 0; i < 100 && !fs.existsSync(socket); i++) await new Promise((r) => setTimeout(r, 50));
  });
  afterAll(async () => {
    agent?.kill('SIGTERM');
    await sshd?.stop();
  });

  it('counts the agent keys, and logs in with the agent alone', async () => {
    const { execFileSync } = await import('node:child_process');
    expect(await countAgentIdentities(undefined)).toBe(0);
    expect(await countAgentIdentities(path.join(sshd.dir, 'no-such.sock'))).toBe(0);
    expect(await countAgentIdentities(socket)).toBe(0);
    execFileSync('ssh-add', [sshd.userKey.privateKeyPath], {
      env: { ...process.env, SSH_AUTH_SOCK: socket },
      stdio: 'ignore',
    });
    expect(await countAgentIdentities(socket)).toBe(1);
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'k3sctl-ssh-'));
    const r = await readFileOverSsh({
      target: { host: sshd.host, port: sshd.port, user: sshd.user },
      agent: socket,
      sudo: false,
      remotePath: sshd.writeFile('agent.yaml', K3S_YAML),
      hostKeys: { knownHostsFile: path.join(work, 'known_hosts'), acceptNew: true },
    });
    expect(r.content).toBe(K3S_YAML);
  });
});

describe('--bastion parsing', () => {
  it('accepts [user@]host[:port]', () => {
    expect(parseBastion('jump.example.com', 'ec2-user')).toEqual({
      user: 'ec2-user',
      host: 'jump.example.com',
      port: 22,
    });
    expect(parseBastion('ops@10.0.0.4:2222', 'ec2-user')).toEqual({
      user: 'ops',
      host: '10.0.0.4',
      port: 2222,
    });
    expect(parseBastion('ops@[2001:db8::1]:22', 'x')).toEqual({ user: 'ops', host: '2001:db8::1', port: 22 });
    expect(() => parseBastion('a@b:99999', 'x')).toThrow(/not \[user@\]host\[:port\]/);
  });
});
