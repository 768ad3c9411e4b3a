// OpenSSH known_hosts files: parsing (plain, wildcard, negated and hashed `|1|salt|hash` host
// fields, `@revoked` markers), looking a host key up, OpenSSH-style SHA256 fingerprints, and
// appending accepted keys. Hosts on a port other than 22 are spelled `[host]:port`, as ssh does.
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface KnownHostsEntry {
  /** 1-based line number in the file. */
  line: number;
  marker?: '@revoked' | '@cert-authority';
  /** The comma-separated host field as written. */
  hosts: string;
  keyType: string;
  /** Base64 public key blob. */
  key: string;
}

export type HostKeyLookup =
  | { status: 'known'; line: number }
  | { status: 'unknown' }
  /** The host is known with other keys: a replaced instance, or someone in the middle. */
  | { status: 'changed'; lines: number[]; knownFingerprints: string[] }
  | { status: 'revoked'; line: number };

/** The name ssh looks a host up by: `host` on port 22, `[host]:port` otherwise. */
export function knownHostsName(host: string, port: number): string {
  const h = host.toLowerCase();
  return port === 22 ? h : `[${h}]:${port}`;
}

export function parseKnownHosts(text: string): KnownHostsEntry[] {
  const entries: KnownHostsEntry[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const lineText = raw.trim();
    if (!lineText || lineText.startsWith('#')) return;
    const fields = lineText.split(/\s+/);
    let marker: KnownHostsEntry['marker'];
    if (fields[0] === '@revoked' || fields[0] === '@cert-authority')
      marker = fields.shift() as KnownHostsEntry['marker'];
    else if (fields[0].startsWith('@')) return; // unknown marker: ssh ignores the line too
    if (fields.length < 3) return;
    const [hosts, keyType, key] = fields;
    entries.push({ line: i + 1, marker, hosts, keyType, key });
  });
  return entries;
}

/** True when a host field (`a,b,*.c,!d,|1|salt|hash`) matches `name` (as built by knownHostsName). */
export function hostFieldMatches(hosts: string, name: string): boolean {
  let matched = false;
  for (const pattern of hosts.split(',')) {
    if (!pattern) continue;
    if (pattern.startsWith('|1|')) {
      if (hashedHostMatches(pattern, name)) matched = true;
      continue;
    }
    const negated = pattern.startsWith('!');
    const body = (negated ? pattern.slice(1) : pattern).toLowerCase();
    if (globMatch(body, name)) {
      // A negated match excludes the host even when another pattern on the line matches it.
      if (negated) return false;
      matched = true;
    }
  }
  return matched;
}

function hashedHostMatches(pattern: string, name: string): boolean {
  const [, , salt64, hash64] = pattern.split('|');
  if (!salt64 || !hash64) return false;
  const salt = Buffer.from(salt64, 'base64');
  const expected = Buffer.from(hash64, 'base64');
  const actual = createHmac('sha1', salt).update(name).digest();
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/** OpenSSH's pattern matching: `*` any run of characters, `?` exactly one, no separators. */
function globMatch(pattern: string, text: string): boolean {
  const re = new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  );
  return re.test(text);
}

/** `|1|base64(salt)|base64(HMAC-SHA1(salt, name))`, as `ssh-keygen -H` writes. */
export function hashHostName(name: string, salt: Buffer): string {
  return `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}`;
}

/** The key type encoded at the start of an SSH public key blob (`ssh-ed25519`, `ecdsa-sha2-nistp256`...). */
export function keyTypeOf(blob: Buffer): string {
  if (blob.length < 4) return 'unknown';
  const len = blob.readUInt32BE(0);
  if (len <= 0 || len > 64 || blob.length < 4 + len) return 'unknown';
  return blob.subarray(4, 4 + len).toString('ascii');
}

/** OpenSSH's `SHA256:` fingerprint of a public key blob (base64 without padding). */
export function fingerprintOf(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** Looks up `blob` for host:port. `@cert-authority` lines are ignored (k3sctl does not use host certificates). */
export function lookupHostKey(
  entries: KnownHostsEntry[],
  host: string,
  port: number,
  blob: Buffer,
): HostKeyLookup {
  const name = knownHostsName(host, port);
  const key = blob.toString('base64');
  const type = keyTypeOf(blob);
  const revoked = entries.find((e) => e.marker === '@revoked' && e.key === key);
  if (revoked) return { status: 'revoked', line: revoked.line };
  const forHost = entries.filter((e) => e.marker === undefined && hostFieldMatches(e.hosts, name));
  const same = forHost.find((e) => e.key === key && e.keyType === type);
  if (same) return { status: 'known', line: same.line };
  if (forHost.length === 0) return { status: 'unknown' };
  return {
    status: 'changed',
    lines: forHost.map((e) => e.line),
    knownFingerprints: forHost.map((e) => `${e.keyType} ${fingerprintOf(Buffer.from(e.key, 'base64'))}`),
  };
}

/** Key types recorded for host:port, so the handshake can prefer them (as ssh does). */
export function knownKeyTypes(entries: KnownHostsEntry[], host: string, port: number): string[] {
  const name = knownHostsName(host, port);
  return [
    ...new Set(
      entries.filter((e) => e.marker === undefined && hostFieldMatches(e.hosts, name)).map((e) => e.keyType),
    ),
  ];
}

export function formatKnownHostsLine(
  host: string,
  port: number,
  blob: Buffer,
  options: { hash?: boolean; salt?: Buffer } = {},
): string {
  const name = knownHostsName(host, port);
  const field = options.hash ? hashHostName(name, options.salt ?? randomSalt()) : name;
  return `${field} ${keyTypeOf(blob)} ${blob.toString('base64')}`;
}

function randomSalt(): Buffer {
  return randomBytes(20);
}

/** Reads a known_hosts file; a missing file is an empty one. */
export function readKnownHosts(file: string): KnownHostsEntry[] {
  try {
    return parseKnownHosts(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

/** Appends one line, creating the file (0600) and its directory (0700) when missing. */
export function appendKnownHost(file: string, line: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  let prefix = '';
  try {
    const existing = fs.readFileSync(file, 'utf8');
    if (existing.length > 0 && !existing.endsWith('\n')) prefix = '\n';
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  fs.appendFileSync(file, `${prefix}${line}\n`, { mode: 0o600 });
}
