// The base of every k3sctl command: global flags (each with an environment fallback), building the
// run's dependencies (AWS or sandbox clients, clock, progress renderer), the non-TTY prompt rule,
// signals (SIGINT/SIGTERM roll the run back, then exit 130), the JSON document on stdout, and the
// mapping of error types to the exit codes of DESIGN.md section 1.
//
// Environment knobs read here (and nowhere deeper):
//   K3SCTL_HOME               state directory (default ~/.k3sctl)
//   K3SCTL_SANDBOX_FAULTS     fault rules of the sandbox (src/sandbox/faults.ts)
//   K3SCTL_SANDBOX_SEED       seed of the sandbox's random faults
//   K3SCTL_SANDBOX_BEHAVIOR   JSON overriding the sandbox behaviour for this invocation only, e.g.
//                             '{"timings":{"instanceBootMs":90000},"neverHealthy":["*"],"realCallDelayMs":50}':
//                             keys of SandboxBehavior (timings, neverHealthy, failDrain, slowBoot,
//                             rateLimits, ssmNoOutput, bootstrapFails, deniedActions,
//                             onDemandVcpuQuota) plus realCallDelayMs, real
//                             milliseconds every simulated call takes (sandbox time is virtual and a
//                             run is otherwise near-instant; tests use it to interrupt a run while it
//                             is writing).
import { Command, Flags, type Interfaces } from '@oclif/core';
import * as os from 'node:os';
import * as path from 'node:path';
import * as crypto from 'node:crypto';
import {
  ClusterNotReadyError,
  CredentialsError,
  ExitCode,
  UserError,
  WaitTimeoutError,
  InterruptedError,
  AwsOperationError,
  awsErrorCode,
} from '../core/errors';
import type { EventSink, PlannedChange } from '../core/events';
import type { SpecFile, SpecInput } from '../config/specFile';
import type { WorkflowDeps } from '../orchestration/deps';
import type { DoctorSetup } from '../orchestration/workflows/doctor';
import { RunFailedError, workflowDeps } from '../orchestration/deps';

/** The AWS settings of a run and where each came from (--verbose prints them; `doctor` reports them), and the files read. */
export interface AwsSetup extends DoctorSetup {
  /** The shared files read (not in the sandbox). */
  configFile?: string;
  credentialsFile?: string;
  /** What the profile in use declares (both files merged): says which credential source failed. */
  profileSettings?: Record<string, string | undefined>;
}

export type BaseFlags<T extends typeof Command> = Interfaces.InferredFlags<
  (typeof BaseCommand)['baseFlags'] & T['flags']
>;

/** Environment fallback of `--dry-run`; use `dryRunFlag()` so help and the manifest show it. */
export const DRY_RUN_ENV = 'K3SCTL_DRY_RUN';

/** The `--dry-run` flag of a mutating command (with its environment fallback). */
export function dryRunFlag(description = 'print the plan and change nothing') {
  return Flags.boolean({ description, env: DRY_RUN_ENV });
}

/** `-f FILE` of a create command (flags override the file). */
export function specFileFlag(
  description = 'YAML file with the same fields as the flags (flags override it)',
) {
  return Flags.string({ char: 'f', description, env: 'K3SCTL_FILE' });
}

/** Why a command that needs an answer refuses to run without one. */
const NO_PROMPT_REASON = 'stdin is not a terminal (or CI/--json is set); --dry-run previews without it';

/** Reads `-f FILE`; a file that cannot be read is a UserError naming the flag. */
export function readSpecFile(file: string | undefined, flag = '--file'): string | undefined {
  if (!file) return undefined;
  const { readSpecText } = require('../config/specFile') as typeof import('../config/specFile');
  return readSpecText(file, flag);
}

/** What a create command's specInput() merges: its file (parsed by `parse`) under its flags. */
export interface SpecInputOptions<F> {
  parse: (text: string, fileName: string, flag: string) => SpecFile<Partial<F>>;
  fromFlags: Partial<F>;
  /** The flag (or argument) of each field; see config/specFile.ts mergeSpecInput(). */
  flagOf: Record<string, string | undefined>;
  flagValues?: Record<string, unknown>;
  argument?: keyof F & string;
}

/** A plan as text (ui/plan), with the dry-run note when nothing was changed. */
export function renderChanges(planned: PlannedChange[], dryRun: boolean): string {
  const { renderPlan } = require('../ui/plan') as typeof import('../ui/plan');
  return `${renderPlan(planned)}${dryRun ? '\n(dry run: nothing was changed)' : ''}`;
}

