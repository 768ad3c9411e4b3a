// Durations of command-line flags (`--drain-timeout`, `--health-timeout`, `--wait-timeout`): a number
// of seconds or one number with a unit.
import { UserError } from '../core/errors';

/** `900`, `90s`, `15m`, `1h` -> milliseconds; anything else is invalid input naming `field`. */
export function parseDuration(text: string, field: string): number {
  const m = /^(\d+)(ms|s|m|h)?$/.exec(text.trim());
  if (!m)
    throw new UserError(
      `${field} '${text}' is not a duration`,
      'give seconds (900) or a unit: 90s, 15m, 1h',
      field,
    );
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? 's') as 'ms' | 's' | 'm' | 'h'];
  return Number(m[1]) * unit;
}
