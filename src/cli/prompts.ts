// The questions a command may ask, and the rule that none is asked without a terminal: stdin a TTY,
// CI unset, neither --yes nor --json. Without one, a command that needs an answer fails naming the
// flag that gives it (exit 2, before anything is read or written). src/ui/prompts.ts asks them.
import { CredentialsError, UserError } from '../core/errors';
import type { PlannedChange } from '../core/events';
import { renderChanges } from './output';

/** The global flags that forbid questions. */
export interface PromptFlags {
  yes?: boolean;
  json?: boolean;
}

/** Why a command that needs an answer refuses to run without one. */
const NO_PROMPT_REASON = 'stdin is not a terminal (or CI/--json is set); --dry-run previews without it';

/** True when a question may be asked: stdin is a TTY, CI is unset and --yes/--json were not given. */
export function canPrompt(flags: PromptFlags): boolean {
  return Boolean(process.stdin.isTTY) && !process.env.CI && !flags.yes && !flags.json;
}

/** Fails (exit 2) listing the flags a non-interactive run must give. */
export function requireFlags(
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
export function confirmDestructive<S>(
  flags: PromptFlags,
  dryRun: boolean | undefined,
  preview: (subject: S) => string,
  question: string,
): ((subject: S) => Promise<boolean>) | undefined {
  if (dryRun || flags.yes) return undefined;
  if (!canPrompt(flags)) requireFlags(['--yes'], NO_PROMPT_REASON);
  return async (subject) => {
    process.stderr.write(`${preview(subject)}\n`);
    const { confirm } = await import('../ui/prompts');
    return confirm(question);
  };
}

/** confirmDestructive() for workflows that hand over their plan (a list of changes). */
export function confirmPlan(
  flags: PromptFlags,
  dryRun: boolean | undefined,
  question: string,
): ((changes: PlannedChange[]) => Promise<boolean>) | undefined {
  return confirmDestructive(flags, dryRun, (changes: PlannedChange[]) => renderChanges(changes, false), question);
}

/**
 * Asks now, after showing `preview` (the command knows what it will do before any workflow runs):
 * nothing with --yes; without a terminal fails naming --yes; a No is a UserError `cancelled`.
 */
export async function confirmOrRequireYes(flags: PromptFlags, preview: string, question: string, cancelled: string): Promise<void> {
  if (flags.yes) return;
  if (!canPrompt(flags)) requireFlags(['--yes'], NO_PROMPT_REASON);
  process.stderr.write(`${preview}\n`);
  const { confirm } = await import('../ui/prompts');
  if (!(await confirm(question))) throw new UserError(cancelled);
}

/** For a create (converging) command: on a terminal, show the plan and ask (Yes by default); otherwise apply. */
export function confirmPlanOnTerminal(
  flags: PromptFlags,
  question: string,
): ((changes: PlannedChange[]) => Promise<boolean>) | undefined {
  if (!canPrompt(flags)) return undefined;
  return async (changes) => {
    process.stderr.write(`${renderChanges(changes, false)}\n`);
    const { confirm } = await import('../ui/prompts');
    return confirm(question, true);
  };
}

/** The profile whose MFA code is asked for, and the flag (or variable) that named it. */
export interface MfaProfile {
  profile?: string;
  profileSource?: string;
}

/** The code of an MFA device an assume-role profile names (`mfa_serial`): asked on a terminal, a CredentialsError elsewhere. */
export async function askMfaCode(flags: PromptFlags, setup: MfaProfile | undefined, serial: string): Promise<string> {
  const profile = setup?.profile ?? 'default';
  if (!canPrompt(flags)) {
    throw new CredentialsError(
      `profile ${profile} assumes a role that requires an MFA code (mfa_serial ${serial}), and none can be asked: stdin is not a terminal, or CI, --yes or --json is set`,
      `run k3sctl in a terminal (without --yes, --json or CI) to be asked, or export temporary credentials first: eval "$(aws configure export-credentials --profile ${profile} --format env)"`,
      setup?.profile,
      undefined,
      setup?.profileSource,
    );
  }
  const { mfaCode } = await import('../ui/prompts');
  return mfaCode(`MFA code for ${serial} (profile ${profile})`);
}
