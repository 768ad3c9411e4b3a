// "NotFound is success" for calls on a resource that may already be gone (deletes, undo restores):
// the one place that turns a not-found error into "nothing left to do".
import { isAwsError } from '../core/errors';

/**
 * Runs `call`; an AWS error with one of `notFoundCodes` (compared canonically, so
 * `InvalidLaunchTemplateName.NotFoundException` matches `InvalidLaunchTemplateName.NotFound`) means the
 * resource is already gone. Returns true when the call ran, false when there was nothing to act on.
 */
export async function ignoringNotFound(call: () => Promise<unknown>, ...notFoundCodes: string[]): Promise<boolean> {
  try {
    await call();
    return true;
  } catch (error) {
    if (isAwsError(error, ...notFoundCodes)) return false;
    throw error;
  }
}
