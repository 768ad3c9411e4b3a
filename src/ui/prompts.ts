// Every question k3sctl asks, wrapping @inquirer/prompts. Only commands call these, and only when the
// base command's canPrompt() is true (a TTY, no CI, no --yes/--json). Questions go to stderr: stdout
// is reserved for results. Ctrl-C at a prompt is an interruption (exit 130).
import { InterruptedError } from '../core/errors';

type Inquirer = typeof import('@inquirer/prompts');

function prompts(): Inquirer {
  return require('@inquirer/prompts') as Inquirer;
}

const context = () => ({ output: process.stderr });

async function ask<T>(question: () => Promise<T>): Promise<T> {
  try {
    return await question();
  } catch (error) {
    if ((error as Error)?.name === 'ExitPromptError' || (error as Error)?.name === 'AbortPromptError')
      throw new InterruptedError();
    throw error;
  }
}

/** A yes/no question; No unless `defaultYes`. */
export function confirm(message: string, defaultYes = false): Promise<boolean> {
  return ask(() => prompts().confirm({ message, default: defaultYes }, context()));
}

/** One of `choices` (strings, or `{name, value}` with a label). */
export function select<T extends string>(
  message: string,
  choices: readonly (T | { name: string; value: T; description?: string })[],
): Promise<T> {
  const normalized = choices.map((c) => (typeof c === 'string' ? { name: c, value: c } : c));
  return ask(() => prompts().select<T>({ message, choices: normalized }, context()));
}

/** Free text; `validate` returns true, or the message saying what is wrong. */
export function input(
  message: string,
  validate?: (value: string) => true | string,
  defaultValue?: string,
): Promise<string> {
  return ask(() => prompts().input({ message, validate, default: defaultValue }, context()));
}

/** The six-digit code of an MFA device (asked when an assume-role profile names `mfa_serial`). */
export function mfaCode(message: string): Promise<string> {
  return ask(() =>
    prompts().input(
      { message, validate: (value) => (/^\d{6}$/.test(value.trim()) ? true : 'six digits') },
      context(),
    ),
  ).then((code) => code.trim());
}
