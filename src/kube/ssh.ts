// Reading a file from a control plane over SSH (node-ssh / ssh2), optionally through a bastion
// (a direct-tcpip channel opened on the bastion carries the second connection). Host keys are
// verified against an OpenSSH known_hosts file; on first contact against the fingerprints the
// instance printed to its console, else only when the caller accepts new keys or confirms one.
// Every failure becomes a KubeconfigError naming user@host:port.
import * as fs from 'node:fs';
import { NodeSSH, type Config as SshConfig } from 'node-ssh';
import { InterruptedError } from '../core/errors';
import { KubeconfigError } from './errors';
import {
  appendKnownHost,
  fingerprintOf,
  formatKnownHostsLine,
  keyTypeOf,
  knownKeyTypes,
  lookupHostKey,
  readKnownHosts,
} from './knownHosts';

export const DEFAULT_KUBECONFIG_PATH = '/etc/rancher/k3s/k3s.yaml';
const DEFAULT_READY_TIMEOUT_MS = 20_000;

/** ssh2's host key algorithms in its default order (ed25519 first). */
const HOST_KEY_ALGORITHMS = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
  'ssh-rsa',
];

export interface SshEndpoint {
  host: string;
  port: number;
  user: string;
}

/** `user@host:port`, the address every message names. */
export function formatEndpoint(e: SshEndpoint): string {
  return `${e.user}@${e.host}:${e.port}`;
}

/** Parses `--bastion [user@]host[:port]`. */
export function parseBastion(value: string, defaultUser: string): SshEndpoint {
  const m = /^(?:([^@\s]+)@)?(\[[^\]]+\]|[^:@\s]+)(?::(\d{1,5}))?$/.exec(value.trim());
  if (!m || (m[3] !== undefined && (Number(m[3]) < 1 || Number(m[3]) > 65535))) {
    throw new KubeconfigError(
      'command-failed',
      `--bastion '${value}' is not [user@]host[:port]`,
      'for example --bastion ec2-user@bastion.example.com:22',
    );
  }
  return { user: m[1] ?? defaultUser, host: m[2].replace(/^\[|\]$/g, ''), port: m[3] ? Number(m[3]) : 22 };
}

export type HostKeyOutcome = 'known_hosts' | 'console' | 'accepted' | 'confirmed';

export interface HostKeyPolicy {
  knownHostsFile: string;
  /** Record unknown keys without asking (`--accept-new-host-key`). */
  acceptNew: boolean;
  /** `SHA256:...` fingerprints from the instance's console output; verify first contact against them. */
  consoleFingerprints?: string[];
  /** Asked on first contact when nothing else vouches for the key (interactive runs only). */
  confirm?: (fingerprint: string, address: string) => Promise<boolean>;
}

export interface SshReadOptions {
  target: SshEndpoint;
  bastion?: SshEndpoint;
  /** Contents of a private key (OpenSSH or PEM) and where it came from, for messages. */
  privateKey?: { pem: string; path: string };
  /** Path of the ssh-agent socket (SSH_AUTH_SOCK). */
  agent?: string;
  /** Run `sudo -n cat` (the k3s file is root-owned, 0600). */
  sudo: boolean;
  remotePath?: string;
  hostKeys: HostKeyPolicy;
  /** The bastion's keys are checked against the same file; console fingerprints do not apply to it. */
  readyTimeoutMs?: number;
  /** Extra words for messages: the instance's key pair, the command that shows readiness. */
  hints?: { keyName?: string; instanceId?: string; describeCommand?: string };
  /** Ctrl-C: closes the connections at once and fails with InterruptedError. */
  signal?: AbortSignal;
}

export interface SshReadResult {
  content: string;
  hostKey: { fingerprint: string; verifiedBy: HostKeyOutcome };
}

