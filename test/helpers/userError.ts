// The UserError a call throws (the test fails when it throws nothing or something else).
import { UserError } from '../../src/core/errors';

export function userError(fn: () => unknown): UserError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(UserError);
    return error as UserError;
  }
  throw new Error('expected a UserError');
}
