// The flags every command shares: the global flags (each with an environment fallback), `--dry-run` and
// `-f FILE`, and how a flag is named back to the user (as typed, by alias, short form or environment
// variable). The flag sets that several commands declare live beside this file (groupFlags.ts,
// recycleFlags.ts).
import { Flags } from '@oclif/core';

/** The global flags of every command (BaseCommand.baseFlags). */
export const globalFlags = {
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

/** A command's flags as parsed: every mutating command's --dry-run honours K3SCTL_DRY_RUN, whether or not it was declared with dryRunFlag(). */
export function withDryRunEnv<F extends Record<string, unknown>>(declared: F | undefined): F {
  const flags = { ...declared } as F & { 'dry-run'?: { env?: string } };
  const dryRun = flags['dry-run'];
  if (dryRun && !dryRun.env) (flags as Record<string, unknown>)['dry-run'] = { ...dryRun, env: DRY_RUN_ENV };
  return flags;
}

/** What asGiven() needs of a flag's definition. */
export interface FlagNaming {
  char?: string;
  aliases?: string[];
  env?: string;
}

/** The arguments before `--` (what follows it is never a flag). */
function flagArgv(argv: string[]): string[] {
  const end = argv.indexOf('--');
  return end === -1 ? argv : argv.slice(0, end);
}

/**
 * A flag as the user gave it, for messages: `--node-type`, or the alias (`--instance-type`) or short
 * form (`-f`) typed instead, or its environment variable when the value came from there.
 * Arguments (`NAME`), unknown flags and anything else are returned as they are.
 */
export function asGiven(flag: string, definition: FlagNaming | undefined, argv: string[]): string {
  if (!flag.startsWith('--') || !definition) return flag;
  const name = flag.slice(2);
  const args = flagArgv(argv);
  const typed = (long: string) => args.some((a) => a === `--${long}` || a.startsWith(`--${long}=`));
  if (typed(name)) return flag;
  const alias = definition.aliases?.find(typed);
  if (alias) return `--${alias}`;
  const char = definition.char;
  if (char && args.some((a) => a === `-${char}` || (a.startsWith(`-${char}`) && !a.startsWith('--')))) return `-${char}`;
  if (definition.env && process.env[definition.env] !== undefined) return definition.env;
  return flag;
}

/** True when one of `names` was typed (before `--`): for flags read before the parse succeeded. */
export function argvHas(argv: string[], ...names: string[]): boolean {
  return flagArgv(argv).some((a) => names.includes(a));
}

/** A boolean environment fallback as oclif reads it, for when the flags could not be parsed. */
export function truthyEnv(name: string): boolean {
  return ['1', 'true', 'y', 'yes'].includes((process.env[name] ?? '').toLowerCase());
}