/** Fields of an error that never go into the JSON error document (stack only with --verbose). */
const HIDDEN_ERROR_FIELDS = new Set([
  'name',
  'message',
  'stack',
  'oclif',
  'cause',
  '$response',
  'skipOclifErrorHandling',
]);

export abstract class BaseCommand<T extends typeof Command = typeof Command> extends Command {
  static override baseFlags = {
    region: Flags.string({ description: 'AWS region', env: 'AWS_REGION', helpGroup: 'GLOBAL' }),
    profile: Flags.string({
      description: 'AWS shared-config profile',
      env: 'AWS_PROFILE',
      helpGroup: 'GLOBAL',
    }),
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
    json: Flags.boolean({
      description: 'print one JSON document on stdout',
      env: 'K3SCTL_JSON',
      helpGroup: 'GLOBAL',
    }),
    yes: Flags.boolean({
      char: 'y',
      description: 'answer yes to confirmations; never prompt',
      env: 'K3SCTL_YES',
      helpGroup: 'GLOBAL',
    }),
    verbose: Flags.boolean({
      char: 'v',
      description: 'more progress detail on stderr',
      env: 'K3SCTL_VERBOSE',
      helpGroup: 'GLOBAL',
    }),
  };

  protected flags!: BaseFlags<T>;
  protected args!: Record<string, string | undefined>;
  private cleanup: (() => Promise<void> | void)[] = [];
  private interrupted = false;
  /** Aborted on SIGINT/SIGTERM; handed to the workflow by interruptSignal(). */
  private readonly interruption = new AbortController();
  /** Set once a workflow holds the interruption signal (it then rolls back and ends the run itself). */
  private interruptionHandled = false;
  private onSignal?: (signal: NodeJS.Signals) => void;
  private renderer?: { close(): void | Promise<void> };
  /** Failures the progress renderer has already shown (step-fail events). */
  private readonly shownFailures: { title: string; error: string }[] = [];
  /** Id of the run once deps() built it (journal file name; `run` in the JSON). */
  private runId?: string;
  /** The AWS settings of the run, once awsSetup() resolved them. */
  private setup?: AwsSetup;
  /** Where --region came from when the `-f` file gave it (`cluster.yaml:2 region`). */
  private regionFromFile?: string;

