import { createHash, randomBytes } from 'node:crypto';
import { decodeConsoleOutput, parseConsoleHostKeys } from '../../src/resources/consoleOutput';
import { defaultLoginUser, controlPlaneRank } from '../../src/resources/controlPlaneInstance';

const fp = (b: Buffer) => `SHA256:${createHash('sha256').update(b).digest('base64').replace(/=+$/, '')}`;

describe('SSH host keys in the console output', () => {
  it('reads the cloud-init fingerprint and key blocks', () => {
    const ed = randomBytes(51);
    const ecdsaFp = fp(randomBytes(10));
    const text = [
      '[   12.345678] cloud-init[1234]: Cloud-init v. 23.4 running',
      'ec2: #############################################################',
      'ec2: -----BEGIN SSH HOST KEY FINGERPRINTS-----',
      `ec2: 256 ${ecdsaFp} root@ip-10-0-0-5 (ECDSA)`,
      `ec2: 256 ${fp(ed)} root@ip-10-0-0-5 (ED25519)`,
      'ec2: -----END SSH HOST KEY FINGERPRINTS-----',
      '-----BEGIN SSH HOST KEY KEYS-----',
      `ssh-ed25519 ${ed.toString('base64')} root@ip-10-0-0-5`,
      '-----END SSH HOST KEY KEYS-----',
      'SHA256:notafingerprintbecauseitisoutsidetheblock',
    ].join('\n');
    expect(parseConsoleHostKeys(text)).toEqual([
      { fingerprint: ecdsaFp, type: 'ECDSA' },
      { fingerprint: fp(ed), type: 'ED25519' },
    ]);
  });

  it('reads the syslog-prefixed block cloud-init writes on Amazon Linux', () => {
    const f = fp(randomBytes(12));
    const text = [
      '<14>Dec  1 00:00:00 cloud-init: #############################################################',
      '<14>Dec  1 00:00:00 cloud-init: -----BEGIN SSH HOST KEY FINGERPRINTS-----',
      `<14>Dec  1 00:00:00 cloud-init: 256 ${f} root@ip-172-31-0-4 (ED25519)`,
      '<14>Dec  1 00:00:00 cloud-init: -----END SSH HOST KEY FINGERPRINTS-----',
    ].join('\n');
    expect(parseConsoleHostKeys(text)).toEqual([{ fingerprint: f, type: 'ED25519' }]);
  });

  it('finds nothing in a console without the blocks, and decodes base64 Output', () => {
    expect(parseConsoleHostKeys('booting...\nlogin:')).toEqual([]);
    const f = fp(randomBytes(8));
    const text = `-----BEGIN SSH HOST KEY FINGERPRINTS-----\n256 ${f} root@h (ED25519)\n-----END SSH HOST KEY FINGERPRINTS-----\n`;
    expect(decodeConsoleOutput(Buffer.from(text).toString('base64'))).toBe(text);
    expect(decodeConsoleOutput(text)).toBe(text);
    expect(decodeConsoleOutput(undefined)).toBe('');
  });
});

describe('control-plane choice helpers', () => {
  it('derives the login user from the AMI name', () => {
    expect(defaultLoginUser('al2023-ami-2023.6.20250101.0-kernel-6.1-x86_64')).toBe('ec2-user');
    expect(defaultLoginUser('ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-20250101')).toBe(
      'ubuntu',
    );
    expect(defaultLoginUser('debian-12-amd64-20250101')).toBe('admin');
    expect(defaultLoginUser(undefined)).toBe('ec2-user');
  });

  it('ranks InService and healthy first, then instances outside a group, then the rest', () => {
    expect(controlPlaneRank({ instanceId: 'a', lifecycleState: 'InService', healthStatus: 'HEALTHY' })).toBe(
      0,
    );
    expect(controlPlaneRank({ instanceId: 'b' })).toBe(1);
    expect(
      controlPlaneRank({ instanceId: 'c', lifecycleState: 'InService', healthStatus: 'UNHEALTHY' }),
    ).toBe(2);
    expect(controlPlaneRank({ instanceId: 'd', lifecycleState: 'Pending:Wait' })).toBe(2);
  });
});
