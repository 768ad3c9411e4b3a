// Durations of command-line flags (`--drain-timeout`, `--health-timeout`, `--wait-timeout`,
// `--shift-over`): a number of seconds, or numbers with units one after another (`90s`, `1h30m`).
import { UserError } from '../core/errors';

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** `900`, `90s`, `15m`, `1h30m`, `2d` -> milliseconds; anything else is invalid input naming `field`. */
export function parseDuration(text: string, field: string): number {
  const t = text.trim();
  if (/^\d+$/.test(t)) return Number(t) * 1000;
  let total = 0;
  let consumed = 0;
  for (const m of t.matchAll(/(\d+)(ms|s|m|h|d)/g)) {
    total += Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
    consumed += m[0].length;
  }
  if (consumed === 0 || consumed !== t.length) {
    throw new UserError(`${field} '${text}' is not a duration`, 'give seconds (900) or units: 90s, 15m, 1h30m', field);
  }
  return total;
}

/** A duration of at least a second (a timeout, a shift): `hint` says what to give instead of a shorter one. */
export function parseTimeout(text: string, field: string, hint = 'give e.g. 90s, 15m or 1h'): number {
  const ms = parseDuration(text, field);
  if (ms < 1000) throw new UserError(`${field} '${text}' is shorter than a second`, hint, field);
  return ms;
}
