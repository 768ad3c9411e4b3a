import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  appendKnownHost,
  fingerprintOf,
  formatKnownHostsLine,
  hashHostName,
  hostFieldMatches,
  keyTypeOf,
  knownHostsName,
  knownKeyTypes,
  lookupHostKey,
  parseKnownHosts,
  readKnownHosts,
} from '../../src/kube/knownHosts';

/** A syntactically valid SSH public key blob of `type` with random key material. */
function fakeBlob(type = 'ssh-ed25519'): Buffer {
  const t = Buffer.from(type);
  const k = randomBytes(32);
  const out = Buffer.alloc(4 + t.length + 4 + k.length);
  out.writeUInt32BE(t.length, 0);
  t.copy(out, 4);
  out.writeUInt32BE(k.length, 4 + t.length);
  k.copy(out, 8 + t.length);
  return out;
}

describe('known_hosts', () => {
  it('names hosts the way ssh does: bare on port 22, [host]:port otherwise', () => {
    expect(knownHostsName('10.0.0.5', 22)).toBe('10.0.0.5');
    expect(knownHostsName('Example.COM', 2222)).toBe('[example.com]:2222');
  });

  it('parses entries with line numbers, markers and comments; skips blank, comment and malformed lines', () => {
    const text = [
      '# comment',
      '',
      'host1,10.0.0.1 ssh-ed25519 AAAAkey1 user@x',
      '@revoked * ssh-rsa AAAArevoked',
      'broken-line',
      '@cert-authority *.example.com ssh-ed25519 AAAAca',
    ].join('\n');
    const entries = parseKnownHosts(text);
    expect(entries).toEqual([
      { line: 3, marker: undefined, hosts: 'host1,10.0.0.1', keyType: 'ssh-ed25519', key: 'AAAAkey1' },
      { line: 4, marker: '@revoked', hosts: '*', keyType: 'ssh-rsa', key: 'AAAArevoked' },
      { line: 6, marker: '@cert-authority', hosts: '*.example.com', keyType: 'ssh-ed25519', key: 'AAAAca' },
    ]);
  });

  it('matches wildcards, negations and hashed host fields', () => {
    expect(hostFieldMatches('a.example.com,10.0.0.*', '10.0.0.7')).toBe(true);
    expect(hostFieldMatches('10.0.0.?', '10.0.0.17')).toBe(false);
    expect(hostFieldMatches('*.example.com,!bad.example.com', 'bad.example.com')).toBe(false);
    expect(hostFieldMatches('*.example.com,!bad.example.com', 'good.example.com')).toBe(true);
    expect(hostFieldMatches('[10.0.0.1]:2222', '[10.0.0.1]:2222')).toBe(true);
    expect(hostFieldMatches('[10.0.0.1]:2222', '10.0.0.1')).toBe(false);
    const salt = randomBytes(20);
    const hashed = hashHostName('[127.0.0.1]:2200', salt);
    expect(hashed).toMatch(/^\|1\|[A-Za-z0-9+/=]+\|[A-Za-z0-9+/=]+$/);
    expect(hostFieldMatches(hashed, '[127.0.0.1]:2200')).toBe(true);
    expect(hostFieldMatches(hashed, '127.0.0.1')).toBe(false);
  });

  it('reads a hashed entry written by ssh-keygen -H', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'k3sctl-kh-'));
    const blob = fakeBlob();
    const file = path.join(dir, 'known_hosts');
    fs.writeFileSync(file, `${formatKnownHostsLine('192.0.2.10', 22, blob)}\n`);
    const { execFileSync } = require('node:child_process') as typeof import('node:child_process');
    try {
      execFileSync('ssh-keygen', ['-H', '-f', file], { stdio: 'ignore' });
    } catch {
      return; // ssh-keygen is not installed: covered by the hashHostName test above
    }
    const entries = readKnownHosts(file);
    expect(entries[0].hosts).toMatch(/^\|1\|/);
    expect(lookupHostKey(entries, '192.0.2.10', 22, blob)).toEqual({ status: 'known', line: 1 });
  });

  it('computes OpenSSH SHA256 fingerprints and key types of blobs', () => {
    const blob = fakeBlob('ecdsa-sha2-nistp256');
    expect(keyTypeOf(blob)).toBe('ecdsa-sha2-nistp256');
    expect(fingerprintOf(blob)).toBe(
      `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`,
    );
    expect(fingerprintOf(blob)).not.toContain('=');
  });

  it('looks keys up: known, unknown, changed (with line numbers) and revoked', () => {
    const key = fakeBlob();
    const other = fakeBlob();
    const revoked = fakeBlob();
    const text = [
      '# k3sctl',
      formatKnownHostsLine('10.0.0.1', 22, other),
      formatKnownHostsLine('10.0.0.2', 2222, key),
      `@revoked * ${keyTypeOf(revoked)} ${revoked.toString('base64')}`,
    ].join('\n');
    const entries = parseKnownHosts(text);
    expect(lookupHostKey(entries, '10.0.0.2', 2222, key)).toEqual({ status: 'known', line: 3 });
    expect(lookupHostKey(entries, '10.0.0.2', 22, key)).toEqual({ status: 'unknown' });
    expect(lookupHostKey(entries, '10.0.0.9', 22, key)).toEqual({ status: 'unknown' });
    expect(lookupHostKey(entries, '10.0.0.1', 22, key)).toEqual({
      status: 'changed',
      lines: [2],
      knownFingerprints: [`ssh-ed25519 ${fingerprintOf(other)}`],
    });
    expect(lookupHostKey(entries, '10.0.0.5', 22, revoked)).toEqual({ status: 'revoked', line: 4 });
    expect(knownKeyTypes(entries, '10.0.0.1', 22)).toEqual(['ssh-ed25519']);
  });

  it('appends lines, creating the file with mode 0600 and adding a missing final newline', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'k3sctl-kh-'));
    const file = path.join(dir, 'sub', 'known_hosts');
    const a = fakeBlob();
    appendKnownHost(file, formatKnownHostsLine('10.0.0.1', 22, a));
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    fs.appendFileSync(file, '# no newline');
    const b = fakeBlob();
    appendKnownHost(file, formatKnownHostsLine('10.0.0.2', 2200, b, { hash: true }));
    const entries = readKnownHosts(file);
    expect(entries).toHaveLength(2);
    expect(lookupHostKey(entries, '10.0.0.2', 2200, b)).toEqual({ status: 'known', line: 3 });
    expect(readKnownHosts(path.join(dir, 'missing'))).toEqual([]);
  });
});
