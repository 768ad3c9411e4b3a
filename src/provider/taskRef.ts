// Typed references between tasks: a ref to a task built elsewhere, and reading an output that must
// exist by the time a task writes (its dependency was found or created before it ran).
import { InternalError } from '../core/errors';
import type { RunContext, TaskRef } from './types';

/** A ref to the task of `key` whose state is `A`, for a task built in another function or an earlier apply. */
export function taskRef<A>(key: string): TaskRef<A> {
  return { key };
}

/** The output of `ref` where it must exist: in create/update, after the engine ran the task's dependencies. */
export function requiredOutput<A>(ctx: RunContext, ref: TaskRef<A>): A {
  const out = ctx.get(ref);
  if (out === undefined) throw new InternalError(`task ${ref.key} has no output: it is read before that task was found or created in this run`);
  return out;
}