  override async init(): Promise<void> {
    await super.init();
    this.installSignalHandlers();
    const flags = { ...this.ctor.flags };
    // Every mutating command's --dry-run honours K3SCTL_DRY_RUN, whether or not it was declared with dryRunFlag().
    const dryRun = flags['dry-run'];
    if (dryRun && !dryRun.env) flags['dry-run'] = { ...dryRun, env: DRY_RUN_ENV } as typeof dryRun;
    const { flags: parsed, args } = await this.parse({
      flags,
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
    if (!flag.startsWith('--')) return flag;
    const name = flag.slice(2);
    const definition = (this.ctor.flags?.[name] ?? (this.ctor as typeof BaseCommand).baseFlags[name as keyof typeof BaseCommand.baseFlags]) as
      | { char?: string; aliases?: string[]; env?: string }
      | undefined;
    if (!definition) return flag;
    const end = this.argv.indexOf('--');
    const argv = end === -1 ? this.argv : this.argv.slice(0, end);
    const typed = (long: string) => argv.some((a) => a === `--${long}` || a.startsWith(`--${long}=`));
    if (typed(name)) return flag;
    const alias = definition.aliases?.find(typed);
    if (alias) return `--${alias}`;
    const char = definition.char;
    if (char && argv.some((a) => a === `-${char}` || (a.startsWith(`-${char}`) && !a.startsWith('--')))) return `-${char}`;
    if (definition.env && process.env[definition.env] !== undefined) return definition.env;
    return flag;
  }

  /**
   * The region of the run, in the AWS CLI's order: --region, AWS_REGION, (the `-f` file's `region`),
   * AWS_DEFAULT_REGION, then the `region` of the profile (--profile, AWS_PROFILE or `default`) in the
   * shared config file; us-east-1 in the sandbox. Without one, invalid input. Checked by format, before
   * any call; a named profile that exists in neither shared file is a CredentialsError (exit 2) here.
   */
  protected async resolveRegion(): Promise<string> {
    return (await this.awsSetup()).region;
  }

  /** The AWS settings of the run and where each came from (resolved once; `doctor` reports them). */
  protected async awsSetup(): Promise<AwsSetup> {
    if (this.setup) return this.setup;
    const regionFlag = this.flags.region ? (this.regionFromFile ?? this.asGiven('--region')) : undefined;
    if (this.sandboxMode) {
      this.setup = {
        region: this.flags.region || 'us-east-1',
        regionSource: regionFlag ?? 'the sandbox\'s default',
        endpointSource: 'the embedded sandbox',
      };
      return this.setup;
    }
    const [{ validateRegion }, shared] = await Promise.all([import('../config/formats'), import('../aws/sharedConfig')]);
    const config = await shared.loadSharedConfig(process.env);
    const profile = this.flags.profile || undefined;
    const profileSource = profile ? this.asGiven('--profile') : undefined;
    if (profile) shared.requireProfile(config, profile, profileSource!);
    const profileName = profile ?? 'default';
    const profileRegion = shared.profileSetting(config, profileName, 'region');
    const profileRegionSource = `profile ${profileName} in ${config.configFile}`;
    let region: string | undefined;
    let regionSource: string | undefined;
    if (this.flags.region) [region, regionSource] = [this.flags.region, regionFlag];
    else if (process.env.AWS_DEFAULT_REGION) [region, regionSource] = [validateRegion(process.env.AWS_DEFAULT_REGION, 'AWS_DEFAULT_REGION'), 'AWS_DEFAULT_REGION'];
    else if (profileRegion) [region, regionSource] = [validateRegion(profileRegion, `region of ${profileRegionSource}`), profileRegionSource];
    if (!region) {
      throw new UserError(
        '--region: no AWS region given',
        `give --region, or set AWS_REGION or AWS_DEFAULT_REGION, or set region in ${profileRegionSource} (aws configure set region REGION${profile ? ` --profile ${profile}` : ''}); use --sandbox to try k3sctl without AWS`,
        '--region',
      );
    }
    const endpointUrl = this.flags['endpoint-url'] || undefined;
    const profileEndpoint = shared.profileSetting(config, profileName, 'endpoint_url');
    this.setup = {
      region,
      regionSource: regionSource!,
      profile,
      profileSource,
      endpointUrl: endpointUrl ?? profileEndpoint,
      endpointSource: endpointUrl ? this.asGiven('--endpoint-url') : profileEndpoint ? `endpoint_url of profile ${profileName} in ${config.configFile}` : 'AWS (the SDK\'s endpoints for the region)',
      configFile: config.configFile,
      credentialsFile: config.credentialsFile,
      profileSettings: credentialSettings({ ...config.credentials[profileName], ...config.config[profileName] }),
    };
    return this.setup;
  }

  /** True when a question may be asked: stdin is a TTY, CI is unset and --yes/--json were not given. */
  protected canPrompt(): boolean {
    return Boolean(process.stdin.isTTY) && !process.env.CI && !this.flags.yes && !this.flags.json;
  }

  /** The code of an MFA device an assume-role profile names (`mfa_serial`): asked on a terminal, a CredentialsError elsewhere. */
  private async askMfaCode(serial: string): Promise<string> {
    const profile = this.setup?.profile ?? 'default';
    if (!this.canPrompt()) {
      throw new CredentialsError(
        `profile ${profile} assumes a role that requires an MFA code (mfa_serial ${serial}), and none can be asked: stdin is not a terminal, or CI, --yes or --json is set`,
        `run k3sctl in a terminal (without --yes, --json or CI) to be asked, or export temporary credentials first: eval "$(aws configure export-credentials --profile ${profile} --format env)"`,
        this.setup?.profile,
        undefined,
        this.setup?.profileSource,
      );
    }
    const { mfaCode } = await import('../ui/prompts');
    return mfaCode(`MFA code for ${serial} (profile ${profile})`);
  }

  /** Fails (exit 2) listing the flags a non-interactive run must give. */
  protected requireFlags(
    missing: string[],
    why = 'stdin is not a terminal (or CI/--yes/--json is set)',
  ): void {
    if (missing.length > 0) {
      throw new UserError(
        `missing required input: ${missing.join(', ')}`,
        `give ${missing.join(' and ')}; no question is asked when ${why}`,
        missing[0],
      );
    }
  }

  /**
   * The confirmation of a command that destroys or replaces running things: none with --dry-run or
   * --yes; without a terminal it fails naming --yes (exit 2, before anything is read or written);
   * otherwise a question asked once the workflow knows what it would do (`preview` of it on stderr).
   */
  protected confirmDestructive<S>(
    dryRun: boolean | undefined,
    preview: (subject: S) => string,
    question: string,
  ): ((subject: S) => Promise<boolean>) | undefined {
    if (dryRun || this.flags.yes) return undefined;
    if (!this.canPrompt()) this.requireFlags(['--yes'], NO_PROMPT_REASON);
    return async (subject) => {
      process.stderr.write(`${preview(subject)}\n`);
      const { confirm } = await import('../ui/prompts');
      return confirm(question);
    };
  }

  /** confirmDestructive() for workflows that hand over their plan (a list of changes). */
  protected confirmPlan(
    dryRun: boolean | undefined,
    question: string,
  ): ((changes: PlannedChange[]) => Promise<boolean>) | undefined {
    return this.confirmDestructive(
      dryRun,
      (changes: PlannedChange[]) => renderChanges(changes, false),
      question,
    );
  }

  /**
   * Asks now, after showing `preview` (the command knows what it will do before any workflow runs):
   * nothing with --yes; without a terminal fails naming --yes; a No is a UserError `cancelled`.
   */
  protected async confirmOrRequireYes(preview: string, question: string, cancelled: string): Promise<void> {
    if (this.flags.yes) return;
    if (!this.canPrompt()) this.requireFlags(['--yes'], NO_PROMPT_REASON);
    process.stderr.write(`${preview}\n`);
    const { confirm } = await import('../ui/prompts');
    if (!(await confirm(question))) throw new UserError(cancelled);
  }

  /** For a create (converging) command: on a terminal, show the plan and ask (Yes by default); otherwise apply. */
  protected confirmPlanOnTerminal(
    question: string,
  ): ((changes: PlannedChange[]) => Promise<boolean>) | undefined {
    if (!this.canPrompt()) return undefined;
    return async (changes) => {
      process.stderr.write(`${renderChanges(changes, false)}\n`);
      const { confirm } = await import('../ui/prompts');
      return confirm(question, true);
    };
  }

  /**
   * The input of a create command: `-f FILE` (parsed by `parse`, which keeps the line of every field)
   * with the flags over it (a given flag wins; an empty list does not), and the naming of every field
   * as the user gave it (see config/specFile.ts). A `region` in the file stands for --region when that
   * was not given (checked here, named as the file's field).
   */
  protected async specInput<F extends object>(o: SpecInputOptions<F>): Promise<SpecInput<F>> {
    const [{ mergeSpecInput }, { validateRegion }] = await Promise.all([import('../config/specFile'), import('../config/formats')]);
    const fileName = (this.flags as { file?: string }).file;
    const fileFlag = this.asGiven('--file');
    const text = readSpecFile(fileName, fileFlag);
    const file = text !== undefined ? o.parse(text, fileName!, fileFlag) : undefined;
    const spec = mergeSpecInput<F>({ ...o, file, asGiven: (flag) => this.asGiven(flag) });
    // The file's region is checked even when --region (or AWS_REGION) overrides it: all local input is.
    const fileRegion = (file?.data as { region?: unknown } | undefined)?.region;
    if (typeof fileRegion === 'string') validateRegion(fileRegion, file!.at(['region']));
    if (!this.flags.region && fileRegion) {
      (this.flags as { region?: string }).region = String(fileRegion);
      this.regionFromFile = file!.at(['region']);
    }
    return spec;
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
    if (this.sandboxMode) {
      const [{ SandboxStore }, { sandboxClients }, { parseFaultRules, FaultParseError }] = await Promise.all([
        import('../sandbox/store'),
        import('../sandbox/clients'),
        import('../sandbox/faults'),
      ]);
      let faults;
      try {
        faults = parseFaultRules(process.env.K3SCTL_SANDBOX_FAULTS ?? '');
      } catch (error) {
        if (error instanceof FaultParseError)
          throw new UserError(error.message, undefined, 'K3SCTL_SANDBOX_FAULTS');
        throw error;
      }
      const { behavior, realCallDelayMs } = parseSandboxBehavior(process.env.K3SCTL_SANDBOX_BEHAVIOR);
      const store = new SandboxStore(path.join(this.home, 'sandbox'));
      const sandbox = await store.open({ faults, seed: Number(process.env.K3SCTL_SANDBOX_SEED ?? 42) });
      // The override lasts for this invocation: the saved account keeps its own behaviour.
      const saved = structuredClone(sandbox.state.behavior);
      if (behavior) {
        Object.assign(sandbox.state.behavior, behavior, {
          timings: { ...sandbox.state.behavior.timings, ...(behavior.timings ?? {}) },
        });
      }
      // Persisted after every write too: a killed invocation leaves the account with the writes it made,
      // as AWS would, for the next run to converge or for `runs rollback` to undo.
      sandbox.onWrite = () => store.save(sandbox, saved);
      this.cleanup.push(() => {
        sandbox.onWrite = undefined;
        sandbox.state.behavior = saved;
        store.save(sandbox);
        store.release();
      });
      let clients = sandboxClients(sandbox, region);
      if (realCallDelayMs > 0) {
        const { AwsClients } = await import('../aws/clients');
        clients = new AwsClients({
          ...clients.options,
          plugins: [...(clients.options.plugins ?? []), realDelayPlugin(realCallDelayMs)],
        });
      }
      return workflowDeps({ clients, clock: sandbox.clock, events, region, home: this.home, runId, sandbox: true });
    }
    const [{ AwsClients }, { systemClock }] = await Promise.all([
      import('../aws/clients'),
      import('../core/clock'),
    ]);
    const clients = new AwsClients({
      region,
      profile: this.flags.profile || undefined,
      endpointUrl: this.flags['endpoint-url'] || undefined,
      mfaCodeProvider: (serial) => this.askMfaCode(serial),
    });
    this.cleanup.push(() => clients.destroy());
    return workflowDeps({ clients, clock: systemClock, events, region, home: this.home, runId });
  }

  /** Prints the command's result: JSON on stdout with --json, otherwise the human rendering. */
  protected output(result: object, human: () => string): void {
    if (this.flags.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    else {
      const text = human();
      if (text) process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
    }
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
      const field = parseErrorField(error);
      const message = error.message.replace(/\n+See more help with --help\s*$/, '');
      this.emitError(
        {
          type: 'UserError',
          // The field as the user knows it (`CLUSTER`, `--nodes`) is in the message, whatever oclif wrote.
          message: field && !message.includes(field) ? `${field}: ${message}` : message,
          ...(field ? { field } : {}),
          suggestion: `see ${this.config.bin} ${(this.id ?? '').replace(/:/g, ' ')} --help`,
        },
        ExitCode.invalidInput,
      );
    }
    const failure = (await this.credentialsFailure(error)) ?? error;
    const exit = exitCodeFor(failure, this.interrupted);
    this.emitError(this.errorPayload(failure, exit), exit);
  }

  /**
   * A credential failure (the SDK found no credentials, an SSO session expired, AWS rejected the key) as
   * the CredentialsError that says what to do; also when it ended a run that changed nothing yet.
   */
  private async credentialsFailure(error: Error): Promise<Error | undefined> {
    if (!this.setup?.configFile) return undefined;
    const cause = error instanceof RunFailedError && error.changes.length === 0 && error.leftovers.length === 0 ? error.cause : error;
    const { credentialsErrorOf } = await import('../aws/credentials');
    return credentialsErrorOf(cause, {
      profile: this.setup.profile,
      profileField: this.setup.profileSource,
      configFile: this.setup.configFile,
      credentialsFile: this.setup.credentialsFile!,
      profileSettings: this.setup.profileSettings,
    });
  }

  /** The JSON error object: type, message, and every JSON-serialisable own field of the error. */
  private errorPayload(error: Error, exit: number): Record<string, unknown> {
    const payload: Record<string, unknown> = { type: error.name, message: error.message };
    for (const [key, value] of Object.entries(error)) {
      if (HIDDEN_ERROR_FIELDS.has(key) || key.startsWith('$') || value === undefined) continue;
      const json = jsonValue(value);
      if (json !== undefined) payload[key] = json;
    }
    const code = awsErrorCode(error);
    // (A CredentialsError keeps the code and call of the AWS answer it explains, as its own fields.)
    if (code && !(error instanceof AwsOperationError) && !(error instanceof RunFailedError) && !(error instanceof CredentialsError)) {
      // An AWS answer that no layer wrapped: a failure of the call, not a bug in k3sctl.
      payload.type = 'AwsError';
      payload.code = code;
      Object.assign(payload, awsCallOf(error));
      const requestId = (error as { $metadata?: { requestId?: string } }).$metadata?.requestId;
      if (requestId) payload.requestId = requestId;
    }
    if (error instanceof RunFailedError) {
      if (this.runId && payload.run === undefined) payload.run = this.runId;
      const cause = error.cause as Error | undefined;
      if (cause?.message) payload.cause = cause.message;
      const causeCode = awsErrorCode(cause);
      if (causeCode) {
        payload.code = causeCode;
        Object.assign(payload, awsCallOf(cause));
      }
      if (cause instanceof Error && cause.name) payload.causeType = cause.name;
      // What is left is named (kind, id) in `leftovers`; `cleanup` is the command that finishes the job.
      const run = payload.run ?? payload.runId;
      if (error.leftovers.length > 0)
        payload.cleanup = run
          ? `${this.config.bin} runs rollback ${String(run)}`
          : `${this.config.bin} runs list, then ${this.config.bin} runs rollback RUN_ID`;
    }
    if (
      exit === ExitCode.failedRolledBack &&
      !(error instanceof RunFailedError) &&
      !isExpected(error) &&
      !code
    ) {
      payload.type = 'InternalError';
    }
    if (this.verbose && error.stack) payload.stack = error.stack;
    return payload;
  }

  private get verbose(): boolean {
    if (this.flags) return Boolean(this.flags.verbose);
    return this.argvHas('--verbose', '-v') || truthyEnv('K3SCTL_VERBOSE');
  }

  private get jsonMode(): boolean {
    // Before the flags are parsed (a parse error), --json is read from argv and the environment.
    if (this.flags) return Boolean(this.flags.json);
    return this.argvHas('--json') || truthyEnv('K3SCTL_JSON');
  }

  private argvHas(...names: string[]): boolean {
    const end = this.argv.indexOf('--');
    const argv = end === -1 ? this.argv : this.argv.slice(0, end);
    return argv.some((a) => names.includes(a));
  }

  private async closeRenderer(): Promise<void> {
    try {
      await this.renderer?.close();
    } catch {
      // a broken display must not hide the error
    }
  }

  private emitError(payload: Record<string, unknown>, exit: number): never {
    if (this.jsonMode) {
      process.stdout.write(`${JSON.stringify({ error: payload }, null, 2)}\n`);
    }
    process.stderr.write(`${this.humanError(payload, exit).join('\n')}\n`);
    this.exit(exit);
  }

  /** One clear message (not repeated when the progress display already showed it), then the rollback summary. */
  private humanError(payload: Record<string, unknown>, exit: number): string[] {
    const message = String(payload.message ?? '');
    const shown = message === '' ? undefined : this.shownFailures.find((f) => f.error.includes(message));
    const rolledBack = payload.rolledBack as unknown[] | undefined;
    const leftovers = payload.leftovers as
      { type: string; name: string; id?: string; error: string }[] | undefined;
    const notRolledBack = payload.notRolledBack as { action: string; type: string; name: string }[] | undefined;
    // `ec2:DescribeInstances` when the error is an AWS answer to a call the SDK middleware named.
    const call = payload.service && payload.operation ? `${payload.service}:${payload.operation}` : undefined;
    const lines: string[] = [];
    if (exit === ExitCode.interrupted) lines.push('Error: interrupted');
    else if (shown)
      lines.push(
        `Error: ${shown.title} failed${payload.code ? ` (${call ? `AWS ${call}: ` : ''}${payload.code})` : ''}; the error is shown above`,
      );
    else if (call && payload.code)
      lines.push(
        `Error: AWS ${call} failed: ${message.startsWith(String(payload.code)) ? '' : `${payload.code}: `}${message}`,
      );
    else
      lines.push(
        `Error: ${payload.code && !message.includes(String(payload.code)) ? `${payload.code}: ` : ''}${message}`,
      );
    if (payload.suggestion) lines.push(`Try: ${payload.suggestion}`);
    if (leftovers?.length) {
      lines.push(
        `Rollback incomplete (${rolledBack?.length ?? 0} change(s) undone); these resources remain:`,
      );
      for (const l of leftovers) lines.push(`  ${l.type} ${l.name}${l.id ? ` (${l.id})` : ''}: ${l.error}`);
      if (payload.cleanup) lines.push(`Retry the cleanup with: ${String(payload.cleanup)}`);
    } else if (rolledBack && !notRolledBack?.length) {
      lines.push(
        rolledBack.length
          ? `Rolled back: ${rolledBack.length} change(s) undone; nothing this run created is left.`
          : 'Nothing was changed.',
      );
    } else if (rolledBack) {
      lines.push(`Rolled back: ${rolledBack.length} change(s) undone.`);
    }
    // Deletes (and forward-only updates) a failed run made stay made: said, never hidden behind "nothing changed".
    if (notRolledBack?.length) {
      lines.push(`Not rolled back (${notRolledBack.length} change(s) cannot be undone):`);
      for (const c of notRolledBack) lines.push(`  ${c.action} ${c.type} ${c.name}`);
    }
    return lines;
  }

  private installSignalHandlers(): void {
    const onSignal = (signal: NodeJS.Signals) => {
      if (this.interrupted) {
        // A second signal: stop now; the journal under $K3SCTL_HOME/runs lets `runs rollback` finish the job.
        process.stderr.write(`\n${signal} again: exiting without finishing; see k3sctl runs list\n`);
        process.exit(ExitCode.interrupted);
      }
      this.interrupted = true;
      this.interruption.abort(new InterruptedError());
      if (this.interruptionHandled) {
        process.stderr.write(`\n${signal}: stopping and rolling back (press Ctrl-C again to exit at once)\n`);
        return;
      }
      // No workflow is running yet, so nothing was written: release what is held and exit.
      void (async () => {
        await this.closeRenderer();
        await this.runCleanup();
        if (this.jsonMode) {
          process.stdout.write(
            `${JSON.stringify({ error: { type: 'InterruptedError', message: 'interrupted', rolledBack: [], leftovers: [] } }, null, 2)}\n`,
          );
        }
        process.stderr.write('Error: interrupted; nothing was changed\n');
        process.exit(ExitCode.interrupted);
      })();
    };
    this.onSignal = onSignal;
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    this.cleanup.unshift(() => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    });
  }

  /** The signal aborted by SIGINT/SIGTERM: the workflow given it rolls back, and the command exits 130. */
  protected interruptSignal(): AbortSignal {
    this.interruptionHandled = true;
    return this.interruption.signal;
  }
}

/** One line for --verbose: the region, profile and endpoint of the run and where each came from. */
export function describeAwsSetup(setup: AwsSetup): string {
  const profile = setup.profile ? `profile ${setup.profile} (from ${setup.profileSource})` : 'no profile named (the SDK\'s default chain)';
  const endpoint = setup.endpointUrl ? `endpoint ${setup.endpointUrl} (from ${setup.endpointSource})` : `endpoint ${setup.endpointSource}`;
  return `AWS: region ${setup.region} (from ${setup.regionSource}); ${profile}; ${endpoint}`;
}

/** The settings of a profile that say where its credentials come from; never a key or a secret. */
function credentialSettings(settings: Record<string, string | undefined>): Record<string, string | undefined> {
  const keep = ['credential_process', 'role_arn', 'source_profile', 'credential_source', 'mfa_serial', 'sso_session', 'sso_start_url', 'web_identity_token_file'];
  return Object.fromEntries(Object.entries(settings).filter(([key]) => keep.includes(key)));
}

/** Real time spent by every simulated call (K3SCTL_SANDBOX_BEHAVIOR realCallDelayMs). */
function realDelayPlugin(
  ms: number,
): NonNullable<import('../aws/clients').AwsClientOptions['plugins']>[number] {
  return {
    applyToStack: (stack) => {
      stack.add(
        (next) => async (args) => {
          await new Promise((resolve) => setTimeout(resolve, ms));
          return next(args);
        },
        { step: 'initialize', name: 'k3sctlSandboxRealDelay' },
      );
    },
  };
}

const BEHAVIOR_KEYS = new Set([
  'timings',
  'neverHealthy',
  'failDrain',
  'slowBoot',
  'rateLimits',
  'ssmNoOutput',
  'bootstrapFails',
  'deniedActions',
  'onDemandVcpuQuota',
  'realCallDelayMs',
]);

/** Parses K3SCTL_SANDBOX_BEHAVIOR (see the header); a malformed value is invalid input naming the variable. */
export function parseSandboxBehavior(text: string | undefined): {
  behavior?: Partial<import('../sandbox/sandbox').SandboxBehavior>;
  realCallDelayMs: number;
} {
  if (!text?.trim()) return { realCallDelayMs: 0 };
  const field = 'K3SCTL_SANDBOX_BEHAVIOR';
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new UserError(
      `${field} is not JSON: ${(error as Error).message}`,
      `e.g. ${field}='{"realCallDelayMs":50}'`,
      field,
    );
  }
  if (!value || typeof value !== 'object' || Array.isArray(value))
    throw new UserError(`${field} must be a JSON object`, undefined, field);
  const { realCallDelayMs = 0, ...behavior } = value as Record<string, unknown>;
  const unknown = Object.keys(behavior).filter((k) => !BEHAVIOR_KEYS.has(k));
  if (unknown.length) {
    throw new UserError(
      `${field}: unknown key(s) ${unknown.join(', ')}`,
      `allowed: ${[...BEHAVIOR_KEYS].join(', ')}`,
      field,
    );
  }
  if (typeof realCallDelayMs !== 'number' || !(realCallDelayMs >= 0) || realCallDelayMs > 60_000) {
    throw new UserError(
      `${field}: realCallDelayMs must be a number of milliseconds, 0-60000`,
      undefined,
      field,
    );
  }
  if (behavior.timings !== undefined && (typeof behavior.timings !== 'object' || behavior.timings === null)) {
    throw new UserError(
      `${field}: timings must be an object of milliseconds, e.g. {"instanceBootMs":90000}`,
      undefined,
      field,
    );
  }
  return { behavior: behavior as never, realCallDelayMs };
}

