// A user's (or a CI script's) session with the built CLI: one K3SCTL_HOME shared by every step, each
// step a fresh `node bin/run.js ... --sandbox --json --yes` (CI=true, no TTY) whose stdout must be
// exactly one JSON document, or (`inProcess`) the same command run in process through oclif
// (test/helpers/inProcessCli.ts). Records the real wall time of every step, so slow steps show up.
import * as fs from 'node:fs';
import { runCli, tempHome, type CliResult } from './cli';
import { runCliInProcess } from './inProcessCli';

/** A parsed JSON document of the CLI (its shape is asserted by the tests, not typed here). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

export interface StepResult<T = Json> extends CliResult {
  /** stdout parsed as one JSON document. */
  json: T;
  ms: number;
}

export interface SandboxStatus {
  virtualTime: string;
  resources: Record<string, number>;
  calls: { read: number; write: number; byOperation: Record<string, number> };
}

export class Scenario {
  readonly home = tempHome();
  readonly timings: { step: string; ms: number; code: number }[] = [];
  /** virtualTime of every `sandbox status` taken, in order. */
  readonly virtualTimes: { after: string; time: string }[] = [];
  private lastStep = '(start)';
  private lastStatus?: { json: SandboxStatus; after: string };

  constructor(private readonly defaults: { env?: Record<string, string>; inProcess?: boolean } = {}) {}

  /**
   * Runs `k3sctl ARGS --sandbox --json --yes` and checks the exit code (a mismatch throws with
   * stderr and stdout, so the failing step explains itself). stdout must parse as one JSON document.
   */
  async run<T = Json>(args: string[], expectedCode = 0, env?: Record<string, string>): Promise<StepResult<T>> {
    const label = `${env?.K3SCTL_SANDBOX_FAULTS ? `K3SCTL_SANDBOX_FAULTS=${env.K3SCTL_SANDBOX_FAULTS} ` : ''}${args.join(' ')}`;
    const started = process.hrtime.bigint();
    const r = await (this.defaults.inProcess ? runCliInProcess : runCli)([...args, '--sandbox', '--json', '--yes'], {
      home: this.home,
      env: { ...this.defaults.env, ...env },
      timeoutMs: 120_000,
    });
    const ms = Number((process.hrtime.bigint() - started) / 1_000_000n);
    this.timings.push({ step: label, ms, code: r.code });
    if (label !== 'sandbox status') this.lastStep = label;
    if (r.code !== expectedCode) {
      throw new Error(`k3sctl ${label}: exit ${r.code}, expected ${expectedCode}\n--- stderr\n${r.stderr}\n--- stdout\n${r.stdout}`);
    }
    let json: T;
    try {
      json = JSON.parse(r.stdout) as T;
    } catch (error) {
      throw new Error(`k3sctl ${label}: stdout is not one JSON document (${(error as Error).message})\n--- stdout\n${r.stdout}`);
    }
    if (json === null || typeof json !== 'object' || Array.isArray(json)) {
      throw new Error(`k3sctl ${label}: stdout is not a JSON object\n${r.stdout}`);
    }
    return { ...r, json, ms };
  }

  /** `sandbox status --json`; remembers its virtual time. */
  async status(): Promise<SandboxStatus> {
    const { json } = await this.run<SandboxStatus>(['sandbox', 'status']);
    this.virtualTimes.push({ after: this.lastStep, time: json.virtualTime });
    this.lastStatus = { json, after: this.lastStep };
    return json;
  }

  /** The latest `sandbox status` when no other command ran since; otherwise a fresh one. */
  async currentStatus(): Promise<SandboxStatus> {
    if (this.lastStatus && this.lastStatus.after === this.lastStep && this.timings.at(-1)?.step === 'sandbox status') return this.lastStatus.json;
    return this.status();
  }

  /** One line per step: real wall time, exit code, command. */
  report(title: string): string {
    const total = this.timings.reduce((n, t) => n + t.ms, 0);
    const lines = this.timings.map((t) => `${String(t.ms).padStart(6)} ms  exit ${t.code}  ${t.step}`);
    return [`${title}: ${this.timings.length} steps, ${total} ms`, ...lines].join('\n');
  }

  dispose(): void {
    fs.rmSync(this.home, { recursive: true, force: true });
  }
}

/** The next patch release of a k3s version: v1.31.6+k3s1 -> v1.31.7+k3s1. */
export function nextPatch(version: string): string {
  const m = /^v(\d+)\.(\d+)\.(\d+)\+k3s(\d+)$/.exec(version);
  if (!m) throw new Error(`not a k3s version: ${version}`);
  return `v${m[1]}.${m[2]}.${Number(m[3]) + 1}+k3s1`;
}

/** Instances that are leaving their group (terminating, detaching) rather than serving. */
export function isLeaving(instance: { lifecycleState: string; state?: string }): boolean {
  return /^(Terminat|Detach)/.test(instance.lifecycleState) || /^(shutting-down|terminated)$/.test(instance.state ?? '');
}
