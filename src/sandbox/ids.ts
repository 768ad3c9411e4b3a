// Deterministic AWS-looking identifiers for the Auto Scaling, ELBv2, Route 53 and ACM simulations:
// derived from the sandbox's id sequence, so a run with the same calls yields the same ids.
import { createHash } from 'node:crypto';
import type { SandboxContext } from './account';

/** `len` lowercase hex characters, unique within the sandbox. */
export function uniqueHex(ctx: SandboxContext, len: number): string {
  const seed = ctx.sb.newId('sbhex-');
  let out = '';
  for (let i = 0; out.length < len; i++) out += createHash('sha256').update(`${seed}/${i}`).digest('hex');
  return out.slice(0, len);
}

/** An RFC 4122-shaped (version 4) UUID. */
export function uniqueUuid(ctx: SandboxContext): string {
  const h = uniqueHex(ctx, 32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${'89ab'[parseInt(h[16], 16) % 4]}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** `len` uppercase alphanumerics (Route 53 zone and change ids). */
export function uniqueUpperAlnum(ctx: SandboxContext, len: number): string {
  const h = uniqueHex(ctx, len * 2);
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  let out = '';
  for (let i = 0; i < len; i++) out += alphabet[parseInt(h.slice(i * 2, i * 2 + 2), 16) % alphabet.length];
  return out;
}
