// The error document of a failed command: the JSON object's fields, and the human lines on stderr.
import { ExitCode, UserError } from '../../../src/core/errors';
import { RunFailedError } from '../../../src/orchestration/deps';
import { errorPayload, humanError } from '../../../src/cli/errorDocument';

const context = { bin: 'k3sctl', runId: '20260101T120000-abcdef', verbose: false };

describe('errorPayload', () => {
  it('keeps the serialisable fields of the error and hides the rest', () => {
    const error = new UserError('bad --nodes', 'give a number', '--nodes');
    const payload = errorPayload(error, ExitCode.invalidInput, context);
    expect(payload).toMatchObject({ type: 'UserError', message: 'bad --nodes', suggestion: 'give a number', field: '--nodes' });
    expect(payload.stack).toBeUndefined();
    expect(errorPayload(error, ExitCode.invalidInput, { ...context, verbose: true }).stack).toBeDefined();
  });

  it('an unexpected error is an InternalError', () => {
    expect(errorPayload(new TypeError('x is undefined'), ExitCode.failedRolledBack, context).type).toBe('InternalError');
  });

  it('a failed run names its run, its cause and the command that finishes the cleanup', () => {
    const leftover = { type: 'ec2:SecurityGroup', name: 'k3s-demo', id: 'sg-1', error: 'DependencyViolation' };
    const payload = errorPayload(new RunFailedError(new Error('boom'), [], [leftover], []), ExitCode.rollbackIncomplete, context);
    expect(payload).toMatchObject({
      type: 'RunFailedError',
      run: context.runId,
      cause: 'boom',
      causeType: 'Error',
      cleanup: `k3sctl runs rollback ${context.runId}`,
    });
  });
});

describe('humanError', () => {
  it('says the message, what to try and the rollback summary', () => {
    expect(humanError({ message: 'bad', suggestion: 'try this', rolledBack: [] }, ExitCode.invalidInput, [])).toEqual([
      'Error: bad',
      'Try: try this',
      'Nothing was changed.',
    ]);
  });

  it('does not repeat a failure the progress display showed', () => {
    const lines = humanError({ message: 'AccessDenied', code: 'AccessDenied', rolledBack: [{}] }, ExitCode.failedRolledBack, [
      { title: 'create security group', error: 'AccessDenied: not allowed' },
    ]);
    expect(lines).toEqual([
      'Error: create security group failed (AccessDenied); the error is shown above',
      'Rolled back: 1 change(s) undone; nothing this run created is left.',
    ]);
  });

  it('lists what is left and how to finish the cleanup', () => {
    const lines = humanError(
      {
        message: 'boom',
        rolledBack: [],
        leftovers: [{ type: 'ec2:SecurityGroup', name: 'k3s-demo', id: 'sg-1', error: 'DependencyViolation' }],
        cleanup: 'k3sctl runs rollback R',
      },
      ExitCode.rollbackIncomplete,
      [],
    );
    expect(lines).toEqual([
      'Error: boom',
      'Rollback incomplete (0 change(s) undone); these resources remain:',
      '  ec2:SecurityGroup k3s-demo (sg-1): DependencyViolation',
      'Retry the cleanup with: k3sctl runs rollback R',
    ]);
  });

  it('an interrupt is told as such', () => {
    expect(humanError({ message: 'x' }, ExitCode.interrupted, [])[0]).toBe('Error: interrupted');
  });
});
