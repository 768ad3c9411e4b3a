// Fault injection: rules that make simulated calls fail with an AWS error code.
// Syntax (K3SCTL_SANDBOX_FAULTS, comma-separated): `OP=CODE` every call of OP, `OP#N=CODE` only the
// Nth call (1-based), `OP%P=CODE` P percent of calls (seeded, reproducible). OP is an operation name
// (`RunInstances`), `*` for any operation or `write` for any write operation.
import { isReadOperation } from '../aws/apiCalls';

export interface FaultRule {
  /** Operation name, `*` or `write`. */
  op: string;
  code: string;
  /** Only the Nth matching call (1-based). */
  nth?: number;
  /** Percent of matching calls, 0-100. */
  percent?: number;
  /** Optional error message. */
  message?: string;
}

export class FaultParseError extends Error {}

export function parseFaultRules(spec: string): FaultRule[] {
  const rules: FaultRule[] = [];
  for (const raw of spec.split(',').map((s) => s.trim()).filter(Boolean)) {
    const m = /^([A-Za-z0-9*]+)(?:#(\d+)|%(\d+(?:\.\d+)?))?=([A-Za-z0-9_.]+)$/.exec(raw);
    if (!m) {
      throw new FaultParseError(
        `K3SCTL_SANDBOX_FAULTS: cannot parse rule '${raw}'; expected OP=CODE, OP#N=CODE or OP%P=CODE (OP may be * or write)`,
      );
    }
    const rule: FaultRule = { op: m[1], code: m[4] };
    if (m[2] !== undefined) {
      rule.nth = Number(m[2]);
      if (rule.nth < 1) throw new FaultParseError(`K3SCTL_SANDBOX_FAULTS: '${raw}': N must be 1 or more`);
    }
    if (m[3] !== undefined) {
      rule.percent = Number(m[3]);
      if (rule.percent > 100) throw new FaultParseError(`K3SCTL_SANDBOX_FAULTS: '${raw}': P must be 0-100`);
    }
    rules.push(rule);
  }
  return rules;
}

/** Decides, call by call, whether a fault fires. Counts run over the injector's lifetime (one CLI invocation). */
export class FaultInjector {
  private rules: FaultRule[] = [];
  private readonly counts = new Map<FaultRule, number>();
  private rng: number;

  constructor(rules: FaultRule[] = [], seed = 42) {
    this.rng = seed >>> 0 || 1;
    for (const r of rules) this.add(r);
  }

  add(rule: FaultRule): void {
    this.rules.push(rule);
    this.counts.set(rule, 0);
  }

  clear(): void {
    this.rules = [];
    this.counts.clear();
  }

  get active(): readonly FaultRule[] {
    return this.rules;
  }

  /** The fault to raise for this call, if any. */
  check(operation: string): FaultRule | undefined {
    let fired: FaultRule | undefined;
    for (const rule of this.rules) {
      if (!matches(rule.op, operation)) continue;
      const n = (this.counts.get(rule) ?? 0) + 1;
      this.counts.set(rule, n);
      if (fired) continue;
      if (rule.nth !== undefined) {
        if (n === rule.nth) fired = rule;
      } else if (rule.percent !== undefined) {
        if (this.random() * 100 < rule.percent) fired = rule;
      } else {
        fired = rule;
      }
    }
    return fired;
  }

  /** xorshift32: deterministic for a given seed. */
  private random(): number {
    let x = this.rng;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.rng = x >>> 0;
    return this.rng / 0x100000000;
  }
}

function matches(pattern: string, operation: string): boolean {
  if (pattern === '*') return true;
  if (pattern === 'write') return !isReadOperation(operation);
  return pattern === operation;
}
