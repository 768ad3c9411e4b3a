// The base of every k3sctl command: wires the command kit into oclif's life cycle. init() parses the
// flags (the global ones of flags.ts beside the command's) and checks the global ones; the protected
// helpers give commands the AWS settings (setup/awsSetup.ts), the run's dependencies (setup/deps.ts)
// with the progress display, the questions (prompts.ts), the signal of SIGINT/SIGTERM (signals.ts) and
// the printing of the result (output.ts); catch() tells a failure (errors.ts, errorDocument.ts) and
// exits with its code.
import { Command, type Interfaces } from '@oclif/core';
import { ExitCode, UserError } from '../core/errors';
import type { EventSink, PlannedChange } from '../core/events';
import type { SpecInput } from '../config/specFile';
import type { WorkflowDeps } from '../orchestration/deps';
import { errorPayload, type ShownFailure } from './errorDocument';
import { credentialsFailure, exitCodeFor, parseErrorPayload } from './errors';
import { argvHas, asGiven, globalFlags, truthyEnv, withDryRunEnv, type FlagNaming } from './flags';
import { printError, printResult } from './output';
import * as prompts from './prompts';
import { Interruption } from './signals';
import { describeAwsSetup, resolveAwsSetup, type AwsSetup } from './setup/awsSetup';
import { buildDeps, newRunId, stateHome } from './setup/deps';
import { mergeSpecFileAndFlags, type SpecInputOptions } from './specInput';

export type BaseFlags<T extends typeof Command> = Interfaces.InferredFlags<
  (typeof BaseCommand)['baseFlags'] & T['flags']
>;

export abstract class BaseCommand<T extends typeof Command = typeof Command> extends Command {
  static override baseFlags = globalFlags;

  protected flags!: BaseFlags<T>;
  protected args!: Record<string, string | undefined>;
  private cleanup: (() => Promise<void> | void)[] = [];
  private readonly interruption = new Interruption({
    release: async () => {
      await this.closeRenderer();
      await this.runCleanup();
    },
    json: () => this.jsonMode,
  });
  private renderer?: { close(): void | Promise<void> };
  /** Failures the progress renderer has already shown (step-fail events). */
  private readonly shownFailures: ShownFailure[] = [];
  /** Id of the run once deps() built it (journal file name; `run` in the JSON). */
  private runId?: string;
  /** The AWS settings of the run, once awsSetup() resolved them. */
  private setup?: AwsSetup;
  /** Where --region came from when the `-f` file gave it (`cluster.yaml:2 region`). */
  private regionFromFile?: string;

  override async init(): Promise<void> {
    await super.init();
    this.cleanup.unshift(this.interruption.install());
    const { flags: parsed, args } = await this.parse({
      flags: withDryRunEnv(this.ctor.flags),
      baseFlags: (this.ctor as typeof BaseCommand).baseFlags,
      args: this.ctor.args,
      strict: this.ctor.strict,
    });
    this.flags = parsed as BaseFlags<T>;
    this.args = args as Record<string, string | undefined>;
    // Global flags are checked before anything else (and before any AWS call): the region and the endpoint by format.
    const { validateEndpointUrl, validateRegion } = await import('../config/formats');
    // (An empty value, e.g. AWS_REGION= in a CI environment, stands for none, as the AWS CLI reads it.)
    if (this.flags.region) validateRegion(this.flags.region, this.asGiven('--region'));
    if (this.flags['endpoint-url']) validateEndpointUrl(this.flags['endpoint-url'], this.asGiven('--endpoint-url'));
  }

  /**
   * A flag as the user gave it, for messages: `--node-type`, or the alias (`--instance-type`) or short
   * form (`-f`) typed instead, or its environment variable when the value came from there.
   * Arguments (`NAME`) and anything else are returned as they are.
   */
  protected asGiven(flag: string): string {
    const name = flag.slice(2);
    const definition = (this.ctor.flags?.[name] ?? globalFlags[name as keyof typeof globalFlags]) as FlagNaming | undefined;
    return asGiven(flag, definition, this.argv);
  }

  /** The region of the run (see setup/awsSetup.ts for the order it is looked for in). */
  protected async resolveRegion(): Promise<string> {
    return (await this.awsSetup()).region;
  }

  /** The AWS settings of the run and where each came from (resolved once; `doctor` reports them). */
  protected async awsSetup(): Promise<AwsSetup> {
    this.setup ??= await resolveAwsSetup({
      region: this.flags.region,
      profile: this.flags.profile,
      endpointUrl: this.flags['endpoint-url'],
      sandbox: this.sandboxMode,
      regionSource: this.regionFromFile ?? this.asGiven('--region'),
      asGiven: (flag) => this.asGiven(flag),
    });
    return this.setup;
  }

  /** True when a question may be asked: stdin is a TTY, CI is unset and --yes/--json were not given. */
  protected canPrompt(): boolean {
    return prompts.canPrompt(this.flags);
  }

  /** Fails (exit 2) listing the flags a non-interactive run must give. */
  protected requireFlags(missing: string[], why?: string): void {
    prompts.requireFlags(missing, why);
  }

  /** The confirmation of a command that destroys or replaces running things (see prompts.ts). */
  protected confirmDestructive<S>(
    dryRun: boolean | undefined,
    preview: (subject: S) => string,
    question: string,
  ): ((subject: S) => Promise<boolean>) | undefined {
    return prompts.confirmDestructive(this.flags, dryRun, preview, question);
  }

