// The base of every k3sctl command: global flags (each with an environment fallback), building the
// run's dependencies (AWS or sandbox clients, clock, progress renderer), the non-TTY prompt rule,
// the JSON document on stdout, and the mapping of error types to the exit codes of DESIGN.md.
import { Command, Flags, type Interfaces } from '@oclif/core';
import * as os from 'node:os';
import * as path from 'node:path';
import * as crypto from 'node:crypto';
import { ExitCode, UserError, WaitTimeoutError, InterruptedError, AwsOperationError } from '../core/errors';
import type { EventSink } from '../core/events';
import type { WorkflowDeps } from '../orchestration/deps';
import { RunFailedError } from '../orchestration/deps';

export type BaseFlags<T extends typeof Command> = Interfaces.InferredFlags<(typeof BaseCommand)['baseFlags'] & T['flags']>;

export abstract class BaseCommand<T extends typeof Command = typeof Command> extends Command {
  static override baseFlags = {
    region: Flags.string({ description: 'AWS region', env: 'AWS_REGION', helpGroup: 'GLOBAL' }),
    profile: Flags.string({ description: 'AWS shared-config profile', env: 'AWS_PROFILE', helpGroup: 'GLOBAL' }),
    'endpoint-url': Flags.string({
      description: 'AWS-compatible endpoint (LocalStack, moto)',
      env: 'AWS_ENDPOINT_URL',
      helpGroup: 'GLOBAL',
    }),
    sandbox: Flags.boolean({
      description: 'run against the embedded simulated AWS account',
      env: 'K3SCTL_SANDBOX',
      helpGroup: 'GLOBAL',
    }),
    json: Flags.boolean({ description: 'print one JSON document on stdout', helpGroup: 'GLOBAL' }),
    yes: Flags.boolean({ char: 'y', description: 'answer yes to confirmations; never prompt', helpGroup: 'GLOBAL' }),
    verbose: Flags.boolean({ char: 'v', description: 'more progress detail on stderr', helpGroup: 'GLOBAL' }),
  };

  protected flags!: BaseFlags<T>;
  protected args!: Record<string, string | undefined>;
  private cleanup: (() => Promise<void> | void)[] = [];
  private interrupted = false;

  override async init(): Promise<void> {
    await super.init();
    const { flags, args } = await this.parse({
      flags: this.ctor.flags,
      baseFlags: (this.ctor as typeof BaseCommand).baseFlags,
      args: this.ctor.args,
      strict: this.ctor.strict,
    });
    this.flags = flags as BaseFlags<T>;
    this.args = args as Record<string, string | undefined>;
  }

  /** True when a question may be asked: stdin is a TTY, CI is unset and --yes was not given. */
  protected canPrompt(): boolean {
    return Boolean(process.stdin.isTTY) && !process.env.CI && !this.flags.yes && !this.flags.json;
  }

  /** Fails (exit 2) listing the flags a non-interactive run must give. */
  protected requireFlags(missing: string[], why = 'stdin is not a terminal (or CI/--yes is set)'): void {
    if (missing.length > 0) {
      throw new UserError(
        `missing required input: ${missing.join(', ')}`,
        `give ${missing.join(' and ')} on the command line or in the file; no question is asked when ${why}`,
        missing[0],
      );
    }
  }

  protected get home(): string {
    return process.env.K3SCTL_HOME ?? path.join(os.homedir(), '.k3sctl');
  }

  protected get sandboxMode(): boolean {
    return Boolean(this.flags.sandbox) || process.env.K3SCTL_SANDBOX === '1';
  }

