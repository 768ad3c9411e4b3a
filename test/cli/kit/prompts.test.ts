// The non-TTY rule of the kit's questions: none is asked without a terminal, with CI, --yes or --json;
// a command that needs an answer then fails naming the flag that gives it.
import { UserError } from '../../../src/core/errors';
import { canPrompt, confirmDestructive, confirmOrRequireYes, confirmPlanOnTerminal, requireFlags } from '../../../src/cli/prompts';

describe('prompts without a terminal', () => {
  const tty = process.stdin.isTTY;
  const ci = process.env.CI;
  beforeEach(() => {
    process.stdin.isTTY = false;
  });
  afterEach(() => {
    process.stdin.isTTY = tty;
    if (ci === undefined) delete process.env.CI;
    else process.env.CI = ci;
  });

  it('canPrompt needs a TTY, no CI, no --yes and no --json', () => {
    expect(canPrompt({})).toBe(false);
    process.stdin.isTTY = true;
    delete process.env.CI;
    expect(canPrompt({})).toBe(true);
    expect(canPrompt({ yes: true })).toBe(false);
    expect(canPrompt({ json: true })).toBe(false);
    process.env.CI = 'true';
    expect(canPrompt({})).toBe(false);
  });

  it('requireFlags fails naming the missing flags, and passes with none', () => {
    expect(() => requireFlags([])).not.toThrow();
    expect(() => requireFlags(['--yes', 'NAME'])).toThrow(new UserError('missing required input: --yes, NAME'));
  });

  it('a destructive command needs --yes; --dry-run and --yes ask nothing', () => {
    expect(() => confirmDestructive({}, false, () => '', 'Delete?')).toThrow(/missing required input: --yes/);
    expect(confirmDestructive({}, true, () => '', 'Delete?')).toBeUndefined();
    expect(confirmDestructive({ yes: true }, false, () => '', 'Delete?')).toBeUndefined();
  });

  it('confirmOrRequireYes passes with --yes and fails without it', async () => {
    await expect(confirmOrRequireYes({ yes: true }, 'preview', 'Undo?', 'cancelled')).resolves.toBeUndefined();
    await expect(confirmOrRequireYes({}, 'preview', 'Undo?', 'cancelled')).rejects.toThrow(/missing required input: --yes/);
  });

  it('a create command applies without asking', () => {
    expect(confirmPlanOnTerminal({}, 'Apply?')).toBeUndefined();
  });
});