/** Reads the file over SSH and returns its text (never logged by this module). */
export async function readFileOverSsh(options: SshReadOptions): Promise<SshReadResult> {
  const remotePath = options.remotePath ?? DEFAULT_KUBECONFIG_PATH;
  const signal = options.signal;
  if (signal?.aborted) throw new InterruptedError();
  const live = new Set<NodeSSH>();
  // A half-close (end) would wait for a server that may never answer; an abort destroys the sockets.
  const abortAll = () =>
    live.forEach((ssh) => (ssh.connection as { destroy?: () => void } | null)?.destroy?.());
  signal?.addEventListener('abort', abortAll, { once: true });
  let bastion: NodeSSH | undefined;
  let target: NodeSSH | undefined;
  try {
    if (options.bastion) {
      const b = options.bastion;
      bastion = (
        await connectVerified(
          b,
          { ...options.hostKeys, consoleFingerprints: undefined },
          options,
          () => ({ host: b.host, port: b.port }),
          live,
          'bastion',
        )
      ).ssh;
    }
    const via = bastion;
    const t = options.target;
    const connected = await connectVerified(
      t,
      options.hostKeys,
      options,
      async () => {
        if (!via) return { host: t.host, port: t.port };
        try {
          const sock = await via.forwardOut('127.0.0.1', 0, t.host, t.port);
          return { sock };
        } catch (error) {
          throw new KubeconfigError(
            'connection-refused',
            `the bastion ${formatEndpoint(options.bastion!)} could not connect to ${t.host}:${t.port}: ${(error as Error).message}`,
            'check that the bastion can reach the instance (security group: SSH from the bastion) and that AllowTcpForwarding is on',
            formatEndpoint(t),
          );
        }
      },
      live,
      via ? `via bastion ${formatEndpoint(options.bastion!)}` : undefined,
    );
    target = connected.ssh;
    const content = await readRemoteFile(target, remotePath, options);
    if (signal?.aborted) throw new InterruptedError();
    return { content, hostKey: connected.hostKey };
  } catch (error) {
    // Closing the connections on abort surfaces as connection errors: report the interruption instead.
    if (signal?.aborted) throw new InterruptedError();
    throw error;
  } finally {
    signal?.removeEventListener('abort', abortAll);
    live.forEach((ssh) => ssh.dispose());
  }
}