  /** confirmDestructive() for workflows that hand over their plan (a list of changes). */
  protected confirmPlan(
    dryRun: boolean | undefined,
    question: string,
  ): ((changes: PlannedChange[]) => Promise<boolean>) | undefined {
    return prompts.confirmPlan(this.flags, dryRun, question);
  }

  /** Asks now, after showing `preview`; --yes skips it, no terminal needs --yes, a No is `cancelled`. */
  protected confirmOrRequireYes(preview: string, question: string, cancelled: string): Promise<void> {
    return prompts.confirmOrRequireYes(this.flags, preview, question, cancelled);
  }

  /** For a create (converging) command: on a terminal, show the plan and ask (Yes by default); otherwise apply. */
  protected confirmPlanOnTerminal(
    question: string,
  ): ((changes: PlannedChange[]) => Promise<boolean>) | undefined {
    return prompts.confirmPlanOnTerminal(this.flags, question);
  }

  /**
   * The input of a create command: `-f FILE` with the flags over it (see specInput.ts). A `region` in
   * the file stands for --region when that was not given.
   */
  protected async specInput<F extends object>(o: SpecInputOptions<F>): Promise<SpecInput<F>> {
    const fileName = (this.flags as { file?: string }).file;
    const { spec, fileRegion } = await mergeSpecFileAndFlags(o, fileName, this.asGiven('--file'), (flag) => this.asGiven(flag));
    if (!this.flags.region && fileRegion) {
      (this.flags as { region?: string }).region = fileRegion.region;
      this.regionFromFile = fileRegion.field;
    }
    return spec;
  }

  protected get home(): string {
    return stateHome();
  }

  protected get sandboxMode(): boolean {
    return Boolean(this.flags.sandbox) || process.env.K3SCTL_SANDBOX === '1';
  }

  /** Builds the run's dependencies: clients (AWS or sandbox), clock, progress renderer. */
  protected async deps(): Promise<WorkflowDeps> {
    const runId = newRunId();
    this.runId = runId;
    const { createProgressRenderer } = await import('../ui/progress');
    const renderer = createProgressRenderer({
      json: Boolean(this.flags.json),
      verbose: Boolean(this.flags.verbose),
      tty: Boolean(process.stderr.isTTY),
    });
    this.renderer = renderer;
    this.cleanup.push(() => renderer.close());
    // Remembers which failures the renderer showed, so the final error message does not repeat them.
    const events: EventSink = {
      emit: (event) => {
        if (event.kind === 'step-fail') this.shownFailures.push({ title: event.title, error: event.error });
        renderer.emit(event);
      },
    };
    const region = await this.resolveRegion();
    if (this.flags.verbose) process.stderr.write(`${describeAwsSetup(this.setup!)}\n`);
    return buildDeps({
      runId,
      region,
      home: this.home,
      sandbox: this.sandboxMode,
      profile: this.flags.profile || undefined,
      endpointUrl: this.flags['endpoint-url'] || undefined,
      events,
      mfaCodeProvider: (serial) => prompts.askMfaCode(this.flags, this.setup, serial),
      onCleanup: (release) => this.cleanup.push(release),
    });
  }

  /** Prints the command's result: JSON on stdout with --json, otherwise the human rendering. */
  protected output(result: object, human: () => string): void {
    printResult(Boolean(this.flags.json), result, human);
  }

  /** The signal aborted by SIGINT/SIGTERM: the workflow given it rolls back, and the command exits 130. */
  protected interruptSignal(): AbortSignal {
    return this.interruption.signal();
  }

  override async finally(error: Error | undefined): Promise<void> {
    await this.runCleanup();
    return super.finally(error);
  }

  private async runCleanup(): Promise<void> {
    const steps = this.cleanup.reverse();
    this.cleanup = [];
    for (const fn of steps) {
      try {
        await fn();
      } catch {
        // cleanup must not mask the command's own outcome
      }
    }
  }

  override async catch(error: Error & { exitCode?: number; oclif?: { exit?: number } }): Promise<void> {
    // The progress display ends before the outcome is told (listr2 would otherwise redraw over it).
    await this.closeRenderer();
    // oclif's own parse errors (unknown flag, missing arg) are invalid input: exit 2.
    if (error.oclif?.exit !== undefined && !(error instanceof UserError)) {
      if (error.oclif.exit === 0) return;
      this.fail(parseErrorPayload(error, this.config.bin, this.id), ExitCode.invalidInput);
    }
    const failure = (await credentialsFailure(error, this.setup)) ?? error;
    const exit = exitCodeFor(failure, this.interruption.interrupted);
    this.fail(errorPayload(failure, exit, { bin: this.config.bin, runId: this.runId, verbose: this.verbose }), exit);
  }

  private fail(payload: Record<string, unknown>, exit: number): never {
    printError(this.jsonMode, payload, exit, this.shownFailures);
    this.exit(exit);
  }

  private get verbose(): boolean {
    if (this.flags) return Boolean(this.flags.verbose);
    return argvHas(this.argv, '--verbose', '-v') || truthyEnv('K3SCTL_VERBOSE');
  }

  private get jsonMode(): boolean {
    // Before the flags are parsed (a parse error), --json is read from argv and the environment.
    if (this.flags) return Boolean(this.flags.json);
    return argvHas(this.argv, '--json') || truthyEnv('K3SCTL_JSON');
  }

  private async closeRenderer(): Promise<void> {
    try {
      await this.renderer?.close();
    } catch {
      // a broken display must not hide the error
    }
  }
}