  /** Builds the run's dependencies: clients (AWS or sandbox), clock, progress renderer. */
  protected async deps(): Promise<WorkflowDeps> {
    const runId = `${new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '')}-${crypto.randomBytes(3).toString('hex')}`;
    const { createProgressRenderer } = await import('../ui/progress');
    const renderer = createProgressRenderer({
      json: Boolean(this.flags.json),
      verbose: Boolean(this.flags.verbose),
      tty: Boolean(process.stderr.isTTY),
    });
    this.cleanup.push(() => renderer.close());
    const events: EventSink = renderer;
    if (this.sandboxMode) {
      const region = this.flags.region ?? 'us-east-1';
      const [{ SandboxStore }, { sandboxClients }, { parseFaultRules, FaultParseError }] = await Promise.all([
        import('../sandbox/store'),
        import('../sandbox/clients'),
        import('../sandbox/faults'),
      ]);
      let faults;
      try {
        faults = parseFaultRules(process.env.K3SCTL_SANDBOX_FAULTS ?? '');
      } catch (error) {
        if (error instanceof FaultParseError) throw new UserError(error.message, undefined, 'K3SCTL_SANDBOX_FAULTS');
        throw error;
      }
      const store = new SandboxStore(path.join(this.home, 'sandbox'));
      const sandbox = await store.open({ faults, seed: Number(process.env.K3SCTL_SANDBOX_SEED ?? 42) });
      this.cleanup.push(() => {
        store.save(sandbox);
        store.release();
      });
      const clients = sandboxClients(sandbox, region);
      return { clients, clock: sandbox.clock, events, region, home: this.home, runId, sandbox: true };
    }
    const region = this.flags.region ?? process.env.AWS_DEFAULT_REGION;
    if (!region) {
      throw new UserError('no AWS region', 'give --region, or set AWS_REGION; use --sandbox to try k3sctl without AWS', '--region');
    }
    const [{ AwsClients }, { systemClock }] = await Promise.all([import('../aws/clients'), import('../core/clock')]);
    const clients = new AwsClients({ region, profile: this.flags.profile, endpointUrl: this.flags['endpoint-url'] });
    this.cleanup.push(() => clients.destroy());
    return { clients, clock: systemClock, events, region, home: this.home, runId };
  }

  /** Prints the command's result: JSON on stdout with --json, otherwise the human rendering on stderr/stdout. */
  protected output(result: object, human: () => string): void {
    if (this.flags.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    else {
      const text = human();
      if (text) process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
    }
  }

  override async finally(error: Error | undefined): Promise<void> {
    for (const fn of this.cleanup.reverse()) {
      try {
        await fn();
      } catch {
        // cleanup must not mask the command's own outcome
      }
    }
    return super.finally(error);
  }

  override async catch(error: Error & { exitCode?: number; oclif?: { exit?: number } }): Promise<void> {
    // oclif's own parse errors (unknown flag, missing arg) are invalid input: exit 2.
    if (error.oclif?.exit !== undefined && !(error instanceof UserError)) {
      if (error.oclif.exit === 0) return;
      this.emitError({ type: 'UserError', message: error.message }, ExitCode.invalidInput);
    }
    const exit = exitCodeFor(error, this.interrupted);
    const payload: Record<string, unknown> = { type: error.name, message: error.message };
    if (error instanceof UserError) {
      if (error.field) payload.field = error.field;
      if (error.suggestion) payload.suggestion = error.suggestion;
    }
    if (error instanceof RunFailedError) {
      payload.rolledBack = error.rolledBack;
      payload.leftovers = error.leftovers;
      payload.changes = error.changes;
      const cause = error.cause as Error | undefined;
      if (cause?.message) payload.cause = cause.message;
    }
    if (exit === ExitCode.failedRolledBack && !(error instanceof RunFailedError) && !isExpected(error)) {
      payload.type = 'InternalError';
      if (this.flags?.verbose) payload.stack = error.stack;
    }
    this.emitError(payload, exit);
  }

  private emitError(payload: Record<string, unknown>, exit: number): never {
    if (this.flags?.json) {
      process.stdout.write(`${JSON.stringify({ error: payload }, null, 2)}\n`);
    }
    const lines = [`Error: ${payload.message}`];
    if (payload.suggestion) lines.push(`Try: ${payload.suggestion}`);
    const leftovers = payload.leftovers as { type: string; name: string; id?: string; error: string }[] | undefined;
    if (leftovers?.length) {
      lines.push('Rollback incomplete; these resources remain:');
      for (const l of leftovers) lines.push(`  ${l.type} ${l.name}${l.id ? ` (${l.id})` : ''}: ${l.error}`);
    }
    process.stderr.write(`${lines.join('\n')}\n`);
    this.exit(exit);
  }

  /** Registers SIGINT/SIGTERM so a run is rolled back and exits 130; returns an AbortSignal. */
  protected interruptSignal(): AbortSignal {
    const controller = new AbortController();
    const onSignal = () => {
      this.interrupted = true;
      controller.abort(new InterruptedError());
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    this.cleanup.push(() => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    });
    return controller.signal;
  }
}

function isExpected(error: Error): boolean {
  return error instanceof AwsOperationError || error instanceof WaitTimeoutError || error instanceof InterruptedError;
}

export function exitCodeFor(error: unknown, interrupted = false): number {
  if (error instanceof UserError) return ExitCode.invalidInput;
  if (error instanceof RunFailedError) {
    if (error.leftovers.length > 0) return ExitCode.rollbackIncomplete;
    if (interrupted || error.cause instanceof InterruptedError) return ExitCode.interrupted;
    return ExitCode.failedRolledBack;
  }
  if (interrupted || error instanceof InterruptedError) return ExitCode.interrupted;
  return ExitCode.failedRolledBack;
}