function shellQuote(value: string): string {
  return /^[A-Za-z0-9_./:@%+=-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

async function readRemoteFile(ssh: NodeSSH, remotePath: string, options: SshReadOptions): Promise<string> {
  const address = formatEndpoint(options.target);
  const command = `${options.sudo ? 'sudo -n ' : ''}cat ${shellQuote(remotePath)}`;
  const result = await ssh.execCommand(command, { noTrim: true });
  if (result.code === 0) return result.stdout;
  const stderr = result.stderr.trim();
  const firstLine = stderr.split('\n')[0] ?? '';
  const where = `${address}:${remotePath}`;
  if (/No such file or directory/.test(stderr)) {
    throw new KubeconfigError(
      'file-missing',
      `k3s is not up yet on ${options.hints?.instanceId ?? options.target.host}: ${remotePath} does not exist (read as ${address})`,
      `wait a minute and run this again${options.hints?.describeCommand ? `; \`${options.hints.describeCommand}\` shows whether the control plane is Ready` : ''}`,
      address,
    );
  }
  if (/sudo: .*(password is required|terminal is required|not in the sudoers|not allowed)/.test(stderr)) {
    throw new KubeconfigError(
      'sudo-failed',
      `${options.target.user} on ${options.target.host} cannot run sudo without a password (${firstLine})`,
      'use a user with passwordless sudo (the AMI default user has it), or --via ssm',
      address,
    );
  }
  if (/sudo: (command )?not found|sudo: not found/.test(stderr)) {
    throw new KubeconfigError(
      'sudo-failed',
      `sudo is not installed on ${options.target.host}`,
      'log in as root with --user root --no-sudo, or use --via ssm',
      address,
    );
  }
  if (/Permission denied/.test(stderr)) {
    throw new KubeconfigError(
      'permission-denied',
      `${options.target.user} may not read ${where} (${firstLine})`,
      options.sudo
        ? 'use a user with passwordless sudo, or --via ssm'
        : 'the k3s kubeconfig is root-owned: leave --sudo on, or use --via ssm',
      address,
    );
  }
  throw new KubeconfigError(
    'command-failed',
    `reading ${where} failed with exit code ${result.code ?? result.signal ?? 'unknown'}${firstLine ? `: ${firstLine}` : ''}`,
    'run the command by hand over ssh to see more, or use --via ssm',
    address,
  );
}

type Rejection =
  | { kind: 'changed'; fingerprint: string; lines: number[]; known: string[] }
  | { kind: 'revoked'; fingerprint: string; line: number }
  | { kind: 'console-mismatch'; fingerprint: string }
  | { kind: 'unknown'; fingerprint: string; blob: Buffer };

async function connectVerified(
  endpoint: SshEndpoint,
  policy: HostKeyPolicy,
  options: SshReadOptions,
  transport: () =>
    | { host: string; port: number }
    | { sock: unknown }
    | Promise<{ host: string; port: number } | { sock: unknown }>,
  live: Set<NodeSSH>,
  via?: string,
): Promise<{ ssh: NodeSSH; hostKey: { fingerprint: string; verifiedBy: HostKeyOutcome } }> {
  const address = formatEndpoint(endpoint);
  for (let attempt = 0; ; attempt++) {
    const entries = readKnownHosts(policy.knownHostsFile);
    let rejection: Rejection | undefined;
    let accepted: { fingerprint: string; verifiedBy: HostKeyOutcome } | undefined;
    const hostVerifier = (blob: Buffer): boolean => {
      const fingerprint = fingerprintOf(blob);
      const found = lookupHostKey(entries, endpoint.host, endpoint.port, blob);
      if (found.status === 'known') {
        accepted = { fingerprint, verifiedBy: 'known_hosts' };
        return true;
      }
      if (found.status === 'revoked') {
        rejection = { kind: 'revoked', fingerprint, line: found.line };
        return false;
      }
      if (found.status === 'changed') {
        rejection = { kind: 'changed', fingerprint, lines: found.lines, known: found.knownFingerprints };
        return false;
      }
      let verifiedBy: HostKeyOutcome | undefined;
      if (policy.consoleFingerprints && policy.consoleFingerprints.length > 0) {
        if (!policy.consoleFingerprints.includes(fingerprint)) {
          rejection = { kind: 'console-mismatch', fingerprint };
          return false;
        }
        verifiedBy = 'console';
      } else if (policy.acceptNew) {
        verifiedBy = 'accepted';
      } else {
        rejection = { kind: 'unknown', fingerprint, blob };
        return false;
      }
      appendKnownHost(policy.knownHostsFile, formatKnownHostsLine(endpoint.host, endpoint.port, blob));
      accepted = { fingerprint, verifiedBy };
      return true;
    };
    const known = knownKeyTypes(entries, endpoint.host, endpoint.port);
    const config: SshConfig = {
      ...(await transport()),
      username: endpoint.user,
      readyTimeout: options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS,
      hostVerifier,
      // Like ssh, prefer the key types already recorded for this host so a host with several keys
      // is checked against the one we know instead of looking "changed".
      algorithms: known.length ? { serverHostKey: preferKeyTypes(known) } : undefined,
    };
    if (options.privateKey) config.privateKey = options.privateKey.pem;
    if (options.agent) config.agent = options.agent;
    const ssh = new NodeSSH();
    live.add(ssh);
    try {
      await ssh.connect(config);
      return { ssh, hostKey: accepted ?? { fingerprint: 'unknown', verifiedBy: 'known_hosts' } };
    } catch (error) {
      ssh.dispose();
      if (error instanceof KubeconfigError) throw error;
      if (rejection?.kind === 'unknown' && policy.confirm && attempt === 0) {
        if (await policy.confirm(rejection.fingerprint, address)) {
          appendKnownHost(
            policy.knownHostsFile,
            formatKnownHostsLine(endpoint.host, endpoint.port, rejection.blob),
          );
          continue;
        }
        throw new KubeconfigError(
          'host-key-unknown',
          `the host key of ${address} (${keyTypeOf(rejection.blob)} ${rejection.fingerprint}) was not accepted`,
          'compare the fingerprint with the instance console output (EC2 > Instance > Get system log) and run again',
          address,
        );
      }
      if (rejection) throw hostKeyError(rejection, address, policy.knownHostsFile, endpoint);
      throw connectionError(error, endpoint, options, via);
    }
  }
}

function preferKeyTypes(known: string[]): string[] {
  const first = known
    .flatMap((t) => (t === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [t]))
    .filter((t) => HOST_KEY_ALGORITHMS.includes(t));
  return [...new Set([...first, ...HOST_KEY_ALGORITHMS])];
}

function hostKeyError(r: Rejection, address: string, file: string, endpoint: SshEndpoint): KubeconfigError {
  switch (r.kind) {
    case 'changed': {
      const lineWord = r.lines.length === 1 ? `line ${r.lines[0]}` : `lines ${r.lines.join(', ')}`;
      return new KubeconfigError(
        'host-key-changed',
        `the host key of ${address} has changed: it now presents ${r.fingerprint}, but ${file} records ${r.known.join(', ')} (${lineWord}). ` +
          'Someone may be intercepting the connection, or the instance was replaced',
        `if the instance was replaced (same address, new instance), remove ${lineWord} from ${file} ` +
          `(or run: ssh-keygen -R '${endpoint.port === 22 ? endpoint.host : `[${endpoint.host}]:${endpoint.port}`}' -f ${file}) and run again`,
        address,
      );
    }
    case 'revoked':
      return new KubeconfigError(
        'host-key-revoked',
        `the host key of ${address} (${r.fingerprint}) is marked @revoked in ${file} (line ${r.line})`,
        undefined,
        address,
      );
    case 'console-mismatch':
      return new KubeconfigError(
        'host-key-mismatch-console',
        `the host key of ${address} (${r.fingerprint}) is not one of the fingerprints the instance printed to its console output; refusing to connect`,
        'check that the address belongs to the instance, and compare with the console output (EC2 > Instance > Get system log)',
        address,
      );
    case 'unknown':
      return new KubeconfigError(
        'host-key-unknown',
        `the host key of ${address} (${keyTypeOf(r.blob)} ${r.fingerprint}) is not in ${file}, and the instance's console output has no fingerprints to check it against`,
        'compare the fingerprint with the console output, then run again with --accept-new-host-key (or interactively to confirm)',
        address,
      );
  }
}

function connectionError(
  error: unknown,
  endpoint: SshEndpoint,
  options: SshReadOptions,
  via?: string,
): KubeconfigError {
  const e = error as Error & { code?: string; level?: string };
  const address = formatEndpoint(endpoint);
  const where = via ? `${address} (${via})` : address;
  const port = endpoint.port;
  if (e.level === 'client-authentication') {
    const tried = [
      options.privateKey ? `key ${options.privateKey.path}` : undefined,
      options.agent ? 'ssh-agent' : undefined,
    ]
      .filter(Boolean)
      .join(' and ');
    return new KubeconfigError(
      'auth-failed',
      `SSH authentication failed for ${where}${tried ? ` (tried ${tried})` : ''}`,
      `check --user (Amazon Linux: ec2-user, Ubuntu: ubuntu) and --identity${options.hints?.keyName ? ` (the instance uses key pair '${options.hints.keyName}')` : ''}`,
      address,
    );
  }
  if (e.code === 'ECONNREFUSED') {
    return new KubeconfigError(
      'connection-refused',
      `SSH connection to ${where} was refused`,
      `check that sshd listens on port ${port} (--ssh-port), or use --via ssm`,
      address,
    );
  }
  if (
    e.level === 'client-timeout' ||
    ['ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN'].includes(e.code ?? '')
  ) {
    return new KubeconfigError(
      'timeout',
      `SSH connection to ${where} timed out${e.code && e.code !== 'ETIMEDOUT' ? ` (${e.code})` : ''}`,
      `check that port ${port} is open to your address in the cluster's security group (SSH CIDRs), use --private-ip from inside the VPC or --bastion, or use --via ssm`,
      address,
    );
  }
  if (
    /Encrypted private .*key|no passphrase given|Cannot parse privateKey|privateKey value/i.test(
      e.message ?? '',
    )
  ) {
    return new KubeconfigError(
      'no-ssh-key',
      `the SSH key ${options.privateKey?.path ?? ''} cannot be used: ${e.message}`,
      'load a passphrase-protected key into ssh-agent (ssh-add KEY) and omit --identity',
      address,
    );
  }
  return new KubeconfigError(
    'connection-refused',
    `SSH connection to ${where} failed: ${e.message ?? String(error)}`,
    'check the address and port, or use --via ssm',
    address,
  );
}

/** Reads a private key file for --identity with a clear error. */
export function readIdentityFile(file: string): { pem: string; path: string } {
  try {
    return { pem: fs.readFileSync(file, 'utf8'), path: file };
  } catch (error) {
    throw new KubeconfigError(
      'no-ssh-key',
      `cannot read the SSH key ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      'give the private key of the instance key pair with --identity',
    );
  }
}
