// The kit's error helpers: exit codes by error type, and oclif's parse errors told as invalid input
// naming the field.
import { ClusterNotReadyError, ExitCode, InterruptedError, UserError } from '../../../src/core/errors';
import { RunFailedError } from '../../../src/orchestration/deps';
import { exitCodeFor, parseErrorField, parseErrorPayload } from '../../../src/cli/errors';

describe('exitCodeFor', () => {
  it('maps each error type to its exit code', () => {
    expect(exitCodeFor(new UserError('bad'))).toBe(ExitCode.invalidInput);
    expect(exitCodeFor(new ClusterNotReadyError('demo', [], 1000, 'run-1', []))).toBe(ExitCode.notReady);
    expect(exitCodeFor(new InterruptedError())).toBe(ExitCode.interrupted);
    expect(exitCodeFor(new Error('bug'))).toBe(ExitCode.failedRolledBack);
    expect(exitCodeFor(new Error('bug'), true)).toBe(ExitCode.interrupted);
  });

  it('a failed run: rolled back, interrupted, or with leftovers', () => {
    expect(exitCodeFor(new RunFailedError(new Error('x'), [], [], []))).toBe(ExitCode.failedRolledBack);
    expect(exitCodeFor(new RunFailedError(new InterruptedError(), [], [], []))).toBe(ExitCode.interrupted);
    const leftover = { type: 'ec2:SecurityGroup', name: 'sg', error: 'DependencyViolation' };
    expect(exitCodeFor(new RunFailedError(new Error('x'), [], [leftover], []), true)).toBe(ExitCode.rollbackIncomplete);
  });
});

describe('parse errors', () => {
  it('names the argument or the flag', () => {
    expect(parseErrorField(Object.assign(new Error('Missing 1 required arg'), { args: [{ name: 'cluster' }] }))).toBe('CLUSTER');
    expect(parseErrorField(Object.assign(new Error('x'), { flags: ['nodes'] }))).toBe('--nodes');
    expect(parseErrorField(new Error('Missing required flag nodes'))).toBe('--nodes');
    expect(parseErrorField(new Error('Nonexistent flag: --nope'))).toBe('--nope');
    expect(parseErrorField(new Error('something else'))).toBeUndefined();
  });

  it('is a UserError document with the field in the message and the help command to try', () => {
    const error = Object.assign(new Error('Expected an integer but received: x\nSee more help with --help'), { flags: ['nodes'] });
    expect(parseErrorPayload(error, 'k3sctl', 'nodegroup:scale')).toEqual({
      type: 'UserError',
      message: '--nodes: Expected an integer but received: x',
      field: '--nodes',
      suggestion: 'see k3sctl nodegroup scale --help',
    });
  });
});