/** The argument or flag an oclif parse error is about: `NAME` for an argument, `--flag` for a flag. */
function parseErrorField(error: Error): string | undefined {
  const e = error as Error & { args?: unknown[]; flags?: unknown[] };
  const arg = e.args?.find((a): a is { name: string } => typeof (a as { name?: unknown })?.name === 'string');
  if (arg) return arg.name.toUpperCase();
  const flag = e.flags?.find((f): f is string => typeof f === 'string');
  if (flag) return flag.startsWith('-') ? flag : `--${flag}`;
  const missing = /Missing required flag:?\s+-*([\w-]+)/i.exec(error.message);
  if (missing) return `--${missing[1]}`;
  return /(--[a-z0-9][\w-]*)/i.exec(error.message)?.[1];
}

/** The AWS call an SDK error answered (set by the middleware of src/aws/clients.ts): `{ service, operation }`. */
function awsCallOf(error: unknown): { service?: string; operation?: string } {
  const e = error as { $service?: unknown; $operation?: unknown } | undefined;
  const out: { service?: string; operation?: string } = {};
  if (typeof e?.$service === 'string') out.service = e.$service;
  if (typeof e?.$operation === 'string') out.operation = e.$operation;
  return out;
}

function truthyEnv(name: string): boolean {
  return ['1', 'true', 'y', 'yes'].includes((process.env[name] ?? '').toLowerCase());
}

