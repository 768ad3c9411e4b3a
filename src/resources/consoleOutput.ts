// An instance's console output (GetConsoleOutput, read-only) and the SSH host key fingerprints that
// cloud-init prints there on first boot: the out-of-band way to check a host key on first contact.
import { createHash } from 'node:crypto';
import { GetConsoleOutputCommand } from '@aws-sdk/client-ec2';
import type { AwsClients } from '../aws/clients';
import { awsErrorCode } from '../core/errors';

export interface ConsoleHostKey {
  /** `SHA256:` + unpadded base64, as ssh-keygen -l prints. */
  fingerprint: string;
  /** ED25519, ECDSA, RSA... when printed. */
  type?: string;
}

/**
 * The SSH host key fingerprints in console text: the `SSH HOST KEY FINGERPRINTS` block
 * (`256 SHA256:... root@host (ED25519)`) and the `SSH HOST KEY KEYS` block (full public keys,
 * fingerprinted here). Outside those blocks, only lines of the same `BITS SHA256:... (TYPE)` shape count.
 */
export function parseConsoleHostKeys(text: string): ConsoleHostKey[] {
  const out = new Map<string, ConsoleHostKey>();
  let block: 'fingerprints' | 'keys' | undefined;
  for (const raw of text.split(/\r?\n/)) {
    // cloud-init lines carry prefixes: a kernel timestamp, `ec2: `, or syslog's `<14>Dec  1 00:00:00 cloud-init: `.
    const line = raw
      .replace(/^.*?(?:\bec2:|\bcloud-init(?:\[\d+\])?:)\s*/, '')
      .replace(/^\s*\[[^\]]*\]\s*/, '')
      .trim();
    if (/-----BEGIN SSH HOST KEY FINGERPRINTS-----/.test(line)) block = 'fingerprints';
    else if (/-----BEGIN SSH HOST KEY KEYS-----/.test(line)) block = 'keys';
    else if (/-----END SSH HOST KEY/.test(line)) block = undefined;
    else if (block === 'keys') {
      const m = /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp\d+|ssh-dss)\s+([A-Za-z0-9+/]+=*)/.exec(line);
      if (m) {
        const fingerprint = `SHA256:${createHash('sha256').update(Buffer.from(m[2], 'base64')).digest('base64').replace(/=+$/, '')}`;
        if (!out.has(fingerprint)) out.set(fingerprint, { fingerprint, type: keyTypeName(m[1]) });
      }
    } else {
      const m = /(?:^|\s)(?:\d+\s+)?(SHA256:[A-Za-z0-9+/]{43})=?(?:\s.*?)?(?:\((\w+)\))?\s*$/.exec(line);
      if (m && (block === 'fingerprints' || /^\d+\s+SHA256:/.test(line))) {
        if (!out.has(m[1])) out.set(m[1], { fingerprint: m[1], type: m[2] });
      }
    }
  }
  return [...out.values()];
}

function keyTypeName(sshType: string): string {
  if (sshType === 'ssh-ed25519') return 'ED25519';
  if (sshType === 'ssh-rsa') return 'RSA';
  if (sshType === 'ssh-dss') return 'DSA';
  return 'ECDSA';
}

/** Decodes GetConsoleOutput's Output (base64; accepted as plain text when it is not). */
export function decodeConsoleOutput(output: string | undefined): string {
  if (!output) return '';
  if (/-----BEGIN SSH HOST KEY/.test(output)) return output;
  if (/^[A-Za-z0-9+/=\s]+$/.test(output)) return Buffer.from(output, 'base64').toString('utf8');
  return output;
}

/** Host key fingerprints from the instance's console output; empty when there is none (yet). */
export async function findConsoleHostKeys(
  clients: AwsClients,
  instanceId: string,
): Promise<ConsoleHostKey[]> {
  try {
    const res = await clients.ec2.send(new GetConsoleOutputCommand({ InstanceId: instanceId }));
    return parseConsoleHostKeys(decodeConsoleOutput(res.Output));
  } catch (error) {
    // A missing console (UnsupportedOperation on some instance types) just means no out-of-band check.
    if (/^(UnsupportedOperation|InvalidInstanceID\.NotFound)$/.test(awsErrorCode(error) ?? '')) return [];
    throw error;
  }
}