/** `value` as plain JSON (Errors become their message), or undefined when it cannot be serialised. */
function jsonValue(value: unknown): unknown {
  if (value instanceof Error) return value.message;
  if (typeof value === 'function' || typeof value === 'symbol') return undefined;
  try {
    const text = JSON.stringify(value);
    return text === undefined ? undefined : JSON.parse(text);
  } catch {
    return undefined;
  }
}

function isExpected(error: Error): boolean {
  return (
    error instanceof AwsOperationError ||
    error instanceof WaitTimeoutError ||
    error instanceof ClusterNotReadyError ||
    error instanceof InterruptedError
  );
}

export function exitCodeFor(error: unknown, interrupted = false): number {
  if (error instanceof UserError) return ExitCode.invalidInput;
  // Raised after the run succeeded: nothing was rolled back, so an interrupt after it changes nothing.
  if (error instanceof ClusterNotReadyError) return ExitCode.notReady;
  if (error instanceof RunFailedError) {
    if (error.leftovers.length > 0) return ExitCode.rollbackIncomplete;
    if (interrupted || error.cause instanceof InterruptedError) return ExitCode.interrupted;
    return ExitCode.failedRolledBack;
  }
  if (interrupted || error instanceof InterruptedError) return ExitCode.interrupted;
  return ExitCode.failedRolledBack;
}
